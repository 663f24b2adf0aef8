"""Patient page: record upload, clinical form and germline VCF with sample choice (AppTest, no browser),
and the Streamlit-free VCF handling of ``app.vcf_upload`` on real files (the demo VCF and files made from it).
"""

from __future__ import annotations

import gzip
import json
import re
import stat
from pathlib import Path

import pytest

from app.vcf_upload import StagedVcf, inspect_vcf, preselect_index, stage_upload
from genomics.errors import GenomeBuildError, VcfError
from recommender.commands.score import DEMO_PATIENT
from tests.app.conftest import REPO_ROOT, button, new_app, sign_in, texts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

DEMO_VCF = REPO_ROOT / "genomics" / "data" / "demo" / "demo_pgx_panel.vcf.gz"
DEMO_SAMPLES = ["HG00096", "HG00171", "HG00403", "HG00553", "NA18486", "NA18942", "NA19625", "NA20845"]
UPLOAD, FORM = "Upload record (JSON / Phenopacket)", "Enter clinical data (form)"


# ------------------------------------------------------------------------------------ files made from the demo VCF
def _demo_text() -> str:
    return gzip.decompress(DEMO_VCF.read_bytes()).decode()


def _split(text: str) -> tuple[list[str], list[str]]:
    lines = text.splitlines(True)
    return [x for x in lines if x.startswith("#")], [x for x in lines if not x.startswith("#")]


def _cut_text(near: int, keep: int) -> bytes:
    """The demo VCF as text, cut ``keep`` characters into the record line after offset ``near``."""
    text = _demo_text()
    start = text.index("\nchr", near) + 1
    return text[: start + keep].encode()


def grch37_vcf() -> bytes:
    """The demo header with GRCh37 contig lengths, and its first 200 records."""
    from genomics.vcf import GRCH37_LENGTHS

    header, body = _split(_demo_text())
    out = []
    for line in header:
        m = re.match(r"##contig=<ID=(chr)?(\w+),length=(\d+)", line)
        if m and m.group(2) in GRCH37_LENGTHS:
            line = line.replace(f"length={m.group(3)}", f"length={GRCH37_LENGTHS[m.group(2)]}")
        out.append(line)
    return ("".join(out) + "".join(body[:200])).encode()


def malformed_vcf() -> bytes:
    """Record 21 has a non-numeric position."""
    header, body = _split(_demo_text())
    cols = body[20].split("\t")
    cols[1] = "12x4"
    return ("".join(header) + "".join(body[:20]) + "\t".join(cols) + "".join(body[21:60])).encode()


# ------------------------------------------------------------------------------------ app.vcf_upload on real files
def test_demo_vcf_is_inspected_build_samples_and_pgx_positions():
    staged = StagedVcf("patient 7/../demo.vcf.gz", DEMO_VCF.read_bytes())
    try:
        assert staged.name == "demo.vcf.gz"  # a base name only, never a path
        assert staged.path.name == "germline.vcf.gz"
        assert stat.S_IMODE(staged.path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(staged.path.stat().st_mode) == 0o600
        assert not str(staged.path).startswith(str(REPO_ROOT))
        info = inspect_vcf(staged)
        assert list(info.samples) == DEMO_SAMPLES
        assert (info.build, info.build_assumed, info.records) == ("GRCh38", False, 6291)
        assert "contig lengths" in info.build_text()
        s = info.summary("NA19625")
        assert s.records == 6291 and s.het > 0 and s.missing_rate == 0.0
        assert 0 < s.pgx_positions_called <= info.pgx_positions_present <= info.pgx_positions_total
    finally:
        staged.discard()
    assert not staged.path.parent.exists()


def test_plain_and_gzip_vcf_are_read_too(tmp_path):
    text = _demo_text().encode()
    for name, data in (("p.vcf", text), ("p.vcf.gz", gzip.compress(text))):  # plain gzip, not bgzip
        staged = StagedVcf(name, data)
        try:
            assert inspect_vcf(staged).records == 6291
        finally:
            staged.discard()


def test_replacing_an_upload_removes_the_old_file():
    first = stage_upload(None, "a.vcf.gz", DEMO_VCF.read_bytes(), key="id-1")
    assert stage_upload(first, "a.vcf.gz", b"ignored", key="id-1") is first  # same upload: reused
    second = stage_upload(first, "b.vcf", _demo_text().encode(), key="id-2")
    try:
        assert not first.path.exists() and not first.alive
        assert second.path.exists() and second.path.read_bytes().startswith(b"##fileformat=VCF")
    finally:
        second.discard()
    assert not second.path.exists()


@pytest.mark.parametrize(("name", "make", "error", "words"), [
    ("cut.vcf.gz", lambda: DEMO_VCF.read_bytes()[:30000], VcfError, "truncated"),
    ("cut_plain.vcf.gz", lambda: gzip.compress(_demo_text().encode())[:30000], VcfError, "truncated"),
    ("cut.vcf", lambda: _cut_text(150000, 3), VcfError, "tab-separated column"),  # ends in "chr"
    ("cut_cols.vcf", lambda: _cut_text(150000, 12), VcfError, "tab-separated column"),  # ends mid-columns
    ("spaces.vcf", lambda: _demo_text().replace("\t", " ").encode(), VcfError, "tab-separated column"),
    ("blank_end.vcf", lambda: (_demo_text() + "\n").encode(), VcfError, "blank line"),
    ("malformed.vcf", malformed_vcf, VcfError, "12x4"),
    ("b37.vcf", grch37_vcf, GenomeBuildError, "GRCh37"),
    ("notes.vcf", lambda: b"patient notes\n", VcfError, "not a VCF"),
])
def test_bad_uploads_raise_errors_naming_the_upload_not_the_temporary_path(name, make, error, words):
    staged = StagedVcf(name, make())
    try:
        with pytest.raises(error) as err:
            inspect_vcf(staged)
    finally:
        staged.discard()
    line = err.value.one_line()
    assert line.startswith(f"{name}: "), line
    assert words in line and "-- fix:" in line
    assert str(staged.path.parent) not in line and "gtr-vcf-" not in line


def test_grch37_fix_says_lift_over():
    staged = StagedVcf("old.vcf", grch37_vcf())
    try:
        with pytest.raises(GenomeBuildError, match="lift the VCF over to GRCh38"):
            inspect_vcf(staged)
    finally:
        staged.discard()


def test_sites_only_vcf_is_refused():
    header, body = _split(_demo_text())
    header[-1] = "\t".join(header[-1].split("\t")[:8]).rstrip("\n") + "\n"
    data = "".join(header) + "".join("\t".join(b.split("\t")[:8]) + "\n" for b in body[:50])
    staged = StagedVcf("sites.vcf", data.encode())
    try:
        with pytest.raises(VcfError, match="no sample columns"):
            inspect_vcf(staged)
    finally:
        staged.discard()


def test_preselect_index():
    assert preselect_index(DEMO_SAMPLES, "NA19625") == 6
    assert preselect_index(DEMO_SAMPLES, "NOPE", "HG00171") == 1
    assert preselect_index(DEMO_SAMPLES, None, None) == 0


# ------------------------------------------------------------------------------------ the page
def _page(db):
    _, _, users = db
    at = sign_in(new_app(), *users["physician"])
    assert not at.exception
    return at


def _upload_vcf(at, name: str, data: bytes):
    at.file_uploader(key="vcf_upload").set_value((name, data, "application/octet-stream"))
    return at.run()


def _sample_box(at):
    return next(s for s in at.selectbox if s.label == "Sample in the VCF")


def _flat(node):
    """Elements of the page in display order (depth first)."""
    return [n for n in node if not hasattr(n, "children")]


def test_record_upload_with_vcf_scores_the_chosen_sample(db):
    at = _page(db)
    at.radio(key="patient_source").set_value(UPLOAD).run()
    at.file_uploader(key="record_upload").set_value(("record.json", DEMO_PATIENT.read_bytes(), "application/json"))
    at.run()
    _upload_vcf(at, "germline_of_pseudo7.vcf.gz", DEMO_VCF.read_bytes())
    assert not at.exception and not at.error
    box = _sample_box(at)
    assert box.options == DEMO_SAMPLES
    assert box.value == "NA19625"  # the record's germline.sample_id
    page = texts(at)
    assert "GRCh38" in page and "6291 records" in page and "pharmacogene defining positions" in page
    staged = at.session_state["app"].uploads.vcf
    assert staged.path.exists() and staged.name == "germline_of_pseudo7.vcf.gz"
    assert staged.path.name == "germline.vcf.gz"  # neutral on disk: htslib may print paths on stderr

    box.set_value("HG00171").run()
    button(at, "Score this patient").click()
    at.run()
    assert not at.exception, at.exception
    rec = at.session_state["app"].recommendation
    assert rec.pgx_sample == "HG00171"  # the chosen sample, not the record's NA19625
    assert rec.provenance.inputs["germline_vcf"] == "germline_of_pseudo7.vcf.gz"
    assert any(g.status == "called" for g in rec.pharmacogenes)
    assert "sample HG00171 of germline_of_pseudo7.vcf.gz" in texts(at)
    assert "gtr-vcf-" not in at.session_state["app"].recommendation_json  # the staged path never reaches the record
    assert rec._guidance is not None  # the report's guidance survives the relabelling

    # replacing the VCF removes the first temporary file; clearing removes the second
    _upload_vcf(at, "other.vcf", _demo_text().encode())
    second = at.session_state["app"].uploads.vcf
    assert not staged.path.exists() and second.path.exists()
    at.file_uploader(key="vcf_upload").clear()
    at.run()
    assert not second.path.exists() and at.session_state["app"].uploads.vcf is None


def test_record_upload_without_vcf_still_scores_without_pgx(db):
    at = _page(db)
    at.radio(key="patient_source").set_value(UPLOAD).run()
    pheno = DEMO_PATIENT.with_name("demo_patient.phenopacket.json")
    at.file_uploader(key="record_upload").set_value((pheno.name, pheno.read_bytes(), "application/json")).run()
    button(at, "Score this patient").click()
    at.run()
    assert not at.exception, at.exception
    rec = at.session_state["app"].recommendation
    assert rec.pgx_sample is None and rec.cancer_type == "COAD"
    assert "pharmacogenomic guidance is **not assessed**" in texts(at)


@pytest.mark.parametrize(("name", "make", "words"), [
    ("broken.vcf.gz", lambda: DEMO_VCF.read_bytes()[:30000], "truncated"),
    ("hg19.vcf", grch37_vcf, "GRCh37"),
    ("bad_record.vcf", malformed_vcf, "12x4"),
])
def test_vcf_errors_show_under_the_uploader_and_block_scoring(db, name, make, words):
    at = _page(db)
    at.radio(key="patient_source").set_value(UPLOAD).run()
    at.file_uploader(key="record_upload").set_value(("record.json", DEMO_PATIENT.read_bytes(), "application/json"))
    at.run()
    _upload_vcf(at, name, make())
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith(f"{name}: ") and words in errors[0] and "fix:" in errors[0]
    assert "gtr-vcf-" not in errors[0]
    # right under the uploader: the next element after the VCF uploader is this error
    flat = _flat(at.main)
    i = next(k for k, e in enumerate(flat) if getattr(e, "key", None) == "vcf_upload")
    assert flat[i + 1].type == "error" and flat[i + 1].value == errors[0]
    assert not any(s.label == "Sample in the VCF" for s in at.selectbox)
    assert button(at, "Score this patient").disabled


def _fill_form(at, **values):
    for key, value in values.items():
        widget = at.get("text_input") + at.get("number_input") + at.get("selectbox") + at.get("multiselect")
        target = next(w for w in widget if w.key == f"form_{key}")
        target.set_value(value)
    return at


def test_form_errors_appear_beside_their_fields_then_the_form_scores_with_the_vcf(db):
    at = _page(db)
    at.radio(key="patient_source").set_value(FORM).run()
    assert not at.exception, at.exception
    # the cancer type sets the default candidates (cohorts.simulate_model.CANDIDATES)
    at.selectbox(key="form_cancer_type").set_value("LUAD").run()
    assert at.multiselect(key="form_candidates_LUAD").value == ["carboplatin-paclitaxel", "cisplatin-pemetrexed",
                                                                "pembrolizumab", "osimertinib"]
    at.selectbox(key="form_cancer_type").set_value("COAD").run()
    _fill_form(at, patient_id="PSEUDO-77", age=70, lab_albumin=500.0, smoking="never", pack_years=15.0,
               medications=["paroxetine"])
    button(at, "Check clinical data").click()
    at.run()
    assert not at.exception, at.exception
    errors = {e.value for e in at.error}
    assert any("plausible range" in e for e in errors)
    assert any("contradicts" in e for e in errors)
    assert at.session_state["app"].form.patient is None
    flat = _flat(at.main)

    def follows(widget_key: str, words: str) -> bool:
        """The first alert after the widget (before any other input widget) holds ``words``."""
        i = next(k for k, e in enumerate(flat) if getattr(e, "key", None) == widget_key)
        for e in flat[i + 1:]:
            if e.type == "error":
                return words in str(e.value)
            if getattr(e, "key", None) and not str(e.key).startswith("form_lab_unit_"):
                return False
        return False

    assert follows("form_lab_albumin", "plausible range")
    assert follows("form_pack_years", "contradicts")
    assert not follows("form_age", "range")  # no message under a correct field
    assert button(at, "Score this patient").disabled

    _fill_form(at, lab_albumin=38.0, smoking="former")
    button(at, "Check clinical data").click()
    at.run()
    assert not at.exception, at.exception
    patient = at.session_state["app"].form.patient
    assert patient is not None and not at.session_state["app"].form.errors
    assert patient.history.lab("albumin") == 38.0 and patient.medications == ("paroxetine",)
    assert [t.regimen for t in patient.candidate_treatments] == ["FOLFOX", "FOLFIRI", "CAPOX",
                                                                  "FOLFOX+panitumumab"]

    _upload_vcf(at, "pseudo77.vcf.gz", DEMO_VCF.read_bytes())
    assert _sample_box(at).value == "HG00096"  # no record sample: the first one
    _sample_box(at).set_value("NA18942").run()
    button(at, "Score this patient").click()
    at.run()
    assert not at.exception, at.exception
    rec = at.session_state["app"].recommendation
    assert rec.patient_id == "PSEUDO-77" and rec.pgx_sample == "NA18942"
    assert len(rec.options) == 4
    assert at.session_state["app"].patient == patient

    # leaving the page and coming back: the source and the checked values are still there (not the VCF)
    at.switch_page("pages/compare.py").run()
    at.switch_page("pages/patient.py").run()
    assert not at.exception, at.exception
    assert at.radio(key="patient_source").value == FORM
    assert at.text_input(key="form_patient_id").value == "PSEUDO-77"
    assert at.number_input(key="form_lab_albumin").value == 38.0
    assert at.multiselect(key="form_medications").value == ["paroxetine"]


def test_tumour_variant_errors_show_under_the_editor(db):
    at = _page(db)
    # AppTest does not apply data_editor edits: the form is pre-filled through its saved values (the
    # values last checked, which are also what a physician finds when coming back to the page)
    at.session_state["app"].form.values = {
        "patient_id": "PSEUDO-8", "cancer_type": "COAD",
        "tumour_variants": [{"gene": "KRAS", "protein_change": "G12D", "variant_type": "missense"},
                            {"gene": "BR AF", "protein_change": "V600E", "variant_type": "missense"}],
        "candidate_treatments": ["FOLFOX"],
    }
    at.radio(key="patient_source").set_value(FORM).run()
    assert at.text_input(key="form_patient_id").value == "PSEUDO-8"
    button(at, "Check clinical data").click()
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["app"].form.errors == {
        "tumour_variants": ["row 2, gene: 'BR AF' is not an HGNC gene symbol"]}
    flat = _flat(at.main)
    i = next(k for k, e in enumerate(flat) if type(e).__name__ == "Dataframe")  # the variant editor
    assert flat[i + 1].type == "error" and "row 2, gene" in flat[i + 1].value


def test_demo_patient_still_loads(db):
    at = _page(db)
    button(at, "Load demo patient").click()
    at.run()
    assert not at.exception
    rec = at.session_state["app"].recommendation
    assert rec.patient_id == "DEMO-COAD-001" and rec.pgx_sample == "NA19625"
    assert "vcf_upload" not in [u.key for u in at.file_uploader]


def test_record_sample_missing_from_vcf_is_said(db, tmp_path):
    data = json.loads(DEMO_PATIENT.read_text())
    data["germline"]["sample_id"] = "NOT-IN-FILE"
    at = _page(db)
    at.radio(key="patient_source").set_value(UPLOAD).run()
    at.file_uploader(key="record_upload").set_value(("r.json", json.dumps(data).encode(), "application/json"))
    at.run()
    _upload_vcf(at, "g.vcf.gz", DEMO_VCF.read_bytes())
    assert _sample_box(at).value == "HG00096"
    assert any("NOT-IN-FILE" in w.value.replace("\\", "") for w in at.warning)
    assert Path(at.session_state["app"].uploads.vcf.path).exists()
