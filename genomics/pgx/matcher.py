"""Named-allele matching: one sample's genotypes at a gene's defining positions -> diplotype(s).

The rules follow PharmCAT's ``NamedAlleleMatcher`` (PharmGKB/PharmCAT, ``haplotype/``):

* a named allele *matches* a haplotype when every defining position carries the allele the definition
  asks for (VCF notation; IUPAC codes match any of their bases); positions the allele does not define
  must carry the reference allele;
* its *score* is the number of positions it defines among the positions observed, so the more specific
  allele wins; a diplotype's score is the sum of its two alleles' scores and every diplotype with the
  top score is returned;
* positions absent from the sample are removed from the comparison (never taken as reference) unless
  the caller asks for ``fill_missing_with_reference``; alleles defined at a missing position that the
  observed positions do not exclude are reported as *not ruled out*, and the call is then
  ``incomplete`` (no phenotype is given for it);
* phased genotypes fix which alleles sit together on a haplotype; each phase set (``PS``) is a block
  whose orientation relative to other blocks is unknown; unphased heterozygous positions may sit in
  either orientation (every combination is tried);
* gene exemptions: ``ignoredAlleles``, ``ignoredPositions`` (and positions used only by ignored
  alleles), ``requiredPositions``, ``unphasedDiplotypePriorities``;
* DPYD and RYR1 without usable phase use the "lowest function" rule (the two lowest-function alleles
  present are reported as the diplotype, as CPIC and PharmCAT do);
* variants at defining positions that no definition mentions (novel alleles) are reported; for
  CACNA1S, DPYD, G6PD, NUDT15, RYR1 and TPMT they are matched as reference (as PharmCAT does), for the
  other genes they prevent a match;
* haploid genotypes (chrX in males: G6PD) give a single-allele call.

The matcher works on integer allele codes so many samples can be matched quickly (see
:mod:`genomics.pgx.caller` for the VCF side).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from genomics.pgx.definitions import IUPAC, GeneDefinition, Locus

__all__ = [
    "HAPLOID",
    "LOWEST_FUNCTION_GENES",
    "MISSING",
    "UNDOCUMENTED_AS_REFERENCE",
    "CompiledGene",
    "GeneGenotypes",
    "MatchOutcome",
    "allele_sort_key",
    "match_gene",
]

#: Genes whose undocumented variants at defining positions are matched as reference (PharmCAT rule).
UNDOCUMENTED_AS_REFERENCE = frozenset({"CACNA1S", "DPYD", "G6PD", "NUDT15", "RYR1", "TPMT"})
#: Genes called by the "lowest function" rule when phase is not known.
LOWEST_FUNCTION_GENES = frozenset({"DPYD", "RYR1"})
#: Allele code of a missing call.
MISSING = -1
#: Allele code in the second column of a haploid call.
HAPLOID = -2
_MAX_CODE = 31  # codes are bits of a uint32 mask


def allele_sort_key(name: str) -> tuple:
    """Natural order of allele names: ``*1 < *2 < *10 < *10.002 < named alleles``."""
    m = re.match(r"^\*(\d+)(.*)$", name)
    if m:
        return (0, int(m.group(1)), m.group(2))
    if name.lower().startswith("reference") or name.endswith("(reference)"):
        return (-1, 0, name)
    return (1, 0, name)


class CompiledGene:
    """A gene definition turned into bit masks for fast matching.

    Each used locus has a vocabulary of allele strings; code 0 is the definition's reference allele,
    then its alternates, then other concrete alleles named in the definitions (and, at SNV loci, the
    remaining bases so IUPAC codes can match). Codes at or beyond ``n_documented[locus]`` are
    undocumented (novel) alleles; they are added as samples show them.
    """

    def __init__(self, definition: GeneDefinition) -> None:
        self.definition = definition
        self.gene = definition.gene
        alleles = definition.callable_alleles
        ignored_defs = [a for a in definition.alleles if a.name in definition.ignored_alleles]
        unused = set(definition.ignored_positions)
        for locus in definition.loci:
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
        self.vocab: list[list[str]] = []
        self.n_documented: list[int] = []
        for locus in self.loci:
            words = [locus.ref] + [a for a in locus.alts if a != locus.ref]
            for a in alleles:
                v = a.alleles[locus.index]
                if v is not None and v not in words and not (len(v) == 1 and v in IUPAC and v not in "ACGT"):
                    words.append(v)
            n_doc = len(words)
            if len(locus.ref) == 1:
                words += [b for b in "ACGT" if b not in words]
            self.vocab.append(words)
            self.n_documented.append(n_doc)
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
        # definition score over all loci and the (locus, allele) pairs each allele requires
        self.scores = self.defined.sum(axis=1)

    def _mask_for(self, li: int, v: str) -> int:
        words = self.vocab[li]
        if v in words:
            return 1 << words.index(v)
        if len(v) == 1 and v in IUPAC:
            bits = 0
            for k, w in enumerate(words):
                if len(w) == 1 and w in IUPAC[v]:
                    bits |= 1 << k
            return bits
        return 1 << self.encode(li, v)

    def encode(self, li: int, allele: str) -> int:
        """Integer code of ``allele`` (VCF notation, full locus span) at used locus ``li``."""
        words = self.vocab[li]
        try:
            return words.index(allele)
        except ValueError:
            if len(words) >= _MAX_CODE:
                return _MAX_CODE
            words.append(allele)
            return len(words) - 1

    def decode(self, li: int, code: int) -> str:
        if code == MISSING:
            return "."
        words = self.vocab[li]
        return words[code] if 0 <= code < len(words) else "<other>"

    def is_documented(self, li: int, code: int) -> bool:
        return 0 <= code < self.n_documented[li]

    def genotypes_from_alleles(self, calls: Mapping[int, Sequence[str | None]], *, phased: bool = False,
                               phase_sets: Mapping[int, int] | None = None) -> GeneGenotypes:
        """Build :class:`GeneGenotypes` from ``{position: (allele1, allele2)}`` in VCF notation.

        Positions not in ``calls`` are missing; a one-allele tuple is a haploid call; an allele
        ``None``/``"."`` is a missing call. Used by tests and by callers holding genotypes in memory.
        """
        n = len(self.loci)
        a1 = np.full(n, MISSING, dtype=np.int16)
        a2 = np.full(n, MISSING, dtype=np.int16)
        ph = np.zeros(n, dtype=bool)
        ps = np.zeros(n, dtype=np.int64)
        for pos, pair in calls.items():
            li = self.position_index.get(int(pos))
            if li is None:
                continue
            pair = tuple(pair)
            x = pair[0] if pair else None
            if x in (None, "."):
                continue
            if len(pair) == 1:
                a1[li], a2[li] = self.encode(li, x), HAPLOID
            elif pair[1] in (None, "."):
                continue
            else:
                a1[li], a2[li] = self.encode(li, x), self.encode(li, pair[1])
            ph[li] = phased
            if phase_sets and int(pos) in phase_sets:
                ps[li] = phase_sets[int(pos)]
        return GeneGenotypes(a1=a1, a2=a2, phased=ph, phase_set=ps)


@dataclass
class GeneGenotypes:
    """One sample's genotypes at a compiled gene's loci (arrays over ``CompiledGene.loci``).

    ``a1``/``a2`` are allele codes (``MISSING`` = no call; ``a2 == HAPLOID`` = haploid call),
    ``phased`` marks phased calls and ``phase_set`` the phase block (0 = one block for the record
    set, as in a VCF without ``PS``). ``ref_mismatch`` marks loci where the VCF's reference allele
    disagrees with the definition (treated as missing and reported).
    """

    a1: np.ndarray
    a2: np.ndarray
    phased: np.ndarray
    phase_set: np.ndarray
    ref_mismatch: np.ndarray | None = None
    conflict: np.ndarray | None = None


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
    not_ruled_out: list[str] = field(default_factory=list)
    novel_variants: list[dict] = field(default_factory=list)
    haplotypes_present: list[str] = field(default_factory=list)
    rule: str | None = None
    warnings: list[str] = field(default_factory=list)
    positions: list[dict] = field(default_factory=list)


def _genotype_text(cg: CompiledGene, li: int, x: int, y: int, phased: bool) -> str:
    if x == MISSING:
        return "./."
    if y == HAPLOID:
        return cg.decode(li, x)
    return f"{cg.decode(li, x)}{'|' if phased else '/'}{cg.decode(li, y)}"


def match_gene(
    cg: CompiledGene,
    geno: GeneGenotypes,
    *,
    fill_missing_with_reference: bool = False,
    function_rank: Callable[[str], float | None] | None = None,
    force_haploid: bool = False,
    include_positions: bool = True,
) -> MatchOutcome:
    """Match one sample's genotypes against one gene's named alleles.

    Parameters
    ----------
    cg
        The compiled gene.
    geno
        The sample's genotypes at ``cg.loci``.
    fill_missing_with_reference
        Treat missing positions as homozygous reference (recorded in ``filled_positions``).
    function_rank
        ``allele name -> number`` (lower = less function), needed for the DPYD/RYR1 lowest-function
        rule; ``None`` when unknown.
    force_haploid
        Treat every call as haploid (a male's chrX when the VCF writes diploid homozygous calls).
    include_positions
        Also return the per-position genotype table (for reports; off in bulk runs).

    Returns
    -------
    MatchOutcome
    """
    gene = cg.gene
    out = MatchOutcome(gene=gene, status="not_called", n_positions=len(cg.loci))
    a1 = geno.a1.astype(np.int16).copy()
    a2 = geno.a2.astype(np.int16).copy()
    phased = geno.phased.astype(bool).copy()
    pset = geno.phase_set.copy()
    n = len(cg.loci)
    ref_mismatch = geno.ref_mismatch if geno.ref_mismatch is not None else np.zeros(n, dtype=bool)
    conflict = geno.conflict if geno.conflict is not None else np.zeros(n, dtype=bool)

    haploid_locus = a2 == HAPLOID
    missing = (a1 == MISSING) | ((a2 == MISSING) & ~haploid_locus) | ref_mismatch | conflict
    for li in np.flatnonzero(ref_mismatch):
        out.warnings.append(f"{cg.loci[li].label}: the VCF reference allele differs from the definition's "
                            f"({cg.loci[li].ref}); position not used")
    for li in np.flatnonzero(conflict & ~ref_mismatch):
        out.warnings.append(f"{cg.loci[li].label}: overlapping VCF records give more than two alleles; position not used")

    observed_any = ~missing
    out.haploid = bool(force_haploid or (observed_any.any() and haploid_locus[observed_any].all()))
    if haploid_locus[observed_any].any() and not out.haploid:
        out.warnings.append("mixed haploid and diploid calls; haploid calls treated as homozygous")
    if out.haploid:
        if force_haploid and not haploid_locus[observed_any].all():
            het = observed_any & ~haploid_locus & (a1 != a2)
            if het.any():
                out.reasons.append("heterozygous_in_haploid")
                out.warnings.append("heterozygous calls on a haploid (male chrX) gene: "
                                    + ", ".join(cg.loci[i].label for i in np.flatnonzero(het)))
                return _finish(out, cg, a1, a2, phased, missing, include_positions)
        a2 = a1.copy()
        a2[missing] = MISSING
    else:
        a2 = np.where(haploid_locus, a1, a2)

    # novel (undocumented) alleles at defining positions: report, then apply the gene's rule
    for li in np.flatnonzero(~missing):
        for code in {int(a1[li]), int(a2[li])}:
            if not cg.is_documented(li, code):
                locus = cg.loci[li]
                out.novel_variants.append({
                    "position": locus.position, "rsid": locus.rsid, "ref": locus.ref,
                    "allele": cg.decode(li, code),
                    "genotype": _genotype_text(cg, li, int(a1[li]), int(a2[li]) if not out.haploid else HAPLOID,
                                               bool(phased[li])),
                })
    if out.novel_variants:
        if gene in UNDOCUMENTED_AS_REFERENCE:
            out.reasons.append("novel_allele_treated_as_reference")
            for li in range(n):
                if not missing[li]:
                    if not cg.is_documented(li, int(a1[li])):
                        a1[li] = 0
                    if not cg.is_documented(li, int(a2[li])):
                        a2[li] = 0
        else:
            out.reasons.append("novel_allele")

    if fill_missing_with_reference:
        fill = missing & ~ref_mismatch & ~conflict
        if fill.any():
            out.filled_positions = [cg.loci[i].position for i in np.flatnonzero(fill)]
            a1[fill] = 0
            a2[fill] = 0
            phased[fill] = True
            missing = missing & ~fill
            out.reasons.append("filled_with_reference")
            if not observed_any.any():
                out.reasons.append("all_positions_filled")
                out.warnings.append("no defining position of this gene is in the VCF: every position was filled "
                                    "as reference (is the gene covered by the VCF at all?)")

    obs = ~missing
    out.n_observed = int(obs.sum())
    out.phased = bool(obs.any() and phased[obs & (a1 != a2)].all())
    miss_idx = np.flatnonzero(missing)
    for li in miss_idx:
        locus = cg.loci[li]
        defined_here = [cg.names[i] for i in np.flatnonzero(cg.defined[:, li]) if i != cg.ref_index]
        out.missing_positions.append({"position": locus.position, "rsid": locus.rsid,
                                      "alleles_defined_here": defined_here})
    if out.n_observed == 0:
        out.reasons.append("no_data")
        return _finish(out, cg, a1, a2, phased, missing, include_positions)
    missing_required = [p for p in cg.definition.required_positions
                        if p in cg.position_index and missing[cg.position_index[p]]]
    if missing_required:
        out.reasons.append("missing_required_positions")
        out.warnings.append("required positions missing: " + ", ".join(map(str, sorted(missing_required))))
        return _finish(out, cg, a1, a2, phased, missing, include_positions)
    if miss_idx.size and cg.definition.amp_tier1_positions & {cg.loci[i].position for i in miss_idx}:
        out.reasons.append("missing_amp_tier1_positions")

    # restrict to observed positions
    oa1, oa2 = a1[obs].astype(np.int64), a2[obs].astype(np.int64)
    b1 = np.left_shift(np.uint32(1), oa1.astype(np.uint32))
    b2 = np.left_shift(np.uint32(1), oa2.astype(np.uint32))
    masks_obs = cg.full_masks[:, obs]
    defined_obs = cg.defined[:, obs]
    scores = defined_obs.sum(axis=1)
    candidate = scores > 0
    candidate[cg.ref_index] = True
    m1 = (masks_obs & b1) != 0
    m2 = (masks_obs & b2) != 0

    # alleles a missing position could hide
    if miss_idx.size:
        loose = ((cg.masks[:, obs] & (b1 | b2)) != 0) | ~defined_obs
        hidden = cg.defined[:, missing].any(axis=1)
        nro = hidden & loose.all(axis=1)
        nro[cg.ref_index] = False
        out.not_ruled_out = sorted((cg.names[i] for i in np.flatnonzero(nro)), key=allele_sort_key)

    het = oa1 != oa2
    obs_phased = phased[obs]
    obs_ps = pset[obs]
    if out.haploid:
        ok = m1.all(axis=1) & candidate
        idx = np.flatnonzero(ok)
        if idx.size:
            top = scores[idx].max()
            out.diplotypes = [(cg.names[i], None, int(scores[i])) for i in idx if scores[i] == top]
        out.effectively_phased = True
        out.phased = True
    else:
        blocks: dict[tuple, list[int]] = {}
        for j in np.flatnonzero(het):
            key = ("ps", int(obs_ps[j])) if obs_phased[j] else ("u", int(j))
            blocks.setdefault(key, []).append(int(j))
        out.effectively_phased = len(blocks) <= 1
        fit = (m1 | m2).all(axis=1) & candidate
        hom = ~het
        fit &= (m1[:, hom] & m2[:, hom]).all(axis=1) if hom.any() else True
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
            best = [p for p, s in zip(pairs, sc) if s == top]
            dips = []
            for i, j in best:
                x, y = sorted((cg.names[i], cg.names[j]), key=allele_sort_key)
                dips.append((x, y, int(top)))
            out.diplotypes = sorted(set(dips), key=lambda d: (allele_sort_key(d[0]), allele_sort_key(d[1])))
        if len(out.diplotypes) > 1 and cg.definition.unphased_priorities:
            names = {f"{x}/{y}" for x, y, _ in out.diplotypes}
            for options, pick in cg.definition.unphased_priorities:
                if names == set(options):
                    out.diplotypes = [d for d in out.diplotypes if f"{d[0]}/{d[1]}" == pick]
                    out.rule = f"unphased_priority:{pick}"
                    break

        if gene in LOWEST_FUNCTION_GENES and (not out.effectively_phased or not out.diplotypes):
            _lowest_function(out, cg, m1, m2, defined_obs, candidate, function_rank)

    if not out.diplotypes:
        out.status = "not_called"
        if "novel_allele" not in out.reasons:
            out.reasons.append("no_matching_diplotype")
    elif out.not_ruled_out:
        out.status = "incomplete"
        out.reasons.append("missing_positions")
    elif len(out.diplotypes) > 1:
        out.status = "ambiguous"
        out.reasons.append("unphased_ambiguous")
    else:
        out.status = "called"
    if miss_idx.size and not out.not_ruled_out:
        out.reasons.append("missing_positions_without_effect")
    return _finish(out, cg, a1, a2, phased, missing, include_positions)


def _lowest_function(out: MatchOutcome, cg: CompiledGene, m1: np.ndarray, m2: np.ndarray,
                     defined_obs: np.ndarray, candidate: np.ndarray,
                     function_rank: Callable[[str], float | None] | None) -> None:
    """CPIC/PharmCAT rule for DPYD and RYR1: report the lowest-function alleles.

    Without usable phase, every variant allele present is listed and the two with the lowest function
    form the diplotype (they are assumed to sit on different chromosomes). With phase but no single
    named allele per haplotype (several variants in cis), each haplotype is represented by its
    lowest-function allele.
    """
    ref_name = cg.names[cg.ref_index]

    def present(match: np.ndarray) -> list[int]:
        ok = (match | ~defined_obs).all(axis=1) & candidate
        ok[cg.ref_index] = False
        idx = list(np.flatnonzero(ok))
        keep = []
        for i in idx:  # drop alleles contained in a more specific allele that is also present
            di = defined_obs[i]
            if any(j != i and defined_obs[j].sum() > di.sum() and (defined_obs[j] >= di).all()
                   and (cg.full_masks[j][di] == cg.full_masks[i][di]).all() for j in idx):
                continue
            keep.append(i)
        return keep

    def ranked(names: list[str]) -> list[tuple[float, tuple, str]] | None:
        if function_rank is None:
            out.reasons.append("lowest_function_rule_unavailable")
            return None
        rows = []
        for h in names:
            r = function_rank(h)
            if r is None:
                out.reasons.append("allele_function_unknown")
                out.warnings.append(f"no function known for {h}; lowest-function rule not applied")
                return None
            rows.append((r, allele_sort_key(h), h))
        return sorted(rows)

    if out.effectively_phased:
        hap_names = [[cg.names[i] for i in present(m)] for m in (m1, m2)]
        out.haplotypes_present = [" + ".join(sorted(h, key=allele_sort_key)) or ref_name for h in hap_names]
        chosen = []
        for names in hap_names:
            if not names:
                chosen.append(ref_name)
                continue
            rows = ranked(names)
            if rows is None:
                out.diplotypes = []
                return
            chosen.append(rows[0][2])
        x, y = sorted(chosen, key=allele_sort_key)
        out.diplotypes = [(x, y, 0)]
        out.rule = "lowest_function"
        out.warnings.append("several variant alleles in cis on one haplotype (" + "; ".join(
            h for h in out.haplotypes_present if "+" in h) + "): each haplotype is represented by its "
            "lowest-function allele (CPIC/PharmCAT rule)")
        return

    both = (m1 & m2)
    one = present(m1 | m2)
    haps: list[str] = []
    for i in one:
        haps.append(cg.names[i])
        if ((both[i] | ~defined_obs[i]).all()):
            haps.append(cg.names[i])
    out.haplotypes_present = sorted(haps, key=allele_sort_key)
    if not haps:
        return
    rows = ranked(haps)
    if rows is None:
        out.diplotypes = []
        return
    chosen = [h for _, _, h in rows[:2]]
    if len(chosen) == 1:
        chosen.append(ref_name)
    x, y = sorted(chosen, key=allele_sort_key)
    out.diplotypes = [(x, y, 0)]
    out.rule = "lowest_function"
    if len(haps) > 2:
        out.warnings.append(f"{len(haps)} variant alleles present without phase; the two lowest-function alleles "
                            f"({x}, {y}) are reported (CPIC/PharmCAT rule)")


def _finish(out: MatchOutcome, cg: CompiledGene, a1: np.ndarray, a2: np.ndarray, phased: np.ndarray,
            missing: np.ndarray, include_positions: bool) -> MatchOutcome:
    if include_positions:
        rows = []
        for li, locus in enumerate(cg.loci):
            if missing[li]:
                gt = "./."
            else:
                gt = _genotype_text(cg, li, int(a1[li]), HAPLOID if out.haploid else int(a2[li]), bool(phased[li]))
            rows.append({"position": locus.position, "rsid": locus.rsid, "ref": locus.ref, "genotype": gt,
                         "cpic_genotype": "/".join(locus.vcf_to_cpic(x) for x in re.split(r"[|/]", gt))
                         if not missing[li] else None,
                         "filled": locus.position in out.filled_positions})
        out.positions = rows
    if out.status == "not_called" and not out.reasons:
        out.reasons.append("no_matching_diplotype")
    return out
