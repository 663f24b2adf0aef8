"""TCGA Pan-Cancer Clinical Data Resource (Liu J et al., Cell 2018;173:400-416), sheet ``TCGA-CDR``.

11,160 patients of 33 cancer types with demographics, AJCC stage, first-course treatment outcome
and the curated endpoints OS, DSS, DFI and PFI (event 0/1, time in days). Mapped: cancer type
TCGA study -> OncoTree (:data:`recommender.vocab.TCGA_TO_ONCOTREE`), ``race`` -> self-reported
ancestry, first-course outcome -> best response (Complete/Partial Remission/Response -> CR/PR,
Stable Disease -> SD, Progressive Disease -> PD), OS -> ``os_*``, PFI -> ``pfs_*`` (the endpoint
Liu et al. recommend for progression), DSS/DFI kept as extra outcome columns. Treatments are not
in this table: each patient gets one ``treatment (unspecified)`` row (the first course whose
outcome is recorded; join to TCGA drug data by ``bcr_patient_barcode`` elsewhere). A PFI time later
than the OS time (a handful of records) leaves PFS empty for that patient (counted in the notes).

Terms: TCGA open-access clinical data (NIH Genomic Data Sharing policy; no re-identification).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from cohorts.errors import CohortError
from cohorts.loaders._common import LoadedCohort, file_version, require_file
from cohorts.manifest import Licence, Provenance
from recommender import vocab

__all__ = ["load_tcga_cdr"]

_RESPONSE = {"Complete Remission/Response": "CR", "Partial Remission/Response": "PR", "Stable Disease": "SD",
             "Progressive Disease": "PD"}
_SEX = {"FEMALE": "female", "MALE": "male"}
_REQUIRED = ["bcr_patient_barcode", "type", "age_at_initial_pathologic_diagnosis", "gender", "OS", "OS.time",
             "PFI", "PFI.time"]


def _stage(value) -> str | None:
    if not isinstance(value, str):
        return None
    s = value.strip().upper().removeprefix("STAGE").strip()
    import re

    return s if re.fullmatch(r"(0|I{1,3}|IV)([A-C][1-3]?)?", s) else None


def _excel_engine() -> str:
    """``calamine`` (Rust, ~10x faster) when installed, else ``openpyxl``."""
    import importlib.util

    return "calamine" if importlib.util.find_spec("python_calamine") else "openpyxl"


def _num(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series, errors="coerce")


def load_tcga_cdr(path: str | os.PathLike[str]) -> LoadedCohort:
    """Load ``TCGA-CDR-SupplementalTableS1.xlsx`` (a file, or the folder holding it)."""
    path = Path(path)
    if path.is_dir():
        path = path / "TCGA-CDR-SupplementalTableS1.xlsx"
    require_file(path, "TCGA-CDR workbook", "give TCGA-CDR-SupplementalTableS1.xlsx (Liu et al. 2018, Table S1)")
    try:
        df = pd.read_excel(path, sheet_name="TCGA-CDR", engine=_excel_engine())
    except ValueError as err:
        raise CohortError(f"cannot read sheet TCGA-CDR: {err}", file=path, field="sheet",
                          fix="give the unmodified TCGA-CDR supplementary workbook") from None
    except (OSError, KeyError) as err:
        raise CohortError(f"cannot read the workbook: {err}", file=path, fix="give the .xlsx file") from None
    missing = [c for c in _REQUIRED if c not in df.columns]
    if missing:
        raise CohortError(f"column(s) missing: {', '.join(missing)}", file=path, field=missing[0],
                          fix="give the unmodified TCGA-CDR supplementary workbook")
    unknown = sorted(set(df["type"].dropna()) - set(vocab.TCGA_TO_ONCOTREE))
    if unknown:
        raise CohortError(f"unknown TCGA study code(s) {', '.join(unknown)}", file=path, field="type",
                          fix="add them to recommender.vocab.TCGA_TO_ONCOTREE")
    race = df.get("race").where(~df.get("race").astype(str).str.startswith("["), None)
    pts = pd.DataFrame({
        "patient_id": df["bcr_patient_barcode"].astype(str),
        "age": _num(df["age_at_initial_pathologic_diagnosis"]),
        "sex": df["gender"].map(_SEX).fillna("unknown"),
        "ancestry": race,
        "cancer_type": df["type"].map(vocab.TCGA_TO_ONCOTREE),
        "tcga_study": df["type"],
        "stage": df["ajcc_pathologic_tumor_stage"].map(_stage),
        "histology": df["histological_type"].where(~df["histological_type"].astype(str).str.startswith("["), None),
        "histological_grade": df.get("histological_grade"),
        "initial_pathologic_dx_year": _num(df.get("initial_pathologic_dx_year")),
    })
    os_days, pfs_days = _num(df["OS.time"]), _num(df["PFI.time"])
    os_event, pfs_event = _num(df["OS"]), _num(df["PFI"])
    bad_pfs = (pfs_days > os_days) & os_days.notna()
    pfs_days = pfs_days.mask(bad_pfs)
    pfs_event = pfs_event.mask(bad_pfs | pfs_days.isna())
    os_event = os_event.mask(os_days.isna())
    os_days = os_days.mask(os_event.isna())
    pfs_days = pfs_days.mask(pfs_event.isna())
    to_bool = lambda s: s.map(lambda v: None if pd.isna(v) else bool(v))
    outs = pd.DataFrame({
        "patient_id": pts["patient_id"],
        "best_response": df["treatment_outcome_first_course"].map(_RESPONSE),
        "pfs_days": pfs_days, "pfs_event": to_bool(pfs_event),
        "os_days": os_days, "os_event": to_bool(os_event),
        "os_cause": df.get("cause_of_death").where(~df.get("cause_of_death").astype(str).str.startswith("["), None),
        "dss_days": _num(df.get("DSS.time")), "dss_event": _num(df.get("DSS")),
        "dfi_days": _num(df.get("DFI.time")), "dfi_event": _num(df.get("DFI")),
    })
    trs = pd.DataFrame({"treatment_id": pts["patient_id"] + "-t1", "patient_id": pts["patient_id"],
                        "regimen": "treatment (unspecified)", "drugs": [[] for _ in range(len(pts))]})
    return LoadedCohort(
        name="tcga-cdr",
        tables={"patients": pts, "treatments": trs, "outcomes": outs},
        licence=Licence(name="TCGA open access", url="https://gdc.cancer.gov/about-data/publications/pancanatlas",
                        note="NIH Genomic Data Sharing policy; no re-identification; cite Liu J et al. Cell 2018 "
                             "and TCGA"),
        provenance=Provenance(
            source="TCGA-CDR-SupplementalTableS1.xlsx (GDC PanCanAtlas; copy in jahanshah/cdrvis)",
            source_version=file_version(path),
            citation="Liu J et al. Cell 2018;173:400-416.e11",
            loader="cohorts.loaders.tcga_cdr",
            notes=(f"pfs = PFI; {int(bad_pfs.sum())} record(s) with PFI.time > OS.time left without PFS",
                   "os_cause from cause_of_death (free text); DSS and DFI kept as extra columns",
                   "treatments not in TCGA-CDR: one 'treatment (unspecified)' row per patient (first course)"),
        ),
        description="TCGA Pan-Cancer Clinical Data Resource: 33 cancer types, curated survival endpoints",
    )
