"""Survival models: lifelines Cox baseline and xgboost survival:cox, curves, medians, JSON round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from recommender.models import BoostedSurvival, CoxBaseline
from recommender.models.survival import breslow

FAST = {"n_estimators": 150, "learning_rate": 0.1, "max_depth": 2}


def _data(n=800, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"risk": rng.normal(size=n), "treat": (rng.random(n) < 0.5).astype(float),
                      "marker": (rng.random(n) < 0.4).astype(float), "noise": rng.normal(size=n)})
    X.loc[rng.random(n) < 0.05, "noise"] = np.nan
    lp = 0.8 * X["risk"] - 1.0 * X["treat"] * X["marker"]
    t = rng.exponential(365 / np.exp(lp))
    c = rng.uniform(100, 1500, n)
    return X, np.minimum(t, c), t <= c, lp.to_numpy()


@pytest.fixture(scope="module")
def models():
    X, t, e, _ = _data(900, 0)
    return CoxBaseline().fit(X, t, e), BoostedSurvival(**FAST).fit(X, t, e)


def test_both_models_beat_chance_and_recover_directions(models):
    cox, boosted = models
    X, t, e, lp = _data(600, 1)
    y = np.column_stack([t, e])
    from lifelines.utils import concordance_index

    oracle = concordance_index(t, -lp, e)
    assert cox.score(X, y) > max(0.62, oracle - 0.04)
    assert boosted.score(X, y) > max(0.6, oracle - 0.06)
    hr = cox.hazard_ratios()
    assert hr["risk"] > 1.5 and abs(np.log(hr["noise"])) < 0.2
    # treatment helps marker-positive patients: lower predicted risk when treated
    pos = X.assign(marker=1.0)
    assert (boosted.predict_risk(pos.assign(treat=1.0)) < boosted.predict_risk(pos.assign(treat=0.0))).mean() > 0.8


def test_curves_are_monotone_probabilities_and_medians_consistent(models):
    X, _, _, _ = _data(50, 2)
    for m in models:
        curves = m.predict_survival(X)
        v = curves.to_numpy()
        assert np.all((v >= 0) & (v <= 1)) and np.all(np.diff(v, axis=1) <= 1e-12)
        assert v[:, 0].min() > 0.99
        med = m.predict_median(X)
        # at the median the curve crosses 0.5
        ok = ~np.isnan(med)
        assert ok.sum() > 25
        s_at = np.array([m.predict_survival(X.iloc[[i]], [med[i]]).iloc[0, 0] for i in np.flatnonzero(ok)[:10]])
        assert np.all(s_at <= 0.5 + 1e-9)
        # higher risk -> shorter median
        r = m.predict_risk(X)
        hi, lo = np.argmax(np.where(ok, r, -np.inf)), np.argmin(np.where(ok, r, np.inf))
        assert med[hi] < med[lo]


def test_median_not_reached_is_nan():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"x": rng.normal(size=300)})
    event_time = rng.exponential(1000 / np.log(2), 300)  # median 1000 days, follow-up 100 days
    t, e = np.minimum(event_time, 100.0), event_time <= 100.0
    m = CoxBaseline().fit(X, t, e)
    assert np.isnan(m.predict_median(X)).all()


def test_breslow_matches_nelson_aalen_without_covariates():
    t = np.array([1.0, 2.0, 2.0, 3.0, 4.0, 5.0])
    e = np.array([True, True, False, True, False, True])
    times, H = breslow(t, e, np.zeros(6))
    np.testing.assert_allclose(times, [1, 2, 3, 5])
    np.testing.assert_allclose(H, np.cumsum([1 / 6, 1 / 5, 1 / 3, 1 / 1]))


def test_cox_matches_lifelines_own_prediction():
    from lifelines import CoxPHFitter

    X, t, e, _ = _data(300, 4)
    X = X.drop(columns=["noise"])
    ours = CoxBaseline(penalizer=0.0).fit(X, t, e)
    Z = (X - X.mean()) / X.std(ddof=0)
    ref = CoxPHFitter().fit(Z.assign(T=t, E=e), "T", "E")
    np.testing.assert_allclose(ours.coef_.to_numpy(), ref.params_.to_numpy(), rtol=1e-4, atol=1e-5)
    grid = ours.baseline_times_[[10, 50, 100]]  # event times: lifelines interpolates between them
    theirs = ref.predict_survival_function(Z.iloc[:5], times=grid).T.to_numpy()
    np.testing.assert_allclose(ours.predict_survival(X.iloc[:5], grid).to_numpy(), theirs, atol=2e-3)


def test_json_round_trip(models, tmp_path):
    X, _, _, _ = _data(40, 5)
    for m, cls, name in ((models[0], CoxBaseline, "cox"), (models[1], BoostedSurvival, "boosted")):
        paths = m.save(tmp_path, name)
        assert all(p.suffix in (".json", ".ubj") for p in paths)
        back = cls.load(tmp_path, name)
        np.testing.assert_allclose(back.predict_survival(X).to_numpy(), m.predict_survival(X).to_numpy(), rtol=1e-6)
        np.testing.assert_allclose(back.predict_median(X), m.predict_median(X))


def test_unfitted_and_target_errors():
    X, t, e, _ = _data(30, 6)
    with pytest.raises(NotFittedError):
        CoxBaseline().predict_median(X)
    with pytest.raises(NotFittedError):
        BoostedSurvival().predict_survival(X)
    with pytest.raises(ValueError, match="events"):
        BoostedSurvival().fit(X, t, np.zeros(len(t), dtype=bool))
    assert BoostedSurvival(**FAST).fit(X, pd.DataFrame({"time": t, "event": e})).n_features_in_ == 4
