"""Proposals from a note laid beside the patient's record; only what the physician accepts enters it.

Each proposed value becomes a :class:`Proposal` with its target field in the record, the record's current value,
and a status: ``new`` (the record has nothing there), ``same`` (the record already says so) or ``conflict`` (the
record says something else: shown, never overwritten unless the physician chooses ``replace``).
:func:`apply_decisions` takes one decision per proposal (``accept``, ``reject``, ``replace`` for a conflict, or
``edit`` with a corrected value) and returns a new, validated :class:`~recommender.schema.Patient` and the list of
changes made (what the app writes to the audit log). Nothing is applied without a decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from genomics.errors import UsageError
from recommender import vocab
from recommender.notes.extract import ExtractedValue, NoteExtraction
from recommender.schema import Patient

__all__ = ["Decision", "Proposal", "apply_decisions", "propose"]

Status = Literal["new", "same", "conflict"]

#: Where each field goes in the record.
TARGETS = {
    "medication": "medications", "smoking": "lifestyle.smoking", "pack_years": "lifestyle.pack_years",
    "alcohol": "lifestyle.alcohol", "comorbidity": "history.comorbidities", "ecog": "diagnosis.ecog",
    "prior_treatment": "history.prior_treatments", "prior_toxicity": "history.prior_toxicities",
    "allergy": "history.allergies", "lab": "history.labs",
}


class Proposal(BaseModel):
    """One value from a note, beside what the record holds."""

    model_config = ConfigDict(frozen=True)

    value: ExtractedValue
    target: str
    current: Any = None
    status: Status


class Decision(BaseModel):
    """A physician's decision on one proposal (``value`` only with ``edit``)."""

    model_config = ConfigDict(frozen=True)

    action: Literal["accept", "reject", "replace", "edit"]
    value: Any = None


def _current(patient: Patient | None, v: ExtractedValue) -> tuple[Any, Status]:
    if patient is None:
        return None, "new"
    f, val = v.field, v.value
    if f == "medication":
        return list(patient.medications), ("same" if val["drug"] in patient.medications else "new")
    if f == "smoking":
        cur = patient.lifestyle.smoking
        return cur, "new" if cur == "unknown" else ("same" if cur == val else "conflict")
    if f == "pack_years":
        cur = patient.lifestyle.pack_years
        return cur, "new" if cur is None else ("same" if abs(cur - float(val)) < 1e-9 else "conflict")
    if f == "alcohol":
        cur = patient.lifestyle.alcohol
        return cur, "new" if cur == "unknown" else ("same" if cur == val["status"] else "conflict")
    if f == "comorbidity":
        have = {vocab.canonical_comorbidity(c) or c.lower() for c in patient.history.comorbidities}
        return list(patient.history.comorbidities), "same" if val in have else "new"
    if f == "ecog":
        cur = patient.diagnosis.ecog if patient.diagnosis is not None else None
        return cur, "new" if cur is None else ("same" if cur == val else "conflict")
    if f == "prior_treatment":
        names = [p.treatment.regimen for p in patient.history.prior_treatments]
        name = val.get("regimen") or val.get("drug")
        return names, "same" if name in names else "new"
    if f == "prior_toxicity":
        terms = [t.term for t in patient.history.prior_toxicities]
        return terms, "same" if val["term"] in terms else "new"
    if f == "allergy":
        have = [a.lower() for a in patient.history.allergies]
        return list(patient.history.allergies), "same" if str(val).lower() in have else "new"
    if f == "lab":
        for lab in patient.history.labs:
            if lab.name == val["name"]:
                same = lab.unit == val["unit"] and abs(lab.value - float(val["value"])) < 1e-9
                return f"{lab.value:g} {lab.unit}", "same" if same else "conflict"
        return None, "new"
    raise UsageError(f"unknown field {f!r}")  # pragma: no cover - FIELDS is closed


def propose(patient: Patient | None, extraction: NoteExtraction) -> tuple[Proposal, ...]:
    """One proposal per proposed value of ``extraction``, compared with ``patient`` (``None``: all new)."""
    out = []
    for v in extraction.proposed:
        current, status = _current(patient, v)
        out.append(Proposal(value=v, target=TARGETS[v.field], current=current, status=status))
    return tuple(out)


def apply_decisions(patient: Patient, proposals: tuple[Proposal, ...] | list[Proposal],
                    decisions: Mapping[str, Decision | str | Mapping[str, Any]]) -> tuple[Patient, list[dict[str, Any]]]:
    """Apply the physician's decisions (keyed by the value id); returns the new record and the changes made.

    A proposal without a decision is left out. ``accept`` on a ``conflict`` is refused (choose ``replace`` or
    ``reject``); ``edit`` replaces the proposed value by the physician's. The result is validated as a whole:
    an edited value the record cannot hold raises :class:`~genomics.errors.UsageError` naming the field.
    """
    data = patient.model_dump(mode="json")
    changes: list[dict[str, Any]] = []
    by_id = {p.value.id: p for p in proposals}
    for vid, decision in decisions.items():
        if isinstance(decision, str):
            decision = Decision(action=decision)
        elif isinstance(decision, Mapping):
            decision = Decision.model_validate(dict(decision))
        prop = by_id.get(vid)
        if prop is None:
            raise UsageError(f"no proposal with id {vid!r}", field="decisions", fix="use the ids of propose()")
        if decision.action == "reject" or prop.status == "same":
            continue
        if decision.action == "accept" and prop.status == "conflict":
            raise UsageError(f"{prop.value.display}: the record already holds {prop.current!r}", field=prop.target,
                             fix="choose 'replace' to overwrite it, or 'reject'")
        value = decision.value if decision.action == "edit" else prop.value.value
        _set(data, prop.value.field, value)
        changes.append({"field": prop.value.field, "target": prop.target, "action": decision.action,
                        "value": value, "previous": prop.current, "evidence": [prop.value.start, prop.value.end]})
    try:
        return Patient.model_validate(data), changes
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(x) for x in first.get("loc", ()))
        raise UsageError(f"the accepted values do not fit the record: {where}: {first.get('msg')}", field=where,
                         fix="edit or reject that value") from err


def _set(data: dict[str, Any], field: str, value: Any) -> None:
    hist = data.setdefault("history", {})
    life = data.setdefault("lifestyle", {})
    if field == "medication":
        drug = value["drug"] if isinstance(value, dict) else str(value)
        if drug not in data.setdefault("medications", []):
            data["medications"].append(drug)
    elif field == "smoking":
        life["smoking"] = value
        if value == "never":
            life["pack_years"] = None
    elif field == "pack_years":
        life["pack_years"] = float(value)
    elif field == "alcohol":
        status = value["status"] if isinstance(value, dict) else str(value)
        life["alcohol"] = status
        if isinstance(value, dict) and value.get("units_per_week") is not None:
            life["alcohol_units_per_week"] = value["units_per_week"]
    elif field == "comorbidity":
        if value not in hist.setdefault("comorbidities", []):
            hist["comorbidities"].append(value)
    elif field == "ecog":
        if data.get("diagnosis") is None:
            raise UsageError("the record has no diagnosis to hold an ECOG score", field="diagnosis.ecog",
                             fix="enter the diagnosis first")
        data["diagnosis"]["ecog"] = int(value)
    elif field == "prior_treatment":
        lines = hist.setdefault("prior_treatments", [])
        item = value if isinstance(value, dict) else {"regimen": str(value)}
        name = item.get("regimen") or item.get("drug")
        lines.append({"line": int(item.get("line") or len(lines) + 1), "treatment": {"regimen": name},
                      "best_response": item.get("best_response")})
    elif field == "prior_toxicity":
        tox = value if isinstance(value, dict) else {"term": str(value)}
        hist.setdefault("prior_toxicities", []).append(
            {"term": tox["term"], "grade": tox.get("grade"), "drug": tox.get("drug")})
    elif field == "allergy":
        if value not in hist.setdefault("allergies", []):
            hist["allergies"].append(str(value))
    elif field == "lab":
        labs = [lab for lab in hist.setdefault("labs", []) if lab["name"] != value["name"]]
        labs.append({"name": value["name"], "value": float(value["value"]), "unit": value["unit"]})
        hist["labs"] = labs
