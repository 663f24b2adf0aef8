"""Survival metrics on arrays, pycox conventions: censoring Kaplan-Meier, IPCW integrated Brier score, Antolini C^td.

One implementation for the model selection (:mod:`recommender.models.survival_mixture`, cross-validation inside
``cohort train``) and the evaluation (:mod:`cohorts.evaluation.metrics`, which wraps these for DataFrames):
``recommender`` cannot import ``cohorts``, so the core lives here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["antolini_c_td", "brier_design", "censoring_km_arrays", "integrated_brier"]


def censoring_km_arrays(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier of the censoring distribution ``G`` (censorings as events): ``(times, G)`` with time 0 first
    (pycox ``utils.kaplan_meier(durations, 1 - events)``)."""
    uniq, inv = np.unique(time, return_inverse=True)
    d = np.bincount(inv, weights=(~event).astype(float), minlength=len(uniq))
    n_at = len(time) - np.concatenate([[0], np.cumsum(np.bincount(inv, minlength=len(uniq)))[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(1.0 - d / n_at)
    if uniq[0] != 0:
        uniq, surv = np.r_[0.0, uniq], np.r_[1.0, surv]
    return uniq, surv


def brier_design(time: Any, event: Any, grid: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(y, c)`` with ``IBS(S) = sum_ig c_ig (y_ig - S_i(t_g))^2`` for curves ``S`` read at ``grid``.

    ``y_ig = 1{T_i > t_g}``; ``c`` holds the IPCW weights (censoring Kaplan-Meier of these rows, pycox's
    ``1/G(T_i-)`` for events before ``t_g`` and ``1/G(t_g)`` for rows still at risk), normalised per grid time
    and multiplied by Simpson's-rule weights over the grid's range, as pycox's integrated Brier score.
    """
    from scipy.integrate import simpson

    t, e = np.asarray(time, float), np.asarray(event, bool)
    grid = np.asarray(grid, float)
    g_idx, g_val = censoring_km_arrays(t, e)
    post = np.clip(np.searchsorted(g_idx, grid, side="right") - 1, 0, len(g_idx) - 1)
    g_grid = g_val[post]
    g_before = g_val[np.clip(np.searchsorted(g_idx, t, side="left") - 1, 0, len(g_idx) - 1)]
    case = (t[:, None] <= grid[None, :]) & e[:, None]
    control = t[:, None] > grid[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(case, 1.0 / g_before[:, None], 0.0) + np.where(control, 1.0 / g_grid[None, :], 0.0)
        w = np.where(np.isfinite(w), w, 0.0)
        w = w / np.where(w.sum(axis=0) > 0, w.sum(axis=0), 1.0)
    simpson_w = simpson(np.eye(len(grid)), x=grid, axis=1) / (grid[-1] - grid[0])
    return control.astype(float), w * simpson_w[None, :]


def integrated_brier(curves_on_grid: np.ndarray, time: Any, event: Any, grid: Any) -> float:
    """pycox's integrated IPCW Brier score of curves already read at ``grid`` (one row per individual)."""
    y, c = brier_design(time, event, grid)
    return float(np.sum(c * (y - np.asarray(curves_on_grid, float)) ** 2))


def antolini_c_td(curves: np.ndarray, times: np.ndarray, time: Any, event: Any) -> float:
    """Antolini et al. (2005)'s C^td as pycox's ``method='antolini'``: curves read as right-continuous steps.

    ``curves`` is ``(n, len(times))``; pairs ``(i, j)`` with ``d_i`` and ``T_i < T_j`` (or tied with ``d_j = 0``)
    are concordant when ``S_i(T_i) < S_j(T_i)``.
    """
    t, e = np.asarray(time, float), np.asarray(event, bool)
    cols = np.asarray(times, float)
    A = np.asarray(curves, float)[:, np.clip(np.searchsorted(cols, t, side="right") - 1, 0, len(cols) - 1)].T
    s_ii = np.diag(A)[:, None]
    ti, tj = t[:, None], t[None, :]
    comparable = (((ti < tj) & e[:, None]) | ((ti == tj) & e[:, None] & ~e[None, :])) & ~np.eye(len(t), dtype=bool)
    den = float(comparable.sum())
    return float((comparable & (s_ii < A)).sum()) / den if den else float("nan")
