"""CYP2D6 without copy number through the product path (issue 12 follow-up).

Without a copy-number source CYP2D6 is "provisional: copy number not assessed" and its phenotype is not used
for guidance; ``cyp2d6_without_copy_number`` opts in. Each front end (``score_patient``, ``recommender score``,
the HTTP form) must pass the choice through, record it in the provenance and say it in words with the test
that settles it.

The demo VCF's HG00171 is CYP2D6 ``*1/*1`` from SNVs alone (no CN in the file); the breast fixture asks about
tamoxifen, whose CPIC/DPWG guidance needs CYP2D6.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from genomics.pgx import call_pgx
from recommender.requests import PatientInputs
from recommender.scoring import ScoringContext, score_patient
from tests.recommender._scoring_support import BREAST, DEMO_VCF

pytestmark = pytest.mark.filterwarnings("ignore::genomics.errors.DegradedResultWarning")

TOKEN = "test-token-cyp2d6"


def _score(**inputs):
    return score_patient(BREAST, ["tamoxifen"], inputs=PatientInputs(**inputs), context=ScoringContext(False))


def _cyp2d6(rec_dict_or_rec):
    genes = rec_dict_or_rec["pharmacogenes"] if isinstance(rec_dict_or_rec, dict) else [
        g.model_dump() for g in rec_dict_or_rec.pharmacogenes]
    return next(g for g in genes if g["gene"] == "CYP2D6")


def _assert_provisional(body: dict) -> None:
    gene = _cyp2d6(body)
    assert gene["status"] == "provisional" and gene["phenotype"] is None
    assert "provisional: copy number not assessed" in gene["status_text"]
    assert "copy-number assay" in gene["note_text"]  # names the test that settles it
    tam = body["options"][0]["pgx"][0]
    assert tam["drug"] == "tamoxifen" and tam["action"] == "not_assessed" and tam["missing_genes"] == ["CYP2D6"]
    assert "provisional: copy number not assessed" in tam["gene_states"]["CYP2D6"]
    warning = next(w for w in body["warnings"] if w.startswith("CYP2D6"))
    assert "provisional: copy number not assessed" in warning and "copy-number assay" in warning
    assert "--cyp2d6-without-copy-number" in warning
    assert body["provenance"]["inputs"]["cyp2d6_without_copy_number"] is False


def _assert_accepted(body: dict) -> None:
    gene = _cyp2d6(body)
    assert gene["status"] == "called" and gene["phenotype"] == "Normal Metabolizer"
    assert "used without copy number (on request)" in gene["note_text"]
    tam = body["options"][0]["pgx"][0]
    assert tam["action"] != "not_assessed" and tam["missing_genes"] == []
    warning = next(w for w in body["warnings"] if w.startswith("CYP2D6"))
    assert "without copy number, on request" in warning and "copy-number assay" in warning
    assert body["provenance"]["inputs"]["cyp2d6_without_copy_number"] is True


def test_score_patient_cyp2d6_provisional_by_default_says_so_in_words():
    _assert_provisional(_score().to_dict())


def test_score_patient_cyp2d6_opt_in_uses_the_call_and_records_it():
    _assert_accepted(_score(cyp2d6_without_copy_number=True).to_dict())


def test_precomputed_profile_decides_and_provenance_follows_the_profile():
    # the opt-in cannot re-call a profile computed beforehand: the provenance reports what the profile did
    profile = call_pgx(DEMO_VCF, sample="HG00171", include_positions=False)
    body = _score(pgx_profile=profile, cyp2d6_without_copy_number=True).to_dict()
    assert _cyp2d6(body)["status"] == "provisional"
    assert body["provenance"]["inputs"]["cyp2d6_without_copy_number"] is False
    warning = next(w for w in body["warnings"] if w.startswith("CYP2D6"))
    assert "accept_cyp2d6_without_copy_number=True" in warning
    accepted = call_pgx(DEMO_VCF, sample="HG00171", include_positions=False, accept_cyp2d6_without_copy_number=True)
    body = _score(pgx_profile=accepted).to_dict()
    assert body["provenance"]["inputs"]["cyp2d6_without_copy_number"] is True


def test_outside_cyp2d6_call_gives_no_copy_number_warning(tmp_path):
    tsv = tmp_path / "outside.tsv"
    tsv.write_text("gene\tdiplotype\tphenotype\tactivity_score\tsource\n"
                   "CYP2D6\t*1/*4\tIntermediate Metabolizer\t1.0\tcopy-number-aware lab test\n")
    body = _score(outside_calls=str(tsv)).to_dict()
    assert _cyp2d6(body)["status"] == "outside_call"
    assert not any("copy number not assessed" in w or "without copy number" in w for w in body["warnings"])


@pytest.mark.parametrize("opt_in", [False, True])
def test_recommender_score_cli_passes_cyp2d6_opt_in(opt_in):
    cmd = [sys.executable, "-m", "recommender.cli", "score", str(BREAST), "--no-model", "--json",
           "--treatments", "tamoxifen"] + (["--cyp2d6-without-copy-number"] if opt_in else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    (_assert_accepted if opt_in else _assert_provisional)(body)


@pytest.fixture(scope="module")
def client():
    from recommender.service import create_app, hash_token

    return TestClient(create_app(token_hashes=[hash_token(TOKEN)], bundle=False))


@pytest.mark.parametrize("opt_in", [None, "false", "true"])
def test_http_score_form_field_cyp2d6_without_copy_number(client, opt_in):
    patient = json.loads(BREAST.read_text())
    patient.pop("germline")  # the service never reads record paths: the VCF is uploaded
    data = {"patient": json.dumps(patient), "treatments": "tamoxifen", "sample": "HG00171"}
    if opt_in is not None:
        data["cyp2d6_without_copy_number"] = opt_in
    with open(DEMO_VCF, "rb") as vcf, open(str(DEMO_VCF) + ".tbi", "rb") as tbi:
        r = client.post("/v1/score", headers={"Authorization": f"Bearer {TOKEN}"}, data=data,
                        files={"vcf": ("x.vcf.gz", vcf), "vcf_index": ("x.vcf.gz.tbi", tbi)})
    assert r.status_code == 200, r.text
    (_assert_accepted if opt_in == "true" else _assert_provisional)(r.json())


def test_http_score_form_rejects_a_non_boolean_opt_in(client):
    patient = json.loads(BREAST.read_text())
    patient.pop("germline")
    r = client.post("/v1/score", headers={"Authorization": f"Bearer {TOKEN}"},
                    data={"patient": json.dumps(patient), "treatments": "tamoxifen",
                          "cyp2d6_without_copy_number": "maybe; DROP TABLE"})
    assert r.status_code == 422
