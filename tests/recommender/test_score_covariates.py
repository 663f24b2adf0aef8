"""``recommender score --covariates`` / ``PatientInputs.covariates`` with a bundle trained on covariates.

Regression (issue 13): the single-patient path had no way to pass the covariates a bundle trained on a real
cohort needs, so the models silently imputed training medians. Now a missing covariate is refused with its
name (the same check as ``cohort score``) unless ``--fill-missing-covariates``, which says what it filled.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from cohorts.manifest import Licence, Provenance
from cohorts.storage import write_cohort
from cohorts.train import train_cohort
from genomics.errors import UsageError
from recommender.cli import main
from recommender.covariate_inputs import parse_covariate_assignments, patient_covariate_block
from recommender.models import ModelBundle
from recommender.requests import PatientInputs
from recommender.scoring import ScoringContext, score_patient
from tests.cohorts.test_covariates_splits import COVS, FAST, breast_tables

PATIENT = {"patient_id": "B1", "demographics": {"age": 61, "sex": "female"},
           "diagnosis": {"cancer_type": "BRCA"}, "candidate_treatments": [{"regimen": "tamoxifen",
                                                                           "drugs": ["tamoxifen"]}]}
GIVEN = {"positive_nodes": "4", "grade": "G3", "postmenopausal": "yes", "er_positive": "yes"}


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("score_covs")
    write_cohort(root / "cohort", breast_tables(n=240), name="breast", licence=Licence(name="CC0-1.0"),
                 provenance=Provenance(source="test", loader="test"), covariates=COVS)
    train_cohort(root / "cohort", root / "bundle", config=FAST, exclude_groups=("dnalm",))
    return root / "bundle"


@pytest.fixture(scope="module")
def context(bundle_dir):
    return ScoringContext(ModelBundle.load(bundle_dir))


@pytest.fixture()
def patient_file(tmp_path):
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(PATIENT))
    return path


def _pfs(rec):
    return next(s for s in rec.options[0].model.survival if s.endpoint == "pfs")


def test_a_missing_covariate_is_refused_with_its_name(context):
    with pytest.raises(UsageError, match="lacks 3 covariate.*positive_nodes, grade, postmenopausal") as err:
        score_patient(PATIENT, context=context)
    assert err.value.field == "positive_nodes" and "--fill-missing-covariates" in err.value.fix


def test_given_covariates_change_the_prediction_and_fill_is_reported(context):
    low = score_patient(PATIENT, inputs=PatientInputs(covariates={**GIVEN, "positive_nodes": 0, "grade": "G1"}),
                        context=context)
    high = score_patient(PATIENT, inputs=PatientInputs(covariates=GIVEN), context=context)
    assert low.model_status.available and high.model_status.available
    assert not any("filled" in w for w in high.warnings)
    # more nodes and a higher grade: higher hazard -> shorter (or equal, if not reached) predicted PFS
    lo_m, hi_m = _pfs(low).median_days, _pfs(high).median_days
    assert lo_m is None or hi_m is None or hi_m <= lo_m
    assert _pfs(low).survival != _pfs(high).survival
    filled = score_patient(PATIENT, inputs=PatientInputs(covariates={"grade": "G2"}, fill_missing_covariates=True),
                           context=context)
    assert any("filled with the bundle's training medians" in w and "positive_nodes, postmenopausal" in w
               for w in filled.warnings)


@pytest.mark.parametrize(("given", "match"), [
    ({"positive_node": "3"}, "unknown covariate"),
    ({"positive_nodes": "many"}, "not a finite number"),
    ({"positive_nodes": "inf"}, "not a finite number"),
    ({"grade": "G9"}, "not one of its levels"),
    ({"postmenopausal": "maybe"}, "not yes/no"),
    ({"er_positive": "no-ish"}, "not yes/no"),
])
def test_unreadable_or_unknown_covariates_are_refused(context, given, match):
    with pytest.raises(UsageError, match=match):
        patient_covariate_block({**GIVEN, **given}, context.bundle)


def test_an_expanded_cohort_block_is_taken_as_is(context):
    from recommender.models.training import patient_covariates

    block = patient_covariates({"positive_nodes": 2.0, "grade": "G2", "postmenopausal": True},
                               context.bundle.schema, COVS)
    got, notes = patient_covariate_block(block, context.bundle)
    assert notes == [] and got["grade__g2"] == 1.0 and got["positive_nodes"] == 2.0


def test_assignments_are_parsed_strictly():
    assert parse_covariate_assignments(["a=1", "b = x y"]) == {"a": "1", "b": "x y"}
    for bad in (["a"], ["=1"], ["a="], ["1a=2"], ["a=1", "a=2"]):
        with pytest.raises(UsageError):
            parse_covariate_assignments(bad)


def test_cli_refuses_in_one_line_then_scores_with_covariates(bundle_dir, patient_file, capsys):
    code = main(["score", str(patient_file), "--bundle", str(bundle_dir)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == UsageError.exit_code and len(err) == 1
    assert "positive_nodes" in err[0] and "--covariates" in err[0]
    code = main(["score", str(patient_file), "--bundle", str(bundle_dir), "--json", "--covariates",
                 *(f"{k}={v}" for k, v in GIVEN.items())])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["model_status"]["available"]
    code = main(["score", str(patient_file), "--bundle", str(bundle_dir), "--json", "--fill-missing-covariates"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and any("--fill-missing-covariates" in w for w in out["warnings"])
    assert np.isfinite(out["options"][0]["model"]["survival"][0]["survival"][1])


def test_http_service_takes_the_same_covariates(context):
    from fastapi.testclient import TestClient

    from recommender.service import create_app, hash_token

    client = TestClient(create_app(token_hashes=[hash_token("tok-cov-1")], bundle=context.bundle))
    auth = {"Authorization": "Bearer tok-cov-1"}
    r = client.post("/v1/score/json", headers=auth, json={"patient": PATIENT})
    assert r.status_code == 400 and "positive_nodes" in r.json()["message"], r.text
    r = client.post("/v1/score/json", headers=auth, json={"patient": PATIENT, "covariates": GIVEN})
    assert r.status_code == 200 and r.json()["model_status"]["available"], r.text
    r = client.post("/v1/score", headers=auth, data={"patient": json.dumps(PATIENT), "covariates": json.dumps(GIVEN)})
    assert r.status_code == 200, r.text
    r = client.post("/v1/score", headers=auth, data={"patient": json.dumps(PATIENT), "covariates": "[1, 2]"})
    assert r.status_code == 400 and r.json()["field"] == "covariates"
    r = client.post("/v1/score", headers=auth, data={"patient": json.dumps(PATIENT), "fill_missing_covariates": "true"})
    assert r.status_code == 200 and any("filled" in w for w in r.json()["warnings"])


def test_a_patient_file_after_covariates_gets_a_hint(tmp_path, capsys):
    code = main(["score", "--no-model", "--covariates", "grade=G2", str(tmp_path / "patient.json")])
    err = capsys.readouterr().err
    assert code == UsageError.exit_code and "before --covariates" in err
