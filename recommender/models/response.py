"""Response: gradient-boosted trees (xgboost) with calibrated probabilities.

:class:`CalibratedBoostedClassifier` is a binary classifier following the scikit-learn contract. Its
``fit`` holds out a stratified validation split (``validation_fraction``), trains an xgboost booster
on the rest with early stopping on the validation log-loss, and fits a calibrator on the booster's
validation predictions:

``isotonic``
    :class:`sklearn.isotonic.IsotonicRegression` (clipped), stored as its breakpoints (JSON).
``sigmoid``
    Platt scaling ``p = 1 / (1 + exp(-(a * margin + b)))``, stored as ``a, b`` (JSON).
``none``
    The booster's own probabilities.
``auto`` (default)
    ``isotonic`` when the validation split has at least ``isotonic_min_rows`` rows, else ``sigmoid``
    (isotonic regression overfits small calibration sets: scikit-learn user guide, "Probability
    calibration").

The same split serves early stopping and calibration (documented optimism, small with a few hundred
validation rows); a validation split too small to calibrate (< ``min_calibration_rows`` rows or one class)
falls back to ``none`` and says so in ``calibration_``. :class:`ResponseModel` is the classifier used
for objective response (CR/PR vs SD/PD) on a patient x treatment row.

Files (``save``/``load``): ``<name>.ubj`` (xgboost UBJSON) and ``<name>.json`` (parameters, feature
names, calibrator, training summary). No pickle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numbers import Integral, Real

from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import Interval, StrOptions
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

__all__ = ["BOOSTER_CONSTRAINTS", "CalibratedBoostedClassifier", "ResponseModel", "booster_params"]


#: Parameter constraints of the xgboost booster settings (scikit-learn parameter validation), shared by the
#: response classifier and the xgboost-backed survival models.
BOOSTER_CONSTRAINTS: dict[str, list] = {
    "n_estimators": [Interval(Integral, 1, None, closed="left")],
    "max_depth": [Interval(Integral, 1, None, closed="left")],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "subsample": [Interval(Real, 0, 1, closed="right")],
    "colsample_bytree": [Interval(Real, 0, 1, closed="right")],
    "min_child_weight": [Interval(Real, 0, None, closed="left")],
    "reg_lambda": [Interval(Real, 0, None, closed="left")],
    "early_stopping_rounds": [Interval(Integral, 1, None, closed="left")],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "random_state": [Interval(Integral, 0, None, closed="left")],
    "n_jobs": [Interval(Integral, 1, None, closed="left")],
}


def booster_params(est: Any, objective: str, eval_metric: str) -> dict[str, Any]:
    """xgboost training parameters from an estimator's hyper-parameters."""
    return {
        "objective": objective,
        "eval_metric": eval_metric,
        "max_depth": int(est.max_depth),
        "eta": float(est.learning_rate),
        "subsample": float(est.subsample),
        "colsample_bytree": float(est.colsample_bytree),
        "min_child_weight": float(est.min_child_weight),
        "lambda": float(est.reg_lambda),
        "tree_method": "hist",
        "nthread": int(est.n_jobs),
        "seed": int(est.random_state),
    }


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class CalibratedBoostedClassifier(ClassifierMixin, BaseEstimator):
    """xgboost binary classifier + held-out calibration (see module docstring).

    Parameters
    ----------
    n_estimators : int
        Maximum boosting rounds (early stopping picks fewer).
    max_depth, learning_rate, subsample, colsample_bytree, min_child_weight, reg_lambda
        xgboost tree parameters.
    early_stopping_rounds : int
        Rounds without validation improvement before stopping.
    validation_fraction : float
        Share of rows held out for early stopping and calibration.
    calibration : {"auto", "isotonic", "sigmoid", "none"}
    min_calibration_rows : int
        Smallest validation split that is calibrated.
    isotonic_min_rows : int
        Smallest validation split for which ``auto`` chooses isotonic calibration.
    random_state, n_jobs : int

    Attributes
    ----------
    booster_ : xgboost.Booster
    feature_names_in_ : numpy.ndarray of str
    classes_ : numpy.ndarray ``[0, 1]``
    calibration_ : str (the method actually used)
    calibrator_ : dict (JSON-serialisable calibrator)
    best_iteration_ : int
    training_summary_ : dict (rows, events, validation log-loss)
    """

    def __init__(
        self,
        n_estimators: int = 300,
        max_depth: int = 3,
        learning_rate: float = 0.05,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        min_child_weight: float = 1.0,
        reg_lambda: float = 1.0,
        early_stopping_rounds: int = 30,
        validation_fraction: float = 0.25,
        calibration: str = "auto",
        min_calibration_rows: int = 40,
        isotonic_min_rows: int = 1000,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.calibration = calibration
        self.min_calibration_rows = min_calibration_rows
        self.isotonic_min_rows = isotonic_min_rows
        self.random_state = random_state
        self.n_jobs = n_jobs

    #: scikit-learn parameter validation (checked by ``fit``).
    _parameter_constraints: dict = {
        **BOOSTER_CONSTRAINTS,
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],  # calibration needs held-out rows
        "calibration": [StrOptions({"auto", "isotonic", "sigmoid", "none"})],
        "min_calibration_rows": [Interval(Integral, 0, None, closed="left")],
        "isotonic_min_rows": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # xgboost learns a default direction for missing values
        tags.classifier_tags.multi_class = False  # binary only
        return tags

    # -- fitting -------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> CalibratedBoostedClassifier:
        """Fit the booster (early stopping) and the calibrator; returns ``self``.

        ``y`` holds two labels (any type); ``classes_`` are their sorted values and ``predict_proba[:, 1]``
        is the probability of ``classes_[1]``.
        """
        import xgboost as xgb
        from sklearn.utils.multiclass import type_of_target
        from sklearn.utils.validation import check_consistent_length, column_or_1d

        self._validate_params()
        if isinstance(X, pd.DataFrame):
            frame = as_frame(X, estimator=type(self).__name__)
            if np.isinf(frame.to_numpy()).any():  # NaN is allowed (missing), +-inf is not
                raise ValueError("X holds infinite values")
        else:
            from sklearn.utils.validation import check_array

            arr = check_array(X, ensure_all_finite="allow-nan", dtype="float64")
            frame = pd.DataFrame(arr, columns=[f"f{i}" for i in range(arr.shape[1])])
        if y is None:
            raise ValueError("requires y to be passed, but the target y is None")
        y = column_or_1d(y, warn=True)
        check_consistent_length(frame, y)
        kind = type_of_target(y, input_name="y", raise_unknown=True)
        if kind not in ("binary",):
            raise ValueError(f"{type(self).__name__} is a binary classifier; y is {kind} "
                             f"(labels {np.unique(y).tolist()[:5]})")
        self.classes_, y = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"y must contain both classes; got one class: {self.classes_.tolist()}")
        y = y.astype("float64")
        if sample_weight is None:
            w = np.ones(len(y))
        else:
            from sklearn.utils.validation import _check_sample_weight

            w = _check_sample_weight(sample_weight, frame.to_numpy(), dtype=np.float64, ensure_non_negative=True)
            if w.sum() <= 0:
                raise ValueError("sample weights sum to zero: nothing to fit")
        idx = np.arange(len(y))
        n_val = round(len(y) * self.validation_fraction)
        can_split = n_val >= 4 and min(np.bincount(y.astype(int))) >= 4
        if can_split:
            tr, va = train_test_split(idx, test_size=self.validation_fraction, stratify=y,
                                      random_state=self.random_state)
        else:
            tr, va = idx, idx[:0]
        names = [str(c) for c in frame.columns]
        dtrain = xgb.DMatrix(frame.iloc[tr].to_numpy(), label=y[tr], weight=w[tr], feature_names=names,
                             missing=np.nan, nthread=int(self.n_jobs))
        params = booster_params(self, "binary:logistic", "logloss")
        params["base_score"] = float(np.clip(np.average(y[tr], weights=w[tr]), 1e-3, 1 - 1e-3))
        evals, kwargs = [], {}
        if len(va):
            dval = xgb.DMatrix(frame.iloc[va].to_numpy(), label=y[va], weight=w[va], feature_names=names,
                               missing=np.nan, nthread=int(self.n_jobs))
            evals = [(dval, "validation")]
            kwargs = {"early_stopping_rounds": int(self.early_stopping_rounds)}
        record: dict[str, Any] = {}
        booster = xgb.train(params, dtrain, num_boost_round=int(self.n_estimators), evals=evals,
                            evals_result=record, verbose_eval=False, **kwargs)
        best = int(getattr(booster, "best_iteration", int(self.n_estimators) - 1)) if len(va) else \
            int(self.n_estimators) - 1
        self.booster_ = booster
        self.best_iteration_ = best
        self.feature_names_in_ = np.array(names, dtype=object)
        self.n_features_in_ = len(names)
        method = self.calibration
        if method == "auto":
            method = "isotonic" if len(va) >= self.isotonic_min_rows else "sigmoid"
        if method != "none" and (len(va) < self.min_calibration_rows or len(np.unique(y[va])) < 2):
            method = "none"
        cal: dict[str, Any] = {}
        if method != "none":
            margin = self._margin(frame.iloc[va])
            if method == "isotonic":
                from sklearn.isotonic import IsotonicRegression

                iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
                iso.fit(_sigmoid(margin), y[va], sample_weight=w[va])
                cal = {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}
            else:
                from sklearn.linear_model import LogisticRegression

                lr = LogisticRegression(C=1e6)
                lr.fit(margin.reshape(-1, 1), y[va], sample_weight=w[va])
                cal = {"a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}
        self.calibration_ = method
        self.calibrator_ = cal
        val_loss = record.get("validation", {}).get("logloss", [])
        self.training_summary_ = {
            "rows": len(y), "events": int(y.sum()), "train_rows": len(tr), "validation_rows": len(va),
            "best_iteration": best, "validation_logloss": float(val_loss[best]) if val_loss else None,
            "calibration": method,
        }
        return self

    # -- prediction ----------------------------------------------------------------------------------
    def _dmatrix(self, frame: pd.DataFrame) -> Any:
        import xgboost as xgb

        # columns are already aligned by name (as_frame); no per-call name validation
        return xgb.DMatrix(frame.to_numpy(), missing=np.nan, nthread=int(self.n_jobs))

    def _aligned(self, X: Any) -> pd.DataFrame:
        check_fitted(self, "booster_")
        return as_frame(X, list(self.feature_names_in_), estimator=type(self).__name__)

    def _margin(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.booster_.inplace_predict(
            frame.to_numpy(dtype="float64"), predict_type="margin", missing=np.nan,
            iteration_range=(0, self.best_iteration_ + 1), validate_features=False), dtype="float64")

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds margin of the booster (before calibration)."""
        return self._margin(self._aligned(X))

    def calibrate(self, margin: np.ndarray) -> np.ndarray:
        """Calibrated probability of class 1 from booster margins."""
        check_fitted(self, "booster_")
        margin = np.asarray(margin, dtype="float64")
        if self.calibration_ == "isotonic":
            return np.interp(_sigmoid(margin), self.calibrator_["x"], self.calibrator_["y"])
        if self.calibration_ == "sigmoid":
            return _sigmoid(self.calibrator_["a"] * margin + self.calibrator_["b"])
        return _sigmoid(margin)

    def predict_proba(self, X: Any) -> np.ndarray:
        """``(n, 2)`` calibrated class probabilities."""
        p = self.calibrate(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """The label (from ``classes_``) with calibrated probability >= 0.5."""
        positive = self.predict_proba(X)[:, 1] >= 0.5  # checks fitted first
        return self.classes_[positive.astype(int)]

    def contributions(self, X: Any) -> pd.DataFrame:
        """Per-feature log-odds contributions (xgboost ``pred_contribs``; column ``bias`` last).

        Rows sum to :meth:`decision_function`.
        """
        frame = self._aligned(X)
        return booster_contributions(self.booster_, self._dmatrix(frame), frame, self.feature_names_in_,
                                     self.best_iteration_)

    # -- persistence ---------------------------------------------------------------------------------
    def save(self, directory: str | Path, name: str) -> list[Path]:
        """Write ``<name>.ubj`` and ``<name>.json`` into ``directory``; returns the paths."""
        check_fitted(self, "booster_")
        directory = Path(directory)
        ubj = save_booster(self.booster_, directory / f"{name}.ubj")
        meta = {
            "class": type(self).__name__, "params": self.get_params(), "feature_names": list(self.feature_names_in_),
            "best_iteration": self.best_iteration_, "calibration": self.calibration_, "calibrator": self.calibrator_,
            "training_summary": self.training_summary_, "classes": self.classes_.tolist(),
        }
        return [ubj, write_json(directory / f"{name}.json", meta)]

    @classmethod
    def load(cls, directory: str | Path, name: str) -> CalibratedBoostedClassifier:
        directory = Path(directory)
        meta = read_json(directory / f"{name}.json")
        if meta.get("class") not in (cls.__name__, "CalibratedBoostedClassifier", "ResponseModel"):
            raise ModelError(f"{name}.json holds a {meta.get('class')}, not a {cls.__name__}", file=directory,
                             fix="rebuild the model bundle")
        est = cls(**meta["params"])
        est.booster_ = load_booster(directory / f"{name}.ubj")
        est.booster_.set_param({"nthread": int(est.n_jobs)})
        est.feature_names_in_ = np.array(meta["feature_names"], dtype=object)
        est.n_features_in_ = len(meta["feature_names"])
        est.classes_ = np.asarray(meta.get("classes", [0, 1]))
        est.best_iteration_ = int(meta["best_iteration"])
        est.calibration_ = meta["calibration"]
        cal = meta["calibrator"]
        if "x" in cal:
            cal = {"x": floats(cal["x"]).tolist(), "y": floats(cal["y"]).tolist()}
        est.calibrator_ = cal
        est.training_summary_ = meta.get("training_summary", {})
        return est


class ResponseModel(CalibratedBoostedClassifier):
    """Objective response (CR or PR) on a patient x treatment feature row; see the base class."""
