"""SVG figures of the cohort report (matplotlib, drawn from a :class:`~cohorts.report.CohortReport` only).

Figures are built with :class:`matplotlib.figure.Figure` and saved by the SVG backend (no pyplot, so no GUI
backend and no global figure state: safe in the app's background thread). Text stays text
(``svg.fonttype = none``), ids are stable (``svg.hashsalt``), the XML prolog, DOCTYPE, metadata block and
namespace declarations are removed and ``xlink:href`` becomes SVG 2's plain ``href``, so the SVG can be inlined
into HTML without any external address (an ``<img>`` of it needs only ``xmlns`` added, as ``st.image`` does).
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["calibration_svg", "distribution_svg", "km_svg", "report_figures", "toxicity_calibration_svg"]

COLOURS = {"recommended": "#1565c0", "other": "#e65100"}
_LOCK = threading.Lock()  # rc_context changes matplotlib's global rcParams while a figure is saved
_RC = {"svg.fonttype": "none", "svg.hashsalt": "cohort-report", "font.size": 9.0, "axes.titlesize": 10.0,
       "font.family": "sans-serif"}


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def to_svg(fig: Any) -> str:
    """An inline-ready ``<svg>`` element of a matplotlib figure (no prolog, metadata or namespace URLs)."""
    import matplotlib

    buf = io.StringIO()
    with _LOCK, matplotlib.rc_context(_RC):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    text = text.replace("xlink:href=", "href=")  # SVG 2: plain href needs no namespace declaration
    return text.strip()


def _empty(message: str) -> str:
    fig = _figure(5.0, 0.8)
    fig.text(0.5, 0.5, message, ha="center", va="center")
    return to_svg(fig)


def distribution_svg(dist: Any, max_regimens: int = 25) -> str:
    """Histogram-violins (mirrored histograms) of each prediction per regimen, with median and IQR marks."""
    regs = list(dist.regimens)[:max_regimens]
    if not regs:
        return _empty("no scored rows")
    fig = _figure(10.0, 1.0 + 0.38 * len(regs))
    axes = fig.subplots(1, len(dist.metrics), sharey=True)
    for ax, metric in zip(np.atleast_1d(axes), dist.metrics, strict=False):
        edges = np.asarray(dist.bin_edges[metric], dtype=float)
        for i, r in enumerate(regs):
            s = r.metric(metric)
            y = len(regs) - 1 - i
            if s.n == 0:
                continue
            h = np.asarray(s.histogram, dtype=float)
            h = 0.42 * h / h.max() if h.max() > 0 else h
            ax.fill_between(np.repeat(edges, 2)[1:-1], y - np.repeat(h, 2), y + np.repeat(h, 2),
                            color="#90a4ae", alpha=0.75, linewidth=0)
            ax.plot([s.q1, s.q3], [y, y], color="#263238", linewidth=2.5, solid_capstyle="butt")
            ax.plot([s.median], [y], marker="|", color="white", markersize=8, markeredgewidth=2)
        unit = dist.units[metric]
        ax.set_xlabel(dist.labels[metric] + (f" ({unit})" if unit else ""))
        ax.set_xlim(edges[0], edges[-1])
        ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
        ax.spines[["top", "right"]].set_visible(False)
    first = np.atleast_1d(axes)[0]
    first.set_yticks(range(len(regs)), [r.regimen for r in reversed(regs)])
    first.set_ylim(-0.6, len(regs) - 0.4)
    return to_svg(fig)


def calibration_svg(cal: Any, title: str | None = None) -> str:
    """Reliability diagram: observed rate vs mean predicted probability per bin (marker area ~ bin size)."""
    if cal is None or not cal.bins:
        return _empty("no patient with both a prediction and an observed outcome")
    fig = _figure(4.2, 4.0)
    ax = fig.subplots()
    _reliability(ax, cal)
    ax.set_title(title or cal.label, wrap=True)
    return to_svg(fig)


def _reliability(ax: Any, cal: Any) -> None:
    x = np.array([b.mean_predicted for b in cal.bins])
    y = np.array([b.observed for b in cal.bins])
    n = np.array([b.n for b in cal.bins], dtype=float)
    top = max(0.05, float(max(x.max(), y.max())) * 1.1) if len(x) else 1.0
    top = min(1.0, top)
    ax.plot([0, top], [0, top], color="#9e9e9e", linestyle="--", linewidth=1, label="ideal")
    ax.plot(x, y, color=COLOURS["recommended"], linewidth=1)
    ax.scatter(x, y, s=12 + 120 * n / n.max(), color=COLOURS["recommended"], zorder=3, label="bins (area ~ n)")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed rate")
    brier = "-" if cal.brier is None else f"{cal.brier:.3f}"
    slope = "-" if cal.calibration_slope is None else f"{cal.calibration_slope:.2f}"
    ax.text(0.03, 0.97, f"n = {cal.n}, events = {cal.events}\nBrier {brier}, slope {slope}",
            transform=ax.transAxes, va="top", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)


def toxicity_calibration_svg(cals: Sequence[Any], max_panels: int = 9) -> str:
    """Small-multiple reliability diagrams of the severe-toxicity terms with the most events."""
    shown = sorted((c for c in cals if c.bins and c.events > 0), key=lambda c: (-c.events, c.label))[:max_panels]
    if not shown:
        return _empty("no severe toxicity event among the patients with predictions")
    cols = min(3, len(shown))
    rows = (len(shown) + cols - 1) // cols
    fig = _figure(3.3 * cols, 3.1 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, cal in zip(axes, shown, strict=False):
        _reliability(ax, cal)
        ax.set_title(cal.label.removeprefix("severe "), fontsize=8)
    for ax in axes[len(shown):]:
        ax.set_visible(False)
    return to_svg(fig)


def km_svg(comp: Any) -> str:
    """Kaplan-Meier curves with 95% bands and a numbers-at-risk table under the plot."""
    if not comp.curves:
        return _empty(f"no {comp.endpoint.upper()} data")
    from cohorts.report_stats import RECOMMENDED

    fig = _figure(7.0, 4.6)
    top, bottom = fig.subplots(2, 1, height_ratios=[4, 1.1], sharex=True)
    for curve in comp.curves:
        colour = COLOURS["recommended" if curve.label == RECOMMENDED else "other"]
        t = np.asarray(curve.times)
        top.step(t, curve.survival, where="post", color=colour, linewidth=1.6, label=curve.label)
        top.fill_between(t, curve.low, curve.high, step="post", color=colour, alpha=0.15, linewidth=0)
    top.set_ylim(0, 1.02)
    top.set_ylabel(f"{comp.endpoint.upper()}: probability event-free")
    top.legend(loc="upper right", frameon=False, fontsize=8)
    top.grid(color="#eeeeee", linewidth=0.6)
    top.spines[["top", "right"]].set_visible(False)
    # numbers at risk
    times = list(comp.times)
    bottom.set_ylim(-0.5, max(1, len(comp.groups)) - 0.5)
    for i, g in enumerate(comp.groups):
        y = len(comp.groups) - 1 - i
        colour = COLOURS["recommended" if g.label == RECOMMENDED else "other"]
        for t, n in zip(times, g.at_risk, strict=False):
            bottom.text(t, y, str(n), ha="center", va="center", fontsize=8, color=colour)
    bottom.set_yticks(range(len(comp.groups)),
                      ["recommended" if g.label == RECOMMENDED else "other" for g in reversed(comp.groups)])
    bottom.set_title("numbers at risk", fontsize=8, loc="left")
    bottom.set_xlabel("days")
    bottom.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        bottom.spines[side].set_visible(False)
    if times:
        top.set_xlim(-0.02 * max(times[-1], 1.0), max(times[-1], max(max(c.times) for c in comp.curves)) * 1.02)
        bottom.set_xticks(times)
    return to_svg(fig)


def report_figures(report: Any) -> dict[str, str]:
    """Every figure of a report as inline SVG, keyed ``distributions``, ``response_calibration``,
    ``toxicity_calibration`` and ``km_<endpoint>``."""
    figs = {"distributions": distribution_svg(report.distributions)}
    if report.response_calibration is not None:
        figs["response_calibration"] = calibration_svg(report.response_calibration,
                                                       "objective response (CR/PR) on the received regimen")
    if report.toxicity_calibration:
        figs["toxicity_calibration"] = toxicity_calibration_svg(report.toxicity_calibration)
    for comp in report.survival:
        figs[f"km_{comp.endpoint}"] = km_svg(comp)
    return figs
