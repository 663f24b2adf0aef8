"""VCF -> per-gene star-allele calls -> :class:`~genomics.pgx.profile.PgxProfile`.

Two entry points share one code path:

* :func:`call_pgx` -- one sample (a single-sample VCF, or ``sample=`` of a multi-sample VCF);
* :func:`call_pgx_cohort` -- every (or the chosen) sample of a multi-sample VCF. Each gene region is
  read once for all samples into numpy arrays of allele codes; matching then runs per sample.

Reading a VCF at a defining position (PharmCAT's rules, ``VcfReader``/``SampleAllele``):

* records are looked up by position; the record's REF/ALT are compared with the definition's allele
  strings over the span both cover, so a repeat or indel written with a different REF length at the
  same position (``C>CAT`` vs ``CAT>CATAT``; split multi-allelic records) still matches. Input should be
  normalised (left-aligned, ``bcftools norm -f ref``) as PharmCAT's preprocessor does;
* a REF that disagrees with the definition marks the position unusable (reported), never reference;
* positions absent from the VCF are *missing*. They are filled with reference only when
  ``fill_missing_with_reference=True`` is passed, and the output says so (``filled_positions``,
  reason ``filled_with_reference``, provenance ``options``).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from genomics.errors import DegradedResultWarning, InputFileError, RecommenderError, UsageError, VcfError
from genomics.pgx.definitions import CALLABLE_GENES, load_definition
from genomics.pgx.genes import cyp2d6, g6pd
from genomics.pgx.matcher import (
    HAPLOID,
    MISSING,
    CompiledGene,
    GeneGenotypes,
    MatchOutcome,
    NovelAlleles,
    match_gene,
)
from genomics.pgx.outside_calls import OutsideCall, read_outside_calls
from genomics.pgx.profile import (
    Diplotype,
    GeneCall,
    MissingPosition,
    NovelVariant,
    PgxProfile,
    PgxProvenance,
    PositionGenotype,
    _now_text,
    package_version,
)

__all__ = [
    "COVERAGE_WINDOW",
    "CYP2D6_LIMITATION",
    "GeneArrays",
    "build_gene_call",
    "call_pgx",
    "call_pgx_cohort",
    "compiled_gene",
    "merge_outside_calls",
    "read_gene_arrays",
]

CYP2D6_LIMITATION = cyp2d6.LIMITATION
#: A gene with no VCF record within this distance (bp) of its defining positions is not covered by the
#: VCF (exome/panel without it, wrong contig): its positions are never filled as reference.
COVERAGE_WINDOW = 1_000_000
#: CYP2D6 deletion hint: flanking records (each side, nearest the gene) whose genotypes are counted.
FLANK_RECORDS = 75


@lru_cache(maxsize=64)
def compiled_gene(gene: str) -> CompiledGene:
    """The compiled matcher tables of ``gene`` (cached per process; immutable, so sharing is safe).

    PharmCAT's definition for the CPIC/DPWG genes; PyPGx's tables for the genes only PyPGx defines.
    """
    if gene.upper() not in CALLABLE_GENES:
        from genomics.pgx.pypgx import PYPGX_GENES, pypgx_definition

        if gene.upper() in PYPGX_GENES:
            return CompiledGene(pypgx_definition(gene))
    return CompiledGene(load_definition(gene))


# --------------------------------------------------------------------------------------------- reading
@dataclass
class _Rec:
    chrom: str
    pos: int
    ref: str
    alts: tuple[str, ...]
    gt: np.ndarray  # (n, 2) int16: allele index, -1 missing, -2 haploid pad
    phased: np.ndarray  # (n,) bool
    phase_set: np.ndarray | None  # (n,) int
    source: str = ""  # the file (for errors)


def _allele_key(ref: str, alt: str) -> tuple[str, str]:
    """``(ref, alt)`` with the shared suffix trimmed, so ``C>CAT`` and ``CAT>CATAT`` compare equal."""
    if alt.startswith("<") or alt in ("*", "."):
        return ref[:1], alt
    while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    return ref, alt


def _refuse_duplicate_records(recs: Sequence[_Rec], label: str) -> None:
    """Refuse two records of the same variant at one defining position (issue 16: never silently wrong).

    Split multi-allelic records (one ALT each, different ALTs) are combined by the caller; the same ALT in two
    records (``0/1`` twice would read as homozygous; ``0/0`` and ``0/1`` as whichever wins), or a record
    without ALT beside a variant record, cannot be combined safely, phased or not.
    """
    seen: dict[tuple[str, str], _Rec] = {}
    for rec in recs:
        keys = [_allele_key(rec.ref, a) for a in rec.alts if a not in (".", "")]
        other = None
        if not keys:  # a record without ALT beside another record of the same site
            other = next(r for r in recs if r is not rec)
        else:
            other = next((seen[k] for k in keys if k in seen), None)
        if other is not None:
            both = f"{other.ref}>{','.join(other.alts) or '.'} and {rec.ref}>{','.join(rec.alts) or '.'}"
            raise VcfError(
                f"two records for the same variant at a defining position of {label} ({both}): the genotype "
                "cannot be read safely (a duplicate would count one allele twice)",
                file=rec.source or other.source, record=f"{rec.chrom}:{rec.pos}", field="GT",
                fix="remove the duplicate record (bcftools norm -d exact FILE), or merge the two calls into one "
                    "record; split multi-allelic records must carry different ALT alleles",
            )
        seen.update((k, rec) for k in keys)


class _Source:
    """One opened VCF: samples and region fetches, through ``genomics.vcf`` when available."""

    def __init__(self, path: str | os.PathLike[str], samples: Sequence[str] | None = None,
                 build: str = "GRCh38") -> None:
        self.path = str(path)
        if not Path(self.path).exists():
            raise InputFileError("file not found", file=self.path, fix="check the VCF path")
        self.build_evidence: str | None = None
        self._reader: Any = None
        self._cy: Any = None
        try:
            from genomics.vcf import VcfReader  # the product's reader (foundation issue)
        except ImportError:  # pragma: no cover - only while the reader module is being written
            VcfReader = None
        if VcfReader is not None:
            self._reader = VcfReader(self.path, samples=list(samples) if samples else None, build=build)
            self.samples = list(self._reader.samples)
            b = getattr(self._reader, "build", None)
            self.build_evidence = b.describe() if hasattr(b, "describe") else (str(b) if b is not None else None)
        else:  # pragma: no cover
            self._open_cyvcf2(samples)

    def _open_cyvcf2(self, samples: Sequence[str] | None) -> None:  # pragma: no cover - fallback
        import cyvcf2

        try:
            self._cy = cyvcf2.VCF(self.path, samples=list(samples) if samples else None, lazy=True)
        except (OSError, Exception) as err:  # noqa: BLE001 - cyvcf2 raises plain Exception
            raise VcfError(f"cannot open VCF: {err}", file=self.path, fix="give a valid VCF/BCF file") from None
        self.samples = list(self._cy.samples)
        self._has_index = any(Path(self.path + s).exists() for s in (".tbi", ".csi"))

    def region_has_records(self, chrom: str, start: int, end: int) -> bool:
        """Whether any record overlaps ``chrom:start-end``."""
        if self._reader is not None:
            for _ in self._reader.fetch(f"{chrom}:{start}-{end}"):
                return True
            return False
        return any(True for _ in self._fetch_cyvcf2(chrom, start, end))  # pragma: no cover

    def copy_number_scan(self, chrom: str, start: int, end: int, flank: int
                         ) -> tuple[list[tuple[str, tuple[str, ...], np.ndarray, Any, Any]], np.ndarray | None]:
        """Copy-number records overlapping ``chrom:start-end`` and per-sample heterozygous counts in the flanks.

        Returns ``([(locus, alts, gt, info_cn, format_cn)], flank_het)``; ``flank_het`` is ``None`` when
        the reader cannot scan regions.
        """
        if self._reader is None:  # pragma: no cover - fallback reader
            return [], None
        records = []
        flank_het = np.zeros(len(self.samples), dtype=np.int64)
        left: list[Any] = []
        right: list[Any] = []
        raw = str(getattr(getattr(self._reader, "_vcf", None), "raw_header", "") or "")
        may_have_cn = not raw or "ID=CN," in raw or "##ALT=<ID=" in raw or "<DEL>" in raw
        windows = [(max(1, start - flank), end + flank)] if may_have_cn else [
            (max(1, start - flank), start - 1), (end + 1, end + flank)]  # no CN declared: skip the gene body
        for lo, hi in windows:
            for rec in self._reader.fetch(f"{chrom}:{lo}-{hi}"):
                self._scan_one(rec, start, end, records, left, right)
        # genotypes are decoded only for the records nearest the gene (cost bounded for large cohorts)
        for variant in left[-FLANK_RECORDS:] + right[:FLANK_RECORDS]:
            flank_het += np.asarray(variant.gt_types) == 1  # cyvcf2: 1 = heterozygous
        return records, flank_het

    @staticmethod
    def _scan_one(rec: Any, start: int, end: int, records: list, left: list, right: list) -> None:
        """Sort one record: a flanking site (kept for the het count) or a copy-number record over the gene."""
        alts = tuple(str(a) for a in rec.alts)
        rec_end = int(rec.end)
        overlaps = rec.pos <= end and rec_end >= start
        if not overlaps:
            if all(not a.startswith("<") for a in alts):
                (left if rec.pos < start else right).append(rec.variant)
            return
        gt = np.asarray(rec.gt)
        info_cn = fmt_cn = None
        try:
            info_cn = rec.info("CN")
        except RecommenderError:
            info_cn = None
        try:
            raw = rec.variant.format("CN")
            fmt_cn = None if raw is None else np.asarray(raw, dtype=float)[:, 0]
        except Exception:  # noqa: BLE001 - cyvcf2 raises plain errors for absent/odd fields
            fmt_cn = None
        symbolic = any(a.startswith("<") for a in alts)
        if symbolic or info_cn is not None or fmt_cn is not None:
            records.append((rec.locus, alts, gt, info_cn, fmt_cn))

    @property
    def has_index(self) -> bool:
        if self._reader is not None:
            return bool(getattr(self._reader, "has_index", False))
        return bool(getattr(self, "_has_index", False))  # pragma: no cover - fallback

    def fetch_many(self, pairs: Sequence[tuple[str, int]]) -> dict[tuple[str, int], list[_Rec]]:
        """Records starting at each ``(chrom, pos)``: one index query per cluster, or one file scan."""
        out: dict[tuple[str, int], list[_Rec]] = {}
        if self._reader is not None:
            hits = self._reader.fetch_positions([(c, int(p)) for c, p in pairs])
            for key, recs in hits.items():
                for rec in recs or ():
                    ps = rec.phase_set
                    out.setdefault(key, []).append(_Rec(
                        rec.chrom, int(rec.pos), str(rec.ref).upper(), tuple(str(a).upper() for a in rec.alts),
                        rec.gt, np.asarray(rec.phased, dtype=bool), None if ps is None else np.asarray(ps),
                        self.path))
            return out
        by_chrom: dict[str, set[int]] = {}  # pragma: no cover - fallback without genomics.vcf
        for c, p in pairs:  # pragma: no cover
            by_chrom.setdefault(c, set()).add(int(p))
        for c, wanted in by_chrom.items():  # pragma: no cover
            for rec in self._fetch_cyvcf2(c, min(wanted), max(wanted)):
                if rec.pos in wanted:
                    out.setdefault((c, rec.pos), []).append(rec)
        return out

    def _fetch_cyvcf2(self, chrom: str, start: int, end: int) -> Iterator[_Rec]:  # pragma: no cover
        names = [chrom, chrom[3:] if chrom.startswith("chr") else "chr" + chrom]
        if self._has_index:
            it = None
            for name in names:
                try:
                    it = self._cy(f"{name}:{start}-{end}")
                    break
                except Exception:  # noqa: BLE001, S112
                    continue
            if it is None:
                return
        else:
            it = (v for v in self._cy if v.CHROM in names and v.POS <= end and v.end >= start)
        for v in it:
            arr = v.genotype.array() if v.genotype is not None else None
            n = len(self.samples)
            if arr is None:
                gt = np.full((n, 2), -1, dtype=np.int16)
                ph = np.zeros(n, dtype=bool)
            else:
                ph = arr[:, -1].astype(bool)
                if arr.shape[1] == 2:
                    gt = np.stack([arr[:, 0], np.full(n, -2, dtype=arr.dtype)], axis=1).astype(np.int16)
                else:
                    gt = arr[:, :2].astype(np.int16)
            ps = None
            try:
                raw = v.format("PS")
                if raw is not None:
                    ps = raw[:, 0].astype(np.int64)
            except Exception:  # noqa: BLE001
                ps = None
            yield _Rec(v.CHROM, int(v.POS), v.REF.upper(), tuple(a.upper() for a in v.ALT), gt, ph, ps)


@dataclass
class GeneArrays:
    """Allele codes of every selected sample at one gene's loci (read once per gene)."""

    gene: str
    a1: np.ndarray  # (n_samples, n_loci) int16
    a2: np.ndarray
    phased: np.ndarray  # bool
    phase_set: np.ndarray  # int64
    conflict: np.ndarray  # bool
    ref_mismatch: np.ndarray  # (n_loci,) bool
    extra: list[tuple[Any, np.ndarray, np.ndarray, list[str]]]  # (locus, gt, phased, allele strings)
    region_empty: bool = False  # no record at all in the gene region: never fill such a gene
    novel: NovelAlleles | None = None  # undocumented alleles of this read (per call, never cached)
    absent: np.ndarray | None = None  # (n_loci,) no record at the position: the only ones fill may fill
    copy_number: list[Any] | None = None  # CYP2D6: per-sample CopyNumber (or None) read from the VCF
    flank_het: np.ndarray | None = None  # CYP2D6: heterozygous sites near the gene, per sample
    row_keys: list[bytes] | None = None  # per-sample genotype bytes (see row_key), built on first use

    def row_key(self, i: int) -> bytes:
        """Sample ``i``'s bytes of a1, a2, phased, phase set and conflict (fixed widths, so one bytes string
        identifies the same genotypes as the five arrays): the per-sample call cache key."""
        if self.row_keys is None:
            n = self.a1.shape[0]
            parts = [self.a1, self.a2, self.phased, self.phase_set] + ([] if self.conflict is None else [self.conflict])
            mat = np.concatenate([np.ascontiguousarray(p).reshape(n, -1).view(np.uint8) for p in parts], axis=1)
            self.row_keys = [row.tobytes() for row in mat]
        return self.row_keys[i]

    def sample(self, i: int) -> GeneGenotypes:
        return GeneGenotypes(a1=self.a1[i], a2=self.a2[i], phased=self.phased[i], phase_set=self.phase_set[i],
                             ref_mismatch=self.ref_mismatch, conflict=self.conflict[i], novel=self.novel,
                             absent=self.absent)


def _allele_codes(cg: CompiledGene, li: int, ref: str, alts: Sequence[str],
                  novel: NovelAlleles | None = None) -> np.ndarray | None:
    """Codes of ``(ref,) + alts`` at locus ``li``; ``None`` when REF disagrees with the definition."""
    locus = cg.loci[li]
    R = locus.ref.upper()
    if len(ref) >= len(R):
        if not ref.startswith(R):
            return None
        window = ref
    else:
        if not R.startswith(ref):
            return None
        window = R
    tail_def = window[len(R):]
    tail_rec = window[len(ref):]
    targets = {w + tail_def: k for k, w in enumerate(cg.vocab[li])}
    codes = []
    for allele in (ref, *alts):
        if allele.startswith("<") or allele in ("*", ".", "") or not allele.isalpha():
            text = f"{allele}"
            codes.append(cg.encode(li, text, novel))
            continue
        hap = allele + tail_rec
        code = targets.get(hap)
        if code is None:
            code = cg.encode(li, allele if ref == R else f"{ref}>{allele}", novel)
        codes.append(code)
    return np.array(codes, dtype=np.int16)


def _is_ignored_record(d: Any, rec: _Rec) -> bool:
    """Whether a VCF record is the variant an ``ignoredPositions`` exemption names (same position and alleles)."""
    for ig in d.ignored_loci:
        if ig.position == rec.pos and ig.ref.upper() == rec.ref and set(rec.alts) <= {a.upper() for a in ig.alts}:
            return True
    return False


def _to_codes(gt: np.ndarray, lut: np.ndarray) -> np.ndarray:
    return np.where(gt >= 0, lut[np.clip(gt, 0, len(lut) - 1)], gt).astype(np.int16)


def _wanted(cg: CompiledGene) -> list[tuple[str, int]]:
    d = cg.definition
    return [(d.chrom, p) for p in sorted(set(cg.position_index) | {lo.position for lo in d.extra_positions})]


def read_gene_arrays(sources: Sequence[_Source], cg: CompiledGene, n_samples: int,
                     fetched: Sequence[Mapping[tuple[str, int], list[_Rec]]] | None = None) -> GeneArrays:
    """Encode the genotypes of all samples at one gene's loci.

    ``fetched`` (one mapping per source, from :meth:`_Source.fetch_many`) avoids a new read; without it
    the gene's positions are read from every source now.
    """
    d = cg.definition
    n_loci = len(cg.loci)
    by_pos: dict[int, list[_Rec]] = {}
    extra_pos = {lo.position: lo for lo in d.extra_positions}
    extra_recs: dict[int, list[_Rec]] = {}
    wanted = _wanted(cg)
    if fetched is None:
        fetched = [src.fetch_many(wanted) for src in sources]
    for hits in fetched:
        for key in wanted:
            for rec in hits.get(key, ()):
                if _is_ignored_record(d, rec):
                    continue  # an ignoredPositions variant (matched by its alleles, not its position)
                if rec.pos in cg.position_index:
                    by_pos.setdefault(rec.pos, []).append(rec)
                elif rec.pos in extra_pos:
                    extra_recs.setdefault(rec.pos, []).append(rec)
    A1 = np.full((n_samples, n_loci), MISSING, dtype=np.int16)
    A2 = np.full((n_samples, n_loci), MISSING, dtype=np.int16)
    PH = np.zeros((n_samples, n_loci), dtype=bool)
    PS = np.zeros((n_samples, n_loci), dtype=np.int64)
    CONF = np.zeros((n_samples, n_loci), dtype=bool)
    REFMM = np.zeros(n_loci, dtype=bool)
    novel = cg.new_novel_table()  # per-read: the compiled gene is never modified
    absent = np.array([lo.position not in by_pos for lo in cg.loci], dtype=bool)
    for pos, recs in by_pos.items():
        li = cg.position_index[pos]
        if len(recs) > 1:
            _refuse_duplicate_records(recs, d.gene)
        coded = []
        for rec in recs:
            lut = _allele_codes(cg, li, rec.ref, rec.alts, novel)
            if lut is None:
                REFMM[li] = True
                continue
            c = _to_codes(rec.gt, lut)
            ps = rec.phase_set if rec.phase_set is not None else np.zeros(n_samples, dtype=np.int64)
            coded.append((c[:, 0], c[:, 1], rec.phased, ps))
        if not coded:
            continue
        if len(coded) == 1:
            x0, x1, ph, ps = coded[0]
            A1[:, li], A2[:, li], PH[:, li], PS[:, li] = x0, x1, ph, ps
            continue
        # several records at one position (split multi-allelic sites): combine per sample
        X0 = np.stack([c[0] for c in coded])
        X1 = np.stack([c[1] for c in coded])
        phs = np.stack([c[2] for c in coded]).all(axis=0)
        missing_any = ((X0 == MISSING) | (X1 == MISSING)).any(axis=0)
        haploid = (X1 == HAPLOID).all(axis=0)
        nr0 = (X0 > 0).sum(axis=0)
        nr1 = (X1 > 0).sum(axis=0)
        slot0_ph = np.where(X0 > 0, X0, 0).max(axis=0)
        slot1_ph = np.where(X1 > 0, X1, 0).max(axis=0)
        both = np.concatenate([np.where(X0 > 0, X0, 0), np.where(X1 > 0, X1, 0)])
        both = -np.sort(-both, axis=0)
        slot0_un, slot1_un = both[0], both[1]
        total = nr0 + nr1
        s0 = np.where(phs, slot0_ph, slot0_un)
        s1 = np.where(phs, slot1_ph, slot1_un)
        conflict = np.where(phs, (nr0 > 1) | (nr1 > 1), total > 2) | (haploid & (nr0 > 1))
        s1 = np.where(haploid, HAPLOID, s1)
        s0 = np.where(missing_any, MISSING, s0)
        A1[:, li], A2[:, li] = s0, s1
        PH[:, li] = phs
        PS[:, li] = coded[0][3]
        CONF[:, li] = conflict & ~missing_any
    extra = []
    for pos, locus in extra_pos.items():
        recs = extra_recs.get(pos)
        if recs:
            rec = recs[0]
            extra.append((locus, rec.gt, rec.phased, [rec.ref, *rec.alts]))
        else:
            extra.append((locus, None, None, []))
    return GeneArrays(d.gene, A1, A2, PH, PS, CONF, REFMM, extra, novel=novel, absent=absent)


# ------------------------------------------------------------------------------------------- phenotypes
def _knowledge():
    """The knowledge half's phenotype lookup, or ``None`` while it is not installed."""
    try:
        from genomics.pgx import phenotypes
    except ImportError:  # pragma: no cover - knowledge module absent
        return None
    return phenotypes


@lru_cache(maxsize=65536)
def _phenotype(gene: str, a1: str, a2: str | None, sex: str | None) -> Any:
    mod = _knowledge()
    if mod is None:
        return None
    try:
        return mod.assign_phenotype(gene, a1, a2, sex=sex)
    except (RecommenderError, KeyError, ValueError, LookupError):
        return None


@lru_cache(maxsize=64)
def _function_rank_for(gene: str, reference: str) -> Callable[[str], float | None] | None:
    """``allele -> rank`` (lower = less function) from the bundled tables, for the lowest-function rule.

    An allele the table does not rate is "uncertain function" (see :mod:`genomics.pgx.genes.lowest_function`).
    """
    mod = _knowledge()
    if mod is None:
        return None
    from genomics.pgx.genes.lowest_function import function_rank

    @lru_cache(maxsize=1024)
    def rank(allele: str) -> float | None:
        try:
            return function_rank(mod.allele_function(gene, allele), mod.allele_activity_value(gene, allele))
        except (RecommenderError, KeyError, ValueError, LookupError):
            return function_rank(None)

    return rank


def _diplotype_model(gene: str, a1: str, a2: str | None, score: int, sex: str | None,
                     with_phenotype: bool) -> tuple[Diplotype, Any]:
    name = a1 if a2 is None else f"{a1}/{a2}"
    pc = _phenotype(gene, a1, a2, sex) if with_phenotype else None
    # model_construct (here and below, for values this module builds from typed Python values): no
    # validation and no validator build, so a one-gene start-up does not pay for pydantic's schema
    if pc is None:
        return Diplotype.model_construct(allele1=a1, allele2=a2, name=name, score=score), None
    return Diplotype.model_construct(
        allele1=a1, allele2=a2, name=name, score=score,
        phenotype=getattr(pc, "phenotype", None),
        activity_score=_str_or_none(getattr(pc, "activity_score", None)),
        lookup_key=_str_or_none(getattr(pc, "lookup_key", None)),
        function1=_str_or_none(getattr(pc, "function1", None)),
        function2=_str_or_none(getattr(pc, "function2", None)),
    ), pc


def _str_or_none(v: Any) -> str | None:
    return None if v is None else str(v)


def build_gene_call(out: MatchOutcome, *, sex: str | None = None, sex_source: str | None = None,
                    extra_positions: list[PositionGenotype] | None = None) -> GeneCall:
    """Turn a :class:`MatchOutcome` into a :class:`GeneCall`, adding phenotypes where they agree."""
    gene = out.gene
    reasons = list(out.reasons)
    limitations = []
    if gene == "CYP2D6" and "copy_number_from_vcf" in reasons:
        limitations.append("CYP2D6 copy number from the VCF: a total copy number cannot exclude CYP2D6/2D7 hybrids "
                           "(*13, *36, *61, *63, *68); exon-level copy number or an outside call settles it")
    if gene == "CYP2D6" and "copy_number_from_vcf" not in reasons:
        limitations.append(CYP2D6_LIMITATION)
        reasons.append("cyp2d6_snv_indel_only")
        if out.status == "provisional":
            limitations.append("provisional: copy number not assessed; the phenotype of the SNV/indel diplotype is "
                               "not used for guidance. Settle it with " + cyp2d6.SETTLE_TEST)
    if out.rule == "lowest_function":
        reasons.append("lowest_function_rule")
    if compiled_gene(gene).definition.source == "PyPGx":
        from genomics.pgx.pypgx import no_guideline_note

        limitations.append(no_guideline_note(gene))
        reasons.append("no_cpic_dpwg_guideline")
    with_pheno = out.status in ("called", "ambiguous", "provisional")
    dips, pcs = [], []
    psex = "male" if out.haploid else sex
    for a1, a2, score in out.diplotypes:
        dm, pc = _diplotype_model(gene, a1, a2, score, psex, with_pheno)
        dips.append(dm)
        pcs.append(pc)
    phenotype = activity = lookup = None
    pheno_version = None
    if with_pheno and dips:
        if all(pc is None for pc in pcs) and _knowledge() is not None:
            reasons.append("phenotype_not_found")
        for reason in sorted({str(pc.reason) for pc in pcs if pc is not None and getattr(pc, "reason", None)}):
            reasons.append(f"phenotype:{reason}")
        keys = {(d.phenotype, d.activity_score, d.lookup_key) for d in dips}
        if len(keys) == 1:
            phenotype, activity, lookup = next(iter(keys))
            if phenotype is None and activity is None and lookup is None:
                pass
        else:
            reasons.append("ambiguous_phenotype")
        versions = {str(getattr(pc, "source_version", "")) for pc in pcs if pc is not None}
        pheno_version = ",".join(sorted(v for v in versions if v)) or None
        for pc in pcs:
            if pc is not None and getattr(pc, "reason", None) == "unknown_allele":
                out.warnings.append(f"{pc.detail}: the allele is in the {compiled_gene(gene).definition.version} "
                                    f"allele definitions but the bundled phenotype table ({pc.source_version}) does "
                                    "not rate it, so its function is not assessed")
                reasons.append("allele_not_in_phenotype_table")
        if out.status == "provisional":
            phenotype = activity = lookup = None  # shown per diplotype, never used for guidance
    return GeneCall.model_construct(
        gene=gene, source="vcf", status=out.status, reasons=list(dict.fromkeys(reasons)), diplotypes=dips,
        phenotype=phenotype, activity_score=activity, lookup_key=lookup,
        phased=out.phased, effectively_phased=out.effectively_phased, haploid=out.haploid,
        sex=psex if gene == "G6PD" else None, sex_source=sex_source if gene == "G6PD" else None,
        n_positions=out.n_positions, n_observed=out.n_observed,
        missing_positions=[MissingPosition.model_construct(**m) for m in out.missing_positions],
        filled_positions=list(out.filled_positions), partial_positions=list(out.partial_positions),
        alleles_not_ruled_out=list(out.not_ruled_out),
        novel_variants=[NovelVariant.model_construct(**v) for v in out.novel_variants],
        haplotypes_present=list(out.haplotypes_present), rule=out.rule, limitations=limitations,
        warnings=list(dict.fromkeys(out.warnings)), extra_positions=extra_positions or [],
        positions=[PositionGenotype.model_construct(**p) for p in out.positions],
        definition_version=compiled_gene(gene).definition.version, phenotype_version=pheno_version,
    )


def _outside_phenotype(oc: OutsideCall) -> Any:
    mod = _knowledge()
    if mod is None:
        return None
    try:
        return mod.phenotype_from_outside_call(oc.gene, phenotype=oc.phenotype, activity_score=oc.activity_score,
                                               diplotype=oc.diplotype)
    except (RecommenderError, KeyError, ValueError, LookupError):
        return None


def merge_outside_calls(genes: dict[str, GeneCall], outside: Iterable[OutsideCall],
                        warnings_out: list[str]) -> dict[str, GeneCall]:
    """Replace (or add) the calls of genes named in the outside calls; marked ``source="outside"``."""
    merged = dict(genes)
    for oc in outside:
        if oc.gene in merged and merged[oc.gene].source == "vcf":
            warnings_out.append(f"{oc.gene}: outside call (line {oc.line}) replaces the call from the VCF "
                                f"({merged[oc.gene].diplotype or merged[oc.gene].status})")
        pc = _outside_phenotype(oc)
        reasons = ["outside_call"]
        if pc is not None and getattr(pc, "reason", None):
            reasons.append(f"phenotype:{pc.reason}")
        dips = []
        if oc.alleles is not None:
            a1, a2 = oc.alleles
            dips.append(Diplotype(
                allele1=a1, allele2=a2, name=oc.diplotype or a1,
                phenotype=getattr(pc, "phenotype", None), activity_score=_str_or_none(getattr(pc, "activity_score", None)),
                lookup_key=_str_or_none(getattr(pc, "lookup_key", None)),
                function1=_str_or_none(getattr(pc, "function1", None)),
                function2=_str_or_none(getattr(pc, "function2", None))))
        merged[oc.gene] = GeneCall(
            gene=oc.gene, source="outside", status="outside_call", reasons=reasons, diplotypes=dips,
            phenotype=oc.phenotype or getattr(pc, "phenotype", None),
            activity_score=oc.activity_score or _str_or_none(getattr(pc, "activity_score", None)),
            lookup_key=_str_or_none(getattr(pc, "lookup_key", None)), outside_source=oc.source,
            phenotype_version=_str_or_none(getattr(pc, "source_version", None)),
        )
    return merged


# ------------------------------------------------------------------------------------------- calling
def _genes(genes: Iterable[str] | None) -> list[str]:
    """The genes to call: default the 20 PharmCAT genes; ``all`` adds every PyPGx-only gene; ``pypgx`` those."""
    if genes is None:
        return list(CALLABLE_GENES)
    out: list[str] = []
    pypgx_genes: tuple[str, ...] | None = None
    for g in genes:
        gu = g.strip().upper()
        if gu in ("ALL", "PYPGX") or gu not in CALLABLE_GENES:
            if pypgx_genes is None:
                from genomics.pgx.pypgx import BAM_ONLY_GENES, PYPGX_GENES

                pypgx_genes = PYPGX_GENES
            if gu in ("ALL", "PYPGX"):
                wanted = (list(CALLABLE_GENES) if gu == "ALL" else []) + list(pypgx_genes)
                out += [x for x in wanted if x not in out]
                continue
            if gu not in pypgx_genes:
                extra = (f"; {gu} is defined only by structural alleles: it needs a BAM-based caller or an outside "
                         "call") if gu in BAM_ONLY_GENES else ""
                raise UsageError(f"gene {g!r} cannot be called from a VCF{extra}", field="genes",
                                 fix=f"choose among: {', '.join(CALLABLE_GENES)}, the PyPGx genes "
                                     f"({', '.join(pypgx_genes)}), 'all' or 'pypgx' (HLA-A/B, MT-RNR1: outside calls)")
        if gu not in out:
            out.append(gu)
    return out


def _sex_for(sex: str | Mapping[str, str] | None, sample: str) -> str | None:
    value = sex.get(sample) if isinstance(sex, Mapping) else sex
    if value is None:
        return None
    v = str(value).strip().lower()
    if v in ("m", "male", "1", "xy"):
        return "male"
    if v in ("f", "female", "2", "xx"):
        return "female"
    if v in ("", "unknown", "0", "na", "."):
        return None
    raise UsageError(f"unknown sex value {value!r}", field="sex", fix="use male, female or leave it out")


def _extra_genotypes(ga: GeneArrays, i: int) -> list[PositionGenotype]:
    rows = []
    for locus, gt, ph, alleles in ga.extra:
        if gt is None:
            rows.append(PositionGenotype.model_construct(position=locus.position, rsid=locus.rsid, ref=locus.ref,
                                                         genotype="./."))
            continue
        g = gt[i]
        parts = [alleles[x] if 0 <= x < len(alleles) else "." for x in g if x != HAPLOID]
        rows.append(PositionGenotype.model_construct(position=locus.position, rsid=locus.rsid, ref=locus.ref,
                                                     genotype=("|" if ph[i] else "/").join(parts)))
    return rows


def _read_all(sources: Sequence[_Source], gene_list: list[str], n_samples: int,
              progress: Callable[[str, int, int], None] | None = None,
              check_regions: bool = False) -> dict[str, GeneArrays]:
    """Genotype arrays of every gene: per gene through the index, or one scan per file without one.

    With ``check_regions`` (used when missing positions will be filled), a gene with no call at any
    defining position is checked for *any* record within :data:`COVERAGE_WINDOW` of its defining
    positions; when there is none, the VCF does not cover the gene and it is marked ``region_empty``
    (never filled).
    """
    arrays: dict[str, GeneArrays] = {}
    if all(src.has_index for src in sources):
        for k, g in enumerate(gene_list, start=1):
            arrays[g] = read_gene_arrays(sources, compiled_gene(g), n_samples)
            if progress:
                progress("read", k, len(gene_list))
    else:
        wanted = [key for g in gene_list for key in _wanted(compiled_gene(g))]
        fetched = [src.fetch_many(wanted) for src in sources]
        for k, g in enumerate(gene_list, start=1):
            arrays[g] = read_gene_arrays(sources, compiled_gene(g), n_samples, fetched)
            if progress:
                progress("read", k, len(gene_list))
    if check_regions:
        for g, ga in arrays.items():
            if (ga.a1 == MISSING).all() and not ga.ref_mismatch.any():
                chrom, start, end = compiled_gene(g).definition.region
                lo, hi = max(1, start - COVERAGE_WINDOW), end + COVERAGE_WINDOW
                ga.region_empty = not any(src.region_has_records(chrom, lo, hi) for src in sources)
    if "CYP2D6" in arrays:
        _read_cyp2d6_copy_number(sources, arrays["CYP2D6"], n_samples)
    return arrays


def _read_cyp2d6_copy_number(sources: Sequence[_Source], ga: GeneArrays, n_samples: int) -> None:
    """Copy number per sample from CN records overlapping CYP2D6, and heterozygous sites in its flanks."""
    chrom, start, end = cyp2d6.CYP2D6_REGION
    cns: list[Any] = [None] * n_samples
    flank = np.zeros(n_samples, dtype=np.int64)
    for src in sources:
        records, het = src.copy_number_scan(chrom, start, end, cyp2d6.FLANK)
        if het is not None:
            flank += het
        for locus, alts, gt, info_cn, fmt_cn in records:
            for i in range(n_samples):
                if cns[i] is not None:
                    continue
                g = [int(x) for x in gt[i] if int(x) != HAPLOID]
                icn = info_cn if n_samples == 1 and isinstance(info_cn, (int, float)) else None
                fcn = None if fmt_cn is None else float(fmt_cn[i])
                if fcn is not None and (fcn != fcn or fcn < 0):
                    fcn = None
                cns[i] = cyp2d6.copy_number_from_record(alts, g, icn, fcn, locus)
    ga.copy_number = cns
    ga.flank_het = flank


def _cyp2d6_policy(out: MatchOutcome, ga: GeneArrays, i: int, geno: GeneGenotypes, accept_without_cn: bool) -> None:
    """Combine a CYP2D6 copy number into the call, or mark the call provisional (see genes/cyp2d6)."""
    cn = ga.copy_number[i] if ga.copy_number is not None else None
    if cn is not None:
        out.reasons.append("copy_number_from_vcf")
        if out.status in ("called", "ambiguous"):
            dips, reasons, warns = cyp2d6.apply_copy_number([(x, y) for x, y, _ in out.diplotypes], cn)
            out.reasons += reasons
            out.warnings += warns
            out.diplotypes = [(x, y, 0) for x, y in dips]
            out.rule = "copy_number"
            out.status = "not_called" if not dips else ("ambiguous" if len(dips) > 1 else "called")
        else:
            out.warnings.append(f"CYP2D6 copy number {cn.total} from {cn.source}; the SNV/indel call is {out.status}")
    else:
        out.reasons.append("cyp2d6_copy_number_not_assessed")
        if out.status in ("called", "ambiguous") and not accept_without_cn:
            out.status = "provisional"
        elif out.status in ("called", "ambiguous"):
            out.reasons.append("cyp2d6_accepted_without_copy_number")
    obs = (geno.a1 >= 0) & (geno.a2 >= 0)
    n_het = int((obs & (geno.a1 != geno.a2)).sum())
    n_hom_alt = int((obs & (geno.a1 == geno.a2) & (geno.a1 > 0)).sum())
    flank = int(ga.flank_het[i]) if ga.flank_het is not None else 0
    hint = cyp2d6.deletion_hint(n_het, n_hom_alt, flank)
    if hint and (cn is None or cn.total >= 2):
        out.reasons.append("possible_cyp2d6_deletion")
        out.warnings.append(hint)


def _call_sample(gene_arrays: dict[str, GeneArrays], i: int, sample: str, *, fill: bool,
                 sex: str | None, include_positions: bool,
                 cache: dict[tuple, GeneCall] | None = None, accept_cyp2d6: bool = False) -> dict[str, GeneCall]:
    calls: dict[str, GeneCall] = {}
    for gene, ga in gene_arrays.items():
        key = None
        if cache is not None:
            # samples with identical genotypes at a gene get the same (immutable) GeneCall
            key = (gene, sex, ga.row_key(i), tuple(_extra_key(ga, i)) if ga.extra else (),
                   None if ga.copy_number is None else (ga.copy_number[i], int(ga.flank_het[i])))
            hit = cache.get(key)
            if hit is not None:
                calls[gene] = hit
                continue
        cg = compiled_gene(gene)
        geno = ga.sample(i)
        force_haploid = cg.rules.sex_linked and g6pd.force_haploid(sex)
        rank = _function_rank_for(gene, cg.names[cg.ref_index]) if cg.rules.lowest_function else None
        out = match_gene(cg, geno, fill_missing_with_reference=fill and not ga.region_empty, function_rank=rank,
                         force_haploid=force_haploid, include_positions=include_positions)
        if cg.rules.copy_number_sensitive:
            _cyp2d6_policy(out, ga, i, geno, accept_cyp2d6)
        if fill and ga.region_empty:
            out.reasons.append("gene_region_not_in_vcf")
            out.warnings.append("the VCF has no record anywhere in this gene's region: the gene is not covered, "
                                "so its positions were not filled as reference")
        sex_source = None
        gene_sex = sex
        if cg.rules.sex_linked:
            gene_sex, sex_source = g6pd.sex_for_call(out, geno, sex)
        calls[gene] = build_gene_call(out, sex=gene_sex, sex_source=sex_source,
                                      extra_positions=_extra_genotypes(ga, i) if ga.extra else None)
        if key is not None:
            cache[key] = calls[gene]
    return calls


def _extra_key(ga: GeneArrays, i: int) -> list:
    return [(None if gt is None else (gt[i].tobytes(), bool(ph[i]))) for _, gt, ph, _ in ga.extra]


@lru_cache(maxsize=64)
def _definition_versions(genes: tuple[str, ...]) -> str:
    return ",".join(sorted({compiled_gene(g).definition.version for g in genes}))


def _provenance(options: dict[str, Any], vcf: str | None, build_evidence: str | None,
                calls: dict[str, GeneCall]) -> PgxProvenance:
    versions = _definition_versions(tuple(options.get("genes") or CALLABLE_GENES))
    pheno: dict[str, str] = {g: c.phenotype_version for g, c in calls.items() if c.phenotype_version}
    # every defaulted field given: pydantic inspects a default factory's signature on each construction
    return PgxProvenance.model_construct(definitions_version=versions, phenotype_versions=pheno,
                                         options=dict(options), vcf=vcf, build_evidence=build_evidence,
                                         package_version=package_version(), created=_now_text())


def _as_paths(vcf: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    if isinstance(vcf, (str, os.PathLike)):
        return [str(vcf)]
    return [str(p) for p in vcf]


def _open_sources(paths: list[str], samples: Sequence[str] | None, build: str) -> list[_Source]:
    sources = [_Source(p, samples=samples, build=build) for p in paths]
    first = sources[0].samples
    for s in sources[1:]:
        if s.samples != first:
            raise InputFileError("the VCF files list different samples", file=s.path, field="samples",
                                 fix="give files with the same samples in the same order")
    return sources


def call_pgx(
    vcf_path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    sample: str | None = None,
    outside_calls: str | os.PathLike[str] | Sequence[OutsideCall] | None = None,
    fill_missing_with_reference: bool = False,
    genes: Iterable[str] | None = None,
    *,
    sex: str | None = None,
    build: str = "GRCh38",
    include_positions: bool = True,
    accept_cyp2d6_without_copy_number: bool = False,
) -> PgxProfile:
    """Call every pharmacogene of one sample from a VCF.

    Parameters
    ----------
    vcf_path
        A VCF/BCF (bgzipped + indexed for fast region reads), or several files holding the same
        samples (e.g. one file per gene).
    sample
        The sample to call; may be omitted for a single-sample VCF.
    outside_calls
        A TSV path (see :mod:`genomics.pgx.outside_calls`) or parsed calls; they replace VCF calls.
    fill_missing_with_reference
        Treat defining positions absent from the VCF as homozygous reference (recorded).
    genes
        Genes to call (default: all of :data:`~genomics.pgx.definitions.CALLABLE_GENES`).
    sex
        ``"male"``/``"female"`` for G6PD; inferred from chrX ploidy when not given.
    build
        Genome build the VCF must be on (GRCh38; the definitions are GRCh38).
    include_positions
        Include the per-position genotype table in each gene call.
    accept_cyp2d6_without_copy_number
        Use a CYP2D6 call made without any copy-number source as a normal call (status ``called``, its
        phenotype reaches the guidance). Default: such a call is ``provisional`` (see
        :mod:`genomics.pgx.genes.cyp2d6`).

    Returns
    -------
    PgxProfile
    """
    paths = _as_paths(vcf_path)
    gene_list = _genes(genes)
    sources = _open_sources(paths, None if sample is None else [sample], build)
    all_samples = sources[0].samples
    if not all_samples:
        raise VcfError("the VCF has no sample columns", file=paths[0], field="samples",
                       fix="give a VCF with genotypes (FORMAT/GT and a sample column)")
    if sample is None:
        if len(all_samples) > 1:
            raise UsageError(f"the VCF holds {len(all_samples)} samples; say which one", file=paths[0],
                             field="sample", fix="pass sample=... (CLI: --sample NAME or --all-samples)")
        sample = all_samples[0]
    outside = _load_outside(outside_calls)
    sex_norm = _sex_for(sex, sample)
    arrays = _read_all(sources, gene_list, 1, check_regions=fill_missing_with_reference)
    calls = _call_sample(arrays, 0, sample, fill=fill_missing_with_reference, sex=sex_norm,
                         include_positions=include_positions, accept_cyp2d6=accept_cyp2d6_without_copy_number)
    warn_list: list[str] = []
    if outside:
        calls = merge_outside_calls(calls, outside, warn_list)
    options = _options(fill_missing_with_reference, gene_list, outside_calls, sex, accept_cyp2d6_without_copy_number)
    profile = PgxProfile.model_construct(
        sample=sample, genes=dict(calls),
        provenance=_provenance(options, ", ".join(paths), sources[0].build_evidence, calls),
        warnings=warn_list + _profile_warnings(calls, fill_missing_with_reference))
    _emit_warnings(profile)
    return profile


def _options(fill: bool, gene_list: list[str], outside: Any, sex: Any, accept_cyp2d6: bool = False) -> dict[str, Any]:
    return {
        "fill_missing_with_reference": bool(fill),
        "genes": gene_list,
        "outside_calls": str(outside) if isinstance(outside, (str, os.PathLike)) else (
            "in-memory" if outside else None),
        "sex": sex if isinstance(sex, (str, type(None))) else "per-sample",
        "cyp2d6": ("SNV/indel + copy number when the VCF or an outside call gives it; without it "
                   + ("accepted as called (user opt-in)" if accept_cyp2d6 else "provisional")),
    }


def _load_outside(outside_calls: Any) -> list[OutsideCall]:
    if outside_calls is None:
        return []
    if isinstance(outside_calls, (str, os.PathLike)):
        return read_outside_calls(outside_calls)
    return list(outside_calls)


def _profile_warnings(calls: dict[str, GeneCall], fill: bool) -> list[str]:
    out = []
    if fill:
        n = sum(len(c.filled_positions) for c in calls.values())
        if n:
            out.append(f"{n} defining positions absent from the VCF were filled as reference "
                       "(fill_missing_with_reference=True)")
    incomplete = [g for g, c in calls.items() if c.status == "incomplete"]
    if incomplete:
        out.append("missing defining positions leave alleles not ruled out for: " + ", ".join(incomplete)
                   + " (no phenotype given; call with positions present or fill_missing_with_reference=True)")
    return out


def _emit_warnings(profile: PgxProfile) -> None:
    for text in profile.warnings:
        warnings.warn(text, DegradedResultWarning, stacklevel=3)


def call_pgx_cohort(
    vcf_path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    samples: Sequence[str] | None = None,
    fill_missing_with_reference: bool = False,
    genes: Iterable[str] | None = None,
    *,
    sex: str | Mapping[str, str] | None = None,
    build: str = "GRCh38",
    include_positions: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    accept_cyp2d6_without_copy_number: bool = False,
) -> Iterator[PgxProfile]:
    """Call every sample of a multi-sample VCF; yields one :class:`PgxProfile` per sample, in order.

    Each gene region is read once for all samples (numpy arrays of allele codes); matching then runs
    per sample. ``progress(stage, done, total)`` is called while reading genes (stage ``"read"``)
    and every 100 samples (stage ``"call"``).
    """
    paths = _as_paths(vcf_path)
    gene_list = _genes(genes)
    sources = _open_sources(paths, samples, build)
    names = sources[0].samples
    arrays = _read_all(sources, gene_list, len(names), progress, check_regions=fill_missing_with_reference)
    options = _options(fill_missing_with_reference, gene_list, None, sex, accept_cyp2d6_without_copy_number)
    cache: dict[tuple, GeneCall] = {}
    for i, name in enumerate(names):
        calls = _call_sample(arrays, i, name, fill=fill_missing_with_reference, sex=_sex_for(sex, name),
                             include_positions=include_positions, cache=cache,
                             accept_cyp2d6=accept_cyp2d6_without_copy_number)
        yield PgxProfile.model_construct(
            sample=name, genes=dict(calls),
            provenance=_provenance(options, ", ".join(paths), sources[0].build_evidence, calls),
            warnings=_profile_warnings(calls, fill_missing_with_reference))
        if progress and ((i + 1) % 100 == 0 or i + 1 == len(names)):
            progress("call", i + 1, len(names))
