"""Variant-effect benchmark: AUROC / Spearman with bootstrap 95% intervals for every part, each DNA LM and the fitted combination.

    python benchmarks/eval_variant_effect.py --labelled ../shared/data/variant_effect \\
        --shared ../shared/data/sequence --models default,genomics/dnalm/data/conv_model \\
        [--findlay Findlay2018_suppTable1.csv] [--cache scores.sqlite] [--out result.json] \\
        [--write-combination genomics/dnalm/data/variant_effect_combination.json --combination-model 1]

Labelled sets (see :mod:`genomics.dnalm.labelled_sets`; read from ``--labelled``, never bundled) and the
split each figure comes from:

- ``vexseq CAGI5 test``: the 1,054 test variants of the CAGI5 Vex-seq split (HepG2, delta PSI <= -10 = damaging;
  Spearman against -delta PSI). Combined score: out-of-fold predictions of a 5-fold cross-validation grouped
  by *exon* over all Vex-seq variants (+ all ENIGMA rows in every training fold), so no test exon was fitted.
- ``enigma BRCA1``: ENIGMA expert classifications (Pathogenic vs Benign). Combined: fitted on Vex-seq + ENIGMA
  BRCA2 only (BRCA1 held out) - this is the shipped combination when ``--write-combination`` is given.
- ``enigma BRCA2``: combined fitted on Vex-seq + ENIGMA BRCA1 (BRCA2 held out). No BRCA2 sequence here: LM not assessed.
- ``mapsy CAGI5 test``: MaPSy significant allelic skew; only the LM part is assessed (no exon coordinates in the
  construct), so the combined score ranks like the LM when its weight is > 0 and is constant (0.5) otherwise.
  Combined: fitted on Vex-seq + ENIGMA.
- ``findlay BRCA1`` (only with ``--findlay PATH``; the table's licence does not allow bundling): saturation genome
  editing, LOF vs FUNC/INT; combined: the BRCA1-held-out fit.
- ``af chr21 rare vs common`` (``--af-set DIR``, default ``../shared/data/sequence/grch38_chr21_vep_testdb`` when
  present; ``--af-only`` scores nothing else): allele frequency as a weak label,
  :func:`genomics.dnalm.labelled_sets.load_allele_frequency` (1000 Genomes singleton = 1 vs MAF >= 5% = 0, a
  balanced seeded sample). No transcript models of the region here: consequence / splice distance are not
  assessed. LM alone: the product's zero-shot -LLR; probes: out-of-fold scores of a 5-fold CV grouped by 50 kb
  genomic block (the probe's strength chosen by an inner grouped CV on the fitting folds only), on the LM
  embedding delta, on sequence-context features (ref/alt, transition, CpG, window GC, the 96 trinucleotide
  substitution classes: a mutation-rate control, no LM), and on context + the LM's -LLR or embedding delta (paired
  bootstrap of the gain over context alone). No
  fitted combination (no part besides the LM is assessed).

LM rows for every model in ``--models`` (labelled ``model_id@weights-sha``):

- ``LM alone``: zero-shot -LLR from the product's scorer (window centred on the variant, N outside the given
  sequence); ``LM alone [.., construct window, no N padding]``: the same LLR with the assayed construct as is.
- with ``--lm-variants`` (first reverse-complement-conjoined model only): the same weights without the conjoined
  pass, forward strand only and averaged over both strands (identical to the conjoined LLR by construction: the
  softmax normaliser cancels in log P(alt) - log P(ref), so averaging logits = averaging per-strand LLRs), and
  ENIGMA BRCA1 in ``--wide-window`` (1,001-base) genomic windows.
- ``probe``: :class:`genomics.dnalm.probe.Probe` on the LM embedding delta (hidden state at the variant + window
  mean, alt - ref): logistic (AUROC) and ridge (Spearman vs -delta PSI), strength by grouped CV over exons, fitted on
  the CAGI5 Vex-seq *train* split only and scored on the *test* split (and, transferred, on MaPSy); the same learner
  on the non-LM features (splice part, in exon, log distance, alleles) is the reference row.
- ``combined, CAGI5 train fit``: :func:`fit_combination` on the CAGI5 train split only, without and with the LM
  probe as a part (out-of-fold probe scores on the train rows, grouped by exon), scored on the test split.

"LM alone" is the zero-shot -LLR; "consequence alone" is the product's consequence prior; "splice distance alone"
is the exon-boundary proximity part. Intervals: 1,000 bootstrap resamples (positives and negatives resampled
separately for AUROC; pairs for Spearman), percentile 95%.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from genomics.dnalm.evaluate import bootstrap_auroc
from genomics.dnalm.variant_effect import PARTS, fit_combination, part_values


def spearman_ci(score, value, n_boot: int, seed: int = 0):
    from scipy.stats import spearmanr

    s, v = np.asarray(score, float), np.asarray(value, float)
    rho = float(spearmanr(s, v).statistic)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        i = rng.integers(0, len(s), len(s))
        boots.append(spearmanr(s[i], v[i]).statistic)
    return {"rho": rho, "ci_low": float(np.nanquantile(boots, 0.025)), "ci_high": float(np.nanquantile(boots, 0.975)), "n": len(s)}


def load_findlay(path: str, reference):
    """Findlay et al. 2018 SGE table (hg19 positions; GRCh38 = hg19 + 1,847,983 across BRCA1)."""
    import csv

    from genomics.dnalm.consequence import annotate
    from genomics.dnalm.labelled_sets import LabelledVariant

    rows = []
    with open(path, newline="") as fh:
        lines = fh.read().splitlines()
    hdr = next(i for i, ln in enumerate(lines) if ln.startswith("gene,"))
    for r in csv.DictReader(lines[hdr:]):
        cls = r.get("func.class")
        if cls not in {"FUNC", "INT", "LOF"} or len(r["reference"]) != 1 or len(r["alt"]) != 1:
            continue
        g = int(r["position (hg19)"]) + 1_847_983
        try:
            if reference.fetch("chr17", g, g).upper() != r["reference"]:
                continue
            c = annotate("chr17", g, r["reference"], r["alt"], reference)
            win = reference.fetch("chr17", g - 126, g + 127).upper()
        except Exception:  # noqa: BLE001, S112 - outside the reference: not in the set
            continue
        rows.append(LabelledVariant(dataset="findlay", split="test", group="BRCA1", variant_id=f"chr17:{g}:{r['reference']}>{r['alt']}",
                                    label=int(cls == "LOF"), value=-float(r["function.score.mean"]), window=win, offset=126,
                                    ref=r["reference"], alt=r["alt"], consequence=c.consequence,
                                    exon_distance=c.exon_boundary_distance, in_exon=c.in_exon, gene="BRCA1"))
    return rows


def raw_matrix(rows, llr):
    X = np.full((len(rows), len(PARTS)), np.nan)
    for i, r in enumerate(rows):
        pv = part_values(r.consequence, r.in_exon, r.exon_distance, llr[i])
        X[i] = [np.nan if pv[p] is None else pv[p] for p in PARTS]
    return X


def metric_block(score, rows, sel, n_boot, min_frac=0.0):
    """AUROC (+ Spearman when the set has values) on the rows where ``score`` is assessed."""
    s = np.asarray(score, float)
    ok = sel & np.isfinite(s)
    n_sel = int(sel.sum())
    if ok.sum() == 0 or ok.sum() < min_frac * n_sel:
        return {"assessed": int(ok.sum()), "of": n_sel, "auroc": None}
    y = np.array([rows[i].label for i in np.flatnonzero(ok)])
    if len(np.unique(y)) < 2:
        return {"assessed": int(ok.sum()), "of": n_sel, "auroc": None}
    out = {"assessed": int(ok.sum()), "of": n_sel, **bootstrap_auroc(s[ok], y, n_boot).to_dict()}
    vals = [rows[i].value for i in np.flatnonzero(ok)]
    if all(v is not None for v in vals):
        out["spearman"] = spearman_ci(s[ok], vals, n_boot)
    return out


def fit_group(row) -> str:
    """Group inside a fit (CV folds, bootstrap): the exon for Vex-seq, the variant for ENIGMA (genes are
    held out at the outer level: BRCA1 rows are never in a fit that is evaluated on BRCA1)."""
    return row.group if row.dataset == "vexseq" else row.variant_id


def out_of_group_combined(X, rows, train_mask_for, eval_sel, n_boot_fit=0):
    """Combined probability for ``eval_sel`` rows from fits that exclude them (``train_mask_for`` gives the fits)."""
    pred = np.full(len(rows), np.nan)
    fits = []
    for train_mask, target in train_mask_for:
        idx = np.flatnonzero(train_mask)
        comb = fit_combination(X[idx], [rows[i].label for i in idx], [rows[i].dataset for i in idx],
                               [fit_group(rows[i]) for i in idx], n_boot=n_boot_fit)
        t = np.flatnonzero(target & eval_sel)
        if len(t):  # the product's intercept for every fold, so pooled folds rank on the parts alone
            pred[t] = comb.predict_proba(X[t])
        fits.append(comb)
    return pred, fits


def feature_rows(rows):
    """Rows whose LM features the probe uses: Vex-seq (fit on CAGI5 train, scored on test) and MaPSy (transfer)."""
    return [i for i, r in enumerate(rows) if r.window and r.dataset in ("vexseq", "mapsy")]


def cached_features(lm, mname, rows, idx, cache_dir):
    """:func:`genomics.dnalm.probe.window_features` of ``rows[idx]``, kept as ``<cache_dir>/<model>.npz``."""
    from genomics.dnalm.probe import WindowFeatures, window_features

    ids = [f"{rows[i].dataset}|{rows[i].variant_id}" for i in idx]
    path = Path(cache_dir) / f"features_{mname.replace('@', '_')}.npz" if cache_dir else None
    if path is not None and path.exists():
        z = np.load(path)
        pos = {v: k for k, v in enumerate(z["ids"].tolist())}
        if all(v in pos for v in ids):
            k = [pos[v] for v in ids]
            return WindowFeatures(llr=z["llr"][k], local=z["local"][k], mean=z["mean"][k])
    f = window_features(lm, [(rows[i].window, rows[i].offset, rows[i].ref, rows[i].alt) for i in idx])
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, ids=np.array(ids), llr=f.llr, local=f.local, mean=f.mean)
    return f


def base_features(rows, idx):
    """Non-LM probe features: splice-distance part, in exon, log distance, ref and alt one-hot."""
    out = []
    for i in idx:
        r = rows[i]
        sp = part_values(r.consequence, r.in_exon, r.exon_distance, None)["splice"]
        d = r.exon_distance if r.exon_distance is not None else 200
        out.append([sp or 0.0, float(bool(r.in_exon)), np.log1p(min(d, 200))]
                   + [float(r.ref == b) for b in "ACGT"] + [float(r.alt == b) for b in "ACGT"])
    return np.array(out)


def probe_rows(lm_label, feats, rows, idx, n_boot, seed=0, with_base=False):
    """Probe rows of the table: fit on CAGI5 Vex-seq train (grouped CV by exon), score on test and MaPSy.

    Also returns out-of-fold train / test scores of the LM probe for the CAGI5 combination rows.
    """
    from genomics.dnalm.evaluate import bootstrap_auroc
    from genomics.dnalm.probe import Probe

    rr = [rows[i] for i in idx]
    ds = np.array([r.dataset for r in rr])
    sp = np.array([r.split for r in rr])
    y = np.array([r.label for r in rr], float)
    val = np.array([np.nan if r.value is None else r.value for r in rr])
    grp = np.array([r.group for r in rr])
    tr, te, mp = (ds == "vexseq") & (sp == "train"), (ds == "vexseq") & (sp == "test"), ds == "mapsy"
    lmX = feats.matrix("local+mean")
    ok = np.isfinite(lmX).all(axis=1)
    base = base_features(rows, idx)
    designs = {f"probe: LM embedding delta [{lm_label}]": lmX,
               f"probe: splice features + LM embedding delta [{lm_label}]": np.column_stack([base, lmX])}
    if with_base:  # the same learner on the non-LM features, once per run
        designs = {"probe: splice features only (no LM)": base, **designs}
    if not with_base:  # the reference probe is fitted for the paired comparison, shown once per run
        designs = {"probe: splice features only (no LM)": base, **designs}
    table = []
    oof = {}
    preds = {}
    for name, X in designs.items():
        t, e = tr & ok, te & ok
        clf = Probe("logistic", seed=seed).fit(X[t], y[t], grp[t])
        reg = Probe("ridge", seed=seed).fit(X[t], val[t], grp[t])
        ps, qs = clf.predict_score(X[e]), reg.predict_score(X[e])
        row = {"set": "vexseq CAGI5 test", "score": name, "fit": "CAGI5 train split (grouped CV by exon for the strength)",
               "assessed": int(e.sum()), "of": int(te.sum()), **bootstrap_auroc(ps, y[e], n_boot, seed).to_dict(),
               "spearman": spearman_ci(qs, val[e], n_boot, seed), "strength": {"logistic_C": clf.strength_, "ridge_alpha": reg.strength_}}
        preds[name] = (ps, qs, y[e], val[e])
        if name.startswith("probe: splice features + LM") and "probe: splice features only (no LM)" in preds:
            row["paired_vs_splice_features"] = paired_delta(preds["probe: splice features only (no LM)"], preds[name],
                                                            n_boot, seed)
        if with_base or not name.startswith("probe: splice features only"):
            table.append(row)
        if name.startswith("probe: LM embedding"):
            m = mp & ok
            table.append({"set": "mapsy CAGI5 test", "score": name, "fit": "CAGI5 Vex-seq train split (transfer)",
                          "assessed": int(m.sum()), "of": int(mp.sum()),
                          **bootstrap_auroc(clf.predict_score(X[m]), y[m], n_boot, seed).to_dict()})
            # out-of-fold probe scores on the train rows (grouped by exon) for the CAGI5 combination
            from sklearn.model_selection import GroupKFold

            score = np.full(len(idx), np.nan)
            tri = np.flatnonzero(t)
            for a, b in GroupKFold(5).split(tri, groups=grp[tri]):
                score[tri[b]] = Probe("logistic", seed=seed).fit(X[tri[a]], y[tri[a]], grp[tri[a]]).predict_score(X[tri[b]])
            score[e] = ps
            oof = {idx[k]: float(score[k]) for k in range(len(idx)) if np.isfinite(score[k])}
    return table, oof


def paired_delta(a, b, n_boot, seed=0):
    """Paired bootstrap (test variants resampled) of AUROC and Spearman, probe ``b`` minus probe ``a``.

    ``a``/``b``: (logistic score, ridge score, label, value) on the same rows.
    """
    from scipy.stats import spearmanr

    from genomics.dnalm.evaluate import auroc

    y, v = a[2], a[3]
    rng = np.random.default_rng(seed)
    da, dr = [], []
    for _ in range(n_boot):
        i = rng.integers(0, len(y), len(y))
        da.append(auroc(b[0][i], y[i]) - auroc(a[0][i], y[i]))
        dr.append(spearmanr(b[1][i], v[i]).statistic - spearmanr(a[1][i], v[i]).statistic)
    return {"d_auroc": auroc(b[0], y) - auroc(a[0], y), "d_auroc_ci": [float(x) for x in np.nanquantile(da, [0.025, 0.975])],
            "d_spearman": float(spearmanr(b[1], v).statistic - spearmanr(a[1], v).statistic),
            "d_spearman_ci": [float(x) for x in np.nanquantile(dr, [0.025, 0.975])], "n_boot": n_boot}


def cagi5_combination_rows(rows, X, probe_oof, label, n_boot):
    """Fitted combination on CAGI5 Vex-seq train only, scored on the test split: without and with the LM probe part."""
    from genomics.dnalm.evaluate import bootstrap_auroc

    ds = np.array([r.dataset for r in rows])
    sp = np.array([r.split for r in rows])
    tr = np.flatnonzero((ds == "vexseq") & (sp == "train"))
    te = np.flatnonzero((ds == "vexseq") & (sp == "test"))
    probe = np.array([probe_oof.get(i, np.nan) for i in range(len(rows))])
    # the probe's output is a probability: its log-odds is the part (higher = more damaging)
    probe = np.clip(probe, 1e-6, 1 - 1e-6)
    probe_part = np.log(probe / (1 - probe))
    out = []
    for name, cols, parts in ((f"combined, CAGI5 train fit: consequence + splice + LM LLR [{label}]", X[:, :3], PARTS),
                              (f"combined, CAGI5 train fit: + LM probe [{label}]", np.column_stack([X[:, :3], probe_part]),
                               (*PARTS, "lm_probe"))):
        comb = fit_combination(cols[tr], [rows[i].label for i in tr], ds[tr], [rows[i].group for i in tr],
                               parts=parts, product_intercept="vexseq", n_boot=0)
        pred = comb.predict_proba(cols[te])
        y = np.array([rows[i].label for i in te])
        out.append({"set": "vexseq CAGI5 test", "score": name, "fit": "CAGI5 Vex-seq train split only; test held out",
                    "weights": dict(zip(parts, comb.weights)), "assessed": len(te), "of": len(te),
                    **bootstrap_auroc(pred, y, n_boot).to_dict(),
                    "spearman": spearman_ci(pred, [rows[i].value for i in te], n_boot)})
    return out


AF_SET = "af chr21 rare vs common"


_COMP_TABLE = str.maketrans("ACGT", "TGCA")
#: the 96 trinucleotide substitution classes (pyrimidine reference, as in mutational-signature spectra)
_TRI_CLASSES = [f"{a}[{r}>{x}]{b}" for r in "CT" for x in "ACGT" if x != r for a in "ACGT" for b in "ACGT"]


def context_features(rows):
    """Non-LM features of the allele-frequency probe (a mutation-rate control): ref / alt one-hot, transition,
    CpG at the site, window GC and the 96 trinucleotide substitution classes (one-hot)."""
    index = {c: k for k, c in enumerate(_TRI_CLASSES)}
    out = []
    for r in rows:
        w, o = r.window.upper(), r.offset
        cpg = float(w[o : o + 2] == "CG" or w[max(o - 1, 0) : o + 1] == "CG")
        ti = float({r.ref, r.alt} in ({"A", "G"}, {"C", "T"}))
        gc = (w.count("G") + w.count("C")) / max(len(w), 1)
        tri, ref, alt = w[o - 1 : o + 2], r.ref, r.alt
        if ref in "AG":  # the pyrimidine strand
            tri, ref, alt = tri.translate(_COMP_TABLE)[::-1], ref.translate(_COMP_TABLE), alt.translate(_COMP_TABLE)
        onehot = [0.0] * len(_TRI_CLASSES)
        k = index.get(f"{tri[:1]}[{ref}>{alt}]{tri[2:]}")
        if k is not None:
            onehot[k] = 1.0
        out.append([float(r.ref == b) for b in "ACGT"] + [float(r.alt == b) for b in "ACGT"] + [ti, cpg, gc] + onehot)
    return np.array(out, float)


def grouped_oof_probe(X, y, groups, folds: int = 5, seed: int = 0):
    """Out-of-fold logistic-probe scores, folds grouped by ``groups`` (strength by inner grouped CV per fold)."""
    from sklearn.model_selection import GroupKFold

    from genomics.dnalm.probe import Probe

    pred = np.full(len(y), np.nan)
    strengths = []
    for tr, te in GroupKFold(folds).split(X, y, groups):
        p = Probe("logistic", seed=seed).fit(X[tr], y[tr], groups[tr])
        pred[te] = p.predict_score(X[te])
        strengths.append(p.strength_)
    return pred, strengths


def paired_auroc_delta(a, b, y, n_boot: int, seed: int = 0):
    """AUROC(b) - AUROC(a) on the same rows with a paired bootstrap (positives and negatives resampled separately)."""
    from genomics.dnalm.evaluate import auroc

    y = np.asarray(y, bool)
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    rng = np.random.default_rng(seed)
    d = []
    for _ in range(n_boot):
        i = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        d.append(auroc(b[i], y[i]) - auroc(a[i], y[i]))
    return {"d_auroc": auroc(b, y) - auroc(a, y), "d_auroc_ci": [float(x) for x in np.quantile(d, [0.025, 0.975])],
            "n_boot": n_boot}


def af_block(a, specs, cache, table):
    """Score the allele-frequency weak-label set (see the module docstring); rows are appended to ``table``.

    Returns the set's description (definition, counts, REF check, per-model timing) or ``None`` when skipped.
    """
    from genomics.dnalm import load_model
    from genomics.dnalm.labelled_sets import load_allele_frequency
    from genomics.dnalm.pretrain_data import HELD_OUT_FRACTION
    from genomics.dnalm.variant_effect import score_windows

    folder = Path(a.af_set) if a.af_set else None
    if folder is None or not folder.is_dir():
        print(f"SKIP {AF_SET}: folder not found at {folder} (give --af-set DIR)")
        return None
    afs = load_allele_frequency(folder, n_per_class=a.af_per_class, seed=a.af_seed)
    rows = afs.rows
    n = len(rows)
    y = np.array([r.label for r in rows])
    groups = np.array([r.group for r in rows])
    sel = np.ones(n, bool)
    pos = np.array([int(r.variant_id.split(":")[2]) for r in rows])
    # the LMs' pre-training rule (genomics/dnalm/pretrain_data.py): the last 5% of each stitched chr21 block >= 2 kb
    # is held out; the conv model trained on the rest, the ESM model (trained before chr21 was added) on none of it
    tail = np.zeros(n, bool)
    for b0, bseq in afs.blocks:
        if len(bseq) >= 2_000:
            cut = b0 + int(len(bseq) * (1 - HELD_OUT_FRACTION))
            tail |= (pos >= cut) & (pos < b0 + len(bseq))
    # sensitivity (added after the first result): common rows whose ALT is the minor allele, as for every rare row;
    # where the reference genome carries the minor allele an LM may prefer the ALT for that reason alone
    alt_minor = np.array(afs.alt_is_minor, bool) | (y == 1)
    info = {"source": str(folder), "definition": afs.definition, "counts": afs.counts,
            "common_alt_is_minor": int((alt_minor & (y == 0)).sum()),
            "ref_mismatch_rate": afs.ref_mismatch_rate, "n_blocks": len(set(groups.tolist())),
            "lm_heldout_tail_rows": int(tail.sum()), "models": {}}
    print(f"{AF_SET}: {afs.definition}; REF mismatches {afs.counts['ref_mismatch']}/{afs.counts['on_reference']}; "
          f"{info['n_blocks']} blocks of 50 kb")
    base = raw_matrix(rows, [None] * n)
    for label, part_i in (("consequence alone", 0), ("splice distance alone", 1)):
        table.append({"set": AF_SET, "score": label, "note": "not assessed: no transcript models of chr21 here",
                      **metric_block(base[:, part_i], rows, sel, a.n_boot)})
    ctx = context_features(rows)
    ctx_pred, ctx_str = grouped_oof_probe(ctx, y, groups)
    fit = "out of fold, 5-fold CV grouped by 50 kb block"
    table.append({"set": AF_SET, "score": "probe: sequence-context features only (no LM)", "fit": fit,
                  "strength": ctx_str, **metric_block(ctx_pred, rows, sel, a.n_boot)})
    items = [(r.window, r.offset, r.ref, r.alt) for r in rows]
    for spec in specs:
        t = time.time()
        lm = load_model(None if spec == "default" else spec, device="cpu", threads=a.threads)
        mname = f"{lm.model_id}@{lm.weights_sha}"
        tag = f"{lm.model_id}@{lm.weights_sha[:8]}"
        llr = score_windows(lm, items, cache=cache)
        lm_score = np.array([np.nan if x is None else -x for x in llr], float)
        t_llr = time.time() - t
        ok = np.isfinite(lm_score)
        table.append({"set": AF_SET, "score": f"LM alone [{tag}]", **metric_block(lm_score, rows, sel, a.n_boot),
                      "paired_vs_context": paired_auroc_delta(ctx_pred[ok], lm_score[ok], y[ok], a.n_boot)})
        # how much of the -LLR is mutation context: ridge of -LLR on the context features, out of fold (grouped by
        # block; no label used), and the AUROC of what context does not explain
        from sklearn.linear_model import RidgeCV
        from sklearn.model_selection import GroupKFold, cross_val_predict

        fit_ctx = cross_val_predict(RidgeCV(alphas=(0.1, 1.0, 10.0, 100.0)), ctx[ok], lm_score[ok], groups=groups[ok],
                                    cv=GroupKFold(5))
        resid = np.full(n, np.nan)
        resid[ok] = lm_score[ok] - fit_ctx
        r2 = 1 - float(np.sum(resid[ok] ** 2) / np.sum((lm_score[ok] - lm_score[ok].mean()) ** 2))
        table.append({"set": AF_SET, "score": f"LM alone [{tag}, residual after context (out-of-fold R2 {r2:.2f})]",
                      "context_r2": r2, **metric_block(resid, rows, sel, a.n_boot)})
        table.append({"set": AF_SET, "score": f"LM alone [{tag}, LM held-out chr21 tail only]",
                      **metric_block(lm_score, rows, tail, a.n_boot)})
        table.append({"set": AF_SET, "score": f"LM alone [{tag}, common rows with ALT = minor allele only]",
                      **metric_block(lm_score, rows, alt_minor, a.n_boot)})
        t = time.time()
        fdir = Path(a.features_cache) / "af_chr21" if a.features_cache else None
        feats = cached_features(lm, mname, rows, list(range(n)), fdir)
        lmX = feats.matrix("local+mean")
        if not np.isfinite(lmX).all():
            print(f"{AF_SET}: {int((~np.isfinite(lmX).all(axis=1)).sum())} rows without LM features for {tag} "
                  "(not assessed)")
        preds = {}
        for name, X in ((f"probe: LM embedding delta [{tag}]", lmX),
                        (f"probe: context + LM LLR [{tag}]", np.column_stack([ctx, lm_score])),
                        (f"probe: context + LM embedding delta [{tag}]", np.column_stack([ctx, lmX]))):
            ok = np.isfinite(X).all(axis=1)
            pred = np.full(n, np.nan)
            pred[ok], strengths = grouped_oof_probe(X[ok], y[ok], groups[ok])
            preds[name] = pred
            row = {"set": AF_SET, "score": name, "fit": fit, "strength": strengths,
                   **metric_block(pred, rows, sel, a.n_boot)}
            if name.startswith("probe: context"):
                row["paired_vs_context"] = paired_auroc_delta(ctx_pred[ok], pred[ok], y[ok], a.n_boot)
            table.append(row)
            if name.startswith("probe: LM"):
                table.append({"set": AF_SET, "score": f"{name[:-1]}, common rows with ALT = minor allele only]",
                              "fit": fit, **metric_block(pred, rows, alt_minor, a.n_boot)})
        info["models"][spec] = {"model": mname, "llr_seconds": round(t_llr, 1),
                                "features_and_probe_seconds": round(time.time() - t, 1)}
        print(f"{AF_SET}: {tag} scored in {t_llr:.0f} s (LLR), {time.time() - t:.0f} s (features + probes)")
    return info


def heldout_perplexity(model_spec, shared):
    from genomics.dnalm import load_model
    from genomics.dnalm.pretrain_data import load_corpus, tiled_windows
    from genomics.dnalm.train import evaluate

    lm = load_model(None if model_spec == "default" else model_spec, device="cpu")
    corpus = load_corpus(shared)
    wins = tiled_windows(corpus.by_split("valid"), 254, 192)
    brca = tiled_windows(corpus.by_split("excluded"), 254, 64)
    return {"heldout": evaluate(lm.model, wins), "brca1_excluded": evaluate(lm.model, brca)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--labelled", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "variant_effect"))
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "sequence"),
                   help="sequence folder for the held-out perplexity column (skipped when absent)")
    p.add_argument("--models", default="default", help="comma-separated: 'default' (shipped) and/or model folders")
    p.add_argument("--findlay", default=None, help="Findlay et al. 2018 supplementary table 1 (CSV), optional")
    p.add_argument("--cache", default=None, help="SQLite LM score cache (re-runs are then fast)")
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None)
    p.add_argument("--write-combination", default=None, help="write the BRCA1-held-out fit of --combination-model here")
    p.add_argument("--combination-model", type=int, default=0, help="index into --models whose LM the shipped fit uses")
    p.add_argument("--no-probe", dest="probe", action="store_false",
                   help="skip the embedding probe (fit on CAGI5 Vex-seq train, scored on test) and its combination rows")
    p.add_argument("--features-cache", default=None, help="folder to keep the probe's LM features (one .npz per model)")
    p.add_argument("--lm-variants", action="store_true",
                   help="also score the RC-conjoined model without conjoining (per strand, averaged) and ENIGMA BRCA1 "
                        "in --wide-window windows")
    p.add_argument("--wide-window", type=int, default=1001)
    p.add_argument("--comparison-json", default=None, help="write the tables as markdown (+ command) for a model card")
    p.add_argument("--af-set", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "sequence"
                                           / "grch38_chr21_vep_testdb"),
                   help="Ensembl VEP chr21 test cache + DB dump folder for the allele-frequency weak label "
                        "(skipped when absent)")
    p.add_argument("--no-af", dest="af", action="store_false", help="skip the allele-frequency set")
    p.add_argument("--af-only", action="store_true", help="score the allele-frequency set only")
    p.add_argument("--af-per-class", type=int, default=1500, help="rare and common SNVs drawn (each)")
    p.add_argument("--af-seed", type=int, default=0)
    a = p.parse_args(argv)
    if a.af_only:
        return af_only(a)

    from genomics.dnalm import ScoreCache, load_model
    from genomics.dnalm.labelled_sets import load_enigma, load_mapsy, load_vexseq
    from genomics.dnalm.variant_effect import score_windows
    from genomics.reference import bundled_reference

    lab = Path(a.labelled)
    if not lab.is_dir():
        print(f"SKIP: labelled variant-effect folder not found at {lab} (give --labelled DIR)")
        return 0
    ref = bundled_reference()
    rows = load_vexseq(lab) + load_enigma(lab, ref) + load_mapsy(lab)
    if a.findlay:
        if Path(a.findlay).exists():
            rows += load_findlay(a.findlay, ref)
        else:
            print(f"SKIP findlay: {a.findlay} not found")
    else:
        print("SKIP findlay: no --findlay PATH (the table's licence does not allow bundling it)")
    n = len(rows)
    ds = np.array([r.dataset for r in rows])
    gene = np.array([r.gene or "" for r in rows])
    split = np.array([r.split for r in rows])
    cache = ScoreCache(a.cache) if a.cache else None

    eval_sets = {
        "vexseq CAGI5 test": (ds == "vexseq") & (split == "test"),
        "enigma BRCA1": (ds == "enigma") & (gene == "BRCA1"),
        "enigma BRCA2": (ds == "enigma") & (gene == "BRCA2"),
        "mapsy CAGI5 test": ds == "mapsy",
    }
    if (ds == "findlay").any():
        eval_sets["findlay BRCA1"] = ds == "findlay"

    # fits that keep the evaluated genes / exons out
    vex = ds == "vexseq"
    en = ds == "enigma"
    base_train = vex | en
    exon_groups = np.array([r.group for r in rows])
    ug = sorted(set(exon_groups[vex]))
    rng = np.random.default_rng(0)
    fold_of = dict(zip(ug, rng.permutation(len(ug)) % 5))
    vex_folds = [(((vex & np.array([fold_of.get(g, -1) != k for g in exon_groups])) | en),
                  vex & np.array([fold_of.get(g, -1) == k for g in exon_groups])) for k in range(5)]
    plans = {
        "vexseq CAGI5 test": vex_folds,
        "enigma BRCA1": [(vex | (en & (gene == "BRCA2")), en & (gene == "BRCA1"))],
        "enigma BRCA2": [(vex | (en & (gene == "BRCA1")), en & (gene == "BRCA2"))],
        "mapsy CAGI5 test": [(base_train, ds == "mapsy")],
        "findlay BRCA1": [(vex | (en & (gene == "BRCA2")), ds == "findlay")],
    }
    fit_desc = {
        "vexseq CAGI5 test": "5-fold CV grouped by exon over Vex-seq (+ENIGMA in every fit); out-of-fold",
        "enigma BRCA1": "fit on Vex-seq + ENIGMA BRCA2 (BRCA1 held out)",
        "enigma BRCA2": "fit on Vex-seq + ENIGMA BRCA1 (BRCA2 held out)",
        "mapsy CAGI5 test": "fit on Vex-seq + ENIGMA",
        "findlay BRCA1": "fit on Vex-seq + ENIGMA BRCA2 (BRCA1 held out)",
    }

    specs = [m.strip() for m in a.models.split(",") if m.strip()]
    results = {"n_rows": n, "sets": {k: int(v.sum()) for k, v in eval_sets.items()}, "models": {}, "table": []}
    base_X = raw_matrix(rows, [None] * n)
    for label, part_i in (("consequence alone", 0), ("splice distance alone", 1)):
        s = base_X[:, part_i]
        for name, sel in eval_sets.items():
            results["table"].append({"set": name, "score": label, **metric_block(s, rows, sel, a.n_boot)})

    combos = {}
    variants_done = False  # the LM-variant rows for the first RC-conjoined model only (CPU)
    for mi, spec in enumerate(specs):
        t = time.time()
        lm = load_model(None if spec == "default" else spec, device="cpu", threads=a.threads)
        items = [(r.window, r.offset, r.ref, r.alt) for r in rows if r.window]
        llr_ok = score_windows(lm, items, cache=cache)
        it = iter(llr_ok)
        llr = [next(it) if r.window else None for r in rows]
        mname = f"{lm.model_id}@{lm.weights_sha}"
        tag = f"{lm.model_id}@{lm.weights_sha[:8]}"  # two checkpoints of one model stay apart
        info = {"model": mname, "score_seconds": round(time.time() - t, 1)}
        if Path(a.shared).is_dir():
            info["perplexity"] = heldout_perplexity(spec, a.shared)
        results["models"][spec] = info
        X = raw_matrix(rows, llr)
        lm_score = X[:, 2]
        for name, sel in eval_sets.items():
            results["table"].append({"set": name, "score": f"LM alone [{tag}]", **metric_block(lm_score, rows, sel, a.n_boot)})
            pred, fits = out_of_group_combined(X, rows, plans[name], sel)
            w = [dict(zip(PARTS, f.weights)) for f in fits]
            results["table"].append({"set": name, "score": f"combined [{tag}]", "fit": fit_desc[name],
                                     "weights": w if len(w) > 1 else w[0], **metric_block(pred, rows, sel, a.n_boot)})
        if a.lm_variants and getattr(lm.model, "rc_conjoin", False) and not variants_done:
            # the same weights without the conjoined pass: LLR of each strand, and their average
            ev = np.flatnonzero(np.any(np.stack(list(eval_sets.values())), axis=0) & np.array([bool(r.window) for r in rows]))
            lm.model.rc_conjoin = False
            try:
                fr = score_windows(lm, [(rows[i].window, rows[i].offset, rows[i].ref, rows[i].alt) for i in ev],
                                   cache=None, detail=True)
            finally:
                lm.model.rc_conjoin = True
            for key, what in (("llr", "no RC conjoin, LLR averaged over both strands"), ("llr_forward", "no RC conjoin, forward strand only")):
                v = np.full(n, np.nan)
                for i, sc in zip(ev, fr):
                    if sc is not None:
                        v[i] = -getattr(sc, key)
                for name, sel in eval_sets.items():
                    results["table"].append({"set": name, "score": f"LM alone [{tag}, {what}]", **metric_block(v, rows, sel, a.n_boot)})
            # a wider context: ENIGMA BRCA1 in 1,001-base genomic windows (the conv receptive field is ~1,000 bases)
            wide = [r for r in load_enigma(lab, ref, window=a.wide_window) if r.window]
            wl = score_windows(lm, [(r.window, r.offset, r.ref, r.alt) for r in wide], cache=cache, window_bases=a.wide_window)
            by_id = {r.variant_id: (None if x is None else -x) for r, x in zip(wide, wl)}
            v = np.array([by_id.get(r.variant_id, np.nan) if r.dataset == "enigma" else np.nan for r in rows], float)
            results["table"].append({"set": "enigma BRCA1", "score": f"LM alone [{tag}, {a.wide_window}-base window]",
                                     **metric_block(v, rows, eval_sets["enigma BRCA1"], a.n_boot)})
            variants_done = True
        if a.probe:
            fidx = feature_rows(rows)
            feats = cached_features(lm, mname, rows, fidx, a.features_cache)
            v = np.full(n, np.nan)
            v[fidx] = -feats.llr
            for name in ("vexseq CAGI5 test", "mapsy CAGI5 test"):
                results["table"].append({"set": name, "score": f"LM alone [{tag}, construct window, no N padding]",
                                         **metric_block(v, rows, eval_sets[name], a.n_boot)})
            prows, oof = probe_rows(tag, feats, rows, fidx, a.n_boot, with_base=mi == 0)
            results["table"].extend(prows)
            results["table"].extend(cagi5_combination_rows(rows, X, oof, tag, a.n_boot))
        if a.write_combination and mi == a.combination_model:
            tr = vex | (en & (gene == "BRCA2"))
            idx = np.flatnonzero(tr)
            comb = fit_combination(X[idx], [rows[i].label for i in idx], ds[idx], [fit_group(rows[i]) for i in idx],
                                   n_boot=200)
            combos[spec] = (comb, mname)
    if a.af:
        from genomics.errors import RecommenderError

        try:
            results["af"] = af_block(a, specs, cache, results["table"])
        except RecommenderError as exc:
            print(f"error: {exc.one_line()}", file=sys.stderr)
            return 1
    for row in results["table"]:
        print(json.dumps({k: row.get(k) for k in ("set", "score", "assessed", "of", "auroc", "ci_low", "ci_high")}
                         | ({"spearman": row["spearman"]["rho"]} if "spearman" in row else {})
                         | ({"weights": row["weights"]} if "weights" in row else {})))
    print_table(results)
    if a.write_combination and combos:
        from dataclasses import replace

        comb, mname = combos[specs[a.combination_model]]
        shipped = [r for r in results["table"] if r["score"].startswith("combined [") and
                   mname.split("@")[0] in r["score"]] + [r for r in results["table"] if "alone" in r["score"]]
        comb = replace(comb, lm_model=mname, training={
            **comb.training, "sets": "Vex-seq HepG2 (CAGI5 train + test, delta PSI <= -10) + ENIGMA BRCA2 "
            "(Pathogenic vs Benign); BRCA1 held out", "source": str(lab)},
            metrics={"command": "python benchmarks/eval_variant_effect.py " + " ".join(argv or sys.argv[1:]),
                     "table": shipped})
        tmp = Path(a.write_combination).with_suffix(".tmp")
        tmp.write_text(comb.to_json())
        tmp.replace(a.write_combination)
        print(f"wrote {a.write_combination}: weights {dict(zip(comb.parts, comb.weights))}")
    if a.out:
        Path(a.out).write_text(json.dumps(results, indent=1) + "\n")
    if a.comparison_json:
        Path(a.comparison_json).write_text(json.dumps(
            {"command": "python benchmarks/eval_variant_effect.py " + " ".join(argv or sys.argv[1:]),
             "markdown": markdown_tables(results)}, indent=1) + "\n")
    return 0


def af_only(a) -> int:
    """``--af-only``: the allele-frequency set alone (no other labelled set, no perplexity)."""
    from genomics.dnalm import ScoreCache
    from genomics.errors import RecommenderError

    specs = [m.strip() for m in a.models.split(",") if m.strip()]
    results = {"models": {}, "table": []}
    try:
        results["af"] = af_block(a, specs, ScoreCache(a.cache) if a.cache else None, results["table"])
    except RecommenderError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return 1
    print_table(results)
    if a.out:
        tmp = Path(a.out).with_suffix(".tmp")
        tmp.write_text(json.dumps(results, indent=1) + "\n")
        tmp.replace(a.out)
    return 0


def _fmt(r):
    if r.get("auroc") is None:
        return f"n/a ({r.get('assessed', 0)}/{r.get('of', 0)} assessed)"
    s = f"{r['auroc']:.3f} [{r['ci_low']:.3f}-{r['ci_high']:.3f}]"
    if r.get("assessed") != r.get("of"):
        s += f" ({r['assessed']}/{r['of']})"
    return s


def markdown_tables(results) -> str:
    out = ["| set | score | AUROC [95% CI] | Spearman [95% CI] |", "|---|---|---|---|"]
    first = {}
    for r in results["table"]:
        first.setdefault(r["set"], len(first))
    for r in sorted(results["table"], key=lambda r: first[r["set"]]):  # grouped by set, stable
        sp = r.get("spearman")
        sps = f"{sp['rho']:.3f} [{sp['ci_low']:.3f}-{sp['ci_high']:.3f}]" if sp else ""
        pd = r.get("paired_vs_splice_features")
        if pd:
            sps += (f"; vs splice features only: dAUROC {pd['d_auroc']:+.3f} [{pd['d_auroc_ci'][0]:+.3f} to "
                    f"{pd['d_auroc_ci'][1]:+.3f}], dSpearman {pd['d_spearman']:+.3f} [{pd['d_spearman_ci'][0]:+.3f} to "
                    f"{pd['d_spearman_ci'][1]:+.3f}] (paired bootstrap)")
        pc = r.get("paired_vs_context")
        if pc:
            sps += (f"vs context features only: dAUROC {pc['d_auroc']:+.3f} [{pc['d_auroc_ci'][0]:+.3f} to "
                    f"{pc['d_auroc_ci'][1]:+.3f}] (paired bootstrap)")
        out.append(f"| {r['set']} | {r['score']} | {_fmt(r)} | {sps} |")
    out += ["", "| LM | held-out perplexity | held-out accuracy | BRCA1 (excluded) perplexity | BRCA1 accuracy |",
            "|---|---:|---:|---:|---:|"]
    for info in results["models"].values():
        pp = info.get("perplexity")
        if pp:
            out.append(f"| {info['model']} | {pp['heldout']['perplexity']:.4f} | {pp['heldout']['accuracy']:.4f} | "
                       f"{pp['brca1_excluded']['perplexity']:.4f} | {pp['brca1_excluded']['accuracy']:.4f} |")
    return "\n".join(out)


def print_table(results):
    print("\n" + markdown_tables(results))


if __name__ == "__main__":
    raise SystemExit(main())
