"""Report page: the self-contained HTML report (provenance, disclaimer and the signed review included) as
HTML or PDF; it says whether the version shown is the one that was signed."""

from __future__ import annotations

import streamlit as st

from app.ui import app_state, current, require_user, show_error

require_user()
patient, rec, rec_json = current()
st.title("Report")

from recommender.escaping import escape_markdown
from recommender.report import render_report, render_signed_report, signed_version
from recommender.report_pdf import PdfExportError, check_pdf_backend, html_to_pdf_bytes
from recommender.store import json_sha256

APP = app_state()
key = json_sha256(rec_json or rec.to_json())
review = APP.review.signed
role = APP.user.role if APP.user else None
if review is None:
    st.warning("Not signed yet: this report carries no physician's review. Sign it on **Review & sign-off** "
               "first if it goes into the record.")
    html = render_report(rec)
else:
    version = signed_version(rec, review, rec_json=rec_json, role=role)
    r = version.review
    if version.matches:
        st.success(f"Signed version: reviewed by {escape_markdown(r.reviewer)} ({r.role or 'physician'}) at {r.signed_at}, decision "
                   f"{r.decision}" + (f", {escape_markdown(r.chosen_option)}" if r.chosen_option else "")
                   + f". The report shows the signed recommendation (sha256 {r.shown_sha256[:12]}…) and carries "
                   "the decision.")
    else:
        st.error(f"The recommendation shown (sha256 {key[:12]}…) is not the version that was signed (sha256 "
                 f"{r.shown_sha256[:12]}…): the report says so.")
    html = render_signed_report(rec, review, rec_json=rec_json, role=role)
# One PDF per recommendation and review shown, kept for the session: printed on the first click only. The
# download callable runs on a worker thread (no Streamlit calls there), so it fills this plain dict; a
# failure is kept in it and shown on the next run of the page.
key = f"{key}:{'' if review is None else review.id}"
cache: dict[str, object] = APP.pdf_cache
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
