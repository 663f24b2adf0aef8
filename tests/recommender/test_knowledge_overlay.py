"""Knowledge overlay: PGx guidance (verbatim) and biomarker evidence laid over each option."""

from __future__ import annotations

import warnings

import pytest

from genomics.biomarkers import match_biomarkers, read_tumour
from genomics.pgx import call_pgx, guidance_for_profile
from recommender.knowledge_overlay import (
    biomarker_evidence_for_option,
    pgx_flag,
    pgx_flags_for_option,
    phenoconversion_notes,
    worst_action,
)
from tests.recommender._scoring_support import DEMO_VCF, OUTSIDE_PM, TUMOUR_MAF


@pytest.fixture(scope="module")
def pm_guidance():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profile = call_pgx(DEMO_VCF, sample="HG00171", outside_calls=OUTSIDE_PM, include_positions=False)
    return profile, {g.drug: g for g in guidance_for_profile(profile, ["tamoxifen", "fluorouracil", "letrozole"])}


def test_avoid_flag_keeps_the_guideline_text_verbatim(pm_guidance):
    _, guidance = pm_guidance
    flag = pgx_flag(guidance["tamoxifen"])
    assert flag.action == "avoid" and flag.colour == "red"
    cpic = next(q for q in flag.recommendations if q.source == "CPIC")
    original = next(r for r in guidance["tamoxifen"].recommendations if r.source == "CPIC")
    assert cpic.text_plain == original.text_plain and cpic.text_html == original.text_html
    assert cpic.pmids and cpic.strength and cpic.version
    assert "CYP2D6" in flag.genes


def test_every_drug_gets_a_flag_even_without_guideline(pm_guidance):
    _, guidance = pm_guidance
    flags = pgx_flags_for_option(("letrozole", "oxaliplatin"), guidance)
    assert [f.drug for f in flags] == ["letrozole", "oxaliplatin"]
    assert all(f.action == "no_guidance" for f in flags)
    assert flags[1].messages  # oxaliplatin was not asked: the reason is stated


def test_no_genotype_flags_say_why():
    flags = pgx_flags_for_option(("fluorouracil", "oxaliplatin"), None, reason_if_none="no germline VCF given")
    assert flags[0].action == "not_assessed" and flags[0].messages[0] == "no germline VCF given"
    assert flags[0].missing_genes == ("DPYD",) and flags[0].colour == "amber"
    assert flags[0].label == "not assessed: DPYD not genotyped" and flags[0].state == "not_assessed"
    assert flags[0].testing_advice and "DPYD" in flags[0].testing_advice[0].advice
    assert flags[1].action == "no_guidance" and flags[1].state == "no_guideline"


def test_fluoropyrimidine_dose_guidance_from_outside_dpyd_call(pm_guidance):
    _, guidance = pm_guidance
    flag = pgx_flag(guidance["fluorouracil"])
    assert flag.action == "adjust_dose"
    assert any(q.text_plain.startswith("Reduce starting dose by 50%") for q in flag.recommendations)


def test_phenoconversion_note_for_strong_inhibitor():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # CYP2D6 *1/*1 normal; without copy number the call is provisional unless accepted (issue 12)
        profile = call_pgx(DEMO_VCF, sample="HG00171", include_positions=False,
                           accept_cyp2d6_without_copy_number=True)
    notes = phenoconversion_notes(profile, ["paroxetine"])
    assert "CYP2D6" in notes and "paroxetine" in notes["CYP2D6"] and "Poor Metabolizer" in notes["CYP2D6"]
    assert phenoconversion_notes(profile, []) == {}


def test_biomarker_resistance_is_attached_to_the_option_with_the_drug():
    report = match_biomarkers(read_tumour(TUMOUR_MAF), "COAD")
    with_pani = biomarker_evidence_for_option(("fluorouracil", "panitumumab"), report)
    without = biomarker_evidence_for_option(("fluorouracil", "oxaliplatin"), report)
    assert without == ()
    ev = with_pani[0]
    assert ev.direction == "resistance" and ev.finding == "KRAS p.G12D" and ev.drugs_in_option == ("panitumumab",)
    assert ev.level_for_patient == "R1" and ev.citations


def test_worst_action_order():
    assert worst_action(["standard", "caution", "no_guidance"]) == "caution"
    assert worst_action(["adjust_dose", "avoid"]) == "avoid"
    assert worst_action([]) == "no_guidance"
