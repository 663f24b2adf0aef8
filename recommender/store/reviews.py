"""Service functions the app and the CLI call: store what was shown, record the physician's decision.

A review stores who decided, when, what was shown (the exact Recommendation JSON, by reference and
sha256, with the model bundle id and hash), the decision (``accept`` | ``modify`` | ``reject``), the
option chosen, a dose note and the reason. Each write is one transaction together with its audit
entry; the review keeps the hash of the entry that signs it. Reviews and recommendations are never
changed: a correction is a new review.

Examples
--------
>>> from recommender.store import upgrade_database, make_engine, create_user
>>> engine = make_engine("sqlite://")
>>> _ = upgrade_database(engine)
>>> doc, _pw = create_user(engine, "dr.who", "physician")
>>> rec = record_recommendation(engine, mrn="MRN-1", recommendation={"options": [{"name": "FOLFOX"}]},
...                             model_bundle_id="default-2026.11", model_bundle_hash="ab12", actor="dr.who")
>>> rev = record_review(engine, recommendation_id=rec.id, reviewer="dr.who", decision="accept",
...                     shown_sha256=rec.json_sha256, chosen_option="FOLFOX")
>>> [r.decision for r in list_reviews(engine, mrn="MRN-1")]
['accept']
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recommender.store import audit
from recommender.store.engine import read_session, write_session
from recommender.store.errors import AuthError, PermissionDeniedError, StoreError, StoreUsageError
from recommender.store.models import DECISIONS, AuditEntry, Patient, RecommendationRow, Review, User, utcnow
from recommender.store.patients import find_patient, get_or_create_patient, normalise_mrn

__all__ = [
    "DECISIONS",
    "REVIEWER_ROLES",
    "RecordProblem",
    "StoredRecommendation",
    "StoredReview",
    "get_recommendation",
    "json_sha256",
    "list_recommendations",
    "list_reviews",
    "record_recommendation",
    "record_review",
    "verify_records",
]

#: Roles allowed to sign a review.
REVIEWER_ROLES: tuple[str, ...] = ("physician",)


def json_sha256(text: str | bytes) -> str:
    """sha256 (hex) of a JSON document's exact UTF-8 text (what ``shown_sha256`` refers to)."""
    return hashlib.sha256(text.encode("utf-8") if isinstance(text, str) else text).hexdigest()


@dataclass(frozen=True)
class StoredRecommendation:
    """A Recommendation as stored: exact JSON text, its sha256 and the model bundle that made it."""

    id: int
    patient_pseudonym: str
    created_at: datetime
    created_by: str | None
    model_bundle_id: str
    model_bundle_hash: str
    schema_version: str | None
    json_sha256: str
    json_text: str

    def data(self) -> Any:
        """The parsed JSON."""
        return json.loads(self.json_text)

    def to_dict(self, include_json: bool = True) -> dict[str, Any]:
        out = asdict(self)
        out["created_at"] = self.created_at.isoformat()
        if not include_json:
            out.pop("json_text")
        return out


@dataclass(frozen=True)
class StoredReview:
    """A signed review."""

    id: int
    recommendation_id: int
    patient_pseudonym: str
    reviewer: str
    reviewed_at: datetime
    decision: str
    chosen_option: str | None
    dose_note: str | None
    reason: str | None
    shown_sha256: str
    model_bundle_id: str
    model_bundle_hash: str
    audit_hash: str | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["reviewed_at"] = self.reviewed_at.isoformat()
        return out


@dataclass(frozen=True)
class RecordProblem:
    """A stored recommendation or review that does not match the audit entry that recorded it."""

    table: str
    id: int
    reason: str

    def describe(self) -> str:
        return f"{self.table} {self.id}: {self.reason}"


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def _as_json_text(recommendation: Any) -> str:
    if isinstance(recommendation, bytes):
        try:
            recommendation = recommendation.decode("utf-8")
        except UnicodeDecodeError:
            raise StoreUsageError("the recommendation is not UTF-8 text", field="recommendation",
                                  fix="pass the Recommendation JSON as text") from None
    if isinstance(recommendation, str):
        text = recommendation
    elif hasattr(recommendation, "model_dump_json"):
        text = recommendation.model_dump_json()
    elif hasattr(recommendation, "to_json"):
        text = recommendation.to_json()
    else:
        try:
            text = json.dumps(recommendation, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as err:
            raise StoreUsageError(f"the recommendation is not JSON-serialisable: {err}", field="recommendation",
                                  fix="pass the Recommendation model, its JSON text or a plain dict") from None
    try:
        json.loads(text)
    except ValueError as err:
        raise StoreUsageError(f"the recommendation is not valid JSON: {err}", field="recommendation",
                              fix="pass the Recommendation JSON exactly as produced by the scoring API") from None
    return text


def _find_key(data: Any, *names: str) -> str | None:
    """A provenance value: top level, then ``provenance``/``model`` sub-objects."""
    if not isinstance(data, Mapping):
        return None
    for scope in (data, data.get("provenance"), data.get("model"), data.get("model_bundle")):
        if isinstance(scope, Mapping):
            for name in names:
                value = scope.get(name)
                if isinstance(value, (str, int)) and str(value):
                    return str(value)
    return None


def _user(session: Session, username: str | None, field: str) -> User | None:
    if username is None:
        return None
    row = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if row is None:
        raise StoreError(f"no user {username!r}", field=field, fix="use an existing account")
    return row


def _stored_rec(row: RecommendationRow) -> StoredRecommendation:
    return StoredRecommendation(
        id=row.id, patient_pseudonym=row.patient.pseudonym, created_at=row.created_at,
        created_by=None if row.creator is None else row.creator.username, model_bundle_id=row.model_bundle_id,
        model_bundle_hash=row.model_bundle_hash, schema_version=row.schema_version, json_sha256=row.json_sha256,
        json_text=row.json_text,
    )


def _stored_review(row: Review) -> StoredReview:
    return StoredReview(
        id=row.id, recommendation_id=row.recommendation_id, patient_pseudonym=row.patient.pseudonym,
        reviewer=row.reviewer.username, reviewed_at=row.reviewed_at, decision=row.decision,
        chosen_option=row.chosen_option, dose_note=row.dose_note, reason=row.reason, shown_sha256=row.shown_sha256,
        model_bundle_id=row.recommendation.model_bundle_id, model_bundle_hash=row.recommendation.model_bundle_hash,
        audit_hash=row.audit_hash,
    )


def _review_content(row: Review, reviewer: str, pseudonym: str) -> dict[str, Any]:
    """The signed content of a review (hashed into its audit entry)."""
    return {
        "review_id": row.id,
        "recommendation_id": row.recommendation_id,
        "patient": pseudonym,
        "reviewer": reviewer,
        "reviewed_at": row.reviewed_at.isoformat(),
        "shown_sha256": row.shown_sha256,
        "decision": row.decision,
        "chosen_option": row.chosen_option,
        "dose_note": row.dose_note,
        "reason": row.reason,
    }


def _clean(text: str | None, field: str, limit: int | None = None) -> str | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise StoreUsageError(f"{field} must be text", field=field, fix=f"give {field} as text")
    text = text.strip()
    if limit is not None and len(text) > limit:
        raise StoreUsageError(f"{field} longer than {limit} characters", field=field, fix=f"shorten {field}")
    return text or None


# ---------------------------------------------------------------------------------------------
# recommendations
# ---------------------------------------------------------------------------------------------


def record_recommendation(
    engine: Engine,
    *,
    mrn: str,
    recommendation: Any,
    model_bundle_id: str | None = None,
    model_bundle_hash: str | None = None,
    schema_version: str | None = None,
    actor: str | None = None,
) -> StoredRecommendation:
    """Store a Recommendation exactly as it will be shown and return the stored record.

    Parameters
    ----------
    mrn
        The patient's medical record number; only its pseudonym is stored.
    recommendation
        JSON text (stored byte for byte), a pydantic model (``model_dump_json()``) or a plain dict.
    model_bundle_id, model_bundle_hash
        The model bundle that produced it; read from the JSON (``model_bundle_id``/``model_bundle_hash``
        at the top level or under ``provenance``) when not given.
    schema_version
        The Recommendation schema version (read from ``schema_version`` when not given).
    actor
        User name of who asked for it (optional).
    """
    text = _as_json_text(recommendation)
    data = json.loads(text)
    bundle_id = model_bundle_id or _find_key(data, "model_bundle_id", "bundle_id")
    bundle_hash = model_bundle_hash or _find_key(data, "model_bundle_hash", "model_bundle_sha256", "bundle_hash",
                                                 "bundle_sha256")
    if not bundle_id or not bundle_hash:
        raise StoreUsageError("the model bundle id and hash are not known", field="model_bundle_id",
                              fix="pass model_bundle_id= and model_bundle_hash= (or put them in the JSON's provenance)")
    version = schema_version or _find_key(data, "schema_version")
    normalise_mrn(mrn)
    with write_session(engine) as session:
        creator = _user(session, actor, "actor")
        patient = get_or_create_patient(session, mrn)
        row = RecommendationRow(patient=patient, created_at=utcnow(), creator=creator, model_bundle_id=bundle_id,
                                model_bundle_hash=bundle_hash, schema_version=version, json_text=text,
                                json_sha256=json_sha256(text))
        session.add(row)
        session.flush()
        audit.append(session, action="recommendation.record", actor=actor, entity_type="recommendation",
                     entity_id=row.id,
                     payload={"patient": patient.pseudonym, "json_sha256": row.json_sha256,
                              "model_bundle_id": bundle_id, "model_bundle_hash": bundle_hash,
                              "schema_version": version})
        return _stored_rec(row)


def get_recommendation(engine: Engine, recommendation_id: int) -> StoredRecommendation:
    """One stored recommendation (with its exact JSON)."""
    with read_session(engine) as session:
        row = session.get(RecommendationRow, recommendation_id)
        if row is None:
            raise StoreError(f"no recommendation {recommendation_id}", record=f"recommendation {recommendation_id}",
                             fix="check the id (list them for the patient)")
        return _stored_rec(row)


def list_recommendations(engine: Engine, *, mrn: str | None = None, pseudonym: str | None = None,
                         limit: int | None = None) -> list[StoredRecommendation]:
    """Stored recommendations, newest first, of one patient (by MRN or pseudonym) or of all."""
    with read_session(engine) as session:
        query = select(RecommendationRow).order_by(RecommendationRow.created_at.desc(), RecommendationRow.id.desc())
        patient_id = _patient_filter(session, mrn, pseudonym)
        if patient_id == -1:
            return []
        if patient_id is not None:
            query = query.where(RecommendationRow.patient_id == patient_id)
        if limit:
            query = query.limit(limit)
        return [_stored_rec(r) for r in session.execute(query).scalars()]


def _patient_filter(session: Session, mrn: str | None, pseudonym: str | None) -> int | None:
    """Patient row id to filter on; ``None`` for no filter; ``-1`` for an unknown patient."""
    if mrn is not None:
        patient = find_patient(session, mrn)
    elif pseudonym is not None:
        patient = session.execute(select(Patient).where(Patient.pseudonym == pseudonym)).scalar_one_or_none()
    else:
        return None
    return -1 if patient is None else patient.id


# ---------------------------------------------------------------------------------------------
# reviews
# ---------------------------------------------------------------------------------------------


def _check_signature(engine: Engine, reviewer: str, password: str) -> None:
    """Check the password typed at signing; a mismatch is audited (own transaction) and raises ``AuthError``.

    Signing counts toward the same per-account back-off as signing in (:mod:`recommender.store.throttle`): a
    locked account cannot sign, and repeated wrong signature passwords lock it like wrong sign-ins.
    """
    from recommender.store import throttle
    from recommender.store.auth import verify_password
    from recommender.store.errors import AccountLockedError

    keys = [("user", str(reviewer)[:64])]
    with read_session(engine) as session:
        locked = throttle.check(session, keys)
        row = session.execute(select(User).where(User.username == reviewer)).scalar_one_or_none()
        ok = locked is None and row is not None and row.active and verify_password(row.password_hash, password or "")
        user_id = None if row is None else row.id
    if locked is not None:
        wait = max(1, int(locked.retry_after + 0.999))
        raise AccountLockedError(f"too many failed password checks: try signing again in {wait} s", field="password",
                                 retry_after=locked.retry_after,
                                 fix="wait, or ask an administrator ('recommender admin unlock-user NAME')")
    if ok:
        return
    with write_session(engine) as session:
        audit.append(session, action="review.signature_failed", actor=reviewer if user_id is not None else None,
                     entity_type="user", entity_id=user_id, payload={"username": str(reviewer)[:64]})
        throttle.record_failure(session, keys)
    raise AuthError("signature refused: the password does not match the signed-in account", field="password",
                    fix="type your own password to sign; nothing was stored")


def record_review(
    engine: Engine,
    *,
    recommendation_id: int,
    reviewer: str,
    decision: str,
    shown_sha256: str,
    chosen_option: str | None = None,
    dose_note: str | None = None,
    reason: str | None = None,
    signature_password: str | None = None,
) -> StoredReview:
    """Record and sign a physician's decision on a stored recommendation.

    Parameters
    ----------
    recommendation_id
        The stored recommendation that was shown (:func:`record_recommendation`).
    reviewer
        User name of the signed-in physician.
    decision
        ``accept``, ``modify`` or ``reject``.
    shown_sha256
        sha256 of the JSON the reviewer saw; must equal the stored recommendation's (guards against
        signing something other than what was displayed).
    chosen_option
        The option accepted or chosen instead (``modify``).
    dose_note
        Free-text dose adjustment (``modify``).
    reason
        Why; required for ``modify`` and ``reject``.
    signature_password
        The reviewer's password typed again at signing (an electronic signature of two components, user
        name and password). When given it is checked against the account before anything is stored; a
        mismatch is an audit entry (``review.signature_failed``) and an :class:`AuthError`, and a match
        is recorded in the review's audit entry (``signature: password re-entered``).

    Raises
    ------
    AuthError
        ``signature_password`` given and wrong.
    StoreUsageError
        Unknown decision, or a required field missing.
    PermissionDeniedError
        The reviewer is not an active physician.
    StoreError
        Unknown recommendation, or ``shown_sha256`` does not match it.
    """
    if decision not in DECISIONS:
        raise StoreUsageError(f"unknown decision {decision!r}", field="decision", fix=f"choose one of: {', '.join(DECISIONS)}")
    chosen_option = _clean(chosen_option, "chosen_option", 200)
    dose_note = _clean(dose_note, "dose_note", 4000)
    reason = _clean(reason, "reason", 4000)
    if decision in ("modify", "reject") and not reason:
        raise StoreUsageError(f"a {decision} decision needs a reason", field="reason", fix="state the reason")
    if decision == "modify" and not (chosen_option or dose_note):
        raise StoreUsageError("a modify decision needs the option chosen instead or a dose note",
                              field="chosen_option", fix="choose another option or write the dose adjustment")
    if signature_password is not None:
        _check_signature(engine, reviewer, signature_password)
    with write_session(engine) as session:
        user = _user(session, reviewer, "reviewer")
        assert user is not None
        if not user.active or user.role not in REVIEWER_ROLES:
            raise PermissionDeniedError(
                f"user {reviewer!r} ({user.role}{', disabled' if not user.active else ''}) may not sign reviews",
                record=f"user {reviewer}", fix="sign in as an active physician",
            )
        rec = session.get(RecommendationRow, recommendation_id)
        if rec is None:
            raise StoreError(f"no recommendation {recommendation_id}", record=f"recommendation {recommendation_id}",
                             fix="store the recommendation first (record_recommendation)")
        if shown_sha256 != rec.json_sha256:
            raise StoreError(
                "what was shown differs from the stored recommendation (sha256 mismatch)",
                record=f"recommendation {recommendation_id}", field="shown_sha256",
                fix="reload the recommendation and review what is stored",
            )
        row = Review(recommendation=rec, patient_id=rec.patient_id, reviewer=user, reviewed_at=utcnow(),
                     shown_sha256=shown_sha256, decision=decision, chosen_option=chosen_option, dose_note=dose_note,
                     reason=reason)
        session.add(row)
        session.flush()
        pseudonym = rec.patient.pseudonym
        content = _review_content(row, user.username, pseudonym)
        entry = audit.append(
            session, action="review.record", actor=user.username, entity_type="review", entity_id=row.id,
            payload={"recommendation_id": rec.id, "patient": pseudonym, "decision": decision,
                     "chosen_option": chosen_option, "shown_sha256": shown_sha256,
                     "model_bundle_id": rec.model_bundle_id, "model_bundle_hash": rec.model_bundle_hash,
                     "review_sha256": hashlib.sha256(audit.canonical_json(content)).hexdigest(),
                     **({"signature": "password re-entered"} if signature_password is not None else {})},
        )
        row.audit_hash = entry.entry_hash
        session.flush()
        return _stored_review(row)


def list_reviews(engine: Engine, *, mrn: str | None = None, pseudonym: str | None = None,
                 limit: int | None = None) -> list[StoredReview]:
    """Reviews, newest first, of one patient (by MRN or pseudonym) or of all."""
    with read_session(engine) as session:
        query = select(Review).order_by(Review.reviewed_at.desc(), Review.id.desc())
        patient_id = _patient_filter(session, mrn, pseudonym)
        if patient_id == -1:
            return []
        if patient_id is not None:
            query = query.where(Review.patient_id == patient_id)
        if limit:
            query = query.limit(limit)
        return [_stored_review(r) for r in session.execute(query).scalars()]


def verify_records(engine_or_session: Engine | Session) -> RecordProblem | None:
    """Check stored recommendations and reviews against the audit entries that recorded them.

    Returns the first problem (lowest id, recommendations first) or ``None``. Complements
    :func:`recommender.store.audit.verify_chain`: the chain proves the audit log intact, this proves
    the records still say what the log says they said.
    """
    if not isinstance(engine_or_session, Session):
        with read_session(engine_or_session) as session:
            return verify_records(session)
    session = engine_or_session
    entries: dict[tuple[str, str], AuditEntry] = {}
    for entry in session.execute(
        select(AuditEntry).where(AuditEntry.action.in_(("recommendation.record", "review.record")))
    ).scalars():
        entries[(entry.entity_type or "", entry.entity_id or "")] = entry
    for rec in session.execute(select(RecommendationRow).order_by(RecommendationRow.id)).scalars():
        entry = entries.get(("recommendation", str(rec.id)))
        if entry is None:
            return RecordProblem("recommendations", rec.id, "no audit entry recorded it (inserted behind the log?)")
        payload = json.loads(entry.payload)
        if json_sha256(rec.json_text) != rec.json_sha256 or rec.json_sha256 != payload.get("json_sha256"):
            return RecordProblem("recommendations", rec.id,
                                 f"stored JSON differs from what audit entry {entry.seq} recorded (altered)")
        if (rec.model_bundle_id, rec.model_bundle_hash, rec.patient.pseudonym) != (
                payload.get("model_bundle_id"), payload.get("model_bundle_hash"), payload.get("patient")):
            return RecordProblem("recommendations", rec.id,
                                 f"model bundle or patient differs from audit entry {entry.seq} (altered)")
    for row in session.execute(select(Review).order_by(Review.id)).scalars():
        entry = entries.get(("review", str(row.id)))
        if entry is None:
            return RecordProblem("reviews", row.id, "no audit entry recorded it (inserted behind the log?)")
        payload = json.loads(entry.payload)
        content = _review_content(row, row.reviewer.username, row.patient.pseudonym)
        if hashlib.sha256(audit.canonical_json(content)).hexdigest() != payload.get("review_sha256"):
            return RecordProblem("reviews", row.id, f"content differs from what audit entry {entry.seq} signed (altered)")
        if row.audit_hash is not None and row.audit_hash != entry.entry_hash:
            return RecordProblem("reviews", row.id, f"signature does not match audit entry {entry.seq}")
    return None
