"""Cohort covariates: extra clinical columns of a source cohort, declared once and used the same way everywhere.

A real cohort carries clinical variables the patient schema has no field for (positive lymph nodes,
Nottingham prognostic index, PAM50 subtype, vital signs, ...). The cohort declares them (its loader
knows them; ``recommender cohort import`` stores them in the manifest), ``cohort train`` turns each into
``cov_<feature>`` model inputs (recorded in the bundle's feature schema and, with how each is read, in the
bundle metadata), and ``cohort evaluate`` / ``cohort score`` read them from the cohort with the very
same :func:`covariate_values`. A categorical covariate becomes one indicator per level seen at import.

Examples
--------
>>> spec = CovariateSpec("claudin_subtype", "categorical", levels=("LumA", "Her2"))
>>> spec.feature_names
('claudin_subtype__luma', 'claudin_subtype__her2')
>>> covariate_values({"claudin_subtype": "Her2"}, [spec])
{'claudin_subtype__luma': 0.0, 'claudin_subtype__her2': 1.0}
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["CovariateSpec", "check_covariates_given", "covariate_feature_names", "covariate_values",
           "specs_from_dicts"]

Kind = Literal["numeric", "binary", "categorical"]
_KINDS = ("numeric", "binary", "categorical")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_TRUE = {"true", "yes", "y", "1", "positive", "pos", "+", "positve"}
_FALSE = {"false", "no", "n", "0", "negative", "neg", "-"}


def _slug(level: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "_", str(level).strip().lower()).strip("_")
    return s or "blank"


@dataclass(frozen=True)
class CovariateSpec:
    """One declared covariate: a column of the cohort's ``patients`` table.

    Attributes
    ----------
    name : str
        Column name (letters, digits, underscore; starts with a letter).
    kind : {"numeric", "binary", "categorical"}
    levels : tuple of str
        Categorical levels (one indicator feature each); empty otherwise.
    label, unit : str
        Plain words for explanations and model cards.
    """

    name: str
    kind: Kind = "numeric"
    levels: tuple[str, ...] = ()
    label: str = ""
    unit: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"covariate name {self.name!r} must be letters, digits and underscores")
        if self.kind not in _KINDS:
            raise ValueError(f"covariate {self.name}: kind must be one of {', '.join(_KINDS)}, not {self.kind!r}")
        if self.kind == "categorical":
            if not self.levels:
                raise ValueError(f"categorical covariate {self.name} needs its levels")
            slugs = [_slug(v) for v in self.levels]
            if len(set(slugs)) != len(slugs):
                raise ValueError(f"categorical covariate {self.name}: levels collide after normalisation")
        object.__setattr__(self, "levels", tuple(str(v) for v in self.levels))

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Covariate names in the feature schema (each becomes the model input ``cov_<name>``)."""
        if self.kind == "categorical":
            return tuple(f"{self.name}__{_slug(v)}" for v in self.levels)
        return (self.name,)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["levels"] = list(self.levels)
        return d


def specs_from_dicts(items: Iterable[Mapping[str, Any] | CovariateSpec]) -> tuple[CovariateSpec, ...]:
    """Specs from their dict form (manifest, bundle metadata); specs pass through."""
    out = []
    for it in items:
        if isinstance(it, CovariateSpec):
            out.append(it)
        else:
            out.append(CovariateSpec(name=str(it["name"]), kind=it.get("kind", "numeric"),
                                     levels=tuple(it.get("levels") or ()), label=str(it.get("label") or ""),
                                     unit=str(it.get("unit") or "")))
    return tuple(out)


def covariate_feature_names(specs: Sequence[CovariateSpec]) -> tuple[str, ...]:
    """All covariate names of ``specs`` in order (the ``covariates`` of a feature schema)."""
    return tuple(n for s in specs for n in s.feature_names)


def _missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    try:
        import pandas as pd

        return bool(pd.isna(v)) if not isinstance(v, (list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def covariate_values(record: Mapping[str, Any], specs: Sequence[CovariateSpec]) -> dict[str, float]:
    """``feature name -> value`` of one patient row for ``specs`` (unknown values: ``NaN``).

    Numeric: the number (text that is not a number counts as unknown). Binary: yes/no, true/false,
    positive/negative, 1/0. Categorical: 1 for the patient's level, 0 for the others, all ``NaN`` when the
    value is missing; a level not declared gives 0 on every indicator.
    """
    out: dict[str, float] = {}
    nan = float("nan")
    for s in specs:
        v = record.get(s.name)
        if s.kind == "categorical":
            names = s.feature_names
            if _missing(v):
                out.update(dict.fromkeys(names, nan))
            else:
                key = _slug(str(v))
                out.update({n: float(_slug(lv) == key) for n, lv in zip(names, s.levels, strict=True)})
        elif s.kind == "binary":
            if _missing(v):
                out[s.name] = nan
            elif isinstance(v, str):
                t = v.strip().lower()
                out[s.name] = 1.0 if t in _TRUE else 0.0 if t in _FALSE else nan
            else:
                x = _number(v)
                out[s.name] = nan if x is None else float(x != 0)
        else:
            x = None if _missing(v) else _number(v)
            out[s.name] = nan if x is None else x
    return out


def check_covariates_given(specs: Sequence[CovariateSpec], available: Iterable[str], *, fill: bool,
                           where: str, what: str = "covariate(s)", remedy: str, error: Any = None,
                           file: Any = None) -> list[str]:
    """Refuse inputs lacking a covariate the bundle was trained with, unless ``fill``; the notes to report.

    The one check behind ``cohort evaluate`` / ``cohort score`` (a cohort's columns) and ``recommender score``
    / the HTTP service / :class:`~recommender.requests.PatientInputs` (one patient's covariates).

    Parameters
    ----------
    specs
        The bundle's declared covariates.
    available
        Names the input provides (a cohort's columns, the keys a user gave).
    fill
        ``True`` (``--fill-missing-covariates``): accept, and return a note naming what was filled.
    where, what, remedy
        Wording of the message: "<where> lacks N <what> the bundle was trained with: a, b" and its fix
        "<remedy>, or pass --fill-missing-covariates to fill the training medians".
    error
        Error class to raise (default :class:`genomics.errors.UsageError`); ``field`` is the first missing name.
    """
    have = set(available)
    missing = [s.name for s in specs if s.name not in have]
    if not missing:
        return []
    if not fill:
        if error is None:
            from genomics.errors import UsageError as error
        raise error(f"{where} lacks {len(missing)} {what} the bundle was trained with: {', '.join(missing)}",
                    file=file, field=missing[0],
                    fix=f"{remedy}, or pass --fill-missing-covariates to fill the training medians")
    return [(f"{what} missing from {where}, filled with the bundle's training medians "
             f"(--fill-missing-covariates): {', '.join(missing)}")]

