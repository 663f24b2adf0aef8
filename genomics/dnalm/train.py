"""Pre-train a character-level DNA masked LM (dilated CNN of the GPN kind, or ESM) on the sequence folder.

Usage::

    recommender dnalm train --arch conv --shared ../shared/data/sequence \\
        --labelled ../shared/data/variant_effect --out DIR --max-minutes 100 [--stop-at 15:50] [--resume]

``--arch conv`` (default) trains :mod:`genomics.dnalm.conv_model`; ``--arch esm`` the previous
ESM-style transformer. On CUDA (``--device cuda``) the same code runs with bf16 autocast
(``--precision bf16``) and larger batches (``--batch``).

**Best checkpoint by validation metric**: every checkpoint evaluates the held-out windows; the model
folder ``--out`` is replaced only when the held-out masked-token NLL improves (the resume state always
holds the latest step), so ``--out`` always holds the best model seen so far.

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

__all__ = ["CHAR_VOCAB", "add_train_arguments", "evaluate", "main", "run_training", "write_tokenizer"]

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


def evaluate(model, windows: list[str], batch: int = 32, seed: int = 1234, device=None) -> dict[str, float]:
    """Masked-token accuracy and perplexity on fixed windows with a fixed mask (same every checkpoint).

    The same windows and mask give the same numbers for any model with the character vocabulary, so
    two architectures are compared on exactly the same masked tokens.
    """
    import torch

    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    nll, correct, n = 0.0, 0, 0
    with torch.inference_mode():
        for i in range(0, len(windows), batch):
            ids, labels = mask_batch(encode(windows[i : i + batch]), rng)
            if device is not None:
                ids = ids.to(device)
            logits = model(input_ids=ids).logits.float().cpu()
            sel = labels != -100
            lp = torch.log_softmax(logits[sel][:, 4:8], dim=-1)  # restrict to A/C/G/T
            tgt = labels[sel] - 4
            nll += float(-lp.gather(1, tgt[:, None]).sum())
            correct += int((lp.argmax(-1) == tgt).sum())
            n += int(sel.sum())
    model.train(was_training)
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


def _build(args):
    """(model, description) for ``args.arch``."""
    if args.arch == "esm":
        from transformers import EsmForMaskedLM

        cfg = build_config(args)
        return EsmForMaskedLM(cfg), {"model": "genomics-dnalm-char-esm", "architecture": "EsmForMaskedLM",
                                     "hidden": args.hidden, "layers": args.layers, "heads": args.heads}
    from genomics.dnalm.conv_model import ConvLMConfig, build_conv_model

    dil = tuple(int(x) for x in str(args.dilations).split(","))
    cfg = ConvLMConfig(vocab_size=len(CHAR_VOCAB), hidden_size=args.hidden, num_layers=args.layers,
                       kernel_size=args.kernel, dilations=dil, pad_token_id=PAD, mask_token_id=MASK)
    return build_conv_model(cfg), {"model": "genomics-dnalm-conv", "architecture": "ConvMaskedLM (dilated CNN, GPN kind)",
                                   "hidden": args.hidden, "layers": args.layers, "kernel": args.kernel,
                                   "dilations": list(dil), "rc": "reverse-complement augmentation in training; "
                                   "conjoined forward + reverse-complement pass (shared weights) at evaluation and scoring"}


def _rounded_copy(model, arch: str):
    """An fp32 copy of ``model`` with weights rounded through fp16 (what the saved file holds)."""
    import copy

    import torch

    clone = copy.deepcopy(model).to("cpu").float()
    with torch.no_grad():
        for t in clone.state_dict().values():
            if t.is_floating_point():
                t.copy_(t.half().float())
    if arch == "conv":
        clone.rc_conjoin = True
    return clone.eval()


def checkpoint(model, arch: str, out: Path, metrics: dict, eval_sets: dict[str, list[str]], write: bool = True) -> dict:
    """Evaluate the fp16-rounded model; when ``write``, replace the model folder's files atomically."""
    rounded = _rounded_copy(model, arch)
    for name, windows in eval_sets.items():
        metrics[name] = evaluate(rounded, windows)
    if not write:
        return metrics
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp"))
    try:
        if arch == "conv":
            from genomics.dnalm.conv_model import save_conv_model

            save_conv_model(rounded, tmp, dtype="float16")
        else:
            rounded.half().save_pretrained(tmp, safe_serialization=True)
        write_tokenizer(tmp)
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        order = [p.name for p in tmp.iterdir() if p.name != "metrics.json"] + ["metrics.json"]
        for name in order:
            (tmp / name).chmod(0o644)
            os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return metrics


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """Options of the training run (shared by ``python -m genomics.dnalm.train`` and ``recommender dnalm train``)."""
    p.add_argument("--shared", required=True, help="sequence folder (layout of ../shared/data/sequence)")
    p.add_argument("--labelled", default=None,
                   help="labelled variant-effect folder whose construct sequences are cut out of training "
                        "(default: ../variant_effect next to --shared when it exists)")
    p.add_argument("--out", required=True, help="model folder to write (the best checkpoint by held-out NLL)")
    p.add_argument("--state-dir", default=None, help="resume state folder (default: $TMPDIR/dnalm_state/<out name>)")
    p.add_argument("--arch", choices=["conv", "esm"], default="conv", help="dilated CNN (GPN kind) or ESM transformer")
    p.add_argument("--max-minutes", type=float, default=100.0)
    p.add_argument("--stop-at", default=None, help="UTC wall-clock time HH:MM at which to stop")
    p.add_argument("--checkpoint-minutes", type=float, default=10.0)
    p.add_argument("--hidden", type=int, default=96)
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--heads", type=int, default=8, help="attention heads (esm only)")
    p.add_argument("--kernel", type=int, default=9, help="convolution width (conv only)")
    p.add_argument("--dilations", default="1,2,4,8,16,32", help="dilation cycle (conv only)")
    p.add_argument("--seq-len", type=int, default=254, help="bases per window (+<cls>,<eos>)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup-steps", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help="bf16 autocast (CUDA only)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-windows", type=int, default=192)
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many optimiser steps in total")
    p.add_argument("--resume", action="store_true", help="continue from the state in --state-dir")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m genomics.dnalm.train", description=__doc__.split("\n")[0])
    add_train_arguments(p)
    return run_training(p.parse_args(argv))


def _deadline(args, t0: float) -> float:
    from genomics.errors import UsageError

    deadline = t0 + args.max_minutes * 60
    if args.stop_at:
        try:
            hh, mm = map(int, args.stop_at.split(":"))
            now = dt.datetime.now(dt.UTC)
            stop = now.replace(hour=hh, minute=mm, second=0, microsecond=0)
        except ValueError:
            raise UsageError(f"cannot read --stop-at {args.stop_at!r}", field="--stop-at", fix="write HH:MM (UTC)") from None
        if stop <= now:
            stop += dt.timedelta(days=1)
        deadline = min(deadline, stop.timestamp())
    return deadline


def run_training(args: argparse.Namespace) -> int:
    """Run the training described by ``args`` (see :func:`add_train_arguments`)."""
    from genomics.errors import InputFileError

    if not Path(args.shared).is_dir():
        raise InputFileError("sequence folder not found", file=args.shared, field="--shared",
                             fix="point --shared at a folder laid out like ../shared/data/sequence")
    labelled = Path(args.labelled) if args.labelled else Path(args.shared).resolve().parent / "variant_effect"
    if args.labelled and not labelled.is_dir():
        raise InputFileError("labelled variant-effect folder not found", file=labelled, field="--labelled",
                             fix="point --labelled at a folder laid out like ../shared/data/variant_effect")
    import torch

    from genomics.dnalm.model import select_device

    device = select_device(args.device)
    if args.precision == "bf16" and device.type != "cuda":
        from genomics.errors import UsageError

        raise UsageError("bf16 autocast is offered on CUDA only", field="--precision", fix="use --precision fp32 on CPU")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.time()
    deadline = _deadline(args, t0)
    train_end = deadline - min(90.0, 0.1 * (deadline - t0))  # time for the last checkpoint's evaluation

    out = Path(args.out)
    state_dir = Path(args.state_dir) if args.state_dir else Path(tempfile.gettempdir()) / "dnalm_state" / out.name
    state_dir.mkdir(parents=True, exist_ok=True)

    exclude: list[str] = []
    if labelled.is_dir():
        from genomics.dnalm.labelled_sets import evaluation_sequences

        exclude = evaluation_sequences(labelled)
    corpus = load_corpus(args.shared, exclude=exclude)
    print(json.dumps({"corpus": corpus.summary()}), flush=True)
    sampler = WindowSampler(corpus.by_split("train"), args.seq_len, seed=args.seed)
    eval_sets = {
        "heldout": tiled_windows(corpus.by_split("valid"), args.seq_len, args.eval_windows),
        "brca1_excluded": tiled_windows(corpus.by_split("excluded"), args.seq_len, 64),
    }

    model, desc = _build(args)
    model.to(device)
    if args.arch == "conv":
        model.rc_conjoin = False  # training: random-strand windows instead (half the cost)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    step, tokens, prior_seconds, best = 0, 0, 0.0, None
    state_file = state_dir / "train_state.pt"
    if args.resume and state_file.exists():
        st = torch.load(state_file, weights_only=True, map_location=device)
        if st.get("arch", "esm") != args.arch:
            from genomics.errors import UsageError

            raise UsageError(f"the resume state in {state_dir} is a {st.get('arch')} model, not {args.arch}",
                             field="--arch", fix="use the same --arch (and sizes) as the run you resume, or another --state-dir")
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step, tokens, prior_seconds = int(st["step"]), int(st["tokens"]), float(st["seconds"])
        best = st.get("best_nll")
        print(f"resumed at step {step} (best held-out nll {best})", flush=True)
    rng = np.random.default_rng(args.seed + step)
    model.train()

    base = {
        **desc,
        "arch": args.arch,
        "parameters": n_params,
        "window_bases": args.seq_len,
        "batch": args.batch,
        "lr": args.lr,
        "threads": args.threads,
        "device": str(device),
        "precision": args.precision,
        "torch": torch.__version__,
        "transformers": __import__("transformers").__version__,
        "corpus": corpus.summary(),
        "inputs_sha256": corpus.inputs,
        "evaluation_regions_cut": corpus.excluded_regions,
        "masking": "BERT 15% of A/C/G/T (80% <mask>, 10% random base, 10% kept); random strand",
        "eval_windows": {k: len(v) for k, v in eval_sets.items()},
        "command": "recommender dnalm train " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in sorted(vars(args).items())
            if v not in (None, False) and k not in {"command", "dnalm_command", "func", "resume"}),
    }
    print(json.dumps({"parameters": n_params, "deadline_utc": dt.datetime.fromtimestamp(deadline, dt.UTC).isoformat()}), flush=True)

    autocast = (torch.autocast(device_type="cuda", dtype=torch.bfloat16) if args.precision == "bf16"
                else __import__("contextlib").nullcontext())
    last_ckpt = time.time()
    ema = None
    budget = prior_seconds + (train_end - t0)  # the cosine schedule spans all runs of this state
    state = {"best": best}
    while True:
        now = time.time()
        if now >= train_end or (args.max_steps is not None and step >= args.max_steps):
            break
        frac = min(1.0, (prior_seconds + now - t0) / budget)
        warm = min(1.0, (step + 1) / args.warmup_steps)
        lr = args.lr * warm * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        ids, labels = mask_batch(encode([sampler.sample() for _ in range(args.batch)]), rng)
        with autocast:
            loss = model(input_ids=ids.to(device), labels=labels.to(device)).loss
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
            _save(model, opt, args.arch, out, state_file, base, step, tokens, time.time() - t0 + prior_seconds, ema,
                  eval_sets, False, state)
            last_ckpt = time.time()
    _save(model, opt, args.arch, out, state_file, base, step, tokens, time.time() - t0 + prior_seconds, ema,
          eval_sets, True, state)
    print("done", flush=True)
    return 0


def _save(model, opt, arch, out, state_file, base, step, tokens, seconds, ema, eval_sets, final, state):
    import torch

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
    metrics = checkpoint(model, arch, Path(out), metrics, eval_sets, write=False)
    nll = metrics["heldout"]["nll"]
    improved = state["best"] is None or nll < state["best"]
    if improved:
        state["best"] = nll
        metrics["selected_by"] = "lowest held-out masked-token NLL among checkpoints"
        checkpoint(model, arch, Path(out), metrics, {}, write=True)
    metrics["eval_seconds"] = round(time.time() - t, 1)
    tmp_state = state_file.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "tokens": tokens,
                "seconds": seconds, "arch": arch, "best_nll": state["best"]}, tmp_state)
    os.replace(tmp_state, state_file)
    if improved:
        (Path(out) / "metrics.json.tmp").write_text(json.dumps(metrics, indent=2) + "\n")
        os.replace(Path(out) / "metrics.json.tmp", Path(out) / "metrics.json")
    print(json.dumps({"step": step, "tokens_seen": tokens, "heldout": metrics["heldout"],
                      "brca1_excluded": metrics["brca1_excluded"], "saved_as_best": improved}), flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
