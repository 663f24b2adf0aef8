"""Calibrated boosted classifier: recovers a known signal, calibrates, follows the sklearn contract."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.utils import estimator_checks as checks

from genomics.errors import ModelError
from recommender.models import CalibratedBoostedClassifier, FeatureSchemaMismatchError, ResponseModel
from tests.recommender._model_support import toy_matrix

FAST = {"n_estimators": 150, "learning_rate": 0.1, "max_depth": 3}


@pytest.fixture(scope="module")
def fitted():
    X, y = toy_matrix(1500, seed=1)
    tr, te = slice(0, 1100), slice(1100, None)
    model = ResponseModel(**FAST).fit(X.iloc[tr], y[tr])
    return model, X.iloc[te], y[te], y[tr].mean()


def test_beats_prevalence_baseline_and_ranks_well(fitted):
    model, X, y, prev = fitted
    p = model.predict_proba(X)[:, 1]
    truth = -2.5 + 2.0 * X["fluoropyrimidine"] * (2.0 - X["dpyd_as"]) + 0.03 * (X["age"].fillna(62) - 62)
    oracle = roc_auc_score(y, truth)
    assert roc_auc_score(y, p) > max(0.7, oracle - 0.04)
    assert roc_auc_score(y, X["noise"]) < 0.6  # the baseline the model must beat is real
    assert brier_score_loss(y, p) < brier_score_loss(y, np.full(len(y), prev)) * 0.9
    assert model.calibration_ == "sigmoid"  # "auto" with < 1000 validation rows


def test_contribution_direction_dpyd_deficit_under_fluoropyrimidine(fitted):
    model, X, _, _ = fitted
    rows = X.copy()
    rows["fluoropyrimidine"] = 1.0
    rows["dpyd_as"] = 0.5
    low = model.contributions(rows)["dpyd_as"].mean()
    rows["dpyd_as"] = 2.0
    normal = model.contributions(rows)["dpyd_as"].mean()
    assert low > 0.3 > normal  # deficit raises the log-odds
    c = model.contributions(X)
    np.testing.assert_allclose(c.sum(axis=1).to_numpy(), model.decision_function(X), rtol=1e-4, atol=1e-4)
    # and the model's probability follows: same patients, deficient vs normal DPYD
    rows["dpyd_as"] = 0.5
    p_def = model.predict_proba(rows)[:, 1].mean()
    rows["dpyd_as"] = 2.0
    assert p_def > model.predict_proba(rows)[:, 1].mean() + 0.2


def test_isotonic_and_no_calibration_paths():
    X, y = toy_matrix(900, seed=2)
    iso = CalibratedBoostedClassifier(**FAST, calibration="isotonic").fit(X, y)
    none = CalibratedBoostedClassifier(**FAST, calibration="none").fit(X, y)
    assert iso.calibration_ == "isotonic" and set(iso.calibrator_) == {"x", "y"}
    assert none.calibration_ == "none"
    for m in (iso, none):
        p = m.predict_proba(X)
        assert p.shape == (len(X), 2) and np.all((p >= 0) & (p <= 1))
    with pytest.raises(ValueError, match="calibration"):
        CalibratedBoostedClassifier(calibration="platt").fit(X, y)


def test_unfitted_model_raises_sklearn_and_project_error():
    X, _ = toy_matrix(20)
    with pytest.raises(NotFittedError) as info:
        ResponseModel().predict_proba(X)
    assert isinstance(info.value, ModelError) and "not fitted" in str(info.value) and "fix:" in str(info.value)


def test_single_class_refused():
    X, _ = toy_matrix(50)
    with pytest.raises(ValueError, match="both classes"):
        ResponseModel().fit(X, np.zeros(len(X)))


def test_wrong_columns_refused(fitted):
    model, X, _, _ = fitted
    with pytest.raises(FeatureSchemaMismatchError, match="missing"):
        model.predict_proba(X.drop(columns=["age"]))
    with pytest.raises(FeatureSchemaMismatchError):
        model.predict_proba(X.to_numpy()[:, :3])
    # a DataFrame with the columns in another order is realigned
    np.testing.assert_allclose(model.predict_proba(X[X.columns[::-1]]), model.predict_proba(X))


def test_save_load_round_trip_without_pickle(fitted, tmp_path):
    model, X, _, _ = fitted
    paths = model.save(tmp_path, "response")
    assert sorted(p.suffix for p in paths) == [".json", ".ubj"]
    back = ResponseModel.load(tmp_path, "response")
    np.testing.assert_allclose(back.predict_proba(X), model.predict_proba(X), rtol=1e-6)
    assert back.get_params() == model.get_params()


def test_sklearn_contract_subset():
    est = ResponseModel(n_estimators=20)
    name = type(est).__name__
    checks.check_parameters_default_constructible(name, est)
    checks.check_no_attributes_set_in_init(name, est)
    checks.check_get_params_invariance(name, est)
    checks.check_set_params(name, est)
    checks.check_estimator_cloneable(name, est)
    X, y = toy_matrix(200)
    assert est.fit(X, y) is est
    assert clone(est).get_params() == est.get_params()
    assert est.set_params(max_depth=2).max_depth == 2
