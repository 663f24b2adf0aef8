"""Phenotypes and activity scores from the bundled CPIC/DPWG tables, against documented examples.

Expected values are CPIC's published assignments (CPIC allele function / diplotype-phenotype tables, as
shipped by PharmCAT): e.g. CYP2C19 *2/*2 Poor Metabolizer and *1/*17 Rapid (CPIC clopidogrel 2022, PMID
35034351), CYP2C9 *1/*3 activity score 1.0 (CPIC NSAIDs 2020), DPYD c.1905+1G>A heterozygote AS 1.0
(CPIC fluoropyrimidines 2017), CYP2D6 *4/*4 AS 0 (CPIC), TPMT *3A/*3A Poor (CPIC thiopurines 2018),
G6PD hemizygous deficient male (CPIC G6PD 2022).
"""

from __future__ import annotations

import pytest

from genomics.pgx import knowledge_base as kbmod
from genomics.pgx.phenotypes import (
    PhenotypeCall,
    allele_activity_value,
    allele_function,
    assign_phenotype,
    canonical_gene,
    phenotype_from_outside_call,
)


@pytest.fixture(autouse=True)
def _bundled_kb(monkeypatch):
    """Use the bundled tables whatever the developer imported into their own data directory."""
    monkeypatch.setenv(kbmod.ENV_KB_DIR, "bundled")


@pytest.mark.parametrize(
    ("gene", "a1", "a2", "phenotype", "score", "key"),
    [
        ("CYP2C19", "*2", "*2", "Poor Metabolizer", None, "Poor Metabolizer"),
        ("CYP2C19", "*1", "*17", "Rapid Metabolizer", None, "Rapid Metabolizer"),
        ("CYP2C19", "*17", "*17", "Ultrarapid Metabolizer", None, "Ultrarapid Metabolizer"),
        ("CYP2C19", "*1", "*2", "Intermediate Metabolizer", None, "Intermediate Metabolizer"),
        ("CYP2C9", "*1", "*3", "Intermediate Metabolizer", "1.0", "1.0"),
        ("CYP2C9", "*3", "*3", "Poor Metabolizer", "0.0", "0.0"),
        ("DPYD", "Reference", "c.1905+1G>A (*2A)", "Intermediate Metabolizer", "1.0", "1.0"),
        ("DPYD", "Reference", "c.2846A>T", "Intermediate Metabolizer", "1.5", "1.5"),
        ("DPYD", "c.1905+1G>A (*2A)", "c.1905+1G>A (*2A)", "Poor Metabolizer", "0.0", "0.0"),
        ("CYP2D6", "*4", "*4", "Poor Metabolizer", "0.0", "0.0"),
        ("CYP2D6", "*1", "*1", "Normal Metabolizer", "2.0", "2.0"),
        ("CYP2D6", "*1", "*1x2", "Ultrarapid Metabolizer", "3.0", "3.0"),
        ("CYP2D6", "*1", "*41", "Normal Metabolizer", "1.25", "1.25"),
        ("TPMT", "*3A", "*3A", "Poor Metabolizer", None, "Poor Metabolizer"),
        ("TPMT", "*1", "*3A", "Intermediate Metabolizer", None, "Intermediate Metabolizer"),
        ("NUDT15", "*1", "*3", "Intermediate Metabolizer", None, "Intermediate Metabolizer"),
        ("SLCO1B1", "*5", "*5", "Poor Function", None, "Poor Function"),
        ("CYP3A5", "*3", "*3", "Poor Metabolizer", None, "Poor Metabolizer"),
        ("UGT1A1", "*28", "*28", "Poor Metabolizer", None, "Poor Metabolizer"),
        ("RYR1", "Reference", "c.103T>C", "Malignant Hyperthermia Susceptibility", None,
         "Malignant Hyperthermia Susceptibility"),
    ],
)
def test_cpic_documented_examples(gene, a1, a2, phenotype, score, key):
    call = assign_phenotype(gene, a1, a2)
    assert isinstance(call, PhenotypeCall)
    assert call.phenotype == phenotype
    assert call.activity_score == score
    assert call.lookup_key == key
    assert call.reason is None
    assert call.source == "CPIC"
    assert call.source_version  # every result is stamped with its table version


def test_order_of_alleles_does_not_matter():
    assert assign_phenotype("CYP2C19", "*17", "*1").phenotype == "Rapid Metabolizer"
    assert assign_phenotype("CYP2C19", "*17", "*1").diplotype == "*17/*1"


def test_table_versions_are_stamped():
    assert assign_phenotype("CYP2C19", "*1", "*1").source_version == "2025-11-05-00-25"
    assert assign_phenotype("CYP2D6", "*1", "*1").source_version == "2024-08-27-21-12"  # v2.15.4 table
    assert assign_phenotype("RYR1", "Reference", "Reference").source_version == "2023-12-05-00-25"


def test_g6pd_male_hemizygous_deficient():
    call = assign_phenotype("G6PD", "A- 202A_376G", None, sex="male")
    assert call.phenotype == "Deficient"
    assert call.lookup_key == "Deficient"
    assert call.diplotype == "A- 202A_376G"
    assert call.function1 == "Class III (Deficient)"
    assert call.function2 is None
    assert "PyPGx" in call.source_version


def test_g6pd_male_normal_and_female_heterozygote():
    assert assign_phenotype("G6PD", "B (reference)", None).phenotype == "Normal"
    het = assign_phenotype("G6PD", "B (reference)", "A- 202A_376G", sex="female")
    assert het.phenotype == "Variable"


def test_g6pd_male_given_two_different_alleles_is_indeterminate():
    call = assign_phenotype("G6PD", "B (reference)", "A- 202A_376G", sex="male")
    assert call.phenotype == "Indeterminate"
    assert call.reason == "sex_conflict"
    assert call.lookup_key is None


def test_unknown_allele_is_indeterminate_not_an_exception():
    call = assign_phenotype("CYP2C19", "*1", "*999")
    assert call.phenotype == "Indeterminate"
    assert call.reason == "unknown_allele"
    assert "*999" in call.detail
    assert call.lookup_key is None


def test_gene_without_table_is_indeterminate():
    call = assign_phenotype("CYP4F2", "*1", "*3")
    assert call.reason == "no_phenotype_table"
    assert call.phenotype == "Indeterminate"


def test_mt_rnr1_single_haplotype_and_gene_alias():
    call = assign_phenotype("MT_RNR1", "m.1555A>G", None)
    assert call.gene == "MT-RNR1"
    assert call.lookup_key == "increased risk of aminoglycoside-induced hearing loss"
    assert canonical_gene("hla_b") == "HLA-B"


def test_dpwg_tables_use_their_own_lookup_keys():
    assert assign_phenotype("CYP2C19", "*2", "*2", source="DPWG").lookup_key == "Poor Metabolizer"
    assert assign_phenotype("DPYD", "Reference", "Reference", source="DPWG").lookup_key == "2.0 (Normal Metabolizer)"
    assert assign_phenotype("CYP2D6", "*1", "*4", source="DPWG").lookup_key == "1.0"


@pytest.mark.parametrize(
    ("gene", "allele", "function"),
    [
        ("DPYD", "c.1905+1G>A (*2A)", "No function"),
        ("DPYD", "c.2846A>T", "Decreased function"),
        ("DPYD", "Reference", "Normal function"),
        ("CYP2C9", "*3", "No function"),  # from namedAlleles, not the 'haplotypes' activity map
        ("CYP2C19", "*17", "Increased function"),
        ("RYR1", "c.103T>C", "Malignant Hyperthermia associated"),
        ("G6PD", "A- 202A_376G", "Class III (Deficient)"),
    ],
)
def test_allele_function(gene, allele, function):
    assert allele_function(gene, allele) == function


def test_allele_function_unknown_is_none():
    assert allele_function("DPYD", "c.0000A>Z") is None
    assert allele_function("CYP4F2", "*3") is None


def test_allele_activity_value():
    assert allele_activity_value("CYP2D6", "*10") == "0.25"
    assert allele_activity_value("DPYD", "c.2846A>T") == "0.5"
    assert allele_activity_value("CYP2C19", "*2") is None


def test_outside_call_activity_score_and_phenotype():
    by_score = phenotype_from_outside_call("CYP2D6", activity_score="1")
    assert (by_score.lookup_key, by_score.phenotype) == ("1.0", "Intermediate Metabolizer")
    by_pheno = phenotype_from_outside_call("CYP2D6", phenotype="Poor Metabolizer")
    assert by_pheno.lookup_key == "0.0"
    # normal metabolizer spans several scores: no single key, say so
    nm = phenotype_from_outside_call("CYP2D6", phenotype="Normal Metabolizer")
    assert nm.lookup_key is None and nm.reason == "phenotype_only_for_activity_score_gene"
    assert phenotype_from_outside_call("TPMT", phenotype="Poor Metabolizer").lookup_key == "Poor Metabolizer"
    assert phenotype_from_outside_call("CYP2D6", diplotype="*1/*1x2").activity_score == "3.0"
