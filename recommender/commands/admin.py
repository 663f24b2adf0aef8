"""``recommender admin ...``: database set-up, user accounts and audit-log verification.

Subcommands
-----------
``init-db``         create or upgrade the database (Alembic; existing data kept)
``create-user``     create an account; prints its generated password once
``reset-password``  give an account a new generated password, printed once
``list-users``      the accounts (never their hashes)
``create-demo``     create the demo database with the demo physician; prints the password once
``verify-audit``    walk the hash-chained audit log (and check reviews against it): exit 0 intact, 1 broken

``--db`` takes an SQLite file path, ``sqlite:///path`` or ``postgresql://user:password@host:port/db``;
default ``$RECOMMENDER_DB_URL``, else ``$RECOMMENDER_HOME/recommender.db`` (``demo.db`` for create-demo).
"""

from __future__ import annotations

import argparse
import sys

from recommender.commands._output import print_json

__all__ = ["add_arguments", "run"]

_DB_HELP = ("database: SQLite file path, sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB "
            "(default $RECOMMENDER_DB_URL, else $RECOMMENDER_HOME/{name})")


def _common(p: argparse.ArgumentParser, default_name: str = "recommender.db") -> None:
    p.add_argument("--db", metavar="URL", help=_DB_HELP.format(name=default_name))
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--allow-insecure-permissions", action="store_true",
                   help="open an SQLite store that other users can read (refused by default)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from recommender.store.models import ROLES

    sub = parser.add_subparsers(dest="admin_command",
                                metavar="{init-db,create-user,reset-password,list-users,create-demo,verify-audit,"
                                        "create-token,list-tokens,revoke-token,unlock-user}")
    sub.required = True
    p = sub.add_parser("init-db", help="create or upgrade the database schema (existing data kept)",
                       description="Create the database, or upgrade it to this version's schema keeping its data.")
    _common(p)
    p = sub.add_parser("create-user", help="create an account; its generated password is printed once",
                       description="Create a local account. A password is generated and printed once; only its "
                                   "argon2id hash is stored. There is no default password.")
    p.add_argument("name", metavar="NAME", help="user name (letters, digits, . _ @ -)")
    p.add_argument("--role", required=True, choices=ROLES, help="what the account may do")
    p.add_argument("--full-name", metavar="TEXT", help="display name")
    _common(p)
    p = sub.add_parser("reset-password", help="give an account a new generated password, printed once",
                       description="Replace an account's password by a newly generated one, printed once.")
    p.add_argument("name", metavar="NAME", help="user name")
    _common(p)
    p = sub.add_parser("unlock-user", help="lift an account's sign-in lock (after too many failed sign-ins)",
                       description="Reset an account's failed sign-ins and lift its temporary lock (audited).")
    p.add_argument("name", metavar="NAME", help="user name")
    _common(p)
    p = sub.add_parser("list-users", help="list accounts", description="List accounts (names, roles, last sign-in).")
    _common(p)
    p = sub.add_parser("create-demo", help="create the demo database and demo physician (password printed once)",
                       description="Create (or upgrade) the demo database with the demo physician account 'demo'. "
                                   "A new password is generated on every run and printed once.")
    _common(p, "demo.db")
    p = sub.add_parser("verify-audit", help="check the hash-chained audit log; exit 0 intact, 1 broken",
                       description="Walk the audit log and check every link of its hash chain, then that the "
                                   "stored recommendations and reviews match what the log recorded. Exit 0 when "
                                   "intact, 1 naming the first broken entry.")
    p.add_argument("--chain-only", action="store_true", help="check the audit chain only, not the records")
    _common(p)
    p = sub.add_parser("create-token", help="issue an HTTP-service bearer token to an account (printed once)",
                       description="Issue a bearer token of the HTTP scoring service to an active account. The "
                                   "token is printed once; only its sha256 is stored. `recommender serve --db URL` "
                                   "accepts it until it is revoked or the account disabled.")
    p.add_argument("name", metavar="NAME", help="user name the token belongs to")
    p.add_argument("--label", metavar="TEXT", help="what the token is for (e.g. the pipeline's name)")
    _common(p)
    p = sub.add_parser("list-tokens", help="list HTTP-service tokens (never the tokens themselves)",
                       description="List issued tokens: id, account, label, created, last used, revoked.")
    p.add_argument("name", metavar="NAME", nargs="?", help="only this account's tokens")
    _common(p)
    p = sub.add_parser("revoke-token", help="revoke an HTTP-service token by id",
                       description="Revoke a token (kept in the list as revoked; the service refuses it at once).")
    p.add_argument("token_id", metavar="ID", type=int, help="token id (see list-tokens)")
    _common(p)


def _engine(args: argparse.Namespace, *, demo: bool = False, upgrade: bool = True):
    from recommender.store import demo_database_url, make_engine, redact_url, upgrade_database

    url = args.db if args.db else (demo_database_url() if demo else None)
    if not upgrade:
        _require_existing_file(url)
    engine = make_engine(url, allow_insecure_permissions=True if getattr(args, "allow_insecure_permissions", False)
                         else None)
    revision = upgrade_database(engine) if upgrade else None
    return engine, redact_url(engine.url.render_as_string(hide_password=False)), revision


def _require_existing_file(url: str | None) -> None:
    """Read-only commands never create an SQLite file as a side effect."""
    from sqlalchemy.engine import make_url

    from recommender.store import StoreError, resolve_url

    parsed = make_url(resolve_url(url))
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        from pathlib import Path

        if not Path(parsed.database).is_file():
            raise StoreError("no database file here", file=parsed.database,
                             fix="check --db (or $RECOMMENDER_DB_URL / $RECOMMENDER_HOME), or run 'recommender admin init-db'")


def _on_db(args: argparse.Namespace, work, *, read_only: bool = False):
    """``(work(engine), redacted url)``: open (and upgrade, unless ``read_only``) the database, always dispose it.

    A read-only command refuses a database without the schema instead of creating one.
    """
    engine, url, _ = _engine(args, upgrade=not read_only)
    try:
        if read_only:
            _require_initialised(engine, url)
        return work(engine), url
    finally:
        engine.dispose()


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")


def run(args: argparse.Namespace) -> int:
    handler = {
        "init-db": _init_db,
        "create-user": _create_user,
        "reset-password": _reset_password,
        "list-users": _list_users,
        "create-demo": _create_demo,
        "verify-audit": _verify_audit,
        "create-token": _create_token,
        "list-tokens": _list_tokens,
        "revoke-token": _revoke_token,
        "unlock-user": _unlock_user,
    }[args.admin_command]
    return handler(args)


def _unlock_user(args: argparse.Namespace) -> int:
    from recommender.store.throttle import unlock_user

    was_locked, url = _on_db(args, lambda e: unlock_user(e, args.name, actor="admin-cli"))
    if args.json:
        print_json({"database": url, "username": args.name, "had_failures": was_locked})
    else:
        _say(f"unlocked {args.name!r} in {url}" + ("" if was_locked else " (it had no failed sign-ins)"))
    return 0


def _init_db(args: argparse.Namespace) -> int:
    engine, url, revision = _engine(args)
    engine.dispose()
    if args.json:
        print_json({"database": url, "revision": revision})
    else:
        _say(f"database ready: {url} (schema revision {revision})")
    return 0


def _create_user(args: argparse.Namespace) -> int:
    from recommender.store import create_user

    (user, password), url = _on_db(args, lambda e: create_user(e, args.name, args.role, full_name=args.full_name,
                                                               actor="admin-cli"))
    if args.json:
        print_json({"database": url, "user": user.to_dict(), "password": password})
    else:
        _say(f"created {user.role} account {user.username!r} in {url}")
        _say(f"password (shown once, not stored): {password}")
    return 0


def _reset_password(args: argparse.Namespace) -> int:
    from recommender.store import set_password

    password, url = _on_db(args, lambda e: set_password(e, args.name, actor="admin-cli"))
    if args.json:
        print_json({"database": url, "username": args.name, "password": password})
    else:
        _say(f"new password for {args.name!r} (shown once, not stored): {password}")
    return 0


def _list_users(args: argparse.Namespace) -> int:
    from recommender.store import list_users

    users, url = _on_db(args, list_users, read_only=True)
    if args.json:
        print_json({"database": url, "users": [u.to_dict() for u in users]})
    else:
        for u in users:
            last = u.last_login_at.isoformat(timespec="seconds") if u.last_login_at else "never"
            _say(f"{u.username:<24} {u.role:<11} {'active' if u.active else 'disabled':<9} last sign-in {last}")
    return 0


def _create_demo(args: argparse.Namespace) -> int:
    from recommender.store import create_demo_account

    engine, url, revision = _engine(args, demo=True)
    try:
        user, password = create_demo_account(engine)
    finally:
        engine.dispose()
    if args.json:
        print_json({"database": url, "revision": revision, "user": user.to_dict(), "password": password})
    else:
        _say(f"demo database: {url}")
        _say(f"demo sign-in:  user {user.username!r}, password {password}  (shown once; a new one on every run)")
    return 0


def _require_initialised(engine, url: str) -> str:
    from recommender.store import StoreError, current_revision

    revision = current_revision(engine)
    if revision is None:
        engine.dispose()
        raise StoreError("not a recommender database (no schema)", file=url,
                         fix="check --db, or create it with 'recommender admin init-db'")
    return revision


def _verify_audit(args: argparse.Namespace) -> int:
    from recommender.store import head_revision, verify_chain, verify_records

    engine, url, _ = _engine(args, upgrade=False)
    try:
        revision = _require_initialised(engine, url)
        report = verify_chain(engine)
        problem = None
        records_checked = report.ok and not args.chain_only and revision == head_revision()
        if records_checked:
            problem = verify_records(engine)
    finally:
        engine.dispose()
    ok = report.ok and problem is None
    if args.json:
        print_json({"database": url, "ok": ok, "chain": report.to_dict(), "records_checked": records_checked,
                    "record_problem": None if problem is None else {**problem.__dict__, "message": problem.describe()}})
    elif not report.ok:
        assert report.broken is not None
        sys.stderr.write(f"audit log BROKEN in {url}: {report.broken.describe()}\n"
                         f"  entries verified before it: {report.entries_checked}\n")
    elif problem is not None:
        sys.stderr.write(f"audit chain intact ({report.entries_checked} entries) but a record was altered: "
                         f"{problem.describe()}\n")
    else:
        extra = "" if records_checked else " (records not checked)"
        _say(f"audit log intact: {report.entries_checked} entries, head {report.head_hash[:16]}...{extra} [{url}]")
    return 0 if ok else 1


def _create_token(args: argparse.Namespace) -> int:
    from recommender.store import create_api_token

    (info, token), url = _on_db(args, lambda e: create_api_token(e, args.name, label=args.label, actor="admin-cli"))
    if args.json:
        print_json({"database": url, "token": info.to_dict(), "secret": token})
    else:
        _say(f"token {info.id} issued to {info.username!r} in {url}")
        _say(f"token (shown once, not stored; send 'Authorization: Bearer <token>'): {token}")
    return 0


def _list_tokens(args: argparse.Namespace) -> int:
    from recommender.store import list_api_tokens

    tokens, url = _on_db(args, lambda e: list_api_tokens(e, args.name), read_only=True)
    if args.json:
        print_json({"database": url, "tokens": [t.to_dict() for t in tokens]})
    else:
        for t in tokens:
            used = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
            state = "active" if t.active else f"revoked {t.revoked_at.isoformat(timespec='seconds')}"
            _say(f"{t.id:>5} {t.username:<24} {(t.label or '-'):<20} last used {used:<25} {state}")
    return 0


def _revoke_token(args: argparse.Namespace) -> int:
    from recommender.store import revoke_api_token

    info, url = _on_db(args, lambda e: revoke_api_token(e, args.token_id, actor="admin-cli"))
    if args.json:
        print_json({"database": url, "token": info.to_dict()})
    else:
        _say(f"token {info.id} of {info.username!r} revoked")
    return 0
