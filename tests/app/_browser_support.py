"""Drive the real app in a real browser: a Streamlit server process and a headless system Chromium.

Shared by ``tests/app/test_browser_e2e.py`` and ``benchmarks/bench_app.py``. The server is
``python -m streamlit run app/main.py`` on 127.0.0.1 and a free port, with its database in
``$RECOMMENDER_DB_URL``; the browser is Debian's ``chromium`` driven by Playwright (never a browser
downloaded by ``playwright install``), with a fresh empty profile and no background network traffic.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
MAIN = REPO_ROOT / "app" / "main.py"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"

#: Generous bounds for a loaded 2-core machine (a cold first scoring imports the model stack).
START_TIMEOUT_S = 60.0
STEP_TIMEOUT_MS = 45_000


def browser_problem() -> str | None:
    """Why the browser tests cannot run here (``None`` when they can)."""
    import importlib.util

    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install playwright)"
    from recommender.report_pdf import PdfExportError, find_chromium

    try:
        find_chromium()
    except PdfExportError as err:
        return err.one_line()
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class AppServer:
    """A running ``streamlit run app/main.py`` process."""

    proc: subprocess.Popen[bytes]
    url: str
    log: Path
    output_root: Path | None = None

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server and whatever it started (its own process group), by process id."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def start_app(db_url: str, log: Path, *, port: int | None = None,
              timeout_s: float = START_TIMEOUT_S, home: Path | None = None,
              env: dict[str, str] | None = None) -> AppServer:
    """Start the app against ``db_url`` and wait until ``/_stcore/health`` answers ``ok``.

    ``home`` (default: the log's folder) is the app's ``$RECOMMENDER_HOME`` (its session-cookie secret).
    """
    port = port or free_port()
    env = dict(os.environ, RECOMMENDER_DB_URL=db_url, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
               RECOMMENDER_HOME=str(home or log.parent), **(env or {}))
    from app.launch import build_command

    cmd = [*build_command(port), "--server.fileWatcherType", "none"]  # the command `recommender app` runs
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    server = AppServer(proc, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with code {proc.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200 and resp.read().strip() == b"ok":
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"the app did not answer /_stcore/health within {timeout_s:.0f} s:\n"
                               f"{server.log_tail()}")
        time.sleep(0.25)


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A headless system Chromium (Playwright ``Browser``) with a fresh temporary profile."""
    from playwright.sync_api import sync_playwright

    from recommender.report_pdf import CHROMIUM_ARGS, find_chromium

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser: Any, *, width: int = 1440, height: int = 1000) -> Any:
    """A page in a new browser context (a new Streamlit session), with the step timeout set."""
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    return page


@contextlib.contextmanager
def page_for(browser: Any, server: AppServer, failure_shot: str) -> Iterator[Any]:
    """A fresh page; on failure a screenshot ``failure_shot`` and the server's log tail, then the error."""
    page = new_page(browser)
    try:
        yield page
    except Exception:
        screenshot(page, failure_shot)
        print(server.log_tail())
        raise
    finally:
        page.context.close()


def wait_idle(page: Any) -> None:
    """Wait until the page's script run is over (``stApp``'s ``data-test-script-state`` not running) and
    no element is a loading placeholder."""
    page.wait_for_function(
        "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
        " const state = app && app.getAttribute('data-test-script-state');"
        " return state && state !== 'running' && state !== 'rerunRequested'"
        " && !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')"
        # placeholders of elements whose code the browser is still loading (first use of st.metric...)
        " && !document.querySelector('[data-testid=\"stSkeleton\"], [data-testid=\"stSkeletonElement\"],"
        " [data-testid=\"stAppSkeleton\"]'); }",
        polling=100)


def sign_in(page: Any, base_url: str, username: str, password: str) -> None:
    page.goto(base_url)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Load demo patient").wait_for()
    wait_idle(page)


def open_page(page: Any, title: str) -> None:
    """Click a page of the sidebar navigation and wait for its title."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title, level=1).wait_for()
    wait_idle(page)


def sign_review(page: Any, username: str, password: str) -> None:
    """Type the electronic signature (user name and password) and sign."""
    page.get_by_label("Signing as (user name)").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Confirm and sign").click()


def load_demo_patient(page: Any) -> None:
    page.get_by_role("button", name="Load demo patient").click()
    page.get_by_text("Ranked first:").wait_for()
    wait_idle(page)


def wait_compare_rendered(page: Any) -> None:
    """The compare page is fully drawn: summary, options table (its canvas) and per-option details."""
    page.get_by_test_id("stDataFrame").first.locator("canvas").first.wait_for()
    page.get_by_text("Drivers of the response prediction").first.wait_for()
    wait_idle(page)


def screenshot(page: Any, name: str, folder: Path = ARTIFACTS, *, max_height: int = 6000) -> Path:
    """Save ``folder/name.png`` of the whole page (Streamlit scrolls inside its main area, so the viewport
    is stretched to the content for the shot, then restored)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("() => Math.max(document.documentElement.scrollHeight,"
                           " document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 0)")
    if size and height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, max_height)})
        page.wait_for_timeout(300)  # let charts and the data grid re-lay out
    try:
        page.screenshot(path=str(path), full_page=True)
    finally:
        if size:
            page.set_viewport_size(size)
    return path
