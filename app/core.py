"""Shared, Streamlit-free helpers of the app: database, scoring, upload parsing and display formatting.

Pages call these and only lay out the results; everything here is plain Python so it is testable
without a browser and reachable from the CLI's own functions (the work is done in ``recommender``).
Patient identifiers are never logged here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

__all__ = [
    "ENV_DB_URL",
    "SORT_KEYS",
    "cohort_km",
    "coverage_rows",
    "fmt_interval",
    "fmt_pct",
    "gene_rows",
    "guidance_style",
    "option_rows",
    "parse_upload",
    "pfs_of",
    "review_rows",
    "sort_options",
    "survival_chart_frames",
    "survival_of",
    "top_toxicities",
]

#: Environment variable the launcher sets to the database URL (same one ``recommender.store`` reads).
ENV_DB_URL = "RECOMMENDER_DB_URL"

#: Sort orders offered on the compare page.
SORT_KEYS = ("recommended rank", "response probability", "PFS median", "lowest severe-toxicity risk")

#: Streamlit markdown badge per traffic-light colour (no emoji: they need a font that servers often lack).
LIGHT = {"green": ":green-badge[GREEN]", "amber": ":orange-badge[AMBER]", "red": ":red-badge[RED]",
         "grey": ":gray-badge[GREY]"}
#: Cell background per traffic-light colour (tables).
CELL_COLOUR = {"green": "#c8efd0", "amber": "#ffe2b3", "red": "#ffc9c9", "grey": "#e9e9e9"}


def parse_upload(name: str, data: bytes) -> Any:
    """A :class:`recommender.schema.Patient` from an uploaded JSON record or GA4GH Phenopacket v2 JSON.

    Raises the project's ``PatientRecordError`` naming the file, record and field.
    """
    from recommender.phenopackets_io import patient_from_phenopacket_dict
    from recommender.schema import PatientRecordError, patient_from_json

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PatientRecordError("the file is not UTF-8 text", file=name, fix="upload a UTF-8 JSON file") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return patient_from_json(text, file=name)  # raises with the line number
    if isinstance(obj, dict) and ("metaData" in obj or "meta_data" in obj):
        return patient_from_phenopacket_dict(obj, file=name)
    return patient_from_json(text, file=name)


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


def survival_chart_frames(options: Sequence[Any], endpoint: str) -> tuple[Any, Any]:
    """Long-format frames for one chart of every option's model survival curve.

    Returns ``(curves, medians)``: ``curves`` has ``option, days, survival`` (step points); ``medians``
    has ``option, median, low, high, label`` (one row per option with a reached median; ``low``/``high``
    its interval, drawn as a horizontal bar at survival 0.5).
    """
    import pandas as pd

    rows, meds = [], []
    for o in options:
        s = survival_of(o, endpoint)
        if s is None or not s.times:
            continue
        rows += [{"option": o.regimen, "days": float(t), "survival": float(v)} for t, v in zip(s.times, s.survival,
                                                                                             strict=False)]
        if s.median_days is not None:
            meds.append({"option": o.regimen, "median": s.median_days, "low": s.low, "high": s.high,
                         "label": fmt_interval(s.median_days, s.low, s.high, unit=" d")})
    return (pd.DataFrame(rows, columns=["option", "days", "survival"]),
            pd.DataFrame(meds, columns=["option", "median", "low", "high", "label"]))


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
    """One summary row per option (for a table)."""
    rows = []
    for o in options:
        m = o.model
        r = m.response if m.available else None
        s = pfs_of(o)
        rows.append({
            "rank": o.rank,
            "option": o.regimen,
            "guidance": o.guidance_action,
            "response": fmt_interval(r.probability, r.low, r.high, pct=True) if r else "-",
            "PFS median": ("not reached" if s is not None and s.median_days is None
                           else fmt_interval(s.median_days, s.low, s.high, unit=" d") if s else "-"),
            "top severe toxicity": "; ".join(f"{t.term} {fmt_pct(t.probability)}" for t in top_toxicities(o, 1)) or "-",
            "biomarkers": "; ".join(f"{b.finding} ({b.direction})" for b in o.biomarkers) or "-",
        })
    return rows


def guidance_style(rows: Any) -> Any:
    """A pandas Styler colouring the ``guidance`` column of :func:`option_rows` by traffic light."""
    from recommender.recommendation import ACTION_COLOURS

    def cell(action: str) -> str:
        return f"background-color: {CELL_COLOUR.get(ACTION_COLOURS.get(action, 'grey'), '')}"

    return rows.style.map(cell, subset=["guidance"])


def gene_rows(rec: Any) -> list[dict[str, Any]]:
    """gene -> diplotype -> phenotype rows of the patient's pharmacogenes."""
    return [{"gene": g.gene, "status": g.status, "diplotype": g.diplotype or "-", "phenotype": g.phenotype or "-",
             "activity score": g.activity_score or "-", "functional phenotype": g.functional_phenotype or "-",
             "note": g.note or ""} for g in rec.pharmacogenes]


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
    return os.environ.get(ENV_DB_URL) or None


def cohort_km(cohort: Any, where: str = "", endpoint: str = "pfs") -> tuple[Any, Any]:
    """Kaplan-Meier by received (first-line) regimen of the patients matching ``where``.

    Returns ``(KMComparison, frame of patient_id, regimen, time, event)``. Raises the cohort's
    ``CohortQueryError`` for a bad filter and ``CohortError`` when too few patients are left.
    """
    from cohorts import km_compare
    from cohorts.errors import CohortError

    if endpoint not in ("pfs", "os"):
        raise ValueError("endpoint must be 'pfs' or 'os'")
    ids = cohort.query(where, columns="patient_id")["patient_id"]
    tr = cohort.table("treatments")
    if "line" in tr.columns:
        tr = tr.sort_values(["patient_id", "line"], na_position="last")
    tr = tr.drop_duplicates("patient_id")[["patient_id", "regimen"]]
    out = cohort.table("outcomes")[["patient_id", f"{endpoint}_days", f"{endpoint}_event"]]
    df = tr[tr["patient_id"].isin(set(ids))].merge(out, on="patient_id")
    df = df.dropna(subset=[f"{endpoint}_days", f"{endpoint}_event"])
    df = df.rename(columns={f"{endpoint}_days": "time", f"{endpoint}_event": "event"})
    if len(df) < 2:
        raise CohortError(f"only {len(df)} patient(s) with {endpoint.upper()} match the filter", field="where",
                          fix="widen the filter")
    return km_compare(df["time"].astype(float), df["event"].astype(bool), df["regimen"].astype(str)), df
