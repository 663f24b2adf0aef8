"""Allele matching, tested with genotypes generated from the PharmCAT definitions themselves.

For every gene and every named allele the definition file lists, we build the haplotype the
definition describes, pair it (phased and unphased) with the reference or another allele, and check
the matcher returns that diplotype -- or, where a more specific definition also fits (PharmCAT's
scoring: more defined positions win), only diplotypes with a strictly higher score. Cases that must
not be called (missing core positions, novel alleles, required positions) are checked too.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from genomics.pgx.caller import _function_rank_for, compiled_gene
from genomics.pgx.definitions import CALLABLE_GENES, IUPAC
from genomics.pgx.matcher import CompiledGene, allele_sort_key, match_gene


def concrete(value: str | None, ref: str) -> str | None:
    """A definition allele as a VCF allele (IUPAC wobble -> one of its non-reference bases)."""
    if value is not None and len(value) == 1 and value in IUPAC and value not in "ACGT":
        options = sorted(IUPAC[value] - {ref}) or sorted(IUPAC[value])
        return options[0]
    return value


def haplotype(cg: CompiledGene, name: str) -> dict[int, str]:
    """``{position: VCF allele}`` of a named allele (undefined positions take the reference allele)."""
    ref = cg.allele_defs[cg.ref_index]
    allele = cg.allele_defs[cg.names.index(name)]
    out = {}
    for locus in cg.loci:
        v = allele.alleles[locus.index]
        out[locus.position] = concrete(v if v is not None else ref.alleles[locus.index], locus.ref) or locus.ref
    return out


def diplotype_calls(cg: CompiledGene, n1: str, n2: str, drop=()) -> dict[int, tuple[str, str]]:
    h1, h2 = haplotype(cg, n1), haplotype(cg, n2)
    return {p: (h1[p], h2[p]) for p in h1 if p not in drop}


def run(cg, calls, phased=True, **kw):
    kw.setdefault("include_positions", False)
    return match_gene(cg, cg.genotypes_from_alleles(calls, phased=phased), **kw)


def callable_alleles(cg: CompiledGene) -> list[str]:
    """Non-reference alleles that the observed positions can identify (not defined at ignored positions)."""
    names = []
    for i, a in enumerate(cg.allele_defs):
        if i == cg.ref_index or not cg.defined[i].any():
            continue
        if any(a.alleles[lo.index] is not None for lo in cg.definition.loci if lo.position in cg.unused_positions):
            continue
        names.append(a.name)
    return names


def score(cg, name):
    return int(cg.scores[cg.names.index(name)])


def check_expected(cg, out, n1, n2):
    expected = tuple(sorted((n1, n2), key=allele_sort_key))
    got = [(a, b) for a, b, _ in out.diplotypes]
    if expected in got:
        return True
    # a more specific definition (higher score) may legitimately win
    assert out.diplotypes, f"{cg.gene} {expected}: no call ({out.reasons})"
    assert all(s > score(cg, n1) + score(cg, n2) for _, _, s in out.diplotypes), (cg.gene, expected, got)
    return False


@pytest.mark.parametrize("gene", CALLABLE_GENES)
def test_every_allele_against_reference_phased_and_unphased(gene):
    cg = compiled_gene(gene)
    ref = cg.names[cg.ref_index]
    rank = _function_rank_for(gene, ref)
    exact = total = 0
    for name in callable_alleles(cg):
        for phased in (True, False):
            out = run(cg, diplotype_calls(cg, ref, name), phased=phased, function_rank=rank)
            assert out.status in ("called", "ambiguous"), (gene, name, phased, out.reasons)
            exact += check_expected(cg, out, ref, name)
            total += 1
    assert total > 0
    assert exact / total > 0.9, f"{gene}: only {exact}/{total} exact"


@pytest.mark.parametrize("gene", CALLABLE_GENES)
def test_pairs_of_alleles_phased(gene):
    cg = compiled_gene(gene)
    names = callable_alleles(cg)
    rng = random.Random(20261124)
    pairs = [(rng.choice(names), rng.choice(names)) for _ in range(40)]
    rank = _function_rank_for(gene, cg.names[cg.ref_index])
    for n1, n2 in pairs:
        out = run(cg, diplotype_calls(cg, n1, n2), phased=True, function_rank=rank)
        if gene in ("DPYD", "RYR1") and out.rule == "lowest_function":
            continue
        check_expected(cg, out, n1, n2)
        assert out.effectively_phased


def test_homozygous_allele_is_called_twice():
    cg = compiled_gene("CYP2C19")
    out = run(cg, diplotype_calls(cg, "*2", "*2"), phased=False)
    assert [(a, b) for a, b, _ in out.diplotypes] == [("*2", "*2")]
    assert out.status == "called"


def test_unphased_returns_every_top_diplotype_and_reference_scoring():
    # UGT1A1 *80 and *28 both heterozygous: cis (*1/*80+*28) or trans (*28/*80)
    cg = compiled_gene("UGT1A1")
    calls = diplotype_calls(cg, "*1", "*80+*28")
    phased_cis = run(cg, calls, phased=True)
    assert [(a, b) for a, b, _ in phased_cis.diplotypes] == [("*1", "*80+*28")]
    trans = diplotype_calls(cg, "*28", "*80")
    phased_trans = run(cg, trans, phased=True)
    assert [(a, b) for a, b, _ in phased_trans.diplotypes] == [("*28", "*80")]
    unphased = run(cg, trans, phased=False)
    # PharmCAT scoring: the reference allele defines every position, so *1/*80+*28 scores highest
    assert [(a, b) for a, b, _ in unphased.diplotypes] == [("*1", "*80+*28")]
    assert not unphased.effectively_phased


def test_phase_sets_are_separate_blocks():
    cg = compiled_gene("UGT1A1")
    p80, p28 = 233759924, 233760233
    trans = diplotype_calls(cg, "*28", "*80")
    same = cg.genotypes_from_alleles(trans, phased=True, phase_sets={p80: 100, p28: 100})
    other = cg.genotypes_from_alleles(trans, phased=True, phase_sets={p80: 100, p28: 200})
    assert [(a, b) for a, b, _ in match_gene(cg, same).diplotypes] == [("*28", "*80")]
    split = match_gene(cg, other)
    assert not split.effectively_phased
    assert [(a, b) for a, b, _ in split.diplotypes] == [("*1", "*80+*28")]


def test_ambiguous_unphased_lists_all_equal_diplotypes():
    cg = compiled_gene("CYP2B6")
    # *6 = 516G>T + 785A>G; heterozygous at both unphased: *1/*6 or *4/*9 (equal scores)
    calls = diplotype_calls(cg, "*4", "*9")
    out = run(cg, calls, phased=False)
    names = {(a, b) for a, b, _ in out.diplotypes}
    assert ("*4", "*9") in names or ("*1", "*6") in names
    assert len({s for _, _, s in out.diplotypes}) == 1
    phased = run(cg, calls, phased=True)
    assert [(a, b) for a, b, _ in phased.diplotypes] == [("*4", "*9")]


def test_missing_core_position_is_not_called():
    cg = compiled_gene("CYP2C19")
    core = cg.definition.allele("*2").core_positions
    out = run(cg, diplotype_calls(cg, "*38", "*2", drop=core[:1]))
    assert out.status == "incomplete"
    assert "missing_positions" in out.reasons
    assert "*2" in out.not_ruled_out
    assert [m["position"] for m in out.missing_positions] == [core[0]]


def test_missing_everything_but_one_position_is_not_silently_reference():
    cg = compiled_gene("CYP3A5")
    keep = cg.definition.allele("*3").core_positions[0]  # rs776746, heterozygous
    li = cg.position_index[keep]
    calls = {keep: (cg.loci[li].ref, cg.definition.allele("*3").alleles[cg.loci[li].index])}
    out = run(cg, calls)
    assert out.status == "incomplete"
    assert len(out.missing_positions) == len(cg.loci) - 1
    assert out.not_ruled_out  # *6, *7... cannot be excluded
    filled = run(cg, calls, fill_missing_with_reference=True)
    assert filled.status == "called"
    assert "filled_with_reference" in filled.reasons
    assert len(filled.filled_positions) == len(cg.loci) - 1
    assert [(a, b) for a, b, _ in filled.diplotypes] == [("*1", "*3")]


def test_missing_position_without_effect_still_calls():
    # find a position whose alleles are all excluded by other observed positions of a reference sample
    for gene in ("CYP2C9", "CYP2B6", "SLCO1B1", "NAT2", "CYP2D6"):
        cg = compiled_gene(gene)
        ref = cg.names[cg.ref_index]
        for li, locus in enumerate(cg.loci):
            defs = [i for i in np.flatnonzero(cg.defined[:, li]) if i != cg.ref_index]
            if defs and all(cg.defined[i].sum() >= 2 for i in defs) and \
                    locus.position not in cg.definition.required_positions:
                out = run(cg, diplotype_calls(cg, ref, ref, drop=(locus.position,)))
                if out.not_ruled_out:
                    continue
                assert out.status == "called"
                assert "missing_positions_without_effect" in out.reasons
                return
    pytest.fail("no position found whose alleles are all ruled out by other positions")


def test_novel_allele_prevents_a_match_and_is_reported():
    cg = compiled_gene("CYP2C19")
    calls = diplotype_calls(cg, "*38", "*38")
    calls[94781859] = ("G", "C")  # rs4244285: definitions know G and A only
    out = run(cg, calls)
    assert out.status == "not_called"
    assert "novel_allele" in out.reasons
    assert out.novel_variants[0]["position"] == 94781859
    assert out.novel_variants[0]["allele"] == "C"


def test_novel_allele_treated_as_reference_for_tpmt():
    cg = compiled_gene("TPMT")
    calls = diplotype_calls(cg, "*1", "*1")
    locus = cg.loci[0]
    other = next(b for b in "ACGT" if b != locus.ref and b not in locus.alts) if len(locus.ref) == 1 else None
    assert other is not None
    calls[locus.position] = (locus.ref, other)
    out = run(cg, calls)
    assert out.status == "called"
    assert "novel_allele_treated_as_reference" in out.reasons
    assert out.novel_variants and out.novel_variants[0]["allele"] == other


def test_iupac_wobble_matches_either_base():
    cg = compiled_gene("CYP2C19")
    allele = cg.definition.allele("*2")
    li = next(i for i, lo in enumerate(cg.loci) if allele.alleles[lo.index] == "R")
    pos = cg.loci[li].position
    for base in "AG":
        calls = diplotype_calls(cg, "*38", "*2")
        calls[pos] = (calls[pos][0], base)
        out = run(cg, calls)
        assert ("*2", "*38") in [(a, b) for a, b, _ in out.diplotypes] or \
               ("*38", "*2") in [(a, b) for a, b, _ in out.diplotypes], base


def test_required_positions_nat2():
    cg = compiled_gene("NAT2")
    req = sorted(cg.definition.required_positions)
    out = run(cg, diplotype_calls(cg, "*4", "*5", drop=req[:1]))
    assert out.status == "not_called"
    assert "missing_required_positions" in out.reasons


def test_unphased_priorities_nat2():
    cg = compiled_gene("NAT2")
    applied = 0
    for options, pick in cg.definition.unphased_priorities:
        a, b = pick.split("/")
        out = run(cg, diplotype_calls(cg, a, b), phased=False)
        names = [f"{x}/{y}" for x, y, _ in out.diplotypes]
        if out.rule:
            assert names == [pick]
            applied += 1
        else:
            assert set(names) != set(options)
    assert applied >= len(cg.definition.unphased_priorities) // 2


def test_ignored_allele_never_called():
    cg = compiled_gene("G6PD")
    assert "Mediterranean Haplotype" not in cg.names
    # ignoredPositions are matched by allele: no used locus is an ignored variant, but Chatham
    # (C>T at the position of the ignored CGGT>C deletion) stays a defining position
    assert not any(cg.definition.is_ignored_locus(lo) for lo in cg.loci)
    assert 154532990 in cg.position_index


def test_haploid_g6pd():
    cg = compiled_gene("G6PD")
    name = next(n for n in callable_alleles(cg) if cg.scores[cg.names.index(n)] == 1)
    h = haplotype(cg, name)
    out = match_gene(cg, cg.genotypes_from_alleles({p: (a,) for p, a in h.items()}, phased=False),
                     include_positions=False)
    assert out.haploid
    assert out.diplotypes == [(name, None, 1)]
    ref = cg.names[cg.ref_index]
    het = run(cg, diplotype_calls(cg, ref, name), force_haploid=True)
    assert het.status == "not_called" and "heterozygous_in_haploid" in het.reasons
    hom = run(cg, diplotype_calls(cg, name, name), force_haploid=True)
    assert hom.haploid and hom.diplotypes[0][:2] == (name, None)


def test_dpyd_lowest_function_unphased():
    cg = compiled_gene("DPYD")
    rank = _function_rank_for("DPYD", "Reference")
    names = callable_alleles(cg)
    zero = next(n for n in names if rank(n) == 0.0 and cg.scores[cg.names.index(n)] == 1)
    half = [n for n in names if 1.0 <= rank(n) < 1.5 and cg.scores[cg.names.index(n)] == 1][:2]
    h0, h1, h2 = haplotype(cg, zero), haplotype(cg, half[0]), haplotype(cg, half[1])
    ref = haplotype(cg, "Reference")
    calls = {}
    for p in ref:
        alts = [h[p] for h in (h0, h1, h2) if h[p] != ref[p]]
        calls[p] = (alts[0], ref[p]) if alts else (ref[p], ref[p])
    out = run(cg, calls, phased=False, function_rank=rank)
    assert out.rule == "lowest_function"
    assert len(out.haplotypes_present) == 3
    assert out.diplotypes[0][:2] in {tuple(sorted((zero, h), key=allele_sort_key)) for h in half}
    no_rank = run(cg, calls, phased=False, function_rank=None)
    assert no_rank.status == "not_called" and "lowest_function_rule_unavailable" in no_rank.reasons


def test_dpyd_phased_variants_in_cis_use_lowest_function_per_haplotype():
    cg = compiled_gene("DPYD")
    rank = _function_rank_for("DPYD", "Reference")
    names = callable_alleles(cg)
    zero = next(n for n in names if rank(n) == 0.0 and cg.scores[cg.names.index(n)] == 1)
    half = next(n for n in names if 1.0 <= rank(n) < 1.5 and cg.scores[cg.names.index(n)] == 1)
    ref = haplotype(cg, "Reference")
    hz, hh = haplotype(cg, zero), haplotype(cg, half)
    calls = {p: (hz[p] if hz[p] != ref[p] else hh[p], ref[p]) for p in ref}  # both variants on haplotype 1
    out = run(cg, calls, phased=True, function_rank=rank)
    assert out.rule == "lowest_function"
    assert out.diplotypes[0][:2] == tuple(sorted((zero, "Reference"), key=allele_sort_key))
    assert any("+" in h for h in out.haplotypes_present)


def test_no_data_is_a_result():
    cg = compiled_gene("CYP3A5")
    out = run(cg, {})
    assert out.status == "not_called" and out.reasons == ["no_data"]


def test_positions_table():
    cg = compiled_gene("UGT1A1")
    out = run(cg, diplotype_calls(cg, "*1", "*28"), include_positions=True)
    row = next(r for r in out.positions if r["position"] == 233760233)
    assert row["genotype"] == "CAT|CATAT"
    assert row["cpic_genotype"] == "TA(7)/TA(8)"
