"""Issue 17: BRCA1/2 variant evidence beside PARP-inhibitor and platinum options on the Compare page, as text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.conftest import new_app, sign_in
from tests.app.test_injection_security import _LIVE, HOSTILE, _shown_markdown

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

VCF = Path(__file__).resolve().parents[1] / "fixtures" / "germline_brca" / "germline_brca.vcf"


def _rec(hostile: str | None = None):
    from recommender import PatientInputs, ScoringContext, score_patient
    from recommender.schema import patient_from_dict

    patient = patient_from_dict({"patient_id": "P-VUS", "diagnosis": {"cancer_type": "PAAD"},
                                 "candidate_treatments": ["FOLFIRINOX", "olaparib"]})
    rec = score_patient(patient, inputs=PatientInputs(germline_vcf=VCF, sample="BRCA1_VUS"),
                        context=ScoringContext(False))
    if hostile is not None:
        opts = []
        for o in rec.options:
            ev = tuple(e.model_copy(update={"variant": hostile, "consequence": hostile, "gene": hostile})
                       for e in o.variant_evidence)
            opts.append(o.model_copy(update={"variant_evidence": ev}))
        rec = rec.model_copy(update={"options": tuple(opts)})
    return patient, rec


def test_vus_evidence_is_shown_beside_olaparib_and_platinum(db):
    patient, rec = _rec()
    _, _, users = db
    at = sign_in(new_app(), *users["physician"])
    at.session_state["app"].load(patient, rec)
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    shown = [v for v in _shown_markdown(at) if "BRCA1/2 variant evidence" in v]
    assert len(shown) == 2  # olaparib and FOLFIRINOX (oxaliplatin)
    assert all("variant-effect evidence P=" in v and "confirm by clinical classification" in v for v in shown)
    assert all("green-badge" not in v for v in shown)  # a VUS is never green


@pytest.mark.parametrize("text", [HOSTILE[0], HOSTILE[2], HOSTILE[3]])
def test_hostile_variant_fields_are_text_on_the_compare_page(db, text):
    patient, rec = _rec(text)
    _, _, users = db
    at = sign_in(new_app(), *users["physician"])
    at.session_state["app"].load(patient, rec)
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    for value in _shown_markdown(at):
        assert not _LIVE.search(value), value
