"""Statistics of the cohort report (:mod:`cohorts.report`): frozen, JSON-ready results and the functions that
compute them from plain arrays/frames.

* :func:`calibration`: equal-count bins (up to 10, at least 5 each), Brier score, calibration-in-the-large
  (intercept of a logistic model with ``logit(p)`` as offset) and slope (logistic recalibration
  ``y ~ a + b logit(p)``), both by Newton-Raphson maximum likelihood, the slope with a Wald 95% CI.
* :func:`survival_comparison`: Kaplan-Meier (lifelines, :func:`cohorts.evaluation.km.km_compare`) of
  "received the recommended option (rank 1)" vs "received another option", numbers at risk at fixed times,
  the log-rank p only when every group has :data:`MIN_GROUP_FOR_TEST` patients, Cox hazard ratios (lifelines
  ``CoxPHFitter``) unadjusted and adjusted for age, stage (one-hot) and ECOG where they vary. With more than
  one cancer type the test is the log-rank stratified by cancer type (:func:`stratified_logrank`; never a
  log-rank pooled across cancer types), the Cox models are stratified by cancer type (``strata``), and the
  Kaplan-Meier curves are also given per cancer type (:class:`StratumSurvival`).
* :func:`regimen_km`: Kaplan-Meier by received regimen per cancer type (the top N regimens of each cancer
  type and "other regimens"), numbers at risk, log-rank within each cancer type.
* :func:`distributions`: per-regimen n, mean, quartiles, 5th/95th percentiles and fixed-bin histograms.
* :func:`pgx_frequencies`: phenotype counts and % of the called patients per gene x population.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from cohorts.evaluation.km import GroupSummary

__all__ = [
    "METRICS",
    "MIN_GROUP_FOR_TEST",
    "OTHER",
    "RECOMMENDED",
    "Calibration",
    "CalibrationBin",
    "Distributions",
    "GenePopulation",
    "HazardRatio",
    "KMCurve",
    "MetricSummary",
    "PgxFrequencies",
    "PhenotypeCount",
    "RegimenDistribution",
    "StratumSurvival",
    "SurvivalComparison",
    "at_risk_times",
    "calibration",
    "distributions",
    "pgx_frequencies",
    "regimen_km",
    "stratified_logrank",
    "survival_comparison",
]

#: Smallest group for which the log-rank p is shown.
MIN_GROUP_FOR_TEST = 10
RECOMMENDED = "received the recommended option (rank 1)"
OTHER = "received another option"
#: Ridge penalty of a stratified, adjusted Cox model that does not converge without one (small strata).
STRATIFIED_PENALIZER = 0.01
#: Group of the regimens beyond the top N of a cancer type (:func:`regimen_km`).
OTHER_REGIMENS = "other regimens"
#: Predicted quantities summarised per regimen: column -> (label, unit).
METRICS: dict[str, tuple[str, str]] = {
    "p_response": ("response probability", ""),
    "pfs_median_days": ("PFS median", "days"),
    "os_median_days": ("OS median", "days"),
    "max_toxicity_probability": ("max severe-toxicity probability", ""),
}

# ------------------------------------------------------------------------------------------------ results
def _clean(obj: Any) -> Any:
    """JSON-ready copy: NaN/inf -> None, numpy scalars -> Python, tuples -> lists."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(float(obj)) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


class _Dict:
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (NaN as ``None``)."""
        return _clean(asdict(self))  # type: ignore[call-overload]


@dataclass(frozen=True)
class MetricSummary(_Dict):
    """Distribution of one predicted quantity for one regimen."""

    metric: str
    n: int
    mean: float | None
    median: float | None
    q1: float | None
    q3: float | None
    p05: float | None
    p95: float | None
    histogram: tuple[int, ...]


@dataclass(frozen=True)
class RegimenDistribution(_Dict):
    """One candidate regimen: patients it was scored for, how often ranked first, and its predictions."""

    regimen: str
    n_patients: int
    n_recommended: int
    metrics: tuple[MetricSummary, ...]

    def metric(self, name: str) -> MetricSummary:
        return next(m for m in self.metrics if m.metric == name)


@dataclass(frozen=True)
class Distributions(_Dict):
    """Predictions per treatment; histogram bin edges shared by all regimens of a metric."""

    metrics: tuple[str, ...]
    labels: dict[str, str]
    units: dict[str, str]
    bin_edges: dict[str, tuple[float, ...]]
    regimens: tuple[RegimenDistribution, ...]


@dataclass(frozen=True)
class PhenotypeCount(_Dict):
    phenotype: str
    count: int
    percent: float


@dataclass(frozen=True)
class GenePopulation(_Dict):
    """Phenotype frequencies of one gene in one population (% of the patients with the gene called)."""

    gene: str
    population: str
    n_patients: int
    n_callable: int
    n_not_callable: int
    phenotypes: tuple[PhenotypeCount, ...]


@dataclass(frozen=True)
class PgxFrequencies(_Dict):
    """Pharmacogenomic phenotype frequencies by population (one row per scored patient)."""

    population_source: str
    n_patients: int
    populations: dict[str, int]
    genes: tuple[str, ...]
    rows: tuple[GenePopulation, ...]

    def cell(self, gene: str, population: str) -> GenePopulation | None:
        return next((r for r in self.rows if r.gene == gene and r.population == population), None)

    def phenotypes_of(self, gene: str) -> list[str]:
        """The gene's phenotypes, most frequent first over all populations."""
        total: Counter = Counter()
        for r in self.rows:
            if r.gene == gene:
                total.update({p.phenotype: p.count for p in r.phenotypes})
        return [p for p, _ in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))]


@dataclass(frozen=True)
class CalibrationBin(_Dict):
    low: float
    high: float
    mean_predicted: float
    observed: float
    n: int


@dataclass(frozen=True)
class Calibration(_Dict):
    """Calibration of a predicted probability against an observed 0/1 outcome."""

    label: str
    n: int
    events: int
    brier: float | None
    mean_predicted: float | None
    observed_rate: float | None
    calibration_in_the_large: float | None
    calibration_intercept: float | None
    calibration_slope: float | None
    slope_ci: tuple[float | None, float | None]
    bins: tuple[CalibrationBin, ...]
    note: str | None = None


@dataclass(frozen=True)
class HazardRatio(_Dict):
    """Cox hazard ratio of "received the recommended option" vs "received another option"."""

    model: str
    covariates: tuple[str, ...]
    n: int
    events: int
    hr: float | None
    low: float | None
    high: float | None
    p: float | None
    note: str | None = None


@dataclass(frozen=True)
class KMCurve(_Dict):
    """A Kaplan-Meier step function (right-continuous) with its 95% confidence band."""

    label: str
    times: tuple[float, ...]
    survival: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]


@dataclass(frozen=True)
class StratumSurvival(_Dict):
    """Kaplan-Meier of groups within one cancer type: curves, numbers at risk, the log-rank test there."""

    cancer_type: str
    n: int
    events: int
    times: tuple[float, ...]
    groups: tuple[GroupSummary, ...]
    curves: tuple[KMCurve, ...]
    logrank_p: float | None
    logrank_statistic: float | None
    logrank_note: str | None


@dataclass(frozen=True)
class SurvivalComparison(_Dict):
    """Kaplan-Meier, log-rank and Cox of one endpoint by adherence to the recommendation.

    With several cancer types, ``logrank_*`` is the log-rank test stratified by cancer type
    (``stratified_by == "cancer_type"``), the Cox models are stratified too, and ``strata`` holds the
    Kaplan-Meier per cancer type; the pooled ``curves`` are descriptive only.
    """

    endpoint: str
    n: int
    events: int
    times: tuple[float, ...]
    groups: tuple[GroupSummary, ...]
    curves: tuple[KMCurve, ...]
    logrank_p: float | None
    logrank_statistic: float | None
    logrank_note: str | None
    hazard_ratios: tuple[HazardRatio, ...]
    note: str | None = None
    stratified_by: str | None = None
    strata: tuple[StratumSurvival, ...] = ()


# ------------------------------------------------------------------------------------------------ statistics
def stratified_logrank(time: Any, event: Any, group: Any, strata: Any) -> tuple[float | None, float | None]:
    """Two-group log-rank test stratified by ``strata``: ``(chi-square with 1 df, p)``.

    Observed minus expected events of the first group (``group`` true) and their hypergeometric variance are
    summed over the distinct event times within each stratum (Mantel-Haenszel); ``(None, None)`` when the
    variance is zero (no informative event time).

    >>> import numpy as np
    >>> t = np.array([1, 2, 3, 4, 1, 2, 3, 4.]); e = np.ones(8); g = np.array([1, 1, 0, 0, 1, 0, 1, 0])
    >>> round(stratified_logrank(t, e, g, np.zeros(8))[0], 3)
    3.25
    """
    from scipy.stats import chi2

    t = np.asarray(time, dtype=float)
    e = np.asarray(event).astype(bool)
    g = np.asarray(group).astype(bool)
    s = np.asarray(strata).astype(str)
    o_minus_e, var = 0.0, 0.0
    for level in np.unique(s):
        m = s == level
        tt, ee, gg = t[m], e[m], g[m]
        for u in np.unique(tt[ee]):
            at_risk = tt >= u
            n, n1 = int(at_risk.sum()), int((at_risk & gg).sum())
            d = int((ee & (tt == u)).sum())
            d1 = int((ee & (tt == u) & gg).sum())
            if n < 2:
                continue
            o_minus_e += d1 - d * n1 / n
            var += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    if var <= 0:
        return None, None
    stat = o_minus_e ** 2 / var
    return float(stat), float(chi2.sf(stat, 1))


def _stratum(df: pd.DataFrame, cancer_type: str, labels: np.ndarray, order: Sequence[str],
             min_group: int) -> StratumSurvival:
    """Kaplan-Meier of ``order`` groups (``labels`` per row of ``df``: ``time``, ``event``) in one cancer type."""
    from cohorts.evaluation.km import km_compare

    n, events = len(df), int(df["event"].sum())
    present = [lab for lab in order if (labels == lab).any()]
    times = at_risk_times(float(df["time"].max()) if n else 0.0)
    curves = tuple(_curve(lab, df["time"].to_numpy()[labels == lab], df["event"].to_numpy()[labels == lab])
                   for lab in present)
    if len(present) < 2:
        return StratumSurvival(cancer_type, n, events, times, (), curves, None, None,
                               "no comparison: only one group has patients")
    km = km_compare(df["time"], df["event"], labels, times=times, order=tuple(present))
    small = [f"'{lab}' has {int((labels == lab).sum())}" for lab in present if (labels == lab).sum() < min_group]
    if small:
        return StratumSurvival(cancer_type, n, events, km.times, km.groups, curves, None, None,
                               f"log-rank test not shown: {', '.join(small)} patients (fewer than {min_group})")
    return StratumSurvival(cancer_type, n, events, km.times, km.groups, curves, km.logrank_p,
                           km.logrank_statistic, None)


def regimen_km(frame: pd.DataFrame, *, top_n: int = 6, min_group: int = MIN_GROUP_FOR_TEST,
               min_patients: int = 2) -> tuple[StratumSurvival, ...]:
    """Kaplan-Meier by received regimen, one :class:`StratumSurvival` per cancer type.

    Parameters
    ----------
    frame : DataFrame
        ``time``, ``event``, ``regimen`` and ``cancer_type`` (missing: one stratum "all").
    top_n : int
        Regimens shown per cancer type (by number of patients); the rest are pooled as
        :data:`OTHER_REGIMENS` so that the chart stays legible with many regimens.
    min_group, min_patients
        Smallest group for a log-rank test; smallest cancer type shown.

    Returns
    -------
    tuple of StratumSurvival
        Largest cancer type first. The log-rank test is within a cancer type, never pooled across them.
    """
    df = frame.dropna(subset=["time", "event"]).copy()
    df["time"] = df["time"].astype(float)
    df["event"] = df["event"].astype(bool).astype(int)
    ct = (df["cancer_type"].astype("object").where(df["cancer_type"].notna(), "unknown").astype(str)
          if "cancer_type" in df.columns else pd.Series("all", index=df.index))
    out = []
    for cancer, sub in sorted(df.groupby(ct.to_numpy()), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(sub) < min_patients:
            continue
        counts = sub["regimen"].astype(str).value_counts()
        top = list(counts.index[:top_n])
        labels = np.where(sub["regimen"].astype(str).isin(top), sub["regimen"].astype(str), OTHER_REGIMENS)
        order = [*top, *([OTHER_REGIMENS] if (labels == OTHER_REGIMENS).any() else [])]
        out.append(_stratum(sub, str(cancer), labels, order, min_group))
    return tuple(out)


def _logistic_fit(x: np.ndarray | None, y: np.ndarray, offset: np.ndarray,
                  max_iter: int = 100) -> tuple[np.ndarray, np.ndarray] | None:
    """Maximum-likelihood logistic regression ``y ~ 1 [+ x] + offset`` (Newton-Raphson).

    Returns ``(coefficients, standard errors)`` or ``None`` when it does not converge (e.g. separation).
    """
    X = np.ones((len(y), 1)) if x is None else np.column_stack([np.ones(len(y)), x])
    beta = np.zeros(X.shape[1])
    for _ in range(max_iter):
        mu = 1.0 / (1.0 + np.exp(-(offset + X @ beta)))
        w = mu * (1.0 - mu)
        hess = X.T @ (X * w[:, None])
        try:
            step = np.linalg.solve(hess, X.T @ (y - mu))
        except np.linalg.LinAlgError:
            return None
        beta = beta + step
        if not np.all(np.isfinite(beta)) or np.max(np.abs(beta)) > 50:
            return None
        if np.max(np.abs(step)) < 1e-10:
            mu = 1.0 / (1.0 + np.exp(-(offset + X @ beta)))
            hess = X.T @ (X * (mu * (1.0 - mu))[:, None])
            try:
                se = np.sqrt(np.diag(np.linalg.inv(hess)))
            except np.linalg.LinAlgError:
                se = np.full(len(beta), np.nan)
            return beta, se
    return None


def calibration(y: Any, p: Any, label: str, *, max_bins: int = 10, min_per_bin: int = 5) -> Calibration:
    """Reliability bins, Brier score, calibration-in-the-large and slope of probabilities ``p`` for outcomes ``y``.

    Parameters
    ----------
    y, p : array-like
        Observed 0/1 outcome and predicted probability (pairs with a missing value are left out).
    label : str
        What is calibrated (shown as the section title).
    max_bins, min_per_bin : int
        Equal-count bins by predicted probability: ``min(max_bins, n // min_per_bin)`` (at least 1).

    Returns
    -------
    Calibration
        ``calibration_in_the_large`` is the intercept of ``logit P(y) = a + logit(p)`` (0 ideal);
        ``calibration_intercept``/``calibration_slope`` come from ``logit P(y) = a + b logit(p)`` (0 and 1 ideal).
    """
    y = np.asarray(y, dtype="float64").ravel()
    p = np.asarray(p, dtype="float64").ravel()
    ok = np.isfinite(y) & np.isfinite(p)
    y, p = y[ok], p[ok]
    n = len(y)
    if n == 0:
        return Calibration(label, 0, 0, None, None, None, None, None, None, (None, None), (),
                           "no patient has both a prediction and an observed outcome")
    k = max(1, min(max_bins, n // min_per_bin))
    order = np.argsort(p, kind="stable")
    bins = []
    for idx in np.array_split(order, k):
        if len(idx):
            bins.append(CalibrationBin(float(p[idx].min()), float(p[idx].max()), float(p[idx].mean()),
                                       float(y[idx].mean()), int(len(idx))))
    events = int(y.sum())
    lp = np.log(np.clip(p, 1e-6, 1 - 1e-6) / (1 - np.clip(p, 1e-6, 1 - 1e-6)))
    citl = intercept = slope = None
    slope_ci: tuple[float | None, float | None] = (None, None)
    note = None
    if events in (0, n):
        note = "every outcome is the same: calibration-in-the-large and slope are not estimable"
    else:
        fit0 = _logistic_fit(None, y, lp)
        citl = None if fit0 is None else float(fit0[0][0])
        fit1 = _logistic_fit(lp, y, np.zeros(n))
        if fit1 is None:
            note = "the logistic recalibration did not converge (too few events or separation)"
        else:
            intercept, slope = float(fit1[0][0]), float(fit1[0][1])
            se = float(fit1[1][1])
            if math.isfinite(se):
                slope_ci = (slope - 1.959964 * se, slope + 1.959964 * se)
            if min(events, n - events) < 10:
                k = min(events, n - events)
                kind = ("event" if events <= n - events else "non-event") + ("" if k == 1 else "s")
                note = f"only {k} {kind}: the slope is imprecise"
    return Calibration(label, n, events, float(np.mean((p - y) ** 2)), float(p.mean()), float(y.mean()),
                       citl, intercept, slope, slope_ci, tuple(bins), note)


def _nice_step(span: float, max_ticks: int = 8) -> float:
    for step in (30.0, 60.0, 90.0, 180.0, 365.0, 730.0, 1461.0):
        if span / step <= max_ticks:
            return step
    return float(10 ** math.ceil(math.log10(max(span / max_ticks, 1.0))))


def at_risk_times(max_time: float) -> tuple[float, ...]:
    """Fixed times (days) for numbers at risk: 0 and multiples of 30/60/90/180/365/730 days up to ``max_time``."""
    if not math.isfinite(max_time) or max_time <= 0:
        return (0.0,)
    step = _nice_step(max_time)
    return tuple(float(t) for t in np.arange(0.0, max_time + 1e-9, step))


def _curve(label: str, time: np.ndarray, event: np.ndarray, max_points: int = 400) -> KMCurve:
    from lifelines import KaplanMeierFitter

    kmf = KaplanMeierFitter().fit(time, event)
    grid = np.asarray(kmf.timeline, dtype=float)
    if len(grid) > max_points:
        grid = np.unique(np.r_[np.linspace(0.0, grid.max(), max_points), grid.max()])
    sf = kmf.survival_function_.iloc[:, 0].to_numpy()
    ci = kmf.confidence_interval_.to_numpy()
    pos = np.clip(np.searchsorted(np.asarray(kmf.timeline, dtype=float), grid, side="right") - 1, 0, len(sf) - 1)
    return KMCurve(label, tuple(grid.tolist()), tuple(sf[pos].tolist()), tuple(ci[pos, 0].tolist()),
                   tuple(ci[pos, 1].tolist()))


def _cox(df: pd.DataFrame, covariates: Sequence[str], model: str, strata: str | None = None) -> HazardRatio:
    """Cox model of ``time``/``event`` on ``recommended`` (+ covariates, stratified by ``strata`` when given:
    a baseline hazard per stratum); HR of the recommended group."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError

    data = df[["time", "event", "recommended", *covariates, *([strata] if strata else [])]].dropna()
    if strata:
        data = data.assign(**{strata: pd.factorize(data[strata].astype(str))[0]})
    n, events = len(data), int(data["event"].sum())
    names = tuple(covariates)
    per_group = data.groupby("recommended")["event"].sum()
    if len(per_group) < 2 or (per_group == 0).any():
        return HazardRatio(model, names, n, events, None, None, None, None,
                           "not estimable: a group has no events (or only one group)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        penalised = False
        try:
            cph = CoxPHFitter().fit(data.astype(float), duration_col="time", event_col="event",
                                    strata=[strata] if strata else None)
        except (ConvergenceError, ValueError, np.linalg.LinAlgError) as err:
            if not strata or not covariates:
                return HazardRatio(model, names, n, events, None, None, None, None,
                                   f"the Cox model did not converge ({type(err).__name__})")
            # small strata with several covariates: retry once with a light ridge penalty, and say so
            try:
                cph = CoxPHFitter(penalizer=STRATIFIED_PENALIZER).fit(
                    data.astype(float), duration_col="time", event_col="event", strata=[strata])
            except (ConvergenceError, ValueError, np.linalg.LinAlgError) as err2:
                return HazardRatio(model, names, n, events, None, None, None, None,
                                   f"the Cox model did not converge ({type(err2).__name__})")
            penalised = True
    row = cph.summary.loc["recommended"]
    note = (f"converged only with a ridge penalty of {STRATIFIED_PENALIZER} (small cancer-type strata): the "
            "hazard ratio is shrunk towards 1; read with care") if penalised else None
    if note is None and any("converge" in str(w.message).lower() for w in caught):
        note = "lifelines reported convergence problems: read with care"
    return HazardRatio(model, names, n, events, float(row["exp(coef)"]), float(row["exp(coef) lower 95%"]),
                       float(row["exp(coef) upper 95%"]), float(row["p"]), note)


def _adjustment(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Columns for the adjusted Cox model from age, stage (one-hot, missing as its own level) and ECOG."""
    out = frame.copy()
    cols: list[str] = []
    used: list[str] = []
    for name in ("age", "ecog"):
        if name in out.columns and out[name].notna().any():
            out[name] = pd.to_numeric(out[name], errors="coerce").astype(float)
            if out[name].dropna().nunique() > 1:
                cols.append(name)
                used.append(name)
    if "stage" in out.columns and out["stage"].notna().any():
        stage = out["stage"].astype("object").where(out["stage"].notna(), "unknown").astype(str)
        dummies = pd.get_dummies(stage, prefix="stage", drop_first=True, dtype=float)
        if dummies.shape[1]:
            out = pd.concat([out, dummies], axis=1)
            cols.extend(dummies.columns)
            used.append("stage")
    return out, cols, used


def survival_comparison(frame: pd.DataFrame, endpoint: str, *, min_group: int = MIN_GROUP_FOR_TEST) -> SurvivalComparison:
    """Kaplan-Meier, log-rank (when every group has ``min_group`` patients) and Cox HRs of one endpoint.

    Parameters
    ----------
    frame : DataFrame
        One row per patient whose received regimen was among the scored options: ``recommended`` (bool),
        ``{endpoint}_days``, ``{endpoint}_event`` and optionally ``age``, ``stage``, ``ecog``.
    endpoint : {"pfs", "os"}
    min_group : int
        Smallest group size for which the log-rank p is reported.
    """
    from cohorts.evaluation.km import km_compare

    df = frame.dropna(subset=[f"{endpoint}_days", f"{endpoint}_event"]).copy()
    df["time"] = df[f"{endpoint}_days"].astype(float)
    df["event"] = df[f"{endpoint}_event"].astype(bool).astype(int)
    df["recommended"] = df["recommended"].astype(bool).astype(int)
    label = np.where(df["recommended"] == 1, RECOMMENDED, OTHER)
    n, events = len(df), int(df["event"].sum())
    times = at_risk_times(float(df["time"].max()) if n else 0.0)
    curves = tuple(_curve(lab, df["time"].to_numpy()[label == lab], df["event"].to_numpy()[label == lab])
                   for lab in (RECOMMENDED, OTHER) if (label == lab).any())
    sizes = {lab: int((label == lab).sum()) for lab in (RECOMMENDED, OTHER)}
    if min(sizes.values()) == 0:
        return SurvivalComparison(endpoint, n, events, times, (), curves, None, None,
                                  "no comparison: " + ("no patients" if n == 0 else "only one group has patients"),
                                  (), f"{endpoint.upper()} known for {n} patients")
    km = km_compare(df["time"], df["event"], label, times=times, order=(RECOMMENDED, OTHER))
    stratified = "cancer_type" in df.columns and df["cancer_type"].dropna().nunique() > 1
    if stratified:
        df["cancer_type"] = df["cancer_type"].astype("object").where(df["cancer_type"].notna(), "unknown")
    small = [f"'{lab}' has {k} patients" for lab, k in sizes.items() if k < min_group]
    if small:
        p = stat = None
        lr_note = (f"log-rank test not shown: {' and '.join(small)} (fewer than {min_group}); "
                   "the curves are too uncertain to test")
    elif stratified:
        stat, p = stratified_logrank(df["time"], df["event"], df["recommended"], df["cancer_type"])
        lr_note = ("log-rank test stratified by cancer type (the pooled curves above mix cancer types and are "
                   "descriptive only)" if p is not None else "stratified log-rank test not estimable")
    else:
        p, stat, lr_note = km.logrank_p, km.logrank_statistic, None
    adj, cols, used = _adjustment(df)
    words = ", ".join("ECOG" if u == "ecog" else u for u in used)
    hrs = [_cox(df, [], "unadjusted")]
    if cols:
        hrs.append(_cox(adj, cols, "adjusted for " + words))
    else:
        hrs.append(HazardRatio("adjusted", (), n, events, None, None, None, None,
                               "no adjustment covariates (age, stage, ECOG) vary in this cohort"))
    strata: tuple[StratumSurvival, ...] = ()
    if stratified:
        hrs.append(_cox(df, [], "stratified by cancer type", strata="cancer_type"))
        if cols:
            hrs.append(_cox(adj, cols, f"adjusted for {words}, stratified by cancer type", strata="cancer_type"))
        ct = df["cancer_type"].astype(str).to_numpy()
        strata = tuple(_stratum(df[ct == c], c, label[ct == c], (RECOMMENDED, OTHER), min_group)
                       for c in sorted(set(ct), key=lambda c: (-(ct == c).sum(), c)))
    return SurvivalComparison(endpoint, n, events, km.times, km.groups, curves, p, stat, lr_note, tuple(hrs),
                              stratified_by="cancer_type" if stratified else None, strata=strata)


def _summary(name: str, values: np.ndarray, edges: np.ndarray) -> MetricSummary:
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return MetricSummary(name, 0, None, None, None, None, None, None, tuple(0 for _ in edges[:-1]))
    q = np.quantile(v, [0.05, 0.25, 0.5, 0.75, 0.95])
    counts, _ = np.histogram(np.clip(v, edges[0], edges[-1]), bins=edges)
    return MetricSummary(name, int(len(v)), float(v.mean()), float(q[2]), float(q[1]), float(q[3]), float(q[0]),
                         float(q[4]), tuple(int(c) for c in counts))


def _edges(metric: str, values: np.ndarray) -> np.ndarray:
    if metric in ("p_response", "max_toxicity_probability"):
        return np.linspace(0.0, 1.0, 21)
    v = values[np.isfinite(values)]
    top = float(np.quantile(v, 0.99)) if len(v) else 1.0
    top = max(100.0, math.ceil(top / 100.0) * 100.0)
    return np.linspace(0.0, top, 25)


def distributions(rows: pd.DataFrame) -> Distributions:
    """Per-regimen summaries of the predictions (one row per patient x option; values above the last
    histogram edge of PFS/OS, the 99th percentile rounded up, are counted in the last bin)."""
    names = tuple(METRICS)
    edges = {m: _edges(m, rows[m].to_numpy(dtype=float)) for m in names}
    regs = []
    for regimen, g in rows.groupby("regimen", sort=True, observed=True):
        regs.append(RegimenDistribution(str(regimen), int(len(g)), int((g["rank"] == 1).sum()),
                                        tuple(_summary(m, g[m].to_numpy(dtype=float), edges[m]) for m in names)))
    regs.sort(key=lambda r: (-r.n_patients, r.regimen))
    return Distributions(names, {m: METRICS[m][0] for m in names}, {m: METRICS[m][1] for m in names},
                         {m: tuple(float(x) for x in e) for m, e in edges.items()}, tuple(regs))


def pgx_frequencies(counts: Counter, population_sizes: Counter, source: str) -> PgxFrequencies:
    """Phenotype frequencies from ``counts[(population, gene, phenotype)]`` of called genes."""
    genes = sorted({g for _, g, _ in counts})
    pops = sorted(population_sizes, key=lambda p: (p == "unknown", p))
    rows = []
    for gene in genes:
        for pop in pops:
            cells = {ph: c for (p, g, ph), c in counts.items() if p == pop and g == gene}
            callable_ = sum(cells.values())
            phen = tuple(PhenotypeCount(ph, c, 100.0 * c / callable_)
                         for ph, c in sorted(cells.items(), key=lambda kv: (-kv[1], kv[0])))
            rows.append(GenePopulation(gene, pop, population_sizes[pop], callable_,
                                       population_sizes[pop] - callable_, phen))
    return PgxFrequencies(source, sum(population_sizes.values()), {p: population_sizes[p] for p in pops},
                          tuple(genes), tuple(rows))
