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
3. Within a tier: higher ``U`` first; options without model numbers keep the caller's order, after those
   with numbers.

Where the final order differs from the model order because of step 2, the option carries a disagreement
stated plainly (:func:`recommender.knowledge_overlay.find_disagreements`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from recommender.knowledge_overlay import find_disagreements, worst_action
from recommender.recommendation import BiomarkerEvidence, ModelPrediction, PgxFlag, RankedOption

__all__ = ["RANKING_RULE", "OptionInput", "RankingWeights", "expected_utility", "rank_options"]


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


RANKING_RULE = (
    "Options are ordered by expected utility from the model numbers ({formula}). An option containing a drug "
    "whose pharmacogenomic guidance is 'avoid', or a drug the tumour is resistant to (level 1/2/R1 in this "
    "cancer type), is never ranked above an option without such a flag{override}. Without model numbers, "
    "options keep the order given, flagged options last."
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

    def key(s):
        tier = 0 if (allow_avoid_first or not s[4]) else 1
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
        ranked.append(RankedOption(
            rank=rank, model_rank=model_rank.get(i), regimen=o.regimen, drugs=o.drugs, model=model,
            guidance_action=worst_action(f.action for f in o.pgx), pgx=o.pgx, biomarkers=o.biomarkers,
            warnings=o.warnings, rank_reason=reason))
    dis = find_disagreements(ranked, override=allow_avoid_first)
    ranked = [r.model_copy(update={"disagreements": dis.get(r.regimen, ())}) for r in ranked]
    rule = RANKING_RULE.format(formula=weights.describe(),
                               override=" (overridden on request for this result)" if allow_avoid_first else "")
    return tuple(ranked), rule


def weights_dict(weights: RankingWeights) -> dict:
    """The weights as a plain mapping (provenance)."""
    return asdict(weights)
