"""Report page: the self-contained HTML report (provenance and disclaimer included) as HTML or PDF."""

from __future__ import annotations

import streamlit as st

from app.ui import current, require_user, show_error

require_user()
patient, rec, rec_json = current()
st.title("Report")

from recommender.report import render_report
from recommender.report_pdf import PdfExportError, check_pdf_backend, html_to_pdf_bytes
from recommender.store import json_sha256

html = render_report(rec)
key = json_sha256(rec_json or rec.to_json())
# One PDF per recommendation shown, kept for the session: printed on the first click only. The download
# callable runs on a worker thread (no Streamlit calls there), so it fills this plain dict; a failure is
# kept in it and shown on the next run of the page.
cache: dict[str, object] = st.session_state.setdefault("report_pdf", {})
for stale in [k for k in cache if k != key]:
    del cache[stale]


def _pdf() -> bytes:
    hit = cache.get(key)
    if isinstance(hit, bytes):
        return hit
    try:
        data = html_to_pdf_bytes(html)
    except PdfExportError as err:
        cache[key] = err
        raise
    cache[key] = data
    return data


try:
    check_pdf_backend()  # cheap: is playwright importable, is there a Chromium
except PdfExportError as err:
    backend_problem: PdfExportError | None = err
else:
    backend_problem = None
# a failed print is shown once, then the next click tries again
failed = cache.pop(key, None) if isinstance(cache.get(key), PdfExportError) else None

c1, c2 = st.columns(2)
c1.download_button("Download HTML report", data=html.encode("utf-8"),
                   file_name="treatment-options-report.html", mime="text/html", type="primary",
                   width="stretch")
c2.download_button("Download PDF", data=_pdf, file_name="treatment-options-report.pdf",
                   mime="application/pdf", disabled=backend_problem is not None, on_click="ignore",
                   width="stretch", key="download_pdf")
for problem in (backend_problem, failed):
    if problem is not None:
        show_error(problem)
st.caption("The PDF (A4) is printed on the server by a headless Chromium, the first time it is asked for. "
           "Both files carry provenance (package, model bundle, knowledge-base versions, genome build) and "
           "the research-use disclaimer.")
with st.expander("Preview"):
    st.iframe(html, height=700)
