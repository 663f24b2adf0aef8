"""Shared pieces of the loaders."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cohorts.errors import CohortError
from cohorts.manifest import Licence, Provenance, sha256_file

__all__ = ["DAYS_PER_MONTH", "LoadedCohort", "file_version", "require_file", "variant_type_from_protein"]

#: Days per month used to turn months into days (365.25 / 12).
DAYS_PER_MONTH = 365.25 / 12


@dataclass
class LoadedCohort:
    """Tables built by a loader plus what the manifest needs."""

    name: str
    tables: dict[str, pd.DataFrame]
    licence: Licence
    provenance: Provenance
    genome_build: str = "GRCh38"
    description: str | None = None
    vcf: Path | None = None
    truth_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: Clinical covariates the source declares (``patients`` columns; stored in the manifest).
    covariates: tuple = ()
    #: Table name -> the source file it came from (validation errors name it).
    source_files: dict[str, str] = field(default_factory=dict)

    def write(self, directory: str | os.PathLike[str], *, overwrite: bool = False):
        """Store as a cohort directory (validated, atomic); returns the :class:`~cohorts.storage.Cohort`."""
        from cohorts.storage import write_cohort

        return write_cohort(
            directory, self.tables, name=self.name, licence=self.licence, provenance=self.provenance,
            genome_build=self.genome_build, description=self.description, vcf=self.vcf,
            truth_tables=self.truth_tables or None, overwrite=overwrite, covariates=self.covariates,
            source_files=self.source_files or None,
        )


def require_file(path: str | os.PathLike[str], what: str, fix: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise CohortError(f"{what} not found", file=path, fix=fix)
    return path


def file_version(*paths: Path) -> str:
    """``name sha256[:12]`` of each source file (recorded as the source version)."""
    return "; ".join(f"{p.name} sha256:{sha256_file(p)[:12]}" for p in paths)


_MISSENSE = re.compile(r"^[A-Z]\d+[A-Z]$")


def variant_type_from_protein(change: str | None) -> str:
    """Best guess of the variant type from a one-letter protein change (cBioPortal style)."""
    if not change:
        return "other_snv"
    c = change.removeprefix("p.")
    if "splice" in c.lower():
        return "splice"
    if "fs" in c:
        return "frameshift"
    if c.endswith("*") and _MISSENSE.match(c[:-1] + "X") and "_" not in c:
        return "nonsense"
    if any(tok in c for tok in ("del", "ins", "dup")):
        return "inframe_indel"
    if c.endswith("="):
        return "silent"
    if _MISSENSE.match(c):
        return "missense"
    return "other_snv"
