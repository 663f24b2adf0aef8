"""Compare options page: the candidate treatments side by side, with guidance, evidence and disagreements."""

from __future__ import annotations

from typing import Any

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
    survival_chart_frames,
    top_toxicities,
)
from app.ui import current, require_user
from recommender.report import ACTION_LABELS

require_user()
patient, rec, _ = current()
st.title("Compare options")


def _badge(colour: str, label: str) -> str:
    """A Streamlit badge in the traffic-light colour of :data:`app.core.LIGHT`, with its own label."""
    return f"{LIGHT.get(colour, LIGHT['grey']).split('[')[0]}[{label}]"


def _summary_card(top: Any) -> None:
    """Which option, why, and what is the risk: the first-ranked option in one bordered box."""
    m = top.model
    with st.container(border=True, key="top_option"):
        guidance = "guidance: " + ACTION_LABELS.get(top.guidance_action, top.guidance_action)
        st.markdown(f"#### Ranked first: {top.regimen} &nbsp; {_badge(top.guidance_colour, guidance)}")
        st.caption(", ".join(top.drugs))
        cols = st.columns(4)
        r = m.response if m.available else None
        cols[0].metric("Response probability", fmt_pct(r.probability) if r else "-")
        if r is not None and r.low is not None and r.high is not None:
            cols[0].caption(f"interval {fmt_pct(r.low)}–{fmt_pct(r.high)}")
        s = pfs_of(top)
        cols[1].metric("PFS median", "-" if s is None else "not reached" if s.median_days is None
                       else f"{s.median_days:.0f} d")
        if s is not None and s.low is not None and s.high is not None:
            cols[1].caption(f"interval {s.low:.0f}–{s.high:.0f} d")
        tox = top_toxicities(top, 1)
        cols[2].metric("Highest severe-toxicity risk", fmt_pct(tox[0].probability) if tox else "-")
        if tox:
            t = tox[0]
            cols[2].caption(f"{t.term} (grade ≥3)" + (f", interval {fmt_pct(t.low)}–{fmt_pct(t.high)}"
                                                        if t.low is not None and t.high is not None else ""))
        flagged = [f for f in top.pgx if f.action not in ("standard", "no_guidance") or f.missing_genes]
        with cols[3]:
            st.markdown("**Pharmacogenomic flags**")
            for f in flagged:
                st.markdown(f"{_badge(f.colour, ACTION_LABELS.get(f.action, f.action))} {f.drug}"
                            + (f" — {', '.join(f.missing_genes)} not genotyped" if f.missing_genes else ""))
            if not flagged:
                st.markdown(_badge("green", "none") + " for its drugs" if top.pgx else "none assessed")
        if not m.available:
            st.caption(f"No model numbers: {m.reason}")
        why = [f"**Why first:** {top.rank_reason or 'rank order of the options'}"]
        # options the model alone would have put higher, and the reason they are not first
        why += [f"**Not first although the model prefers it: {o.regimen}** — {o.rank_reason}"
                for o in rec.options
                if o is not top and o.model_rank is not None and top.model_rank is not None
                and o.model_rank < top.model_rank and o.rank_reason]
        st.markdown("  \n".join(why))
        if r is not None and r.drivers:
            st.markdown("**Main drivers of the response prediction:**\n"
                        + "\n".join(f"- {d}" for d in r.drivers[:3]))
        if m.available and m.ood.flag:
            st.warning("Outside the model's training data: " + "; ".join(m.ood.reasons))


if rec.top is not None:
    _summary_card(rec.top)

if rec.disagreements:
    st.warning("**Model and guidance disagree**\n" + "\n".join(f"- {d.message}" for d in rec.disagreements))

if not rec.model_status.available:
    st.warning(f"Model numbers unavailable: {rec.model_status.reason}")
else:
    st.caption(f"Model bundle {rec.model_status.bundle_id} — trained on {rec.model_status.trained_on}.")

c1, c2 = st.columns([2, 1])
order = c1.selectbox("Sort by", SORT_KEYS, key="sort_key")
hide_avoid = c2.checkbox("Hide options with an 'avoid' flag", key="hide_avoid")
options = sort_options(rec.options, order)
if hide_avoid:
    options = [o for o in options if o.guidance_action != "avoid"]

st.dataframe(guidance_style(pd.DataFrame(option_rows(options))), hide_index=True, width="stretch")

# survival curves of all options on one chart, median with its interval marked at 50%
endpoint = st.segmented_control("Survival endpoint", ["PFS", "OS"], default="PFS", key="surv_endpoint") or "PFS"
curves, medians = survival_chart_frames(options, endpoint.lower())
if not curves.empty:
    import altair as alt

    name = "progression-free" if endpoint == "PFS" else "alive"
    st.subheader(f"{'Progression-free' if endpoint == 'PFS' else 'Overall'} survival (model)")
    colour = alt.Color("option:N", title="option", scale=alt.Scale(scheme="category10"))
    lines = alt.Chart(curves).mark_line(interpolate="step-after").encode(
        x=alt.X("days:Q", title="days"), y=alt.Y("survival:Q", title=f"P({name})", scale=alt.Scale(domain=[0, 1])),
        color=colour, tooltip=["option", "days", alt.Tooltip("survival:Q", format=".2f")])
    layers = [lines]
    if not medians.empty:
        # each option's median (dot) and interval (bar) at 50%, nudged apart by 0.02 so equal medians stay visible
        med = medians.assign(at=[0.5 + 0.02 * (i - (len(medians) - 1) / 2) for i in range(len(medians))])
        tip = ["option", alt.Tooltip("label:N", title="median (interval)")]
        layers.append(alt.Chart(med).mark_rule(strokeWidth=3, opacity=0.7).encode(
            x="low:Q", x2="high:Q", y="at:Q", color=colour, tooltip=tip))
        layers.append(alt.Chart(med).mark_point(filled=True, size=50).encode(x="median:Q", y="at:Q", color=colour,
                                                                             tooltip=tip))
    st.altair_chart(alt.layer(*layers).properties(height=340), width="stretch")
    st.caption("Lines: the model's survival curve per option. At 50%: median (dot) with its interval (bar): "
               + "; ".join(f"{r.option} {r.label}" for r in medians.itertuples()) + ".")

cols = st.columns(max(1, len(options)))
for col, o in zip(cols, options, strict=False):
    with col:
        st.markdown(f"### {o.rank}. {o.regimen}")
        label = ACTION_LABELS.get(o.guidance_action, o.guidance_action)
        st.markdown("Guidance: " + _badge(o.guidance_colour, label))
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
            st.markdown(f"{_badge(f.colour, ACTION_LABELS.get(f.action, f.action))} {f.drug}"
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
