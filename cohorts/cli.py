"""``recommender cohort ...``: import, inspect, validate, query (and later simulate) cohorts.

Examples
--------
recommender cohort import --from metabric ../shared/data/cohorts/metabric_cbioportal -o cohorts/metabric
recommender cohort import --from deepsurv ../shared/data/cohorts/deepsurv_h5/gbsg_cancer_train_test.h5 -o gbsg
recommender cohort info cohorts/metabric --json
recommender cohort query cohorts/metabric "age < 50 and cancer_type = 'IDC'"
recommender cohort query cohorts/metabric --sql "select regimen, count(*) from treatments group by 1"
recommender cohort export cohorts/metabric -o metabric_phenopackets --where "age < 40"
recommender cohort simulate -n 2000 --seed 0 -o cohorts/simulated          (real haplotypes -> VCF -> PGx caller)
recommender cohort simulate -n 1000000 --germline priors -o big             (tables only)
recommender cohort train cohorts/simulated -o bundle [--exclude-groups pgx,biomarker,dnalm]
recommender cohort evaluate cohorts/simulated_test --bundle bundle -o report.json
recommender cohort score cohorts/simulated -o scores.parquet [--chunk-size 200] [--workers 2] [--scheduler tcp://host:8786]
recommender cohort report scores.parquet -o report.html [--cohort cohorts/simulated] [--json report.json]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from genomics.errors import UsageError

__all__ = ["add_arguments", "run"]

SOURCES = ("phenopackets", "csv", "deepsurv", "metabric", "tcga-cdr", "summit")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="cohort_command", metavar="COMMAND")
    sub.required = True

    imp = sub.add_parser("import", help="build a cohort directory from real data or patient records",
                         description="Build a validated cohort directory (manifest + Parquet tables).")
    imp.add_argument("--from", dest="source", required=True, choices=SOURCES, help="kind of input")
    imp.add_argument("path", help="input file or folder (the data stays where it is; its licence stays with it)")
    imp.add_argument("-o", "--output", required=True, help="cohort directory to write (must not exist)")
    imp.add_argument("--dataset", choices=("gbsg", "metabric", "support"),
                     help="DeepSurv dataset (guessed from the file name)")
    imp.add_argument("--name", help="cohort name (phenopackets/csv)")
    imp.add_argument("--licence", default="unspecified", help="licence of the records (phenopackets/csv)")
    imp.add_argument("--vcf", help="multi-sample germline VCF of the cohort (phenopackets/csv)")
    imp.add_argument("--build", default="GRCh38", choices=("GRCh38", "GRCh37"),
                     help="genome build of the VCF and positions (csv; default GRCh38)")
    imp.add_argument("--overwrite", action="store_true", help="replace an existing cohort directory")
    imp.add_argument("--json", action="store_true", help="print the cohort summary as JSON")

    info = sub.add_parser("info", help="summary of a cohort (tables, provenance, licence)")
    info.add_argument("cohort", help="cohort directory")
    info.add_argument("--json", action="store_true", help="JSON output")
    info.add_argument("--no-validate", action="store_true", help="skip the full validation (faster)")

    val = sub.add_parser("validate", help="check a cohort and list every problem found")
    val.add_argument("cohort", help="cohort directory")
    val.add_argument("--json", action="store_true", help="JSON output")

    q = sub.add_parser("query", help="filter a cohort table (filter language) or run read-only SQL (DuckDB)")
    q.add_argument("cohort", help="cohort directory")
    q.add_argument("where", nargs="?", default=None,
                   help="filter, e.g. \"ecog <= 1 and cancer_type IN ('COAD', 'READ')\" (comparisons, AND/OR/NOT, "
                        "IN, BETWEEN, LIKE, IS NULL on the table's columns; parsed, never run as SQL)")
    q.add_argument("--table", default="patients",
                   help="table to filter (patients, treatments, outcomes, adverse_events, tumour_variants, "
                        "or cohort = patients joined with outcomes)")
    q.add_argument("--sql", help="a full SELECT over the views instead of a filter (no file, network or extension "
                                 "access: the connection is locked)")
    q.add_argument("--columns", default="*", help="columns to show for a filter (comma-separated names, or *)")
    q.add_argument("--limit", type=int, default=20, help="rows to print in table form (0 = all)")
    fmt = q.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="rows as JSON")
    fmt.add_argument("--csv", action="store_true", help="rows as CSV")

    exp = sub.add_parser("export", help="write every patient as a Phenopacket v2 (or patient JSON) file",
                         description="Export a cohort's patients, one file each, for exchange with other tools.")
    exp.add_argument("cohort", help="cohort directory")
    exp.add_argument("-o", "--output", required=True, help="folder to write (must not exist)")
    exp.add_argument("--format", choices=("phenopackets", "json"), default="phenopackets",
                     help="GA4GH Phenopacket v2 JSON (default) or the product's patient JSON")
    exp.add_argument("--where", help="only patients matching this filter on the patients table")
    exp.add_argument("--json", action="store_true", help="print a JSON summary")

    sim = sub.add_parser("simulate", help="synthetic cohort with known ground truth (seeded)",
                         description="Simulate a cohort from the documented causal model (cohorts/simulate_model.py). "
                                     "Germline genotypes are real 1000 Genomes haplotypes (shipped panel; recombined "
                                     "within populations beyond the real people), written as a GRCh38 VCF and called "
                                     "by the PGx caller (cohorts/germline.py); --germline priors draws phenotypes "
                                     "from population priors instead (tables only, up to 1,000,000 patients).")
    sim.add_argument("-n", "--patients", type=int, default=2000, help="number of patients (default 2000)")
    sim.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sim.add_argument("--randomised", action="store_true",
                     help="assign treatments uniformly at random (default: by indication, confounded)")
    sim.add_argument("--trial-share", type=float, default=0.0, metavar="SHARE",
                     help="share of patients (0-1) randomised uniformly over their candidates, the rest assigned "
                          "by indication: a registry pooling trial and routine-care patients (default 0)")
    sim.add_argument("--cancer-types", help="comma-separated OncoTree codes to simulate (default: the built-in mix)")
    sim.add_argument("--no-pgx-columns", action="store_true",
                     help="keep PGx phenotypes only in truth/germline (not as pgx_* patient columns)")
    sim.add_argument("--germline", choices=("auto", "genotypes", "priors"), default="auto",
                     help="germline source: real haplotypes + VCF (genotypes, up to 100,000 patients), phenotype "
                          "priors without VCF (priors), or genotypes up to 100,000 and priors above (auto, default)")
    sim.add_argument("--genotypes", metavar="PATH",
                     help="haplotype panel .npz, or a 1000 Genomes 'population' folder to build one from "
                          "(default: the panel shipped in cohorts/data/haplotype_panel)")
    sim.add_argument("--germline-mode", choices=("auto", "real", "recombine"), default="auto",
                     help="real people first then recombinants (auto, default), real people only, or recombinants only")
    sim.add_argument("--vus-rate", type=float, default=0.0, metavar="SHARE",
                     help="share of patients given a germline BRCA1 variant of uncertain significance with a hidden "
                          "true effect (ENIGMA class; in the VCF and truth/germline only); default 0 (off)")
    sim.add_argument("--vus-lof-share", type=float, default=None, metavar="SHARE",
                     help="share of those VUS that are truly loss of function (default: as in the VUS table, 34/138)")
    sim.add_argument("-o", "--output", required=True, help="cohort directory to write")
    sim.add_argument("--overwrite", action="store_true", help="replace an existing cohort directory")
    sim.add_argument("--json", action="store_true", help="print the summary as JSON")

    trn = sub.add_parser("train", help="train a model bundle on a cohort (cohorts/train.py)",
                         description="Fit the response, survival and toxicity models on a cohort and write a "
                                     "model bundle (early stopping on a held-out split; hyper-parameters recorded).")
    trn.add_argument("cohort", help="cohort directory")
    trn.add_argument("-o", "--output", required=True, help="bundle directory to write")
    trn.add_argument("--exclude-groups", default="",
                     help="comma-separated feature groups to leave out, e.g. pgx,biomarker,dnalm")
    trn.add_argument("--covariates", default=None, metavar="A,B",
                     help="comma-separated cohort covariates to use (default: every covariate the cohort declares)")
    trn.add_argument("--exclude", default="", metavar="A,B", help="comma-separated covariates to leave out")
    trn.add_argument("--split-column", default=None, metavar="COLUMN",
                     help="patients column marking the training rows (default: the cohort's stored 'split' when it "
                          "has one; 'none': train on every patient)")
    trn.add_argument("--train-value", default="train", help="value of --split-column marking training rows")
    trn.add_argument("--cv-folds", type=int, default=5,
                     help="folds of the cross-validation that selects each survival model (default 5; 0 = none)")
    trn.add_argument("--survival-candidates", default=None, metavar="A,B",
                     help="survival models compared by cross-validation (default boosted,boosted_shallow,cox,blend,"
                          "forest,aft,stack; also neural, blend_neural: need torch)")
    trn.add_argument("--survival-curves", default="auto", choices=("auto", "breslow_ipw", "breslow", "mixture"),
                     help="survival curves of the selected model: 'auto' (default) compares, out of fold, a Breslow "
                          "baseline with and without the inverse-propensity weights and a mixture of the "
                          "candidates' own curves, and keeps the lowest IBS among those within 0.005 of the best "
                          "C^td; or force one form")
    trn.add_argument("--survival-weights", default="auto", choices=("ipw", "none", "auto"),
                     help="weights of the survival models' fit: 'auto' (default) the inverse-propensity weights and "
                          "none compared by the selected model's out-of-fold Harrell's C on the training rows (about "
                          "twice the survival training time); or 'ipw' / 'none'")
    trn.add_argument("--no-bootstrap", action="store_true", help="no bootstrap ensembles (no intervals; faster)")
    trn.add_argument("--overwrite", action="store_true", help="replace an existing bundle directory")
    trn.add_argument("--json", action="store_true", help="print the bundle's metrics as JSON")

    ev = sub.add_parser("evaluate", help="evaluate a bundle on a cohort (AUROC, Brier, calibration, C, IBS, regret)",
                        description="Evaluate a model bundle on a cohort; with the simulator's truth/oracle also "
                                    "regret and best-option rate (cohorts/evaluate.py).")
    ev.add_argument("cohort", help="cohort directory")
    ev.add_argument("--bundle", required=True, help="model bundle directory")
    ev.add_argument("--split-column", default=None, metavar="COLUMN",
                    help="evaluate only patients whose COLUMN equals --split-value (default: the cohort's stored "
                         "'split' when it has one, value 'test'; 'none': every patient)")
    ev.add_argument("--split-value", default="test", help="value of --split-column to evaluate (default test)")
    ev.add_argument("--bootstrap", type=int, default=200,
                    help="bootstrap resamples for the metric intervals (default 200; 0 = none)")
    ev.add_argument("--fill-missing-covariates", action="store_true",
                    help="fill covariate columns the cohort lacks with the bundle's training medians (reported)")
    ev.add_argument("-o", "--output", help="write the report as JSON to this file")
    ev.add_argument("--json", action="store_true", help="print the report as JSON")

    sc = sub.add_parser("score", help="score every patient x candidate option of a cohort -> Parquet (resumable)",
                        description="Score a cohort in chunks (cohorts/score.py): PGx once per chunk over the cohort "
                                    "VCF, model numbers and guidance per patient x option, one Parquet file per "
                                    "chunk in OUT.parts/ (re-running skips finished chunks), then OUT.parquet.")
    sc.add_argument("cohort", help="cohort directory")
    sc.add_argument("-o", "--output", required=True, help="output Parquet file")
    sc.add_argument("--chunk-size", type=int, default=200, help="patients per chunk (default 200)")
    sc.add_argument("--workers", type=int, default=1, help="local worker processes (default 1)")
    sc.add_argument("--scheduler", metavar="ADDRESS",
                    help="Dask scheduler address, e.g. tcp://host:8786 (needs the 'cluster' extra and shared storage)")
    sc.add_argument("--bundle", help="model bundle directory (default: the bundle shipped in the package)")
    sc.add_argument("--treatments", nargs="+", metavar="REGIMEN",
                    help="regimens to score for every patient (default: the candidates of each cancer type)")
    sc.add_argument("--fill-missing-covariates", action="store_true",
                    help="fill covariate columns the cohort lacks with the bundle's training medians (reported)")
    sc.add_argument("--keep-parts", action="store_true", help="keep OUT.parts/ after writing OUT.parquet")
    sc.add_argument("--overwrite", action="store_true",
                    help="replace an existing output file that is not a 'cohort score' output (default: refused)")
    sc.add_argument("--dnalm-cache", metavar="FILE",
                    help="SQLite DNA LM score cache, shared by the workers and kept across runs (default: "
                         "OUT.parquet.parts/dnalm-cache.sqlite, removed with the chunk files)")
    sc.add_argument("--cyp2d6-without-copy-number", action="store_true",
                    help="use a CYP2D6 call made from SNVs/indels alone for guidance and the models (default: without "
                         "a copy-number source it is provisional, not used; recorded in every affected row)")
    sc.add_argument("--no-progress", action="store_true", help="no progress bar")
    sc.add_argument("--json", action="store_true", help="print the summary as JSON")

    rep = sub.add_parser("report", help="self-contained HTML report of a scored cohort (cohorts/report.py)",
                         description="Report of a 'cohort score' Parquet: predictions per treatment, PGx phenotype "
                                     "frequencies by population, calibration of response and severe toxicity on the "
                                     "received regimen, Kaplan-Meier/Cox by whether the recommended option was "
                                     "received, provenance. One HTML file (inline SVG and CSS, no scripts).")
    rep.add_argument("scores", help="Parquet file written by 'recommender cohort score'")
    rep.add_argument("--cohort", metavar="DIR", help="the scored cohort (default: cohort_dir in the file's metadata)")
    rep.add_argument("-o", "--output", required=True, help="HTML file to write (atomically)")
    rep.add_argument("--json", metavar="OUT.json", help="also write the report's numbers as JSON to this file")


def run(args: argparse.Namespace) -> int:
    return {"import": _import, "info": _info, "validate": _validate, "query": _query, "export": _export,
            "simulate": _simulate, "train": _train, "evaluate": _evaluate, "score": _score,
            "report": _report}[args.cohort_command](args)


def _score(args: argparse.Namespace) -> int:
    from cohorts.score import score_cohort

    s = score_cohort(args.cohort, args.output, chunk_size=args.chunk_size, workers=args.workers, bundle=args.bundle,
                     scheduler=args.scheduler, progress=not args.no_progress and not args.json,
                     treatments=args.treatments, keep_parts=args.keep_parts, dnalm_cache=args.dnalm_cache,
                     overwrite=args.overwrite,
                     **({"fill_missing_covariates": True} if args.fill_missing_covariates else {}),
                     **({"cyp2d6_without_copy_number": True} if args.cyp2d6_without_copy_number else {}))
    if args.json:
        from recommender.commands._output import print_json

        print_json(s.to_dict())
        return 0
    rate = f", {s.patients_per_second} patients/s" if s.patients_per_second else ""
    print(f"wrote {s.n_rows} rows ({s.n_scored} patients scored, {s.n_skipped} skipped) to {s.output} "
          f"in {s.seconds:.1f} s{rate}; chunks: {s.chunks_computed} computed, {s.chunks_reused} reused")
    for reason, n in s.skipped.items():
        print(f"  skipped {n}: {reason}")
    for kind, n in sorted(s.warnings.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  warning x{n}: {kind}")
    if s.stage_seconds:
        print("  seconds per stage (all workers): "
              + ", ".join(f"{name} {sec:.1f}" for name, sec in s.stage_seconds.items()))
    if s.peak_rss_mb_per_worker:
        print("  peak RSS per worker: "
              + ", ".join(f"{mb:.0f} MB (pid {pid})" for pid, mb in s.peak_rss_mb_per_worker.items()))
    return 0


def _report(args: argparse.Namespace) -> int:
    from cohorts.report import build_report, write_report

    start = time.perf_counter()
    report = build_report(args.scores, args.cohort)
    out = write_report(report, args.output, args.json)
    print(f"wrote the report of {report.n_patients_scored} scored patients ({report.provenance.cohort}) to {out}"
          + (f" and {args.json}" if args.json else "") + f" in {time.perf_counter() - start:.1f} s")
    for note in report.notes:
        print(f"  note: {note}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from cohorts.train import train_cohort
    from recommender.models.training import TrainingConfig

    cfg = TrainingConfig(n_bootstrap=0, n_bootstrap_toxicity=0) if args.no_bootstrap else TrainingConfig()
    if args.cv_folds < 0 or args.cv_folds == 1:
        raise UsageError("--cv-folds must be 0 (no selection) or at least 2", field="--cv-folds",
                         fix="pass --cv-folds 5")
    cfg.cv_folds = args.cv_folds
    cfg.survival_curves = args.survival_curves
    cfg.survival_weights = args.survival_weights
    if args.survival_candidates:
        from recommender.models.training import SURVIVAL_CANDIDATES

        cands = tuple(c.strip() for c in args.survival_candidates.split(",") if c.strip())
        unknown = [c for c in cands if c not in SURVIVAL_CANDIDATES]
        if unknown or not cands:
            raise UsageError(f"unknown survival candidate(s): {', '.join(unknown) or '(none given)'}",
                             field="--survival-candidates", fix=f"choose from {', '.join(SURVIVAL_CANDIDATES)}")
        cfg.survival_candidates = cands
    start = time.perf_counter()
    bundle = train_cohort(args.cohort, args.output, exclude_groups=args.exclude_groups.split(","), config=cfg,
                          overwrite=args.overwrite,
                          covariates=None if args.covariates is None else args.covariates.split(","),
                          exclude_covariates=args.exclude.split(","), split_column=args.split_column,
                          train_value=args.train_value)
    metrics = bundle.metadata.get("metrics", {})
    if args.json:
        from recommender.commands._output import print_json

        print_json({"bundle": str(args.output), "bundle_id": bundle.bundle_id, "metrics": metrics,
                    "seconds": round(time.perf_counter() - start, 1)})
    else:
        resp = metrics.get("response") or {}
        print(f"wrote bundle {bundle.bundle_id} to {args.output} ({len(bundle.schema.columns)} features, "
              f"{metrics.get('n_train')} training rows) in {time.perf_counter() - start:.1f} s")
        if resp:
            print(f"held-out response AUROC {resp.get('auroc') or float('nan'):.3f}, Brier {resp['brier']:.3f}")
        covs = bundle.metadata.get("covariates") or []
        print(f"covariates: {', '.join(c['name'] for c in covs) or 'none'}; split: {bundle.metadata.get('split')}")
        for ep in ("pfs", "os"):
            m = metrics.get(ep) or {}
            if m.get("selected_model"):
                cv = (m.get("model_selection") or {}).get("cv_c_index") or {}
                print(f"{ep.upper()}: selected {m['selected_model']} (cross-validated Harrell's C: "
                      + ", ".join(f"{k} {v:.3f}" for k, v in cv.items() if v is not None) + ")")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from cohorts.evaluate import evaluate_bundle, write_report

    report = evaluate_bundle(args.cohort, args.bundle, split_column=args.split_column, split_value=args.split_value,
                             n_bootstrap=args.bootstrap, fill_missing_covariates=args.fill_missing_covariates)
    if args.output:
        write_report(report, args.output)
    if args.json:
        from recommender.commands._output import print_json

        print_json(report.to_dict())
        return 0
    o = report.overall

    def f(v):
        return "-" if v is None else f"{v:.3f}"
    print(f"cohort {report.cohort} ({report.n_patients} patients), bundle {report.bundle_id}")
    if "response" in o:
        r = o["response"]
        print(f"response        AUROC {f(r['auroc'])}  Brier {f(r['brier'])}  ECE {f(r['ece'])}")
    for term, r in o.get("toxicity", {}).items():
        print(f"severe {term}: AUROC {f(r['auroc'])}  Brier {f(r['brier'])}  ECE {f(r['ece'])}")
    for ep in ("pfs", "os"):
        if ep in o:
            m = o[ep]
            iv = m.get("intervals") or {}

            def g(key):
                lo, hi = iv.get(key) or (None, None)
                return f(m.get(key)) + (f" ({f(lo)}-{f(hi)})" if lo is not None else "")
            print(f"{ep.upper()} (n {m.get('n')}, events {m.get('events')}): Harrell's C {g('harrell_c')}  "
                  f"Antolini C^td {g('antolini_c_td')}  IBS {g('integrated_brier_score')}  "
                  f"calibration error at {f(m.get('calibration_horizon_days'))} d {g('calibration_error')}")
    if "decision" in o:
        d = o["decision"]
        print(f"regret          {f(d['regret'])} utility units (constant {f(d['constant_regret'])}, random "
              f"{f(d['random_regret'])}); best option chosen {f(d['best_chosen_rate'])}")
    for note in report.notes:
        print(f"note: {note}")
    if args.output:
        print(f"report written to {args.output}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from cohorts.loaders import LOADERS

    out = Path(args.output)
    if out.exists() and not args.overwrite:
        raise UsageError("the output directory already exists", file=out, field="--output",
                         fix="choose another directory or pass --overwrite")
    for opt, allowed in (("vcf", ("phenopackets", "csv")), ("dataset", ("deepsurv",)), ("name", ("phenopackets", "csv"))):
        if getattr(args, opt) is not None and args.source not in allowed:
            raise UsageError(f"--{opt} applies only to --from {'/'.join(allowed)}", field=f"--{opt}",
                             fix=f"remove --{opt}")
    start = time.perf_counter()
    loader = LOADERS[args.source]
    if args.source == "deepsurv":
        loaded = loader(args.path, dataset=args.dataset)
    elif args.source == "phenopackets":
        loaded = loader(args.path, name=args.name, licence=args.licence, vcf=args.vcf)
    elif args.source == "csv":
        loaded = loader(args.path, name=args.name, licence=args.licence, vcf=args.vcf, genome_build=args.build)
    else:
        loaded = loader(args.path)
    cohort = loaded.write(out, overwrite=args.overwrite)
    seconds = time.perf_counter() - start
    info = cohort.info()
    info["import_seconds"] = round(seconds, 2)
    if args.json:
        from recommender.commands._output import print_json

        print_json(info)
    else:
        tables = ", ".join(f"{k} {v}" for k, v in info["tables"].items())
        print(f"wrote cohort {info['name']!r} to {out} ({tables}) in {seconds:.1f} s")
        print(f"licence: {info['licence']['name']}" + (f" -- {info['licence']['note']}" if info['licence']['note'] else ""))
    return 0


def _info(args: argparse.Namespace) -> int:
    from cohorts.storage import load_cohort

    cohort = load_cohort(args.cohort, validate=not args.no_validate)
    info = cohort.info()
    if args.json:
        from recommender.commands._output import print_json

        print_json(info)
        return 0
    prov = info["provenance"]
    lines = [
        f"cohort     {info['name']} (version {info['version']}, {info['format']})",
        f"path       {info['path']}",
        f"build      {info['genome_build']}",
        f"licence    {info['licence']['name']}" + (f" -- {info['licence']['note']}" if info["licence"]["note"] else ""),
        f"source     {prov['source']}" + (f" [{prov['source_version']}]" if prov.get("source_version") else ""),
        f"citation   {prov.get('citation') or '-'}",
        f"written    {prov['created']} by {prov['loader']} (package {prov['package_version']})",
        "tables     " + ", ".join(f"{k}: {v}" for k, v in info["tables"].items()),
        "vcf        " + ("-" if info["vcf"] is None else f"{info['vcf']['path']} ({info['vcf']['samples']} samples)"),
        "cancer     " + (", ".join(f"{k} {v}" for k, v in list(info["cancer_types"].items())[:10]) or "-"),
        "regimens   " + (", ".join(f"{k} {v}" for k, v in list(info["regimens"].items())[:10]) or "-"),
        (f"outcomes   OS known {info['os_known']} (events {info['os_events']}), PFS known {info['pfs_known']}, "
         f"best response known {info['best_response_known']}"),
    ]
    if info["splits"]:
        lines.append("splits     " + ", ".join(f"{k} {v}" for k, v in info["splits"].items()))
    for note in prov.get("notes") or ():
        lines.append(f"note       {note}")
    print("\n".join(lines))
    return 0


def _validate(args: argparse.Namespace) -> int:
    from cohorts.errors import CohortValidationError
    from cohorts.storage import load_cohort

    problems, status = [], "ok"
    try:
        load_cohort(args.cohort)
    except CohortValidationError as err:
        problems, status = err.problems, "invalid"
        if not args.json:
            print(f"{args.cohort}: {len(problems)} problem(s)", file=sys.stderr)
            for p in problems:
                print(f"  {p.describe()}", file=sys.stderr)
    if args.json:
        from recommender.commands._output import print_json

        print_json({"cohort": args.cohort, "status": status, "problems": [p.to_dict() for p in problems]})
    elif status == "ok":
        print(f"{args.cohort}: ok")
    return 0 if status == "ok" else 1


def _query(args: argparse.Namespace) -> int:
    from cohorts.query import query, sql
    from cohorts.storage import load_cohort

    if args.sql and args.where:
        raise UsageError("give either a WHERE filter or --sql, not both", field="--sql", fix="drop one of them")
    cohort = load_cohort(args.cohort, validate=False)
    df = sql(cohort, args.sql) if args.sql else query(cohort, args.where or "true", table=args.table,
                                                      columns=args.columns)
    if args.json:
        from recommender.commands._output import print_json

        print_json({"rows": len(df), "data": [{k: _jsonable(v) for k, v in rec.items()}
                                              for rec in df.to_dict(orient="records")]})
    elif args.csv:
        df.to_csv(sys.stdout, index=False)
    else:
        shown = df if args.limit == 0 else df.head(args.limit)
        with __import__("pandas").option_context("display.max_columns", 30, "display.width", 200):
            print(shown.to_string(index=False) if len(shown) else "(no rows)")
        if len(shown) < len(df):
            print(f"... {len(df)} rows ({len(df) - len(shown)} not shown; --limit 0 shows all)")
    return 0


def _export(args: argparse.Namespace) -> int:
    import os
    import shutil
    import tempfile

    from cohorts.storage import load_cohort
    from recommender.phenopackets_io import phenopacket_json

    out = Path(args.output)
    if out.exists():
        raise UsageError("the output folder already exists", file=out, field="--output", fix="choose a new folder")
    cohort = load_cohort(args.cohort)
    wanted = None
    if args.where:
        wanted = set(cohort.query(args.where, columns="patient_id")["patient_id"])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent))
    n = 0
    try:
        for patient in cohort.iter_patients():
            if wanted is not None and patient.patient_id not in wanted:
                continue
            text = phenopacket_json(patient) if args.format == "phenopackets" else patient.model_dump_json(indent=2)
            safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in patient.patient_id)
            (tmp / f"{safe}.json").write_text(text + "\n", encoding="utf-8")
            n += 1
        os.chmod(tmp, 0o755)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    summary = {"cohort": str(cohort.path), "output": str(out), "format": args.format, "patients": n}
    if args.json:
        from recommender.commands._output import print_json

        print_json(summary)
    else:
        print(f"wrote {n} {args.format} file(s) to {out}")
    return 0


def _jsonable(value):
    """DuckDB/pandas cell -> JSON value (lists, None for missing, Python scalars)."""
    import numpy as np
    import pandas as pd

    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


def _simulate(args: argparse.Namespace) -> int:
    from cohorts.simulate import simulate_cohort
    from cohorts.simulate_model import CANCER_MIX

    out = Path(args.output)
    if out.exists() and not args.overwrite:
        raise UsageError("the output directory already exists", file=out, field="--output",
                         fix="choose another directory or pass --overwrite")
    mix = None
    if args.cancer_types:
        codes = [c.strip().upper() for c in args.cancer_types.split(",") if c.strip()]
        mix = {c: CANCER_MIX.get(c, 0.1) for c in codes}
    start = time.perf_counter()
    source = None
    use_genotypes = args.germline == "genotypes" or (args.germline == "auto" and args.patients <= 100_000)
    if args.germline == "priors" and (args.genotypes or args.germline_mode != "auto"):
        raise UsageError("--genotypes/--germline-mode need the genotype source", field="--germline",
                         fix="drop --germline priors or the genotype options")
    if use_genotypes:
        from cohorts.germline import RealGenotypeSource

        source = RealGenotypeSource(args.genotypes, mode=args.germline_mode)
    sim = simulate_cohort(args.patients, args.seed, randomised=args.randomised, trial_share=args.trial_share,
                          cancer_mix=mix,
                          expose_pgx=not args.no_pgx_columns, germline=source, vus_rate=args.vus_rate,
                          vus_lof_share=args.vus_lof_share)
    cohort = sim.write(out, overwrite=args.overwrite)
    seconds = time.perf_counter() - start
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    info = cohort.info()
    info.update(generation_seconds=round(sim.seconds, 2), total_seconds=round(seconds, 2), bytes_on_disk=size)
    if args.json:
        from recommender.commands._output import print_json

        print_json(info)
    else:
        tables = ", ".join(f"{k} {v}" for k, v in info["tables"].items())
        print(f"simulated {args.patients} patients (seed {args.seed}, "
              f"{sim.provenance.notes[0].removeprefix('assignment: ')}) -> {out}")
        print(f"tables: {tables}; truth: {', '.join(f'{k} {v}' for k, v in info['truth_tables'].items())}")
        print(f"{seconds:.1f} s, {size / 1e6:.1f} MB on disk")
    return 0
