"""Alembic migrations of the review store, packaged with the product (``pip install .`` ships them).

:func:`upgrade_database` brings a database to the newest revision (or the one named) and keeps
existing data; concurrent upgrades are serialised (``BEGIN IMMEDIATE`` on SQLite, a transaction-level
advisory lock on PostgreSQL). Each upgrade that changes the revision is recorded in the audit log.

Examples
--------
>>> from recommender.store.migrations import head_revision
>>> head_revision()
'0002'
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from recommender.store.engine import _unavailable, is_postgresql, is_sqlite, make_engine
from recommender.store.errors import StoreError

__all__ = ["MIGRATIONS_DIR", "alembic_config", "current_revision", "head_revision", "upgrade_database"]

#: Folder of ``env.py`` and ``versions/``.
MIGRATIONS_DIR = Path(__file__).resolve().parent
#: Key of the transaction-level advisory lock that serialises upgrades on PostgreSQL.
_PG_UPGRADE_LOCK = 7_238_642_101


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic :class:`~alembic.config.Config` pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest revision shipped with this version of the product."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def current_revision(engine: Engine) -> str | None:
    """The database's revision (``None`` for an empty database)."""
    try:
        with engine.connect() as conn:
            return _current(conn)
    except OperationalError as err:
        raise _unavailable(engine, err) from None


def upgrade_database(url: str | os.PathLike[str] | Engine | None = None, revision: str = "head") -> str:
    """Create or upgrade the database at ``url`` (an engine, a URL, a path or ``None`` for the default).

    Parameters
    ----------
    url
        Database (see :func:`recommender.store.engine.resolve_url`) or an existing engine.
    revision
        Target revision (default the newest). Existing data is kept.

    Returns
    -------
    str
        The database's revision after the upgrade.
    """
    from recommender.store import audit

    engine = url if isinstance(url, Engine) else make_engine(url)
    bind = engine.execution_options(sqlite_begin="IMMEDIATE") if is_sqlite(engine) else engine
    try:
        with bind.begin() as conn:
            if is_postgresql(engine):
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_UPGRADE_LOCK})
            before = _current(conn)
            try:
                command.upgrade(alembic_config(conn), revision)
            except CommandError as err:
                raise StoreError(
                    f"cannot upgrade the database to revision {revision!r}: {err}", field="revision",
                    fix=f"use a revision shipped with this version (newest: {head_revision()}) or a newer product",
                ) from None
            after = _current(conn)
            if after != before:
                with Session(bind=conn) as session:
                    audit.append(session, action="schema.upgrade", payload={"from": before, "to": after})
                    session.flush()
    except OperationalError as err:
        raise _unavailable(engine, err) from None
    finally:
        if not isinstance(url, Engine):
            engine.dispose()
    return after
