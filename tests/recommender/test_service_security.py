"""Issue 15 (4, 6, 7): the HTTP service's token back-off, capped error bodies, 413 for chunked uploads,
and API docs served without any CDN."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from recommender.service import create_app, hash_token
from tests.recommender._scoring_support import COAD, StubBundle

TOKEN = "test-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _app(**kw):
    return create_app(token_hashes=[hash_token(TOKEN)], bundle=StubBundle({"FOLFOX": 0.6, "CAPOX": 0.3}), **kw)


def _patient() -> dict:
    return json.loads(COAD.read_text())


def test_guessing_bearer_tokens_is_slowed_then_locked(monkeypatch):
    from recommender.service.ratelimit import ClientLimiter

    clock = Clock()
    client = TestClient(_app(limiter=ClientLimiter(clock=clock)))
    codes = []
    for i in range(12):
        r = client.post("/v1/score/json", json={"patient": _patient()}, headers={"Authorization": f"Bearer guess{i}"})
        codes.append(r.status_code)
    assert 429 in codes and codes[0] == 401
    r = client.post("/v1/score/json", json={"patient": _patient()}, headers=AUTH)  # right token, same client
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.json()["error"] == "TooManyRequests"
    clock.t += 24 * 3600  # the lock expires
    assert client.post("/v1/score/json", json={"patient": _patient()}, headers=AUTH).status_code == 200


def test_request_rate_per_client_is_limited():
    from recommender.service.ratelimit import ClientLimiter

    clock = Clock()
    client = TestClient(_app(limiter=ClientLimiter(clock=clock, requests_per_minute=5)))
    codes = [client.get("/v1/version").status_code for _ in range(8)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429] * 3
    clock.t += 61
    assert client.get("/v1/version").status_code == 200
    assert client.get("/v1/health").status_code == 200  # liveness is never limited


def test_a_10_mb_patient_id_is_not_echoed_back():
    client = TestClient(_app())
    p = _patient()
    p["patient_id"] = "A" * 10_000_000
    r = client.post("/v1/score/json", json={"patient": p}, headers=AUTH)
    assert 400 <= r.status_code < 500
    assert len(r.content) < 4_000, len(r.content)
    r = client.post("/v1/score", data={"patient": json.dumps(p)}, headers=AUTH)
    assert 400 <= r.status_code < 500 and len(r.content) < 4_000


def test_validation_errors_do_not_echo_input():
    client = TestClient(_app())
    r = client.post("/v1/score/json", json={"patient": "B" * 1_000_000, "extra": "C" * 1_000_000}, headers=AUTH)
    assert r.status_code == 422 and len(r.content) < 4_000


def test_oversized_chunked_request_gets_413():
    client = TestClient(_app(max_request_bytes=100_000))

    def body():
        for _ in range(50):
            yield b"x" * 10_000

    r = client.post("/v1/score", content=body(), headers={**AUTH, "Content-Type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413, (r.status_code, r.text[:200])
    assert r.json()["error"] == "RequestTooLarge"


def test_docs_pages_use_only_local_assets():
    client = TestClient(_app())
    for page in ("/docs", "/redoc"):
        r = client.get(page)
        assert r.status_code == 200
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", r.text) + re.findall(r"url\(([^)]+)\)", r.text)
        assert urls, page
        for url in urls:
            assert not re.match(r"^(https?:)?//", url), (page, url)
            if url.startswith("/"):
                assert client.get(url).status_code == 200, url
