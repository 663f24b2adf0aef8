"""Signed-out app sessions live in the store: refused by every app process and after a restart.

Before the fix the revocations lived in the app process's memory: a copied cookie of a signed-out session
was good again after a restart, and on a second app process at once.
"""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, select

from recommender.store import SessionRevocations, make_engine, read_session
from recommender.store.models import SessionRevocation, utcnow
from tests.recommender import _store_support

engine = _store_support.engine
db_url = _store_support.db_url


def test_signed_out_session_stays_revoked_after_a_restart_and_in_another_process(db_url):
    from recommender.store import open_database

    first = open_database(db_url)
    SessionRevocations(first).revoke("nonce-signed-out")
    first.dispose()  # the app process stops
    second, third = open_database(db_url), make_engine(db_url)  # a restart, and another process at once
    try:
        assert SessionRevocations(second).is_revoked("nonce-signed-out")
        assert SessionRevocations(third).is_revoked("nonce-signed-out")
        assert not SessionRevocations(second).is_revoked("nonce-still-signed-in")
    finally:
        second.dispose()
        third.dispose()


def test_expired_revocations_are_removed_and_repeats_keep_the_later_expiry(engine):
    revoked = SessionRevocations(engine)
    revoked.revoke("old", until=time.time() - 10)  # its cookie has expired anyway
    revoked.revoke("new")
    revoked.revoke("new", until=time.time() + 60)  # a second sign-out does not shorten the first
    with read_session(engine) as s:
        names = set(s.execute(select(SessionRevocation.nonce)).scalars())
        expires = s.get(SessionRevocation, "new").expires_at
    assert "new" in names and "old" not in names
    assert expires > utcnow() + timedelta(hours=7)


def test_hostile_nonces_are_refused_without_a_row(engine):
    revoked = SessionRevocations(engine)
    for nonce in (None, "", "x" * 65):
        revoked.revoke(nonce)
    with read_session(engine) as s:  # the worker's database may hold other tests' rows
        assert s.execute(select(func.count()).select_from(SessionRevocation)
                         .where(SessionRevocation.nonce.in_(["", "x" * 65]))).scalar_one() == 0
    assert revoked.is_revoked("x" * 65)  # no cookie of ours carries one: never accepted


def test_the_session_cookie_check_uses_the_store(engine):
    from app.web_session import issue, verify

    key = b"k" * 32
    token, claims = issue("dr", "physician", secret=key)
    revoked = SessionRevocations(engine)
    assert verify(token, secret=key, revoked=revoked) == claims
    revoked.revoke(claims.nonce, until=claims.expires)
    assert verify(token, secret=key, revoked=SessionRevocations(engine)) is None
