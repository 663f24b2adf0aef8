"""SQLAlchemy 2.x ORM models of the review store.

Tables
------
``settings``         per-installation values (the pseudonymisation key, created by the first migration)
``users``            local accounts: user name, role (physician / researcher / admin), argon2 hash
``patients``         a pseudonymous ID only (HMAC-SHA256 of the MRN with the installation key); no MRN
``recommendations``  the exact Recommendation JSON shown, its sha256, the model bundle id and hash
``reviews``          who reviewed, when, what was shown (recommendation + sha256), the decision
                     (accept | modify | reject), the chosen option, a dose note and the reason
``audit_log``        append-only, hash-chained entries (see :mod:`recommender.store.audit`)
``audit_head``       one row: the last entry's sequence number and hash (the lock writers queue on)
``session_revocations`` ids of signed-out app sessions until their cookie would expire (revision 0005)

The schema is created and upgraded by Alembic (:mod:`recommender.store.migrations`), never by
``create_all`` in production; these models describe the newest revision. Audit entries,
recommendations and reviews are immutable: an ORM guard refuses updates and deletes, and on the
database the ``audit_log`` table carries triggers refusing ``UPDATE``/``DELETE``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from recommender.store.errors import StoreError

__all__ = [
    "DECISIONS",
    "GENESIS_HASH",
    "ROLES",
    "AuditEntry",
    "AuditHead",
    "Base",
    "ImmutableRecordError",
    "Patient",
    "RecommendationRow",
    "Review",
    "Setting",
    "SignInThrottle",
    "User",
    "utcnow",
]

#: User roles (the app's pages enforce them).
ROLES: tuple[str, ...] = ("physician", "researcher", "admin")
#: A physician's decision on a recommendation.
DECISIONS: tuple[str, ...] = ("accept", "modify", "reject")
#: ``prev_hash`` of the first audit entry.
GENESIS_HASH = "0" * 64


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('physician', 'researcher', 'admin')", name="ck_users_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str | None] = mapped_column(String(200), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Added by revision 0002.
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class ApiToken(Base):
    """A bearer token of the HTTP scoring service, issued to one user (revision 0003); only its hash is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: ``sha256:<64 hex>`` of the token (a 256-bit random string: a fast hash is enough, as for any API key).
    token_hash: Mapped[str] = mapped_column(String(71), unique=True)
    label: Mapped[str | None] = mapped_column(String(60), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SignInThrottle(Base):
    """Failed sign-ins of one account name or client, and its lock (revision 0004; :mod:`recommender.store.throttle`)."""

    __tablename__ = "sign_in_throttle"

    #: ``user:<name>`` or ``client:<address>``.
    key: Mapped[str] = mapped_column(String(140), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SessionRevocation(Base):
    """A signed-out app session (revision 0005; :mod:`recommender.store.sessions`): its cookie is refused until
    ``expires_at``, by every app process and after a restart."""

    __tablename__ = "session_revocations"

    #: The random id (nonce) inside the session cookie.
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the cookie expires anyway (the row may go after that).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: HMAC-SHA256 (hex) of the normalised MRN with the installation key; the MRN itself is never stored.
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recommendations: Mapped[list[RecommendationRow]] = relationship(back_populates="patient")


class RecommendationRow(Base):
    __tablename__ = "recommendations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    model_bundle_id: Mapped[str] = mapped_column(String(200))
    model_bundle_hash: Mapped[str] = mapped_column(String(128))
    schema_version: Mapped[str | None] = mapped_column(String(50), default=None)
    #: The Recommendation JSON exactly as shown (byte-for-byte as given, UTF-8 text).
    json_text: Mapped[str] = mapped_column(Text)
    json_sha256: Mapped[str] = mapped_column(String(64))

    patient: Mapped[Patient] = relationship(back_populates="recommendations")
    creator: Mapped[User | None] = relationship()


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint("decision IN ('accept', 'modify', 'reject')", name="ck_reviews_decision"),
        Index("ix_reviews_patient_time", "patient_id", "reviewed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: sha256 of the Recommendation JSON the reviewer saw (equals the recommendation's ``json_sha256``).
    shown_sha256: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(10))
    chosen_option: Mapped[str | None] = mapped_column(String(200), default=None)
    dose_note: Mapped[str | None] = mapped_column(Text, default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    #: Hash of the audit entry that signs this review (added by revision 0002).
    audit_hash: Mapped[str | None] = mapped_column(String(64), default=None)

    recommendation: Mapped[RecommendationRow] = relationship()
    reviewer: Mapped[User] = relationship()
    patient: Mapped[Patient] = relationship()


class AuditEntry(Base):
    __tablename__ = "audit_log"

    #: 1, 2, 3... without gaps; assigned under the chain-head lock.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: ISO 8601 UTC text (kept as text so the hashed value round-trips exactly on every backend).
    created_at: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str | None] = mapped_column(String(64), default=None)
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str | None] = mapped_column(String(32), default=None)
    entity_id: Mapped[str | None] = mapped_column(String(64), default=None)
    #: Canonical JSON of the event's details (never a raw patient identifier).
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    entry_hash: Mapped[str] = mapped_column(String(64))


class ImmutableRecordError(StoreError):
    """An attempt to change or delete an audit entry, a stored recommendation or a signed review."""


_IMMUTABLE = (AuditEntry, RecommendationRow, Review)


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _flush_context, _instances) -> None:
    """ORM guard: audit entries, recommendations and reviews are written once, never changed."""
    for obj in list(session.deleted) + [o for o in session.dirty if session.is_modified(o)]:
        if isinstance(obj, _IMMUTABLE):
            if isinstance(obj, Review) and obj not in session.deleted and _only_signature_set(session, obj):
                continue
            raise ImmutableRecordError(
                f"{obj.__tablename__} rows are append-only; refusing to "
                f"{'delete' if obj in session.deleted else 'change'} one",
                record=f"{obj.__tablename__} {getattr(obj, 'seq', None) or getattr(obj, 'id', '?')}",
                fix="record a new entry instead (a correction is a new review)",
            )


def _only_signature_set(session: Session, review: Review) -> bool:
    """The one allowed change to a review: setting its empty ``audit_hash`` right after it is signed."""
    from sqlalchemy import inspect

    state = inspect(review)
    changed = [attr.key for attr in state.attrs if attr.history.has_changes()]
    if changed != ["audit_hash"]:
        return False
    return not state.attrs.audit_hash.history.deleted or state.attrs.audit_hash.history.deleted == [None]


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(orm_execute_state) -> None:
    """ORM guard for bulk ``update()``/``delete()`` statements on the immutable tables."""
    if not (orm_execute_state.is_update or orm_execute_state.is_delete):
        return
    mapper = orm_execute_state.bind_mapper
    if mapper is not None and mapper.class_ in _IMMUTABLE:
        raise ImmutableRecordError(
            f"{mapper.class_.__tablename__} rows are append-only; refusing a bulk "
            f"{'update' if orm_execute_state.is_update else 'delete'}",
            fix="record a new entry instead",
        )
