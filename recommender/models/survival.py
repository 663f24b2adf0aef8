"""Survival: a Cox model (lifelines) as the transparent baseline and a boosted Cox model (xgboost).

Both estimators predict a log relative hazard ``lp(x)`` and share one Breslow estimate of the
baseline cumulative hazard ``H0(t)`` computed on the training rows, so a survival curve is
``S(t | x) = exp(-H0(t) * exp(lp(x)))`` and the median is the first time ``S <= 0.5`` (``NaN`` when the
curve stays above 0.5 within the follow-up: "not reached").

:class:`CoxBaseline`
    lifelines :class:`~lifelines.CoxPHFitter` (ridge ``penalizer``) on median-imputed, standardised
    features (constant columns dropped). Saved as JSON: coefficients, imputation medians, means,
    scales and the baseline hazard; prediction needs numpy only.
:class:`BoostedSurvival`
    xgboost ``survival:cox`` with early stopping on a held-out split (``cox-nloglik``), saved as UBJSON +
    JSON.

``score(X, y)`` is Harrell's C-index (lifelines ``concordance_index``); ``y`` is a 2-column array
``(time, event)`` or a DataFrame with ``time`` and ``event`` columns.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split

from recommender.models._base import (
    ModelError,
    as_frame,
    booster_contributions,
    check_fitted,
    floats,
    load_booster,
    read_json,
    save_booster,
    write_json,
)
from recommender.models.response import booster_params

__all__ = ["BoostedSurvival", "CoxBaseline", "breslow", "split_survival_target"]


def split_survival_target(y: Any, event: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``(time, event)`` arrays from ``y`` (2 columns or a DataFrame with time/event) or two arrays."""
    if event is not None:
        return np.asarray(y, dtype="float64"), np.asarray(event).astype(bool)
    if isinstance(y, pd.DataFrame):
        return y["time"].to_numpy(dtype="float64"), y["event"].to_numpy().astype(bool)
    arr = np.asarray(y)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError("survival target must be (time, event) columns")
    return arr[:, 0].astype("float64"), arr[:, 1].astype(bool)


def breslow(time: np.ndarray, event: np.ndarray, lp: np.ndarray, weights: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """Breslow baseline cumulative hazard at the distinct event times: ``(times, H0)``."""
    w = np.ones(len(time)) if weights is None else np.asarray(weights, dtype="float64")
    risk = w * np.exp(lp - lp.max())
    order = np.argsort(time)
    t, e, r, ww = time[order], event[order], risk[order], w[order]
    at_risk = np.cumsum(r[::-1])[::-1]  # sum of risk over rows with time >= t_i
    times = np.unique(t[e])
    h = []
    for s in times:
        first = np.searchsorted(t, s, side="left")
        d = ww[(t == s) & e].sum()
        h.append(d / at_risk[first])
    H0 = np.cumsum(h) * np.exp(-lp.max())
    return times, H0


class _SurvivalBase(BaseEstimator):
    """Shared prediction from ``lp`` and a Breslow baseline."""

    def _lp(self, frame: pd.DataFrame) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict_risk(self, X: Any) -> np.ndarray:
        """Log relative hazard (higher = worse)."""
        check_fitted(self, "baseline_times_")
        return self._lp(as_frame(X, list(self.feature_names_in_), estimator=type(self).__name__))

    def predict(self, X: Any) -> np.ndarray:
        return self.predict_risk(X)

    def predict_survival(self, X: Any, times: Any = None) -> pd.DataFrame:
        """Survival probability per row (index of ``X``) at ``times`` (default: ``time_grid_``)."""
        lp = self.predict_risk(X)
        grid = np.asarray(self.time_grid_ if times is None else times, dtype="float64")
        H0 = self._H0(grid)
        surv = np.exp(-np.outer(np.exp(lp), H0))
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(surv, columns=grid, index=index)

    def _H0(self, grid: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(self.baseline_times_, grid, side="right") - 1
        H = np.where(pos >= 0, self.baseline_cumhaz_[np.clip(pos, 0, None)], 0.0)
        return H

    def predict_median(self, X: Any) -> np.ndarray:
        """Median survival time per row (``NaN`` when not reached within the training follow-up)."""
        lp = self.predict_risk(X)
        # S(t) <= 0.5  <=>  H0(t) >= log(2) * exp(-lp)
        need = np.log(2.0) * np.exp(-lp)
        pos = np.searchsorted(self.baseline_cumhaz_, need, side="left")
        out = np.full(len(lp), np.nan)
        ok = pos < len(self.baseline_times_)
        out[ok] = self.baseline_times_[pos[ok]]
        return out

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Harrell's C-index of ``-predict_risk`` against ``y = (time, event)``."""
        from lifelines.utils import concordance_index

        time, event = split_survival_target(y)
        return float(concordance_index(time, -self.predict_risk(X), event))

    def _fit_baseline(self, frame: pd.DataFrame, time: np.ndarray, event: np.ndarray, w: np.ndarray) -> None:
        lp = self._lp(frame)
        self.baseline_times_, self.baseline_cumhaz_ = breslow(time, event, lp, w)
        hi = float(np.quantile(time, 0.95)) if len(time) else 1.0
        self.time_grid_ = np.linspace(0.0, hi, 50)


class CoxBaseline(_SurvivalBase):
    """Penalised Cox proportional-hazards model (lifelines), the transparent baseline.

    Parameters
    ----------
    penalizer : float
        Ridge (``l1_ratio=0``) / elastic-net penalty of lifelines' ``CoxPHFitter``.
    l1_ratio : float
    max_missing : float
        Columns missing in a larger share of training rows are dropped.

    Attributes
    ----------
    coef_ : pandas.Series  (per standardised used column)
    used_columns_, medians_, means_, scales_ : model preprocessing (JSON)
    baseline_times_, baseline_cumhaz_, time_grid_ : Breslow baseline
    """

    def __init__(self, penalizer: float = 0.1, l1_ratio: float = 0.0, max_missing: float = 0.5) -> None:
        self.penalizer = penalizer
        self.l1_ratio = l1_ratio
        self.max_missing = max_missing

    def fit(self, X: Any, y: Any, event: Any = None, sample_weight: Any = None) -> CoxBaseline:
        from lifelines import CoxPHFitter
        from lifelines.exceptions import ConvergenceError

        frame = as_frame(X, estimator="CoxBaseline")
        time, ev = split_survival_target(y, event)
        w = np.ones(len(time)) if sample_weight is None else np.asarray(sample_weight, dtype="float64")
        self.feature_names_in_ = np.array([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        keep = [c for c in frame.columns
                if frame[c].isna().mean() <= self.max_missing and frame[c].nunique(dropna=True) > 1]
        medians = frame[keep].median()
        Z = frame[keep].fillna(medians)
        means, scales = Z.mean(), Z.std(ddof=0).replace(0, 1.0)
        Z = (Z - means) / scales
        data = Z.copy()
        data["__time"], data["__event"], data["__w"] = np.maximum(time, 1e-6), ev.astype(int), w
        cph = CoxPHFitter(penalizer=self.penalizer, l1_ratio=self.l1_ratio)
        try:
            with warnings.catch_warnings():
                # non-integer (IPW) weights: lifelines warns about its variance estimates, which are not used
                warnings.simplefilter("ignore")
                cph.fit(data, duration_col="__time", event_col="__event", weights_col="__w", robust=False)
        except ConvergenceError as err:
            raise ModelError(f"the Cox model did not converge: {str(err).splitlines()[0]}", field="CoxBaseline",
                             fix="raise penalizer or drop collinear features") from None
        self.used_columns_ = list(keep)
        self.medians_, self.means_, self.scales_ = medians, means, scales
        self.coef_ = cph.params_.reindex(keep).fillna(0.0)
        self.lifelines_summary_ = {
            "log_likelihood": float(cph.log_likelihood_), "concordance": float(cph.concordance_index_),
            "n": len(time), "events": int(ev.sum()), "lifelines_version": _lifelines_version(),
        }
        self._fit_baseline(frame, time, ev, w)
        return self

    def _lp(self, frame: pd.DataFrame) -> np.ndarray:
        Z = frame[self.used_columns_].fillna(self.medians_)
        Z = (Z - self.means_) / self.scales_
        return Z.to_numpy() @ self.coef_.to_numpy()

    def hazard_ratios(self) -> pd.Series:
        """exp(coef) per one standard deviation of each used feature."""
        check_fitted(self, "coef_")
        return np.exp(self.coef_)

    def save(self, directory: str | Path, name: str) -> list[Path]:
        check_fitted(self, "coef_")
        meta = {
            "class": "CoxBaseline", "params": self.get_params(), "feature_names": list(self.feature_names_in_),
            "used_columns": self.used_columns_, "coef": self.coef_.tolist(), "medians": self.medians_.tolist(),
            "means": self.means_.tolist(), "scales": self.scales_.tolist(),
            "baseline_times": self.baseline_times_, "baseline_cumhaz": self.baseline_cumhaz_,
            "time_grid": self.time_grid_, "summary": self.lifelines_summary_,
        }
        return [write_json(Path(directory) / f"{name}.json", meta)]

    @classmethod
    def load(cls, directory: str | Path, name: str) -> CoxBaseline:
        meta = read_json(Path(directory) / f"{name}.json")
        est = cls(**meta["params"])
        cols = meta["used_columns"]
        est.feature_names_in_ = np.array(meta["feature_names"], dtype=object)
        est.n_features_in_ = len(est.feature_names_in_)
        est.used_columns_ = cols
        est.coef_ = pd.Series(floats(meta["coef"]), index=cols)
        est.medians_ = pd.Series(floats(meta["medians"]), index=cols)
        est.means_ = pd.Series(floats(meta["means"]), index=cols)
        est.scales_ = pd.Series(floats(meta["scales"]), index=cols)
        est.baseline_times_ = floats(meta["baseline_times"])
        est.baseline_cumhaz_ = floats(meta["baseline_cumhaz"])
        est.time_grid_ = floats(meta["time_grid"])
        est.lifelines_summary_ = meta.get("summary", {})
        return est


def _lifelines_version() -> str:
    from importlib.metadata import version

    return version("lifelines")


class BoostedSurvival(_SurvivalBase):
    """xgboost ``survival:cox`` booster with early stopping and a Breslow baseline.

    Parameters are those of :class:`~recommender.models.response.CalibratedBoostedClassifier` (no
    calibration). Attributes: ``booster_``, ``best_iteration_``, ``feature_names_in_``, baseline.
    """

    def __init__(self, n_estimators: int = 300, max_depth: int = 3, learning_rate: float = 0.05,
                 subsample: float = 0.8, colsample_bytree: float = 0.8, min_child_weight: float = 1.0,
                 reg_lambda: float = 1.0, early_stopping_rounds: int = 30, validation_fraction: float = 0.25,
                 random_state: int = 0, n_jobs: int = 1) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any, event: Any = None, sample_weight: Any = None) -> BoostedSurvival:
        import xgboost as xgb

        frame = as_frame(X, estimator="BoostedSurvival")
        time, ev = split_survival_target(y, event)
        if ev.sum() < 2:
            raise ValueError("need at least 2 events to fit a survival model")
        w = np.ones(len(time)) if sample_weight is None else np.asarray(sample_weight, dtype="float64")
        names = [str(c) for c in frame.columns]
        label = np.where(ev, np.maximum(time, 1e-6), -np.maximum(time, 1e-6))  # negative = censored
        idx = np.arange(len(time))
        tr, va = (train_test_split(idx, test_size=self.validation_fraction, stratify=ev,
                                   random_state=self.random_state)
                  if len(idx) * self.validation_fraction >= 10 and ev.sum() >= 10 else (idx, idx[:0]))
        X_np = frame.to_numpy()
        dtrain = xgb.DMatrix(X_np[tr], label=label[tr], weight=w[tr], feature_names=names, missing=np.nan,
                             nthread=int(self.n_jobs))
        evals, kwargs = [], {}
        if len(va):
            dval = xgb.DMatrix(X_np[va], label=label[va], weight=w[va], feature_names=names, missing=np.nan,
                               nthread=int(self.n_jobs))
            evals = [(dval, "validation")]
            kwargs = {"early_stopping_rounds": int(self.early_stopping_rounds)}
        record: dict[str, Any] = {}
        booster = xgb.train(booster_params(self, "survival:cox", "cox-nloglik"), dtrain,
                            num_boost_round=int(self.n_estimators), evals=evals, evals_result=record,
                            verbose_eval=False, **kwargs)
        self.booster_ = booster
        self.best_iteration_ = int(booster.best_iteration) if len(va) else int(self.n_estimators) - 1
        self.feature_names_in_ = np.array(names, dtype=object)
        self.n_features_in_ = len(names)
        loss = record.get("validation", {}).get("cox-nloglik", [])
        self.training_summary_ = {"rows": len(time), "events": int(ev.sum()), "validation_rows": len(va),
                                  "best_iteration": self.best_iteration_,
                                  "validation_cox_nloglik": float(loss[self.best_iteration_]) if loss else None}
        self._fit_baseline(frame, time, ev, w)
        return self

    def _dmatrix(self, frame: pd.DataFrame) -> Any:
        import xgboost as xgb

        return xgb.DMatrix(frame.to_numpy(), missing=np.nan, nthread=int(self.n_jobs))

    def _lp(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.booster_.inplace_predict(
            frame.to_numpy(dtype="float64"), predict_type="margin", missing=np.nan,
            iteration_range=(0, self.best_iteration_ + 1), validate_features=False), dtype="float64")

    def contributions(self, X: Any) -> pd.DataFrame:
        """Per-feature log-hazard contributions (``pred_contribs``; column ``bias`` last)."""
        check_fitted(self, "booster_")
        frame = as_frame(X, list(self.feature_names_in_), estimator="BoostedSurvival")
        return booster_contributions(self.booster_, self._dmatrix(frame), frame, self.feature_names_in_,
                                     self.best_iteration_)

    def save(self, directory: str | Path, name: str) -> list[Path]:
        check_fitted(self, "booster_")
        directory = Path(directory)
        ubj = save_booster(self.booster_, directory / f"{name}.ubj")
        meta = {"class": "BoostedSurvival", "params": self.get_params(), "feature_names": list(self.feature_names_in_),
                "best_iteration": self.best_iteration_, "baseline_times": self.baseline_times_,
                "baseline_cumhaz": self.baseline_cumhaz_, "time_grid": self.time_grid_,
                "training_summary": self.training_summary_}
        return [ubj, write_json(directory / f"{name}.json", meta)]

    @classmethod
    def load(cls, directory: str | Path, name: str) -> BoostedSurvival:
        directory = Path(directory)
        meta = read_json(directory / f"{name}.json")
        est = cls(**meta["params"])
        est.booster_ = load_booster(directory / f"{name}.ubj")
        est.booster_.set_param({"nthread": int(est.n_jobs)})
        est.best_iteration_ = int(meta["best_iteration"])
        est.feature_names_in_ = np.array(meta["feature_names"], dtype=object)
        est.n_features_in_ = len(est.feature_names_in_)
        est.baseline_times_ = floats(meta["baseline_times"])
        est.baseline_cumhaz_ = floats(meta["baseline_cumhaz"])
        est.time_grid_ = floats(meta["time_grid"])
        est.training_summary_ = meta.get("training_summary", {})
        return est
