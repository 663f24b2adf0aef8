"""Streamlit-free part of the clinical form: choices, form values -> Patient, error -> form field.

The Patient page lays out one widget per entry of :data:`FORM_FIELDS` and hands the values to
:func:`patient_from_form`, which builds a :class:`recommender.schema.Patient` through pydantic and
returns every validation problem keyed by the form field it belongs to (so the page can show it right
under that field). Nothing here logs, and nothing here imports Streamlit.

Examples
--------
>>> result = patient_from_form({"patient_id": "PSEUDO-1", "cancer_type": "COAD", "age": 61,
...                             "candidate_treatments": ["FOLFOX"]})
>>> result.ok, result.patient.diagnosis.cancer_type
(True, 'COAD')
>>> patient_from_form({"patient_id": "", "cancer_type": "COAD", "candidate_treatments": ["FOLFOX"]}).errors
{'patient_id': ['enter a pseudonym (not the name or the medical record number)']}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from recommender import vocab

__all__ = [
    "COMORBIDITY_SUGGESTIONS",
    "FORM_FIELDS",
    "BEST_RESPONSES",
    "GENERAL",
    "PRIOR_COLUMNS",
    "STAGE_CHOICES",
    "VARIANT_COLUMNS",
    "FormResult",
    "cancer_type_choices",
    "cancer_type_label",
    "default_candidates",
    "editor_rows",
    "empty_variant_rows",
    "field_for_error",
    "lab_field",
    "medication_choices",
    "empty_prior_rows",
    "patient_from_form",
    "prior_rows",
    "regimen_choices",
    "variant_rows",
]

#: Key of problems that belong to no single field (shown above the form's button).
GENERAL = "_form"

#: Form fields in display order: key -> label. Labs are ``lab:<name>`` (one per :data:`vocab.LABS`).
FORM_FIELDS: dict[str, str] = {
    "patient_id": "Patient pseudonym",
    "age": "Age (years)",
    "sex": "Sex",
    "cancer_type": "Cancer type (OncoTree)",
    "stage": "Stage (AJCC)",
    "histology": "Histology",
    "ecog": "ECOG performance status",
    **{f"lab:{name}": spec.description for name, spec in vocab.LABS.items()},
    "comorbidities": "Comorbidities",
    "medications": "Current medications",
    "smoking": "Smoking",
    "pack_years": "Pack-years",
    "alcohol": "Alcohol",
    "alcohol_units_per_week": "Alcohol units per week",
    "bmi": "BMI (kg/m²)",
    "physical_activity": "Physical activity",
    "tumour_variants": "Tumour variants",
    "prior_treatments": "Prior treatment lines",
    "candidate_treatments": "Candidate treatments",
}

#: Stages offered (others can be typed; the schema checks them).
STAGE_CHOICES: tuple[str, ...] = ("0", "I", "IA", "IB", "II", "IIA", "IIB", "IIC", "III", "IIIA", "IIIB", "IIIC",
                                  "IV", "IVA", "IVB", "IVC")

#: Suggestions only: comorbidities are free-text terms in the schema (the model counts them). The
#: first three are the ones the cohort simulator draws.
COMORBIDITY_SUGGESTIONS: tuple[str, ...] = (
    "hypertension", "type 2 diabetes mellitus", "chronic obstructive pulmonary disease", "coronary artery disease",
    "heart failure", "atrial fibrillation", "chronic kidney disease", "liver cirrhosis", "peripheral neuropathy",
    "venous thromboembolism", "HIV infection",
)

#: Columns of the tumour-variant editor (``TumourVariant`` fields a physician types).
VARIANT_COLUMNS: tuple[str, ...] = ("gene", "protein_change", "variant_type", "fusion_partner", "vaf")

#: Columns of the prior-treatment editor (one row per line of systemic treatment).
PRIOR_COLUMNS: tuple[str, ...] = ("line", "regimen", "best_response")
#: RECIST best responses offered (blank: not known).
BEST_RESPONSES: tuple[str, ...] = ("CR", "PR", "SD", "PD", "NE")

_LIFESTYLE = ("smoking", "pack_years", "alcohol", "alcohol_units_per_week", "bmi", "physical_activity")


def lab_field(name: str) -> str:
    """Form key of the lab ``name`` (``lab:albumin``)."""
    return f"lab:{name}"


def cancer_type_choices() -> list[str]:
    """OncoTree codes of :data:`recommender.vocab.ONCOTREE`, those with default candidates first."""
    first = [c for c in _candidates_table() if c in vocab.ONCOTREE]
    return first + sorted(c for c in vocab.ONCOTREE if c not in first)


def cancer_type_label(code: str) -> str:
    """``COAD - Colon Adenocarcinoma``."""
    ct = vocab.ONCOTREE.get(code)
    return code if ct is None else f"{code} - {ct.name}"


def _candidates_table() -> Mapping[str, Sequence[str]]:
    from cohorts.simulate_model import CANDIDATES

    return CANDIDATES


def default_candidates(cancer_type: str | None) -> list[str]:
    """Default options for a cancer type: those the cohort scoring uses (``cohorts.simulate_model.CANDIDATES``)."""
    return list(_candidates_table().get((cancer_type or "").upper(), ()))


def regimen_choices() -> list[str]:
    """Regimen names of :data:`recommender.vocab.REGIMENS` (file order: grouped by disease)."""
    return list(vocab.REGIMENS)


def medication_choices() -> list[str]:
    """Drug names of :data:`recommender.vocab.DRUGS`: co-medications first, then oncology drugs, each sorted."""
    co = sorted(d.name for d in vocab.DRUGS.values() if not d.oncology)
    onc = sorted(d.name for d in vocab.DRUGS.values() if d.oncology)
    return co + onc


def empty_variant_rows(n: int = 1) -> list[dict[str, Any]]:
    """Blank editor rows (``variant_type`` missense)."""
    return [{"gene": None, "protein_change": None, "variant_type": "missense", "fusion_partner": None, "vaf": None}
            for _ in range(n)]


def empty_prior_rows(n: int = 1) -> list[dict[str, Any]]:
    """Blank rows of the prior-treatment editor."""
    return [{"line": None, "regimen": None, "best_response": None} for _ in range(n)]


def _blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def editor_rows(table: Any) -> list[dict[str, Any]]:
    """The variant editor's rows as plain dicts (NaN -> ``None``), blank rows kept (they keep row numbers)."""
    records = table.to_dict("records") if hasattr(table, "to_dict") else list(table or [])
    return [{k: (None if _blank(r.get(k)) else r.get(k)) for k in VARIANT_COLUMNS} for r in records]


def variant_rows(table: Any) -> list[tuple[int, dict[str, Any]]]:
    """``(editor row number, TumourVariant mapping)`` of the non-blank rows of the variant editor.

    ``table`` is a pandas DataFrame or a list of dicts; NaN and empty strings become absent fields,
    a row whose gene, protein change and fusion partner are all blank is skipped (row numbers count
    from 1 as displayed).
    """
    records = table.to_dict("records") if hasattr(table, "to_dict") else list(table or [])
    out = []
    for i, row in enumerate(records, start=1):
        clean = {k: (None if _blank(row.get(k)) else row.get(k)) for k in VARIANT_COLUMNS}
        if all(clean[k] is None for k in ("gene", "protein_change", "fusion_partner")):
            continue
        data = {k: v for k, v in clean.items() if v is not None}
        if "vaf" in data:
            data["vaf"] = float(data["vaf"])
        out.append((i, data))
    return out


def prior_rows(table: Any) -> list[tuple[int, dict[str, Any]]]:
    """``(editor row number, PriorTreatment mapping)`` of the non-blank rows of the prior-treatment editor.

    A row without a line number is given the next line after the rows above it; a blank row is skipped.

    >>> prior_rows([{"line": None, "regimen": "FOLFOX", "best_response": "PR"}])
    [(1, {'line': 1, 'treatment': {'regimen': 'FOLFOX'}, 'best_response': 'PR'})]
    """
    records = table.to_dict("records") if hasattr(table, "to_dict") else list(table or [])
    out: list[tuple[int, dict[str, Any]]] = []
    for i, row in enumerate(records, start=1):
        clean = {k: (None if _blank(row.get(k)) else row.get(k)) for k in PRIOR_COLUMNS}
        if clean["regimen"] is None and clean["line"] is None:
            continue
        line = clean["line"]
        data: dict[str, Any] = {"line": int(line) if line is not None else len(out) + 1,
                                "treatment": {"regimen": clean["regimen"] or ""}}
        if clean["best_response"] is not None:
            data["best_response"] = clean["best_response"]
        out.append((i, data))
    return out


@dataclass(frozen=True)
class FormResult:
    """A validated :class:`~recommender.schema.Patient` or the problems per form field."""

    patient: Any = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.patient is not None and not self.errors


def _num(v: Any) -> float | None:
    if _blank(v):
        return None
    return float(v)


def _build(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[str], list[int]]:
    """``(Patient mapping, lab names in the order given, editor row numbers of the variants)``."""
    labs, lab_names = [], []
    for name in vocab.LABS:
        entry = (values.get("labs") or {}).get(name)
        if entry is None:
            continue
        value, unit = entry if isinstance(entry, (tuple, list)) else (entry, vocab.LABS[name].unit)
        if _blank(value):
            continue
        labs.append({"name": name, "value": float(value), "unit": unit or vocab.LABS[name].unit})
        lab_names.append(name)
    rows = variant_rows(values.get("tumour_variants"))
    priors = prior_rows(values.get("prior_treatments"))
    ecog = values.get("ecog")
    data: dict[str, Any] = {
        "patient_id": (values.get("patient_id") or "").strip(),
        "demographics": {"age": _num(values.get("age")), "sex": values.get("sex") or "unknown"},
        "diagnosis": {"cancer_type": values.get("cancer_type") or "",
                      "stage": None if _blank(values.get("stage")) else str(values["stage"]).strip(),
                      "histology": None if _blank(values.get("histology")) else str(values["histology"]).strip(),
                      "ecog": None if _blank(ecog) else int(ecog)},
        "history": {"comorbidities": [c.strip() for c in values.get("comorbidities") or () if c and c.strip()],
                    "prior_treatments": [row for _, row in priors], "labs": labs},
        "medications": list(values.get("medications") or ()),
        "lifestyle": {k: values[k] for k in _LIFESTYLE if not _blank(values.get(k))},
        "tumour_variants": [row for _, row in rows],
        "candidate_treatments": [{"regimen": r} for r in values.get("candidate_treatments") or ()],
    }
    return data, lab_names, [n for n, _ in rows]


def field_for_error(loc: Sequence[Any], message: str, lab_names: Sequence[str] = (),
                    variant_rows_shown: Sequence[int] = ()) -> tuple[str, str]:
    """``(form field key, message)`` of one pydantic error of :func:`patient_from_form`'s mapping.

    Parameters
    ----------
    loc
        The error's location (``("history", "labs", 0)``, ``("tumour_variants", 1, "gene")``, ...).
    message
        The error's message.
    lab_names
        Lab names in the order they were put in ``history.labs`` (index -> ``lab:<name>``).
    variant_rows_shown
        Editor row numbers of the ``tumour_variants`` entries (index -> "row N" in the message).
    """
    loc = tuple(x for x in loc if x != "__root__")
    head = loc[0] if loc else ""
    rest = loc[1:]
    if head == "patient_id":
        return "patient_id", message
    if head == "demographics":
        return (str(rest[0]) if rest else "age"), message
    if head == "diagnosis":
        return (str(rest[0]) if rest else "cancer_type"), message
    if head == "history":
        if rest and rest[0] == "labs":
            if len(rest) > 1 and isinstance(rest[1], int) and rest[1] < len(lab_names):
                return lab_field(lab_names[rest[1]]), message
            return GENERAL, message
        if rest and rest[0] == "comorbidities":
            return "comorbidities", message
        if rest and rest[0] == "prior_treatments":
            where = f"row {rest[1] + 1}: " if len(rest) > 1 and isinstance(rest[1], int) else ""
            return "prior_treatments", where + message
        return GENERAL, message
    if head == "medications":
        return "medications", message
    if head == "lifestyle":
        if rest:
            return str(rest[0]), message
        return ("pack_years" if "pack_years" in message else "smoking"), message
    if head == "tumour_variants":
        if rest and isinstance(rest[0], int):
            row = variant_rows_shown[rest[0]] if rest[0] < len(variant_rows_shown) else rest[0] + 1
            where = f"row {row}" + (f", {rest[1]}" if len(rest) > 1 else "")
            return "tumour_variants", f"{where}: {message}"
        return "tumour_variants", message
    if head == "candidate_treatments" or "candidate" in message:
        return "candidate_treatments", message
    return GENERAL, message


def patient_from_form(values: Mapping[str, Any]) -> FormResult:
    """Build and validate a Patient from the form's values.

    Parameters
    ----------
    values
        Keys of :data:`FORM_FIELDS` (labs as ``values["labs"] = {name: (value, unit)}``, tumour
        variants as the editor's table under ``"tumour_variants"``, candidate treatments as a list of
        regimen names). Blank values are left out of the record.

    Returns
    -------
    FormResult
        ``patient`` when valid; else ``errors``: form field key -> messages (every problem pydantic
        reports, not only the first).
    """
    from pydantic import ValidationError

    from recommender.schema import Patient

    errors: dict[str, list[str]] = {}

    def add(key: str, msg: str) -> None:
        errors.setdefault(key, []).append(msg)

    try:
        data, lab_names, rows = _build(values)
    except (TypeError, ValueError) as err:  # a non-numeric value typed where a number belongs
        return FormResult(errors={GENERAL: [f"a value could not be read as a number ({err})"]})
    if not data["patient_id"]:
        add("patient_id", "enter a pseudonym (not the name or the medical record number)")
    if not data["candidate_treatments"]:
        add("candidate_treatments", "choose at least one candidate treatment to compare")
    try:
        patient = Patient.model_validate(data)
    except ValidationError as err:
        for e in err.errors():
            if e.get("loc") == ("patient_id",) and "patient_id" in errors:
                continue  # already said in plain words
            msg = str(e.get("msg", "")).removeprefix("Value error, ")
            key, text = field_for_error(e.get("loc", ()), msg, lab_names, rows)
            add(key, text)
        return FormResult(errors=errors)
    if errors:
        return FormResult(errors=errors)
    return FormResult(patient=patient)
