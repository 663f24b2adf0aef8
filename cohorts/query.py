"""DuckDB queries over a cohort: a ``WHERE`` filter on one table, or SQL over all tables.

The cohort's Parquet tables are registered as views (``patients``, ``treatments``, ``outcomes``,
``adverse_events``, ``tumour_variants``) plus ``cohort``: patients joined with their outcome.

Examples
--------
>>> query(cohort, "ecog <= 1 and cancer_type = 'COAD'")          # doctest: +SKIP
>>> sql(cohort, "select regimen, count(*) n from treatments group by 1")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pandas as pd

from cohorts.errors import CohortQueryError

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

    from cohorts.storage import Cohort

__all__ = ["connect", "query", "sql"]

_FORBIDDEN = (";",)


def _quote(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"


@contextmanager
def connect(cohort: Cohort) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB connection with the cohort's tables registered as views."""
    import duckdb

    con = duckdb.connect(database=":memory:")
    try:
        for name, entry in cohort.manifest.tables.items():
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({_quote(str(cohort.path / entry.path))})")
        con.execute(
            "CREATE VIEW cohort AS SELECT p.*, o.* EXCLUDE (patient_id) FROM patients p "
            "LEFT JOIN outcomes o USING (patient_id)"
        )
        yield con
    finally:
        con.close()


def _run(cohort: Cohort, statement: str, what: str) -> pd.DataFrame:
    import duckdb

    with connect(cohort) as con:
        try:
            return con.execute(statement).df()
        except duckdb.Error as err:
            first = str(err).strip().splitlines()[0]
            raise CohortQueryError(
                f"{what} failed: {first}", file=str(cohort.path), field="query",
                fix="check column names with 'recommender cohort info COHORT --json' and SQL syntax (DuckDB)",
            ) from None


def query(cohort: Cohort, where: str, *, table: str = "patients", columns: str = "*") -> pd.DataFrame:
    """Rows of ``table`` (default ``patients``; ``cohort`` joins outcomes) matching ``where``."""
    where = (where or "").strip()
    if not where:
        where = "true"
    if any(tok in where for tok in _FORBIDDEN):
        raise CohortQueryError("a filter is one SQL expression (no ';')", field="where",
                               fix="give only the WHERE condition, e.g. \"ecog <= 1 and cancer_type = 'COAD'\"")
    if where.lower().startswith("where "):
        where = where[6:]
    known = set(cohort.manifest.tables) | {"cohort"}
    if table not in known:
        raise CohortQueryError(f"no table {table!r}", field="table", fix=f"choose one of: {', '.join(sorted(known))}")
    return _run(cohort, f"SELECT {columns} FROM {table} WHERE {where}", "filter")


def sql(cohort: Cohort, statement: str) -> pd.DataFrame:
    """Run one read-only SQL statement over the cohort's views."""
    statement = (statement or "").strip().rstrip(";")
    if ";" in statement:
        raise CohortQueryError("give one SQL statement", field="sql", fix="remove the extra statements")
    head = statement.split(None, 1)[0].lower() if statement else ""
    if head not in {"select", "with", "describe", "summarize", "show", "from"}:
        raise CohortQueryError("only read-only queries are allowed (SELECT/WITH/DESCRIBE/SUMMARIZE)", field="sql",
                               fix="write a SELECT statement")
    return _run(cohort, statement, "query")
