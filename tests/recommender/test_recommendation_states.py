"""Issue 20 at the level of the Recommendation result: gaps are never green, eligibility is gated.

Every view (JSON, HTML, PDF, HTTP, app) reads these fields, so the states are tested here once.
"""

from __future__ import annotations

import json

import pytest

from recommender.recommendation import Recommendation
from recommender.requests import RankingOptions
from recommender.scoring import ScoringContext, score_patient
from tests.recommender._scoring_support import COAD, StubBundle

# the model alone prefers the anti-EGFR option (the situation of the bug report)
_MODEL_PREFERS_PANI = {"FOLFOX+panitumumab": 0.6, "FOLFOX": 0.4, "FOLFIRI": 0.35, "CAPOX": 0.3}


def _form_patient(**extra) -> dict:
    """A form-entered colorectal patient: no germline VCF, no tumour data."""
    data = json.loads(COAD.read_text())
    data.pop("germline")
    data.update(extra)
    return data


@pytest.fixture(scope="module")
def form_rec() -> Recommendation:
    return score_patient(_form_patient(), context=ScoringContext(StubBundle(_MODEL_PREFERS_PANI)))


@pytest.fixture(scope="module")
def demo_rec() -> Recommendation:
    return score_patient(COAD, context=ScoringContext(StubBundle(_MODEL_PREFERS_PANI)))


# ------------------------------------------------------------------------------------ PGx states
def test_no_germline_vcf_gives_not_assessed_and_missing_genes(form_rec):
    fu = form_rec.option("FOLFOX").pgx[0]
    assert fu.drug == "fluorouracil"
    assert (fu.action, fu.colour, fu.state) == ("not_assessed", "amber", "not_assessed")
    assert fu.missing_genes == ("DPYD",) and fu.gene_states == {"DPYD": "not genotyped"}
    assert fu.label == "not assessed: DPYD not genotyped"
    assert fu.testing_advice and "DPYD" in fu.testing_advice[0].advice
    assert fu.messages[0].startswith("no germline VCF given")
    assert set(form_rec.missing_genes) == {"DPYD", "UGT1A1"}
    assert all(o.guidance_colour != "green" for o in form_rec.options)


def test_three_states_kept_apart_in_the_result(form_rec):
    flags = {f.drug: f for o in form_rec.options for f in o.pgx}
    assert flags["fluorouracil"].state == "not_assessed"        # guideline exists, genotype missing
    assert flags["oxaliplatin"].state == "no_guideline"         # no guideline for this drug
    assert flags["oxaliplatin"].label == "no guideline for this drug" and not flags["oxaliplatin"].missing_genes
    with_vcf = score_patient(COAD, ["FOLFOX"], context=ScoringContext(False)).option("FOLFOX").pgx[0]
    assert with_vcf.state == "guideline" and with_vcf.action == "standard"  # guideline applies and says X


def test_folfiri_not_green_when_fluorouracil_unassessed(form_rec):
    folfiri = form_rec.option("FOLFIRI")
    assert folfiri.guidance_action == "not_assessed" and folfiri.guidance_colour == "amber"
    assert folfiri.missing_genes == ("DPYD", "UGT1A1")
    assert "DPYD not genotyped (fluorouracil)" in folfiri.guidance_label
    # the same with irinotecan assessed and green: the regimen is still the most severe of its drugs
    from recommender.knowledge_overlay import option_guidance
    from recommender.recommendation import PgxFlag

    green = PgxFlag(drug="irinotecan", action="standard", colour="green")
    action, label, missing = option_guidance((folfiri.pgx[0], green))
    assert action == "not_assessed" and missing == ("DPYD",)


def test_demo_patient_dpyd_is_assessed(demo_rec):
    fu = demo_rec.option("FOLFOX").pgx[0]
    assert fu.action == "standard" and not fu.missing_genes  # DPYD is in the demo VCF now
    assert fu.label == "standard dosing (DPYD Normal Metabolizer)"  # what the guideline rests on
    assert any(g.gene == "DPYD" and g.status == "called" for g in demo_rec.pharmacogenes)


def test_no_duplicated_guideline_text_in_a_flag(demo_rec):
    for o in demo_rec.options:
        for f in o.pgx:
            texts = [(q.source, q.text_html) for q in f.recommendations]
            assert len(texts) == len(set(texts)), f.drug


# ------------------------------------------------------------------------------------ eligibility
def test_panitumumab_not_first_without_tumour_data(form_rec):
    pani = form_rec.option("FOLFOX+panitumumab")
    assert pani.model_rank == 1 and pani.rank > 1
    assert form_rec.top.regimen != "FOLFOX+panitumumab" and form_rec.top.eligibility == "eligible"
    assert pani.eligibility == "not_established" and pani.eligibility_colour == "amber"
    check = pani.eligibility_checks[0]
    assert check.drug == "panitumumab" and check.requirement_id == "ANTI_EGFR_RAS_WILD_TYPE_CRC"
    assert "KRAS" in check.test and "NRAS" in check.test and check.citations
    assert pani.eligibility_label.startswith("eligibility not established for panitumumab: test KRAS")
    assert "not established" in pani.rank_reason
    why = [d for d in form_rec.disagreements if d.kind == "eligibility_not_established"]
    assert why and why[0].regimen == "FOLFOX+panitumumab" and "no tumour data" in why[0].message


def test_ras_mutant_tumour_contraindicates_panitumumab():
    rec = score_patient(_form_patient(tumour_variants=[{"gene": "KRAS", "protein_change": "G12D"}]),
                        context=ScoringContext(StubBundle(_MODEL_PREFERS_PANI)))
    pani = rec.option("FOLFOX+panitumumab")
    assert pani.eligibility == "contraindicated" and pani.guidance_action == "avoid"
    assert pani.rank == len(rec.options) and pani.eligibility_label.startswith("avoid: panitumumab")


def test_record_listing_only_kras_does_not_establish_ras_wild_type():
    # KRAS listed (a silent change), NRAS never mentioned: NRAS not covered -> not established
    rec = score_patient(_form_patient(tumour_variants=[{"gene": "KRAS", "protein_change": "G12G",
                                                        "variant_type": "silent"}]),
                        context=ScoringContext(StubBundle(_MODEL_PREFERS_PANI)))
    check = rec.option("FOLFOX+panitumumab").eligibility_checks[0]
    assert check.status == "not_established" and "NRAS not covered" in check.reason


def test_options_without_restricted_drugs_are_eligible(form_rec):
    for name in ("FOLFOX", "FOLFIRI", "CAPOX"):
        o = form_rec.option(name)
        assert o.eligibility == "eligible" and o.eligibility_checks == () and o.eligibility_label == ""


def test_override_lifts_the_gate_and_says_so():
    rec = score_patient(_form_patient(), context=ScoringContext(StubBundle(_MODEL_PREFERS_PANI)),
                        ranking=RankingOptions(allow_avoid_first=True))
    assert rec.top.regimen == "FOLFOX+panitumumab"
    assert "kept by model order on request" in rec.top.rank_reason


def test_states_survive_json_round_trip(form_rec):
    back = Recommendation.from_json(form_rec.to_json())
    assert back == form_rec
    assert back.option("FOLFOX+panitumumab").eligibility == "not_established"
    assert back.option("FOLFOX").pgx[0].testing_advice == form_rec.option("FOLFOX").pgx[0].testing_advice
