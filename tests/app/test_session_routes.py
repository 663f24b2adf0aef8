"""The endpoints that set and remove the HttpOnly session cookie: attacks first, then the working path."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from app.session_routes import session_routes
from app.web_session import CLAIM_PATH, CLEAR_PATH, COOKIE_NAME, HANDOFFS, SESSION_SECONDS

HOST = "127.0.0.1:8501"
SAME = {"Origin": f"http://{HOST}", "Host": HOST}


@pytest.fixture
def client():
    return TestClient(Starlette(routes=session_routes()), base_url=f"http://{HOST}")


def _set_cookie(response) -> str:
    return "\n".join(v for k, v in response.headers.multi_items() if k.lower() == "set-cookie")


def test_claim_sets_an_http_only_strict_cookie_once(client):
    code = HANDOFFS.offer("payload.signature")
    r = client.post(CLAIM_PATH, content=code, headers=SAME)
    assert r.status_code == 204 and r.headers["cache-control"] == "no-store"
    header = _set_cookie(r)
    assert header.startswith(f"{COOKIE_NAME}=payload.signature;")
    for flag in ("HttpOnly", "SameSite=strict", "Path=/", f"Max-Age={SESSION_SECONDS}"):
        assert flag in header, flag
    assert "Secure" not in header  # plain http on 127.0.0.1
    again = client.post(CLAIM_PATH, content=code, headers=SAME)
    assert again.status_code == 404 and not _set_cookie(again)


def test_claim_over_https_marks_the_cookie_secure():
    c = TestClient(Starlette(routes=session_routes()), base_url="https://app.example.org")
    code = HANDOFFS.offer("payload.signature")
    r = c.post(CLAIM_PATH, content=code, headers={"Origin": "https://app.example.org"})
    assert r.status_code == 204 and "Secure" in _set_cookie(r)


@pytest.mark.parametrize("headers", [
    {},                                                   # no Origin (not a page's fetch)
    {"Origin": "https://evil.example"},                   # another site
    {"Origin": "http://127.0.0.1:9999"},                  # another port of the same host is another origin
    {"Origin": "null"},                                   # sandboxed frame / file: page
    {"Origin": f"javascript://{HOST}"},
])
def test_cross_origin_claim_is_refused_and_does_not_spend_the_code(client, headers):
    code = HANDOFFS.offer("payload.signature")
    r = client.post(CLAIM_PATH, content=code, headers=headers)
    assert r.status_code == 403 and not _set_cookie(r)
    assert HANDOFFS.claim(code) == "payload.signature"  # still good for the real page


def test_guessed_oversized_or_get_claims_set_nothing(client):
    assert client.post(CLAIM_PATH, content="guess", headers=SAME).status_code == 404
    assert client.post(CLAIM_PATH, content="x" * 10_000, headers=SAME).status_code == 413
    assert client.get(CLAIM_PATH, headers=SAME).status_code == 405
    code = HANDOFFS.offer("payload.signature")
    r = client.get(f"{CLAIM_PATH}?code={code}", headers=SAME)  # a code in a URL (logs, history) is never honoured
    assert r.status_code == 405 and not _set_cookie(r)


def test_clear_removes_the_cookie_same_origin_only(client):
    r = client.post(CLEAR_PATH, headers=SAME)
    header = _set_cookie(r)
    assert r.status_code == 204 and header.startswith(f'{COOKIE_NAME}="";') and "Max-Age=0" in header
    assert "HttpOnly" in header
    refused = client.post(CLEAR_PATH, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and not _set_cookie(refused)


def test_recommender_app_serves_the_cookie_routes():
    """``recommender app`` starts app/server.py, which Streamlit serves as an ASGI app with these routes."""
    from pathlib import Path

    from streamlit.web.server.app_discovery import discover_asgi_app

    from app.launch import SERVER, build_command

    assert str(SERVER) in build_command(8501)
    found = discover_asgi_app(Path(SERVER))
    assert found.is_asgi_app and found.import_string.endswith(":app")
