"""Germline (and tumour) variants in therapy-relevant genes, classified from the product's own annotation.

A germline BRCA1/2 loss-of-function variant establishes PARP-inhibitor eligibility in breast, pancreatic and
prostate cancer (FDA labels: "deleterious or suspected deleterious germline BRCA-mutated"; OlympiAD, OlympiA,
POLO, PROfound). This module reads those genes from the patient's germline VCF (the same file the PGx caller
reads) and classifies each allele the sample carries, from the consequence the product computes on the MANE
Select transcript (:func:`genomics.dnalm.consequence.annotate`; BRCA1 NM_007294.4 and BRCA2 NM_000059.4 are
shipped):

``pathogenic_like``
    frameshift, stop gained, canonical splice site (+-1/2), start lost -- loss of function by rule (the
    ACMG/AMP PVS1 kinds). Exception: in a gene of :data:`NMD_ESCAPE_LAST_EXON` (BRCA2) a truncation in the
    last exon escapes nonsense-mediated decay and that exon holds the benign polymorphic stop
    p.Lys3326Ter (rs11571833): it is a ``vus``.
``vus``
    missense, in-frame indel, stop lost, splice region, a truncation that escapes decay, a structural
    (symbolic) allele, or a coding substitution whose consequence could not be computed (no reference
    sequence for it): of uncertain significance. **Never establishes eligibility by itself**
    (:mod:`genomics.biomarkers.variant_evidence` shows its variant-effect evidence).
``benign_like``
    synonymous, UTR, intronic beyond the splice region: no predicted protein or splice-site effect; listed,
    never used.

Each gene gets a state (:class:`GeneStatus`): ``pathogenic_variant``, ``vus``, ``no_reportable_variant`` (the
VCF has calls for this sample inside the gene and none is pathogenic-like or a VUS -- *not* proof of a normal
gene: a VCF lists variant sites only, copy-number losses are not in it) or ``not_assessed`` (no VCF, no call of
this sample inside the gene, the contig absent): never "wild type".

Examples
--------
>>> v = classify_variant("chr13", 32340300, "GT", "G", source="germline")
>>> (v.gene, v.consequence, v.classification, v.cds_position)
('BRCA2', 'frameshift', 'pathogenic_like', 5946)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from genomics.errors import RecommenderError

__all__ = [
    "BENIGN_LIKE_CONSEQUENCES",
    "GERMLINE_GENES",
    "LOF_CONSEQUENCES",
    "NMD_ESCAPE_LAST_EXON",
    "VUS_CONSEQUENCES",
    "GeneStatus",
    "GeneVariant",
    "GermlineGenes",
    "classify_variant",
    "read_germline_genes",
    "read_germline_genes_cohort",
]

#: Genes read from the germline VCF for therapy eligibility.
GERMLINE_GENES: tuple[str, ...] = ("BRCA1", "BRCA2")
#: Consequences that are loss of function by rule (pathogenic-like).
LOF_CONSEQUENCES: tuple[str, ...] = ("frameshift", "stop_gained", "canonical_splice", "start_lost")
#: Consequences of uncertain significance.
VUS_CONSEQUENCES: tuple[str, ...] = ("missense", "inframe_indel", "stop_lost", "splice_region")
#: Consequences with no predicted protein or splice-site effect.
BENIGN_LIKE_CONSEQUENCES: tuple[str, ...] = ("synonymous", "utr", "intron")
#: Genes whose last-exon truncations are not loss of function by rule (reason in words).
NMD_ESCAPE_LAST_EXON: Mapping[str, str] = {
    "BRCA2": ("a truncation in BRCA2's last exon (exon 27, c.9649 onwards) escapes nonsense-mediated decay, and "
              "that exon holds the benign polymorphic stop p.Lys3326Ter (rs11571833; Mazoyer et al. Nat Genet "
              "1996;14:253): not loss of function by rule"),
}

Classification = Literal["pathogenic_like", "vus", "benign_like"]
GeneState = Literal["pathogenic_variant", "vus", "no_reportable_variant", "not_assessed"]


@dataclass(frozen=True)
class GeneVariant:
    """One allele the patient carries in a therapy-relevant gene, with its consequence and class.

    ``consequence`` is the product's own annotation on ``transcript`` (``None``: not computed, ``detail``
    says why). ``source`` is ``germline`` or ``tumour``. ``used_for_eligibility`` is False for a call that
    failed the VCF's FILTER.
    """

    gene: str
    chrom: str | None
    pos: int | None
    ref: str | None
    alt: str | None
    source: Literal["germline", "tumour"]
    classification: Classification
    consequence: str | None
    detail: str
    transcript: str | None = None
    cds_position: int | None = None
    protein_position: int | None = None
    protein_change: str | None = None
    in_exon: bool | None = None
    exon_boundary_distance: int | None = None
    zygosity: str | None = None
    variant_id: str | None = None
    record: str = ""
    used_for_eligibility: bool = True

    @property
    def variant(self) -> str:
        """``chr13:32340300 GT>G`` (or the protein change / record for a variant without a position)."""
        if self.chrom and self.pos is not None:
            return f"{self.chrom}:{self.pos} {self.ref}>{self.alt}"
        return self.protein_change or self.record or "position not given"

    @property
    def coding(self) -> str:
        """Coding position in words (``c.5946, codon 1982``), ``""`` when not in the CDS."""
        if self.cds_position is None:
            return ""
        return f"c.{self.cds_position}, codon {self.protein_position}"

    @property
    def label(self) -> str:
        """``germline BRCA2 chr13:32340300 GT>G (frameshift, c.5946, codon 1982)``."""
        what = ", ".join(x for x in (self.consequence or "consequence not assessed", self.coding,
                                     self.protein_change and f"p.{self.protein_change}") if x)
        return f"{self.source} {self.gene} {self.variant} ({what})"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["variant"] = self.variant
        d["label"] = self.label
        return d


@dataclass(frozen=True)
class GeneStatus:
    """The state of one gene in the germline data (see the module docstring)."""

    gene: str
    status: GeneState
    detail: str
    calls: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GermlineGenes:
    """The germline reading of the therapy-relevant genes: per-gene state and the sample's alleles."""

    genes: tuple[GeneStatus, ...]
    variants: tuple[GeneVariant, ...] = ()
    source: str | None = None
    sample: str | None = None
    notes: tuple[str, ...] = ()

    def status(self, gene: str) -> GeneStatus:
        """The state of ``gene`` (``not_assessed`` for a gene this reading did not cover)."""
        for g in self.genes:
            if g.gene == gene:
                return g
        return GeneStatus(gene, "not_assessed", f"{gene} was not read from the germline data")

    @property
    def pathogenic(self) -> tuple[GeneVariant, ...]:
        return tuple(v for v in self.variants if v.classification == "pathogenic_like" and v.used_for_eligibility)

    @property
    def vus(self) -> tuple[GeneVariant, ...]:
        return tuple(v for v in self.variants if v.classification == "vus")

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "sample": self.sample, "genes": [g.to_dict() for g in self.genes],
                "variants": [v.to_dict() for v in self.variants], "notes": list(self.notes)}

    @classmethod
    def not_assessed(cls, reason: str, genes: Sequence[str] = GERMLINE_GENES) -> GermlineGenes:
        """Every gene ``not_assessed`` for ``reason`` (e.g. no germline VCF given)."""
        return cls(genes=tuple(GeneStatus(g, "not_assessed", reason) for g in genes))


def _last_exon_cds_start(tx: Any) -> int | None:
    """1-based CDS position of the first coding base of the transcript's last coding exon."""
    positions = tx.cds_positions()
    last = max(tx.exons) if tx.strand == "+" else min(tx.exons)
    inside = [i for i, g in enumerate(positions) if last[0] <= g <= last[1]]
    return inside[0] + 1 if inside else None


def classify_variant(chrom: str, pos: int, ref: str, alt: str, *, source: Literal["germline", "tumour"] = "germline",
                     gene: str | None = None, reference: Any = None, transcripts: Mapping[str, Any] | None = None,
                     zygosity: str | None = None, variant_id: str | None = None, record: str = "",
                     used_for_eligibility: bool = True, protein_change: str | None = None) -> GeneVariant:
    """Consequence and class of one VCF-style allele (anchor base kept for indels).

    Parameters
    ----------
    chrom, pos, ref, alt
        GRCh38, forward strand. A symbolic ALT (``<DEL>``) is a ``vus`` whose consequence is not assessed.
    gene
        Expected gene (default: the transcript the variant falls in).
    reference
        GRCh38 reference for substitutions (default: the bundled subset; a contig it does not hold makes the
        consequence "not assessed", never benign).
    """
    from genomics.dnalm.consequence import annotate, load_transcripts

    txs = dict(transcripts) if transcripts is not None else load_transcripts()
    common = {"chrom": chrom, "pos": int(pos), "ref": ref, "alt": alt, "source": source, "zygosity": zygosity,
              "variant_id": variant_id, "record": record, "used_for_eligibility": used_for_eligibility,
              "protein_change": protein_change}
    if alt.startswith("<") or "[" in alt or "]" in alt or alt in ("*", "."):
        return GeneVariant(gene=gene or "?", classification="vus", consequence=None,
                           detail=f"structural or symbolic allele {alt}: not interpreted here; confirm by clinical "
                                  "classification", **common)
    try:
        cons = annotate(chrom, int(pos), ref, alt, reference, transcripts=txs)
    except RecommenderError as err:  # outside the reference held, REF mismatch...
        return GeneVariant(gene=gene or _gene_at(chrom, pos, txs) or "?", classification="vus", consequence=None,
                           detail=f"consequence not assessed ({err.one_line()}); of uncertain significance until "
                                  "classified", **common)
    name = cons.gene or gene or "?"
    base = {**common, "gene": name, "transcript": cons.transcript, "cds_position": cons.cds_position,
            "protein_position": cons.protein_position, "in_exon": cons.in_exon,
            "exon_boundary_distance": cons.exon_boundary_distance, "consequence": cons.consequence}
    c = cons.consequence
    if c in LOF_CONSEQUENCES:
        tx = txs.get(name)
        start = _last_exon_cds_start(tx) if tx is not None and name in NMD_ESCAPE_LAST_EXON else None
        if c in ("stop_gained", "frameshift") and start is not None and (cons.cds_position or 0) >= start:
            return GeneVariant(classification="vus", detail=NMD_ESCAPE_LAST_EXON[name], **base)
        return GeneVariant(classification="pathogenic_like",
                           detail=f"{c.replace('_', ' ')} on {cons.transcript}: loss of function by rule", **base)
    if c in VUS_CONSEQUENCES:
        return GeneVariant(classification="vus", detail=f"{c.replace('_', ' ')}: of uncertain significance", **base)
    if c == "outside_transcript":
        return GeneVariant(classification="vus", detail="no transcript model covers it: consequence not assessed",
                           **{**base, "consequence": None})
    return GeneVariant(classification="benign_like",
                       detail=f"{(c or 'no consequence').replace('_', ' ')}: no predicted protein or splice-site effect",
                       **base)


def _gene_at(chrom: str, pos: int, txs: Mapping[str, Any]) -> str | None:
    c = chrom if chrom.startswith("chr") else f"chr{chrom}"
    for name, tx in txs.items():
        if tx.chrom == c and tx.start <= int(pos) <= tx.end:
            return name
    return None


def read_germline_genes(vcf: str | os.PathLike[str], sample: str | None = None,
                        genes: Iterable[str] = GERMLINE_GENES, *, reference: Any = None) -> GermlineGenes:
    """Read ``genes`` of one sample from a germline VCF and classify every allele it carries.

    Parameters
    ----------
    vcf
        GRCh38 VCF / BCF (the germline file of the patient; region queries through its index, or a scan).
    sample
        Sample name (``None``: the file's only sample).
    genes
        Gene symbols with a transcript in the product's table (a gene without one is ``not_assessed``).
    reference
        GRCh38 reference for substitutions (default: the bundled subset).

    Raises
    ------
    genomics.errors.VcfError
        The file cannot be read (the reader's own error, naming file, record and fix).
    """
    from genomics.dnalm.consequence import load_transcripts
    from genomics.vcf import VcfReader

    txs = load_transcripts()
    states: list[GeneStatus] = []
    variants: list[GeneVariant] = []
    notes: list[str] = []
    name = Path(vcf).name
    with VcfReader(vcf, samples=[sample] if sample else None) as reader:
        smp = sample or (reader.samples[0] if getattr(reader, "samples", None) else None)
        contigs = {c if c.startswith("chr") else f"chr{c}" for c in (getattr(reader, "header_contigs", None) or [])}
        for gene in dict.fromkeys(g.upper() for g in genes):
            tx = txs.get(gene)
            if tx is None:
                states.append(GeneStatus(gene, "not_assessed", f"{gene}: no transcript model in the product's "
                                                               "table: its variants cannot be classified"))
                continue
            if contigs and tx.chrom not in contigs:
                states.append(GeneStatus(gene, "not_assessed", f"the germline VCF has no {tx.chrom} (it does not "
                                                               f"cover {gene})"))
                continue
            calls, found = 0, []
            for rec in reader.fetch(f"{tx.chrom}:{tx.start}-{tx.end}"):
                if not rec.has_gt:
                    continue
                gt = rec.gt[0]
                if (gt < 0).all():  # ./. : no call of this sample here
                    continue
                calls += 1
                for k, alt in enumerate(rec.alts, start=1):
                    n = int((gt == k).sum())
                    if n == 0:
                        continue
                    zyg = "homozygous" if n == 2 and (gt >= 0).sum() == 2 else "heterozygous" if n == 1 else "hemizygous"
                    v = classify_variant(rec.chrom, rec.pos, rec.ref, alt, source="germline", gene=gene,
                                         reference=reference, transcripts=txs, zygosity=zyg, variant_id=rec.id,
                                         record=f"{name} {rec.chrom}:{rec.pos}", used_for_eligibility=rec.is_pass)
                    if not rec.is_pass:
                        v = _with_detail(v, f"FILTER {','.join(rec.filters) or '.'}: not used for eligibility")
                    found.append(v)
            variants.extend(found)
            states.append(_gene_state(gene, calls, found, name))
    return GermlineGenes(genes=tuple(states), variants=tuple(variants), source=name, sample=smp, notes=tuple(notes))


def _with_detail(v: GeneVariant, more: str) -> GeneVariant:
    from dataclasses import replace

    return replace(v, detail=f"{v.detail}; {more}")


def _gene_state(gene: str, calls: int, found: Sequence[GeneVariant], source: str) -> GeneStatus:
    usable = [v for v in found if v.used_for_eligibility]
    if any(v.classification == "pathogenic_like" for v in usable):
        lof = [v for v in usable if v.classification == "pathogenic_like"]
        return GeneStatus(gene, "pathogenic_variant", "; ".join(v.label for v in lof), calls)
    if any(v.classification == "vus" for v in found):
        return GeneStatus(gene, "vus", "; ".join(v.label for v in found if v.classification == "vus"), calls)
    if calls == 0:
        return GeneStatus(gene, "not_assessed", f"the germline VCF ({source}) has no call of this sample inside "
                                                f"{gene}: not assessed (a VCF lists variant sites only)")
    return GeneStatus(gene, "no_reportable_variant",
                      f"no loss-of-function variant or VUS among {calls} call(s) of this sample inside {gene}; not "
                      "proof of a normal gene (a VCF lists variant sites only; copy-number losses are not in it)",
                      calls)


def read_germline_genes_cohort(vcf: str | os.PathLike[str], samples: Sequence[str],
                               genes: Iterable[str] = GERMLINE_GENES, *,
                               reference: Any = None) -> dict[str, GermlineGenes]:
    """:func:`read_germline_genes` for many samples of one multi-sample VCF (each gene region read once).

    Returns ``sample -> GermlineGenes``, equal to what :func:`read_germline_genes` gives for that sample alone.
    """
    from dataclasses import replace

    from genomics.dnalm.consequence import load_transcripts
    from genomics.vcf import VcfReader

    txs = load_transcripts()
    name = Path(vcf).name
    samples = list(dict.fromkeys(samples))
    states: dict[str, list[GeneStatus]] = {s: [] for s in samples}
    variants: dict[str, list[GeneVariant]] = {s: [] for s in samples}
    cache: dict[tuple[str, int, str, str, str], GeneVariant] = {}
    with VcfReader(vcf, samples=samples) as reader:
        order = list(reader.samples)
        contigs = {c if c.startswith("chr") else f"chr{c}" for c in (getattr(reader, "header_contigs", None) or [])}
        for gene in dict.fromkeys(g.upper() for g in genes):
            tx = txs.get(gene)
            if tx is None or (contigs and tx.chrom not in contigs):
                why = (f"{gene}: no transcript model in the product's table" if tx is None else
                       f"the germline VCF has no {tx.chrom} (it does not cover {gene})")
                for smp in samples:
                    states[smp].append(GeneStatus(gene, "not_assessed", why))
                continue
            calls = dict.fromkeys(samples, 0)
            found: dict[str, list[GeneVariant]] = {s: [] for s in samples}
            for rec in reader.fetch(f"{tx.chrom}:{tx.start}-{tx.end}"):
                if not rec.has_gt:
                    continue
                gts = rec.gt
                for i, smp in enumerate(order):
                    gt = gts[i]
                    if (gt < 0).all():
                        continue
                    calls[smp] += 1
                    for k, alt in enumerate(rec.alts, start=1):
                        n = int((gt == k).sum())
                        if n == 0:
                            continue
                        key = (rec.chrom, rec.pos, rec.ref, alt, gene)
                        if key not in cache:
                            cache[key] = classify_variant(rec.chrom, rec.pos, rec.ref, alt, source="germline",
                                                          gene=gene, reference=reference, transcripts=txs,
                                                          variant_id=rec.id)
                        zyg = ("homozygous" if n == 2 and (gt >= 0).sum() == 2 else
                               "heterozygous" if n == 1 else "hemizygous")
                        v = replace(cache[key], zygosity=zyg, record=f"{name} {rec.chrom}:{rec.pos}",
                                    used_for_eligibility=rec.is_pass)
                        if not rec.is_pass:
                            v = _with_detail(v, f"FILTER {','.join(rec.filters) or '.'}: not used for eligibility")
                        found[smp].append(v)
            for smp in samples:
                variants[smp].extend(found[smp])
                states[smp].append(_gene_state(gene, calls[smp], found[smp], name))
    return {s: GermlineGenes(genes=tuple(states[s]), variants=tuple(variants[s]), source=name, sample=s)
            for s in samples}
