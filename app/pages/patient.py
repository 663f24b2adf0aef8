"""Patient page: the demo patient, an uploaded record (JSON / Phenopacket) or the clinical form, with an
optional germline VCF (sample chosen from the file) for pharmacogenomic calling, outside PGx calls and a
tumour VCF/MAF (as ``recommender score --vcf --outside-calls --tumour``); then score.

Layout only: the form's logic is in :mod:`app.patient_form`, the files' in :mod:`app.vcf_upload` and
:mod:`app.uploads`; the session in :class:`app.session.AppSession`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.ui import ER_STATUS_CHOICES, app_state, require_user, score, show_error
from recommender.escaping import escape_markdown

require_user()
st.title("Patient")

SOURCES = ("Demo patient", "Upload record (JSON / Phenopacket)", "Enter clinical data (form)")
APP = app_state()


def _refused(upload: Any, allowed: tuple[str, ...], what: str) -> bool:
    """Say in words why an upload with the wrong ending is refused (scoring stays disabled until removed)."""
    from app.uploads import extension_problem

    problem = extension_problem(upload.name, allowed, what)
    if problem is not None:
        st.error(problem)
        return True
    return False


# ---------------------------------------------------------------------------------------------- record
def _upload_record() -> Any:
    upload = st.file_uploader("Patient record (our JSON schema or a GA4GH Phenopacket v2 JSON)",
                              key="record_upload")
    if upload is None:
        return None
    if _refused(upload, (".json",), "a patient record"):
        return False
    from app.core import parse_upload
    from genomics.errors import RecommenderError

    try:
        patient = parse_upload(upload.name, upload.getvalue())
    except RecommenderError as err:
        show_error(err)  # shown right under the file it concerns
        return None
    st.caption(f"Record {escape_markdown(patient.patient_id)} read. Germline VCF paths inside an uploaded record are not followed: "
               "upload the VCF below.")
    return patient


def _clinical_form() -> Any:
    import pandas as pd

    from app import patient_form as pf
    from recommender import vocab

    state = st.session_state
    form = APP.form
    saved = form.values or {}  # last checked values: the form's defaults when it is shown again

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

        st.markdown("**Prior treatment lines** (systemic treatment before this decision; add rows with +)")
        prior_base = pd.DataFrame(saved.get("prior_treatments") or pf.empty_prior_rows(),
                                  columns=list(pf.PRIOR_COLUMNS)).astype({"line": "Int64"})
        for col in ("regimen", "best_response"):
            prior_base[col] = prior_base[col].astype(object).where(prior_base[col].notna(), None)
        priors = st.data_editor(
            prior_base, num_rows="dynamic", key="form_prior_treatments", hide_index=True,
            column_config={
                "line": st.column_config.NumberColumn("line", min_value=1, max_value=20, step=1,
                                                      help="1 = first line; blank: numbered in order"),
                "regimen": st.column_config.SelectboxColumn("regimen", options=pf.regimen_choices()),
                "best_response": st.column_config.SelectboxColumn("best response (RECIST)",
                                                                  options=list(pf.BEST_RESPONSES)),
            })
        slot("prior_treatments")

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
                      prior_treatments=[{k: (None if pf._blank(r.get(k)) else r.get(k)) for k in pf.PRIOR_COLUMNS}
                                        for r in priors.to_dict("records")],
                      labs={n: (state.get(f"form_lab_{n}"), state.get(f"form_lab_unit_{n}")) for n in vocab.LABS})
        result = pf.patient_from_form(values)
        form.values, form.errors, form.patient = values, result.errors, result.patient
    for key, messages in (form.errors or {}).items():
        (slots.get(key) or slots[pf.GENERAL]).error("; ".join(messages))
    patient = form.patient
    if patient is not None:
        st.success("Clinical data are valid. Edits count once checked again.")
        st.text(f"Patient pseudonym: {patient.patient_id}")
    elif form.errors:
        st.error("Some clinical data need correcting: see the messages under the fields.")
    return patient


# ---------------------------------------------------------------------------------------------- files
def _germline_vcf(record: Any) -> Any:
    """``(staged VCF, sample)``, ``None`` (no VCF) or ``False`` (a VCF that cannot be used)."""
    from app.vcf_upload import UPLOAD_TYPES, inspect_vcf, preselect_index, stage_upload
    from genomics.errors import RecommenderError

    uploads = APP.uploads
    st.subheader("Germline VCF (optional)")
    upload = st.file_uploader("Germline VCF for pharmacogenomics (.vcf, .vcf.gz, .bcf; GRCh38)", key="vcf_upload")
    if upload is None:
        uploads.discard_vcf()
        st.caption("Without a VCF, pharmacogenomic guidance is not assessed: every drug with a pharmacogene "
                   "guideline is shown as 'not assessed' with the test to order.")
        return None
    if _refused(upload, UPLOAD_TYPES, "a germline VCF"):
        uploads.discard_vcf()
        return False
    staged = stage_upload(uploads.vcf, upload.name, upload.getvalue(), key=(upload.file_id, upload.name, upload.size))
    uploads.vcf = staged
    cached = uploads.vcf_inspection
    if cached is None or cached[0] != staged.key:
        try:
            with st.spinner("Checking the VCF..."):
                result: Any = inspect_vcf(staged)
        except RecommenderError as err:
            result = err
        uploads.vcf_inspection = cached = (staged.key, result)
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
        st.warning(f"The record names germline sample {escape_markdown(preferred)}, which this VCF does not hold: "
                   "choose one.")
    s = result.summary(sample)
    missing = "-" if s.missing_rate is None else f"{100 * s.missing_rate:.1f}%"
    st.text(f"{result.name}: build {result.build_text()}; {result.records} records ({result.passed} PASS) on "
            f"{len(result.contigs)} contig(s); {len(result.samples)} sample(s).\n"
            f"Sample {sample}: {s.called} called genotypes ({s.het} het, {s.hom_alt} hom-alt, missing {missing}); "
            f"{s.pgx_positions_called} of {result.pgx_positions_total} pharmacogene defining positions genotyped.")
    for w in result.warnings:
        st.warning(w)
    return staged, sample


def _checked_upload(label: str, key: str, allowed: tuple[str, ...], what: str, kind: Any, check: Any,
                    slot_name: str) -> Any:
    """Stage and check one optional file: its check result, ``None`` (no file) or ``False`` (refused)."""
    from app.vcf_upload import stage_upload
    from genomics.errors import RecommenderError

    uploads = APP.uploads
    upload = st.file_uploader(label, key=key)
    current = getattr(uploads, slot_name)
    if upload is None:
        if current is not None:
            current.discard()
            setattr(uploads, slot_name, None)
        return None
    if _refused(upload, allowed, what):
        return False
    staged = stage_upload(current, upload.name, upload.getvalue(), key=(upload.file_id, upload.name, upload.size),
                          kind=kind)
    setattr(uploads, slot_name, staged)
    cache_key = f"_{slot_name}_check"
    cached = getattr(staged, cache_key, None)
    if cached is None:
        try:
            cached = check(staged)
        except RecommenderError as err:
            cached = err
        setattr(staged, cache_key, cached)
    if isinstance(cached, RecommenderError):
        show_error(cached)
        st.caption("Remove this file or upload a corrected one: scoring stays disabled until then.")
        return False
    return cached


def _other_files(has_vcf: bool) -> tuple[Any, Any]:
    """Outside PGx calls and a tumour file: ``(outside calls check, tumour check)``; ``False`` when refused."""
    from app.uploads import (
        OUTSIDE_CALL_TYPES,
        TUMOUR_TYPES,
        StagedOutsideCalls,
        StagedTumour,
        check_outside_calls,
        check_tumour,
    )

    st.subheader("Outside pharmacogenomic results and tumour data (optional)")
    c = st.columns(2)
    with c[0]:
        calls = _checked_upload(
            "Outside PGx calls (.tsv: gene, diplotype, phenotype, activity score, source) — CYP2D6 with copy "
            "number, HLA-A/B, a laboratory's DPYD result", "outside_calls_upload", OUTSIDE_CALL_TYPES,
            "outside pharmacogenomic calls", StagedOutsideCalls, check_outside_calls, "pgx_calls")
        if calls:
            import pandas as pd

            st.dataframe(pd.DataFrame(calls.rows()), hide_index=True, width="stretch")
            if not has_vcf:
                st.error("Outside calls are used together with a germline VCF (as `recommender score --vcf ... "
                         "--outside-calls ...`): upload the VCF too, or remove this file. Scoring stays disabled "
                         "so that these results are not silently left out.")
                calls = False
            else:
                st.caption("Each outside call replaces the VCF call of the same gene.")
    with c[1]:
        tumour = _checked_upload(
            "Tumour somatic VCF or MAF (.vcf, .vcf.gz, .bcf, .maf, .maf.gz; replaces the tumour variants of the "
            "record or form)", "tumour_upload", TUMOUR_TYPES, "a tumour file", StagedTumour, check_tumour, "tumour")
        if tumour:
            genes = ", ".join(tumour.genes()) or "none"
            st.text(f"{tumour.name}: {tumour.file_format.upper()}, {tumour.n_variants} somatic variant(s); "
                    f"genes: {genes}")
            for w in tumour.warnings:
                st.warning(w)
    return calls, tumour


# ---------------------------------------------------------------------------------------------- page
# the last choice comes back when the physician returns from another page (widget state does not survive that)
source = st.radio("Source", SOURCES, index=SOURCES.index(APP.source if APP.source in SOURCES else SOURCES[0]),
                  horizontal=True, key="patient_source")
APP.source = source

if source == SOURCES[0]:
    APP.uploads.discard_all()
    st.write("A synthetic colon-cancer patient with real 1000 Genomes genotypes (NA19625) and a KRAS G12D tumour.")
    if st.button("Load demo patient", type="primary"):
        from genomics.errors import RecommenderError
        from recommender.commands.score import DEMO_PATIENT
        from recommender.schema import load_patient

        try:
            APP.load(load_patient(DEMO_PATIENT), score(demo=True))
        except RecommenderError as err:
            show_error(err)
else:
    record = _upload_record() if source == SOURCES[1] else _clinical_form()
    germline = _germline_vcf(record or None)
    calls, tumour = _other_files(bool(germline))
    ready = bool(record) and germline is not False and calls is not False and tumour is not False
    st.selectbox("Oestrogen receptor (ER) status (breast cancer; decides endocrine-therapy eligibility)",
                 ER_STATUS_CHOICES, key="er_status",
                 help="Immunohistochemistry result. Not given: tamoxifen and other endocrine therapy stay "
                      "'eligibility not established' and are not ranked first.")
    if st.button("Score this patient", type="primary", disabled=not ready, key="score_patient"):
        from genomics.errors import RecommenderError

        staged, sample = germline if germline else (None, None)
        try:
            with st.spinner("Scoring..."):
                rec = score(record, germline_vcf=None if staged is None else staged.path, sample=sample,
                            outside_calls=None if not calls else APP.uploads.pgx_calls.path,
                            tumour=None if not tumour else tumour.profile,
                            er_status=st.session_state.get("er_status"))
                for upload in (staged, APP.uploads.pgx_calls if calls else None):
                    rec = rec if upload is None else upload.relabel(rec)
                APP.load(record, rec)
        except RecommenderError as err:
            show_error(err if staged is None else staged.rename_error(err))
    if not record:
        st.caption("Load a record (or check the clinical data) first.")
    elif not ready:
        st.caption("Scoring is disabled until the refused file above is removed or replaced.")

patient = APP.patient
rec = APP.recommendation
if patient is not None and rec is not None:
    from app.views import patient_summary_line

    st.subheader("Loaded patient")
    st.text(f"Pseudonym: {patient.patient_id}")
    st.markdown(patient_summary_line(patient))
    cols = st.columns(2)
    cols[0].metric("Options scored", len(rec.options))
    cols[1].metric("Stage", str(getattr(patient.diagnosis, "stage", None) or "not given"))
    if rec.pgx_sample:
        vcf_name = (rec.provenance.inputs or {}).get("germline_vcf") or "the germline VCF"
        st.caption(f"Pharmacogenomics called for sample {escape_markdown(rec.pgx_sample)} of {escape_markdown(vcf_name)}.")
    else:
        st.warning("No germline genotypes: pharmacogenomic guidance is **not assessed** — the drugs that have a "
                   "pharmacogene guideline are marked with the test to order (see Compare options).")
    if rec.top is not None:
        st.success(f"Ranked first: **{escape_markdown(rec.top.regimen)}** — see **Compare options** for why and the risks.")
    if rec.disagreements:
        st.warning(f"{len(rec.disagreements)} disagreement(s) between model and guidance — see Compare options.")
    with st.expander("Clinical record"):
        st.json(patient.model_dump(mode="json"), expanded=False)
