"""Shared, Streamlit-free helpers of the app: database, scoring, upload parsing and display formatting.

Pages call these and only lay out the results; everything here is plain Python so it is testable
without a browser and reachable from the CLI's own functions (the work is done in ``recommender``).
Patient identifiers are never logged here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from recommender.settings import ENV_DB_URL, get_settings

__all__ = [
    "ENV_DB_URL",
    "SORT_KEYS",
    "cohort_km",
    "coverage_rows",
    "fmt_interval",
    "fmt_pct",
    "gene_rows",
    "km_chart_frames",
    "guidance_style",
    "option_rows",
    "parse_upload",
    "pfs_of",
    "review_rows",
    "sort_options",
    "survival_of",
    "top_toxicities",
]


#: Sort orders offered on the compare page.
SORT_KEYS = ("recommended rank", "response probability", "PFS median", "lowest severe-toxicity risk")

#: Cell background per traffic-light colour (tables).
CELL_COLOUR = {"green": "#c8efd0", "amber": "#ffe2b3", "red": "#ffc9c9", "grey": "#e9e9e9"}


def parse_upload(name: str, data: bytes) -> Any:
    """A :class:`recommender.schema.Patient` from an uploaded JSON record or GA4GH Phenopacket v2 JSON.

    Raises the project's ``PatientRecordError`` naming the file, record and field.
    """
    from recommender.inputs import read_patient, safe_upload_name

    return read_patient(data, source=safe_upload_name(name, "upload.json"))  # the reader of every front end


def fmt_pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def fmt_interval(value: float | None, low: float | None, high: float | None, *, pct: bool = False,
                 unit: str = "") -> str:
    """``41% (31-46%)`` / ``174 d (127-190)``; ``-`` when unknown."""
    if value is None:
        return "-"
    f = (lambda v: f"{100 * v:.0f}") if pct else (lambda v: f"{v:.0f}")
    suffix = "%" if pct else unit
    text = f"{f(value)}{suffix}"
    if low is not None and high is not None:
        text += f" ({f(low)}–{f(high)}{suffix})"
    return text


def pfs_of(option: Any) -> Any:
    """The PFS prediction of an option (``None`` when absent)."""
    if not option.model.available:
        return None
    return next((s for s in option.model.survival if s.endpoint == "pfs"), None)


def survival_of(option: Any, endpoint: str) -> Any:
    """The ``endpoint`` (``pfs``/``os``) prediction of an option (``None`` when absent)."""
    if not option.model.available:
        return None
    return next((s for s in option.model.survival if s.endpoint == endpoint), None)


def top_toxicities(option: Any, n: int = 3) -> list[Any]:
    """The ``n`` highest severe-toxicity risks of an option."""
    return sorted(option.model.toxicity, key=lambda t: -t.probability)[:n] if option.model.available else []


def sort_options(options: Sequence[Any], key: str) -> list[Any]:
    """Options in the order named by ``key`` (one of :data:`SORT_KEYS`); unknown values last."""
    inf = float("inf")
    if key == "response probability":
        return sorted(options, key=lambda o: -(o.model.response.probability if o.model.available and o.model.response
                                                else -inf))
    if key == "PFS median":
        def pfs(o: Any) -> float:
            s = pfs_of(o)
            if s is None:
                return inf
            return -(s.median_days if s.median_days is not None else 1e9)
        return sorted(options, key=pfs)
    if key == "lowest severe-toxicity risk":
        return sorted(options, key=lambda o: (max((t.probability for t in o.model.toxicity), default=inf)
                                              if o.model.available else inf))
    return sorted(options, key=lambda o: o.rank)


def option_rows(options: Sequence[Any]) -> list[dict[str, Any]]:
    """One summary row per option (for a table): states in words, survival in months."""
    from app.views import months_interval
    from recommender.vocab import GUIDANCE_LABELS as ACTION_LABELS

    rows = []
    for o in options:
        m = o.model
        r = m.response if m.available else None
        s = pfs_of(o)
        rows.append({
            "rank": o.rank,
            "option": o.regimen,
            "guidance": getattr(o, "guidance_label", "") or ACTION_LABELS.get(o.guidance_action, o.guidance_action),
            "eligibility": getattr(o, "eligibility_label", "") or "no biomarker requirement",
            "response": fmt_interval(r.probability, r.low, r.high, pct=True) if r else "-",
            "PFS median (months)": ("-" if s is None else
                                    months_interval(s.median_days, s.low, s.high, reached=s.median_days is not None)),
            "top severe toxicity": "; ".join(f"{t.term} {fmt_pct(t.probability)}" for t in top_toxicities(o, 1)) or "-",
            "biomarkers": "; ".join(f"{b.finding} ({b.direction})" for b in o.biomarkers) or "-",
            "_colour": o.guidance_colour,
        })
    return rows


def guidance_style(rows: Any) -> Any:
    """A pandas Styler colouring the ``guidance`` column of :func:`option_rows` by traffic light (the
    colour comes from the result; the helper column ``_colour`` is hidden)."""
    colours = list(rows["_colour"]) if "_colour" in rows.columns else []

    def column(col: Any) -> list[str]:
        return [f"background-color: {CELL_COLOUR.get(c, '')}" for c in colours]

    styler = rows.style.apply(column, subset=["guidance"], axis=0)
    return styler.hide(["_colour"], axis="columns") if "_colour" in rows.columns else styler


def gene_rows(rec: Any, genes: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """gene -> diplotype -> phenotype rows of the patient's pharmacogenes (statuses in words)."""
    from app.views import gene_status_words

    profile = (rec.pgx_profile or {}).get("genes", {}) if isinstance(rec.pgx_profile, dict) else {}

    def function(g: Any) -> str:
        dips = (profile.get(g.gene) or {}).get("diplotypes") or []
        if dips:
            f1, f2 = dips[0].get("function1"), dips[0].get("function2")
            words = " / ".join(f for f in (f1, f2) if f)
            if words:
                return words + (" (one of several diplotypes)" if len(dips) > 1 else "")
        return g.functional_phenotype or "-"

    return [{"gene": g.gene, "diplotype": g.diplotype or "-", "allele function": function(g),
             "phenotype": g.phenotype or "-", "activity score": g.activity_score or "-",
             "call": gene_status_words(g.status) + (" (see below)" if g.note else "")}
            for g in (rec.pharmacogenes if genes is None else genes)]


def coverage_rows(rec: Any) -> list[dict[str, Any]]:
    """Per gene: positions required, observed, and why a gene could not be called."""
    genes = (rec.pgx_profile or {}).get("genes", {}) if isinstance(rec.pgx_profile, dict) else {}
    rows = []
    for name, g in sorted(genes.items()):
        missing = g.get("missing_positions") or []
        rows.append({"gene": name, "status": g.get("status", "-"), "positions required": g.get("n_positions"),
                     "positions observed": g.get("n_observed"), "missing": len(missing),
                     "reasons": ", ".join(g.get("reasons") or []),
                     "first missing (rsid)": ", ".join(str(m.get("rsid") or m.get("position")) for m in missing[:5])})
    return rows


def review_rows(reviews: Sequence[Any]) -> list[dict[str, Any]]:
    """Past reviews as table rows (no MRN: the store keeps a pseudonym only)."""
    return [{"when (UTC)": r.reviewed_at.strftime("%Y-%m-%d %H:%M:%S"), "reviewer": r.reviewer,
             "decision": r.decision, "option": r.chosen_option or "", "dose note": r.dose_note or "",
             "reason": r.reason or "", "model bundle": r.model_bundle_id, "shown sha256": r.shown_sha256[:12]}
            for r in reviews]


def database_url() -> str | None:
    """The database URL the launcher passed (``None``: the store's default)."""
    return get_settings().db_url  # $RECOMMENDER_DB_URL, set by the launcher


def cohort_km(cohort: Any, where: str = "", endpoint: str = "pfs", *, top_n: int = 6) -> tuple[Any, Any]:
    """Kaplan-Meier by received (first-line) regimen of the patients matching ``where``, per cancer type.

    Returns ``(strata, frame)``: one :class:`cohorts.report_stats.StratumSurvival` per cancer type (its top
    ``top_n`` regimens and "other regimens", step curves with 95% bands, numbers at risk, the log-rank test
    within the cancer type; never pooled across cancer types) and the rows used (patient_id, cancer_type,
    regimen, time, event). Raises the cohort's ``CohortQueryError`` for a bad filter and ``CohortError`` when
    too few patients are left.
    """
    from cohorts.errors import CohortError
    from cohorts.report_stats import regimen_km

    if endpoint not in ("pfs", "os"):
        raise ValueError("endpoint must be 'pfs' or 'os'")
    pats = cohort.query(where, columns="*")
    keep = ["patient_id", *(["cancer_type"] if "cancer_type" in pats.columns else [])]
    pats = pats[keep]
    tr = cohort.table("treatments")
    if "line" in tr.columns:
        tr = tr.sort_values(["patient_id", "line"], na_position="last")
    tr = tr.drop_duplicates("patient_id")[["patient_id", "regimen"]]
    out = cohort.table("outcomes")[["patient_id", f"{endpoint}_days", f"{endpoint}_event"]]
    df = pats.merge(tr, on="patient_id").merge(out, on="patient_id")
    df = df.dropna(subset=[f"{endpoint}_days", f"{endpoint}_event"])
    df = df.rename(columns={f"{endpoint}_days": "time", f"{endpoint}_event": "event"})
    if len(df) < 2:
        raise CohortError(f"only {len(df)} patient(s) with {endpoint.upper()} match the filter", field="where",
                          fix="widen the filter")
    strata = regimen_km(df, top_n=top_n)
    if not strata:
        raise CohortError(f"no cancer type has two patients with {endpoint.upper()} matching the filter",
                          field="where", fix="widen the filter")
    return strata, df


def km_chart_frames(stratum: Any) -> tuple[Any, Any]:
    """``(curves, at_risk)`` frames of one cancer type's Kaplan-Meier for a chart, in months.

    ``curves``: ``group, months, survival, low, high`` (step points with the 95% band); ``at_risk``:
    ``group, months, at risk``.
    """
    import pandas as pd

    rows = [{"group": c.label, "months": t / 30.4375, "survival": s, "low": lo, "high": hi}
            for c in stratum.curves for t, s, lo, hi in zip(c.times, c.survival, c.low, c.high, strict=False)]
    risk = [{"group": g.label, "months": t / 30.4375, "at risk": n}
            for g in stratum.groups for t, n in zip(stratum.times, g.at_risk, strict=False)]
    return (pd.DataFrame(rows, columns=["group", "months", "survival", "low", "high"]),
            pd.DataFrame(risk, columns=["group", "months", "at risk"]))
