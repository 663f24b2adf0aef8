"""ModelBundle: train from tables, save (safe formats), load with integrity and schema checks, predict."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from recommender.features import default_feature_schema
from recommender.models import (
    BundleIntegrityError,
    FeatureSchemaMismatchError,
    ModelBundle,
    ModelError,
    TrainingConfig,
    train_bundle,
)
from recommender.models.training import table_fingerprint
from recommender.schema import Patient
from tests.recommender._model_support import toy_cohort

CFG = TrainingConfig(n_bootstrap=3, n_bootstrap_toxicity=2, min_toxicity_events=10,
                     booster={"n_estimators": 80, "learning_rate": 0.1, "max_depth": 3, "early_stopping_rounds": 15,
                              "validation_fraction": 0.25})


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    tables = toy_cohort(700, seed=7)
    out = tmp_path_factory.mktemp("bundles") / "toy"
    bundle = train_bundle(tables, out, config=CFG, trained_on="toy synthetic colorectal cohort (tests)",
                          knowledge_bases={"biomarkers": "test"})
    return bundle, out, tables


def _patient() -> Patient:
    return Patient(patient_id="N1", demographics={"age": 70, "sex": "female"},
                   diagnosis={"cancer_type": "COAD", "ecog": 1}, candidate_treatments=["FOLFOX", "CAPOX"])


def test_bundle_directory_holds_only_safe_files(saved):
    _, out, _ = saved
    suffixes = {p.suffix for p in out.iterdir()}
    assert suffixes <= {".json", ".ubj", ".md"}
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert manifest["feature_schema_hash"] == default_feature_schema().hash
    assert set(manifest["files"]) == {p.name for p in out.iterdir()} - {"MANIFEST.json"}
    card = (out / "MODEL_CARD.md").read_text()
    assert "toy synthetic colorectal cohort (tests)" in card and "Not for clinical decisions" in card


def test_metadata_records_fingerprint_metrics_and_hyper_parameters(saved):
    bundle, _, tables = saved
    m = bundle.metadata
    assert m["training_data_sha256"] == table_fingerprint(tables)
    assert m["hyper_parameters"]["n_bootstrap"] == 3
    assert m["knowledge_bases"] == {"biomarkers": "test"}
    assert 0.5 < m["metrics"]["pfs"]["c_index_cv"] <= 1  # cross-validated C of the selected model
    assert m["metrics"]["pfs"]["model_selection"]["selected"] == m["metrics"]["pfs"]["selected_model"]
    assert m["metrics"]["toxicity"]["Neutrophil count decreased"]["auroc"] > 0.6
    assert m["metrics"]["ipw"]["enabled"]


def test_fingerprint_changes_with_the_data(saved):
    _, _, tables = saved
    changed = {k: v.copy() for k, v in tables.items()}
    changed["outcomes"].loc[0, "pfs_days"] += 1
    assert table_fingerprint(changed) != table_fingerprint(tables)


def test_load_round_trip_predicts_identically(saved):
    bundle, out, _ = saved
    back = ModelBundle.load(out, expected_schema=default_feature_schema())
    a = bundle.predict_options(_patient(), pgx={"DPYD": 1.0})
    b = back.predict_options(_patient(), pgx={"DPYD": 1.0})
    assert [x.to_dict() for x in a] == [x.to_dict() for x in b]
    assert back.provenance()["feature_schema_hash"] == default_feature_schema().hash
    assert back.provenance()["manifest_sha256"]


def test_predict_options_output_shape(saved):
    bundle, _, _ = saved
    preds = bundle.predict_options(_patient(), ["FOLFOX", "CAPOX", "olaparib"], pgx={"DPYD": 0.5})
    assert [p.regimen for p in preds] == ["FOLFOX", "CAPOX", "olaparib"]
    folfox = preds[0].to_dict()
    json.dumps(folfox)  # JSON-serialisable
    r = folfox["response"]
    assert 0 <= r["p"] <= 1 and r["low"] <= r["high"]
    pfs = folfox["survival"]["pfs"]
    assert len(pfs["times"]) == len(pfs["survival"]) and pfs["survival"][0] > 0.95
    neut = folfox["toxicity"]["Neutrophil count decreased"]
    assert neut["low"] <= neut["high"] and neut["drivers"]
    assert any(d["driver"] == "DPYD" and d["effect"] > 0 for d in neut["drivers"])
    # olaparib was never given in training: flagged, not silently scored
    assert preds[2].ood["flag"] and any("never" in r for r in preds[2].ood["reasons"])
    assert preds[0].propensity is not None and preds[2].propensity is None


def test_tampered_file_refused(saved, tmp_path):
    _, out, _ = saved
    copy = tmp_path / "b"
    shutil.copytree(out, copy)
    target = copy / "response.json"
    data = json.loads(target.read_text())
    data["best_iteration"] = 0
    target.write_text(json.dumps(data))
    with pytest.raises(BundleIntegrityError, match="sha256"):
        ModelBundle.load(copy)


def test_pickle_or_unlisted_files_refused(saved, tmp_path):
    _, out, _ = saved
    copy = tmp_path / "b"
    shutil.copytree(out, copy)
    (copy / "model.pkl").write_bytes(b"\x80\x04")
    with pytest.raises(BundleIntegrityError, match="unsafe"):
        ModelBundle.load(copy)
    (copy / "model.pkl").unlink()
    (copy / "extra.json").write_text("{}")
    with pytest.raises(BundleIntegrityError, match="not listed"):
        ModelBundle.load(copy)
    (copy / "extra.json").unlink()
    (copy / "ood.json").unlink()
    with pytest.raises(BundleIntegrityError, match="missing"):
        ModelBundle.load(copy)


def test_schema_mismatch_refused(saved, monkeypatch):
    _, out, _ = saved
    with pytest.raises(FeatureSchemaMismatchError, match="expected schema"):
        ModelBundle.load(out, expected_schema=default_feature_schema(dnalm_genes=()))
    import recommender.models.bundle as bundle_mod

    monkeypatch.setattr(bundle_mod, "BUILDER_VERSION", "features/99")
    with pytest.raises(FeatureSchemaMismatchError, match="feature builder") as info:
        ModelBundle.load(out)
    assert isinstance(info.value, ModelError) and info.value.fix


def test_not_a_bundle_and_existing_target(saved, tmp_path):
    bundle, out, _ = saved
    with pytest.raises(BundleIntegrityError, match="MANIFEST"):
        ModelBundle.load(tmp_path)
    with pytest.raises(ModelError, match="exists"):
        bundle.save(out)


def test_predict_frame_needs_schema_columns(saved):
    bundle, _, _ = saved
    import pandas as pd

    with pytest.raises(FeatureSchemaMismatchError):
        bundle.predict_frame(pd.DataFrame({"demo_age": [60.0]}))
    assert np.isfinite(bundle.metadata["metrics"]["response"]["brier"])


def test_batch_predictions_match_single_patient_predictions(saved):
    bundle, _, _ = saved
    p1 = _patient()
    p2 = Patient(patient_id="N2", demographics={"age": 50}, diagnosis={"cancer_type": "COAD", "ecog": 0},
                 candidate_treatments=["FOLFOX+panitumumab"])
    table = bundle.predict_batch([p1, p2], pgx={"N1": {"DPYD": 1.0}})
    assert list(table["regimen"]) == ["FOLFOX", "CAPOX", "FOLFOX+panitumumab"]
    single = bundle.predict_options(p1, pgx={"DPYD": 1.0}, explain=False)
    assert table.loc[1, "p_response"] == pytest.approx(single[1].response["p"])
    assert table.loc[1, "p_response_low"] == pytest.approx(single[1].response["low"])
    assert table.loc[0, "p_severe:Neutrophil count decreased"] == pytest.approx(
        single[0].toxicity["Neutrophil count decreased"]["p"])
    fast = bundle.predict_batch([p1], intervals=False)
    assert fast["p_response_low"].isna().all() and bundle.response_ensemble is not None


def test_real_cohort_layout_er_alias_and_extra_covariates():
    from recommender.features import default_feature_schema as dfs
    from recommender.models.training import examples_from_tables

    tables = toy_cohort(60, seed=9)
    tables["patients"]["er_ihc"] = ["Positive", "Negative"] * 30
    tables["patients"]["positive_nodes"] = range(60)
    ex = examples_from_tables(tables, schema=dfs(covariates=("positive_nodes",)))
    assert ex.X["bm_er_positive"].tolist()[:2] == [1.0, 0.0]
    assert ex.X["cov_positive_nodes"].tolist()[:3] == [0.0, 1.0, 2.0]


def test_unknown_values_never_missing_in_training_are_reported_not_guessed_silently(saved):
    bundle, _, _ = saved
    pred = bundle.predict_options(_patient(), ["FOLFOX"])[0]
    assert any(n.startswith("BMI not known: training median") for n in pred.imputed)
    # descriptions still read "not known" for imputed values
    phrases = [d["phrase"] for d in pred.response["drivers"]]
    assert not any(p.startswith("BMI ") and "not known" not in p for p in phrases)
