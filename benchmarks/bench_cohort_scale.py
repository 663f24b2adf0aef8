"""Cohort scoring at scale (``score_cohort``): patients/s with 1 and 2 workers, seconds per stage, peak RSS per worker.

Usage::

    python benchmarks/bench_cohort_scale.py                    # 10,000 and 100,000 patients, 1 and 2 workers
    python benchmarks/bench_cohort_scale.py --quick            # 1,000 and 3,000 patients
    python benchmarks/bench_cohort_scale.py --sizes 1000 3000 --workers 1 2 --json results.json

Cohorts are simulated once with real 1000 Genomes haplotypes (``simulate_cohort(n, seed,
germline=RealGenotypeSource())``: tables + a multi-sample germline VCF) into ``--cache-dir/sim-<n>-seed<seed>``
and reused by later runs (100,000 patients take ~6-7 min to simulate on 2 cores, once). Each (size, workers) run is
a fresh Python process that scores the cohort into a temporary folder with :func:`cohorts.score.score_cohort`
(default bundle, DNA LM features through the default per-run SQLite cache), so its peak RSS is its own; the run's
summary gives the seconds per stage (summed over the workers) and each worker's peak RSS (``ru_maxrss``). The table
shows patients/s, the speed-up over 1 worker of the same size (target >= 1.8x with 2 workers), the stage seconds
and the largest per-worker peak RSS at each size (memory should stay flat as the cohort grows: a worker holds
one chunk). Results go to ``--json``. Timings on a shared machine are noisy: compare ratios. Never part of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STAGES = ("vcf", "pgx", "biomarkers", "dnalm", "features", "models", "overlay", "output", "wait")
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "genomics-treatment-recommender" / \
    "bench_cohort_scale"


def cohort_for(n: int, seed: int, cache_dir: Path) -> tuple[Path, float | None]:
    """The simulated cohort of ``n`` patients (simulated and written once, then reused); seconds spent or None."""
    target = cache_dir / f"sim-{n}-seed{seed}"
    if (target / "manifest.json").exists():
        return target, None
    from cohorts.germline import RealGenotypeSource
    from cohorts.simulate import simulate_cohort
    from genomics.errors import DegradedResultWarning

    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f".sim-{n}-seed{seed}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"simulating {n:,} patients (seed {seed}) into {target} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DegradedResultWarning)
            sim = simulate_cohort(n, seed, germline=RealGenotypeSource(workdir=tmp / "_germline"))
            sim.write(tmp / "cohort")
        del sim
        shutil.rmtree(tmp / "_germline", ignore_errors=True)
        os.replace(tmp / "cohort", target)  # a cohort folder with the final name is always complete
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target, time.perf_counter() - start


def run_once(cohort: Path, workers: int, chunk_size: int, workdir: Path, report: bool = False) -> dict:
    """Score ``cohort`` in a fresh process; returns the run's ScoreSummary as a dict (+ wall seconds).

    With ``report``, ``recommender cohort report`` of the scores then runs in another fresh process: its
    seconds and peak RSS go to ``summary["report"]``.
    """
    out = workdir / f"scores-w{workers}.parquet"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_run", str(cohort), str(out), str(workers),
           str(chunk_size)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"scoring run failed (workers={workers}):\n{proc.stderr[-3000:]}")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    summary["wall_seconds_process"] = round(wall, 2)
    if report:
        rep = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--_report", str(out), str(cohort),
                              str(workdir / "report.html")], check=False, capture_output=True, text=True, cwd=ROOT)
        if rep.returncode != 0:
            raise SystemExit(f"cohort report failed:\n{rep.stderr[-3000:]}")
        summary["report"] = json.loads(rep.stdout.strip().splitlines()[-1])
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    return summary


def _child(cohort: str, out: str, workers: int, chunk_size: int) -> None:
    warnings.simplefilter("ignore")
    from cohorts.score import _peak_rss_kib, score_cohort

    summary = score_cohort(cohort, out, chunk_size=chunk_size, workers=workers, progress=False).to_dict()
    summary["main_peak_rss_mb"] = round(_peak_rss_kib() / 1024, 1)  # this process (the only worker with 1 worker)
    print(json.dumps(summary))


def _report_child(scores: str, cohort: str, html: str) -> None:
    warnings.simplefilter("ignore")
    from cohorts.report import build_report, write_report
    from cohorts.score import _peak_rss_kib

    start = time.perf_counter()
    write_report(build_report(scores, cohort), html)
    print(json.dumps({"seconds": round(time.perf_counter() - start, 2),
                      "peak_rss_mb": round(_peak_rss_kib() / 1024, 1),
                      "html_mb": round(Path(html).stat().st_size / 1e6, 2)}))


def _table(runs: list[dict]) -> list[str]:
    head = (f"{'patients':>9} {'workers':>7} {'seconds':>8} {'patients/s':>10} {'speed-up':>8} | "
            + " ".join(f"{s[:8]:>8}" for s in STAGES) + f" | {'RSS/worker MB':>13}")
    lines = [head, "-" * len(head)]
    for r in runs:
        st = r["stage_seconds"]
        speedup = f"{r['speedup']:.2f}x" if r.get("speedup") else "-"
        lines.append(
            f"{r['n_patients']:>9,} {r['workers']:>7} {r['seconds']:>8.1f} {r['patients_per_second'] or 0:>10.1f} "
            f"{speedup:>8} | "
            + " ".join(f"{st.get(s, 0.0):>8.1f}" for s in STAGES)
            + f" | {max(r['peak_rss_mb_per_worker'].values(), default=0):>13.0f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_run"]:  # internal: one scoring run in this (fresh) process
        _child(argv[1], argv[2], int(argv[3]), int(argv[4]))
        return 0
    if argv[:1] == ["--_report"]:  # internal: one cohort report in this (fresh) process
        _report_child(argv[1], argv[2], argv[3])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="cohort sizes (patients)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to compare (1 is the base)")
    ap.add_argument("--quick", action="store_true", help="1,000 and 3,000 patients")
    ap.add_argument("--chunk-size", type=int, default=200, help="patients per chunk (default 200, as the CLI)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE,
                    help=f"simulated cohorts, reused across runs (default {DEFAULT_CACHE})")
    ap.add_argument("--json", type=Path, default=Path("bench_cohort_scale.json"), help="results file")
    a = ap.parse_args(argv)
    sizes = [1_000, 3_000] if a.quick else a.sizes
    workers = sorted(set(a.workers))
    runs: list[dict] = []
    cohorts: list[dict] = []
    work = Path(tempfile.mkdtemp(prefix="bench-cohort-scale-"))
    t0 = time.perf_counter()
    try:
        for n in sizes:
            path, sim_s = cohort_for(n, a.seed, a.cache_dir)
            size_mb = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6
            cohorts.append({"n": n, "path": str(path), "simulated_seconds": None if sim_s is None else round(sim_s, 1),
                            "reused": sim_s is None, "mb_on_disk": round(size_mb, 1)})
            base = None
            for w in workers:
                print(f"scoring {n:,} patients with {w} worker(s) ... ({time.perf_counter() - t0:.0f} s so far)",
                      file=sys.stderr, flush=True)
                r = run_once(path, w, a.chunk_size, work / f"n{n}", report=w == workers[-1])
                r["speedup"] = None
                if w == workers[0]:
                    base = r
                elif base and base["patients_per_second"] and r["patients_per_second"]:
                    r["speedup"] = round(r["patients_per_second"] / base["patients_per_second"], 2)
                runs.append(r)
                print("\n".join(_table([r])[2:]), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "benchmark": "cohort scoring at scale (benchmarks/bench_cohort_scale.py)",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "chunk_size": a.chunk_size, "seed": a.seed, "cohorts": cohorts,
        "runs": [{k: r[k] for k in ("n_patients", "workers", "seconds", "patients_per_second", "speedup",
                                    "stage_seconds", "peak_rss_mb_per_worker", "main_peak_rss_mb", "n_scored",
                                    "n_skipped", "n_rows", "n_chunks", "wall_seconds_process", "warnings")}
                 | ({"report": r["report"]} if "report" in r else {}) for r in runs],
        "total_seconds": round(time.perf_counter() - t0, 1),
    }
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"cohort scoring benchmark (chunk size {a.chunk_size}, seed {a.seed}, {os.cpu_count()} CPUs): "
          "stage columns are seconds summed over the workers; RSS = largest per-worker peak")
    print("\n".join(_table(runs)))
    for r in runs:
        if "report" in r:
            rep = r["report"]
            print(f"cohort report of {r['n_patients']:,} scored patients: {rep['seconds']:.1f} s "
                  f"({rep['seconds'] / r['seconds']:.2f}x the {r['seconds']:.1f} s of scoring them with "
                  f"{r['workers']} worker(s)), peak RSS {rep['peak_rss_mb']:.0f} MB, HTML {rep['html_mb']} MB")
    for c in cohorts:
        how = "reused" if c["reused"] else f"simulated in {c['simulated_seconds']} s"
        print(f"cohort {c['n']:,}: {c['path']} ({how}, {c['mb_on_disk']} MB)")
    print(f"results written to {a.json} (total {result['total_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
