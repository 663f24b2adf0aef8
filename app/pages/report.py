"""Report page: the self-contained HTML report (provenance and disclaimer included) to download or print."""

from __future__ import annotations

import streamlit as st

from app.ui import current, require_user

require_user()
patient, rec, _ = current()
st.title("Report")

from recommender.report import render_report

html = render_report(rec)
st.download_button("Download HTML report", data=html.encode("utf-8"), file_name="treatment-options-report.html",
                   mime="text/html", type="primary")
st.caption("Open the file in a browser and print it to PDF. The report carries provenance (package, model bundle, "
           "knowledge-base versions, genome build) and the research-use disclaimer.")
with st.expander("Preview"):
    st.iframe(html, height=700)
