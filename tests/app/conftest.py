"""Fixtures of the app tests: a temporary SQLite database passed through $RECOMMENDER_DB_URL."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
MAIN = str(REPO_ROOT / "app" / "main.py")


@pytest.fixture()
def db(tmp_path, monkeypatch):
    """``(engine, url, {"physician": (name, password), "researcher": (name, password)})``."""
    from recommender.store import create_user, open_database

    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("RECOMMENDER_DB_URL", url)
    monkeypatch.setenv("RECOMMENDER_HOME", str(tmp_path / "home"))  # the session-cookie secret goes here
    engine = open_database(url)
    _, pw = create_user(engine, "dr.test", "physician")
    _, pw2 = create_user(engine, "res.test", "researcher")
    yield engine, url, {"physician": ("dr.test", pw), "researcher": ("res.test", pw2)}
    engine.dispose()


def new_app():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(MAIN, default_timeout=60)


def sign_in(at, username: str, password: str):
    at.run()
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    next(b for b in at.button if b.label == "Sign in").click()
    return at.run()


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def texts(at) -> str:
    parts = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "subheader", "text"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def assert_page_refused(at, page: str) -> None:
    """``page`` is not open to the signed-in role: absent from its navigation, or (when AppTest runs the
    script by path anyway) the page itself refuses with its role message."""
    try:
        at.switch_page(page).run()
    except ValueError as err:  # the page is not in this role's navigation
        assert "Could not find a navigation page" in str(err)
    else:
        assert any("may not use this page" in e.value for e in at.error)
