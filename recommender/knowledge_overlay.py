"""Lay pharmacogenomic guidance and tumour biomarker evidence over each candidate option.

Guidance is never hidden behind a score: every drug of every option gets a :class:`PgxFlag` (the
guidance-action vocabulary, colour, each source's own action, the matched recommendations quoted
verbatim with strength, PMIDs and table version), even when there is no guideline or no genotype
(``no_guidance`` with the reason). Biomarker evidence for a drug of the option (sensitivity or
resistance, level, citations) is attached to that option; all matched findings are also listed for the
tumour as a whole.

:func:`find_disagreements` states in plain words where the model's own order and the guidance or
evidence point different ways (called by :mod:`recommender.rank` after ordering).

Phenoconversion: guideline matching uses the genotype-derived phenotype (CPIC tables are written for
it). When a current medication is a strong/moderate inhibitor of the enzyme, the flag carries a note
with the functional phenotype from :func:`recommender.features.phenoconvert` (documented, cited rule);
the guideline text itself is left as is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from recommender.recommendation import (
    ACTION_COLOURS,
    BiomarkerEvidence,
    Disagreement,
    GuidelineQuote,
    PgxFlag,
    RankedOption,
    SourceAction,
)

__all__ = [
    "ACTION_SEVERITY",
    "biomarker_evidence",
    "biomarker_evidence_for_option",
    "find_disagreements",
    "no_genotype_flag",
    "pgx_flag",
    "pgx_flags_for_option",
    "phenoconversion_notes",
    "worst_action",
]

#: Severity order of the guidance actions (least to most severe).
ACTION_SEVERITY = {"no_guidance": 0, "standard": 1, "caution": 2, "adjust_dose": 3, "avoid": 4}
_RESISTANCE_STRONG = {"1", "2", "R1"}


def worst_action(actions: Iterable[str]) -> str:
    """The most severe action of ``actions`` (``no_guidance`` for none)."""
    out = "no_guidance"
    for a in actions:
        if ACTION_SEVERITY.get(a, 0) > ACTION_SEVERITY[out]:
            out = a
    return out


def phenoconversion_notes(profile: Any, medications: Sequence[str]) -> dict[str, str]:
    """``gene -> note`` for genes whose functional phenotype differs because of co-medication."""
    if profile is None or not medications:
        return {}
    from recommender.features import phenoconvert
    from recommender.features.build import normalise_pgx

    notes: dict[str, str] = {}
    for gene, call in normalise_pgx(profile).items():
        res = phenoconvert(gene, phenotype=call.phenotype, activity_score=call.activity_score,
                           medications=medications)
        if res.converted:
            score = "" if res.functional_activity_score is None else f" (activity score {res.functional_activity_score:g})"
            notes[gene] = (f"{gene}: genotype gives {res.genotype_phenotype or 'unknown'}; with {res.rule} the "
                           f"functional phenotype is {res.functional_phenotype or 'unknown'}{score}. The guideline "
                           "below was matched on the genotype; consider the co-medication when reading it.")
    return notes


def pgx_flag(guidance: Any, *, notes: Mapping[str, str] | None = None, kb_version: str | None = None) -> PgxFlag:
    """A :class:`PgxFlag` from a :class:`genomics.pgx.DrugGuidance` (verbatim texts kept)."""
    sources = tuple(SourceAction(source=s.source, action=s.action, colour=ACTION_COLOURS[s.action], status=s.status,
                                 message=s.message) for s in guidance.summaries)
    quotes = tuple(GuidelineQuote(
        source=r.source, guideline=r.guideline_name, url=r.guideline_url, strength=r.strength, action=r.action,
        text_plain=r.text_plain, text_html=r.text_html, trusted_html=r.trusted_html, pmids=tuple(r.pmids),
        version=r.version, population=r.population, lookup_key=dict(r.lookup_key or {}),
    ) for r in guidance.recommendations)
    genes = tuple(dict.fromkeys(gr.gene for gr in guidance.gene_results))
    missing = tuple(dict.fromkeys(g for s in guidance.summaries for g in s.missing_genes))
    gene_notes = tuple(n for g, n in (notes or {}).items() if g in genes)
    return PgxFlag(drug=guidance.drug, action=guidance.action, colour=ACTION_COLOURS[guidance.action],
                   sources_differ=bool(guidance.sources_differ), sources=sources, recommendations=quotes,
                   genes=genes, missing_genes=missing, messages=tuple(guidance.messages), notes=gene_notes,
                   knowledge_base_version=kb_version)


def no_genotype_flag(drug: str, reason: str) -> PgxFlag:
    """The flag of a drug when no germline genotypes were available (``no_guidance`` + why)."""
    return PgxFlag(drug=drug, action="no_guidance", colour=ACTION_COLOURS["no_guidance"], messages=(reason,))


def pgx_flags_for_option(drugs: Sequence[str], guidance: Mapping[str, Any] | None, *, reason_if_none: str = "",
                         notes: Mapping[str, str] | None = None, kb_version: str | None = None) -> tuple[PgxFlag, ...]:
    """One flag per drug of an option, in the option's drug order."""
    out = []
    for drug in drugs:
        g = None if guidance is None else guidance.get(drug)
        if g is None:
            out.append(no_genotype_flag(drug, reason_if_none or "no pharmacogenomic guidance was computed"))
        else:
            out.append(pgx_flag(g, notes=notes, kb_version=kb_version))
    return tuple(out)


def biomarker_evidence(match: Any, drugs_in_option: Iterable[str] = ()) -> BiomarkerEvidence:
    """A :class:`BiomarkerEvidence` from a :class:`genomics.biomarkers.MatchedBiomarker`."""
    return BiomarkerEvidence(
        finding=match.finding or f"{match.gene} {match.protein_change or match.alteration}", gene=match.gene,
        alteration=match.alteration, direction=match.direction, evidence_level=match.evidence_level,
        level_for_patient=match.level_for_patient, matched_in_patient_cancer_type=match.matched_in_patient_cancer_type,
        therapies=tuple(match.therapies), drugs_in_option=tuple(drugs_in_option), cancer_types=tuple(match.cancer_types),
        statement=match.statement, citations=tuple(dict(c) for c in match.citations), source=match.source_version,
        match_method=match.match_method)


def biomarker_evidence_for_option(drugs: Sequence[str], report: Any) -> tuple[BiomarkerEvidence, ...]:
    """Findings whose therapies include a drug of the option (patient's cancer type first)."""
    if report is None:
        return ()
    wanted = set(drugs)
    out = []
    for m in report.matches:
        hit = [d for d in m.drugs if d in wanted]
        if hit:
            out.append(biomarker_evidence(m, hit))
    out.sort(key=lambda e: (not e.matched_in_patient_cancer_type, e.direction != "resistance"))
    return tuple(out)


def _quote(flag: PgxFlag) -> str:
    text = flag.first_text
    if len(text) > 220:
        text = text[:217].rstrip() + "..."
    return f' ("{text}")' if text else ""


def _sources_saying(flag: PgxFlag, action: str) -> str:
    names = [s.source for s in flag.sources if s.action == action] or [s.source for s in flag.sources]
    return "/".join(names) or "the guideline"


def find_disagreements(options: Sequence[RankedOption], *, override: bool = False) -> dict[str, tuple[Disagreement, ...]]:
    """``regimen -> disagreements`` after ranking (``options`` in final rank order, ``model_rank`` set).

    Kinds: the model's first choice holds a drug the guideline says to avoid (and was moved down, or kept
    first on ``override``); an ``avoid`` option still above an unflagged one (override); the final first
    option needs a dose adjustment per guideline (the model's numbers assume standard dosing); the model's
    first choice holds a drug the tumour is resistant to (level 1/2/R1 in the patient's cancer type);
    CPIC and DPWG differ for a drug.
    """
    out: dict[str, list[Disagreement]] = {o.regimen: [] for o in options}
    model_first = next((o for o in options if o.model_rank == 1), None)
    if model_first is not None:
        avoid = [f for f in model_first.pgx if f.action == "avoid"]
        for f in avoid:
            src = _sources_saying(f, "avoid")
            where = ("it is kept first because the caller overrode the rule" if override and model_first.rank == 1
                     else f"it is ranked {model_first.rank} here because guidance outranks the model")
            out[model_first.regimen].append(Disagreement(
                kind="avoid_ranked_first_by_model", regimen=model_first.regimen, drug=f.drug, source=src,
                message=(f"The model ranks first {model_first.regimen}, which contains {f.drug}; {src} says to avoid "
                         f"{f.drug} for this patient's genotype{_quote(f)}. {where[0].upper() + where[1:]}.")))
        for e in model_first.biomarkers:
            if e.direction == "resistance" and e.matched_in_patient_cancer_type and \
                    (e.level_for_patient or e.evidence_level) in _RESISTANCE_STRONG:
                out[model_first.regimen].append(Disagreement(
                    kind="resistance_ranked_first", regimen=model_first.regimen, drug=", ".join(e.drugs_in_option),
                    source=e.source,
                    message=(f"The model ranks first {model_first.regimen}, which contains "
                             f"{', '.join(e.drugs_in_option)}; the tumour's {e.finding} is a level "
                             f"{e.level_for_patient or e.evidence_level} marker of resistance to it ({e.source}).")))
    with_resp = [o for o in options if o.model.available and o.model.response is not None]
    if len(with_resp) > 1:
        best = max(with_resp, key=lambda o: o.model.response.probability)
        for e in best.biomarkers:
            if e.direction == "resistance" and e.matched_in_patient_cancer_type and \
                    (e.level_for_patient or e.evidence_level) in _RESISTANCE_STRONG:
                out[best.regimen].append(Disagreement(
                    kind="resistance_but_best_response", regimen=best.regimen, drug=", ".join(e.drugs_in_option),
                    source=e.source,
                    message=(f"The model gives {best.regimen} the highest response probability "
                             f"({100 * best.model.response.probability:.0f}%), but the tumour's {e.finding} is a "
                             f"level {e.level_for_patient or e.evidence_level} marker of resistance to "
                             f"{', '.join(e.drugs_in_option)} ({e.source}).")))
    if override:
        for i, o in enumerate(options):
            if o.guidance_action != "avoid":
                continue
            below = [p.regimen for p in options[i + 1:] if p.guidance_action != "avoid"]
            if below:
                out[o.regimen].append(Disagreement(
                    kind="avoid_override", regimen=o.regimen,
                    message=(f"{o.regimen} holds a drug flagged 'avoid' but is ranked above "
                             f"{', '.join(below)} because the caller asked to rank by the model alone.")))
    if options:
        first = options[0]
        for f in first.pgx:
            if f.action == "adjust_dose":
                src = _sources_saying(f, "adjust_dose")
                out[first.regimen].append(Disagreement(
                    kind="dose_guidance_ranked_first", regimen=first.regimen, drug=f.drug, source=src,
                    message=(f"{first.regimen} is ranked first, but {src} advises a dose adjustment of {f.drug} for "
                             f"this genotype{_quote(f)}; the model's numbers assume the standard dose.")))
    for o in options:
        for f in o.pgx:
            if f.sources_differ:
                parts = ", ".join(f"{s.source}: {s.action}" for s in f.sources)
                out[o.regimen].append(Disagreement(
                    kind="sources_differ", regimen=o.regimen, drug=f.drug,
                    message=f"CPIC and DPWG differ for {f.drug} ({parts}); the more severe action is shown."))
    return {k: tuple(v) for k, v in out.items()}
