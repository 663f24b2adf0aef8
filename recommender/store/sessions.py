"""Revoked app sessions in the store: a signed-out session cookie stays refused by every process, after restarts.

The app's session cookie (:mod:`app.web_session`) carries a random id (nonce). Signing out records the id
here until the cookie would have expired anyway; :meth:`SessionRevocations.is_revoked` is what the cookie check
asks. Expired rows are removed whenever a session is revoked. Nothing here is audited (sign-outs are not
clinical events) and nothing is logged.

Examples
--------
>>> from recommender.store import open_database
>>> revoked = SessionRevocations(open_database("sqlite://"))
>>> revoked.revoke("n1", until=None)
>>> revoked.is_revoked("n1"), revoked.is_revoked("n2")
(True, False)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete

from recommender.store.engine import read_session, write_session
from recommender.store.models import SessionRevocation, utcnow

__all__ = ["DEFAULT_SESSION_SECONDS", "SessionRevocations"]

#: How long a revocation is kept when the caller does not say (the app's longest session: 8 hours).
DEFAULT_SESSION_SECONDS = 8 * 3600
_MAX_NONCE = 64


class SessionRevocations:
    """Revoked session ids in the store of ``engine`` (same interface as ``app.web_session.Revocations``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def revoke(self, nonce: str | None, until: float | None = None) -> None:
        """Refuse the session ``nonce`` until ``until`` (Unix seconds; default: now + 8 hours)."""
        if not nonce or not isinstance(nonce, str) or len(nonce) > _MAX_NONCE:
            return
        now = utcnow()
        expires = (datetime.fromtimestamp(until, UTC) if until is not None
                   else now + timedelta(seconds=DEFAULT_SESSION_SECONDS))
        with write_session(self.engine) as session:
            session.execute(delete(SessionRevocation).where(SessionRevocation.expires_at <= now))
            row = session.get(SessionRevocation, nonce)
            if row is None:
                session.add(SessionRevocation(nonce=nonce, revoked_at=now, expires_at=expires))
            else:
                row.expires_at = max(row.expires_at, expires)

    def is_revoked(self, nonce: str) -> bool:
        """Whether ``nonce`` was signed out (an over-long id counts as revoked: no cookie of ours holds one)."""
        if not isinstance(nonce, str) or len(nonce) > _MAX_NONCE:
            return True
        with read_session(self.engine) as session:
            return session.get(SessionRevocation, nonce) is not None
