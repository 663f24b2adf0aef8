"""Evaluate the ranking users see on the simulator's oracle: regret, best-option hit rate, learned vs true effects.

What is measured (one run, one fresh test cohort)
------------------------------------------------
* **Cohorts**: ``--test-n`` patients (default 5,000) simulated with ``--test-seed`` (default 101) and a second,
  ``--score-n`` patients (default 1,000; seed ``--score-seed`` 102) ranked by ``recommender cohort score`` (the
  full user path: PGx called from the cohort VCF, the guidance overlay; about 1-2 patients per second on the
  shared machine, hence the smaller cohort). Neither seed is used for training (the default bundle is trained
  on seed 0); real 1000 Genomes haplotypes, treatment by indication; ``truth/oracle`` is never training data.
* **Policies** (each picks one option per patient):
  (a) on the score cohort: ``default bundle: ranking users see`` -- rank 1 of ``cohort score`` with the shipped
  default bundle (:func:`recommender.rank.rank_options`: model utility, PGx/resistance guidance tier, biomarker
  eligibility); ``default bundle: model order`` -- its ``model_rank`` 1 (no overlay: where the two differ,
  overlay and model disagree, tabulated);
  (b) on the test cohort, every bundle's *model order* by the same utility formula from its predictions on the
  training feature path: the default bundle, ``genomics-blind`` (same pipeline and cohort without the ``pgx``,
  ``biomarker`` and ``dnalm`` feature groups) and ``S-learner`` (unless ``--skip-slearner``: the previous
  pipeline, ``TrainingConfig(learner="slearner")``, xgboost on the pooled table, no survival model selection);
  ``T-learner`` (unless ``--skip-tlearner``: :func:`tlearner_predictions`, separate ridge response / Cox / toxicity
  models per received regimen on the patient-level features, same inverse-propensity weights; its propensity
  model's overlap check is printed);
  in both: ``constant`` (per cancer type the regimen given most often in the training cohort) and ``random``
  (expectation over a uniform choice among the candidates). ``--score-all`` also ranks the comparison bundles
  through ``cohort score``.
* **Regret** = oracle utility of the oracle-best candidate - oracle utility of the chosen one, where the
  oracle utility is the ranking's own formula (:func:`recommender.rank.utility_value`: P(response) +
  S_PFS(365 d) - 0.5 x sum of P(severe toxicity) over CTCAE terms) evaluated on the simulator's true values.
  **Hit rate** = share of patients whose chosen option is the oracle-best. Both per cancer type with a 95 %
  percentile bootstrap interval over patients (``--bootstrap`` resamples). The simulator's own utility
  (expected PFS in years - 0.25 x P(any severe toxicity)) is reported as a second regret.
* **Per-effect table** (:mod:`cohorts.sim_effects`): for every biomarker x regimen effect (response log-odds,
  PFS log hazard ratio) and pharmacogene x toxicity effect (log risk ratio) the simulator encodes, the default
  bundle's learned effect vs the true one on the test cohort's patients, with "sign right" and "within half
  of the true size"; and, per learner (default bundle, genomics-blind, S-learner, T-learner), how many effects
  each recovers (sign right / within half, by outcome).
* **(c) Effects as users see them** (``--effects-through-score``, default ``both``): the test cohort scored by
  ``recommender cohort score`` (console entry point) with the default options and with
  ``--cyp2d6-without-copy-number``; the per-effect table recomputed from the score files
  (:func:`cohorts.sim_effects.score_predictions`) and every effect outside the bar listed next to its model-order
  value.
* **Cached cohorts** are stamped with :func:`simulator_fingerprint` (simulator, genotype panel and PGx caller
  sources) and re-simulated when the code changed; score files carry the fingerprint in their names.

Run: ``.venv/bin/python benchmarks/eval_simulated.py [--test-n 5000] [--score-n 1000] [--workdir DIR]``
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HORIZON = 365.0


#: Paired bootstrap resamples behind each effect row's interval of learned - true.
EFFECT_BOOTSTRAP = 200


def _diff(e) -> str:
    """``learned - true (lo to hi)`` of an effect row, or ``-``."""
    if e.true is None or e.learned is None or not np.isfinite(e.learned):
        return "-"
    ci = f" ({e.difference_ci[0]:+.2f} to {e.difference_ci[1]:+.2f})" if e.difference_ci else ""
    return f"{e.learned - e.true:+.2f}{ci}"


def _f(v, nd=3):
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.{nd}f}"


def oracle_utilities(oracle: pd.DataFrame) -> pd.DataFrame:
    """Per patient x regimen: the ranking formula on true values (``u_rank``) and the simulator's utility."""
    from cohorts.simulate_model import WEIBULL_SHAPE
    from recommender.rank import utility_value

    tox_cols = [c for c in oracle.columns if c.startswith("p_severe:")]
    s365 = np.exp(-math.log(2) * (HORIZON / oracle["median_pfs_days"].to_numpy(float)) ** WEIBULL_SHAPE)
    out = oracle[["patient_id", "regimen"]].copy()
    out["u_rank"] = utility_value(oracle["p_response"].to_numpy(float), s365,
                                  oracle[tox_cols].fillna(0.0).sum(axis=1).to_numpy(float))
    out["u_sim"] = oracle["utility"].to_numpy(float)
    return out


def policy_outcomes(util: pd.DataFrame, choice: pd.Series, cancer: pd.Series) -> pd.DataFrame:
    """Per patient: regret (ranking formula and simulator utility) and hit for the chosen regimen."""
    best_rank = util.groupby("patient_id")["u_rank"].max()
    best_sim = util.groupby("patient_id")["u_sim"].max()
    key = util.set_index(["patient_id", "regimen"])
    pids = [p for p in choice.index if p in best_rank.index]
    got = key.reindex(list(zip(pids, choice.loc[pids])))
    ur, us = got["u_rank"].to_numpy(), got["u_sim"].to_numpy()
    return pd.DataFrame({"cancer_type": cancer.reindex(pids).to_numpy(),
                         "regret": best_rank.reindex(pids).to_numpy() - ur,
                         "hit": np.isclose(ur, best_rank.reindex(pids).to_numpy()).astype(float),
                         "regret_sim": best_sim.reindex(pids).to_numpy() - us}, index=pids)


def random_outcomes(util: pd.DataFrame, cancer: pd.Series) -> pd.DataFrame:
    g = util.groupby("patient_id")
    best, best_s = g["u_rank"].transform("max"), g["u_sim"].transform("max")
    tmp = util.assign(reg=best - util["u_rank"], hit=np.isclose(util["u_rank"], best).astype(float),
                      regs=best_s - util["u_sim"])
    m = tmp.groupby("patient_id")[["reg", "hit", "regs"]].mean()
    return pd.DataFrame({"cancer_type": cancer.reindex(m.index).to_numpy(), "regret": m["reg"].to_numpy(),
                         "hit": m["hit"].to_numpy(), "regret_sim": m["regs"].to_numpy()}, index=m.index)


def bootstrap_mean(x: np.ndarray, n_boot: int, rng: np.random.Generator) -> tuple[float, float, float]:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return float("nan"), float("nan"), float("nan")
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    means = x[idx].mean(axis=1)
    return float(x.mean()), float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def tlearner_predictions(ex, weights: np.ndarray, patient_cols: list[str], X: pd.DataFrame, keys: pd.DataFrame,
                         min_rows: int = 30) -> tuple[pd.DataFrame, dict]:
    """T-learner: separate outcome models per received regimen on the patient-level features only.

    For every regimen with at least ``min_rows`` training rows: a ridge logistic response model
    (:class:`~recommender.models.effects.InteractionLogit`; no treatment column, so no interaction), a ridge Cox
    PFS model (:class:`~recommender.models.effects.InteractionCox`) and ridge logistic toxicity models
    (:class:`~recommender.models.effects.InteractionToxicity`, terms with >= 5 severe events in that regimen; other
    terms of the regimen: the weighted rate), each fitted on that regimen's rows with the same inverse-propensity
    weights as the default bundle. A regimen with fewer rows predicts its weighted rates. Returns the
    predictions in the layout of :func:`cohorts.sim_effects.model_predictions` and a fit summary.
    """
    from recommender.models.effects import InteractionCox, InteractionLogit, InteractionToxicity

    out = keys.copy()
    out["p_response"] = np.nan
    out["pfs_s365"] = np.nan
    Xp, Xt = ex.X.reset_index(drop=True)[patient_cols], X[patient_cols]
    tox_terms = list(ex.toxicity.columns)
    tox = {t: np.zeros(len(out)) for t in tox_terms}
    summary: dict = {}
    for reg in sorted(set(keys["regimen"])):
        rows = np.flatnonzero(ex.regimen == reg)
        cand = np.flatnonzero((keys["regimen"] == reg).to_numpy())
        w = weights[rows]
        if not len(cand):
            continue
        info = {"training_rows": len(rows)}
        y = ex.response[rows]
        ok = ~np.isnan(y)
        if len(rows) >= min_rows and len(np.unique(y[ok])) == 2:
            m = InteractionLogit(random_state=0).fit(Xp.iloc[rows[ok]], y[ok], sample_weight=w[ok])
            out.loc[out.index[cand], "p_response"] = m.predict_proba(Xt.iloc[cand])[:, 1]
        elif ok.any():
            out.loc[out.index[cand], "p_response"] = float(np.average(y[ok], weights=w[ok]))
        t, e = ex.time["pfs"][rows], ex.event["pfs"][rows]
        okt = ~np.isnan(t)
        if len(rows) >= min_rows and e[okt].sum() >= 10:
            c = InteractionCox(random_state=0).fit(Xp.iloc[rows[okt]], t[okt], e[okt], sample_weight=w[okt])
            out.loc[out.index[cand], "pfs_s365"] = c.predict_survival(Xt.iloc[cand], times=[365.0]).to_numpy()[:, 0]
        elif okt.any():  # weighted Kaplan-Meier at the horizon
            from lifelines import KaplanMeierFitter

            km = KaplanMeierFitter().fit(t[okt], e[okt], weights=w[okt])
            out.loc[out.index[cand], "pfs_s365"] = float(km.predict(HORIZON))
        if len(tox_terms) and len(rows):
            Y = ex.toxicity.iloc[rows].reset_index(drop=True)
            rate = {tt: float(np.average(Y[tt].to_numpy(float), weights=w)) for tt in tox_terms}
            fitted = {}
            if len(rows) >= min_rows:
                tm = InteractionToxicity(min_events=5, random_state=0).fit(Xp.iloc[rows], Y, sample_weight=w)
                fitted = tm.predict_proba(Xt.iloc[cand]) if tm.terms_ else {}
                info["toxicity_terms_modelled"] = len(tm.terms_)
            for tt in tox_terms:
                if rate[tt] <= 0:
                    continue
                tox[tt][cand] = fitted[tt].to_numpy() if tt in getattr(fitted, "columns", ()) else rate[tt]
        summary[reg] = info
    for tt in tox_terms:
        out[f"p_severe:{tt}"] = tox[tt]
    return out, summary


def _rank1(parquet: Path, column: str = "rank") -> pd.Series:
    df = pd.read_parquet(parquet, columns=["patient_id", "regimen", "rank", "model_rank"])
    df = df[df[column] == 1]
    return df.drop_duplicates("patient_id").set_index("patient_id")["regimen"]


def cohort_score_cli(argv: list[str]) -> dict:
    """Run ``recommender <argv>`` (``cohort score ... --json``) through the console entry point (in process, its
    printed summary captured); the summary."""
    from product_cli import run_cli_json

    return run_cli_json(argv)


#: Source files whose change changes a simulated cohort (simulator, genotype panel, PGx caller and its tables).
_SIMULATOR_SOURCES = ("cohorts/simulate.py", "cohorts/simulate_model.py", "cohorts/germline.py",
                      "cohorts/germline_panel.py", "cohorts/brca_vus.py", "genomics/pgx")
_STAMP = ".simulator-fingerprint"


@functools.lru_cache(maxsize=1)
def simulator_fingerprint() -> str:
    """sha256 over the simulator's and the PGx caller's source and data files: a cached test cohort made by other
    code is stale (a cohort simulated before the CYP2D6 SNV/indel call was used carried prior-drawn CYP2D6)."""
    import hashlib

    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for rel in _SIMULATOR_SOURCES:
        path = root / rel
        files = sorted(f for f in path.rglob("*") if f.is_file() and "__pycache__" not in f.parts) if path.is_dir() \
            else [path]
        for f in files:
            h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def ensure_simulated(directory: Path, n: int, seed: int) -> Path:
    """``directory`` holding ``n`` patients of ``seed`` simulated by this code (re-simulated when its stamp is
    missing or names other simulator code)."""
    import shutil

    from cohorts.germline import RealGenotypeSource
    from cohorts.simulate import simulate_cohort

    fp = simulator_fingerprint()
    stamp = directory / _STAMP
    if directory.exists() and stamp.exists() and stamp.read_text().strip() == fp:
        return directory
    if directory.exists():
        print(f"re-simulating {directory.name}: made by other simulator code (stamp missing or different)", flush=True)
        shutil.rmtree(directory)
    simulate_cohort(n, seed, germline=RealGenotypeSource()).write(directory)
    stamp.write_text(fp + "\n")
    return directory


def _effect_counts(effects: list) -> tuple[int, int, int, str]:
    """``(sign right, within half, n, table cells)`` over the effects with a verdict: overall and by outcome."""
    sc = [e for e in effects if e.sign_ok is not None]
    parts = []
    for kind in ("response", "pfs", "toxicity"):
        k = [e for e in sc if e.outcome == kind]
        parts.append(f"{sum(e.sign_ok for e in k)} / {sum(bool(e.within_half) for e in k)} / {len(k)}")
    sign, half = sum(e.sign_ok for e in sc), sum(bool(e.within_half) for e in sc)
    return sign, half, len(sc), f"{sign}/{len(sc)} | {half}/{len(sc)} | " + " | ".join(parts)


def _print_effect_header(first: str) -> None:
    """Header of an effect-count table (rows from :func:`_effect_counts`)."""
    print(f"| {first} | sign right | within half | response (sign / half / n) | PFS (sign / half / n) | "
          "toxicity (sign / half / n) |")
    print("| --- | --- | --- | --- | --- | --- |")


def _bundle_id(bundle_dir: Path) -> str:
    """The bundle id in ``bundle_dir``'s manifest (score files are cached per bundle)."""
    return json.loads((Path(bundle_dir) / "MANIFEST.json").read_text())["bundle_id"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--test-n", type=int, default=5000)
    ap.add_argument("--test-seed", type=int, default=101)
    ap.add_argument("--workdir", help="where cohorts, bundles and score files go (default: a temporary folder)")
    ap.add_argument("--bundle", help="bundle to evaluate (default: the shipped default bundle)")
    ap.add_argument("--score-n", type=int, default=1000, help="patients of the cohort ranked by `cohort score`")
    ap.add_argument("--score-seed", type=int, default=102)
    ap.add_argument("--score-all", action="store_true", help="also rank the comparison bundles by `cohort score`")
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--skip-slearner", action="store_true", help="do not train and score the S-learner comparison")
    ap.add_argument("--skip-tlearner", action="store_true", help="do not fit and score the T-learner comparison")
    ap.add_argument("--effects-through-score", choices=("both", "default", "none"), default="both",
                    help="also measure the learned effects on the `cohort score` output of the test cohort: with the "
                         "default options ('default'), and also with --cyp2d6-without-copy-number ('both', default)")
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args()

    from cohorts.default_cohort import ensure_default_cohort, training_cohort_spec
    from cohorts.sim_effects import (
        candidate_frame,
        effect_table,
        model_predictions,
        score_predictions,
        true_features,
    )
    from cohorts.simulate_model import CANDIDATES
    from cohorts.storage import load_cohort
    from cohorts.train import GENOMIC_GROUPS, train_cohort
    from recommender.models.bundle import ModelBundle
    from recommender.models.defaults import DEFAULT_BUNDLE_DIR, default_training_config
    from recommender.models.training import TrainingConfig

    work = Path(args.workdir or tempfile.mkdtemp(prefix="eval_simulated_"))
    work.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    n_train, seed_train, trial_train = training_cohort_spec()
    train_dir = work / (f"train_cohort_n{n_train}_seed{seed_train}" + (f"_trial{trial_train:g}" if trial_train else ""))
    ensure_default_cohort(train_dir, n=n_train, seed=seed_train, trial_share=trial_train)
    test_dir = ensure_simulated(work / f"test_cohort_n{args.test_n}_seed{args.test_seed}", args.test_n, args.test_seed)
    timings["simulate"] = time.perf_counter() - t0
    test = load_cohort(test_dir, validate=False)
    tables = {n: test.table(n) for n in ("patients", "treatments", "outcomes", "tumour_variants")}
    truth = {n: test.truth(n) for n in ("oracle", "germline")}
    train = load_cohort(train_dir, validate=False)
    tr_t = train.table("treatments").merge(train.table("patients")[["patient_id", "cancer_type"]], on="patient_id")
    constant = tr_t.groupby("cancer_type")["regimen"].agg(lambda s: s.value_counts().index[0]).to_dict()

    bundles: dict[str, Path] = {"default bundle": Path(args.bundle) if args.bundle else DEFAULT_BUNDLE_DIR}
    base_cfg = default_training_config(n_bootstrap=0, endpoints=("pfs",))  # the ranking reads PFS only
    t = time.perf_counter()
    # comparison bundles are cached per training cohort (a work directory may hold several)
    bundles["genomics-blind"] = work / f"bundle_genomics_blind_{train_dir.name}"
    if not bundles["genomics-blind"].exists():
        train_cohort(train_dir, bundles["genomics-blind"], exclude_groups=GENOMIC_GROUPS, config=base_cfg)
    if not args.skip_slearner:
        bundles["S-learner"] = work / f"bundle_slearner_{train_dir.name}"
        if not bundles["S-learner"].exists():
            # the previous default pipeline (boosted trees, no survival model selection); the DNA LM group is
            # left out as the default bundle trains without DNA LM pools (its columns are empty there)
            train_cohort(train_dir, bundles["S-learner"], exclude_groups=("dnalm",),
                         config=TrainingConfig(learner="slearner", n_bootstrap=0, n_bootstrap_toxicity=0,
                                               cv_folds=0, endpoints=("pfs",)))
    timings["train comparison bundles"] = time.perf_counter() - t

    cancer = tables["patients"].set_index("patient_id")["cancer_type"]
    util = oracle_utilities(truth["oracle"])
    policies: dict[str, pd.DataFrame] = {}

    # (a) the ranking users see: rank 1 of `cohort score` (overlay included) on the score cohort
    t = time.perf_counter()
    score_dir = ensure_simulated(work / f"score_cohort_n{args.score_n}_seed{args.score_seed}", args.score_n,
                                 args.score_seed)
    sc = load_cohort(score_dir, validate=False)
    s_cancer = sc.table("patients").set_index("patient_id")["cancer_type"]
    s_util = oracle_utilities(sc.truth("oracle"))
    score_policies: dict[str, pd.DataFrame] = {}
    score_files: dict[str, Path] = {}
    scored = {"default bundle": bundles["default bundle"]}
    if args.score_all:
        scored.update({k: v for k, v in bundles.items() if k != "default bundle"})
    for label, bdir in scored.items():
        out = score_files[label] = work / (f"score_{label.replace(' ', '_')}_{_bundle_id(bdir)}_n{args.score_n}"
                                           f"_seed{args.score_seed}_sim{simulator_fingerprint()}.parquet")
        # cached per bundle and simulator code
        if not out.exists():
            # the console entry point users run: `recommender cohort score DIR -o OUT --bundle B`
            cohort_score_cli(["cohort", "score", str(score_dir), "-o", str(out), "--bundle", str(bdir),
                              "--no-progress", "--json", "--workers", str(args.workers)])
        score_policies[f"{label}: ranking users see (cohort score rank 1)"] = policy_outcomes(s_util, _rank1(out), s_cancer)
        score_policies[f"{label}: model order (cohort score model_rank 1, no overlay)"] = policy_outcomes(
            s_util, _rank1(out, "model_rank"), s_cancer)
    score_policies["constant (most given in training)"] = policy_outcomes(s_util, s_cancer.map(constant).dropna(),
                                                                          s_cancer)
    score_policies["random"] = random_outcomes(s_util, s_cancer)
    timings["cohort score"] = time.perf_counter() - t

    # overlay vs model disagreement (default bundle, score cohort)
    out = score_files["default bundle"]
    r1, m1 = _rank1(out), _rank1(out, "model_rank")
    both = r1.index.intersection(m1.index)
    dis = both[(r1.loc[both] != m1.loc[both]).to_numpy()]
    shown = score_policies["default bundle: ranking users see (cohort score rank 1)"]
    model = score_policies["default bundle: model order (cohort score model_rank 1, no overlay)"]
    dis_rows = []
    for code in sorted(set(s_cancer.loc[dis])) if len(dis) else []:
        ids = [p for p in dis if s_cancer[p] == code]
        pairs = pd.Series([f"{m1[p]} -> {r1[p]}" for p in ids]).value_counts()
        dis_rows.append((code, len(ids), int((s_cancer == code).sum()),
                         "; ".join(f"{k} ({v})" for k, v in pairs.head(3).items()),
                         float(model.loc[ids, "regret"].mean()), float(shown.loc[ids, "regret"].mean())))

    # (b) every bundle's model order on the larger test cohort (training feature path, same utility formula)
    t = time.perf_counter()
    from recommender.rank import RankingWeights, utility_value

    effects = []
    learner_effects: dict[str, list] = {}
    overlap: dict = {}
    tlearner_fit: dict = {}
    for label, bdir in bundles.items():
        bundle = ModelBundle.load(bdir)
        X, keys = candidate_frame(tables, bundle.schema)
        preds = model_predictions(bundle, X, keys)
        tox = preds[[c for c in preds.columns if c.startswith("p_severe:")]].fillna(0.0).sum(axis=1)
        preds["u"] = utility_value(preds["p_response"], preds["pfs_s365"], tox, RankingWeights())
        choice = preds.loc[preds.groupby("patient_id")["u"].idxmax()].set_index("patient_id")["regimen"]
        policies[f"{label}: model order"] = policy_outcomes(util, choice, cancer)
        learner_effects[label] = effect_table(preds, truth["oracle"], true_features(tables, truth),
                                              bootstrap=EFFECT_BOOTSTRAP if label == "default bundle" else 0)
        if label == "default bundle":
            effects = learner_effects[label]
    if not args.skip_tlearner:
        # T-learner: per-regimen models on the patient-level features, same training rows, weights and utility
        from recommender.models.counterfactual import PropensityModel
        from recommender.models.training import examples_from_tables

        schema = ModelBundle.load(bundles["default bundle"]).schema
        tr_tables = {n: train.table(n) for n in train.table_names}
        ex = examples_from_tables(tr_tables, schema=schema)
        pcols = list(schema.columns_in(patient_level=True))
        Xtr = ex.X.reset_index(drop=True)[pcols]
        prop = PropensityModel().fit(Xtr, ex.regimen)
        overlap = prop.overlap(Xtr, ex.regimen)
        X, keys = candidate_frame(tables, schema)
        preds, t_summary = tlearner_predictions(ex, prop.weights(Xtr, ex.regimen), pcols, X, keys)
        tox = preds[[c for c in preds.columns if c.startswith("p_severe:")]].fillna(0.0).sum(axis=1)
        preds["u"] = utility_value(preds["p_response"], preds["pfs_s365"], tox, RankingWeights())
        choice = preds.loc[preds.groupby("patient_id")["u"].idxmax()].set_index("patient_id")["regimen"]
        policies["T-learner: model order"] = policy_outcomes(util, choice, cancer)
        learner_effects["T-learner"] = effect_table(preds, truth["oracle"], true_features(tables, truth))
        tlearner_fit = t_summary
    policies["constant (most given in training)"] = policy_outcomes(util, cancer.map(constant).dropna(), cancer)
    policies["random"] = random_outcomes(util, cancer)
    timings["model order + effects"] = time.perf_counter() - t

    # (c) the learned effects as users see them: the `cohort score` output of the test cohort (default bundle)
    t = time.perf_counter()
    cli_effects: dict[str, list] = {}
    if args.effects_through_score != "none":
        from recommender.models.bundle import survival_main

        bdir = bundles["default bundle"]
        pfs_main = survival_main(ModelBundle.load(bdir).survival.get("pfs", {}))
        log_hazard = getattr(pfs_main, "risk_score_", "log_hazard") != "rmst"  # pfs_risk is a log hazard
        runs = {"cohort score (default options)": []}
        if args.effects_through_score == "both":
            runs["cohort score --cyp2d6-without-copy-number"] = ["--cyp2d6-without-copy-number"]
        for label, extra in runs.items():
            out = work / (f"score_test_{_bundle_id(bdir)}_n{args.test_n}_seed{args.test_seed}"
                          f"_sim{simulator_fingerprint()}"
                          + ("_cyp2d6_snv" if extra else "") + ".parquet")
            if not out.exists():
                cohort_score_cli(["cohort", "score", str(test_dir), "-o", str(out), "--bundle", str(bdir),
                                  "--no-progress", "--json", "--workers", str(args.workers), *extra])
            cli_effects[label] = effect_table(score_predictions(pd.read_parquet(out), pfs_log_hazard=log_hazard),
                                              truth["oracle"], true_features(tables, truth), bootstrap=EFFECT_BOOTSTRAP)
    timings["effects through cohort score"] = time.perf_counter() - t

    rng = np.random.default_rng(0)
    print(f"train: {n_train} simulated patients, seed {seed_train}, {trial_train:.0%} randomised (trial component), "
          "real genotypes (the default bundle's cohort); "
          f"test: {args.test_n} patients, seed {args.test_seed}; cohort score: {args.score_n} patients, seed "
          f"{args.score_seed}; real genotypes; bootstrap {args.bootstrap}")
    print("timings (noisy, shared machine): " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    print()
    print("## Regret and best-option hit rate (rank 1 of each policy; 95 % bootstrap intervals)")
    print()
    print("regret = U(oracle-best) - U(chosen), U = P(response) + S_PFS(365 d) - 0.5 x sum P(severe toxicity), "
          "all true values; 'sim regret' uses the simulator's utility (expected PFS years - 0.25 x P(any severe)).")
    results: dict = {"score_policies": {}, "policies": {}, "effects": [e.to_dict() for e in effects],
                     "disagreements": dis_rows}

    def table(title: str, pols: dict[str, pd.DataFrame], cc: pd.Series, key: str) -> None:
        print()
        print(title)
        for code in ["all", *[c for c in CANDIDATES if c in set(cc)]]:
            n = int((cc == code).sum()) if code != "all" else len(cc)
            print()
            print(f"### {code} (n = {n}{', candidates: ' + ', '.join(CANDIDATES[code]) if code != 'all' else ''})")
            print()
            print("| policy | regret (95 % CI) | hit rate (95 % CI) | sim regret, years |")
            print("| --- | --- | --- | --- |")
            for label, df in pols.items():
                d = df if code == "all" else df[df["cancer_type"] == code]
                rg, hr, rs = (bootstrap_mean(d[c].to_numpy(), args.bootstrap, rng) for c in ("regret", "hit", "regret_sim"))
                results[key].setdefault(label, {})[code] = {"regret": rg, "hit": hr, "regret_sim": rs, "n": len(d)}
                print(f"| {label} | {_f(rg[0])} ({_f(rg[1])}-{_f(rg[2])}) | {_f(hr[0])} ({_f(hr[1])}-{_f(hr[2])}) | "
                      f"{_f(rs[0])} |")

    table(f"## (a) The ranking users see: `cohort score` rank 1 ({args.score_n} patients, seed {args.score_seed})",
          score_policies, s_cancer, "score_policies")
    table(f"## (b) Model order of each bundle, same utility formula, no overlay ({args.test_n} patients, "
          f"seed {args.test_seed})", policies, cancer, "policies")
    print()
    print("## Learner comparison: encoded effects recovered (test cohort; counts over effects with >= 3 patients "
          "in each group)")
    print()
    _print_effect_header("learner")
    results["learner_effects"] = {}
    for label, effs in learner_effects.items():
        sign, half, n, row = _effect_counts(effs)
        results["learner_effects"][label] = {"sign_right": sign, "within_half": half, "n": n}
        print(f"| {label} | {row} |")
    if overlap:
        print()
        print("Overlap (T-learner's propensity model on the training cohort): share of each regimen's recipients with "
              "P(received | patient) < 0.05 -- " + ", ".join(f"{k} {v['share_below']:.0%}" for k, v in
                                                             sorted(overlap.items())))
        results["overlap"] = overlap
        results["tlearner_fit"] = tlearner_fit
    print()
    print("## Where the guidance overlay changes the model's first choice (default bundle)")
    print()
    print("| cancer type | patients changed | of | model first -> shown first (most common) | regret if model order | "
          "regret as shown |")
    print("| --- | --- | --- | --- | --- | --- |")
    for code, k, n, pairs, rm, rs in dis_rows:
        print(f"| {code} | {k} | {n} | {pairs} | {_f(rm)} | {_f(rs)} |")
    if not dis_rows:
        print("| (none) | 0 | | | | |")
    print()
    print("## Learned vs true effects (default bundle, test cohort)")
    print()
    print("response: log-odds contrast vs the reference regimen; PFS: log hazard ratio vs the reference; "
          "toxicity: log risk ratio carriers vs non-carriers (cohorts/sim_effects.py).")
    print()
    print(f"learned - true: the difference with a 95 % paired bootstrap interval ({EFFECT_BOOTSTRAP} resamples of the "
          "same patients, carriers and non-carriers resampled separately): how large a gap the finite number of "
          "patients alone can make. 'within half' is judged on the point values.")
    print()
    print("| outcome | regimen | effect | cancer | term | n with / without | true | learned | learned - true (95 % CI) "
          "| sign right | within half |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    yes = lambda v: "-" if v is None else ("yes" if v else "**no**")  # noqa: E731
    for e in effects:
        print(f"| {e.outcome} | {e.regimen} | {e.label} | {e.cancer_types} | {e.term or '-'} | {e.n_with} / "
              f"{e.n_without} | {_f(e.true, 2)} | {_f(e.learned, 2)} | {_diff(e)} | {yes(e.sign_ok)} | "
              f"{yes(e.within_half)} |")
    scored = [e for e in effects if e.sign_ok is not None]
    print()
    print(f"sign right: {sum(e.sign_ok for e in scored)}/{len(scored)}; within half of the true size: "
          f"{sum(bool(e.within_half) for e in scored)}/{len(scored)} (effects with >= 3 patients in each group)")
    if cli_effects:
        print()
        print(f"## (c) Learned vs true effects as users see them: `recommender cohort score` of the test cohort "
              f"({args.test_n} patients, seed {args.test_seed}; PGx called from its VCF; default bundle)")
        print()
        print("Same effects and patients as above, the learned values read from the score file's p_response, "
              "pfs_risk (log hazard) and toxicity columns (cohorts.sim_effects.score_predictions).")
        print()
        _print_effect_header("scoring")
        results["effects_cohort_score"] = {}
        for label, effs in cli_effects.items():
            results["effects_cohort_score"][label] = [e.to_dict() for e in effs]
            print(f"| {label} | {_effect_counts(effs)[3]} |")
        print()
        print("Effects outside half of the true size (or of the wrong sign) through `cohort score`:")
        print()
        print("| scoring | outcome | regimen | effect | cancer | term | n with / without | true | learned | "
              "learned - true (95 % CI) | model order |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        model_order = {(e.outcome, e.regimen, e.feature, e.cancer_types, e.term): e.learned for e in effects}
        for label, effs in cli_effects.items():
            for e in effs:
                if e.sign_ok is not None and not (e.sign_ok and e.within_half):
                    mo = model_order.get((e.outcome, e.regimen, e.feature, e.cancer_types, e.term))
                    print(f"| {label} | {e.outcome} | {e.regimen} | {e.label} | {e.cancer_types} | {e.term or '-'} | "
                          f"{e.n_with} / {e.n_without} | {_f(e.true, 2)} | {_f(e.learned, 2)} | {_diff(e)} | "
                          f"{_f(mo, 2)} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
