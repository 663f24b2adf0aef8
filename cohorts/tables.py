"""The cohort tables: their columns, types and which are required.

A cohort is a set of tables keyed by ``patient_id`` (Parquet on disk):

``patients`` (one row per patient)
    ``patient_id`` (unique), ``sample_id`` (germline VCF sample, optional), ``age``, ``sex``,
    ``ancestry`` (self-reported), ``population`` (genetic population label, simulator),
    ``cancer_type`` (OncoTree), ``stage``, ``histology``, ``ecog``, lifestyle columns, lab columns
    named after :data:`recommender.vocab.LABS` in their canonical units, ``comorbidities`` and
    ``medications`` (lists), ``split`` (``train``/``test`` when the source defines one).
    Further covariates of a source cohort are kept as extra columns.
``treatments`` (one row per treatment given; several per patient allowed)
    ``treatment_id`` (unique), ``patient_id``, ``regimen``, ``drugs`` (list), ``line``.
``outcomes`` (one row per patient: the outcome of the recorded course)
    ``patient_id`` (unique), ``best_response`` (RECIST), ``pfs_days``/``pfs_event``,
    ``os_days``/``os_event``/``os_cause``; further endpoints as extra columns.
``adverse_events`` (optional)
    ``patient_id``, ``treatment_id`` (optional), ``term`` (CTCAE v5), ``grade`` (1-5), ``drug``.
``tumour_variants`` (optional)
    ``patient_id``, ``gene``, ``protein_change``, ``variant_type``, ``chrom``/``pos``/``ref``/``alt``
    (GRCh38 only), ``vaf``, ``fusion_partner``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from recommender import vocab

__all__ = ["LAB_COLUMNS", "OPTIONAL_TABLES", "REQUIRED_TABLES", "TABLES", "Column", "conform", "empty_table"]

Kind = Literal["str", "float", "int", "bool", "list"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False  # column must exist
    nullable: bool = True


LAB_COLUMNS: tuple[str, ...] = tuple(vocab.LABS)

TABLES: dict[str, tuple[Column, ...]] = {
    "patients": (
        Column("patient_id", "str", True, False),
        Column("sample_id", "str"),
        Column("age", "float"),
        Column("sex", "str"),
        Column("ancestry", "str"),
        Column("population", "str"),
        Column("cancer_type", "str"),
        Column("stage", "str"),
        Column("histology", "str"),
        Column("ecog", "int"),
        Column("smoking", "str"),
        Column("pack_years", "float"),
        Column("alcohol", "str"),
        Column("alcohol_units_per_week", "float"),
        Column("bmi", "float"),
        Column("physical_activity", "str"),
        *(Column(lab, "float") for lab in LAB_COLUMNS),
        Column("comorbidities", "list"),
        Column("medications", "list"),
        Column("split", "str"),
    ),
    "treatments": (
        Column("treatment_id", "str", True, False),
        Column("patient_id", "str", True, False),
        Column("regimen", "str", True, False),
        Column("drugs", "list", True),
        Column("line", "int"),
    ),
    "outcomes": (
        Column("patient_id", "str", True, False),
        Column("best_response", "str"),
        Column("pfs_days", "float"),
        Column("pfs_event", "bool"),
        Column("os_days", "float"),
        Column("os_event", "bool"),
        Column("os_cause", "str"),
    ),
    "adverse_events": (
        Column("patient_id", "str", True, False),
        Column("treatment_id", "str"),
        Column("term", "str", True, False),
        Column("grade", "int", True, False),
        Column("drug", "str"),
    ),
    "tumour_variants": (
        Column("patient_id", "str", True, False),
        Column("gene", "str", True, False),
        Column("protein_change", "str"),
        Column("variant_type", "str"),
        Column("chrom", "str"),
        Column("pos", "int"),
        Column("ref", "str"),
        Column("alt", "str"),
        Column("vaf", "float"),
        Column("fusion_partner", "str"),
    ),
}

REQUIRED_TABLES = ("patients", "treatments", "outcomes")
OPTIONAL_TABLES = ("adverse_events", "tumour_variants")

_DTYPES = {"str": "string", "float": "Float64", "int": "Int64", "bool": "boolean"}


def empty_table(name: str) -> pd.DataFrame:
    """An empty DataFrame with the columns of table ``name``."""
    return conform(name, pd.DataFrame({c.name: [] for c in TABLES[name]}))


def conform(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Add the table's missing optional columns, order known columns first and cast to their kind.

    Casting never drops rows; a value that cannot be cast raises ``ValueError``/``TypeError`` naming
    the column (the caller turns it into a :class:`~cohorts.errors.CohortValidationError`).
    """
    df = df.copy()
    for col in TABLES[name]:
        if col.name not in df.columns:
            if col.required:
                continue  # reported by validation as "required column missing"
            df[col.name] = [[] for _ in range(len(df))] if col.kind == "list" else pd.NA
        if col.kind == "list":
            df[col.name] = [
                [] if v is None or (not isinstance(v, (list, tuple)) and not hasattr(v, "__len__") and pd.isna(v))
                else list(v)
                for v in df[col.name]
            ]
        else:
            try:
                df[col.name] = df[col.name].astype(_DTYPES[col.kind])
            except (ValueError, TypeError) as err:
                raise ValueError(f"column {col.name}: cannot read as {col.kind} ({err})") from None
    known = [c.name for c in TABLES[name] if c.name in df.columns]
    extra = [c for c in df.columns if c not in known]
    return df[known + extra].reset_index(drop=True)
