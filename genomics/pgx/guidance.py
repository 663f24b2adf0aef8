"""CPIC and DPWG guidance per drug for a pharmacogenomic profile, quoted verbatim.

Matching
--------
Each recommendation row of a guideline has a ``lookupKey``: gene -> value. The value is the gene's
lookup key from the phenotype tables (an activity score for CYP2C9/CYP2D6/DPYD, else the phenotype),
an allele -> count object for the few DPWG rows that key on a diplotype (``{"*1": 1, "*28": 1}``), or
``"<allele> positive|negative"`` for HLA-A/HLA-B (outside calls). The lookup key is computed per source
(CPIC and DPWG tables differ: DPWG DPYD keys read ``"1.0 (Intermediate Metabolizer)"``).

* A row matches when every gene in its key matches. A gene absent from the profile (or present but not
  called) matches only a row whose value for it is ``"No Result"``: CPIC's own recommendation for a
  missing result (PharmCAT does the same). The gene is then named in ``missing_genes`` of the row and the
  drug's messages. Without such a row the guideline gives no match and the message says which gene is
  missing.
* A gene with several equally good diplotypes (unphased data) is ambiguous for a row when its candidates
  disagree on that row: no single match is reported; the candidates are listed instead.

Action (the DESIGN.md vocabulary)
---------------------------------
:func:`classify_recommendation` maps one row to ``standard`` / ``adjust_dose`` / ``caution`` / ``avoid`` /
``no_guidance`` by documented rules (``ACTION_RULES``) read from the row's structured fields and the
directive sentences of its text. The drug's action is the most severe over all matched rows of all sources
(order and colours: :mod:`genomics.pgx.actions`); each source's own action is kept in
``DrugGuidance.summaries`` and ``sources_differ`` says when CPIC and DPWG disagree.

Gaps are never green: when a guideline exists for the drug but a gene it needs is missing from the
profile, not callable, indeterminate or ambiguous (:data:`GAP_STATUSES`), the drug is ``not_assessed``
(amber) with those genes in ``DrugGuidance.missing_genes``, their state in ``gene_states`` and the
pre-treatment testing advice of :mod:`genomics.pgx.pretreatment` in ``testing_advice``. A matched
``standard`` (or silent) recommendation with such a gap also becomes ``not_assessed``; a matched
caution / dose / avoid action is kept, with the gap named beside it (``label``). ``no_guidance`` is kept
for a drug without a guideline, or whose guideline is silent for a fully assessed genotype.

The same recommendation text matched through two rows of one guideline (DPWG irinotecan has a
``Poor Metabolizer`` row and a ``*28/*28`` row with identical text) is listed once.

Guideline text is never paraphrased: ``text_html`` is the table's HTML as is and ``text_plain`` is the same
words with the tags removed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from importlib import metadata
from typing import Any

from genomics.pgx.actions import ACTION_COLOURS, ACTION_LABELS, ACTION_SEVERITY, ACTIONS
from genomics.pgx.knowledge_base import KnowledgeBase, active_knowledge_base
from genomics.pgx.phenotypes import (
    HLA_GENES,
    PhenotypeCall,
    assign_phenotype,
    canonical_gene,
    phenotype_from_outside_call,
)

__all__ = [
    "ACTIONS",
    "ACTION_COLOURS",
    "ACTION_RULES",
    "GAP_STATUSES",
    "DrugGuidance",
    "GeneInput",
    "GeneResult",
    "GuidelineRecommendation",
    "SourceSummary",
    "classify_recommendation",
    "drugs_with_guidelines",
    "gene_inputs_from_profile",
    "guidance_for_drug",
    "guidance_for_profile",
    "html_to_text",
]

# The guidance-action vocabulary (order, colours, labels) is defined once, in genomics.pgx.actions;
# ACTIONS and ACTION_COLOURS are re-exported here for existing callers.
_SEVERITY = ACTION_SEVERITY
#: Gene-result statuses (``GeneResult.status``) that leave a guideline's gene unassessed.
GAP_STATUSES: tuple[str, ...] = ("missing", "not_called", "indeterminate", "ambiguous")
#: How each gap status is said to a clinician.
GAP_WORDS = {"missing": "not genotyped", "not_called": "not callable from the data",
             "indeterminate": "genotype indeterminate", "ambiguous": "genotype ambiguous"}
SOURCES: tuple[str, ...] = ("CPIC", "DPWG")
NO_RESULT = "No Result"

#: The rules of :func:`classify_recommendation`, in the order they are tried (documented; tested).
ACTION_RULES: tuple[tuple[str, str], ...] = (
    ("no_guidance_text", "the recommendation text begins 'No recommendation', 'The guideline does not provide a "
                         "recommendation', 'n/a', or is CPIC's 'xN is not a valid input' note -> no_guidance"),
    ("first_directive", "the text before 'Other Considerations' is split into sentences and list items; a leading "
                        "'If/For/When/In/Based on ...,' clause and list bullets are skipped; each sentence that starts "
                        "with a directive is classed: avoid ('Avoid X', 'Select/Choose/Use/Prescribe/Recommend an "
                        "alternative', 'do not use', 'X is contraindicated', 'X is not recommended'; an avoid with a "
                        "condition other than 'if possible/if an alternative is available' is caution); adjust_dose "
                        "('Reduce/Increase/Double', 'Start with N%/reduced', 'Initiate with N%/a dose of', 'Use 1.5 "
                        "times', 'Prescribe <=20mg', 'Consider a 25% reduction/lower dose', 'For subsequent doses'); "
                        "standard ('Initiate therapy with recommended starting dose', 'Use ... at/per standard dose', "
                        "'Use label-recommended dosing', 'No action is needed', 'No reason to avoid', 'Prescribe "
                        "desired starting dose'; with 'caution'/'close monitoring' in it -> caution); caution "
                        "('Consider ...', 'Monitor', 'Be alert', 'Determine/measure ...', 'Carefully weigh'). "
                        "Non-directive sentences ('It is not possible to ...') and co-medication advice ('Avoid "
                        "moderate and strong CYP2D6 inhibitors') are skipped. The first directive decides"),
    ("later_directive", "a later adjust_dose/avoid directive is more severe than the first (e.g. 'Initiate standard "
                        "starting daily dose. For chronic therapy ..., consider 50% reduction' -> adjust_dose): the "
                        "most severe wins. Later caution sentences, and options introduced by 'If/When/Should ...', "
                        "'If ...:' or 'Alternatively', never change the action"),
    ("classification_no_recommendation", "no directive found and classification is 'No recommendation' -> "
                                         "no_guidance"),
    ("flag_alternate_drug", "no directive found, alternateDrugAvailable -> caution"),
    ("flag_dosing", "no directive found, dosingInformation -> adjust_dose"),
    ("fallback_caution", "no directive found otherwise -> caution (never green without an explicit "
                         "standard-dosing sentence)"),
)

@lru_cache(maxsize=1)
def _package_version() -> str:
    try:
        return metadata.version("genomics-treatment-recommender")
    except metadata.PackageNotFoundError:  # pragma: no cover - source checkout without install
        return "unknown"


# ---------------------------------------------------------------------------------------------------
# HTML -> plain text (no word changed)


class _TextExtractor(HTMLParser):
    _BLOCK = frozenset({"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "br",
                        "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self._BLOCK:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")
        if tag in {"td", "th"}:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(text_html: str) -> str:
    """The words of ``text_html`` without tags (entities decoded, one paragraph or list item a line)."""
    parser = _TextExtractor()
    parser.feed(text_html or "")
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
    return "\n".join(line for line in lines if line)


# ---------------------------------------------------------------------------------------------------
# action mapping

_LEAD = re.compile(r"^(?:(?:if|for|when|in|based|after|during)\b[^,:;]{0,160}[,:]\s*)+")
_CONDITIONAL = re.compile(r"^(?:if|when|in the event|in case|should)\b")
_BULLET = re.compile(r"^(?:[-•*]\s*|\d+\.\s+)+")
_NO_GUIDANCE = re.compile(
    r"^(?:no recommendation|the guideline does not provide a recommendation|xn is not a valid input"
    r"|there (?:is|are) no recommendations?|n/?a\.?$)")
_SKIP = re.compile(r"^avoid\b.*\binhibitors?\b")  # co-medication advice (phenoconversion), not this drug's dose
_AVOID = re.compile(
    r"^(?:avoid\b|do not (?:use|prescribe|administer|start)|(?:select|choose|use|prescribe|recommend) (?:an? |the )?"
    r"alternative|.{0,160}\b(?:is|are) (?:relatively )?contra-?indicated|.{0,80}\b(?:is|are) not recommended)")
_AVOID_CONDITION_OK = re.compile(r"\bif (?:possible|an alternative|alternatives?|available|no contraindication)")
_ADJUST = re.compile(
    r"^(?:reduce|increase|decrease|lower the|double|halve|start (?:with|at) (?!(?:the )?(?:standard|normal|usual))"
    r"|initiate (?:therapy |the dose |dose )?(?:with |at )?(?:a |an )?(?:\d|reduced|lower|higher|decreased|increased)"
    r"|initiate (?:with )?a dose|initiate (?:the )?dose at|use (?:a |an )?(?:\d|reduced|lower|higher|decreased|increased)"
    r"|use the maximum dose|consider .{0,80}\b(?:\d+\s*%|reduc|lower (?:starting |maintenance )?dose|higher (?:target |"
    r"maintenance |starting )?dose|decreased dose|increas\w* (?:the )?dose|dose (?:reduction|increase))"
    r"|prescribe (?:a |an )?(?:≤|<|\d|reduced|lower|higher)|prescribe ≤|for subsequent doses"
    r"|(?:the )?(?:starting |initial |maintenance )?dose should be|the recommended (?:initial |starting )?dose is \d"
    r"|titrate|administer (?:\d|a reduced|a lower)|give (?:\d|a reduced|a lower)|adjust the (?:initial |starting )?dose"
    r"|recommend(?:ed)? (?:to )?(?:use|start|give) (?:a |an )?(?:\d|reduced|lower|higher)"
    r"|use smaller steps|(?:prescribe|use|administer|give) no more than|do not exceed|do not give doses exceeding"
    r"|use (?:half|an initial dose))")
_STANDARD = re.compile(
    r"^(?:initiate (?:therapy )?with (?:the )?(?:recommended|standard|normal|label)|initiate standard"
    r"|initiate .{0,40}with (?:the )?standard|use (?:the )?(?:label-recommended|standard|normal|recommended)"
    r"|use .{0,80}\b(?:at|per|in) (?:the )?(?:standard|normal|recommended|label)|use .{0,40}label[- ]recommended"
    r"|use .{0,40}according to the (?:product )?label|no action|no adjustments?|no (?:dose )?adjustment"
    r"|no reason to avoid|there is no (?:indication to change|need to avoid)|prescribe (?:the )?desired starting dose"
    r"|prescribe (?:the )?(?:standard|normal)|use typical|start (?:at|with) (?:the )?(?:standard|normal|usual)"
    r"|standard dos|no change)")
_CAUTION = re.compile(
    r"^(?:consider\b|monitor|be (?:extra )?alert|use with caution|cautiously|caution|determine|measure"
    r"|to ascertain|.{0,60}must be measured|clinical findings|further genetic testing|evaluate|check|advise"
    r"|test\b|an alternative can|select a drug|it may be necessary|carefully weigh|regularly monitor)")


def _directive_sentences(text_plain: str) -> list[str]:
    parts = re.split(r"(?<=[.;:!?])\s+|\n+|\s+-\s+", text_plain)
    out = []
    for part in parts:
        part = _BULLET.sub("", part.strip()).strip().lower()
        if part:
            out.append(part)
    return out


def _classify_sentence(sentence: str) -> str | None:
    s = _LEAD.sub("", sentence).strip()
    s = _BULLET.sub("", s).strip()
    if _SKIP.match(s):
        return None
    if _NO_GUIDANCE.match(s):
        return "no_guidance"
    if _AVOID.match(s):
        rest = s.split(" if ", 1)
        if len(rest) == 2 and not _AVOID_CONDITION_OK.search("if " + rest[1]):
            return "caution"  # 'choose an alternative if liver enzymes are elevated': conditional
        return "avoid"
    if _ADJUST.match(s):
        return "adjust_dose"
    if _STANDARD.match(s):
        return "caution" if re.search(r"\bcaution\b|close monitoring", s) else "standard"
    if _CAUTION.match(s):
        return "caution"
    return None


def _primary_html(text_html: str) -> str:
    """The recommendation itself: the HTML before an 'Other Considerations' heading."""
    match = re.search(r"<h\d[^>]*>\s*other considerations", text_html or "", flags=re.IGNORECASE)
    return text_html[: match.start()] if match else (text_html or "")


def classify_recommendation(row: Mapping[str, Any]) -> tuple[str, str]:
    """Map one recommendation row (PharmCAT JSON) to ``(action, rule)`` by :data:`ACTION_RULES`."""
    text_html = ((row.get("text") or {}).get("html")) or ""
    primary = html_to_text(_primary_html(text_html))
    sentences = _directive_sentences(primary)
    term = ((row.get("classification") or {}).get("term") or "").strip().lower()
    if sentences and _NO_GUIDANCE.match(_LEAD.sub("", sentences[0])):
        return "no_guidance", "no_guidance_text"
    first: str | None = None
    later: list[str] = []
    option_follows = False  # the previous sentence opened a condition ('If ...:') or an option ('Alternatively')
    for sentence in sentences:
        conditional = option_follows or bool(_CONDITIONAL.match(sentence)) or sentence.startswith("alternatively")
        option_follows = (bool(_CONDITIONAL.match(sentence)) and sentence.endswith(":")) or \
            sentence.startswith("alternatively")
        cls = _classify_sentence(sentence)
        if cls is None or cls == "no_guidance":
            continue
        if first is None:
            first = cls
            continue
        if not conditional and _SEVERITY[cls] > _SEVERITY["caution"]:
            later.append(cls)  # later caution and conditional options never change the action
    if first is not None:
        worst = max([first, *later], key=_SEVERITY.__getitem__)
        if _SEVERITY[worst] > _SEVERITY[first]:
            return worst, "later_directive"
        return first, "first_directive"
    if term == "no recommendation":
        return "no_guidance", "classification_no_recommendation"
    if row.get("alternateDrugAvailable"):
        return "caution", "flag_alternate_drug"
    if row.get("dosingInformation"):
        return "adjust_dose", "flag_dosing"
    return "caution", "fallback_caution"


# ---------------------------------------------------------------------------------------------------
# result types


@dataclass(frozen=True)
class GeneInput:
    """What guidance needs to know about one gene (built from a profile or given directly).

    ``diplotypes``: every equally good candidate ``(allele1, allele2)``; ``allele2=None`` for hemizygous
    G6PD / MT-RNR1. ``phenotype``/``activity_score``: for outside calls that give no diplotype.
    ``called=False``: the gene is in the profile but could not be called (matches only 'No Result' rows).
    """

    gene: str
    diplotypes: tuple[tuple[str, str | None], ...] = ()
    phenotype: str | None = None
    activity_score: str | None = None
    sex: str | None = None
    call_source: str = "vcf"
    called: bool = True
    note: str | None = None
    phased: bool = False
    missing_rsids: tuple[str, ...] = ()


@dataclass(frozen=True)
class GeneResult:
    """The gene result behind a drug's guidance, for one guideline source."""

    gene: str
    source: str
    call_source: str
    status: str  # "determinate" | "ambiguous" | "not_called" | "missing"
    diplotypes: tuple[str, ...]
    phenotypes: tuple[str, ...]
    activity_scores: tuple[str, ...]
    lookup_keys: tuple[str, ...]
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GuidelineRecommendation:
    """One matched recommendation row, verbatim, with its source, strength and citations."""

    source: str
    guideline_id: str
    guideline_name: str
    guideline_url: str | None
    drugs: tuple[str, ...]
    genes: tuple[str, ...]
    lookup_key: dict[str, Any]
    population: str | None
    strength: str | None
    text_html: str
    text_plain: str
    implications: tuple[str, ...]
    pmids: tuple[str, ...]
    citations: tuple[dict[str, Any], ...]
    version: str | None
    dosing_information: bool
    alternate_drug_available: bool
    other_prescribing_guidance: bool
    action: str
    action_rule: str
    recommendation_id: str | None = None
    trusted_html: bool = True
    missing_genes: tuple[str, ...] = ()

    @property
    def drug(self) -> str:
        return self.drugs[0] if self.drugs else ""

    @property
    def classification(self) -> str | None:
        return self.strength

    @property
    def text_verbatim(self) -> str:
        """The guideline's text exactly as the table holds it (HTML)."""
        return self.text_html

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["drug"] = self.drug
        return data


@dataclass(frozen=True)
class SourceSummary:
    """What one source (CPIC or DPWG) says about one drug for this patient."""

    source: str
    action: str
    status: str  # "matched" | "ambiguous" | "missing_gene" | "no_matching_row" | "no_guideline"
    guidelines: tuple[str, ...]
    message: str
    recommendation_count: int = 0
    missing_genes: tuple[str, ...] = ()
    candidates: tuple[dict[str, Any], ...] = ()

    @property
    def colour(self) -> str:
        return ACTION_COLOURS[self.action]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["colour"] = self.colour
        return data


@dataclass(frozen=True)
class DrugGuidance:
    """The per-drug summary a physician reads first, with the rows and gene results behind it.

    Attributes
    ----------
    action : str
        One word of :data:`genomics.pgx.actions.ACTIONS`; ``not_assessed`` when a guideline exists but a gene
        it needs was not assessed, ``no_guidance`` when there is no guideline (or it is silent).
    missing_genes : tuple[str, ...]
        Genes a guideline of this drug needs that were not genotyped, not callable, indeterminate or
        ambiguous (empty when everything was assessed).
    gene_states : dict[str, str]
        ``gene -> clinician words`` for each missing gene (``"not genotyped"``, ``"not callable from the
        data"``, ``"genotype ambiguous"``...).
    testing_advice : tuple[PretreatmentTest, ...]
        Pre-treatment testing advice for the missing genes (:mod:`genomics.pgx.pretreatment`).
    has_guideline : bool
        True when CPIC or DPWG has a guideline for the drug in the knowledge base.
    """

    drug: str
    action: str
    summaries: tuple[SourceSummary, ...]
    sources_differ: bool
    gene_results: tuple[GeneResult, ...]
    recommendations: tuple[GuidelineRecommendation, ...]
    messages: tuple[str, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)
    missing_genes: tuple[str, ...] = ()
    gene_states: dict[str, str] = field(default_factory=dict)
    testing_advice: tuple[Any, ...] = ()
    has_guideline: bool = False

    @property
    def colour(self) -> str:
        return ACTION_COLOURS[self.action]

    @property
    def gap_text(self) -> str:
        """``"DPYD not genotyped"`` (one phrase per missing gene), ``""`` without a gap."""
        return ", ".join(f"{g} {self.gene_states.get(g, 'not assessed')}" for g in self.missing_genes)

    @property
    def label(self) -> str:
        """Clinician wording of the state: ``"not assessed: DPYD not genotyped"``,
        ``"standard dosing (DPYD Normal Metabolizer)"``,
        ``"adjust dose (TPMT Intermediate Metabolizer); not assessed: NUDT15 not genotyped"``,
        ``"no guideline for this drug"``."""
        if self.action == "not_assessed":
            return f"not assessed: {self.gap_text}" if self.missing_genes else "not assessed"
        if self.action == "no_guidance":
            return ("no recommendation for this genotype" if self.has_guideline else "no guideline for this drug")
        base = ACTION_LABELS[self.action]
        basis = self.basis_text
        if basis:
            base = f"{base} ({basis})"
        return f"{base}; not assessed: {self.gap_text}" if self.missing_genes else base

    @property
    def basis_text(self) -> str:
        """The gene results the matched recommendations rest on (``"DPYD Normal Metabolizer"``), ``""`` if none."""
        genes = list(dict.fromkeys(g for r in self.recommendations for g in r.genes if g not in r.missing_genes))
        out = []
        for g in genes:
            gr = next((x for x in self.gene_results if x.gene == g and x.status == "determinate"), None)
            if gr is None:
                continue
            pheno = "/".join(p for p in gr.phenotypes if p) or "/".join(k for k in gr.lookup_keys if k)
            if pheno:
                out.append(f"{g} {pheno}")
        return ", ".join(out)

    @property
    def per_source(self) -> dict[str, SourceSummary]:
        return {s.source: s for s in self.summaries}

    def to_dict(self) -> dict[str, Any]:
        return {
            "drug": self.drug,
            "action": self.action,
            "colour": self.colour,
            "sources_differ": self.sources_differ,
            "summaries": [s.to_dict() for s in self.summaries],
            "gene_results": [g.to_dict() for g in self.gene_results],
            "recommendations": [r.to_dict() for r in self.recommendations],
            "messages": list(self.messages),
            "provenance": self.provenance,
            "label": self.label,
            "basis": self.basis_text,
            "missing_genes": list(self.missing_genes),
            "gene_states": dict(self.gene_states),
            "testing_advice": [t.to_dict() for t in self.testing_advice],
            "has_guideline": self.has_guideline,
        }


# ---------------------------------------------------------------------------------------------------
# inputs


def _as_gene_input(gene: str, value: Any) -> GeneInput:
    gene = canonical_gene(gene)
    if isinstance(value, GeneInput):
        return value
    if isinstance(value, PhenotypeCall):
        parts = value.diplotype.split("/", 1) if value.diplotype else []
        if parts:
            return GeneInput(gene, ((parts[0], parts[1] if len(parts) > 1 else None),), call_source="input")
        return GeneInput(gene, phenotype=value.phenotype, activity_score=value.activity_score,
                         call_source="input")
    if hasattr(value, "gene") and hasattr(value, "diplotypes") and hasattr(value, "status"):
        return _from_gene_call(value)
    if isinstance(value, str):
        if "/" in value:
            a, b = value.split("/", 1)
            return GeneInput(gene, ((a.strip(), b.strip()),), call_source="input")
        return GeneInput(gene, phenotype=value, call_source="input")
    if isinstance(value, tuple) and len(value) == 2 and all(v is None or isinstance(v, str) for v in value):
        return GeneInput(gene, (value,), call_source="input")  # type: ignore[arg-type]
    if isinstance(value, (list, tuple)):
        return GeneInput(gene, tuple((d[0], d[1] if len(d) > 1 else None) for d in value), call_source="input")
    if value is None:
        return GeneInput(gene, called=False, call_source="input")
    raise TypeError(f"cannot read a gene result for {gene} from {type(value).__name__}")


def _from_gene_call(call: Any) -> GeneInput:
    """Adapter from :class:`genomics.pgx.profile.GeneCall` (duck-typed)."""
    gene = canonical_gene(call.gene)
    call_source = getattr(call, "source", "vcf") or "vcf"
    status = getattr(call, "status", "called")
    sex = getattr(call, "sex", None)
    dips = tuple((d.allele1, d.allele2) for d in getattr(call, "diplotypes", []) or [])
    reasons = list(getattr(call, "reasons", []) or [])
    note = ", ".join(reasons) or None
    extra = {
        "sex": sex, "call_source": call_source, "note": note,
        "phased": bool(getattr(call, "phased", False) or getattr(call, "effectively_phased", False)),
        "missing_rsids": tuple(m.rsid for m in getattr(call, "missing_positions", []) or [] if m.rsid),
    }
    if status in ("not_called", "provisional"):  # provisional: CYP2D6 without copy number (genes/cyp2d6)
        return GeneInput(gene, (), called=False, **extra)
    if status == "incomplete" and not getattr(call, "phenotype", None):
        # missing positions leave alleles not ruled out: do not guess a phenotype
        return GeneInput(gene, (), called=False, **extra)
    if dips:
        return GeneInput(gene, dips, **extra)
    if getattr(call, "phenotype", None) or getattr(call, "activity_score", None):
        return GeneInput(gene, phenotype=call.phenotype, activity_score=call.activity_score, **extra)
    return GeneInput(gene, called=False, **extra)


def gene_inputs_from_profile(profile: Any) -> dict[str, GeneInput]:
    """Gene inputs from a :class:`~genomics.pgx.profile.PgxProfile`, a mapping, or an iterable of GeneInput."""
    genes = getattr(profile, "genes", profile)
    out: dict[str, GeneInput] = {}
    if isinstance(genes, Mapping):
        for gene, value in genes.items():
            gi = _as_gene_input(str(gene), value)
            out[gi.gene] = gi
    else:
        for value in genes:
            gi = value if isinstance(value, GeneInput) else _from_gene_call(value)
            out[gi.gene] = gi
    return out


# ---------------------------------------------------------------------------------------------------
# matching


@dataclass(frozen=True)
class _Candidate:
    alleles: tuple[str, ...] | None
    call: PhenotypeCall | None
    lookup_key: str | None
    label: str


def _candidates(gi: GeneInput, source: str, kb: KnowledgeBase) -> list[_Candidate]:
    if not gi.called:
        return []
    out: list[_Candidate] = []
    if gi.diplotypes:
        for a1, a2 in gi.diplotypes:
            call = assign_phenotype(gi.gene, a1, a2, sex=gi.sex, source=source, kb=kb)
            alleles = (a1,) if a2 is None else (a1, a2)
            out.append(_Candidate(alleles, call, call.lookup_key, call.diplotype))
        return out
    if gi.gene in HLA_GENES:
        return [_Candidate(None, None, gi.phenotype, gi.phenotype or "")]
    call = phenotype_from_outside_call(gi.gene, phenotype=gi.phenotype, activity_score=gi.activity_score,
                                       source=source, sex=gi.sex, kb=kb)
    return [_Candidate(None, call, call.lookup_key, call.phenotype)]


def _hla_match(value: str, cand: _Candidate) -> bool | None:
    text = value.strip()
    if cand.alleles is None:  # outside call given as '*57:01 positive'
        return (cand.lookup_key or "").strip().casefold() == text.casefold()
    present = set(cand.alleles)
    m = re.match(r"^(\*\S+)\s+(positive|negative)$", text)
    if m:
        has = m.group(1) in present
        return has if m.group(2) == "positive" else not has
    m = re.match(r"^(\d{2})(\d{2}) and (\d{2})(\d{2})$", text)  # DPWG '1511 and 1502'
    if m:
        want = {f"*{m.group(1)}:{m.group(2)}", f"*{m.group(3)}:{m.group(4)}"}
        return want <= present
    return None


def _value_matches(gene: str, value: Any, cand: _Candidate) -> bool:
    if isinstance(value, dict):
        if cand.alleles is None:
            return False
        want = {k: int(v) for k, v in value.items()}
        have: dict[str, int] = {}
        for a in cand.alleles:
            have[a] = have.get(a, 0) + 1
        return want == have
    if gene in HLA_GENES:
        return bool(_hla_match(str(value), cand))
    if cand.lookup_key is None:
        return False
    return str(value) == cand.lookup_key or str(value).casefold() == cand.lookup_key.casefold()


def _row_status(row: Mapping[str, Any], cands: Mapping[str, list[_Candidate]]) -> tuple[str, list[str], list[str]]:
    """``(status, missing_genes, ambiguous_genes)``; status: match | fail | ambiguous | missing.

    A gene without candidates (absent or not called) satisfies only a ``"No Result"`` value.
    """
    missing: list[str] = []
    needed: list[str] = []
    ambiguous: list[str] = []
    failed = False
    for raw_gene, value in row["lookupKey"].items():
        gene = canonical_gene(raw_gene)
        gene_cands = cands.get(gene)
        if not gene_cands:
            missing.append(gene)
            if value != NO_RESULT:
                needed.append(gene)
            continue
        if value == NO_RESULT:
            failed = True
            continue
        results = {_value_matches(gene, value, c) for c in gene_cands}
        if results == {False}:
            failed = True
        elif results != {True}:
            ambiguous.append(gene)
    if failed:
        return "fail", missing, ambiguous
    if needed:
        return "missing", needed, ambiguous
    if ambiguous:
        return "ambiguous", missing, ambiguous
    return "match", missing, ambiguous


def _row_drugs(row: Mapping[str, Any], pkg: Mapping[str, Any]) -> list[str]:
    chems = row.get("relatedChemicals") or pkg["guideline"].get("relatedChemicals") or []
    return [c["name"].strip().lower() for c in chems]


def _pkg_genes(pkg: dict[str, Any]) -> list[str]:
    cached = pkg.get("_genes")
    if cached is not None:
        return cached
    genes = [canonical_gene(g.get("symbol") or "") for g in pkg["guideline"].get("relatedGenes") or []
             if g.get("symbol")]
    for row in pkg.get("recommendations") or []:
        for g in row["lookupKey"]:
            if canonical_gene(g) not in genes:
                genes.append(canonical_gene(g))
    pkg["_genes"] = genes
    return genes


def _drug_index(kb: KnowledgeBase) -> dict[str, list[dict[str, Any]]]:
    cache = getattr(kb, "_drug_index", None)
    if cache is not None:
        return cache
    index: dict[str, list[dict[str, Any]]] = {}
    for pkg in kb.guideline_packages():
        names = {c["name"].strip().lower() for c in pkg["guideline"].get("relatedChemicals") or []}
        for row in pkg.get("recommendations") or []:
            names.update(_row_drugs(row, pkg))
        for name in names:
            index.setdefault(name, []).append(pkg)
    kb._drug_index = index  # type: ignore[attr-defined]
    return index


def drugs_with_guidelines(genes: Iterable[str] | None = None, *, kb: KnowledgeBase | None = None) -> list[str]:
    """Every drug with a CPIC/DPWG guideline (optionally: one that involves any of ``genes``)."""
    kb = kb or active_knowledge_base()
    wanted = {canonical_gene(g) for g in genes} if genes is not None else None
    out = []
    for drug, pkgs in _drug_index(kb).items():
        if wanted is None or any(set(_pkg_genes(p)) & wanted for p in pkgs):
            out.append(drug)
    return sorted(out)


def _recommendation(row: Mapping[str, Any], pkg: Mapping[str, Any], drug: str,
                    missing: Sequence[str]) -> GuidelineRecommendation:
    derived = row.get("_derived")
    if derived is None:  # computed once per loaded row
        derived = (*classify_recommendation(row), html_to_text(row["text"]["html"]))
        row["_derived"] = derived  # type: ignore[index]
    action, rule, text_plain = derived
    cites = tuple(
        {k: c.get(k) for k in ("pmid", "title", "journal", "year") if k in c}
        for c in pkg.get("citations") or [] if isinstance(c, dict)
    )
    text_html = row["text"]["html"]
    return GuidelineRecommendation(
        source=pkg["guideline"]["source"].upper(),
        guideline_id=pkg["guideline"]["id"],
        guideline_name=pkg["guideline"]["name"],
        guideline_url=pkg["guideline"].get("url"),
        drugs=tuple(_row_drugs(row, pkg)) or (drug,),
        genes=tuple(canonical_gene(g) for g in row["lookupKey"]),
        lookup_key=dict(row["lookupKey"]),
        population=row.get("population"),
        strength=(row.get("classification") or {}).get("term"),
        text_html=text_html,
        text_plain=text_plain,
        implications=tuple(row.get("implications") or ()),
        pmids=tuple(str(c["pmid"]) for c in cites if c.get("pmid")),
        citations=cites,
        version=pkg.get("version"),
        dosing_information=bool(row.get("dosingInformation")),
        alternate_drug_available=bool(row.get("alternateDrugAvailable")),
        other_prescribing_guidance=bool(row.get("otherPrescribingGuidance")),
        action=action,
        action_rule=rule,
        recommendation_id=row.get("id"),
        trusted_html=bool(pkg.get("_trusted", False)),
        missing_genes=tuple(missing),
    )


def _gene_result(gi: GeneInput | None, gene: str, source: str, cands: list[_Candidate]) -> GeneResult:
    if gi is None:
        return GeneResult(gene, source, "none", "missing", (), (), (), (), "gene not in the profile")
    if not cands:
        return GeneResult(gene, source, gi.call_source, "not_called", (), (), (), (), gi.note)
    keys = tuple(dict.fromkeys(c.lookup_key or "" for c in cands))
    status = "determinate" if len(keys) == 1 and keys[0] else ("ambiguous" if len(cands) > 1 else "indeterminate")
    return GeneResult(
        gene=gene, source=source, call_source=gi.call_source, status=status,
        diplotypes=tuple(c.label for c in cands),
        phenotypes=tuple(dict.fromkeys((c.call.phenotype if c.call else c.label) or "" for c in cands)),
        activity_scores=tuple(dict.fromkeys(c.call.activity_score for c in cands if c.call and c.call.activity_score)),
        lookup_keys=keys,
        note="; ".join(x for x in [gi.note, *dict.fromkeys(c.call.detail for c in cands if c.call and c.call.detail)]
                       if x) or None,
    )


def _same_diplotype(name: str, alleles: tuple[str, ...] | None) -> bool:
    if not alleles:
        return False
    parts = tuple(p.strip() for p in name.split("/"))
    return sorted(parts) == sorted(alleles)


def _pharmcat_messages(drug: str, genes: Sequence[str], inputs: Mapping[str, GeneInput], kb: KnowledgeBase
                       ) -> list[str]:
    """PharmCAT report messages (``reporter/messages.json``) that apply to this drug and these gene results.

    Rules keyed on specific variant genotypes or missing haplotypes are not evaluated here; ambiguity rules
    (``dips``) apply to unphased calls only, as in PharmCAT.
    """
    out: list[str] = []
    for rule in kb.messages():
        m = rule.get("matches") or {}
        if m.get("variant") or m.get("hapsMissing"):
            continue
        drugs = [d.lower() for d in m.get("drugs") or []]
        gene = canonical_gene(m["gene"]) if m.get("gene") else None
        if not (drugs or m.get("dips") or m.get("hapsCalled") or m.get("variantsMissing")):
            continue
        if drugs and drug not in drugs:
            continue
        if gene is None and not drugs:
            continue
        if gene is not None and (gene not in genes or gene not in inputs or not inputs[gene].called):
            continue
        gi = inputs.get(gene) if gene else None
        if m.get("dips"):
            if gi is None or gi.phased:
                continue
            if not any(_same_diplotype(dip, tuple(a for a in d if a)) for dip in m["dips"] for d in gi.diplotypes):
                continue
        if m.get("hapsCalled") and (gi is None or not any(h in d for h in m["hapsCalled"] for d in gi.diplotypes)):
            continue
        if m.get("variantsMissing") and (gi is None or not set(m["variantsMissing"]) & set(gi.missing_rsids)):
            continue
        label = rule.get("exception_type") or "note"
        out.append(f"PharmCAT {label}: {html_to_text(rule.get('message') or '')}")
    return out


def _guidance(drug: str, inputs: Mapping[str, GeneInput], sources: Sequence[str], kb: KnowledgeBase
              ) -> DrugGuidance:
    drug = drug.strip().lower()
    pkgs = _drug_index(kb).get(drug, [])
    summaries: list[SourceSummary] = []
    recs: list[GuidelineRecommendation] = []
    gene_results: dict[tuple[str, str], GeneResult] = {}
    messages: list[str] = []
    for source in sources:
        spkgs = [p for p in pkgs if p["guideline"]["source"].upper() == source]
        if not spkgs:
            summaries.append(SourceSummary(source, "no_guidance", "no_guideline", (),
                                           f"No {source} guideline for {drug} in the knowledge base."))
            continue
        genes = list(dict.fromkeys(g for p in spkgs for g in _pkg_genes(p)))
        cands = {g: _candidates(inputs[g], source, kb) for g in genes if g in inputs}
        for g in genes:
            gene_results[(source, g)] = _gene_result(inputs.get(g), g, source, cands.get(g, []))
        matched: list[GuidelineRecommendation] = []
        ambiguous_genes: set[str] = set()
        missing_genes: set[str] = set()
        rows_for_drug = 0
        for pkg in spkgs:
            for row in pkg.get("recommendations") or []:
                if drug not in _row_drugs(row, pkg):
                    continue
                rows_for_drug += 1
                status, missing, amb = _row_status(row, cands)
                if status == "match":
                    matched.append(_recommendation(row, pkg, drug, missing))
                elif status == "ambiguous":
                    ambiguous_genes.update(amb)
                elif status == "missing":
                    missing_genes.update(missing)
        names = tuple(dict.fromkeys(p["guideline"]["name"] for p in spkgs))
        if matched:
            action = max((r.action for r in matched), key=_SEVERITY.__getitem__)
            no_result = sorted({g for r in matched for g in r.missing_genes})
            msg = f"{len(matched)} {source} recommendation(s) matched."
            if no_result:
                msg += (f" {', '.join(no_result)} not called: matched {source}'s 'No Result' row for "
                        f"{'it' if len(no_result) == 1 else 'them'}.")
            summaries.append(SourceSummary(source, action, "matched", names, msg, len(matched),
                                           tuple(no_result)))
            recs.extend(matched)
            if no_result:
                messages.append(f"{source} {drug}: {msg}")
        elif ambiguous_genes:
            cand_list = tuple(
                {"gene": g, "diplotype": c.label, "phenotype": c.call.phenotype if c.call else c.label,
                 "lookup_key": c.lookup_key}
                for g in sorted(ambiguous_genes) for c in cands.get(g, [])
            )
            msg = (f"No single {source} recommendation: {', '.join(sorted(ambiguous_genes))} has several equally "
                   "likely diplotypes with different results (see candidates); phased data or another test "
                   "would resolve it.")
            summaries.append(SourceSummary(source, "not_assessed", "ambiguous", names, msg, 0,
                                           tuple(sorted(ambiguous_genes)), cand_list))
            messages.append(f"{source} {drug}: {msg}")
        elif missing_genes:
            msg = (f"No {source} recommendation: {', '.join(sorted(missing_genes))} "
                   f"{'is' if len(missing_genes) == 1 else 'are'} missing from the profile or not called, and the "
                   "guideline needs every gene it names.")
            summaries.append(SourceSummary(source, "not_assessed", "missing_gene", names, msg, 0,
                                           tuple(sorted(missing_genes))))
            messages.append(f"{source} {drug}: {msg}")
        else:
            detail = "; ".join(
                f"{gr.gene}={'/'.join(k for k in gr.lookup_keys if k) or gr.status}"
                + (f" [{gr.note}]" if gr.note and gr.status != "determinate" else "")
                for (s, _), gr in gene_results.items() if s == source)
            why = "the guideline has no recommendation rows (a dosing algorithm)" if rows_for_drug == 0 else \
                f"no row for this result ({detail})"
            unassessed = tuple(sorted(gr.gene for (s, _), gr in gene_results.items()
                                      if s == source and gr.status in GAP_STATUSES))
            summaries.append(SourceSummary(source, "not_assessed" if unassessed else "no_guidance",
                                           "no_matching_row", names, f"No {source} recommendation: {why}.", 0,
                                           unassessed))
    matched_actions = [s.action for s in summaries if s.status == "matched"]
    action = max(matched_actions, key=_SEVERITY.__getitem__) if matched_actions else "no_guidance"
    # gaps: genes a guideline of this drug needs that were not assessed (never shown as green)
    # a gene one source could not use (e.g. an allele missing from DPWG's table) but another source matched
    # on its actual result was assessed: not a gap
    assessed = {g for r in recs for g in r.genes if g not in r.missing_genes}
    missing = tuple(sorted({g for s in summaries for g in s.missing_genes} - assessed))
    if missing and _SEVERITY[action] < _SEVERITY["not_assessed"]:
        action = "not_assessed"
    states: dict[str, str] = {}
    for g in missing:
        statuses = [gr.status for (_, gg), gr in gene_results.items() if gg == g]
        status = next((st for st in GAP_STATUSES if st in statuses), "missing")
        if g in {x for s in summaries if s.status == "ambiguous" for x in s.missing_genes}:
            status = "ambiguous"
        notes = " ".join(gr.note or "" for (_, gg), gr in gene_results.items() if gg == g)
        states[g] = ("provisional: copy number not assessed, not used for guidance (a CYP2D6 copy-number "
                     "test settles it)"
                     if "copy_number_not_assessed" in notes else GAP_WORDS[status])
    from genomics.pgx.pretreatment import testing_advice

    advice = testing_advice(drug, missing, kb=kb) if missing else ()
    # 'No recommendation' (e.g. DPWG for normal metabolizers) is silence, not disagreement.
    sources_differ = len(set(matched_actions) - {"no_guidance"}) > 1
    if sources_differ:
        messages.append("CPIC and DPWG differ for this drug: both are shown.")
    all_genes = list(dict.fromkeys(g for p in pkgs for g in _pkg_genes(p)))
    messages.extend(_pharmcat_messages(drug, all_genes, inputs, kb))
    prov = {"package": "genomics-treatment-recommender", "package_version": _package_version(),
            "genome_build": "GRCh38", **kb.provenance()}
    return DrugGuidance(drug=drug, action=action, summaries=tuple(summaries), sources_differ=sources_differ,
                        gene_results=tuple(gene_results.values()), recommendations=_dedupe(recs),
                        messages=tuple(messages), provenance=prov, missing_genes=missing, gene_states=states,
                        testing_advice=advice, has_guideline=bool(pkgs))


def _dedupe(recs: Sequence[GuidelineRecommendation]) -> tuple[GuidelineRecommendation, ...]:
    """One recommendation per (source, guideline, text): rows of one guideline keyed differently (a
    phenotype row and a diplotype row) can carry the same text and both match."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for r in recs:
        key = (r.source, r.guideline_id, r.text_html)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return tuple(out)


def guidance_for_drug(drug: str, genes: Any, *, sources: Sequence[str] = SOURCES,
                      kb: KnowledgeBase | None = None) -> DrugGuidance:
    """CPIC/DPWG guidance for one drug.

    Parameters
    ----------
    drug
        Generic name as CPIC writes it (case-insensitive).
    genes
        A :class:`~genomics.pgx.profile.PgxProfile`, or a mapping gene -> one of: :class:`GeneInput`,
        :class:`~genomics.pgx.profile.GeneCall`, :class:`~genomics.pgx.phenotypes.PhenotypeCall`, a
        diplotype ``("*1", "*2")`` or ``"*1/*2"``, a list of equally good diplotypes, or a phenotype text
        (``"Poor Metabolizer"``; HLA: ``"*57:01 positive"``).
    sources
        Guideline sources to consult (default both CPIC and DPWG).
    """
    kb = kb or active_knowledge_base()
    inputs = gene_inputs_from_profile(genes)
    return _guidance(drug, inputs, [s.upper() for s in sources], kb)


def guidance_for_profile(profile: Any, drugs: Iterable[str] | None = None, *,
                         sources: Sequence[str] = SOURCES, kb: KnowledgeBase | None = None) -> list[DrugGuidance]:
    """Guidance for ``drugs`` (default: every drug with a guideline naming a gene of the profile).

    Returns one :class:`DrugGuidance` per drug, sorted by drug name when ``drugs`` is None, else in the
    order given.
    """
    kb = kb or active_knowledge_base()
    inputs = gene_inputs_from_profile(profile)
    names = list(drugs) if drugs is not None else drugs_with_guidelines(inputs.keys(), kb=kb)
    return [_guidance(d, inputs, [s.upper() for s in sources], kb) for d in names]
