"""The guidance-action vocabulary: ONE definition of the states, their order, colours and labels.

Every module that shows or compares guidance actions imports them from here (through
:mod:`recommender.vocab` on the recommender side): the CPIC/DPWG matcher
(:mod:`genomics.pgx.guidance`), the PGx HTML report, the knowledge overlay and ranking, the result
report/PDF and the app. Imports flow genomics <- recommender, so the vocabulary lives at the lowest
level that needs it.

Three situations are kept apart, in the vocabulary, the data and every view
-------------------------------------------------------------------------
* **A guideline applies and says X** -- ``standard`` (green), ``caution`` (amber), ``adjust_dose``
  (amber), ``avoid`` (red): the action derived from the matched CPIC/DPWG recommendation text.
* **A guideline exists but the genotype is missing** -- ``not_assessed`` (amber): the gene was not
  genotyped, could not be called, or its call is ambiguous. Never green: the unknown genotype could be
  one for which the guideline says "avoid".
* **No guideline for this drug** -- ``no_guidance`` (grey): neither CPIC nor DPWG has a guideline for
  the drug (or the guideline is silent for this genotype).

Severity order (least to most severe; :data:`ACTIONS`)::

    no_guidance < standard < not_assessed < caution < adjust_dose < avoid

``not_assessed`` sits above ``standard`` (a gap is never shown as safe) and below the actions a
guideline actually states, so a known dose adjustment or avoidance is never hidden behind a gap; the
gap itself is still carried alongside (``missing_genes``) and named in the label
(``"adjust dose (TPMT Intermediate Metabolizer); not assessed: NUDT15 not genotyped"``). A regimen's action is the most severe of its
drugs' actions (:func:`worst_action`).

Examples
--------
>>> worst_action(["standard", "not_assessed"])
'not_assessed'
>>> ACTION_COLOURS["not_assessed"], ACTION_LABELS["no_guidance"]
('amber', 'no guideline')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Literal

__all__ = [
    "ACTIONS",
    "ACTION_COLOURS",
    "ACTION_DESCRIPTIONS",
    "ACTION_LABELS",
    "ACTION_SEVERITY",
    "COLOUR_HEX",
    "GuidanceAction",
    "action_colour",
    "action_label",
    "worst_action",
]

GuidanceAction = Literal["no_guidance", "standard", "not_assessed", "caution", "adjust_dose", "avoid"]

#: The six guidance actions, least to most severe (the order every comparison uses).
ACTIONS: tuple[str, ...] = ("no_guidance", "standard", "not_assessed", "caution", "adjust_dose", "avoid")

#: ``action -> rank`` in :data:`ACTIONS` (0 = least severe).
ACTION_SEVERITY: Mapping[str, int] = MappingProxyType({a: i for i, a in enumerate(ACTIONS)})

#: Traffic-light colour of each action. Only ``standard`` is green; a gap is amber, never green.
ACTION_COLOURS: Mapping[str, str] = MappingProxyType({
    "no_guidance": "grey", "standard": "green", "not_assessed": "amber", "caution": "amber",
    "adjust_dose": "amber", "avoid": "red",
})

#: Short label shown on a badge.
ACTION_LABELS: Mapping[str, str] = MappingProxyType({
    "no_guidance": "no guideline", "standard": "standard dosing", "not_assessed": "not assessed",
    "caution": "caution", "adjust_dose": "adjust dose", "avoid": "avoid",
})

#: One sentence per action (legends, tooltips, documentation).
ACTION_DESCRIPTIONS: Mapping[str, str] = MappingProxyType({
    "no_guidance": "No CPIC or DPWG guideline for this drug (or the guideline is silent for this genotype).",
    "standard": "The guideline applies to this genotype and says to use the standard dose.",
    "not_assessed": "A guideline exists, but the gene it needs was not genotyped, not callable or ambiguous: "
                    "test before treatment.",
    "caution": "The guideline applies and advises caution, monitoring or considering an alternative.",
    "adjust_dose": "The guideline applies and advises a different dose.",
    "avoid": "The guideline (or a tumour biomarker) says to avoid the drug for this patient.",
})

#: Display colours (hex) shared by the HTML reports and the app.
COLOUR_HEX: Mapping[str, str] = MappingProxyType({
    "green": "#2e7d32", "amber": "#b26a00", "red": "#c62828", "grey": "#6b6b6b",
})


def action_colour(action: str) -> str:
    """The colour of ``action`` (``KeyError`` for a word outside the vocabulary)."""
    return ACTION_COLOURS[action]


def action_label(action: str) -> str:
    """The badge label of ``action`` (``KeyError`` for a word outside the vocabulary)."""
    return ACTION_LABELS[action]


def worst_action(actions: Iterable[str]) -> str:
    """The most severe of ``actions`` by :data:`ACTIONS` (``no_guidance`` for none).

    Raises
    ------
    KeyError
        A word outside the vocabulary (never silently ranked as the least severe).
    """
    out = "no_guidance"
    for a in actions:
        if ACTION_SEVERITY[a] > ACTION_SEVERITY[out]:
            out = a
    return out
