"""Validation of cohort tables (and the cohort VCF) with problems that name table, row and column.

Rules: required columns present and typed; unique IDs; every row's ``patient_id`` known;
times not negative and present when an event is recorded; codes in the shared vocabularies
(OncoTree, CTCAE v5, RECIST, drugs, regimens, lab ranges); the VCF on the manifest's build and
holding every ``sample_id`` of the patients table; tumour-variant positions only on GRCh38.
Rows are numbered from 1 in table order (patient identifiers are not echoed in messages).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from cohorts.tables import LAB_COLUMNS, OPTIONAL_TABLES, REQUIRED_TABLES, TABLES
from genomics.errors import DegradedResultWarning, RecommenderError
from recommender import vocab

__all__ = ["MAX_PROBLEMS", "Problem", "validate_tables", "validate_vcf_samples"]

#: Stop collecting after this many problems per table (the first ones are what users fix first).
MAX_PROBLEMS = 50

_SEX = {"female", "male", "other", "unknown"}
_SMOKING = {"never", "former", "current", "unknown"}
_ALCOHOL = {"none", "moderate", "heavy", "unknown"}
_ACTIVITY = {"sedentary", "low", "moderate", "high", "unknown"}
_SPLIT = {"train", "test", "validation"}
_GENE_RE = re.compile(r"^[A-Z0-9][A-Z0-9\-\.]*$")
_STAGE_RE = re.compile(r"^(0|I{1,3}|IV)([A-C][1-3]?)?$")


@dataclass(frozen=True)
class Problem:
    """One broken rule: where (table, row, column) and what."""

    table: str
    row: int | None
    column: str | None
    message: str
    severity: Literal["error", "warning"] = "error"

    @property
    def record(self) -> str | None:
        return None if self.row is None else f"row {self.row}"

    def describe(self) -> str:
        where = ", ".join(x for x in (self.table, self.record, self.column and f"column {self.column}") if x)
        return f"{where}: {self.message}"

    def to_dict(self) -> dict:
        return asdict(self)


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self._count: dict[str, int] = {}

    def add(self, table: str, row: int | None, column: str | None, message: str, severity: str = "error") -> None:
        n = self._count.get(table, 0)
        if n >= MAX_PROBLEMS:
            return
        self._count[table] = n + 1
        self.problems.append(Problem(table, row, column, message, severity))  # type: ignore[arg-type]

    def bad_rows(self, table: str, df: pd.DataFrame, column: str, mask, message: str, severity: str = "error") -> None:
        mask = pd.Series(mask, index=df.index).fillna(False).astype(bool)
        for pos in np.flatnonzero(mask.to_numpy())[:MAX_PROBLEMS].tolist():
            value = df[column].iloc[pos]
            if isinstance(value, str) and len(value) > 80:  # shown back: never a 200 kB cell in a message
                value = value[:80] + "..."
            self.add(table, pos + 1, column, message.format(value=value), severity)


def _fails(series: pd.Series, ok) -> pd.Series:
    """True where a non-missing value fails the predicate ``ok`` (evaluated once per distinct value)."""
    bad = {v for v in series.dropna().unique() if not ok(v)}
    return series.notna() & _member(series, bad)


def _member(series: pd.Series, allowed) -> pd.Series:
    """Boolean Series: value in ``allowed`` (a set lookup; faster than ``isin`` on Arrow strings)."""
    allowed = allowed if isinstance(allowed, (set, frozenset, dict)) else set(allowed)
    values = series.to_numpy(dtype=object, na_value=None)
    return pd.Series([v in allowed for v in values], index=series.index, dtype=bool)


def _not_in(series: pd.Series, allowed) -> pd.Series:
    return series.notna() & ~_member(series, allowed)


def _check_columns(c: _Collector, name: str, df: pd.DataFrame) -> bool:
    ok = True
    for col in TABLES[name]:
        if col.required and col.name not in df.columns:
            c.add(name, None, col.name, "required column missing")
            ok = False
        elif not col.nullable and col.name in df.columns:
            c.bad_rows(name, df, col.name, df[col.name].isna(), "missing value (required)")
    return ok


def _unique(c: _Collector, name: str, df: pd.DataFrame, column: str) -> None:
    dup = df[column].duplicated(keep="first") & df[column].notna()
    for pos in [i for i, bad in enumerate(dup.to_numpy()) if bad][:MAX_PROBLEMS]:
        first = int((df[column] == df[column].iloc[pos]).to_numpy().argmax()) + 1
        c.add(name, pos + 1, column, f"duplicate {column} (first at row {first})")


def _known_patient(c: _Collector, name: str, df: pd.DataFrame, ids: set) -> None:
    c.bad_rows(name, df, "patient_id", df["patient_id"].notna() & ~_member(df["patient_id"], ids),
               "patient_id not in the patients table")


def _patients(c: _Collector, df: pd.DataFrame) -> None:
    t = "patients"
    _unique(c, t, df, "patient_id")
    _unique(c, t, df, "sample_id")
    c.bad_rows(t, df, "age", (df["age"] < 0) | (df["age"] > 120), "age {value} outside 0-120")
    c.bad_rows(t, df, "sex", _not_in(df["sex"], _SEX), "sex {value!r} not one of female/male/other/unknown")
    c.bad_rows(t, df, "cancer_type", _not_in(df["cancer_type"], vocab.ONCOTREE),
               "unknown OncoTree code {value!r}")
    c.bad_rows(t, df, "stage", df["stage"].notna() & ~df["stage"].astype("string").str.match(_STAGE_RE.pattern),
               "stage {value!r} is not an AJCC stage (0, I-IV with optional A-C suffix)")
    c.bad_rows(t, df, "ecog", (df["ecog"] < 0) | (df["ecog"] > 4), "ECOG {value} outside 0-4")
    c.bad_rows(t, df, "smoking", _not_in(df["smoking"], _SMOKING), "smoking {value!r} not never/former/current/unknown")
    c.bad_rows(t, df, "alcohol", _not_in(df["alcohol"], _ALCOHOL), "alcohol {value!r} not none/moderate/heavy/unknown")
    c.bad_rows(t, df, "physical_activity", _not_in(df["physical_activity"], _ACTIVITY),
               "physical_activity {value!r} not sedentary/low/moderate/high/unknown")
    c.bad_rows(t, df, "pack_years", df["pack_years"] < 0, "negative pack_years {value}")
    c.bad_rows(t, df, "alcohol_units_per_week", df["alcohol_units_per_week"] < 0, "negative alcohol units {value}")
    c.bad_rows(t, df, "bmi", (df["bmi"] < 10) | (df["bmi"] > 90), "BMI {value} outside 10-90")
    c.bad_rows(t, df, "split", _not_in(df["split"], _SPLIT), "split {value!r} not train/test/validation")
    for lab in LAB_COLUMNS:
        spec = vocab.LABS[lab]
        c.bad_rows(t, df, lab, (df[lab] < spec.low) | (df[lab] > spec.high),
                   f"{{value}} {spec.unit} outside the plausible range {spec.low}-{spec.high}")
    known_drug: dict[str, bool] = {}
    for pos, meds in enumerate(df["medications"]):
        if not meds:
            continue
        unknown = [m for m in meds if not known_drug.setdefault(m, vocab.is_drug(m))]
        if unknown:
            c.add(t, pos + 1, "medications", f"unknown drug(s) {', '.join(map(repr, unknown))}")


def _treatments(c: _Collector, df: pd.DataFrame, ids: set) -> None:
    t = "treatments"
    _unique(c, t, df, "treatment_id")
    _known_patient(c, t, df, ids)
    c.bad_rows(t, df, "line", df["line"] < 1, "line {value} < 1")
    verdicts: dict[tuple, str | None] = {}
    for pos, (reg, drugs) in enumerate(zip(df["regimen"], df["drugs"])):
        key = (reg if isinstance(reg, str) else None, tuple(drugs))
        if key not in verdicts:
            verdicts[key] = _treatment_problem(*key)
        if verdicts[key]:
            c.add(t, pos + 1, "drugs", verdicts[key])


def _treatment_problem(reg: str | None, drugs: tuple[str, ...]) -> str | None:
    unknown = [d for d in drugs if not vocab.is_drug(d)]
    if unknown:
        return f"unknown drug(s) {', '.join(map(repr, unknown))}"
    parts = vocab.resolve_course(reg) if reg is not None else None
    expected = {d for p in parts for d in p.drugs} if parts else set()
    if parts is not None and all(p.drugs for p in parts) and set(drugs) != expected:
        return f"regimen {reg} is {'+'.join(sorted(expected))}, not {'+'.join(drugs)}"
    if parts is None and reg is not None and not drugs:
        return f"unknown regimen {reg!r} without drugs"
    return None


def _outcomes(c: _Collector, df: pd.DataFrame, ids: set) -> None:
    t = "outcomes"
    _unique(c, t, df, "patient_id")
    _known_patient(c, t, df, ids)
    c.bad_rows(t, df, "best_response", _not_in(df["best_response"], vocab.RECIST_RESPONSES),
               "best_response {value!r} not one of CR/PR/SD/PD/NE")
    for end in ("pfs", "os"):
        days, event = f"{end}_days", f"{end}_event"
        c.bad_rows(t, df, days, df[days] < 0, "negative time {value}")
        c.bad_rows(t, df, days, df[event].notna() & df[days].isna(), "missing time for a recorded event status")
        c.bad_rows(t, df, event, df[days].notna() & df[event].isna(), "missing event status for a recorded time")
    both = df["pfs_days"].notna() & df["os_days"].notna()
    c.bad_rows(t, df, "pfs_days", both & (df["pfs_days"] > df["os_days"] + 1e-9), "pfs_days {value} later than os_days")


def _adverse_events(c: _Collector, df: pd.DataFrame, ids: set, treatment_ids: set) -> None:
    t = "adverse_events"
    _known_patient(c, t, df, ids)
    c.bad_rows(t, df, "treatment_id", df["treatment_id"].notna() & ~_member(df["treatment_id"], treatment_ids),
               "treatment_id {value!r} not in the treatments table")
    c.bad_rows(t, df, "term", _fails(df["term"], vocab.is_ctcae_term),
               "{value!r} is not a CTCAE v5 term known to the product")
    c.bad_rows(t, df, "grade", (df["grade"] < 1) | (df["grade"] > 5), "grade {value} outside 1-5")
    c.bad_rows(t, df, "drug", _fails(df["drug"], vocab.is_drug), "unknown drug {value!r}")


def _tumour_variants(c: _Collector, df: pd.DataFrame, ids: set, build: str) -> None:
    t = "tumour_variants"
    _known_patient(c, t, df, ids)
    c.bad_rows(t, df, "gene", df["gene"].notna() & ~df["gene"].astype("string").str.match(_GENE_RE.pattern),
               "{value!r} is not an HGNC gene symbol")
    c.bad_rows(t, df, "variant_type", _not_in(df["variant_type"], vocab.TUMOUR_VARIANT_TYPES),
               "variant_type {value!r} unknown")
    c.bad_rows(t, df, "vaf", (df["vaf"] < 0) | (df["vaf"] > 1), "VAF {value} outside 0-1")
    c.bad_rows(t, df, "pos", df["pos"].notna() & df["chrom"].isna(), "pos without chrom")
    if build != "GRCh38":
        c.bad_rows(t, df, "pos", df["pos"].notna(),
                   f"position on {build}: tumour-variant positions are kept only on GRCh38 (keep gene + protein change)")


def validate_tables(tables: dict[str, pd.DataFrame], *, genome_build: str = "GRCh38") -> list[Problem]:
    """Check cohort tables (already cast with :func:`cohorts.tables.conform`); returns the problems."""
    c = _Collector()
    for name in REQUIRED_TABLES:
        if name not in tables:
            c.add(name, None, None, "required table missing")
    if c.problems:
        return c.problems
    ok = {name: _check_columns(c, name, df) for name, df in tables.items() if name in TABLES}
    patients = tables["patients"]
    ids = set(patients["patient_id"].dropna()) if "patient_id" in patients else set()
    if ok.get("patients"):
        _patients(c, patients)
    if ok.get("treatments"):
        _treatments(c, tables["treatments"], ids)
    if ok.get("outcomes"):
        _outcomes(c, tables["outcomes"], ids)
    treatment_ids = set(tables["treatments"]["treatment_id"].dropna()) if ok.get("treatments") else set()
    if "adverse_events" in tables and ok.get("adverse_events"):
        _adverse_events(c, tables["adverse_events"], ids, treatment_ids)
    if "tumour_variants" in tables and ok.get("tumour_variants"):
        _tumour_variants(c, tables["tumour_variants"], ids, genome_build)
    for name in tables:
        if name not in TABLES and name not in OPTIONAL_TABLES:
            c.add(name, None, None, "unknown table (ignored)", "warning")
    return c.problems


def validate_vcf_samples(vcf_path: str | Path, patients: pd.DataFrame, *, genome_build: str = "GRCh38") -> tuple[list[Problem], int]:
    """Check the cohort VCF: readable, on ``genome_build``, and holding every ``sample_id``.

    Returns ``(problems, n_samples)``. Build errors of the VCF reader surface as problems.
    VCF samples without a patient are a warning (a cohort VCF may carry more people).
    """
    from genomics.vcf import VcfReader

    c = _Collector()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DegradedResultWarning)
            reader = VcfReader(vcf_path, build=genome_build)
            samples = list(reader.all_samples)
            reader.close()
    except RecommenderError as err:
        c.add("vcf", None, err.field, err.message + (f" -- {err.fix}" if err.fix else ""))
        return c.problems, 0
    in_vcf = set(samples)
    ids = patients["sample_id"]
    c.bad_rows("patients", patients, "sample_id", ids.notna() & ~_member(ids, in_vcf),
               "sample_id {value!r} not in the cohort VCF")
    listed = set(ids.dropna())
    extra = [s for s in samples if s not in listed]
    if extra:
        c.add("vcf", None, "samples", f"{len(extra)} VCF sample(s) have no patient row (e.g. {extra[0]!r})", "warning")
    return c.problems, len(samples)
