"""Accounts: argon2id hashes, generated passwords (never a default), roles, sign-in, demo account."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from recommender.store import (
    DEMO_USERNAME,
    AuthError,
    PermissionDeniedError,
    StoreError,
    StoreUsageError,
    authenticate,
    create_demo_account,
    create_user,
    get_user,
    read_session,
    require_role,
    set_active,
    set_password,
    verify_chain,
)
from recommender.store.models import AuditEntry
from tests.recommender import _store_support

engine = _store_support.engine
fast_hashing = _store_support.fast_hashing
store_session_cleanup = _store_support.store_session_cleanup


def test_production_hasher_is_argon2id_with_library_defaults(monkeypatch):
    from argon2 import Type

    from recommender.store import auth

    monkeypatch.undo()  # drop the cheap test parameters of the autouse fixture
    assert auth._HASHER is auth.PRODUCTION_HASHER
    assert auth._HASHER.type is Type.ID
    assert auth._HASHER.time_cost >= 2 and auth._HASHER.memory_cost >= 19 * 1024
    assert auth.hash_password("x" * 12).startswith("$argon2id$")


def test_create_user_generates_a_strong_password_and_stores_only_the_hash(engine):
    user, password = create_user(engine, "dr.grey", "physician", full_name="Meredith Grey")
    _, password2 = create_user(engine, "dr.yang", "physician")
    assert len(password) >= 20 and password != password2
    assert user.role == "physician" and user.active
    with read_session(engine) as s:
        dump = " ".join(str(v) for row in s.execute(text("SELECT * FROM users")).all() for v in row)
        entries = " ".join(e.payload for e in s.execute(select(AuditEntry)).scalars())
    assert password not in dump and password not in entries
    assert "$argon2id$" in dump
    assert authenticate(engine, "dr.grey", password).username == "dr.grey"


def test_wrong_password_unknown_user_and_disabled_account_fail_alike(engine):
    _, password = create_user(engine, "dr.house", "physician")
    messages = set()
    for name, pw in [("dr.house", "wrong-password-123"), ("nobody", password), ("dr.house", "")]:
        with pytest.raises(AuthError) as info:
            authenticate(engine, name, pw)
        messages.add(info.value.one_line())
    set_active(engine, "dr.house", False)
    with pytest.raises(AuthError) as info:
        authenticate(engine, "dr.house", password)
    messages.add(info.value.one_line())
    assert len(messages) == 1  # no hint which part was wrong
    with read_session(engine) as s:
        actions = [e.action for e in s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()]
    assert actions.count("auth.login_failed") == 4
    assert verify_chain(engine).ok


def test_successful_sign_in_is_audited_and_recorded(engine):
    _, password = create_user(engine, "dr.who", "researcher")
    assert get_user(engine, "dr.who").last_login_at is None
    user = authenticate(engine, "dr.who", password)
    assert user.last_login_at is not None and user.role == "researcher"
    with read_session(engine) as s:
        last = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())).scalars().first()
    assert (last.action, last.actor) == ("auth.login", "dr.who")


def test_duplicate_user_bad_name_bad_role_short_password(engine):
    create_user(engine, "dr.a", "admin")
    with pytest.raises(StoreError, match="exists"):
        create_user(engine, "dr.a", "physician")
    with pytest.raises(StoreUsageError):
        create_user(engine, "bad name!", "physician")
    with pytest.raises(StoreUsageError, match="role"):
        create_user(engine, "dr.b", "surgeon")
    with pytest.raises(StoreUsageError, match="shorter"):
        create_user(engine, "dr.c", "physician", password="short")


def test_reset_password_invalidates_the_old_one(engine):
    _, old = create_user(engine, "dr.z", "physician")
    new = set_password(engine, "dr.z")
    assert new != old
    authenticate(engine, "dr.z", new)
    with pytest.raises(AuthError):
        authenticate(engine, "dr.z", old)


def test_demo_account_gets_a_new_generated_password_every_time(engine):
    user, first = create_demo_account(engine)
    assert (user.username, user.role) == (DEMO_USERNAME, "physician")
    _, second = create_demo_account(engine)
    assert first != second
    authenticate(engine, DEMO_USERNAME, second)
    with pytest.raises(AuthError):
        authenticate(engine, DEMO_USERNAME, first)


def test_require_role(engine):
    create_user(engine, "res", "researcher")
    user = get_user(engine, "res")
    assert require_role(user, "researcher", "admin") is user
    with pytest.raises(PermissionDeniedError):
        require_role(user, "physician")
    with pytest.raises(PermissionDeniedError, match="signed in"):
        require_role(None, "physician")


def test_single_sign_on_maps_the_email_to_an_existing_account_case_insensitively(engine):
    from recommender.store import authenticate_identity

    create_user(engine, "dr.sso@example.org", "physician")
    user = authenticate_identity(engine, " Dr.SSO@Example.org ", issuer="https://idp.example.org")
    assert user.username == "dr.sso@example.org" and user.role == "physician"
    assert get_user(engine, "dr.sso@example.org").last_login_at is not None
    with read_session(engine) as s:
        last = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())).scalars().first()
        assert last.action == "auth.login" and json.loads(last.payload)["method"] == "oidc"
    assert verify_chain(engine).ok


@pytest.mark.parametrize("email", [None, "", "nobody@example.org", "off@example.org"])
def test_single_sign_on_never_creates_or_revives_an_account(engine, email):
    from recommender.store import authenticate_identity

    create_user(engine, "off@example.org", "physician")
    set_active(engine, "off@example.org", False)
    with pytest.raises(AuthError, match="no active account") as err:
        authenticate_identity(engine, email)
    assert "create-user" in err.value.fix
    assert get_user(engine, "nobody@example.org") is None
    with read_session(engine) as s:
        last = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc())).scalars().first()
        assert last.action == "auth.login_failed"
