"""Gradient-boosted accelerated failure time model (xgboost ``survival:aft``) in the product's Cox-form contract.

:class:`BoostedAFT` boosts ``log T = f(x) + sigma * eps`` (``eps`` normal, logistic or extreme; interval-censored
likelihood of Barnwal, Cho and Hocking 2022, J Comput Graph Stat 31:3), with early stopping on a held-out
stratified share of the rows (``aft-nloglik``). Its risk score is ``-f(x)`` (shorter predicted time = higher
risk); like every survival model of the product, :meth:`~BoostedAFT.predict_survival` is one Breslow baseline of
that score, so the model blends and recalibrates with the others
(:class:`~recommender.models.survival.BlendedSurvival`). Its own curves, ``S(t) = S_eps((log t - f(x)) / sigma)``
with ``sigma`` fitted on the early-stopping rows, are :meth:`~BoostedAFT.predict_survival_native`.
Saved as UBJSON (booster) + JSON, like :class:`~recommender.models.survival.BoostedSurvival`.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, StrOptions

from recommender.models._base import check_fitted
from recommender.models._survival_input import validate_survival_fit
from recommender.models.response import booster_params
from recommender.models.survival import BOOSTER_CONSTRAINTS, _BoosterPersistence, _SurvivalBase

__all__ = ["AFT_DISTRIBUTIONS", "BoostedAFT", "fit_aft_scale"]

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
        # the scale of the model's own (non proportional-hazards) curves: fitted on the early-stopping rows,
        # which the trees were not grown on (on all rows when there are none)
        rows = va if len(va) else tr
        mu = -self._lp(frame.iloc[rows])
        self.native_scale_ = fit_aft_scale(np.log(lower[rows]), ev[rows], mu, self.distribution, w[rows])
        self.native_scale_rows_ = len(rows)
        return self

    def predict_survival_native(self, X: Any, times: Any = None) -> pd.DataFrame:
        """The AFT model's own survival curves: ``S(t | x) = S_eps((log t - f(x)) / sigma)``.

        ``f(x)`` is the booster's predicted location of ``log T`` and ``sigma`` (``native_scale_``) the
        maximum-likelihood scale of the error distribution on the early-stopping rows. These curves are not
        proportional-hazards (log-normal, log-logistic or Weibull in ``t``), unlike :meth:`predict_survival`.
        """
        check_fitted(self, "native_scale_")
        mu = self.predict_log_time(X)
        grid = np.asarray(self.time_grid_ if times is None else times, dtype="float64")
        with np.errstate(divide="ignore"):
            z = (np.log(np.maximum(grid, 0.0))[None, :] - mu[:, None]) / self.native_scale_
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(_error_survival(z, self.distribution), columns=grid, index=index)

    def _extra_meta(self) -> dict[str, Any]:
        return {"native_scale": getattr(self, "native_scale_", None),
                "native_scale_rows": getattr(self, "native_scale_rows_", None)}

    def _restore_extra(self, meta: dict[str, Any]) -> None:
        if meta.get("native_scale") is not None:  # AFT models saved before native curves have none
            scale = float(meta["native_scale"])
            if not np.isfinite(scale) or scale <= 0:
                from recommender.models._base import BundleIntegrityError

                raise BundleIntegrityError("the AFT model's native scale is not a positive number",
                                           field="native_scale", fix="rebuild the model bundle")
            self.native_scale_ = scale
            self.native_scale_rows_ = meta.get("native_scale_rows")

    def predict_log_time(self, X: Any) -> np.ndarray:
        """The predicted location of ``log T`` per row (the AFT model's own output)."""
        return -self.predict_risk(X)

    def _lp(self, frame: pd.DataFrame) -> np.ndarray:
        margin = self.booster_.inplace_predict(frame.to_numpy(dtype="float64"), predict_type="margin",
                                               missing=np.nan, iteration_range=(0, self.best_iteration_ + 1),
                                               validate_features=False)
        return -np.asarray(margin, dtype="float64")


def _error_survival(z: np.ndarray, distribution: str) -> np.ndarray:
    """``P(eps > z)`` of xgboost's AFT error distributions (normal, logistic, extreme = Gumbel minimum)."""
    from scipy.special import expit, ndtr

    if distribution == "normal":
        return ndtr(-z)
    if distribution == "logistic":
        return expit(-z)
    with np.errstate(over="ignore"):
        return np.exp(-np.exp(np.clip(z, -700, 700)))


def _error_log_density(z: np.ndarray, distribution: str) -> np.ndarray:
    if distribution == "normal":
        return -0.5 * z**2 - 0.5 * np.log(2 * np.pi)
    if distribution == "logistic":
        return -z - 2 * np.logaddexp(0.0, -z)
    return z - np.exp(np.clip(z, -700, 700))


def fit_aft_scale(log_time: np.ndarray, event: np.ndarray, mu: np.ndarray, distribution: str = "normal",
                  weights: np.ndarray | None = None) -> float:
    """Maximum-likelihood scale ``sigma`` of ``log T = mu + sigma * eps`` with ``mu`` fixed (right-censored rows).

    Bounded search on ``[0.05, 20]``; rows with an event contribute ``log f(z) - log sigma``, censored rows
    ``log S(z)``.
    """
    from scipy.optimize import minimize_scalar

    y, e, m = np.asarray(log_time, float), np.asarray(event, bool), np.asarray(mu, float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, float)

    def negll(log_sigma: float) -> float:
        sigma = np.exp(log_sigma)
        z = (y - m) / sigma
        with np.errstate(divide="ignore"):
            ll = np.where(e, _error_log_density(z, distribution) - log_sigma,
                          np.log(np.maximum(_error_survival(z, distribution), 1e-300)))
        return -float(np.sum(w * ll))

    res = minimize_scalar(negll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(res.x))
