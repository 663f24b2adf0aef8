"""Streamlit-free view models of the app: what a physician reads, in words, from a
:class:`~recommender.recommendation.Recommendation`.

The states themselves (guidance action, ``not_assessed`` with the genes, eligibility, labels, colours) are
decided at the result level (:mod:`genomics.pgx.actions`, :mod:`recommender.recommendation`); this module
only lays them out: months instead of days, badges, a patient summary line, PMIDs as links, rank-ordered
colours, frames for the survival and toxicity charts and the PharmCAT-style drug -> gene grouping of the
Pharmacogenomics page. Nothing here imports Streamlit, fetches anything or logs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BADGE_MAX",
    "DAYS_PER_MONTH",
    "EVIDENCE_LEVEL_WORDS",
    "GENE_STATUS_WORDS",
    "RANK_PALETTE",
    "REASON_WORDS",
    "DrugGenes",
    "badge",
    "curves_indistinguishable",
    "drug_gene_groups",
    "evidence_badge",
    "flag_text",
    "gene_status_words",
    "months",
    "months_interval",
    "patient_summary_line",
    "pmid_links",
    "rank_colours",
    "survival_frames",
    "toxicity_frame",
]

#: Mean length of a month in days (365.25 / 12).
DAYS_PER_MONTH = 30.4375

#: Colours in rank order (first-ranked first): ColorBrewer Dark2, then grey for "other".
RANK_PALETTE: tuple[str, ...] = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
                                 "#666666")

#: Streamlit badge colour of each traffic light (no emoji: they need fonts servers often lack).
_BADGE = {"green": "green", "amber": "orange", "red": "red", "grey": "gray", "blue": "blue", "violet": "violet"}

#: The project's evidence levels (``genomics.biomarkers.EVIDENCE_LEVELS``) in words, with a badge colour.
EVIDENCE_LEVEL_WORDS: dict[str, tuple[str, str]] = {
    "1": ("level 1: regulator-approved biomarker", "blue"),
    "2": ("level 2: standard of care (guideline)", "blue"),
    "3A": ("level 3A: clinical evidence in this cancer type", "violet"),
    "3B": ("level 3B: clinical evidence in another cancer type", "violet"),
    "4": ("level 4: biological evidence", "grey"),
    "R1": ("level R1: standard-care resistance", "red"),
    "R2": ("level R2: investigational resistance", "red"),
}

#: Gene call statuses of the PGx caller (``GeneSummary.status``) in words.
GENE_STATUS_WORDS: dict[str, str] = {
    "called": "called from the VCF",
    "outside_call": "outside result (laboratory / file)",
    "ambiguous": "ambiguous: several diplotypes fit",
    "incomplete": "incomplete: positions missing",
    "not_called": "not callable from the data",
    "provisional": "provisional: copy number not assessed (not used for guidance)",
    "missing": "not genotyped",
}

#: Reason codes of the PGx caller (``genomics.pgx.profile``) in a clinician's words.
REASON_WORDS: dict[str, str] = {
    "no_data": "no position of the gene is in the VCF",
    "missing_positions": "positions that define alleles are missing",
    "missing_positions_without_effect": "some positions missing, without effect on the call",
    "missing_required_positions": "a required position is missing",
    "missing_amp_tier1_positions": "a position of a tier-1 allele is missing",
    "filled_with_reference": "missing positions assumed reference (on request)",
    "all_positions_filled": "no position in the VCF: all assumed reference",
    "gene_region_not_in_vcf": "the VCF does not cover the gene",
    "novel_allele": "an undocumented allele prevents a match",
    "novel_allele_treated_as_reference": "an undocumented allele treated as reference",
    "no_matching_diplotype": "no known diplotype explains the genotypes",
    "unphased_ambiguous": "unphased data: several diplotypes fit",
    "ambiguous_phenotype": "the fitting diplotypes differ in phenotype",
    "lowest_function_rule": "unphased: the two lowest-function alleles reported",
    "heterozygous_in_haploid": "heterozygous calls on a haploid chromosome",
    "cyp2d6_snv_indel_only": "from SNVs/indels only: deletions and duplications not seen (give a CYP2D6 "
                             "copy-number result as an outside call)",
    "outside_call": "from the outside results",
    "phenotype_not_found": "no phenotype listed for this diplotype",
}

_PMID = re.compile(r"^\d{1,9}$")


# ---------------------------------------------------------------------------------------------- words
def months(days: float | None, digits: int = 1) -> str:
    """``174`` days -> ``"5.7 mo"``; ``"-"`` when unknown."""
    if days is None or (isinstance(days, float) and math.isnan(days)):
        return "-"
    return f"{days / DAYS_PER_MONTH:.{digits}f} mo"


def months_interval(median: float | None, low: float | None, high: float | None, *,
                    reached: bool = True) -> str:
    """``"5.7 mo (4.2–6.2)"``; ``"not reached"`` for a median beyond follow-up; ``"-"`` when unknown."""
    if not reached:
        return "not reached"
    if median is None:
        return "-"
    text = months(median)
    if low is not None and high is not None:
        text += f" ({low / DAYS_PER_MONTH:.1f}–{high / DAYS_PER_MONTH:.1f})"
    return text


#: Longest label shown as a badge; a longer one is coloured bold text (a badge would cut it off).
BADGE_MAX = 40


def badge(colour: str, label: str) -> str:
    """A Streamlit markdown badge (``:orange-badge[not assessed]``) in a traffic-light colour; a label longer
    than :data:`BADGE_MAX` characters is coloured bold text instead, so that nothing is cut off."""
    safe = str(label).replace("[", "(").replace("]", ")")
    if len(safe) > BADGE_MAX:
        return f":{_BADGE.get(colour, 'gray')}[**{safe}**]"
    return f":{_BADGE.get(colour, 'gray')}-badge[{safe}]"


def flag_text(flag: Any) -> str:
    """The state of one drug's PGx flag in words: its own label, else the action's label (never a code)."""
    from recommender.vocab import GUIDANCE_LABELS as ACTION_LABELS

    label = getattr(flag, "label", "") or ACTION_LABELS.get(flag.action, flag.action.replace("_", " "))
    return label


def evidence_badge(level: str | None) -> str:
    """A badge for a biomarker evidence level (``level 1: regulator-approved biomarker``)."""
    words, colour = EVIDENCE_LEVEL_WORDS.get(str(level or ""), (f"level {level or 'unknown'}", "grey"))
    return badge(colour, words)


def pmid_links(pmids: Iterable[str]) -> str:
    """``[PMID 123](https://pubmed.ncbi.nlm.nih.gov/123/)``, comma-separated (links only: nothing is fetched;
    anything that is not a plain PubMed id is dropped)."""
    return ", ".join(f"[PMID {p}](https://pubmed.ncbi.nlm.nih.gov/{p}/)" for p in pmids if _PMID.match(str(p)))


def gene_status_words(status: str, note: str | None = None) -> str:
    """A gene call status (and the caller's reason codes in ``note``) in words."""
    words = GENE_STATUS_WORDS.get(status, status.replace("_", " "))
    if note:
        reasons = [REASON_WORDS.get(code.strip(), code.strip().replace("_", " "))
                   for code in re.split(r"[;,]", note) if code.strip()]
        words += " — " + "; ".join(reasons)
    return words


def patient_summary_line(patient: Any) -> str:
    """One line a physician reads first: age (integer), sex, cancer type and stage, ECOG, key labs,
    co-medications, prior lines (markdown; every value from the record is escaped)."""
    from recommender import vocab
    from recommender.escaping import escape_markdown as esc

    parts = []
    demo, d = patient.demographics, patient.diagnosis
    age = getattr(demo, "age", None)
    sex = getattr(demo, "sex", None)
    who = (f"{int(age)}-year-old" if age is not None else "age not given") + (
        f" {esc(sex)}" if sex and sex != "unknown" else "")
    parts.append(who)
    if d is not None:
        ct = getattr(d, "cancer_type", None)
        name = vocab.ONCOTREE[ct].name if ct in vocab.ONCOTREE else None
        text = f"{esc(name)} ({esc(ct)})" if name else esc(ct or "cancer type not given")
        if getattr(d, "stage", None):
            text += f", stage {esc(d.stage)}"
        parts.append(text)
        parts.append(f"ECOG {d.ecog}" if getattr(d, "ecog", None) is not None else "ECOG not given")
    labs = getattr(patient.history, "labs", ()) if patient.history is not None else ()
    if labs:
        shown = []
        for lab in labs[:6]:
            shown.append(f"{esc(lab.name.replace('_', ' '))} {lab.value:g} {esc(lab.unit)}")
        parts.append("labs: " + ", ".join(shown) + (" …" if len(labs) > 6 else ""))
    else:
        parts.append("no laboratory values")
    meds = list(getattr(patient, "medications", ()) or ())
    parts.append("co-medications: " + (", ".join(esc(m) for m in meds) if meds else "none recorded"))
    priors = getattr(patient.history, "prior_treatments", ()) if patient.history is not None else ()
    if priors:
        parts.append("prior lines: " + "; ".join(
            f"{p.line}. {esc(p.treatment.regimen)}" + (f" ({p.best_response})" if p.best_response else "")
            for p in priors))
    return " · ".join(parts)


# ---------------------------------------------------------------------------------------------- charts
def rank_colours(options: Sequence[Any]) -> tuple[list[str], list[str]]:
    """``(regimens in rank order, colours)``: the first-ranked option always gets the first colour."""
    names = [o.regimen for o in sorted(options, key=lambda o: o.rank)]
    return names, [RANK_PALETTE[min(i, len(RANK_PALETTE) - 1)] for i in range(len(names))]


def _survival(option: Any, endpoint: str) -> Any:
    if not option.model.available:
        return None
    return next((s for s in option.model.survival if s.endpoint == endpoint), None)


def _step(times: Sequence[float], surv: Sequence[float], t: float) -> float:
    value = 1.0
    for ti, si in zip(times, surv, strict=False):
        if ti <= t:
            value = float(si)
        else:
            break
    return value


def curves_indistinguishable(options: Sequence[Any], endpoint: str, tolerance: float = 0.02) -> bool:
    """``True`` when every option with a curve has the same survival (within ``tolerance`` at every time of
    any curve) and there are at least two: the chart would draw identical lines."""
    curves = [s for s in (_survival(o, endpoint) for o in options) if s is not None and s.times]
    if len(curves) < 2:
        return False
    grid = sorted({float(t) for s in curves for t in s.times})
    for t in grid:
        values = [_step(s.times, s.survival, t) for s in curves]
        if max(values) - min(values) > tolerance:
            return False
    return True


def survival_frames(options: Sequence[Any], endpoint: str) -> tuple[Any, Any]:
    """Frames of the survival chart, in months, options in rank order.

    Returns ``(curves, medians)``. ``curves``: ``option, rank, months, survival, low, high`` (step points; the
    band ``low``–``high`` is the curve rescaled in time to the median's interval, ``S(t * median / low)`` to
    ``S(t * median / high)``, i.e. the spread of the median carried along the curve; ``NaN`` without an
    interval). ``medians``: ``option, rank, median, low, high, label`` in months.
    """
    import pandas as pd

    rows, meds = [], []
    for o in sorted(options, key=lambda o: o.rank):
        s = _survival(o, endpoint)
        if s is None or not s.times:
            continue
        m, lo, hi = s.median_days, s.low, s.high
        scale = m is not None and lo and hi and lo > 0 and hi > 0
        for t, v in zip(s.times, s.survival, strict=False):
            t = float(t)
            band_lo = _step(s.times, s.survival, t * m / lo) if scale else float("nan")
            band_hi = _step(s.times, s.survival, t * m / hi) if scale else float("nan")
            rows.append({"option": o.regimen, "rank": o.rank, "months": t / DAYS_PER_MONTH, "survival": float(v),
                         "low": min(band_lo, band_hi), "high": max(band_lo, band_hi)})
        if m is not None:
            meds.append({"option": o.regimen, "rank": o.rank, "median": m / DAYS_PER_MONTH,
                         "low": None if lo is None else lo / DAYS_PER_MONTH,
                         "high": None if hi is None else hi / DAYS_PER_MONTH,
                         "label": months_interval(m, lo, hi)})
    return (pd.DataFrame(rows, columns=["option", "rank", "months", "survival", "low", "high"]),
            pd.DataFrame(meds, columns=["option", "rank", "median", "low", "high", "label"]))


def toxicity_frame(options: Sequence[Any], max_terms: int = 8) -> Any:
    """Grade >= 3 risk per option x CTCAE term (the ``max_terms`` terms with the highest risk anywhere).

    Columns: ``option, rank, term, risk, low, high, label`` (risks as fractions).
    """
    import pandas as pd

    best: dict[str, float] = {}
    for o in options:
        if o.model.available:
            for t in o.model.toxicity:
                best[t.term] = max(best.get(t.term, 0.0), t.probability)
    terms = [t for t, _ in sorted(best.items(), key=lambda kv: -kv[1])[:max_terms]]
    rows = []
    for o in sorted(options, key=lambda o: o.rank):
        if not o.model.available:
            continue
        for t in o.model.toxicity:
            if t.term in terms:
                label = f"{100 * t.probability:.0f}%" + (f" ({100 * t.low:.0f}–{100 * t.high:.0f}%)"
                                                         if t.low is not None and t.high is not None else "")
                rows.append({"option": o.regimen, "rank": o.rank, "term": t.term, "risk": t.probability,
                             "low": t.low, "high": t.high, "label": label})
    return pd.DataFrame(rows, columns=["option", "rank", "term", "risk", "low", "high", "label"])


# ---------------------------------------------------------------------------------------------- PGx page
@dataclass
class DrugGenes:
    """One candidate drug with the genes its guideline needs (PharmCAT's drug-first layout)."""

    drug: str
    options: list[str]
    flag: Any
    genes: list[Any] = field(default_factory=list)


def drug_gene_groups(rec: Any) -> tuple[list[DrugGenes], list[Any]]:
    """``(candidate drugs with their genes, the patient's other genes)``.

    Each candidate drug appears once (with the options it is part of) and carries the
    :class:`~recommender.recommendation.GeneSummary` of every gene its flag names (``genes`` and
    ``missing_genes``; a gene without a call is listed as ``None`` placeholders by name). Drugs with a
    guideline (or a gap) come first, in the order of the most severe action; the rest of the patient's genes
    follow in the second list.
    """
    from recommender.vocab import GUIDANCE_SEVERITY as ACTION_SEVERITY

    by_gene = {g.gene: g for g in rec.pharmacogenes}
    drugs: dict[str, DrugGenes] = {}
    for o in rec.options:
        for f in o.pgx:
            entry = drugs.get(f.drug)
            if entry is None:
                entry = drugs[f.drug] = DrugGenes(drug=f.drug, options=[], flag=f)
            entry.options.append(o.regimen)
    used: set[str] = set()
    for entry in drugs.values():
        names = list(dict.fromkeys([*entry.flag.genes, *entry.flag.missing_genes]))
        entry.genes = [by_gene.get(n) or n for n in names]
        used.update(names)
    ordered = sorted(drugs.values(), key=lambda e: (-ACTION_SEVERITY.get(e.flag.action, 0), e.drug))
    rest = [g for g in rec.pharmacogenes if g.gene not in used]
    return ordered, rest
