"""The shipped PharmCAT allele definitions load completely, with their exemptions."""

from __future__ import annotations

import hashlib

import pytest

from genomics.errors import UsageError
from genomics.pgx.definitions import (
    CALLABLE_GENES,
    DEFINITION_DIR,
    definitions_version,
    gene_regions,
    load_definition,
    load_definitions,
)


def test_all_genes_load_with_one_reference_allele():
    defs = load_definitions()
    assert set(defs) == set(CALLABLE_GENES)
    for gene, d in defs.items():
        refs = [a for a in d.alleles if a.reference]
        assert len(refs) == 1, gene
        assert d.alleles[0].reference, gene  # PharmCAT: the first row is the reference
        assert all(len(a.alleles) == len(d.loci) for a in d.alleles)
        assert d.genome_build.startswith("GRCh38")
        assert d.version == "2025-11-05-00-25"
        assert all(lo.chrom == d.chrom for lo in d.loci)


def test_definitions_version():
    assert definitions_version() == "2025-11-05-00-25"


def test_reference_alleles():
    assert load_definition("CYP2C19").reference_allele.name == "*38"
    assert load_definition("DPYD").reference_allele.name == "Reference"
    assert load_definition("G6PD").reference_allele.name == "B (reference)"


def test_exemptions_are_applied_as_data():
    assert "Mediterranean Haplotype" in load_definition("G6PD").ignored_alleles
    assert len(load_definition("G6PD").ignored_positions) == 2
    nat2 = load_definition("NAT2")
    assert nat2.required_positions and len(nat2.unphased_priorities) > 20
    assert any(pick == "*1/*6" for _, pick in nat2.unphased_priorities)
    cyp2c9 = load_definition("CYP2C9")
    assert [lo.rsid for lo in cyp2c9.extra_positions] == ["rs12777823"]
    assert "*3" in load_definition("CYP2C19").amp_tier1_alleles


def test_cpic_notation_of_repeats():
    ugt = load_definition("UGT1A1")
    locus = next(lo for lo in ugt.loci if lo.rsid == "rs3064744")
    assert locus.ref == "CAT"
    assert locus.vcf_to_cpic("CATAT") == "TA(8)"
    assert locus.vcf_to_cpic("C") == "TA(6)"
    assert ugt.allele("*28").alleles[locus.index] == "CATAT"


def test_unknown_gene_is_a_usage_error():
    with pytest.raises(UsageError) as err:
        load_definition("NOPE1")
    assert "choose among" in err.value.one_line()


def test_regions_cover_every_gene():
    regions = gene_regions()
    for gene in CALLABLE_GENES:
        chrom, start, end = regions[gene]
        d = load_definition(gene)
        assert chrom == d.chrom
        assert start <= min(d.positions) and max(d.positions) <= end, gene


def test_shipped_files_are_unmodified_copies(shared_data):
    src = shared_data / "pgx" / "pharmcat" / "main-5431bf1"
    pairs = [(DEFINITION_DIR / "alleles" / p.name, p) for p in (src / "definition" / "alleles").glob("*.json")]
    pairs += [(DEFINITION_DIR / n, src / "repo-root" / n) for n in ("pharmcat_positions.vcf", "pharmcat_regions.bed")]
    assert len(pairs) == 23
    for shipped, original in pairs:
        assert hashlib.sha256(shipped.read_bytes()).digest() == hashlib.sha256(original.read_bytes()).digest(), shipped


def test_positions_vcf_lists_every_defining_position():
    lines = (DEFINITION_DIR / "pharmcat_positions.vcf").read_text().splitlines()
    listed = {(c, int(p)) for c, p, *_ in (ln.split("\t") for ln in lines if not ln.startswith("#"))}
    for gene in CALLABLE_GENES:
        d = load_definition(gene)
        missing = [lo.position for lo in d.loci if (lo.chrom, lo.position) not in listed]
        # the positions file (2023) predates a few newer definitions; most must be there
        assert len(missing) <= max(3, len(d.loci) // 10), (gene, missing[:5])
