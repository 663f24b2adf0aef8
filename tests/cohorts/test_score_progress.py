"""Progress of cohort scoring covers every stage, the DNA LM pre-pass included (it held the bar at 0 before)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohorts.germline import RealGenotypeSource
from cohorts.score import PROGRESS_STAGES, score_cohort
from cohorts.simulate import simulate_cohort

N, SEED = 20, 19  # as tests/cohorts/test_score.py: two BRCA1 carriers (DNA LM genes of the default bundle)


@pytest.fixture(scope="module")
def lm_cohort(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("progress")
    simulate_cohort(N, seed=SEED, germline=RealGenotypeSource(workdir=base / "germ")).write(base / "cohort")
    return base / "cohort"


def test_every_stage_reports_progress_and_the_dna_lm_stage_moves(lm_cohort, tmp_path):
    from recommender.scoring import load_bundle

    bundle, reason = load_bundle(None)
    if bundle is None or not bundle.schema.dnalm_genes:
        pytest.skip(f"default bundle without DNA LM genes ({reason})")
    seen: list[tuple[str, int, int]] = []
    score_cohort(lm_cohort, tmp_path / "s.parquet", chunk_size=7, progress=False,
                 on_stage=lambda stage, done, total: seen.append((stage, done, total)))
    stages = [s for s, _, _ in seen]
    assert set(stages) <= set(PROGRESS_STAGES)
    assert {"pgx_shards", "dnalm", "scoring", "writing"} <= set(stages)
    # in order: the DNA LM pre-pass runs before the chunks with one process, then scoring, then writing
    first = {s: stages.index(s) for s in set(stages)}
    assert first["dnalm"] < first["scoring"] < first["writing"]
    lm = [(d, t) for s, d, t in seen if s == "dnalm"]
    assert lm[0][0] == 0 and lm[-1][0] == lm[-1][1] == N  # from 0 to every sample
    assert len(lm) > 2 and [d for d, _ in lm] == sorted(d for d, _ in lm)  # moves in steps, never back
    assert [(d, t) for s, d, t in seen if s == "scoring"][-1] == (N, N)


def test_cohort_job_names_the_stage_in_words(lm_cohort, tmp_path):
    from app.cohort_jobs import CohortJob

    job = CohortJob(lm_cohort, tmp_path / "j.parquet", report=False)
    assert job.stage_text().startswith("Starting")
    job._on_stage("dnalm", 5, 20)
    assert job.stage_text() == "Step 2 of 4: DNA language-model features, 5 of 20 samples"
    assert job.stage_fraction == 0.25
    job._on_stage("scoring", 0, 20)  # chunks submitted while the pre-pass runs: keep showing the pre-pass
    assert job.stage[0] == "dnalm"
    job._on_stage("dnalm", 20, 20)
    job._on_stage("scoring", 7, 20)
    assert job.stage_text() == "Step 3 of 4: Scoring: 7 of 20 patients"
