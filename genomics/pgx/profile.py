"""The pharmacogenomic profile of one sample: per-gene calls plus provenance (JSON round-trip).

A :class:`PgxProfile` holds one :class:`GeneCall` per gene. A gene that cannot be called is still a
``GeneCall`` (``status="not_called"`` with reason codes), never an exception. Reason codes
(``GeneCall.reasons``):

``no_data``                         no defining position of the gene is in the VCF for this sample
``missing_positions``               defining positions are missing and alleles defined there are not
                                    ruled out (``alleles_not_ruled_out``): no phenotype is given
``missing_positions_without_effect`` positions missing, but every allele defined there is excluded
``missing_required_positions``      a position the gene's exemptions require is missing
``missing_amp_tier1_positions``     a position of an AMP tier-1 allele is missing
``filled_with_reference``           missing positions were filled as reference (explicit option)
``all_positions_filled``            no defining position was in the VCF; all were filled (warning)
``gene_region_not_in_vcf``          fill was asked, but the VCF has no record in the gene region: not filled
``novel_allele``                    an undocumented allele at a defining position prevents a match
``novel_allele_treated_as_reference`` same, for genes where PharmCAT matches such alleles as reference
``no_matching_diplotype``           no pair of defined alleles explains the genotypes
``unphased_ambiguous``              several diplotypes score equally (unphased data)
``ambiguous_phenotype``             those diplotypes do not share one phenotype
``lowest_function_rule``            DPYD/RYR1 without phase: the two lowest-function alleles reported
``heterozygous_in_haploid``         heterozygous calls for a male's chrX gene
``cyp2d6_snv_indel_only``           CYP2D6 from SNVs/indels only (no deletions, duplications, hybrids)
``cyp2d6_copy_number_not_assessed`` no copy-number source: status ``provisional`` (phenotype not used for guidance)
``cyp2d6_accepted_without_copy_number`` the user opted in to use the SNV/indel-only CYP2D6 call
``copy_number_from_vcf``            CYP2D6 copy number read from the VCF (``copy_number:N``) and combined
``copy_number_conflict``            copy number 1 but heterozygous CYP2D6 calls: not called
``possible_cyp2d6_deletion``        all CYP2D6 sites homozygous while flanking sites are heterozygous
``partial_genotype``                half-missing genotype(s) (``./1``): the observed allele is used
``partial_genotype_ambiguous``      the completions of half-missing genotypes give several diplotypes
``too_many_partial_genotypes``      too many half-missing genotypes to enumerate: not called
``phase_between_blocks_unknown``    lowest-function genes: blocks combine several ways; worst case reported
``allele_not_in_phenotype_table``   a called allele has no function in the bundled phenotype table
``no_usable_genotype``              no genotype at any defining position could be used (see the other reasons)
``outside_call``                    the call comes from the outside-calls file
``phenotype_not_found``             the phenotype tables have no entry for the diplotype
"""

from __future__ import annotations

import functools
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SCHEMA_VERSION",
    "Diplotype",
    "GeneCall",
    "MissingPosition",
    "NovelVariant",
    "PgxProfile",
    "PgxProvenance",
    "PositionGenotype",
    "package_version",
]

SCHEMA_VERSION = "pgx-profile/1"

GeneStatus = Literal["called", "ambiguous", "incomplete", "not_called", "outside_call", "provisional"]


_DIST = "genomics_treatment_recommender"


def _version_from_metadata_folder() -> str | None:
    """The version from the first ``<dist>-<version>.dist-info`` / ``<dist>.egg-info`` on ``sys.path``.

    The same search :func:`importlib.metadata.version` makes, without importing ``importlib.metadata``
    (about 30 ms of a ``recommender pgx`` start-up). ``None`` when nothing is found.
    """
    for entry in sys.path:
        try:
            names = sorted(os.listdir(entry or "."))
        except OSError:
            continue
        for name in names:
            if name.startswith(_DIST + "-") and name.endswith(".dist-info"):
                return name[len(_DIST) + 1:-len(".dist-info")]
            if name == _DIST + ".egg-info" or (name.startswith(_DIST + "-") and name.endswith(".egg-info")):
                try:
                    with open(os.path.join(entry or ".", name, "PKG-INFO"), encoding="utf-8") as handle:
                        for line in handle:
                            if line.startswith("Version:"):
                                return line.split(":", 1)[1].strip()
                except OSError:
                    continue
    return None


@functools.lru_cache(maxsize=1)
def package_version() -> str:
    """Installed version of the project (``unknown`` when not installed)."""
    found = _version_from_metadata_folder()
    if found:
        return found
    from importlib import metadata

    try:
        return metadata.version("genomics-treatment-recommender")
    except metadata.PackageNotFoundError:  # pragma: no cover - source checkout without install
        return "unknown"


def _now_text() -> str:
    """The ``created`` stamp of a provenance (UTC, seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Frozen(BaseModel):
    # defer_build: the validator/serializer are built on first validation or dump, not at import, so a
    # one-gene `recommender pgx` table (built with model_construct by the caller) never pays for them.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Diplotype(_Frozen):
    """One candidate diplotype with its phenotype (when the tables have one)."""

    allele1: str
    allele2: str | None = None  # None: haploid call (G6PD in a male)
    name: str
    score: int = 0
    phenotype: str | None = None
    activity_score: str | None = None
    lookup_key: str | None = None
    function1: str | None = None
    function2: str | None = None


class MissingPosition(_Frozen):
    position: int
    rsid: str | None = None
    alleles_defined_here: list[str] = Field(default_factory=list)


class NovelVariant(_Frozen):
    position: int
    rsid: str | None = None
    ref: str
    allele: str
    genotype: str


class PositionGenotype(_Frozen):
    position: int
    rsid: str | None = None
    ref: str
    genotype: str
    cpic_genotype: str | None = None
    filled: bool = False


class GeneCall(_Frozen):
    """The call for one gene of one sample.

    ``diplotypes`` holds every equally best-scoring diplotype; ``phenotype``/``activity_score`` are
    set only when the call is complete and every listed diplotype agrees.
    """

    gene: str
    source: Literal["vcf", "outside"] = "vcf"
    status: GeneStatus
    reasons: list[str] = Field(default_factory=list)
    diplotypes: list[Diplotype] = Field(default_factory=list)
    phenotype: str | None = None
    activity_score: str | None = None
    lookup_key: str | None = None
    phased: bool = False
    effectively_phased: bool = False
    haploid: bool = False
    sex: str | None = None
    sex_source: str | None = None
    n_positions: int = 0
    n_observed: int = 0
    missing_positions: list[MissingPosition] = Field(default_factory=list)
    filled_positions: list[int] = Field(default_factory=list)
    partial_positions: list[int] = Field(default_factory=list)  # half-missing genotypes (./1): one allele used
    alleles_not_ruled_out: list[str] = Field(default_factory=list)
    novel_variants: list[NovelVariant] = Field(default_factory=list)
    haplotypes_present: list[str] = Field(default_factory=list)
    rule: str | None = None
    limitations: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    extra_positions: list[PositionGenotype] = Field(default_factory=list)
    positions: list[PositionGenotype] = Field(default_factory=list)
    outside_source: str | None = None
    definition_version: str | None = None
    phenotype_version: str | None = None

    @property
    def diplotype(self) -> str | None:
        """The single diplotype name when there is exactly one, else ``None``."""
        return self.diplotypes[0].name if len(self.diplotypes) == 1 else None

    @property
    def callable(self) -> bool:
        return self.status in ("called", "outside_call") or (self.status == "ambiguous" and self.phenotype is not None)


class PgxProvenance(_Frozen):
    package: str = "genomics-treatment-recommender"
    package_version: str = Field(default_factory=package_version)
    genome_build: str = "GRCh38"
    definitions_source: str = "PharmCAT allele definitions (PharmGKB/PharmCAT main 5431bf1; CPIC/PharmVar via ClinPGx)"
    definitions_version: str
    phenotype_versions: dict[str, str] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)
    vcf: str | None = None
    build_evidence: str | None = None
    created: str = Field(default_factory=_now_text)


class PgxProfile(_Frozen):
    """Everything the caller found for one sample, JSON-serialisable.

    Examples
    --------
    >>> p = PgxProfile(sample="S1", genes={}, provenance=PgxProvenance(definitions_version="x"))
    >>> PgxProfile.from_json(p.to_json()) == p
    True
    """

    schema_version: str = SCHEMA_VERSION
    sample: str | None = None
    genes: dict[str, GeneCall]
    provenance: PgxProvenance
    warnings: list[str] = Field(default_factory=list)

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)

    @classmethod
    def from_json(cls, text: str | bytes) -> PgxProfile:
        return cls.model_validate_json(text)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PgxProfile:
        return cls.model_validate(data)

    def save(self, path: str | Path) -> Path:
        """Write the profile as JSON atomically."""
        import os
        import tempfile

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(self.to_json())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | Path) -> PgxProfile:
        return cls.from_json(Path(path).read_bytes())

    def lookup_keys(self) -> dict[str, str]:
        """``{gene: lookup key}`` for every gene with a usable phenotype (for guideline matching)."""
        return {g: c.lookup_key for g, c in self.genes.items() if c.lookup_key is not None}

    def summary_rows(self) -> list[dict[str, Any]]:
        """One flat row per gene (the TSV layout)."""
        rows = []
        for gene, c in self.genes.items():
            rows.append({
                "sample": self.sample,
                "gene": gene,
                "source": c.source,
                "status": c.status,
                "diplotypes": ";".join(d.name for d in c.diplotypes),
                "phenotype": c.phenotype or "",
                "activity_score": c.activity_score or "",
                "lookup_key": c.lookup_key or "",
                "phased": c.phased,
                "n_positions": c.n_positions,
                "n_observed": c.n_observed,
                "n_missing": len(c.missing_positions),
                "n_filled": len(c.filled_positions),
                "alleles_not_ruled_out": ";".join(c.alleles_not_ruled_out),
                "novel_variants": ";".join(f"{v.position}:{v.allele}" for v in c.novel_variants),
                "rule": c.rule or "",
                "reasons": ";".join(c.reasons),
            })
        return rows

