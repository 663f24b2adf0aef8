"""Rank candidate options: by expected utility from the model numbers, with guidance outranking the model.

The rule (:data:`RANKING_RULE`, stamped on every :class:`~recommender.recommendation.Recommendation`)
------------------------------------------------------------------------------------------------------
1. Expected utility of an option from its model numbers (:func:`expected_utility`)::

       U = w_response * P(response) + w_survival * S_PFS(horizon) - w_toxicity * sum_terms P(grade >= 3)

   with defaults ``w_response = 1``, ``w_survival = 1``, ``horizon = 365`` days, ``w_toxicity = 0.5``
   (:class:`RankingWeights`). A missing part counts 0 and is named in ``utility_terms``. The *model
   order* is the order by ``U`` alone (``model_rank``).
2. Guidance tier: an option with a drug whose pharmacogenomic action is ``avoid``, or with a drug the
   tumour is resistant to at level 1/2/R1 in the patient's cancer type, is in the lower tier. **An option
   of the lower tier is never ranked above one of the upper tier**, unless the caller passes
   ``allow_avoid_first=True``; the result then says so (an ``avoid_override`` disagreement per option).
   Biomarker eligibility (:mod:`recommender.eligibility`): an option whose biomarker eligibility is not
   established comes after every eligible option (never first while one exists); a contraindicated one
   joins the lower tier.
3. Within a tier: higher ``U`` first; options without model numbers keep the caller's order, after those
   with numbers.

Where the final order differs from the model order because of step 2, the option carries a disagreement
stated plainly (:func:`recommender.knowledge_overlay.find_disagreements`).

One rule everywhere
-------------------
This module is the only ranking: ``recommender score``, ``recommender cohort score``, the app and the HTTP
service all call :func:`rank_options` (through :mod:`recommender.scoring`), and the simulated evaluation
(``benchmarks/eval_simulated.py``) measures regret and best-option hit rate on rank 1 of ``cohort score``
output, i.e. on this function's order with the guidance overlay in force. It scores the oracle with the same
formula (:func:`utility_value` on the simulator's true response probability, PFS survival at the horizon and
severe-toxicity probabilities), so regret measures estimation error, not a difference of definitions.

What the utility means: one point of ``U`` is a certain response, or a certain patient free of progression at
the horizon; each modelled severe (grade >= 3) toxicity costs ``w_toxicity`` of that, counted per CTCAE term
(a regimen with two likely severe toxicities pays twice). Pharmacogenomics enters twice: through the toxicity
models (e.g. DPYD deficit raises the predicted fluoropyrimidine toxicity, and so lowers ``U``) and through the
guidance tier (an ``avoid`` action moves the option below every option without one, whatever its ``U``).
Tumour biomarkers enter through the response and survival models and through the resistance and
eligibility steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from recommender.eligibility import eligibility_gate
from recommender.knowledge_overlay import find_disagreements, option_guidance
from recommender.recommendation import (
    BiomarkerEvidence,
    EligibilityCheck,
    ModelPrediction,
    PgxFlag,
    RankedOption,
)

__all__ = ["RANKING_RULE", "OptionInput", "RankingWeights", "expected_utility", "rank_options", "utility_value"]


@dataclass(frozen=True)
class RankingWeights:
    """Weights of the expected-utility formula (module docstring)."""

    response: float = 1.0
    survival: float = 1.0
    toxicity: float = 0.5
    horizon_days: float = 365.0
    endpoint: str = "pfs"

    def describe(self) -> str:
        return (f"U = {self.response:g} x P(response) + {self.survival:g} x S_{self.endpoint.upper()}"
                f"({self.horizon_days:g} days) - {self.toxicity:g} x sum of P(grade >= 3) over CTCAE terms")


def utility_value(p_response: Any, survival_at_horizon: Any, toxicity_sum: Any,
                  weights: RankingWeights | None = None) -> Any:
    """``U`` of :func:`expected_utility` from plain numbers or numpy arrays (all parts known).

    Used to score the simulator's oracle with exactly the ranking's formula.
    """
    weights = weights or RankingWeights()
    return (weights.response * p_response + weights.survival * survival_at_horizon
            - weights.toxicity * toxicity_sum)


RANKING_RULE = (
    "Options are ordered by expected utility from the model numbers ({formula}). An option containing a drug "
    "whose pharmacogenomic guidance is 'avoid', or a drug the tumour is resistant to (level 1/2/R1 in this "
    "cancer type), is never ranked above an option without such a flag{override}. An option with a drug "
    "indicated only with a tumour biomarker that is not established for this patient is never ranked above an "
    "eligible option (recommender.eligibility). Without model numbers, options keep the order given, flagged "
    "options last."
)


@dataclass(frozen=True)
class OptionInput:
    """What the ranker needs about one option (built by :mod:`recommender.scoring`)."""

    regimen: str
    drugs: tuple[str, ...]
    model: ModelPrediction
    pgx: tuple[PgxFlag, ...] = ()
    biomarkers: tuple[BiomarkerEvidence, ...] = ()
    warnings: tuple[str, ...] = ()
    eligibility: tuple[EligibilityCheck, ...] = ()


def expected_utility(model: ModelPrediction, weights: RankingWeights | None = None) -> tuple[float | None, dict]:
    """``(U, terms)`` of one option; ``(None, {})`` when the model gave no numbers."""
    weights = weights or RankingWeights()
    if not model.available:
        return None, {}
    terms: dict[str, float] = {}
    if model.response is not None:
        terms["response"] = weights.response * model.response.probability
    surv = next((s for s in model.survival if s.endpoint == weights.endpoint), None)
    if surv is not None:
        s = surv.survival_at(weights.horizon_days)
        if s is not None:
            terms[f"survival_{weights.endpoint}_{weights.horizon_days:g}d"] = weights.survival * s
    if model.toxicity:
        terms["severe_toxicity"] = -weights.toxicity * sum(t.probability for t in model.toxicity)
    if not terms:
        return None, {}
    return round(sum(terms.values()), 6), {k: round(v, 6) for k, v in terms.items()}


def _lower_tier(o: OptionInput) -> list[str]:
    reasons = [f"{f.drug}: guidance 'avoid'" for f in o.pgx if f.action == "avoid"]
    for e in o.biomarkers:
        if e.direction == "resistance" and e.matched_in_patient_cancer_type and \
                (e.level_for_patient or e.evidence_level) in {"1", "2", "R1"}:
            reasons.append(f"{', '.join(e.drugs_in_option)}: tumour {e.finding} confers resistance "
                           f"(level {e.level_for_patient or e.evidence_level})")
    return reasons


def rank_options(options: Sequence[OptionInput], *, weights: RankingWeights | None = None,
                 allow_avoid_first: bool = False) -> tuple[tuple[RankedOption, ...], str]:
    """Order ``options`` by the rule of this module; returns ``(ranked options, rule text)``."""
    weights = weights or RankingWeights()
    scored = []
    for i, o in enumerate(options):
        u, terms = expected_utility(o.model, weights)
        model = o.model.model_copy(update={"utility": u, "utility_terms": terms}) if u is not None else o.model
        scored.append((i, o, model, u, _lower_tier(o)))
    with_u = sorted((s for s in scored if s[3] is not None), key=lambda s: (-s[3], s[0]))
    model_rank = {s[0]: r for r, s in enumerate(with_u, start=1)}

    gates = {s[0]: eligibility_gate(s[1].eligibility) for s in scored}  # biomarker eligibility step

    def key(s):
        tier = 0 if (allow_avoid_first or not s[4]) else 2
        if not allow_avoid_first:
            tier = max(tier, gates[s[0]].tier)
        return (tier, 0 if s[3] is not None else 1, -(s[3] or 0.0), s[0])

    ordered = sorted(scored, key=key)
    ranked: list[RankedOption] = []
    for rank, (i, o, model, u, lower) in enumerate(ordered, start=1):
        if u is None:
            reason = "no model numbers: kept in the order given"
        else:
            reason = f"expected utility {u:.3f} (model order {model_rank[i]})"
        if lower:
            reason += "; " + ("kept by model order on request despite: " if allow_avoid_first else
                              "placed below options without such flags: ") + "; ".join(lower)
        gate = gates[i]
        if gate.reason:
            reason += "; " + ("kept by model order on request despite: " if allow_avoid_first else "") + gate.reason
        action, label, missing = option_guidance(o.pgx, o.eligibility)
        ranked.append(RankedOption(
            rank=rank, model_rank=model_rank.get(i), regimen=o.regimen, drugs=o.drugs, model=model,
            guidance_action=action, pgx=o.pgx, biomarkers=o.biomarkers,
            warnings=o.warnings, rank_reason=reason, guidance_label=label, missing_genes=missing,
            eligibility=gate.eligibility, eligibility_checks=o.eligibility, eligibility_label=gate.label))
    dis = find_disagreements(ranked, override=allow_avoid_first)
    ranked = [r.model_copy(update={"disagreements": dis.get(r.regimen, ())}) for r in ranked]
    rule = RANKING_RULE.format(formula=weights.describe(),
                               override=" (overridden on request for this result)" if allow_avoid_first else "")
    return tuple(ranked), rule


def weights_dict(weights: RankingWeights) -> dict:
    """The weights as a plain mapping (provenance)."""
    return asdict(weights)
