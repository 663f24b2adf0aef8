"""Cohort storage: manifest, Parquet tables, VCF copy, atomic writes, checksums, patients."""

from __future__ import annotations

import json
import os

import pytest

from cohorts import CohortError, CohortValidationError, load_cohort, tables_from_patients, write_cohort
from cohorts.manifest import MANIFEST_NAME
from recommender.schema import load_patient
from tests.cohorts.conftest import make_vcf


def test_write_and_load_round_trip(tmp_path, tables, meta):
    vcf = make_vcf(tmp_path / "in.vcf.gz", ["S1", "S2", "S3"])
    cohort = write_cohort(tmp_path / "c", tables, vcf=vcf, **meta)
    manifest = json.loads((tmp_path / "c" / MANIFEST_NAME).read_text())
    assert manifest["format"] == "cohort/1.0" and manifest["genome_build"] == "GRCh38"
    assert manifest["tables"]["patients"]["rows"] == 3 and len(manifest["tables"]["patients"]["sha256"]) == 64
    assert manifest["vcf"]["samples"] == 3 and manifest["vcf"]["index"] == "germline.vcf.gz.tbi"
    assert manifest["provenance"]["package_version"] and manifest["provenance"]["vocab_version"]
    loaded = load_cohort(cohort.path)
    assert list(loaded.patients["patient_id"]) == ["P1", "P2", "P3"]
    assert loaded.patients["kras_status"].tolist() == ["mut", "wt", "wt"]
    assert loaded.treatments["drugs"][0] == ["fluorouracil", "leucovorin", "oxaliplatin"]
    assert loaded.adverse_events["grade"].tolist() == [3, 2]
    assert oct(os.stat(cohort.path).st_mode & 0o777) != oct(0o700)


def test_patient_records_from_tables(tmp_path, tables, meta):
    vcf = make_vcf(tmp_path / "in.vcf.gz", ["S1", "S2", "S3"])
    cohort = write_cohort(tmp_path / "c", tables, vcf=vcf, **meta)
    p1 = cohort.patient("P1")
    assert p1.diagnosis.cancer_type == "COAD" and p1.diagnosis.ecog == 0
    assert p1.germline.sample_id == "S1" and p1.germline.path.endswith("germline.vcf.gz")
    assert p1.cyp_inhibitors("CYP2D6") == {"paroxetine": "strong"}
    assert p1.history.lab("bilirubin") == 10.0
    out = p1.outcomes[0]
    assert out.treatment.regimen == "FOLFOX" and out.best_response == "PR"
    assert out.adverse_events[0].severe and out.pfs.time_days == 200
    assert [tv.label for tv in p1.tumour_variants] == ["KRAS G12D"]
    assert len(list(cohort.iter_patients())) == 3
    with pytest.raises(CohortError, match="no such patient"):
        cohort.patient("nobody")


def test_patients_to_tables_to_patients(tmp_path, fixtures_dir, meta):
    p = load_patient(fixtures_dir / "cohorts" / "patient_full.json")
    cohort = write_cohort(tmp_path / "c", tables_from_patients([p], vcf_samples=False), **meta)
    back = cohort.patient(p.patient_id)
    assert back.diagnosis == p.diagnosis
    assert back.medications == p.medications and back.lifestyle == p.lifestyle
    assert back.tumour_variants == p.tumour_variants
    assert back.outcomes[0].adverse_events == p.outcomes[0].adverse_events
    assert back.outcomes[0].os == p.outcomes[0].os and back.outcomes[0].pfs == p.outcomes[0].pfs
    assert back.history.lab("bilirubin") == pytest.approx(p.history.lab("bilirubin"))


def test_existing_directory_refused_and_overwrite_replaces(tmp_path, tables, meta):
    write_cohort(tmp_path / "c", tables, **meta)
    with pytest.raises(CohortError, match="already exists"):
        write_cohort(tmp_path / "c", tables, **meta)
    tables["patients"].loc[0, "age"] = 33.0
    write_cohort(tmp_path / "c", tables, overwrite=True, **meta)
    assert load_cohort(tmp_path / "c").patients["age"][0] == 33.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]


def test_failed_write_leaves_nothing_behind(tmp_path, tables, meta):
    tables["outcomes"].loc[1, "os_days"] = -5
    with pytest.raises(CohortValidationError):
        write_cohort(tmp_path / "c", tables, **meta)
    vcf = make_vcf(tmp_path / "in.vcf.gz", ["S1", "S2"])  # S3 missing -> fails after tables were written
    tables["outcomes"].loc[1, "os_days"] = 500.0
    with pytest.raises(CohortValidationError, match="S3"):
        write_cohort(tmp_path / "c", tables, vcf=vcf, **meta)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".c", "c"))]


def test_changed_table_detected_by_checksum(tmp_path, tables, meta):
    cohort = write_cohort(tmp_path / "c", tables, **meta)
    path = cohort.path / "outcomes.parquet"
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(CohortError, match="SHA-256") as exc:
        load_cohort(cohort.path)
    assert exc.value.file == str(path)


def test_missing_manifest_and_directory(tmp_path):
    with pytest.raises(CohortError, match="not found"):
        load_cohort(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CohortError, match="no manifest"):
        load_cohort(tmp_path / "empty")


def test_truth_tables_kept_apart(tmp_path, tables, meta):
    import pandas as pd

    truth = pd.DataFrame({"patient_id": ["P1"], "regimen": ["FOLFOX"], "p_response": [0.4]})
    cohort = write_cohort(tmp_path / "c", tables, truth_tables={"oracle": truth}, **meta)
    assert "oracle" not in cohort.table_names
    assert load_cohort(cohort.path).truth("oracle")["p_response"][0] == 0.4
    assert cohort.info()["truth_tables"] == {"oracle": 1}
