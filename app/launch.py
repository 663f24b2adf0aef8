"""``recommender app``: start the physician's Streamlit app on 127.0.0.1.

The database URL goes to the app in ``$RECOMMENDER_DB_URL`` (never on a command line that ``ps`` shows
to other users beyond this process's own). ``--demo`` uses the demo database and (re)creates the demo
physician with a freshly generated password, printed once.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["MAIN", "SERVER", "add_arguments", "build_command", "run"]

#: The Streamlit entry script (the pages).
MAIN = Path(__file__).resolve().parent / "main.py"
#: What ``streamlit run`` starts: :data:`MAIN` plus the routes of the HttpOnly session cookie (:mod:`app.server`).
SERVER = Path(__file__).resolve().parent / "server.py"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL", help="database URL or SQLite path (default: $RECOMMENDER_DB_URL, "
                        "else $RECOMMENDER_HOME/recommender.db; with --demo: the demo database)")
    parser.add_argument("--port", type=int, default=8501, help="port on 127.0.0.1 (default 8501)")
    parser.add_argument("--demo", action="store_true",
                        help="use the demo database and (re)create the demo physician; its generated password is "
                             "printed once")
    parser.add_argument("--allow-insecure-permissions", action="store_true",
                        help="open an SQLite store that other users can read (refused by default)")


def build_command(port: int) -> list[str]:
    """The ``streamlit run`` command line (bound to 127.0.0.1, headless; :data:`SERVER`, served by uvicorn)."""
    return [sys.executable, "-m", "streamlit", "run", str(SERVER), "--server.address", "127.0.0.1",
            "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "viewer"]


def run(args: argparse.Namespace) -> int:
    from genomics.errors import UsageError
    from recommender.store import create_demo_account, demo_database_url, open_database, resolve_url

    if not 1 <= args.port <= 65535:
        raise UsageError(f"port {args.port} out of range", field="--port", fix="give a port between 1 and 65535")
    url = args.db or (demo_database_url() if args.demo else None)
    url = resolve_url(url)
    if getattr(args, "allow_insecure_permissions", False):
        os.environ["RECOMMENDER_ALLOW_INSECURE_PERMISSIONS"] = "1"  # the app's own process inherits it
    engine = open_database(url)  # fail here, with a one-line message, rather than inside the app
    if args.demo:
        user, password = create_demo_account(engine)
        print(f"Demo sign-in (shown once): user {user.username}  password {password}")
    engine.dispose()
    env = dict(os.environ)
    env["RECOMMENDER_DB_URL"] = url
    print(f"App at http://127.0.0.1:{args.port}  (research use only; Ctrl-C stops it)", flush=True)
    try:
        return subprocess.call(build_command(args.port), env=env, cwd=str(MAIN.parent.parent))
    except KeyboardInterrupt:
        return 0
