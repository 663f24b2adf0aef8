"""Cohort page (researchers): open a cohort directory, summarise it, filter it, Kaplan-Meier by regimen; score
it in the background (progress, cancel, resume) and show the cohort report (the same sections and figures as
``recommender cohort report``) with downloads of the scores and the HTML report."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from app.access import PAGE_ROLES
from app.cohort_jobs import CANCELLED, FAILED, FINISHED, CohortJob, default_scores_path
from app.core import cohort_km
from app.ui import require_user, show_error

require_user(*PAGE_ROLES["cohort"])
st.title("Cohort")

from genomics.errors import RecommenderError

JOB_KEY = "cohort_job"  # one background job per user session, kept across reruns


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
    km = frame = None

if km is not None:
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


# ---------------------------------------------------------------------------------------------- scoring
def _show_report(job: CohortJob) -> None:
    """The cohort report's sections (tables + the report's SVG figures) and the downloads."""
    from cohorts.report import report_tables

    r = job.report
    tables = report_tables(r)
    figs = job.figures
    m = st.columns(4)
    m[0].metric("Patients scored", r.n_patients_scored)
    m[1].metric("Received a scored option", r.n_received_scored_option)
    m[2].metric("Received the recommended one", r.n_received_recommended)
    m[3].metric("Model bundle", ", ".join(r.provenance.model_bundle_ids) or "-")
    for note in r.notes:
        st.warning(note)
    d = st.columns(3)
    d[0].download_button("Download the scores (Parquet)", data=lambda: Path(job.output).read_bytes(),
                         file_name=job.output.name, mime="application/vnd.apache.parquet", key="dl_scores")
    d[1].download_button("Download the HTML report", data=job.html or "", file_name="cohort_report.html",
                         mime="text/html", key="dl_report_html")
    d[2].download_button("Download the report numbers (JSON)", data=r.to_json(), file_name="cohort_report.json",
                         mime="application/json", key="dl_report_json")

    st.subheader("Predictions per treatment")
    st.dataframe(tables["predictions"], hide_index=True, width="stretch")
    st.image(figs["distributions"], width="stretch")

    st.subheader("Pharmacogenomic phenotypes by population")
    st.caption(f"Population from the patients table's `{r.pgx.population_source}` column; % of the patients whose "
               "gene was called; 'not callable' counts the others.")
    if r.pgx.genes:
        gene = st.selectbox("Gene", r.pgx.genes, key="cohort_report_gene")
        st.dataframe(tables[f"pgx:{gene}"], hide_index=True)
    else:
        st.info("No pharmacogenomic calls in the scores (the cohort has no germline VCF).")

    st.subheader("Calibration on the received regimen")
    st.caption("Equal-count bins; calibration-in-the-large: logistic intercept with logit(p) as offset (0 ideal); "
               "slope: logistic recalibration (1 ideal). Severe toxicity = any grade >= 3 of the term.")
    if len(tables["calibration"]):
        st.dataframe(tables["calibration"], hide_index=True, width="stretch")
    cols = st.columns(2)
    if "response_calibration" in figs:
        cols[0].image(figs["response_calibration"], width="stretch")
    if "toxicity_calibration" in figs:
        cols[1].image(figs["toxicity_calibration"], width="stretch")

    st.subheader("Survival by whether the recommended option was received")
    st.info(r.caveat)
    for comp in r.survival:
        st.markdown(f"**{comp.endpoint.upper()}**")
        st.image(figs[f"km_{comp.endpoint}"], width="stretch")
        if f"km:{comp.endpoint}" in tables and len(tables[f"km:{comp.endpoint}"]):
            st.dataframe(tables[f"km:{comp.endpoint}"], hide_index=True, width="stretch")
        if comp.logrank_p is not None:
            st.write(f"Log-rank test: chi2 = {comp.logrank_statistic:.2f}, p = {comp.logrank_p:.3g}")
        else:
            st.write(comp.logrank_note or "")
        if len(tables.get(f"cox:{comp.endpoint}", [])):
            st.dataframe(tables[f"cox:{comp.endpoint}"], hide_index=True, width="stretch")
    with st.expander("Provenance"):
        st.json(r.provenance.to_dict())


def _progress_text(job: CohortJob) -> str:
    done, total = job.progress
    if job.phase == "report":
        return "Scoring done; building the report..."
    return f"Scoring: {done} of {total or '?'} patients" if job.score else "Building the report..."


st.divider()
st.header("Score this cohort")
default_out = default_scores_path(cohort.path)
out_text = st.text_input("Scores file (Parquet)", value=str(default_out), key="cohort_scores_out",
                         help="Default: a per-cohort file under the cohort directory. Give another path to write "
                              "elsewhere (e.g. when the cohort directory is read-only).")
out_path = Path(out_text.strip() or default_out)
where_to = "the per-cohort default under the cohort directory" if out_path == default_out else "the path you chose"
st.caption(f"The scores go to `{out_path}` ({where_to}). Finished chunks are kept in `{out_path.name}.parts/` "
           "next to it until the run ends, so a cancelled run resumes where it stopped.")

job: CohortJob | None = st.session_state.get(JOB_KEY)
if job is not None and not job.matches(cohort.path, out_path) and not job.running:
    job = None  # a finished or stopped job of another cohort/output: replaced by the next start
if job is not None and not job.matches(cohort.path, out_path):
    st.warning(f"A scoring job for another cohort or output ({job.output}) is running in this session: cancel it "
               "first to score this one.")

if job is None:
    b = st.columns(2)
    if b[0].button("Score this cohort", type="primary", key="cohort_score_start"):
        st.session_state[JOB_KEY] = CohortJob(cohort.path, out_path).start()
        st.rerun()
    if out_path.is_file() and b[1].button("Show the report of the existing scores file", key="cohort_report_only"):
        st.session_state[JOB_KEY] = CohortJob(cohort.path, out_path, score=False).start()
        st.rerun()
elif job.running:
    @st.fragment(run_every=1.0)
    def _progress() -> None:
        current = st.session_state.get(JOB_KEY)
        if current is None:
            return
        st.progress(current.fraction, text=_progress_text(current))
        if not current.running:
            st.rerun()  # the whole page: show the result

    _progress()
    if job.phase == "scoring" and st.button("Cancel", key="cohort_score_cancel"):
        job.cancel()
        st.info("Cancelling after the chunk being scored; finished chunks are kept.")
elif job.status == CANCELLED:
    done, total = job.progress
    st.warning(f"Scoring cancelled after {done} of {total} patients; the finished chunks are kept.")
    if st.button("Resume", type="primary", key="cohort_score_resume"):
        job.resume()
        st.rerun()
elif job.status == FAILED:
    if job.error is not None:
        show_error(job.error)
    else:
        st.error("The scoring job failed.")
    if st.button("Resume", key="cohort_score_retry"):
        job.resume()
        st.rerun()
elif job.status == FINISHED:
    s = job.summary
    if s is not None:
        st.success(f"Scored {s.n_scored} patients ({s.n_skipped} skipped) into {s.n_rows} rows in {s.seconds:.1f} s; "
                   f"chunks: {s.chunks_computed} computed, {s.chunks_reused} reused.")
    if st.button("Score again", key="cohort_score_again"):
        st.session_state[JOB_KEY] = CohortJob(cohort.path, out_path).start()
        st.rerun()
    if job.report is not None:
        _show_report(job)
