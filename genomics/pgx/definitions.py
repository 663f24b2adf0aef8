"""PharmCAT allele definitions: load ``<GENE>_translation.json`` and ``exemptions.json``.

The files ship unmodified (MPL-2.0, content CPIC CC0 / PharmVar CC BY-SA 4.0) under
``genomics/pgx/data/pharmcat/definition/``; see ``PROVENANCE.md`` in ``genomics/pgx/data/pharmcat``.

A definition lists every defining position (a *locus*) of a gene on GRCh38 and every named allele
as the allele required at each locus, in VCF notation (``None`` = the position does not define the
allele; IUPAC codes such as ``R`` = either base). :func:`load_definitions` returns one
:class:`GeneDefinition` per gene with the gene's PharmCAT exemptions applied as data
(ignored alleles and positions, extra positions, required positions, unphased priorities).

Examples
--------
>>> defs = load_definitions(["CYP2C19"])
>>> d = defs["CYP2C19"]
>>> d.reference_allele.name
'*38'
>>> d.version
'2025-11-05-00-25'
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from genomics.errors import KnowledgeBaseError, UsageError

__all__ = [
    "CALLABLE_GENES",
    "DEFINITION_DIR",
    "IUPAC",
    "GeneDefinition",
    "Locus",
    "NamedAlleleDefinition",
    "definitions_version",
    "gene_regions",
    "load_definition",
    "load_definitions",
]

#: Folder holding the shipped PharmCAT definition files.
DEFINITION_DIR = Path(__file__).resolve().parent / "data" / "pharmcat" / "definition"

#: Genes callable from a VCF, in report order. CYP2D6 is called from SNVs/indels only.
CALLABLE_GENES: tuple[str, ...] = (
    "ABCG2", "CACNA1S", "CFTR", "CYP2B6", "CYP2C19", "CYP2C9", "CYP2D6", "CYP3A4", "CYP3A5", "CYP4F2",
    "DPYD", "G6PD", "IFNL3", "NAT2", "NUDT15", "RYR1", "SLCO1B1", "TPMT", "UGT1A1", "VKORC1",
)

#: IUPAC nucleotide codes ("wobbles") used in allele definitions.
IUPAC: dict[str, frozenset[str]] = {
    "A": frozenset("A"), "C": frozenset("C"), "G": frozenset("G"), "T": frozenset("T"),
    "R": frozenset("AG"), "Y": frozenset("CT"), "S": frozenset("GC"), "W": frozenset("AT"),
    "K": frozenset("GT"), "M": frozenset("AC"), "B": frozenset("CGT"), "D": frozenset("AGT"),
    "H": frozenset("ACT"), "V": frozenset("ACG"), "N": frozenset("ACGT"),
}


@dataclass(frozen=True)
class Locus:
    """One defining position of a gene (VCF notation, GRCh38)."""

    index: int
    chrom: str
    position: int
    rsid: str | None
    ref: str
    alts: tuple[str, ...]
    hgvs: str | None = None
    cpic_alleles: tuple[str, ...] = ()
    cpic_to_vcf: tuple[tuple[str, str], ...] = ()

    @property
    def end(self) -> int:
        """Last reference base covered by the locus (1-based, inclusive)."""
        return self.position + len(self.ref) - 1

    @property
    def label(self) -> str:
        return f"{self.chrom}:{self.position}" + (f" ({self.rsid})" if self.rsid else "")

    def vcf_to_cpic(self, allele: str) -> str:
        """CPIC notation of a VCF allele at this locus (the allele itself when unmapped)."""
        for cpic, vcf in self.cpic_to_vcf:
            if vcf == allele:
                return cpic
        return allele


@dataclass(frozen=True)
class NamedAlleleDefinition:
    """One named allele (star allele, rsID allele...) as PharmCAT defines it."""

    name: str
    id: str | None
    alleles: tuple[str | None, ...]
    reference: bool
    structural: bool
    core_positions: tuple[int, ...]

    @property
    def score(self) -> int:
        """Number of defining positions (PharmCAT's specificity score)."""
        return sum(a is not None for a in self.alleles)


@dataclass(frozen=True)
class GeneDefinition:
    """All definition data of one gene, exemptions included."""

    gene: str
    chrom: str
    genome_build: str
    version: str
    source: str
    loci: tuple[Locus, ...]
    alleles: tuple[NamedAlleleDefinition, ...]
    ignored_alleles: frozenset[str] = frozenset()
    ignored_positions: frozenset[int] = frozenset()
    ignored_loci: tuple[Locus, ...] = ()
    extra_positions: tuple[Locus, ...] = ()
    required_positions: frozenset[int] = frozenset()
    unphased_priorities: tuple[tuple[frozenset[str], str], ...] = ()
    amp_tier1_alleles: frozenset[str] = frozenset()
    amp_tier1_positions: frozenset[int] = frozenset()
    suballeles: tuple[tuple[str, str], ...] = ()
    file: str = ""
    extras: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def reference_allele(self) -> NamedAlleleDefinition:
        for allele in self.alleles:
            if allele.reference:
                return allele
        raise KnowledgeBaseError(f"gene {self.gene} has no reference allele", file=self.file,
                                 field="namedAlleles", fix="restore the unmodified PharmCAT definition file")

    @property
    def positions(self) -> tuple[int, ...]:
        return tuple(locus.position for locus in self.loci)

    @property
    def region(self) -> tuple[str, int, int]:
        """``(chrom, start, end)`` (1-based, inclusive) spanning every defining and extra locus."""
        loci = list(self.loci) + list(self.extra_positions)
        return self.chrom, min(lo.position for lo in loci), max(lo.end for lo in loci)

    def parent_allele(self, name: str) -> str:
        """The allele a sub-allele rolls up to (``suballelesMap``: SLCO1B1 ``*45.001`` -> ``*45``)."""
        for sub, parent in self.suballeles:
            if sub == name:
                return parent
        return name

    def is_ignored_locus(self, locus: Locus) -> bool:
        """Whether ``locus`` is an ``ignoredPositions`` entry: same position *and* same alleles (or rsID).

        PharmCAT lists the ignored variant by its alleles; another variant at the same position (G6PD
        Chatham ``C>T`` beside the ignored ``CGGT>C`` deletion) is still a defining variant.
        """
        for ig in self.ignored_loci:
            if ig.position != locus.position:
                continue
            if ig.rsid and locus.rsid:
                if ig.rsid == locus.rsid:
                    return True
                continue
            if ig.ref.upper() == locus.ref.upper() and set(map(str.upper, ig.alts)) == set(map(str.upper, locus.alts)):
                return True
        return False

    def allele(self, name: str) -> NamedAlleleDefinition:
        for allele in self.alleles:
            if allele.name == name:
                return allele
        raise KeyError(name)

    @property
    def callable_alleles(self) -> tuple[NamedAlleleDefinition, ...]:
        """Alleles the matcher considers (``ignoredAlleles`` removed)."""
        return tuple(a for a in self.alleles if a.name not in self.ignored_alleles)


def _locus(index: int, raw: dict) -> Locus:
    cmap = raw.get("cpicToVcfAlleleMap") or {}
    return Locus(
        index=index,
        chrom=raw["chromosome"],
        position=int(raw["position"]),
        rsid=raw.get("rsid"),
        ref=raw["ref"],
        alts=tuple(raw.get("alts") or ()),
        hgvs=raw.get("chromosomeHgvsName"),
        cpic_alleles=tuple(raw.get("cpicAlleles") or ()),
        cpic_to_vcf=tuple(sorted(cmap.items())),
    )


@lru_cache(maxsize=4)
def _exemptions(directory: str) -> dict:
    path = Path(directory) / "alleles" / "exemptions.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise KnowledgeBaseError(f"cannot read exemptions: {err}", file=path,
                                 fix="restore the unmodified PharmCAT exemptions.json") from None


@lru_cache(maxsize=64)
def _load(gene: str, directory: str) -> GeneDefinition:
    path = Path(directory) / "alleles" / f"{gene}_translation.json"
    if not path.exists():
        raise UsageError(f"no allele definition for gene {gene!r}", file=path, field="gene",
                         fix=f"choose among: {', '.join(CALLABLE_GENES)}")
    try:
        raw = json.loads(path.read_text())
        loci = tuple(_locus(i, v) for i, v in enumerate(raw["variants"]))
        alleles = tuple(
            NamedAlleleDefinition(
                name=a["name"],
                id=a.get("id"),
                alleles=tuple(a["alleles"]),
                reference=bool(a.get("reference")),
                structural=bool(a.get("structuralVariant")),
                core_positions=tuple(a.get("corePositions") or ()),
            )
            for a in raw["namedAlleles"]
        )
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise KnowledgeBaseError(f"malformed allele definition: {err}", file=path,
                                 fix="restore the unmodified PharmCAT definition file") from None
    for allele in alleles:
        if len(allele.alleles) != len(loci):
            raise KnowledgeBaseError(f"allele {allele.name} has {len(allele.alleles)} positions, expected {len(loci)}",
                                     file=path, field="namedAlleles", fix="restore the unmodified definition file")
    ex = _exemptions(directory).get(gene, {})
    return GeneDefinition(
        gene=raw["gene"],
        chrom=raw["chromosome"],
        genome_build=raw.get("genomeBuild", "GRCh38"),
        version=str(raw.get("version", "unknown")),
        source=str(raw.get("source", "unknown")),
        loci=loci,
        alleles=alleles,
        ignored_alleles=frozenset(ex.get("ignoredAlleles") or ()),
        ignored_positions=frozenset(int(p["position"]) for p in ex.get("ignoredPositions") or ()),
        ignored_loci=tuple(_locus(i, p) for i, p in enumerate(ex.get("ignoredPositions") or ())),
        extra_positions=tuple(_locus(i, p) for i, p in enumerate(ex.get("extraPositions") or ())),
        required_positions=frozenset(int(p) for p in ex.get("requiredPositions") or ()),
        unphased_priorities=tuple(
            (frozenset(p["list"]), p["pick"]) for p in ex.get("unphasedDiplotypePriorities") or ()
        ),
        amp_tier1_alleles=frozenset(ex.get("amp1Alleles") or ()),
        amp_tier1_positions=frozenset(int(p) for p in ex.get("amp1Positions") or ()),
        suballeles=tuple(sorted((str(k), str(v)) for k, v in (raw.get("suballelesMap") or {}).items())),
        file=str(path),
        extras={"modificationDate": raw.get("modificationDate")},
    )


def load_definition(gene: str, directory: str | Path | None = None) -> GeneDefinition:
    """Load one gene's definition (cached)."""
    return _load(gene.upper(), str(directory or DEFINITION_DIR))


def load_definitions(genes: Iterable[str] | None = None,
                     directory: str | Path | None = None) -> dict[str, GeneDefinition]:
    """Load the definitions of ``genes`` (default: every callable gene), keyed by gene symbol."""
    wanted = list(CALLABLE_GENES if genes is None else genes)
    return {g.upper(): load_definition(g, directory) for g in wanted}


def definitions_version(directory: str | Path | None = None) -> str:
    """The data version stamped in the shipped definition files (e.g. ``2025-11-05-00-25``)."""
    versions = {d.version for d in load_definitions(directory=directory).values()}
    return ",".join(sorted(versions))


def gene_regions(directory: str | Path | None = None) -> dict[str, tuple[str, int, int]]:
    """Gene regions from ``pharmcat_regions.bed`` as ``{gene: (chrom, start1, end1)}`` (1-based)."""
    path = Path(directory or DEFINITION_DIR) / "pharmcat_regions.bed"
    regions = {}
    for line in path.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) >= 4 and parts[3].startswith("PX="):
            regions[parts[3][3:]] = (parts[0], int(parts[1]) + 1, int(parts[2]))
    return regions
