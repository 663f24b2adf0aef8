"""Propensity weighting, bootstrap intervals and the out-of-distribution check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from recommender.models import BootstrapEnsemble, OodDetector, PropensityModel, ResponseModel
from tests.recommender._model_support import toy_matrix


def _confounded(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"kras": (rng.random(n) < 0.4).astype(float), "ecog": rng.choice([0.0, 1.0, 2.0], n),
                      "const": 1.0})
    p_pani = np.where(X["kras"] == 1, 0.05, 0.6)
    t = np.where(rng.random(n) < p_pani, "FOLFOX+panitumumab", "FOLFOX")
    return X, t, p_pani


def test_propensity_recovers_assignment_and_weights_upweight_rare_choices():
    X, t, p_true = _confounded()
    m = PropensityModel(C=10.0).fit(X, t)
    p = m.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert np.abs(p["FOLFOX+panitumumab"].to_numpy() - p_true).mean() < 0.05
    w = m.weights(X, t)
    rare = (X["kras"] == 1).to_numpy() & (t == "FOLFOX+panitumumab")
    common = (X["kras"] == 1).to_numpy() & (t == "FOLFOX")
    assert w[rare].mean() > 3 * w[common].mean()
    assert w.max() <= m.max_weight and w.min() >= 1 / m.max_weight
    # weighted, the KRAS share among panitumumab patients approaches the population share (0.4)
    pani = t == "FOLFOX+panitumumab"
    raw = X["kras"].to_numpy()[pani].mean()
    weighted = np.average(X["kras"].to_numpy()[pani], weights=w[pani])
    assert raw < 0.1 and weighted > 0.3
    with pytest.raises(ValueError, match="not seen"):
        m.weights(X.iloc[:1], ["olaparib"])


def test_propensity_round_trip(tmp_path):
    X, t, _ = _confounded(300)
    m = PropensityModel().fit(X, t)
    m.save(tmp_path)
    back = PropensityModel.load(tmp_path)
    pd.testing.assert_frame_equal(back.predict_proba(X), m.predict_proba(X))


def test_ood_flags_far_points_unseen_categories_and_notes_missing():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"age": rng.normal(60, 8, 500), "albumin": rng.normal(38, 4, 500),
                      "tx_drug_x": 0.0, "pgx_a__missing": 0.0, "cancer_a": (rng.random(500) < 0.5).astype(float)})
    det = OodDetector(distance_columns=["age", "albumin", "cancer_a"],
                      labels={"tx_drug_x": "treatment includes x", "pgx_a__missing": "A not known"}).fit(X)
    typical = det.check(X.iloc[:50])
    assert np.mean([r.flag for r in typical]) < 0.1
    rows = pd.DataFrame([
        {"age": 130.0, "albumin": 38.0, "tx_drug_x": 0.0, "pgx_a__missing": 0.0, "cancer_a": 1.0},
        {"age": 60.0, "albumin": 38.0, "tx_drug_x": 1.0, "pgx_a__missing": 0.0, "cancer_a": 1.0},
        {"age": 60.0, "albumin": 38.0, "tx_drug_x": 0.0, "pgx_a__missing": 1.0, "cancer_a": 0.0},
    ])
    far, drug, missing = det.check(rows)
    assert far.flag and far.percentile == 100 and any("outside the training range" in r for r in far.reasons)
    assert drug.flag and "treatment includes x: never seen in the training data" in drug.reasons
    assert not missing.flag and missing.notes and "A not known" in missing.notes[0]


def test_ood_round_trip(tmp_path):
    X = pd.DataFrame(np.random.default_rng(1).normal(size=(200, 3)), columns=["a", "b", "c"])
    det = OodDetector().fit(X)
    det.save(tmp_path)
    back = OodDetector.load(tmp_path)
    assert [r.distance for r in back.check(X.iloc[:5])] == pytest.approx([r.distance for r in det.check(X.iloc[:5])])


def test_bootstrap_interval_brackets_the_point_estimate_and_round_trips(tmp_path):
    X, y = toy_matrix(800, seed=4)
    params = {"n_estimators": 80, "learning_rate": 0.1}
    main = ResponseModel(**params).fit(X, y)
    ens = BootstrapEnsemble(ResponseModel(**params), n_bootstrap=8, random_state=1).fit(X, y, stratify=y)
    med, lo, hi = ens.interval_of(lambda m: m.predict_proba(X.iloc[:200])[:, 1])
    p = main.predict_proba(X.iloc[:200])[:, 1]
    assert np.all(lo <= med) and np.all(med <= hi)
    assert np.mean((p >= lo - 0.02) & (p <= hi + 0.02)) > 0.8
    assert len({id(e) for e in ens.estimators_}) == 8 and (hi - lo).mean() > 0
    ens.save(tmp_path, "ens")
    back = BootstrapEnsemble.load(tmp_path, "ens", {"ResponseModel": ResponseModel})
    b_med, _, _ = back.interval_of(lambda m: m.predict_proba(X.iloc[:200])[:, 1])
    np.testing.assert_allclose(b_med, med, rtol=1e-6)
    with pytest.raises(NotFittedError):
        BootstrapEnsemble(ResponseModel()).predictions(lambda m: m.predict_proba(X))


def test_values_never_missing_in_training_are_imputed_and_reported():
    X = pd.DataFrame({"bmi": [20.0, 25.0, 30.0, 26.0], "tmb": [np.nan, 5.0, np.nan, 7.0]})
    det = OodDetector(labels={"bmi": "BMI"}).fit(X)
    filled, notes = det.impute_unseen_missing(pd.DataFrame({"bmi": [np.nan, 22.0], "tmb": [np.nan, np.nan]}))
    assert filled.loc[0, "bmi"] == 25.5 and filled.loc[1, "bmi"] == 22.0
    assert np.isnan(filled.loc[0, "tmb"])  # missing in training too: the model knows what to do with NaN
    assert notes == [["BMI not known: training median 25.5 used"], []]


def test_overlap_reports_recipients_unlikely_to_receive_their_treatment():
    rng = np.random.default_rng(3)
    marker = rng.random(600) < 0.3
    X = pd.DataFrame({"bm_marker": marker.astype(float), "age": rng.normal(60, 8, 600)})
    # the targeted drug goes to marker carriers, with rare exceptions (poor overlap for non-carriers)
    t = np.where(marker, np.where(rng.random(600) < 0.95, "targeted", "chemo"),
                 np.where(rng.random(600) < 0.02, "targeted", "chemo"))
    ov = PropensityModel(C=10.0).fit(X, t).overlap(X, t, threshold=0.05)
    assert set(ov) == {"targeted", "chemo"}
    assert ov["targeted"]["n"] == int((t == "targeted").sum())
    assert ov["targeted"]["share_below"] > 0 and ov["targeted"]["p_received_min"] < 0.05
    assert ov["chemo"]["share_below"] <= ov["targeted"]["share_below"]
