"""Named-allele matching: one sample's genotypes at a gene's defining positions -> diplotype(s).

The rules follow PharmCAT's ``NamedAlleleMatcher`` (PharmGKB/PharmCAT, ``haplotype/``):

* a named allele *matches* a haplotype when every defining position carries the allele the definition
  asks for (VCF notation; IUPAC codes match any of their bases); positions the allele does not define
  must carry the reference allele;
* its *score* is the number of positions it defines among the positions observed, so the more specific
  allele wins; a diplotype's score is the sum of its two alleles' scores and every diplotype with the
  top score is returned;
* positions absent from the sample are removed from the comparison (never taken as reference) unless
  the caller asks for ``fill_missing_with_reference`` (which fills only positions with *no record*);
  alleles defined at a missing position that the observed positions do not exclude are reported as
  *not ruled out*, and the call is then ``incomplete`` (no phenotype is given for it);
* a half-missing genotype (``.|1``, ``1|.``, ``./1``) is evidence: the observed allele must be on one
  haplotype, the other half may be any documented allele. Every completion is matched and the union of
  the calls is reported (status ``ambiguous`` unless they coincide; reason ``partial_genotype``);
* phased genotypes fix which alleles sit together on a haplotype; each phase set (``PS``) is a block
  whose orientation relative to other blocks is unknown; unphased heterozygous positions may sit in
  either orientation (every combination is tried). Alleles in cis within one block are never paired
  as a diplotype;
* gene exemptions: ``ignoredAlleles``, ``ignoredPositions`` (matched by allele, not position),
  ``requiredPositions``, ``unphasedDiplotypePriorities``;
* gene-specific rules live in :mod:`genomics.pgx.genes` (lowest-function genes, G6PD sex, CYP2D6 copy
  number, undocumented alleles matched as reference).

The work is split as PharmCAT splits it: :func:`prepare` turns genotypes into a per-sample
:class:`MatchData` (the compiled gene is never modified, so results never depend on earlier samples),
:func:`match` finds the candidate diplotypes and :func:`decide` sets the status. :func:`match_gene`
runs all three.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from genomics.pgx.definitions import IUPAC, GeneDefinition, Locus
from genomics.pgx.genes import LOWEST_FUNCTION_GENES, UNDOCUMENTED_AS_REFERENCE, allele_sort_key, rules_for
from genomics.pgx.genes.lowest_function import lowest_function_diplotypes

__all__ = [
    "HAPLOID",
    "LOWEST_FUNCTION_GENES",
    "MISSING",
    "UNDOCUMENTED_AS_REFERENCE",
    "CompiledGene",
    "GeneGenotypes",
    "MatchData",
    "MatchOutcome",
    "NovelAlleles",
    "allele_sort_key",
    "decide",
    "match",
    "match_gene",
    "prepare",
]

#: Allele code of a missing call.
MISSING = -1
#: Allele code in the second column of a haploid call.
HAPLOID = -2
#: Code of an undocumented allele when no per-read :class:`NovelAlleles` table is given.
UNNAMED_NOVEL = 32000
_MASK_BITS = 32  # codes below this are bits of a uint32 mask
_MAX_COMPLETIONS = 256  # half-missing genotypes: most completions tried before giving up


class CompiledGene:
    """A gene definition turned into bit masks for fast matching; immutable after construction.

    Each used locus has a vocabulary of allele strings; code 0 is the definition's reference allele,
    then its alternates, then other concrete alleles named in the definitions (and, at SNV loci, the
    remaining bases so IUPAC codes can match). Codes at or beyond ``n_documented[locus]`` are
    undocumented (novel) alleles; codes of alleles outside the vocabulary come from a per-read
    :class:`NovelAlleles` table, never from this object.
    """

    def __init__(self, definition: GeneDefinition) -> None:
        self.definition = definition
        self.gene = definition.gene
        alleles = definition.callable_alleles
        ignored_defs = [a for a in definition.alleles if a.name in definition.ignored_alleles]
        unused = set()
        for locus in definition.loci:
            if definition.is_ignored_locus(locus):
                unused.add(locus.position)
                continue
            used_by_callable = any(a.alleles[locus.index] is not None for a in alleles if not a.reference)
            used_by_ignored = any(a.alleles[locus.index] is not None for a in ignored_defs)
            if used_by_ignored and not used_by_callable:
                unused.add(locus.position)
        self.unused_positions = frozenset(unused)
        self.loci: tuple[Locus, ...] = tuple(lo for lo in definition.loci if lo.position not in unused)
        self.position_index = {lo.position: i for i, lo in enumerate(self.loci)}
        self.allele_defs = alleles
        self.names: tuple[str, ...] = tuple(a.name for a in alleles)
        self.ref_index = next(i for i, a in enumerate(alleles) if a.reference)
        self.rules = rules_for(self.gene)
        vocab: list[tuple[str, ...]] = []
        n_documented: list[int] = []
        for locus in self.loci:
            words = [locus.ref] + [a for a in locus.alts if a != locus.ref]
            for a in alleles:
                v = a.alleles[locus.index]
                if v is not None and v not in words and not (len(v) == 1 and v in IUPAC and v not in "ACGT"):
                    words.append(v)
            n_doc = len(words)
            if len(locus.ref) == 1:
                words += [b for b in "ACGT" if b not in words]
            if len(words) >= _MASK_BITS:  # pragma: no cover - no shipped definition comes close
                raise ValueError(f"{self.gene} {locus.label}: {len(words)} alleles exceed the mask width")
            vocab.append(tuple(words))
            n_documented.append(n_doc)
        self.vocab: tuple[tuple[str, ...], ...] = tuple(vocab)
        self.n_documented: tuple[int, ...] = tuple(n_documented)
        self._index = tuple({w: k for k, w in enumerate(words)} for words in self.vocab)
        n_alleles, n_loci = len(alleles), len(self.loci)
        self.defined = np.zeros((n_alleles, n_loci), dtype=bool)
        self.masks = np.zeros((n_alleles, n_loci), dtype=np.uint32)
        for ai, a in enumerate(alleles):
            for li, locus in enumerate(self.loci):
                v = a.alleles[locus.index]
                if v is None:
                    continue
                self.defined[ai, li] = True
                self.masks[ai, li] = self._mask_for(li, v)
        # Reference allele per locus (a wobble in the reference row means the position's own ref).
        self.ref_masks = np.array(
            [self.masks[self.ref_index, li] if self.defined[self.ref_index, li] else 1 for li in range(n_loci)],
            dtype=np.uint32,
        )
        self.full_masks = np.where(self.defined, self.masks, self.ref_masks[None, :])
        self.scores = self.defined.sum(axis=1)
        for arr in (self.defined, self.masks, self.ref_masks, self.full_masks, self.scores):
            arr.flags.writeable = False

    def _mask_for(self, li: int, v: str) -> int:
        index = self._index[li]
        if v in index:
            return 1 << index[v]
        bits = 0
        if len(v) == 1 and v in IUPAC:
            for k, w in enumerate(self.vocab[li]):
                if len(w) == 1 and w in IUPAC[v]:
                    bits |= 1 << k
        return bits

    def encode(self, li: int, allele: str, novel: NovelAlleles | None = None) -> int:
        """Integer code of ``allele`` (VCF notation, full locus span) at used locus ``li``.

        Alleles outside the definition vocabulary get a code from ``novel`` (the per-read table);
        without one they all share :data:`UNNAMED_NOVEL`.
        """
        code = self._index[li].get(allele)
        if code is not None:
            return code
        if novel is None:
            return UNNAMED_NOVEL
        return novel.code(li, allele)

    def decode(self, li: int, code: int, novel: NovelAlleles | None = None) -> str:
        if code == MISSING:
            return "."
        words = self.vocab[li]
        if 0 <= code < len(words):
            return words[code]
        if novel is not None:
            word = novel.word(li, code)
            if word is not None:
                return word
        return "<undocumented>"

    def is_documented(self, li: int, code: int) -> bool:
        return 0 <= code < self.n_documented[li]

    def new_novel_table(self) -> NovelAlleles:
        """A fresh per-read table for undocumented alleles."""
        return NovelAlleles(self)

    def genotypes_from_alleles(self, calls: Mapping[int, Sequence[str | None]], *, phased: bool = False,
                               phase_sets: Mapping[int, int] | None = None) -> GeneGenotypes:
        """Build :class:`GeneGenotypes` from ``{position: (allele1, allele2)}`` in VCF notation.

        Positions not in ``calls`` are absent; a one-allele tuple is a haploid call; an allele
        ``None``/``"."`` is a missing call (one missing allele: a half-missing genotype). Used by tests
        and by callers holding genotypes in memory.
        """
        n = len(self.loci)
        novel = self.new_novel_table()
        a1 = np.full(n, MISSING, dtype=np.int16)
        a2 = np.full(n, MISSING, dtype=np.int16)
        ph = np.zeros(n, dtype=bool)
        ps = np.zeros(n, dtype=np.int64)
        absent = np.ones(n, dtype=bool)
        for pos, pair in calls.items():
            li = self.position_index.get(int(pos))
            if li is None:
                continue
            absent[li] = False
            pair = tuple(pair)
            codes = [MISSING if x in (None, ".") else self.encode(li, x, novel) for x in pair]
            if len(codes) == 1:
                if codes[0] == MISSING:
                    continue
                a1[li], a2[li] = codes[0], HAPLOID
            else:
                a1[li], a2[li] = codes[0], codes[1]
            ph[li] = phased
            if phase_sets and int(pos) in phase_sets:
                ps[li] = phase_sets[int(pos)]
        return GeneGenotypes(a1=a1, a2=a2, phased=ph, phase_set=ps, novel=novel, absent=absent)


class NovelAlleles:
    """Undocumented alleles seen in one read of one gene (PharmCAT keeps these per sample in ``MatchData``).

    Codes start after the locus vocabulary; the compiled gene is never modified, so a long-lived process
    gives the same answer for a sample whatever it has seen before.
    """

    def __init__(self, cg: CompiledGene) -> None:
        self._base = [len(v) for v in cg.vocab]
        self._codes: list[dict[str, int]] = [{} for _ in cg.vocab]
        self._words: list[list[str]] = [[] for _ in cg.vocab]

    def code(self, li: int, allele: str) -> int:
        codes = self._codes[li]
        code = codes.get(allele)
        if code is None:
            code = self._base[li] + len(self._words[li])
            if code >= UNNAMED_NOVEL:  # pragma: no cover - 32,000 different alleles at one position
                return UNNAMED_NOVEL
            codes[allele] = code
            self._words[li].append(allele)
        return code

    def word(self, li: int, code: int) -> str | None:
        k = code - self._base[li]
        words = self._words[li]
        return words[k] if 0 <= k < len(words) else None


@dataclass
class GeneGenotypes:
    """One sample's genotypes at a compiled gene's loci (arrays over ``CompiledGene.loci``).

    ``a1``/``a2`` are allele codes (``MISSING`` = no call; ``a2 == HAPLOID`` = haploid call),
    ``phased`` marks phased calls and ``phase_set`` the phase block (0 = one block for the record
    set, as in a VCF without ``PS``). ``ref_mismatch`` marks loci where the VCF's reference allele
    disagrees with the definition (treated as missing and reported); ``absent`` marks loci without any
    record (the only ones ``fill_missing_with_reference`` fills; ``None``: every missing locus is absent).
    """

    a1: np.ndarray
    a2: np.ndarray
    phased: np.ndarray
    phase_set: np.ndarray
    ref_mismatch: np.ndarray | None = None
    conflict: np.ndarray | None = None
    novel: NovelAlleles | None = None
    absent: np.ndarray | None = None


@dataclass
class MatchOutcome:
    """What the matcher found for one gene and one sample (before phenotype lookup)."""

    gene: str
    status: str  # called | ambiguous | incomplete | not_called
    reasons: list[str] = field(default_factory=list)
    diplotypes: list[tuple[str, str | None, int]] = field(default_factory=list)
    phased: bool = False
    effectively_phased: bool = False
    haploid: bool = False
    n_positions: int = 0
    n_observed: int = 0
    missing_positions: list[dict] = field(default_factory=list)
    filled_positions: list[int] = field(default_factory=list)
    partial_positions: list[int] = field(default_factory=list)
    not_ruled_out: list[str] = field(default_factory=list)
    novel_variants: list[dict] = field(default_factory=list)
    haplotypes_present: list[str] = field(default_factory=list)
    rule: str | None = None
    warnings: list[str] = field(default_factory=list)
    positions: list[dict] = field(default_factory=list)


@dataclass
class MatchData:
    """Per-sample, per-gene working state (PharmCAT's ``MatchData``): never shared between samples."""

    cg: CompiledGene
    a1: np.ndarray
    a2: np.ndarray
    phased: np.ndarray
    phase_set: np.ndarray
    missing: np.ndarray
    half: np.ndarray  # one allele observed, the other missing
    novel: NovelAlleles | None
    out: MatchOutcome
    function_rank: Callable[[str], float | None] | None = None
    done: bool = False  # prepare() already decided (no data, heterozygous haploid...)


def _genotype_text(cg: CompiledGene, li: int, x: int, y: int, phased: bool, novel: NovelAlleles | None) -> str:
    if x == MISSING:
        return "./."
    if y == HAPLOID:
        return cg.decode(li, x, novel)
    return f"{cg.decode(li, x, novel)}{'|' if phased else '/'}{cg.decode(li, y, novel)}"


def _bits(codes: np.ndarray) -> np.ndarray:
    ok = (codes >= 0) & (codes < _MASK_BITS)
    return np.where(ok, np.left_shift(np.uint32(1), np.clip(codes, 0, _MASK_BITS - 1).astype(np.uint32)),
                    np.uint32(0)).astype(np.uint32)


# ------------------------------------------------------------------------------------------------ prepare
def prepare(cg: CompiledGene, geno: GeneGenotypes, *, fill_missing_with_reference: bool = False,
            force_haploid: bool = False,
            function_rank: Callable[[str], float | None] | None = None) -> MatchData:
    """Genotypes -> :class:`MatchData`: ploidy, half-missing calls, novel alleles, filling, missing positions."""
    out = MatchOutcome(gene=cg.gene, status="not_called", n_positions=len(cg.loci))
    a1 = geno.a1.astype(np.int16).copy()
    a2 = geno.a2.astype(np.int16).copy()
    phased = geno.phased.astype(bool).copy()
    pset = geno.phase_set.copy()
    n = len(cg.loci)
    ref_mismatch = geno.ref_mismatch if geno.ref_mismatch is not None else np.zeros(n, dtype=bool)
    conflict = geno.conflict if geno.conflict is not None else np.zeros(n, dtype=bool)
    novel = geno.novel

    haploid_locus = a2 == HAPLOID
    # half-missing: keep the observed allele in a1 (phase orientation is kept by swapping the flag too)
    swap = (a1 == MISSING) & (a2 >= 0)
    a1[swap], a2[swap] = a2[swap], MISSING
    half = (a1 >= 0) & (a2 == MISSING) & ~ref_mismatch & ~conflict
    missing = (a1 == MISSING) | ref_mismatch | conflict
    for li in np.flatnonzero(ref_mismatch):
        out.warnings.append(f"{cg.loci[li].label}: the VCF reference allele differs from the definition's "
                            f"({cg.loci[li].ref}); position not used")
    for li in np.flatnonzero(conflict & ~ref_mismatch):
        out.warnings.append(f"{cg.loci[li].label}: overlapping VCF records give more than two alleles; position not used")
    md = MatchData(cg, a1, a2, phased, pset, missing, half, novel, out, function_rank)

    observed_any = ~missing
    out.haploid = bool(force_haploid or (observed_any.any() and haploid_locus[observed_any].all()))
    if haploid_locus[observed_any].any() and not out.haploid:
        out.warnings.append("mixed haploid and diploid calls; haploid calls treated as homozygous")
    if out.haploid:
        half[:] = False  # a haploid call has no second half
        if force_haploid and not haploid_locus[observed_any].all():
            het = observed_any & ~haploid_locus & (a1 != a2) & (a2 >= 0)
            if het.any():
                out.reasons.append("heterozygous_in_haploid")
                out.warnings.append("heterozygous calls on a haploid (male chrX) gene: "
                                    + ", ".join(cg.loci[i].label for i in np.flatnonzero(het)))
                md.done = True
                return md
        a2[:] = a1
        a2[missing] = MISSING
    else:
        a2[:] = np.where(haploid_locus, a1, a2)

    _novel_alleles(md, observed_any)

    if fill_missing_with_reference:
        absent = geno.absent if geno.absent is not None else np.ones(n, dtype=bool)
        fill = missing & ~ref_mismatch & ~conflict & absent
        if fill.any():
            out.filled_positions = [cg.loci[i].position for i in np.flatnonzero(fill)]
            a1[fill] = 0
            a2[fill] = 0
            phased[fill] = True
            missing &= ~fill
            out.reasons.append("filled_with_reference")
            if not observed_any.any():
                out.reasons.append("all_positions_filled")
                out.warnings.append("no defining position of this gene is in the VCF: every position was filled "
                                    "as reference (is the gene covered by the VCF at all?)")
    if half.any():
        out.partial_positions = [cg.loci[i].position for i in np.flatnonzero(half)]
        out.reasons.append("partial_genotype")
        out.warnings.append("half-missing genotype(s) at " + ", ".join(cg.loci[i].label for i in np.flatnonzero(half))
                            + ": the observed allele is used, the other half may be any documented allele")

    obs = ~missing
    out.n_observed = int(obs.sum())
    out.phased = bool(obs.any() and phased[obs & ((a1 != a2) | half)].all())
    for li in np.flatnonzero(missing):
        locus = cg.loci[li]
        defined_here = [cg.names[i] for i in np.flatnonzero(cg.defined[:, li]) if i != cg.ref_index]
        out.missing_positions.append({"position": locus.position, "rsid": locus.rsid,
                                      "alleles_defined_here": defined_here})
    if out.n_observed == 0:
        out.reasons.append("no_data")
        md.done = True
        return md
    missing_required = [p for p in cg.definition.required_positions
                        if p in cg.position_index and missing[cg.position_index[p]]]
    if missing_required:
        out.reasons.append("missing_required_positions")
        out.warnings.append("required positions missing: " + ", ".join(map(str, sorted(missing_required))))
        md.done = True
        return md
    if missing.any() and cg.definition.amp_tier1_positions & {cg.loci[i].position for i in np.flatnonzero(missing)}:
        out.reasons.append("missing_amp_tier1_positions")
    return md


def _novel_alleles(md: MatchData, observed: np.ndarray) -> None:
    """Report undocumented alleles at defining positions, then apply the gene's rule for them."""
    cg, out, a1, a2 = md.cg, md.out, md.a1, md.a2
    for li in np.flatnonzero(observed):
        for code in {int(a1[li]), int(a2[li])}:
            if code >= 0 and not cg.is_documented(li, code):
                locus = cg.loci[li]
                out.novel_variants.append({
                    "position": locus.position, "rsid": locus.rsid, "ref": locus.ref,
                    "allele": cg.decode(li, code, md.novel),
                    "genotype": _genotype_text(cg, li, int(a1[li]), HAPLOID if out.haploid else int(a2[li]),
                                               bool(md.phased[li]), md.novel),
                })
    if not out.novel_variants:
        return
    if cg.rules.undocumented_as_reference:
        out.reasons.append("novel_allele_treated_as_reference")
        for arr in (a1, a2):
            bad = observed & (arr >= 0) & ~np.array([cg.is_documented(li, int(c)) for li, c in enumerate(arr)])
            arr[bad] = 0
    else:
        out.reasons.append("novel_allele")


# -------------------------------------------------------------------------------------------------- match
def match(md: MatchData) -> MatchOutcome:
    """Candidate diplotypes of a prepared sample (every completion of half-missing genotypes)."""
    cg, out = md.cg, md.out
    if md.done:
        return out
    obs = ~md.missing
    half_idx = [int(i) for i in np.flatnonzero(md.half & obs)]
    options = [range(cg.n_documented[li]) for li in half_idx]
    n_comb = 1
    for o in options:
        n_comb *= len(o)
    if n_comb > _MAX_COMPLETIONS:
        # never fall back to reference: too many unknown halves is no call, with the reason
        out.reasons.append("too_many_partial_genotypes")
        out.warnings.append(f"{len(half_idx)} half-missing genotypes allow {n_comb} completions: not called")
        md.done = True
        return out
    _not_ruled_out(md, obs)
    if not half_idx:
        _match_concrete(md, md.a2, obs)
        return out
    found: dict[tuple[str, str | None], int] = {}
    rules, present = set(), []
    eff = True
    for combo in itertools.product(*options):
        a2 = md.a2.copy()
        for li, code in zip(half_idx, combo):
            a2[li] = code
        sub = MatchOutcome(gene=cg.gene, status="not_called")
        _match_concrete(md, a2, obs, sub)
        for x, y, s in sub.diplotypes:
            found[(x, y)] = max(found.get((x, y), 0), s)
        if sub.rule:
            rules.add(sub.rule)
        present += sub.haplotypes_present
        eff = eff and sub.effectively_phased
    out.effectively_phased = eff
    out.diplotypes = sorted(((x, y, s) for (x, y), s in found.items()),
                            key=lambda d: (allele_sort_key(d[0]), allele_sort_key(d[1] or "")))
    out.rule = ",".join(sorted(rules)) or None
    out.haplotypes_present = sorted(set(present), key=allele_sort_key)
    return out


def _not_ruled_out(md: MatchData, obs: np.ndarray) -> None:
    """Alleles defined at a missing position that the observed positions do not exclude."""
    cg = md.cg
    if not md.missing.any():
        return
    b1 = _bits(md.a1[obs].astype(np.int64))
    b2 = np.where(md.half[obs], np.uint32(0xFFFFFFFF), _bits(md.a2[obs].astype(np.int64)))
    defined_obs = cg.defined[:, obs]
    loose = ((cg.masks[:, obs] & (b1 | b2)) != 0) | ~defined_obs
    hidden = cg.defined[:, md.missing].any(axis=1)
    nro = hidden & loose.all(axis=1)
    nro[cg.ref_index] = False
    md.out.not_ruled_out = sorted((cg.names[i] for i in np.flatnonzero(nro)), key=allele_sort_key)


def _match_concrete(md: MatchData, a2_full: np.ndarray, obs: np.ndarray, out: MatchOutcome | None = None) -> None:
    """Match fully observed genotypes (``a1``, ``a2_full`` at ``obs``) into ``out`` (default ``md.out``)."""
    cg = md.cg
    out = out if out is not None else md.out
    oa1, oa2 = md.a1[obs].astype(np.int64), a2_full[obs].astype(np.int64)
    b1, b2 = _bits(oa1), _bits(oa2)
    masks_obs = cg.full_masks[:, obs]
    defined_obs = cg.defined[:, obs]
    scores = defined_obs.sum(axis=1)
    candidate = scores > 0
    candidate[cg.ref_index] = True
    m1 = (masks_obs & b1) != 0
    m2 = (masks_obs & b2) != 0

    if md.out.haploid:
        ok = m1.all(axis=1) & candidate
        idx = np.flatnonzero(ok)
        if idx.size:
            top = scores[idx].max()
            out.diplotypes = [(cg.names[i], None, int(scores[i])) for i in idx if scores[i] == top]
        out.effectively_phased = True
        md.out.phased = True
        return

    het = oa1 != oa2
    obs_phased = md.phased[obs]
    obs_ps = md.phase_set[obs]
    blocks: dict[tuple, list[int]] = {}
    for j in np.flatnonzero(het):
        key = ("ps", int(obs_ps[j])) if obs_phased[j] else ("u", int(j))
        blocks.setdefault(key, []).append(int(j))
    out.effectively_phased = len(blocks) <= 1
    fit = (m1 | m2).all(axis=1) & candidate
    hom = ~het
    if hom.any():
        fit &= (m1[:, hom] & m2[:, hom]).all(axis=1)
    f_idx = np.flatnonzero(fit)
    pairs: list[tuple[int, int]] = []
    if f_idx.size:
        M1, M2 = m1[f_idx], m2[f_idx]
        valid = np.ones((f_idx.size, f_idx.size), dtype=bool)
        for cols in blocks.values():
            fwd = (M1[:, None, cols] & M2[None, :, cols]).all(axis=-1)
            valid &= fwd | fwd.T
        iu, ju = np.nonzero(np.triu(valid))
        pairs = [(int(f_idx[i]), int(f_idx[j])) for i, j in zip(iu, ju)]
    if pairs:
        sc = np.array([scores[i] + scores[j] for i, j in pairs])
        top = sc.max()
        dips = set()
        for (i, j), s in zip(pairs, sc):
            if s == top:
                x, y = sorted((cg.names[i], cg.names[j]), key=allele_sort_key)
                dips.add((x, y, int(top)))
        out.diplotypes = sorted(dips, key=lambda d: (allele_sort_key(d[0]), allele_sort_key(d[1])))
    if len(out.diplotypes) > 1 and cg.definition.unphased_priorities:
        names = {f"{x}/{y}" for x, y, _ in out.diplotypes}
        for options, pick in cg.definition.unphased_priorities:
            if names == set(options):
                out.diplotypes = [d for d in out.diplotypes if f"{d[0]}/{d[1]}" == pick]
                out.rule = f"unphased_priority:{pick}"
                break
    if cg.rules.lowest_function and (not out.effectively_phased or not out.diplotypes):
        result = lowest_function_diplotypes(cg, m1, m2, defined_obs, candidate, list(blocks.values()),
                                            md.function_rank)
        out.reasons.extend(result.reasons)
        out.warnings.extend(result.warnings)
        out.haplotypes_present = result.haplotypes_present
        if result.diplotypes is not None:
            out.diplotypes = [(x, y, 0) for x, y in result.diplotypes]
            out.rule = "lowest_function"
        else:
            out.diplotypes = []


# ------------------------------------------------------------------------------------------------- decide
def decide(md: MatchData, *, include_positions: bool = True) -> MatchOutcome:
    """Set the status and reasons of a matched sample; add the per-position table."""
    out = md.out
    if not md.done:
        if not out.diplotypes:
            out.status = "not_called"
            if "novel_allele" not in out.reasons:
                out.reasons.append("no_matching_diplotype")
        elif out.not_ruled_out:
            out.status = "incomplete"
            out.reasons.append("missing_positions")
        elif len(out.diplotypes) > 1:
            out.status = "ambiguous"
            out.reasons.append("partial_genotype_ambiguous" if out.partial_positions else "unphased_ambiguous")
        else:
            out.status = "called"
        if md.missing.any() and not out.not_ruled_out:
            out.reasons.append("missing_positions_without_effect")
    out.reasons = list(dict.fromkeys(out.reasons))
    if include_positions:
        cg = md.cg
        rows = []
        for li, locus in enumerate(cg.loci):
            if md.missing[li]:
                gt = "./."
            elif md.half[li]:
                sep = "|" if md.phased[li] else "/"
                gt = f"{cg.decode(li, int(md.a1[li]), md.novel)}{sep}."
            else:
                gt = _genotype_text(cg, li, int(md.a1[li]), HAPLOID if out.haploid else int(md.a2[li]),
                                    bool(md.phased[li]), md.novel)
            rows.append({"position": locus.position, "rsid": locus.rsid, "ref": locus.ref, "genotype": gt,
                         "cpic_genotype": "/".join(locus.vcf_to_cpic(x) for x in re.split(r"[|/]", gt))
                         if not md.missing[li] else None,
                         "filled": locus.position in out.filled_positions})
        out.positions = rows
    if out.status == "not_called" and not any(r in out.reasons for r in (
            "no_data", "missing_required_positions", "heterozygous_in_haploid", "novel_allele",
            "no_matching_diplotype", "too_many_partial_genotypes")):
        out.reasons.append("no_matching_diplotype")
    return out


def match_gene(
    cg: CompiledGene,
    geno: GeneGenotypes,
    *,
    fill_missing_with_reference: bool = False,
    function_rank: Callable[[str], float | None] | None = None,
    force_haploid: bool = False,
    include_positions: bool = True,
) -> MatchOutcome:
    """Match one sample's genotypes against one gene's named alleles (prepare -> match -> decide).

    Parameters
    ----------
    cg
        The compiled gene.
    geno
        The sample's genotypes at ``cg.loci``.
    fill_missing_with_reference
        Treat positions without any record as homozygous reference (recorded in ``filled_positions``).
    function_rank
        ``allele name -> number`` (lower = less function) for the lowest-function rule of DPYD, RYR1 and
        CACNA1S; ``None`` when unknown (the rule then declines to call).
    force_haploid
        Treat every call as haploid (a male's chrX when the VCF writes diploid homozygous calls).
    include_positions
        Also return the per-position genotype table (for reports; off in bulk runs).

    Returns
    -------
    MatchOutcome
    """
    md = prepare(cg, geno, fill_missing_with_reference=fill_missing_with_reference, force_haploid=force_haploid,
                 function_rank=function_rank)
    match(md)
    return decide(md, include_positions=include_positions)
