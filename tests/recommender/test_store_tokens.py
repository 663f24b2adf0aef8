"""Per-user bearer tokens of the HTTP service (recommender.store.tokens): issue, use, revoke, audit."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from recommender.store import (
    StoreError,
    create_api_token,
    create_user,
    list_api_tokens,
    read_session,
    revoke_api_token,
    set_active,
    user_for_token,
    verify_chain,
)
from recommender.store.models import AuditEntry
from tests.recommender import _store_support

engine = _store_support.engine
fast_hashing = _store_support.fast_hashing
store_session_cleanup = _store_support.store_session_cleanup


def _actions(engine) -> list[tuple[str, dict]]:
    with read_session(engine) as s:
        return [(e.action, json.loads(e.payload)) for e in s.execute(select(AuditEntry).order_by(AuditEntry.seq))
                .scalars()]


def test_token_maps_to_its_user_until_revoked_and_only_its_hash_is_stored(engine):
    create_user(engine, "pipeline.bot", "researcher")
    info, token = create_api_token(engine, "pipeline.bot", label="nightly run", actor="admin-cli")
    assert len(token) >= 40 and info.active and info.label == "nightly run" and info.last_used_at is None
    user = user_for_token(engine, token)
    assert user.username == "pipeline.bot" and user.role == "researcher"
    assert list_api_tokens(engine)[0].last_used_at is not None  # refreshed on use
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM api_tokens")).scalar_one()
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM api_tokens")) for v in row)
    assert stored.startswith("sha256:") and token not in dump
    assert user_for_token(engine, token + "x") is None and user_for_token(engine, "") is None

    revoked = revoke_api_token(engine, info.id, actor="admin-cli")
    assert not revoked.active and user_for_token(engine, token) is None
    with pytest.raises(StoreError, match="revoked already"):
        revoke_api_token(engine, info.id)
    assert [a for a, _ in _actions(engine) if a.startswith("token.")] == ["token.create", "token.revoke"]
    assert all("nightly" in p.get("label", "") for a, p in _actions(engine) if a.startswith("token."))
    assert verify_chain(engine).ok


def test_disabled_account_tokens_are_refused_and_nobody_gets_a_token_without_an_account(engine):
    create_user(engine, "dr.gone", "physician")
    _, token = create_api_token(engine, "dr.gone")
    set_active(engine, "dr.gone", False)
    assert user_for_token(engine, token) is None
    with pytest.raises(StoreError, match="no active account") as err:
        create_api_token(engine, "dr.gone")
    assert "create-user" in err.value.fix
    with pytest.raises(StoreError, match="no active account"):
        create_api_token(engine, "nobody")
    with pytest.raises(StoreError, match="no API token with id 999"):
        revoke_api_token(engine, 999)


def test_list_tokens_per_user(engine):
    for name in ("a.bot", "b.bot"):
        create_user(engine, name, "researcher")
    create_api_token(engine, "a.bot", label="one")
    create_api_token(engine, "a.bot", label="two")
    create_api_token(engine, "b.bot")
    assert [t.label for t in list_api_tokens(engine, "a.bot")] == ["one", "two"]
    assert [t.username for t in list_api_tokens(engine)] == ["a.bot", "a.bot", "b.bot"]
    assert "token_hash" not in list_api_tokens(engine)[0].to_dict()
