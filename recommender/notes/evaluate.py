"""Score note extraction against hand annotations: per-field precision and recall, next to a keyword baseline.

The annotated set is ``tests/fixtures/notes`` (42 synthetic notes written for this purpose, no patient data; see
its ``annotations.json``). Items compared per field: medication and prior treatment by vocabulary name (expected
names outside the product's drug/regimen vocabulary are dropped from both sides and counted), comorbidity by
canonical term, allergy by substance, prior toxicity by CTCAE term, lab by name and value, and the single-valued
fields (smoking, pack-years, alcohol, ECOG) by value. Only *proposed* values count as predictions.

The keyword baseline is what a simple search would do: every vocabulary term found in the text counts, with no
negation, family or uncertainty handling; status fields from the first keyword found.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recommender import vocab
from recommender.notes.extract import FIELDS, extract_note
from recommender.notes.nlp import BRAND_NAMES, TOXICITY_SYNONYMS, regimen_for

__all__ = ["FieldScore", "expected_items", "keyword_baseline", "load_annotated_notes", "product_items",
           "score_fields"]


@dataclass(frozen=True)
class FieldScore:
    """True positives, false positives and false negatives of one field over a note set."""

    field: str
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def load_annotated_notes(folder: str | Path) -> list[tuple[str, str, dict[str, Any]]]:
    """``(note id, text, expected fields)`` for every note of an annotated folder."""
    folder = Path(folder)
    meta = json.loads((folder / "annotations.json").read_text(encoding="utf-8"))
    return [(nid, (folder / f"{nid}.txt").read_text(encoding="utf-8"), exp) for nid, exp in sorted(meta["notes"].items())]


def _known_treatment(name: str) -> bool:
    return name in vocab.DRUGS or name in vocab.REGIMENS


def expected_items(exp: Mapping[str, Any]) -> tuple[set[tuple[str, str]], int]:
    """The annotated items as ``(field, key)`` pairs, and how many were dropped (outside the vocabulary)."""
    items: set[tuple[str, str]] = set()
    dropped = 0
    for d in exp.get("medication", []):
        if d in vocab.DRUGS:
            items.add(("medication", d))
        else:
            dropped += 1
    for t in exp.get("comorbidity", []):
        items.add(("comorbidity", t))
    for a in exp.get("allergy", []):
        items.add(("allergy", a.lower()))
    for reg in exp.get("prior_treatment", {}):
        if _known_treatment(reg):
            items.add(("prior_treatment", reg))
        else:
            dropped += 1
    for t in exp.get("prior_toxicity", []):
        items.add(("prior_toxicity", t))
    for name, value in exp.get("lab", {}).items():
        items.add(("lab", f"{name}={float(value):g}"))
    for f in ("smoking", "alcohol", "ecog"):
        if exp.get(f) is not None:
            items.add((f, str(exp[f])))
    if exp.get("pack_years") is not None:
        items.add(("pack_years", f"{float(exp['pack_years']):g}"))
    return items, dropped


def product_items(text: str) -> set[tuple[str, str]]:
    """The product's proposed values for ``text`` as ``(field, key)`` pairs."""
    out: set[tuple[str, str]] = set()
    for v in extract_note(text).proposed:
        val = v.value
        if v.field == "medication":
            out.add(("medication", val["drug"]))
        elif v.field == "prior_treatment":
            name = val.get("regimen") or val.get("drug")
            if name:
                out.add(("prior_treatment", name))
        elif v.field == "prior_toxicity":
            out.add(("prior_toxicity", val["term"]))
        elif v.field == "lab":
            out.add(("lab", f"{val['name']}={float(val['value']):g}"))
        elif v.field == "alcohol":
            out.add(("alcohol", val["status"]))
        elif v.field == "pack_years":
            out.add(("pack_years", f"{float(val):g}"))
        elif v.field in ("comorbidity", "smoking", "ecog", "allergy"):
            out.add((v.field, str(val).lower() if v.field == "allergy" else str(val)))
    return out


def _words(text: str) -> str:
    return " " + re.sub(r"[^a-z0-9\-+/' ]", " ", text.lower()) + " "


def keyword_baseline(text: str) -> set[tuple[str, str]]:
    """Vocabulary terms found anywhere in the text, without context (the baseline of the benchmark)."""
    low = _words(text)
    out: set[tuple[str, str]] = set()
    for drug in vocab.DRUGS:
        if f" {drug} " in low:
            out.add(("medication" if not vocab.DRUGS[drug].oncology else "prior_treatment", drug))
    for brand, generic in BRAND_NAMES.items():
        if f" {brand} " in low and generic in vocab.DRUGS:
            out.add(("medication", generic))
    for word in re.findall(r"[a-z0-9\-+/]+", low):
        reg = regimen_for(word)
        if reg:
            out.add(("prior_treatment", reg))
    for term, syns in vocab.COMORBIDITIES.items():
        if any(f" {s} " in low for s in syns if len(s) > 3) or any(
                re.search(rf"\b{s.upper()}\b", text) for s in syns if len(s) <= 3):
            out.add(("comorbidity", term))
    for syn, term in TOXICITY_SYNONYMS.items():
        if f" {syn} " in low:
            out.add(("prior_toxicity", term))
    if "never smok" in low or "non-smoker" in low or "non smoker" in low:
        out.add(("smoking", "never"))
    elif "ex-smoker" in low or "ex smoker" in low or "former smoker" in low:
        out.add(("smoking", "former"))
    elif "smok" in low:
        out.add(("smoking", "current"))
    m = re.search(r"\b(?:ecog|ps)\D{0,5}([0-4])\b", low)
    if m:
        out.add(("ecog", m.group(1)))
    m = re.search(r"(\d+(?:\.\d+)?)\s*pack", low)
    if m:
        out.add(("pack_years", f"{float(m.group(1)):g}"))
    if "alcohol" in low or "etoh" in low or "drinks" in low:
        out.add(("alcohol", "moderate"))
    if "nkda" in low or "no known" in low:
        out.add(("allergy", "none known"))
    m = re.search(r"allerg\w*\s*(?:to|:|-)?\s*([a-z ]+)", low)
    if m and m.group(1).strip():
        out.add(("allergy", m.group(1).strip().split("  ")[0]))
    for name, spellings in (("hemoglobin", ("hb", "hgb", "haemoglobin", "hemoglobin")), ("platelets", ("plt", "platelets")),
                            ("neutrophils", ("anc", "neutrophils", "neuts")), ("creatinine", ("creatinine", "creat")),
                            ("bilirubin", ("bilirubin", "bili")), ("albumin", ("albumin",)), ("alt", ("alt",))):
        for s in spellings:
            m = re.search(rf" {s}\s*:?\s*(\d+(?:\.\d+)?)", low)
            if m:
                out.add(("lab", f"{name}={float(m.group(1)):g}"))
                break
    return out


def score_fields(notes: Iterable[tuple[str, str, Mapping[str, Any]]],
                 predict: Callable[[str], set[tuple[str, str]]]) -> tuple[dict[str, FieldScore], int]:
    """Per-field scores of ``predict`` over ``notes`` (items outside the vocabulary dropped on both sides)."""
    counts = {f: [0, 0, 0] for f in FIELDS}
    dropped_total = 0
    for _nid, text, exp in notes:
        truth, dropped = expected_items(exp)
        dropped_total += dropped
        pred = {(f, k) for f, k in predict(text) if f in counts}
        for f, _k in pred & truth:
            counts[f][0] += 1
        for f, _k in pred - truth:
            counts[f][1] += 1
        for f, _k in truth - pred:
            counts[f][2] += 1
    return {f: FieldScore(f, *c) for f, c in counts.items()}, dropped_total
