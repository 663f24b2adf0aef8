"""The product path on a cohort with covariates and a stored split: import -> train -> evaluate / score.

Regression tests for issue 13: ``cohort train`` dropped a cohort's covariates (GBSG lost grade, nodes, PgR, ER,
menopause), ignored the stored split, never refitted, predicted curves on a 50-point grid, and ``cohort score``
filled covariates with training medians silently.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cohorts.covariates import infer_covariates, select_covariates
from cohorts.errors import CohortError
from cohorts.evaluate import evaluate_bundle, survival_metrics
from cohorts.manifest import Licence, Provenance
from cohorts.storage import load_cohort, write_cohort
from cohorts.train import train_cohort, training_split
from genomics.errors import UsageError
from recommender.cli import main
from recommender.features.covariates import CovariateSpec
from recommender.models import ModelBundle
from recommender.models.training import TrainingConfig, examples_from_tables

FAST = TrainingConfig(n_bootstrap=0, n_bootstrap_toxicity=0, cv_folds=3)
COVS = (CovariateSpec("positive_nodes", "numeric", label="positive nodes"),
        CovariateSpec("grade", "categorical", levels=("G1", "G2", "G3")),
        CovariateSpec("postmenopausal", "binary"))


def breast_tables(n: int = 360, seed: int = 0) -> dict[str, pd.DataFrame]:
    """A breast cohort whose recurrence hazard depends on nodes, grade and tamoxifen (ER+ only)."""
    rng = np.random.default_rng(seed)
    nodes = rng.poisson(3, n).astype(float)
    grade = rng.choice(["G1", "G2", "G3"], n)
    er = rng.random(n) < 0.7
    tam = rng.random(n) < 0.5
    lp = 0.25 * nodes + np.select([grade == "G2", grade == "G3"], [0.5, 1.0], 0.0) - 0.8 * (tam & er)
    t = rng.exponential(900 * np.exp(-lp))
    c = rng.uniform(200, 2500, n)
    pids = [f"P{i:04d}" for i in range(n)]
    patients = pd.DataFrame({"patient_id": pids, "age": rng.normal(58, 10, n), "sex": "female", "cancer_type": "BRCA",
                             "positive_nodes": nodes, "grade": grade, "postmenopausal": rng.random(n) < 0.6,
                             "er_positive": er, "split": np.where(np.arange(n) < round(n * 0.7), "train", "test")})
    regimen = np.where(tam, "tamoxifen", "observation")
    treatments = pd.DataFrame({"treatment_id": [f"{p}-t1" for p in pids], "patient_id": pids, "regimen": regimen,
                               "drugs": [["tamoxifen"] if r == "tamoxifen" else [] for r in regimen]})
    outcomes = pd.DataFrame({"patient_id": pids, "pfs_days": np.minimum(t, c), "pfs_event": t <= c})
    return {"patients": patients, "treatments": treatments, "outcomes": outcomes}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    root = tmp_path_factory.mktemp("covsplit")
    write_cohort(root / "cohort", breast_tables(), name="breast", licence=Licence(name="CC0-1.0"),
                 provenance=Provenance(source="test", loader="test"), covariates=COVS)
    bundle = train_cohort(root / "cohort", root / "bundle", config=FAST, exclude_groups=("dnalm",))
    return {"root": root, "dir": root / "cohort", "bundle_dir": root / "bundle", "bundle": bundle}


# -- covariates ----------------------------------------------------------------------------------------
def test_manifest_stores_declared_covariates_and_refuses_a_missing_column(cohort, tmp_path):
    c = load_cohort(cohort["dir"])
    assert [e.name for e in c.manifest.covariates] == ["positive_nodes", "grade", "postmenopausal"]
    assert c.manifest.covariates[1].levels == ("G1", "G2", "G3")
    with pytest.raises(CohortError, match="not a column"):
        write_cohort(tmp_path / "x", breast_tables(40), name="x", licence=Licence(name="CC0-1.0"),
                     provenance=Provenance(source="t", loader="t"), covariates=[CovariateSpec("tumour_size")])


def test_cohort_train_uses_every_declared_covariate_by_default(cohort):
    b = cohort["bundle"]
    assert [c["name"] for c in b.metadata["covariates"]] == ["positive_nodes", "grade", "postmenopausal"]
    for col in ("cov_positive_nodes", "cov_grade__g1", "cov_grade__g3", "cov_postmenopausal"):
        assert col in b.schema.columns
    assert b.schema.covariates == ("positive_nodes", "grade__g1", "grade__g2", "grade__g3", "postmenopausal")
    ex = examples_from_tables({k: load_cohort(cohort["dir"]).table(k) for k in ("patients", "treatments", "outcomes")},
                              schema=b.schema, covariates=b.metadata["covariates"])
    assert ex.X["cov_positive_nodes"].notna().all() and set(ex.X["cov_grade__g2"].unique()) == {0.0, 1.0}
    # ER status reaches the ER feature
    assert set(ex.X["bm_er_positive"].unique()) == {0.0, 1.0}
    # a covariate that carries the signal gets weight in the Cox model
    cox = b.survival["pfs"]["cox"]
    assert abs(cox.coef_["cov_positive_nodes"]) > 0.1


def test_covariates_can_be_chosen_and_unknown_ones_are_refused():
    assert [s.name for s in select_covariates(COVS, ["grade"])] == ["grade"]
    assert [s.name for s in select_covariates(COVS, None, ["grade"])] == ["positive_nodes", "postmenopausal"]
    with pytest.raises(UsageError, match="unknown covariate"):
        select_covariates(COVS, ["tumour_size"])


def test_covariates_are_inferred_when_none_are_declared():
    specs = {s.name: s for s in infer_covariates(breast_tables(50)["patients"])}
    assert specs["positive_nodes"].kind == "numeric" and specs["grade"].kind == "categorical"
    assert specs["postmenopausal"].kind == "binary"
    assert "er_positive" not in specs and "split" not in specs and "age" not in specs


def test_cli_train_with_exclude_records_the_reduced_covariates(cohort, tmp_path, capsys):
    out = tmp_path / "b"
    assert main(["cohort", "train", str(cohort["dir"]), "-o", str(out), "--no-bootstrap", "--exclude-groups", "dnalm",
                 "--exclude", "grade", "--cv-folds", "0", "--json"]) == 0
    json.loads(capsys.readouterr().out)
    meta = ModelBundle.load(out).metadata
    assert [c["name"] for c in meta["covariates"]] == ["positive_nodes", "postmenopausal"]
    assert meta["metrics"]["pfs"]["selected_model"] == "boosted"



def test_cli_train_survival_curves_is_passed_to_the_training(cohort, tmp_path, capsys):
    out = tmp_path / "b"
    assert main(["cohort", "train", str(cohort["dir"]), "-o", str(out), "--no-bootstrap", "--exclude-groups", "dnalm",
                 "--cv-folds", "3", "--survival-candidates", "cox,forest", "--survival-curves", "breslow",
                 "--json"]) == 0
    capsys.readouterr()
    curves = ModelBundle.load(out).metadata["metrics"]["pfs"]["model_selection"]["curves"]
    assert curves["selected"] == "breslow" and "fixed by the configuration" in curves["criterion"]
    with pytest.raises(SystemExit):
        main(["cohort", "train", str(cohort["dir"]), "-o", str(tmp_path / "c"), "--survival-curves", "kaplan"])

# -- split, cross-validation, refit ---------------------------------------------------------------------
def test_stored_split_is_the_default_and_only_training_rows_are_used(cohort):
    meta = cohort["bundle"].metadata
    assert meta["training_rows"] == 252 and meta["metrics"]["n_excluded_by_split"] == 108
    assert "column 'split'" in meta["split"]
    # refit on all training rows: the Cox model saw every one of them
    assert cohort["bundle"].survival["pfs"]["cox"].lifelines_summary_["n"] == 252


def test_split_column_none_and_a_missing_column():
    pts = breast_tables(40)["patients"]
    assert training_split(pts, "none")[0] is None
    assert len(training_split(pts, None)[0]) == 28
    with pytest.raises(UsageError, match="no column"):
        training_split(pts, "fold")


def test_survival_model_is_selected_by_cross_validation_on_training_rows(cohort):
    sel = cohort["bundle"].metadata["metrics"]["pfs"]["model_selection"]
    assert sel["folds"] == 3 and set(sel["cv_c_index"]) == set(TrainingConfig().survival_candidates)
    assert all(len(v) == 3 for v in sel["cv_c_index_folds"].values())
    best = max(sel["cv_c_index"], key=lambda k: sel["cv_c_index"][k])
    assert sel["selected"] == best
    loaded = ModelBundle.load(cohort["bundle_dir"])
    if best != "boosted":
        assert "selected" in loaded.survival["pfs"]
    # the model card states data, licence, protocol and figures; not "simulated cohort" for real data
    card = loaded.model_card
    assert "CC0-1.0" in card and "cross-validat" in card and "simulated cohort illustrate" not in card


# -- evaluate --------------------------------------------------------------------------------------------
def test_evaluate_uses_the_test_split_with_intervals(cohort):
    rep = evaluate_bundle(cohort["dir"], cohort["bundle_dir"], n_bootstrap=30)
    assert rep.n_patients == 108
    pfs = rep.overall["pfs"]
    for key in ("harrell_c", "antolini_c_td", "integrated_brier_score", "calibration_error"):
        lo, hi = pfs["intervals"][key]
        assert lo <= pfs[key] <= hi
    assert pfs["harrell_c"] > 0.6  # nodes and grade carry real signal
    assert any("split == 'test'" in n for n in rep.notes)


def test_evaluate_refuses_a_cohort_without_a_covariate_column_unless_asked(cohort, tmp_path):
    tables = breast_tables()
    tables["patients"] = tables["patients"].drop(columns=["grade"])
    write_cohort(tmp_path / "nogrd", tables, name="nogrd", licence=Licence(name="CC0-1.0"),
                 provenance=Provenance(source="t", loader="t"))
    with pytest.raises(CohortError, match="grade") as err:
        evaluate_bundle(tmp_path / "nogrd", cohort["bundle_dir"])
    assert "--fill-missing-covariates" in err.value.fix
    rep = evaluate_bundle(tmp_path / "nogrd", cohort["bundle_dir"], fill_missing_covariates=True)
    assert any("filled with the bundle's training medians" in n for n in rep.notes)
    assert main(["cohort", "evaluate", str(tmp_path / "nogrd"), "--bundle", str(cohort["bundle_dir"]),
                 "--bootstrap", "0"]) == 1


# -- score -----------------------------------------------------------------------------------------------
def test_cohort_score_passes_covariates_and_writes_the_risk_of_each_option(cohort, tmp_path):
    from cohorts.evaluate import _predict
    from cohorts.score import score_cohort

    out = tmp_path / "s.parquet"
    score_cohort(cohort["dir"], out, bundle=cohort["bundle_dir"], treatments=["tamoxifen", "observation"],
                 progress=False, chunk_size=400)
    rows = pd.read_parquet(out)
    assert rows["pfs_risk"].notna().all()
    # the risk of the received option equals what evaluation computes from the same covariates
    bundle = ModelBundle.load(cohort["bundle_dir"])
    c = load_cohort(cohort["dir"])
    ex = examples_from_tables({k: c.table(k) for k in ("patients", "treatments", "outcomes")}, schema=bundle.schema,
                              covariates=bundle.metadata["covariates"])
    risk = pd.Series(_predict(bundle, ex.X)["survival"]["pfs"]["risk"], index=ex.patient_ids)
    got = rows.merge(pd.DataFrame({"patient_id": ex.patient_ids, "regimen": ex.regimen}), on=["patient_id", "regimen"])
    assert len(got) == 360
    np.testing.assert_allclose(got["pfs_risk"].to_numpy(), risk.loc[got["patient_id"]].to_numpy(), rtol=1e-9)


def test_cohort_score_refuses_a_cohort_without_a_covariate_column(cohort, tmp_path):
    from cohorts.score import score_cohort

    tables = breast_tables(30)
    tables["patients"] = tables["patients"].drop(columns=["positive_nodes"])
    write_cohort(tmp_path / "c", tables, name="c", licence=Licence(name="CC0-1.0"),
                 provenance=Provenance(source="t", loader="t"))
    with pytest.raises(CohortError, match="positive_nodes"):
        score_cohort(tmp_path / "c", tmp_path / "s.parquet", bundle=cohort["bundle_dir"], progress=False,
                     treatments=["tamoxifen"])
    s = score_cohort(tmp_path / "c", tmp_path / "s.parquet", bundle=cohort["bundle_dir"], progress=False,
                     treatments=["tamoxifen"], fill_missing_covariates=True)
    assert any("training medians" in w for w in s.warnings)


# -- fine survival grid ---------------------------------------------------------------------------------
def test_display_grid_matches_full_resolution_metrics_to_1e3(cohort):
    """Curves on the bundle's display grid give C^td and IBS within 1e-3 of the exact step function."""
    bundle = ModelBundle.load(cohort["bundle_dir"])
    c = load_cohort(cohort["dir"])
    ex = examples_from_tables({k: c.table(k) for k in ("patients", "treatments", "outcomes")}, schema=bundle.schema,
                              covariates=bundle.metadata["covariates"])
    model = bundle.survival["pfs"]["boosted"]
    t, e = ex.time["pfs"], ex.event["pfs"]
    full = survival_metrics(t, e, model.predict_risk(ex.X), model.predict_survival_full(ex.X))
    shown = survival_metrics(t, e, model.predict_risk(ex.X), model.predict_survival(ex.X))
    assert model.predict_survival(ex.X).shape[1] <= 200
    assert abs(full["antolini_c_td"] - shown["antolini_c_td"]) < 1e-3
    assert abs(full["integrated_brier_score"] - shown["integrated_brier_score"]) < 1e-3


def test_cohort_score_reads_er_status_from_the_patients_table_for_any_bundle():
    """Regression: ``cohort score`` never passed ER status to the features (tamoxifen ranked first for ER-)."""
    from cohorts.score import _chunk_covariates
    from recommender.models.defaults import load_default_bundle

    bundle = load_default_bundle()
    pts = pd.DataFrame({"patient_id": ["a", "b", "c"], "er_positive": [True, False, None]})
    covs = _chunk_covariates(bundle, pts, {"a", "b", "c"})
    assert covs["a"]["er_positive"] is True and covs["b"]["er_positive"] is False and "er_positive" not in covs["c"]
    from recommender.features import build_feature_frame
    from recommender.schema import Patient

    pats = [Patient(patient_id=p, demographics={"sex": "female"}, diagnosis={"cancer_type": "BRCA"}) for p in "abc"]
    X = build_feature_frame(pats, ["tamoxifen"], covariates=covs, schema=bundle.schema)
    assert X["bm_er_positive"].tolist()[:2] == [1.0, 0.0] and np.isnan(X["bm_er_positive"].iloc[2])
