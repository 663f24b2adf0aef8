"""What the pages show (AppTest, no browser): a form patient without genotype and without tumour data, the
PGx page drug first, outside-call and tumour uploads, prior treatment lines, a refused upload."""

from __future__ import annotations

import pytest

from tests.app.conftest import REPO_ROOT, button, new_app, sign_in, texts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

FORM = "Enter clinical data (form)"
DEMO_VCF = REPO_ROOT / "genomics" / "data" / "demo" / "demo_pgx_panel.vcf.gz"


def _form_patient(db, cancer_type: str = "COAD", patient_id: str = "FORM-NO-GT", ecog: int = 1, **extra):
    """Sign in, fill the clinical form for a patient (no VCF, no tumour variants; COAD by default) and check it."""
    _, _, users = db
    at = sign_in(new_app(), *users["physician"])
    at.radio(key="patient_source").set_value(FORM).run()
    at.selectbox(key="form_cancer_type").set_value(cancer_type).run()
    at.text_input(key="form_patient_id").input(patient_id)
    at.number_input(key="form_age").set_value(58)
    at.selectbox(key="form_ecog").set_value(ecog)
    for key, value in extra.items():
        getattr(at, key[0])(key=key[1]).set_value(value)
    button(at, "Check clinical data").click()
    at.run()
    assert not at.exception, at.exception
    return at


def test_form_patient_without_genotype_is_never_green_and_eligibility_is_named(db):
    at = _form_patient(db)
    button(at, "Score this patient").click()
    at.run()
    assert not at.exception, at.exception
    rec = at.session_state["app"].recommendation
    assert rec.pgx_sample is None and "DPYD" in rec.missing_genes
    assert "not assessed" in texts(at)

    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    page = texts(at)
    top = rec.top
    # the summary card: the fluoropyrimidine is amber "not assessed: DPYD not genotyped", never a green "none"
    assert ":orange-badge[not assessed: DPYD not genotyped]" in page
    assert ":green-badge[none]" not in page and ":green-badge" not in page.split("Main drivers")[0]
    assert f"Ranked first: {top.regimen}" in page and top.regimen != "FOLFOX+panitumumab"
    # the patient summary line: integer age, ECOG, no co-medications
    assert "58-year-old" in page and "58.0" not in page and "ECOG 1" in page
    assert "co-medications: none recorded" in page
    # eligibility not established, with the test, for the anti-EGFR option; testing advice before treatment
    assert "eligibility not established" in page and "KRAS" in page
    assert "Before treatment:" in page and "DPYD" in page
    assert "No tumour variants were given" in page
    for code in ("no_guidance", "not_called", "no_data", "GREY", "not_assessed"):
        assert code not in page, code

    at.switch_page("pages/pharmacogenomics.py").run()
    assert not at.exception, at.exception
    page = texts(at)
    assert "Not assessed" in page and "fluorouracil" in page
    assert ":orange-badge[not assessed]" in page and ":green-badge" not in page


def test_prior_lines_in_the_form_reach_the_patient_and_the_summary_line(db):
    from app.patient_form import patient_from_form

    _, _, users = db
    at = sign_in(new_app(), *users["physician"])
    # rows as the prior-treatment editor holds them (AppTest cannot type into a data editor's cells)
    at.session_state["app"].form.values = {
        "patient_id": "FORM-PRIOR", "cancer_type": "COAD", "candidate_treatments": ["FOLFIRI"],
        "prior_treatments": [{"line": 1, "regimen": "FOLFOX", "best_response": "PD"}]}
    at.radio(key="patient_source").set_value(FORM).run()
    button(at, "Check clinical data").click()
    at.run()
    assert not at.exception, at.exception
    patient = at.session_state["app"].form.patient
    assert [(p.line, p.treatment.regimen, p.best_response) for p in patient.history.prior_treatments] == [
        (1, "FOLFOX", "PD")]
    button(at, "Score this patient").click()
    at.run()
    assert "prior lines: 1. FOLFOX (PD)" in texts(at)
    bad = patient_from_form({"patient_id": "P", "cancer_type": "COAD", "candidate_treatments": ["FOLFIRI"],
                             "prior_treatments": [{"line": 1, "regimen": "no-such-regimen"}]})
    assert "prior_treatments" in bad.errors


def test_wrong_extension_upload_says_why_and_disables_scoring_until_removed(db):
    at = _form_patient(db)
    assert not button(at, "Score this patient").disabled
    at.file_uploader(key="tumour_upload").set_value(("tumour.xlsx", b"PK\x03\x04", "application/octet-stream"))
    at.run()
    assert not at.exception, at.exception
    msg = " ".join(e.value for e in at.error)
    assert "tumour.xlsx" in msg and "must end in" in msg and ".maf" in msg
    assert button(at, "Score this patient").disabled
    at.file_uploader(key="tumour_upload").clear()
    at.run()
    assert not button(at, "Score this patient").disabled


def test_outside_calls_need_the_vcf_and_are_used_with_it(db, tmp_path):
    at = _form_patient(db)
    tsv = b"gene\tdiplotype\tphenotype\tactivity_score\tsource\nCYP2D6\t*1/*2x2\t\t\tStargazer 2.0\n"
    at.file_uploader(key="outside_calls_upload").set_value(("calls.tsv", tsv, "text/tab-separated-values"))
    at.run()
    assert not at.exception, at.exception
    assert "used together with a germline VCF" in " ".join(e.value for e in at.error)
    assert button(at, "Score this patient").disabled  # never silently left out
    at.file_uploader(key="vcf_upload").set_value(("germline.vcf.gz", DEMO_VCF.read_bytes(), "application/gzip"))
    at.run()
    assert not at.exception, at.exception
    assert not button(at, "Score this patient").disabled
    button(at, "Score this patient").click()
    at.run()
    assert not at.exception, at.exception
    rec = at.session_state["app"].recommendation
    cyp2d6 = next(g for g in rec.pharmacogenes if g.gene == "CYP2D6")
    assert cyp2d6.status == "outside_call" and "*2x2" in (cyp2d6.diplotype or "")
    assert "gtr-vcf-" not in at.session_state["app"].recommendation_json


def test_bad_outside_calls_file_names_the_upload_and_line(db):
    at = _form_patient(db)
    at.file_uploader(key="outside_calls_upload").set_value(("lab.tsv", b"NOTAGENE\t*1/*1\n", "text/plain"))
    at.run()
    assert not at.exception, at.exception
    msg = " ".join(e.value for e in at.error).replace("\\", "")
    assert "lab.tsv" in msg and "line 1" in msg and "gtr-vcf-" not in msg
    assert button(at, "Score this patient").disabled


def test_tumour_maf_upload_is_read_and_scored(db, tmp_path):
    maf = ("Hugo_Symbol\tChromosome\tStart_Position\tEnd_Position\tReference_Allele\tTumor_Seq_Allele2\t"
           "Variant_Classification\tVariant_Type\tHGVSp_Short\tTumor_Sample_Barcode\tNCBI_Build\n"
           "KRAS\tchr12\t25245350\t25245350\tC\tT\tMissense_Mutation\tSNP\tp.G12D\tT1\tGRCh38\n")
    at = _form_patient(db)
    at.file_uploader(key="tumour_upload").set_value(("tumour.maf", maf.encode(), "text/plain"))
    at.run()
    assert not at.exception, at.exception
    assert any("1 somatic variant" in t.value and "KRAS" in t.value for t in at.text)
    button(at, "Score this patient").click()
    at.run()
    assert not at.exception, at.exception
    rec = at.session_state["app"].recommendation
    assert any(b.gene == "KRAS" for b in rec.tumour_findings)
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    page = texts(at)
    assert "Tumour variants and biomarkers" in page and "badge[level" in page


@pytest.mark.parametrize("er, status", [("negative", "contraindicated"), ("not given", "not_established"),
                                        ("positive", "eligible")])
def test_er_status_field_decides_tamoxifen_eligibility_for_a_breast_form_patient(db, er, status):
    """The app had no way to give the ER status, so endocrine therapy could never be established in the app."""
    at = _form_patient(db, cancer_type="BRCA", patient_id="FORM-ER", ecog=0)
    at.selectbox(key="er_status").set_value(er)
    button(at, "Score this patient").click()
    at.run()
    assert not at.exception, at.exception
    rec = at.session_state["app"].recommendation
    opt = next(o for o in rec.options if o.regimen == "tamoxifen")
    assert [c.status for c in opt.eligibility_checks if c.drug == "tamoxifen"] == [status]
    if status != "eligible":
        assert rec.top.regimen != "tamoxifen"
