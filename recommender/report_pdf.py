"""PDF of the HTML report, printed by a headless Chromium through Playwright (print-to-PDF).

Used by ``recommender score --pdf`` and the app's Report page. The report HTML is self-contained
(inline CSS, no scripts, no external assets); the page is loaded with every network request refused,
so printing never reaches the network. Chromium is the system one (Debian ``chromium``), never a
browser downloaded by ``playwright install``:

1. ``$RECOMMENDER_CHROMIUM`` when set (an error if it does not point at an executable),
2. ``/usr/bin/chromium``,
3. ``chromium`` / ``chromium-browser`` / ``google-chrome`` on ``$PATH``.

Examples
--------
>>> from recommender.report import render_report                      # doctest: +SKIP
>>> html_to_pdf(render_report(rec), "report.pdf")                       # doctest: +SKIP
PosixPath('report.pdf')
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import os
import shutil
from pathlib import Path

from genomics.errors import RecommenderError

__all__ = [
    "CHROMIUM_ARGS",
    "ENV_CHROMIUM",
    "PdfExportError",
    "check_pdf_backend",
    "find_chromium",
    "html_to_pdf",
    "html_to_pdf_bytes",
]

#: Environment variable naming the Chromium (or Chrome) executable to print with.
ENV_CHROMIUM = "RECOMMENDER_CHROMIUM"

#: Where Debian's ``chromium`` package installs the browser.
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")

#: Command-line switches: headless, no sandbox (containers), and no background traffic to Google
#: services (without these a headless Chromium keeps retrying the network).
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)

#: Page margins of the PDF (A4).
MARGINS = {"top": "14mm", "bottom": "16mm", "left": "12mm", "right": "12mm"}

_FIX_CHROMIUM = (f"install it (`apt-get install chromium`) or set ${ENV_CHROMIUM} to a Chromium/Chrome "
                 "executable")
_FIX_PLAYWRIGHT = ("`pip install playwright` (no `playwright install` needed: the system Chromium is used); "
                   "or use the HTML report and print it from a browser")

# Footer on every page: the research-use line and page numbers (Chromium fills pageNumber/totalPages).
_FOOTER = ('<div style="font-size:7.5px;color:#555;width:100%;padding:0 12mm;display:flex;'
           'justify-content:space-between;font-family:Arial,sans-serif">'
           '<span>Research use only; not a medical device.</span>'
           '<span>page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>')


class PdfExportError(RecommenderError):
    """The PDF cannot be produced: no Chromium, no Playwright, or the browser failed to print."""


def find_chromium() -> str:
    """Path of the Chromium executable to print with (see the module docstring for the order).

    Raises
    ------
    PdfExportError
        ``$RECOMMENDER_CHROMIUM`` points at nothing executable, or no Chromium is found.
    """
    env = os.environ.get(ENV_CHROMIUM, "").strip()
    if env:
        if os.path.isfile(env) and os.access(env, os.X_OK):
            return env
        raise PdfExportError("no executable Chromium at this path", file=env, field=ENV_CHROMIUM,
                             fix=f"point ${ENV_CHROMIUM} at a Chromium/Chrome executable, or unset it and "
                                 "`apt-get install chromium`")
    if DEFAULT_CHROMIUM.is_file() and os.access(DEFAULT_CHROMIUM, os.X_OK):
        return str(DEFAULT_CHROMIUM)
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise PdfExportError("Chromium is not installed (needed to print the report to PDF)", fix=_FIX_CHROMIUM)


def check_pdf_backend() -> str:
    """Fail early, before any work, when a PDF could not be printed; returns the Chromium path.

    Raises
    ------
    PdfExportError
        The ``playwright`` package is missing, or no Chromium is found.
    """
    if importlib.util.find_spec("playwright") is None:
        raise PdfExportError("the Python package playwright is not installed (needed for PDF export)",
                             fix=_FIX_PLAYWRIGHT)
    return find_chromium()


def _print(html: str, chromium: str, timeout_s: float) -> bytes:
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise PdfExportError("the Python package playwright is not installed (needed for PDF export)",
                             fix=_FIX_PLAYWRIGHT) from None
    timeout_ms = timeout_s * 1000
    try:
        with sync_playwright() as pw:
            # launch() gives the browser a fresh, empty profile in a temporary folder (removed on close)
            browser = pw.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS),
                                         timeout=timeout_ms)
            try:
                page = browser.new_page()
                page.set_default_timeout(timeout_ms)
                # self-contained document: refuse any request it might still make (no network, ever)
                page.route("**/*", lambda route: route.abort())
                page.set_content(html, wait_until="load")
                page.emulate_media(media="print")
                return page.pdf(format="A4", print_background=True, margin=MARGINS,
                                display_header_footer=True, header_template="<span></span>",
                                footer_template=_FOOTER)
            finally:
                browser.close()
    except PlaywrightError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise PdfExportError(f"Chromium failed to print the report: {first}", file=chromium,
                             fix=f"check that this Chromium starts (`{chromium} --headless --version`), or "
                                 f"set ${ENV_CHROMIUM} to another one; the HTML report can be printed from "
                                 "a browser meanwhile") from None


def html_to_pdf_bytes(html: str, *, chromium: str | None = None, timeout_s: float = 60.0) -> bytes:
    """Print an HTML document to PDF (A4, backgrounds printed, page numbers in the footer).

    Parameters
    ----------
    html
        A complete, self-contained HTML document (e.g. :func:`recommender.report.render_report`).
    chromium
        Chromium executable; default :func:`find_chromium`.
    timeout_s
        Upper bound for starting the browser, loading the document and printing it, each.

    Returns
    -------
    bytes
        The PDF file's content.

    Raises
    ------
    PdfExportError
        Playwright or Chromium is missing, or the browser failed.
    """
    if importlib.util.find_spec("playwright") is None:
        raise PdfExportError("the Python package playwright is not installed (needed for PDF export)",
                             fix=_FIX_PLAYWRIGHT)
    chromium = chromium or find_chromium()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _print(html, chromium, timeout_s)
    # Playwright's sync API refuses to run inside a running event loop: print from a worker thread
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_print, html, chromium, timeout_s).result()


def html_to_pdf(html: str, out_path: str | os.PathLike[str], *, chromium: str | None = None,
                timeout_s: float = 60.0) -> Path:
    """Print an HTML document to a PDF file, written atomically (temporary file, then rename).

    Parameters
    ----------
    html
        A complete, self-contained HTML document (e.g. :func:`recommender.report.render_report`).
    out_path
        Where to write the PDF; its folder is created if needed. Nothing is left there on failure.
    chromium, timeout_s
        See :func:`html_to_pdf_bytes`.

    Returns
    -------
    Path
        ``out_path``.

    Raises
    ------
    PdfExportError
        Playwright or Chromium is missing, or the browser failed.
    """
    from recommender.commands._output import write_atomic

    return write_atomic(out_path, html_to_pdf_bytes(html, chromium=chromium, timeout_s=timeout_s))
