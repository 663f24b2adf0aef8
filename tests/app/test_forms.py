"""The clinical form's Streamlit-free logic (app.patient_form): values -> Patient, errors -> form fields."""

from __future__ import annotations

import math

import pytest

from app import patient_form as pf
from recommender import vocab


def _values(**changes):
    values = {
        "patient_id": "PSEUDO-0042", "age": 63, "sex": "male", "cancer_type": "COAD", "stage": "IIIB",
        "histology": "adenocarcinoma", "ecog": 1,
        "labs": {"albumin": (3.6, "g/dL"), "creatinine": (None, "umol/L"), "neutrophils": (2.1, "10^9/L")},
        "comorbidities": ["hypertension", "gout"], "medications": ["paroxetine"],
        "smoking": "former", "pack_years": 20.0, "alcohol": "moderate", "alcohol_units_per_week": 6.0,
        "bmi": 24.3, "physical_activity": "low",
        "tumour_variants": [{"gene": "kras", "protein_change": "p.Gly12Asp", "variant_type": "missense",
                             "fusion_partner": None, "vaf": 0.31},
                            {"gene": None, "protein_change": None, "variant_type": "missense",
                             "fusion_partner": float("nan"), "vaf": float("nan")}],
        "candidate_treatments": ["FOLFOX", "FOLFIRI"],
    }
    values.update(changes)
    return values


def test_valid_form_builds_the_patient():
    result = pf.patient_from_form(_values())
    assert result.ok, result.errors
    p = result.patient
    assert (p.patient_id, p.demographics.age, p.demographics.sex) == ("PSEUDO-0042", 63, "male")
    assert (p.diagnosis.cancer_type, p.diagnosis.stage, p.diagnosis.ecog) == ("COAD", "IIIB", 1)
    assert p.history.lab("albumin") == pytest.approx(36.0)  # g/dL converted to the canonical g/L
    assert p.history.lab("creatinine") is None  # blank lab left out
    assert p.history.comorbidities == ("hypertension", "gout")  # free text kept
    assert p.medications == ("paroxetine",)
    assert (p.lifestyle.smoking, p.lifestyle.pack_years, p.lifestyle.bmi) == ("former", 20.0, 24.3)
    assert [v.label for v in p.tumour_variants] == ["KRAS G12D"]  # blank editor row skipped
    assert p.tumour_variants[0].vaf == pytest.approx(0.31)
    assert [t.regimen for t in p.candidate_treatments] == ["FOLFOX", "FOLFIRI"]
    assert p.germline is None


def test_every_problem_is_keyed_by_its_form_field():
    values = _values(
        labs={"albumin": (500.0, "g/L"), "platelets": (150.0, "10^9/L")},
        stage="V",
        tumour_variants=[{"gene": "KRAS", "protein_change": "G12D"}, {"gene": None, "protein_change": None},
                         {"gene": "BR AF", "protein_change": "V600E"}],
        medications=["paroxetine", "aspirinx"],
        bmi=5.0,
    )
    result = pf.patient_from_form(values)
    assert not result.ok and result.patient is None
    errors = result.errors
    assert set(errors) == {"lab:albumin", "stage", "tumour_variants", "medications", "bmi"}
    assert "plausible range" in errors["lab:albumin"][0]
    assert "AJCC" in errors["stage"][0]
    # the editor's row number (the blank row 2 counts), the column and the schema's message
    assert errors["tumour_variants"] == ["row 3, gene: 'BR AF' is not an HGNC gene symbol"]
    assert "aspirinx" in errors["medications"][0]
    assert "10" in errors["bmi"][0]


def test_model_level_errors_land_on_the_right_field():
    result = pf.patient_from_form(_values(smoking="never", pack_years=12.0))
    assert list(result.errors) == ["pack_years"]
    assert "contradicts" in result.errors["pack_years"][0]
    result = pf.patient_from_form(_values(tumour_variants=[{"gene": "ALK", "variant_type": "fusion"}]))
    assert result.errors == {"tumour_variants": ["row 1: a fusion needs fusion_partner"]}


def test_missing_pseudonym_and_candidates_are_named_in_plain_words():
    result = pf.patient_from_form(_values(patient_id="  ", candidate_treatments=[]))
    assert result.errors == {
        "patient_id": ["enter a pseudonym (not the name or the medical record number)"],
        "candidate_treatments": ["choose at least one candidate treatment to compare"],
    }


def test_unreadable_number_is_a_general_error_not_an_exception():
    result = pf.patient_from_form(_values(labs={"albumin": ("abc", "g/L")}))
    assert list(result.errors) == [pf.GENERAL]


@pytest.mark.parametrize(("loc", "message", "expected"), [
    (("patient_id",), "too short", "patient_id"),
    (("demographics", "age"), "x", "age"),
    (("diagnosis", "ecog"), "x", "ecog"),
    (("history", "labs", 1), "x", "lab:platelets"),
    (("history", "labs", 9), "x", pf.GENERAL),
    (("history",), "lab value(s) given twice", pf.GENERAL),
    (("lifestyle",), "pack_years > 0 contradicts smoking = 'never'", "pack_years"),
    (("lifestyle", "alcohol_units_per_week"), "x", "alcohol_units_per_week"),
    (("candidate_treatments", 0, "drugs"), "x", "candidate_treatments"),
    ((), "candidate treatment(s) listed twice: FOLFOX", "candidate_treatments"),
    (("outcomes", 0), "x", pf.GENERAL),
])
def test_field_for_error(loc, message, expected):
    key, _ = pf.field_for_error(loc, message, lab_names=["albumin", "platelets"], variant_rows_shown=[1])
    assert key == expected
    assert key == pf.GENERAL or key in pf.FORM_FIELDS


def test_choices_come_from_the_vocabularies():
    from cohorts.simulate_model import CANDIDATES

    assert set(pf.cancer_type_choices()) == set(vocab.ONCOTREE)
    assert pf.cancer_type_choices()[0] == "COAD"
    assert pf.cancer_type_label("LUAD") == "LUAD - Lung Adenocarcinoma"
    assert pf.default_candidates("coad") == list(CANDIDATES["COAD"])
    assert pf.default_candidates("ACC") == []
    assert set(pf.default_candidates("BRCA")) <= set(pf.regimen_choices())
    assert set(pf.medication_choices()) == set(vocab.DRUGS)
    assert {f"lab:{n}" for n in vocab.LABS} <= set(pf.FORM_FIELDS)
    for code, regimens in CANDIDATES.items():  # every default is offered by the multiselect
        assert set(regimens) <= set(pf.regimen_choices()), code


def test_editor_rows_keep_blank_rows_and_turn_nan_into_none():
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame([{"gene": "KRAS", "protein_change": "G12D", "variant_type": "missense",
                           "fusion_partner": None, "vaf": float("nan")},
                          {"gene": None, "protein_change": "", "variant_type": None, "fusion_partner": None,
                           "vaf": None}])
    rows = pf.editor_rows(table)
    assert len(rows) == 2 and rows[0]["vaf"] is None and rows[1]["protein_change"] is None
    assert pf.variant_rows(table) == [(1, {"gene": "KRAS", "protein_change": "G12D", "variant_type": "missense"})]
    assert not any(isinstance(v, float) and math.isnan(v) for _, r in pf.variant_rows(rows) for v in r.values())
