"""Cohort page (researchers): open a cohort directory, summarise it, filter it, Kaplan-Meier by regimen."""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from app.core import cohort_km
from app.ui import require_user, show_error

require_user()
st.title("Cohort")

from genomics.errors import RecommenderError


@st.cache_resource(show_spinner="Opening the cohort...")
def _open(path: str):
    from cohorts import load_cohort

    return load_cohort(path)


path = st.text_input("Cohort directory (written by `recommender cohort simulate|import`)",
                     value=os.environ.get("RECOMMENDER_COHORT_DIR", ""), key="cohort_dir")
if not path.strip():
    st.info("Give a cohort directory to open.")
    st.stop()
try:
    cohort = _open(path.strip())
except RecommenderError as err:
    show_error(err)
    st.stop()

info = cohort.info()
c = st.columns(3)
c[0].metric("Patients", info["patients"])
c[1].metric("Cohort", f"{info['name']} {info['version']}")
c[2].metric("Genome build", info["genome_build"] or "-")
with st.expander("Summary"):
    st.json({k: info[k] for k in ("tables", "cancer_types", "regimens", "licence", "provenance") if k in info},
            expanded=False)

where = st.text_input("Filter (SQL WHERE on the patients table, e.g. ecog <= 1)", key="cohort_where")
endpoint = st.radio("Endpoint", ["pfs", "os"], horizontal=True, key="cohort_endpoint")
try:
    km, frame = cohort_km(cohort, where, endpoint)
except RecommenderError as err:
    show_error(err)
    st.stop()

st.subheader(f"Kaplan-Meier of {endpoint.upper()} by received regimen")
st.dataframe(pd.DataFrame([{"regimen": g.label, "n": g.n, "events": g.events,
                            "median (d)": None if g.median is None else round(g.median),
                            **{f"at risk d{t:.0f}": n for t, n in zip(km.times, g.at_risk, strict=False)}}
                           for g in km.groups]), hide_index=True, width="stretch")
st.write(f"{km.test}: p = {km.logrank_p:.3g}")
curves = {g.label: pd.Series(g.survival, index=km.times) for g in km.groups}
st.line_chart(pd.concat(curves, axis=1), x_label="days", y_label=f"P({endpoint.upper()} event-free)")
st.download_button("Download the rows (CSV)", frame.to_csv(index=False).encode(), file_name="cohort_km.csv",
                   mime="text/csv")
