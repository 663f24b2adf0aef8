"""GA4GH Phenopackets v2 import/export: round trip and a hand-written real-looking packet."""

from __future__ import annotations

import json
import warnings

import phenopackets as pps
import pytest
from google.protobuf.json_format import Parse

from genomics.errors import DegradedResultWarning
from recommender.phenopackets_io import (
    load_phenopacket,
    patient_from_phenopacket_json,
    patient_to_phenopacket,
    phenopacket_json,
    save_phenopacket,
)
from recommender.schema import Patient, PatientRecordError, load_patient


@pytest.fixture()
def full_patient(fixtures_dir) -> Patient:
    return load_patient(fixtures_dir / "cohorts" / "patient_full.json")


def test_round_trip_patient_phenopacket_patient(full_patient, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = patient_from_phenopacket_json(phenopacket_json(full_patient))
    assert back == full_patient
    path = save_phenopacket(full_patient, tmp_path / "pp.json")
    assert load_phenopacket(path) == full_patient
    assert load_patient(path) == full_patient  # load_patient detects Phenopackets


def test_minimal_patient_round_trips():
    p = Patient(patient_id="P1")
    assert patient_from_phenopacket_json(phenopacket_json(p)) == p


def test_export_is_valid_standard_phenopacket_json(full_patient):
    text = phenopacket_json(full_patient)
    packet = Parse(text, pps.Phenopacket())  # strict: unknown fields would fail
    data = json.loads(text)
    assert data["metaData"]["phenopacketSchemaVersion"] == "2.0"
    assert data["subject"]["sex"] == "FEMALE"
    assert data["diseases"][0]["term"]["id"] == "oncotree:COAD"
    assert data["files"][0]["individualToFileIdentifiers"] == {"DEMO-0001": "HG00096"}
    prefixes = {r.namespace_prefix for r in packet.meta_data.resources}
    curies = {m.assay.id.split(":")[0] for m in packet.measurements}
    assert curies <= prefixes


def test_age_kept_to_the_month():
    p = Patient(patient_id="P", demographics={"age": 61.5})
    assert patient_to_phenopacket(p).subject.time_at_last_encounter.age.iso8601duration == "P61Y6M"
    assert patient_from_phenopacket_json(phenopacket_json(p)).demographics.age == 61.5


def test_import_hand_written_real_looking_phenopacket(fixtures_dir):
    with pytest.warns(DegradedResultWarning, match="Fatigue"):
        p = load_phenopacket(fixtures_dir / "cohorts" / "phenopacket_luad.json")
    assert p.patient_id == "LUAD-0042"
    assert (p.demographics.sex, p.demographics.age) == ("male", 58.5)
    assert (p.diagnosis.cancer_type, p.diagnosis.stage, p.diagnosis.ecog) == ("LUAD", "IVA", 1)
    assert p.history.comorbidities == ("hypertensive disorder",)
    assert p.history.lab("creatinine") == pytest.approx(0.9 * 88.42)
    assert p.medications == ("fluoxetine",)
    assert p.cyp_inhibitors("CYP2D6") == {"fluoxetine": "strong"}
    assert p.lifestyle.smoking == "former" and p.lifestyle.bmi == 24.1
    assert p.germline.path == "/data/germline/LUAD-0042.vcf.gz" and p.germline.sample_id == "LUAD-0042-N"
    tv = p.tumour_variants[0]
    assert (tv.gene, tv.protein_change, tv.chrom, tv.pos) == ("EGFR", "L858R", "chr7", 55191822)
    out = p.outcomes[0]
    assert out.treatment.regimen == "osimertinib" and out.best_response == "PR"
    assert [(a.term, a.grade) for a in out.adverse_events] == [("Diarrhea", 1)]
    assert out.os.time_days == 412 and out.os.event is False


def test_invalid_phenopacket_is_project_error(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"id": "x", "subject": {"id": "x", "sex": "ROBOT"}, "metaData": {}}))
    with pytest.raises(PatientRecordError, match="not a valid Phenopacket") as exc:
        load_phenopacket(path)
    assert exc.value.fix


def test_unknown_cancer_label_becomes_comorbidity_and_bad_drug_is_error():
    data = {"id": "P", "subject": {"id": "P"}, "metaData": {"phenopacketSchemaVersion": "2.0"},
            "diseases": [{"term": {"id": "MONDO:1", "label": "gout"}}],
            "medicalActions": [{"treatment": {"agent": {"id": "X:1", "label": "unobtainium"},
                                              "drugType": "EHR_MEDICATION_LIST"}}]}
    with pytest.raises(PatientRecordError, match="unknown drug") as exc:
        patient_from_phenopacket_json(json.dumps(data))
    assert exc.value.record == "patient P" and exc.value.field.startswith("medications")
    data.pop("medicalActions")
    p = patient_from_phenopacket_json(json.dumps(data))
    assert p.diagnosis is None and p.history.comorbidities == ("gout",)


def test_grch37_tumour_position_dropped_with_warning(full_patient):
    packet = patient_to_phenopacket(full_patient)
    vd = packet.interpretations[0].diagnosis.genomic_interpretations[0].variant_interpretation.variation_descriptor
    vd.vcf_record.genome_assembly = "GRCh37"
    from google.protobuf.json_format import MessageToJson

    with pytest.warns(DegradedResultWarning, match="GRCh37"):
        p = patient_from_phenopacket_json(MessageToJson(packet))
    assert p.tumour_variants[0].pos is None and p.tumour_variants[0].protein_change == "G12D"
