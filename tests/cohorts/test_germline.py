"""Genotype-based germline source: real haplotypes, recombination, DPYD mapping, VCF, PGx calls."""

from __future__ import annotations

import gzip
import hashlib
import warnings

import numpy as np
import pandas as pd
import pytest

from cohorts.germline import (
    RealGenotypeSource,
    draw_genotypes,
    load_brca_variants,
    phenotype_columns,
    write_germline_vcf,
)
from cohorts.germline_panel import (
    MISSING_HAP,
    PANEL_GENES,
    dpyd_map_from_pypgx,
    gene_blocks,
    load_dpyd_map,
    load_panel,
)
from cohorts.simulate import simulate_cohort
from genomics.errors import DegradedResultWarning, UsageError
from genomics.vcf import HAPLOID_PAD, VcfReader


@pytest.fixture(scope="module")
def panel():
    return load_panel()


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """One called cohort shared by several tests (n = 600, mixed real people and BRCA carriers)."""
    src = RealGenotypeSource(workdir=tmp_path_factory.mktemp("germ"))
    rng = np.random.default_rng(7)
    n = 600
    g = src.draw(n, rng, np.full(n, 0.6), brca_rate=np.full(n, 0.1))
    return src, g


def _vcf_text(path) -> str:
    with gzip.open(path, "rt") as fh:
        return fh.read()


# ------------------------------------------------------------------------------------------ panel
def test_panel_holds_real_people_with_sex_from_chrx_ploidy(panel):
    assert panel.n_people == 3202 and panel.dpyd_available.sum() == 2504
    assert set(panel.sites["gene"]) == set(PANEL_GENES)
    g6 = panel.block_rows("G6PD")
    male = panel.sex == "male"
    # men: second chrX haplotype absent at every G6PD site; women: present everywhere
    assert (panel.haplotypes[g6][:, male, 1] == MISSING_HAP).all()
    assert (panel.haplotypes[g6][:, ~male, 1] != MISSING_HAP).all()
    assert 1500 < male.sum() < 1700
    # sorted by contig then position
    key = list(zip(panel.sites["chrom"].map(lambda c: 23 if c == "chrX" else int(c[3:])), panel.sites["pos"]))
    assert key == sorted(key)


def test_gene_blocks_merge_only_neighbouring_genes():
    regions = {"CYP2C19": ("chr10", 94761900, 94852914), "CYP2C9": ("chr10", 94645745, 94989023),
               "CYP3A4": ("chr7", 99758183, 99784078), "CYP3A5": ("chr7", 99652770, 99676198),
               "CFTR": ("chr7", 117509035, 117667104), "RYR1": ("chr19", 38433867, 38587363),
               "CYP2B6": ("chr19", 40991224, 41016810)}
    b = gene_blocks(regions)
    assert b["CYP2C19"] == b["CYP2C9"] and b["CYP3A4"] == b["CYP3A5"]
    assert b["CFTR"] != b["CYP3A4"] and b["RYR1"] != b["CYP2B6"]


# ------------------------------------------------------------------------------------------ DPYD
@pytest.mark.parametrize("rsid, pos37, pos38, ref, alt", [
    ("rs3918290", 97915614, 97450058, "C", "T"),  # c.1905+1G>A, DPYD*2A
    ("rs67376798", 97547947, 97082391, "T", "A"),  # c.2846A>T
    ("rs55886062", 97981343, 97515787, "A", "C"),  # c.1679T>G, DPYD*13
    ("rs1801265", 98348885, 97883329, "A", "G"),  # c.85T>C, DPYD*9A: REF differs between builds (G on GRCh37)
])
def test_dpyd_grch37_to_grch38_map(rsid, pos37, pos38, ref, alt):
    m = load_dpyd_map().set_index("rsid")
    row = m.loc[rsid]
    assert (int(row["pos_grch37"]), int(row["pos_grch38"]), row["ref_grch38"], row["alt"]) == (pos37, pos38, ref, alt)


def test_dpyd_sites_in_panel_are_pharmcat_defining_positions(panel):
    from genomics.pgx.caller import compiled_gene

    d = panel.sites[panel.sites["gene"] == "DPYD"]
    assert {97450058, 97082391} <= set(d["pos"])
    assert set(d["pos"]) <= set(compiled_gene("DPYD").position_index)
    rows = panel.block_rows("DPYD")
    # the 698 people without phase-3 data have no DPYD haplotypes in the panel
    assert (panel.haplotypes[rows][:, ~panel.dpyd_available] == MISSING_HAP).all()
    assert (panel.haplotypes[rows][:, panel.dpyd_available] != MISSING_HAP).all()


def test_shipped_dpyd_map_equals_pypgx_table(shared_data):
    table = shared_data / "pgx" / "pypgx" / "master-fa6b9f7" / "api" / "data" / "variant-table.csv"
    fresh = dpyd_map_from_pypgx(table)
    shipped = load_dpyd_map()
    shipped["chrom_grch37"] = shipped["chrom_grch37"].astype(str)
    pd.testing.assert_frame_equal(fresh.reset_index(drop=True), shipped.reset_index(drop=True), check_dtype=False)


def test_panel_haplotypes_equal_the_1000_genomes_files(panel, shared_data):
    pop = shared_data / "population"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegradedResultWarning)
        r37 = VcfReader(pop / "1kgp_GRCh37" / "DPYD.vcf.gz", build="GRCh37")
        rec = r37.fetch_positions([("1", 97915614)])[("1", 97915614)][0]
        col = {s: i for i, s in enumerate(r37.samples)}
        j = int(np.flatnonzero((panel.sites["pos"] == 97450058).to_numpy())[0])
        have = np.flatnonzero(panel.dpyd_available)
        src = np.array([col[s] for s in panel.samples[have]])
        assert (panel.haplotypes[j][have] == rec.gt[src]).all() and rec.gt.max() == 1
        # DPYD*9A: GRCh37 REF G / ALT A, GRCh38 REF A / ALT G -> allele indices swapped
        rec = r37.fetch_positions([("1", 98348885)])[("1", 98348885)][0]
        j = int(np.flatnonzero((panel.sites["pos"] == 97883329).to_numpy())[0])
        assert (rec.ref, rec.alts, panel.sites["ref"][j], panel.sites["alt"][j]) == ("G", ("A",), "A", "G")
        assert (panel.haplotypes[j][have] == 1 - rec.gt[src]).all()
        # unsplit multi-allelic G>A,T: only the defining T (allele 2 on GRCh37) is kept
        rec = r37.fetch_positions([("1", 97544543)])[("1", 97544543)][0]
        j = int(np.flatnonzero((panel.sites["pos"] == 97078987).to_numpy())[0])
        assert rec.alts == ("A", "T") and panel.sites["alt"][j] == "T"
        assert (panel.haplotypes[j][have] == (rec.gt[src] == 2)).all()
        r38 = VcfReader(pop / "1kgp_GRCh38" / "CYP2D6.vcf.gz")
        assert list(r38.samples) == list(panel.samples)
        j = int(np.flatnonzero((panel.sites["id"] == "rs3892097").to_numpy())[0])  # CYP2D6*4
        rec = r38.fetch_positions([("chr22", int(panel.sites["pos"][j]))])[("chr22", int(panel.sites["pos"][j]))][0]
        assert (panel.haplotypes[j] == rec.gt).all()
    for name, sha in panel.provenance["files_sha256"].items():
        assert hashlib.sha256((pop / name).read_bytes()).hexdigest() == sha, name


# ------------------------------------------------------------------------------------------ drawing
def test_recombinants_keep_population_and_whole_gene_haplotypes(panel):
    rng = np.random.default_rng(3)
    n = 800
    d = draw_genotypes(panel, n, rng, np.full(n, 0.5), mode="recombine")
    assert (d.person == -1).all()
    H = panel.haplotypes
    same_pair = np.zeros(n, dtype=bool)
    for b, block in enumerate(d.blocks):
        rows = panel.block_rows(block)
        for i in range(0, n, 7):
            for k in (0, 1):
                donor, hap = d.donors[i, b, k], d.donor_haps[i, b, k]
                if donor < 0:
                    assert block == "G6PD" and d.sex[i] == "male" and k == 1
                    assert (d.genotypes[rows, i, 1] == MISSING_HAP).all()
                    continue
                assert panel.population[donor] == d.population[i]  # within the population
                assert (d.genotypes[rows, i, k] == H[rows, donor, hap]).all()  # the whole haplotype, intact
                if block == "DPYD":
                    assert panel.dpyd_available[donor]
            if d.donors[i, b, 1] >= 0:
                assert d.donors[i, b, 0] != d.donors[i, b, 1]  # two different people
    # blocks assort independently: nobody is a clone of one real pair of people
    first = d.donors[:, 0, :]
    same_pair = (d.donors == first[:, None, :]).all(axis=(1, 2))
    assert not same_pair.any()


def test_real_people_are_not_reused_and_keep_their_sex(panel):
    rng = np.random.default_rng(5)
    n = 1500
    d = draw_genotypes(panel, n, rng, np.full(n, 0.5), mode="auto")
    real = d.person >= 0
    assert real.mean() > 0.95
    assert len(set(d.person[real])) == real.sum()
    assert (panel.sex[d.person[real]] == d.sex[real]).all()
    assert (panel.super_population[d.person[real]] == d.super_population[real]).all()
    # people without DPYD data received DPYD haplotypes of others of their population
    b = d.blocks.index("DPYD")
    lacking = np.flatnonzero(real & ~panel.dpyd_available[np.maximum(d.person, 0)])
    assert len(lacking) > 50
    for i in lacking[:40]:
        donors = d.donors[i, b]
        assert panel.dpyd_available[donors].all() and (panel.population[donors] == d.population[i]).all()
    with pytest.raises(UsageError, match="real people"):
        draw_genotypes(panel, 5000, rng, np.full(5000, 1.0), mode="real")


def test_allele_frequencies_follow_the_panel(panel):
    """A large recombinant cohort reproduces the panel's allele frequencies per super-population."""
    rng = np.random.default_rng(11)
    n = 6000
    d = draw_genotypes(panel, n, rng, np.full(n, 0.5), mode="recombine")
    for rsid in ("rs3892097", "rs116855232", "rs4149056", "rs1801159"):  # CYP2D6*4, NUDT15 R139C, SLCO1B1, DPYD
        j = int(np.flatnonzero((panel.sites["id"] == rsid).to_numpy())[0])
        for sp in ("AFR", "EAS", "EUR"):
            people = (panel.super_population == sp) & (panel.dpyd_available if panel.sites["gene"][j] == "DPYD" else True)
            h = panel.haplotypes[j][people]
            expected = (h == 1).sum() / (h != MISSING_HAP).sum()
            g = d.genotypes[j][d.super_population == sp]
            got = (g == 1).sum() / (g != MISSING_HAP).sum()
            assert abs(got - expected) < 0.03 + 0.1 * expected, (rsid, sp, got, expected)


# ------------------------------------------------------------------------------------------ VCF + caller
def test_vcf_reads_back_sorted_indexed_grch38_with_haploid_men(drawn):
    _src, g = drawn
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegradedResultWarning)
        r = VcfReader(g.vcf)
        assert r.has_index and r.build.build == "GRCh38"
        assert list(r.samples) == list(g.sample_id)
        recs = list(r.fetch())
    men = np.asarray(g.sex) == "male"
    order = {f"chr{c}": i for i, c in enumerate([*map(str, range(1, 23)), "X"])}
    keys = [(order[x.chrom], x.pos) for x in recs]
    assert keys == sorted(keys)
    g6 = [x for x in recs if x.chrom == "chrX"]
    assert g6 and all((x.gt[men, 1] == HAPLOID_PAD).all() and (x.gt[~men, 1] != HAPLOID_PAD).all() for x in g6)
    text = _vcf_text(g.vcf)
    assert "##contig=<ID=chr22,length=50818468" in text and "##contig=<ID=chrX,length=156040895" in text
    # only variable sites are written
    assert all(((x.gt == 1).any()) for x in recs)


def test_phenotypes_come_from_the_pgx_caller(drawn):
    _src, g = drawn
    ph = g.phenotypes
    assert len(ph) == 600 and list(ph["sample_id"]) == list(g.sample_id)
    # the caller ran on every panel gene; filled positions are used on purpose (only variable sites present)
    for gene in ("DPYD", "UGT1A1", "TPMT", "NUDT15", "CYP2D6", "G6PD", "CYP2C19"):
        assert (ph[f"pgx_{gene}_status"] == "called").mean() > 0.9, gene
    ugt = ph["pgx_UGT1A1_phenotype"] == "Poor Metabolizer"
    from_prior = ph["pgx_fallback"].str.contains("ugt1a1")
    assert (ph.loc[~from_prior, "ugt1a1_poor"] == ugt[~from_prior]).all()
    called_dpyd = ~ph["pgx_fallback"].str.contains("dpyd")
    assert np.allclose(ph.loc[called_dpyd, "dpyd_activity_score"],
                       ph.loc[called_dpyd, "pgx_DPYD_activity_score"].astype(float))
    # no NaN reaches the causal model; every fallback is recorded
    for col in ("dpyd_activity_score", "ugt1a1_poor", "thiopurine_function", "cyp2d6_activity_score"):
        assert ph[col].notna().all()
    uncalled = ph["pgx_CYP2D6_activity_score"].isna() | (ph["pgx_CYP2D6_activity_score"] == "n/a")
    assert ph.loc[uncalled, "pgx_fallback"].str.contains("cyp2d6").all()
    # the G6PD call of a man is hemizygous
    men = np.asarray(g.sex) == "male"
    assert not ph.loc[men, "pgx_G6PD_diplotype"].str.contains("/").any()


def test_phenotype_frequencies_roughly_match_the_panel(drawn):
    ph = drawn[1].phenotypes
    assert 0.05 < ph["ugt1a1_poor"].mean() < 0.25  # UGT1A1 *28/*28 and equivalents: ~10-15 % across 1000 Genomes
    assert 0.9 < (ph["dpyd_activity_score"] == 2).mean() < 0.99  # DPYD normal function in most people
    assert 0.04 < (ph["thiopurine_function"] != "normal").mean() < 0.25
    assert 0.0 < (ph["cyp2d6_activity_score"] == 0).mean() < 0.1  # CYP2D6 poor metabolisers (SNV-only call)


def test_uncalled_phenotypes_fall_back_to_the_prior():
    from cohorts.germline import _prior_fill

    phen = pd.DataFrame({"dpyd_activity_score": [2.0, np.nan], "ugt1a1_poor": [False, None],
                         "thiopurine_function": ["normal", None], "cyp2d6_activity_score": [np.nan, 1.0],
                         "_thiopurine_at_least": [None, "poor"]})
    filled = _prior_fill(phen, np.array(["EUR", "EAS"]), np.random.default_rng(0))
    assert filled.tolist() == ["cyp2d6_activity_score", "dpyd_activity_score,ugt1a1_poor,thiopurine_function"]
    assert phen.notna().drop(columns="_thiopurine_at_least").all().all()
    assert phen["thiopurine_function"][1] == "poor"  # never better than the gene that was called


def test_same_seed_gives_byte_identical_vcf_and_tables(tmp_path):
    a = RealGenotypeSource(workdir=tmp_path / "a")
    b = RealGenotypeSource(workdir=tmp_path / "b")
    sa = simulate_cohort(150, seed=9, germline=a)
    sb = simulate_cohort(150, seed=9, germline=b)
    assert sa.vcf.read_bytes() == sb.vcf.read_bytes()
    for name in sa.tables:
        pd.testing.assert_frame_equal(sa.tables[name], sb.tables[name])
    pd.testing.assert_frame_equal(sa.truth_tables["germline"], sb.truth_tables["germline"])
    sc = simulate_cohort(150, seed=10, germline=RealGenotypeSource(workdir=tmp_path / "c"))
    assert _vcf_text(sc.vcf) != _vcf_text(sa.vcf)


# ------------------------------------------------------------------------------------------ BRCA, tumour
def test_brca_variants_are_real_loss_of_function_in_the_bundled_reference():
    from genomics.dnalm.consequence import annotate
    from genomics.reference import bundled_reference

    ref = bundled_reference()
    table = load_brca_variants()
    inside = table[table["in_bundled_reference"] == "yes"]
    assert len(inside) >= 6 and (inside["gene"] == "BRCA1").all()
    for row in inside.itertuples():
        assert 42_425_000 <= row.pos <= 43_600_000
        assert ref.fetch(row.chrom, row.pos, row.pos + len(row.ref) - 1).upper() == row.ref, row.hgvs_c
        if len(row.ref) == len(row.alt) == 1:
            c = annotate(row.chrom, row.pos, row.ref, row.alt, ref)
            aa = int("".join(ch for ch in row.hgvs_p.split("p.")[1][3:] if ch.isdigit()))
            assert c.protein_position == aa and c.consequence in ("stop_gained", "missense"), row.hgvs_c


def test_brca_carriers_are_in_the_vcf(drawn):
    _src, g = drawn
    ph = g.phenotypes
    assert 0.05 < ph["germline_brca_lof"].mean() < 0.16
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegradedResultWarning)
        r = VcfReader(g.vcf)
        recs = [x for x in r.fetch() if x.variant.INFO.get("GENE") in ("BRCA1", "BRCA2")]
    assert recs and all(x.variant.INFO.get("KIND") == "germline_lof" for x in recs)
    carriers = np.zeros(len(ph), dtype=bool)
    for x in recs:
        assert (x.gt.sum(axis=1) <= 1).all()  # heterozygous
        carriers |= (x.gt == 1).any(axis=1)
    assert (carriers == ph["germline_brca_lof"].to_numpy()).all()


def test_simulated_cohort_tumour_hotspots_use_the_grch38_table(tmp_path):
    from genomics.biomarkers.hotspots import load_hotspots

    sim = simulate_cohort(300, seed=2, germline=RealGenotypeSource(workdir=tmp_path))
    known = {(a.gene, a.protein_change): (a.chrom, a.pos, a.ref, a.alt) for a in load_hotspots().alleles}
    tv = sim.tables["tumour_variants"]
    placed = tv[tv["pos"].notna()]
    assert len(placed) > 20
    for row in placed.itertuples():
        assert known[(row.gene, row.protein_change)] == (row.chrom, row.pos, row.ref, row.alt)
    germ = sim.truth_tables["germline"]
    brca_rows = tv[tv["variant_type"] == "loss_of_function"]
    carriers = germ.loc[germ["germline_brca_lof"], ["patient_id", "germline_brca_gene"]]
    merged = carriers.merge(brca_rows, on="patient_id")
    assert (merged["germline_brca_gene"] == merged["gene"]).all()
    pts = sim.tables["patients"]
    assert pts["sample_id"].notna().all() and sim.vcf is not None


def test_write_vcf_is_atomic_on_failure(tmp_path):
    sites = pd.DataFrame({"chrom": ["chr1"], "pos": [10], "id": ["."], "ref": ["A"], "alt": ["G"], "gene": ["X"],
                          "kind": ["anchor"]})
    geno = np.ones((1, 2, 2), dtype=np.uint8)
    out = write_germline_vcf(tmp_path / "ok.vcf.gz", ["a", "b"], sites, geno)
    assert out.exists() and (tmp_path / "ok.vcf.gz.tbi").exists()
    bad = sites.assign(chrom=["chrUn"])  # no GRCh38 length: fails before anything is in place
    with pytest.raises(KeyError):
        write_germline_vcf(tmp_path / "bad.vcf.gz", ["a", "b"], bad, geno)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.vcf.gz", "ok.vcf.gz.tbi"]


def test_phenotype_columns_map_tpmt_nudt15_to_the_worse():
    class Call:
        def __init__(self, phen, score=None):
            self.phenotype, self.activity_score, self.status, self.diplotypes = phen, score, "called", []
            self.callable = phen is not None

    class Prof:
        def __init__(self, **genes):
            self.genes = genes

    profs = [Prof(TPMT=Call("Intermediate Metabolizer"), NUDT15=Call("Poor Metabolizer"), DPYD=Call("x", "1.5"),
                  UGT1A1=Call("Poor Metabolizer"), CYP2D6=Call("Normal Metabolizer", "2.0")),
             Prof(TPMT=Call(None), NUDT15=Call("Normal Metabolizer"), DPYD=Call(None), UGT1A1=Call("Normal Metabolizer"),
                  CYP2D6=Call("Indeterminate", "n/a"))]
    df = phenotype_columns(profs)
    assert df["thiopurine_function"].tolist() == ["poor", None]
    assert df["dpyd_activity_score"][0] == 1.5 and np.isnan(df["dpyd_activity_score"][1])
    assert df["ugt1a1_poor"].tolist() == [True, False]
    assert df["cyp2d6_activity_score"][0] == 2.0 and np.isnan(df["cyp2d6_activity_score"][1])


def test_bad_options_are_usage_errors():
    with pytest.raises(UsageError):
        RealGenotypeSource(mode="clone")
    with pytest.raises(UsageError):
        RealGenotypeSource(genes=["IFNL3"])
