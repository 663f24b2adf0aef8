"""The default variant-effect output: its parts, and their combination with weights fitted on labelled data.

Parts (each oriented so that higher = more damaging; a part that cannot be computed is "not
assessed" and contributes 0, never a guess):

``consequence``  ``-CONSEQUENCE_PRIOR[class] / 10`` (0 for benign-looking classes, 1 for loss of function)
``splice``       ``max(0, 1 - ln(d) / ln(200))`` for a variant ``d`` bases from the nearest internal exon
                 boundary (``d = 1``: the exon's edge base or the first intron base; 1 at the boundary,
                 0 from 200 bases on); 0 when unknown
``lm``           ``-LLR`` of the DNA language model (strand-averaged masked-marginal log-likelihood ratio)

A part that is not assessed enters the combination as the raw value 0 (benign-looking class, no
boundary nearby, no likelihood change): "no evidence", never evidence of harm; the output lists it
under ``not_assessed``.

**Combination** (:class:`FittedCombination`): a logistic model ``P(damaging) = sigmoid(b + sum_k w_k z_k)``
on the standardised parts ``z_k``, with every ``w_k >= 0`` (a part can only add evidence in its
documented direction) and an L1 penalty whose strength is chosen by grouped cross-validation (groups =
exons / variants, so no group is in both the fitting and the scoring fold); then every part whose
removal does not worsen the grouped-CV log-loss by more than one standard error is dropped (weight 0):
a part without signal drops out. Each labelled dataset gets its own intercept (different base rates); the
product uses the intercept of the clinical set (ENIGMA) so the probability reads as "probability of a
pathogenic classification, on the scale of an expert-panel set". Bootstrap refits (resampling groups)
give an interval for every weight and for every predicted probability.

The fitted parameters are shipped as JSON (``data/variant_effect_combination.json``; no pickle) with
the training sets, the metrics and intervals; see ``docs/concepts/variant-effect.md``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genomics.dnalm.consequence import CONSEQUENCE_PRIOR

__all__ = [
    "DEFAULT_COMBINATION",
    "PARTS",
    "FittedCombination",
    "VariantEffect",
    "assess",
    "fit_combination",
    "load_combination",
    "part_values",
]

PARTS = ("consequence", "splice", "lm")
DEFAULT_COMBINATION = Path(__file__).resolve().parent / "data" / "variant_effect_combination.json"
_SPLICE_RANGE = 200.0


def part_values(consequence: str | None, in_exon: bool | None, exon_distance: int | None,
                llr: float | None) -> dict[str, float | None]:
    """Raw part values of one variant (``None``: not assessed); see the module docstring.

    ``outside_transcript`` means "no transcript of the table covers it" (the table is small), not
    "benign": consequence and splice distance are then not assessed.
    """
    if consequence == "outside_transcript":
        consequence, in_exon, exon_distance = None, None, None
    cons = None if consequence is None else -CONSEQUENCE_PRIOR.get(consequence, 0.0) / 10.0
    splice = None
    if exon_distance is not None:
        splice = max(0.0, 1.0 - math.log(max(1, int(exon_distance))) / math.log(_SPLICE_RANGE))
    elif in_exon is not None and consequence is not None:
        splice = 0.0  # in a transcript without an internal boundary nearby
    lm = None if llr is None or not math.isfinite(llr) else -float(llr)
    return {"consequence": cons, "splice": splice, "lm": lm}


@dataclass(frozen=True)
class VariantEffect:
    """The default variant-effect output of one variant: parts, contributions, combined probability.

    ``log_odds = baseline_log_odds + sum(contributions)``: the baseline is a variant with no evidence
    from any part (all raw values 0); a part that is not assessed contributes exactly 0.
    ``probability`` is on the scale of the clinical (ENIGMA) set; ``interval`` is its bootstrap 90% interval.
    """

    parts: dict[str, float | None]
    contributions: dict[str, float]
    probability: float
    interval: tuple[float, float]
    log_odds: float
    baseline_log_odds: float
    assessed: tuple[str, ...]
    not_assessed: tuple[str, ...]
    combination: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["interval"] = list(self.interval)
        return d


@dataclass(frozen=True)
class FittedCombination:
    """Fitted non-negative logistic combination of the parts (JSON round-trip, no pickle)."""

    parts: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    intercepts: dict[str, float]
    product_intercept: str
    l1: float
    bootstrap: tuple[tuple[float, ...], ...] = ()  # rows: weights..., product intercept
    lm_model: str | None = None
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    version: str = "variant-effect-combination/1"

    # ------------------------------------------------------------------ io
    def to_json(self) -> str:
        d = asdict(self)
        d["bootstrap"] = [list(r) for r in self.bootstrap]
        return json.dumps(d, indent=1) + "\n"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FittedCombination:
        return cls(parts=tuple(d["parts"]), mean=tuple(d["mean"]), scale=tuple(d["scale"]),
                   weights=tuple(d["weights"]), intercepts=dict(d["intercepts"]),
                   product_intercept=d["product_intercept"], l1=float(d["l1"]),
                   bootstrap=tuple(tuple(r) for r in d.get("bootstrap", ())), lm_model=d.get("lm_model"),
                   training=d.get("training", {}), metrics=d.get("metrics", {}),
                   version=d.get("version", "variant-effect-combination/1"))

    # ------------------------------------------------------------------ scoring
    def standardise(self, X: np.ndarray) -> np.ndarray:
        """Standardised parts; a part not assessed (NaN) enters as the raw value 0 (no evidence)."""
        X = np.asarray(X, dtype=float)
        X = np.where(np.isfinite(X), X, 0.0)
        return (X - np.array(self.mean)) / np.array(self.scale)

    def log_odds(self, X: np.ndarray, dataset: str | None = None) -> np.ndarray:
        b = self.intercepts[dataset or self.product_intercept]
        return b + self.standardise(X) @ np.array(self.weights)

    def predict_proba(self, X: np.ndarray, dataset: str | None = None) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.log_odds(X, dataset)))

    def interval(self, X: np.ndarray, level: float = 0.9) -> np.ndarray:
        """Bootstrap percentile interval of the product-scale probability (rows of ``X``) -> (n, 2)."""
        Z = self.standardise(X)
        if not self.bootstrap:
            p = self.predict_proba(X)
            return np.stack([p, p], axis=1)
        B = np.array(self.bootstrap)
        lo = B[:, -1][None, :] + Z @ B[:, :-1].T
        P = 1.0 / (1.0 + np.exp(-lo))
        a = (1 - level) / 2
        return np.stack([np.quantile(P, a, axis=1), np.quantile(P, 1 - a, axis=1)], axis=1)

    def contributing_parts(self) -> list[str]:
        return [p for p, w in zip(self.parts, self.weights) if w > 0]


def load_combination(path: str | Path | None = None) -> FittedCombination:
    """Read a fitted combination (default: the one shipped with the package)."""
    from genomics.errors import ModelError

    p = Path(path) if path else DEFAULT_COMBINATION
    try:
        return FittedCombination.from_dict(json.loads(p.read_text()))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"cannot read the variant-effect combination: {exc}", file=p, field="combination",
                         fix="re-create it with `python benchmarks/eval_variant_effect.py --write-combination PATH`") from None


_LOADED: dict[str, FittedCombination] = {}


def _default_combination() -> FittedCombination:
    if "default" not in _LOADED:
        _LOADED["default"] = load_combination()
    return _LOADED["default"]


def assess(consequence: str | None, in_exon: bool | None, exon_distance: int | None, llr: float | None,
           combination: FittedCombination | None = None, lm_model: str | None = None) -> VariantEffect:
    """The default variant-effect output of one variant (parts, contributions, probability with interval).

    ``lm_model`` (``model_id@weights_sha``) is the LM that produced ``llr``: when it differs from the
    LM the combination was fitted with, the LLR is shown among the parts but not combined (its scale
    is not the fitted one), and ``lm`` is listed as not assessed.
    """
    comb = combination or _default_combination()
    parts = part_values(consequence, in_exon, exon_distance, llr)
    used = dict(parts)
    if lm_model and comb.lm_model and lm_model != comb.lm_model:
        used["lm"] = None
    X = np.array([[np.nan if used[p] is None else used[p] for p in comb.parts]])
    raw = np.where(np.isfinite(X[0]), X[0], 0.0)
    contrib = {p: float(w * x / sc) for p, w, x, sc in zip(comb.parts, comb.weights, raw, comb.scale)}
    lo = float(comb.log_odds(X)[0])
    base = float(comb.log_odds(np.zeros_like(X))[0])
    iv = comb.interval(X)[0]
    assessed = tuple(p for p in comb.parts if used[p] is not None)
    return VariantEffect(parts=parts, contributions=contrib, probability=float(1 / (1 + math.exp(-lo))),
                         interval=(float(iv[0]), float(iv[1])), log_odds=lo, baseline_log_odds=base,
                         assessed=assessed,
                         not_assessed=tuple(p for p in comb.parts if used[p] is None),
                         combination=f"{comb.version} (LM {comb.lm_model})")


# ---------------------------------------------------------------------------------------- fitting
def _fit_once(Z: np.ndarray, y: np.ndarray, d: np.ndarray, sw: np.ndarray, l1: float, n_sets: int,
              active: Sequence[bool] | None = None):
    """Minimise weighted log-loss + l1 * sum(w) with w >= 0 (0 for inactive parts) and free per-dataset intercepts."""
    from scipy.optimize import minimize

    k = Z.shape[1]
    onehot = np.eye(n_sets)[d]
    swn = sw / sw.sum()

    def f(theta):
        w, b = theta[:k], theta[k:]
        eta = Z @ w + onehot @ b
        p = 1 / (1 + np.exp(-eta))
        loss = np.sum(swn * (np.logaddexp(0, eta) - y * eta)) + l1 * w.sum()
        g = swn * (p - y)
        return loss, np.concatenate([Z.T @ g + l1, onehot.T @ g])

    act = [True] * k if active is None else list(active)
    bounds = [(0, None) if a else (0, 0) for a in act] + [(None, None)] * n_sets
    res = minimize(f, np.zeros(k + n_sets), jac=True, method="L-BFGS-B", bounds=bounds)
    w = np.where(res.x[:k] < 1e-6, 0.0, res.x[:k])
    return w, res.x[k:]


def _cv_loss(Z, y, d, sw, folds, l1, n_sets, n_folds, active=None) -> np.ndarray:
    """Held-out weighted log-loss of each fold."""
    out = []
    for k in range(n_folds):
        tr, te = folds != k, folds == k
        if not te.any() or len(np.unique(y[tr])) < 2:
            out.append(0.0)
            continue
        w, b = _fit_once(Z[tr], y[tr], d[tr], sw[tr], l1, n_sets, active)
        eta = Z[te] @ w + b[d[te]]
        out.append(float(np.sum(sw[te] * (np.logaddexp(0, eta) - y[te] * eta))))
    return np.array(out)


def fit_combination(X: np.ndarray, y: Sequence[int], datasets: Sequence[str], groups: Sequence[str], *,
                    parts: Sequence[str] = PARTS, product_intercept: str = "enigma",
                    l1_grid: Sequence[float] = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1),
                    n_folds: int = 5, n_boot: int = 200, seed: int = 0) -> FittedCombination:
    """Fit the non-negative L1 logistic combination (see the module docstring).

    Steps: the L1 strength with the lowest grouped-CV log-loss; then, weakest part first, a part is
    dropped (weight fixed at 0) unless removing it worsens the grouped-CV log-loss by more than one
    standard error of the per-fold differences; the final fit and ``n_boot`` group bootstrap refits
    use the parts that are left.

    Parameters
    ----------
    X
        Raw part values, shape (n, len(parts)); NaN = not assessed (enters as raw 0).
    y, datasets, groups
        Binary labels, the dataset of each row (own intercept; each dataset weighs the same in total)
        and the group (exon / variant) for the grouped cross-validation and the group bootstrap.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    ds = np.asarray(datasets)
    names = sorted(set(ds.tolist()))
    d = np.array([names.index(x) for x in ds])
    groups = np.asarray(groups)
    X = np.where(np.isfinite(X), X, 0.0)  # not assessed = no evidence (raw 0)
    mean = X.mean(axis=0)
    scale = np.array([c.std() if c.std() > 0 else 1.0 for c in X.T])
    Z = (X - mean) / scale
    sw = np.array([1.0 / np.sum(d == j) for j in d])
    k = Z.shape[1]

    rng = np.random.default_rng(seed)
    ug = np.unique(groups)
    fold_of = dict(zip(ug, rng.permutation(len(ug)) % n_folds))
    folds = np.array([fold_of[g] for g in groups])
    per_l1 = {l1: _cv_loss(Z, y, d, sw, folds, l1, len(names), n_folds) for l1 in l1_grid}
    cv = {l1: float(v.sum()) for l1, v in per_l1.items()}
    best = min(cv, key=lambda v: (cv[v], -v))
    active = [True] * k
    current = per_l1[best]
    dropped: dict[str, dict[str, float]] = {}
    w_full, _ = _fit_once(Z, y, d, sw, best, len(names), active)
    for j in np.argsort(w_full):  # weakest part first
        if not active[j]:
            continue
        trial = list(active)
        trial[j] = False
        loss = _cv_loss(Z, y, d, sw, folds, best, len(names), n_folds, trial)
        gain = loss - current  # per fold: how much worse without the part
        se = float(gain.std(ddof=1) / np.sqrt(len(gain))) if len(gain) > 1 else 0.0
        if w_full[j] == 0.0 or gain.mean() <= se:  # keep a part only if it helps by more than one SE
            dropped[parts[j]] = {"cv_logloss_without": float(loss.sum()), "cv_logloss_with": float(current.sum()),
                                 "mean_fold_gain": float(gain.mean()), "se": se}
            active, current = trial, loss
    w, b = _fit_once(Z, y, d, sw, best, len(names), active)

    boots = []
    pi = names.index(product_intercept) if product_intercept in names else 0
    for _ in range(n_boot):
        pick = rng.choice(ug, len(ug))
        idx = np.concatenate([np.flatnonzero(groups == g) for g in pick])
        if len(np.unique(y[idx])) < 2 or len(np.unique(d[idx])) < len(names):
            continue
        wb, bb = _fit_once(Z[idx], y[idx], d[idx], sw[idx], best, len(names), active)
        boots.append(tuple(float(x) for x in wb) + (float(bb[pi]),))
    return FittedCombination(
        parts=tuple(parts), mean=tuple(float(x) for x in mean), scale=tuple(float(x) for x in scale),
        weights=tuple(float(x) for x in w), intercepts={n: float(v) for n, v in zip(names, b)},
        product_intercept=names[pi], l1=float(best), bootstrap=tuple(boots),
        training={"rows": len(y), "positives": int(y.sum()), "datasets": {n: int(np.sum(d == j)) for j, n in enumerate(names)},
                  "groups": len(ug), "cv_logloss_by_l1": {str(v): loss for v, loss in cv.items()},
                  "l1_rule": "lowest grouped-CV log-loss; a part is kept only if dropping it worsens the grouped-CV "
                             "log-loss by more than one SE of the per-fold differences",
                  "dropped_parts": dropped, "folds": n_folds, "bootstrap_refits": len(boots)},
    )


# ---------------------------------------------------------------------------------------- LM on windows
class _WindowReference:
    """Each window is its own contig, padded with N on both sides so any scoring window fits."""

    def __init__(self, windows: Sequence[str], pad: int) -> None:
        self.pad = pad
        self.seqs = {f"w{i}": "N" * pad + w + "N" * pad for i, w in enumerate(windows)}

    def contains(self, contig, start, end=None):
        end = start if end is None else end
        s = self.seqs.get(contig)
        return s is not None and 1 <= start and end <= len(s)

    def fetch(self, contig, start, end):
        return self.seqs[contig][start - 1 : end]


def score_windows(lm, items: Sequence[tuple[str, int, str, str]], cache=None, batch_size: int = 32,
                  window_bases: int | None = None, detail: bool = False) -> list:
    """Strand-averaged LLR of SNVs given as ``(window, 0-based offset, ref, alt)`` with a loaded DNA LM.

    The scored window (``window_bases``, default the model's) is centred on ``offset``; the part of it
    outside the given sequence is N (the model sees only the given sequence); a variant that cannot be
    scored gives ``None``. ``detail=True`` returns the :class:`~genomics.dnalm.scoring.VariantScore`
    objects (per-strand values) instead of the LLRs.
    """
    from genomics.dnalm.scoring import Variant, VariantScorer

    pad = int(window_bases or lm.window_bases)
    ref = _WindowReference([w for w, _, _, _ in items], pad)
    scorer = VariantScorer(lm, ref, window_bases=pad, embeddings=False, cache=cache, batch_size=batch_size,
                           on_ref_mismatch="skip")
    variants = [Variant(f"w{i}", pad + off + 1, r, a) for i, (_, off, r, a) in enumerate(items)]
    scores = scorer.score(variants)
    if detail:
        return [s if s.status == "ok" else None for s in scores]
    return [s.llr if s.status == "ok" else None for s in scores]
