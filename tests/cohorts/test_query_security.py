"""Issue 15 (1): a cohort filter cannot read server files, reach the network or load extensions.

Each test performs the attack a signed-in user could type into the Cohort page's filter box (or
``recommender cohort query``); before the fix the filter went to DuckDB as SQL.
"""

from __future__ import annotations

import random

import pytest

from cohorts import CohortQueryError, query, sql, write_cohort
from cohorts.filters import MAX_DEPTH, compile_columns, compile_filter
from cohorts.query import connect


@pytest.fixture()
def cohort(tmp_path, tables, meta):
    return write_cohort(tmp_path / "c", tables, **meta)


@pytest.fixture()
def secret(tmp_path):
    path = tmp_path / "server_secret.txt"
    path.write_text("patient_id\nTOPSECRET-LINE\n")
    return path


@pytest.mark.parametrize("attack", [
    "patient_id IN (SELECT column0 FROM read_csv('{secret}', header=false))",
    "patient_id = (SELECT * FROM read_csv('{secret}'))",
    "true) UNION SELECT * FROM read_csv('{secret}') --",
    "cast((select string_agg(column0, ',') from read_csv('{secret}', header=false)) as int) = 1",
    "length(getenv('HOME')) > 0",
    "patient_id in (select patient_id from '{secret}')",
])
def test_cohort_filter_cannot_read_server_files(cohort, secret, attack):
    with pytest.raises(CohortQueryError) as exc:
        query(cohort, attack.format(secret=secret))
    assert "TOPSECRET" not in exc.value.one_line()


def test_cohort_filter_columns_cannot_smuggle_sql(cohort, secret):
    with pytest.raises(CohortQueryError):
        query(cohort, "true", columns=f"(select * from read_csv('{secret}')) as x")


@pytest.mark.parametrize("statement", [
    "select * from read_csv('{secret}')",
    "select * from read_text('{secret}')",
    "select * from glob('/etc/*')",
    "select * from 'https://example.invalid/x.csv'",
    "from read_csv('/etc/passwd')",
])
def test_cohort_sql_connection_has_no_external_access(cohort, secret, statement):
    with pytest.raises(CohortQueryError) as exc:
        sql(cohort, statement.format(secret=secret))
    assert "TOPSECRET" not in exc.value.one_line()


def test_cohort_connection_configuration_is_locked(cohort):
    with connect(cohort) as con:
        for statement in ("SET enable_external_access = true", "RESET enable_external_access",
                          "SET lock_configuration = false", "LOAD httpfs", "INSTALL httpfs"):
            with pytest.raises(Exception):  # noqa: B017 - any DuckDB refusal
                con.execute(statement)
        settings = dict(con.execute("SELECT name, value FROM duckdb_settings() WHERE name IN "
                                    "('enable_external_access', 'lock_configuration', "
                                    "'autoload_known_extensions', 'autoinstall_known_extensions')").fetchall())
    assert settings == {"enable_external_access": "false", "lock_configuration": "true",
                        "autoload_known_extensions": "false", "autoinstall_known_extensions": "false"}


def test_cohort_sql_cannot_read_truth_tables_by_path(tmp_path, tables, meta):
    import pandas as pd

    c = write_cohort(tmp_path / "t", tables, **meta)
    hidden = c.path / "hidden.parquet"
    pd.DataFrame({"x": [1]}).to_parquet(hidden)
    with pytest.raises(CohortQueryError):
        sql(c, f"select * from read_parquet('{hidden}')")


# -- the grammar ------------------------------------------------------------------------------------
COLS = ["patient_id", "age", "ecog", "cancer_type", "drugs", "os_event", "bilirubin"]


@pytest.mark.parametrize(("text", "sql_text", "params"), [
    ("", "TRUE", []),
    ("where ecog <= 1", '"ecog" <= ?', [1]),
    ("ECOG <= 1 AND cancer_type = 'CO''AD'", '("ecog" <= ?) AND ("cancer_type" = ?)', [1, "CO'AD"]),
    ("not (age between 40 and 60) or ecog in (0, 1)",
     '(NOT (("age" BETWEEN ? AND ?))) OR ("ecog" IN (?, ?))', [40, 60, 0, 1]),
    ("bilirubin is not null and os_event", '("bilirubin" IS NOT NULL) AND ("os_event")', []),
    ("age > -1.5e1", '"age" > ?', [-15.0]),
    ("list_contains(drugs, 'irinotecan')", 'list_contains("drugs", ?)', ["irinotecan"]),
    ("cancer_type not like 'CO%'", '"cancer_type" NOT LIKE ?', ["CO%"]),
    ('"age" >= 18', '"age" >= ?', [18]),
])
def test_filter_grammar_compiles_to_parameterised_sql(text, sql_text, params):
    assert compile_filter(text, COLS) == (sql_text, params)


@pytest.mark.parametrize("bad", [
    "ecog <= 1; drop table x", "read_csv('/etc/passwd')", "age > 1 --", "age > 1 /* x */", "nosuch = 1",
    "age >", "(age > 1", "age in ()", "age in (select 1)", "age is 1", "1 = 1 union select 1", "lower(age, 1)",
    "age between 1", "\"age\"\"\" = 1", "age = $1", "age = ?", "age::varchar = '1'", "age || 'x' = 'x'",
])
def test_filter_grammar_rejects_everything_else(bad):
    with pytest.raises(CohortQueryError) as exc:
        compile_filter(bad, COLS)
    assert exc.value.fix


def test_filter_grammar_depth_and_length_are_bounded():
    with pytest.raises(CohortQueryError, match="nested"):
        compile_filter("(" * (MAX_DEPTH + 5) + "age > 1" + ")" * (MAX_DEPTH + 5), COLS)
    with pytest.raises(CohortQueryError, match="nested"):
        compile_filter("not " * 900 + "os_event", COLS)
    with pytest.raises(CohortQueryError, match="longer"):
        compile_filter("age > 1 and " * 1000 + "age > 1", COLS)


def test_filter_grammar_fuzz_never_escapes():
    """Random token soup: every input either compiles (and then only to our SQL) or is a CohortQueryError."""
    rng = random.Random(15)
    alphabet = ["age", "ecog", "'x'", "1", "-2.5", "(", ")", ",", "and", "or", "not", "in", "between", "is",
                "null", "like", "=", "<=", "<>", ";", "--", "/*", "read_csv", "select", "\"", "'", "lower", "$",
                "list_contains", "drugs", "true", " "]
    allowed = set("\"()?,<>=! ") | set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789")
    for _ in range(3000):
        text = " ".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        try:
            out, params = compile_filter(text, COLS)
        except CohortQueryError:
            continue
        assert set(out) <= allowed, (text, out)
        assert "'" not in out and ";" not in out and "--" not in out
        assert out.count("?") == len(params)


def test_compile_columns_checks_names():
    assert compile_columns("patient_id, AGE", COLS) == '"patient_id", "age"'
    assert compile_columns("*", COLS) == "*"
    with pytest.raises(CohortQueryError):
        compile_columns("count(*)", COLS)
