"""One patient's clinical covariates for a model bundle: read, checked, refused when the bundle needs more.

A bundle trained on a real cohort (``recommender cohort train``) uses the cohort's declared covariates
(positive lymph nodes, tumour grade, PAM50 subtype, ...) as model inputs; its metadata lists them. Scoring one
patient with such a bundle needs the same values: ``recommender score --covariates NAME=VALUE ...``, the HTTP
service's ``covariates`` field, or ``PatientInputs(covariates={...})`` in Python. A covariate the bundle needs
and the caller did not give is refused with its name (the same check as ``cohort score``:
:func:`recommender.features.covariates.check_covariates_given`) unless ``--fill-missing-covariates``
(``PatientInputs(fill_missing_covariates=True)``), which leaves it to the models' training-median imputation
and says so in the result's warnings.

Values are read the way training read the cohort's column: a number for a numeric covariate, yes/no (true/false,
positive/negative, 1/0) for a binary one, one of the declared levels for a categorical one. Anything else is
refused, naming the covariate and what it accepts. Besides the bundle's declared covariates, ``er_positive``,
``msi_high``, ``brca_lof`` (yes/no), ``tmb`` (mutations per Mb) and ``thiopurine_phenotype`` are accepted.

Examples
--------
>>> parse_covariate_assignments(["nodes_positive=3", "claudin_subtype=LumA"])
{'nodes_positive': '3', 'claudin_subtype': 'LumA'}
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from genomics.errors import UsageError
from recommender.features.covariates import (
    CovariateSpec,
    _slug,
    check_covariates_given,
    covariate_values,
    specs_from_dicts,
)

__all__ = ["BUILTIN_COVARIATES", "bundle_covariate_specs", "parse_covariate_assignments", "patient_covariate_block"]

#: Covariates every bundle reads (features of the default schema), with their kind.
BUILTIN_COVARIATES: dict[str, str] = {"er_positive": "binary", "msi_high": "binary", "brca_lof": "binary",
                                      "tmb": "numeric", "thiopurine_phenotype": "text"}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_TRUE = {"true", "yes", "y", "1", "positive", "pos", "+"}
_FALSE = {"false", "no", "n", "0", "negative", "neg", "-"}
_FIELD = "--covariates"
_REMEDY = "give them with --covariates NAME=VALUE (HTTP service and PatientInputs: covariates={NAME: VALUE})"


def parse_covariate_assignments(items: Sequence[str] | None) -> dict[str, str]:
    """``["NAME=VALUE", ...]`` (the ``--covariates`` arguments) as a dict; malformed or repeated names refused."""
    out: dict[str, str] = {}
    for item in items or ():
        name, sep, value = str(item).partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not _NAME.match(name) or not value:
            raise UsageError(f"{item!r} is not NAME=VALUE", field=_FIELD,
                             fix="write each covariate as NAME=VALUE, e.g. --covariates nodes_positive=3 grade=2")
        if name in out:
            raise UsageError(f"covariate {name} given twice", field=_FIELD, fix="give each covariate once")
        out[name] = value
    return out


def bundle_covariate_specs(bundle: Any) -> tuple[CovariateSpec, ...]:
    """The declared covariates a bundle was trained with (its metadata), ``()`` for none."""
    meta = getattr(bundle, "metadata", None) or {}
    return specs_from_dicts(meta.get("covariates") or []) if isinstance(meta, Mapping) else ()


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _binary(name: str, v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
        return v.strip().lower() in _TRUE
    raise UsageError(f"covariate {name}: {str(v)[:40]!r} is not yes/no", field=name,
                     fix=f"give {name}=yes or {name}=no (true/false, positive/negative, 1/0)")


def _number(name: str, v: Any) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        x = float("nan")
    if not math.isfinite(x):
        raise UsageError(f"covariate {name}: {str(v)[:40]!r} is not a finite number", field=name,
                         fix=f"give {name}=NUMBER")
    return x


def _level(spec: CovariateSpec, v: Any) -> str:
    levels = {_slug(lv): lv for lv in spec.levels}
    if isinstance(v, str) and _slug(v) in levels:
        return levels[_slug(v)]
    raise UsageError(f"covariate {spec.name}: {str(v)[:40]!r} is not one of its levels", field=spec.name,
                     fix=f"give one of: {', '.join(spec.levels)}")


def patient_covariate_block(given: Mapping[str, Any] | None, bundle: Any, *,
                            fill: bool = False) -> tuple[dict[str, Any] | None, list[str]]:
    """``(covariates block for the bundle's features, notes)`` from what the caller gave.

    ``given`` maps covariate names to values (text from the command line, numbers/booleans from Python or
    JSON; ``None``/``NaN`` = unknown). A declared categorical covariate may also come already expanded (one
    ``NAME__level`` indicator each, as :func:`recommender.models.training.patient_covariates` writes them for
    cohort scoring).

    Raises
    ------
    UsageError
        An unknown covariate name, a value that cannot be read, or (without ``fill``) a covariate the bundle
        needs and ``given`` lacks.
    """
    if given is not None and not isinstance(given, Mapping):
        raise UsageError("covariates must be a mapping of NAME -> VALUE", field="covariates",
                         fix='give e.g. {"nodes_positive": 3, "grade": "2"}')
    given = dict(given or {})
    specs = bundle_covariate_specs(bundle) if bundle is not None else ()
    schema_covs = tuple(getattr(getattr(bundle, "schema", None), "covariates", ()) or ())
    if not given and not specs:
        return None, []
    by_name = {s.name: s for s in specs}
    expanded = {n: s for s in specs for n in s.feature_names if n != s.name}
    known = set(by_name) | set(expanded) | set(schema_covs) | set(BUILTIN_COVARIATES)
    unknown = sorted(k for k in given if not isinstance(k, str) or k not in known)
    if unknown:
        names = sorted(set(by_name) | set(BUILTIN_COVARIATES))
        raise UsageError(f"unknown covariate(s): {', '.join(map(str, unknown))[:200]}", field=_FIELD,
                         fix=f"this bundle reads: {', '.join(names)}")
    present = [s.name for s in specs
               if s.name in given or all(n in given for n in s.feature_names)]
    notes = check_covariates_given(specs, present, fill=fill, where="the patient's inputs", what="covariate(s)",
                                   remedy=_REMEDY)
    block: dict[str, Any] = {}
    for name, v in given.items():
        if hasattr(v, "item") and not isinstance(v, (str, bytes)):
            v = v.item()  # numpy scalars (a cohort's patients table)
        if name in by_name:
            spec = by_name[name]
            if _missing(v):
                block.update(covariate_values({}, [spec]))
            elif spec.kind == "categorical":
                block.update(covariate_values({name: _level(spec, v)}, [spec]))
            elif spec.kind == "binary":
                block[name] = float(_binary(name, v))
            else:
                block[name] = _number(name, v)
        elif _missing(v):
            continue  # unknown value: left out (the models impute it)
        elif BUILTIN_COVARIATES.get(name) == "binary":
            block[name] = _binary(name, v)
        elif BUILTIN_COVARIATES.get(name) == "text":
            block[name] = str(v)
        else:  # tmb, an expanded indicator, a numeric schema covariate
            block[name] = _number(name, v)
    return block, notes
