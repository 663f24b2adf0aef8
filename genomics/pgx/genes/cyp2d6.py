"""CYP2D6: never silently wrong about copy number.

A VCF of SNVs and small indels cannot see the whole-gene deletion (``*5``), duplications and
multiplications (``xN``) or CYP2D6/CYP2D7 hybrids (``*13``, ``*36``, ``*68``...). The policy (PharmCAT's
default; PyPGx calls these from read depth in a BAM):

* **no copy-number source**: the diplotype from the SNVs/indels is shown, but the result is
  ``provisional`` ("copy number not assessed"): no phenotype reaches the guidance unless the user opts in
  (``accept_cyp2d6_without_copy_number=True`` / ``--cyp2d6-without-copy-number``), and the call says which
  test settles it (:data:`SETTLE_TEST`);
* **copy number in the VCF** (a record overlapping CYP2D6 with a symbolic ``<DEL>``, ``<DUP>`` or ``<CNn>``
  ALT, or a ``FORMAT/CN`` / ``INFO/CN`` value): it is combined into the diplotype: total 0 -> ``*5/*5``,
  1 -> ``X/*5`` (the SNV calls must then be homozygous), 3+ -> ``X/YxN`` (both arrangements when the two
  alleles differ; with 3 copies also the common hybrid tandems ``*36+*10`` and ``*68+*4`` when the
  duplicated allele is ``*10`` or ``*4``), the way PyPGx names them; other hybrids need an outside call;
* **an outside call** (TSV) replaces the VCF call altogether;
* per sample, a *deletion hint* is given when every CYP2D6 site is homozygous while nearby sites are
  heterozygous (the pattern a ``*5`` on one chromosome leaves).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from genomics.pgx.genes import allele_sort_key

__all__ = [
    "CYP2D6_REGION",
    "LIMITATION",
    "SETTLE_TEST",
    "CopyNumber",
    "apply_copy_number",
    "copy_number_from_record",
    "deletion_hint",
]

#: CYP2D6 gene on GRCh38 (NM_000106; 1-based inclusive), used to find copy-number records.
CYP2D6_REGION = ("chr22", 42126499, 42130881)
#: Window around CYP2D6 (bp) where heterozygous sites make an all-homozygous CYP2D6 suspicious (the 75
#: records nearest the gene on each side are counted: ``genomics.pgx.caller.FLANK_RECORDS``).
FLANK = 10_000
SETTLE_TEST = ("a CYP2D6 copy-number assay (TaqMan CNV assays in intron 2/exon 9, MLPA or long-range PCR) or a "
               "copy-number-aware caller on the aligned reads (PyPGx, Cyrius, Aldy, StellarPGx), given as an "
               "outside call or as CN in the VCF")
LIMITATION = (
    "CYP2D6 called from SNVs and small indels only: gene deletions (*5), duplications/multiplications (xN) "
    "and CYP2D6/CYP2D7 hybrids (*13, *36, *68...) cannot be seen in a VCF; give an outside call "
    "(copy-number-aware caller) for a complete CYP2D6 result"
)
_CN_ALT = re.compile(r"^<CN(\d+)>$")
#: Common CYP2D6/2D7 hybrid tandems (PharmVar; PyPGx ``Tandem*`` copy-number profiles): an extra gene copy
#: that carries the SNVs of the named allele. A total copy number cannot tell them from a duplication.
TANDEMS = {"*10": "*36+*10", "*4": "*68+*4"}


@dataclass(frozen=True)
class CopyNumber:
    """Total CYP2D6 gene copies of one sample (2 = normal) and where the number came from."""

    total: int
    at_least: bool
    source: str


def copy_number_from_record(alts: Sequence[str], gt: Sequence[int], info_cn: float | None,
                            format_cn: float | None, locus: str) -> CopyNumber | None:
    """Copy number one VCF record gives for one sample (``gt``: allele indexes, -1 missing), or None."""
    if format_cn is not None and format_cn == format_cn and format_cn >= 0:
        return CopyNumber(int(round(format_cn)), False, f"FORMAT/CN of the record at {locus}")
    symbolic = [a.upper() for a in alts]
    if any(a in ("<DEL>", "<DUP>", "<CNV>") or _CN_ALT.match(a) for a in symbolic) and gt and all(g >= 0 for g in gt):
        total, at_least = 0, False
        for g in gt:
            if g == 0:
                total += 1
                continue
            alt = symbolic[g - 1] if g - 1 < len(symbolic) else ""
            m = _CN_ALT.match(alt)
            if m:
                total += int(m.group(1))
            elif alt == "<DEL>":
                total += 0
            elif alt == "<DUP>":
                total += 2
                at_least = True
            else:
                return None
        if len(gt) == 1:  # haploid record: treat as the whole locus
            total *= 2
        return CopyNumber(total, at_least, f"{'/'.join(alts)} record at {locus}")
    if info_cn is not None and info_cn == info_cn and info_cn >= 0:
        return CopyNumber(int(round(info_cn)), False, f"INFO/CN of the record at {locus}")
    return None


def _dup(name: str, copies: int, at_least: bool) -> str:
    """CPIC/PharmVar notation: ``*2x2``, ``*2x≥3`` (``at_least`` is reported in the warnings)."""
    if copies <= 1:
        return name
    return f"{name}x2" if copies == 2 else f"{name}x≥3"


def apply_copy_number(diplotypes: Sequence[tuple[str, str | None]], cn: CopyNumber
                      ) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Combine SNV/indel diplotypes with the copy number: ``(diplotypes, reasons, warnings)``."""
    reasons = [f"copy_number:{cn.total}{'+' if cn.at_least else ''}"]
    warnings = [f"CYP2D6 copy number {cn.total}{' or more' if cn.at_least else ''} from {cn.source}"]
    if cn.total == 2 and not cn.at_least:
        return [(a, b or a) for a, b in diplotypes], reasons, warnings
    if cn.total == 0:
        return [("*5", "*5")], reasons, warnings
    out: list[tuple[str, str]] = []
    if cn.total == 1:
        for a, b in diplotypes:
            if b is not None and a != b:
                reasons.append("copy_number_conflict")
                warnings.append(f"copy number 1 but heterozygous CYP2D6 calls ({a}/{b}): not called")
                return [], reasons, warnings
            out.append((a, "*5"))
        return sorted(set(out)), reasons, warnings
    extra = cn.total - 1  # copies on the duplicated chromosome
    tandem = False
    for a, b in diplotypes:
        b = b or a
        for dup, other in ((a, b), (b, a)) if a != b else ((a, a),):
            out.append(tuple(sorted((_dup(dup, extra, cn.at_least), other), key=allele_sort_key)))  # type: ignore[arg-type]
            if extra == 2 and dup in TANDEMS:
                out.append(tuple(sorted((TANDEMS[dup], other), key=allele_sort_key)))  # type: ignore[arg-type]
                tandem = True
    if len({x for x in out}) > 1:
        warnings.append("which allele is duplicated cannot be told from the VCF: every arrangement is listed")
    if tandem:
        warnings.append("a total copy number cannot tell a duplication from a CYP2D6/2D7 hybrid tandem ("
                        + ", ".join(sorted(TANDEMS.values())) + "): both are listed; exon-level copy number "
                        "(PyPGx, Cyrius) or an outside call settles it")
    return sorted(set(out)), reasons, warnings


def deletion_hint(n_cyp2d6_het: int, n_cyp2d6_hom_alt: int, n_flank_het: int) -> str | None:
    """A per-sample hint that a ``*5`` deletion may hide one chromosome, or None.

    The pattern: no heterozygous CYP2D6 site although the sample carries variant alleles there (at least
    3 homozygous-alternate sites) and is heterozygous at 3 or more of the 75 sites nearest the gene on each
    side (within :data:`FLANK`). Two identical alleles give the same pattern, so it is a hint, not a call:
    on the 1000 Genomes panel (3,202 samples) it fires for 109 samples (3.4%), while *5 carrier frequencies
    are about 2-7% per population (``docs/concepts/pharmacogenomics.md``).
    """
    if n_cyp2d6_het == 0 and n_cyp2d6_hom_alt >= 3 and n_flank_het >= 3:
        return (f"possible CYP2D6 deletion (*5): no CYP2D6 site is heterozygous ({n_cyp2d6_hom_alt} homozygous "
                f"variant sites) while {n_flank_het} sites within {FLANK // 1000} kb are heterozygous; a *5 "
                "carrier looks like this, and so do two identical alleles. Settle it with " + SETTLE_TEST)
    return None
