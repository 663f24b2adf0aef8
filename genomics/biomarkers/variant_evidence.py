"""Variant-effect evidence beside PARP-inhibitor and platinum options, and the one PARP eligibility decision.

:func:`variant_evidence` gives a germline or tumour variant in BRCA1/BRCA2 (any gene with a transcript model)
its evidence from :func:`genomics.dnalm.variant_effect.assess`: consequence, splice distance, the DNA LM part
(when a LLR is given or a scorer computes one), the fitted combination's probability of a pathogenic
classification with its 90% bootstrap interval, and which parts contributed.

:func:`parp_eligibility` is the decision (used by :func:`genomics.biomarkers.assess_eligibility` and callable on
its own, e.g. by a simulator):

1. a ``pathogenic_like`` germline or tumour variant in BRCA1/2 (:mod:`genomics.biomarkers.germline`): frameshift,
   stop gained, canonical splice, start lost -> ``eligible`` (green), with the evidence;
2. otherwise a VUS whose **lower** 90% bound of the calibrated probability is >= :data:`PREDICTED_PATHOGENIC_LOWER_BOUND`
   (0.9) -> ``eligible_predicted`` (amber, "eligible (predicted pathogenic VUS; confirm)"): never green;
3. otherwise ``not_established`` (amber), with every VUS's evidence shown ("VUS: variant-effect evidence P=0.05
   (0.02-0.09); confirm by clinical classification").

Why 0.9 on the lower bound: a germline P/LP classification needs >= 0.99 posterior probability (likely
pathogenic >= 0.9, Tavtigian et al. Genet Med 2018;20:1054, the Bayesian reading of ACMG/AMP); using the lower
bound of the bootstrap interval asks that the fitted combination itself is sure of at least the "likely
pathogenic" level. On its held-out set (ENIGMA BRCA1, 501 SNVs, 67 pathogenic; BRCA1 never in the fit) no
variant reaches it (the highest lower bound is 0.875, a canonical splice variant; missense at most 0.108),
so with the shipped combination a VUS never establishes eligibility: the calibration does not support it
(``docs/concepts/variant-effect.md``, "Evidence beside the options").

Examples
--------
>>> d = parp_eligibility([{"chrom": "chr13", "pos": 32340300, "ref": "GT", "alt": "G"}], (), "PAAD")
>>> d.status, d.evidence[0]["gene"], d.evidence[0]["source"]
('eligible', 'BRCA2', 'germline')
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from genomics.biomarkers.germline import GERMLINE_GENES, GeneVariant, classify_variant

__all__ = [
    "PARP_INHIBITORS",
    "PLATINUM_DRUGS",
    "PREDICTED_PATHOGENIC_LOWER_BOUND",
    "THERAPY_GENES",
    "ParpDecision",
    "VariantEvidence",
    "dnalm_llr_scorer",
    "evidence_label",
    "parp_eligibility",
    "variant_evidence",
]

#: PARP inhibitors whose eligibility a BRCA1/2 loss-of-function variant establishes.
PARP_INHIBITORS: tuple[str, ...] = ("olaparib", "talazoparib", "rucaparib", "niraparib")
#: Platinum drugs (BRCA1/2 loss of function predicts platinum sensitivity; shown as evidence, never a gate).
PLATINUM_DRUGS: tuple[str, ...] = ("carboplatin", "cisplatin", "oxaliplatin")
#: Drug -> genes whose variants' evidence is shown beside an option with that drug.
THERAPY_GENES: Mapping[str, tuple[str, ...]] = {d: GERMLINE_GENES for d in PARP_INHIBITORS + PLATINUM_DRUGS}
#: A VUS makes a PARP inhibitor "eligible (predicted pathogenic VUS; confirm)" only when the lower bound of the
#: 90% interval of its calibrated P(pathogenic) reaches this (see the module docstring for the justification).
PREDICTED_PATHOGENIC_LOWER_BOUND = 0.9

LlrScorer = Callable[[GeneVariant], tuple[float | None, str | None, str]]


@dataclass(frozen=True)
class VariantEvidence:
    """One variant and its evidence, as shown beside an option (JSON via :meth:`to_dict`).

    ``probability``/``interval`` are on the scale of the clinical (ENIGMA) set, from the fitted combination
    (``combination``); ``None`` when no part could be assessed. ``supports`` is what the evidence can
    support on its own: ``loss_of_function`` (pathogenic-like by consequence), ``predicted_pathogenic``
    (a VUS whose interval's lower bound reaches the threshold) or ``not_established``.
    """

    gene: str
    variant: str
    source: str
    classification: str
    consequence: str | None
    detail: str
    supports: Literal["loss_of_function", "predicted_pathogenic", "not_established", "benign_like"]
    label: str
    coding: str = ""
    protein_change: str | None = None
    zygosity: str | None = None
    exon_boundary_distance: int | None = None
    lm_llr: float | None = None
    lm_status: str = "not computed"
    probability: float | None = None
    interval: tuple[float, float] | None = None
    parts: dict[str, float | None] = field(default_factory=dict)
    contributions: dict[str, float] = field(default_factory=dict)
    contributing_parts: tuple[str, ...] = ()
    not_assessed: tuple[str, ...] = ()
    threshold: float = PREDICTED_PATHOGENIC_LOWER_BOUND
    combination: str | None = None
    record: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["interval"] = None if self.interval is None else list(self.interval)
        return d


def _as_variant(v: GeneVariant | Mapping[str, Any], source: str, reference: Any) -> GeneVariant:
    if isinstance(v, GeneVariant):
        return v
    m = dict(v)
    if m.get("chrom") and m.get("pos") is not None and m.get("ref") and m.get("alt"):
        out = classify_variant(str(m["chrom"]), int(m["pos"]), str(m["ref"]), str(m["alt"]),
                               source=m.get("source", source), gene=m.get("gene"), reference=reference,
                               zygosity=m.get("zygosity"), record=str(m.get("record", "")),
                               protein_change=m.get("protein_change"))
        if m.get("consequence") and out.consequence is None:  # a caller's own annotation fills a gap only
            out = _classify_by_consequence(out, str(m["consequence"]))
        return out
    return _classify_by_consequence(GeneVariant(
        gene=str(m.get("gene") or "?"), chrom=None, pos=None, ref=None, alt=None, source=m.get("source", source),
        classification="vus", consequence=None, detail="no position given", record=str(m.get("record", "")),
        protein_change=m.get("protein_change")), m.get("consequence"))


def _classify_by_consequence(v: GeneVariant, consequence: str | None) -> GeneVariant:
    from genomics.biomarkers.germline import BENIGN_LIKE_CONSEQUENCES, LOF_CONSEQUENCES

    if not consequence:
        return replace(v, detail=f"{v.detail}; consequence not given: of uncertain significance")
    cls = ("pathogenic_like" if consequence in LOF_CONSEQUENCES else
           "benign_like" if consequence in BENIGN_LIKE_CONSEQUENCES else "vus")
    return replace(v, consequence=consequence, classification=cls,
                   detail=f"{consequence.replace('_', ' ')} (annotation given with the variant)")


def evidence_label(ev: VariantEvidence | Mapping[str, Any]) -> str:
    """The evidence in a clinician's words (``"VUS: variant-effect evidence P=0.05 (0.02-0.09); confirm ..."``)."""
    get = ev.get if isinstance(ev, Mapping) else (lambda k, d=None: getattr(ev, k, d))
    head = f"{get('source')} {get('gene')} {get('variant')}"
    cons = get("consequence") or "consequence not assessed"
    p, iv = get("probability"), get("interval")
    num = "" if p is None else f"P={p:.2f} ({iv[0]:.2f}-{iv[1]:.2f})"
    supports = get("supports")
    if supports == "loss_of_function":
        return f"{head}: {cons}, loss of function by rule"
    if supports == "predicted_pathogenic":
        return (f"{head}: VUS ({cons}) predicted pathogenic, variant-effect evidence {num}, lower bound >= "
                f"{get('threshold'):.2f}; confirm by clinical classification")
    if supports == "benign_like":
        return f"{head}: {cons}, no predicted protein or splice-site effect"
    what = f"variant-effect evidence {num}" if num else "variant-effect evidence not assessed"
    return f"{head}: VUS ({cons}): {what}; confirm by clinical classification"


def variant_evidence(variant: GeneVariant | Mapping[str, Any], *, llr: float | None = None,
                     lm_model: str | None = None, lm_scorer: LlrScorer | None = None, combination: Any = None,
                     threshold: float = PREDICTED_PATHOGENIC_LOWER_BOUND, reference: Any = None,
                     source: str = "germline") -> VariantEvidence:
    """The variant-effect evidence of one variant (see the module docstring).

    Parameters
    ----------
    variant
        A :class:`~genomics.biomarkers.germline.GeneVariant`, or a mapping with ``chrom, pos, ref, alt``
        (optional ``gene``, ``source``, ``consequence`` used only when the product cannot compute one, ``llr``,
        ``lm_model``).
    llr, lm_model
        The DNA LM's log-likelihood ratio and the LM that made it (``model_id@sha``); an LLR from another LM
        than the combination's is shown but not combined.
    lm_scorer
        Computes ``(llr, lm_model, status)`` when ``llr`` is not given (:func:`dnalm_llr_scorer`).
    combination
        A :class:`~genomics.dnalm.variant_effect.FittedCombination` (default: the shipped one).
    """
    from genomics.dnalm.variant_effect import assess

    if isinstance(variant, Mapping):
        llr = variant.get("llr", llr)
        lm_model = variant.get("lm_model", lm_model)
    v = _as_variant(variant, source, reference)
    status = "not computed"
    if llr is not None:
        status = "given"
    elif lm_scorer is not None and v.chrom and v.classification == "vus":
        try:
            llr, lm_model, status = lm_scorer(v)
        except Exception as err:  # noqa: BLE001 - the LM is optional evidence: its failure is shown, never hidden
            llr, status = None, f"not computed: {type(err).__name__}: {err}"
    eff = assess(v.consequence, v.in_exon, v.exon_boundary_distance, llr, combination=combination,
                 lm_model=lm_model)
    none_assessed = not eff.assessed
    prob = None if none_assessed else round(eff.probability, 4)
    interval = None if none_assessed else (round(eff.interval[0], 4), round(eff.interval[1], 4))
    if v.classification == "pathogenic_like":
        supports = "loss_of_function"
    elif v.classification == "benign_like":
        supports = "benign_like"
    elif interval is not None and interval[0] >= threshold:
        supports = "predicted_pathogenic"
    else:
        supports = "not_established"
    ev = VariantEvidence(
        gene=v.gene, variant=v.variant, source=v.source, classification=v.classification,
        consequence=v.consequence, detail=v.detail, supports=supports, label="", coding=v.coding,
        protein_change=v.protein_change, zygosity=v.zygosity, exon_boundary_distance=v.exon_boundary_distance,
        lm_llr=None if llr is None else float(llr), lm_status=status, probability=prob, interval=interval,
        parts=dict(eff.parts), contributions={k: round(x, 4) for k, x in eff.contributions.items()},
        contributing_parts=tuple(k for k, x in eff.contributions.items() if x), not_assessed=eff.not_assessed,
        threshold=threshold, combination=eff.combination, record=v.record)
    return replace(ev, label=evidence_label(ev))


@functools.lru_cache(maxsize=4)
def _scorer(model: str | None, reference: str | None) -> Any:
    from genomics.dnalm import VariantScorer, load_model
    from genomics.reference import reference_from_option

    lm = load_model(model) if model else load_model()
    return VariantScorer(lm, reference=reference_from_option(reference), embeddings=False, on_ref_mismatch="skip")


@functools.lru_cache(maxsize=4096)
def _llr(model: str | None, reference: str | None, chrom: str, pos: int, ref: str, alt: str,
         gene: str) -> tuple[float | None, str | None, str]:
    from genomics.dnalm import Variant

    scorer = _scorer(model, reference)
    s = scorer.score([Variant(chrom, pos, ref, alt, gene=gene)])[0]
    if s.llr is None:
        return None, scorer.lm.cache_key, f"not scored: {s.status}" + (f" ({s.detail})" if s.detail else "")
    return float(s.llr), scorer.lm.cache_key, "scored"


def dnalm_llr_scorer(model: str | None = None, reference: str | None = None) -> LlrScorer:
    """An LLR hook for :func:`variant_evidence`: the DNA LM (loaded on first use, once per process).

    ``reference`` is a GRCh38 FASTA path (default: the bundled subset, which holds BRCA1 but not BRCA2: a
    BRCA2 variant's LM part is then "not scored", never a guess).
    """

    def score(v: GeneVariant) -> tuple[float | None, str | None, str]:
        if not (v.chrom and v.pos is not None and v.ref and v.alt):
            return None, None, "not scored: no position"
        return _llr(model, reference, v.chrom, int(v.pos), v.ref, v.alt, v.gene)

    return score


@dataclass(frozen=True)
class ParpDecision:
    """The PARP-inhibitor eligibility of one patient from BRCA1/2 variants (see :func:`parp_eligibility`)."""

    status: Literal["eligible", "eligible_predicted", "not_established"]
    reason: str
    evidence: tuple[dict[str, Any], ...] = ()
    findings: tuple[str, ...] = ()
    germline_genes: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _germline_summary(germline_status: Any) -> str:
    if germline_status is None:
        return "germline BRCA1/2 not assessed"
    parts = []
    for g in germline_status.genes:
        word = {"not_assessed": "not assessed", "no_reportable_variant": "no loss-of-function variant reported",
                "vus": "VUS only", "pathogenic_variant": "loss-of-function variant"}[g.status]
        parts.append(f"{g.gene} {word}")
    return "germline: " + ", ".join(parts)


def parp_eligibility(germline_variants: Iterable[GeneVariant | Mapping[str, Any]] = (),
                     tumour_variants: Iterable[GeneVariant | Mapping[str, Any]] = (),
                     cancer_type: str | None = None, *, germline_status: Any = None,
                     genes: Sequence[str] = GERMLINE_GENES, use_variant_effect: bool = True,
                     lm_scorer: LlrScorer | None = None, combination: Any = None,
                     threshold: float = PREDICTED_PATHOGENIC_LOWER_BOUND, reference: Any = None) -> ParpDecision:
    """PARP-inhibitor eligibility from germline and tumour BRCA1/2 variants (the one decision rule).

    Parameters
    ----------
    germline_variants, tumour_variants
        :class:`~genomics.biomarkers.germline.GeneVariant` objects or mappings with ``chrom, pos, ref, alt``
        (GRCh38; optional ``gene``, ``consequence`` -- used only where the product cannot compute one --,
        ``llr``, ``lm_model``). Variants outside ``genes`` are ignored.
    cancer_type
        OncoTree code; informational here (whether a PARP inhibitor is biomarker-restricted in this cancer type
        is the biomarker table's ``eligibility_requirements``, applied by
        :func:`genomics.biomarkers.assess_eligibility`).
    germline_status
        :class:`~genomics.biomarkers.germline.GermlineGenes` of the germline reading (per-gene "not assessed"
        vs "no variant reported" in the reason).
    use_variant_effect
        False: a VUS is never used, whatever its evidence (the "without DNA LM / variant-effect" arm).
    lm_scorer
        Optional DNA LM hook (:func:`dnalm_llr_scorer`) for VUS without a given LLR.
    threshold
        Lower bound of the 90% interval of P(pathogenic) a VUS needs for ``eligible_predicted``.

    Returns
    -------
    ParpDecision
        ``status`` ``eligible`` (a loss-of-function variant), ``eligible_predicted`` (a VUS predicted pathogenic:
        amber, confirm) or ``not_established``; ``evidence`` = :meth:`VariantEvidence.to_dict` of every
        relevant variant.
    """
    gene_set = {g.upper() for g in genes}
    evs: list[VariantEvidence] = []
    for src, items in (("germline", germline_variants), ("tumour", tumour_variants)):
        for item in items:
            ev = variant_evidence(item, lm_scorer=lm_scorer, combination=combination, threshold=threshold,
                                  reference=reference, source=src)
            if ev.gene.upper() in gene_set and ev.supports != "benign_like":
                evs.append(ev)
    usable = [e for e in evs if "not used for eligibility" not in e.detail]
    lof = [e for e in usable if e.supports == "loss_of_function"]
    summary = _germline_summary(germline_status)
    gstates = () if germline_status is None else tuple(g.to_dict() for g in germline_status.genes)
    evidence = tuple(e.to_dict() for e in evs)
    if lof:
        names = "; ".join(f"{e.source} {e.gene} {e.variant} ({e.consequence or 'loss of function'})" for e in lof)
        return ParpDecision("eligible", f"{names}: loss of function by rule", evidence,
                            tuple(f"{e.source} {e.gene} {e.variant}" for e in lof), gstates)
    predicted = [e for e in usable if e.supports == "predicted_pathogenic"] if use_variant_effect else []
    if predicted:
        names = "; ".join(e.label for e in predicted)
        return ParpDecision("eligible_predicted", f"predicted pathogenic VUS: {names}", evidence,
                            tuple(f"{e.source} {e.gene} {e.variant}" for e in predicted), gstates)
    vus = [e for e in evs if e.supports == "not_established"]
    if vus:
        why = "; ".join(e.label for e in vus)
        if not use_variant_effect:
            why += " (variant-effect evidence not used)"
        return ParpDecision("not_established", f"{why}; {summary}", evidence, (), gstates)
    return ParpDecision("not_established", f"no BRCA1/2 loss-of-function variant given; {summary}", evidence, (),
                        gstates)
