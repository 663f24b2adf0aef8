"""Gradient-boosted accelerated failure time model (xgboost ``survival:aft``) in the product's Cox-form contract.

:class:`BoostedAFT` boosts ``log T = f(x) + sigma * eps`` (``eps`` normal, logistic or extreme; interval-censored
likelihood of Barnwal, Cho and Hocking 2022, J Comput Graph Stat 31:3), with early stopping on a held-out
stratified share of the rows (``aft-nloglik``). Its risk score is ``-f(x)`` (shorter predicted time = higher
risk); like every survival model of the product, curves come from one Breslow baseline of that score, so the
model blends and recalibrates with the others (:class:`~recommender.models.survival.BlendedSurvival`).
Saved as UBJSON (booster) + JSON, like :class:`~recommender.models.survival.BoostedSurvival`.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, StrOptions

from recommender.models._survival_input import validate_survival_fit
from recommender.models.response import booster_params
from recommender.models.survival import BOOSTER_CONSTRAINTS, _BoosterPersistence, _SurvivalBase

__all__ = ["AFT_DISTRIBUTIONS", "BoostedAFT"]

AFT_DISTRIBUTIONS = ("normal", "logistic", "extreme")


class BoostedAFT(_BoosterPersistence, _SurvivalBase):
    """xgboost ``survival:aft`` booster; risk = minus the predicted log survival time.

    Parameters
    ----------
    n_estimators, max_depth, learning_rate, subsample, colsample_bytree, min_child_weight, reg_lambda
        xgboost parameters (as :class:`~recommender.models.survival.BoostedSurvival`).
    distribution : {"normal", "logistic", "extreme"}
        Distribution of the AFT error term.
    distribution_scale : float
        Its scale ``sigma``.
    early_stopping_rounds : int
    validation_fraction : float
        Stratified share of the rows held out for early stopping (none when fewer than 10 rows or events).
    random_state, n_jobs : int
    """

    #: scikit-learn parameter validation (checked by ``fit``).
    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's convention
        **BOOSTER_CONSTRAINTS,
        "distribution": [StrOptions(set(AFT_DISTRIBUTIONS))],
        "distribution_scale": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, n_estimators: int = 1000, max_depth: int = 2, learning_rate: float = 0.03,
                 subsample: float = 0.8, colsample_bytree: float = 0.8, min_child_weight: float = 5.0,
                 reg_lambda: float = 1.0, distribution: str = "normal", distribution_scale: float = 1.0,
                 early_stopping_rounds: int = 50, validation_fraction: float = 0.25, random_state: int = 0,
                 n_jobs: int = 1) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.distribution = distribution
        self.distribution_scale = distribution_scale
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any, event: Any = None, sample_weight: Any = None) -> BoostedAFT:
        """Fit on ``X`` and a survival ``y`` (structured ``(event, time)``, or ``fit(X, time, event)``)."""
        import xgboost as xgb

        frame, time, ev, w = validate_survival_fit(self, X, y, event, sample_weight, min_events=2)
        names = [str(c) for c in frame.columns]
        floor = max(float(np.min(time[time > 0])) / 2 if (time > 0).any() else 1.0, 1e-6)
        lower = np.maximum(time, floor)
        upper = np.where(ev, lower, np.inf)  # right-censored: the event is after the last follow-up
        idx = np.arange(len(time))
        tr, va = (train_test_split(idx, test_size=self.validation_fraction, stratify=ev,
                                   random_state=self.random_state)
                  if len(idx) * self.validation_fraction >= 10 and ev.sum() >= 10 else (idx, idx[:0]))
        X_np = frame.to_numpy(dtype="float64")

        def dmatrix(rows: np.ndarray) -> Any:
            d = xgb.DMatrix(X_np[rows], weight=w[rows], feature_names=names, missing=np.nan, nthread=int(self.n_jobs))
            d.set_float_info("label_lower_bound", lower[rows])
            d.set_float_info("label_upper_bound", upper[rows])
            return d

        params = {**booster_params(self, "survival:aft", "aft-nloglik"),
                  "aft_loss_distribution": self.distribution,
                  "aft_loss_distribution_scale": float(self.distribution_scale),
                  # start from the geometric mean time: with the default start some distributions never move
                  "base_score": float(np.exp(np.mean(np.log(lower[tr]))))}
        evals, kwargs = [], {}
        if len(va):
            evals, kwargs = [(dmatrix(va), "validation")], {"early_stopping_rounds": int(self.early_stopping_rounds)}
        record: dict[str, Any] = {}
        booster = xgb.train(params, dmatrix(tr), num_boost_round=int(self.n_estimators), evals=evals,
                            evals_result=record, verbose_eval=False, **kwargs)
        self._keep_booster(booster, names, time, ev, len(va), record, "aft-nloglik")
        self._fit_baseline(frame, time, ev, w)
        return self

    def predict_log_time(self, X: Any) -> np.ndarray:
        """The predicted location of ``log T`` per row (the AFT model's own output)."""
        return -self.predict_risk(X)

    def _lp(self, frame: pd.DataFrame) -> np.ndarray:
        margin = self.booster_.inplace_predict(frame.to_numpy(dtype="float64"), predict_type="margin",
                                               missing=np.nan, iteration_range=(0, self.best_iteration_ + 1),
                                               validate_features=False)
        return -np.asarray(margin, dtype="float64")
