"""``recommender qc``: table by default, JSON with provenance, one-line errors with exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recommender.cli import main

REPO = Path(__file__).resolve().parents[2]
FIX = REPO / "tests" / "fixtures" / "vcf"
DEMO = REPO / "genomics" / "data" / "demo" / "demo_pgx_panel.vcf.gz"


def test_qc_table_on_the_demo(capsys):
    assert main(["qc", str(DEMO)]) == 0
    out = capsys.readouterr().out
    assert "GRCh38" in out and "header contig lengths" in out
    assert "HG00096" in out and "Ti/Tv" in out and "access: scan" in out


def test_qc_json_has_provenance_build_and_access(capsys):
    assert main(["qc", str(FIX / "basic.vcf.gz"), "--sample", "S1", "--sample", "S3",
                 "--region", "chr1:100-200", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["access"] == "index"
    assert data["build"] == {"build": "GRCh38", "method": "header contig lengths", "assumed": False,
                             "detail": data["build"]["detail"]}
    assert [s["sample"] for s in data["samples"]] == ["S1", "S3"]
    assert data["provenance"]["version"] and data["provenance"]["genome_build"] == "GRCh38"
    assert data["totals"]["records"] == 3


def test_qc_assumed_build_is_stated_not_warned(capsys):
    assert main(["qc", str(FIX / "nolength_unknown.vcf.gz")]) == 0
    captured = capsys.readouterr()
    assert "ASSUMED" in captured.out
    assert "DegradedResultWarning" not in captured.err


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["qc", "missing.vcf.gz"], 1, ["missing.vcf.gz", "not found"]),
        (["qc", str(FIX / "grch37.vcf.gz")], 1, ["GRCh37", "fix:"]),
        (["qc", str(FIX / "basic.vcf.gz"), "--sample", "NOPE"], 1, ["NOPE", "S1, S2, S3"]),
        (["qc", str(FIX / "truncated.vcf.gz")], 1, ["truncated"]),
        (["qc", str(FIX / "lying_type.vcf")], 1, ["chr1:200", "DP"]),
        (["qc", str(FIX / "not_a_vcf.vcf")], 1, ["not a VCF"]),
        (["qc", str(FIX / "corrupt_index.vcf.gz")], 1, ["index"]),
        (["qc", str(FIX / "basic.vcf.gz"), "--region", "chr1:9-1"], 2, ["region"]),
    ],
)
def test_qc_bad_input_one_line_error(capsys, args, code, words):
    assert main(args) == code
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("recommender qc: error:")
    for word in words:
        assert word in err
    assert "Traceback" not in captured.err and "[E::" not in captured.err


def test_qc_reads_unsorted_file_with_one_warning(capsys):
    # issue 12 (inputs PharmCAT reads): unsorted records are read (sorted) with one warning, not refused
    assert main(["qc", str(FIX / "unsorted.vcf.gz")]) == 0
    out = capsys.readouterr().out
    assert out.count("not sorted") == 1 and "bcftools sort" in out


def test_qc_grch37_accepted_with_build_option(capsys):
    assert main(["qc", str(FIX / "grch37.vcf.gz"), "--build", "GRCh37", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["build"]["build"] == "GRCh37"


def test_qc_with_reference_reports_ref_mismatches(capsys):
    reference = pytest.importorskip("genomics.reference")
    fasta = reference.bundled_reference_path()
    assert main(["qc", str(FIX / "brca1_mismatch.vcf"), "--reference", str(fasta), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ref_check"]["checked"] == 6 and data["ref_check"]["mismatched"] == 1
    assert any("REF" in w for w in data["warnings"])
    assert main(["qc", str(FIX / "brca1_mismatch.vcf"), "--reference", str(fasta)]) == 0
    assert "1 of 6 REF alleles disagree" in capsys.readouterr().out
