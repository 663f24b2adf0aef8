"""Pharmacogenomics page: gene -> diplotype -> phenotype, coverage, what could not be called and why."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.core import LIGHT, coverage_rows, gene_rows
from app.ui import current, require_user

require_user()
patient, rec, _ = current()
st.title("Pharmacogenomics")
if rec.pgx_sample:
    st.caption(f"Germline sample {rec.pgx_sample}, genome build {rec.provenance.genome_build}.")

rows = gene_rows(rec)
if not rows:
    st.info("No pharmacogenomic calls: no germline VCF was given for this patient, so every drug shows "
            "'no guidance' for lack of data, not because it is safe.")
else:
    st.subheader("Genotype → phenotype")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    uncalled = [r for r in rows if r["status"] not in ("called", "outside_call")]
    if uncalled:
        st.subheader("Not called")
        for r in uncalled:
            st.warning(f"**{r['gene']}**: {r['status']} — {r['note'] or 'no reason given'}")
    cov = coverage_rows(rec)
    if cov:
        with st.expander("Coverage of the positions each gene's alleles need"):
            st.dataframe(pd.DataFrame(cov), hide_index=True, width="stretch")

st.subheader("Guidance per drug")
seen = set()
for o in rec.options:
    for f in o.pgx:
        if f.drug in seen:
            continue
        seen.add(f.drug)
        genes = ", ".join(f.genes) or "-"
        st.markdown(f"{LIGHT.get(f.colour, LIGHT['grey'])} **{f.drug}** ({genes}): {f.action}"
                    + (f"; not genotyped: {', '.join(f.missing_genes)}" if f.missing_genes else ""))
        for q in f.recommendations:
            with st.expander(f"{f.drug}: {q.source} {q.guideline} (verbatim)"):
                st.text(q.text_plain)
                st.caption(f"strength {q.strength or '-'}; PMIDs {', '.join(q.pmids) or '-'}; version {q.version or '-'}")
