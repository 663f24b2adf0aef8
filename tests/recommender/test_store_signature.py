"""Signing a review re-asks the password (an electronic signature of two components) and is audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from recommender.store import (
    AuthError,
    create_user,
    list_reviews,
    make_engine,
    record_recommendation,
    record_review,
    upgrade_database,
    verify_chain,
)
from recommender.store.engine import read_session
from recommender.store.models import AuditEntry


@pytest.fixture()
def store(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 's.db'}")
    upgrade_database(engine)
    _, password = create_user(engine, "dr.sign", "physician")
    rec = record_recommendation(engine, mrn="MRN-9", recommendation={"options": [{"regimen": "FOLFOX"}]},
                                model_bundle_id="b", model_bundle_hash="h", actor="dr.sign")
    yield engine, password, rec
    engine.dispose()


def _actions(engine):
    with read_session(engine) as s:
        return [(e.action, json.loads(e.payload)) for e in s.execute(select(AuditEntry).order_by(AuditEntry.seq))
                .scalars()]


def test_wrong_signature_password_stores_nothing_and_is_audited(store):
    engine, _, rec = store
    with pytest.raises(AuthError, match="signature refused"):
        record_review(engine, recommendation_id=rec.id, reviewer="dr.sign", decision="accept",
                      shown_sha256=rec.json_sha256, chosen_option="FOLFOX", signature_password="wrong-password-x")
    assert list_reviews(engine, mrn="MRN-9") == []
    action, payload = _actions(engine)[-1]
    assert action == "review.signature_failed" and payload == {"username": "dr.sign"}
    assert verify_chain(engine).ok


def test_right_signature_password_is_recorded_in_the_review_audit_entry(store):
    engine, password, rec = store
    review = record_review(engine, recommendation_id=rec.id, reviewer="dr.sign", decision="accept",
                           shown_sha256=rec.json_sha256, chosen_option="FOLFOX", signature_password=password)
    action, payload = _actions(engine)[-1]
    assert action == "review.record" and payload["signature"] == "password re-entered"
    assert review.audit_hash and verify_chain(engine).ok
    # without a signature password (CLI / service callers) the entry says nothing about one
    again = record_review(engine, recommendation_id=rec.id, reviewer="dr.sign", decision="reject",
                          shown_sha256=rec.json_sha256, reason="second thoughts")
    assert "signature" not in _actions(engine)[-1][1] and again.id != review.id


def test_wrong_signature_passwords_lock_the_account_like_wrong_sign_ins(store):
    from recommender.store import AccountLockedError, authenticate, unlock_user

    engine, password, rec = store
    kw = dict(recommendation_id=rec.id, reviewer="dr.sign", decision="accept", shown_sha256=rec.json_sha256)
    for _ in range(5):
        with pytest.raises(AuthError):
            record_review(engine, signature_password="guess", **kw)
    with pytest.raises(AccountLockedError):  # locked: even the right password cannot sign now
        record_review(engine, signature_password=password, **kw)
    with pytest.raises(AccountLockedError):  # and the same lock applies to signing in
        authenticate(engine, "dr.sign", password)
    assert "auth.lock" in [a for a, _p in _actions(engine)]
    assert unlock_user(engine, "dr.sign", actor="admin")
    assert record_review(engine, signature_password=password, **kw).decision == "accept"
