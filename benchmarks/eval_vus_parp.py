"""Do the DNA LM / variant-effect features improve the choice of PARP inhibitor for BRCA1 VUS carriers?

What is measured (one run)
--------------------------
* **Cohort**: ``--n`` patients (default 2,400) simulated with seed ``--seed`` (default 2026; the default bundle is
  trained on seed 0) on real 1000 Genomes haplotypes, breast / high-grade serous ovarian / pancreatic cancer only
  (the cancer types where olaparib is a candidate), treatment by indication, ``vus_rate`` ``--vus-rate`` (default
  0.5: VUS carriers enriched): each carrier has one germline BRCA1 SNV from ``cohorts/data/brca1_vus_enigma.tsv``
  (missense, synonymous, splice) whose **hidden true effect** is its ENIGMA expert-panel class (Pathogenic = loss
  of function). The simulator gives a truly damaging VUS the same olaparib effect as a curated BRCA1/2 loss of
  function (``cohorts.simulate_model.VUS_LOF_EFFECTS``). The variant-effect combination the product ships was
  fitted without BRCA1 (Vex-seq + ENIGMA BRCA2), so the hidden truth is not circular.
* **Evaluated patients**: VUS carriers without a curated germline or somatic BRCA1/2 loss of function (their VUS is
  their only BRCA finding). Each arm below is ranked by ``recommender cohort score`` (the console entry
  point, run in process: ``recommender.cli.main``; default bundle: PGx from the cohort VCF, DNA LM gene features of BRCA1/BRCA2 from the VCF, guidance
  and biomarker-eligibility overlay); the option at rank 1 is the choice the user sees.
* **Arms** (what the product is given; everything else identical):

  ``A product, VUS in the VCF``  the germline VCF holds the VUS; the product uses it as it allows (DNA LM gene
                                 features; VUS evidence / eligibility rules when the product has them)
  ``B VUS ignored``              the VUS records removed from the VCF (= "treat no VUS as loss of function")
  ``C VUS truth known``          A + a BRCA1 loss-of-function finding for carriers whose VUS truly is one
                                 (the finding reaches the product like a known carrier's, through the tumour
                                 variant table): the ceiling of a perfect VUS classifier
  ``D every VUS as LoF``         A + the finding for every carrier
  ``E product's PARP rule``      A + the finding where the product's own decision on the variant
                                 (:func:`genomics.biomarkers.variant_evidence.parp_eligibility`, DNA LM scorer on)
                                 is ``eligible`` (loss of function by rule) or ``eligible_predicted`` (a VUS whose
                                 90% lower bound of P(pathogenic) reaches the product's threshold): the product's
                                 VUS decision made to count, whether or not the scoring path wires it in yet
  ``E-noLM``, ``E-noVE``         the same rule without the DNA LM (no LLR) / without any variant-effect evidence
                                 (``use_variant_effect=False``: rule-based loss of function only)
  ``G combined P >= 0.5``        A + the finding where the default variant-effect probability
                                 (:func:`genomics.dnalm.variant_effect.assess`: consequence, splice, LM) is >= 0.5
                                 (even odds: the evidence trusted more than the product does); ``G-noLM`` without
                                 the LM part
  ``F LM alone``                 A + the finding for the VUS with the highest -LLR of the shipped DNA LM, as many
                                 distinct VUS as G calls damaging (same positive rate, so only the LM's ordering
                                 is tested)
  ``oracle``                     the option with the highest true utility (regret 0 by definition)

* **Metrics** per arm over the evaluated patients: **regret** = true utility of the oracle-best option - true utility
  of the chosen one, with the ranking's own utility formula on the simulator's true values
  (``benchmarks/eval_simulated.py``: P(response) + S_PFS(365 d) - 0.5 x sum P(severe toxicity)); **hit rate** =
  share choosing the oracle-best option; share choosing olaparib among truly damaging and not damaging VUS
  carriers. 95 % percentile bootstrap intervals over patients (``--n-boot``), and paired bootstrap intervals of the
  difference to arm B. Variant level: AUROC of each score against the hidden truth over the distinct VUS of the
  table (all, and missense only), 95 % bootstrap intervals.

Run: ``.venv/bin/python benchmarks/eval_vus_parp.py [--n 2400] [--workers 1] [--workdir DIR] [--out result.json]``
(``--quick``: 800 patients, for a smoke run).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from eval_simulated import bootstrap_mean, cohort_score_cli, oracle_utilities, policy_outcomes

MIX = {"BRCA": 0.4, "HGSOC": 0.3, "PAAD": 0.3}
ARMS = ("A", "B", "C", "D", "E", "E-noLM", "E-noVE", "G", "G-noLM", "F")
ARM_LABELS = {
    "A": "A product, VUS in the VCF (as shipped)",
    "B": "B VUS ignored (= no VUS as LoF)",
    "C": "C VUS truth known (ceiling)",
    "D": "D every VUS as LoF",
    "E": "E product's PARP rule on the VUS (LM on)",
    "E-noLM": "E-noLM product's rule, no LM",
    "E-noVE": "E-noVE product's rule, no variant-effect evidence",
    "G": "G combined P >= 0.5 as LoF",
    "G-noLM": "G-noLM combined P (no LM) >= 0.5",
    "F": "F LM alone (same positive rate as G)",
    "oracle": "oracle (best true utility)",
}


# ------------------------------------------------------------------------------------------ variant evidence
def variant_evidence(table: pd.DataFrame) -> pd.DataFrame:
    """Per distinct VUS: consequence, LM LLR, combined probability with and without the LM part."""
    from genomics.dnalm import Variant, VariantScorer, load_model
    from genomics.dnalm.consequence import annotate
    from genomics.dnalm.variant_effect import assess
    from genomics.reference import bundled_reference

    ref = bundled_reference()
    lm = load_model(None, device="cpu", threads=1)
    scorer = VariantScorer(lm, ref, embeddings=False, batch_size=32)
    variants = [Variant(r.chrom, int(r.pos), r.ref, r.alt) for r in table.itertuples()]
    scores = scorer.score(variants)
    rows = []
    for r, s in zip(table.itertuples(), scores):
        c = annotate(r.chrom, int(r.pos), r.ref, r.alt, ref)
        llr = s.llr if s.status == "ok" else None
        with_lm = assess(c.consequence, c.in_exon, c.exon_boundary_distance, llr, lm_model=lm.cache_key)
        no_lm = assess(c.consequence, c.in_exon, c.exon_boundary_distance, None)
        rows.append({"variant": f"{r.chrom}:{r.pos}:{r.ref}>{r.alt}", "hgvs_c": r.hgvs_c,
                     "consequence": c.consequence, "hidden_lof": bool(r.hidden_lof), "llr": llr,
                     "p_combined": with_lm.probability, "p_low": with_lm.interval[0], "p_high": with_lm.interval[1],
                     "lm_contribution": with_lm.contributions.get("lm", 0.0), "p_no_lm": no_lm.probability,
                     "lm_assessed": "lm" in with_lm.assessed})
    out = pd.DataFrame(rows)
    out.attrs["lm_model"] = lm.cache_key
    out.attrs["product_rule"] = "unavailable"
    try:  # the product's PARP decision on each variant (genomics.biomarkers.variant_evidence, issue 17)
        from genomics.biomarkers.variant_evidence import (
            PREDICTED_PATHOGENIC_LOWER_BOUND,
            dnalm_llr_scorer,
            parp_eligibility,
        )
    except ImportError as err:
        print(f"product PARP rule not available ({err}): arms E are skipped", flush=True)
        return out
    scorer = dnalm_llr_scorer()
    for col, kw in (("rule", {"lm_scorer": scorer}), ("rule_no_lm", {}), ("rule_no_ve", {"use_variant_effect": False})):
        out[col] = [parp_eligibility([{"chrom": r.chrom, "pos": int(r.pos), "ref": r.ref, "alt": r.alt}], (), "BRCA",
                                     **kw).status for r in table.itertuples()]
    from genomics.biomarkers.germline import classify_variant

    out["product_class"] = [classify_variant(r.chrom, int(r.pos), r.ref, r.alt, source="germline").classification
                            for r in table.itertuples()]
    out.attrs["product_rule"] = f"parp_eligibility (lower bound >= {PREDICTED_PATHOGENIC_LOWER_BOUND})"
    return out


def auroc_ci(score: np.ndarray, y: np.ndarray, n_boot: int, seed: int = 0) -> dict:
    from genomics.dnalm.evaluate import bootstrap_auroc

    ok = np.isfinite(score)
    return bootstrap_auroc(score[ok], y[ok].astype(int), n_boot, seed).to_dict()


# ------------------------------------------------------------------------------------------ cohorts per arm
def _write_vcf_without_vus(src: Path, dest: Path) -> Path:
    import gzip

    import pysam
    from pysam.libcbgzf import BGZFile

    tmp = dest.with_name(f".{dest.name}.part")
    with gzip.open(src, "rt") as fin, BGZFile(str(tmp), "wb") as out:
        for line in fin:
            if line.startswith("#") or "KIND=germline_vus" not in line:
                out.write(line.encode())
    pysam.tabix_index(str(tmp), preset="vcf", force=True, keep_original=True)
    os.replace(f"{tmp}.tbi", f"{dest}.tbi")
    os.replace(tmp, dest)
    return dest


def arm_cohort(sim, pids: list[str], lof_pids: set[str], vcf: Path, out: Path):
    """The evaluated patients' tables, with a BRCA1 loss-of-function finding for ``lof_pids``."""
    keep = set(pids)
    tables = {k: v[v["patient_id"].isin(keep)].reset_index(drop=True) for k, v in sim.tables.items()}
    tv = tables["tumour_variants"]
    extra = pd.DataFrame({"patient_id": sorted(lof_pids), "gene": "BRCA1", "protein_change": None,
                          "variant_type": "loss_of_function", "vaf": None}, columns=tv.columns)
    if len(extra):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            tables["tumour_variants"] = pd.concat([tv, extra], ignore_index=True)
    truth = {k: v[v["patient_id"].isin(keep)].reset_index(drop=True) for k, v in sim.truth_tables.items()}
    c = dataclasses.replace(sim, tables=tables, truth_tables=truth, vcf=vcf)
    with warnings.catch_warnings():  # the shared VCF holds every simulated sample, the arm's tables a subset
        warnings.simplefilter("ignore")
        return c.write(out, overwrite=True)


def _rank1(parquet: Path) -> pd.Series:
    df = pd.read_parquet(parquet, columns=["patient_id", "regimen", "rank"])
    return df[df["rank"] == 1].drop_duplicates("patient_id").set_index("patient_id")["regimen"]


# ------------------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2400)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--vus-rate", type=float, default=0.5)
    ap.add_argument("--workers", type=int, default=1,
                    help="scoring processes (1: the DNA LM loads once for every arm; more processes each load it)")
    ap.add_argument("--n-boot", type=int, default=2000)
    ap.add_argument("--threshold", type=float, default=0.5, help="combined probability called damaging (arm E)")
    ap.add_argument("--arms", default=",".join(ARMS))
    ap.add_argument("--workdir", default=None, help="keeps the cohorts and score files (default: a temporary one)")
    ap.add_argument("--quick", action="store_true", help="800 patients, 300 bootstrap resamples")
    ap.add_argument("--out", default=None, help="write the JSON result here")
    ap.add_argument("--reuse", action="store_true",
                    help="read the score files and variant evidence an earlier run left in --workdir (same arguments)")
    a = ap.parse_args(argv)
    if a.quick:
        a.n, a.n_boot = 800, 300
    import tempfile

    from cohorts.brca_vus import load_vus_variants
    from cohorts.germline import RealGenotypeSource
    from cohorts.simulate import simulate_cohort

    work = Path(a.workdir or tempfile.mkdtemp(prefix="eval_vus_parp-"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}

    # 1. cohort
    sim = simulate_cohort(a.n, a.seed, cancer_mix=MIX, vus_rate=a.vus_rate,
                          germline=RealGenotypeSource(workdir=work / "germline"))
    timings["simulate_s"] = time.perf_counter() - t0
    g = sim.truth_tables["germline"].set_index("patient_id")
    cancer = sim.tables["patients"].set_index("patient_id")["cancer_type"]
    ev = g[g["brca_vus"].notna() & ~g["germline_brca_lof"].astype(bool) & ~g["somatic_brca_lof"].astype(bool)]
    pids = [p for p in ev.index if cancer[p] in MIX]
    truth_lof = ev.loc[pids, "brca_vus_hidden_lof"].astype(bool)
    print(f"cohort: {a.n} patients (seed {a.seed}, vus_rate {a.vus_rate}); evaluated VUS carriers: {len(pids)} "
          f"({int(truth_lof.sum())} truly loss of function) in {timings['simulate_s']:.0f} s", flush=True)

    # 2. variant evidence of every VUS of the table (product parts, LM)
    t1 = time.perf_counter()
    table = load_vus_variants()
    ev_path = work / "variant_evidence.json"
    if a.reuse and ev_path.is_file():
        saved = json.loads(ev_path.read_text())
        evid = pd.DataFrame(saved["rows"])
        evid.attrs.update(saved["attrs"])
    else:
        evid = variant_evidence(table)
        ev_path.write_text(json.dumps({"rows": evid.to_dict("records"), "attrs": evid.attrs}))
    timings["variant_evidence_s"] = time.perf_counter() - t1
    y = evid["hidden_lof"].to_numpy(int)
    mis = (evid["consequence"] == "missense").to_numpy()
    lm_score = -evid["llr"].astype(float).to_numpy()
    variant_level = {}
    for name, s in (("combined (default output)", evid["p_combined"].to_numpy(float)),
                    ("combined without LM", evid["p_no_lm"].to_numpy(float)),
                    ("LM alone (-LLR)", lm_score)):
        variant_level[name] = {"all": auroc_ci(s, y, a.n_boot), "missense": auroc_ci(s[mis], y[mis], a.n_boot)}
    ok = ("eligible", "eligible_predicted")
    called = {"G": set(evid.loc[evid["p_combined"] >= a.threshold, "variant"]),
              "G-noLM": set(evid.loc[evid["p_no_lm"] >= a.threshold, "variant"])}
    if "rule" in evid:
        called["E"] = set(evid.loc[evid["rule"].isin(ok), "variant"])
        called["E-noLM"] = set(evid.loc[evid["rule_no_lm"].isin(ok), "variant"])
        called["E-noVE"] = set(evid.loc[evid["rule_no_ve"].isin(ok), "variant"])
    k = len(called["G"])
    order = np.argsort(-np.nan_to_num(lm_score, nan=-np.inf), kind="stable")
    called["F"] = set(evid["variant"].to_numpy()[order[:k]])
    var_of = ev.loc[pids, "brca_vus_variant"]
    print(f"variant evidence of {len(evid)} VUS in {timings['variant_evidence_s']:.0f} s; called damaging: "
          + ", ".join(f"{k_} {len(v)}" for k_, v in called.items()), flush=True)

    # 3. arms through the user path
    vcf_with = Path(sim.vcf)
    vcf_without = _write_vcf_without_vus(vcf_with, work / "germline_without_vus.vcf.gz")
    lof_sets = {
        "A": set(), "B": set(), "C": set(truth_lof[truth_lof].index), "D": set(pids),
        **{arm: {p for p in pids if var_of[p] in vs} for arm, vs in called.items()},
    }
    chosen: dict[str, pd.Series] = {}
    wanted = [x.strip() for x in a.arms.split(",") if x.strip() in lof_sets]
    if any(x not in ("A", "B") for x in wanted) and "A" not in wanted:
        wanted.insert(0, "A")  # arms C-F reuse A's ranking for the patients they give no finding
    scored_cache: dict[tuple, pd.Series] = {}
    cache = work / "dnalm-cache.sqlite"  # each distinct variant scored by the DNA LM once over all arms
    stage_s: dict[str, dict] = {}
    for arm in wanted:
        key = (arm == "B", frozenset(lof_sets[arm]))
        if key in scored_cache:  # same inputs as an arm already scored (e.g. E and E-noLM when the LM weight is 0)
            chosen[arm] = scored_cache[key]
            print(f"arm {arm}: same inputs as an arm already scored (reused)", flush=True)
            continue
        ts = time.perf_counter()
        # A and B: every evaluated patient. C-F differ from A only for the patients given a finding (patients are
        # scored independently), so only those are scored and the others keep A's ranking.
        todo = pids if arm in ("A", "B") else sorted(lof_sets[arm])
        ch = pd.Series(dtype=object) if arm in ("A", "B") else chosen["A"].copy()
        if todo and a.reuse and (work / f"scores_{arm}.parquet").is_file():
            got = _rank1(work / f"scores_{arm}.parquet")
            if set(got.index) != set(todo):
                raise SystemExit(f"--reuse: {work / f'scores_{arm}.parquet'} holds other patients; drop --reuse")
            ch = got if ch.empty else pd.concat([ch.drop(got.index, errors="ignore"), got])
        elif todo:
            cdir = work / f"cohort_{arm}"
            arm_cohort(sim, todo, lof_sets[arm], vcf_without if arm == "B" else vcf_with, cdir)
            out = work / f"scores_{arm}.parquet"
            summ = cohort_score_cli(["cohort", "score", str(cdir), "-o", str(out), "--workers", str(a.workers),
                                      "--chunk-size", "250", "--dnalm-cache", str(cache), "--no-progress", "--json",
                                      "--overwrite"])
            stage_s[arm] = {k: round(v, 1) for k, v in summ.get("stage_seconds", {}).items() if v >= 0.05}
            if summ.get("skipped"):
                print(f"arm {arm}: skipped {summ['skipped']}", flush=True)
            got = _rank1(out)
            ch = got if ch.empty else pd.concat([ch.drop(got.index, errors="ignore"), got])
        chosen[arm] = scored_cache[key] = ch
        timings[f"score_{arm}_s"] = time.perf_counter() - ts
        print(f"arm {arm}: scored {len(todo)} patients in {timings[f'score_{arm}_s']:.0f} s "
              f"(stage seconds summed over workers: {stage_s.get(arm, {})})", flush=True)

    # 4. metrics
    util = oracle_utilities(sim.truth_tables["oracle"])
    util = util[util["patient_id"].isin(set(pids))]
    best = util.loc[util.groupby("patient_id")["u_rank"].idxmax()].set_index("patient_id")["regimen"]
    chosen["oracle"] = best
    rng = np.random.default_rng(0)
    idx_boot = rng.integers(0, len(pids), size=(a.n_boot, len(pids)))
    per: dict[str, pd.DataFrame] = {}
    # subgroups: the product's own class of the VUS (loss of function by rule / VUS / benign-like) and missense
    cls_col = "product_class" if "product_class" in evid else "consequence"
    cls_of = dict(zip(evid["variant"], evid[cls_col]))
    klass = pd.Series({p: cls_of.get(var_of[p], "?") for p in pids})
    for arm, ch in chosen.items():
        d = policy_outcomes(util, ch.reindex(pids), cancer)
        d["olaparib"] = (ch.reindex(pids) == "olaparib").to_numpy(float)
        d["truth_lof"] = truth_lof.reindex(pids).to_numpy(bool)
        per[arm] = d

    def ci(x: np.ndarray) -> list[float]:
        x = np.asarray(x, dtype=float)
        m = x[idx_boot].mean(axis=1)
        return [float(x.mean()), float(np.quantile(m, 0.025)), float(np.quantile(m, 0.975))]

    results = {}
    for arm, d in per.items():
        tl = d["truth_lof"].to_numpy(bool)
        r = {"label": ARM_LABELS[arm], "n": len(d), "regret": ci(d["regret"].to_numpy()),
             "hit": ci(d["hit"].to_numpy()), "regret_sim": ci(d["regret_sim"].to_numpy()),
             "olaparib_if_lof": bootstrap_mean(d.loc[tl, "olaparib"].to_numpy(), a.n_boot, rng),
             "olaparib_if_not_lof": bootstrap_mean(d.loc[~tl, "olaparib"].to_numpy(), a.n_boot, rng)}
        if arm != "B" and "B" in per:
            r["regret_minus_B"] = ci(d["regret"].to_numpy() - per["B"]["regret"].to_numpy())
            r["hit_minus_B"] = ci(d["hit"].to_numpy() - per["B"]["hit"].to_numpy())
            r["choices_differing_from_B"] = int((chosen[arm].reindex(pids) != chosen["B"].reindex(pids)).sum())
        by_cancer = {}
        for code, sub in d.groupby("cancer_type"):
            by_cancer[code] = {"n": len(sub), "regret": float(sub["regret"].mean()), "hit": float(sub["hit"].mean()),
                               "olaparib": float(sub["olaparib"].mean())}
        r["by_cancer"] = by_cancer
        by_class = {}
        for cls, sub in d.groupby(klass.reindex(d.index).to_numpy()):
            i = np.flatnonzero(d.index.isin(sub.index))
            bsel = np.random.default_rng(1).integers(0, len(i), size=(a.n_boot, len(i)))
            cell = {"n": len(i), "truly_lof": int(sub["truth_lof"].sum()), "olaparib": float(sub["olaparib"].mean())}
            for col in ("regret", "hit"):
                x = d[col].to_numpy(float)[i]
                m = x[bsel].mean(axis=1)
                cell[col] = [float(x.mean()), float(np.quantile(m, 0.025)), float(np.quantile(m, 0.975))]
                if arm != "B" and "B" in per:
                    dx = x - per["B"][col].to_numpy(float)[i]
                    md = dx[bsel].mean(axis=1)
                    cell[f"{col}_minus_B"] = [float(dx.mean()), float(np.quantile(md, 0.025)),
                                              float(np.quantile(md, 0.975))]
            by_class[cls] = cell
        r["by_variant_class"] = by_class
        results[arm] = r
    timings["total_s"] = time.perf_counter() - t0
    res = {
        "command": "python benchmarks/eval_vus_parp.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "cohort": {"n": a.n, "seed": a.seed, "vus_rate": a.vus_rate, "cancer_mix": MIX,
                   "evaluated": len(pids), "truly_lof": int(truth_lof.sum()),
                   "by_cancer": {c: int(v) for c, v in cancer.reindex(pids).value_counts().items()}},
        "lm_model": evid.attrs.get("lm_model"),
        "bundle": sorted(set(pd.read_parquet(work / "scores_A.parquet", columns=["model_bundle_id"])["model_bundle_id"]
                             .dropna())) if (work / "scores_A.parquet").is_file() else None,
        "variant_level": variant_level,
        "variants_called_damaging": {arm: {"called": len(vs), "truly_lof": int(evid.loc[evid.variant.isin(vs),
                                                                                        "hidden_lof"].sum())}
                                     for arm, vs in called.items()},
        "variant_table": {"n": len(evid), "truly_lof": int(evid["hidden_lof"].sum()),
                          "by_consequence": {f"{c} {'LoF' if l else 'not LoF'}": int(n) for (c, l), n in
                                             evid.groupby(["consequence", "hidden_lof"]).size().items()},
                          "product_class": ({f"{c} {'LoF' if l else 'not LoF'}": int(n) for (c, l), n in
                                             evid.groupby(["product_class", "hidden_lof"]).size().items()}
                                            if "product_class" in evid else "unavailable")},
        "product_rule": evid.attrs.get("product_rule"),
        "lm_part": {"max_abs_lm_contribution": float(evid["lm_contribution"].abs().max()),
                    "max_abs_probability_change": float((evid["p_combined"] - evid["p_no_lm"]).abs().max()),
                    "lm_assessed": int(evid["lm_assessed"].sum())},
        "arms": results,
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "score_stage_seconds": stage_s,
        "n_boot": a.n_boot,
    }
    print(render(res))
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1) + "\n")
    return 0


def _ci(v) -> str:
    return f"{v[0]:.3f} ({v[1]:.3f}-{v[2]:.3f})"


def render(res: dict) -> str:
    c = res["cohort"]
    lines = [(f"## VUS carriers: {c['evaluated']} evaluated ({c['truly_lof']} truly loss of function), "
              f"{', '.join(f'{k} {v}' for k, v in c['by_cancer'].items())}"), "",
             ("| arm | regret (95% CI) | hit rate (95% CI) | regret - B (95% CI) | hit - B (95% CI) | choices != B | "
              "olaparib if LoF | olaparib if not LoF |"), "|---|---|---|---|---|---:|---:|---:|"]
    for r in res["arms"].values():
        lines.append(f"| {r['label']} | {_ci(r['regret'])} | {_ci(r['hit'])} | "
                     f"{_ci(r['regret_minus_B']) if 'regret_minus_B' in r else '-'} | "
                     f"{_ci(r['hit_minus_B']) if 'hit_minus_B' in r else '-'} | {r.get('choices_differing_from_B', '-')} | "
                     f"{r['olaparib_if_lof'][0]:.2f} | {r['olaparib_if_not_lof'][0]:.2f} |")
    classes = sorted({k for r in res["arms"].values() for k in r.get("by_variant_class", {})})
    lines += ["", "## By the product's own class of the VUS (regret; difference to B, 95% CI; share given olaparib)", "",
              "| arm | " + " | ".join(f"{k} (n={res['arms']['A']['by_variant_class'][k]['n']}, "
                                     f"{res['arms']['A']['by_variant_class'][k]['truly_lof']} LoF)"
                                     for k in classes) + " |",
              "|---|" + "---|" * len(classes)]
    for r in res["arms"].values():
        cells = []
        for k in classes:
            c_ = r["by_variant_class"].get(k)
            if c_ is None:
                cells.append("-")
                continue
            diff = f"; {_ci(c_['regret_minus_B'])}" if "regret_minus_B" in c_ else ""
            cells.append(f"{c_['regret'][0]:.3f}{diff}; olaparib {c_['olaparib']:.2f}")
        lines.append(f"| {r['label']} | " + " | ".join(cells) + " |")
    lines += ["", "## Variant level (distinct VUS of the table vs hidden ENIGMA class; AUROC, 95% bootstrap CI)", "",
              "| score | all | missense only |", "|---|---|---|"]
    for name, v in res["variant_level"].items():
        f = lambda d: f"{d['auroc']:.3f} ({d['ci_low']:.3f}-{d['ci_high']:.3f}), n={d['n_positive']}+{d['n_negative']}"
        lines.append(f"| {name} | {f(v['all'])} | {f(v['missense'])} |")
    lp = res["lm_part"]
    lines += ["", f"Model bundle: {res.get('bundle')}; DNA LM: {res.get('lm_model')}; product rule: {res.get('product_rule')}"]
    lines += ["", (f"LM part of the combined score: largest |contribution| {lp['max_abs_lm_contribution']:.3g} "
                   f"log-odds, largest probability change {lp['max_abs_probability_change']:.3g} "
                   f"({lp['lm_assessed']} VUS with an LLR)"),
              f"Called damaging: {res['variants_called_damaging']}", f"Timings (s): {res['timings_s']}"]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
