"""Alembic migrations: packaged, create the newest schema, match the ORM models, keep data on upgrade."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from recommender.store import (
    audit,
    current_revision,
    head_revision,
    list_reviews,
    make_engine,
    read_session,
    upgrade_database,
    verify_chain,
)
from recommender.store.migrations import MIGRATIONS_DIR
from recommender.store.models import AuditEntry, Base
from tests.recommender import _store_support

db_url = _store_support.db_url
fast_hashing = _store_support.fast_hashing
store_session_cleanup = _store_support.store_session_cleanup


def test_migrations_are_packaged():
    from setuptools import find_packages

    root = Path(__file__).resolve().parents[2]
    packages = find_packages(where=str(root), include=["recommender*"])
    assert "recommender.store.migrations" in packages
    assert "recommender.store.migrations.versions" in packages
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert len(list((MIGRATIONS_DIR / "versions").glob("0*.py"))) >= 2


def test_upgrade_creates_newest_schema_and_is_idempotent(db_url):
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    assert upgrade_database(engine) == head_revision() == "0005"
    assert upgrade_database(engine) == "0005"
    with read_session(engine) as s:
        entries = list(s.execute(select(AuditEntry)).scalars())
    # Only the revision change is logged, not the no-op second run.
    assert [(e.action, json.loads(e.payload)) for e in entries] == [("schema.upgrade", {"from": None, "to": "0005"})]
    engine.dispose()


def test_models_match_the_migrations(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(db_url)
    upgrade_database(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_from_revision_1_keeps_existing_data(db_url):
    """Regression guard for upgrades: a database created at revision 0001 with data keeps it all."""
    engine = make_engine(db_url)
    assert upgrade_database(engine, "0001") == "0001"
    now = "2026-01-02 03:04:05"
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO users (id, username, role, password_hash, full_name, active, created_at, password_changed_at) "
            "VALUES (1, 'dr.old', 'physician', '$argon2id$stub', 'Dr Old', :t, :n, :n)"), {"t": True, "n": now})
        conn.execute(text("INSERT INTO patients (id, pseudonym, created_at) VALUES (1, :p, :n)"),
                     {"p": "ab" * 32, "n": now})
        conn.execute(text(
            "INSERT INTO recommendations (id, patient_id, created_at, created_by, model_bundle_id, model_bundle_hash, "
            "schema_version, json_text, json_sha256) VALUES (1, 1, :n, 1, 'bundle-1', 'h1', NULL, :j, :s)"),
            {"n": now, "j": '{"options": []}', "s": "cd" * 32})
        conn.execute(text(
            "INSERT INTO reviews (id, recommendation_id, patient_id, reviewer_id, reviewed_at, shown_sha256, decision, "
            "chosen_option, dose_note, reason) VALUES (1, 1, 1, 1, :n, :s, 'reject', NULL, NULL, 'too toxic')"),
            {"n": now, "s": "cd" * 32})
        with Session(bind=conn) as session:
            entry = audit.append(session, action="review.record", actor="dr.old", entity_type="review", entity_id=1,
                                 payload={"decision": "reject"})
            signature = entry.entry_hash
        key_before = conn.execute(text("SELECT value FROM settings WHERE key = 'pseudonym_key'")).scalar_one()

    assert upgrade_database(engine) == "0005"
    assert current_revision(engine) == "0005"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM settings WHERE key = 'pseudonym_key'")).scalar_one() == key_before
        user = conn.execute(text("SELECT username, full_name, last_login_at FROM users")).one()
    assert tuple(user) == ("dr.old", "Dr Old", None)
    reviews = list_reviews(engine, pseudonym="ab" * 32)
    assert len(reviews) == 1
    review = reviews[0]
    assert (review.reviewer, review.decision, review.reason, review.model_bundle_id) == (
        "dr.old", "reject", "too toxic", "bundle-1")
    assert review.audit_hash == signature  # backfilled by revision 0002
    report = verify_chain(engine)
    assert report.ok and report.entries_checked == 3  # 0001 creation, the review, the upgrade to 0004
    engine.dispose()
