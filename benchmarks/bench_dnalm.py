"""DNA LM scoring speed: full scoring path vs a bare ``model(**batch)`` forward, and the cache speed-up.

    python benchmarks/bench_dnalm.py [--quick] [--model DIR] [--threads N] [--batch-size B]

1. Throughput. The same SNVs (random positions of the bundled BRCA1 region) are scored by the full
   path (reference fetch, REF check, tokenisation, dynamic padding, forward, log-softmax, both strands,
   result objects; no cache, no embeddings) and, in the same run, the exact same masked windows go
   through a bare ``model(input_ids=..., attention_mask=...)`` in the same batches. Windows/s and
   tokens/s of both, and their ratio (target >= 80%).
2. Cache. A cohort of patients drawing their variants from a small pool of common variants is scored
   patient by patient without a cache, then with a fresh SQLite cache; the speed-up is the ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomics.dnalm import ScoreCache, Variant, VariantScorer, load_model
from genomics.reference import bundled_reference


def snvs(ref, n: int, seed: int) -> list[Variant]:
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        pos = int(rng.integers(42_500_000, 43_500_000))
        b = ref.fetch("chr17", pos, pos)
        if b not in "ACGT":
            continue
        alt = "ACGT"[(("ACGT".index(b)) + int(rng.integers(1, 4))) % 4]
        out.append(Variant("chr17", pos, b, alt))
    return out


def bare_forward(scorer: VariantScorer, variants: list[Variant]) -> tuple[float, int, int]:
    """Time model(**batch) alone over the masked windows the scorer would run, same batching."""
    import torch

    requests: set = set()
    for v in variants:
        status, info = scorer._prepare(v)
        if status == "ok":
            fwd, rev, *_ = info
            scorer._plan_strand(fwd, {}, requests)
            scorer._plan_strand(rev, {}, requests)
    seqs = sorted((r[0] for r in requests), key=len)
    pad = scorer.lm.adapter.pad_id
    batches = []
    for i in range(0, len(seqs), scorer.batch_size):
        chunk = seqs[i : i + scorer.batch_size]
        n = max(map(len, chunk))
        ids = torch.full((len(chunk), n), pad, dtype=torch.long)
        att = torch.zeros((len(chunk), n), dtype=torch.long)
        for r, s in enumerate(chunk):
            ids[r, : len(s)] = torch.tensor(s)
            att[r, : len(s)] = 1
        batches.append({"input_ids": ids.to(scorer.lm.device), "attention_mask": att.to(scorer.lm.device)})
    tokens = sum(int(b["attention_mask"].sum()) for b in batches)
    t = time.perf_counter()
    with torch.inference_mode():
        for b in batches:
            scorer.lm.model(**b)
    return time.perf_counter() - t, len(seqs), tokens


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--precision-check", action="store_true",
                    help="also compare fp32 LLRs with bf16 autocast (on CPU as a stand-in for CUDA)")
    a = ap.parse_args(argv)
    n_var = 48 if a.quick else 256
    n_patients, per_patient, pool = (20, 10, 30) if a.quick else (100, 20, 120)

    ref = bundled_reference()
    lm = load_model(a.model, device=a.device, threads=a.threads)
    variants = snvs(ref, n_var, seed=1)

    # warm-up (first-call allocations), then the two measurements on the same variants
    VariantScorer(lm, ref, embeddings=False, batch_size=a.batch_size).score(variants[:4])
    # bare, pipeline, bare again: the ratio uses the faster bare run (conservative on a shared machine)
    bare_s, bare_w, bare_t = bare_forward(VariantScorer(lm, ref, embeddings=False, batch_size=a.batch_size), variants)
    sc = VariantScorer(lm, ref, embeddings=False, batch_size=a.batch_size)
    t = time.perf_counter()
    sc.score(variants)
    pipe_s = time.perf_counter() - t
    bare_s = min(bare_s, bare_forward(VariantScorer(lm, ref, embeddings=False, batch_size=a.batch_size), variants)[0])
    assert sc.forward_windows == bare_w, (sc.forward_windows, bare_w)

    # cohort with repeated variants
    rng = np.random.default_rng(2)
    common = snvs(ref, pool, seed=3)
    cohort = [[common[i] for i in rng.choice(pool, per_patient, replace=False)] for _ in range(n_patients)]
    t = time.perf_counter()
    for pv in cohort:
        VariantScorer(lm, ref, embeddings=True, batch_size=a.batch_size).score(pv)
    nocache_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as d:
        cache = ScoreCache(Path(d) / "c.sqlite")
        t = time.perf_counter()
        for pv in cohort:
            VariantScorer(lm, ref, embeddings=True, batch_size=a.batch_size, cache=cache).score(pv)
        cache_s = time.perf_counter() - t
        hits, misses = cache.hits, cache.misses
        cache.close()

    print(f"model {lm.model_id} ({lm.weights_sha}), device {lm.device}, torch threads {a.threads}, "
          f"batch {a.batch_size}, window {sc.window} bases")
    print("| path | windows | seconds | windows/s | tokens/s |")
    print("|---|---:|---:|---:|---:|")
    print(f"| bare model(**batch) | {bare_w} | {bare_s:.2f} | {bare_w / bare_s:.1f} | {bare_t / bare_s:.0f} |")
    print(f"| full scoring path | {sc.forward_windows} | {pipe_s:.2f} | {sc.forward_windows / pipe_s:.1f} | "
          f"{sc.forward_tokens / pipe_s:.0f} |")
    print(f"pipeline / bare throughput: {100 * bare_s / pipe_s:.0f}%  ({n_var} SNVs, both strands)")
    print("| cohort | patients x variants | distinct | seconds |")
    print("|---|---:|---:|---:|")
    print(f"| no cache | {n_patients} x {per_patient} | {pool} | {nocache_s:.2f} |")
    print(f"| SQLite cache | {n_patients} x {per_patient} | {pool} | {cache_s:.2f} |")
    print(f"cache speed-up: {nocache_s / cache_s:.1f}x  (hits {hits}, misses {misses})")
    if a.precision_check:
        precision_check(lm, ref, variants[:32], a.batch_size)
    return 0


def precision_check(lm, ref, variants, batch_size) -> None:
    """Max |LLR(bf16 autocast) - LLR(fp32)| over the variants (CPU autocast stands in for CUDA here)."""
    import contextlib

    import torch

    base = VariantScorer(lm, ref, embeddings=True, batch_size=batch_size).score(variants)
    for dtype in (torch.bfloat16,):
        sc = VariantScorer(lm, ref, embeddings=True, batch_size=batch_size)
        dev = lm.device.type
        sc._autocast = lambda dev=dev, dtype=dtype: (torch.autocast(device_type=dev, dtype=dtype)
                                                    if dev in ("cpu", "cuda") else contextlib.nullcontext())
        low = sc.score(variants)
        d_llr = max(abs(x.llr - y.llr) for x, y in zip(base, low))
        d_emb = max(float(np.max(np.abs(np.array(x.embedding_delta) - np.array(y.embedding_delta))))
                    for x, y in zip(base, low))
        spread = float(np.std([x.llr for x in base]))
        print(f"{dtype} autocast on {dev}: max |dLLR| {d_llr:.4f} nats (LLR sd {spread:.3f}), "
              f"max |d embedding delta| {d_emb:.4f} over {len(variants)} SNVs")


if __name__ == "__main__":
    raise SystemExit(main())
