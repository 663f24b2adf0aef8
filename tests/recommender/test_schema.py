"""The patient model: validation, normalisation, JSON round trip and boundary errors."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from genomics.errors import InputFileError
from recommender.schema import (
    SCHEMA_VERSION,
    AdverseEvent,
    Diagnosis,
    LabValue,
    Lifestyle,
    Outcome,
    Patient,
    PatientRecordError,
    SurvivalTime,
    TreatmentOption,
    TumourVariant,
    load_patient,
    load_patients,
    patient_from_dict,
    save_patient,
)


@pytest.fixture()
def full_patient(fixtures_dir) -> Patient:
    return load_patient(fixtures_dir / "cohorts" / "patient_full.json")


def test_full_fixture_loads_and_round_trips_json(full_patient, tmp_path):
    assert full_patient.schema_version == SCHEMA_VERSION
    assert Patient.model_validate_json(full_patient.model_dump_json()) == full_patient
    out = save_patient(full_patient, tmp_path / "p.json")
    assert load_patient(out) == full_patient


def test_patient_is_frozen(full_patient):
    with pytest.raises(ValidationError):
        full_patient.patient_id = "other"  # type: ignore[misc]


def test_oncotree_code_normalised_and_checked():
    assert Diagnosis(cancer_type=" luad ").cancer_type == "LUAD"
    with pytest.raises(ValidationError, match="did you mean COAD"):
        Diagnosis(cancer_type="COADX")


@pytest.mark.parametrize("ecog", [-1, 5])
def test_ecog_range(ecog):
    with pytest.raises(ValidationError):
        Diagnosis(cancer_type="COAD", ecog=ecog)


def test_stage_normalised():
    assert Diagnosis(cancer_type="COAD", stage="Stage IIIB").stage == "IIIB"
    assert Diagnosis(cancer_type="COAD", stage="[Not Available]").stage is None
    with pytest.raises(ValidationError):
        Diagnosis(cancer_type="COAD", stage="VII")


def test_regimen_fills_drugs_and_refuses_wrong_drugs():
    assert TreatmentOption(regimen="folfox").drugs == ("fluorouracil", "leucovorin", "oxaliplatin")
    assert TreatmentOption(regimen="FOLFOX").regimen == "FOLFOX"
    with pytest.raises(ValidationError, match="not"):
        TreatmentOption(regimen="FOLFOX", drugs=["capecitabine", "oxaliplatin"])
    with pytest.raises(ValidationError, match="without drugs"):
        TreatmentOption(regimen="my regimen")
    custom = TreatmentOption(regimen="my regimen", drugs=["5-FU"])
    assert custom.drugs == ("fluorouracil",) and custom.drug_classes == ("fluoropyrimidine",)


def test_unknown_drug_suggests_close_names():
    with pytest.raises(ValidationError, match="did you mean capecitabine"):
        TreatmentOption(regimen="x", drugs=["capecitabin"])


def test_lab_units_and_ranges():
    lab = LabValue(name="bilirubin", value=1.0, unit="mg/dL")
    assert lab.canonical_value == pytest.approx(17.1)
    with pytest.raises(ValidationError, match="unit"):
        LabValue(name="bilirubin", value=1.0, unit="g/L")
    with pytest.raises(ValidationError, match="plausible"):
        LabValue(name="neutrophils", value=3400, unit="10^9/L")


def test_adverse_event_term_grade_and_severity():
    ae = AdverseEvent(term="febrile neutropenia", grade=3)
    assert ae.term == "Febrile neutropenia" and ae.severe
    assert not AdverseEvent(term="Diarrhea", grade=2).severe
    with pytest.raises(ValidationError):
        AdverseEvent(term="Diarrhea", grade=6)
    with pytest.raises(ValidationError, match="only up to grade 2"):
        AdverseEvent(term="Alopecia", grade=3)
    with pytest.raises(ValidationError, match="CTCAE"):
        AdverseEvent(term="Bad day", grade=1)


def test_survival_time_not_negative_and_pfs_before_os():
    with pytest.raises(ValidationError):
        SurvivalTime(time_days=-1, event=True)
    with pytest.raises(ValidationError, match="later"):
        Outcome(treatment="FOLFOX", pfs=SurvivalTime(time_days=300, event=True),
                os=SurvivalTime(time_days=200, event=True))


def test_tumour_variant_normalisation():
    tv = TumourVariant(gene="egfr", protein_change="p.Leu858Arg")
    assert (tv.gene, tv.protein_change, tv.label) == ("EGFR", "L858R", "EGFR L858R")
    assert TumourVariant(gene="ERBB2", variant_type="amplification").label == "ERBB2 amplification"
    with pytest.raises(ValidationError, match="fusion_partner"):
        TumourVariant(gene="ALK", variant_type="fusion")
    with pytest.raises(ValidationError, match="together"):
        TumourVariant(gene="KRAS", protein_change="G12D", pos=25245350)


def test_lifestyle_never_smoker_with_pack_years_refused():
    with pytest.raises(ValidationError, match="contradicts"):
        Lifestyle(smoking="never", pack_years=10)


def test_medications_and_phenoconversion(full_patient):
    assert full_patient.medications == ("paroxetine", "metformin")
    assert full_patient.cyp_inhibitors("CYP2D6") == {"paroxetine": "strong"}


def test_boundary_error_names_file_record_field_and_fix(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"patient_id": "P7", "diagnosis": {"cancer_type": "COAD", "ecog": 7}}))
    with pytest.raises(PatientRecordError) as exc:
        load_patient(path)
    err = exc.value
    assert isinstance(err, InputFileError)
    assert err.file == str(path) and err.record == "patient P7" and err.field == "diagnosis.ecog"
    assert err.fix
    assert "\n" not in err.one_line()


def test_boundary_error_on_bad_json_and_missing_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"patient_id": "P1",\n "x": }')
    with pytest.raises(PatientRecordError, match="not valid JSON") as exc:
        load_patient(path)
    assert exc.value.record == "line 2"
    with pytest.raises(PatientRecordError, match="not found"):
        load_patient(tmp_path / "missing.json")


def test_load_patients_jsonl_and_array(tmp_path, full_patient):
    lines = tmp_path / "p.jsonl"
    lines.write_text(full_patient.model_dump_json() + "\n\n" + '{"patient_id": "P2"}\n')
    assert [p.patient_id for p in load_patients(lines)] == ["DEMO-0001", "P2"]
    arr = tmp_path / "p.json"
    arr.write_text(json.dumps([{"patient_id": "A"}, {"patient_id": "B", "medications": ["nope"]}]))
    with pytest.raises(PatientRecordError) as exc:
        load_patients(arr)
    assert exc.value.record == "patient B" and exc.value.field == "medications"


def test_unknown_field_refused():
    with pytest.raises(PatientRecordError, match="Extra inputs"):
        patient_from_dict({"patient_id": "P1", "weight": 70})


def test_duplicate_candidate_refused():
    with pytest.raises(ValidationError, match="twice"):
        Patient(patient_id="P", candidate_treatments=["FOLFOX", "folfox"])
