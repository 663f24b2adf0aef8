"""Database URLs and engines: an SQLite file by default, PostgreSQL by URL.

URL precedence: the ``url`` argument (``--db``) > ``$RECOMMENDER_DB_URL`` > the SQLite file
``$RECOMMENDER_HOME/recommender.db`` (else ``$XDG_DATA_HOME/recommender/recommender.db``, else
``~/.local/share/recommender/recommender.db``). A plain file path is read as an SQLite file;
``postgresql://`` and ``postgres://`` URLs use the psycopg (v3) driver.

Writers are serialised: :func:`write_session` opens SQLite transactions with ``BEGIN IMMEDIATE``
(one writer at a time, others wait up to the busy timeout) and leaves PostgreSQL to row locks
(the audit chain head is taken ``FOR UPDATE``, see :mod:`recommender.store.audit`).

Examples
--------
>>> resolve_url("postgres://u@db.example/rec")
'postgresql+psycopg://u@db.example/rec'
>>> redact_url("postgresql+psycopg://u:secret@db.example/rec")
'postgresql+psycopg://u:***@db.example/rec'
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

# ENV_DB_URL: the database URL (overridden by ``--db``); ENV_HOME: the product data home (one definition, in
# recommender.settings, re-exported here)
from recommender.settings import ENV_DB_URL, ENV_HOME, get_settings
from recommender.store.errors import DatabaseUnavailableError, InsecurePermissionsError, StoreUsageError

__all__ = [
    "ENV_DB_URL",
    "ENV_HOME",
    "data_home",
    "default_database_url",
    "demo_database_url",
    "is_postgresql",
    "is_sqlite",
    "make_engine",
    "read_session",
    "redact_url",
    "resolve_url",
    "write_session",
]

#: Seconds an SQLite writer waits for another writer before giving up.
SQLITE_BUSY_TIMEOUT = 30.0


def data_home() -> Path:
    """``$RECOMMENDER_HOME``, else ``$XDG_DATA_HOME/recommender``, else ``~/.local/share/recommender``
    (:attr:`recommender.settings.Settings.home`, shared with the KB and the API tokens)."""
    return get_settings().home


def _sqlite_file_url(path: str | os.PathLike[str]) -> str:
    return f"sqlite:///{Path(path).expanduser().resolve()}"


def default_database_url() -> str:
    """``$RECOMMENDER_DB_URL`` if set, else the SQLite file ``<data home>/recommender.db``."""
    settings = get_settings()
    return resolve_url(settings.db_url) if settings.db_url else _sqlite_file_url(settings.database_file)


def demo_database_url() -> str:
    """The demo database used by ``recommender admin create-demo`` and the README's main command.

    ``$RECOMMENDER_DB_URL`` if set, else the SQLite file ``<data home>/demo.db`` (kept apart from a real
    installation's ``recommender.db``).
    """
    settings = get_settings()
    return resolve_url(settings.db_url) if settings.db_url else _sqlite_file_url(settings.demo_database_file)


def resolve_url(url: str | os.PathLike[str] | None = None) -> str:
    """Normalise a database URL or file path to an SQLAlchemy URL string.

    Parameters
    ----------
    url
        ``sqlite:///path``, ``postgresql://user:pw@host:port/db`` (``postgres://`` and
        ``postgresql+psycopg://`` too), a plain file path (SQLite), or ``None`` for the default.

    Raises
    ------
    StoreUsageError
        The URL names a database kind other than SQLite or PostgreSQL, or cannot be parsed.
    """
    if url is None:
        return default_database_url()
    text = os.fspath(url).strip()
    if not text:
        return default_database_url()
    if "://" not in text and not text.startswith("sqlite:"):
        return _sqlite_file_url(text)
    scheme, rest = text.split("://", 1)
    scheme_l = scheme.lower()
    if scheme_l in {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg3"}:
        return f"postgresql+psycopg://{rest}"
    if scheme_l.startswith("postgresql+"):
        raise StoreUsageError(
            f"database driver {scheme!r} is not supported", field="--db",
            fix="use postgresql://user:password@host:port/dbname (the psycopg v3 driver is used)",
        )
    if scheme_l in {"sqlite", "sqlite+pysqlite"}:
        if rest in {"", "/", "/:memory:"}:
            return "sqlite://"
        return f"sqlite://{rest}"
    raise StoreUsageError(
        f"unsupported database URL scheme {scheme!r}", field="--db",
        fix="give an SQLite file path, sqlite:///path/to/file.db or postgresql://user:password@host:port/dbname",
    )


def redact_url(url: str) -> str:
    """The URL with its password masked (safe for messages and logs)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def is_sqlite(engine_or_url: Engine | str) -> bool:
    """True when the engine or URL is SQLite."""
    name = engine_or_url.dialect.name if isinstance(engine_or_url, Engine) else make_url(engine_or_url).get_backend_name()
    return name == "sqlite"


def is_postgresql(engine_or_url: Engine | str) -> bool:
    """True when the engine or URL is PostgreSQL."""
    name = engine_or_url.dialect.name if isinstance(engine_or_url, Engine) else make_url(engine_or_url).get_backend_name()
    return name == "postgresql"


def _install_sqlite_hooks(engine: Engine) -> None:
    """Foreign keys on, WAL journal, and explicit ``BEGIN`` (``IMMEDIATE`` for writers)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # pragma: no cover - exercised via engine use
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (SQLAlchemy's
        # documented recipe); needed for BEGIN IMMEDIATE and transactional DDL.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        try:
            cur.execute("PRAGMA journal_mode=WAL")
        except Exception:  # noqa: BLE001, S110 - e.g. no shared memory on this filesystem: keep the default journal
            pass
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # pragma: no cover - exercised via engine use
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _insecure_allowed(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    from recommender.settings import get_settings

    return get_settings().allow_insecure_permissions


def _private_sqlite_file(file: Path, *, allow_insecure: bool | None) -> None:
    """Create the store's folder 0700 and file 0600; refuse an existing file readable by others."""
    from recommender.paths import private_dir

    folder = file.parent
    try:
        private_dir(folder)
        if not file.exists():
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
    except FileExistsError:
        pass
    except OSError as err:
        raise DatabaseUnavailableError(
            f"cannot create the database folder or file: {err.strerror}", file=str(file),
            fix="choose a writable location with --db or $RECOMMENDER_HOME",
        ) from None
    mode = file.stat().st_mode & 0o777
    if mode & 0o077 and not _insecure_allowed(allow_insecure):
        raise InsecurePermissionsError(
            f"the database file is readable by other users (mode {mode:03o}); it holds password hashes, the "
            "pseudonymisation key and recommendations", file=str(file),
            fix=f"chmod 600 {file} (and chmod 700 its folder), or start with --allow-insecure-permissions / "
                "$RECOMMENDER_ALLOW_INSECURE_PERMISSIONS=1 if you mean it",
        )


def make_engine(url: str | os.PathLike[str] | None = None, *, echo: bool = False,
                allow_insecure_permissions: bool | None = None) -> Engine:
    """Create an engine for ``url`` (see :func:`resolve_url`); creates the SQLite file's folder (0700) and file (0600).

    The engine is not connected yet; :func:`recommender.store.migrations.upgrade_database` or the
    first session connects.

    Raises
    ------
    InsecurePermissionsError
        An SQLite file readable by group or others, unless ``allow_insecure_permissions`` (default:
        ``$RECOMMENDER_ALLOW_INSECURE_PERMISSIONS``).
    """
    resolved = resolve_url(url)
    parsed = make_url(resolved)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_sqlite_file(Path(parsed.database), allow_insecure=allow_insecure_permissions)
            engine = create_engine(resolved, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})
        else:
            engine = create_engine(resolved, echo=echo, poolclass=StaticPool,
                                   connect_args={"check_same_thread": False})
        _install_sqlite_hooks(engine)
        return engine
    return create_engine(resolved, echo=echo, pool_pre_ping=True)


def _unavailable(engine: Engine, err: OperationalError) -> DatabaseUnavailableError:
    detail = str(getattr(err, "orig", err)).strip().splitlines()[0] if str(err).strip() else "connection failed"
    return DatabaseUnavailableError(
        f"cannot use the database: {detail}", file=redact_url(engine.url.render_as_string(hide_password=False)),
        fix="check the --db URL (server running, user, password, database name) or the file's permissions",
    )


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A session for reading; closed at the end (its transaction ends unwritten, loaded objects stay usable)."""
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    except OperationalError as err:
        raise _unavailable(engine, err) from None


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose transaction is committed on success, rolled back on error.

    On SQLite the transaction starts with ``BEGIN IMMEDIATE``, so writers are serialised from the
    start (no lock upgrade dead-ends); PostgreSQL serialises what needs it with row locks.
    """
    bind = engine.execution_options(sqlite_begin="IMMEDIATE") if is_sqlite(engine) else engine
    try:
        with Session(bind, expire_on_commit=False) as session, session.begin():
            yield session
    except OperationalError as err:
        raise _unavailable(engine, err) from None
