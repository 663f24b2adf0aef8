"""Validation on load: each broken rule is reported with table, row, column and problem."""

from __future__ import annotations

import pytest

from cohorts import CohortValidationError, write_cohort
from cohorts.tables import conform
from cohorts.validate import validate_tables
from tests.cohorts.conftest import make_vcf


def _problems(tables, build="GRCh38"):
    return [p for p in validate_tables({k: conform(k, v) for k, v in tables.items()}, genome_build=build)
            if p.severity == "error"]


def test_clean_tables_have_no_problems(tables):
    assert _problems(tables) == []


@pytest.mark.parametrize(
    "table,row,column,value,message",
    [
        ("patients", 1, "patient_id", "P1", "duplicate patient_id (first at row 1)"),
        ("patients", 2, "cancer_type", "COLON", "unknown OncoTree code"),
        ("patients", 0, "ecog", 5, "ECOG 5 outside 0-4"),
        ("patients", 0, "sex", "F", "sex 'F'"),
        ("patients", 1, "bilirubin", 5000.0, "outside the plausible range"),
        ("outcomes", 1, "os_days", -3.0, "negative time"),
        ("outcomes", 0, "best_response", "GOOD", "not one of CR/PR/SD/PD/NE"),
        ("outcomes", 2, "patient_id", "P9", "not in the patients table"),
        ("treatments", 1, "treatment_id", "P1-t1", "duplicate treatment_id (first at row 1)"),
        ("adverse_events", 1, "term", "Tummy ache", "not a CTCAE v5 term"),
        ("adverse_events", 0, "grade", 6, "grade 6 outside 1-5"),
        ("tumour_variants", 1, "variant_type", "weird", "variant_type 'weird' unknown"),
    ],
)
def test_rule_names_table_row_column(tables, table, row, column, value, message):
    tables[table].loc[row, column] = value
    problems = _problems(tables)
    assert problems, "the broken rule was not detected"
    first = problems[0]
    assert (first.table, first.row, first.column) == (table, row + 1, column)
    assert message in first.message


def test_missing_time_for_event(tables):
    tables["outcomes"].loc[0, "os_days"] = None
    p = _problems(tables)[0]
    assert (p.table, p.row, p.column) == ("outcomes", 1, "os_days") and "missing time" in p.message


def test_wrong_regimen_drugs(tables):
    tables["treatments"].at[0, "drugs"] = ["capecitabine", "oxaliplatin"]
    p = _problems(tables)[0]
    assert p.column == "drugs" and "FOLFOX" in p.message


def test_required_column_missing(tables):
    tables["outcomes"] = tables["outcomes"].drop(columns=["patient_id"])
    p = _problems(tables)[0]
    assert (p.table, p.row, p.column, p.message) == ("outcomes", None, "patient_id", "required column missing")


def test_positions_refused_on_grch37(tables):
    p = _problems(tables, build="GRCh37")[0]
    assert (p.table, p.row, p.column) == ("tumour_variants", 1, "pos") and "GRCh38" in p.message


def test_error_carries_file_record_field_fix(tmp_path, tables, meta):
    tables["patients"].loc[2, "cancer_type"] = "XYZ"
    tables["outcomes"].loc[0, "best_response"] = "GOOD"
    with pytest.raises(CohortValidationError) as exc:
        write_cohort(tmp_path / "c", tables, **meta)
    err = exc.value
    assert (err.record, err.field) == ("row 3", "cancer_type") and err.fix
    assert "and 1 more problem" in err.message and len(err.problems) == 2
    assert "P3" not in err.one_line()  # patient identifiers are not echoed


def test_vcf_sample_missing(tmp_path, tables, meta):
    vcf = make_vcf(tmp_path / "in.vcf.gz", ["S1", "S3"])
    with pytest.raises(CohortValidationError, match="'S2' not in the cohort VCF") as exc:
        write_cohort(tmp_path / "c", tables, vcf=vcf, **meta)
    assert (exc.value.record, exc.value.field) == ("row 2", "sample_id")


def test_vcf_extra_samples_warn(tmp_path, tables, meta):
    from genomics.errors import DegradedResultWarning

    vcf = make_vcf(tmp_path / "in.vcf.gz", ["S1", "S2", "S3", "EXTRA"])
    with pytest.warns(DegradedResultWarning, match="no patient row"):
        write_cohort(tmp_path / "c", tables, vcf=vcf, **meta)


def test_vcf_wrong_build_refused(tmp_path, tables, meta):
    vcf = make_vcf(tmp_path / "in.vcf.gz", ["S1", "S2", "S3"], build="GRCh37")
    with pytest.raises(CohortValidationError, match="GRCh37") as exc:
        write_cohort(tmp_path / "c", tables, vcf=vcf, **meta)
    assert exc.value.field == "build"


def test_uncastable_column_is_validation_error(tmp_path, tables, meta):
    tables["patients"]["ecog"] = ["zero", "1", "2"]
    with pytest.raises(CohortValidationError, match="ecog"):
        write_cohort(tmp_path / "c", tables, **meta)
