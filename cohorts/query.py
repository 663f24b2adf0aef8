"""DuckDB queries over a cohort: a parsed filter on one table, or read-only SQL over all tables.

The cohort's Parquet tables are registered as views (``patients``, ``treatments``, ``outcomes``,
``adverse_events``, ``tumour_variants``) plus ``cohort``: patients joined with their outcome.

Every connection is locked down before any user text reaches it (:func:`locked_connection`):
external access off (no file, URL, ``COPY``, ``ATTACH`` or extension), except the cohort's own table
files, extension auto-load/auto-install off, and the configuration locked so a statement cannot turn
any of it back on. A filter (:func:`query`; the app's Cohort page, ``recommender cohort query``,
``--where``) is parsed by :mod:`cohorts.filters` and compiled to parameterised SQL; free SQL
(:func:`sql`, ``recommender cohort query --sql``) runs on the same locked connection.

Examples
--------
>>> query(cohort, "ecog <= 1 and cancer_type = 'COAD'")          # doctest: +SKIP
>>> sql(cohort, "select regimen, count(*) n from treatments group by 1")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cohorts.errors import CohortQueryError
from cohorts.filters import compile_columns, compile_filter, quote_identifier

if TYPE_CHECKING:  # pragma: no cover
    import duckdb

    from cohorts.storage import Cohort

__all__ = ["LOCKED_SETTINGS", "connect", "locked_connection", "query", "sql"]

#: Settings every cohort DuckDB connection has (checked by the tests).
LOCKED_SETTINGS = {"enable_external_access": "false", "autoload_known_extensions": "false",
                   "autoinstall_known_extensions": "false", "allow_community_extensions": "false",
                   "lock_configuration": "true"}


def _quote(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"


def locked_connection(allowed_files: Iterable[str | Path] = ()) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that can read only ``allowed_files``: no other file, no network,
    no extension loading, configuration locked."""
    import duckdb

    con = duckdb.connect(database=":memory:", config={"autoload_known_extensions": False,
                                                      "autoinstall_known_extensions": False,
                                                      "allow_community_extensions": False})
    try:
        files = [str(Path(f).resolve()) for f in allowed_files]
        if files:
            con.execute(f"SET allowed_paths = [{', '.join(_quote(f) for f in files)}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def connect(cohort: Cohort) -> Iterator[duckdb.DuckDBPyConnection]:
    """A locked in-memory DuckDB connection with the cohort's tables registered as views."""
    files = {name: (cohort.path / entry.path).resolve() for name, entry in cohort.manifest.tables.items()}
    con = locked_connection(files.values())
    try:
        for name, file in files.items():
            con.execute(f"CREATE VIEW {quote_identifier(name)} AS SELECT * FROM read_parquet({_quote(str(file))})")
        con.execute(
            "CREATE VIEW cohort AS SELECT p.*, o.* EXCLUDE (patient_id) FROM patients p "
            "LEFT JOIN outcomes o USING (patient_id)"
        )
        yield con
    finally:
        con.close()


def _failed(cohort: Cohort, what: str, err: Exception) -> CohortQueryError:
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return CohortQueryError(
        f"{what} failed: {first[:300]}", file=str(cohort.path), field="query",
        fix="check column names with 'recommender cohort info COHORT --json' and SQL syntax (DuckDB)",
    )


def _run(cohort: Cohort, statement: str, what: str, params: list[Any] | None = None,
         con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    import duckdb

    if con is None:
        with connect(cohort) as own:
            return _run(cohort, statement, what, params, own)
    try:
        return con.execute(statement, params or []).df()
    except duckdb.Error as err:
        raise _failed(cohort, what, err) from None


def query(cohort: Cohort, where: str | None, *, table: str = "patients", columns: str = "*") -> pd.DataFrame:
    """Rows of ``table`` (default ``patients``; ``cohort`` joins outcomes) matching the filter ``where``.

    ``where`` is in the filter language of :mod:`cohorts.filters` (comparisons, AND/OR/NOT, IN,
    BETWEEN, LIKE, IS NULL on the table's columns); ``columns`` is ``*`` or comma-separated column names.
    """
    known = set(cohort.manifest.tables) | {"cohort"}
    if table not in known:
        raise CohortQueryError(f"no table {str(table)[:60]!r}", field="table",
                               fix=f"choose one of: {', '.join(sorted(known))}")
    with connect(cohort) as con:
        names = [row[0] for row in con.execute(f"DESCRIBE {quote_identifier(table)}").fetchall()]
        condition, params = compile_filter(where, names)
        select = compile_columns(columns, names)
        return _run(cohort, f"SELECT {select} FROM {quote_identifier(table)} WHERE {condition}", "filter",
                    params, con)


def sql(cohort: Cohort, statement: str) -> pd.DataFrame:
    """Run one read-only SQL statement over the cohort's views (a locked connection: no file or network)."""
    statement = (statement or "").strip().rstrip(";")
    if ";" in statement:
        raise CohortQueryError("give one SQL statement", field="sql", fix="remove the extra statements")
    head = statement.split(None, 1)[0].lower() if statement else ""
    if head not in {"select", "with", "describe", "summarize", "show", "from"}:
        raise CohortQueryError("only read-only queries are allowed (SELECT/WITH/DESCRIBE/SUMMARIZE)", field="sql",
                               fix="write a SELECT statement")
    return _run(cohort, statement, "query")
