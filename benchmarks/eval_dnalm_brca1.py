"""BRCA1 variant-effect evaluation of a DNA LM (default: the shipped model), AUROC with bootstrap 95% CI.

Label set (built from facts, see genomics.dnalm.evaluate): every SNV of BRCA1's MANE Select CDS and
canonical splice sites; positives stop_gained + canonical_splice, negatives synonymous. BRCA1
(chr17:43,044,295-43,125,483 +/- 10 kb) was excluded from the default model's training data.

    python benchmarks/eval_dnalm_brca1.py [--model DIR] [--max-negatives N] [--out result.json]

Consequence alone separates this label set perfectly by construction (labels come from consequence
classes), so the LM-alone AUROC is the real test; the combined scores are reported for completeness.
Labelled sets measured by people outside this project (Vex-seq, MaPSy, ENIGMA, and the Findlay et al.
2018 BRCA1 assay from a user-given path) are in ``benchmarks/eval_variant_effect.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomics.dnalm import Variant, VariantScorer, load_model
from genomics.dnalm.consequence import CONSEQUENCE_PRIOR
from genomics.dnalm.evaluate import bootstrap_auroc, brca1_snv_label_set
from genomics.reference import reference_from_option


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default=None)
    p.add_argument("--reference", default=None)
    p.add_argument("--max-negatives", type=int, default=None, help="random subsample of synonymous SNVs")
    p.add_argument("--max-positives", type=int, default=None)
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--window", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)

    ref = reference_from_option(a.reference)
    rows = brca1_snv_label_set(ref)
    rng = np.random.default_rng(a.seed)
    pos = [r for r in rows if r[5] == 1]
    neg = [r for r in rows if r[5] == 0]
    if a.max_negatives and len(neg) > a.max_negatives:
        neg = [neg[i] for i in sorted(rng.choice(len(neg), a.max_negatives, replace=False))]
    if a.max_positives and len(pos) > a.max_positives:
        pos = [pos[i] for i in sorted(rng.choice(len(pos), a.max_positives, replace=False))]
    rows = pos + neg
    lm = load_model(a.model, device="cpu", threads=a.threads, window_bases=a.window)
    scorer = VariantScorer(lm, ref, embeddings=False, batch_size=a.batch_size)
    t = time.time()
    scores = scorer.score([Variant(c, g, r, x) for c, g, r, x, _, _ in rows])
    secs = time.time() - t
    ok = [i for i, s in enumerate(scores) if s.status == "ok"]
    y = np.array([rows[i][5] for i in ok])
    llr = np.array([scores[i].llr for i in ok])
    llr_f = np.array([scores[i].llr_forward for i in ok])
    prior = np.array([CONSEQUENCE_PRIOR[rows[i][4]] for i in ok])
    from genomics.dnalm.consequence import annotate
    from genomics.dnalm.variant_effect import assess

    fitted = []
    for i in ok:
        c, g, r, x, _, _ = rows[i]
        cons = annotate(c, g, r, x, ref)
        fitted.append(assess(cons.consequence, cons.in_exon, cons.exon_boundary_distance, scores[i].llr,
                             lm_model=lm.cache_key).log_odds)
    fitted = np.array(fitted)
    res = {
        "model": lm.model_id,
        "weights_sha256_16": lm.weights_sha,
        "model_step": lm.metrics.get("step"),
        "window_bases": scorer.window,
        "n_scored": len(ok),
        "classes": {k: int(sum(1 for i in ok if rows[i][4] == k)) for k in ("stop_gained", "canonical_splice", "synonymous")},
        "score_seconds": round(secs, 1),
        "lm_alone_strand_avg": bootstrap_auroc(-llr, y, a.n_boot, a.seed).to_dict(),
        "lm_alone_forward_only": bootstrap_auroc(-llr_f, y, a.n_boot, a.seed).to_dict(),
        "consequence_alone (trivial: labels come from consequence)": bootstrap_auroc(-prior, y, a.n_boot, a.seed).to_dict(),
        "combined llr+prior (unfitted, before 2026-12)": bootstrap_auroc(-(llr + prior), y, a.n_boot, a.seed).to_dict(),
        "combined (fitted combination, the default output)": bootstrap_auroc(fitted, y, a.n_boot, a.seed).to_dict(),
    }
    for cls in ("stop_gained", "canonical_splice"):
        sel = np.array([rows[i][4] in (cls, "synonymous") for i in ok])
        res[f"lm_alone {cls} vs synonymous"] = bootstrap_auroc(-llr[sel], y[sel], a.n_boot, a.seed).to_dict()
    txt = json.dumps(res, indent=2)
    print(txt)
    if a.out:
        Path(a.out).write_text(txt + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
