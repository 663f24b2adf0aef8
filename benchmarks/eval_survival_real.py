"""Survival models on real data through the path users run: ``cohort import`` -> ``cohort train`` -> ``cohort evaluate``.

For each protocol the three commands run through the console entry point (``recommender.cli.main`` in this
process, :mod:`product_cli`): ``recommender cohort import --from SOURCE PATH -o COHORT``, then ``recommender cohort
train COHORT -o BUNDLE --no-bootstrap --survival-candidates boosted,boosted_shallow,cox,blend,forest,aft,neural,stack``
(every declared covariate, the cohort's split column's training rows, survival model chosen by 5-fold
cross-validation on them among the default candidates plus the opt-in DeepSurv-style ``neural``, refit on all of
them), then ``recommender cohort evaluate COHORT --bundle BUNDLE --bootstrap N`` (test rows only, Harrell's C,
Antolini C^td, IBS and calibration with bootstrap intervals).
In the same run, on the same split, two baselines nobody here wrote are fitted on the cohort's columns and scored
with the same metric code: lifelines ``CoxPHFitter(penalizer=0.01)`` and scikit-survival
``RandomSurvivalForest(100 trees, min_samples_leaf=15)``.

Usage::

    .venv/bin/python benchmarks/eval_survival_real.py                      # all protocols (~10 min on 2 busy cores)
    .venv/bin/python benchmarks/eval_survival_real.py --only gbsg --bootstrap 50
    .venv/bin/python benchmarks/eval_survival_real.py --json results.json

``--data`` is the folder holding the DeepSurv ``*_train_test.h5`` files and ``--metabric`` the cBioPortal METABRIC
folder (defaults under ``$RECOMMENDER_SHARED_DATA`` or ``../shared/data/cohorts``). Cohorts and bundles are written
under ``--workdir`` (default: a temporary folder, removed at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np


@dataclass(frozen=True)
class Protocol:
    key: str
    title: str
    source: str  # "deepsurv" | "metabric"
    dataset: str | None
    split_column: str
    endpoint: str
    target: tuple[str, float, str] | None  # (metric, bound, "ge"/"le")
    extra_target: tuple[str, float, str] | None = None


PROTOCOLS = {
    "gbsg": Protocol("gbsg", "Rotterdam -> GBSG (DeepSurv split: train Rotterdam, test GBSG)", "deepsurv", "gbsg",
                     "split", "pfs", ("harrell_c", 0.69, "ge")),
    "metabric": Protocol("metabric", "METABRIC, DeepSurv split (as stored)", "deepsurv", "metabric", "split", "os",
                         ("harrell_c", 0.66, "ge")),
    "metabric_pycox": Protocol("metabric_pycox", "METABRIC, pycox examples' split (seed 1234, 20% test)", "deepsurv",
                               "metabric", "pycox_split", "os", ("antolini_c_td", 0.68, "ge"),
                               ("integrated_brier_score", 0.158, "le")),
    "support": Protocol("support", "SUPPORT, DeepSurv split (as stored)", "deepsurv", "support", "split", "os",
                        ("harrell_c", 0.625, "ge")),
    "metabric_cbioportal": Protocol("metabric_cbioportal", "METABRIC from cBioPortal (clinical + 173-gene mutations + "
                                    "treatments; the source author's random split)", "metabric", None, "split", "os",
                                    None),
}
METRICS = ("harrell_c", "antolini_c_td", "integrated_brier_score", "calibration_error")


def _v(pkg: str) -> str:
    try:
        return version(pkg)
    except PackageNotFoundError:
        return "not installed"


def _fmt(m: dict[str, Any], key: str) -> str:
    v = m.get(key)
    if v is None:
        return "-"
    lo, hi = (m.get("intervals") or {}).get(key) or (None, None)
    return f"{v:.3f}" + (f" ({lo:.3f}-{hi:.3f})" if lo is not None else "")


#: The survival candidates the benchmark compares: ``cohort train``'s default plus the opt-in ``neural``
#: (``recommender cohort train --survival-candidates boosted,boosted_shallow,cox,blend,forest,aft,neural,stack``).
BENCHMARK_CANDIDATES = "boosted,boosted_shallow,cox,blend,forest,aft,neural,stack"


def user_path(p: Protocol, source: Path, work: Path, n_bootstrap: int, cv_folds: int,
              candidates: tuple[str, ...] | None = None, curves: str = "auto") -> dict[str, Any]:
    """``recommender cohort import`` -> ``cohort train`` -> ``cohort evaluate``, each through the console entry point
    (:func:`product_cli.run_cli_json`: the CLI's own parsing, defaults and checks)."""
    from product_cli import run_cli_json

    from recommender.models.bundle import ModelBundle
    from recommender.models.training import TrainingConfig

    cohort_dir, bundle_dir = work / f"{p.key}-cohort", work / f"{p.key}-bundle"
    split = ["--split-column", p.split_column] if p.split_column else []
    cands = tuple(candidates) if candidates else TrainingConfig().survival_candidates
    t0 = time.perf_counter()
    run_cli_json(["cohort", "import", "--from", p.source, source, "-o", cohort_dir, "--overwrite", "--json",
                  *(["--dataset", p.dataset] if p.dataset else [])])
    t1 = time.perf_counter()
    run_cli_json(["cohort", "train", cohort_dir, "-o", bundle_dir, "--no-bootstrap", "--cv-folds", cv_folds,
                  "--survival-candidates", ",".join(cands), "--survival-curves", curves, "--overwrite", "--json",
                  *split])
    t2 = time.perf_counter()
    report = run_cli_json(["cohort", "evaluate", cohort_dir, "--bundle", bundle_dir, "--bootstrap", n_bootstrap,
                           "--json", *split])
    t3 = time.perf_counter()
    bundle = ModelBundle.load(bundle_dir)
    met = bundle.metadata["metrics"][p.endpoint]
    return {"metrics": (report.get("overall") or {}).get(p.endpoint, {}), "selected": met.get("selected_model"),
            "cv": (met.get("model_selection") or {}).get("cv_c_index"),
            "stack_weights": ((met.get("model_selection") or {}).get("stack") or {}).get("weights"),
            "calibration_slope": (met.get("model_selection") or {}).get("calibration_slope"),
            "survival_weights": met.get("survival_weights"),
            "curves": _curves_summary((met.get("model_selection") or {}).get("curves")),
            "candidates": list(cands),
            "covariates": [c["name"] for c in bundle.metadata.get("covariates", [])],
            "n_features": len(bundle.schema.columns), "n_train": met.get("n_train"), "events_train": met.get("events_train"),
            "seconds": {"import": round(t1 - t0, 1), "train": round(t2 - t1, 1), "evaluate": round(t3 - t2, 1)},
            "notes": list(report.get("notes") or []), "cohort_dir": str(cohort_dir), "bundle_dir": str(bundle_dir)}


def _curves_summary(cur: dict[str, Any] | None) -> dict[str, Any] | None:
    """The cross-validated choice of the survival curves' form (training rows only), without the fold detail."""
    if not cur:
        return None
    return {"selected": cur["selected"], "criterion": cur["criterion"],
            "forms": {f: {"ibs": v["ibs"], "c_td": v["c_td"]} for f, v in cur["forms"].items()},
            "members": {f: {"ibs": v["ibs"], "c_td": v["c_td"]} for f, v in cur["members"].items()},
            "mixture_weights": cur["mixture_weights"]}


def baselines(p: Protocol, source: Path, n_bootstrap: int, n_jobs: int) -> list[dict[str, Any]]:
    """lifelines Cox and scikit-survival RSF on the DeepSurv columns, same split, same metric code."""
    from cohorts.evaluate import survival_metrics
    from cohorts.evaluation.protocols import (
        _COLUMNS,
        LifelinesCox,
        SksurvRSF,
        deepsurv_frame,
        sksurv_available,
    )
    from cohorts.loaders.deepsurv import _pycox_split

    df = deepsurv_frame(source, p.dataset)
    split = np.asarray(_pycox_split(len(df)) if p.split_column == "pycox_split" else df["split"].to_numpy())
    cols = _COLUMNS[p.dataset]
    train, test = df[split == "train"].reset_index(drop=True), df[split == "test"].reset_index(drop=True)
    models = [LifelinesCox(0.01)]
    if sksurv_available():
        models.append(SksurvRSF(n_estimators=100, min_samples_leaf=15, n_jobs=n_jobs))
    out = []
    for m in models:
        t0 = time.perf_counter()
        m.fit(train[cols], train["time"].to_numpy(float), train["event"].to_numpy(bool))
        fit = time.perf_counter() - t0
        res = survival_metrics(test["time"].to_numpy(float), test["event"].to_numpy(bool), m.risk(test[cols]),
                               m.survival(test[cols]), n_bootstrap=n_bootstrap)
        out.append({"model": m.name, "metrics": res, "n_train": len(train), "events_train": int(train["event"].sum()),
                    "fit_seconds": round(fit, 1)})
    if not sksurv_available():
        out.append({"model": "scikit-survival RandomSurvivalForest", "skipped": "scikit-survival not installed "
                    "(pip install -e '.[eval]')"})
    return out


def _target_text(p: Protocol, m: dict[str, Any]) -> str:
    parts = []
    for tgt in (p.target, p.extra_target):
        if tgt is None:
            continue
        key, bound, how = tgt
        v = m.get(key)
        ok = v is not None and (v >= bound if how == "ge" else v <= bound)
        parts.append(f"{key} {'>=' if how == 'ge' else '<='} {bound}: {'met' if ok else 'NOT met'} "
                     f"({'-' if v is None else f'{v:.3f}'})")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    shared = Path(os.environ.get("RECOMMENDER_SHARED_DATA", REPO.parent / "shared" / "data"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=shared / "cohorts" / "deepsurv_h5")
    ap.add_argument("--metabric", type=Path, default=shared / "cohorts" / "metabric_cbioportal")
    ap.add_argument("--only", nargs="+", choices=tuple(PROTOCOLS), default=list(PROTOCOLS))
    ap.add_argument("--bootstrap", type=int, default=200, help="test-set resamples for the intervals (default 200)")
    ap.add_argument("--cv-folds", type=int, default=5)
    ap.add_argument("--survival-candidates", default=BENCHMARK_CANDIDATES, metavar="A,B",
                    help=f"as cohort train --survival-candidates (default {BENCHMARK_CANDIDATES})")
    ap.add_argument("--survival-curves", default="auto", choices=("auto", "breslow_ipw", "breslow", "mixture"),
                    help="TrainingConfig.survival_curves: the curve form chosen by cross-validation (auto, default) "
                         "or fixed (breslow_ipw: proportional-hazards curves as before the choice)")
    ap.add_argument("--n-jobs", type=int, default=2, help="threads for the random survival forest")
    ap.add_argument("--no-baselines", action="store_true")
    ap.add_argument("--workdir", type=Path, help="keep cohorts and bundles here (default: a removed temp folder)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    env = {"python": platform.python_version(), "cpus": os.cpu_count(),
           **{k: _v(k) for k in ("genomics-treatment-recommender", "lifelines", "xgboost-cpu", "scikit-survival",
                                 "scikit-learn", "numpy", "pandas")}}
    print("# Survival models on real data, through the user path (import -> train -> evaluate)")
    print("environment: " + ", ".join(f"{k}={v}" for k, v in env.items()))
    print(f"intervals: 95% percentile bootstrap over {args.bootstrap} resamples of the test patients (model fixed)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="eval-survival-real-"))
    work.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"environment": env, "bootstrap": args.bootstrap, "protocols": {}}
    try:
        for key in args.only:
            p = PROTOCOLS[key]
            source = args.metabric if p.source == "metabric" else args.data
            if not source.exists():
                print(f"\n## {p.title}\n\nskipped: data not found at {source}")
                continue
            start = time.perf_counter()
            up = user_path(p, source, work, args.bootstrap, args.cv_folds,
                           tuple(c.strip() for c in args.survival_candidates.split(",") if c.strip()),
                           args.survival_curves)
            base = [] if args.no_baselines or p.source != "deepsurv" else baselines(p, source, args.bootstrap,
                                                                                       args.n_jobs)
            print(f"\n## {p.title}\n")
            print(f"endpoint {p.endpoint}; split column '{p.split_column}'; bundle: {up['n_features']} features, "
                  f"covariates {', '.join(up['covariates']) or 'none'}; trained on {up['n_train']} rows "
                  f"({up['events_train']} events); selected survival model: {up['selected']} (5-fold CV Harrell's C "
                  + ", ".join(f"{k} {v:.3f}" for k, v in (up["cv"] or {}).items() if v is not None) + ")"
                  + (f"; stack weights {', '.join(f'{k} {v:.2f}' for k, v in up['stack_weights'].items())}"
                     if up["selected"] == "stack" and up["stack_weights"] else ""))
            sw = up.get("survival_weights") or {}
            if sw:
                print(f"fit weights: {sw.get('selected')}"
                      + (" (out-of-fold Harrell's C of each weighting's selected model: "
                         + ", ".join(f"{k} {v:.4f}" for k, v in (sw.get("cv_c_index") or {}).items() if v is not None)
                         + ")" if sw.get("cv_c_index") else ""))
            if up["curves"]:
                cur = up["curves"]
                print(f"survival curves: {cur['selected']} (5-fold out-of-fold on the training rows: "
                      + ", ".join(f"{f} IBS {v['ibs']:.4f} C^td {v['c_td']:.4f}" for f, v in cur["forms"].items())
                      + "; mixture weights " + ", ".join(f"{k} {v:.2f}" for k, v in cur["mixture_weights"].items())
                      + ")")
            print("\n| model | Harrell's C | Antolini C^td | IBS (pycox) | calibration error | test n (events) | s |")
            print("|---|---|---|---|---|---|---|")
            m = up["metrics"]
            secs = up["seconds"]
            print(f"| recommender bundle (user path: cohort train + cohort evaluate) | {_fmt(m, 'harrell_c')} | "
                  f"{_fmt(m, 'antolini_c_td')} | {_fmt(m, 'integrated_brier_score')} | {_fmt(m, 'calibration_error')} "
                  f"| {m.get('n')} ({m.get('events')}) | train {secs['train']}, evaluate {secs['evaluate']} |")
            for b in base:
                if "skipped" in b:
                    print(f"| {b['model']} | skipped: {b['skipped']} | | | | | |")
                    continue
                bm = b["metrics"]
                print(f"| {b['model']} | {_fmt(bm, 'harrell_c')} | {_fmt(bm, 'antolini_c_td')} | "
                      f"{_fmt(bm, 'integrated_brier_score')} | {_fmt(bm, 'calibration_error')} | "
                      f"{m.get('n')} ({m.get('events')}) | fit {b['fit_seconds']} |")
            if p.target:
                print(f"\ntarget (issue 13): {_target_text(p, m)}")
            for note in up["notes"]:
                print(f"- note: {note}")
            print(f"- wall time: {time.perf_counter() - start:.1f} s (timings noisy: 2 shared cores)")
            out["protocols"][key] = {"user_path": up, "baselines": base}
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        from recommender.commands._output import write_atomic

        write_atomic(args.json, json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
