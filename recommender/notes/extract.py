"""Clinical note -> proposed history fields, each with its evidence span, sentence, confidence and context.

The note is first masked (:mod:`recommender.notes.deid`): extraction runs on the masked text, so nothing that is
kept (evidence sentences, spans) holds an identifier, and offsets refer to the masked text (same length as the
original). medspaCy finds the mentions (drugs, regimens, comorbidities, toxicities, smoking and alcohol words) and
ConText marks them negated, uncertain, family or hypothetical; values next to a mention (dose, frequency, grade,
dates, best response, lab value and unit, pack-years) are read from its sentence. A mention that is negated,
uncertain, about a family member or hypothetical is returned as *excluded*, with the reason, and never proposed.

Fields: ``medication`` (drug name from the vocabulary, with dose/frequency), ``smoking`` (never/former/current),
``pack_years``, ``alcohol`` (none/moderate/heavy; units per week when written), ``comorbidity`` (canonical term of
:data:`recommender.vocab.COMORBIDITIES`), ``ecog`` (0-4), ``prior_treatment`` (regimen, line, dates, best response),
``prior_toxicity`` (CTCAE v5 term, grade, drug), ``allergy`` and ``lab`` (name, value, unit of
:data:`recommender.vocab.LABS`).

Examples
--------
>>> from recommender.notes import extract_note
>>> ex = extract_note("Ex-smoker, 20 pack-years. No history of diabetes. ECOG 1.")
>>> sorted((v.field, str(v.value)) for v in ex.proposed)
[('ecog', '1'), ('pack_years', '20.0'), ('smoking', 'former')]
>>> [(v.field, v.value, v.excluded_because) for v in ex.excluded]
[('comorbidity', 'diabetes', 'negated')]
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from recommender import vocab
from recommender.notes.deid import mask_identifiers
from recommender.notes.nlp import BRAND_NAMES, TOXICITY_SYNONYMS, nlp_pipeline, regimen_for

__all__ = ["FIELDS", "ExtractedValue", "NoteExtraction", "extract_note"]

FIELDS = ("medication", "smoking", "pack_years", "alcohol", "comorbidity", "ecog", "prior_treatment",
          "prior_toxicity", "allergy", "lab")
Field_ = Literal["medication", "smoking", "pack_years", "alcohol", "comorbidity", "ecog", "prior_treatment",
                 "prior_toxicity", "allergy", "lab"]
EXTRACTOR_VERSION = "notes/1.0"

#: UK Chief Medical Officers' low-risk drinking guideline (2016): up to 14 units a week. Above it: "heavy".
LOW_RISK_UNITS_PER_WEEK = 14


class ExtractedValue(BaseModel):
    """One value read from a note, with its evidence."""

    model_config = ConfigDict(frozen=True)

    id: str
    field: Field_
    value: Any
    display: str
    start: int = Field(ge=0, description="start of the evidence span in the masked note (characters)")
    end: int = Field(ge=0)
    evidence: str = Field(description="the span's text (masked)")
    sentence: str = Field(description="the sentence holding the span (masked)")
    confidence: float = Field(ge=0, le=1)
    negated: bool = False
    uncertain: bool = False
    family: bool = False
    hypothetical: bool = False
    historical: bool = False
    excluded_because: str | None = None


class NoteExtraction(BaseModel):
    """What was read from one note: proposed values, excluded mentions, the masked text."""

    model_config = ConfigDict(frozen=True)

    extractor: str = EXTRACTOR_VERSION
    masked_text: str
    identifiers_masked: dict[str, int] = Field(default_factory=dict)
    values: tuple[ExtractedValue, ...] = ()

    @property
    def proposed(self) -> tuple[ExtractedValue, ...]:
        """Values offered to the physician (not negated, uncertain, family or hypothetical)."""
        return tuple(v for v in self.values if v.excluded_because is None)

    @property
    def excluded(self) -> tuple[ExtractedValue, ...]:
        """Mentions found but not proposed, each with the reason."""
        return tuple(v for v in self.values if v.excluded_because is not None)

    def to_json(self) -> str:
        """JSON (masked text only; never the original note)."""
        return self.model_dump_json(indent=2)


# ------------------------------------------------------------------------------------------------ patterns
_DOSE = re.compile(r"(\d+(?:\.\d+)?)\s*(mg/m2|mg/kg|mg|mcg|micrograms|µg|ug|g|units|iu|ml)\b", re.I)
_FREQ = re.compile(r"\b(once daily|twice daily|three times daily|four times daily|od|om|on|bd|bid|tds|tid|qds|"
                   r"qid|nocte|mane|daily|weekly|monthly|prn|as needed|as required|every \d+ (?:hours|days|weeks))\b",
                   re.I)
_GRADE = re.compile(r"\b(?:ctcae\s*)?(?:grade|gr\.?|g)\s*([1-5])\b", re.I)
_LINE = re.compile(r"\b(first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th)[- ]line\b|\bline\s*([1-5])\b|\b([1-5])L\b",
                   re.I)
_LINE_WORDS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
               "fifth": 5, "5th": 5}
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = re.compile(rf"\b(\d{{1,2}}/\d{{4}}|\d{{4}}-\d{{2}}(?:-\d{{2}})?|\d{{1,2}}/\d{{1,2}}/\d{{2,4}}|{_MONTH}\s+\d{{4}}|"
                   rf"(?:19|20)\d{{2}})\b", re.I)
_RESPONSES = (
    ("CR", re.compile(r"\bcomplete (?:response|remission)\b|\bCR\b")),
    ("PR", re.compile(r"\bpartial (?:response|remission)\b|\bPR\b")),
    ("SD", re.compile(r"\bstable disease\b|\bSD\b|\bdisease stabili[sz]ation\b")),
    ("PD", re.compile(r"\bprogressive disease\b|\bPD\b|\bprogress(?:ed|ion)\b", re.I)),
)
_PRIOR_CUE = re.compile(r"\b(received|receiving|treated with|treatment with|completed|had|cycles?|line|progressed|"
                        r"progression|given|underwent|responded|response|prior|previous(?:ly)?|adjuvant|neoadjuvant|"
                        r"palliative|courses?|until|stopped|discontinued|switched)\b", re.I)
_STOP_CUE = re.compile(r"\b(stopped|discontinued|ceased|held|withdrawn|no longer (?:on|taking)|came off|"
                       r"switched (?:from|off))\b", re.I)
_TOX_CUE = re.compile(r"\b(toxicit(?:y|ies)|secondary to|due to|induced|caused|complicated by|developed|related|"
                      r"dose[- ]reduc\w*|delay(?:ed)?|required|requiring|severe|life[- ]threatening|following|"
                      r"interrupted|stopped|after (?:the )?(?:first |second |\d\w* )?cycle)\b|\bgrade\s*[1-5]\b|"
                      r"\bG[1-5]\b", re.I)
_CURRENT_CUE = re.compile(r"\b(on|currently|current|since|continues|continuing|remains on|now|maintenance|"
                          r"meds?|medications?|patient on|taking)\b", re.I)
_PLAN_CUE = re.compile(r"\bfor (?:adjuvant|neoadjuvant|palliative|consideration|further)\b|\bplan\b", re.I)
_ECOG = re.compile(r"\b(?:ECOG(?:\s*PS)?|WHO\s*PS|WHO performance status|performance status|PS)\s*(?:is|was|of|:|=|-)?"
                   r"\s*([0-4])(?:\s*[-/]\s*[0-4])?\b", re.I)
_PACK_YEARS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:-|\s)?(?:pack[- ]?years?|pack[- ]?yrs?|pk[- ]?yrs?|py)\b", re.I)
_CIGS = re.compile(r"(\d+)\s*(?:cigarettes|cigs)\s*(?:a|per|/)\s*day\s*(?:for|x)\s*(\d+)\s*(?:years|yrs|y)\b", re.I)
_UNITS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:units?)\s*(?:of alcohol\s*)?(?:/|per|a|each)\s*(week|wk|day)\b", re.I)
_ALLERGY = re.compile(r"\b(?:allerg(?:y|ies|ic)\s*(?:to|:|-)?|intolerant of|intolerance to)\s*([^.;\n]+)", re.I)
_NO_ALLERGY = re.compile(r"\b(nkda|nka|no known (?:drug )?allergies|no (?:drug )?allergies|no allergies known|"
                         r"allergies\s*[:\-]\s*(?:nil|none)(?: known)?)\b", re.I)

_LAB_NAMES: dict[str, tuple[str, ...]] = {
    "hemoglobin": ("haemoglobin", "hemoglobin", "hb", "hgb"),
    "neutrophils": ("absolute neutrophil count", "neutrophils", "neuts", "anc"),
    "platelets": ("platelets", "plts", "plt"),
    "leukocytes": ("white cell count", "white blood cells", "wbc", "wcc"),
    "creatinine_clearance": ("creatinine clearance", "crcl"),
    "creatinine": ("creatinine", "creat", "cr"),
    "bilirubin": ("total bilirubin", "bilirubin", "bili"),
    "albumin": ("albumin", "alb"),
    "alt": ("alanine aminotransferase", "alt"),
    "ast": ("aspartate aminotransferase", "ast"),
    "lvef": ("lvef", "ejection fraction", "ef"),
    "sodium": ("sodium", "na"),
}
_UNIT_SPELLINGS: dict[str, str] = {
    "g/dl": "g/dL", "g/l": "g/L", "x10^9/l": "10^9/L", "x 10^9/l": "10^9/L", "10^9/l": "10^9/L", "x10*9/l": "10*9/L",
    "x109/l": "10^9/L", "10*9/l": "10*9/L", "/ul": "/uL", "cells/ul": "cells/uL", "umol/l": "umol/L",
    "µmol/l": "µmol/L", "micromol/l": "umol/L", "mg/dl": "mg/dL", "u/l": "U/L", "iu/l": "IU/L", "ml/min": "mL/min",
    "%": "%", "mmol/l": "mmol/L", "meq/l": "mEq/L",
}
_UNIT_RE = "|".join(sorted((re.escape(u) for u in _UNIT_SPELLINGS), key=len, reverse=True))
_LAB_RE = re.compile(
    r"\b(" + "|".join(sorted((re.escape(s) for names in _LAB_NAMES.values() for s in names), key=len, reverse=True))
    + r")\b\s*(?:of|was|is|:|=|-)?\s*(\d+(?:\.\d+)?)\s*(" + _UNIT_RE + r")?(?![\w^*])", re.I)
_LAB_BY_SPELLING = {s: name for name, spellings in _LAB_NAMES.items() for s in spellings}


def _vid(field: str, start: int, value: Any) -> str:
    return hashlib.sha1(f"{field}:{start}:{value}".encode()).hexdigest()[:12]


def _drug_name(text: str) -> str | None:
    low = " ".join(text.lower().split())
    name = BRAND_NAMES.get(low) or vocab.normalise_drug(low)
    return name if name in vocab.DRUGS else None


class _Builder:
    """Collects values for one note (one per field and value; the first mention is the evidence)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.values: list[ExtractedValue] = []
        self._seen: set[tuple[str, str, bool]] = set()

    def add(self, field: str, value: Any, display: str, start: int, end: int, sentence: Any, confidence: float,
            ent: Any = None, excluded: str | None = None, key: str | None = None) -> None:
        flags = {}
        if ent is not None:
            flags = dict(negated=bool(ent._.is_negated), uncertain=bool(ent._.is_uncertain),
                         family=bool(ent._.is_family), hypothetical=bool(ent._.is_hypothetical),
                         historical=bool(ent._.is_historical))
        dedup = (field, key if key is not None else str(value), excluded is None)
        if dedup in self._seen:
            return
        self._seen.add(dedup)
        sent_text = sentence.text.strip() if hasattr(sentence, "text") else str(sentence).strip()
        self.values.append(ExtractedValue(
            id=_vid(field, start, value), field=field, value=value, display=display, start=start, end=end,
            evidence=self.text[start:end], sentence=sent_text, confidence=round(confidence, 2),
            excluded_because=excluded, **flags))


def _context_exclusion(ent: Any) -> str | None:
    if ent._.is_family:
        return "family history"
    if ent._.is_negated:
        return "negated"
    if ent._.is_uncertain:
        return "uncertain"
    if ent._.is_hypothetical:
        return "hypothetical (planned or conditional)"
    return None


def extract_note(text: str) -> NoteExtraction:
    """Read the history fields from one note (see the module docstring)."""
    masked = mask_identifiers(text)
    doc = nlp_pipeline()(masked.text)
    b = _Builder(masked.text)
    tox_spans: set[tuple[int, int]] = set()

    for ent in doc.ents:
        label = ent.label_
        sent = ent.sent
        why = _context_exclusion(ent)
        if label == "TOXICITY" or (label == "COMORBIDITY" and (ent.text.lower() in TOXICITY_SYNONYMS
                                                               or vocab.is_ctcae_term(ent.text))
                                   and _TOX_CUE.search(sent.text)):
            if _toxicity(b, ent, sent, why):
                tox_spans.add((ent.start_char, ent.end_char))
                continue
            if label == "TOXICITY":
                continue
        if label == "COMORBIDITY":
            term = vocab.canonical_comorbidity(ent.text)
            if term is not None:
                b.add("comorbidity", term, term, ent.start_char, ent.end_char, sent, 0.85, ent, why)
        elif label in ("DRUG", "REGIMEN"):
            _drug_or_regimen(b, ent, sent, why)
        elif label == "SMOKING":
            _smoking(b, ent, sent)
        elif label == "ALCOHOL":
            _alcohol(b, ent, sent)

    known = [(e.start_char, e.end_char) for e in doc.ents]
    for sent in doc.sents:
        _unknown_drugs(b, sent, known)
        _ecog(b, sent)
        _labs(b, sent)
        _allergies(b, sent)
    return NoteExtraction(masked_text=masked.text, identifiers_masked=masked.counts,
                          values=tuple(sorted(b.values, key=lambda v: (v.start, v.field))))


# ------------------------------------------------------------------------------------------------ fields
def _toxicity(b: _Builder, ent: Any, sent: Any, why: str | None) -> bool:
    term = TOXICITY_SYNONYMS.get(ent.text.lower())
    if term is None and vocab.is_ctcae_term(ent.text):
        term = vocab.canonical_ctcae_term(ent.text)
    if term is None:
        return False
    if not _TOX_CUE.search(sent.text):
        return False  # a symptom named without a grade or a cause: not a prior toxicity
    grade_m = _nearest(_GRADE, sent, ent)
    grade = int(grade_m.group(1)) if grade_m else None
    drug = None
    for other in sent.ents:
        if other.label_ in ("DRUG", "REGIMEN"):
            drug = regimen_for(other.text) or _drug_name(other.text)
            break
    if drug is None:  # "FOLFOX ... Complicated by grade 3 neutropenia.": the treatment just named before
        for v in reversed(b.values):
            if v.field == "prior_treatment" and v.excluded_because is None and ent.start_char - v.end < 200:
                drug = v.value.get("regimen") or v.value.get("drug")
                break
    value = {"term": term, "grade": grade, "drug": drug}
    display = f"{term}" + (f" grade {grade}" if grade else "") + (f" ({drug})" if drug else "")
    confidence = 0.9 if grade else 0.6
    b.add("prior_toxicity", value, display, ent.start_char, ent.end_char, sent, confidence, ent, why, key=term)
    return True


def _nearest(pattern: re.Pattern[str], sent: Any, ent: Any) -> re.Match[str] | None:
    best, dist = None, None
    for m in pattern.finditer(sent.text):
        pos = sent.start_char + m.start()
        d = abs(pos - ent.start_char)
        if dist is None or d < dist:
            best, dist = m, d
    return best


def _drug_or_regimen(b: _Builder, ent: Any, sent: Any, why: str | None) -> None:
    regimen = regimen_for(ent.text)
    drug = None if regimen else _drug_name(ent.text)
    name = regimen or drug
    if name is None:
        return
    oncology = regimen is not None or (drug is not None and vocab.DRUGS[drug].oncology)
    after = b.text[ent.end_char: min(sent.end_char, ent.end_char + 40)]
    dose = _DOSE.search(after)
    if oncology:
        if why is not None or _PLAN_CUE.search(sent.text):
            b.add("prior_treatment", {"regimen": regimen, "drug": drug}, name, ent.start_char, ent.end_char,
                  sent, 0.5, ent, why or "planned, not given yet", key=name)
            return
        if drug is not None and _in_extracted_regimen(b, drug):
            return  # "toxicity from nab-paclitaxel" after "gemcitabine and nab-paclitaxel": the same line
        current = bool(dose) or bool(_CURRENT_CUE.search(b.text[sent.start_char:ent.start_char]))
        past = bool(_PRIOR_CUE.search(sent.text)) or ent._.is_historical
        responded = any(p.search(sent.text) for _c, p in _RESPONSES)
        if drug is not None and current:
            _medication(b, ent, sent, drug, dose, None)
        if past and not current or responded:
            _prior_treatment(b, ent, sent, name)
        return
    if _ALLERGY.search(b.text[sent.start_char:ent.start_char]):
        return  # named in an allergy list, not taken
    clause_start = max(b.text.rfind(sep, sent.start_char, ent.start_char) for sep in ",;(") + 1
    clause_end = min([i for i in (b.text.find(sep, ent.end_char, sent.end_char) for sep in ",;)") if i != -1]
                     or [sent.end_char])
    stopped = _STOP_CUE.search(b.text[max(clause_start, sent.start_char):clause_end])
    _medication(b, ent, sent, drug, dose, why or ("stopped" if stopped else None))


def _in_extracted_regimen(b: _Builder, drug: str) -> bool:
    for v in b.values:
        if v.field == "prior_treatment" and v.excluded_because is None and v.value.get("regimen"):
            if drug in vocab.REGIMENS[v.value["regimen"]].drugs:
                return True
    return False


def _medication(b: _Builder, ent: Any, sent: Any, drug: str, dose: Any, reason: str | None) -> None:
    after = b.text[ent.end_char: min(sent.end_char, ent.end_char + 40)]
    freq = _FREQ.search(after)
    value = {"drug": drug, "dose": f"{dose.group(1)} {dose.group(2)}" if dose else None,
             "frequency": freq.group(1).lower() if freq else None}
    display = drug + (f" {value['dose']}" if value["dose"] else "") + (f" {value['frequency']}" if freq else "")
    b.add("medication", value, display, ent.start_char, ent.end_char, sent, 0.9 if dose else 0.75, ent, reason,
          key=drug)


def _prior_treatment(b: _Builder, ent: Any, sent: Any, regimen: str) -> None:
    text = sent.text
    line_m = _LINE.search(text)
    line = None
    if line_m:
        word = (line_m.group(1) or "").lower()
        line = _LINE_WORDS.get(word) or int(line_m.group(2) or line_m.group(3))
    dates = [m.group(1) for m in _DATE.finditer(text)]
    response = None
    for code, pattern in _RESPONSES:
        if pattern.search(text):
            response = code
            break
    value = {"regimen": regimen if regimen in vocab.REGIMENS else None, "drug": regimen if regimen in vocab.DRUGS
             else None, "line": line, "start": dates[0] if dates else None,
             "end": dates[1] if len(dates) > 1 else None, "best_response": response}
    display = regimen + (f", line {line}" if line else "") + (f", {dates[0]}" if dates else "") \
        + (f" to {dates[1]}" if len(dates) > 1 else "") + (f", best response {response}" if response else "")
    b.add("prior_treatment", value, display, ent.start_char, ent.end_char, sent, 0.8 if response else 0.7, ent,
          key=regimen)


def _smoking(b: _Builder, ent: Any, sent: Any) -> None:
    text = sent.text.lower()
    status = None
    labelled = re.search(r"\b(?:smok\w*(?: status| history| hx)?|smoker\??|tobacco)\s*[:\-?]*\s*"
                         r"(never|no|nil|none|non|ex|former|previous|current|yes|active)\b", text)
    if labelled:
        word = labelled.group(1)
        status = {"never": "never", "no": "never", "nil": "never", "none": "never", "non": "never", "ex": "former",
                  "former": "former", "previous": "former", "current": "current", "yes": "current",
                  "active": "current"}[word]
    elif re.search(r"\b(never smok\w*|non-?smoker|non smoker|nonsmoker|never been a smoker|lifelong non)\b", text):
        status = "never"
    elif re.search(r"\b(current(?:ly)? smok\w*|active smoker|still smok\w*|current smoker)\b", text):
        status = "current"
    elif re.search(r"\b(ex-?smoker|former smoker|(?<!trying to )quit|stopped|gave up|no longer smok\w*|used to smoke|"
                   r"previous smoker|past smoker|ex smoker)\b", text):
        status = "former"
    elif ent._.is_negated and not re.search(r"pack", text):
        status = "never"
    elif re.search(r"\b(smokes|smoker|\d+\s*(?:cigarettes|cigs)?\s*(?:/|per|a)\s*day|pack(?:s)? (?:per|a) day)\b", text):
        status = "current"
    if ent._.is_family:
        b.add("smoking", None, "smoking (family member)", ent.start_char, ent.end_char, sent, 0.5, ent,
              "family history", key="family")
        return
    if status is not None:
        b.add("smoking", status, status, ent.start_char, ent.end_char, sent, 0.85, ent)
    py = _PACK_YEARS.search(sent.text)
    cigs = _CIGS.search(sent.text)
    if py:
        start = sent.start_char + py.start()
        b.add("pack_years", float(py.group(1)), f"{float(py.group(1)):g} pack-years", start,
              sent.start_char + py.end(), sent, 0.9)
    elif cigs:
        value = round(int(cigs.group(1)) / 20 * int(cigs.group(2)), 1)
        start = sent.start_char + cigs.start()
        b.add("pack_years", value, f"{value:g} pack-years (from {cigs.group(0)})", start,
              sent.start_char + cigs.end(), sent, 0.7)


def _alcohol(b: _Builder, ent: Any, sent: Any) -> None:
    text = sent.text.lower()
    if ent._.is_family:
        return
    units = _UNITS.search(sent.text)
    per_week = None
    if units:
        per_week = float(units.group(1)) * (7 if units.group(2).lower() == "day" else 1)
    if re.search(r"\b(teetotal\w*|does not drink|doesn't drink|no alcohol|abstinent|never drinks|"
                 r"denies alcohol|nil alcohol|avoids alcohol)\b", text) or (ent._.is_negated and per_week is None):
        status = "none"
    elif per_week is not None:
        status = "none" if per_week == 0 else ("moderate" if per_week <= LOW_RISK_UNITS_PER_WEEK else "heavy")
    elif re.search(r"\b(heavy|excess\w*|abuse|dependence|alcoholism|alcohol use disorder|binge)\b", text):
        status = "heavy"
    elif re.search(r"\b(social\w*|occasional\w*|moderate\w*|light|glass of wine|weekends?)\b", text):
        status = "moderate"
    else:
        return
    display = status + (f" ({per_week:g} units/week)" if per_week is not None else "")
    b.add("alcohol", {"status": status, "units_per_week": per_week}, display, ent.start_char, ent.end_char, sent,
          0.85 if per_week is not None else 0.75, ent, key="alcohol")


_DOSED_WORD = re.compile(r"\b([A-Za-z][a-z]{3,}(?:[ -][a-z]{4,})?)\s+\d+(?:\.\d+)?\s*(?:mg|mcg|micrograms|g|units)\b")
_NOT_DRUGS = {"dose", "doses", "daily", "reduced", "about", "approx", "weight", "total", "insulin"}


def _unknown_drugs(b: _Builder, sent: Any, known: list[tuple[int, int]]) -> None:
    """A dosed word that is not in the drug vocabulary: listed as excluded so the physician sees it."""
    for m in _DOSED_WORD.finditer(sent.text):
        start, end = sent.start_char + m.start(1), sent.start_char + m.end(1)
        word = m.group(1).lower()
        if word in _NOT_DRUGS or any(s <= start < e or start <= s < end for s, e in known):
            continue
        if _drug_name(word) is not None or vocab.canonical_comorbidity(word) is not None:
            continue
        b.add("medication", {"drug": word, "dose": None, "frequency": None}, word, start, end, sent, 0.3, None,
              "not in the drug vocabulary (the record cannot hold it)", key=word)


def _ecog(b: _Builder, sent: Any) -> None:
    for m in _ECOG.finditer(sent.text):
        start = sent.start_char + m.start()
        b.add("ecog", int(m.group(1)), f"ECOG {m.group(1)}", start, sent.start_char + m.end(), sent, 0.9, key="ecog")
        return


def _labs(b: _Builder, sent: Any) -> None:
    for m in _LAB_RE.finditer(sent.text):
        spelling = m.group(1)
        if spelling in ("na", "cr", "ef"):
            continue  # in lower case these are words, not labs
        name = _LAB_BY_SPELLING[spelling.lower()]
        value = float(m.group(2))
        written = (m.group(3) or "").lower()
        unit = _UNIT_SPELLINGS.get(written.replace(" ", "")) or _UNIT_SPELLINGS.get(written)
        spec = vocab.LABS[name]
        confidence = 0.9
        if unit is None:
            unit = spec.unit
            confidence = 0.6
            if name == "hemoglobin" and value > 25:
                unit = "g/L"
        if unit not in spec.units:
            continue
        canonical = value * spec.units[unit]
        if not spec.low <= canonical <= spec.high:
            continue
        start = sent.start_char + m.start()
        b.add("lab", {"name": name, "value": value, "unit": unit}, f"{name} {value:g} {unit}", start,
              sent.start_char + m.end(), sent, confidence, key=name)


def _allergies(b: _Builder, sent: Any) -> None:
    none = _NO_ALLERGY.search(sent.text)
    if none:
        start = sent.start_char + none.start()
        b.add("allergy", "none known", "no known drug allergies", start, sent.start_char + none.end(), sent, 0.9,
              key="none known")
        return
    m = _ALLERGY.search(sent.text)
    if not m:
        return
    if re.search(r"\b(no|denies|nil)\b\s*$", sent.text[: m.start()].lower()):
        return
    listing = m.group(1)
    offset = sent.start_char + m.start(1)
    for part in re.finditer(r"[^,/]+?(?=\s*(?:,|/|\band\b|$))", listing):
        raw = part.group(0).strip()
        raw = re.sub(r"^(?:and|or)\s+", "", raw)
        if "?" in raw or re.search(r"\b(no|not|tolerat\w*)\b", raw.lower()):
            continue  # a query or a retraction, not an allergy
        substance = re.sub(r"\s*\(.*$", "", raw).strip().lower()
        if not substance or len(substance) > 40:
            continue
        name = _drug_name(substance) or substance
        start = offset + part.start()
        b.add("allergy", name, raw, start, offset + part.end(), sent, 0.8, key=name)
