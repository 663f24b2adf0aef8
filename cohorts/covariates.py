"""A cohort's covariates: declared by its loader (manifest), or inferred from extra ``patients`` columns.

``cohort train`` uses every covariate of the cohort by default (``--covariates`` / ``--exclude`` choose);
``cohort evaluate`` and ``cohort score`` read the bundle's covariates from the cohort with
:func:`recommender.features.covariates.covariate_values` (the same code as training) and refuse a cohort
that lacks a column the bundle needs unless asked to fill it (:func:`check_cohort_covariates`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from cohorts.errors import CohortError
from genomics.errors import UsageError
from recommender.features.covariates import CovariateSpec, check_covariates_given, specs_from_dicts

__all__ = ["categorical", "check_cohort_covariates", "cohort_covariates", "infer_covariates", "select_covariates"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
#: A text column with at most this many distinct values is a categorical covariate when inferred.
MAX_LEVELS = 12


def categorical(patients: pd.DataFrame, column: str, *, label: str = "", max_levels: int = 30) -> CovariateSpec:
    """A categorical spec with the column's observed levels (most frequent first, ties by name)."""
    counts = patients[column].dropna().astype(str).str.strip()
    counts = counts[counts != ""].value_counts()
    levels = sorted(counts.index, key=lambda v: (-counts[v], v))[:max_levels]
    return CovariateSpec(column, "categorical", tuple(levels), label=label or column.replace("_", " "))


def infer_covariates(patients: pd.DataFrame) -> tuple[CovariateSpec, ...]:
    """Covariates from the ``patients`` columns that are not part of the standard table layout.

    Numbers -> numeric; booleans (or 0/1 only) -> binary; text with <= :data:`MAX_LEVELS` values ->
    categorical; identifiers, lists and free text are left out.
    """
    from cohorts.tables import TABLES

    standard = {c.name for c in TABLES["patients"]} | {"er_positive", "msi_high", "tmb", "er_status", "er_ihc",
                                                       "population", "source_cohort"}
    out = []
    for col in patients.columns:
        if col in standard or col.startswith("pgx_") or not _NAME.match(col):
            continue
        s = patients[col]
        if s.notna().sum() == 0:
            continue
        if pd.api.types.is_bool_dtype(s) or (pd.api.types.is_numeric_dtype(s) and set(s.dropna().unique()) <= {0, 1}):
            out.append(CovariateSpec(col, "binary"))
        elif pd.api.types.is_numeric_dtype(s):
            out.append(CovariateSpec(col, "numeric"))
        elif s.dropna().map(lambda v: isinstance(v, str)).all() and 1 < s.dropna().nunique() <= MAX_LEVELS:
            out.append(categorical(patients, col))
    return tuple(out)


def cohort_covariates(cohort: Any) -> tuple[tuple[CovariateSpec, ...], str]:
    """``(specs, where from)``: the manifest's declared covariates, else the inferred ones."""
    declared = getattr(cohort.manifest, "covariates", ())
    if declared:
        return specs_from_dicts(c.model_dump() for c in declared), "declared in the cohort manifest"
    return infer_covariates(cohort.patients), "inferred from the patients table (none declared)"


def select_covariates(specs: Sequence[CovariateSpec], include: Iterable[str] | None = None,
                      exclude: Iterable[str] = ()) -> tuple[CovariateSpec, ...]:
    """``specs`` restricted to ``include`` (all when ``None``) minus ``exclude``; unknown names are refused."""
    by_name = {s.name: s for s in specs}
    inc = None if include is None else [n.strip() for n in include if n.strip()]
    exc = [n.strip() for n in exclude if n.strip()]
    for flag, names in (("--covariates", inc or []), ("--exclude", exc)):
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise UsageError(f"unknown covariate(s): {', '.join(unknown)}", field=flag,
                             fix=f"choose from: {', '.join(by_name) or '(the cohort declares none)'}")
    chosen = list(by_name) if inc is None else inc
    return tuple(by_name[n] for n in chosen if n not in set(exc))


def check_cohort_covariates(specs: Sequence[CovariateSpec], patients: pd.DataFrame, *, fill: bool,
                            cohort_path: Any = None) -> list[str]:
    """Refuse (``CohortError``) a cohort lacking a covariate column the bundle needs, unless ``fill``.

    Returns the notes to report (which columns were filled with the bundle's training medians).
    """
    return check_covariates_given(specs, patients.columns, fill=fill, where="the cohort", what="covariate column(s)",
                                  remedy="score a cohort that has these columns, train a bundle without them "
                                         "(--exclude)", error=CohortError, file=cohort_path)
