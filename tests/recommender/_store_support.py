"""Test support for the review store: a throw-away PostgreSQL server and fresh databases.

The server is started once per test run: ``initdb`` of a temporary cluster in a folder owned by the
``postgres`` user (PostgreSQL refuses to run as root), started with ``pg_ctl`` on 127.0.0.1 and a free
port; pytest-xdist workers share it (the first starts it, the last one out stops and removes it). The
``db_url`` fixture gives an empty database (``CREATE DATABASE``); ``engine`` gives the worker's work
database reset to a freshly migrated state (and an SQLite file copied from a migrated template).
Without the server binaries (Debian package ``postgresql``) the PostgreSQL tests skip on a developer
machine and fail when ``CI=true`` (``tests.conftest.require``).

Use the fixtures in a test module by binding them there: ``engine = _store_support.engine``.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import glob
import itertools
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from tests.conftest import require

__all__ = [
    "BACKENDS",
    "PostgresServer",
    "db_url",
    "engine",
    "fast_hashing",
    "postgres_server",
    "shutdown",
    "store_session_cleanup",
    "tamper",
]

BACKENDS = ("sqlite", "postgresql")


def _bin_dir() -> Path | None:
    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parts[-3]
        return tuple(int(x) for x in name.split(".") if x.isdigit())

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A temporary PostgreSQL cluster (superuser ``postgres``, trust authentication on 127.0.0.1)."""

    def __init__(self, bin_dir: Path, *, root: Path | None = None, port: int = 0) -> None:
        self.bin_dir = bin_dir
        self.root = root if root is not None else Path(tempfile.mkdtemp(prefix="recommender-pg-"))
        self.data = self.root / "data"
        self.port = port
        self._as_postgres: list[str] = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self._counter = itertools.count(1)
        self._started = root is not None  # attached to a running cluster: stop() may stop it

    def running(self) -> bool:
        """True when the cluster's server answers ``pg_ctl status``."""
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "status")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
            return False
        return True

    def _run(self, *cmd: str) -> None:
        subprocess.run([*self._as_postgres, *cmd], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root but there is no 'postgres' user to run the server") from None
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--no-sync", "-E", "UTF8", "--locale=C")
        last_error: Exception | None = None
        for _ in range(3):  # a free port can be taken between probing and binding (parallel workers)
            self.port = _free_port()
            opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                    "-c full_page_writes=off -c synchronous_commit=off -c max_connections=50")
            try:
                self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
                          "-w", "-t", "30", "-o", opts, "start")
                self._started = True
                return
            except subprocess.CalledProcessError as err:
                last_error = err
        raise RuntimeError(f"PostgreSQL did not start: {last_error}; log: {self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return (self.root / "server.log").read_text()[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self._started:
            try:
                self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                pass
            self._started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str | None = None) -> str:
        """A new database (empty, or a copy of ``template``); returns its URL."""
        import psycopg

        name = f"rec_test_{os.getpid()}_{next(self._counter)}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{clause}')
        return self.url(name)


_SERVER: PostgresServer | None = None
_SERVER_ERROR: str | None = None
_LOCK = threading.RLock()
#: Undo actions run by :func:`shutdown` (also registered with ``atexit`` for plain runs).
_CLEANUPS: list = []


def _on_shutdown(action) -> None:
    _CLEANUPS.append(action)
    atexit.register(shutdown)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _SharedCluster:
    """One cluster for all pytest-xdist workers of a run: the first starts it, the last one out stops it.

    State (root folder, port, users' pids) lives in a JSON file next to a lock file in the temp folder,
    keyed by the xdist run id; every change happens under ``flock``.
    """

    def __init__(self, key: str) -> None:
        base = Path(tempfile.gettempdir())
        self.lock_path = base / f"recommender-pg-{key}.lock"
        self.state_path = base / f"recommender-pg-{key}.json"

    @contextlib.contextmanager
    def _locked(self):
        with open(self.lock_path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read(self) -> dict | None:
        try:
            return json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return None

    def acquire(self, bin_dir: Path) -> PostgresServer:
        with self._locked():
            state = self._read()
            if state is not None:
                server = PostgresServer(bin_dir, root=Path(state["root"]), port=state["port"])
                if server.running():
                    state["users"] = [p for p in state["users"] if _alive(p)] + [os.getpid()]
                    self.state_path.write_text(json.dumps(state))
                    return server
            server = PostgresServer(bin_dir)
            try:
                server.start()
            except BaseException:
                server.stop()
                raise
            self.state_path.write_text(json.dumps({"root": str(server.root), "port": server.port,
                                                   "users": [os.getpid()]}))
            return server

    def release(self, server: PostgresServer) -> None:
        with self._locked():
            state = self._read() or {"users": []}
            users = [p for p in state["users"] if p != os.getpid() and _alive(p)]
            if users:
                state["users"] = users
                self.state_path.write_text(json.dumps(state))
                return
            server.stop()
            self.state_path.unlink(missing_ok=True)
            self.lock_path.unlink(missing_ok=True)


def _server() -> PostgresServer:
    global _SERVER, _SERVER_ERROR
    with _LOCK:
        if _SERVER is None and _SERVER_ERROR is None:
            bin_dir = _bin_dir()
            if bin_dir is None:
                _SERVER_ERROR = "PostgreSQL server binaries not found (install the Debian package 'postgresql')"
            else:
                run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
                try:
                    if run_id:
                        shared = _SharedCluster(run_id)
                        server = shared.acquire(bin_dir)
                        _on_shutdown(lambda: shared.release(server))
                    else:
                        server = PostgresServer(bin_dir)
                        try:
                            server.start()
                        except BaseException:
                            server.stop()
                            raise
                        _on_shutdown(server.stop)
                except (RuntimeError, OSError, subprocess.SubprocessError) as err:
                    _SERVER_ERROR = f"cannot start a temporary PostgreSQL server: {err}"
                else:
                    _SERVER = server
    require(_SERVER is not None, _SERVER_ERROR or "PostgreSQL unavailable")
    assert _SERVER is not None
    return _SERVER


def shutdown() -> None:
    """Stop (or leave, when other workers still use it) the server and remove the templates; idempotent."""
    global _SERVER
    with _LOCK:
        for stop in _CLEANUPS:
            stop()
        _CLEANUPS.clear()
        _SERVER = None
        _TEMPLATES.clear()
        _WORK_DB.clear()


@pytest.fixture(scope="session", autouse=True)
def store_session_cleanup():
    """Session teardown: stop the temporary server (pytest-xdist workers skip ``atexit`` handlers)."""
    yield
    shutdown()


@pytest.fixture
def postgres_server() -> PostgresServer:
    """The process's temporary PostgreSQL server (started on first use, removed at exit)."""
    return _server()


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path) -> str:
    """A fresh, empty database URL: an SQLite file, then a database on the temporary PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return _server().create_database()


_TEMPLATES: dict[str, str] = {}


def _migrated_template(backend: str) -> str:
    """A database upgraded to the newest schema once per process (SQLite file path or PostgreSQL name)."""
    from recommender.store import make_engine, upgrade_database

    with _LOCK:
        if backend not in _TEMPLATES:
            if backend == "sqlite":
                folder = Path(tempfile.mkdtemp(prefix="recommender-sqlite-template-"))
                _on_shutdown(lambda: shutil.rmtree(folder, ignore_errors=True))
                target, url = str(folder / "template.db"), f"sqlite:///{folder / 'template.db'}"
            else:
                url = _server().create_database()
                target = url.rsplit("/", 1)[1]
            eng = make_engine(url)
            upgrade_database(eng)
            eng.dispose()  # closes the last connection: SQLite checkpoints its WAL into the file
            _TEMPLATES[backend] = target
    return _TEMPLATES[backend]


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path):
    """An engine on a fresh database already at the newest schema (a copy of a per-process template)."""
    from recommender.store import make_engine

    backend = request.param
    template = _migrated_template(backend)
    if backend == "sqlite":
        shutil.copyfile(template, tmp_path / "store.db")
        os.chmod(tmp_path / "store.db", 0o600)  # the store refuses a file readable by others
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = _reset_postgres_work_database(template)
    eng = make_engine(url)
    yield eng
    eng.dispose()


_WORK_DB: dict[str, str] = {}


def _reset_postgres_work_database(template: str) -> str:
    """The process's PostgreSQL work database, emptied back to a freshly migrated state.

    Emptying (``TRUNCATE`` with triggers off, triggers re-enabled, chain head reset) takes a few
    milliseconds where ``CREATE DATABASE`` per test takes a few hundred.
    """
    import psycopg

    server = _server()
    with _LOCK:
        if "url" not in _WORK_DB:
            _WORK_DB["url"] = server.create_database(template=template)
    url = _WORK_DB["url"]
    with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres", dbname=url.rsplit("/", 1)[1],
                         autocommit=True) as conn:
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")  # a tamper test may have disabled them
        conn.execute("SET session_replication_role = replica")  # lets TRUNCATE pass the append-only trigger
        conn.execute("TRUNCATE audit_log, audit_head, reviews, recommendations, patients, users "
                     "RESTART IDENTITY CASCADE")
        conn.execute("INSERT INTO audit_head (id, seq, entry_hash) VALUES (1, 0, repeat('0', 64))")
        conn.execute("RESET session_replication_role")
        # The template's first entry (schema.upgrade) is gone with the truncation: append it again so
        # a reset database looks exactly like a freshly migrated one.
    from sqlalchemy.orm import Session

    from recommender.store import audit, make_engine

    eng = make_engine(url)
    with Session(eng) as session, session.begin():
        audit.append(session, action="schema.upgrade", payload={"from": None, "to": _head()})
    eng.dispose()
    return url


def _head() -> str:
    from recommender.store import head_revision

    return head_revision()



@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    """Cheap argon2 parameters in tests (the production parameters are checked in test_store_auth)."""
    from argon2 import PasswordHasher

    from recommender.store import auth

    monkeypatch.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def tamper(engine, sql: str, params: dict | None = None) -> None:
    """Run ``sql`` on the audit log bypassing its append-only triggers (as an attacker with DB access)."""
    from sqlalchemy import text

    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
        conn.execute(text(sql), params or {})
