"""Regressions of issue 12: each test builds its own small VCF from the bundled allele definitions.

No expected answer comes from another project: the truth of each case is the definition file itself
(the haplotype a named allele defines) and the rule under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from genomics.pgx import call_pgx, call_pgx_cohort, guidance_for_profile
from genomics.pgx.caller import _function_rank_for, compiled_gene
from genomics.pgx.genes.lowest_function import function_rank
from genomics.pgx.matcher import match_gene
from genomics.pgx.pypgx import PYPGX_GENES
from tests.genomics.test_pgx_caller import write_vcf
from tests.genomics.test_pgx_matcher import haplotype

pytestmark = pytest.mark.filterwarnings("ignore::genomics.errors.DegradedResultWarning")


def records_for(gene: str, haps: list[tuple[dict[int, str], dict[int, str] | None]], *, sep: str = "/",
                ps: list[dict[int, int]] | None = None, override: dict[int, list[str]] | None = None) -> list:
    """One record per defining position of ``gene``; one sample per (hap1, hap2) (``hap2=None``: haploid)."""
    cg = compiled_gene(gene)
    out = []
    for locus in cg.loci:
        alleles = [locus.ref]
        gts = []
        for k, (h1, h2) in enumerate(haps):
            idx = []
            for h in (h1, h2):
                if h is None:
                    continue
                a = h[locus.position]
                if a not in alleles:
                    alleles.append(a)
                idx.append(str(alleles.index(a)))
            gt = sep.join(idx)
            if override and locus.position in override:
                gt = override[locus.position][k]
            if ps is not None:
                gt += f":{ps[k].get(locus.position, '.')}"
            gts.append(gt)
        out.append((locus.chrom, locus.position, locus.ref, alleles[1:], gts))
    return out


def hap_with(gene: str, *names: str) -> dict[int, str]:
    """The haplotype carrying every variant of ``names`` (alleles in cis)."""
    cg = compiled_gene(gene)
    ref = haplotype(cg, cg.names[cg.ref_index])
    out = dict(ref)
    for n in names:
        for p, a in haplotype(cg, n).items():
            if a != ref[p]:
                out[p] = a
    return out


# 1. exemptions are matched by allele, not position -------------------------------------------------
def test_g6pd_chatham_survives_the_ignored_deletion_at_its_position(tmp_path):
    cg = compiled_gene("G6PD")
    assert 154532990 in cg.position_index  # C>T Chatham; the ignored variant there is CGGT>C
    chatham = haplotype(cg, "Chatham")
    ref = haplotype(cg, cg.names[cg.ref_index])
    assert chatham[154532990] == "T"
    recs = records_for("G6PD", [(chatham, None), (ref, chatham)])
    # the ignored deletion itself, written as its own record at the same position: skipped, not novel
    recs.append(("chrX", 154532990, "CGGT", ["C"], ["0", "0/0"]))
    path = write_vcf(tmp_path / "g6pd.vcf", ["MALE", "FEMALE"], recs)
    male = call_pgx(path, sample="MALE", genes=["G6PD"]).genes["G6PD"]
    assert male.diplotype == "Chatham" and male.haploid
    assert male.phenotype not in (None, "Normal") and not male.novel_variants
    female = call_pgx(path, sample="FEMALE", genes=["G6PD"]).genes["G6PD"]
    assert "Chatham" in female.diplotype and "Reference" not in (female.phenotype or "")


def test_ryr1_c14509CG_is_a_defining_variant(tmp_path):
    cg = compiled_gene("RYR1")
    assert 38580126 in cg.position_index
    ref = haplotype(cg, "Reference")
    var = haplotype(cg, "c.14509C>G")
    path = write_vcf(tmp_path / "ryr1.vcf", ["S"], records_for("RYR1", [(ref, var)]))
    call = call_pgx(path, genes=["RYR1"]).genes["RYR1"]
    assert call.diplotype == "Reference/c.14509C>G"


# 2. suballelesMap before the phenotype lookup -----------------------------------------------------------
@pytest.mark.parametrize("sub", ["*45.001", "*45.002"])
def test_slco1b1_suballele_phenotype_uses_parent(tmp_path, sub):
    cg = compiled_gene("SLCO1B1")
    path = write_vcf(tmp_path / "slco.vcf", ["S"],
                     records_for("SLCO1B1", [(haplotype(cg, "*1"), haplotype(cg, sub))], sep="|"))
    call = call_pgx(path, genes=["SLCO1B1"]).genes["SLCO1B1"]
    assert call.diplotype == f"*1/{sub}"
    assert call.phenotype and call.phenotype != "Indeterminate", call.reasons


# 3. phase sets -----------------------------------------------------------------------------------------
def test_dpyd_alleles_in_cis_in_one_phase_set_are_not_paired(tmp_path):
    a, b = "c.557A>G", "c.868A>G"  # both decreased function, single-position alleles
    rank = _function_rank_for("DPYD", "Reference")
    assert rank(a) < 2 and rank(b) < 2
    cg = compiled_gene("DPYD")
    ref = haplotype(cg, "Reference")
    cis = hap_with("DPYD", a, b)
    normal = "c.85T>C (*9A)"
    other = hap_with("DPYD", normal)
    p_a = next(p for p in ref if cis[p] != ref[p] and haplotype(cg, a)[p] != ref[p])
    p_b = next(p for p in ref if cis[p] != ref[p] and haplotype(cg, b)[p] != ref[p])
    p_n = next(p for p in ref if other[p] != ref[p])
    h1 = dict(cis)
    h2 = dict(ref)
    h2[p_n] = other[p_n]
    ps = [{p_a: 100, p_b: 100, p_n: 900}]
    path = write_vcf(tmp_path / "dpyd.vcf", ["S"], records_for("DPYD", [(h1, h2)], sep="|", ps=ps))
    call = call_pgx(path, genes=["DPYD"]).genes["DPYD"]
    assert call.diplotypes and all({d.allele1, d.allele2} != {a, b} for d in call.diplotypes), call.diplotype
    # the two decreased alleles share one chromosome: the other one carries the normal-function allele
    # orientations of the blocks tie on function; either way one chromosome keeps normal function
    assert call.diplotype in (f"{a}/{normal}", f"{normal}/{a}", f"Reference/{a}")
    assert "phase_between_blocks_unknown" in call.reasons
    # the same genotypes unphased: the CPIC rule assumes trans and pairs the two decreased alleles
    flat = write_vcf(tmp_path / "dpyd_unphased.vcf", ["S"], records_for("DPYD", [(h1, h2)], sep="/"))
    unphased = call_pgx(flat, genes=["DPYD"]).genes["DPYD"]
    assert {unphased.diplotypes[0].allele1, unphased.diplotypes[0].allele2} == {a, b}


def test_two_phase_blocks_are_combined_both_ways():
    cg = compiled_gene("CYP2C19")
    cis = hap_with("CYP2C19", "*2", "*17")  # *2 and *17 variants on one chromosome
    other = haplotype(cg, "*1")
    calls = {p: (cis[p], other[p]) for p in cis}
    het = [p for p in cis if cis[p] != other[p]]
    only17 = {p for p in het if haplotype(cg, "*17")[p] != haplotype(cg, "*38")[p]}
    one = {p: 1 for p in het}
    two = {p: (1 if p in only17 else 2) for p in het}
    one_block = match_gene(cg, cg.genotypes_from_alleles(calls, phased=True, phase_sets=one))
    two_blocks = match_gene(cg, cg.genotypes_from_alleles(calls, phased=True, phase_sets=two))
    assert one_block.effectively_phased and not two_blocks.effectively_phased
    assert ("*2", "*17") not in {d[:2] for d in one_block.diplotypes}  # in cis: never paired
    assert ("*2", "*17") in {d[:2] for d in two_blocks.diplotypes}  # blocks: both orientations tried


# 4. half-missing genotypes -------------------------------------------------------------------------------
@pytest.mark.parametrize("gt", [".|1", "1|.", "./1", "1/."])
def test_half_missing_genotype_is_evidence_never_reference(tmp_path, gt):
    cg = compiled_gene("CYP2C19")
    ref = haplotype(cg, "*38")
    h2 = haplotype(cg, "*2")
    site = next(p for p in ref if h2[p] != ref[p] and cg.scores[cg.names.index("*2")] >= 1)
    recs = records_for("CYP2C19", [(ref, h2)], override={site: [gt]})
    path = write_vcf(tmp_path / "half.vcf", ["S"], recs)
    call = call_pgx(path, genes=["CYP2C19"]).genes["CYP2C19"]
    assert "partial_genotype" in call.reasons and call.partial_positions == [site]
    assert call.diplotypes and all("*2" in (d.allele1, d.allele2) for d in call.diplotypes), call.diplotypes
    assert all(d.name != "*38/*38" for d in call.diplotypes)
    row = next(r for r in call_pgx(path, genes=["CYP2C19"]).genes["CYP2C19"].positions if r.position == site)
    assert "." in row.genotype and row.genotype != "./."


# 5. lowest-function genes --------------------------------------------------------------------------------
def test_unrated_allele_is_uncertain_not_beaten_by_normal():
    assert function_rank(None) < function_rank("Normal function")
    assert function_rank("No function", "0.0") < function_rank(None)
    rank = _function_rank_for("RYR1", "Reference")
    assert rank("c.38T>G") < rank("Reference")


def test_ryr1_allele_missing_from_the_2023_table_says_so(tmp_path):
    cg = compiled_gene("RYR1")
    name = "c.38T>G"  # in the 2025 definitions, not in the 2023-12 RYR1 phenotype table
    path = write_vcf(tmp_path / "ryr1.vcf", ["S"],
                     records_for("RYR1", [(haplotype(cg, "Reference"), haplotype(cg, name))]))
    call = call_pgx(path, genes=["RYR1"]).genes["RYR1"]
    assert call.diplotype == f"Reference/{name}"
    assert call.phenotype in (None, "Indeterminate")
    assert "allele_not_in_phenotype_table" in call.reasons
    assert any("not rate" in w for w in call.warnings)


def test_cacna1s_uses_the_lowest_function_rule(tmp_path):
    cg = compiled_gene("CACNA1S")
    assert cg.rules.lowest_function
    h = hap_with("CACNA1S", "c.520C>T", "c.3257G>A")
    recs = records_for("CACNA1S", [(h, haplotype(cg, "Reference"))], sep="/")
    path = write_vcf(tmp_path / "cacna1s.vcf", ["S"], recs)
    call = call_pgx(path, genes=["CACNA1S"]).genes["CACNA1S"]
    assert {call.diplotypes[0].allele1, call.diplotypes[0].allele2} == {"c.520C>T", "c.3257G>A"}
    assert call.rule == "lowest_function"


# 6. a gene with no usable genotype --------------------------------------------------------------------
def test_nat2_without_usable_genotype_is_not_called_with_reason(tmp_path):
    cg = compiled_gene("NAT2")
    recs = [(lo.chrom, lo.position, lo.ref, list(lo.alts[:1]), ["./."]) for lo in cg.loci]
    path = write_vcf(tmp_path / "nat2.vcf", ["S"], recs)
    for fill in (False, True):
        call = call_pgx(path, genes=["NAT2"], fill_missing_with_reference=fill).genes["NAT2"]
        assert call.status == "not_called" and call.diplotypes == [] and call.reasons
        assert call.diplotype is None and call.phenotype is None
        assert not call.filled_positions  # a './.' record is present: never filled as reference


# 7. results independent of process history ------------------------------------------------------------
def test_novel_alleles_never_grow_the_compiled_gene(tmp_path):
    cg = compiled_gene("CYP2C19")
    vocab = cg.vocab
    locus = next(lo for lo in cg.loci if len(lo.ref) == 1)
    ref = haplotype(cg, "*38")
    bases = "ACGT"
    seen = []
    for k in range(41):
        novel = locus.ref + "".join(bases[(k >> (2 * j)) & 3] for j in range(3)) + "A"
        recs = records_for("CYP2C19", [(ref, ref)])
        recs = [r for r in recs if r[1] != locus.position]
        recs.append((locus.chrom, locus.position, locus.ref, [novel], ["0/1"]))
        path = write_vcf(tmp_path / f"n{k}.vcf", ["S"], recs)
        call = call_pgx(path, genes=["CYP2C19"]).genes["CYP2C19"]
        seen.append([v.allele for v in call.novel_variants])
        assert call.novel_variants[0].allele == novel, (k, call.novel_variants)
    assert cg.vocab is vocab and compiled_gene("CYP2C19").vocab == vocab
    assert all("<" not in a for alleles in seen for a in alleles)


# 9. CYP2D6 copy number -----------------------------------------------------------------------------------
def _cyp2d6_vcf(tmp_path, name, dip, cn_line=None, headers=()):
    """A CYP2D6 VCF of diplotype ``dip``; ``cn_line`` (a copy-number record) is inserted in order."""
    cg = compiled_gene("CYP2D6")
    recs = records_for("CYP2D6", [(haplotype(cg, dip[0]), haplotype(cg, dip[1]))])
    path = write_vcf(tmp_path / f"{name}.vcf", ["S"], recs)
    if cn_line is None:
        return path
    lines = open(path).read().splitlines(keepends=True)
    head = [ln for ln in lines if ln.startswith("##")]
    body = [ln for ln in lines if not ln.startswith("##")]
    at = next(k for k, ln in enumerate(body) if ln.startswith("chr22") and int(ln.split("\t")[1]) > 42126400)
    body.insert(at, cn_line)
    extra = ['##INFO=<ID=END,Number=1,Type=Integer,Description="End">\n',
             '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="SV type">\n',
             '##FORMAT=<ID=CN,Number=1,Type=Float,Description="Copy number">\n',
             '##ALT=<ID=DEL,Description="Deletion">\n', '##ALT=<ID=CNV,Description="Copy number variant">\n',
             *headers]
    open(path, "w").write("".join(head + extra + body))
    return path


def test_cyp2d6_without_copy_number_is_provisional_and_not_used_for_guidance(tmp_path):
    path = _cyp2d6_vcf(tmp_path, "plain", ("*1", "*4"))
    profile = call_pgx(path, genes=["CYP2D6"])
    call = profile.genes["CYP2D6"]
    assert call.status == "provisional" and call.phenotype is None and call.lookup_key is None
    assert call.diplotypes[0].name == "*1/*4" and call.diplotypes[0].phenotype  # shown, not used
    assert "cyp2d6_copy_number_not_assessed" in call.reasons
    assert type(profile).from_json(profile.to_json()) == profile  # the new status survives the JSON round trip
    assert any("copy-number assay" in lim for lim in call.limitations)
    g = guidance_for_profile(profile, ["codeine"])[0]
    assert not any(getattr(r, "status", None) == "matched" for r in getattr(g, "summaries", []))
    accepted = call_pgx(path, genes=["CYP2D6"], accept_cyp2d6_without_copy_number=True).genes["CYP2D6"]
    assert accepted.status == "called" and accepted.phenotype
    assert "cyp2d6_accepted_without_copy_number" in accepted.reasons


def test_cyp2d6_deletion_record_gives_star5(tmp_path):
    line = "chr22\t42126400\t.\tN\t<DEL>\t.\tPASS\tSVTYPE=DEL;END=42131000\tGT\t0/1\n"
    path = _cyp2d6_vcf(tmp_path, "del", ("*4", "*4"), cn_line=line)
    call = call_pgx(path, genes=["CYP2D6"]).genes["CYP2D6"]
    assert call.status == "called" and call.diplotype == "*4/*5", (call.diplotype, call.reasons, call.warnings)
    assert call.phenotype == "Poor Metabolizer"


@pytest.mark.parametrize("cn,expected", [(0, {"*5/*5"}), (3, {"*1x2/*4", "*1/*4x2", "*1/*68+*4"}), (2, {"*1/*4"}),
                                         (4, {"*1x≥3/*4", "*1/*4x≥3"})])
def test_cyp2d6_format_cn_is_combined(tmp_path, cn, expected):
    line = f"chr22\t42126400\t.\tN\t<CNV>\t.\tPASS\tEND=42131000\tGT:CN\t./.:{cn}\n"
    path = _cyp2d6_vcf(tmp_path, f"cn{cn}", ("*1", "*4"), cn_line=line)
    call = call_pgx(path, genes=["CYP2D6"]).genes["CYP2D6"]
    assert {d.name for d in call.diplotypes} == expected, (call.reasons, call.warnings)
    assert call.status in ("called", "ambiguous") and "copy_number_from_vcf" in call.reasons


def test_cohort_results_do_not_depend_on_sample_order(tmp_path):
    cg = compiled_gene("CYP2C19")
    names = ["*2", "*17", "*3", "*38"]
    haps = [(haplotype(cg, a), haplotype(cg, b)) for a in names for b in names]
    path = write_vcf(tmp_path / "coh.vcf", [f"S{i}" for i in range(len(haps))], records_for("CYP2C19", haps))
    fwd = {p.sample: p.genes["CYP2C19"].diplotype for p in call_pgx_cohort(path, genes=["CYP2C19"])}
    for s in list(fwd)[::5]:
        assert call_pgx(path, sample=s, genes=["CYP2C19"]).genes["CYP2C19"].diplotype == fwd[s]
    assert not np.any([d is None for d in fwd.values()])


# 10. PyPGx genes ---------------------------------------------------------------------------------------------
def test_cyp2c8_from_a_vcf_with_pypgx_function_and_no_guideline_label(tmp_path):
    cg = compiled_gene("CYP2C8")
    assert cg.definition.source == "PyPGx" and cg.names[cg.ref_index] == "*1"
    path = write_vcf(tmp_path / "cyp2c8.vcf", ["S"],
                     records_for("CYP2C8", [(haplotype(cg, "*1"), haplotype(cg, "*3"))], sep="|"))
    call = call_pgx(path, genes=["CYP2C8"]).genes["CYP2C8"]
    assert call.status == "called" and call.diplotype == "*1/*3"
    d = call.diplotypes[0]
    assert d.function1 == "Normal Function" and d.function2
    assert call.lookup_key is None and "no_cpic_dpwg_guideline" in call.reasons
    assert any("no CPIC/DPWG guideline" in lim for lim in call.limitations)
    # missing positions are never reference for PyPGx genes either
    drop = {lo.position for lo in cg.loci if haplotype(cg, "*3")[lo.position] != lo.ref}
    recs = [r for r in records_for("CYP2C8", [(haplotype(cg, "*1"), haplotype(cg, "*1"))]) if r[1] not in drop]
    partial = call_pgx(write_vcf(tmp_path / "cyp2c8_missing.vcf", ["S"], recs), genes=["CYP2C8"]).genes["CYP2C8"]
    assert partial.status == "incomplete" and "*3" in partial.alleles_not_ruled_out


def test_pypgx_phenotype_and_structural_alleles_are_stated(tmp_path):
    cg = compiled_gene("F5")
    leiden = next(n for n in cg.names if n != cg.names[cg.ref_index])
    path = write_vcf(tmp_path / "f5.vcf", ["S"],
                     records_for("F5", [(haplotype(cg, cg.names[cg.ref_index]), haplotype(cg, leiden))]))
    call = call_pgx(path, genes=["F5"]).genes["F5"]
    assert call.diplotypes[0].phenotype == "Unfavorable Response"
    gstm1 = compiled_gene("GSTM1")
    assert "*0" in gstm1.definition.ignored_alleles
    p2 = write_vcf(tmp_path / "gstm1.vcf", ["S"], records_for("GSTM1", [(haplotype(gstm1, "*A"),) * 2]))
    g = call_pgx(p2, genes=["GSTM1"]).genes["GSTM1"]
    assert any("*0" in lim and "BAM" in lim for lim in g.limitations)


@pytest.mark.parametrize("gene", PYPGX_GENES)
def test_every_pypgx_allele_against_the_default(gene):
    from tests.genomics.test_pgx_matcher import callable_alleles, check_expected, diplotype_calls, run

    cg = compiled_gene(gene)
    ref = cg.names[cg.ref_index]
    exact = total = 0
    for name in callable_alleles(cg):
        out = run(cg, diplotype_calls(cg, ref, name), phased=True)
        assert out.status in ("called", "ambiguous"), (gene, name, out.reasons)
        exact += check_expected(cg, out, ref, name)
        total += 1
    assert total and exact / total > 0.8
    assert len(PYPGX_GENES) == 64 and "CYP2C8" in PYPGX_GENES


def test_bam_only_genes_are_refused_with_the_reason():
    from genomics.errors import UsageError

    with pytest.raises(UsageError, match="structural alleles"):
        call_pgx("missing.vcf", genes=["GSTT1"])


# 11. CLI: several inputs, CYP2D6 opt-in -------------------------------------------------------------------
def test_cli_each_file_and_cyp2d6_opt_in(tmp_path, capsys):
    import json

    from recommender.cli import main

    a = _cyp2d6_vcf(tmp_path, "a", ("*1", "*4"))
    b = _cyp2d6_vcf(tmp_path, "b", ("*4", "*4"))
    assert main(["pgx", a, b, "--each-file", "--genes", "CYP2D6", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["genes"]["CYP2D6"]["status"] for r in rows] == ["provisional", "provisional"]
    assert [r["input"] for r in rows] == [a, b]
    assert main(["pgx", a, "--genes", "CYP2D6", "--cyp2d6-without-copy-number", "--json"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert one["genes"]["CYP2D6"]["status"] == "called" and one["genes"]["CYP2D6"]["phenotype"]
    assert main(["pgx", a, "--genes", "CYP2D6"]) == 0
    assert "PROVISIONAL" in capsys.readouterr().out


def test_cohort_with_many_novel_alleles_keeps_names(tmp_path):
    cg = compiled_gene("CYP2C19")
    locus = next(lo for lo in cg.loci if len(lo.ref) == 1)
    novel = [locus.ref + "".join("ACGT"[(k >> (2 * j)) & 3] for j in range(3)) + "A" for k in range(40)]
    recs = [r for r in records_for("CYP2C19", [(haplotype(cg, "*38"),) * 2] * 41) if r[1] != locus.position]
    recs.append((locus.chrom, locus.position, locus.ref, novel, [f"0/{k + 1}" for k in range(40)] + ["0/40"]))
    path = write_vcf(tmp_path / "novel.vcf", [f"S{k}" for k in range(41)], recs)
    got = [p.genes["CYP2C19"].novel_variants[0].allele for p in call_pgx_cohort(path, genes=["CYP2C19"])]
    assert got == novel + [novel[-1]]


def test_cyp2d6_deletion_hint_is_per_sample(tmp_path):
    cg = compiled_gene("CYP2D6")
    h4 = haplotype(cg, "*4")
    recs = records_for("CYP2D6", [(h4, h4), (haplotype(cg, "*1"), h4)])
    for k in range(4):  # heterozygous sites in the flanks (outside the gene)
        recs.append(("chr22", 42120000 + k * 100, "A", ["G"], ["0/1", "0/1"]))
    path = write_vcf(tmp_path / "hint.vcf", ["HOM", "HET"], recs)
    hom = call_pgx(path, sample="HOM", genes=["CYP2D6"]).genes["CYP2D6"]
    het = call_pgx(path, sample="HET", genes=["CYP2D6"]).genes["CYP2D6"]
    assert "possible_cyp2d6_deletion" in hom.reasons and any("*5" in w for w in hom.warnings)
    assert "possible_cyp2d6_deletion" not in het.reasons


def test_cyp2d6_tandem_and_duplication_phenotypes_from_the_cpic_scores():
    from genomics.pgx.phenotypes import assign_phenotype

    assert assign_phenotype("CYP2D6", "*36+*10", "*10").activity_score == "0.5"  # 0 + 0.25 + 0.25
    assert assign_phenotype("CYP2D6", "*10", "*10x2").activity_score == "0.75"
    assert assign_phenotype("CYP2D6", "*10", "*10x≥3").phenotype == "Indeterminate"  # >= 3 copies: unknown sum
