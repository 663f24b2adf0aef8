"""Lay pharmacogenomic guidance and tumour biomarker evidence over each candidate option.

Guidance is never hidden behind a score: every drug of every option gets a :class:`PgxFlag` (the
guidance-action vocabulary, colour, each source's own action, the matched recommendations quoted
verbatim with strength, PMIDs and table version), even when there is no guideline or no genotype.
Three states are kept apart (:mod:`genomics.pgx.actions`): a guideline applies and says X; a guideline
exists but the gene was not assessed (``not_assessed``, amber, ``missing_genes`` and the pre-treatment
testing advice; also for every guideline drug when there is no germline VCF at all); no guideline
(``no_guidance``, grey). :func:`option_guidance` gives an option the most severe state of its drugs.
:func:`eligibility_checks` states whether the tumour backs each biomarker-restricted drug. Biomarker evidence for a drug of the option (sensitivity or
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

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from genomics.pgx.actions import ACTION_COLOURS, ACTION_LABELS, ACTION_SEVERITY, worst_action
from recommender.recommendation import (
    BiomarkerEvidence,
    Disagreement,
    EligibilityCheck,
    GuidelineQuote,
    PgxFlag,
    RankedOption,
    SourceAction,
    TestingAdvice,
)

__all__ = [
    "ACTION_SEVERITY",
    "biomarker_evidence",
    "biomarker_evidence_for_option",
    "eligibility_checks",
    "find_disagreements",
    "gene_note_text",
    "no_genotype_flag",
    "option_guidance",
    "pgx_flag",
    "pgx_flags_for_option",
    "phenoconversion_notes",
    "worst_action",
]

_RESISTANCE_STRONG = {"1", "2", "R1"}


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


def pgx_flag(guidance: Any, *, notes: Mapping[str, str] | None = None, kb_version: str | None = None,
             extra_messages: Sequence[str] = ()) -> PgxFlag:
    """A :class:`PgxFlag` from a :class:`genomics.pgx.DrugGuidance` (verbatim texts kept).

    The flag carries the three-state vocabulary of :mod:`genomics.pgx.actions`: ``not_assessed`` with
    ``missing_genes``, ``gene_states`` and ``testing_advice`` when a guideline's gene was not assessed.
    """
    sources = tuple(SourceAction(source=s.source, action=s.action, colour=ACTION_COLOURS[s.action], status=s.status,
                                 message=s.message) for s in guidance.summaries)
    quotes = tuple(GuidelineQuote(
        source=r.source, guideline=r.guideline_name, url=r.guideline_url, strength=r.strength, action=r.action,
        text_plain=r.text_plain, text_html=r.text_html, trusted_html=r.trusted_html, pmids=tuple(r.pmids),
        version=r.version, population=r.population, lookup_key=dict(r.lookup_key or {}),
    ) for r in guidance.recommendations)
    genes = tuple(dict.fromkeys(gr.gene for gr in guidance.gene_results))
    missing = tuple(guidance.missing_genes if hasattr(guidance, "missing_genes") else
                    dict.fromkeys(g for s in guidance.summaries for g in s.missing_genes))
    gene_notes = tuple(n for g, n in (notes or {}).items() if g in genes)
    advice = tuple(TestingAdvice(genes=tuple(t.genes), advice=t.advice, verbatim=t.verbatim,
                                 label_sources=tuple(t.label_sources),
                                 guidelines=tuple(_json_plain(dict(g)) for g in t.guidelines))
                   for t in getattr(guidance, "testing_advice", ()) or ())
    label = getattr(guidance, "label", None) or ACTION_LABELS[guidance.action]
    return PgxFlag(drug=guidance.drug, action=guidance.action, colour=ACTION_COLOURS[guidance.action],
                   sources_differ=bool(guidance.sources_differ), sources=sources, recommendations=quotes,
                   genes=genes, missing_genes=missing, messages=(*extra_messages, *guidance.messages),
                   notes=gene_notes, knowledge_base_version=kb_version, label=label,
                   gene_states=dict(getattr(guidance, "gene_states", {}) or {}), testing_advice=advice,
                   has_guideline=bool(getattr(guidance, "has_guideline", bool(quotes))))


#: Gene-call statuses in a clinician's words (``GeneSummary.status_text``).
GENE_STATUS_WORDS = {"called": "genotyped", "outside_call": "result from an outside test",
                     "not_called": "not callable from the data", "incomplete": "incomplete genotype",
                     "provisional": "provisional: copy number not assessed (not used for guidance)", "missing": "not genotyped"}

#: Gene-call reason codes (:mod:`genomics.pgx.profile`) in a clinician's words (``GeneSummary.note_text``);
#: the codes themselves stay in ``GeneSummary.note`` (the details).
REASON_WORDS = {
    "no_data": "no variant of this gene in the VCF",
    "missing_positions": "positions that define alleles are missing from the VCF",
    "missing_positions_without_effect": "some positions missing, without effect on the result",
    "missing_required_positions": "a required position is missing from the VCF",
    "missing_amp_tier1_positions": "a position of a recommended (AMP tier 1) allele is missing",
    "filled_with_reference": "missing positions were assumed to be reference (on request)",
    "all_positions_filled": "no position was in the VCF; all were assumed reference",
    "gene_region_not_in_vcf": "the VCF does not cover this gene",
    "novel_allele": "an undocumented variant prevents a call",
    "novel_allele_treated_as_reference": "an undocumented variant was read as reference",
    "no_matching_diplotype": "no known allele pair explains the genotype",
    "unphased_ambiguous": "several allele pairs fit (unphased data)",
    "ambiguous_phenotype": "those allele pairs differ in function",
    "lowest_function_rule": "unphased: the two lowest-function alleles are reported",
    "heterozygous_in_haploid": "heterozygous calls on a single X chromosome",
    "cyp2d6_snv_indel_only": "CYP2D6 from small variants only (deletions, duplications and hybrids not seen)",
    "cyp2d6_copy_number_not_assessed": ("CYP2D6 copy number not assessed (settled by a CYP2D6 copy-number assay or a "
                                        "copy-number-aware caller such as PyPGx, Cyrius or Aldy, given as an "
                                        "outside call)"),
    "cyp2d6_accepted_without_copy_number": "CYP2D6 used without copy number (on request)",
    "copy_number_from_vcf": "CYP2D6 copy number read from the VCF",
    "copy_number_conflict": "copy number and genotypes disagree",
    "possible_cyp2d6_deletion": "a CYP2D6 deletion is possible",
    "partial_genotype": "half-missing genotypes were used",
    "partial_genotype_ambiguous": "half-missing genotypes leave several allele pairs",
    "too_many_partial_genotypes": "too many half-missing genotypes",
    "phase_between_blocks_unknown": "phase between blocks unknown: worst case reported",
    "allele_not_in_phenotype_table": "an allele has no known function",
    "no_usable_genotype": "no usable genotype",
    "outside_call": "result from an outside test",
    "phenotype_not_found": "no phenotype known for this allele pair",
}


def gene_note_text(status: str, reasons: Sequence[str]) -> tuple[str, str | None]:
    """``(status in words, reasons in words or None)`` for a pharmacogene of the result."""
    words = [REASON_WORDS.get(r.split(":", 1)[0], r.replace("_", " ")) for r in reasons]
    return GENE_STATUS_WORDS.get(status, status.replace("_", " ")), ("; ".join(dict.fromkeys(words)) or None)


def _json_plain(value: Any) -> Any:
    """Tuples -> lists inside plain mappings, so a result read back from JSON compares equal."""
    if isinstance(value, dict):
        return {k: _json_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_plain(v) for v in value]
    return value


@functools.lru_cache(maxsize=1024)
def _unassessed_flag(drug: str, reason: str, kb_version: str | None, kb: Any) -> PgxFlag:
    from genomics.pgx import guidance_for_drug

    guidance = guidance_for_drug(drug, {}, kb=kb)
    return pgx_flag(guidance, kb_version=kb_version, extra_messages=(reason,) if reason else ())


def no_genotype_flag(drug: str, reason: str, *, kb_version: str | None = None, kb: Any = None) -> PgxFlag:
    """The flag of a drug when no germline genotypes were available.

    A drug with a CPIC/DPWG guideline is ``not_assessed`` (amber) with the guideline's genes as
    ``missing_genes`` and the pre-treatment testing advice; a drug without one is ``no_guidance``.
    ``reason`` (why there are no genotypes) is the first message. Cached per drug, reason and knowledge
    base (the flag is immutable).
    """
    if kb is None:
        from genomics.pgx import active_knowledge_base

        kb = active_knowledge_base()
    return _unassessed_flag(drug.strip().lower(), reason, kb_version, kb)


def pgx_flags_for_option(drugs: Sequence[str], guidance: Mapping[str, Any] | None, *, reason_if_none: str = "",
                         notes: Mapping[str, str] | None = None, kb_version: str | None = None) -> tuple[PgxFlag, ...]:
    """One flag per drug of an option, in the option's drug order."""
    out = []
    kb = None
    for drug in drugs:
        g = None if guidance is None else guidance.get(drug)
        if g is None:
            if kb is None:
                from genomics.pgx import active_knowledge_base

                kb = active_knowledge_base()
            out.append(no_genotype_flag(drug, reason_if_none or "no pharmacogenomic guidance was computed",
                                        kb_version=kb_version, kb=kb))
        else:
            out.append(pgx_flag(g, notes=notes, kb_version=kb_version))
    return tuple(out)


def eligibility_checks(drugs: Sequence[str], cancer_type: str | None, report: Any, *,
                       tested_genes: Iterable[str] | None = None, germline: Any = None,
                       lm_scorer: Any = None, receptors: Mapping[str, Any] | None = None
                       ) -> tuple[EligibilityCheck, ...]:
    """One :class:`EligibilityCheck` per biomarker-restricted drug of an option
    (:func:`genomics.biomarkers.assess_eligibility`; ``germline``: the patient's
    :class:`~genomics.biomarkers.germline.GermlineGenes`, which can establish PARP-inhibitor eligibility;
    ``receptors``: clinical receptor statuses such as ``er_positive``, the patient's covariates, which decide
    endocrine-therapy eligibility in breast cancer)."""
    from genomics.biomarkers.eligibility import assess_eligibility

    return tuple(EligibilityCheck(drug=r.drug, status=r.status, requirement_id=r.requirement_id,
                                  requirement=r.requirement, genes=tuple(r.genes), test=r.test, reason=r.reason,
                                  label=r.label, findings=tuple(r.findings), citations=tuple(_json_plain(dict(c)) for c in r.citations),
                                  evidence=tuple(_json_plain(dict(e)) for e in r.evidence))
                 for r in assess_eligibility(drugs, cancer_type, report, tested_genes=tested_genes, germline=germline,
                                             lm_scorer=lm_scorer, receptors=receptors))


def option_guidance(pgx: Sequence[PgxFlag], checks: Sequence[EligibilityCheck] = ()) -> tuple[str, str, tuple[str, ...]]:
    """``(action, label, missing_genes)`` of an option: the most severe state of its drugs.

    ``not_assessed`` counts as not green (FOLFIRI is not green when its fluorouracil is unassessed); a
    drug contraindicated by a tumour biomarker makes the option ``avoid``. The label names the drugs:
    ``"not assessed: DPYD not genotyped (fluorouracil)"``.
    """
    actions = [f.action for f in pgx]
    contra = [c for c in checks if c.status == "contraindicated"]
    if contra:
        actions.append("avoid")
    action = worst_action(actions)
    missing = tuple(dict.fromkeys(g for f in pgx for g in f.missing_genes))
    parts: list[str] = []
    for c in contra:
        parts.append(f"avoid {c.drug}: {c.reason}")
    for f in pgx:
        if f.action in ("avoid", "adjust_dose", "caution") and ACTION_SEVERITY[f.action] >= ACTION_SEVERITY["caution"]:
            parts.append(f"{ACTION_LABELS[f.action]} ({f.drug})")
    gaps: dict[str, list[str]] = {}
    for f in pgx:
        for g in f.missing_genes:
            gaps.setdefault(f"{g} {f.gene_states.get(g, 'not assessed')}", []).append(f.drug)
    if gaps:
        parts.append("not assessed: " + "; ".join(f"{k} ({', '.join(v)})" for k, v in gaps.items()))
    if not parts:
        if action == "standard":
            parts.append("standard dosing for every drug with a guideline")
        else:
            parts.append("no pharmacogenomic guideline for these drugs")
    return action, "; ".join(parts), missing


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
        for c in o.eligibility_checks:
            if c.status == "not_established":
                out[o.regimen].append(Disagreement(
                    kind="eligibility_not_established", regimen=o.regimen, drug=c.drug,
                    message=(f"{o.regimen}: {c.drug} is indicated only with {c.requirement}, and this is not "
                             f"established ({c.reason}); {c.test}. An option whose eligibility is not established "
                             f"is never ranked first while an eligible one exists"
                             + (f" (the model alone ranks it {o.model_rank})" if o.model_rank else "") + ".")))
            elif c.status == "contraindicated" and not any(
                    d.kind == "resistance_ranked_first" for d in out[o.regimen]):
                out[o.regimen].append(Disagreement(
                    kind="biomarker_contraindicated", regimen=o.regimen, drug=c.drug,
                    message=(f"{o.regimen} holds {c.drug}, which the tumour contraindicates: {c.reason}. It is "
                             "marked avoid and placed below options without such flags.")))
    if options and options[0].missing_genes:
        first = options[0]
        gaps = "; ".join(f.drug + ": " + ", ".join(g + " " + f.gene_states.get(g, "not assessed")
                                                     for g in f.missing_genes)
                         for f in first.pgx if f.missing_genes)
        advice = " ".join(dict.fromkeys(a.advice for f in first.pgx for a in f.testing_advice))
        out[first.regimen].append(Disagreement(
            kind="pgx_not_assessed_ranked_first", regimen=first.regimen,
            message=(f"{first.regimen} is ranked first, but its pharmacogenomic guidance was not assessed "
                     f"({gaps}); the model's numbers assume a standard dose." + (f" {advice}" if advice else ""))))
    for o in options:
        for f in o.pgx:
            if f.sources_differ:
                parts = ", ".join(f"{s.source}: {s.action}" for s in f.sources)
                out[o.regimen].append(Disagreement(
                    kind="sources_differ", regimen=o.regimen, drug=f.drug,
                    message=f"CPIC and DPWG differ for {f.drug} ({parts}); the more severe action is shown."))
    return {k: tuple(v) for k, v in out.items()}
