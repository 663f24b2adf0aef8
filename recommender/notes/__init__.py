"""Clinical notes -> proposed history fields, reviewed by a physician before they enter the record.

Offline and rule based: identifiers are masked first (:mod:`~recommender.notes.deid`), medspaCy finds mentions and
ConText marks negated, uncertain, family and hypothetical ones (:mod:`~recommender.notes.nlp`), values are read
next to each mention (:mod:`~recommender.notes.extract`), and :mod:`~recommender.notes.review` compares the proposals
with the patient's record and applies only what the physician accepts.
"""

from recommender.notes.deid import MaskedNote, mask_identifiers
from recommender.notes.extract import FIELDS, ExtractedValue, NoteExtraction, extract_note
from recommender.notes.review import Decision, Proposal, apply_decisions, propose
from recommender.notes.sources import NoteText, read_note, read_note_bytes

__all__ = [
    "FIELDS",
    "Decision",
    "Proposal",
    "apply_decisions",
    "propose",
    "ExtractedValue",
    "MaskedNote",
    "NoteExtraction",
    "NoteText",
    "extract_note",
    "mask_identifiers",
    "read_note",
    "read_note_bytes",
]
