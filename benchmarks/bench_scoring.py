"""Scoring latency (cold and warm) and batch throughput of recommender.scoring; prints a table.

Usage::

    python benchmarks/bench_scoring.py [--n 40] [--no-model]

Cold = a fresh process running ``recommender score --demo --json`` (imports, knowledge tables, bundle load).
Warm = ``score_patient`` again in the same process. Batch = ``score_patients`` over the demo patient with
each of the 8 demo VCF samples in turn (``--n`` patients in all), once reading the VCF per patient and once
with profiles from ``call_pgx_cohort`` (each gene read once for all samples). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "recommender" / "data" / "demo" / "demo_patient.json"
SAMPLES = ("HG00096", "HG00171", "HG00403", "HG00553", "NA18486", "NA18942", "NA19625", "NA20845")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40, help="patients in the batch run")
    ap.add_argument("--no-model", action="store_true", help="guidance/biomarker overlay only")
    ap.add_argument("--no-explain", action="store_true", help="batch without per-feature drivers (explain=False)")
    args = ap.parse_args()
    cli = [sys.executable, "-m", "recommender.cli", "score", "--demo", "--json"] + (["--no-model"] if args.no_model else [])
    t = time.perf_counter()
    proc = subprocess.run(cli, check=False, capture_output=True, text=True, cwd=ROOT)
    cold = time.perf_counter() - t
    model = json.loads(proc.stdout)["model_status"] if proc.returncode == 0 else {"available": None}

    warnings.simplefilter("ignore")
    from recommender.schema import load_patient
    from recommender.requests import RankingOptions
    from recommender.scoring import ScoringContext, score_patient, score_patients

    context = ScoringContext(False if args.no_model else None)  # the bundle is loaded once, as the CLI does
    ranking = RankingOptions(explain=not args.no_explain)
    score_patient(DEMO, context=context)  # load everything once
    warm = []
    for _ in range(5):
        t = time.perf_counter()
        score_patient(DEMO, context=context)
        warm.append(time.perf_counter() - t)
    base = load_patient(DEMO)
    vcf = str((DEMO.parent / base.germline.path).resolve())
    patients = []
    for i in range(args.n):
        s = SAMPLES[i % len(SAMPLES)]
        patients.append(base.model_copy(update={"patient_id": f"BENCH-{i:04d}",
                                                "germline": base.germline.model_copy(update={"path": vcf, "sample_id": s})}))
    t = time.perf_counter()
    n = sum(1 for _ in score_patients(patients, ranking=ranking, context=context))
    batch = time.perf_counter() - t
    from genomics.pgx import call_pgx_cohort

    t = time.perf_counter()
    by_sample = {p.sample: p for p in call_pgx_cohort(vcf, include_positions=False)}
    profiles = {p.patient_id: by_sample[p.germline.sample_id] for p in patients}
    n2 = sum(1 for _ in score_patients(patients, pgx_profiles=profiles, ranking=ranking, context=context))
    batch2 = time.perf_counter() - t
    print(f"model available: {model.get('available')} ({model.get('bundle_id') or model.get('reason')})")
    print(f"{'measure':<38}{'value':>8}")
    print(f"{'cold, CLI process (s)':<38}{cold:>8.2f}")
    print(f"{'warm, score_patient median (s)':<38}{statistics.median(warm):>8.3f}")
    print(f"{'batch, patients/s':<38}{n / batch:>8.2f}")
    print(f"{'batch + call_pgx_cohort, patients/s':<38}{n2 / batch2:>8.2f}")
    print(f"{'batch, patients':<38}{n:>8d}")


if __name__ == "__main__":
    main()
