"""Self-contained HTML section of the pharmacogenomic report (inline CSS, no external assets).

Sections: per-drug summary in the traffic-light colours of the guidance-action vocabulary, genotype
summary with the coverage of required positions, full recommendations quoted verbatim, allele-matching
details, disclaimers and provenance (package and knowledge-base versions, with the note that the
recommendation tables are older than the allele definitions).

Rendering uses Jinja2 with autoescaping on: every value is escaped except guideline HTML. Guideline HTML
from the bundled tables is trusted and inserted as is (verbatim); HTML from tables a user imported is
sanitised with ``nh3`` (an allow-list of text tags; scripts, styles, event handlers and links to
``javascript:`` are removed) before insertion.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import jinja2
import nh3
from markupsafe import Markup

from genomics.pgx.actions import ACTION_COLOURS, ACTION_LABELS, COLOUR_HEX
from genomics.pgx.guidance import DrugGuidance, gene_inputs_from_profile
from genomics.pgx.knowledge_base import KnowledgeBase, active_knowledge_base
from genomics.pgx.phenotypes import assign_phenotype

__all__ = ["ALLOWED_TAGS", "DISCLAIMERS", "render_pgx_html", "sanitize_guideline_html"]

_TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

#: Tags kept when sanitising imported guideline HTML.
ALLOWED_TAGS = {"p", "br", "ul", "ol", "li", "strong", "b", "em", "i", "u", "sup", "sub", "h3", "h4", "h5", "h6",
                "table", "thead", "tbody", "tr", "th", "td", "blockquote", "code", "span", "div", "a"}

DISCLAIMERS: tuple[str, ...] = (
    "This report supports, and does not replace, clinical judgement. Read the full guideline text and the "
    "published guideline before changing any treatment.",
    "Genotypes come from the variant calls given; positions missing from the input are reported, never assumed "
    "to be reference unless filling was requested (and is then stated). Structural variants, copy-number "
    "changes and hybrid alleles are not detected from a VCF: CYP2D6 is called from SNVs and indels only "
    "(deletions *5, duplications xN and CYP2D6/2D7 hybrids are invisible), so a CYP2D6 normal result may be "
    "wrong; supply a copy-number-aware CYP2D6 result as an outside call.",
    "Phenoconversion by co-medication (e.g. strong CYP2D6 inhibitors) is not taken into account here.",
    "Guideline text is quoted verbatim from CPIC (cpicpgx.org, CC0) and DPWG/ClinPGx (CC BY-SA 4.0) as packaged "
    "by PharmCAT (MPL-2.0); the summary action is derived by documented rules and may simplify conditional "
    "advice. Guidelines change: check cpicpgx.org and the KNMP for the current version.",
    "PharmCAT and CPIC disclaim liability for the use of their data; so does this software (research use only).",
)

_LABELS = ACTION_LABELS  # the one vocabulary (genomics.pgx.actions)


def sanitize_guideline_html(text_html: str) -> str:
    """Guideline HTML reduced to safe text markup (for tables imported by a user)."""
    return nh3.clean(text_html or "", tags=ALLOWED_TAGS, attributes={"a": {"href"}}, url_schemes={"http", "https"},
                     link_rel="noopener noreferrer")


def _package_version() -> str:
    try:
        return metadata.version("genomics-treatment-recommender")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATE_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _gene_rows(profile: Any) -> list[dict[str, Any]]:
    genes = getattr(profile, "genes", None)
    rows: list[dict[str, Any]] = []
    if isinstance(genes, dict) and genes and all(hasattr(v, "status") for v in genes.values()):
        for name in sorted(genes):
            call = genes[name]
            n_pos = int(getattr(call, "n_positions", 0) or 0)
            n_obs = int(getattr(call, "n_observed", 0) or 0)
            missing = list(getattr(call, "missing_positions", []) or [])
            rows.append({
                "gene": call.gene,
                "diplotypes": [d.name for d in call.diplotypes],
                "phenotype": call.phenotype,
                "activity_score": call.activity_score,
                "status": call.status,
                "source": call.source,
                "outside_source": getattr(call, "outside_source", None),
                "n_positions": n_pos,
                "n_observed": n_obs,
                "coverage_pct": f"{100.0 * n_obs / n_pos:.0f}" if n_pos else "0",
                "n_missing": len(missing),
                "n_filled": len(getattr(call, "filled_positions", []) or []),
                "reasons": list(getattr(call, "reasons", []) or []),
                "warnings": list(getattr(call, "warnings", []) or []),
                "rule": getattr(call, "rule", None),
                "phased": getattr(call, "phased", None),
                "missing_positions": [
                    {"label": f"{m.position}" + (f" ({m.rsid})" if m.rsid else ""),
                     "alleles": ", ".join(m.alleles_defined_here[:8])
                     + (" ..." if len(m.alleles_defined_here) > 8 else "")}
                    for m in missing
                ],
                "filled_positions": list(getattr(call, "filled_positions", []) or []),
                "alleles_not_ruled_out": list(getattr(call, "alleles_not_ruled_out", []) or []),
                "novel_variants": [f"{n.position} {n.ref}>{n.allele} ({n.genotype})"
                                   for n in getattr(call, "novel_variants", []) or []],
                "limitations": list(getattr(call, "limitations", []) or []),
            })
        return rows
    for gene, gi in sorted(gene_inputs_from_profile(profile).items()):
        calls = [assign_phenotype(gene, a1, a2, sex=gi.sex) for a1, a2 in gi.diplotypes]
        phenos = sorted({c.phenotype for c in calls})
        scores = sorted({c.activity_score for c in calls if c.activity_score})
        rows.append({
            "gene": gene, "diplotypes": ["/".join(a for a in d if a) for d in gi.diplotypes],
            "phenotype": gi.phenotype or (" / ".join(phenos) if phenos else None),
            "activity_score": gi.activity_score or (" / ".join(scores) if scores else None),
            "status": "called" if gi.called else "not_called", "source": gi.call_source, "outside_source": None,
            "n_positions": 0, "n_observed": 0, "coverage_pct": "0", "n_missing": 0, "n_filled": 0,
            "reasons": [], "warnings": [gi.note] if gi.note else [], "rule": None, "phased": None,
            "missing_positions": [], "filled_positions": [], "alleles_not_ruled_out": [], "novel_variants": [],
            "limitations": [],
        })
    return rows


def _driving(g: DrugGuidance) -> list[dict[str, str]]:
    out: dict[str, str] = {}
    for gr in g.gene_results:
        if gr.gene in out:
            continue
        if gr.status == "missing":
            text = "not in profile"
        elif gr.status == "not_called":
            text = "not called"
        else:
            parts = []
            dips = " or ".join(d for d in gr.diplotypes if d)
            if dips:
                parts.append(dips)
            phen = " / ".join(p for p in gr.phenotypes if p)
            if phen:
                parts.append(phen)
            if gr.activity_scores:
                parts.append("AS " + " / ".join(gr.activity_scores))
            if gr.status == "ambiguous":
                parts.append("(ambiguous)")
            text = ", ".join(parts) or gr.status
        out[gr.gene] = text
    return [{"gene": k, "text": v} for k, v in out.items()]


def _provenance_rows(profile: Any, kb: KnowledgeBase) -> list[tuple[str, str]]:
    prov = getattr(profile, "provenance", None)
    info = kb.provenance()
    rows = [
        ("Package", f"genomics-treatment-recommender {_package_version()}"),
        ("Genome build", str(getattr(prov, "genome_build", "GRCh38"))),
        ("Knowledge base", f"{info['kb_id']} ({info['kb_origin']})"),
        ("Recommendation tables (CPIC/DPWG via PharmCAT)", str(info["recommendation_tables_version"])),
        ("Allele definitions (CPIC/PharmVar via PharmCAT)", str(info["allele_definitions_version"])),
        ("CPIC phenotype tables", ", ".join(f"{g} {v}" for g, v in info["cpic_phenotype_versions"].items())),
    ]
    if prov is not None:
        if getattr(prov, "definitions_version", None):
            rows.append(("Definitions used for calling", str(prov.definitions_version)))
        if getattr(prov, "vcf", None):
            rows.append(("Input VCF", str(prov.vcf)))
        options = getattr(prov, "options", None)
        if options:
            rows.append(("Calling options", ", ".join(f"{k}={v}" for k, v in options.items())))
        if getattr(prov, "created", None):
            rows.append(("Profile created", str(prov.created)))
    if info.get("staleness_warning"):
        rows.append(("Note", info["staleness_warning"]))
    return rows


def render_pgx_html(profile: Any, guidance: Sequence[DrugGuidance] | Iterable[DrugGuidance], *,
                    kb: KnowledgeBase | None = None, standalone: bool = False,
                    sources: Sequence[str] = ("CPIC", "DPWG")) -> str:
    """Render the PGx report section.

    Parameters
    ----------
    profile
        A :class:`~genomics.pgx.profile.PgxProfile` (or the plain mapping accepted by guidance).
    guidance
        The :class:`~genomics.pgx.guidance.DrugGuidance` list (e.g. from ``guidance_for_profile``).
    kb
        Knowledge base for provenance (default: the one in force).
    standalone
        Wrap the section in a complete HTML document.

    Returns
    -------
    str
        HTML with inline CSS and no external assets (no scripts, stylesheets, fonts or images).
    """
    kb = kb or active_knowledge_base()
    guidance = list(guidance)
    recs: dict[str, list[dict[str, Any]]] = {}
    for g in guidance:
        items = []
        for rec in g.recommendations:
            html = rec.text_html if rec.trusted_html else sanitize_guideline_html(rec.text_html)
            items.append({"rec": rec, "html": Markup(html)})
        recs[g.drug] = items
    sample = getattr(profile, "sample", None)
    context = {
        "standalone": standalone,
        "sample": sample,
        "guidance": guidance,
        "sources": list(sources),
        "colours": ACTION_COLOURS,
        "labels": _LABELS,
        "hex": COLOUR_HEX,
        "driving": {g.drug: _driving(g) for g in guidance},
        "recs": recs,
        "genes": _gene_rows(profile),
        "disclaimers": DISCLAIMERS,
        "staleness": kb.staleness_warning(),
        "provenance": _provenance_rows(profile, kb),
    }
    return _env().get_template("pgx_report.html.j2").render(**context)
