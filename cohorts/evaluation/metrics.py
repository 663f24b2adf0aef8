"""Survival metrics: Harrell's C, Antolini's time-dependent C and the IPCW (integrated) Brier score.

Conventions follow pycox's ``EvalSurv`` (Kvamme, Borgan & Scheel 2019; pycox 0.3.0,
``pycox/evaluation/{concordance,ipcw}.py``) so numbers are comparable with the pycox examples:

* A *survival table* is a :class:`pandas.DataFrame` with one row per individual and one column per
  time point (sorted increasingly): ``S_i(t)``. A value at any time ``t`` is read as a right-continuous
  step function: the column with the largest time ``<= t`` (pycox ``steps='post'``); times before the
  first column read the first column (pycox clips the same way).
* :func:`harrell_c` is lifelines' :func:`~lifelines.utils.concordance_index` on ``-risk`` (Harrell
  1982: pairs ordered by observed event time; ties in risk count 1/2).
* :func:`antolini_c` is Antolini, Boracchi & Biganzoli (2005, Stat Med 24:3927) as pycox computes it
  with ``method='antolini'``: over ordered pairs ``(i, j)`` with ``d_i = 1`` and either ``T_i < T_j`` or
  ``T_i == T_j`` with ``d_j = 0``, the share where ``S_i(T_i) < S_j(T_i)`` (ties count 0).
  ``method='adj_antolini'`` (pycox's default) gives ties 1/2 and also compares tied event times.
* :func:`brier_scores` is the inverse-probability-of-censoring weighted Brier score of Graf et al.
  (1999): with ``G`` the Kaplan-Meier estimate of the censoring survival (by default on the evaluation
  set itself, as pycox ``censor_surv='km'``), an individual with an event at ``T_i <= t`` scores
  ``S_i(t)^2`` with weight ``1/G(T_i-)``, one still at risk (``T_i > t``) scores ``(1 - S_i(t))^2``
  with weight ``1/G(t)``, one censored before ``t`` gets weight 0; pycox divides the weighted sum by
  the sum of the weights (scikit-survival divides by ``n`` and uses ``G(T_i)``; see
  ``benchmarks/EVAL_SURVIVAL_REAL.md`` for the size of that difference).
* :func:`integrated_brier_score` integrates the Brier curve over the grid with Simpson's rule
  (``scipy.integrate.simpson``) and divides by the grid's range, as pycox does.

No scikit-survival here: it is GPL-3.0 and an optional extra; the tests compare against it when it is
installed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recommender.models.survival_metrics import antolini_c_td, censoring_km_arrays

__all__ = [
    "antolini_c",
    "brier_scores",
    "censoring_km",
    "harrell_c",
    "integrated_brier_score",
    "pycox_time_grid",
    "survival_at",
]


def _arrays(time: Any, event: Any) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(time, dtype="float64").ravel()
    e = np.asarray(event).astype(bool).ravel()
    if t.shape != e.shape:
        raise ValueError(f"time ({t.shape[0]}) and event ({e.shape[0]}) differ in length")
    if not np.isfinite(t).all():
        raise ValueError("time holds missing or infinite values")
    return t, e


def _table(survival: pd.DataFrame | Any, times: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``(values (n, m), column times (m,))`` of a survival table, checked."""
    if isinstance(survival, pd.DataFrame):
        values = survival.to_numpy(dtype="float64")
        cols = np.asarray(survival.columns, dtype="float64")
    else:
        values = np.asarray(survival, dtype="float64")
        if times is None:
            raise ValueError("give the column times of a survival array")
        cols = np.asarray(times, dtype="float64")
    if values.ndim != 2 or values.shape[1] != cols.shape[0]:
        raise ValueError(f"survival table has shape {values.shape} but {cols.shape[0]} time columns")
    if np.any(np.diff(cols) <= 0):
        raise ValueError("survival table columns must be strictly increasing times")
    return values, cols


def _post_index(cols: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Index of the last column with time <= t (clipped to the first column), pycox ``steps='post'``."""
    return np.clip(np.searchsorted(cols, t, side="right") - 1, 0, len(cols) - 1)


def survival_at(survival: pd.DataFrame, times: Any) -> np.ndarray:
    """``S_i(t)`` read as a right-continuous step function: array ``(n_individuals, len(times))``."""
    values, cols = _table(survival)
    return values[:, _post_index(cols, np.atleast_1d(np.asarray(times, dtype="float64")))]


def harrell_c(time: Any, event: Any, risk: Any) -> float:
    """Harrell's C-index of a risk score (higher = earlier event), lifelines' implementation."""
    from lifelines.utils import concordance_index

    t, e = _arrays(time, event)
    r = np.asarray(risk, dtype="float64").ravel()
    if r.shape != t.shape:
        raise ValueError(f"risk has {r.shape[0]} values for {t.shape[0]} individuals")
    return float(concordance_index(t, -r, e))


def antolini_c(survival: pd.DataFrame, time: Any, event: Any, *, method: str = "antolini") -> float:
    """Antolini's time-dependent concordance ``C^td`` of predicted survival curves.

    Parameters
    ----------
    survival : DataFrame
        One row per individual (same order as ``time``), columns = increasing times.
    time, event : array-like
        Observed time and event indicator (1 = event).
    method : {"antolini", "adj_antolini"}
        ``antolini``: Antolini et al. 2005 (prediction ties count 0); ``adj_antolini``: pycox's default
        variant (ties count 1/2, tied event times compared).

    Returns
    -------
    float
        Concordant / comparable pairs (``nan`` when no pair is comparable).
    """
    t, e = _arrays(time, event)
    values, cols = _table(survival)
    if values.shape[0] != t.shape[0]:
        raise ValueError(f"survival table has {values.shape[0]} rows for {t.shape[0]} individuals")
    if method not in ("antolini", "adj_antolini"):
        raise ValueError(f"method must be 'antolini' or 'adj_antolini', got {method!r}")
    if method == "antolini":
        return antolini_c_td(values, cols, t, e)
    # A[i, j] = S_j(T_i): every individual's survival at individual i's observed time
    A = values[:, _post_index(cols, t)].T
    s_ii = np.diag(A)[:, None]
    ti, tj = t[:, None], t[None, :]
    di, dj = e[:, None], e[None, :]
    off = ~np.eye(len(t), dtype=bool)
    # pycox's adjusted variant (ties count 1/2, tied event times compared)
    comparable = (((ti < tj) & di) | ((ti == tj) & (di | dj))) & off
    lt, eq, gt = (s_ii < A), (s_ii == A), (s_ii > A)
    conc = np.where(ti < tj, lt + 0.5 * eq, 0.0)
    both = (ti == tj) & di & dj
    conc = np.where(both, 1.0 - 0.5 * (~eq), conc)
    only_i = (ti == tj) & di & ~dj
    conc = np.where(only_i, lt + 0.5 * eq, conc)
    only_j = (ti == tj) & ~di & dj
    conc = np.where(only_j, gt + 0.5 * eq, conc)
    num = float((conc * comparable).sum())
    den = float(comparable.sum())
    return num / den if den else float("nan")


def censoring_km(time: Any, event: Any) -> pd.Series:
    """Kaplan-Meier estimate of the censoring survival ``G(t)`` (censorings are the "events").

    Indexed by 0 and the distinct observed times (pycox ``utils.kaplan_meier(durations, 1 - events)``).
    """
    uniq, surv = censoring_km_arrays(*_arrays(time, event))
    return pd.Series(surv, index=uniq, name="censoring_survival")


def pycox_time_grid(time: Any, n: int = 100) -> np.ndarray:
    """``np.linspace(min(time), max(time), n)``: the grid of the pycox examples."""
    t = np.asarray(time, dtype="float64")
    return np.linspace(t.min(), t.max(), n)


def brier_scores(survival: pd.DataFrame, time: Any, event: Any, grid: Any, *,
                 censoring: pd.Series | None = None) -> np.ndarray:
    """IPCW Brier score at each time of ``grid`` (pycox ``EvalSurv.brier_score``).

    ``censoring`` is ``G`` as a Series indexed by increasing time; default: :func:`censoring_km` on
    ``(time, event)`` (pycox ``censor_surv='km'``).
    """
    t, e = _arrays(time, event)
    values, cols = _table(survival)
    if values.shape[0] != t.shape[0]:
        raise ValueError(f"survival table has {values.shape[0]} rows for {t.shape[0]} individuals")
    grid = np.atleast_1d(np.asarray(grid, dtype="float64"))
    G = censoring_km(t, e) if censoring is None else censoring
    g_idx = np.asarray(G.index, dtype="float64")
    g_val = np.asarray(G.to_numpy(), dtype="float64")
    g_grid = g_val[_post_index(g_idx, grid)]  # G(t)
    # G(T_i-): pycox takes the first index >= T_i and steps one back
    g_before = g_val[np.clip(np.searchsorted(g_idx, t, side="left") - 1, 0, len(g_idx) - 1)]
    S = values[:, _post_index(cols, grid)]  # (n, len(grid))
    case = (t[:, None] <= grid[None, :]) & e[:, None]
    control = t[:, None] > grid[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(case, 1.0 / g_before[:, None], 0.0) + np.where(control, 1.0 / g_grid[None, :], 0.0)
        score = np.where(case, S**2, 0.0) + np.where(control, (1.0 - S) ** 2, 0.0)
        return (score * w).sum(axis=0) / w.sum(axis=0)


def integrated_brier_score(survival: pd.DataFrame, time: Any, event: Any, grid: Any = None, *,
                           censoring: pd.Series | None = None) -> float:
    """Integrated IPCW Brier score over ``grid`` (default :func:`pycox_time_grid`), pycox's definition."""
    from scipy.integrate import simpson

    grid = pycox_time_grid(time) if grid is None else np.asarray(grid, dtype="float64")
    if len(grid) < 2 or grid[-1] <= grid[0]:
        raise ValueError("the time grid needs at least two increasing times")
    bs = brier_scores(survival, time, event, grid, censoring=censoring)
    return float(simpson(bs, x=grid) / (grid[-1] - grid[0]))
