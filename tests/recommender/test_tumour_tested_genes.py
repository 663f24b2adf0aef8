"""A panel report's tested genes establish wild type (anti-EGFR eligibility) without a tumour file."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from recommender import DEMO_PATIENT, ScoringContext, score_patient
from recommender.schema import Patient


def _crc(**extra) -> dict:
    data = json.loads(DEMO_PATIENT.read_text())
    data.pop("germline")
    data["tumour_variants"] = []
    data.update(extra)
    return data


def _panitumumab(rec):
    return next(o for o in rec.options if o.regimen == "FOLFOX+panitumumab")


def test_ras_wild_type_from_a_panel_report_makes_anti_egfr_eligible() -> None:
    rec = score_patient(Patient.model_validate(_crc(tumour_tested_genes=["KRAS", "NRAS", "BRAF"])),
                        context=ScoringContext(False))
    assert _panitumumab(rec).eligibility == "eligible"


def test_panel_without_nras_leaves_eligibility_not_established() -> None:
    rec = score_patient(Patient.model_validate(_crc(tumour_tested_genes=["KRAS"])), context=ScoringContext(False))
    opt = _panitumumab(rec)
    assert opt.eligibility == "not_established" and "NRAS" in " ".join(c.reason for c in opt.eligibility_checks)


def test_no_tumour_data_is_not_established_and_kras_mutant_is_contraindicated() -> None:
    assert _panitumumab(score_patient(Patient.model_validate(_crc()), context=ScoringContext(False))).eligibility \
        == "not_established"
    mutant = _crc(tumour_tested_genes=["KRAS", "NRAS"],
                  tumour_variants=[{"gene": "KRAS", "protein_change": "G12D", "variant_type": "missense"}])
    assert _panitumumab(score_patient(Patient.model_validate(mutant), context=ScoringContext(False))).eligibility \
        == "contraindicated"


def test_tested_genes_must_be_gene_symbols() -> None:
    with pytest.raises(ValidationError, match="HGNC"):
        Patient.model_validate(_crc(tumour_tested_genes=["KRAS; drop table"]))


def test_simulated_cohort_records_its_panel(tmp_path) -> None:
    from cohorts.simulate import TUMOUR_PANEL, simulate_cohort

    cohort = simulate_cohort(40, seed=3).write(tmp_path / "c")
    patients = list(cohort.iter_patients())
    assert patients and all(set(p.tumour_tested_genes) == set(TUMOUR_PANEL) for p in patients)
