"""Database URL handling: SQLite file by default under $RECOMMENDER_HOME, PostgreSQL by URL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from recommender.store import (
    DatabaseUnavailableError,
    StoreUsageError,
    default_database_url,
    demo_database_url,
    make_engine,
    read_session,
    redact_url,
    resolve_url,
)


def test_default_is_sqlite_file_under_recommender_home(monkeypatch, tmp_path):
    monkeypatch.delenv("RECOMMENDER_DB_URL", raising=False)
    monkeypatch.setenv("RECOMMENDER_HOME", str(tmp_path / "home"))
    assert default_database_url() == f"sqlite:///{tmp_path / 'home' / 'recommender.db'}"
    assert demo_database_url() == f"sqlite:///{tmp_path / 'home' / 'demo.db'}"
    assert resolve_url(None) == default_database_url()


def test_env_url_overrides_default(monkeypatch):
    monkeypatch.setenv("RECOMMENDER_DB_URL", "postgres://u:pw@db.example:5433/rec")
    assert default_database_url() == "postgresql+psycopg://u:pw@db.example:5433/rec"
    assert demo_database_url() == default_database_url()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h:1/db", "postgresql+psycopg://u@h:1/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////abs/x.db", "sqlite:////abs/x.db"),
        ("sqlite://", "sqlite://"),
    ],
)
def test_resolve_url(given, expected):
    assert resolve_url(given) == expected


def test_plain_path_is_sqlite_file(tmp_path):
    assert resolve_url(tmp_path / "a.db") == f"sqlite:///{tmp_path / 'a.db'}"


@pytest.mark.parametrize("bad", ["mysql://u@h/db", "postgresql+asyncpg://u@h/db"])
def test_unsupported_url_is_a_usage_error(bad):
    with pytest.raises(StoreUsageError) as info:
        resolve_url(bad)
    assert info.value.field == "--db" and info.value.fix


def test_redact_url_hides_password():
    assert "secret" not in redact_url("postgresql+psycopg://u:secret@h/db")


def test_make_engine_creates_the_folder_and_enables_foreign_keys(tmp_path):
    engine = make_engine(tmp_path / "deep" / "er" / "x.db")
    with read_session(engine) as s:
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
    assert (tmp_path / "deep" / "er").is_dir()


def test_unreachable_server_is_a_one_line_error_without_password():
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = make_engine(f"postgresql://u:topsecret@127.0.0.1:{port}/db")
    with pytest.raises(DatabaseUnavailableError) as info, read_session(engine) as s:
        s.execute(text("SELECT 1"))
    message = info.value.one_line()
    assert "topsecret" not in message and "\n" not in message and info.value.fix


def test_open_database_creates_and_upgrades(tmp_path):
    from recommender.store import current_revision, head_revision, open_database

    engine = open_database(tmp_path / "new.db")
    assert current_revision(engine) == head_revision()
    engine.dispose()
