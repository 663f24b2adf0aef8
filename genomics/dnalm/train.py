"""Pre-train the default DNA masked LM (character-level ESM) on the sequence folder, on CPU.

Usage::

    python -m genomics.dnalm.train --shared ../shared/data/sequence \\
        --out genomics/dnalm/data/default_model --max-minutes 100 [--stop-at 15:50]

The run stops by itself at ``--max-minutes`` or at ``--stop-at`` (UTC, HH:MM), whichever comes
first, and checkpoints every ``--checkpoint-minutes``: weights (fp16 safetensors), ``config.json``,
tokenizer files and ``metrics.json`` (steps, tokens seen, wall time, held-out masked-token accuracy
and perplexity) are replaced file by file with ``os.replace``, so the model folder always holds a
loadable model. The learning-rate schedule is driven by wall time (warm-up, then cosine decay to the
planned end), so a shorter budget still ends with a decayed learning rate. A resume state (fp32
weights + optimizer, ``torch.save``) is kept in ``--state-dir`` (default: the temp folder, never the package).

Data rules (BRCA1 excluded, HLA de-duplicated, 5% held out): see :mod:`genomics.dnalm.pretrain_data`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from genomics.dnalm.pretrain_data import WindowSampler, load_corpus, tiled_windows

#: Vocabulary of the character-level default model (ESM order: specials, bases, <mask> last).
CHAR_VOCAB = ["<cls>", "<pad>", "<eos>", "<unk>", "A", "C", "G", "T", "N", "<mask>"]
BASE_IDS = {b: CHAR_VOCAB.index(b) for b in "ACGTN"}
CLS, PAD, EOS, UNK, MASK = 0, 1, 2, 3, 9
_LUT = np.full(256, UNK, dtype=np.int64)
for _b, _i in BASE_IDS.items():
    _LUT[ord(_b)] = _i


def encode(windows: list[str]) -> np.ndarray:
    """Encode equal-length upper-case windows as ``<cls> bases <eos>`` id rows."""
    arr = np.frombuffer("".join(windows).encode("ascii"), dtype=np.uint8).reshape(len(windows), -1)
    ids = _LUT[arr]
    n = len(windows)
    return np.concatenate([np.full((n, 1), CLS), ids, np.full((n, 1), EOS)], axis=1)


def mask_batch(ids: np.ndarray, rng: np.random.Generator, rate: float = 0.15):
    """BERT masking: 15% of A/C/G/T positions are targets; 80% -> <mask>, 10% random base, 10% kept."""
    import torch

    ids = ids.copy()
    candidates = (ids >= 4) & (ids <= 7)
    target = candidates & (rng.random(ids.shape) < rate)
    labels = np.where(target, ids, -100)
    r = rng.random(ids.shape)
    ids[target & (r < 0.8)] = MASK
    rnd = target & (r >= 0.8) & (r < 0.9)
    ids[rnd] = rng.integers(4, 8, size=int(rnd.sum()))
    return torch.from_numpy(ids), torch.from_numpy(labels)


def build_config(args):
    from transformers import EsmConfig

    return EsmConfig(
        vocab_size=len(CHAR_VOCAB),
        hidden_size=args.hidden,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        intermediate_size=args.hidden * 4,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        max_position_embeddings=2050,
        position_embedding_type="rotary",
        pad_token_id=PAD,
        mask_token_id=MASK,
        cls_token_id=CLS,
        eos_token_id=EOS,
        token_dropout=False,
        emb_layer_norm_before=False,
        layer_norm_eps=1e-5,
        tie_word_embeddings=True,
    )


def evaluate(model, windows: list[str], batch: int = 32, seed: int = 1234) -> dict[str, float]:
    """Masked-token accuracy and perplexity on fixed windows with a fixed mask (same every checkpoint)."""
    import torch

    rng = np.random.default_rng(seed)
    model.eval()
    nll, correct, n = 0.0, 0, 0
    with torch.inference_mode():
        for i in range(0, len(windows), batch):
            ids, labels = mask_batch(encode(windows[i : i + batch]), rng)
            logits = model(input_ids=ids).logits.float()
            sel = labels != -100
            lp = torch.log_softmax(logits[sel][:, 4:8], dim=-1)  # restrict to A/C/G/T
            tgt = labels[sel] - 4
            nll += float(-lp.gather(1, tgt[:, None]).sum())
            correct += int((lp.argmax(-1) == tgt).sum())
            n += int(sel.sum())
    model.train()
    return {"masked_tokens": n, "accuracy": correct / n, "perplexity": math.exp(nll / n), "nll": nll / n}


def write_tokenizer(folder: Path) -> None:
    (folder / "vocab.txt").write_text("\n".join(CHAR_VOCAB) + "\n")
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "EsmTokenizer",
                "model_max_length": 2048,
                "cls_token": "<cls>",
                "pad_token": "<pad>",
                "eos_token": "<eos>",
                "unk_token": "<unk>",
                "mask_token": "<mask>",
                "dnalm_tokenization": "char",
            },
            indent=2,
        )
        + "\n"
    )
    (folder / "special_tokens_map.json").write_text(
        json.dumps(
            {"cls_token": "<cls>", "pad_token": "<pad>", "eos_token": "<eos>", "unk_token": "<unk>",
             "mask_token": "<mask>"},
            indent=2,
        )
        + "\n"
    )


def checkpoint(model, cfg, out: Path, metrics: dict, eval_sets: dict[str, list[str]]) -> dict:
    """Round weights to fp16, evaluate the rounded model, then replace the folder's files atomically."""
    import torch
    from transformers import EsmForMaskedLM

    rounded = EsmForMaskedLM(cfg)
    rounded.load_state_dict({k: v.detach().half().float() for k, v in model.state_dict().items()})
    for name, windows in eval_sets.items():
        metrics[name] = evaluate(rounded, windows)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp"))
    try:
        rounded.half().save_pretrained(tmp, safe_serialization=True)
        write_tokenizer(tmp)
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        order = [p.name for p in tmp.iterdir() if p.name != "metrics.json"] + ["metrics.json"]
        for name in order:
            os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    del rounded
    torch.cuda.empty_cache() if torch.cuda.is_available() else None
    return metrics


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """Options of the training run (shared by ``python -m genomics.dnalm.train`` and ``recommender dnalm train``)."""
    p.add_argument("--shared", required=True, help="sequence folder (layout of ../shared/data/sequence)")
    p.add_argument("--out", required=True, help="model folder to write (checkpoints replace its files)")
    p.add_argument("--state-dir", default=None, help="resume state folder (default: $TMPDIR/dnalm_state/<out name>)")
    p.add_argument("--max-minutes", type=float, default=100.0)
    p.add_argument("--stop-at", default=None, help="UTC wall-clock time HH:MM at which to stop")
    p.add_argument("--checkpoint-minutes", type=float, default=10.0)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--seq-len", type=int, default=254, help="bases per window (+<cls>,<eos>)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup-steps", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-windows", type=int, default=192)
    p.add_argument("--resume", action="store_true")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m genomics.dnalm.train", description=__doc__.split("\n")[0])
    add_train_arguments(p)
    return run_training(p.parse_args(argv))


def run_training(args: argparse.Namespace) -> int:
    """Run the training described by ``args`` (see :func:`add_train_arguments`)."""
    from genomics.errors import InputFileError

    if not Path(args.shared).is_dir():
        raise InputFileError("sequence folder not found", file=args.shared, field="--shared",
                             fix="point --shared at a folder laid out like ../shared/data/sequence")
    import torch
    from transformers import EsmForMaskedLM

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.time()
    deadline = t0 + args.max_minutes * 60
    if args.stop_at:
        hh, mm = map(int, args.stop_at.split(":"))
        now = dt.datetime.now(dt.UTC)
        stop = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
        if stop <= now:
            stop += dt.timedelta(days=1)
        deadline = min(deadline, stop.timestamp())
    # reserve time for the last checkpoint's evaluation
    train_end = deadline - min(90.0, 0.1 * (deadline - t0))

    out = Path(args.out)
    state_dir = Path(args.state_dir) if args.state_dir else Path(tempfile.gettempdir()) / "dnalm_state" / out.name
    state_dir.mkdir(parents=True, exist_ok=True)

    corpus = load_corpus(args.shared)
    print(json.dumps({"corpus": corpus.summary()}), flush=True)
    sampler = WindowSampler(corpus.by_split("train"), args.seq_len, seed=args.seed)
    eval_sets = {
        "heldout": tiled_windows(corpus.by_split("valid"), args.seq_len, args.eval_windows),
        "brca1_excluded": tiled_windows(corpus.by_split("excluded"), args.seq_len, 64),
    }

    cfg = build_config(args)
    model = EsmForMaskedLM(cfg)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    step, tokens, prior_seconds = 0, 0, 0.0
    state_file = state_dir / "train_state.pt"
    if args.resume and state_file.exists():
        st = torch.load(state_file, weights_only=True)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step, tokens, prior_seconds = int(st["step"]), int(st["tokens"]), float(st["seconds"])
        print(f"resumed at step {step}", flush=True)
    rng = np.random.default_rng(args.seed + step)
    model.train()

    base = {
        "model": "genomics-dnalm-char-esm",
        "architecture": "EsmForMaskedLM",
        "parameters": n_params,
        "hidden": args.hidden,
        "layers": args.layers,
        "heads": args.heads,
        "window_bases": args.seq_len,
        "batch": args.batch,
        "lr": args.lr,
        "threads": args.threads,
        "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
        "corpus": corpus.summary(),
        "inputs_sha256": corpus.inputs,
        "masking": "BERT 15% of A/C/G/T (80% <mask>, 10% random base, 10% kept); random strand",
        "eval_windows": {k: len(v) for k, v in eval_sets.items()},
    }
    print(json.dumps({"parameters": n_params, "deadline_utc": dt.datetime.fromtimestamp(deadline, dt.UTC).isoformat()}), flush=True)

    last_ckpt = time.time()
    ema = None
    total_planned = train_end - t0
    while True:
        now = time.time()
        if now >= train_end:
            break
        frac = min(1.0, (now - t0) / total_planned)
        warm = min(1.0, (step + 1) / args.warmup_steps)
        lr = args.lr * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        ids, labels = mask_batch(encode([sampler.sample() for _ in range(args.batch)]), rng)
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        tokens += ids.numel()
        lv = float(loss.detach())
        ema = lv if ema is None else 0.98 * ema + 0.02 * lv
        if step % 25 == 0:
            el = time.time() - t0
            print(f"step {step} loss_ema {ema:.4f} lr {lr:.2e} tokens {tokens} tok/s {tokens / (el + prior_seconds):.0f} elapsed_min {el / 60:.1f}", flush=True)
        if time.time() - last_ckpt >= args.checkpoint_minutes * 60:
            _save(model, opt, cfg, out, state_file, base, step, tokens, time.time() - t0 + prior_seconds, ema, eval_sets, final=False)
            last_ckpt = time.time()
    _save(model, opt, cfg, out, state_file, base, step, tokens, time.time() - t0 + prior_seconds, ema, eval_sets, final=True)
    print("done", flush=True)
    return 0


def _save(model, opt, cfg, out, state_file, base, step, tokens, seconds, ema, eval_sets, final):
    import torch

    tmp_state = state_file.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "tokens": tokens,
                "seconds": seconds}, tmp_state)
    os.replace(tmp_state, state_file)
    metrics = dict(base)
    metrics.update(
        {
            "step": step,
            "tokens_seen": tokens,
            "train_seconds": round(seconds, 1),
            "train_loss_ema": ema,
            "final": final,
            "saved_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "weights_dtype": "float16",
        }
    )
    t = time.time()
    metrics = checkpoint(model, cfg, Path(out), metrics, eval_sets)
    metrics["eval_seconds"] = round(time.time() - t, 1)
    (Path(out) / "metrics.json.tmp").write_text(json.dumps(metrics, indent=2) + "\n")
    os.replace(Path(out) / "metrics.json.tmp", Path(out) / "metrics.json")
    print(json.dumps({k: metrics[k] for k in ("step", "tokens_seen", "heldout", "brca1_excluded")}), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
