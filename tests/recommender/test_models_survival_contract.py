"""The survival estimators follow scikit-learn's estimator contract with scikit-survival's structured ``y``.

scikit-learn's ``parametrize_with_checks`` generates a 1-D numeric ``y`` (it knows classifiers and regressors,
not survival targets), and a survival estimator refuses a 1-D ``y`` on purpose. The checks therefore run on
thin test subclasses whose ``fit``/``score`` turn the generated ``y`` into a survival target (each value a
time, every row an observed event: :func:`_generated_survival_y`); everything else -- parameter validation,
``validate_data``, tags, fitted attributes, pickling, cloning, NaN handling, the NotFittedError -- is the
product class's own. The checks still failing are listed with the reason. scikit-survival itself runs no
``check_estimator`` over its estimators; its own contract tests (pipelines, ``cross_val_score``,
``GridSearchCV`` with a structured ``y``) are mirrored below.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks

from recommender.models import survival_target
from recommender.models.survival import BlendedSurvival, BoostedSurvival, CoxBaseline, NeuralCox
from recommender.models.survival_aft import BoostedAFT
from recommender.models.survival_forest import SurvivalForest


def _generated_survival_y(y):
    """sklearn's generated 1-D ``y`` as a survival target: time ``1 + y - min(y)``, every row an event."""
    if y is None:
        return None
    arr = np.asarray(y)
    if arr.dtype.names is not None:
        return arr
    v = arr.astype("float64")
    v = v if v.ndim == 1 else v[:, 0]
    return survival_target(np.ones(len(v), dtype=bool), 1.0 + v - (v.min() if len(v) else 0.0))


class _GeneratedY:
    def fit(self, X, y, event=None, sample_weight=None):
        return super().fit(X, _generated_survival_y(y), sample_weight=sample_weight)

    def score(self, X, y, sample_weight=None):
        return super().score(X, _generated_survival_y(y))


class CoxBaselineChecked(_GeneratedY, CoxBaseline):
    """CoxBaseline with sklearn's generated y made a survival target (test only)."""


class BoostedSurvivalChecked(_GeneratedY, BoostedSurvival):
    """BoostedSurvival with sklearn's generated y made a survival target (test only)."""


class NeuralCoxChecked(_GeneratedY, NeuralCox):
    """NeuralCox with sklearn's generated y made a survival target (test only)."""


class BlendedSurvivalChecked(_GeneratedY, BlendedSurvival):
    """BlendedSurvival with sklearn's generated y made a survival target (test only)."""


class SurvivalForestChecked(_GeneratedY, SurvivalForest):
    """SurvivalForest with sklearn's generated y made a survival target (test only)."""


class BoostedAFTChecked(_GeneratedY, BoostedAFT):
    """BoostedAFT with sklearn's generated y made a survival target (test only)."""


_WEIGHTS_REASON = {
    CoxBaselineChecked: "imputation medians, means and scales are unweighted (a repeated row shifts them, a "
                        "weight does not) and lifelines' Efron ties treat a repeated row unlike a weight of 2",
    BoostedSurvivalChecked: "fit holds out a random validation split for early stopping: repeating a row "
                            "(weight 2) changes which rows are held out",
    NeuralCoxChecked: "fit holds out a random stratified validation split for early stopping and the imputation "
                      "statistics are unweighted: repeating a row changes both",
    BlendedSurvivalChecked: "inherits its members' behaviour (Cox and boosted, see theirs)",
    SurvivalForestChecked: "bootstrap samples draw rows, not weight: a repeated row can be drawn twice, a weight "
                           "of 2 cannot, so the trees differ",
    BoostedAFTChecked: "fit holds out a random validation split for early stopping: repeating a row (weight 2) "
                       "changes which rows are held out",
}


def _expected_failed(est):
    return {"check_sample_weight_equivalence_on_dense_data": _WEIGHTS_REASON[type(est)]}


@parametrize_with_checks(
    [CoxBaselineChecked(), BoostedSurvivalChecked(n_estimators=10),
     NeuralCoxChecked(hidden=4, max_epochs=5, patience=2),
     BlendedSurvivalChecked(members=[CoxBaseline(), BoostedSurvival(n_estimators=10)]),
     SurvivalForestChecked(n_estimators=10), BoostedAFTChecked(n_estimators=20)],
    expected_failed_checks=_expected_failed)
def test_survival_estimators_pass_sklearn_checks(estimator, check):
    check(estimator)


# ------------------------------------------------------------------------------------------------ real targets
def _data(n=240, seed=0, nan=False):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.normal(size=n)})
    t = rng.exponential(np.exp(-(X["a"] - 0.5 * X["b"]).to_numpy()))
    c = rng.exponential(1.5, n)
    if nan:
        X.loc[X.sample(frac=0.1, random_state=seed).index, "c"] = np.nan
    return X, survival_target(t <= c, np.minimum(t, c))


ESTIMATORS = [CoxBaseline(), BoostedSurvival(n_estimators=40), NeuralCox(hidden=8, max_epochs=40),
              BlendedSurvival(members=[CoxBaseline(), BoostedSurvival(n_estimators=40)])]
_ids = [type(e).__name__ for e in ESTIMATORS]


@pytest.mark.parametrize("est", ESTIMATORS, ids=_ids)
def test_a_scikit_survival_target_is_taken_as_is(est):
    sksurv_util = pytest.importorskip("sksurv.util")
    X, y = _data()
    y_sk = sksurv_util.Surv.from_arrays(event=y["event"], time=y["time"])
    a = clone(est).fit(X, y_sk)
    b = clone(est).fit(X, y["time"], y["event"])  # the package's older (time, event) form still works
    np.testing.assert_allclose(a.predict_risk(X), b.predict_risk(X))
    assert sorted(n for n in vars(a) if n.endswith("_") and not n.startswith("_"))  # fitted attributes end in _
    assert get_tags(a).target_tags.required and get_tags(a).input_tags.allow_nan


@pytest.mark.parametrize("est", ESTIMATORS, ids=_ids)
def test_pipeline_and_cross_validation_with_a_survival_scorer(est):
    sksurv_metrics = pytest.importorskip("sksurv.metrics")
    X, y = _data(nan=True)  # NaN allowed: imputed or routed by each model

    def harrell_c(estimator, X_, y_):  # scikit-survival's implementation, not ours
        return sksurv_metrics.concordance_index_censored(y_["event"], y_["time"], estimator.predict(X_))[0]

    pipe = make_pipeline(StandardScaler(), clone(est))
    scores = cross_val_score(pipe, X, y, cv=KFold(3, shuffle=True, random_state=0), scoring=harrell_c)
    own = cross_val_score(pipe, X, y, cv=KFold(3, shuffle=True, random_state=0))  # est.score: lifelines' C
    assert scores.shape == (3,) and (scores > 0.6).all(), scores
    np.testing.assert_allclose(own, scores, atol=1e-9)


def test_grid_search_over_a_structured_target():
    X, y = _data()
    gs = GridSearchCV(CoxBaseline(), {"penalizer": [0.01, 1.0]}, cv=3).fit(X, y)
    assert gs.best_params_["penalizer"] in (0.01, 1.0) and gs.best_score_ > 0.6


@pytest.mark.parametrize("est", ESTIMATORS, ids=_ids)
def test_a_one_dimensional_y_is_refused_with_what_to_give(est):
    X, y = _data(n=60)
    with pytest.raises(ValueError, match="structured array with a boolean event field"):
        clone(est).fit(X, y["time"].tolist())
    with pytest.raises(ValueError, match="structured array with a boolean event field"):
        clone(est).fit(X, y["time"])


@pytest.mark.parametrize("est", ESTIMATORS, ids=_ids)
def test_an_unfitted_estimator_raises_a_clear_not_fitted_error(est):
    X, _ = _data(n=20)
    with pytest.raises(NotFittedError, match=f"this {type(est).__name__} is not fitted yet"):
        clone(est).predict_survival(X)


@pytest.mark.parametrize(("est", "bad"), [
    (CoxBaseline(penalizer=-1.0), "penalizer"), (BoostedSurvival(max_depth=0), "max_depth"),
    (NeuralCox(dropout=1.5), "dropout"), (BlendedSurvival(members=[CoxBaseline()], scale=0.0), "scale")],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__)
def test_invalid_parameters_are_refused_by_fit(est, bad):
    X, y = _data(n=60)
    with pytest.raises(ValueError, match=f"'{bad}' parameter"):
        est.fit(X, y)


@pytest.mark.parametrize("est", [CoxBaseline(), BoostedSurvival(n_estimators=10)], ids=["CoxBaseline", "Boosted"])
def test_bad_targets_and_infinite_inputs_are_refused(est):
    X, y = _data(n=60)
    neg = y.copy()
    neg["time"][0] = -1.0
    with pytest.raises(ValueError, match="must not be negative"):
        clone(est).fit(X, neg)
    censored = y.copy()
    censored["event"] = False
    with pytest.raises(ValueError, match="all samples are censored"):
        clone(est).fit(X, censored)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clone(est).fit(X, y[:-1])
    bad = X.copy()
    bad.iloc[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        clone(est).fit(bad, y)
    fitted = clone(est).fit(X, y)
    with pytest.raises(ValueError, match="infinity"):
        fitted.predict_risk(bad)
