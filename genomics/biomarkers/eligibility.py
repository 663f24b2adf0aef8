"""Biomarker eligibility: is a therapy that is indicated only with a tumour biomarker backed by this tumour?

Some therapies are indicated only when the tumour shows a biomarker (anti-EGFR antibodies in colorectal
cancer: RAS wild type; trastuzumab / pertuzumab: ERBB2 amplification; EGFR TKIs: an EGFR sensitising
mutation; PARP inhibitors: BRCA1/2 loss of function; ALK inhibitors: an ALK fusion; checkpoint inhibitors
in colorectal cancer: MSI-H / dMMR; endocrine therapy in breast cancer: a hormone-receptor-positive tumour,
read from the clinical ``er_positive`` status, ``requires: receptor_positive``). These requirements, with the
label / guideline they come from, are the ``eligibility_requirements`` of the biomarker table
(``data/biomarker_therapy.json``).

:func:`assess_eligibility` gives each drug with a requirement for the patient's cancer type one
:class:`EligibilityResult`:

``eligible``
    ``requires: present``: a row of ``established_by`` matched the tumour (in any cancer type: the
    alteration is present); ``requires: wild_type``: tumour data cover the genes and no row of
    ``contraindicated_by`` matched.
``eligible_predicted``
    Only for a requirement with ``germline_genes`` (PARP inhibitors): no loss-of-function variant, but a
    variant of uncertain significance whose calibrated probability of being pathogenic has a 90% lower bound
    >= :data:`~genomics.biomarkers.variant_evidence.PREDICTED_PATHOGENIC_LOWER_BOUND`
    ("eligible (predicted pathogenic VUS; confirm)"). Amber, never green; ranked like ``eligible``.
``not_established``
    The biomarker is unknown: no tumour data; the genes not covered (a record that lists tumour variants
    covers only the genes it names; a tumour file is taken to cover every gene, and the result says so);
    or, for ``present``, the alteration not reported (absence in a variant file is not proof of absence:
    copy number and fusions are often not in it). ``test`` says what to test. Never ranked first.
``contraindicated``
    The tumour's biomarker is against the drug: a ``contraindicated_by`` row matched, or any resistance
    row of level R1 matched in the patient's cancer type. The option is ``avoid``.

A requirement with ``germline_genes`` (BRCA1/2 for PARP inhibitors) is also established by a germline
loss-of-function variant in those genes (``germline``: :func:`genomics.biomarkers.germline.read_germline_genes`
of the patient's germline VCF), decided by :func:`genomics.biomarkers.variant_evidence.parp_eligibility`;
the result carries the evidence (gene, variant, consequence, source ``germline``/``tumour``, and for a VUS
its variant-effect probability with interval) in ``evidence``.

A drug without a requirement for this cancer type gets no result (it is not biomarker-restricted here).

Examples
--------
>>> [(r.drug, r.status) for r in assess_eligibility(["oxaliplatin", "panitumumab"], "COAD", None)]
[('panitumumab', 'not_established')]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from genomics.errors import KnowledgeBaseError

__all__ = [
    "ELIGIBILITY_COLOURS",
    "ELIGIBILITY_LABELS",
    "ELIGIBILITY_STATES",
    "EligibilityRequirement",
    "EligibilityResult",
    "assess_eligibility",
    "load_requirements",
    "worst_eligibility",
]

#: The three states, least to most severe.
ELIGIBILITY_STATES: tuple[str, ...] = ("eligible", "eligible_predicted", "not_established", "contraindicated")
#: Colour of each state (``not_established`` and ``eligible_predicted`` are amber: an unknown or a VUS is never green).
ELIGIBILITY_COLOURS: Mapping[str, str] = {"eligible": "green", "eligible_predicted": "amber",
                                          "not_established": "amber", "contraindicated": "red"}
#: Badge label of each state.
ELIGIBILITY_LABELS: Mapping[str, str] = {"eligible": "eligible",
                                         "eligible_predicted": "eligible (predicted pathogenic VUS; confirm)",
                                         "not_established": "eligibility not established",
                                         "contraindicated": "contraindicated by a tumour biomarker"}

Status = Literal["eligible", "eligible_predicted", "not_established", "contraindicated"]


@dataclass(frozen=True)
class EligibilityRequirement:
    """One row of ``eligibility_requirements``: therapies that need a biomarker in some cancer types."""

    id: str
    therapies: tuple[str, ...]
    cancer_types: tuple[str, ...]
    requires: Literal["present", "wild_type", "receptor_positive"]
    genes: tuple[str, ...]
    requirement: str
    test: str
    established_by: tuple[str, ...] = ()
    contraindicated_by: tuple[str, ...] = ()
    only_for: Mapping[str, tuple[str, ...]] = None  # type: ignore[assignment]
    citations: tuple[dict[str, Any], ...] = ()
    #: Genes whose germline loss-of-function variant also establishes the requirement (BRCA1/2: PARP inhibitors).
    germline_genes: tuple[str, ...] = ()
    #: ``requires: receptor_positive``: the clinical receptor status it reads (``er_positive``; immunohistochemistry,
    #: given with the patient's covariates, not read from tumour variants) and its wording ("oestrogen receptor").
    receptor: str = ""
    receptor_label: str = ""

    def rows_establishing(self, drug: str) -> set[str]:
        """Row ids that establish eligibility for ``drug`` (``only_for`` narrows a row to some drugs)."""
        only = self.only_for or {}
        return {r for r in self.established_by if r not in only or drug in only[r]}


@dataclass(frozen=True)
class EligibilityResult:
    """The eligibility of one drug for this tumour (see the module docstring for the states)."""

    drug: str
    status: Status
    requirement_id: str
    requirement: str
    genes: tuple[str, ...]
    test: str
    reason: str
    findings: tuple[str, ...] = ()
    citations: tuple[dict[str, Any], ...] = ()
    #: Variant evidence behind the state (:meth:`genomics.biomarkers.variant_evidence.VariantEvidence.to_dict`).
    evidence: tuple[dict[str, Any], ...] = ()

    @property
    def label(self) -> str:
        """Clinician wording: ``"eligibility not established: test KRAS and NRAS ..."``."""
        if self.status == "eligible":
            return f"eligible: {self.reason}"
        if self.status == "eligible_predicted":
            return f"eligible (predicted pathogenic VUS; confirm): {self.reason}"
        if self.status == "contraindicated":
            return f"avoid: {self.reason}"
        return f"eligibility not established: {self.test}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["label"] = self.label
        return d


@lru_cache(maxsize=1)
def _default_table() -> Path:
    from genomics.biomarkers.knowledge import _default_path

    return _default_path()


@lru_cache(maxsize=4)
def _load(path: str) -> tuple[EligibilityRequirement, ...]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise KnowledgeBaseError(f"cannot read the eligibility requirements ({err})", file=path,
                                 fix="restore the bundled biomarker table") from None
    out = []
    for i, raw in enumerate(data.get("eligibility_requirements") or []):
        rid = str(raw.get("id") or f"requirement {i + 1}")
        receptor = raw.get("requires") == "receptor_positive"
        for key in ("therapies", "cancer_types", "requires", "requirement", "test", "citations",
                    *(("receptor", "receptor_label") if receptor else ("genes",))):
            if not raw.get(key):
                raise KnowledgeBaseError(f"missing '{key}'", file=path, record=rid, field=key,
                                         fix=f"add '{key}' to the eligibility requirement")
        if raw["requires"] not in ("present", "wild_type", "receptor_positive"):
            raise KnowledgeBaseError(f"unknown 'requires' {raw['requires']!r}", file=path, record=rid,
                                     field="requires", fix="use present, wild_type or receptor_positive")
        out.append(EligibilityRequirement(
            id=rid, therapies=tuple(str(t).lower() for t in raw["therapies"]),
            cancer_types=tuple(str(c).upper() for c in raw["cancer_types"]), requires=raw["requires"],
            genes=tuple(str(g).upper() for g in raw.get("genes") or ()), requirement=str(raw["requirement"]),
            test=str(raw["test"]), established_by=tuple(raw.get("established_by") or ()),
            contraindicated_by=tuple(raw.get("contraindicated_by") or ()),
            only_for={k: tuple(v) for k, v in (raw.get("only_for") or {}).items()},
            citations=tuple(dict(c) for c in raw["citations"]),
            germline_genes=tuple(str(g).upper() for g in raw.get("germline_genes") or ()),
            receptor=str(raw.get("receptor") or ""), receptor_label=str(raw.get("receptor_label") or "")))
    return tuple(out)


def load_requirements(path: str | Path | None = None) -> tuple[EligibilityRequirement, ...]:
    """The eligibility requirements of a biomarker table (default: the bundled one)."""
    return _load(str(_default_table() if path is None else Path(path)))


@lru_cache(maxsize=1)
def _bundled_knowledge_base() -> Any:
    """The bundled biomarker table, parsed once (``load_knowledge_base`` re-reads and re-hashes the file)."""
    from genomics.biomarkers.knowledge import load_knowledge_base

    return load_knowledge_base()


@lru_cache(maxsize=256)
def _lineage_of(cancer_type: str) -> frozenset[str]:
    return frozenset(_bundled_knowledge_base().ancestors(cancer_type))  # the bundled table's OncoTree parents


def _lineage(cancer_type: str | None) -> set[str]:
    if not cancer_type:
        return set()
    return set(_lineage_of(cancer_type.strip().upper()))


def worst_eligibility(states: Iterable[str]) -> str:
    """The least favourable of ``states`` (``eligible`` for none)."""
    out = "eligible"
    for s in states:
        if ELIGIBILITY_STATES.index(s) > ELIGIBILITY_STATES.index(out):
            out = s
    return out


def _finding(m: Any) -> str:
    return getattr(m, "finding", None) or f"{m.gene} {getattr(m, 'protein_change', None) or m.alteration}"


def assess_eligibility(drugs: Sequence[str], cancer_type: str | None, report: Any, *,
                       tested_genes: Iterable[str] | None = None,
                       requirements: Sequence[EligibilityRequirement] | None = None,
                       germline: Any = None, lm_scorer: Any = None,
                       use_variant_effect: bool = True,
                       receptors: Mapping[str, Any] | None = None) -> tuple[EligibilityResult, ...]:
    """Eligibility of each biomarker-restricted drug of ``drugs`` for this tumour.

    Parameters
    ----------
    drugs
        Lower-case generic names (an option's drugs).
    cancer_type
        The patient's OncoTree code (``None``: no requirement applies, nothing is returned).
    report
        The patient's :class:`~genomics.biomarkers.BiomarkerReport`, or ``None`` without tumour data.
    tested_genes
        Genes the tumour data cover; ``None`` = every gene (a tumour VCF/MAF). A record's list of tumour
        variants covers only the genes it names.
    requirements
        Default: :func:`load_requirements`.
    germline
        The patient's :class:`~genomics.biomarkers.germline.GermlineGenes` (``None``: germline not assessed).
        Used only by requirements with ``germline_genes``.
    lm_scorer, use_variant_effect
        Passed to :func:`~genomics.biomarkers.variant_evidence.parp_eligibility` (DNA LM hook for a VUS; False:
        a VUS's variant-effect evidence is never used).
    receptors
        Clinical receptor statuses of the tumour (``{"er_positive": True}``; the patient's covariates). Used only by
        ``receptor_positive`` requirements: ``True`` eligible, ``False`` contraindicated, missing / ``None`` / NaN
        not established.
    """
    lineage = _lineage(cancer_type)
    if not lineage:
        return ()
    reqs = load_requirements() if requirements is None else requirements
    matches = tuple(getattr(report, "matches", ()) or ()) if report is not None else ()
    tested = None if tested_genes is None else {g.upper() for g in tested_genes}
    out: list[EligibilityResult] = []
    for drug in dict.fromkeys(d.strip().lower() for d in drugs):
        for req in reqs:
            if drug not in req.therapies or not lineage & set(req.cancer_types):
                continue
            if req.requires == "receptor_positive":
                out.append(_assess_receptor(drug, req, receptors))
            else:
                out.append(_assess_one(drug, req, report, matches, tested, germline=germline, lm_scorer=lm_scorer,
                                       use_variant_effect=use_variant_effect, lineage=lineage))
            break
        else:
            # no requirement: still contraindicated by a standard-care resistance marker in this cancer type
            against = _r1_resistance(matches, drug)
            if against:
                m = against[0]
                out.append(EligibilityResult(
                    drug=drug, status="contraindicated", requirement_id=m.rule_id,
                    requirement=f"no {m.gene} {m.alteration}", genes=(m.gene,), test="",
                    reason=f"tumour {_finding(m)} confers resistance to {drug} (level R1, {m.source_version})",
                    findings=tuple(_finding(x) for x in against), citations=tuple(dict(c) for c in m.citations)))
    return tuple(out)


def _r1_resistance(matches: Sequence[Any], drug: str) -> list[Any]:
    """Resistance rows of level R1, matched in the patient's cancer type, that name ``drug``."""
    return [m for m in matches if m.direction == "resistance" and m.matched_in_patient_cancer_type
            and (m.level_for_patient or m.evidence_level) == "R1" and drug in getattr(m, "drugs", ())]


def _receptor_status(value: Any) -> bool | None:
    """``True`` / ``False`` / ``None`` (unknown) from a covariate value (bool, 0/1, ``"positive"``, NaN)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        v = value.strip().lower()
        return True if v in ("1", "true", "positive", "pos", "yes") else False if v in (
            "0", "false", "negative", "neg", "no") else None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if f != f else bool(f)


def _assess_receptor(drug: str, req: EligibilityRequirement, receptors: Mapping[str, Any] | None
                     ) -> EligibilityResult:
    """A ``receptor_positive`` requirement (endocrine therapy: hormone-receptor-positive breast cancer)."""
    status = _receptor_status((receptors or {}).get(req.receptor))

    def result(state: Status, reason: str, findings: Sequence[str] = ()) -> EligibilityResult:
        return EligibilityResult(drug=drug, status=state, requirement_id=req.id, requirement=req.requirement,
                                 genes=req.genes, test=req.test, reason=reason, findings=tuple(findings),
                                 citations=req.citations)

    if status is True:
        return result("eligible", f"tumour {req.receptor_label} positive ({req.requirement})",
                      [f"{req.receptor_label} positive"])
    if status is False:
        return result("contraindicated", f"tumour {req.receptor_label} negative (requirement: {req.requirement})",
                      [f"{req.receptor_label} negative"])
    return result("not_established", f"{req.receptor_label} status not given")


def _assess_one(drug: str, req: EligibilityRequirement, report: Any, matches: Sequence[Any],
                tested: set[str] | None, *, germline: Any = None, lm_scorer: Any = None,
                use_variant_effect: bool = True, lineage: set[str] | None = None) -> EligibilityResult:
    def result(status: Status, reason: str, findings: Sequence[str] = (),
               evidence: Sequence[dict[str, Any]] = ()) -> EligibilityResult:
        return EligibilityResult(drug=drug, status=status, requirement_id=req.id, requirement=req.requirement,
                                 genes=req.genes, test=req.test, reason=reason, findings=tuple(findings),
                                 citations=req.citations, evidence=tuple(evidence))

    genes = " and ".join(req.genes)
    against = [m for m in matches if m.rule_id in req.contraindicated_by and m.matched_in_patient_cancer_type]
    against += [m for m in _r1_resistance(matches, drug) if m not in against]
    if against:
        return result("contraindicated", f"tumour {', '.join(_finding(m) for m in against)} "
                      f"(requirement: {req.requirement})", [_finding(m) for m in against])
    if req.germline_genes and req.requires == "present":
        return _assess_germline_capable(drug, req, report, matches, germline, lm_scorer, use_variant_effect, result)
    if report is None:
        return result("not_established", "no tumour data")
    if req.requires == "present":
        establishing = req.rows_establishing(drug)
        ok = [m for m in matches if m.rule_id in establishing and m.direction == "sensitivity"]
        if ok:
            return result("eligible", f"tumour {', '.join(_finding(m) for m in ok)} ({req.requirement})",
                          [_finding(m) for m in ok])
        return result("not_established", f"{req.requirement} not reported in the tumour data given (absence in "
                                          "the data is not proof of absence)")
    # wild type required, nothing against it: are the genes covered?
    if tested is not None:
        uncovered = [g for g in req.genes if g not in tested]
        if uncovered:
            return result("not_established", f"{' and '.join(uncovered)} not covered by the tumour data "
                                              f"(the record lists no result for {'it' if len(uncovered) == 1 else 'them'})")
        return result("eligible", f"{genes} tested without a listed resistance variant ({req.requirement})")
    return result("eligible", f"no {genes} resistance variant in the tumour file ({req.requirement}); the file is "
                              f"taken to cover {genes}: check that the assay did")


def _tumour_vus_variants(report: Any, genes: Sequence[str]) -> list[dict[str, Any]]:
    """The tumour report's VUS in ``genes`` as variant mappings for :func:`parp_eligibility`."""
    out = []
    for v in getattr(report, "vus", ()) or ():
        if v.gene not in genes:
            continue
        item: dict[str, Any] = {"gene": v.gene, "protein_change": v.protein_change, "record": v.record,
                                "source": "tumour"}
        if v.chrom and v.pos is not None and v.ref and v.alt:
            item.update(chrom=v.chrom, pos=v.pos, ref=v.ref, alt=v.alt)
        else:
            item["consequence"] = "missense" if v.protein_change else None
        out.append(item)
    return out


def _assess_germline_capable(drug: str, req: EligibilityRequirement, report: Any, matches: Sequence[Any],
                             germline: Any, lm_scorer: Any, use_variant_effect: bool, result: Any) -> EligibilityResult:
    """A ``present`` requirement that germline variants can establish (PARP inhibitors: BRCA1/2)."""
    from genomics.biomarkers.variant_evidence import parp_eligibility

    genes = req.germline_genes
    decision = parp_eligibility(
        () if germline is None else [v for v in germline.variants if v.gene in genes],
        _tumour_vus_variants(report, genes) if report is not None else (),
        germline_status=germline, genes=genes, lm_scorer=lm_scorer, use_variant_effect=use_variant_effect)
    establishing = req.rows_establishing(drug)
    ok = [m for m in matches if m.rule_id in establishing and m.direction == "sensitivity"]
    if ok:
        return result("eligible", f"tumour {', '.join(_finding(m) for m in ok)} ({req.requirement})",
                      [_finding(m) for m in ok], decision.evidence)
    if decision.status == "eligible":
        return result("eligible", f"{decision.reason} ({req.requirement})", decision.findings, decision.evidence)
    if decision.status == "eligible_predicted":
        return result("eligible_predicted", f"{decision.reason}; not an approved biomarker until classified",
                      decision.findings, decision.evidence)
    tumour = ("no tumour data" if report is None else
              f"{req.requirement} not reported in the tumour data given (absence in the data is not proof of absence)")
    return result("not_established", f"{tumour}; {decision.reason}", (), decision.evidence)
