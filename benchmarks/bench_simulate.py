"""Simulator speed and output size: cohorts with a germline VCF (real haplotypes + PGx caller) vs tables only.

Usage::

    python benchmarks/bench_simulate.py            # 100, 1,000, 10,000 patients
    python benchmarks/bench_simulate.py --quick    # 100 and 1,000
    python benchmarks/bench_simulate.py --full     # adds 100,000 (several minutes)

For every size, the same seed is simulated twice in the same run: with :class:`cohorts.germline.RealGenotypeSource`
(haplotypes -> bgzipped VCF -> ``call_pgx_cohort`` -> phenotypes) and with the phenotype-prior source
(tables only). Both are written as cohort directories (Parquet + VCF); the table prints generation time,
write time, patients per second, bytes on disk and the VCF/tables-only time ratio. Never part of the tests.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cohorts.germline import RealGenotypeSource
from cohorts.simulate import PhenotypePriorSource, simulate_cohort
from genomics.errors import DegradedResultWarning


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run_one(n: int, seed: int, source, workdir: Path, label: str) -> dict:
    t0 = time.perf_counter()
    sim = simulate_cohort(n, seed, germline=source)
    stages = dict(getattr(source, "last_timings", {}) or {})
    t1 = time.perf_counter()
    out = workdir / f"{label}-{n}"
    sim.write(out)
    t2 = time.perf_counter()
    vcf = out / "germline.vcf.gz"
    return {"n": n, "label": label, "generate_s": t1 - t0, "write_s": t2 - t1, "total_s": t2 - t0,
            "bytes": _size(out), "vcf_bytes": vcf.stat().st_size if vcf.exists() else 0, **stages}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="100 and 1,000 patients only")
    g.add_argument("--full", action="store_true", help="also 100,000 patients")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    sizes = [100, 1_000] if a.quick else [100, 1_000, 10_000] + ([100_000] if a.full else [])
    work = Path(tempfile.mkdtemp(prefix="bench-simulate-"))
    rows = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DegradedResultWarning)
            # warm-up: loads the panel, PGx definitions and phenotype tables once (not timed)
            simulate_cohort(50, 0, germline=RealGenotypeSource(workdir=work / "warm"))
            for n in sizes:
                vcf = run_one(n, a.seed, RealGenotypeSource(workdir=work / f"src-{n}"), work, "vcf")
                tab = run_one(n, a.seed, PhenotypePriorSource(), work, "tables")
                rows.append((vcf, tab))
                shutil.rmtree(work / f"vcf-{n}", ignore_errors=True)
                shutil.rmtree(work / f"tables-{n}", ignore_errors=True)
                shutil.rmtree(work / f"src-{n}", ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"simulator benchmark (seed {a.seed}): genotype source (real haplotypes -> VCF -> PGx caller) "
          "vs tables only")
    head = (f"{'patients':>9} {'mode':<8} {'generate s':>10} {'write s':>8} {'total s':>8} {'patients/s':>10} "
            f"{'MB on disk':>10} {'VCF MB':>7} {'ratio':>6}")
    print(head)
    for vcf, tab in rows:
        for r in (vcf, tab):
            ratio = f"{vcf['total_s'] / tab['total_s']:.1f}x" if r is vcf else ""
            print(f"{r['n']:>9,} {r['label']:<8} {r['generate_s']:>10.2f} {r['write_s']:>8.2f} {r['total_s']:>8.2f} "
                  f"{r['n'] / r['total_s']:>10,.0f} {r['bytes'] / 1e6:>10.2f} {r['vcf_bytes'] / 1e6:>7.2f} {ratio:>6}")
    print("ratio = total time with VCF / total time tables only (same n, same seed, same run)")
    print()
    print("genotype source stages (seconds): haplotypes+BRCA, VCF write (bgzip+tabix), PGx caller (call_pgx_cohort)")
    for vcf, _ in rows:
        print(f"{vcf['n']:>9,} {vcf.get('genotypes_s', 0):>8.2f} {vcf.get('vcf_s', 0):>8.2f} "
              f"{vcf.get('pgx_caller_s', 0):>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
