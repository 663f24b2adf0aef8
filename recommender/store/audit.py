"""The append-only, hash-chained audit log.

Each entry's hash is ``sha256(prev_hash + canonical_json(entry))`` where ``entry`` holds the sequence
number, time, actor, action, entity and payload, and ``prev_hash`` is the previous entry's hash (64
zeros for the first). Changing, inserting or deleting any entry breaks the chain from that point;
:func:`verify_chain` walks it and names the first broken link.

Writers are serialised so the chain never forks: :func:`append` takes the one ``audit_head`` row
``SELECT ... FOR UPDATE`` (PostgreSQL) inside a transaction that
:func:`recommender.store.engine.write_session` opened with ``BEGIN IMMEDIATE`` (SQLite). The
sequence number is the primary key, so even a writer that bypassed both could not fork it.

Payloads never carry a raw patient identifier: services pass the pseudonymous ID.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recommender.store.engine import read_session
from recommender.store.errors import StoreError
from recommender.store.models import GENESIS_HASH, AuditEntry, AuditHead, utcnow

__all__ = ["AuditReport", "BrokenLink", "append", "canonical_json", "entry_hash", "verify_chain"]

log = logging.getLogger(__name__)

HEAD_ID = 1


def canonical_json(obj: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no whitespace, UTF-8, no NaN/Infinity."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def _entry_fields(entry: AuditEntry, payload: Any) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "created_at": entry.created_at,
        "actor": entry.actor,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "payload": payload,
        "prev_hash": entry.prev_hash,
    }


def entry_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """``sha256(prev_hash (ASCII hex) + canonical_json(fields))`` as hex."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(dict(fields))).hexdigest()


def append(
    session: Session,
    *,
    action: str,
    actor: str | None = None,
    entity_type: str | None = None,
    entity_id: str | int | None = None,
    payload: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry inside the caller's (write) transaction and return it.

    Parameters
    ----------
    session
        A session from :func:`recommender.store.engine.write_session`; the entry is committed with
        the caller's other changes (or rolled back with them).
    action
        What happened, dotted (``user.create``, ``review.record``...).
    actor
        User name of who did it (``None`` for the system).
    entity_type, entity_id
        What it happened to (``review``, ``42``).
    payload
        JSON-serialisable details; never a raw patient identifier.
    """
    head = session.execute(
        select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update().execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if head is None:
        raise StoreError(
            "the audit log has no chain head (database not initialised)", record="audit_head",
            fix="run 'recommender admin init-db' on this database",
        )
    body = dict(payload or {})
    payload_text = canonical_json(body).decode("utf-8")
    entry = AuditEntry(
        seq=head.seq + 1,
        created_at=utcnow().isoformat(timespec="microseconds").replace("+00:00", "Z"),
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        payload=payload_text,
        prev_hash=head.entry_hash,
    )
    entry.entry_hash = entry_hash(entry.prev_hash, _entry_fields(entry, json.loads(payload_text)))
    session.add(entry)
    head.seq = entry.seq
    head.entry_hash = entry.entry_hash
    session.flush()
    log.debug("audit entry %d appended: %s", entry.seq, action)
    return entry


@dataclass(frozen=True)
class BrokenLink:
    """The first place where the chain does not hold."""

    seq: int
    action: str | None
    created_at: str | None
    reason: str

    def describe(self) -> str:
        what = f"entry {self.seq}"
        if self.action:
            what += f" ({self.action}, {self.created_at})"
        return f"{what}: {self.reason}"


@dataclass(frozen=True)
class AuditReport:
    """Result of :func:`verify_chain`."""

    ok: bool
    entries_checked: int
    last_seq: int
    head_hash: str
    broken: BrokenLink | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["broken"] = None if self.broken is None else {**asdict(self.broken), "message": self.broken.describe()}
        return data


def _verify(session: Session) -> AuditReport:
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0

    def broken(seq: int, row: AuditEntry | None, reason: str) -> AuditReport:
        return AuditReport(
            ok=False, entries_checked=checked, last_seq=expected_seq - 1, head_hash=expected_prev,
            broken=BrokenLink(seq=seq, action=getattr(row, "action", None), created_at=getattr(row, "created_at", None),
                              reason=reason),
        )

    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=500)).scalars()
    for row in rows:
        if row.seq != expected_seq:
            if row.seq > expected_seq:
                missing = (f"entry {expected_seq} is missing" if row.seq == expected_seq + 1
                           else f"entries {expected_seq}-{row.seq - 1} are missing")
                return broken(expected_seq, None, f"{missing} (deleted?); the next entry present is {row.seq}")
            return broken(row.seq, row, f"sequence out of order (expected {expected_seq})")
        if row.prev_hash != expected_prev:
            prev = "the genesis hash" if expected_seq == 1 else f"entry {expected_seq - 1}'s hash"
            return broken(row.seq, row, f"prev_hash does not match {prev} (this entry or the one before was altered)")
        try:
            payload = json.loads(row.payload)
        except (TypeError, ValueError):
            return broken(row.seq, row, "payload is not valid JSON (altered)")
        recomputed = entry_hash(row.prev_hash, _entry_fields(row, payload))
        if recomputed != row.entry_hash:
            return broken(row.seq, row, "content does not match its hash (entry altered)")
        if canonical_json(payload).decode("utf-8") != row.payload:
            return broken(row.seq, row, "payload text is not in canonical form (entry altered)")
        expected_prev = row.entry_hash
        expected_seq += 1
        checked += 1
    head = session.get(AuditHead, HEAD_ID)
    if head is None:
        return broken(expected_seq, None, "the chain head row is missing (audit_head deleted?)")
    if head.seq != expected_seq - 1 or head.entry_hash != expected_prev:
        if head.seq > expected_seq - 1:
            return broken(expected_seq, None,
                          f"the chain head records {head.seq} entries but only {expected_seq - 1} are present "
                          "(last entries deleted)")
        return broken(head.seq, None, "the chain head does not match the last entry (head or log altered)")
    return AuditReport(ok=True, entries_checked=checked, last_seq=expected_seq - 1, head_hash=expected_prev)


def verify_chain(engine_or_session: Engine | Session) -> AuditReport:
    """Walk the whole audit log and report whether the chain holds, and where it first breaks.

    Checks, entry by entry in sequence order: no gap in the sequence numbers, ``prev_hash`` equals
    the previous entry's hash, the stored hash equals the recomputed one; then that the chain head
    matches the last entry (detects deleted tail entries).
    """
    if isinstance(engine_or_session, Session):
        return _verify(engine_or_session)
    with read_session(engine_or_session) as session:
        return _verify(session)
