"""``recommender biomarkers`` end to end (exit codes, JSON, one-line errors)."""

import json

import pytest

from recommender.cli import main
from tests.conftest import FIXTURES

F = FIXTURES / "biomarkers"


def test_json_output(capsys):
    rc = main(["biomarkers", str(F / "tumour.maf"), "--cnv", str(F / "cnv.tsv"), "--tmb", "11", "--msi", "MSS",
               "--cancer-type", "COADREAD", "--json"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert data["cancer_type"] == "COADREAD" and data["tumour"]["msi"] == "MSS"
    assert {m["match_method"] for m in data["matches"]} >= {"protein change", "copy number", "fusion", "TMB"}
    assert data["vus"][0]["classification"].startswith("VUS")
    assert data["provenance"]["biomarker_tables"][0]["sha256"]


def test_table_output(capsys):
    assert main(["biomarkers", str(F / "tumour_unannotated.vcf"), "--cancer-type", "BRCA"]) == 0
    out = capsys.readouterr().out
    assert "PIK3CA" in out and "GRCh38 position" in out and "alpelisib" in out


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["tumour_grch37.vcf"], 1, "GRCh37"),
        (["truncated.maf"], 1, "line 3"),
        (["malformed_csq.vcf"], 1, "CSQ"),
        (["tumour.maf", "--cancer-type", "XYZ"], 2, "OncoTree"),
        (["tumour.maf", "--msi", "maybe"], 2, "MSI"),
        ([], 2, "nothing to match"),
    ],
)
def test_errors_are_one_line_with_exit_codes(capsys, args, code, words):
    argv = ["biomarkers"] + [str(F / a) if a.endswith((".vcf", ".maf")) else a for a in args]
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_third_party_table_from_user_path(capsys, shared_data):
    hotspots = shared_data / "oncology" / "cancer_hotspots_chang2016" / "publication_hotspots.tsv"
    moa = shared_data / "oncology" / "moalmanac" / "molecular-oncology-almanac.json"
    rc = main(["biomarkers", str(F / "tumour.maf"), "--cancer-type", "COADREAD", "--table", str(moa),
               "--table", str(hotspots), "--json"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert {i["kind"] for i in data["provenance"]["third_party_imports"]} == {"moalmanac", "hotspots"}
    assert data["hotspot_annotations"]
