"""Sequence consequence of a variant on a canonical (MANE Select) transcript, and the combined score.

The transcript table ``data/transcripts/mane_select.tsv`` (GENCODE intervals, GRCh38, 1-based
inclusive; CDS intervals include the stop codon) is documented in ``data/transcripts/PROVENANCE.md``.

Consequence classes (most severe first; one per variant and transcript):

``canonical_splice``  an intronic base at +1/+2 (donor) or -1/-2 (acceptor) of an internal exon boundary
``start_lost``        the ATG changes
``stop_gained``       a substitution creates a stop codon in the CDS
``frameshift``        an indel in the CDS whose length change is not a multiple of 3
``stop_lost``         the stop codon changes to a sense codon
``inframe_indel``     an indel in the CDS whose length change is a multiple of 3
``missense``          a substitution changes an amino acid
``splice_region``     exonic within 3 bases or intronic within 3-8 bases of an internal exon boundary
``synonymous``        a substitution keeps the amino acid (and the stop)
``utr``               exonic, outside the CDS
``intron``            intronic, beyond the splice region
``outside_transcript`` no table transcript overlaps the variant

**Combined score** (fitted, see :mod:`genomics.dnalm.variant_effect`): the parts (consequence prior,
distance to the nearest exon boundary, DNA LM LLR) are combined with non-negative weights fitted on
labelled data that excludes BRCA1 (Vex-seq splicing + ENIGMA BRCA2), shipped as
``data/variant_effect_combination.json``; a part without signal on that data has weight 0.
:func:`combined_score` returns minus the fitted log-odds of "damaging", so lower = more damaging as
before. (Until 2026-12 it was the unfitted ``llr + CONSEQUENCE_PRIOR[consequence]``, which measured
worse than the prior alone on an independent BRCA1 assay.)
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from genomics.dnalm.pretrain_data import revcomp

__all__ = [
    "CONSEQUENCE_PRIOR",
    "TRANSCRIPT_TABLE",
    "Consequence",
    "Transcript",
    "annotate",
    "cds_sequence",
    "combined_score",
    "load_transcripts",
    "translate",
]

TRANSCRIPT_TABLE = Path(__file__).resolve().parent / "data" / "transcripts" / "mane_select.tsv"

CONSEQUENCE_PRIOR: dict[str, float] = {
    "canonical_splice": -10.0,
    "start_lost": -10.0,
    "stop_gained": -10.0,
    "frameshift": -10.0,
    "stop_lost": -5.0,
    "inframe_indel": -3.0,
    "missense": -2.0,
    "splice_region": -1.0,
    "synonymous": 0.0,
    "utr": 0.0,
    "intron": 0.0,
    "outside_transcript": 0.0,
}

_BASES = "TCAG"
_AAS = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
CODON_TABLE = {a + b + c: _AAS[16 * i + 4 * j + k] for i, a in enumerate(_BASES) for j, b in enumerate(_BASES)
               for k, c in enumerate(_BASES)}


def translate(seq: str) -> str:
    """Standard-code translation of a CDS (``*`` for stop, ``X`` for codons with N)."""
    return "".join(CODON_TABLE.get(seq[i : i + 3], "X") for i in range(0, len(seq) - 2, 3))


@dataclass(frozen=True)
class Transcript:
    """One canonical transcript: exons in transcript order (5'->3'), CDS pieces in the same order."""

    gene: str
    ensembl: str
    refseq: str
    chrom: str
    strand: str
    exons: tuple[tuple[int, int], ...]
    cds: tuple[tuple[int, int], ...]

    @property
    def start(self) -> int:
        return min(s for s, _ in self.exons)

    @property
    def end(self) -> int:
        return max(e for _, e in self.exons)

    def cds_positions(self) -> list[int]:
        """Genomic position of every CDS base in transcript order (stop codon included)."""
        out: list[int] = []
        for s, e in self.cds:
            out.extend(range(s, e + 1) if self.strand == "+" else range(e, s - 1, -1))
        return out


@dataclass(frozen=True)
class Consequence:
    """Consequence of one variant on one transcript."""

    gene: str | None
    transcript: str | None
    consequence: str
    in_exon: bool = False
    exon_boundary_distance: int | None = None
    cds_position: int | None = None
    protein_position: int | None = None
    ref_aa: str | None = None
    alt_aa: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _norm_chrom(c: str) -> str:
    return c if c.startswith("chr") else f"chr{c}"


@lru_cache(maxsize=4)
def load_transcripts(path: str | None = None) -> dict[str, Transcript]:
    """Read the transcript table (default: the shipped MANE Select table)."""
    table = Path(path) if path else TRANSCRIPT_TABLE
    rows: dict[str, list[dict[str, str]]] = {}
    with table.open() as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            rows.setdefault(row["gene"], []).append(row)
    out = {}
    for gene, rs in rows.items():
        rs.sort(key=lambda r: int(r["exon_number"]))
        exons = tuple((int(r["start"]), int(r["end"])) for r in rs)
        cds = tuple((int(r["cds_start"]), int(r["cds_end"])) for r in rs if r["cds_start"])
        r0 = rs[0]
        out[gene] = Transcript(gene, r0["ensembl_transcript"], r0["refseq_transcript"], _norm_chrom(r0["chrom"]),
                               r0["strand"], exons, cds)
    return out


_CDS_CACHE: dict[tuple[str, int], str] = {}
_INDEX_CACHE: dict[str, dict[int, int]] = {}


def _cds_index(tx: Transcript) -> dict[int, int]:
    if tx.ensembl not in _INDEX_CACHE:
        _INDEX_CACHE[tx.ensembl] = {g: i for i, g in enumerate(tx.cds_positions())}
    return _INDEX_CACHE[tx.ensembl]


def cds_sequence(tx: Transcript, reference) -> str:
    """The transcript's CDS (coding strand, stop included) read from ``reference`` (memoised per reference)."""
    key = (tx.ensembl, id(reference))
    if key in _CDS_CACHE:
        return _CDS_CACHE[key]
    parts = []
    for s, e in tx.cds:
        seq = reference.fetch(tx.chrom, s, e).upper()
        parts.append(seq if tx.strand == "+" else revcomp(seq))
    if len(_CDS_CACHE) > 64:
        _CDS_CACHE.clear()
    _CDS_CACHE[key] = "".join(parts)
    return _CDS_CACHE[key]


def _intron_distance(tx: Transcript, pos: int) -> tuple[bool, int | None, str | None]:
    """(in_exon, distance to the nearest internal exon boundary, side) for ``pos`` within the transcript."""
    internal_bounds: list[tuple[int, str]] = []  # genomic boundary base and which side is intron
    ex = sorted(tx.exons)
    for i, (s, e) in enumerate(ex):
        if i > 0:
            internal_bounds.append((s, "left"))
        if i < len(ex) - 1:
            internal_bounds.append((e, "right"))
    in_exon = any(s <= pos <= e for s, e in ex)
    if not internal_bounds:
        return in_exon, None, None
    if in_exon:
        d = min(abs(pos - b) + 1 for b, _ in internal_bounds)  # 1 = the exon's edge base
        return True, d, None
    best = min(internal_bounds, key=lambda b: abs(pos - b[0]))
    return False, abs(pos - best[0]), best[1]


def annotate(contig: str, pos: int, ref: str, alt: str, reference=None,
             transcripts: dict[str, Transcript] | None = None) -> Consequence:
    """Consequence of a VCF-style variant (anchor base kept for indels) on the table's transcripts."""
    txs = transcripts if transcripts is not None else load_transcripts()
    chrom = _norm_chrom(contig)
    ref, alt = ref.upper(), alt.upper()
    end = pos + len(ref) - 1
    hit = [t for t in txs.values() if t.chrom == chrom and t.start <= end and pos <= t.end]
    if not hit:
        return Consequence(None, None, "outside_transcript")
    tx = hit[0]
    # trim the shared anchor so a deletion's first deleted base is where it acts
    p = 0
    while p < min(len(ref), len(alt)) - 0 and p < len(ref) and p < len(alt) and ref[p] == alt[p]:
        p += 1
    if len(ref) != len(alt) and p > 0:
        apos = pos + p
        eff_end = max(apos, pos + len(ref) - 1)
    else:
        apos, eff_end = pos, end
    in_exon, dist, _side = _intron_distance(tx, apos)
    base = {"gene": tx.gene, "transcript": f"{tx.ensembl}|{tx.refseq}", "in_exon": in_exon, "exon_boundary_distance": dist}
    affected = range(apos, eff_end + 1)
    if not in_exon or any(not _in_exons(tx, q) for q in affected):
        dmin = min((_intron_distance(tx, q)[1] or 99) for q in affected if not _in_exons(tx, q))
        if dmin <= 2:
            return Consequence(consequence="canonical_splice", **base)
        if dmin <= 8:
            return Consequence(consequence="splice_region", **base)
        return Consequence(consequence="intron", **base)
    index = _cds_index(tx)
    if apos not in index:
        cls = "splice_region" if (dist is not None and dist <= 3) else "utr"
        return Consequence(consequence=cls, **base)
    i0 = index[apos]
    if len(ref) != len(alt):  # an indel's class needs the transcript layout only, not the sequence
        delta = len(alt) - len(ref)
        cls = "frameshift" if delta % 3 else "inframe_indel"
        if i0 < 3:
            cls = "start_lost"
        return Consequence(consequence=cls, cds_position=i0 + 1, protein_position=i0 // 3 + 1, **base)
    if reference is None:
        from genomics.reference import bundled_reference

        reference = bundled_reference()
    cds = cds_sequence(tx, reference)
    # substitution (SNV/MNV): apply on the coding strand
    mutated = list(cds)
    for k, (r, a) in enumerate(zip(ref, alt)):
        g = pos + k
        if g not in index:
            continue
        j = index[g]
        rb, ab = (r, a) if tx.strand == "+" else (revcomp(r), revcomp(a))
        if cds[j] != rb:
            from genomics.errors import ReferenceSequenceError

            raise ReferenceSequenceError(f"REF {ref} disagrees with the reference at {contig}:{pos}",
                                         record=f"{contig}:{pos}", field="REF",
                                         fix="check the genome build (GRCh38) and the VCF normalisation")
        mutated[j] = ab
    js = sorted(index[pos + k] for k in range(len(ref)) if pos + k in index)
    codons = sorted({j // 3 for j in js})
    ref_aa = "".join(translate(cds[c * 3 : c * 3 + 3]) for c in codons)
    alt_aa = "".join(translate("".join(mutated[c * 3 : c * 3 + 3])) for c in codons)
    n_codons = len(cds) // 3
    if 0 in codons and ref_aa[0] == "M" and alt_aa[0] != "M":
        cls = "start_lost"
    elif "*" in alt_aa and "*" not in ref_aa:
        cls = "stop_gained"
    elif (n_codons - 1) in codons and "*" in ref_aa and "*" not in alt_aa:
        cls = "stop_lost"
    elif ref_aa != alt_aa:
        cls = "missense"
    elif dist is not None and dist <= 3:
        cls = "splice_region"
    else:
        cls = "synonymous"
    return Consequence(consequence=cls, cds_position=js[0] + 1, protein_position=codons[0] + 1, ref_aa=ref_aa,
                       alt_aa=alt_aa, **base)


def _in_exons(tx: Transcript, pos: int) -> bool:
    return any(s <= pos <= e for s, e in tx.exons)


def combined_score(llr: float | None, consequence: str | None, *, in_exon: bool | None = None,
                   exon_boundary_distance: int | None = None, lm_model: str | None = None) -> float:
    """Minus the fitted log-odds that the variant is damaging (lower = more damaging).

    Parts that are missing (``llr=None``: the LM did not score it; no exon distance) count as "no
    evidence" (see :func:`genomics.dnalm.variant_effect.assess`, which also gives the probability, its
    interval and each part's contribution). ``lm_model``: the ``model_id@weights_sha`` that produced
    ``llr``; an LLR from a model other than the one the combination was fitted with is not used.
    """
    from genomics.dnalm.variant_effect import assess

    return -assess(consequence, in_exon, exon_boundary_distance, llr, lm_model=lm_model).log_odds
