"""The result of scoring one patient: :class:`Recommendation` (schema ``recommendation/1.0``).

One frozen, JSON-serialisable pydantic model with, per candidate option (:class:`RankedOption`):
model numbers (response probability, survival curve summary, severe-toxicity risk per CTCAE term, each
with its interval, drivers in a clinician's words -- the model's own wording with its units kept in
``driver_details``, the "model details" -- and out-of-distribution warnings, or the plain reason why there are none),
pharmacogenomic guidance per drug quoted verbatim (:class:`PgxFlag`), tumour biomarker evidence
(:class:`BiomarkerEvidence`) and the places where model and guidance disagree (:class:`Disagreement`);
plus overall provenance (:class:`Provenance`) and the research-use disclaimer.

Examples
--------
>>> rec = Recommendation(patient_id="P1", options=(), ranking_rule="r",
...                      model_status=ModelStatus(available=False, reason="no bundle"),
...                      provenance=Provenance())
>>> Recommendation.from_json(rec.to_json()) == rec
True
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import metadata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from genomics.biomarkers.eligibility import ELIGIBILITY_COLOURS
from genomics.pgx.actions import ACTION_COLOURS, ACTION_LABELS, GuidanceAction

__all__ = [
    "ACTION_COLOURS",
    "ACTION_LABELS",
    "DISCLAIMER",
    "RECOMMENDATION_SCHEMA_VERSION",
    "BiomarkerEvidence",
    "Disagreement",
    "EligibilityCheck",
    "SignedReview",
    "TestingAdvice",
    "GeneSummary",
    "GermlineGeneState",
    "VariantEvidence",
    "GuidelineQuote",
    "ModelPrediction",
    "ModelStatus",
    "OodStatus",
    "PgxFlag",
    "Provenance",
    "RankedOption",
    "Recommendation",
    "ResponsePrediction",
    "SourceAction",
    "SurvivalPrediction",
    "ToxicityRisk",
    "package_version",
]

#: Version of the JSON layout of :class:`Recommendation`.
RECOMMENDATION_SCHEMA_VERSION = "recommendation/1.0"

# The guidance-action vocabulary (order, colours, labels) has one definition: genomics.pgx.actions
# (re-exported by recommender.vocab). ACTION_COLOURS is re-exported here for existing callers.
Action = GuidanceAction

#: Eligibility of an option for its biomarker-restricted drugs (:mod:`genomics.biomarkers.eligibility`).
Eligibility = Literal["eligible", "eligible_predicted", "not_established", "contraindicated"]

#: Shown with every result (JSON, report, service, app).
DISCLAIMER = (
    "Research use only. Not a medical device and not validated for clinical decisions. The model numbers "
    "come from a model bundle whose model card says what it was trained on (the default bundle: a simulated "
    "cohort, so its numbers illustrate the method and are not clinical evidence). Pharmacogenomic guidance "
    "is quoted verbatim from CPIC/DPWG and must be read in full; it is never hidden behind a score. A "
    "qualified clinician decides."
)


def package_version() -> str:
    """Installed version of the project (``0.0.0+unknown`` from an uninstalled source tree)."""
    try:
        return metadata.version("genomics-treatment-recommender")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "0.0.0+unknown"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------------------------- model numbers
class ResponsePrediction(_Frozen):
    """Probability of objective response (CR/PR) with its interval (``None`` when not computed)."""

    probability: float = Field(ge=0, le=1)
    low: float | None = None
    high: float | None = None
    drivers: tuple[str, ...] = ()
    driver_details: tuple[str, ...] = ()


class SurvivalPrediction(_Frozen):
    """One survival endpoint (``pfs``/``os``): median (``None`` = not reached) with interval and curve points."""

    endpoint: str
    median_days: float | None = None
    low: float | None = None
    high: float | None = None
    cox_median_days: float | None = None
    times: tuple[float, ...] = ()
    survival: tuple[float, ...] = ()
    drivers: tuple[str, ...] = ()
    driver_details: tuple[str, ...] = ()
    #: Risk score of the model behind the curve (higher = worse; comparable within one bundle): its log relative
    #: hazard, or minus the restricted mean survival time in days of its curves for a curve mixture that ranks by
    #: them (``CurveMixture.risk_score_``).
    risk: float | None = None

    def survival_at(self, days: float) -> float | None:
        """Survival probability at ``days`` (step function over the curve points), ``None`` without a curve."""
        if not self.times:
            return None
        value = None
        for t, s in zip(self.times, self.survival, strict=False):
            if t <= days:
                value = s
            else:
                break
        return value


class ToxicityRisk(_Frozen):
    """Risk of a grade >= 3 event of one CTCAE v5 term, with its interval."""

    term: str
    probability: float = Field(ge=0, le=1)
    low: float | None = None
    high: float | None = None
    drivers: tuple[str, ...] = ()
    driver_details: tuple[str, ...] = ()


class OodStatus(_Frozen):
    """Out-of-distribution check: ``flag`` True = outside the training data (``None`` = not checked)."""

    flag: bool | None = None
    reasons: tuple[str, ...] = ()


class ModelPrediction(_Frozen):
    """The model numbers of one option, or why there are none (``available=False`` + ``reason``)."""

    available: bool
    reason: str | None = None
    response: ResponsePrediction | None = None
    survival: tuple[SurvivalPrediction, ...] = ()
    toxicity: tuple[ToxicityRisk, ...] = ()
    ood: OodStatus = OodStatus()
    propensity: float | None = None
    not_modelled: dict[str, str] = Field(default_factory=dict)
    utility: float | None = None
    utility_terms: dict[str, float] = Field(default_factory=dict)


# --------------------------------------------------------------------------------------------- knowledge
class SourceAction(_Frozen):
    """What one guideline source says for one drug (its own action and message)."""

    source: str
    action: Action
    colour: str
    status: str
    message: str


class GuidelineQuote(_Frozen):
    """One matched guideline recommendation, verbatim (``text_html`` as the table holds it)."""

    source: str
    guideline: str
    url: str | None = None
    strength: str | None = None
    action: Action
    text_plain: str
    text_html: str
    trusted_html: bool = True
    pmids: tuple[str, ...] = ()
    version: str | None = None
    population: str | None = None
    lookup_key: dict[str, Any] = Field(default_factory=dict)


class TestingAdvice(_Frozen):
    """Pre-treatment testing advice for genes a drug's guideline needs but that were not assessed.

    ``advice`` is the project's summary of the cited sources (``verbatim`` False: the bundled CPIC/DPWG
    tables hold no pre-treatment testing text to quote); ``guidelines`` are the knowledge base's guideline
    annotations for the drug and gene (source, name, url, pmids); ``label_sources`` name the regulator's
    documents that ask for the test.
    """

    genes: tuple[str, ...]
    advice: str
    verbatim: bool = False
    label_sources: tuple[str, ...] = ()
    guidelines: tuple[dict[str, Any], ...] = ()


class PgxFlag(_Frozen):
    """Pharmacogenomic guidance for one drug of an option (never hidden behind a score).

    Three states are kept apart (:attr:`state`): a guideline applies and says ``action``
    (``standard``/``caution``/``adjust_dose``/``avoid``); a guideline exists but a gene it needs was not
    assessed (``action == "not_assessed"``, amber, the genes in ``missing_genes``, their state in
    ``gene_states`` and what to test in ``testing_advice``); no guideline for the drug
    (``action == "no_guidance"``, grey). ``label`` is the state in a clinician's words, e.g.
    ``"not assessed: DPYD not genotyped"``. A matched caution/dose/avoid action with a gap keeps its
    action and lists the gap (``"adjust dose (TPMT Intermediate Metabolizer); not assessed: NUDT15 not genotyped"``).
    """

    drug: str
    action: Action
    colour: str
    sources_differ: bool = False
    sources: tuple[SourceAction, ...] = ()
    recommendations: tuple[GuidelineQuote, ...] = ()
    genes: tuple[str, ...] = ()
    missing_genes: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    knowledge_base_version: str | None = None
    label: str = ""
    gene_states: dict[str, str] = Field(default_factory=dict)
    testing_advice: tuple[TestingAdvice, ...] = ()
    has_guideline: bool = False

    @property
    def state(self) -> Literal["guideline", "not_assessed", "no_guideline"]:
        """``guideline`` (a guideline applies and says :attr:`action`), ``not_assessed`` or ``no_guideline``."""
        if self.action == "not_assessed":
            return "not_assessed"
        if self.action == "no_guidance":
            return "no_guideline"
        return "guideline"

    @property
    def first_text(self) -> str:
        """The first sentence-ish line of the most severe matched recommendation (verbatim), or ``""``."""
        for q in self.recommendations:
            if q.action == self.action and q.text_plain:
                return q.text_plain.split("\n")[0]
        return self.recommendations[0].text_plain.split("\n")[0] if self.recommendations else ""


class BiomarkerEvidence(_Frozen):
    """A tumour finding that bears on a drug of the option (or on the tumour in general)."""

    finding: str
    gene: str
    alteration: str
    direction: Literal["sensitivity", "resistance"]
    evidence_level: str
    level_for_patient: str | None = None
    matched_in_patient_cancer_type: bool = False
    therapies: tuple[str, ...] = ()
    drugs_in_option: tuple[str, ...] = ()
    cancer_types: tuple[str, ...] = ()
    statement: str = ""
    citations: tuple[dict[str, Any], ...] = ()
    source: str = ""
    match_method: str = ""


class VariantEvidence(_Frozen):
    """A germline or tumour variant in a gene whose loss changes a therapy (BRCA1/2: PARP inhibitors, platinum),
    with its variant-effect evidence, shown beside the option (:mod:`genomics.biomarkers.variant_evidence`).

    ``supports``: ``loss_of_function`` (frameshift / stop gained / canonical splice / start lost: establishes
    PARP-inhibitor eligibility), ``predicted_pathogenic`` (a VUS whose calibrated P(pathogenic) has a 90% lower
    bound >= ``threshold``: "eligible (predicted pathogenic VUS; confirm)", never green) or
    ``not_established`` (a VUS: evidence only). ``probability`` / ``interval`` come from the fitted
    variant-effect combination (``combination``), ``parts`` / ``contributions`` say which parts contributed.
    """

    gene: str
    variant: str
    source: str
    classification: str
    consequence: str | None = None
    detail: str = ""
    supports: Literal["loss_of_function", "predicted_pathogenic", "not_established", "benign_like"]
    label: str = ""
    coding: str = ""
    protein_change: str | None = None
    zygosity: str | None = None
    exon_boundary_distance: int | None = None
    lm_llr: float | None = None
    lm_status: str = "not computed"
    probability: float | None = None
    interval: tuple[float, float] | None = None
    parts: dict[str, float | None] = Field(default_factory=dict)
    contributions: dict[str, float] = Field(default_factory=dict)
    contributing_parts: tuple[str, ...] = ()
    not_assessed: tuple[str, ...] = ()
    threshold: float = 0.9
    combination: str | None = None
    record: str = ""


class GermlineGeneState(_Frozen):
    """One therapy-relevant gene in the germline data: ``pathogenic_variant``, ``vus``, ``no_reportable_variant``
    (calls in the gene, none reportable: not proof of a normal gene) or ``not_assessed`` (never "wild type")."""

    gene: str
    status: Literal["pathogenic_variant", "vus", "no_reportable_variant", "not_assessed"]
    detail: str = ""
    calls: int = 0


class EligibilityCheck(_Frozen):
    """Whether the tumour shows the biomarker a drug of the option is indicated with.

    ``status``: ``eligible`` (the required biomarker is shown), ``not_established`` (unknown: no tumour data,
    or the gene not covered; ``test`` says what to test), ``contraindicated`` (the tumour's biomarker is
    against the drug: the option is ``avoid``). ``label`` is the clinician wording
    (``"eligibility not established: test KRAS, NRAS, BRAF"``); ``citations`` are the label / guideline
    the requirement comes from (``genomics/biomarkers/data/biomarker_therapy.json``,
    ``eligibility_requirements``).
    """

    drug: str
    status: Eligibility
    requirement_id: str
    requirement: str
    genes: tuple[str, ...] = ()
    test: str = ""
    reason: str = ""
    label: str = ""
    findings: tuple[str, ...] = ()
    citations: tuple[dict[str, Any], ...] = ()
    #: The variants behind the state (germline / tumour, with variant-effect evidence for a VUS).
    evidence: tuple[VariantEvidence, ...] = ()

    @property
    def colour(self) -> str:
        return ELIGIBILITY_COLOURS[self.status]


class Disagreement(_Frozen):
    """A place where the model's numbers and the guidance or evidence point different ways, said plainly."""

    kind: Literal["avoid_ranked_first_by_model", "avoid_ranked_above_unflagged", "dose_guidance_ranked_first",
                  "resistance_ranked_first", "resistance_but_best_response", "sources_differ", "avoid_override",
                  "eligibility_not_established", "biomarker_contraindicated", "pgx_not_assessed_ranked_first"]
    regimen: str
    drug: str | None = None
    source: str | None = None
    message: str


class RankedOption(_Frozen):
    """One candidate treatment with everything known about it, in rank order.

    ``guidance_action`` is the most severe state of its drugs (:func:`genomics.pgx.actions.worst_action`;
    ``not_assessed`` is never green, so FOLFIRI is amber when its fluorouracil is unassessed), raised to
    ``avoid`` when a tumour biomarker contraindicates a drug (``eligibility == "contraindicated"``).
    ``guidance_label`` says it in words (``"not assessed: DPYD not genotyped (fluorouracil)"``);
    ``missing_genes`` lists every pharmacogene of its drugs that was not assessed.
    ``eligibility`` is the least favourable :class:`EligibilityCheck` of its biomarker-restricted drugs
    (``eligible`` when none is restricted); ``eligibility_label`` says it in words. An option whose
    eligibility is ``not_established`` is never ranked first when an eligible one exists
    (:mod:`recommender.eligibility`).
    """

    rank: int = Field(ge=1)
    model_rank: int | None = None
    regimen: str
    drugs: tuple[str, ...]
    model: ModelPrediction
    guidance_action: Action = "no_guidance"
    pgx: tuple[PgxFlag, ...] = ()
    biomarkers: tuple[BiomarkerEvidence, ...] = ()
    disagreements: tuple[Disagreement, ...] = ()
    warnings: tuple[str, ...] = ()
    rank_reason: str = ""
    guidance_label: str = ""
    missing_genes: tuple[str, ...] = ()
    eligibility: Eligibility = "eligible"
    eligibility_checks: tuple[EligibilityCheck, ...] = ()
    eligibility_label: str = ""
    #: BRCA1/2 (germline or tumour) variants and their variant-effect evidence, beside PARP-inhibitor and
    #: platinum options (:mod:`recommender.variant_evidence`).
    variant_evidence: tuple[VariantEvidence, ...] = ()

    @property
    def guidance_colour(self) -> str:
        return ACTION_COLOURS[self.guidance_action]

    @property
    def eligibility_colour(self) -> str:
        return ELIGIBILITY_COLOURS[self.eligibility]


class GeneSummary(_Frozen):
    """One pharmacogene of the patient (for the summary table)."""

    gene: str
    status: str
    diplotype: str | None = None
    phenotype: str | None = None
    activity_score: str | None = None
    functional_phenotype: str | None = None
    note: str | None = None
    #: ``status`` in a clinician's words ("not callable from the data"); ``note`` keeps the reason codes.
    status_text: str | None = None
    #: the reason codes of ``note`` in a clinician's words.
    note_text: str | None = None


# --------------------------------------------------------------------------------------------- provenance
class Provenance(_Frozen):
    """Everything a result was computed with (DESIGN.md: every output carries provenance)."""

    package: str = "genomics-treatment-recommender"
    package_version: str = Field(default_factory=package_version)
    created: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    genome_build: str = "GRCh38"
    model_bundle_id: str | None = None
    model_bundle_sha256: str | None = None
    model_trained_on: str | None = None
    feature_schema_hash: str | None = None
    pgx_knowledge_base: dict[str, Any] = Field(default_factory=dict)
    biomarker_tables: tuple[dict[str, Any], ...] = ()
    dna_lm: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    notes: tuple[str, ...] = ()


class SignedReview(_Frozen):
    """The physician's signed decision on a result, as it is printed in the report and the PDF.

    ``shown_sha256`` is the sha256 of the exact Recommendation JSON the reviewer saw
    (:func:`recommender.store.json_sha256`); the report compares it with the result it renders and says
    whether it shows the signed version. Build it from a stored review with :meth:`from_stored`.
    """

    reviewer: str
    role: str | None = None
    signed_at: str
    decision: Literal["accept", "modify", "reject"]
    chosen_option: str | None = None
    dose_note: str | None = None
    comment: str | None = None
    shown_sha256: str
    review_id: int | None = None
    audit_hash: str | None = None

    @classmethod
    def from_stored(cls, review: Any, *, role: str | None = None) -> SignedReview:
        """From a :class:`recommender.store.StoredReview` (or anything with its attributes / keys)."""
        get = review.get if isinstance(review, dict) else (lambda k, d=None: getattr(review, k, d))
        when = get("reviewed_at") or get("signed_at")
        when = when.isoformat(timespec="seconds") if hasattr(when, "isoformat") else str(when)
        return cls(reviewer=str(get("reviewer")), role=role or get("role"), signed_at=when,
                   decision=get("decision"), chosen_option=get("chosen_option"), dose_note=get("dose_note"),
                   comment=get("reason") if get("comment") is None else get("comment"),
                   shown_sha256=str(get("shown_sha256")), review_id=get("id") if get("review_id") is None
                   else get("review_id"), audit_hash=get("audit_hash"))


class ModelStatus(_Frozen):
    """Whether model numbers are in this result, and if not, why."""

    available: bool
    reason: str | None = None
    bundle_id: str | None = None
    trained_on: str | None = None


# --------------------------------------------------------------------------------------------- the result
class Recommendation(_Frozen):
    """Ranked, explained, evidence-backed options for one patient (schema :data:`RECOMMENDATION_SCHEMA_VERSION`)."""

    schema_version: Literal["recommendation/1.0"] = RECOMMENDATION_SCHEMA_VERSION
    patient_id: str
    cancer_type: str | None = None
    options: tuple[RankedOption, ...]
    ranking_rule: str
    model_status: ModelStatus
    pharmacogenes: tuple[GeneSummary, ...] = ()
    pgx_sample: str | None = None
    pgx_profile: dict[str, Any] | None = None
    tumour_findings: tuple[BiomarkerEvidence, ...] = ()
    tumour_vus: tuple[dict[str, Any], ...] = ()
    #: Therapy-relevant genes read from the germline VCF (BRCA1/2), each with its state.
    germline_genes: tuple[GermlineGeneState, ...] = ()
    disagreements: tuple[Disagreement, ...] = ()
    warnings: tuple[str, ...] = ()
    disclaimer: str = DISCLAIMER
    provenance: Provenance
    #: Every pharmacogene a candidate drug's guideline needs that was not assessed (union over options).
    missing_genes: tuple[str, ...] = ()

    # live objects for the report (not serialised): the PGx guidance list behind the flags
    _guidance: Any = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:  # the live guidance objects are not part of the value
        if isinstance(other, Recommendation):
            return self.model_dump() == other.model_dump()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    @property
    def top(self) -> RankedOption | None:
        """The first-ranked option (``None`` without options)."""
        return self.options[0] if self.options else None

    def option(self, regimen: str) -> RankedOption:
        """The option named ``regimen`` (``KeyError`` if absent)."""
        for o in self.options:
            if o.regimen == regimen:
                return o
        raise KeyError(regimen)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)

    @classmethod
    def from_json(cls, text: str | bytes) -> Recommendation:
        return cls.model_validate_json(text)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recommendation:
        return cls.model_validate(data)
