"""SVG figures of the cohort report (matplotlib, drawn from a :class:`~cohorts.report.CohortReport` only).

Figures are built with :class:`matplotlib.figure.Figure` and saved by the SVG backend (no pyplot, so no GUI
backend and no global figure state: safe in the app's background thread). Text stays text
(``svg.fonttype = none``), ids are stable (``svg.hashsalt``), the XML prolog, DOCTYPE, metadata block and
namespace declarations are removed and ``xlink:href`` becomes SVG 2's plain ``href``, so the SVG can be inlined
into HTML without any external address (an ``<img>`` of it needs only ``xmlns`` added, as ``st.image`` does).
"""

from __future__ import annotations

import io
import math
import re
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["GROUP_PALETTE", "calibration_svg", "distribution_svg", "group_colours", "km_strata_svg", "km_svg",
           "report_figures", "toxicity_calibration_svg"]

COLOURS = {"recommended": "#1565c0", "other": "#e65100"}
#: One colour per group (ColorBrewer Dark2, then Set1); "other regimens" is always grey.
GROUP_PALETTE: tuple[str, ...] = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
                                  "#377eb8", "#e41a1c", "#984ea3")
_OTHER_GREY = "#8c8c8c"


def group_colours(labels: Sequence[str]) -> dict[str, str]:
    """A distinct colour per group label in order; the recommended/other and "other regimens" groups keep theirs."""
    from cohorts.report_stats import OTHER, OTHER_REGIMENS, RECOMMENDED

    out, i = {}, 0
    for lab in labels:
        if lab == RECOMMENDED:
            out[lab] = COLOURS["recommended"]
        elif lab == OTHER:
            out[lab] = COLOURS["other"]
        elif lab == OTHER_REGIMENS:
            out[lab] = _OTHER_GREY
        else:
            out[lab] = GROUP_PALETTE[i % len(GROUP_PALETTE)]
            i += 1
    return out


def _short(label: str) -> str:
    from cohorts.report_stats import OTHER, RECOMMENDED

    return {RECOMMENDED: "recommended", OTHER: "other"}.get(label, label)


def _km_panel(top: Any, bottom: Any, curves: Sequence[Any], groups: Sequence[Any], times: Sequence[float],
              colours: dict[str, str], *, title: str | None = None, legend: bool = True,
              months: bool = False) -> None:
    """Step curves with 95% bands (``top``) and numbers at risk per group (``bottom``)."""
    scale = 30.4375 if months else 1.0
    for curve in curves:
        t = np.asarray(curve.times) / scale
        colour = colours.get(curve.label, _OTHER_GREY)
        top.step(t, curve.survival, where="post", color=colour, linewidth=1.6, label=_short(curve.label))
        top.fill_between(t, curve.low, curve.high, step="post", color=colour, alpha=0.12, linewidth=0)
    top.set_ylim(0, 1.02)
    top.grid(color="#eeeeee", linewidth=0.6)
    top.spines[["top", "right"]].set_visible(False)
    if title:
        top.set_title(title, loc="left")
    if legend and curves:
        top.legend(loc="upper right", frameon=False, fontsize=7)
    ts = [t / scale for t in times]
    bottom.set_ylim(-0.5, max(1, len(groups)) - 0.5)
    for i, g in enumerate(groups):
        y = len(groups) - 1 - i
        for t, n in zip(ts, g.at_risk, strict=False):
            bottom.text(t, y, str(n), ha="center", va="center", fontsize=7, color=colours.get(g.label, _OTHER_GREY))
    bottom.set_yticks(range(len(groups)), [_short(g.label)[:18] for g in reversed(groups)], fontsize=7)
    bottom.set_title("numbers at risk", fontsize=7, loc="left")
    bottom.set_xlabel("months" if months else "days")
    bottom.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        bottom.spines[side].set_visible(False)
    if ts and curves:
        end = max(ts[-1], max(max(c.times) for c in curves) / scale)
        top.set_xlim(-0.02 * max(end, 1.0), end * 1.02)
        bottom.set_xticks(ts)
        bottom.set_xticklabels([f"{t:.0f}" for t in ts], fontsize=7)


def km_strata_svg(strata: Sequence[Any], endpoint: str, *, max_panels: int = 9, months: bool = True) -> str:
    """Small multiples: one Kaplan-Meier panel (with numbers at risk) per cancer type, same colours in all."""
    strata = [s for s in strata if s.curves][:max_panels]
    if not strata:
        return _empty(f"no {endpoint.upper()} data per cancer type")
    labels = list(dict.fromkeys(c.label for s in strata for c in s.curves))
    colours = group_colours(labels)
    cols = min(3, len(strata))
    rows = math.ceil(len(strata) / cols)
    fig = _figure(3.6 * cols, 3.3 * rows)
    grid = fig.add_gridspec(rows * 2, cols, height_ratios=[4, 1.4] * rows)
    for i, st_ in enumerate(strata):
        r, c = divmod(i, cols)
        top = fig.add_subplot(grid[2 * r, c])
        bottom = fig.add_subplot(grid[2 * r + 1, c], sharex=top)
        p = ("p = " + ("< 0.001" if st_.logrank_p < 0.001 else f"{st_.logrank_p:.3f}")) if st_.logrank_p is not None \
            else "no test"
        _km_panel(top, bottom, st_.curves, st_.groups, st_.times, colours, legend=i == 0, months=months,
                  title=f"{st_.cancer_type} (n={st_.n}; log-rank {p})")
        if c == 0:
            top.set_ylabel(f"{endpoint.upper()} event-free")
    return to_svg(fig)
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
    fig = _figure(7.0, 4.6)
    top, bottom = fig.subplots(2, 1, height_ratios=[4, 1.1], sharex=True)
    _km_panel(top, bottom, comp.curves, comp.groups, comp.times, group_colours([c.label for c in comp.curves]))
    top.set_ylabel(f"{comp.endpoint.upper()}: probability event-free")
    if getattr(comp, "stratified_by", None):
        top.set_title("all cancer types pooled (descriptive; the test is stratified by cancer type)", loc="left",
                      fontsize=8)
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
        if getattr(comp, "strata", ()):
            figs[f"km_strata_{comp.endpoint}"] = km_strata_svg(comp.strata, comp.endpoint)
    return figs
