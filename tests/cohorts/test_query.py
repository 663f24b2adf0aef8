"""DuckDB filters and SQL over a cohort."""

from __future__ import annotations

import pytest

from cohorts import CohortQueryError, query, sql, write_cohort


@pytest.fixture()
def cohort(tmp_path, tables, meta):
    return write_cohort(tmp_path / "c", tables, **meta)


def test_where_filter_on_patients(cohort):
    df = query(cohort, "ecog <= 1 and cancer_type = 'COAD'")
    assert df["patient_id"].tolist() == ["P1"]
    assert cohort.query("where age > 60")["patient_id"].tolist() == ["P1", "P3"]


def test_filter_other_tables_and_joined_view(cohort):
    assert query(cohort, "grade >= 3", table="adverse_events")["patient_id"].tolist() == ["P1"]
    df = query(cohort, "os_event and cancer_type = 'COAD'", table="cohort", columns="patient_id, os_days")
    assert df.to_dict("records") == [{"patient_id": "P2", "os_days": 300.0}]
    assert query(cohort, "list_contains(drugs, 'irinotecan')", table="treatments")["patient_id"].tolist() == ["P2"]


def test_sql_over_views(cohort):
    df = sql(cohort, "select regimen, count(*) as n from treatments group by 1 order by 1")
    assert df.to_dict("records")[0] == {"regimen": "FOLFIRI", "n": 1}
    assert len(cohort.sql("select * from tumour_variants t join patients p using (patient_id)")) == 2


@pytest.mark.parametrize("bad", ["no_such_column = 1", "ecog <= 1; drop table patients"])
def test_bad_filter_is_project_error(cohort, bad):
    with pytest.raises(CohortQueryError) as exc:
        query(cohort, bad)
    assert exc.value.fix


def test_sql_is_read_only(cohort):
    with pytest.raises(CohortQueryError, match="read-only"):
        sql(cohort, "copy patients to 'x.csv'")
    with pytest.raises(CohortQueryError, match="no table"):
        query(cohort, "true", table="secrets")
