"""Genes only PyPGx defines (CYP2C8 and others), called from SNVs/indels with PyPGx's own tables.

PyPGx (MIT; tables compiled from PharmVar/CPIC/PharmGKB) defines each star allele by its *core
variants* (GRCh38 ``chrom-pos-ref-alt``). :func:`pypgx_definition` turns its allele and variant tables
into the same :class:`~genomics.pgx.definitions.GeneDefinition` PharmCAT's files give, so one matcher
calls every gene with the same rules (missing positions never taken as reference, novel alleles
reported, phase used). The allele whose core is empty on GRCh38 (PyPGx's ``GRCh38Default``) is the
reference row.

What a VCF cannot give, and is said on every call:

* structural alleles (PyPGx ``SV=TRUE``: gene deletions, duplications, hybrids) -- listed per gene in
  :func:`structural_alleles`; PyPGx detects them from read depth in a BAM, so they need a BAM-based
  caller or an outside call;
* a phenotype: PyPGx assigns one only for the genes in its phenotype tables (here only ``F5``); for the
  others the allele *function* is given and the call is labelled "no CPIC/DPWG guideline".

Genes PyPGx lists whose star alleles are all structural (``Variants=FALSE``: GSTT1, UGT2B17) cannot
be called from a VCF at all: see :data:`BAM_ONLY_GENES`.

Examples
--------
>>> d = pypgx_definition("CYP2C8")
>>> d.reference_allele.name, d.chrom
('*1', 'chr10')
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from genomics.pgx.definitions import CALLABLE_GENES, GeneDefinition, Locus, NamedAlleleDefinition

__all__ = [
    "BAM_ONLY_GENES",
    "PYPGX_DIR",
    "PYPGX_GENES",
    "PYPGX_VERSION",
    "allele_function",
    "no_guideline_note",
    "phenotype",
    "pypgx_definition",
    "structural_alleles",
]

PYPGX_DIR = Path(__file__).resolve().parent / "data" / "pypgx"
PYPGX_VERSION = "PyPGx 0.26.0 (fa6b9f7)"
#: PyPGx genes left out: MT-RNR1 is mitochondrial (haploid, heteroplasmy) and taken as an outside call.
_LEFT_OUT = frozenset({"MT-RNR1"})


def _rows(name: str) -> list[dict[str, str]]:
    with open(PYPGX_DIR / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=1)
def _gene_table() -> dict[str, dict[str, str]]:
    return {r["Gene"]: r for r in _rows("gene-table.csv")}


@lru_cache(maxsize=1)
def _allele_table() -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for r in _rows("allele-table.csv"):
        out.setdefault(r["Gene"], []).append(r)
    return out


@lru_cache(maxsize=1)
def _variant_rsids() -> dict[str, str]:
    return {r["GRCh38Name"]: r["rsID"] for r in _rows("variant-table.csv") if r["rsID"] not in ("", "N/A")}


def _pypgx_genes() -> tuple[str, ...]:
    genes = []
    for g, r in _gene_table().items():
        if r["Target"] != "TRUE" or r["Variants"] != "TRUE" or g in CALLABLE_GENES or g in _LEFT_OUT:
            continue
        if any(a["SV"] == "FALSE" and a["GRCh38Core"] not in ("", "N/A") for a in _allele_table().get(g, [])):
            genes.append(g)
    return tuple(sorted(genes))


#: Genes called from SNVs/indels with PyPGx's tables (not defined by PharmCAT).
PYPGX_GENES: tuple[str, ...] = _pypgx_genes()
#: Genes PyPGx defines only by structural alleles: they need a BAM (read depth) or an outside call.
BAM_ONLY_GENES: tuple[str, ...] = tuple(sorted(
    g for g, r in _gene_table().items() if r["Target"] == "TRUE" and r["Variants"] == "FALSE"))


def structural_alleles(gene: str) -> list[str]:
    """PyPGx alleles of ``gene`` defined by a structural variant (not visible in a VCF of SNVs/indels)."""
    return [a["StarAllele"] for a in _allele_table().get(gene, []) if a["SV"] == "TRUE"]


def allele_function(gene: str, allele: str) -> str | None:
    """PyPGx's function of one allele (``"Decreased Function"``), or None when unknown/N/A."""
    for a in _allele_table().get(gene, []):
        if a["StarAllele"] == allele:
            return None if a["Function"] in ("", "N/A") else a["Function"]
    return None


@lru_cache(maxsize=1)
def _diplotype_phenotypes() -> dict[str, dict[frozenset, str]]:
    out: dict[str, dict[frozenset, str]] = {}
    for r in _rows("diplotype-table-without-G6PD.csv"):
        parts = r["Diplotype"].split("/")
        if len(parts) == 2:
            key = frozenset({(parts[0], parts.count(parts[0])), (parts[1], parts.count(parts[1]))})
            out.setdefault(r["Gene"], {})[key] = r["Phenotype"]
    return out


def phenotype(gene: str, allele1: str, allele2: str | None) -> str | None:
    """The phenotype PyPGx assigns to a diplotype (its ``PhenotypeMethod=Diplotype`` genes), else None."""
    if _gene_table().get(gene, {}).get("PhenotypeMethod") != "Diplotype" or allele2 is None:
        return None
    parts = [allele1, allele2]
    key = frozenset({(allele1, parts.count(allele1)), (allele2, parts.count(allele2))})
    return _diplotype_phenotypes().get(gene, {}).get(key)


def no_guideline_note(gene: str) -> str:
    """The label every PyPGx-only call carries."""
    sv = structural_alleles(gene)
    text = (f"{gene}: no CPIC/DPWG guideline; allele definitions and function from {PYPGX_VERSION} "
            "(informational)")
    if sv:
        text += (f"; structural alleles ({', '.join(sv)}) cannot be seen in a VCF of SNVs/indels: they need a "
                 "BAM-based caller (PyPGx read depth) or an outside call")
    return text


def _parse(name: str) -> tuple[str, int, str, str]:
    chrom, pos, ref, alt = name.split("-", 3)
    return ("chr" + chrom if not chrom.startswith("chr") else chrom), int(pos), ref.upper(), alt.upper()


@lru_cache(maxsize=128)
def pypgx_definition(gene: str) -> GeneDefinition:
    """PyPGx's allele table of ``gene`` as a :class:`GeneDefinition` (GRCh38, SNVs/indels only)."""
    gene = gene.upper()
    info = _gene_table().get(gene)
    if info is None or gene not in PYPGX_GENES:
        from genomics.errors import UsageError

        raise UsageError(f"PyPGx defines no VCF-callable gene {gene!r}", field="gene",
                         fix=f"choose among: {', '.join(PYPGX_GENES)}")
    default = info["GRCh38Default"]
    rows = _allele_table()[gene]
    callable_rows, ignored = [], set()
    for a in rows:
        core = a["GRCh38Core"]
        if a["StarAllele"] == default:
            callable_rows.append((a, []))
        elif a["SV"] == "TRUE" or core in ("", "N/A"):
            ignored.add(a["StarAllele"])
            callable_rows.append((a, None))
        else:
            callable_rows.append((a, [_parse(v) for v in core.split(",")]))
    # loci: one per position; several REF lengths at one position are padded to the longest REF
    by_pos: dict[int, tuple[str, str]] = {}
    for _, core in callable_rows:
        for chrom, pos, ref, _alt in core or ():
            old = by_pos.get(pos)
            if old is None or len(ref) > len(old[1]):
                by_pos[pos] = (chrom, ref)
    positions = sorted(by_pos)
    index = {p: i for i, p in enumerate(positions)}
    alts: dict[int, list[str]] = {p: [] for p in positions}
    defs: list[NamedAlleleDefinition] = []
    rsids = _variant_rsids()
    rsid_at: dict[int, str] = {}
    for a, core in callable_rows:
        values: list[str | None] = [None] * len(positions)
        if a["StarAllele"] == default:
            values = [by_pos[p][1] for p in positions]
        for chrom, pos, ref, alt in core or ():
            long_ref = by_pos[pos][1]
            vcf_alt = alt + long_ref[len(ref):]
            values[index[pos]] = vcf_alt
            if vcf_alt not in alts[pos]:
                alts[pos].append(vcf_alt)
            rs = rsids.get(f"{chrom.removeprefix('chr')}-{pos}-{ref}-{alt}")
            if rs:
                rsid_at.setdefault(pos, rs)
        defs.append(NamedAlleleDefinition(name=a["StarAllele"], id=None, alleles=tuple(values),
                                          reference=a["StarAllele"] == default,
                                          structural=a["SV"] == "TRUE", core_positions=()))
    loci = tuple(Locus(index=i, chrom=by_pos[p][0], position=p, rsid=rsid_at.get(p), ref=by_pos[p][1],
                       alts=tuple(alts[p])) for i, p in enumerate(positions))
    chrom = loci[0].chrom if loci else "chr" + info["GRCh38Region"].split(":")[0]
    return GeneDefinition(gene=gene, chrom=chrom, genome_build="GRCh38", version=PYPGX_VERSION, source="PyPGx",
                          loci=loci, alleles=tuple(defs), ignored_alleles=frozenset(ignored),
                          file=str(PYPGX_DIR / "allele-table.csv"), extras={"pypgx": True})
