"""The cohort manifest (``manifest.json``): what the cohort is, where it came from, what it holds.

Every table file is listed with its row count and SHA-256, so a changed or truncated file is
detected on load. The manifest records the package, vocabulary and schema versions that wrote it.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cohorts.errors import CohortError
from genomics.fileio import sha256_file

__all__ = [
    "COHORT_FORMAT",
    "MANIFEST_NAME",
    "CovariateEntry",
    "Licence",
    "Manifest",
    "Provenance",
    "TableEntry",
    "VcfEntry",
    "package_version",
    "read_manifest",
    "sha256_file",
]

#: Version of the on-disk cohort format.
COHORT_FORMAT = "cohort/1.0"
MANIFEST_NAME = "manifest.json"


def package_version() -> str:
    """Installed version of the product (``0.0.0+unknown`` in a bare source tree)."""
    try:
        from importlib.metadata import version

        return version("genomics-treatment-recommender")
    except Exception:  # noqa: BLE001
        return "0.0.0+unknown"




class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Licence(_Model):
    """Licence of the cohort's data (kept with the data; never copied into the package)."""

    name: str = Field(description="e.g. CC0-1.0, MIT, ODbL-1.0, 'TCGA open access'")
    url: str | None = None
    note: str | None = None


class Provenance(_Model):
    """Where the data came from and what wrote the cohort."""

    source: str = Field(description="source dataset, repository or 'simulated'")
    source_version: str | None = Field(default=None, description="commit, release or file checksum")
    citation: str | None = None
    loader: str = Field(description="module that built the cohort")
    created: str = Field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0).isoformat())
    package_version: str = Field(default_factory=package_version)
    vocab_version: str | None = None
    notes: tuple[str, ...] = ()


class TableEntry(_Model):
    path: str
    rows: int = Field(ge=0)
    sha256: str


class VcfEntry(_Model):
    path: str
    index: str | None = None
    sha256: str
    samples: int = Field(ge=0)


class CovariateEntry(_Model):
    """A declared covariate (a ``patients`` column; see :mod:`recommender.features.covariates`)."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
    kind: Literal["numeric", "binary", "categorical"] = "numeric"
    levels: tuple[str, ...] = ()
    label: str = ""
    unit: str = ""


class Manifest(_Model):
    """``manifest.json`` of a cohort directory."""

    format: Literal["cohort/1.0"] = COHORT_FORMAT
    name: str = Field(min_length=1)
    version: str = "1"
    description: str | None = None
    genome_build: Literal["GRCh38", "GRCh37"] = "GRCh38"
    licence: Licence
    provenance: Provenance
    tables: dict[str, TableEntry]
    vcf: VcfEntry | None = None
    #: Tables kept apart from what a model may train on (e.g. the simulator's oracle outcomes).
    truth_tables: dict[str, TableEntry] = {}
    #: Clinical covariates the source declares (``cohort train`` uses them all by default).
    covariates: tuple[CovariateEntry, ...] = ()


def read_manifest(directory: str | os.PathLike[str]) -> Manifest:
    """Read and validate ``DIRECTORY/manifest.json``; raises :class:`CohortError`."""
    path = Path(directory) / MANIFEST_NAME
    if not Path(directory).is_dir():
        raise CohortError("cohort directory not found", file=directory,
                          fix="give a directory written by 'recommender cohort import' or 'cohort simulate'")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CohortError("no manifest.json in the cohort directory", file=path,
                          fix="give a directory written by 'recommender cohort import' or 'cohort simulate'") from None
    except json.JSONDecodeError as err:
        raise CohortError(f"manifest is not valid JSON: {err.msg}", file=path, record=f"line {err.lineno}",
                          fix="restore the manifest or re-import the cohort") from None
    try:
        return Manifest.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(x) for x in first["loc"])
        raise CohortError(first["msg"], file=path, field=field,
                          fix="restore the manifest or re-import the cohort") from None
