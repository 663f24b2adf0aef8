"""Issue 15 (5): database files are created 0600 in a 0700 folder; a store readable by others is refused.

Before the fix ``demo.db`` and the default store were created 0644 (password hashes, the pseudonym key and
recommendations readable by every local user).
"""

from __future__ import annotations

import os
import stat

import pytest

from recommender.cli import main
from recommender.store import open_database
from recommender.store.errors import StoreError


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def _loose_umask():
    old = os.umask(0o022)  # the usual default, under which files come out 0644
    yield
    os.umask(old)


def test_new_store_file_is_0600_in_a_0700_folder(tmp_path):
    folder = tmp_path / "home" / "sub"
    db = folder / "recommender.db"
    engine = open_database(str(db))
    engine.dispose()
    assert _mode(db) == 0o600
    assert _mode(folder) == 0o700
    for extra in (folder / "recommender.db-wal", folder / "recommender.db-shm"):
        if extra.exists():
            assert _mode(extra) & 0o077 == 0


def test_demo_store_is_created_private(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RECOMMENDER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("RECOMMENDER_DB_URL", raising=False)
    assert main(["admin", "create-demo"]) == 0
    capsys.readouterr()
    assert _mode(tmp_path / "home" / "demo.db") == 0o600
    assert _mode(tmp_path / "home") == 0o700


def test_store_readable_by_others_is_refused_unless_told(tmp_path, monkeypatch, capsys):
    db = tmp_path / "shared.db"
    open_database(str(db)).dispose()
    os.chmod(db, 0o644)
    with pytest.raises(StoreError, match="readable by other users"):
        open_database(str(db))
    assert main(["admin", "list-users", "--db", str(db)]) == 1
    assert "chmod 600" in capsys.readouterr().err
    open_database(str(db), allow_insecure_permissions=True).dispose()
    monkeypatch.setenv("RECOMMENDER_ALLOW_INSECURE_PERMISSIONS", "1")
    open_database(str(db)).dispose()
