"""Phenoconversion by co-medication (strong inhibitor -> poor; moderate -> one step / x0.5)."""

from __future__ import annotations

import pytest

from recommender.features import activity_to_phenotype, phenoconvert, phenotype_code


def test_strong_cyp2d6_inhibitor_makes_a_normal_metaboliser_poor():
    r = phenoconvert("CYP2D6", phenotype="Normal Metabolizer", activity_score=2.0, medications=["Paroxetine"])
    assert r.functional_phenotype == "Poor Metabolizer"
    assert r.functional_activity_score == 0.0
    assert r.genotype_phenotype == "Normal Metabolizer"
    assert r.inhibitors == {"paroxetine": "strong"} and r.converted
    assert "strong CYP2D6 inhibitor" in r.rule


def test_moderate_cyp2d6_inhibitor_halves_the_activity_score():
    r = phenoconvert("CYP2D6", activity_score=2.0, medications=["duloxetine"])
    assert r.functional_activity_score == 1.0
    assert r.functional_phenotype == "Intermediate Metabolizer"
    # strongest inhibitor wins, no further multiplication
    r2 = phenoconvert("CYP2D6", activity_score=2.0, medications=["duloxetine", "bupropion"])
    assert r2.functional_activity_score == 0.0


def test_cyp2c19_strong_to_poor_moderate_one_step():
    assert phenoconvert("CYP2C19", phenotype="Normal Metabolizer",
                        medications=["fluvoxamine"]).functional_phenotype == "Poor Metabolizer"
    assert phenoconvert("CYP2C19", phenotype="Ultrarapid Metabolizer",
                        medications=["felbamate"]).functional_phenotype == "Rapid Metabolizer"
    assert phenoconvert("CYP2C19", phenotype="Poor Metabolizer",
                        medications=["felbamate"]).functional_phenotype == "Poor Metabolizer"


@pytest.mark.parametrize("meds", [[], ["rifampin"], ["metformin"]])
def test_no_inhibitor_or_only_an_inducer_changes_nothing(meds):
    r = phenoconvert("CYP2C19", phenotype="Normal Metabolizer", medications=meds)
    assert r.functional_phenotype == "Normal Metabolizer" and not r.converted


def test_unknown_genotype_stays_unknown():
    r = phenoconvert("CYP2D6", medications=["paroxetine"])
    assert r.functional_phenotype is None and r.functional_activity_score is None


def test_genes_without_phenoconversion_are_unchanged():
    r = phenoconvert("DPYD", activity_score=1.0, medications=["paroxetine"])
    assert r.functional_activity_score == 1.0 and r.inhibitors == {}


def test_phenotype_codes_and_activity_thresholds():
    assert phenotype_code("Poor Metabolizer") == 0
    assert phenotype_code("Likely Intermediate Metabolizer") == 1
    assert phenotype_code("Normal Function") == 2
    assert phenotype_code("Rapid Metabolizer") == 3
    assert phenotype_code("Ultrarapid Metabolizer") == 4
    assert phenotype_code("Decreased Function") == 1
    assert phenotype_code("Indeterminate") is None and phenotype_code(None) is None
    assert activity_to_phenotype("CYP2D6", 1.25) == "Normal Metabolizer"
    assert activity_to_phenotype("CYP2D6", 1.0) == "Intermediate Metabolizer"
    assert activity_to_phenotype("CYP2D6", 3.0) == "Ultrarapid Metabolizer"
    assert activity_to_phenotype("DPYD", 1.0) == "Intermediate Metabolizer"
    assert activity_to_phenotype("DPYD", 0.5) == "Poor Metabolizer"
