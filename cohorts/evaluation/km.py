"""Kaplan-Meier comparison of groups (e.g. treated as recommended vs not), with lifelines.

Per group: size, events, median survival (lifelines' convention: the first time the Kaplan-Meier curve
drops strictly below 0.5) with its 95% confidence interval (lifelines' ``median_survival_times`` of the
Kaplan-Meier confidence band; ``None`` when not reached), survival at
chosen times and the numbers at risk (individuals with observed time ``>= t``). Between groups:
the log-rank test (lifelines ``logrank_test`` for two groups, ``multivariate_logrank_test`` for more).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["GroupSummary", "KMComparison", "km_compare"]


def _num(x: Any) -> float | None:
    x = float(x)
    return None if not math.isfinite(x) else x


@dataclass(frozen=True)
class GroupSummary:
    """One group's Kaplan-Meier summary (times in the caller's unit)."""

    label: str
    n: int
    events: int
    median: float | None
    median_ci: tuple[float | None, float | None]
    survival: tuple[float, ...]
    at_risk: tuple[int, ...]


@dataclass(frozen=True)
class KMComparison:
    """Kaplan-Meier curves of two or more groups and the log-rank test between them."""

    groups: tuple[GroupSummary, ...]
    times: tuple[float, ...]
    logrank_statistic: float
    logrank_p: float
    test: str = "log-rank (lifelines)"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def group(self, label: str) -> GroupSummary:
        for g in self.groups:
            if g.label == label:
                return g
        raise KeyError(label)

    def format(self, unit: str = "", scale: float = 1.0) -> str:
        """A plain-text table (times divided by ``scale``, e.g. 30.4375 for months from days)."""

        def fmt(v: float | None) -> str:
            return "not reached" if v is None else f"{v / scale:.1f}"

        head = " | ".join(f"at risk t={t / scale:g}{unit}" for t in self.times)
        lines = [f"group | n | events | median{unit} (95% CI) | {head}"]
        for g in self.groups:
            ci = f"{fmt(g.median_ci[0])}-{fmt(g.median_ci[1])}"
            lines.append(f"{g.label} | {g.n} | {g.events} | {fmt(g.median)} ({ci}) | "
                         + " | ".join(str(a) for a in g.at_risk))
        lines.append(f"{self.test}: chi2 = {self.logrank_statistic:.3f}, p = {self.logrank_p:.4g}")
        return "\n".join(lines)


def km_compare(time: Any, event: Any, group: Any, *, times: Any = None,
               order: tuple[str, ...] | None = None) -> KMComparison:
    """Kaplan-Meier per group and the log-rank test.

    Parameters
    ----------
    time, event : array-like
        Observed time and event indicator (1 = event).
    group : array-like
        Group label per individual (converted to ``str``).
    times : array-like, optional
        Times at which to report survival and numbers at risk (default: 0 and the quartiles of ``time``).
    order : tuple of str, optional
        Order of the groups in the result (default: sorted labels).
    """
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test, multivariate_logrank_test
    from lifelines.utils import median_survival_times

    t = np.asarray(time, dtype="float64").ravel()
    e = np.asarray(event).astype(bool).ravel()
    g = np.asarray(group).astype(str).ravel()
    if not (t.shape == e.shape == g.shape):
        raise ValueError("time, event and group differ in length")
    labels = tuple(order) if order is not None else tuple(sorted(set(g)))
    present = [lab for lab in labels if (g == lab).any()]
    if len(present) < 2:
        raise ValueError(f"need at least two non-empty groups, got {present}")
    grid = np.asarray(times if times is not None else np.r_[0.0, np.quantile(t, [0.25, 0.5, 0.75])],
                      dtype="float64")
    out = []
    for lab in labels:
        m = g == lab
        if not m.any():
            out.append(GroupSummary(lab, 0, 0, None, (None, None), tuple(float("nan") for _ in grid),
                                    tuple(0 for _ in grid)))
            continue
        kmf = KaplanMeierFitter(label=lab).fit(t[m], e[m])
        ci = median_survival_times(kmf.confidence_interval_)
        lo, hi = (_num(ci.iloc[0, 0]), _num(ci.iloc[0, 1]))
        surv = tuple(float(v) for v in kmf.survival_function_at_times(grid).to_numpy())
        at_risk = tuple(int((t[m] >= s).sum()) for s in grid)
        out.append(GroupSummary(lab, int(m.sum()), int(e[m].sum()), _num(kmf.median_survival_time_), (lo, hi),
                                surv, at_risk))
    keep = np.isin(g, present)
    if len(present) == 2:
        a, b = (g == present[0]), (g == present[1])
        res = logrank_test(t[a], t[b], e[a], e[b])
    else:
        res = multivariate_logrank_test(t[keep], g[keep], e[keep])
    return KMComparison(groups=tuple(out), times=tuple(float(x) for x in grid),
                        logrank_statistic=float(res.test_statistic), logrank_p=float(res.p_value))
