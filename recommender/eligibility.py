"""The eligibility gate of ranking: an option whose biomarker eligibility is unknown is never ranked first.

One small step of :func:`recommender.rank.rank_options`, kept apart so the rule is easy to find and test.
Each option carries one :class:`~recommender.recommendation.EligibilityCheck` per biomarker-restricted drug
(:func:`recommender.knowledge_overlay.eligibility_checks`, from the biomarker table's
``eligibility_requirements``). The gate gives the option a tier:

========================  ====  ======================================================================
option eligibility        tier  effect on the order
========================  ====  ======================================================================
``eligible``              0     none (also every option without a biomarker-restricted drug)
``eligible_predicted``    0     none, but amber and said in words: eligibility rests on a VUS predicted
                                pathogenic (lower 90% bound of its calibrated probability >= 0.9)
``not_established``       1     after every option of tier 0: never ranked first while an eligible one
                                exists
``contraindicated``       2     with the ``avoid`` options, after tiers 0 and 1
========================  ====  ======================================================================

The tier is combined with the guidance tier of :mod:`recommender.rank` (the larger wins). The caller's
``allow_avoid_first=True`` (rank by the model alone) lifts the gate too, and the result says so.

Examples
--------
>>> eligibility_gate(()).tier
0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from genomics.biomarkers.eligibility import ELIGIBILITY_LABELS, worst_eligibility
from recommender.recommendation import EligibilityCheck

__all__ = ["GATE_TIERS", "EligibilityGate", "eligibility_gate", "eligibility_label"]

#: Ranking tier of each option eligibility (0 = no restriction on the order).
GATE_TIERS = {"eligible": 0, "eligible_predicted": 0, "not_established": 1, "contraindicated": 2}


@dataclass(frozen=True)
class EligibilityGate:
    """The gate's verdict for one option: its eligibility, ranking tier and the reason in words."""

    eligibility: str
    tier: int
    reason: str
    label: str


def eligibility_label(checks: Sequence[EligibilityCheck]) -> str:
    """The option's eligibility in a clinician's words (``""`` when no drug is biomarker-restricted)."""
    if not checks:
        return ""
    state = worst_eligibility(c.status for c in checks)
    if state == "eligible":
        return "eligible: " + "; ".join(f"{c.drug} ({c.reason})" for c in checks)
    bad = [c for c in checks if c.status == state]
    if state == "eligible_predicted":
        return f"{ELIGIBILITY_LABELS[state]}: " + "; ".join(f"{c.drug} ({c.reason})" for c in bad)
    if state == "contraindicated":
        return "avoid: " + "; ".join(f"{c.drug}: {c.reason}" for c in bad)
    tests = list(dict.fromkeys(c.test for c in bad))
    return f"{ELIGIBILITY_LABELS[state]} for {', '.join(c.drug for c in bad)}: {'; '.join(tests)}"


def eligibility_gate(checks: Sequence[EligibilityCheck]) -> EligibilityGate:
    """The tier of an option from its eligibility checks (see the module docstring)."""
    state = worst_eligibility(c.status for c in checks)
    label = eligibility_label(checks)
    if state == "not_established":
        reason = ("biomarker eligibility not established (" + label.split(": ", 1)[-1]
                  + "): placed after every eligible option")
    elif state == "contraindicated":
        reason = f"contraindicated by a tumour biomarker ({label.split(': ', 1)[-1]})"
    elif state == "eligible_predicted":
        reason = ("eligibility rests on a variant of uncertain significance predicted pathogenic (not an approved "
                  "biomarker): confirm by clinical classification")
    else:
        reason = ""
    return EligibilityGate(eligibility=state, tier=GATE_TIERS[state], reason=reason, label=label)
