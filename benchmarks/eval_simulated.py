"""Evaluate the recommender on the simulated cohort, with and without genomic features.

Split: train on the default cohort (2,000 simulated patients, seed 0, real 1000 Genomes haplotypes,
``cohorts.default_cohort``); evaluate on a fresh cohort simulated with another seed (default 1,000
patients, seed 1, same generator). The training run holds out its own 20 % internally for early
stopping/metrics; the numbers below are all on the fresh test cohort.

Three bundles: all feature groups ("full"), without genomic groups (pgx, biomarker, dnalm:
"no genomics"), and without the germline groups only (pgx, dnalm: "no germline"; tumour biomarkers kept). Bootstrap ensembles are switched off (n_bootstrap=0): intervals are not evaluated.

Run: ``.venv/bin/python benchmarks/eval_simulated.py [--test-n 1000] [--test-seed 1] [--workdir DIR]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def _f(v, nd=3):
    return "-" if v is None else f"{v:.{nd}f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--test-n", type=int, default=1000)
    ap.add_argument("--test-seed", type=int, default=1)
    ap.add_argument("--workdir", help="where cohorts and bundles go (default: a temporary folder)")
    ap.add_argument("--json", help="also write both reports to this JSON file")
    args = ap.parse_args()

    from cohorts.default_cohort import DEFAULT_N, DEFAULT_SEED, ensure_default_cohort
    from cohorts.evaluate import evaluate_bundle
    from cohorts.germline import RealGenotypeSource
    from cohorts.simulate import simulate_cohort
    from cohorts.train import GENOMIC_GROUPS, train_cohort
    from recommender.models.training import TrainingConfig

    work = Path(args.workdir or tempfile.mkdtemp(prefix="eval_simulated_"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    ensure_default_cohort(work / "train_cohort")
    test_dir = work / f"test_cohort_n{args.test_n}_seed{args.test_seed}"
    if not test_dir.exists():
        simulate_cohort(args.test_n, args.test_seed, germline=RealGenotypeSource()).write(test_dir)
    t_sim = time.perf_counter() - t0
    cfg = TrainingConfig(n_bootstrap=0, n_bootstrap_toxicity=0)
    reports, timings = {}, {}
    for label, excl in (("full", ()), ("no DNA LM", ("dnalm",)), ("no genomics", GENOMIC_GROUPS),
                        ("no germline", ("pgx", "dnalm"))):
        t = time.perf_counter()
        bdir = work / ("bundle_" + label.replace(" ", "_"))
        train_cohort(work / "train_cohort", bdir, exclude_groups=excl, config=cfg, overwrite=True)
        t_train = time.perf_counter() - t
        t = time.perf_counter()
        reports[label] = evaluate_bundle(test_dir, bdir).to_dict()
        timings[label] = (t_train, time.perf_counter() - t)

    print(f"train: default cohort, {DEFAULT_N} patients, seed {DEFAULT_SEED}, real genotypes; "
          f"test: {args.test_n} patients, seed {args.test_seed}, real genotypes; simulate {t_sim:.0f} s")
    for label, (a, b) in timings.items():
        print(f"  {label}: train {a:.0f} s, evaluate {b:.0f} s")
    print()
    print("| metric | " + " | ".join(reports) + " |")
    print("| --- |" + " --- |" * len(reports))

    def row(name, getter, nd=3):
        vals = []
        for rep in reports.values():
            try:
                vals.append(_f(getter(rep), nd))
            except (KeyError, TypeError):
                vals.append("-")
        print(f"| {name} | " + " | ".join(vals) + " |")

    o = lambda r: r["overall"]
    row("response AUROC", lambda r: o(r)["response"]["auroc"])
    row("response Brier", lambda r: o(r)["response"]["brier"])
    row("response Brier (prevalence only)", lambda r: o(r)["response"]["brier_prevalence"])
    row("response ECE (10 bins)", lambda r: o(r)["response"]["ece"])
    terms = sorted(set().union(*(o(r)["toxicity"] for r in reports.values())))
    for term in terms:
        row(f"severe {term}: AUROC", lambda r, t=term: o(r)["toxicity"][t]["auroc"])
        row(f"severe {term}: Brier", lambda r, t=term: o(r)["toxicity"][t]["brier"])
        row(f"severe {term}: ECE", lambda r, t=term: o(r)["toxicity"][t]["ece"])
    for ep in ("pfs", "os"):
        row(f"{ep.upper()} Harrell's C", lambda r, e=ep: o(r)[e]["harrell_c"])
        row(f"{ep.upper()} integrated Brier", lambda r, e=ep: o(r)[e]["integrated_brier_score"])
    d = lambda r: o(r)["decision"]
    row("regret, utility (years)", lambda r: d(r)["regret"])
    row("best option chosen", lambda r: d(r)["best_chosen_rate"])
    row("regret, response probability", lambda r: d(r)["regret_response"])
    row("best-response option chosen", lambda r: d(r)["best_response_chosen_rate"])
    row("Spearman (pred vs true utility, per patient)", lambda r: d(r)["spearman_utility"])
    row("Spearman (pred vs true response, per patient)", lambda r: d(r)["spearman_response"])
    row("constant recommender: regret", lambda r: d(r)["constant_regret"])
    row("constant recommender: best chosen", lambda r: d(r)["constant_best_chosen_rate"])
    row("random recommender: regret", lambda r: d(r)["random_regret"])
    row("random recommender: best chosen", lambda r: d(r)["random_best_chosen_rate"])

    for attr, title in (("by_population", "super-population"), ("by_sex", "sex")):
        print()
        print(f"| {title} | n | resp AUROC full / no-gen | PFS C full / no-gen | regret full / no-gen | "
              f"best chosen full / no-gen | constant regret |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        full, nog = reports["full"][attr], reports["no genomics"][attr]
        for g in full:
            a, b = full[g], nog.get(g, {})

            def pair(get, a=a, b=b):
                out = []
                for x in (a, b):
                    try:
                        out.append(_f(get(x)))
                    except (KeyError, TypeError):
                        out.append("-")
                return " / ".join(out)
            print(f"| {g} | {a['n']} | {pair(lambda x: x['response']['auroc'])} | "
                  f"{pair(lambda x: x['pfs']['harrell_c'])} | {pair(lambda x: x['decision']['regret'])} | "
                  f"{pair(lambda x: x['decision']['best_chosen_rate'])} | {_f(a['decision']['constant_regret'])} |")
    notes = sorted({n for r in reports.values() for n in r["notes"]})
    if notes:
        print()
        for n in notes:
            print(f"note: {n}")
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
