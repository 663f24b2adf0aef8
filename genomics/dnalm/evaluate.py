"""Variant-effect evaluation: AUROC with a bootstrap interval, and the BRCA1 coding-SNV label set.

The label set is built from facts, not outside labels: every possible SNV of BRCA1's MANE Select
CDS (NM_007294.4) and of its canonical splice sites. Positives (expected loss of function):
``stop_gained`` and ``canonical_splice``; negatives: ``synonymous`` (further than 3 bases from an exon
boundary, so none is a splice-region change). Because the labels derive from consequence classes, a
consequence-only score separates them perfectly by construction: the real test is the LM alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from genomics.dnalm.consequence import annotate, load_transcripts

__all__ = ["NEGATIVE_CLASSES", "POSITIVE_CLASSES", "AurocResult", "auroc", "bootstrap_auroc", "brca1_snv_label_set"]

POSITIVE_CLASSES = ("stop_gained", "canonical_splice")
NEGATIVE_CLASSES = ("synonymous",)


def auroc(scores, labels) -> float:
    """Area under the ROC curve (Mann-Whitney U with mid-ranks for ties); higher score = positive."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=float)
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


@dataclass(frozen=True)
class AurocResult:
    auroc: float
    ci_low: float
    ci_high: float
    n_positive: int
    n_negative: int
    n_bootstrap: int

    def to_dict(self):
        return asdict(self)


def bootstrap_auroc(scores, labels, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> AurocResult:
    """AUROC and a percentile bootstrap interval (resampling positives and negatives separately)."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    boots = []
    for _ in range(n_boot):
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        boots.append(auroc(s[idx], y[idx]))
    a = (1 - level) / 2
    return AurocResult(auroc(s, y), float(np.quantile(boots, a)), float(np.quantile(boots, 1 - a)),
                       len(pos), len(neg), n_boot)


def brca1_snv_label_set(reference, gene: str = "BRCA1"):
    """(contig, pos, ref, alt, consequence, label) for every CDS and canonical-splice SNV of ``gene``.

    Rows whose consequence is neither positive nor negative (missense, splice_region...) are left out.
    """
    tx = load_transcripts()[gene]
    positions = set(tx.cds_positions())
    ex = sorted(tx.exons)
    for i, (s, e) in enumerate(ex):
        if i > 0:
            positions.update((s - 1, s - 2))
        if i < len(ex) - 1:
            positions.update((e + 1, e + 2))
    rows = []
    for g in sorted(positions):
        b = reference.fetch(tx.chrom, g, g).upper()
        for alt in "ACGT":
            if alt == b:
                continue
            c = annotate(tx.chrom, g, b, alt, reference)
            if c.consequence in POSITIVE_CLASSES:
                rows.append((tx.chrom, g, b, alt, c.consequence, 1))
            elif c.consequence in NEGATIVE_CLASSES:
                rows.append((tx.chrom, g, b, alt, c.consequence, 0))
    return rows
