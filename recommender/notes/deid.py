"""Mask identifiers in a clinical note before anything is stored, shown or logged.

Names (labelled, after a title, in salutations and signatures), dates of birth, record numbers (MRN, hospital,
NHS, patient id), addresses, postcodes, telephone numbers and e-mail addresses are replaced character by character
with ``*`` (letters and digits only), so the masked text keeps the same length and every evidence span found on it
keeps its offsets. Clinical dates (treatment lines) are kept: only a date labelled as a date of birth is masked.

Rule-based and deliberately greedy on labelled fields; free-text names without a title or label (e.g. "seen with
her husband John") are not found: the app shows the masked note to the physician before anything is stored.

Examples
--------
>>> mask_identifiers("Mr John Smith, DOB 03/04/1960, MRN: 12345678").text
'Mr **** *****, DOB **/**/****, MRN: ********'
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["MaskedNote", "mask_identifiers"]

_NAME = r"[A-Z][a-zA-Z'\-]+"
_DATE = (r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|"
         r"Nov|Dec)[a-z]*\.?\s+\d{4}|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4})")

#: (kind, pattern, group holding the identifier)
_RULES: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("email", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), 0),
    ("date_of_birth", re.compile(rf"(?i:\b(?:DOB|D\.O\.B\.?|date\s+of\s+birth|born(?:\s+on)?)\s*[:\-]?\s*)({_DATE})"), 1),
    ("record_number", re.compile(
        r"(?i:\b(?:MRN|medical\s+record\s+(?:no|number)|hospital\s+(?:no|number)|NHS\s+(?:no|number)|"
        r"record\s+(?:no|number)|patient\s+id|unit\s+(?:no|number))\.?\s*[:#\-]?\s*)([A-Z0-9][A-Z0-9\- ]{3,}[A-Z0-9])"),
     1),
    ("phone", re.compile(r"(?i:\b(?:tel|telephone|phone|mob|mobile|fax)\.?\s*[:\-]?\s*)(\+?\d[\d ()\-]{7,}\d)"), 1),
    ("phone", re.compile(r"(?<![\w/.])(?:\+\d{1,3}[ \-]?)?(?:\(\d{2,5}\)[ \-]?|\d{3,5}[ \-])\d{3,4}[ \-]\d{3,4}(?![\w/])"),
     0),
    ("address", re.compile(r"(?im:^\s*address\s*[:\-]\s*(.+)$)"), 1),
    ("address", re.compile(
        r"\b\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Close|Way|Crescent|"
        r"Place|Court|Terrace|Boulevard|Blvd)\b\.?"), 0),
    ("postcode", re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b"), 0),
    ("name", re.compile(rf"(?im:^\s*(?:patient(?:'s)?\s+name|patient|name|pt|re)\s*[:\-]\s*)((?:{_NAME}[ ,]*){{1,4}})"),
     1),
    ("name", re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Professor|Sister|Nurse)\.?\s+((?:{_NAME}[ \t]?){{1,3}})"), 1),
    ("name", re.compile(rf"(?i:\bdear\s+)((?:{_NAME}[ \t]?){{1,3}})"), 1),
    ("name", re.compile(rf"(?i:(?:yours\s+(?:sincerely|faithfully)|kind\s+regards|regards)\s*,?\s*\n\s*)"
                        rf"((?:{_NAME}[ \t]?){{1,4}})"), 1),
)

_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sister", "nurse"}


@dataclass(frozen=True)
class MaskedNote:
    """A note with its identifiers masked (same length as the original) and what was masked, by kind."""

    text: str
    spans: tuple[tuple[int, int, str], ...] = ()
    counts: dict[str, int] = field(default_factory=dict)


def _mask_chars(text: str) -> str:
    return "".join("*" if ch.isalnum() else ch for ch in text)


def mask_identifiers(text: str) -> MaskedNote:
    """Mask names, dates of birth, record numbers, addresses, postcodes, phones and e-mails in ``text``."""
    spans: list[tuple[int, int, str]] = []
    for kind, pattern, group in _RULES:
        for m in pattern.finditer(text):
            start, end = m.span(group)
            chunk = text[start:end]
            stripped = chunk.rstrip(" ,.")
            end = start + len(stripped)
            if end <= start:
                continue
            if kind == "name" and stripped.split()[0].lower().rstrip(".") in _TITLES:
                continue
            spans.append((start, end, kind))
    spans.sort()
    merged: list[tuple[int, int, str]] = []
    for s, e, k in spans:
        if merged and s < merged[-1][1]:
            ps, pe, pk = merged[-1]
            merged[-1] = (ps, max(pe, e), pk)
        else:
            merged.append((s, e, k))
    out = list(text)
    for s, e, _k in merged:
        out[s:e] = _mask_chars(text[s:e])
    return MaskedNote("".join(out), tuple(merged), dict(Counter(k for _s, _e, k in merged)))
