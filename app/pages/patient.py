"""Patient page: load the demo patient or upload a patient JSON / GA4GH Phenopacket, then score it."""

from __future__ import annotations

import streamlit as st

from app.ui import require_user, score, show_error

require_user()
st.title("Patient")


def _set(patient, rec) -> None:
    st.session_state.update(patient=patient, rec=rec, rec_json=rec.to_json(), stored_rec=None, pending_review=None,
                            last_review=None)


source = st.radio("Source", ["Demo patient", "Upload JSON or Phenopacket"], horizontal=True, key="patient_source")

if source == "Demo patient":
    st.write("A synthetic colon-cancer patient with real 1000 Genomes genotypes (NA19625) and a KRAS G12D tumour.")
    if st.button("Load demo patient", type="primary"):
        from genomics.errors import RecommenderError
        from recommender.commands.score import DEMO_PATIENT
        from recommender.schema import load_patient

        try:
            _set(load_patient(DEMO_PATIENT), score(demo=True))
        except RecommenderError as err:
            show_error(err)
else:
    upload = st.file_uploader("Patient record (our JSON schema or a GA4GH Phenopacket v2 JSON)", type=["json"])
    if upload is not None:
        from app.core import parse_upload
        from genomics.errors import RecommenderError

        try:
            patient = parse_upload(upload.name, upload.getvalue())
        except RecommenderError as err:
            show_error(err)  # shown right under the file it concerns
        else:
            if st.button("Score this patient", type="primary"):
                try:
                    with st.spinner("Scoring..."):
                        _set(patient, score(patient))
                except RecommenderError as err:
                    show_error(err)
            st.caption("Germline VCF paths inside an uploaded record are not followed; pharmacogenomic calls need "
                       "the VCF on the server (CLI: `recommender score PATIENT.json --vcf FILE`).")

patient = st.session_state.get("patient")
rec = st.session_state.get("rec")
if patient is not None and rec is not None:
    st.subheader(f"Loaded: {patient.patient_id}")
    d = patient.diagnosis
    demo = patient.demographics
    cols = st.columns(4)
    cols[0].metric("Cancer type", getattr(d, "cancer_type", None) or "-")
    cols[1].metric("Stage", str(getattr(d, "stage", None) or "-"))
    cols[2].metric("Age", str(getattr(demo, "age", None) or "-"))
    cols[3].metric("Options scored", len(rec.options))
    if rec.top is not None:
        st.success(f"Ranked first: **{rec.top.regimen}** — see **Compare options** for why and the risks.")
    if rec.disagreements:
        st.warning(f"{len(rec.disagreements)} disagreement(s) between model and guidance — see Compare options.")
    with st.expander("Clinical record"):
        st.json(patient.model_dump(mode="json"), expanded=False)
