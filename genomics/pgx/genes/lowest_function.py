"""The "lowest function" rule of DPYD, RYR1 and CACNA1S (CPIC DPYD guideline; PharmCAT).

When the variant alleles present cannot be assigned to one named allele per haplotype (no phase,
several variants in cis), each haplotype is represented by its lowest-function allele:

* within one phase-set block the phase is used: alleles in cis are never paired against each other;
* blocks (and unphased heterozygous positions) whose relative orientation is unknown are combined
  every way; when the orientations give different diplotypes, the worst case (the two lowest-function
  alleles on different chromosomes, as CPIC recommends for unphased DPYD) is reported and flagged.

Function order (lower = less function): no function / MH-associated 0 < decreased 1 < possible
decreased 1.5 < uncertain 2 < normal 3 < increased 4. An allele the bundled phenotype table does not
rate is *uncertain function* (2): it never loses to a normal-function allele by name order.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from genomics.pgx.genes import allele_sort_key

__all__ = ["FUNCTION_ORDER", "LowestFunctionResult", "function_rank", "lowest_function_diplotypes"]

FUNCTION_ORDER = {
    "no function": 0.0, "malignant hyperthermia associated": 0.0, "decreased function": 1.0,
    "possible decreased function": 1.5, "uncertain function": 2.0, "unknown function": 2.0,
    "normal function": 3.0, "increased function": 4.0,
}
UNCERTAIN = FUNCTION_ORDER["uncertain function"]
_MAX_BLOCKS = 8  # orientations tried: 2**(blocks-1); more blocks: pooled rule, flagged


def function_rank(function: str | None, activity: str | float | None = None) -> float:
    """Rank of an allele from its function text (activity value as a tie-break); unknown -> uncertain."""
    base = None
    if function:
        text = str(function).strip().lower()
        base = FUNCTION_ORDER.get(text)
        if base is None:
            try:
                base = float(text)
            except ValueError:
                base = UNCERTAIN
    act = None
    if activity not in (None, ""):
        try:
            act = float(activity)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            act = None
    if base is None:
        if act is None:
            return UNCERTAIN
        base = 0.0 if act == 0 else (1.0 if act < 1 else 3.0)
    return base + (min(act, 1.0) / 10 if act is not None else 0.05)


@dataclass
class LowestFunctionResult:
    diplotypes: list[tuple[str, str]] | None
    haplotypes_present: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _present(cg: Any, match: np.ndarray, defined_obs: np.ndarray, candidate: np.ndarray) -> list[int]:
    """Non-reference alleles fully carried by one haplotype, minus those inside a more specific one."""
    ok = (match | ~defined_obs).all(axis=1) & candidate
    ok[cg.ref_index] = False
    idx = list(np.flatnonzero(ok))
    keep = []
    for i in idx:
        di = defined_obs[i]
        if any(j != i and defined_obs[j].sum() > di.sum() and (defined_obs[j] >= di).all()
               and (cg.full_masks[j][di] == cg.full_masks[i][di]).all() for j in idx):
            continue
        keep.append(int(i))
    return keep


def lowest_function_diplotypes(cg: Any, m1: np.ndarray, m2: np.ndarray, defined_obs: np.ndarray,
                               candidate: np.ndarray, blocks: Sequence[Sequence[int]],
                               rank: Callable[[str], float | None] | None) -> LowestFunctionResult:
    """Apply the rule to one sample. ``m1``/``m2``: alleles x observed loci match matrices per haplotype;
    ``blocks``: column indices of heterozygous loci that share a phase (one list per block)."""
    res = LowestFunctionResult(diplotypes=None)
    ref_name = cg.names[cg.ref_index]
    if rank is None:
        res.reasons.append("lowest_function_rule_unavailable")
        return res

    def r(name: str) -> float:
        v = rank(name)
        return UNCERTAIN if v is None else float(v)

    def pick(names: list[str]) -> str:
        return min(names, key=lambda h: (r(h), allele_sort_key(h))) if names else ref_name

    multi = [b for b in blocks if len(b) > 1]
    if blocks and not multi or len(blocks) > _MAX_BLOCKS:
        # no block holds two heterozygous positions: pool every allele present (the CPIC unphased rule)
        if len(blocks) > _MAX_BLOCKS and multi:
            res.warnings.append(f"{len(blocks)} phase blocks: phase not used for the lowest-function rule")
        both = m1 & m2
        haps: list[str] = []
        for i in _present(cg, m1 | m2, defined_obs, candidate):
            haps.append(cg.names[i])
            if (both[i] | ~defined_obs[i]).all():
                haps.append(cg.names[i])
        res.haplotypes_present = sorted(haps, key=allele_sort_key)
        if not haps:
            res.diplotypes = [(ref_name, ref_name)]
            return res
        chosen = sorted(haps, key=lambda h: (r(h), allele_sort_key(h)))[:2]
        if len(chosen) == 1:
            chosen.append(ref_name)
        x, y = sorted(chosen, key=allele_sort_key)
        res.diplotypes = [(x, y)]
        if len(haps) > 2:
            res.warnings.append(f"{len(haps)} variant alleles present without phase; the two lowest-function "
                                f"alleles ({x}, {y}) are reported (CPIC/PharmCAT rule)")
        return res

    # phase within blocks is used; block orientations are tried every way
    results: dict[tuple[str, str], tuple[float, float]] = {}
    hap_texts: set[str] = set()
    cols = [list(b) for b in blocks]
    for flips in itertools.product((False, True), repeat=max(0, len(cols) - 1)):
        h1, h2 = m1.copy(), m2.copy()
        for flip, c in zip((False, *flips), cols):
            if flip:
                h1[:, c], h2[:, c] = m2[:, c], m1[:, c]
        per_hap = []
        for h in (h1, h2):
            names = [cg.names[i] for i in _present(cg, h, defined_obs, candidate)]
            hap_texts.add(" + ".join(sorted(names, key=allele_sort_key)) or ref_name)
            per_hap.append(pick(names))
        x, y = sorted(per_hap, key=allele_sort_key)
        results[(x, y)] = tuple(sorted((r(x), r(y))))  # type: ignore[assignment]
    res.haplotypes_present = sorted(hap_texts, key=allele_sort_key)
    worst = min(results, key=lambda d: (results[d], allele_sort_key(d[0]), allele_sort_key(d[1])))
    res.diplotypes = [worst]
    if any("+" in h for h in hap_texts):
        res.warnings.append("several variant alleles in cis on one haplotype (" + "; ".join(
            sorted(h for h in hap_texts if "+" in h)) + "): each haplotype is represented by its "
            "lowest-function allele (CPIC/PharmCAT rule)")
    if len(results) > 1:
        res.reasons.append("phase_between_blocks_unknown")
        res.warnings.append("the phase between blocks is unknown; of the possible diplotypes ("
                            + ", ".join(f"{a}/{b}" for a, b in sorted(results)) + ") the lowest-function one "
                            f"({worst[0]}/{worst[1]}) is reported (CPIC rule for unphased variants)")
    return res
