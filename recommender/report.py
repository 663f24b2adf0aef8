"""One self-contained HTML report of a :class:`~recommender.recommendation.Recommendation`.

Used by ``recommender score --html``, the HTTP service (``POST /v1/score?format=html``) and the app.
Jinja2 with autoescaping: every value of the result is escaped; the only markup inserted as is comes
from :func:`genomics.pgx.render_pgx_html` (the pharmacogenomic section, which itself escapes values and
sanitises imported guideline HTML) and the survival sparkline this module draws from numbers. Inline
CSS, no scripts, no external assets.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from recommender.recommendation import ACTION_COLOURS, RankedOption, Recommendation, SurvivalPrediction

__all__ = ["ACTION_LABELS", "pgx_section_html", "render_report", "write_report"]

ACTION_LABELS = {"standard": "standard", "adjust_dose": "adjust dose", "caution": "caution", "avoid": "avoid",
                 "no_guidance": "no guidance"}
_TEMPLATES = Path(__file__).resolve().parent / "templates"


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(_TEMPLATES)), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _curve(s: SurvivalPrediction, width: int = 160, height: int = 36) -> Markup:
    """An inline SVG sparkline of a survival curve (numbers only, so safe to insert)."""
    if len(s.times) < 2 or not s.survival:
        return Markup("")
    t_max = max(s.times) or 1.0
    pts = " ".join(f"{width * float(t) / t_max:.1f},{height * (1.0 - float(v)):.1f}"
                   for t, v in zip(s.times, s.survival, strict=False))
    label = f"{s.endpoint.upper()} survival curve, 0 to {t_max:.0f} days"
    return Markup('<svg class="rr-curve" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{a}">'
                  '<rect width="{w}" height="{h}" fill="#fafafa" stroke="#ddd"/>'
                  '<polyline fill="none" stroke="#1565c0" stroke-width="1.5" points="{p}"/></svg>').format(
        w=width, h=height, a=label, p=pts)


def _surv(o: RankedOption, endpoint: str) -> SurvivalPrediction | None:
    return next((s for s in o.model.survival if s.endpoint == endpoint), None)


def _top_tox(o: RankedOption, n: int = 3) -> list[Any]:
    return sorted(o.model.toxicity, key=lambda t: -t.probability)[:n]


def pgx_section_html(rec: Recommendation) -> Markup | None:
    """The pharmacogenomic section (:func:`genomics.pgx.render_pgx_html`) for this result, or ``None``.

    Uses the guidance computed during scoring when the result is live; for a result read back from
    JSON, guidance is recomputed from the stored profile with the knowledge base in force (the
    provenance of both is shown).
    """
    if rec.pgx_profile is None:
        return None
    from genomics.pgx import PgxProfile, guidance_for_profile, render_pgx_html

    profile = PgxProfile.from_dict(rec.pgx_profile)
    guidance = rec._guidance
    if guidance is None:
        drugs = list(dict.fromkeys(d for o in rec.options for d in o.drugs))
        guidance = guidance_for_profile(profile, drugs)
    return Markup(render_pgx_html(profile, guidance, standalone=False))


def _provenance_rows(rec: Recommendation) -> list[tuple[str, str]]:
    p = rec.provenance
    kb = p.pgx_knowledge_base or {}
    rows = [
        ("Package", f"{p.package} {p.package_version}"),
        ("Result schema", rec.schema_version),
        ("Created", p.created),
        ("Genome build", p.genome_build),
        ("Model bundle", f"{p.model_bundle_id} (manifest sha256 {p.model_bundle_sha256})" if p.model_bundle_id
         else f"none: {rec.model_status.reason}"),
        ("Model trained on", p.model_trained_on or "–"),
        ("Feature schema hash", p.feature_schema_hash or "–"),
        ("PGx knowledge base", f"{kb.get('kb_id', '–')} ({kb.get('kb_origin', '–')})"),
        ("CPIC/DPWG recommendation tables", str(kb.get("recommendation_tables_version", "–"))),
        ("Allele definitions", str(kb.get("allele_definitions_version", "–"))),
        ("Biomarker tables", "; ".join(f"{t.get('name')} {t.get('version')} (sha256 {str(t.get('sha256', ''))[:12]})"
                                       for t in p.biomarker_tables) or "–"),
        ("DNA language model", p.dna_lm or "not used"),
        ("Inputs", ", ".join(f"{k}={v}" for k, v in p.inputs.items() if not isinstance(v, dict))),
    ]
    if kb.get("staleness_warning"):
        rows.append(("Knowledge-base age", kb["staleness_warning"]))
    rows.extend(("Note", n) for n in p.notes if n != kb.get("staleness_warning"))
    return rows


def render_report(rec: Recommendation, *, include_pgx_section: bool = True) -> str:
    """The complete HTML document (one string, no external assets)."""
    context = {
        "rec": rec, "colours": ACTION_COLOURS, "labels": ACTION_LABELS, "surv": _surv, "top_tox": _top_tox,
        "curve": _curve, "pgx_section": pgx_section_html(rec) if include_pgx_section else None,
        "provenance_rows": _provenance_rows(rec),
    }
    return _env().get_template("recommendation_report.html.j2").render(**context)


def write_report(rec: Recommendation, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Render and write the report atomically."""
    from recommender.commands._output import write_atomic

    return write_atomic(path, render_report(rec, **kwargs))
