"""Issue 15 (6): nothing leaves the machine -- the app and the service's /docs and /redoc in a real browser.

Every request the page makes is recorded (and any to another host refused, so the test never reaches the
network); every asset the document points at (favicon, scripts, styles, images) must be on 127.0.0.1 or
inline. Before the fix the app's favicon came from fonts.gstatic.com and /docs, /redoc loaded Swagger UI
and ReDoc from cdn.jsdelivr.net (blank without network).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from urllib.parse import urlparse

import pytest

from tests.app import _browser_support as browser
from tests.conftest import require

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"), pytest.mark.slow]

_LOCAL = {"127.0.0.1", "localhost"}
# every URL the document refers to (link href, script/img/iframe src, CSS url() in style attributes)
_DOM_URLS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('link[href], script[src], img[src], iframe[src], source[src]')) {
    out.push(el.href || el.src);
  }
  for (const sheet of document.styleSheets) { if (sheet.href) out.push(sheet.href); }
  return out;
}"""


def _outside(url: str) -> bool:
    scheme = urlparse(url).scheme
    if scheme in ("data", "blob", "about", "chrome", "chrome-extension", ""):
        return False
    return urlparse(url).hostname not in _LOCAL


@contextlib.contextmanager
def _recording_context(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    seen: list[str] = []

    def route(r):
        seen.append(r.request.url)
        if _outside(r.request.url):
            r.abort()
        else:
            r.continue_()

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(browser.STEP_TIMEOUT_MS)
    page.on("request", lambda req: seen.append(req.url))
    try:
        yield page, seen
    finally:
        context.close()


@pytest.fixture(scope="module")
def chromium():
    problem = browser.browser_problem()
    require(problem is None, f"browser tests need Chromium and playwright: {problem}")
    with browser.chromium() as b:
        yield b


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    from recommender.store import create_user, open_database

    folder = tmp_path_factory.mktemp("offline")
    url = f"sqlite:///{folder / 'app.db'}"
    engine = open_database(url)
    _, password = create_user(engine, "dr.offline", "physician")
    server = browser.start_app(url, folder / "streamlit.log")
    try:
        yield server, ("dr.offline", password)
    finally:
        server.stop()
        engine.dispose()


def test_the_app_makes_no_request_outside_127_0_0_1(chromium, app_server):
    server, (user, password) = app_server
    with _recording_context(chromium) as (page, seen):
        browser.sign_in(page, server.url, user, password)
        browser.load_demo_patient(page)
        for title in ("Compare options", "Pharmacogenomics", "Report"):
            with contextlib.suppress(Exception):  # a page of another role or a renamed title: still checked below
                browser.open_page(page, title)
        page.wait_for_timeout(1500)
        dom = page.evaluate(_DOM_URLS)
        icons = page.evaluate("() => [...document.querySelectorAll('link[rel~=icon]')].map(l => l.href)")
    assert icons and not [u for u in icons if _outside(u)], icons
    assert not [u for u in dom if _outside(u)], [u for u in dom if _outside(u)]
    assert not [u for u in seen if _outside(u)], sorted({u for u in seen if _outside(u)})
    assert any(urlparse(u).hostname == "127.0.0.1" for u in seen)


@pytest.fixture(scope="module")
def service_url():
    import uvicorn

    from recommender.service import create_app, hash_token

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(token_hashes=[hash_token("t")]), host="127.0.0.1", port=port,
                            log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.mark.parametrize(("path", "ready"), [("/docs", ".swagger-ui .info"), ("/redoc", "[role=search], .api-content")])
def test_api_docs_render_from_local_assets_only(chromium, service_url, path, ready):
    with _recording_context(chromium) as (page, seen):
        page.goto(service_url + path)
        page.locator(ready).first.wait_for()  # rendered: the scripts loaded (from this machine)
        page.wait_for_timeout(500)
        dom = page.evaluate(_DOM_URLS)
    assert not [u for u in dom if _outside(u)], [u for u in dom if _outside(u)]
    assert not [u for u in seen if _outside(u)], sorted({u for u in seen if _outside(u)})
