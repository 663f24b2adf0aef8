"""Cohort page (researchers): open a cohort directory, summarise it, filter it, Kaplan-Meier by regimen; score
it in the background (progress, cancel, resume) and show the cohort report (the same sections and figures as
``recommender cohort report``) with downloads of the scores and the HTML report."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from app.access import PAGE_ROLES
from app.cohort_jobs import CANCELLED, FAILED, FINISHED, CohortJob
from app.cohort_paths import ENV_COHORT_DIR, default_output, open_cohort_dir, output_dir, scores_output
from app.core import cohort_km, km_chart_frames
from app.ui import app_state, require_user, show_error

_user = require_user(*PAGE_ROLES["cohort"])
st.title("Cohort")

from genomics.errors import RecommenderError
from recommender.escaping import escape_markdown


@st.cache_resource(show_spinner="Opening the cohort...")
def _open(path: str):
    from cohorts import load_cohort

    return load_cohort(path)


path = st.text_input("Cohort directory (written by `recommender cohort simulate|import`)",
                     value=os.environ.get(ENV_COHORT_DIR, ""), key="cohort_dir")
if not path.strip():
    st.info("Give a cohort directory to open.")
    st.stop()
try:
    cohort = _open(str(open_cohort_dir(path)))  # only inside the configured cohort folders
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
c = st.columns([1, 1, 2])
endpoint = c[0].radio("Endpoint", ["pfs", "os"], horizontal=True, key="cohort_endpoint")
top_n = c[1].number_input("Regimens per cancer type", min_value=2, max_value=10, value=6, step=1,
                          key="cohort_top_n", help="The most frequent regimens of each cancer type; the rest are "
                                                   "pooled as 'other regimens'.")
@st.cache_data(show_spinner=False, max_entries=32)
def _km(cohort_path: str, where: str, endpoint: str, top_n: int):
    """The Kaplan-Meier strata of a filter, computed once (the page reruns every second while a job runs)."""
    return cohort_km(_open(cohort_path), where, endpoint, top_n=top_n)


try:
    strata, frame = _km(str(cohort.path), where, endpoint, int(top_n))
except RecommenderError as err:
    show_error(err)
    strata = frame = None

if strata:
    import altair as alt

    from cohorts.report_figures import group_colours

    st.subheader(f"Kaplan-Meier of {endpoint.upper()} by received regimen, per cancer type")
    st.caption("Step curves with 95% bands, numbers at risk under each chart. Regimens are compared within a "
               "cancer type only (log-rank within it); no test pools different cancer types.")
    names = [s.cancer_type for s in strata]
    chosen = st.selectbox("Cancer type", names, key="cohort_km_cancer",
                          format_func=lambda n: f"{n} ({next(s.n for s in strata if s.cancer_type == n)} patients)")
    stratum = next(s for s in strata if s.cancer_type == chosen)
    curves, risk = km_chart_frames(stratum)
    labels = [g.label for g in stratum.groups] or list(dict.fromkeys(curves["group"]))
    colours = group_colours(labels)
    scale = alt.Scale(domain=labels, range=[colours[lab] for lab in labels])
    colour = alt.Color("group:N", title="regimen", sort=labels, scale=scale)
    x = alt.X("months:Q", title="months since start of treatment")
    band = alt.Chart(curves).mark_area(opacity=0.12, interpolate="step-after").encode(
        x=x, y=alt.Y("low:Q", title=f"P({endpoint.upper()} event-free)", scale=alt.Scale(domain=[0, 1])),
        y2="high:Q", color=colour)
    line = alt.Chart(curves).mark_line(interpolate="step-after").encode(
        x=x, y="survival:Q", color=colour,
        tooltip=["group", alt.Tooltip("months:Q", format=".1f"), alt.Tooltip("survival:Q", format=".2f")])
    table = alt.Chart(risk).mark_text(fontSize=11).encode(
        x=alt.X("months:Q", title="numbers at risk"), y=alt.Y("group:N", sort=labels, title=None),
        text="at risk:Q", color=alt.Color("group:N", sort=labels, scale=scale, legend=None))
    st.altair_chart(alt.vconcat(alt.layer(band, line).properties(height=320),
                                table.properties(height=22 * max(1, len(labels)))).resolve_scale(color="shared"),
                    width="stretch")
    if stratum.logrank_p is not None:
        st.write(f"{chosen}: log-rank test within this cancer type, chi2 = {stratum.logrank_statistic:.2f}, "
                 f"p = {stratum.logrank_p:.3g}")
    else:
        st.write(f"{chosen}: {stratum.logrank_note or 'no test'}")
    st.dataframe(pd.DataFrame([{"cancer type": s.cancer_type, "regimen": g.label, "n": g.n, "events": g.events,
                                "median (months)": None if g.median is None else round(g.median / 30.4375, 1),
                                "log-rank p (within cancer type)": None if s.logrank_p is None
                                else round(s.logrank_p, 4)}
                               for s in strata for g in s.groups]), hide_index=True, width="stretch")
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
            test = "Log-rank test stratified by cancer type" if comp.stratified_by else "Log-rank test"
            st.write(f"{test}: chi2 = {comp.logrank_statistic:.2f}, p = {comp.logrank_p:.3g}")
        else:
            st.write(comp.logrank_note or "")
        if len(tables.get(f"cox:{comp.endpoint}", [])):
            st.dataframe(tables[f"cox:{comp.endpoint}"], hide_index=True, width="stretch")
        if f"km_strata_{comp.endpoint}" in figs:
            st.markdown("Per cancer type (log-rank within each):")
            st.image(figs[f"km_strata_{comp.endpoint}"], width="stretch")
            st.dataframe(tables[f"km_strata:{comp.endpoint}"], hide_index=True, width="stretch")
    with st.expander("Provenance"):
        st.json(r.provenance.to_dict())


def _progress_text(job: CohortJob) -> str:
    return job.stage_text()


st.divider()
st.header("Score this cohort")
default_out = default_output(_user.username, cohort.path)
out_text = st.text_input("Scores file (Parquet)", value=str(default_out), key="cohort_scores_out",
                         help=f"Default: a per-cohort file in your own output folder ({output_dir(_user.username)}). "
                              "Another name must be inside that folder too; an existing file is replaced only "
                              "when it is a scores file this product wrote.")
try:
    out_path = scores_output(out_text, _user.username, cohort.path)
except RecommenderError as err:
    show_error(err)
    st.stop()
where_to = "the per-cohort default in your output folder" if out_path == default_out.resolve() \
    else "the path you chose"
st.caption(f"The scores go to {escape_markdown(out_path)} ({where_to}). Finished chunks are kept in "
           f"{escape_markdown(out_path.name + '.parts/')} "
           "next to it until the run ends, so a cancelled run resumes where it stopped.")

job: CohortJob | None = app_state().cohort_job
if job is not None and not job.matches(cohort.path, out_path) and not job.running:
    job = None  # a finished or stopped job of another cohort/output: replaced by the next start
if job is not None and not job.matches(cohort.path, out_path):
    st.warning(f"A scoring job for another cohort or output ({escape_markdown(job.output)}) is running in this session: cancel it "
               "first to score this one.")

cyp2d6_snv = st.checkbox(
    "Use CYP2D6 calls without copy number (SNVs/indels only)", key="cohort_cyp2d6_snv",
    help="A VCF cannot see CYP2D6 deletions, duplications or hybrids, so by default each CYP2D6 call is provisional: "
         "not used for guidance or by the models (tamoxifen shows 'not assessed'). Tick to use the SNV/indel call "
         "anyway; every affected result says so (as `recommender cohort score --cyp2d6-without-copy-number`).")

if job is None:
    b = st.columns(2)
    if b[0].button("Score this cohort", type="primary", key="cohort_score_start"):
        app_state().cohort_job = CohortJob(cohort.path, out_path, cyp2d6_without_copy_number=cyp2d6_snv).start()
        st.rerun()
    if out_path.is_file() and b[1].button("Show the report of the existing scores file", key="cohort_report_only"):
        app_state().cohort_job = CohortJob(cohort.path, out_path, score=False).start()
        st.rerun()
elif job.running:
    @st.fragment(run_every=1.0)
    def _progress() -> None:
        current = app_state().cohort_job
        if current is None:
            return
        st.progress(current.stage_fraction, text=_progress_text(current))
        if not current.running:
            st.rerun()  # the whole page: show the result

    if job.phase == "scoring" and st.button("Cancel", key="cohort_score_cancel"):
        job.cancel()
        st.info("Cancelling after the chunk being scored; finished chunks are kept.")
    _progress()
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
        app_state().cohort_job = CohortJob(cohort.path, out_path, cyp2d6_without_copy_number=cyp2d6_snv).start()
        st.rerun()
    if job.report is not None:
        _show_report(job)
