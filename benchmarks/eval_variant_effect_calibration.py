"""Calibration of the shipped variant-effect combination on its held-out set (ENIGMA BRCA1; BRCA1 never in the fit).

Prints, for the product-scale probability ``genomics.dnalm.variant_effect.assess`` gives (LM part not assessed: its
fitted weight is 0): Brier score, calibration-in-the-large, logistic recalibration intercept and slope, a
reliability table, how many variants reach a lower 90% bound of 0.5 / 0.8 / 0.9 (the PARP-inhibitor
"predicted pathogenic VUS" threshold of ``genomics.biomarkers.variant_evidence``) and the range per consequence,
and the AUROC within missense (bootstrap 95% interval). Needs the labelled sets (``--labelled``, laid out like
``../shared/data/variant_effect``); nothing is trained.

    python benchmarks/eval_variant_effect_calibration.py --labelled ../shared/data/variant_effect
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labelled", required=True, help="folder with enigma_brca/ (ENIGMA batches)")
    args = ap.parse_args(argv)
    from scipy.optimize import minimize

    from genomics.dnalm.evaluate import bootstrap_auroc
    from genomics.dnalm.labelled_sets import load_enigma
    from genomics.dnalm.variant_effect import assess

    rows = [r for r in load_enigma(args.labelled) if r.gene == "BRCA1"]
    P, LO, Y, C = [], [], [], []
    for r in rows:
        e = assess(r.consequence, r.in_exon, r.exon_distance, None)
        P.append(e.probability)
        LO.append(e.interval[0])
        Y.append(r.label)
        C.append(r.consequence)
    P, LO, Y, C = np.array(P), np.array(LO), np.array(Y), np.array(C)
    print(f"ENIGMA BRCA1 (held out of the fit): n={len(Y)}, pathogenic={int(Y.sum())}")
    print(f"Brier {np.mean((P - Y) ** 2):.4f}; mean predicted {P.mean():.3f} vs observed {Y.mean():.3f}")
    lo = np.log(P / (1 - P))

    def nll(t):
        eta = t[0] + t[1] * lo
        return float(np.sum(np.logaddexp(0, eta) - Y * eta))

    a, b = minimize(nll, [0.0, 1.0]).x
    print(f"logistic recalibration: intercept {a:.2f}, slope {b:.2f} (1 = calibrated; > 1 = predictions too compressed)")
    print("| predicted P | n | mean predicted | observed pathogenic |")
    print("|---|---:|---:|---:|")
    edges = [0, 0.05, 0.1, 0.2, 0.5, 0.8, 0.9, 1.0001]
    for lo_e, hi_e in itertools.pairwise(edges):
        m = (P >= lo_e) & (P < hi_e)
        if m.any():
            print(f"| {lo_e:.2f}-{min(hi_e, 1):.2f} | {m.sum()} | {P[m].mean():.3f} | {Y[m].mean():.3f} ({int(Y[m].sum())}/{m.sum()}) |")
    for t in (0.5, 0.8, 0.9):
        m = LO >= t
        print(f"lower 90% bound >= {t}: {m.sum()} variants, {int(Y[m].sum())} pathogenic; consequences "
              f"{sorted(set(C[m].tolist())) or '-'}")
    print("| consequence | n | pathogenic | P range | highest lower bound |")
    print("|---|---:|---:|---|---:|")
    for c in sorted(set(C.tolist())):
        m = C == c
        print(f"| {c} | {m.sum()} | {int(Y[m].sum())} | {P[m].min():.3f}-{P[m].max():.3f} | {LO[m].max():.3f} |")
    m = C == "missense"
    r = bootstrap_auroc(P[m], Y[m])
    print(f"AUROC within missense: {r.auroc:.3f} [{r.ci_low:.3f}-{r.ci_high:.3f}] ({r.n_positive} pathogenic / "
          f"{r.n_negative} benign)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
