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
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval

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
from recommender.models._survival_input import check_finite_prediction_input, validate_survival_fit
from recommender.models.response import BOOSTER_CONSTRAINTS, booster_params

__all__ = [
    "DISPLAY_GRID_POINTS",
    "BlendedSurvival",
    "BoostedSurvival",
    "CoxBaseline",
    "NeuralCox",
    "breslow",
    "display_grid",
    "load_survival_model",
    "split_survival_target",
]


def split_survival_target(y: Any, event: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``(time, event)`` arrays from ``y`` (2 columns or a DataFrame with time/event) or two arrays."""
    if event is not None:
        return np.asarray(y, dtype="float64"), np.asarray(event).astype(bool)
    if isinstance(y, pd.DataFrame):
        return y["time"].to_numpy(dtype="float64"), y["event"].to_numpy().astype(bool)
    arr = np.asarray(y)
    if arr.dtype.names is not None:  # scikit-survival style structured array: (event: bool, time: float)
        if len(arr.dtype.names) != 2:
            raise ValueError("a structured survival target needs exactly two fields (event, time)")
        ev_name = next((n for n in arr.dtype.names if arr.dtype[n] == np.bool_), arr.dtype.names[0])
        t_name = next(n for n in arr.dtype.names if n != ev_name)
        return arr[t_name].astype("float64"), arr[ev_name].astype(bool)
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


#: Points of the survival curve a bundle returns with each prediction (evaluation uses every event time).
DISPLAY_GRID_POINTS = 200


def display_grid(event_times: np.ndarray, n: int = DISPLAY_GRID_POINTS) -> np.ndarray:
    """Time 0 plus every distinct event time, thinned to at most ``n`` points by quantiles (last time kept).

    The Breslow curve only steps at event times, so this grid is exact where it has a point; with 200
    points C^td and IBS agree with the full-resolution curves to about 1e-3 (tested).
    """
    times = np.unique(np.asarray(event_times, dtype="float64"))
    if len(times) + 1 > n:
        idx = np.unique(np.round(np.linspace(0, len(times) - 1, n - 1)).astype(int))
        times = times[idx]
    return np.concatenate([[0.0], times])


class _BoosterPersistence:
    """An xgboost-backed survival model's fitted state and its save/load (booster as UBJSON + JSON, no pickle)."""

    def _keep_booster(self, booster: Any, names: list[str], time: np.ndarray, event: np.ndarray,
                      n_validation: int, record: dict[str, Any], metric: str) -> None:
        """Store a trained booster, its best iteration, feature names and a training summary."""
        self.booster_ = booster
        self.best_iteration_ = int(booster.best_iteration) if n_validation else int(self.n_estimators) - 1
        self.feature_names_in_ = np.array(names, dtype=object)
        self.n_features_in_ = len(names)
        loss = record.get("validation", {}).get(metric, [])
        self.training_summary_ = {"rows": len(time), "events": int(event.sum()), "validation_rows": n_validation,
                                  "best_iteration": self.best_iteration_,
                                  f"validation_{metric.replace('-', '_')}":
                                      float(loss[self.best_iteration_]) if loss else None}

    def save(self, directory: str | Path, name: str) -> list[Path]:
        check_fitted(self, "booster_")
        directory = Path(directory)
        ubj = save_booster(self.booster_, directory / f"{name}.ubj")
        meta = {"class": type(self).__name__, "params": self.get_params(), "feature_names": list(self.feature_names_in_),
                "best_iteration": self.best_iteration_, "baseline_times": self.baseline_times_,
                "baseline_cumhaz": self.baseline_cumhaz_, "time_grid": self.time_grid_,
                "training_summary": self.training_summary_, **self._extra_meta()}
        return [ubj, write_json(directory / f"{name}.json", meta)]

    def _extra_meta(self) -> dict[str, Any]:
        """Model-specific fields of the saved JSON (none here)."""
        return {}

    def _restore_extra(self, meta: dict[str, Any]) -> None:
        """Read back :meth:`_extra_meta`'s fields (none here)."""

    @classmethod
    def load(cls, directory: str | Path, name: str) -> Any:
        directory = Path(directory)
        meta = read_json(directory / f"{name}.json")
        est = cls(**meta["params"])
        est.booster_ = load_booster(directory / f"{name}.ubj")
        est.booster_.set_param({"nthread": int(est.n_jobs)})
        est.best_iteration_ = int(meta["best_iteration"])
        est.feature_names_in_ = np.array(meta["feature_names"], dtype=object)
        est.n_features_in_ = len(est.feature_names_in_)
        est._restore_baseline(meta)
        est.training_summary_ = meta.get("training_summary", {})
        est._restore_extra(meta)
        return est


class _SurvivalBase(BaseEstimator):
    """Shared prediction from ``lp`` and a Breslow baseline."""

    def _lp(self, frame: pd.DataFrame) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True  # a structured survival y (event, time), as scikit-survival's
        tags.input_tags.allow_nan = True  # missing values are imputed (Cox, NeuralCox) or routed (xgboost)
        return tags

    def predict_risk(self, X: Any) -> np.ndarray:
        """Log relative hazard (higher = worse)."""
        check_fitted(self, "baseline_times_")
        frame = as_frame(X, list(self.feature_names_in_), estimator=type(self).__name__)
        check_finite_prediction_input(frame)
        return self._lp(frame)

    def predict(self, X: Any) -> np.ndarray:
        return self.predict_risk(X)

    def predict_survival(self, X: Any, times: Any = None) -> pd.DataFrame:
        """Survival probability per row (index of ``X``) at ``times`` (default: ``time_grid_``)."""
        index = X.index if isinstance(X, pd.DataFrame) else None
        return self.survival_from_risk(self.predict_risk(X), times, index=index)

    def survival_from_risk(self, lp: np.ndarray, times: Any = None, *, index: Any = None) -> pd.DataFrame:
        """:meth:`predict_survival` from log hazards already computed by :meth:`predict_risk` (no second pass)."""
        check_fitted(self, "baseline_times_")
        grid = np.asarray(self.time_grid_ if times is None else times, dtype="float64")
        H0 = self._H0(grid)
        surv = np.exp(-np.outer(np.exp(lp), H0))
        return pd.DataFrame(surv, columns=grid, index=index)

    def _H0(self, grid: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(self.baseline_times_, grid, side="right") - 1
        H = np.where(pos >= 0, self.baseline_cumhaz_[np.clip(pos, 0, None)], 0.0)
        return H

    def predict_median(self, X: Any) -> np.ndarray:
        """Median survival time per row (``NaN`` when not reached within the training follow-up)."""
        return self.median_from_risk(self.predict_risk(X))

    def predict_outputs(self, X: Any, times: Any = None) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
        """``(risk, median, curves)`` in one pass over the model: what a bundle's prediction reports.

        Curves at ``times`` (default ``time_grid_``). Here all three derive from the log hazard (Breslow); a
        model whose curves are not proportional-hazards
        (:class:`~recommender.models.survival_mixture.CurveMixture`) overrides it.
        """
        risk = self.predict_risk(X)
        index = X.index if isinstance(X, pd.DataFrame) else None
        return risk, self.median_from_risk(risk), self.survival_from_risk(risk, times, index=index)

    def median_from_risk(self, lp: np.ndarray) -> np.ndarray:
        """:meth:`predict_median` from log hazards already computed by :meth:`predict_risk` (no second pass)."""
        check_fitted(self, "baseline_times_")
        lp = np.asarray(lp, dtype="float64")
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
        self.time_grid_ = display_grid(self.baseline_times_)

    def _restore_baseline(self, meta: dict[str, Any]) -> None:
        """Breslow baseline and display grid from a saved model's JSON (``baseline_times``, ``baseline_cumhaz``,
        ``time_grid``)."""
        self.baseline_times_ = floats(meta["baseline_times"])
        self.baseline_cumhaz_ = floats(meta["baseline_cumhaz"])
        self.time_grid_ = floats(meta["time_grid"])

    def full_times(self) -> np.ndarray:
        """Time 0 and every training event time: where the Breslow step function changes."""
        check_fitted(self, "baseline_times_")
        return np.concatenate([[0.0], self.baseline_times_])

    def predict_survival_full(self, X: Any) -> pd.DataFrame:
        """Survival at time 0 and at every training event time: the exact step function (for evaluation)."""
        return self.predict_survival(X, times=self.full_times())


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

    #: scikit-learn parameter validation (checked by ``fit``).
    _parameter_constraints: dict = {
        "penalizer": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "max_missing": [Interval(Real, 0, 1, closed="both")],
    }

    def fit(self, X: Any, y: Any, event: Any = None, sample_weight: Any = None) -> CoxBaseline:
        """Fit on ``X`` and a survival ``y`` (structured ``(event, time)``, or ``fit(X, time, event)``)."""
        from lifelines import CoxPHFitter
        from lifelines.exceptions import ConvergenceError

        frame, time, ev, w = validate_survival_fit(self, X, y, event, sample_weight)
        if (w == 0).any():  # a zero weight removes the row (lifelines refuses zero weights)
            nz = w > 0
            frame, time, ev, w = frame[nz], time[nz], ev[nz], w[nz]
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
                from lifelines.exceptions import StatisticalWarning

                warnings.filterwarnings("ignore", category=StatisticalWarning)
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
        est._restore_baseline(meta)
        est.lifelines_summary_ = meta.get("summary", {})
        return est


def _lifelines_version() -> str:
    from importlib.metadata import version

    return version("lifelines")


class BoostedSurvival(_BoosterPersistence, _SurvivalBase):
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

    #: scikit-learn parameter validation (checked by ``fit``).
    _parameter_constraints: dict = BOOSTER_CONSTRAINTS

    def fit(self, X: Any, y: Any, event: Any = None, sample_weight: Any = None) -> BoostedSurvival:
        """Fit on ``X`` and a survival ``y`` (structured ``(event, time)``, or ``fit(X, time, event)``)."""
        import xgboost as xgb

        frame, time, ev, w = validate_survival_fit(self, X, y, event, sample_weight, min_events=2)
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
        self._keep_booster(booster, names, time, ev, len(va), record, "cox-nloglik")
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


def _import_torch(model: str, candidate: str) -> Any:
    """torch, or the project's error naming the survival ``candidate`` to leave out (the neural models train with
    torch and score with numpy)."""
    try:
        import torch
    except ImportError:
        raise ModelError(f"{model} needs torch to train", field=model,
                         fix=f"install torch (CPU build, see the install guide) or leave '{candidate}' out of "
                             "survival_candidates") from None
    return torch


def _train_early_stopping(torch: Any, net: Any, epoch: Any, validation_loss: Any, max_epochs: int, patience: int
                          ) -> tuple[float, int]:
    """Run ``epoch()`` (one pass of optimiser steps) until ``validation_loss()`` has not improved by 1e-5 for
    ``patience`` epochs or ``max_epochs`` are done; ``net`` is left with its best state (the last one if no epoch
    gave a finite loss). Returns ``(best validation loss, epochs run)``."""
    best, best_state, since, epochs = np.inf, None, 0, 0
    for n in range(int(max_epochs)):
        net.train()
        epoch()
        net.eval()
        with torch.no_grad():
            val = float(validation_loss())
        epochs = n + 1
        if np.isfinite(val) and val < best - 1e-5:
            best, since = val, 0
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        else:
            since += 1
            if since >= int(patience):
                break
    if best_state is not None:
        net.load_state_dict(best_state)
    return float(best), epochs


def _standardise(frame: pd.DataFrame, max_missing: float) -> tuple[list[Any], pd.Series, pd.Series, pd.Series,
                                                                      np.ndarray]:
    """The neural models' inputs: columns with at most ``max_missing`` missing and more than one value, median
    filled and standardised; ``(columns, medians, means, scales, float64 matrix)``."""
    keep = [c for c in frame.columns if frame[c].isna().mean() <= max_missing and frame[c].nunique(dropna=True) > 1]
    medians = frame[keep].median()
    Z = frame[keep].fillna(medians)
    means, scales = Z.mean(), Z.std(ddof=0).replace(0, 1.0)
    return keep, medians, means, scales, ((Z - means) / scales).to_numpy(dtype="float64")


class NeuralCox(_SurvivalBase):
    """A small DeepSurv-style network (Katzman et al. 2018): an MLP log hazard trained on the Cox partial likelihood.

    Trained with torch (full batch, Adam, weight decay, dropout, early stopping on a held-out stratified
    share of the rows, Breslow ties); prediction is plain numpy from the weights saved as JSON, so a bundle
    with this model loads and scores without torch. Features are median-imputed and standardised; columns
    constant or missing in more than ``max_missing`` of the training rows are dropped.

    Parameters
    ----------
    hidden : int
        Units of the one hidden layer (ReLU).
    dropout, weight_decay, learning_rate : float
    max_epochs, patience : int
        Upper bound on epochs and early-stopping patience (epochs without a better validation loss).
    validation_fraction : float
    random_state : int
    max_missing : float
    """

    def __init__(self, hidden: int = 32, dropout: float = 0.2, weight_decay: float = 1e-3,
                 learning_rate: float = 1e-2, max_epochs: int = 400, patience: int = 30,
                 validation_fraction: float = 0.2, random_state: int = 0, max_missing: float = 0.5) -> None:
        self.hidden = hidden
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.learning_rate = learning_rate
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.max_missing = max_missing

    #: scikit-learn parameter validation (checked by ``fit``).
    _parameter_constraints: dict = {
        "hidden": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "max_missing": [Interval(Real, 0, 1, closed="both")],
    }

    def fit(self, X: Any, y: Any, event: Any = None, sample_weight: Any = None) -> NeuralCox:
        """Fit on ``X`` and a survival ``y`` (structured ``(event, time)``, or ``fit(X, time, event)``)."""
        torch = _import_torch("NeuralCox", "neural")
        frame, time, ev, w = validate_survival_fit(self, X, y, event, sample_weight, min_events=10)
        keep, medians, means, scales, Z = _standardise(frame, self.max_missing)
        Z = Z.astype("float32")
        idx = np.arange(len(time))
        tr, va = train_test_split(idx, test_size=self.validation_fraction, stratify=ev,
                                  random_state=self.random_state)
        torch.manual_seed(int(self.random_state))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # small full-batch net: threads only contend on a shared machine
        try:
            self._train(torch, Z, time, ev, w, tr, va)
        finally:
            torch.set_num_threads(threads)
        self.used_columns_ = list(keep)
        self.medians_, self.means_, self.scales_ = medians, means, scales
        self.feature_names_in_ = np.array([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self._fit_baseline(frame, time, ev, w)
        return self

    def _train(self, torch: Any, Z: np.ndarray, time: np.ndarray, ev: np.ndarray, w: np.ndarray, tr: np.ndarray,
               va: np.ndarray) -> None:
        net = torch.nn.Sequential(torch.nn.Linear(Z.shape[1], int(self.hidden)), torch.nn.ReLU(),
                                  torch.nn.Dropout(float(self.dropout)), torch.nn.Linear(int(self.hidden), 1))
        opt = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate), weight_decay=float(self.weight_decay))

        def tensors(rows: np.ndarray) -> tuple[Any, Any, Any]:
            order = rows[np.argsort(-time[rows], kind="stable")]  # descending time: risk set = prefix
            return (torch.from_numpy(Z[order]), torch.from_numpy(ev[order].astype("float32")),
                    torch.from_numpy(w[order].astype("float32")))

        def loss_of(xb: Any, eb: Any, wb: Any) -> Any:
            lp = net(xb).squeeze(-1)
            log_risk = torch.logcumsumexp(lp + torch.log(wb), dim=0)
            return -((lp - log_risk) * eb * wb).sum() / (eb * wb).sum().clamp_min(1.0)

        xt, et, wt = tensors(tr)
        xv, evv, wv = tensors(va)

        def epoch() -> None:  # full batch: the partial likelihood needs each row's whole risk set
            opt.zero_grad()
            loss_of(xt, et, wt).backward()
            opt.step()

        best, epochs = _train_early_stopping(torch, net, epoch, lambda: loss_of(xv, evv, wv), self.max_epochs,
                                             self.patience)
        W1, b1, W2, b2 = (p.detach().numpy().astype("float64") for p in net.parameters())
        self.weights_ = {"W1": W1.T, "b1": b1, "W2": W2.T, "b2": b2}
        self.training_summary_ = {"rows": len(time), "events": int(ev.sum()), "validation_rows": len(va),
                                  "epochs": epochs, "best_validation_loss": float(best)}

    def _lp(self, frame: pd.DataFrame) -> np.ndarray:
        Z = frame[self.used_columns_].fillna(self.medians_)
        Z = ((Z - self.means_) / self.scales_).to_numpy(dtype="float64")
        h = np.maximum(Z @ self.weights_["W1"] + self.weights_["b1"], 0.0)
        return (h @ self.weights_["W2"] + self.weights_["b2"]).ravel()

    def save(self, directory: str | Path, name: str) -> list[Path]:
        check_fitted(self, "weights_")
        meta = {"class": "NeuralCox", "params": self.get_params(), "feature_names": list(self.feature_names_in_),
                "used_columns": self.used_columns_, "medians": self.medians_.tolist(), "means": self.means_.tolist(),
                "scales": self.scales_.tolist(), "weights": {k: v.tolist() for k, v in self.weights_.items()},
                "baseline_times": self.baseline_times_, "baseline_cumhaz": self.baseline_cumhaz_,
                "time_grid": self.time_grid_, "training_summary": self.training_summary_}
        return [write_json(Path(directory) / f"{name}.json", meta)]

    @classmethod
    def load(cls, directory: str | Path, name: str) -> NeuralCox:
        meta = read_json(Path(directory) / f"{name}.json")
        est = cls(**meta["params"])
        cols = meta["used_columns"]
        est.feature_names_in_ = np.array(meta["feature_names"], dtype=object)
        est.n_features_in_ = len(est.feature_names_in_)
        est.used_columns_ = cols
        est.medians_ = pd.Series(floats(meta["medians"]), index=cols)
        est.means_ = pd.Series(floats(meta["means"]), index=cols)
        est.scales_ = pd.Series(floats(meta["scales"]), index=cols)
        est.weights_ = {k: np.asarray(v, dtype="float64") for k, v in meta["weights"].items()}
        est._restore_baseline(meta)
        est.training_summary_ = meta.get("training_summary", {})
        return est


_SURVIVAL_CLASSES: dict[str, Any] = {"CoxBaseline": CoxBaseline, "BoostedSurvival": BoostedSurvival,
                                     "NeuralCox": NeuralCox}


class BlendedSurvival(_SurvivalBase):
    """A Cox-form blend: ``lp(x) = sum_k w_k (lp_k(x) - c_k) / s_k`` over fitted survival models, Breslow baseline.

    Each member's log hazard is standardised with its mean ``c_k`` and standard deviation ``s_k`` on the
    training rows, so the weights are comparable; the baseline hazard is re-estimated for the blended
    ``lp`` on the same rows, so curves and medians are those of one proportional-hazards model.

    Parameters
    ----------
    members : list of estimators
        Unfitted survival estimators (cloned on ``fit``).
    weights : list of float or None
        One weight per member (default equal weights).
    """

    def __init__(self, members: Any = None, weights: Any = None, scale: float = 1.0) -> None:
        self.members = members
        self.weights = weights
        self.scale = scale

    #: scikit-learn parameter validation (checked by ``fit``).
    _parameter_constraints: dict = {
        "members": [list, None],
        "weights": ["array-like", None],
        "scale": [Interval(Real, 0, None, closed="neither")],
    }

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = all(get_tags(m).input_tags.allow_nan for m in (self.members or []))
        return tags

    def _weights(self) -> np.ndarray:
        k = len(self.members_)
        w = np.ones(k) if self.weights is None else np.asarray(self.weights, dtype="float64")
        if w.shape != (k,) or not np.isfinite(w).all() or w.sum() <= 0:
            raise ValueError("weights must be one positive number per member")
        return w / w.sum()

    def fit(self, X: Any, y: Any, event: Any = None, sample_weight: Any = None) -> BlendedSurvival:
        from sklearn.base import clone

        if not self.members:
            raise ValueError("BlendedSurvival needs at least one member")
        frame, time, ev, w = validate_survival_fit(self, X, y, event, sample_weight)
        self.members_ = [clone(m).fit(frame, time, ev, sample_weight=w) for m in self.members]
        return self._finish(frame, time, ev, w)

    @classmethod
    def from_fitted(cls, members: list[Any], X: Any, y: Any, event: Any = None, sample_weight: Any = None,
                    weights: Any = None, scale: float = 1.0) -> BlendedSurvival:
        """A blend of already fitted members (their standardisation and the baseline from ``X``, ``y``).

        ``scale`` multiplies the blended standardised log hazard (a calibration slope estimated out of fold
        shrinks an over-confident model before the baseline hazard is re-estimated).
        """
        est = cls(members=None, weights=weights, scale=scale)
        frame = as_frame(X, estimator="BlendedSurvival")
        time, ev = split_survival_target(y, event)
        w = np.ones(len(time)) if sample_weight is None else np.asarray(sample_weight, dtype="float64")
        est.members_ = list(members)
        return est._finish(frame, time, ev, w)

    def _finish(self, frame: pd.DataFrame, time: np.ndarray, ev: np.ndarray, w: np.ndarray) -> BlendedSurvival:
        lps = np.column_stack([m.predict_risk(frame) for m in self.members_])
        self.centers_ = lps.mean(axis=0)
        sd = lps.std(axis=0)
        self.scales_ = np.where(sd > 0, sd, 1.0)
        self.feature_names_in_ = np.array([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self._fit_baseline(frame, time, ev, w)
        return self

    def _lp(self, frame: pd.DataFrame) -> np.ndarray:
        lps = np.column_stack([m.predict_risk(frame) for m in self.members_])
        return float(self.scale) * (((lps - self.centers_) / self.scales_) @ self._weights())

    def save(self, directory: str | Path, name: str) -> list[Path]:
        check_fitted(self, "members_")
        files: list[Path] = []
        names = []
        for k, m in enumerate(self.members_):
            files += m.save(directory, f"{name}_m{k}")
            names.append({"class": type(m).__name__, "name": f"{name}_m{k}"})
        meta = {"class": "BlendedSurvival", "members": names,
                "weights": None if self.weights is None else [float(x) for x in self.weights],
                "scale": float(self.scale),
                "feature_names": list(self.feature_names_in_), "centers": self.centers_, "scales": self.scales_,
                "baseline_times": self.baseline_times_, "baseline_cumhaz": self.baseline_cumhaz_,
                "time_grid": self.time_grid_}
        return [*files, write_json(Path(directory) / f"{name}.json", meta)]

    @classmethod
    def load(cls, directory: str | Path, name: str, classes: Any = None) -> BlendedSurvival:
        meta = read_json(Path(directory) / f"{name}.json")
        est = cls(members=None, weights=meta.get("weights"), scale=float(meta.get("scale", 1.0)))
        est.members_ = [load_survival_model(directory, m["name"], classes) for m in meta["members"]]
        est.feature_names_in_ = np.array(meta["feature_names"], dtype=object)
        est.n_features_in_ = len(est.feature_names_in_)
        est.centers_, est.scales_ = floats(meta["centers"]), floats(meta["scales"])
        est._restore_baseline(meta)
        return est


def load_survival_model(directory: str | Path, name: str, classes: Any = None) -> Any:
    """Load a saved survival model by the ``class`` in its JSON.

    Known: CoxBaseline, BoostedSurvival, NeuralCox, CoxTime, SurvivalForest, BoostedAFT, BlendedSurvival, CurveMixture, plus ``classes`` (name -> class with a
    ``load(directory, name)`` classmethod, e.g. a bundle's member classes).
    """
    from recommender.models.survival_aft import BoostedAFT  # these modules import this one: imported here
    from recommender.models.survival_coxtime import CoxTime
    from recommender.models.survival_forest import SurvivalForest
    from recommender.models.survival_mixture import CurveMixture

    meta = read_json(Path(directory) / f"{name}.json")
    klass = {**(classes or {}), **_SURVIVAL_CLASSES, "SurvivalForest": SurvivalForest, "BoostedAFT": BoostedAFT,
             "CoxTime": CoxTime, "BlendedSurvival": BlendedSurvival}.get(meta.get("class"))
    if meta.get("class") == "CurveMixture":
        return CurveMixture.load(directory, name, classes)
    if klass is BlendedSurvival:
        return BlendedSurvival.load(directory, name, classes)
    if klass is None:
        raise ModelError(f"unknown survival model class {meta.get('class')!r}", file=Path(directory) / f"{name}.json",
                         fix="rebuild the model bundle with this package version")
    return klass.load(directory, name)
