"""Patient page: the demo patient, an uploaded record (JSON / Phenopacket) or the clinical form, with an
optional germline VCF (sample chosen from the file) for pharmacogenomic calling; then score.

Layout only: the form's logic is in :mod:`app.patient_form`, the VCF's in :mod:`app.vcf_upload`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.ui import require_user, score, show_error

require_user()
st.title("Patient")

SOURCES = ("Demo patient", "Upload record (JSON / Phenopacket)", "Enter clinical data (form)")


def _set(patient: Any, rec: Any) -> None:
    st.session_state.update(patient=patient, rec=rec, rec_json=rec.to_json(), stored_rec=None, pending_review=None,
                            last_review=None)


def _discard_vcf() -> None:
    staged = st.session_state.pop("vcf_staged", None)
    if staged is not None:
        staged.discard()
    st.session_state.pop("vcf_inspection", None)


# ---------------------------------------------------------------------------------------------- record
def _upload_record() -> Any:
    upload = st.file_uploader("Patient record (our JSON schema or a GA4GH Phenopacket v2 JSON)", type=["json"],
                              key="record_upload")
    if upload is None:
        return None
    from app.core import parse_upload
    from genomics.errors import RecommenderError

    try:
        patient = parse_upload(upload.name, upload.getvalue())
    except RecommenderError as err:
        show_error(err)  # shown right under the file it concerns
        return None
    st.caption(f"Record {patient.patient_id} read. Germline VCF paths inside an uploaded record are not followed: "
               "upload the VCF below.")
    return patient


def _clinical_form() -> Any:
    import pandas as pd

    from app import patient_form as pf
    from recommender import vocab

    state = st.session_state
    saved = state.get("form_values") or {}  # last checked values: the form's defaults when it is shown again

    def pick(options: Any, name: str, default: int | None) -> int | None:
        options = list(options)
        return options.index(saved[name]) if saved.get(name) in options else default

    types = pf.cancer_type_choices()
    code = st.selectbox(pf.FORM_FIELDS["cancer_type"], types, index=pick(types, "cancer_type", 0),
                        format_func=pf.cancer_type_label, key="form_cancer_type",
                        help="Sets the default candidate treatments below.")
    slots: dict[str, Any] = {}

    def slot(key: str) -> None:
        slots[key] = st.empty()

    with st.form("clinical_form"):
        st.markdown("**Patient and diagnosis**")
        c = st.columns(3)
        with c[0]:
            st.text_input(pf.FORM_FIELDS["patient_id"], value=saved.get("patient_id") or "", key="form_patient_id",
                          help="A pseudonym: never the name or the medical record number.")
            slot("patient_id")
            stages = list(pf.STAGE_CHOICES) + ([saved["stage"]] if saved.get("stage") and
                                               saved["stage"] not in pf.STAGE_CHOICES else [])
            st.selectbox(pf.FORM_FIELDS["stage"], stages, index=pick(stages, "stage", None),
                         accept_new_options=True, key="form_stage", placeholder="choose or type")
            slot("stage")
        with c[1]:
            st.number_input(pf.FORM_FIELDS["age"], min_value=0, max_value=120, value=saved.get("age"), step=1,
                            key="form_age")
            slot("age")
            st.text_input(pf.FORM_FIELDS["histology"], value=saved.get("histology") or "", key="form_histology",
                          placeholder="e.g. adenocarcinoma")
            slot("histology")
        with c[2]:
            sexes = ("female", "male", "other", "unknown")
            st.selectbox(pf.FORM_FIELDS["sex"], sexes, index=pick(sexes, "sex", 3), key="form_sex")
            slot("sex")
            st.selectbox(pf.FORM_FIELDS["ecog"], (0, 1, 2, 3, 4), index=pick(range(5), "ecog", None),
                         key="form_ecog")
            slot("ecog")

        st.markdown("**Laboratory values** (leave blank when not measured)")
        lab_cols = st.columns(3)
        saved_labs = saved.get("labs") or {}
        for i, (name, spec) in enumerate(vocab.LABS.items()):
            value, unit = saved_labs.get(name) or (None, spec.unit)
            units = list(spec.units)
            with lab_cols[i % 3]:
                v, u = st.columns([3, 2])
                v.number_input(spec.description, min_value=0.0, value=value, format="%g", key=f"form_lab_{name}")
                u.selectbox(f"unit ({name})", units, index=units.index(unit) if unit in units else 0,
                            key=f"form_lab_unit_{name}")
                slot(pf.lab_field(name))

        st.markdown("**History and medications**")
        c = st.columns(2)
        with c[0]:
            comorbidities = list(dict.fromkeys([*pf.COMORBIDITY_SUGGESTIONS, *(saved.get("comorbidities") or ())]))
            st.multiselect(pf.FORM_FIELDS["comorbidities"], comorbidities,
                           default=saved.get("comorbidities") or [], accept_new_options=True, key="form_comorbidities", placeholder="choose or type")
            slot("comorbidities")
        with c[1]:
            meds = pf.medication_choices()
            st.multiselect(pf.FORM_FIELDS["medications"], meds,
                           default=[m for m in saved.get("medications") or () if m in meds],
                           key="form_medications",
                           help="Co-medications matter for CYP inhibition (phenoconversion).")
            slot("medications")

        st.markdown("**Lifestyle**")
        c = st.columns(3)
        with c[0]:
            smoking = ("unknown", "never", "former", "current")
            st.selectbox(pf.FORM_FIELDS["smoking"], smoking, index=pick(smoking, "smoking", 0), key="form_smoking")
            slot("smoking")
            st.number_input(pf.FORM_FIELDS["pack_years"], min_value=0.0, max_value=300.0,
                            value=saved.get("pack_years"), key="form_pack_years")
            slot("pack_years")
        with c[1]:
            alcohol = ("unknown", "none", "moderate", "heavy")
            st.selectbox(pf.FORM_FIELDS["alcohol"], alcohol, index=pick(alcohol, "alcohol", 0), key="form_alcohol")
            slot("alcohol")
            st.number_input(pf.FORM_FIELDS["alcohol_units_per_week"], min_value=0.0, max_value=500.0,
                            value=saved.get("alcohol_units_per_week"), key="form_alcohol_units_per_week")
            slot("alcohol_units_per_week")
        with c[2]:
            st.number_input(pf.FORM_FIELDS["bmi"], min_value=10.0, max_value=90.0, value=saved.get("bmi"),
                            key="form_bmi")
            slot("bmi")
            activity = ("unknown", "sedentary", "low", "moderate", "high")
            st.selectbox(pf.FORM_FIELDS["physical_activity"], activity,
                         index=pick(activity, "physical_activity", 0), key="form_physical_activity")
            slot("physical_activity")

        st.markdown("**Tumour variants** (gene + protein change; add rows with +)")
        base = pd.DataFrame(pf.editor_rows(saved.get("tumour_variants") or pf.empty_variant_rows()),
                            columns=list(pf.VARIANT_COLUMNS)).astype({"vaf": float})
        for col in ("gene", "protein_change", "variant_type", "fusion_partner"):
            base[col] = base[col].astype(object).where(base[col].notna(), None)
        variants = st.data_editor(
            base, num_rows="dynamic", key="form_tumour_variants", hide_index=True,
            column_config={
                "gene": st.column_config.TextColumn("gene", help="HGNC symbol, e.g. KRAS"),
                "protein_change": st.column_config.TextColumn("protein change", help="e.g. G12D or p.Gly12Asp"),
                "variant_type": st.column_config.SelectboxColumn("type", options=vocab.TUMOUR_VARIANT_TYPES),
                "fusion_partner": st.column_config.TextColumn("fusion partner"),
                "vaf": st.column_config.NumberColumn("VAF", min_value=0.0, max_value=1.0, format="%.2f"),
            })
        slot("tumour_variants")

        st.markdown("**Options to compare**")
        regimens = pf.regimen_choices()
        chosen = (saved.get("candidate_treatments") if saved.get("cancer_type") == code
                  else pf.default_candidates(code))
        st.multiselect(pf.FORM_FIELDS["candidate_treatments"], regimens,
                       default=[r for r in chosen or () if r in regimens], key=f"form_candidates_{code}")
        slot("candidate_treatments")
        slot(pf.GENERAL)
        submitted = st.form_submit_button("Check clinical data", type="primary")

    if submitted:
        values = {k: state.get(f"form_{k}") for k in ("patient_id", "age", "sex", "stage", "histology", "ecog",
                                                      "comorbidities", "medications", "smoking", "pack_years",
                                                      "alcohol", "alcohol_units_per_week", "bmi",
                                                      "physical_activity")}
        values.update(cancer_type=code, candidate_treatments=list(state.get(f"form_candidates_{code}") or ()),
                      tumour_variants=pf.editor_rows(variants),
                      labs={n: (state.get(f"form_lab_{n}"), state.get(f"form_lab_unit_{n}")) for n in vocab.LABS})
        result = pf.patient_from_form(values)
        state["form_values"], state["form_errors"], state["form_patient"] = values, result.errors, result.patient
    for key, messages in (state.get("form_errors") or {}).items():
        (slots.get(key) or slots[pf.GENERAL]).error("; ".join(messages))
    patient = state.get("form_patient")
    if patient is not None:
        st.success(f"Clinical data of {patient.patient_id} are valid. Edits count once checked again.")
    elif state.get("form_errors"):
        st.error("Some clinical data need correcting: see the messages under the fields.")
    return patient


# ---------------------------------------------------------------------------------------------- VCF
def _germline_vcf(record: Any) -> Any:
    """``(staged VCF, sample)``, ``None`` (no VCF) or ``False`` (a VCF that cannot be used)."""
    from app.vcf_upload import UPLOAD_TYPES, inspect_vcf, preselect_index, stage_upload
    from genomics.errors import RecommenderError

    state = st.session_state
    st.subheader("Germline VCF (optional)")
    upload = st.file_uploader("Germline VCF for pharmacogenomics (.vcf, .vcf.gz, .bcf; GRCh38)",
                              type=list(UPLOAD_TYPES), key="vcf_upload")
    if upload is None:
        _discard_vcf()
        st.caption("Without a VCF, pharmacogenomic guidance is not assessed.")
        return None
    staged = stage_upload(state.get("vcf_staged"), upload.name, upload.getvalue(),
                          key=(upload.file_id, upload.name, upload.size))
    state["vcf_staged"] = staged
    cached = state.get("vcf_inspection")
    if cached is None or cached[0] != staged.key:
        try:
            with st.spinner("Checking the VCF..."):
                result: Any = inspect_vcf(staged)
        except RecommenderError as err:
            result = err
        state["vcf_inspection"] = cached = (staged.key, result)
    result = cached[1]
    if isinstance(result, RecommenderError):
        show_error(result)  # right under the uploader
        st.caption("Remove this file or upload a corrected one to score with pharmacogenomics.")
        return False
    preferred = record.germline.sample_id if record is not None and record.germline is not None else None
    index = preselect_index(result.samples, preferred, None if record is None else record.patient_id)
    sample = st.selectbox("Sample in the VCF", result.samples, index=index,
                          key=f"vcf_sample:{upload.file_id}:{preferred or ''}",
                          help="The record's germline sample is pre-selected when the file holds it.")
    if preferred and preferred not in result.samples:
        st.warning(f"The record names germline sample {preferred}, which this VCF does not hold: choose one.")
    s = result.summary(sample)
    missing = "-" if s.missing_rate is None else f"{100 * s.missing_rate:.1f}%"
    st.markdown(
        f"**{result.name}**: build {result.build_text()}; {result.records} records ({result.passed} PASS) on "
        f"{len(result.contigs)} contig(s); {len(result.samples)} sample(s).  \n"
        f"Sample **{sample}**: {s.called} called genotypes ({s.het} het, {s.hom_alt} hom-alt, missing {missing}); "
        f"{s.pgx_positions_called} of {result.pgx_positions_total} pharmacogene defining positions genotyped.")
    for w in result.warnings:
        st.warning(w)
    return staged, sample


# ---------------------------------------------------------------------------------------------- page
# the last choice comes back when the physician returns from another page (widget state does not survive that)
source = st.radio("Source", SOURCES, index=SOURCES.index(st.session_state.get("patient_source_last", SOURCES[0])),
                  horizontal=True, key="patient_source")
st.session_state["patient_source_last"] = source

if source == SOURCES[0]:
    _discard_vcf()
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
    record = _upload_record() if source == SOURCES[1] else _clinical_form()
    germline = _germline_vcf(record)
    ready = record is not None and germline is not False
    if st.button("Score this patient", type="primary", disabled=not ready, key="score_patient"):
        from genomics.errors import RecommenderError

        staged, sample = germline if germline else (None, None)
        try:
            with st.spinner("Scoring..."):
                rec = score(record, germline_vcf=None if staged is None else staged.path, sample=sample)
                _set(record, rec if staged is None else staged.relabel(rec))
        except RecommenderError as err:
            show_error(err if staged is None else staged.rename_error(err))
    if record is None:
        st.caption("Load a record (or check the clinical data) first.")

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
    if rec.pgx_sample:
        vcf_name = (rec.provenance.inputs or {}).get("germline_vcf") or "the germline VCF"
        st.caption(f"Pharmacogenomics called for sample {rec.pgx_sample} of {vcf_name}.")
    else:
        st.caption("No germline VCF: pharmacogenomic guidance not assessed.")
    if rec.top is not None:
        st.success(f"Ranked first: **{rec.top.regimen}** — see **Compare options** for why and the risks.")
    if rec.disagreements:
        st.warning(f"{len(rec.disagreements)} disagreement(s) between model and guidance — see Compare options.")
    with st.expander("Clinical record"):
        st.json(patient.model_dump(mode="json"), expanded=False)
