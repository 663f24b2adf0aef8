"""Issue 16: mutation fuzzing of the VCF/BCF readers (reader API, ``qc`` and ``pgx`` code paths).

A seeded mutator edits a small slice of the demo VCF (text, one mutant in five also in its header: byte flips, inserted tokens such as ``chrZ``,
``abc``, ``0/0/1``, ``\\xff``, deleted bytes, duplicated lines; some written bgzipped) and a BCF made from it
(binary: changed bytes inside records). Each mutant is read in a forked child by
:func:`_fuzz_support.check_one`; a child killed by a signal, stopped by ``exit()`` from C, hanging, or
ending on a non-product exception is a failure, and the mutant is kept for the report.

Budget: ``FUZZ_BUDGET_S`` seconds (default 8, what ``make test`` runs); e.g. ``FUZZ_BUDGET_S=600`` for a
ten-minute run, ``FUZZ_SEED`` to change the mutation sequence. Findings are kept under
``FUZZ_OUT`` (default: pytest's temporary folder), named ``case-N.vcf`` / ``.vcf.gz`` / ``.bcf``.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEMO_VCF = ROOT / "genomics" / "data" / "demo" / "demo_pgx_panel.vcf.gz"


def _seed_files(folder: Path) -> list[Path]:
    """A 300-record slice of the demo VCF (CYP2C19, CYP2C9 and DPYD records) and the same as BCF."""
    import pysam

    lines = gzip.open(DEMO_VCF, "rt").read().splitlines(True)
    head = [line for line in lines if line.startswith("#")]
    body = [line for line in lines if not line.startswith("#") and ("GENE=CYP2C" in line or "GENE=DPYD" in line)]
    text = folder / "seed.vcf"
    text.write_text("".join(head + body[:300]))
    bcf = folder / "seed.bcf"
    with pysam.VariantFile(str(text)) as inp, pysam.VariantFile(str(bcf), "wb", header=inp.header) as out:
        for record in inp:
            out.write(record)
    return [text, bcf]


def test_fuzz_readers_never_crash_and_only_raise_product_errors(tmp_path):
    budget = float(os.environ.get("FUZZ_BUDGET_S", "8"))
    out = Path(os.environ.get("FUZZ_OUT", str(tmp_path / "findings")))
    seeds = _seed_files(tmp_path)
    proc = subprocess.run(
        [sys.executable, str(HERE / "_fuzz_support.py"), str(budget), str(out), *map(str, seeds)],
        capture_output=True, text=True, timeout=budget + 600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["tried"] >= 2
    findings = result["findings"]
    print(f"fuzz: {result['tried']} mutants in {budget:g} s, {len(findings)} finding(s)")
    report = "\n".join(f"{f['outcome']}: {f['file']}: {f['detail'][:300]}" for f in findings)
    assert not findings, f"{len(findings)} of {result['tried']} mutants failed (inputs kept):\n{report}"


@pytest.mark.parametrize("name", ["seed.vcf", "seed.bcf"])
def test_fuzz_seeds_themselves_read_cleanly(tmp_path, name):
    sys.path.insert(0, str(HERE))
    from _fuzz_support import check_one

    seeds = {p.name: p for p in _seed_files(tmp_path)}
    assert check_one(str(seeds[name])) == ("ok", "")
