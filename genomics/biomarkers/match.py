"""Match a tumour profile against biomarker -> therapy tables.

:func:`match_biomarkers` returns a :class:`BiomarkerReport`: one :class:`MatchedBiomarker` per
(table row, tumour finding) pair, BRCA1/2 variants of unknown significance as
:class:`VusFinding` (never as approved biomarkers; an optional effect-score hook, e.g. the DNA
LM of :mod:`genomics.dnalm`, adds a score), warnings and provenance (package version, genome
build, table versions and sha256).

Examples
--------
>>> from genomics.biomarkers import read_tumour, match_biomarkers           # doctest: +SKIP
>>> report = match_biomarkers(read_tumour("tumour.maf"), cancer_type="LUAD")  # doctest: +SKIP
>>> [(m.gene, m.protein_change, m.therapies) for m in report.matches]        # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from genomics.biomarkers.hotspots import load_hotspots
from genomics.biomarkers.inputs import SomaticVariant, TumourProfile
from genomics.biomarkers.knowledge import BiomarkerRule, KnowledgeBase, load_knowledge_base, rule_matches
from genomics.biomarkers.protein_change import ProteinChange, parse_protein_change
from genomics.errors import UsageError

__all__ = [
    "MATCH_METHODS",
    "VUS_LABEL",
    "BiomarkerReport",
    "MatchedBiomarker",
    "VusFinding",
    "dnalm_vus_scorer",
    "match_biomarkers",
    "package_version",
]

VUS_LABEL = "VUS — not an approved biomarker"
MATCH_METHODS = ("protein change", "GRCh38 position", "copy number", "fusion", "TMB", "MSI")
VUS_GENES = ("BRCA1", "BRCA2")
_LEVEL_ORDER = {lvl: i for i, lvl in enumerate(("1", "R1", "2", "3A", "3B", "R2", "4"))}

#: A VUS effect-score hook: takes a variant, returns a float, a dict with ``score`` (and
#: optionally ``method``, ``detail``) or ``None`` when it cannot score the variant.
VusScorer = Callable[[SomaticVariant], Any]


def package_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("genomics-treatment-recommender")
        except PackageNotFoundError:
            return "0+unknown"
    except ImportError:  # pragma: no cover
        return "0+unknown"


@dataclass(frozen=True)
class MatchedBiomarker:
    """One actionable finding: a table row matched by something in the tumour.

    Attributes
    ----------
    gene, alteration : str
        Gene (``MSI`` / ``TMB`` for those) and the row's alteration text.
    protein_change : str or None
        The tumour's change, one-letter (``V600E``), for mutations.
    evidence_level : str
        The row's level on the table's scale (1, 2, 3A, 4, R1, R2).
    level_for_patient : str or None
        The level for this patient's cancer type: the row's level when the row applies to it;
        ``3B`` (sensitivity) or ``R2`` (resistance) when a level 1/2/R1 row is for another
        type; ``None`` when no cancer type was given.
    therapies : tuple[str, ...]
        Lower-case generic drug names (``"dabrafenib + trametinib"`` is a combination).
    direction : str
        ``sensitivity`` or ``resistance``.
    cancer_types : tuple[str, ...]
        OncoTree codes the row is for (``TISSUE``: tissue-agnostic).
    matched_in_patient_cancer_type : bool
    citations : tuple[dict, ...]
    source_version : str
        ``name version`` of the table the row comes from.
    match_method : str
        One of :data:`MATCH_METHODS`.
    """

    gene: str
    alteration: str
    protein_change: str | None
    evidence_level: str
    level_for_patient: str | None
    therapies: tuple[str, ...]
    direction: str
    cancer_types: tuple[str, ...]
    matched_in_patient_cancer_type: bool
    citations: tuple[dict[str, Any], ...]
    source_version: str
    match_method: str
    rule_id: str
    record: str = ""
    statement: str = ""
    finding: str = ""

    @property
    def drugs(self) -> tuple[str, ...]:
        """Single drug names of :attr:`therapies` (``"dabrafenib + trametinib"`` gives both)."""
        out: list[str] = []
        for therapy in self.therapies:
            out.extend(d.strip() for d in therapy.split(" + ") if d.strip())
        return tuple(dict.fromkeys(out))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["therapies"] = list(self.therapies)
        d["drugs"] = list(self.drugs)
        d["cancer_types"] = list(self.cancer_types)
        d["citations"] = [dict(c) for c in self.citations]
        return d


@dataclass(frozen=True)
class VusFinding:
    """A BRCA1/2 variant of unknown significance: shown as such, never as an approved biomarker."""

    gene: str
    protein_change: str | None
    record: str
    classification: str = VUS_LABEL
    approved_biomarker: bool = False
    effect_score: float | None = None
    effect_score_method: str | None = None
    effect_score_detail: str | None = None
    chrom: str | None = None
    pos: int | None = None
    ref: str | None = None
    alt: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BiomarkerReport:
    """Result of :func:`match_biomarkers` (JSON via :meth:`to_dict`)."""

    matches: tuple[MatchedBiomarker, ...]
    vus: tuple[VusFinding, ...]
    cancer_type: str | None
    tumour: dict[str, Any]
    warnings: tuple[str, ...]
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def therapies(self) -> dict[str, list[str]]:
        """Drug -> ``["sensitivity"/"resistance" (level)]`` over the matches in the patient's type."""
        out: dict[str, list[str]] = {}
        for m in self.matches:
            if not m.matched_in_patient_cancer_type:
                continue
            for t in m.therapies:
                out.setdefault(t, []).append(f"{m.direction} ({m.evidence_level})")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "genomics.biomarkers.report/1",
            "cancer_type": self.cancer_type,
            "matches": [m.to_dict() for m in self.matches],
            "vus": [v.to_dict() for v in self.vus],
            "tumour": self.tumour,
            "warnings": list(self.warnings),
            "provenance": self.provenance,
        }

    def format_table(self) -> str:
        """Plain-text summary for the terminal."""
        lines = [f"Cancer type: {self.cancer_type or 'not given (no level is adjusted for the patient)'}"]
        if not self.matches:
            lines.append("No actionable biomarker found.")
        else:
            lines.append(f"{'gene':<8} {'change':<16} {'level':<6} {'here':<5} {'direction':<11} {'via':<16} therapies")
            for m in self.matches:
                lines.append(
                    f"{m.gene:<8} {(m.protein_change or m.alteration)[:16]:<16} "
                    f"{(m.level_for_patient or m.evidence_level):<6} {'yes' if m.matched_in_patient_cancer_type else 'no':<5} "
                    f"{m.direction:<11} {m.match_method:<16} {', '.join(m.therapies)}  [{'/'.join(m.cancer_types)}]"
                )
        for v in self.vus:
            score = "" if v.effect_score is None else f"; effect score {v.effect_score:.3f} ({v.effect_score_method})"
            lines.append(f"{v.gene} {v.protein_change or v.record}: {v.classification}{score}")
        for w in self.warnings:
            lines.append(f"note: {w}")
        tables = ", ".join(f"{t['name']} {t['version']}" for t in self.provenance.get("biomarker_tables", []))
        lines.append(f"Tables: {tables}; genome build {self.provenance.get('genome_build')}")
        return "\n".join(lines)


def _level_for_patient(row: BiomarkerRule, applies: bool, cancer_type: str | None) -> str | None:
    if cancer_type is None:
        return None
    if applies:
        return row.evidence_level
    if row.evidence_level in {"1", "2"}:
        return "3B"
    if row.evidence_level == "R1":
        return "R2"
    return row.evidence_level


def _citations(row: BiomarkerRule) -> tuple[dict[str, Any], ...]:
    return tuple(c.to_dict() for c in row.citations)


def _emit(kb: KnowledgeBase, row: BiomarkerRule, cancer_type: str | None, *, gene: str, method: str,
          protein_change: str | None, record: str, finding: str) -> MatchedBiomarker:
    applies = kb.applies_to(row, cancer_type)
    return MatchedBiomarker(
        gene=gene, alteration=row.alteration, protein_change=protein_change, evidence_level=row.evidence_level,
        level_for_patient=_level_for_patient(row, applies, cancer_type), therapies=row.therapies,
        direction=row.direction, cancer_types=row.cancer_types, matched_in_patient_cancer_type=applies,
        citations=_citations(row), source_version=f"{kb.name} {kb.version}", match_method=method, rule_id=row.id,
        record=record, statement=row.statement, finding=finding,
    )


def _variant_key(v: SomaticVariant) -> tuple[str | None, ProteinChange | None, str]:
    """Gene, protein change and method for a variant (position lookup when unannotated)."""
    if v.gene and v.protein is not None and v.protein.short is not None:
        return v.gene, v.protein, "protein change"
    if v.positions_build == "GRCh38" and v.pos is not None and v.ref and v.alt:
        hit = load_hotspots().grch38_allele(v.chrom or "", v.pos, v.ref, v.alt)
        if hit is not None and (v.gene is None or v.gene == hit.gene):
            return hit.gene, parse_protein_change(hit.protein_change), "GRCh38 position"
    return v.gene, v.protein, "protein change"


def _score_vus(v: SomaticVariant, scorer: VusScorer | None) -> tuple[float | None, str | None, str | None]:
    if scorer is None:
        return None, None, "no effect-score hook given"
    try:
        out = scorer(v)
    except Exception as err:  # noqa: BLE001 - a scoring failure must not hide the VUS
        return None, None, f"effect score failed: {type(err).__name__}: {err}"
    if out is None:
        return None, None, "the effect-score hook could not score this variant"
    if isinstance(out, dict):
        score = out.get("score")
        return (None if score is None else float(score)), out.get("method"), out.get("detail")
    return float(out), getattr(scorer, "method", None), None


def match_biomarkers(
    profile: TumourProfile,
    cancer_type: str | None = None,
    *,
    knowledge: KnowledgeBase | Sequence[KnowledgeBase] | None = None,
    extra_tables: Iterable[KnowledgeBase] = (),
    vus_scorer: VusScorer | None = None,
) -> BiomarkerReport:
    """Match a tumour against the biomarker table(s).

    Parameters
    ----------
    profile
        From :func:`~genomics.biomarkers.read_tumour`.
    cancer_type
        The patient's OncoTree code (``LUAD``); rows for a parent (``NSCLC``) or ``TISSUE``
        (tissue-agnostic) apply. ``None``: every match has ``matched_in_patient_cancer_type``
        False and ``level_for_patient`` None.
    knowledge
        The table(s) to use; default: the bundled project table.
    extra_tables
        More tables (e.g. imported third-party ones), matched in addition.
    vus_scorer
        Optional hook giving a BRCA1/2 VUS an effect score (see :func:`dnalm_vus_scorer`).
    """
    if knowledge is None:
        tables = [load_knowledge_base()]
    elif isinstance(knowledge, KnowledgeBase):
        tables = [knowledge]
    else:
        tables = list(knowledge)
    tables += list(extra_tables)
    ct = cancer_type.strip().upper() if cancer_type else None
    if ct is not None and not tables[0].known_code(ct):
        raise UsageError(f"unknown OncoTree code {cancer_type!r}", field="cancer_type",
                         fix="give an OncoTree code, e.g. LUAD, NSCLC, COADREAD, BRCA, SKCM, HGSOC, PAAD, PRAD, GIST")
    notes = list(profile.warnings)
    matches: list[MatchedBiomarker] = []
    vus: list[VusFinding] = []
    for v in profile.variants:
        gene, protein, method = _variant_key(v)
        if gene is None:
            continue
        change = protein if protein is not None else ProteinChange("", None, "unknown")
        hit_any = False
        for kb in tables:
            for row in kb.rows:
                if row.kind != "mutation" or gene not in row.genes:
                    continue
                if any(rule_matches(r, change, exon=v.exon, consequences=v.consequences, pathogenic=v.pathogenic)
                       for r in row.rules):
                    hit_any = True
                    matches.append(_emit(kb, row, ct, gene=gene, method=method, protein_change=change.short,
                                         record=v.record, finding=f"{gene} p.{change.short}" if change.short
                                         else f"{gene} ({', '.join(v.consequences) or 'variant'})"))
        if gene in VUS_GENES and not hit_any and _could_be_vus(change, v):
            score, smethod, detail = _score_vus(v, vus_scorer)
            vus.append(VusFinding(gene=gene, protein_change=change.short, record=v.record, effect_score=score,
                                  effect_score_method=smethod, effect_score_detail=detail, chrom=v.chrom,
                                  pos=v.pos, ref=v.ref, alt=v.alt))
    for kb in tables:
        for row in kb.rows:
            if row.kind in {"amplification", "deletion"}:
                for c in profile.copy_number:
                    if c.alteration == row.kind and c.gene in row.genes:
                        cn = "" if c.copy_number is None else f" (copy number {c.copy_number:g})"
                        matches.append(_emit(kb, row, ct, gene=c.gene, method="copy number", protein_change=None,
                                             record=c.record, finding=f"{c.gene} {c.alteration}{cn}"))
            elif row.kind == "fusion":
                for f in profile.fusions:
                    target = next((g for g in f.genes if g in row.genes), None)
                    if target is None:
                        continue
                    other = next((g for g in f.genes if g != target), None)
                    if row.partners and other not in row.partners:
                        continue
                    label = f"{other}::{target} fusion" if other else f"{target} fusion"
                    matches.append(_emit(kb, row, ct, gene=target, method="fusion", protein_change=None,
                                         record=f.record, finding=label))
            elif row.kind == "tmb" and profile.tmb is not None and row.tmb_min is not None:
                if profile.tmb >= row.tmb_min:
                    matches.append(_emit(kb, row, ct, gene="TMB", method="TMB", protein_change=None,
                                         record="--tmb", finding=f"TMB {profile.tmb:g} mut/Mb"))
            elif row.kind == "msi" and profile.msi is not None and profile.msi in row.msi_status:
                matches.append(_emit(kb, row, ct, gene="MSI", method="MSI", protein_change=None,
                                     record="--msi", finding=profile.msi))
    if ct is None and matches:
        notes.append("no cancer type given: matches are listed for the cancer types of their evidence; "
                     "pass an OncoTree code (e.g. --cancer-type LUAD) to see which apply to the patient")
    matches.sort(key=lambda m: (not m.matched_in_patient_cancer_type,
                                _LEVEL_ORDER.get(m.level_for_patient or m.evidence_level, 9), m.gene, m.rule_id))
    hotspots = load_hotspots()
    provenance = {
        "package": "genomics-treatment-recommender",
        "package_version": package_version(),
        "genome_build": "GRCh38",
        "biomarker_tables": [kb.provenance() for kb in tables],
        "hotspot_positions": hotspots.provenance(),
        "tumour_file": profile.source_file,
        "vus_effect_score": getattr(vus_scorer, "provenance", None) if vus_scorer is not None else None,
    }
    return BiomarkerReport(
        matches=tuple(matches), vus=tuple(vus), cancer_type=ct,
        tumour={"source_file": profile.source_file, "format": profile.file_format, "annotation": profile.annotation,
                "positions_build": profile.positions_build, "sample": profile.sample,
                "variants": len(profile.variants), "copy_number_calls": len(profile.copy_number),
                "fusions": len(profile.fusions), "tmb": profile.tmb, "msi": profile.msi,
                "cnv_file": profile.cnv_file},
        warnings=tuple(dict.fromkeys(notes)), provenance=provenance,
    )


def _could_be_vus(change: ProteinChange, v: SomaticVariant) -> bool:
    if change.kind in {"missense", "inframe_deletion", "inframe_insertion", "duplication", "delins"}:
        return True
    if change.kind == "unknown":
        return bool({"missense_variant", "inframe_deletion", "inframe_insertion"} & set(v.consequences))
    return False


def dnalm_vus_scorer(model: str | None = None, **kwargs: Any) -> VusScorer:
    """A VUS effect-score hook backed by :mod:`genomics.dnalm` (imported and loaded on first use).

    The score is the DNA LM's zero-shot log-likelihood ratio (``llr``; more negative = more
    disruptive) of the GRCh38 allele; variants without GRCh38 positions, or outside the
    reference the scorer has, get no score (with the reason). It is research evidence shown next
    to the VUS, never a reason to call it a biomarker.
    """
    state: dict[str, Any] = {}

    def _scorer() -> Any:
        if "scorer" not in state:
            from genomics.dnalm import VariantScorer, load_model

            lm = load_model(model, **kwargs)
            state["scorer"] = VariantScorer(lm, embeddings=False, on_ref_mismatch="skip")
            state["model_id"] = getattr(lm, "model_id", None)
            score.provenance = {"method": "genomics.dnalm zero-shot LLR", "model_id": state["model_id"]}
        return state["scorer"]

    def score(v: SomaticVariant) -> dict[str, Any] | None:
        if v.pos is None or v.positions_build != "GRCh38" or not v.ref or not v.alt:
            return {"score": None, "method": None, "detail": "no GRCh38 position: not scored"}
        from genomics.dnalm import Variant

        scorer = _scorer()
        result = scorer.score([Variant(v.chrom or "", v.pos, v.ref, v.alt, gene=v.gene)])[0]
        if result.llr is None:
            return {"score": None, "method": "genomics.dnalm zero-shot LLR",
                    "detail": f"not scored: {result.status}" + (f" ({result.detail})" if result.detail else "")}
        try:  # the DNA LM issue's fitted combined score (consequence, splice distance, LLR), when that module exists
            from genomics.dnalm.consequence import annotate
            from genomics.dnalm.variant_effect import assess
        except ImportError:
            return {"score": result.llr, "method": f"genomics.dnalm zero-shot LLR ({result.model_id})",
                    "detail": "DNA LM effect score: research evidence only, not an approved biomarker"}
        cons = annotate(v.chrom or "", v.pos, v.ref, v.alt, reference=scorer.reference)
        eff = assess(cons.consequence, cons.in_exon, cons.exon_boundary_distance, result.llr,
                     lm_model=scorer.lm.cache_key)
        used = ", ".join(k for k, c in eff.contributions.items() if c) or "none"
        return {"score": -eff.log_odds,
                "method": f"genomics.dnalm combined score: fitted combination of consequence, splice distance "
                          f"and LLR, minus log-odds ({result.model_id})",
                "detail": f"P(damaging) {eff.probability:.2f} (90% CI {eff.interval[0]:.2f}-{eff.interval[1]:.2f}; "
                          f"parts contributing: {used}); LLR {result.llr:.3f}, consequence {cons.consequence}; "
                          "research evidence only, not an approved biomarker"}

    score.provenance = {"method": "genomics.dnalm zero-shot LLR", "model_id": None}  # type: ignore[attr-defined]
    return score
