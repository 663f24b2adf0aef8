"""Treatment comparison: counterfactual predictions, confounding adjustment, uncertainty, OOD warning.

S-learner
---------
Every outcome model is trained on patient x *received* treatment rows where the treatment features
(drugs, classes, modality, gene-drug interactions) are model inputs. Predicting for every candidate
treatment of a patient means building one row per candidate and asking the same model
(:func:`recommender.features.build_feature_frame`); the treatment can interact with genomics through
the trees. With ``TrainingConfig(learner="interaction")`` (the default bundle) the same rows feed models
with explicit drug x covariate interactions instead (:mod:`recommender.models.effects`): shallow trees over a
pooled table rarely split on a drug and then on a biomarker, so they under-estimate such effects.

Confounding adjustment (observational training data)
----------------------------------------------------
Treatment in observational data follows indication (e.g. EGFR-mutant patients receive osimertinib).
:class:`PropensityModel` (multinomial logistic regression on the *patient-level* features, median
imputed and standardised, constant columns dropped) estimates ``P(received regimen | patient)``;
training rows are weighted by inverse propensity weights ``1 / P(received | patient)``, normalised to
mean 1 within each received regimen (each regimen keeps its sample size; candidate sets differ by
cancer type, so a cohort-wide marginal would be the wrong stabiliser) and clipped to
``[1 / max_weight, max_weight]``, so that within each regimen the weighted patients resemble all
patients who could have received it. Weighting
adjusts only for *measured* confounders, and options a kind of patient never receives (propensity
near 0) stay poorly estimated: the out-of-distribution check flags them.

Uncertainty
-----------
:class:`BootstrapEnsemble` fits ``n_bootstrap`` copies of an estimator on bootstrap resamples of the
training rows; the spread of their predictions for one row gives a percentile interval
(``interval``, default 90 %). It reflects estimation uncertainty of the model, not the randomness of
one patient's outcome.

Out-of-distribution warning
---------------------------
:class:`OodDetector` stores no patient rows: per-column training ranges, medians, standardisation and a
Ledoit-Wolf-shrunk precision matrix of the patient-level features. A row is flagged when its
Mahalanobis distance exceeds the training distances' ``quantile`` (default 0.99), when a continuous
feature lies outside the training range, or when a binary feature (a cancer type, a drug) is 1 but was
never 1 in training. The reasons are listed in words. A value that is unknown for this patient but
was known for every training patient (a ``__missing`` indicator never set in training) is a *note*,
not a flag: the model falls back on its default branch for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from recommender.features.schema import MISSING_SUFFIX
from recommender.models._base import as_frame, check_fitted, floats, read_json, write_json

__all__ = ["BootstrapEnsemble", "OodDetector", "OodResult", "PropensityModel"]


class PropensityModel(BaseEstimator):
    """Multinomial logistic regression ``P(regimen | patient-level features)`` and IPW weights.

    Parameters
    ----------
    C : float
        Inverse L2 regularisation strength.
    max_weight : float
        Stabilised weights are clipped to ``[1 / max_weight, max_weight]``.
    max_iter : int

    Attributes
    ----------
    classes_ : numpy.ndarray of str
    coef_, intercept_ : numpy.ndarray
    used_columns_ : list of str (non-constant training columns)
    medians_, means_, scales_ : numpy.ndarray (preprocessing)
    marginal_ : numpy.ndarray (share of each class in training)
    """

    def __init__(self, C: float = 0.1, max_weight: float = 20.0, max_iter: int = 1000) -> None:
        self.C = C
        self.max_weight = max_weight
        self.max_iter = max_iter

    def fit(self, X: Any, treatment: Any) -> PropensityModel:
        from sklearn.linear_model import LogisticRegression

        frame = as_frame(X, estimator="PropensityModel")
        t = np.asarray(treatment).astype(str)
        self.feature_names_in_ = np.array([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        varying = [c for c in frame.columns if frame[c].nunique(dropna=True) > 1]
        self.used_columns_ = varying
        frame = frame[varying]
        med = frame.median().fillna(0.0)
        Z = frame.fillna(med)
        mean, scale = Z.mean(), Z.std(ddof=0).replace(0, 1.0).fillna(1.0)
        Z = ((Z - mean) / scale).to_numpy()
        classes = np.unique(t)
        self.medians_, self.means_, self.scales_ = med.to_numpy(), mean.to_numpy(), scale.to_numpy()
        if len(classes) == 1:
            self.classes_ = classes
            self.coef_ = np.zeros((1, Z.shape[1]))
            self.intercept_ = np.zeros(1)
        else:
            lr = LogisticRegression(C=self.C, max_iter=self.max_iter, tol=1e-3)
            lr.fit(Z, t)
            self.classes_ = lr.classes_.astype(str)
            coef, icpt = lr.coef_, lr.intercept_
            if len(self.classes_) == 2:  # binary: sklearn keeps one row; expand to softmax form
                coef = np.vstack([-coef[0] / 2, coef[0] / 2])
                icpt = np.array([-icpt[0] / 2, icpt[0] / 2])
            self.coef_, self.intercept_ = coef, icpt
        self.marginal_ = np.array([(t == c).mean() for c in self.classes_])
        return self

    def predict_proba(self, X: Any) -> pd.DataFrame:
        """``P(regimen | patient)``: DataFrame (rows of ``X`` x ``classes_``)."""
        check_fitted(self, "coef_")
        frame = as_frame(X, list(self.feature_names_in_), estimator="PropensityModel")[self.used_columns_]
        Z = ((frame.fillna(pd.Series(self.medians_, index=frame.columns)) - self.means_) / self.scales_).to_numpy()
        s = Z @ self.coef_.T + self.intercept_
        s = s - s.max(axis=1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(axis=1, keepdims=True)
        return pd.DataFrame(p, columns=self.classes_, index=frame.index)

    def predict_proba_blocks(self, X: Any, sizes: list[int]) -> list[pd.DataFrame]:
        """:meth:`predict_proba` of each consecutive block of ``sizes`` rows of ``X``, in one pass.

        The element-wise preprocessing runs once over all rows; the matrix product runs per block on an
        array laid out as :meth:`predict_proba` lays out a block of that size, so every number is bitwise
        the one a separate :meth:`predict_proba` call on the block gives (batch scoring == one patient).
        """
        check_fitted(self, "coef_")
        if sum(sizes) != len(X):
            raise ValueError(f"block sizes add up to {sum(sizes)}, not to the {len(X)} rows of X")
        frame = as_frame(X, list(self.feature_names_in_), estimator="PropensityModel")[self.used_columns_]
        Z = ((frame.fillna(pd.Series(self.medians_, index=frame.columns)) - self.means_) / self.scales_).to_numpy()
        out: list[pd.DataFrame] = []
        k = 0
        for n in sizes:
            block = np.asfortranarray(Z[k:k + n])  # the layout pandas gives predict_proba for n rows
            s = block @ self.coef_.T + self.intercept_
            s = s - s.max(axis=1, keepdims=True)
            p = np.exp(s)
            p /= p.sum(axis=1, keepdims=True)
            out.append(pd.DataFrame(p, columns=self.classes_, index=frame.index[k:k + n]))
            k += n
        return out

    def weights(self, X: Any, treatment: Any) -> np.ndarray:
        """Inverse propensity weights of the received treatments (normalised per regimen, clipped)."""
        p = self.predict_proba(X)
        t = np.asarray(treatment).astype(str)
        col = {c: i for i, c in enumerate(self.classes_)}
        idx = np.array([col.get(v, -1) for v in t])
        if (idx < 0).any():
            raise ValueError("treatment values not seen when the propensity model was fitted")
        prop = p.to_numpy()[np.arange(len(t)), idx]
        w = 1.0 / np.maximum(prop, 1e-12)
        for k in np.unique(idx):
            w[idx == k] /= w[idx == k].mean()
        return np.clip(w, 1.0 / self.max_weight, self.max_weight)

    def overlap(self, X: Any, treatment: Any, threshold: float = 0.05) -> dict[str, dict[str, float]]:
        """Overlap check per received regimen: how likely patients like these were to receive what they got.

        ``{regimen: {"n", "p_received_min", "p_received_p05", "share_below"}}``: rows with ``P(received) <
        threshold`` are where inverse-propensity weights hit their clip and the effect estimate leans on few
        comparable patients.
        """
        p = self.predict_proba(X)
        t = np.asarray(treatment).astype(str)
        col = {c: i for i, c in enumerate(self.classes_)}
        out: dict[str, dict[str, float]] = {}
        values = p.to_numpy()
        for reg in np.unique(t):
            if reg not in col:
                continue
            pr = values[t == reg, col[reg]]
            out[str(reg)] = {"n": int(len(pr)), "p_received_min": float(pr.min()),
                             "p_received_p05": float(np.quantile(pr, 0.05)),
                             "share_below": float((pr < threshold).mean()), "threshold": threshold}
        return out

    def save(self, directory: str | Path, name: str = "propensity") -> list[Path]:
        check_fitted(self, "coef_")
        meta = {"class": "PropensityModel", "params": self.get_params(), "feature_names": list(self.feature_names_in_),
                "classes": self.classes_.tolist(), "coef": self.coef_, "used_columns": self.used_columns_, "intercept": self.intercept_,
                "medians": self.medians_, "means": self.means_, "scales": self.scales_, "marginal": self.marginal_}
        return [write_json(Path(directory) / f"{name}.json", meta)]

    @classmethod
    def load(cls, directory: str | Path, name: str = "propensity") -> PropensityModel:
        meta = read_json(Path(directory) / f"{name}.json")
        est = cls(**meta["params"])
        est.feature_names_in_ = np.array(meta["feature_names"], dtype=object)
        est.n_features_in_ = len(est.feature_names_in_)
        est.classes_ = np.array(meta["classes"], dtype=str)
        est.used_columns_ = list(meta["used_columns"])
        est.coef_ = np.array(meta["coef"], dtype="float64")
        est.intercept_ = np.array(meta["intercept"], dtype="float64")
        est.medians_, est.means_ = floats(meta["medians"]), floats(meta["means"])
        est.scales_, est.marginal_ = floats(meta["scales"]), floats(meta["marginal"])
        return est


@dataclass(frozen=True)
class OodResult:
    """Out-of-distribution check of one row."""

    flag: bool
    distance: float
    percentile: float
    threshold: float
    reasons: tuple[str, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["reasons"] = list(self.reasons)
        d["notes"] = list(self.notes)
        return d


class OodDetector(BaseEstimator):
    """Distance of a row to the training distribution (see module docstring).

    Parameters
    ----------
    quantile : float
        Training-distance quantile above which a row is flagged.
    distance_columns : list of str or None
        Columns for the Mahalanobis distance (default: all columns).
    labels : dict or None
        Column -> physician-readable label used in the reasons.
    range_tolerance : float
        Fraction of the training range a continuous value may exceed it by before it is reported.
    """

    def __init__(self, quantile: float = 0.99, distance_columns: list[str] | None = None,
                 labels: dict[str, str] | None = None, range_tolerance: float = 0.05) -> None:
        self.quantile = quantile
        self.distance_columns = distance_columns
        self.labels = labels
        self.range_tolerance = range_tolerance

    def fit(self, X: Any, y: Any = None) -> OodDetector:
        from sklearn.covariance import LedoitWolf

        frame = as_frame(X, estimator="OodDetector")
        self.feature_names_in_ = np.array([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.min_ = frame.min().to_numpy()
        self.max_ = frame.max().to_numpy()
        self.column_medians_ = frame.median().to_numpy()
        self.missing_rate_ = frame.isna().mean().to_numpy()
        values = frame.to_numpy()
        finite = values[~np.isnan(values)] if values.size else values
        self.binary_ = np.array([set(np.unique(frame[c].dropna())) <= {0.0, 1.0} for c in frame.columns])
        del finite
        cols = list(self.distance_columns) if self.distance_columns is not None else list(frame.columns)
        sub = frame[cols]
        sub = sub.loc[:, sub.nunique(dropna=True) > 1]
        self.distance_columns_ = list(sub.columns)
        med = sub.median()
        Z = sub.fillna(med)
        mean, scale = Z.mean(), Z.std(ddof=0).replace(0, 1.0)
        Z = ((Z - mean) / scale).to_numpy()
        self.medians_, self.means_, self.scales_ = med.to_numpy(), mean.to_numpy(), scale.to_numpy()
        if Z.shape[1]:
            self.precision_ = LedoitWolf().fit(Z).precision_
            d = self._mahalanobis(Z)
        else:
            self.precision_ = np.zeros((0, 0))
            d = np.zeros(len(frame))
        self.threshold_ = float(np.quantile(d, self.quantile)) if len(d) else 0.0
        self.distance_quantiles_ = np.quantile(d, np.linspace(0, 1, 101)) if len(d) else np.zeros(101)
        return self

    def _mahalanobis(self, Z: np.ndarray) -> np.ndarray:
        return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", Z, self.precision_, Z), 0.0))

    def impute_unseen_missing(self, X: Any) -> tuple[pd.DataFrame, list[list[str]]]:
        """Fill values missing now but never missing in training with the training median.

        A tree model sends a value it never saw missing down an arbitrary default branch; the training
        median is the less surprising assumption, and it is reported. Returns the filled frame and, per
        row, notes such as ``"BMI not known: training median 26.1 used"``.
        """
        check_fitted(self, "threshold_")
        frame = as_frame(X, list(self.feature_names_in_), estimator="OodDetector").copy()
        labels = self.labels or {}
        notes: list[list[str]] = [[] for _ in range(len(frame))]
        values = frame.to_numpy(dtype="float64", copy=True)
        fill = np.isnan(values) & ((self.missing_rate_ == 0) & ~np.isnan(self.column_medians_))[None, :]
        for i, j in zip(*np.nonzero(fill)):
            name = self.feature_names_in_[j]
            notes[i].append(f"{labels.get(name, name)} not known: training median {self.column_medians_[j]:.3g} used")
        values[fill] = np.broadcast_to(self.column_medians_, values.shape)[fill]
        return pd.DataFrame(values, columns=frame.columns, index=frame.index), notes

    def check(self, X: Any) -> list[OodResult]:
        """One :class:`OodResult` per row of ``X``."""
        check_fitted(self, "threshold_")
        frame = as_frame(X, list(self.feature_names_in_), estimator="OodDetector")
        labels = self.labels or {}
        sub = frame[self.distance_columns_].fillna(pd.Series(self.medians_, index=self.distance_columns_))
        Z = ((sub - self.means_) / self.scales_).to_numpy()
        d = self._mahalanobis(Z) if Z.shape[1] else np.zeros(len(frame))
        values = frame.to_numpy()
        span = np.where(np.isfinite(self.max_ - self.min_), self.max_ - self.min_, 0.0)
        out = []
        for i in range(len(frame)):
            reasons: list[str] = []
            notes: list[str] = []
            row = values[i]
            for j, name in enumerate(self.feature_names_in_):
                v = row[j]
                if np.isnan(v):
                    continue
                label = labels.get(name, name)
                if self.binary_[j]:
                    if v == 1.0 and self.max_[j] == 0.0:
                        if name.endswith(MISSING_SUFFIX):
                            notes.append(f"{label} for this patient; known for every training patient")
                        else:
                            reasons.append(f"{label}: never seen in the training data")
                elif np.isnan(self.min_[j]):
                    reasons.append(f"{label}: never measured in the training data")
                elif v < self.min_[j] - self.range_tolerance * span[j] or v > self.max_[j] + self.range_tolerance * span[j]:
                    reasons.append(f"{label} = {v:g} outside the training range {self.min_[j]:g}-{self.max_[j]:g}")
            pct = float(np.searchsorted(self.distance_quantiles_, d[i], side="right") - 1)
            far = bool(d[i] > self.threshold_)
            if far:
                reasons.insert(0, f"patient profile unlike the training data (distance above the "
                                  f"{self.quantile:.0%} training quantile)")
            out.append(OodResult(flag=far or bool(reasons), distance=float(d[i]), percentile=max(0.0, pct),
                                 threshold=self.threshold_, reasons=tuple(reasons), notes=tuple(notes)))
        return out

    def save(self, directory: str | Path, name: str = "ood") -> list[Path]:
        check_fitted(self, "threshold_")
        meta = {"class": "OodDetector", "params": self.get_params(), "feature_names": list(self.feature_names_in_),
                "min": self.min_, "max": self.max_, "binary": self.binary_.tolist(),
                "column_medians": self.column_medians_, "missing_rate": self.missing_rate_,
                "distance_columns": self.distance_columns_, "medians": self.medians_, "means": self.means_,
                "scales": self.scales_, "precision": self.precision_, "threshold": self.threshold_,
                "distance_quantiles": self.distance_quantiles_}
        return [write_json(Path(directory) / f"{name}.json", meta)]

    @classmethod
    def load(cls, directory: str | Path, name: str = "ood") -> OodDetector:
        meta = read_json(Path(directory) / f"{name}.json")
        est = cls(**meta["params"])
        est.feature_names_in_ = np.array(meta["feature_names"], dtype=object)
        est.n_features_in_ = len(est.feature_names_in_)
        est.min_, est.max_ = floats(meta["min"]), floats(meta["max"])
        est.binary_ = np.array(meta["binary"], dtype=bool)
        est.column_medians_ = floats(meta["column_medians"])
        est.missing_rate_ = floats(meta["missing_rate"])
        est.distance_columns_ = list(meta["distance_columns"])
        est.medians_, est.means_, est.scales_ = floats(meta["medians"]), floats(meta["means"]), floats(meta["scales"])
        k = len(est.distance_columns_)
        est.precision_ = np.array(meta["precision"], dtype="float64").reshape(k, k)
        est.threshold_ = float(meta["threshold"])
        est.distance_quantiles_ = floats(meta["distance_quantiles"])
        return est


class BootstrapEnsemble(BaseEstimator):
    """``n_bootstrap`` clones of ``estimator`` fitted on bootstrap resamples (percentile intervals).

    The resample is given as weights: each distinct drawn row is passed once with its multiplicity as
    sample weight (times any caller weight), so a member's own validation split (early stopping,
    calibration) never contains copies of its training rows.

    Parameters
    ----------
    estimator : estimator
        Any estimator of this package (fitted clones must have ``save``/``load``).
    n_bootstrap : int
    interval : float
        Central coverage of :meth:`interval` (0.9 -> 5th to 95th percentile).
    random_state : int

    Attributes
    ----------
    estimators_ : list
    """

    def __init__(self, estimator: Any = None, n_bootstrap: int = 20, interval: float = 0.9,
                 random_state: int = 0) -> None:
        self.estimator = estimator
        self.n_bootstrap = n_bootstrap
        self.interval = interval
        self.random_state = random_state

    def fit(self, X: Any, *targets: Any, sample_weight: Any = None, stratify: Any = None) -> BootstrapEnsemble:
        """Fit each clone on a resample of the rows; ``targets`` are passed on (e.g. ``y`` or ``time, event``).

        ``stratify`` (labels) resamples within each label so every replicate keeps both classes.
        """
        if self.estimator is None:
            raise ValueError("BootstrapEnsemble needs an estimator")
        frame = as_frame(X, estimator="BootstrapEnsemble")
        rng = np.random.default_rng(self.random_state)
        n = len(frame)
        groups = [np.arange(n)] if stratify is None else [np.flatnonzero(np.asarray(stratify) == g)
                                                           for g in np.unique(np.asarray(stratify))]
        base_w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype="float64")
        estimators = []
        for b in range(int(self.n_bootstrap)):
            draw = np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups])
            counts = np.bincount(draw, minlength=n)
            idx = np.flatnonzero(counts)
            est = clone(self.estimator)
            if "random_state" in est.get_params():
                est.set_params(random_state=int(self.random_state) + b + 1)
            args = [t.iloc[idx] if isinstance(t, (pd.DataFrame, pd.Series)) else np.asarray(t)[idx] for t in targets]
            estimators.append(est.fit(frame.iloc[idx], *args, sample_weight=counts[idx] * base_w[idx]))
        self.estimators_ = estimators
        self.feature_names_in_ = np.array([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def predictions(self, predict: Callable[[Any], Any]) -> np.ndarray:
        """``predict(estimator)`` for every member, stacked on axis 0."""
        check_fitted(self, "estimators_")
        return np.stack([np.asarray(predict(est), dtype="float64") for est in self.estimators_])

    def interval_of(self, predict: Callable[[Any], Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(median, low, high)`` over members of ``predict(estimator)`` (NaN-aware)."""
        stack = self.predictions(predict)
        a = (1 - self.interval) / 2
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                # np.median/np.quantile give bitwise the NaN-aware results on NaN-free columns and are
                # vectorised; only columns with a NaN (e.g. a median not reached) take the slow NaN-aware path
                mid, lo, hi = (np.median(stack, axis=0), np.quantile(stack, a, axis=0),
                               np.quantile(stack, 1 - a, axis=0))
                has_nan = np.isnan(stack).any(axis=0)
                if np.any(has_nan):
                    sub = stack[:, has_nan]
                    mid[has_nan] = np.nanmedian(sub, axis=0)
                    lo[has_nan] = np.nanquantile(sub, a, axis=0)
                    hi[has_nan] = np.nanquantile(sub, 1 - a, axis=0)
                return mid, lo, hi

    def save(self, directory: str | Path, name: str) -> list[Path]:
        check_fitted(self, "estimators_")
        directory = Path(directory)
        paths: list[Path] = []
        members = []
        for i, est in enumerate(self.estimators_):
            member = f"{name}__b{i:02d}"
            paths += est.save(directory, member)
            members.append(member)
        meta = {"class": "BootstrapEnsemble", "member_class": type(self.estimators_[0]).__name__,
                "n_bootstrap": self.n_bootstrap, "interval": self.interval, "random_state": self.random_state,
                "members": members, "feature_names": list(self.feature_names_in_)}
        paths.append(write_json(directory / f"{name}.json", meta))
        return paths

    @classmethod
    def load(cls, directory: str | Path, name: str, member_classes: dict[str, type]) -> BootstrapEnsemble:
        directory = Path(directory)
        meta = read_json(directory / f"{name}.json")
        member_cls = member_classes[meta["member_class"]]
        est = cls(estimator=None, n_bootstrap=meta["n_bootstrap"], interval=meta["interval"],
                  random_state=meta["random_state"])
        est.estimators_ = [member_cls.load(directory, m) for m in meta["members"]]
        est.feature_names_in_ = np.array(meta["feature_names"], dtype=object)
        est.n_features_in_ = len(est.feature_names_in_)
        return est
