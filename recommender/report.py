"""One self-contained HTML report of a :class:`~recommender.recommendation.Recommendation`.

Used by ``recommender score --html``, the HTTP service (``POST /v1/score?format=html``) and the app.
With a signed review (:func:`render_signed_report`), the report carries the decision in the record:
reviewer, role, time, decision, chosen option, comment and the sha256 of what was shown, and says
whether it shows that signed version. Colours and labels come from the one action vocabulary
(:mod:`genomics.pgx.actions`). Jinja2 with autoescaping: every value of the result is escaped; the only markup inserted as is comes
from :func:`genomics.pgx.render_pgx_html` (the pharmacogenomic section, which itself escapes values and
sanitises imported guideline HTML) and the survival sparkline this module draws from numbers. Inline
CSS, no scripts, no external assets.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from genomics.biomarkers.eligibility import ELIGIBILITY_COLOURS, ELIGIBILITY_LABELS
from recommender.recommendation import RankedOption, Recommendation, SignedReview, SurvivalPrediction
from recommender.vocab import COLOUR_HEX, GUIDANCE_COLOURS, GUIDANCE_DESCRIPTIONS, GUIDANCE_LABELS

__all__ = ["ACTION_LABELS", "SignedVersion", "pgx_section_html", "render_report", "render_signed_report",
           "signed_version", "write_report"]

#: Badge labels of the guidance actions (the one vocabulary: :mod:`genomics.pgx.actions`).
ACTION_LABELS = GUIDANCE_LABELS
ACTION_COLOURS = GUIDANCE_COLOURS
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
    label = f"{s.endpoint.upper()} survival curve, 0 to {t_max / 30.4375:.0f} months"
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


@dataclass(frozen=True)
class SignedVersion:
    """Whether a report shows the version of the result that was signed.

    ``report_sha256`` is the sha256 of this result's JSON (as the app stores it, ``Recommendation.to_json()``);
    ``matches`` is True when it equals the review's ``shown_sha256`` (the compact ``model_dump_json()`` form
    is accepted too: the store's default for a Recommendation object).
    """

    review: SignedReview
    report_sha256: str
    matches: bool

    @property
    def statement(self) -> str:
        r = self.review
        if self.matches:
            return (f"This report shows the version that was signed (sha256 {r.shown_sha256}).")
        return (f"This report does NOT show the signed version: the review signed the result with sha256 "
                f"{r.shown_sha256}; this report was generated from a result with sha256 {self.report_sha256}. "
                "Read the signed version from the record before acting on this one.")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def signed_version(rec: Recommendation, review: Any, *, rec_json: str | None = None,
                   role: str | None = None) -> SignedVersion:
    """Compare a signed review with the result a report is about to show.

    Parameters
    ----------
    rec
        The result being rendered.
    review
        A :class:`~recommender.recommendation.SignedReview` or a stored review
        (:class:`recommender.store.StoredReview`; ``role`` then gives the reviewer's role).
    rec_json
        The exact JSON text the reviewer was shown, when the caller has it (the app does).
    """
    signed = review if isinstance(review, SignedReview) else SignedReview.from_stored(review, role=role)
    candidates = [rec_json] if rec_json is not None else []
    candidates += [rec.to_json(), rec.model_dump_json()]
    hashes = [_sha256(t) for t in candidates]
    return SignedVersion(review=signed, report_sha256=hashes[0], matches=signed.shown_sha256 in hashes)


def render_report(rec: Recommendation, *, include_pgx_section: bool = True, review: Any = None,
                  rec_json: str | None = None, role: str | None = None) -> str:
    """The complete HTML document (one string, no external assets).

    Parameters
    ----------
    rec
        The result.
    include_pgx_section
        Add the full pharmacogenomic section (:func:`pgx_section_html`).
    review
        The physician's signed review of this result (a :class:`SignedReview` or a stored review): printed
        in a "Decision in the record" section with reviewer, role, time, decision, chosen option, comment
        and the sha256 of what was shown, and compared with this result (:func:`signed_version`).
    rec_json, role
        The exact JSON shown to the reviewer, and the reviewer's role when ``review`` is a stored review.
    """
    signed = None if review is None else signed_version(rec, review, rec_json=rec_json, role=role)
    context = {
        "rec": rec, "colours": ACTION_COLOURS, "labels": ACTION_LABELS, "surv": _surv, "top_tox": _top_tox,
        "curve": _curve, "pgx_section": pgx_section_html(rec) if include_pgx_section else None,
        "provenance_rows": _provenance_rows(rec), "signed": signed, "hex": COLOUR_HEX,
        "descriptions": GUIDANCE_DESCRIPTIONS, "elig_colours": ELIGIBILITY_COLOURS, "elig_labels": ELIGIBILITY_LABELS,
    }
    return _env().get_template("recommendation_report.html.j2").render(**context)


def render_signed_report(rec: Recommendation, review: Any, *, rec_json: str | None = None,
                         role: str | None = None, include_pgx_section: bool = True) -> str:
    """The report with the signed review in the record (what the app's Report page calls after sign-off).

    Print it to PDF with :func:`recommender.report_pdf.html_to_pdf_bytes`; the PDF then carries the same
    decision section and signed-version statement.
    """
    return render_report(rec, include_pgx_section=include_pgx_section, review=review, rec_json=rec_json, role=role)


def write_report(rec: Recommendation, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Render and write the report atomically."""
    from recommender.commands._output import write_atomic

    return write_atomic(path, render_report(rec, **kwargs))
