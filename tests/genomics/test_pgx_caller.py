"""VCF -> PgxProfile, end to end, on VCFs generated from the allele definitions."""

from __future__ import annotations

import json
import warnings

import pytest

from genomics.errors import DegradedResultWarning, InputFileError, RecommenderError, UsageError
from genomics.pgx import PgxProfile, call_pgx, call_pgx_cohort
from genomics.pgx.caller import compiled_gene
from genomics.vcf import GRCH38_LENGTHS
from recommender.cli import main
from tests.genomics.test_pgx_matcher import haplotype

pytestmark = pytest.mark.filterwarnings("ignore::genomics.errors.DegradedResultWarning")


def _contig_lines() -> str:
    return "".join(f"##contig=<ID=chr{c},length={n}>\n" for c, n in GRCH38_LENGTHS.items() if not c.startswith("chrM"))


def write_vcf(path, samples: list[str], records: list[tuple[str, int, str, list[str], list[str]]],
              extra_format: str = "") -> str:
    """``records``: (chrom, pos, ref, alts, [GT per sample]) -> a small VCF file."""
    lines = ["##fileformat=VCFv4.2\n", _contig_lines(),
             '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n',
             '##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">\n',
             "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples) + "\n"]
    for chrom, pos, ref, alts, gts in sorted(records, key=lambda r: (_chrom_key(r[0]), r[1], r[2])):
        fmt = "GT:PS" if any(":" in g for g in gts) else "GT"
        lines.append(f"{chrom}\t{pos}\t.\t{ref}\t{','.join(alts) or '.'}\t.\tPASS\t.\t{fmt}\t" + "\t".join(gts) + "\n")
    path.write_text("".join(lines))
    return str(path)


def _chrom_key(c: str):
    c = c.removeprefix("chr")
    return (0, int(c)) if c.isdigit() else (1, c)


def gene_records(gene: str, diplotypes: list[tuple[str, str | None]], phased: list[bool], drop=()) -> list:
    """One record per defining position; one sample per diplotype (``allele2=None``: haploid)."""
    cg = compiled_gene(gene)
    haps = [(haplotype(cg, a), haplotype(cg, b) if b else None) for a, b in diplotypes]
    records = []
    for locus in cg.loci:
        if locus.position in drop:
            continue
        alleles = [locus.ref]
        gts = []
        for (h1, h2), ph in zip(haps, phased):
            idx = []
            for h in (h1, h2):
                if h is None:
                    continue
                a = h[locus.position]
                if a not in alleles:
                    alleles.append(a)
                idx.append(str(alleles.index(a)))
            gts.append(("|" if ph else "/").join(idx))
        records.append((locus.chrom, locus.position, locus.ref, alleles[1:], gts))
    return records


CASES = [
    ("CYP2C19", ("*1", "*2"), ("*2", "*17")),
    ("CYP2C9", ("*1", "*3"), ("*2", "*3")),
    ("CYP3A5", ("*1", "*3"), ("*3", "*3")),
    ("TPMT", ("*1", "*3A"), ("*1", "*3C")),
    ("NUDT15", ("*1", "*3"), ("*1", "*1")),
    ("SLCO1B1", ("*1", "*5"), ("*1", "*15")),
    ("UGT1A1", ("*1", "*28"), ("*28", "*28")),
    ("CYP2B6", ("*1", "*6"), ("*1", "*4")),
    ("DPYD", ("Reference", "c.1905+1G>A (*2A)"), ("Reference", "c.2846A>T")),
]


@pytest.fixture(scope="module")
def multi_gene_vcf(tmp_path_factory):
    records = []
    for gene, d1, d2 in CASES:
        records += gene_records(gene, [d1, d2], [True, False])
    return write_vcf(tmp_path_factory.mktemp("pgx") / "two.vcf", ["S1", "S2"], records)


@pytest.mark.parametrize("index", [0, 1])
def test_generated_vcf_is_called_as_defined(multi_gene_vcf, index):
    genes = [c[0] for c in CASES]
    profile = call_pgx(multi_gene_vcf, sample=f"S{index + 1}", genes=genes)
    for case in CASES:
        gene, expected = case[0], case[1 + index]
        call = profile.genes[gene]
        assert call.status == "called", (gene, call.reasons)
        names = sorted(expected, key=lambda n: (n != compiled_gene(gene).names[compiled_gene(gene).ref_index], n))
        got = call.diplotypes[0]
        assert {got.allele1, got.allele2} == set(names) or (got.allele1 == got.allele2 == names[0]), (gene, got)
        assert call.phenotype, gene
        assert call.n_observed == call.n_positions
        assert not call.missing_positions
    assert profile.provenance.definitions_version == "2025-11-05-00-25"
    assert profile.provenance.options["fill_missing_with_reference"] is False
    assert profile.provenance.package_version


def test_cohort_path_equals_single_sample_path(multi_gene_vcf):
    genes = [c[0] for c in CASES]
    bulk = {p.sample: p for p in call_pgx_cohort(multi_gene_vcf, genes=genes)}
    for sample in ("S1", "S2"):
        single = call_pgx(multi_gene_vcf, sample=sample, genes=genes, include_positions=False)
        for gene in genes:
            a, b = single.genes[gene], bulk[sample].genes[gene]
            assert (a.status, [d.name for d in a.diplotypes], a.phenotype) == \
                   (b.status, [d.name for d in b.diplotypes], b.phenotype), (sample, gene)


def test_multi_sample_needs_a_sample(multi_gene_vcf):
    with pytest.raises(UsageError):
        call_pgx(multi_gene_vcf, genes=["CYP2C19"])
    with pytest.raises(RecommenderError) as err:
        call_pgx(multi_gene_vcf, sample="NOPE", genes=["CYP2C19"])
    assert err.value.field == "sample"


def test_variant_only_vcf_is_incomplete_unless_filled(tmp_path):
    cg = compiled_gene("CYP2C19")
    recs = [r for r in gene_records("CYP2C19", [("*38", "*17")], [False]) if r[3] and r[4][0] != "0/0"]
    path = write_vcf(tmp_path / "v.vcf", ["P1"], recs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plain = call_pgx(path, genes=["CYP2C19"])
    call = plain.genes["CYP2C19"]
    assert call.status == "incomplete" and call.phenotype is None
    assert call.missing_positions and call.alleles_not_ruled_out
    assert any(issubclass(w.category, DegradedResultWarning) for w in caught)
    filled = call_pgx(path, genes=["CYP2C19"], fill_missing_with_reference=True)
    fcall = filled.genes["CYP2C19"]
    assert fcall.status == "called" and fcall.phenotype
    assert len(fcall.filled_positions) == len(cg.loci) - len(recs)
    assert "filled_with_reference" in fcall.reasons
    assert filled.provenance.options["fill_missing_with_reference"] is True
    assert any("filled as reference" in w for w in filled.warnings)


def test_repeat_in_split_records_as_in_1000_genomes(tmp_path):
    # 1000 Genomes writes the UGT1A1 TA repeat as separate records at one position with different REF
    p = 233760233
    recs = [("chr2", 233759924, "C", ["T"], ["0|0", "0|1", "0/0"]),
            ("chr2", p, "C", ["CAT"], ["0|1", "0|1", "0/0"]),      # TA(8): *28
            ("chr2", p, "CAT", ["C"], ["0|0", "0|0", "1/0"]),      # TA(6): *36
            ("chr2", p, "C", ["CATAT"], ["0|0", "0|0", "0/1"]),    # TA(9): *37
            ("chr2", 233760498, "G", ["A"], ["0|0", "0|0", "0/0"]),
            ("chr2", 233760973, "C", ["A"], ["0|0", "0|0", "0/0"])]
    path = write_vcf(tmp_path / "ugt.vcf", ["A", "B", "C"], recs)
    got = {pr.sample: pr.genes["UGT1A1"] for pr in call_pgx_cohort(path, genes=["UGT1A1"])}
    assert got["A"].diplotypes[0].name == "*1/*28"
    assert got["B"].diplotypes[0].name == "*1/*80+*28"
    assert got["C"].diplotypes[0].name == "*36/*37"
    assert all(c.status == "called" for c in got.values())


def test_multiallelic_repeat_record(tmp_path):
    recs = gene_records("UGT1A1", [("*36", "*37")], [False])
    assert any(len(r[3]) == 2 for r in recs)
    path = write_vcf(tmp_path / "m.vcf", ["A"], recs)
    call = call_pgx(path, genes=["UGT1A1"]).genes["UGT1A1"]
    assert call.diplotypes[0].name == "*36/*37"
    row = next(p for p in call.positions if p.position == 233760233)
    assert row.cpic_genotype == "TA(6)/TA(9)"


def test_reference_mismatch_is_reported_not_used(tmp_path):
    recs = gene_records("CYP3A5", [("*1", "*3")], [True])
    chrom, pos, ref, _alts, gts = recs[0]
    bad = "A" if ref != "A" else "C"
    recs[0] = (chrom, pos, bad, [b for b in "GT" if b != bad][:1], gts)
    path = write_vcf(tmp_path / "mm.vcf", ["A"], recs)
    call = call_pgx(path, genes=["CYP3A5"]).genes["CYP3A5"]
    assert pos in [m.position for m in call.missing_positions]
    assert any("reference allele differs" in w for w in call.warnings)


def test_g6pd_male_haploid_and_female(tmp_path):
    cg = compiled_gene("G6PD")
    name = "A- 202A_376G"
    assert name in cg.names
    male = gene_records("G6PD", [(name, None)], [False])
    path = write_vcf(tmp_path / "m.vcf", ["M"], male)
    call = call_pgx(path, genes=["G6PD"]).genes["G6PD"]
    assert call.haploid and call.sex == "male" and "inferred" in call.sex_source
    assert call.diplotypes[0].allele2 is None and call.diplotypes[0].name == name
    assert call.phenotype and "Deficien" in call.phenotype
    female = write_vcf(tmp_path / "f.vcf", ["F"], gene_records("G6PD", [("B (reference)", name)], [False]))
    fcall = call_pgx(female, genes=["G6PD"]).genes["G6PD"]
    assert not fcall.haploid and fcall.sex == "female"
    given = call_pgx(female, genes=["G6PD"], sex="male").genes["G6PD"]
    assert given.status == "not_called" and "heterozygous_in_haploid" in given.reasons


def test_cyp2d6_is_labelled_snv_only(tmp_path):
    path = write_vcf(tmp_path / "d6.vcf", ["A"], gene_records("CYP2D6", [("*1", "*4")], [True]))
    call = call_pgx(path, genes=["CYP2D6"]).genes["CYP2D6"]
    assert call.diplotypes[0].name == "*1/*4"
    assert "cyp2d6_snv_indel_only" in call.reasons
    assert any("duplications" in lim for lim in call.limitations)


def test_outside_calls_are_merged_and_marked(tmp_path, multi_gene_vcf):
    tsv = tmp_path / "outside.tsv"
    tsv.write_text("gene\tdiplotype\tphenotype\tactivity_score\tsource\n"
                   "CYP2D6\t*1/*2x2\t\t\tcopy-number caller\n"
                   "HLA-B\t*57:01/*08:01\t\t\tlab\n"
                   "CYP2C19\t\tPoor Metabolizer\t\tclinical test\n")
    profile = call_pgx(multi_gene_vcf, sample="S1", genes=["CYP2C19", "CYP2C9"], outside_calls=tsv)
    d6 = profile.genes["CYP2D6"]
    assert d6.source == "outside" and d6.status == "outside_call" and d6.outside_source == "copy-number caller"
    assert d6.diplotypes[0].name == "*1/*2x2"
    assert profile.genes["HLA-B"].source == "outside"
    c19 = profile.genes["CYP2C19"]
    assert c19.source == "outside" and c19.phenotype == "Poor Metabolizer"
    assert any("replaces the call from the VCF" in w for w in profile.warnings)
    assert profile.genes["CYP2C9"].source == "vcf"


def test_profile_json_round_trip(tmp_path, multi_gene_vcf):
    profile = call_pgx(multi_gene_vcf, sample="S2", genes=["CYP2C19", "UGT1A1"])
    again = PgxProfile.from_json(profile.to_json())
    assert again == profile
    path = profile.save(tmp_path / "p.json")
    assert PgxProfile.load(path) == profile
    data = json.loads(path.read_text())
    assert data["schema_version"] == "pgx-profile/1"
    assert data["provenance"]["genome_build"] == "GRCh38"


def test_unknown_gene_and_missing_file(tmp_path, multi_gene_vcf):
    with pytest.raises(UsageError):
        call_pgx(multi_gene_vcf, sample="S1", genes=["HLA-B"])
    with pytest.raises(InputFileError):
        call_pgx(tmp_path / "nope.vcf")


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_all_samples_tsv_and_warnings(tmp_path, multi_gene_vcf, capsys):
    out, warn = tmp_path / "calls.tsv", tmp_path / "warn.txt"
    rc = main(["pgx", multi_gene_vcf, "--all-samples", "--genes", "CYP2C19", "UGT1A1", "--tsv", str(out),
               "--warnings", str(warn)])
    assert rc == 0
    rows = out.read_text().splitlines()
    assert rows[0].startswith("sample\tgene\t")
    assert len(rows) == 1 + 2 * 2
    assert "pgx: called 2/2 samples" in capsys.readouterr().err
    assert warn.exists()


def test_cli_single_sample_json_with_drug(multi_gene_vcf, capsys):
    rc = main(["pgx", multi_gene_vcf, "--sample", "S1", "--genes", "CYP2C19", "--json", "--drug", "clopidogrel"])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert data["genes"]["CYP2C19"]["diplotypes"][0]["name"] == "*1/*2"
    assert data["guidance"][0]["drug"] == "clopidogrel"


def test_cli_exit_codes(tmp_path, multi_gene_vcf, capsys):
    assert main(["pgx", multi_gene_vcf, "--genes", "CYP2C19"]) == 2  # multi-sample without --sample
    assert main(["pgx", multi_gene_vcf, "--all-samples"]) == 2  # no output chosen
    assert main(["pgx", str(tmp_path / "missing.vcf")]) == 1
    err = capsys.readouterr().err
    assert "fix:" in err and "Traceback" not in err


# ----------------------------------------------------------------------------------------- real data
@pytest.mark.needs_shared
def test_1000_genomes_cyp2c19(shared_data):
    path = shared_data / "population" / "1kgp_GRCh38" / "CYP2C19.vcf.gz"
    profiles = list(call_pgx_cohort(path, samples=["HG00096", "NA18525", "NA19238"], genes=["CYP2C19"],
                                    fill_missing_with_reference=True))
    calls = {p.sample: p.genes["CYP2C19"] for p in profiles}
    assert all(c.status == "called" for c in calls.values())
    assert calls["HG00096"].diplotypes[0].name == "*1/*2"
    assert all(c.phased for c in calls.values())


# ------------------------------------------------------------------------------- phenotype agreement
def test_phenotype_only_where_all_diplotypes_agree():
    from genomics.pgx.caller import build_gene_call
    from genomics.pgx.matcher import MatchOutcome

    agree = build_gene_call(MatchOutcome(gene="CYP2C19", status="ambiguous",
                                         diplotypes=[("*1", "*1", 70), ("*1", "*38", 70)]))
    assert agree.phenotype == "Normal Metabolizer"
    assert [d.phenotype for d in agree.diplotypes] == ["Normal Metabolizer"] * 2
    differ = build_gene_call(MatchOutcome(gene="CYP2C19", status="ambiguous",
                                          diplotypes=[("*1", "*2", 70), ("*2", "*2", 70)]))
    assert differ.phenotype is None and "ambiguous_phenotype" in differ.reasons
    assert {d.phenotype for d in differ.diplotypes} == {"Intermediate Metabolizer", "Poor Metabolizer"}
    incomplete = build_gene_call(MatchOutcome(gene="CYP2C19", status="incomplete", diplotypes=[("*1", "*1", 60)],
                                              not_ruled_out=["*2"]))
    assert incomplete.phenotype is None and incomplete.diplotypes[0].phenotype is None


# --------------------------------------------------------------------------- committed fixture files
def test_fixture_patient_with_variant_sites_only(fixtures_dir):
    vcf = fixtures_dir / "pgx" / "patient_variants.vcf"
    outside = fixtures_dir / "pgx" / "outside_calls.tsv"
    plain = call_pgx(vcf, outside_calls=outside)
    assert plain.genes["CYP2C19"].status == "incomplete"
    assert plain.genes["VKORC1"].status == "called"  # its single position is in the file
    assert plain.genes["NAT2"].status == "not_called" and plain.genes["NAT2"].reasons == ["no_data"]
    filled = call_pgx(vcf, outside_calls=outside, fill_missing_with_reference=True)
    expect = {"CYP2C19": "*2/*17", "CYP2C9": "*1/*3", "SLCO1B1": "*1/*5", "UGT1A1": "*1/*28",
              "DPYD": "Reference/c.2846A>T", "TPMT": "*1/*3A", "CYP3A5": "*3/*3"}
    for gene, name in expect.items():
        assert filled.genes[gene].diplotype == name, gene
        assert filled.genes[gene].phenotype, gene
    assert filled.genes["DPYD"].activity_score == "1.5"
    assert filled.genes["CYP2D6"].source == "outside" and filled.genes["CYP2D6"].activity_score == "3.0"
    assert {"HLA-B", "MT-RNR1"} <= set(filled.genes)


@pytest.mark.needs_shared
def test_grch37_vcf_is_refused(shared_data):
    from genomics.errors import GenomeBuildError

    path = shared_data / "population" / "1kgp_GRCh37" / "DPYD.vcf.gz"
    with pytest.raises(GenomeBuildError) as err:
        call_pgx(path, sample="HG00096", genes=["DPYD"])
    assert "GRCh37" in err.value.one_line()


def test_fill_never_invents_a_gene_the_vcf_does_not_cover(fixtures_dir):
    vcf = fixtures_dir / "pgx" / "patient_variants.vcf"
    profile = call_pgx(vcf, genes=["NAT2", "CYP2C19"], fill_missing_with_reference=True)
    nat2 = profile.genes["NAT2"]  # chr8: no record of the fixture near NAT2
    assert nat2.status == "not_called"
    assert "gene_region_not_in_vcf" in nat2.reasons and not nat2.filled_positions
    assert profile.genes["CYP2C19"].status == "called"
