"""Benchmark: star-allele calling of every gene on the 1000 Genomes panel vs a bare cyvcf2 read.

Usage::

    python benchmarks/bench_pgx.py [--data DIR] [--quick] [--repeat N]

``DIR`` holds the per-gene 1000 Genomes VCFs (default ``../shared/data/population/1kgp_GRCh38``).
In the same run it times

1. ``bare cyvcf2``: open each file, query the span of the gene's defining positions and decode the
   genotype array of every record at a defining position (what any caller must at least do);
2. ``call_pgx_cohort``: the product's bulk path (read each gene once for all samples, match, look up
   phenotypes, build one JSON-ready profile per sample), with ``fill_missing_with_reference=True``;

and prints a table with samples/s and the ratio. ``--quick`` uses the first 300 samples.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import cyvcf2

from genomics.errors import DegradedResultWarning
from genomics.pgx import call_pgx_cohort
from genomics.pgx.caller import compiled_gene
from genomics.pgx.definitions import CALLABLE_GENES

REPO = Path(__file__).resolve().parents[1]


def bare_read(files: dict[str, Path], samples: list[str] | None) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = 0
    for gene, path in files.items():
        cg = compiled_gene(gene)
        wanted = set(cg.position_index)
        vcf = cyvcf2.VCF(str(path), samples=samples, lazy=True)
        for v in vcf(f"{cg.definition.chrom}:{min(wanted)}-{max(wanted)}"):
            if v.POS in wanted:
                v.genotype.array()
                n += 1
        vcf.close()
    return time.perf_counter() - t0, n


def run_caller(files: dict[str, Path], samples: list[str] | None) -> tuple[float, float, int]:
    marks: dict[str, float] = {}
    t0 = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "read" and done == total:
            marks["read"] = time.perf_counter()

    n = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegradedResultWarning)
        for profile in call_pgx_cohort(list(files.values()), samples=samples, genes=list(files),
                                       fill_missing_with_reference=True, progress=progress):
            profile.to_dict()  # JSON-ready output is part of the job
            n += 1
    total = time.perf_counter() - t0
    return total, marks.get("read", t0) - t0, n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="star-allele calling speed vs a bare cyvcf2 read")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "population" / "1kgp_GRCh38")
    parser.add_argument("--quick", action="store_true", help="first 300 samples only")
    parser.add_argument("--repeat", type=int, default=1, help="repeat each measurement, keep the fastest")
    args = parser.parse_args(argv)
    files = {g: args.data / f"{g}.vcf.gz" for g in CALLABLE_GENES if (args.data / f"{g}.vcf.gz").exists()}
    if not files:
        print(f"no per-gene VCFs found in {args.data}", file=sys.stderr)
        return 1
    all_samples = list(cyvcf2.VCF(str(next(iter(files.values())))).samples)
    samples = all_samples[:300] if args.quick else None
    n_samples = len(samples or all_samples)

    bare = min((bare_read(files, samples) for _ in range(args.repeat)), key=lambda r: r[0])
    best = min((run_caller(files, samples) for _ in range(args.repeat)), key=lambda r: r[0])
    caller_s, read_s, n_profiles = best
    assert n_profiles == n_samples
    rows = [
        ("bare cyvcf2 read (gene spans)", bare[0], f"GT of {bare[1]} defining-position records x {n_samples} samples"),
        ("call_pgx_cohort: read + encode", read_s, "product VCF reader, numpy allele codes"),
        ("call_pgx_cohort: total", caller_s, f"{len(files)} genes, phenotypes, {n_profiles} profiles"),
    ]
    print(f"pgx benchmark: {n_samples} samples, {len(files)} genes ({', '.join(files)})")
    print(f"{'step':<36} {'seconds':>9} {'samples/s':>10}  note")
    for name, sec, note in rows:
        print(f"{name:<36} {sec:>9.2f} {n_samples / sec:>10.0f}  {note}")
    print(f"ratio caller / bare read: {caller_s / bare[0]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
