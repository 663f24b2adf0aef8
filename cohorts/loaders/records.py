"""Cohorts from patient records (Phenopackets v2 / patient JSON) or from CSV/TSV tables."""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

import pandas as pd

from cohorts.errors import CohortError
from cohorts.loaders._common import LoadedCohort, file_version
from cohorts.manifest import Licence, Provenance
from cohorts.storage import tables_from_patients
from cohorts.tables import OPTIONAL_TABLES, REQUIRED_TABLES, TABLES

__all__ = ["load_csv", "load_phenopackets"]


def _json_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".json" or p.name.endswith(".jsonl"))
        if not files:
            raise CohortError("no .json files in the folder", file=path, fix="give a folder of Phenopacket JSON files")
        return files
    if not path.is_file():
        raise CohortError("not found", file=path, fix="give a Phenopacket JSON file or a folder of them")
    return [path]


def load_phenopackets(path: str | os.PathLike[str], *, name: str | None = None, licence: str = "unspecified",
                      vcf: str | os.PathLike[str] | None = None) -> LoadedCohort:
    """Build a cohort from Phenopacket v2 or patient JSON files (a file, a JSON-lines file or a folder).

    ``vcf``: the cohort's multi-sample germline VCF; patients' ``sample_id`` come from each
    record's germline reference.
    """
    from recommender.schema import load_patient, load_patients

    path = Path(path)
    patients = []
    first_file: dict[str, Path] = {}
    for f in _json_files(path):
        text_start = f.read_text(encoding="utf-8", errors="replace").lstrip()[:1]
        if f.name.endswith(".jsonl") or text_start == "[":
            found = load_patients(f)
        else:
            found = [load_patient(f)]
        for patient in found:  # a duplicate across files would surface as "patients table row N": name both files
            pid = patient.patient_id
            if pid in first_file:
                raise CohortError(f"patient_id {pid[:40]!r} appears twice (first in {first_file[pid].name})", file=f,
                                  record=f"patient {pid[:40]}", field="patient_id",
                                  fix="give each patient one record with its own patient_id")
            first_file[pid] = f
        patients.extend(found)
    try:
        tables = tables_from_patients(patients, vcf_samples=vcf is not None)
    except ValueError as err:
        raise CohortError(f"the records do not make cohort tables: {str(err)[:200]}", file=path,
                          fix="correct the records named in this message and import again") from None
    return LoadedCohort(
        name=name or path.stem,
        tables=tables,
        licence=Licence(name=licence),
        provenance=Provenance(source=str(path.name), loader="cohorts.loaders.records.load_phenopackets",
                              notes=(f"{len(patients)} record(s)",)),
        vcf=None if vcf is None else Path(vcf),
    )


def _parse_list(value) -> list:
    if isinstance(value, list):
        return value
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)) or value == "":
        return []
    text = str(value).strip()
    if text.startswith("["):
        try:
            return list(json.loads(text))
        except (json.JSONDecodeError, RecursionError, ValueError):
            pass
        if text.count("[") > 8 or len(text) > 100_000:  # issue 16: 200 '[' must not reach Python's parser
            raise ValueError(f"a list cell nested {text.count('[')} levels deep ({text[:20]!r}...)")
        try:
            return list(ast.literal_eval(text))
        except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError) as err:
            raise ValueError(f"a list cell that is neither a JSON list nor 'a;b' ({text[:30]!r}): {err}") from None
    return [part.strip() for part in text.replace("|", ";").split(";") if part.strip()]


def load_csv(path: str | os.PathLike[str], *, name: str | None = None, licence: str = "unspecified",
             genome_build: str = "GRCh38", vcf: str | os.PathLike[str] | None = None) -> LoadedCohort:
    """Build a cohort from a folder of ``patients``, ``treatments``, ``outcomes`` (+ optional
    ``adverse_events``, ``tumour_variants``) CSV or TSV files in the cohort column layout
    (:mod:`cohorts.tables`). List columns (``drugs``, ``medications``, ``comorbidities``) are
    written ``a;b`` or as a JSON list.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise CohortError("not a folder", file=folder, fix="give the folder holding patients.csv, treatments.csv, ...")
    tables, sources, source_files = {}, [], {}
    for tname in REQUIRED_TABLES + OPTIONAL_TABLES:
        found = [folder / f"{tname}{ext}" for ext in (".csv", ".tsv") if (folder / f"{tname}{ext}").is_file()]
        if not found:
            if tname in REQUIRED_TABLES:
                raise CohortError(f"{tname}.csv (or .tsv) missing", file=folder, field=tname,
                                  fix=f"add {tname}.csv with the columns of cohorts.tables.TABLES['{tname}']")
            continue
        f = found[0]
        try:
            df = pd.read_csv(f, sep="\t" if f.suffix == ".tsv" else ",", dtype_backend="numpy_nullable")
        except pd.errors.EmptyDataError:
            raise CohortError("empty file (no header line)", file=f, record="line 1",
                              fix=f"give {f.name} with a header line of the columns in cohorts.tables") from None
        except (OSError, pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
            text = " ".join(str(err).split())[:200]  # pandas' message ends with a newline
            line = re.search(r"\bline (\d+)", text)
            raise CohortError(f"cannot read: {text}", file=f, record=line and f"line {line.group(1)}",
                              fix="give a valid CSV/TSV file (one header line, the same number of fields per row)") \
                from None
        for col in TABLES[tname]:
            if col.kind == "list" and col.name in df.columns:
                try:
                    df[col.name] = df[col.name].map(_parse_list)
                except ValueError as err:
                    raise CohortError(str(err), file=f, field=col.name,
                                      fix="write list cells as a;b or as a flat JSON list [\"a\", \"b\"]") from None
        tables[tname] = df
        sources.append(f)
        source_files[tname] = str(f)
    return LoadedCohort(
        name=name or folder.name, tables=tables, licence=Licence(name=licence), genome_build=genome_build,
        provenance=Provenance(source=str(folder.name), source_version=file_version(*sources),
                              loader="cohorts.loaders.records.load_csv"),
        vcf=None if vcf is None else Path(vcf), source_files=source_files,
    )
