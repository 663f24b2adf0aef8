"""Survival curves that need not be proportional hazards: a weighted mixture of fitted models' own curves.

Every survival candidate of the product ranks patients by one log hazard; until now its curves were one
Breslow baseline of that log hazard, so curves never crossed and Antolini's C^td equalled Harrell's C.
:class:`CurveMixture` predicts curves as ``S(t | x) = sum_k a_k S_k(t | x)`` over members' own curves
(``a_k >= 0``, ``sum a_k = 1``): the random survival forest's ensemble Nelson-Aalen curves, the AFT model's
log-normal curves, Breslow curves. A mixture of survival functions is a survival function (monotone,
``S(0) = 1``), and may cross.

Its risk score (``predict_risk``: the ``risk`` column, Harrell's C) is one of :data:`RISK_SCORES`: the
selected model's log hazard (``"log_hazard"``, the only score of bundles before the choice), or minus the
restricted mean survival time of the mixture's own curves up to the last time of a stored grid (``"rmst"``,
:func:`rmst_risk`), which orders patients as their curves whenever the curves do not cross.
:func:`compare_curve_forms` scores both by out-of-fold Harrell's C and :func:`choose_risk_score` applies the
rule fixed before any result was seen: the curve-derived score only when the mixture is the curve form and its
out-of-fold C is higher than the log hazard's.

The weights minimise the IPCW integrated Brier score (pycox's definition, Graf et al. 1999): the score is a
weighted sum of squares ``(1{T_i > t} - S_i(t))^2``, so it is a quadratic in ``a`` and the weights come from a
small simplex-constrained least-squares problem (:func:`fit_mixture_weights`) on out-of-fold curves of the
training rows. The metrics are :mod:`recommender.models.survival_metrics` (which
:mod:`cohorts.evaluation.metrics` also uses).

Saved as JSON; every member model is saved once (by its own ``save``) even when it is also a member of the
ranking blend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recommender.models._base import (
    BundleIntegrityError,
    ModelError,
    as_frame,
    check_fitted,
    read_json,
    write_json,
)
from recommender.models._survival_input import check_finite_prediction_input
from recommender.models.survival import BlendedSurvival, _SurvivalBase, display_grid, load_survival_model
from recommender.models.survival_metrics import antolini_c_td, brier_design, integrated_brier

__all__ = ["CTD_TOLERANCE", "CURVE_FORMS", "RISK_CRITERION", "RISK_SCORES", "SELECTED_FORMS", "CurveMixture", "antolini_c_td",
           "brier_design", "choose_curve_form", "choose_risk_score", "compare_curve_forms", "curve_grid",
           "fit_mixture_weights", "integrated_brier", "member_curves", "rmst_risk"]

#: How a member's curves are computed: its Breslow baseline of its log hazard, or its own ("native") curves
#: (:meth:`~recommender.models.survival_forest.SurvivalForest.predict_survival_native`,
#: :meth:`~recommender.models.survival_aft.BoostedAFT.predict_survival_native`).
CURVE_FORMS = ("breslow", "native")

#: What a :class:`CurveMixture` ranks patients by: the selected model's log hazard, or minus the restricted mean
#: survival time of the mixture's curves (:func:`rmst_risk`).
RISK_SCORES = ("log_hazard", "rmst")


def rmst_risk(curves: Any, times: Any) -> np.ndarray:
    """Minus the restricted mean survival time up to ``times[-1]``: ``-int_0^tau S(t) dt`` (higher = worse).

    ``curves`` is ``(n, len(times))``, ``S`` at increasing ``times >= 0``, read as a right-continuous step
    function with ``S = 1`` before the first time (the area ``cohort evaluate`` reports as ``rmst_days``):
    ``sum_j S(t_{j-1}) (t_j - t_{j-1})`` with ``t_0 = 0``, ``S(t_0) = 1``. It is linear in the curves (the
    score of a mixture is the same weighted mean of its members' scores) and bounded by ``tau``. When one curve
    is nowhere below another on the grid, its score is not higher; strictly lower when it is above at a grid
    time before ``tau``.
    """
    t = _risk_times(times, minimum=1)
    S = np.asarray(curves, dtype="float64")
    if S.ndim != 2 or S.shape[1] != len(t):
        raise ValueError(f"curves of shape {S.shape} do not match {len(t)} times")
    widths = np.diff(np.concatenate([[0.0], t]))
    prev = np.column_stack([np.ones(len(S)), S[:, :-1]])
    return -(prev * widths).sum(axis=1)


def _risk_times(times: Any, minimum: int = 2) -> np.ndarray:
    """``times`` as a float array of at least ``minimum`` finite, non-negative, strictly increasing values."""
    t = np.asarray(times, dtype="float64").ravel()
    if len(t) < minimum or not np.isfinite(t).all() or (t < 0).any() or (np.diff(t) <= 0).any():
        raise ValueError(f"the RMST risk needs at least {minimum} finite, non-negative, strictly increasing times")
    return t


def member_curves(model: Any, form: str, X: Any, times: Any) -> np.ndarray:
    """``S(t | x)`` of ``model`` at ``times`` in curve form ``form`` (rows of ``X``), as an array."""
    if form == "breslow":
        return model.predict_survival(X, times=times).to_numpy(dtype="float64")
    if form == "native":
        if not hasattr(model, "predict_survival_native"):
            raise ModelError(f"{type(model).__name__} has no native survival curves", field="curve form",
                             fix="use the 'breslow' form for this member")
        return model.predict_survival_native(X, times=times).to_numpy(dtype="float64")
    raise ValueError(f"unknown curve form {form!r}; choose from {', '.join(CURVE_FORMS)}")


def fit_mixture_weights(curves: list[np.ndarray], time: Any, event: Any, grid: Any) -> np.ndarray:
    """Simplex weights ``a`` (``a_k >= 0``, ``sum a_k = 1``) minimising the IBS of ``sum_k a_k curves[k]``.

    Each ``curves[k]`` is ``(n, len(grid))``: the rows' survival at the grid times. The IBS is the quadratic
    ``a' Q a - 2 b' a + const`` with ``Q_kl = sum c S_k S_l`` and ``b_k = sum c y S_k`` (:func:`brier_design`);
    solved by SLSQP from equal weights. Weights below 1e-4 are set to 0 and the rest renormalised.
    """
    from scipy.optimize import minimize

    y, c = brier_design(time, event, grid)
    S = [np.asarray(s, float) for s in curves]
    k = len(S)
    if k == 1:
        return np.ones(1)
    Q = np.array([[np.sum(c * S[a] * S[b]) for b in range(k)] for a in range(k)])
    b = np.array([np.sum(c * y * S[a]) for a in range(k)])
    res = minimize(lambda a: a @ Q @ a - 2 * b @ a, np.full(k, 1.0 / k), jac=lambda a: 2 * Q @ a - 2 * b,
                   bounds=[(0.0, 1.0)] * k, constraints=[{"type": "eq", "fun": lambda a: a.sum() - 1.0}],
                   method="SLSQP", options={"ftol": 1e-12, "maxiter": 500})
    a = np.clip(np.asarray(res.x, float), 0.0, None)
    a[a < 1e-4] = 0.0
    if a.sum() <= 0:
        a = np.full(k, 1.0 / k)
    return a / a.sum()


# -- the mixture model ---------------------------------------------------------------------------------
class CurveMixture(_SurvivalBase):
    """A weighted mixture of members' own curves for survival; a log hazard or the curves' RMST for ranking.

    Built from fitted models with :meth:`from_fitted` (no ``fit``: the weights come from out-of-fold curves
    in :func:`recommender.models.training.select_survival_model`).

    Attributes
    ----------
    risk_model_ : fitted survival model whose log hazard is the risk score when ``risk_score_ == "log_hazard"``
    members_ : list of fitted survival models; forms_ : their curve forms (:data:`CURVE_FORMS`)
    weights_ : numpy array, one non-negative weight per member, summing to 1
    labels_ : list of str, a name per member (recorded in the bundle)
    risk_score_ : str, one of :data:`RISK_SCORES` (``"log_hazard"`` for bundles saved before the choice)
    risk_times_ : numpy array or None; with ``"rmst"``, the grid :func:`rmst_risk` integrates the curves on
        (:func:`curve_grid` of the training rows, the grid the out-of-fold comparison used)
    """

    def __init__(self) -> None:
        pass

    def fit(self, X: Any, y: Any, event: Any = None, sample_weight: Any = None) -> CurveMixture:
        raise ModelError("a CurveMixture is assembled from fitted models", field="CurveMixture",
                         fix="use CurveMixture.from_fitted (select_survival_model chooses its weights)")

    @classmethod
    def from_fitted(cls, risk_model: Any, members: list[Any], forms: list[str], weights: Any,
                    labels: list[str] | None = None, *, risk_score: str = "log_hazard",
                    risk_times: Any = None) -> CurveMixture:
        """A mixture of fitted ``members`` (curve ``forms``) with ``weights``, ranking by ``risk_model``'s log
        hazard (``risk_score="log_hazard"``) or by :func:`rmst_risk` of its curves at ``risk_times``
        (``"rmst"``)."""
        if risk_score not in RISK_SCORES:
            raise ValueError(f"unknown risk score {risk_score!r}; choose from {', '.join(RISK_SCORES)}")
        rt = _risk_times(risk_times) if risk_score == "rmst" else None
        w = np.asarray(weights, dtype="float64")
        if len(members) != len(forms) or w.shape != (len(members),) or not len(members):
            raise ValueError("one form and one weight per member, at least one member")
        if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError("mixture weights must be non-negative and not all zero")
        for f in forms:
            if f not in CURVE_FORMS:
                raise ValueError(f"unknown curve form {f!r}; choose from {', '.join(CURVE_FORMS)}")
        est = cls()
        est.risk_model_ = risk_model
        est.members_, est.forms_ = list(members), list(forms)
        est.weights_ = w / w.sum()
        est.labels_ = list(labels) if labels is not None else [f"{type(m).__name__}:{f}" for m, f in
                                                                zip(members, forms, strict=True)]
        est.risk_score_, est.risk_times_ = risk_score, rt
        est._adopt(risk_model)
        return est

    def _adopt(self, risk_model: Any) -> None:
        self.feature_names_in_ = np.asarray(risk_model.feature_names_in_, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.baseline_times_ = np.asarray(risk_model.baseline_times_, dtype="float64")  # training event times
        self.time_grid_ = display_grid(self.baseline_times_)

    def _lp(self, frame: pd.DataFrame) -> np.ndarray:
        """The risk score: the risk model's log hazard, or :func:`rmst_risk` of the curves (``risk_score_``)."""
        if self.risk_score_ == "rmst":
            return rmst_risk(self._mix(frame, self.risk_times_), self.risk_times_)
        return self.risk_model_.predict_risk(frame)

    def _mix(self, frame: pd.DataFrame, grid: np.ndarray) -> np.ndarray:
        total = np.zeros((len(frame), len(grid)))
        for m, f, a in zip(self.members_, self.forms_, self.weights_, strict=True):
            if a > 0:
                total += a * member_curves(m, f, frame, grid)
        return np.clip(total, 0.0, 1.0)

    def predict_survival(self, X: Any, times: Any = None) -> pd.DataFrame:
        """``sum_k a_k S_k(t | x)`` at ``times`` (default: ``time_grid_``)."""
        check_fitted(self, "members_")
        frame = as_frame(X, list(self.feature_names_in_), estimator="CurveMixture")
        grid = np.asarray(self.time_grid_ if times is None else times, dtype="float64")
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(self._mix(frame, grid), columns=grid, index=index)

    def survival_from_risk(self, lp: np.ndarray, times: Any = None, *, index: Any = None) -> pd.DataFrame:
        raise ModelError("a CurveMixture's curves are not a function of its risk score", field="CurveMixture",
                         fix="call predict_survival(X) or predict_outputs(X)")

    def median_from_risk(self, lp: np.ndarray) -> np.ndarray:
        raise ModelError("a CurveMixture's median is not a function of its risk score", field="CurveMixture",
                         fix="call predict_median(X) or predict_outputs(X)")

    def predict_median(self, X: Any) -> np.ndarray:
        return self.predict_outputs(X)[1]

    def predict_outputs(self, X: Any, times: Any = None) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
        """``(risk, median, curves)``: the risk score (:meth:`predict_risk`), the median from the curve at every
        training event time (``NaN``: not reached), the curves at ``times`` (default ``time_grid_``); one pass
        over the members."""
        rmst = self.risk_score_ == "rmst"
        risk = None if rmst else self.predict_risk(X)
        full = self.full_times()
        grid = np.asarray(self.time_grid_ if times is None else times, dtype="float64")
        both = np.union1d(full, grid)
        if rmst:
            check_fitted(self, "members_")
            frame = as_frame(X, list(self.feature_names_in_), estimator="CurveMixture")
            check_finite_prediction_input(frame)
            both = np.union1d(both, self.risk_times_)
            vals = self._mix(frame, both)
            risk = rmst_risk(vals[:, np.searchsorted(both, self.risk_times_)], self.risk_times_)
            curves = pd.DataFrame(vals, columns=both, index=X.index if isinstance(X, pd.DataFrame) else None)
        else:
            curves = self.predict_survival(X, times=both)
            vals = curves.to_numpy()
        below = vals[:, np.searchsorted(both, full)] <= 0.5
        median = np.where(below.any(axis=1), full[np.argmax(below, axis=1)], np.nan)
        return risk, median, curves.loc[:, grid]

    # ------------------------------------------------------------------------------------------- saving
    def save(self, directory: str | Path, name: str) -> list[Path]:
        check_fitted(self, "members_")
        files: list[Path] = []
        saved: dict[int, str] = {}

        def spec(model: Any) -> dict[str, Any]:
            """A saved single model by file name, once; a blend inline, its members by reference."""
            if isinstance(model, BlendedSurvival):
                return {"blend": {"members": [spec(m) for m in model.members_],
                                  "weights": None if model.weights is None else [float(x) for x in model.weights],
                                  "scale": float(model.scale), "feature_names": list(model.feature_names_in_),
                                  "centers": model.centers_, "scales": model.scales_,
                                  "baseline_times": model.baseline_times_, "baseline_cumhaz": model.baseline_cumhaz_,
                                  "time_grid": model.time_grid_}}
            if id(model) not in saved:
                saved[id(model)] = f"{name}_u{len(saved)}"
                files.extend(model.save(directory, saved[id(model)]))
            return {"name": saved[id(model)]}

        meta = {"class": "CurveMixture", "risk_model": spec(self.risk_model_),
                "risk_score": self.risk_score_,
                "risk_times": None if self.risk_times_ is None else [float(x) for x in self.risk_times_],
                "members": [{"model": spec(m), "form": f, "weight": float(a), "label": lab}
                            for m, f, a, lab in zip(self.members_, self.forms_, self.weights_, self.labels_,
                                                    strict=True)]}
        return [*files, write_json(Path(directory) / f"{name}.json", meta)]

    @classmethod
    def load(cls, directory: str | Path, name: str, classes: Any = None) -> CurveMixture:
        from recommender.models._base import floats

        path = Path(directory) / f"{name}.json"
        meta = read_json(path)
        cache: dict[str, Any] = {}

        def get(sp: Any, depth: int = 0) -> Any:
            if isinstance(sp, dict) and "blend" in sp and depth < 2:
                b = sp["blend"]
                blend = BlendedSurvival(members=None, weights=b.get("weights"), scale=float(b.get("scale", 1.0)))
                blend.members_ = [get(m, depth + 1) for m in b["members"]]
                blend.feature_names_in_ = np.array(b["feature_names"], dtype=object)
                blend.n_features_in_ = len(blend.feature_names_in_)
                blend.centers_, blend.scales_ = floats(b["centers"]), floats(b["scales"])
                blend._restore_baseline(b)
                return blend
            ref = sp.get("name") if isinstance(sp, dict) else None
            if not isinstance(ref, str) or not ref.startswith(f"{name}_u") or not ref[len(name) + 2:].isdigit():
                raise BundleIntegrityError("a mixture member reference is malformed", file=path,
                                           fix="rebuild the model bundle with this package version")
            if ref not in cache:
                cache[ref] = load_survival_model(directory, ref, classes)
            return cache[ref]

        try:
            risk = get(meta["risk_model"])
            members = [get(m["model"]) for m in meta["members"]]
            forms = [str(m["form"]) for m in meta["members"]]
            weights = [float(m["weight"]) for m in meta["members"]]
            labels = [str(m.get("label", "")) for m in meta["members"]]
            # bundles saved before the risk-score choice have no "risk_score": they keep the log hazard
            risk_score = meta.get("risk_score", "log_hazard")
            if not isinstance(risk_score, str):
                raise TypeError(f"risk_score must be a string, not {type(risk_score).__name__}")
            return cls.from_fitted(risk, members, forms, weights, labels, risk_score=risk_score,
                                   risk_times=meta.get("risk_times"))
        except (KeyError, TypeError, ValueError) as err:
            raise BundleIntegrityError(f"the curve mixture is malformed: {err}", file=path,
                                       fix="rebuild the model bundle with this package version") from None


# -- choosing the curve form by cross-validation ----------------------------------------------------------
#: Curve forms of the selected model compared out of fold (the first is the form bundles had before).
SELECTED_FORMS = ("breslow_ipw", "breslow", "mixture")
#: A curve form qualifies when its out-of-fold C^td is within this of the best form's; the lowest IBS wins.
CTD_TOLERANCE = 0.005
#: Points of the pycox-style grid (``linspace(min T, max T)`` of the training rows) the IBS is integrated on.
IBS_GRID_POINTS = 100


def curve_grid(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(common grid, IBS grid)``: the IBS grid (pycox's 100 points over the training times) united with the
    display grid of the training event times (where C^td reads the curves)."""
    t = np.asarray(time, float)
    ibs_grid = np.linspace(t.min(), t.max(), IBS_GRID_POINTS)
    return np.union1d(ibs_grid, display_grid(t[np.asarray(event, bool)])), ibs_grid


def choose_curve_form(forms: dict[str, dict[str, float]], tolerance: float = CTD_TOLERANCE) -> str:
    """The form with the lowest ``ibs`` among those whose ``c_td`` is within ``tolerance`` of the best ``c_td``
    (ties: the earlier form of ``forms``)."""
    order = list(forms)
    best_ctd = max(v["c_td"] for v in forms.values() if np.isfinite(v["c_td"]))
    eligible = [f for f in order if np.isfinite(forms[f]["c_td"]) and forms[f]["c_td"] >= best_ctd - tolerance]
    return min(eligible, key=lambda f: (round(forms[f]["ibs"], 10), order.index(f)))


def choose_risk_score(form: str, scores: dict[str, dict[str, Any]]) -> str:
    """The bundle's risk score (:data:`RISK_SCORES`), by a rule fixed before any result was seen.

    ``"rmst"`` (minus the restricted mean survival time of the mixture's curves) when the curve ``form`` is
    ``"mixture"`` and the mean out-of-fold Harrell's C of that score (``scores["rmst"]["c"]``) is strictly higher
    than the selected model's log hazard's (``scores["log_hazard"]["c"]``); otherwise ``"log_hazard"``.
    """
    if form != "mixture":
        return "log_hazard"
    c_lh = (scores.get("log_hazard") or {}).get("c")
    c_rm = (scores.get("rmst") or {}).get("c")
    if c_lh is None or c_rm is None or not (np.isfinite(c_lh) and np.isfinite(c_rm)):
        return "log_hazard"
    return "rmst" if c_rm > c_lh else "log_hazard"


#: How the risk score is chosen (recorded in the bundle metadata and the model card).
RISK_CRITERION = ("minus the restricted mean survival time of the mixture's curves (area under the curve up to the "
                  "last time of the comparison grid, the longest training follow-up) when the curve form is the "
                  "mixture and its mean out-of-fold Harrell's C is higher than the selected model's log hazard's; "
                  "otherwise the selected model's log hazard")


def _ph_curves(lp_fit: np.ndarray, lp_val: np.ndarray, t_fit: np.ndarray, e_fit: np.ndarray,
               w_fit: np.ndarray | None, grid: np.ndarray) -> np.ndarray:
    from recommender.models.survival import breslow

    times, H0 = breslow(t_fit, e_fit, lp_fit, w_fit)
    pos = np.searchsorted(times, grid, side="right") - 1
    Hg = np.where(pos >= 0, H0[np.clip(pos, 0, None)], 0.0)
    return np.exp(-np.outer(np.exp(lp_val), Hg))


def compare_curve_forms(*, selected: str, oof_lp: np.ndarray, insample_lp: list[tuple[np.ndarray, np.ndarray]],
                        fold_of: np.ndarray, time: np.ndarray, event: np.ndarray, weights: np.ndarray,
                        grid: np.ndarray, ibs_grid: np.ndarray, member_oof: dict[str, np.ndarray],
                        recalibrate: bool) -> dict[str, Any]:
    """Out-of-fold IBS and C^td of the selected model's curve forms; the choice and the mixture's weights.

    Forms (:data:`SELECTED_FORMS`), each computed per fold ``k`` as the final bundle would be on the other folds:

    - ``breslow_ipw``: the selected log hazard (fold model's in-sample standardised values, times the
      calibration slope of the other folds' out-of-fold values when ``recalibrate``), Breslow baseline with the
      inverse-propensity ``weights`` (what bundles did before);
    - ``breslow``: the same, Breslow baseline without the weights;
    - ``mixture``: :func:`fit_mixture_weights` on the other folds' out-of-fold curves of the two forms above and
      of every ``member_oof`` curve (the single candidates' own curves), applied to fold ``k``.

    Fold ``k``'s IBS uses its rows' censoring Kaplan-Meier and ``ibs_grid``; C^td reads the curves at ``grid``.
    The chosen form has the lowest mean IBS among the forms whose mean C^td is within :data:`CTD_TOLERANCE` of
    the best. The weights of the final mixture are fitted on all out-of-fold curves.

    The risk scores (report key ``risk_scores``) are scored per fold by Harrell's C (lifelines, as the
    candidates' cross-validated C): ``log_hazard``, the selected model's out-of-fold log hazard ``oof_lp``, and
    ``rmst``, :func:`rmst_risk` of the fold's out-of-fold mixture curves on ``grid``; ``risk_score`` is
    :func:`choose_risk_score` of the chosen form.
    """
    from recommender.models.training import _c_index, calibration_slope

    time, event = np.asarray(time, dtype="float64"), np.asarray(event, dtype=bool)
    weights, oof_lp = np.asarray(weights, dtype="float64"), np.asarray(oof_lp, dtype="float64")
    n, folds = len(time), int(fold_of.max()) + 1
    at = np.searchsorted(grid, ibs_grid)
    curves: dict[str, np.ndarray] = {"selected:breslow_ipw": np.full((n, len(grid)), np.nan),
                                     "selected:breslow": np.full((n, len(grid)), np.nan)}
    slopes = []
    for k in range(folds):
        val, rest = fold_of == k, fold_of != k
        fit_idx, lp_fit = insample_lp[k]
        slope = calibration_slope(oof_lp[rest], time[rest], event[rest], weights[rest]) if recalibrate else None
        b = 1.0 if slope is None else slope
        slopes.append(slope)
        for label, w in (("selected:breslow_ipw", weights[fit_idx]), ("selected:breslow", None)):
            curves[label][val] = _ph_curves(b * lp_fit, b * oof_lp[val], time[fit_idx], event[fit_idx], w, grid)
    pool = {**curves, **{k: v for k, v in member_oof.items() if np.isfinite(v).all()}}
    labels = list(pool)
    mix = np.full((n, len(grid)), np.nan)
    fold_weights = []
    for k in range(folds):
        val, rest = fold_of == k, fold_of != k
        a = fit_mixture_weights([pool[m][rest][:, at] for m in labels], time[rest], event[rest], ibs_grid)
        fold_weights.append({m: float(x) for m, x in zip(labels, a, strict=True) if x > 0})
        mix[val] = sum(x * pool[m][val] for m, x in zip(labels, a, strict=True) if x > 0)

    def score(c: np.ndarray) -> dict[str, Any]:
        ibs, ctd = [], []
        for k in range(folds):
            val = fold_of == k
            ibs.append(integrated_brier(c[val][:, at], time[val], event[val], ibs_grid))
            ctd.append(antolini_c_td(c[val], grid, time[val], event[val]))
        return {"ibs": float(np.mean(ibs)), "c_td": float(np.nanmean(ctd)),
                "ibs_folds": [round(float(x), 5) for x in ibs], "c_td_folds": [round(float(x), 5) for x in ctd]}

    forms = {"breslow_ipw": score(curves["selected:breslow_ipw"]), "breslow": score(curves["selected:breslow"]),
             "mixture": score(mix)}
    chosen = choose_curve_form(forms)

    def harrell(risk: np.ndarray) -> dict[str, Any]:
        per = [_c_index(time[fold_of == k], event[fold_of == k], risk[fold_of == k]) for k in range(folds)]
        vals = [float(x) for x in per if x is not None]
        return {"c": float(np.mean(vals)) if vals else None, "c_folds": [round(x, 5) for x in vals]}

    risk_scores = {"log_hazard": harrell(oof_lp), "rmst": harrell(rmst_risk(mix, grid))}
    final = fit_mixture_weights([pool[m][:, at] for m in labels], time, event, ibs_grid)
    return {"selected": chosen,
            "criterion": (f"lowest mean out-of-fold integrated Brier score (pycox IPCW, {IBS_GRID_POINTS}-point grid "
                          f"over the training times) among the curve forms whose mean out-of-fold Antolini C^td is "
                          f"within {CTD_TOLERANCE} of the best form's"),
            "risk_score": choose_risk_score(chosen, risk_scores), "risk_scores": risk_scores,
            "risk_criterion": RISK_CRITERION,
            "ranking_model": selected, "forms": forms,
            "members": {m: score(pool[m]) for m in labels},
            "mixture_weights": {m: float(x) for m, x in zip(labels, final, strict=True) if x > 0},
            "mixture_fold_weights": fold_weights,
            "fold_calibration_slopes": slopes,
            "method": ("per fold, each form is built from the models fitted on the other folds (Breslow baselines "
                       "on their rows, slope from their out-of-fold log hazards, mixture weights minimising the "
                       "IBS of their out-of-fold curves) and scored on the fold; C^td reads the curves at time 0, "
                       "the IBS grid and up to 200 training event times")}
