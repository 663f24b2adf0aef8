"""Explanations: xgboost's own per-feature contributions, grouped into phrases a physician reads.

xgboost's ``pred_contribs`` (TreeSHAP) splits each prediction's margin (log-odds, or log-hazard for
survival) into one additive contribution per feature plus a bias. Features that describe the same
thing share a ``driver`` in the feature schema (``pgx_dpyd_activity_score``,
``pgx_dpyd_phenotype`` and the DPYD x fluoropyrimidine interaction all belong to "DPYD"); their
contributions are summed per driver.

Probability outcomes are reported in **percentage points**: the change from the calibrated baseline
probability (bias only) to the calibrated prediction is shared among drivers in proportion to their
log-odds contributions (exact in total, proportional in the split). Survival outcomes are reported
as a hazard ratio ``exp(contribution)``.

Example phrase: ``"DPYD activity score 1.0: severe toxicity risk +12.5 points"``.

Two wordings per driver: ``phrase`` keeps the model's own units (the "model details": points,
hazard multipliers, feature codes) and ``clinical`` says the same for a clinician
(:func:`clinical_phrase`): ``"absolute neutrophil count not known: response probability +2.2 points"``
becomes ``"Absolute neutrophil count not recorded (the model assumed a typical value): chance of response
about 2 percentage points higher"``; ordinal codes are decoded (``smoking 1`` -> ``smoking: former``).
The result (:class:`recommender.recommendation.ResponsePrediction` etc.) shows ``clinical`` as its drivers
and keeps ``phrase`` in ``driver_details``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from recommender.features.schema import MISSING_SUFFIX, FeatureSchema

__all__ = ["Driver", "clinical_phrase", "decode_ordinal", "describe_value", "explain_hazard", "explain_probability",
           "group_contributions"]

_PHENOTYPE_WORDS = {0: "poor", 1: "intermediate", 2: "normal", 3: "rapid", 4: "ultrarapid"}


@dataclass(frozen=True)
class Driver:
    """One grouped driver of a prediction."""

    driver: str
    phrase: str
    effect: float  # percentage points (probability) or hazard ratio (survival)
    unit: str  # "points" or "hazard ratio"
    value: str
    features: tuple[str, ...]
    clinical: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["features"] = list(self.features)
        return d


def decode_ordinal(coding: str, value: float) -> str | None:
    """The word of an ordinal code from its coding text (``"0=never 1=former 2=current"``, 1 -> ``former``)."""
    words = {}
    for part in str(coding or "").split():
        code, sep, word = part.partition("=")
        if sep and code.lstrip("-").isdigit():
            words[int(code)] = word.replace("_", " ")
    return words.get(int(round(value))) if words else None


_HAZARD_WORDS = {"pfs hazard": "risk of progression or death", "os hazard": "risk of death",
                 "progression hazard": "risk of progression"}


def _subject(desc: str) -> str:
    if desc == "the treatment itself":
        return "The regimen itself (compared with the average patient the model learned from)"
    if desc.endswith(" not known"):
        return f"{desc[:-len(' not known')]} not recorded (the model assumed a typical value)"
    if desc.endswith(": no"):
        return f"not {desc[:-len(': no')]}"
    if ": " in desc:  # "smoking: former" -> "smoking (former)"
        name, word = desc.rsplit(": ", 1)
        return f"{name} ({word})"
    return desc


def _amount(points: float) -> str:
    size = abs(points)
    text = f"{size:.0f}" if size >= 1.5 else f"{size:.1f}"
    unit = "percentage point" if text in ("1", "1.0") else "percentage points"
    return f"about {text} {unit} {'higher' if points > 0 else 'lower'}"


def clinical_phrase(desc: str, outcome: str, effect: float, unit: str) -> str:
    """A driver in a clinician's words (see the module docstring); ``effect`` in points or hazard ratio."""
    subject = _subject(desc)
    subject = subject[0].upper() + subject[1:] if subject else subject
    o = outcome.strip()
    if unit == "hazard ratio":
        what = _HAZARD_WORDS.get(o.lower(), o)
        if abs(effect - 1.0) < 0.005:
            return f"{subject}: {what} about the same"
        pct = abs(effect - 1.0) * 100
        return f"{subject}: {what} about {pct:.0f}% {'higher' if effect > 1 else 'lower'}"
    if o.lower() == "response probability":
        what = "chance of response"
    elif o.lower().startswith("severe ") and o.lower().endswith(" risk"):
        what = f"risk of grade 3 or worse {o[len('severe '):-len(' risk')]}"
    else:
        what = o
    return f"{subject}: {what} {_amount(effect)}"


def describe_value(schema: FeatureSchema, row: pd.Series, columns: list[str], driver: str) -> str:
    """A short, readable description of the patient's value for a driver ("DPYD activity score 1.0")."""
    specs = [schema.spec(c) for c in columns if not c.endswith(MISSING_SUFFIX)]
    if driver == "treatment":
        return "the treatment itself"
    if driver == "cancer type":
        hot = [s.label for s in specs if row.get(s.name) == 1.0]
        return hot[0] if hot else "cancer type"
    if all(row.get(s.name + MISSING_SUFFIX, 0.0) == 1.0 for s in specs if s.missing == "indicator") and any(
            s.missing == "indicator" for s in specs):
        return f"{driver} not known"
    values = [row.get(s.name) for s in specs]
    if specs and all(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
        return f"{specs[0].label} not known"
    # prefer an activity score, then a phenotype, then the first patient-level feature with a value
    ordered = sorted(specs, key=lambda s: (0 if "activity score" in s.label and "functional" not in s.label
                                           else 1 if "phenotype" in s.name else 2 if s.patient_level else 3))
    for s in ordered:
        v = row.get(s.name)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        if s.dtype == "binary":
            if s.name.startswith("demo_sex"):
                return "female" if v == 1.0 else "male"
            # "label: no" rather than "no label": a negated label can read as a double negative
            # (regression: "no KRAS, NRAS and BRAF V600 wild type")
            return s.label if v == 1.0 else f"{s.label}: no"
        if "phenotype" in s.name and s.dtype == "ordinal":
            word = _PHENOTYPE_WORDS.get(round(v), f"{v:g}")
            return f"{s.label}: {word}"
        if s.dtype == "ordinal":
            word = decode_ordinal(s.unit, v)
            if word is not None:  # regression: "smoking 1" -> "smoking: former"
                return f"{s.label}: {word}"
        if "activity score" in s.label:
            return f"{s.label} {v:.1f}"
        unit = f" {s.unit}" if s.unit and s.dtype == "float" and len(s.unit) <= 12 else ""
        return f"{s.label} {v:.3g}{unit}" if s.dtype == "float" else f"{s.label} {v:g}"
    return driver


def group_contributions(contrib: pd.Series, schema: FeatureSchema) -> dict[str, tuple[float, list[str]]]:
    """``driver -> (summed contribution, columns)`` for one row of contributions (bias excluded)."""
    groups: dict[str, tuple[float, list[str]]] = {}
    for col, value in contrib.items():
        if col == "bias":
            continue
        try:
            driver = schema.spec(str(col)).driver or str(col)
        except KeyError:
            driver = str(col)
        total, cols = groups.get(driver, (0.0, []))
        groups[driver] = (total + float(value), cols + [str(col)])
    return groups


def explain_probability(model: Any, X_row: pd.DataFrame, schema: FeatureSchema, outcome: str,
                        top: int = 5, min_points: float = 0.5, display: pd.Series | None = None) -> list[Driver]:
    """Top drivers of a calibrated probability (``model``: a CalibratedBoostedClassifier), one row.

    ``display`` (optional) is the row used to describe values (e.g. before imputation, so an imputed
    value still reads "not known").
    """
    if len(X_row) != 1:
        raise ValueError("explain one row at a time")
    contrib = model.contributions(X_row).iloc[0]
    bias = float(contrib["bias"])
    total_margin = float(contrib.drop("bias").sum())
    p_final = float(model.calibrate(np.array([bias + total_margin]))[0])
    p_base = float(model.calibrate(np.array([bias]))[0])
    groups = group_contributions(contrib, schema)
    delta = p_final - p_base
    row = X_row.iloc[0] if display is None else display
    drivers = []
    for driver, (value, cols) in groups.items():
        if abs(total_margin) > 1e-9 and abs(delta) > 1e-9:
            points = 100.0 * delta * value / total_margin
        else:  # linearise around the prediction
            points = 100.0 * p_final * (1 - p_final) * value
        if abs(points) < min_points:
            continue
        desc = describe_value(schema, row, cols, driver)
        drivers.append(Driver(driver, f"{desc}: {outcome} {points:+.1f} points", round(points, 2), "points", desc,
                              tuple(cols), clinical_phrase(desc, outcome, points, "points")))
    drivers.sort(key=lambda d: -abs(d.effect))
    return drivers[:top]


def explain_hazard(model: Any, X_row: pd.DataFrame, schema: FeatureSchema, outcome: str = "progression hazard",
                   top: int = 5, min_log: float = 0.02, display: pd.Series | None = None) -> list[Driver]:
    """Top drivers of a survival model's log-hazard (``model``: BoostedSurvival), one row."""
    if len(X_row) != 1:
        raise ValueError("explain one row at a time")
    contrib = model.contributions(X_row).iloc[0]
    row = X_row.iloc[0] if display is None else display
    drivers = []
    for driver, (value, cols) in group_contributions(contrib, schema).items():
        if abs(value) < min_log:
            continue
        hr = math.exp(value)
        desc = describe_value(schema, row, cols, driver)
        drivers.append(Driver(driver, f"{desc}: {outcome} x{hr:.2f}", round(hr, 3), "hazard ratio", desc, tuple(cols),
                              clinical_phrase(desc, outcome, hr, "hazard ratio")))
    drivers.sort(key=lambda d: -abs(math.log(d.effect)))
    return drivers[:top]
