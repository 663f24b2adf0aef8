"""``recommender admin``: init-db, create-user, reset-password, list-users, create-demo, verify-audit."""

from __future__ import annotations

import json

import pytest

from recommender.cli import main
from recommender.store import authenticate, make_engine
from tests.recommender import _store_support

db_url = _store_support.db_url
fast_hashing = _store_support.fast_hashing
store_session_cleanup = _store_support.store_session_cleanup
tamper = _store_support.tamper


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["admin", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_create_user_prints_a_generated_password_once_and_it_works(db_url, capsys):
    code, out, _ = _run(capsys, "create-user", "dr.grey", "--role", "physician", "--db", db_url)
    assert code == 0
    password = out.split("(shown once, not stored): ")[1].strip()
    assert len(password) >= 20 and out.count(password) == 1
    engine = make_engine(db_url)
    assert authenticate(engine, "dr.grey", password).role == "physician"
    engine.dispose()
    code, out, _ = _run(capsys, "list-users", "--db", db_url, "--json")
    assert code == 0 and password not in out
    assert [u["username"] for u in json.loads(out)["users"]] == ["dr.grey"]


def test_verify_audit_intact_then_tampered_names_the_entry(db_url, capsys):
    for name in ("a1", "a2", "a3"):
        assert _run(capsys, "create-user", name, "--role", "researcher", "--db", db_url)[0] == 0
    code, out, _ = _run(capsys, "verify-audit", "--db", db_url)
    assert code == 0 and "intact: 4 entries" in out
    engine = make_engine(db_url)
    tamper(engine, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    engine.dispose()
    code, out, err = _run(capsys, "verify-audit", "--db", db_url)
    assert code == 1 and "BROKEN" in err and "entry 3 (user.create" in err
    code, out, _ = _run(capsys, "verify-audit", "--db", db_url, "--json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["chain"]["broken"]["seq"] == 3


def test_init_db_and_create_demo(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("RECOMMENDER_DB_URL", raising=False)
    monkeypatch.setenv("RECOMMENDER_HOME", str(tmp_path))
    code, out, _ = _run(capsys, "init-db", "--json")
    assert code == 0 and json.loads(out)["revision"] == "0005"
    assert (tmp_path / "recommender.db").is_file()
    code, out, _ = _run(capsys, "create-demo")
    assert code == 0 and (tmp_path / "demo.db").is_file()
    first = out.split("password ")[1].split()[0]
    code, out, _ = _run(capsys, "create-demo", "--json")
    second = json.loads(out)["password"]
    assert first != second
    engine = make_engine(tmp_path / "demo.db")
    assert authenticate(engine, "demo", second).role == "physician"
    engine.dispose()


def test_errors_exit_codes(tmp_path, capsys):
    db = str(tmp_path / "x.db")
    assert _run(capsys, "create-user", "dup", "--role", "admin", "--db", db)[0] == 0
    code, _, err = _run(capsys, "create-user", "dup", "--role", "admin", "--db", db)
    assert code == 1 and "exists already" in err and "Traceback" not in err
    code, _, err = _run(capsys, "create-user", "bad name", "--role", "admin", "--db", db)
    assert code == 2 and "user name" in err
    with pytest.raises(SystemExit) as info:
        main(["admin", "create-user", "x", "--role", "surgeon", "--db", db])
    assert info.value.code == 2
    missing = tmp_path / "missing.db"
    code, _, err = _run(capsys, "verify-audit", "--db", str(missing))
    assert code == 1 and "no database file" in err and not missing.exists()
    code, _, err = _run(capsys, "verify-audit", "--db", "mysql://u@h/db")
    assert code == 2


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as info:
        main(["admin", "--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    for sub in ("init-db", "create-user", "reset-password", "list-users", "create-demo", "verify-audit"):
        assert sub in out


def test_create_list_and_revoke_tokens(db_url, capsys):
    assert _run(capsys, "create-user", "pipe.bot", "--role", "researcher", "--db", db_url)[0] == 0
    code, out, _ = _run(capsys, "create-token", "pipe.bot", "--label", "nightly", "--db", db_url)
    assert code == 0
    token = out.split("'Authorization: Bearer <token>'): ")[1].strip()
    code, out, _ = _run(capsys, "list-tokens", "--db", db_url, "--json")
    listed = json.loads(out)["tokens"]
    assert code == 0 and token not in out and [(t["username"], t["label"], t["active"]) for t in listed] == [
        ("pipe.bot", "nightly", True)]
    assert _run(capsys, "revoke-token", str(listed[0]["id"]), "--db", db_url)[0] == 0
    code, out, _ = _run(capsys, "list-tokens", "pipe.bot", "--db", db_url)
    assert code == 0 and "revoked" in out
    code, _, err = _run(capsys, "revoke-token", str(listed[0]["id"]), "--db", db_url)
    assert code == 1 and "revoked already" in err
    code, _, err = _run(capsys, "create-token", "nobody", "--db", db_url)
    assert code == 1 and "create-user" in err
