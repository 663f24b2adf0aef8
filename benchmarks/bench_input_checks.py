"""What the hostile-input guards of the VCF reader cost (issue 16): pre-check of text VCFs, child decode of BCFs.

Prints one table from one run: open + full read of the demo VCF (8 samples, 6,208 records) as bgzipped VCF
and as BCF, with each guard on and off (off = the environment switches documented in
docs/concepts/input-contract.md), median of ``--repeat`` runs, and the ratio on/off.

    .venv/bin/python benchmarks/bench_input_checks.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "genomics" / "data" / "demo" / "demo_pgx_panel.vcf.gz"


def _read(path: Path) -> float:
    from genomics.vcf import VcfReader

    t0 = time.perf_counter()
    reader = VcfReader(path)
    for rec in reader.fetch():
        _ = rec.gt
    reader.close()
    return time.perf_counter() - t0


def _median(path: Path, env: dict[str, str], repeat: int) -> float:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        _read(path)  # warm-up
        return statistics.median(_read(path) for _ in range(repeat))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    import pysam

    with tempfile.TemporaryDirectory() as tmp:
        bcf = Path(tmp) / "demo.bcf"
        with pysam.VariantFile(str(DEMO)) as inp, pysam.VariantFile(str(bcf), "wb", header=inp.header) as out:
            for rec in inp:
                out.write(rec)
        rows = [
            ("vcf.gz, text pre-check", DEMO, {"GENOMICS_VCF_PRECHECK_BYTES": str(1 << 30)},
             {"GENOMICS_VCF_PRECHECK_BYTES": "1"}),
            ("bcf, child decode", bcf, {"GENOMICS_VCF_CHILD_CHECK": "1"}, {"GENOMICS_VCF_CHILD_CHECK": "0"}),
        ]
        print(f"{'input and guard':<26} {'guard on (s)':>12} {'guard off (s)':>13} {'ratio':>6}")
        for label, path, on, off in rows:
            t_on = _median(path, on, args.repeat)
            t_off = _median(path, off, args.repeat)
            print(f"{label:<26} {t_on:>12.3f} {t_off:>13.3f} {t_on / t_off:>6.2f}")
    print(f"(median of {args.repeat} runs after one warm-up; python {sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
