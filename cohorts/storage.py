"""Cohort storage: a directory with ``manifest.json``, Parquet tables and an optional VCF.

Layout::

    COHORT/
      manifest.json            name, version, genome build, provenance, licence, tables + SHA-256
      patients.parquet  treatments.parquet  outcomes.parquet
      adverse_events.parquet   tumour_variants.parquet      (optional)
      germline.vcf.gz(.tbi|.csi)                            (optional multi-sample VCF + index)
      truth/*.parquet                                       (optional; never training data)

Writes are atomic: everything goes to a temporary directory beside the target, which is renamed
into place only when complete (an existing cohort is replaced only with ``overwrite=True``).
Loading checks the manifest, the checksums and every table rule (:mod:`cohorts.validate`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cohorts.errors import CohortError, CohortValidationError
from cohorts.manifest import (
    MANIFEST_NAME,
    CovariateEntry,
    Licence,
    Manifest,
    Provenance,
    TableEntry,
    VcfEntry,
    read_manifest,
    sha256_file,
)
from cohorts.tables import LAB_COLUMNS, OPTIONAL_TABLES, REQUIRED_TABLES, TABLES, conform, empty_table
from cohorts.validate import Problem, validate_tables, validate_vcf_samples
from genomics.errors import DegradedResultWarning
from genomics.fileio import swap_directory
from recommender import vocab
from recommender.schema import Patient, patient_from_dict

__all__ = ["Cohort", "load_cohort", "raise_problems", "tables_from_patients", "write_cohort"]


def raise_problems(problems: list[Problem], directory: Path | None, files: Mapping[str, str] | None = None) -> None:
    """Raise :class:`CohortValidationError` for the first error in ``problems`` (warnings are warned)."""
    errors = [p for p in problems if p.severity == "error"]
    for p in problems:
        if p.severity == "warning":
            warnings.warn(p.describe(), DegradedResultWarning, stacklevel=3)
    if not errors:
        return
    first = errors[0]
    files = files or {}
    file = files.get(first.table)
    if file is None and directory is not None:
        file = str(directory / f"{first.table}.parquet") if first.table in TABLES else str(directory)
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    raise CohortValidationError(
        f"{first.message}{more}", problems=errors, file=file, record=first.record,
        field=first.column, fix="correct the source data (or the loader options) and import the cohort again",
    )


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    df.to_parquet(path, index=False, engine="pyarrow", compression="zstd")


def _copy_vcf(vcf: Path, dest_dir: Path) -> tuple[Path, Path | None]:
    name = "germline.bcf" if vcf.suffix == ".bcf" else ("germline.vcf.gz" if vcf.name.endswith(".gz") else "germline.vcf")
    dest = dest_dir / name
    shutil.copyfile(vcf, dest)
    index = None
    for suffix in (".tbi", ".csi"):
        candidate = Path(f"{vcf}{suffix}")
        if candidate.exists():
            index = Path(f"{dest}{suffix}")
            shutil.copyfile(candidate, index)
            break
    if index is None and name != "germline.vcf":
        import pysam

        try:
            pysam.tabix_index(str(dest), preset="vcf", force=True, keep_original=True, csi=name.endswith(".bcf"))
        except (OSError, ValueError) as err:
            raise CohortError(f"cannot index the VCF: {err}", file=vcf,
                              fix="give a bgzip-compressed, coordinate-sorted VCF (bcftools sort -Oz)") from None
        for suffix in (".tbi", ".csi"):
            if Path(f"{dest}{suffix}").exists():
                index = Path(f"{dest}{suffix}")
    return dest, index


def write_cohort(
    directory: str | os.PathLike[str],
    tables: Mapping[str, pd.DataFrame],
    *,
    name: str,
    licence: Licence,
    provenance: Provenance,
    genome_build: str = "GRCh38",
    version: str = "1",
    description: str | None = None,
    vcf: str | os.PathLike[str] | None = None,
    truth_tables: Mapping[str, pd.DataFrame] | None = None,
    overwrite: bool = False,
    validate: bool = True,
    covariates: Iterable[Any] = (),
    source_files: Mapping[str, str] | None = None,
) -> Cohort:
    """Validate ``tables`` and write them as a cohort directory (atomically).

    Parameters
    ----------
    directory
        Target directory; must not exist unless ``overwrite``.
    tables
        ``patients``, ``treatments``, ``outcomes`` (required) and optionally ``adverse_events``,
        ``tumour_variants`` as DataFrames (columns as in :mod:`cohorts.tables`; extra columns kept).
    vcf
        Optional multi-sample germline VCF/BCF, copied into the cohort with its index (created
        when missing).
    truth_tables
        Tables stored under ``truth/`` (e.g. the simulator's oracle outcomes), kept apart from
        training data.
    covariates
        Declared clinical covariates (:class:`~cohorts.manifest.CovariateEntry`, a
        :class:`~recommender.features.covariates.CovariateSpec` or its dict), each a ``patients`` column.
    source_files
        Table name -> the user's file it was read from (``patients.csv``...): validation errors name that file
        instead of "patients table".
    """
    directory = Path(directory)
    if directory.exists() and not overwrite:
        raise CohortError("the output directory already exists", file=directory,
                          fix="choose another output directory or pass --overwrite")
    if provenance.vocab_version is None:
        provenance = provenance.model_copy(update={"vocab_version": vocab.VOCAB_VERSION})
    conformed: dict[str, pd.DataFrame] = {}
    for tname in REQUIRED_TABLES + OPTIONAL_TABLES:
        if tname in tables:
            try:
                conformed[tname] = conform(tname, tables[tname])
            except ValueError as err:
                raise CohortValidationError(str(err)[:300], file=(source_files or {}).get(tname, f"{tname} table"),
                                            field=str(err).split(":")[0].removeprefix("column "),
                                            fix="correct the source data and import again") from None
        elif tname in OPTIONAL_TABLES:
            conformed[tname] = empty_table(tname)
    if validate:
        raise_problems(validate_tables(conformed, genome_build=genome_build), None,
                       {t: (source_files or {}).get(t, f"{t} table") for t in conformed})
    cov_entries = _covariate_entries(covariates, conformed["patients"])

    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".part", dir=directory.parent))
    try:
        entries = {}
        for tname, df in conformed.items():
            path = tmp / f"{tname}.parquet"
            _write_parquet(df, path)
            entries[tname] = TableEntry(path=path.name, rows=len(df), sha256=sha256_file(path))
        truth_entries = {}
        if truth_tables:
            (tmp / "truth").mkdir()
            for tname, df in truth_tables.items():
                path = tmp / "truth" / f"{tname}.parquet"
                _write_parquet(df.reset_index(drop=True), path)
                truth_entries[tname] = TableEntry(path=f"truth/{path.name}", rows=len(df), sha256=sha256_file(path))
        vcf_entry = None
        if vcf is not None:
            vcf = Path(vcf)
            if not vcf.exists():
                raise CohortError("VCF not found", file=vcf, fix="check the path of the cohort VCF")
            problems, n_samples = validate_vcf_samples(vcf, conformed["patients"], genome_build=genome_build)
            if validate:
                raise_problems(problems, None, {"vcf": str(vcf), "patients": "patients table"})
            dest, index = _copy_vcf(vcf, tmp)
            vcf_entry = VcfEntry(path=dest.name, index=None if index is None else index.name,
                                 sha256=sha256_file(dest), samples=n_samples)
        manifest = Manifest(
            name=name, version=version, description=description, genome_build=genome_build,  # type: ignore[arg-type]
            licence=licence, provenance=provenance, tables=entries, vcf=vcf_entry, truth_tables=truth_entries,
            covariates=cov_entries,
        )
        (tmp / MANIFEST_NAME).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        swap_directory(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Cohort(directory, manifest)


def _covariate_entries(covariates: Iterable[Any], patients: pd.DataFrame) -> tuple[CovariateEntry, ...]:
    """Declared covariates as manifest entries; each must be a column of the patients table."""
    out = []
    for c in covariates:
        data = c.to_dict() if hasattr(c, "to_dict") else (c.model_dump() if hasattr(c, "model_dump") else dict(c))
        entry = CovariateEntry(**{**data, "levels": tuple(data.get("levels") or ())})
        if entry.name not in patients.columns:
            raise CohortError(f"declared covariate {entry.name!r} is not a column of the patients table",
                              file="patients table", field=entry.name,
                              fix="declare only columns the loader writes")
        out.append(entry)
    names = [e.name for e in out]
    if len(set(names)) != len(names):
        raise CohortError("a covariate is declared twice", field="covariates", fix="declare each column once")
    return tuple(out)


def load_cohort(directory: str | os.PathLike[str], *, validate: bool = True, check_vcf: bool = True) -> Cohort:
    """Open a cohort directory, verifying checksums and (by default) every table rule."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    cohort = Cohort(directory, manifest)
    for tname in REQUIRED_TABLES:
        if tname not in manifest.tables:
            raise CohortError(f"manifest lists no {tname} table", file=directory / MANIFEST_NAME, field="tables",
                              fix="re-import the cohort")
    all_entries = list(manifest.tables.values()) + list(manifest.truth_tables.values())
    if manifest.vcf is not None:
        all_entries.append(TableEntry(path=manifest.vcf.path, rows=0, sha256=manifest.vcf.sha256))
    for entry in all_entries:
        path = directory / entry.path
        if not path.exists():
            raise CohortError("file listed in the manifest is missing", file=path, fix="restore the file or re-import")
        if validate and sha256_file(path) != entry.sha256:
            raise CohortError("file changed since the cohort was written (SHA-256 differs from the manifest)",
                              file=path, fix="restore the original file or re-import the cohort")
    if validate:
        tables = {t: cohort.table(t) for t in manifest.tables}
        files = {t: str(directory / e.path) for t, e in manifest.tables.items()}
        raise_problems(validate_tables(tables, genome_build=manifest.genome_build), directory, files)
        if check_vcf and manifest.vcf is not None:
            problems, _ = validate_vcf_samples(directory / manifest.vcf.path, tables["patients"],
                                               genome_build=manifest.genome_build)
            raise_problems(problems, directory, {"vcf": str(directory / manifest.vcf.path), **files})
    return cohort


@dataclass
class Cohort:
    """An opened cohort directory (tables are read lazily and cached)."""

    path: Path
    manifest: Manifest
    _cache: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    # -- tables ---------------------------------------------------------------------------------
    def table(self, name: str) -> pd.DataFrame:
        """Table ``name`` as a DataFrame (a copy; cast to the table's column kinds)."""
        if name not in self._cache:
            entry = self.manifest.tables.get(name) or self.manifest.truth_tables.get(name)
            if entry is None:
                if name in OPTIONAL_TABLES:
                    self._cache[name] = empty_table(name)
                    return self._cache[name].copy()
                raise CohortError(f"cohort has no table {name!r}", file=self.path,
                                  fix=f"choose one of: {', '.join(self.table_names)}")
            df = pd.read_parquet(self.path / entry.path, engine="pyarrow")
            self._cache[name] = conform(name, df) if name in TABLES else df
        return self._cache[name].copy()

    @property
    def table_names(self) -> list[str]:
        return list(self.manifest.tables)

    @property
    def patients(self) -> pd.DataFrame:
        return self.table("patients")

    @property
    def treatments(self) -> pd.DataFrame:
        return self.table("treatments")

    @property
    def outcomes(self) -> pd.DataFrame:
        return self.table("outcomes")

    @property
    def adverse_events(self) -> pd.DataFrame:
        return self.table("adverse_events")

    @property
    def tumour_variants(self) -> pd.DataFrame:
        return self.table("tumour_variants")

    def truth(self, name: str) -> pd.DataFrame:
        """A table kept under ``truth/`` (never training data)."""
        if name not in self.manifest.truth_tables:
            raise CohortError(f"cohort has no truth table {name!r}", file=self.path,
                              fix=f"choose one of: {', '.join(self.manifest.truth_tables) or '(none)'}")
        return pd.read_parquet(self.path / self.manifest.truth_tables[name].path, engine="pyarrow")

    @property
    def vcf_path(self) -> Path | None:
        return None if self.manifest.vcf is None else self.path / self.manifest.vcf.path

    @property
    def n_patients(self) -> int:
        return self.manifest.tables["patients"].rows

    # -- queries --------------------------------------------------------------------------------
    def query(self, where: str, table: str = "patients", columns: str = "*") -> pd.DataFrame:
        """Rows of ``table`` matching a filter (:mod:`cohorts.filters`, never run as SQL), e.g. ``"ecog <= 1"``."""
        from cohorts.query import query

        return query(self, where, table=table, columns=columns)

    def sql(self, statement: str) -> pd.DataFrame:
        """Run one SQL ``SELECT`` over the cohort's tables (views on a locked connection: no file or network)."""
        from cohorts.query import sql

        return sql(self, statement)

    # -- patients -------------------------------------------------------------------------------
    def iter_patients(self) -> Iterator[Patient]:
        """Every patient as a :class:`~recommender.schema.Patient` (table order)."""
        yield from _patients_from_tables(self)

    def patient(self, patient_id: str) -> Patient:
        """One patient as a :class:`~recommender.schema.Patient`."""
        for p in _patients_from_tables(self, only={patient_id}):
            return p
        raise CohortError("no such patient in the cohort", file=self.path / "patients.parquet", field="patient_id",
                          fix="list patient IDs with 'recommender cohort query COHORT \"true\"'")

    def info(self) -> dict[str, Any]:
        """Summary for ``recommender cohort info`` (JSON-ready)."""
        m = self.manifest
        pts = self.patients
        out = self.outcomes
        info: dict[str, Any] = {
            "path": str(self.path), "name": m.name, "version": m.version, "format": m.format,
            "genome_build": m.genome_build, "licence": m.licence.model_dump(), "provenance": m.provenance.model_dump(),
            "tables": {t: e.rows for t, e in m.tables.items()},
            "covariates": [c.name for c in m.covariates],
            "truth_tables": {t: e.rows for t, e in m.truth_tables.items()},
            "vcf": None if m.vcf is None else {"path": m.vcf.path, "index": m.vcf.index, "samples": m.vcf.samples},
            "patients": len(pts),
            "cancer_types": {str(k): int(v) for k, v in pts["cancer_type"].value_counts(dropna=True).items()},
            "splits": {str(k): int(v) for k, v in pts["split"].value_counts(dropna=True).items()},
            "regimens": {str(k): int(v) for k, v in self.treatments["regimen"].value_counts().items()},
            "os_events": int(out["os_event"].fillna(False).sum()),
            "os_known": int(out["os_days"].notna().sum()),
            "pfs_known": int(out["pfs_days"].notna().sum()),
            "best_response_known": int(out["best_response"].notna().sum()),
        }
        return info


# ---------------------------------------------------------------------------------------------
# Patient records <-> tables
# ---------------------------------------------------------------------------------------------


def _na(v: Any) -> Any:
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        return v
    return v.item() if hasattr(v, "item") else v


def tables_from_patients(patients: Iterable[Patient], *, vcf_samples: bool = True) -> dict[str, pd.DataFrame]:
    """Flatten :class:`Patient` records into cohort tables.

    Each patient's outcomes become treatments ``PID-t1, PID-t2, ...``; the outcome row keeps the
    first outcome's response and survival (a cohort row holds one course per patient). Lab values
    are stored in their canonical units.
    """
    pts, trs, outs, aes, tvs = [], [], [], [], []
    for p in patients:
        row: dict[str, Any] = {
            "patient_id": p.patient_id,
            "sample_id": p.germline.sample_id if (p.germline and vcf_samples) else None,
            "age": p.demographics.age, "sex": p.demographics.sex, "ancestry": p.demographics.ancestry,
            "cancer_type": p.diagnosis.cancer_type if p.diagnosis else None,
            "stage": p.diagnosis.stage if p.diagnosis else None,
            "histology": p.diagnosis.histology if p.diagnosis else None,
            "ecog": p.diagnosis.ecog if p.diagnosis else None,
            "smoking": p.lifestyle.smoking, "pack_years": p.lifestyle.pack_years, "alcohol": p.lifestyle.alcohol,
            "alcohol_units_per_week": p.lifestyle.alcohol_units_per_week,
            "bmi": p.lifestyle.bmi, "physical_activity": p.lifestyle.physical_activity,
            "comorbidities": list(p.history.comorbidities), "medications": list(p.medications),
        }
        for lab in LAB_COLUMNS:
            row[lab] = p.history.lab(lab)
        pts.append(row)
        for i, outcome in enumerate(p.outcomes, start=1):
            tid = f"{p.patient_id}-t{i}"
            trs.append({"treatment_id": tid, "patient_id": p.patient_id, "regimen": outcome.treatment.regimen,
                        "drugs": list(outcome.treatment.drugs), "line": None})
            for ae in outcome.adverse_events:
                aes.append({"patient_id": p.patient_id, "treatment_id": tid, "term": ae.term, "grade": ae.grade,
                            "drug": ae.drug})
        if p.outcomes:
            o = p.outcomes[0]
            outs.append({
                "patient_id": p.patient_id, "best_response": o.best_response,
                "pfs_days": o.pfs.time_days if o.pfs else None, "pfs_event": o.pfs.event if o.pfs else None,
                "os_days": o.os.time_days if o.os else None, "os_event": o.os.event if o.os else None,
                "os_cause": o.os.cause if o.os else None,
            })
        else:
            outs.append({"patient_id": p.patient_id})
        for tv in p.tumour_variants:
            tvs.append(tv.model_dump())
            tvs[-1]["patient_id"] = p.patient_id
    frame = lambda rows, name: conform(name, pd.DataFrame(rows)) if rows else empty_table(name)
    return {
        "patients": frame(pts, "patients"), "treatments": frame(trs, "treatments"), "outcomes": frame(outs, "outcomes"),
        "adverse_events": frame(aes, "adverse_events"), "tumour_variants": frame(tvs, "tumour_variants"),
    }


def _patients_from_tables(cohort: Cohort, only: set[str] | None = None) -> Iterator[Patient]:
    pts = cohort.patients
    if only is not None:
        pts = pts[pts["patient_id"].isin(list(only))]
    by = {}
    for name in ("treatments", "outcomes", "adverse_events", "tumour_variants"):
        df = cohort.table(name)
        if only is not None:
            df = df[df["patient_id"].isin(list(only))]
        grouped: dict[str, list[dict]] = {}
        for rec in df.to_dict("records"):
            grouped.setdefault(rec["patient_id"], []).append(rec)
        by[name] = grouped
    vcf = cohort.vcf_path
    for rec in pts.to_dict("records"):
        pid = rec["patient_id"]
        labs = []
        for lab in LAB_COLUMNS:
            v = _na(rec.get(lab))
            if v is not None:
                labs.append({"name": lab, "value": v, "unit": vocab.LABS[lab].unit})
        diag = None
        if _na(rec.get("cancer_type")) is not None:
            diag = {k: _na(rec.get(k)) for k in ("cancer_type", "stage", "histology", "ecog")}
        lifestyle = {k: _na(rec.get(k)) for k in ("smoking", "pack_years", "alcohol", "alcohol_units_per_week", "bmi",
                                                   "physical_activity")}
        lifestyle = {k: v for k, v in lifestyle.items() if v is not None}
        data: dict[str, Any] = {
            "patient_id": pid,
            "demographics": {k: v for k, v in {"age": _na(rec.get("age")), "sex": _na(rec.get("sex")),
                                                "ancestry": _na(rec.get("ancestry"))}.items() if v is not None},
            "diagnosis": diag,
            "history": {"comorbidities": list(rec.get("comorbidities") or []), "labs": labs},
            "medications": list(rec.get("medications") or []),
            "lifestyle": lifestyle,
        }
        if vcf is not None and _na(rec.get("sample_id")) is not None:
            data["germline"] = {"path": str(vcf), "sample_id": rec["sample_id"],
                                "genome_build": cohort.manifest.genome_build}
        tv_rows = by["tumour_variants"].get(pid)
        if tv_rows is not None:
            variants = []
            for tv in tv_rows:
                item = {k: _na(tv.get(k)) for k in ("gene", "protein_change", "variant_type", "fusion_partner",
                                                       "chrom", "pos", "ref", "alt", "vaf")}
                variants.append({k: v for k, v in item.items() if v is not None})
            data["tumour_variants"] = variants
        tested = rec.get("tumour_tested_genes")
        if tested is not None and not isinstance(tested, float):  # a panel: tested genes without a variant are wild type
            data["tumour_tested_genes"] = [str(g) for g in list(tested)]
        tr_rows = by["treatments"].get(pid)
        out_rows = by["outcomes"].get(pid)
        ae_rows = by["adverse_events"].get(pid)
        if tr_rows:
            # The outcome belongs to the whole recorded course: one Outcome on the combined treatment.
            trs = tr_rows
            if len(trs) == 1:
                treatment = {"regimen": trs[0]["regimen"], "drugs": list(trs[0]["drugs"])}
            else:
                treatment = {"regimen": " + ".join(t["regimen"] for t in trs),
                             "drugs": sorted({d for t in trs for d in t["drugs"]})}
            outcome: dict[str, Any] = {"treatment": treatment}
            if out_rows:
                o = out_rows[0]
                if _na(o["best_response"]) is not None:
                    outcome["best_response"] = o["best_response"]
                for end in ("pfs", "os"):
                    if _na(o[f"{end}_days"]) is not None:
                        surv = {"time_days": float(o[f"{end}_days"]), "event": bool(o[f"{end}_event"])}
                        if end == "os" and _na(o["os_cause"]) is not None:
                            surv["cause"] = o["os_cause"]
                        outcome[end] = surv
            if ae_rows is not None:
                outcome["adverse_events"] = [
                    {"term": a["term"], "grade": int(a["grade"]), "drug": _na(a.get("drug"))}
                    for a in ae_rows
                ]
            data["outcomes"] = [outcome]
        yield patient_from_dict(data, file=cohort.path, record=pid)

