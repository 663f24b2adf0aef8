"""Phenoconversion: co-medication that inhibits a CYP enzyme changes the functional phenotype.

A genotypic normal metaboliser who takes a strong CYP2D6 inhibitor (e.g. paroxetine) metabolises
CYP2D6 substrates like a poor metaboliser while taking it. The inhibitor table is the FDA table in
:data:`recommender.vocab.CYP_MODULATORS` (strong / moderate clinical inhibitors).

Method (documented; the same rule for every enzyme with a genotype-derived phenotype)
-------------------------------------------------------------------------------------
* Activity-score genes (CYP2D6, CYP2C9): the activity score is multiplied by **0** with a strong
  inhibitor and by **0.5** with a moderate inhibitor (the strongest inhibitor taken counts; inhibitors
  do not multiply further). The functional phenotype is then read from the converted score with
  the gene's CPIC activity-score thresholds. This is the method of the University of Florida
  implementation programme: Smith DM et al., Genet Med 2019;21:1842-50 (CYP2D6-guided opioid
  therapy) and Cicali EJ et al., "How to integrate CYP2D6 phenoconversion into clinical
  pharmacogenetics: a tutorial", Clin Pharmacol Ther 2021;110:677-87 (PMID given to us as 33650059;
  not verified offline). The evidence that strong inhibitors give nearly null activity and the
  grading of moderate inhibitors: Cicali EJ et al., Clin Pharmacol Ther 2020;108:116-25
  (PMID 31910286).
* Phenotype-only genes (CYP2C19): a strong inhibitor makes the patient a functional **poor**
  metaboliser; a moderate inhibitor moves the phenotype **one step** towards poor (ultrarapid ->
  rapid -> normal -> intermediate -> poor).
* A patient who is already poor stays poor. Inducers are recorded as medication features but do
  not change the phenotype here (there is no consensus conversion rule for induction).
* An unknown genotype phenotype stays unknown (``None``): phenoconversion never invents a call.

Examples
--------
>>> r = phenoconvert("CYP2D6", phenotype="Normal Metabolizer", activity_score=2.0, medications=["paroxetine"])
>>> r.functional_phenotype, r.functional_activity_score, r.inhibitors
('Poor Metabolizer', 0.0, {'paroxetine': 'strong'})
>>> phenoconvert("CYP2C19", phenotype="Normal Metabolizer", medications=["felbamate"]).functional_phenotype
'Intermediate Metabolizer'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from recommender import vocab

__all__ = [
    "ACTIVITY_SCORE_GENES",
    "CITATIONS",
    "PHENOCONVERSION_ENZYMES",
    "PhenoconversionResult",
    "activity_to_phenotype",
    "phenoconvert",
    "phenotype_code",
]

#: Enzymes whose genotype phenotype can be phenoconverted, mapped to the enzyme name in the FDA table.
PHENOCONVERSION_ENZYMES: dict[str, str] = {"CYP2D6": "CYP2D6", "CYP2C19": "CYP2C19", "CYP2C9": "CYP2C9"}
#: Genes whose phenotype follows from an activity score.
ACTIVITY_SCORE_GENES: tuple[str, ...] = ("CYP2D6", "CYP2C9", "DPYD")
#: Multiplier of the activity score per inhibitor strength.
ACTIVITY_FACTOR: dict[str, float] = {"strong": 0.0, "moderate": 0.5}

CITATIONS: tuple[str, ...] = (
    ("Cicali EJ et al. How to integrate CYP2D6 phenoconversion into clinical pharmacogenetics: a tutorial. "
     "Clin Pharmacol Ther 2021;110:677-87"),
    ("Smith DM et al. CYP2D6-guided opioid therapy improves pain control in CYP2D6 intermediate and poor "
     "metabolizers: a pragmatic clinical trial. Genet Med 2019;21:1842-50"),
    ("Cicali EJ et al. A scoping review of the evidence behind CYP2D6 inhibitor classifications. "
     "Clin Pharmacol Ther 2020;108:116-25 (PMID 31910286)"),
    vocab.CYP_SOURCE,
)

_ORDER = ("Poor Metabolizer", "Intermediate Metabolizer", "Normal Metabolizer", "Rapid Metabolizer",
          "Ultrarapid Metabolizer")


def phenotype_code(phenotype: str | None) -> float | None:
    """Ordinal code of a CPIC phenotype: 0 poor, 1 intermediate, 2 normal, 3 rapid/increased, 4 ultrarapid.

    Covers metaboliser terms ("Likely Poor Metabolizer" -> 0, "Possible Intermediate Metabolizer" -> 1)
    and function terms ("Decreased Function" -> 1, "Increased Function" -> 3). ``None`` for unknown,
    indeterminate or empty input.

    >>> phenotype_code("Likely Intermediate Metabolizer"), phenotype_code("Poor Function"), phenotype_code("n/a")
    (1.0, 0.0, None)
    """
    if phenotype is None:
        return None
    p = " ".join(str(phenotype).strip().lower().replace("_", " ").split())
    if not p or "indeterminate" in p or p in {"n/a", "na", "unknown", "no result"}:
        return None
    if "ultrarapid" in p or "ultra-rapid" in p:
        return 4.0
    if "rapid" in p or "increased" in p:
        return 3.0
    if "poor" in p or "no function" in p or ("deficien" in p and "intermediate" not in p):
        return 0.0
    if "intermediate" in p or "decreased" in p:
        return 1.0
    if "normal" in p or "extensive" in p:
        return 2.0
    if p in {"positive", "negative"}:
        return None
    return None


def activity_to_phenotype(gene: str, score: float | None) -> str | None:
    """CPIC phenotype of an activity score (CYP2D6: Caudle et al. 2020 thresholds; CYP2C9, DPYD)."""
    if score is None:
        return None
    gene = gene.upper()
    if gene == "CYP2D6":
        if score <= 0:
            return "Poor Metabolizer"
        if score <= 1.0:
            return "Intermediate Metabolizer"
        if score <= 2.25:
            return "Normal Metabolizer"
        return "Ultrarapid Metabolizer"
    if gene in ("CYP2C9", "DPYD"):
        if score <= 0.5:
            return "Poor Metabolizer"
        if score < 2.0:
            return "Intermediate Metabolizer"
        return "Normal Metabolizer"
    raise ValueError(f"{gene} has no activity-score phenotype rule here")


@dataclass(frozen=True)
class PhenoconversionResult:
    """Genotype and functional (after co-medication) phenotype of one gene."""

    gene: str
    genotype_phenotype: str | None
    functional_phenotype: str | None
    genotype_activity_score: float | None = None
    functional_activity_score: float | None = None
    inhibitors: dict[str, str] = field(default_factory=dict)
    rule: str = "no inhibitor"

    @property
    def converted(self) -> bool:
        """True when co-medication changed the phenotype or the activity score."""
        return (self.functional_phenotype != self.genotype_phenotype
                or self.functional_activity_score != self.genotype_activity_score)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def phenoconvert(
    gene: str,
    *,
    phenotype: str | None = None,
    activity_score: float | None = None,
    medications: Iterable[str] = (),
) -> PhenoconversionResult:
    """Apply the documented phenoconversion rule (module docstring) to one gene.

    Parameters
    ----------
    gene
        HGNC symbol; genes other than :data:`PHENOCONVERSION_ENZYMES` are returned unchanged.
    phenotype, activity_score
        The genotype-derived call (either may be ``None``).
    medications
        Current medications (any spelling :func:`recommender.vocab.normalise_drug` knows).
    """
    gene = gene.upper()
    if phenotype is None and activity_score is not None and gene in ACTIVITY_SCORE_GENES:
        phenotype = activity_to_phenotype(gene, activity_score)
    enzyme = PHENOCONVERSION_ENZYMES.get(gene)
    inhibitors = vocab.phenoconversion_inhibitors(medications, enzyme) if enzyme else {}
    base = PhenoconversionResult(gene, phenotype, phenotype, activity_score, activity_score, inhibitors)
    if not inhibitors or (phenotype is None and activity_score is None):
        return base
    strength = "strong" if "strong" in inhibitors.values() else "moderate"
    names = ", ".join(sorted(d for d, s in inhibitors.items() if s == strength))
    if gene in ("CYP2D6", "CYP2C9") and activity_score is not None:
        score = activity_score * ACTIVITY_FACTOR[strength]
        return PhenoconversionResult(
            gene, phenotype, activity_to_phenotype(gene, score), activity_score, score, inhibitors,
            f"{strength} {enzyme} inhibitor ({names}): activity score x {ACTIVITY_FACTOR[strength]:g}",
        )
    code = phenotype_code(phenotype)
    if code is None:
        return base
    if strength == "strong":
        new = 0
    else:
        new = max(0, int(code) - 1)
    return PhenoconversionResult(
        gene, phenotype, _ORDER[new], activity_score, None if activity_score is None else
        (0.0 if strength == "strong" else activity_score * 0.5), inhibitors,
        f"{strength} {enzyme} inhibitor ({names}): "
        + ("functional poor metaboliser" if strength == "strong" else "one phenotype step lower"),
    )
