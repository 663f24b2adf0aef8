"""Supervised probes on DNA language-model features of a variant (embedding delta -> logistic / ridge).

A zero-shot LLR asks the LM whether the alternate base is *unlikely*; a probe asks whether the LM's
representation of the window *changes* in a way that a small supervised model, fitted on labelled
variants, can map to an effect. Features of one SNV in its sequence window (``window``, 0-based
``offset``, ``ref``/``alt`` on the window's strand), from the model's last hidden layer (the
reverse-complement-conjoined average for the conv model), with the window given as is (no N padding):

``llr``     masked-marginal LLR, ``log P(alt) - log P(ref)`` with the variant base masked
``local``   hidden state at the variant position, alternate window minus reference window
``mean``    mean over the window's bases of the hidden states, alternate minus reference (the
            ``embedding_delta`` of :mod:`genomics.dnalm.scoring`, without padding)

:class:`Probe` standardises the features and fits an L2 logistic regression (binary label) or a ridge
regression (continuous value); its strength is chosen by grouped cross-validation on the fitting rows
only (groups = exons, so no exon is in both the fitting and the scoring fold of the search). It follows
the scikit-learn estimator contract (``fit`` / ``predict_score``) and is used by
``benchmarks/eval_variant_effect.py`` (fitted on the CAGI5 Vex-seq *train* split, scored on the *test* split).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Probe", "WindowFeatures", "window_features"]


@dataclass(frozen=True)
class WindowFeatures:
    """Per-variant LM features (rows in input order; NaN rows: the variant could not be featurised)."""

    llr: np.ndarray  # (n,)
    local: np.ndarray  # (n, hidden)
    mean: np.ndarray  # (n, hidden)

    def matrix(self, kind: str) -> np.ndarray:
        """``"local"``, ``"mean"``, ``"local+mean"`` or ``"llr"`` as a 2-D feature matrix."""
        parts = {"llr": self.llr[:, None], "local": self.local, "mean": self.mean}
        return np.column_stack([parts[k] for k in kind.split("+")])


def _variant_token(tok, offset: int) -> int | None:
    """Index of the token whose span is exactly the variant base (character tokenisers), else ``None``."""
    for i, sp in enumerate(tok.spans):
        if sp is not None and sp[0] <= offset < sp[1]:
            return i if sp[1] - sp[0] == 1 else None
    return None


def window_features(lm, items: Sequence[tuple[str, int, str, str]], batch_size: int = 32) -> WindowFeatures:
    """Features of SNVs given as ``(window, 0-based offset, ref, alt)`` (see the module docstring).

    Windows run as given (no padding). A variant whose window does not hold ``ref`` at ``offset``,
    or whose model tokenises the variant base together with others (k-mer / BPE), gets NaN features.
    """
    import torch

    ad, model = lm.adapter, lm.model
    n = len(items)
    llr = np.full(n, np.nan)
    local = mean = None
    jobs = []  # (row, ref ids, alt ids, token index)
    for i, (win, off, ref, alt) in enumerate(items):
        if not win or off is None or not (0 <= off < len(win)) or win[off].upper() != (ref or "").upper():
            continue
        alt_win = win[:off] + alt + win[off + 1 :]
        tr, ta = ad.encode(win.upper()), ad.encode(alt_win.upper())
        t = _variant_token(tr, off)
        if t is None or tr.spans != ta.spans:
            continue
        jobs.append((i, list(tr.ids), list(ta.ids), t, [j for j, sp in enumerate(tr.spans) if sp is not None]))

    def run(seqs):
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), ad.pad_id, dtype=torch.long)
        att = torch.zeros((len(seqs), width), dtype=torch.long)
        for r, s in enumerate(seqs):
            ids[r, : len(s)] = torch.tensor(s, dtype=torch.long)
            att[r, : len(s)] = 1
        with torch.inference_mode():
            out = model(input_ids=ids.to(lm.device), attention_mask=att.to(lm.device), output_hidden_states=True)
        return out.logits.float().cpu(), out.hidden_states[-1].float().cpu()

    ref_hidden: dict[tuple[int, ...], np.ndarray] = {}
    uniq = sorted({tuple(j[1]) for j in jobs})
    for b in range(0, len(uniq), batch_size):
        chunk = uniq[b : b + batch_size]
        _, h = run([list(s) for s in chunk])
        for r, s in enumerate(chunk):
            ref_hidden[s] = h[r, : len(s)].numpy()
    for b in range(0, len(jobs), batch_size):
        chunk = jobs[b : b + batch_size]
        masked = []
        for _, rid, _, t, _ in chunk:
            m = list(rid)
            m[t] = ad.mask_id
            masked.append(m)
        logits, _ = run(masked)
        _, h_alt = run([a for _, _, a, _, _ in chunk])
        for r, (i, rid, aid, t, keep) in enumerate(chunk):
            lp = torch.log_softmax(logits[r, t], -1).numpy()
            llr[i] = float(lp[aid[t]] - lp[rid[t]])
            ha, hr = h_alt[r, : len(aid)].numpy(), ref_hidden[tuple(rid)]
            if local is None:
                local = np.full((n, ha.shape[1]), np.nan)
                mean = np.full((n, ha.shape[1]), np.nan)
            local[i] = ha[t] - hr[t]
            mean[i] = ha[keep].mean(0) - hr[keep].mean(0)
    if local is None:
        local = mean = np.full((n, 1), np.nan)
    return WindowFeatures(llr=llr, local=local, mean=mean)


class Probe:
    """Standardise + L2 logistic (``kind="logistic"``) or ridge (``kind="ridge"``) with a grouped-CV strength.

    Parameters
    ----------
    kind
        ``"logistic"`` for a binary label (selected by grouped-CV AUROC) or ``"ridge"`` for a
        continuous value (selected by grouped-CV Spearman correlation).
    strengths
        Grid of inverse regularisation ``C`` (logistic) or ``alpha`` (ridge).
    n_folds
        Grouped CV folds over ``groups``.
    """

    def __init__(self, kind: str = "logistic", strengths: Sequence[float] | None = None, n_folds: int = 5,
                 seed: int = 0) -> None:
        if kind not in {"logistic", "ridge"}:
            raise ValueError("kind must be 'logistic' or 'ridge'")
        self.kind = kind
        self.strengths = tuple(strengths) if strengths is not None else (
            (1e-4, 1e-3, 1e-2, 1e-1, 1.0) if kind == "logistic" else (1.0, 10.0, 100.0, 1e3, 1e4, 1e5))
        self.n_folds = n_folds
        self.seed = seed

    def _estimator(self, strength: float):
        from sklearn.linear_model import LogisticRegression, Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        est = LogisticRegression(C=strength, max_iter=2000) if self.kind == "logistic" else Ridge(alpha=strength)
        return make_pipeline(StandardScaler(), est)

    def _score(self, est, X, y) -> float:
        from scipy.stats import spearmanr

        from genomics.dnalm.evaluate import auroc

        if self.kind == "logistic":
            return auroc(est.predict_proba(X)[:, 1], y)
        return float(spearmanr(est.predict(X), y).statistic)

    def fit(self, X, y, groups) -> Probe:
        """Choose the strength by grouped CV on (X, y), then refit on all of it."""
        from sklearn.model_selection import GroupKFold

        X, y, groups = np.asarray(X, float), np.asarray(y, float), np.asarray(groups)
        folds = list(GroupKFold(n_splits=min(self.n_folds, len(set(groups.tolist())))).split(X, y, groups))
        self.cv_scores_ = {}
        for s in self.strengths:
            vals = []
            for tr, te in folds:
                if self.kind == "logistic" and (len(set(y[tr])) < 2 or len(set(y[te])) < 2):
                    continue
                vals.append(self._score(self._estimator(s).fit(X[tr], y[tr]), X[te], y[te]))
            self.cv_scores_[s] = float(np.nanmean(vals)) if vals else float("nan")
        self.strength_ = max(self.strengths, key=lambda s: (np.nan_to_num(self.cv_scores_[s], nan=-1.0), -s))
        self.estimator_ = self._estimator(self.strength_).fit(X, y)
        return self

    def predict_score(self, X) -> np.ndarray:
        """Higher = more damaging (probability for logistic, predicted value for ridge)."""
        X = np.asarray(X, float)
        if self.kind == "logistic":
            return self.estimator_.predict_proba(X)[:, 1]
        return self.estimator_.predict(X)
