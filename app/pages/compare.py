"""Compare options page: the candidate treatments side by side, with guidance, evidence and disagreements."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.core import (
    LIGHT,
    SORT_KEYS,
    fmt_interval,
    fmt_pct,
    guidance_style,
    option_rows,
    pfs_of,
    sort_options,
    top_toxicities,
)
from app.ui import current, require_user

require_user()
patient, rec, _ = current()
st.title("Compare options")

if not rec.model_status.available:
    st.warning(f"Model numbers unavailable: {rec.model_status.reason}")
else:
    st.caption(f"Model bundle {rec.model_status.bundle_id} — trained on {rec.model_status.trained_on}.")

for d in rec.disagreements:
    st.warning(f"**Model and guidance disagree** — {d.message}")

c1, c2 = st.columns([2, 1])
order = c1.selectbox("Sort by", SORT_KEYS, key="sort_key")
hide_avoid = c2.checkbox("Hide options with an 'avoid' flag", key="hide_avoid")
options = sort_options(rec.options, order)
if hide_avoid:
    options = [o for o in options if o.guidance_action != "avoid"]

st.dataframe(guidance_style(pd.DataFrame(option_rows(options))), hide_index=True, width="stretch")

# PFS curves of all options on one chart
curves = {}
for o in options:
    s = pfs_of(o)
    if s is not None and s.times:
        curves[o.regimen] = pd.Series(s.survival, index=s.times)
if curves:
    df = pd.concat(curves, axis=1).sort_index().ffill()
    df.index.name = "days"
    st.subheader("Progression-free survival (model)")
    st.line_chart(df, x_label="days", y_label="P(progression-free)")

cols = st.columns(max(1, len(options)))
for col, o in zip(cols, options, strict=False):
    with col:
        st.markdown(f"### {o.rank}. {o.regimen}")
        st.markdown(f"Guidance: {LIGHT[o.guidance_colour]} **{o.guidance_action}**")
        m = o.model
        if m.available and m.response is not None:
            r = m.response
            st.metric("Response probability", fmt_pct(r.probability))
            if r.low is not None and r.high is not None:
                st.caption(f"interval {fmt_pct(r.low)}–{fmt_pct(r.high)}")
        s = pfs_of(o)
        if s is not None:
            st.metric("PFS median", "not reached" if s.median_days is None else f"{s.median_days:.0f} d")
            if s.low is not None and s.high is not None:
                st.caption(f"interval {s.low:.0f}–{s.high:.0f} d")
        if not m.available:
            st.caption(f"No model numbers: {m.reason}")
        tox = top_toxicities(o)
        if tox:
            st.markdown("**Severe toxicity (grade ≥3)**")
            for t in tox:
                st.markdown(f"- {t.term}: {fmt_interval(t.probability, t.low, t.high, pct=True)}")
        st.markdown("**Pharmacogenomics**")
        for f in o.pgx:
            st.markdown(f"{LIGHT.get(f.colour, LIGHT['grey'])} {f.drug}: **{f.action}**"
                        + (f" — {', '.join(f.missing_genes)} not genotyped" if f.missing_genes else ""))
            if f.recommendations or f.messages or f.notes:
                with st.expander(f"{f.drug}: guidance (verbatim)"):
                    for q in f.recommendations:
                        st.markdown(f"**{q.source} — {q.guideline}** (strength: {q.strength or '-'}; "
                                    f"PMIDs: {', '.join(q.pmids) or '-'}; version {q.version or '-'})")
                        st.text(q.text_plain)
                    for msg in (*f.messages, *f.notes):
                        st.caption(msg)
        if o.biomarkers:
            st.markdown("**Biomarker evidence**")
            for b in o.biomarkers:
                st.markdown(f"- {b.finding}: {b.direction}, level {b.level_for_patient or b.evidence_level} "
                            f"({b.source})")
        if m.available and m.response is not None and m.response.drivers:
            with st.expander("Drivers of the response prediction"):
                for drv in m.response.drivers:
                    st.markdown(f"- {drv}")
        for w in o.warnings:
            st.caption(f"{w}")
        if o.rank_reason:
            st.caption(o.rank_reason)

for w in rec.warnings:
    st.caption(f"Note: {w}")
