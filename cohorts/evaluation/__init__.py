"""Evaluation of survival models: metrics, Kaplan-Meier group comparisons, published protocols.

Public API
----------
:func:`harrell_c`, :func:`antolini_c`, :func:`brier_scores`, :func:`integrated_brier_score`,
:func:`censoring_km`, :func:`pycox_time_grid`, :func:`survival_at`   metrics (pycox conventions)
:func:`km_compare`, :class:`KMComparison`, :class:`GroupSummary`      Kaplan-Meier + log-rank (lifelines)
:mod:`cohorts.evaluation.protocols`                                    Rotterdam->GBSG, METABRIC, SUPPORT
"""

from cohorts.evaluation.km import GroupSummary, KMComparison, km_compare
from cohorts.evaluation.metrics import (
    antolini_c,
    brier_scores,
    censoring_km,
    harrell_c,
    integrated_brier_score,
    pycox_time_grid,
    survival_at,
)

__all__ = [
    "GroupSummary",
    "KMComparison",
    "antolini_c",
    "brier_scores",
    "censoring_km",
    "harrell_c",
    "integrated_brier_score",
    "km_compare",
    "pycox_time_grid",
    "survival_at",
]
