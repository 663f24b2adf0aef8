"""Audit of a physician's decisions on the history values proposed from a clinical note.

The note itself is never stored: only the decision per field (accepted, edited, replaced or rejected), the value
that entered the record, the evidence offsets and the extractor version, under the patient's pseudonym.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine

from recommender.store import audit
from recommender.store.engine import write_session
from recommender.store.patients import get_or_create_patient

__all__ = ["record_note_review"]


def record_note_review(engine: Engine, *, actor: str, mrn: str, changes: Sequence[dict[str, Any]],
                       rejected: Sequence[dict[str, Any]] = (), extractor: str = "", note_sha256: str = "") -> int:
    """Append one ``note.review`` audit entry; returns its sequence number.

    ``changes`` are the changes :func:`recommender.notes.apply_decisions` returned; ``rejected`` the proposals the
    physician rejected (field and evidence offsets). ``note_sha256`` is the hash of the *masked* note text.
    """
    with write_session(engine) as session:
        patient = get_or_create_patient(session, mrn)
        entry = audit.append(
            session, action="note.review", actor=actor, entity_type="patient", entity_id=patient.pseudonym,
            payload={"patient": patient.pseudonym, "extractor": extractor, "masked_note_sha256": note_sha256,
                     "applied": [{k: c.get(k) for k in ("field", "target", "action", "value", "evidence")}
                                 for c in changes],
                     "rejected": list(rejected)})
        return int(entry.seq)
