"""Pharmacogenomics page, drug first as PharmCAT's report: the genes that matter for this patient's candidate
drugs (allele function, phenotype, guideline, action), then the patient's other genes, coverage and what
could not be called and why. Each guideline text is shown once (a drug in several options is one entry)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.core import coverage_rows, gene_rows
from app.ui import current, require_user
from app.views import badge, drug_gene_groups, flag_text, gene_status_words, pmid_links
from recommender.escaping import escape_markdown

require_user()
patient, rec, _ = current()


def _table(rows: list) -> None:
    """A static table: every row and column shown, long text wrapped (nothing cut off, nothing to scroll).
    Cells are shown as text ("-" would become a list bullet in the table's markdown)."""
    frame = pd.DataFrame(rows).astype(str).replace({"-": "–", "None": "–"})
    st.table(frame, hide_index=True)


st.title("Pharmacogenomics")
if rec.pgx_sample:
    st.caption(f"Germline sample {escape_markdown(rec.pgx_sample)}, genome build {rec.provenance.genome_build}.")
else:
    st.warning("**Not assessed**: no germline genotypes were given for this patient. Every candidate drug "
               "with a pharmacogene guideline is amber 'not assessed' with the test to order below — "
               "never green, because the untested genotype could be one the guideline says to avoid.")

groups, rest = drug_gene_groups(rec)
st.subheader("Genes that matter for the candidate drugs")
if not groups:
    st.info("No candidate drug was checked against the pharmacogenomic guidelines.")
shown_quotes: set[tuple[str, str, str]] = set()
for g in groups:
    f = g.flag
    with st.container(border=True, key=f"pgx_drug_{g.drug.replace(' ', '_')}"):
        st.markdown(f"#### {g.drug} &nbsp; {badge(f.colour, flag_text(f))}")
        st.caption("In: " + ", ".join(dict.fromkeys(g.options)))
        genes = [x for x in g.genes if not isinstance(x, str)]
        gaps = [x for x in g.genes if isinstance(x, str)]
        if genes:
            _table(gene_rows(rec, genes))
        for name in gaps:
            st.markdown(f"{badge('amber', 'not assessed')} **{name}** — "
                        + (getattr(f, "gene_states", {}) or {}).get(name, "not genotyped"))
        for advice in getattr(f, "testing_advice", ()):
            st.info(f"**Before treatment ({', '.join(advice.genes)}):** {advice.advice}"
                    + (f"  \nSources: {', '.join(advice.label_sources)}" if advice.label_sources else ""))
            for gl in advice.guidelines:
                name = gl.get("name") or gl.get("source") or "guideline"
                url = gl.get("url")
                st.caption((f"[{name}]({url})" if url and str(url).startswith("https://") else name)
                           + (f" — {pmid_links(gl.get('pmids') or ())}" if gl.get("pmids") else ""))
        for q in f.recommendations:
            key = (q.source, q.guideline, q.text_plain)
            if key in shown_quotes:
                continue
            shown_quotes.add(key)
            with st.expander(f"{q.source} — {q.guideline}: guideline text (verbatim)"):
                st.text(q.text_plain)
                st.caption(f"strength {q.strength or '-'}; version {q.version or '-'}")
                if q.pmids:
                    st.markdown(pmid_links(q.pmids))
        for msg in dict.fromkeys((*f.messages, *f.notes)):
            st.caption(msg)
        if f.action == "no_guidance" and not f.recommendations:
            st.caption("No CPIC or DPWG guideline for this drug.")

if rest:
    st.subheader("The patient's other pharmacogenes")
    st.caption("Called from the germline data; no candidate drug of this patient has a guideline for them.")
    _table(gene_rows(rec, rest))

uncalled = [g for g in rec.pharmacogenes if g.status not in ("called", "outside_call")]
if uncalled:
    st.subheader("Not called")
    for g in uncalled:
        st.warning(f"**{g.gene}**: " + gene_status_words(g.status, g.note))
cov = coverage_rows(rec)
if cov:
    with st.expander("Coverage of the positions each gene's alleles need"):
        _table(cov)
