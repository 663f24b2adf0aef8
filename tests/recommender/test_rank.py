"""Ranking rule: expected utility, and 'avoid' / strong resistance never above an unflagged option."""

from __future__ import annotations

from genomics.pgx.actions import ACTION_COLOURS
from recommender.rank import OptionInput, RankingWeights, expected_utility, rank_options
from recommender.recommendation import (
    BiomarkerEvidence,
    ModelPrediction,
    PgxFlag,
    ResponsePrediction,
    SurvivalPrediction,
    ToxicityRisk,
)


def _model(p: float | None, tox: float = 0.0) -> ModelPrediction:
    if p is None:
        return ModelPrediction(available=False, reason="no bundle")
    return ModelPrediction(available=True, response=ResponsePrediction(probability=p),
                           toxicity=(ToxicityRisk(term="Diarrhea", probability=tox),) if tox else ())


def _flag(drug: str, action: str) -> PgxFlag:
    return PgxFlag(drug=drug, action=action, colour=ACTION_COLOURS[action])  # the one vocabulary


def test_expected_utility_formula():
    m = ModelPrediction(available=True, response=ResponsePrediction(probability=0.5),
                        survival=(SurvivalPrediction(endpoint="pfs", times=(0.0, 365.0), survival=(1.0, 0.6)),),
                        toxicity=(ToxicityRisk(term="Diarrhea", probability=0.2),
                                  ToxicityRisk(term="Anemia", probability=0.1)))
    u, terms = expected_utility(m, RankingWeights())
    assert abs(u - (0.5 + 0.6 - 0.5 * 0.3)) < 1e-9
    assert set(terms) == {"response", "survival_pfs_365d", "severe_toxicity"}
    assert expected_utility(ModelPrediction(available=False))[0] is None


def test_avoid_option_is_never_ranked_above_an_unflagged_one():
    opts = [OptionInput("A", ("tamoxifen",), _model(0.9), pgx=(_flag("tamoxifen", "avoid"),)),
            OptionInput("B", ("letrozole",), _model(0.2), pgx=(_flag("letrozole", "no_guidance"),))]
    ranked, rule = rank_options(opts)
    assert [o.regimen for o in ranked] == ["B", "A"]
    a = ranked[1]
    assert a.model_rank == 1 and a.guidance_action == "avoid"
    kinds = [d.kind for d in a.disagreements]
    assert "avoid_ranked_first_by_model" in kinds
    msg = next(d.message for d in a.disagreements if d.kind == "avoid_ranked_first_by_model")
    assert "The model ranks first A, which contains tamoxifen" in msg and "avoid" in msg
    assert "never ranked above" in rule


def test_override_keeps_model_order_and_says_so():
    opts = [OptionInput("A", ("tamoxifen",), _model(0.9), pgx=(_flag("tamoxifen", "avoid"),)),
            OptionInput("B", ("letrozole",), _model(0.2))]
    ranked, rule = rank_options(opts, allow_avoid_first=True)
    assert [o.regimen for o in ranked] == ["A", "B"]
    assert any(d.kind == "avoid_override" for d in ranked[0].disagreements)
    assert "overridden" in rule


def test_strong_resistance_marker_demotes_the_option():
    ev = BiomarkerEvidence(finding="KRAS p.G12D", gene="KRAS", alteration="mutation", direction="resistance",
                           evidence_level="R1", level_for_patient="R1", matched_in_patient_cancer_type=True,
                           drugs_in_option=("panitumumab",))
    opts = [OptionInput("FOLFOX+panitumumab", ("fluorouracil", "panitumumab"), _model(0.8), biomarkers=(ev,)),
            OptionInput("FOLFOX", ("fluorouracil",), _model(0.4))]
    ranked, _ = rank_options(opts)
    assert ranked[0].regimen == "FOLFOX"
    assert any(d.kind == "resistance_ranked_first" for d in ranked[1].disagreements)


def test_without_model_numbers_order_is_kept_and_avoid_goes_last():
    opts = [OptionInput("A", ("tamoxifen",), _model(None), pgx=(_flag("tamoxifen", "avoid"),)),
            OptionInput("B", ("letrozole",), _model(None)),
            OptionInput("C", ("anastrozole",), _model(None))]
    ranked, _ = rank_options(opts)
    assert [o.regimen for o in ranked] == ["B", "C", "A"]
    assert all(o.model_rank is None and o.model.utility is None for o in ranked)
    assert "no model numbers" in ranked[0].rank_reason


def test_toxicity_lowers_utility_and_order():
    opts = [OptionInput("toxic", ("fluorouracil",), _model(0.5, tox=0.6)),
            OptionInput("mild", ("capecitabine",), _model(0.45))]
    ranked, _ = rank_options(opts)
    assert ranked[0].regimen == "mild"


def test_dose_adjustment_on_first_option_is_stated():
    opts = [OptionInput("FOLFOX", ("fluorouracil",), _model(0.5), pgx=(_flag("fluorouracil", "adjust_dose"),))]
    ranked, _ = rank_options(opts)
    assert [d.kind for d in ranked[0].disagreements] == ["dose_guidance_ranked_first"]


def test_best_response_despite_resistance_is_stated():
    ev = BiomarkerEvidence(finding="KRAS p.G12D", gene="KRAS", alteration="mutation", direction="resistance",
                           evidence_level="R1", level_for_patient="R1", matched_in_patient_cancer_type=True,
                           drugs_in_option=("panitumumab",))
    opts = [OptionInput("FOLFOX", ("fluorouracil",), _model(0.4)),
            OptionInput("FOLFOX+panitumumab", ("fluorouracil", "panitumumab"), _model(0.5, tox=0.5), biomarkers=(ev,))]
    ranked, _ = rank_options(opts)
    pani = next(o for o in ranked if o.regimen == "FOLFOX+panitumumab")
    assert pani.model_rank == 2
    d = next(d for d in pani.disagreements if d.kind == "resistance_but_best_response")
    assert "highest response probability (50%)" in d.message and "KRAS p.G12D" in d.message


# ------------------------------------------------------------------------------------ issue 20


def _check(drug: str, status: str):
    from recommender.recommendation import EligibilityCheck

    return EligibilityCheck(drug=drug, status=status, requirement_id="R", requirement="RAS wild type",
                            test="test KRAS and NRAS", reason="no tumour data")


def test_not_established_option_is_never_first_while_an_eligible_one_exists():
    ranked, rule = rank_options([
        OptionInput("FOLFOX+panitumumab", ("panitumumab",), _model(0.9), eligibility=(_check("panitumumab",
                                                                                              "not_established"),)),
        OptionInput("FOLFOX", ("oxaliplatin",), _model(0.2)),
    ])
    assert [o.regimen for o in ranked] == ["FOLFOX", "FOLFOX+panitumumab"]
    assert ranked[1].model_rank == 1 and ranked[1].eligibility == "not_established"
    assert "eligible option" in rule
    assert any(d.kind == "eligibility_not_established" for d in ranked[1].disagreements)


def test_not_established_still_ranks_above_contraindicated_and_avoid():
    ranked, _ = rank_options([
        OptionInput("A", ("cetuximab",), _model(0.9), eligibility=(_check("cetuximab", "contraindicated"),)),
        OptionInput("B", ("panitumumab",), _model(0.1), eligibility=(_check("panitumumab", "not_established"),)),
        OptionInput("C", ("tamoxifen",), _model(0.8), pgx=(_flag("tamoxifen", "avoid"),)),
    ])
    assert ranked[0].regimen == "B"
    assert ranked[-1].guidance_action == "avoid" and {o.regimen for o in ranked[1:]} == {"A", "C"}
    assert next(o for o in ranked if o.regimen == "A").guidance_action == "avoid"  # contraindicated -> avoid


def test_regimen_action_is_the_most_severe_of_its_drugs_and_gap_is_not_green():
    gap = PgxFlag(drug="fluorouracil", action="not_assessed", colour="amber", missing_genes=("DPYD",),
                  gene_states={"DPYD": "not genotyped"})
    ranked, _ = rank_options([OptionInput("FOLFIRI", ("fluorouracil", "irinotecan"), _model(0.5),
                                          pgx=(gap, _flag("irinotecan", "standard")))])
    o = ranked[0]
    assert o.guidance_action == "not_assessed" and o.guidance_colour == "amber"
    assert o.missing_genes == ("DPYD",) and o.guidance_label == "not assessed: DPYD not genotyped (fluorouracil)"
