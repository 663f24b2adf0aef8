"""Compare options page: the candidate treatments side by side, with guidance, eligibility, evidence and
disagreements; survival in months, toxicity as a chart. States and words come from the result
(:mod:`recommender.recommendation`); layout only here (formatting in :mod:`app.views`)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app.core import SORT_KEYS, fmt_pct, guidance_style, option_rows, pfs_of, sort_options, top_toxicities
from app.ui import current, require_user
from app.views import (
    badge,
    curves_indistinguishable,
    evidence_badge,
    flag_text,
    months,
    patient_summary_line,
    pmid_links,
    rank_colours,
    survival_frames,
    toxicity_frame,
)
from recommender.escaping import escape_markdown

require_user()
patient, rec, _ = current()
st.title("Compare options")
if patient is not None:
    st.markdown(patient_summary_line(patient))


def _guidance_badge(o: Any) -> str:
    from recommender.vocab import GUIDANCE_LABELS as ACTION_LABELS

    label = o.guidance_label or ACTION_LABELS.get(o.guidance_action, o.guidance_action)
    return badge(o.guidance_colour, label)


def _eligibility_lines(o: Any) -> list[str]:
    """Badges of biomarker eligibility (nothing for an option without a biomarker-restricted drug)."""
    lines = []
    for c in o.eligibility_checks:
        text = c.label or c.status.replace("_", " ")
        lines.append(f"{badge(c.colour, text)} {c.drug}" + (f" — {escape_markdown(c.reason)}" if c.reason else ""))
    return lines


def _variant_evidence_lines(o: Any) -> list[str]:
    """BRCA1/2 variants beside PARP-inhibitor and platinum options: loss of function, or a VUS with its
    variant-effect probability and interval (amber, "confirm"; never green on a VUS)."""
    lines = []
    for e in getattr(o, "variant_evidence", ()):
        what = escape_markdown(f"{e.source} {e.gene} {e.variant} ({e.consequence or 'consequence not assessed'})")
        if e.supports == "loss_of_function":
            lines.append(f"{badge('green', 'loss of function')} {what}")
            continue
        num = ("not assessed" if e.probability is None else
               f"P={e.probability:.2f} ({e.interval[0]:.2f}–{e.interval[1]:.2f})")
        tag = "VUS predicted pathogenic: confirm" if e.supports == "predicted_pathogenic" else "VUS"
        lines.append(f"{badge('amber', tag)} {what}: variant-effect evidence {num}; parts contributing: "
                     f"{escape_markdown(', '.join(e.contributing_parts) or 'none')}; confirm by clinical classification")
    return lines


def _pgx_lines(o: Any) -> list[str]:
    """One line per drug of the option: its PGx state in words (not assessed is amber with the genes)."""
    return [f"{badge(f.colour, flag_text(f))} {f.drug}" for f in o.pgx]


def _summary_card(top: Any) -> None:
    """Which option, why, and what is the risk: the first-ranked option in one bordered box."""
    m = top.model
    with st.container(border=True, key="top_option"):
        st.markdown(f"#### Ranked first: {escape_markdown(top.regimen)} &nbsp; {_guidance_badge(top)}")
        st.caption(escape_markdown(", ".join(top.drugs)))
        cols = st.columns(4)
        r = m.response if m.available else None
        cols[0].metric("Response probability", fmt_pct(r.probability) if r else "-")
        if r is not None and r.low is not None and r.high is not None:
            cols[0].caption(f"interval {fmt_pct(r.low)}–{fmt_pct(r.high)}")
        s = pfs_of(top)
        cols[1].metric("PFS median", "-" if s is None else "not reached" if s.median_days is None
                       else months(s.median_days))
        if s is not None and s.low is not None and s.high is not None:
            cols[1].caption(f"interval {months(s.low)}–{months(s.high)}")
        tox = top_toxicities(top, 1)
        cols[2].metric("Highest severe-toxicity risk", fmt_pct(tox[0].probability) if tox else "-")
        if tox:
            t = tox[0]
            cols[2].caption(f"{t.term} (grade ≥3)" + (f", interval {fmt_pct(t.low)}–{fmt_pct(t.high)}"
                                                        if t.low is not None and t.high is not None else ""))
        with cols[3]:
            st.markdown("**Pharmacogenomics**")
            lines = [line for f, line in zip(top.pgx, _pgx_lines(top), strict=False) if f.action != "no_guidance"]
            if lines:
                st.markdown("  \n".join(lines))
            unguided = [f.drug for f in top.pgx if f.action == "no_guidance"]
            if unguided:
                st.caption("No pharmacogenomic guideline: " + ", ".join(unguided))
            if not top.pgx:
                st.caption("No drug of this option was checked.")
            st.markdown("**Biomarker eligibility**")
            elig = _eligibility_lines(top)
            st.markdown("  \n".join(elig) if elig else "no biomarker-restricted drug")
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

if getattr(rec, "missing_genes", ()):
    st.warning("**Pharmacogenomics not assessed** for " + ", ".join(rec.missing_genes)
               + ": the drugs whose guideline needs these genes are amber, not green, until they are tested.")

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

st.dataframe(guidance_style(pd.DataFrame(option_rows(options))), hide_index=True, width="stretch",
             column_config={"guidance": st.column_config.TextColumn("guidance", width="large"),
                            "eligibility": st.column_config.TextColumn("eligibility", width="large")})

names, palette = rank_colours(rec.options)

# ---------------------------------------------------------------------------------------------- survival
endpoint = st.segmented_control("Survival endpoint", ["PFS", "OS"], default="PFS", key="surv_endpoint") or "PFS"
curves, medians = survival_frames(options, endpoint.lower())
title = f"{'Progression-free' if endpoint == 'PFS' else 'Overall'} survival (model)"
if not curves.empty:
    import altair as alt

    st.subheader(title)
    if curves_indistinguishable(options, endpoint.lower()):
        st.info(f"The model predicts the same {endpoint} curve for every option (within 2 percentage points at "
                "every time): it does not separate these options on survival, so one curve is drawn. Decide on "
                "the other criteria. Median " + "; ".join(f"{r.option} {r.label}" for r in medians.itertuples())
                + ".")
        curves = curves[curves["option"] == curves["option"].iloc[0]].assign(option="all options")
        colour = alt.Color("option:N", title="option", scale=alt.Scale(range=["#555555"]))
    else:
        colour = alt.Color("option:N", title="option (rank order)", sort=names,
                           scale=alt.Scale(domain=names, range=palette))
    name = "progression-free" if endpoint == "PFS" else "alive"
    base = alt.Chart(curves)
    band = base.mark_area(opacity=0.15, interpolate="step-after").encode(
        x=alt.X("months:Q", title="months"), y=alt.Y("low:Q", title=f"P({name})", scale=alt.Scale(domain=[0, 1])),
        y2="high:Q", color=colour)
    lines = base.mark_line(interpolate="step-after").encode(
        x="months:Q", y="survival:Q", color=colour,
        tooltip=["option", alt.Tooltip("months:Q", format=".1f"), alt.Tooltip("survival:Q", format=".2f")])
    layers = [band, lines]
    if not medians.empty and not curves_indistinguishable(options, endpoint.lower()):
        med = medians.assign(at=[0.5 + 0.02 * (i - (len(medians) - 1) / 2) for i in range(len(medians))])
        tip = ["option", alt.Tooltip("label:N", title="median (interval)")]
        layers.append(alt.Chart(med).mark_rule(strokeWidth=3, opacity=0.8).encode(
            x="low:Q", x2="high:Q", y="at:Q", color=colour, tooltip=tip))
        layers.append(alt.Chart(med).mark_point(filled=True, size=50).encode(x="median:Q", y="at:Q", color=colour,
                                                                             tooltip=tip))
    st.altair_chart(alt.layer(*layers).properties(height=340), width="stretch")
    st.caption("Lines: the model's survival curve per option, coloured by rank (first-ranked first in the "
               "legend). Shaded band: the curve stretched to the interval of its median. At 50%: median (dot) "
               "with its interval (bar), in months: "
               + "; ".join(f"{r.option} {r.label}" for r in medians.itertuples()) + ".")

# ---------------------------------------------------------------------------------------------- toxicity
tox = toxicity_frame(options)
if not tox.empty:
    import altair as alt

    st.subheader("Severe toxicity (grade ≥3 risk, model)")
    colour = alt.Color("option:N", title="option (rank order)", sort=names, scale=alt.Scale(domain=names,
                                                                                           range=palette))
    y = alt.Y("term:N", title="CTCAE term", axis=alt.Axis(labelLimit=320),
              sort=list(dict.fromkeys(tox.sort_values("risk", ascending=False)["term"])))
    offset = alt.YOffset("option:N", sort=names)
    tip = ["option", "term", alt.Tooltip("label:N", title="risk (interval)")]
    rules = alt.Chart(tox).mark_rule(strokeWidth=2).encode(
        x=alt.X("low:Q", title="risk of a grade ≥3 event", axis=alt.Axis(format="%")), x2="high:Q", y=y,
        yOffset=offset, color=colour, tooltip=tip)
    dots = alt.Chart(tox).mark_point(filled=True, size=60).encode(x="risk:Q", y=y, yOffset=offset, color=colour,
                                                                  tooltip=tip)
    st.altair_chart(alt.layer(rules, dots).properties(height=max(160, 34 * tox["term"].nunique())),
                    width="stretch")
    st.caption("Dot: the predicted risk of a grade ≥3 event of the CTCAE term; bar: its interval.")

# ---------------------------------------------------------------------------------------------- tumour
if rec.tumour_findings or getattr(rec, "tumour_vus", ()):
    st.subheader("Tumour variants and biomarkers")
    for b in rec.tumour_findings:
        level = b.level_for_patient or b.evidence_level
        pmids = [str(c.get("pmid")) for c in b.citations if isinstance(c, dict) and c.get("pmid")]
        st.markdown(f"{evidence_badge(level)} **{b.finding}** — {b.direction}"
                    + (f" to {', '.join(b.therapies)}" if b.therapies else "")
                    + (f" ({b.source})" if b.source else "") + (f" — {pmid_links(pmids)}" if pmids else ""))
    if getattr(rec, "tumour_vus", ()):
        st.caption("Variants of unknown significance: " + ", ".join(
            str(v.get("finding") or v.get("gene") or "?") for v in rec.tumour_vus))
else:
    st.info("No tumour variants were given: biomarker-restricted treatments are 'eligibility not established' "
            "until the tumour is tested.")

# ---------------------------------------------------------------------------------------------- per option
cols = st.columns(max(1, len(options)))
for col, o in zip(cols, options, strict=False):
    with col:
        st.markdown(f"### {o.rank}. {escape_markdown(o.regimen)}")
        st.markdown("Guidance: " + _guidance_badge(o))
        elig = _eligibility_lines(o)
        if elig:
            st.markdown("  \n".join(elig))
        ve = _variant_evidence_lines(o)
        if ve:
            st.markdown("**BRCA1/2 variant evidence**  \n" + "  \n".join(ve))
        m = o.model
        if m.available and m.response is not None:
            r = m.response
            st.metric("Response probability", fmt_pct(r.probability))
            if r.low is not None and r.high is not None:
                st.caption(f"interval {fmt_pct(r.low)}–{fmt_pct(r.high)}")
        s = pfs_of(o)
        if s is not None:
            st.metric("PFS median", "not reached" if s.median_days is None else months(s.median_days))
            if s.low is not None and s.high is not None:
                st.caption(f"interval {months(s.low)}–{months(s.high)}")
        if not m.available:
            st.caption(f"No model numbers: {m.reason}")
        tox_o = top_toxicities(o)
        if tox_o:
            st.markdown("**Severe toxicity (grade ≥3)**")
            for t in tox_o:
                st.markdown(f"- {t.term}: {fmt_pct(t.probability)}"
                            + (f" ({fmt_pct(t.low)}–{fmt_pct(t.high)})" if t.low is not None and t.high is not None
                               else ""))
        st.markdown("**Pharmacogenomics**")
        for f, line in zip(o.pgx, _pgx_lines(o), strict=False):
            st.markdown(line)
            for advice in getattr(f, "testing_advice", ()):
                st.caption(f"Before treatment: {advice.advice}")
            if f.recommendations or f.messages or f.notes:
                with st.expander(f"{f.drug}: guidance (verbatim)"):
                    for q in f.recommendations:
                        st.markdown(f"**{q.source} — {q.guideline}** (strength: {q.strength or '-'}; "
                                    f"version {q.version or '-'})" + (f"  \n{pmid_links(q.pmids)}" if q.pmids
                                                                       else ""))
                        st.text(q.text_plain)
                    for msg in (*f.messages, *f.notes):
                        st.caption(msg)
        if o.biomarkers:
            st.markdown("**Biomarker evidence**")
            for b in o.biomarkers:
                st.markdown(f"- {evidence_badge(b.level_for_patient or b.evidence_level)} {b.finding}: "
                            f"{b.direction} ({b.source})")
        if m.available and m.response is not None and m.response.drivers:
            with st.expander("Drivers of the response prediction"):
                for drv in m.response.drivers:
                    st.markdown(f"- {drv}")
        details = [] if not m.available or m.response is None else list(m.response.driver_details)
        for s_ in (m.survival if m.available else ()):
            details += [f"{s_.endpoint.upper()}: {d}" for d in s_.driver_details]
        for t_ in (m.toxicity if m.available else ()):
            details += [f"{t_.term}: {d}" for d in getattr(t_, "driver_details", ())]
        if details:
            with st.expander("Model details (raw feature contributions)"):
                st.text("\n".join(details))
        for w in o.warnings:
            st.caption(escape_markdown(w))
        if o.rank_reason:
            st.caption(o.rank_reason)

for w in rec.warnings:
    st.caption(f"Note: {escape_markdown(w)}")
