"""Cohort scoring at scale (cohorts/score.py): rows, resumption after a kill, parallel == serial."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cohorts.germline import RealGenotypeSource
from cohorts.score import PLAN_KEY, ROW_SCHEMA, _finished, parts_dir, plan_chunks, score_cohort
from cohorts.simulate import simulate_cohort
from cohorts.simulate_model import CANDIDATES
from genomics.errors import UsageError

N_PATIENTS = 18
CHUNK = 6  # -> 3 chunks


@pytest.fixture(scope="module")
def cohort_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("score")
    sim = simulate_cohort(N_PATIENTS, seed=5, germline=RealGenotypeSource(workdir=base / "germ"))
    sim.write(base / "cohort")
    return base / "cohort"


@pytest.fixture(scope="module")
def reference(cohort_dir, tmp_path_factory):
    """An uninterrupted single-process run (summary, table)."""
    out = tmp_path_factory.mktemp("ref") / "scores.parquet"
    summary = score_cohort(cohort_dir, out, chunk_size=CHUNK, progress=False)
    return summary, pd.read_parquet(out)


def test_one_row_per_patient_and_candidate_option(cohort_dir, reference):
    summary, df = reference
    pts = pd.read_parquet(cohort_dir / "patients.parquet")
    expected = sum(len(CANDIDATES[c]) for c in pts["cancer_type"])
    assert summary.n_patients == N_PATIENTS and summary.n_scored == N_PATIENTS and summary.n_skipped == 0
    assert summary.n_rows == len(df) == expected
    per_patient = pts.set_index("patient_id")["cancer_type"].map(lambda c: len(CANDIDATES[c]))
    assert df.groupby("patient_id").size().sort_index().to_dict() == per_patient.sort_index().to_dict()
    assert not df.duplicated(["patient_id", "regimen"]).any()
    assert list(df["patient_id"].drop_duplicates()) == list(pts["patient_id"])  # table order kept
    # ranks 1..k within each patient; model numbers present with intervals around them
    assert (df.groupby("patient_id")["rank"].apply(lambda r: sorted(r) == list(range(1, len(r) + 1)))).all()
    assert df["p_response"].between(0, 1).all()
    assert (df["p_response_low"] <= df["p_response"] + 1e-9).all()
    assert (df["p_response"] <= df["p_response_high"] + 1e-9).all()
    assert df["pfs_median_days"].notna().all() and df["model_bundle_id"].notna().all()
    from recommender.vocab import GUIDANCE_ACTIONS  # the one action vocabulary (issue 20: not_assessed too)

    assert df["guidance_action"].isin(GUIDANCE_ACTIONS).all()
    assert df["pgx_actions"].map(len).gt(0).all()
    assert df["pgx_sample"].notna().all()
    assert pq.read_schema(summary.output).remove_metadata().equals(ROW_SCHEMA)
    assert not parts_dir(summary.output).exists()  # parts removed after the final file


def test_plan_chunks_and_bad_arguments(cohort_dir, tmp_path):
    assert plan_chunks(list("abcde"), 2) == [("a", "b"), ("c", "d"), ("e",)]
    with pytest.raises(UsageError):
        plan_chunks(["a"], 0)
    with pytest.raises(UsageError):
        score_cohort(cohort_dir, tmp_path / "x.parquet", workers=0, progress=False)


_CHILD = """
import sys
from cohorts.score import score_cohort
score_cohort(sys.argv[1], sys.argv[2], chunk_size=int(sys.argv[3]), progress=False)
"""


def test_killed_run_resumes_without_recomputing_and_equals_uninterrupted(cohort_dir, reference, tmp_path):
    out = tmp_path / "scores.parquet"
    parts = parts_dir(out)
    first = parts / "chunk-00000.parquet"
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(cohort_dir), str(out), str(CHUNK)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not first.exists():
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "no chunk file within 60 s"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert not out.exists()
    done = sorted(p.name for p in parts.glob("chunk-*.parquet"))
    assert done and len(done) < 3, done
    mtimes = {name: (parts / name).stat().st_mtime_ns for name in done}
    # a partial file under the final name (e.g. copied by hand, disk full) is never taken as finished
    (parts / "chunk-00002.parquet").write_bytes(b"PAR1 truncated")

    summary = score_cohort(cohort_dir, out, chunk_size=CHUNK, progress=False, keep_parts=True)
    assert summary.chunks_reused == len(done) and summary.chunks_computed == 3 - len(done)
    for name, t in mtimes.items():
        assert (parts / name).stat().st_mtime_ns == t, f"{name} was recomputed"
    assert not list(parts.glob("*.tmp-*"))
    pd.testing.assert_frame_equal(pd.read_parquet(out), reference[1])
    assert summary.n_rows == reference[0].n_rows and summary.n_scored == N_PATIENTS

    # a complete chunk file of another plan (other chunk size, cohort, bundle or version) is not reused
    part = pq.read_table(parts / "chunk-00000.parquet")
    meta = dict(part.schema.metadata)
    assert _finished(parts / "chunk-00000.parquet", meta[PLAN_KEY].decode()) is not None
    meta[PLAN_KEY] = b"another-plan"
    pq.write_table(part.replace_schema_metadata(meta), parts / "chunk-00000.parquet")
    assert _finished(parts / "chunk-00000.parquet", "plan-of-this-run") is None


def test_two_workers_give_the_same_output_as_one(cohort_dir, reference, tmp_path):
    out = tmp_path / "par.parquet"
    summary = score_cohort(cohort_dir, out, chunk_size=CHUNK, workers=2, progress=False)
    assert summary.workers == 2 and summary.chunks_computed == 3
    pd.testing.assert_frame_equal(pd.read_parquet(out), reference[1])
    assert summary.skipped == reference[0].skipped and summary.warnings == reference[0].warnings


def test_cli_score_writes_parquet_and_json_summary(cohort_dir, reference, tmp_path, capsys):
    import json

    from recommender.cli import main

    out = tmp_path / "cli.parquet"
    code = main(["cohort", "score", str(cohort_dir), "-o", str(out), "--chunk-size", str(CHUNK), "--json"])
    assert code == 0
    info = json.loads(capsys.readouterr().out)
    assert info["n_rows"] == reference[0].n_rows and info["n_scored"] == N_PATIENTS
    assert pa.Table.equals(pq.read_table(out), pq.read_table(reference[0].output))


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_output(cohort_dir, reference, tmp_path):
    distributed = pytest.importorskip("distributed", reason="dask.distributed not installed (extra 'cluster')")
    out = tmp_path / "dask.parquet"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        summary = score_cohort(cohort_dir, out, chunk_size=CHUNK, scheduler=cluster.scheduler_address,
                               progress=False)
    assert summary.scheduler == cluster.scheduler_address and summary.chunks_computed == 3
    pd.testing.assert_frame_equal(pd.read_parquet(out), reference[1])


def test_unreachable_scheduler_is_a_usage_error(cohort_dir, tmp_path, monkeypatch):
    pytest.importorskip("distributed", reason="dask.distributed not installed (extra 'cluster')")
    monkeypatch.setattr("cohorts.score.SCHEDULER_TIMEOUT", "1s")
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler"):
        score_cohort(cohort_dir, tmp_path / "x.parquet", chunk_size=CHUNK, scheduler="tcp://127.0.0.1:9",
                     progress=False)


def test_bad_record_is_skipped_with_its_reason_and_the_rest_scored(cohort_dir, tmp_path, monkeypatch):
    from cohorts import storage
    from cohorts.errors import CohortError

    real = storage.patient_from_dict
    bad = pd.read_parquet(cohort_dir / "patients.parquet")["patient_id"].iloc[2]

    def failing(data, **kw):
        if data["patient_id"] == bad:
            raise CohortError("broken record", field="age")
        return real(data, **kw)

    monkeypatch.setattr(storage, "patient_from_dict", failing)
    summary = score_cohort(cohort_dir, tmp_path / "s.parquet", chunk_size=CHUNK, bundle=False, progress=False)
    assert summary.n_skipped == 1 and summary.n_scored == N_PATIENTS - 1
    assert summary.skipped == {"invalid record: CohortError": 1}
    df = pd.read_parquet(tmp_path / "s.parquet")
    assert bad not in set(df["patient_id"]) and df["patient_id"].nunique() == N_PATIENTS - 1
    assert not df["model_available"].any() and df["p_response"].isna().all()


def test_rows_carry_each_patients_pgx_phenotypes(cohort_dir, reference):
    _, df = reference
    first = df.drop_duplicates("patient_id")
    phen = first["pgx_phenotypes"].map(lambda v: {d["gene"]: d for d in v})
    assert phen.map(len).gt(5).all()  # every patient has a VCF sample: genes are called
    cyp2c19 = [p["CYP2C19"] for p in phen if "CYP2C19" in p]
    assert cyp2c19 and all(c["status"] in {"called", "ambiguous", "incomplete", "not_called"} for c in cyp2c19)
    called = [c for c in cyp2c19 if c["status"] == "called"]
    assert called and all(c["phenotype"] and c["diplotype"] for c in called)
    # the same patient's phenotypes are repeated on each of its option rows
    one = df[df["patient_id"] == first["patient_id"].iloc[0]]["pgx_phenotypes"].map(lambda v: list(map(dict, v)))
    assert all(x == one.iloc[0] for x in one)


def test_cyp2d6_without_copy_number_is_opt_in_and_reaches_rows_warnings_and_plan(cohort_dir, reference, tmp_path,
                                                                                  capsys):
    """``cohort score`` had no way to use an SNV/indel-only CYP2D6 call (``score`` has
    ``--cyp2d6-without-copy-number``): the models' CYP2D6 features were missing for every patient of a cohort
    VCF, so tamoxifen x CYP2D6 could not personalise a cohort ranking even on request."""
    from recommender.cli import main

    summary, default = reference
    cyp = lambda df: df.drop_duplicates("patient_id")["pgx_phenotypes"].map(  # noqa: E731
        lambda v: next((dict(d) for d in v if d["gene"] == "CYP2D6"), None))
    assert {c["status"] for c in cyp(default) if c} <= {"provisional", "not_called"}  # default: not used
    assert any("is provisional" in k for k in summary.warnings)
    out = tmp_path / "opt_in.parquet"
    capsys.readouterr()
    assert main(["cohort", "score", str(cohort_dir), "-o", str(out), "--chunk-size", str(CHUNK), "--no-progress",
                 "--cyp2d6-without-copy-number", "--json"]) == 0
    opt_in = json.loads(capsys.readouterr().out)
    df = pd.read_parquet(out)
    calls = [c for c in cyp(df) if c]
    assert calls and any(c["status"] == "called" and c["activity_score"] is not None for c in calls)
    # every opted-in patient's result says so (counted in the summary), and none is left "provisional"
    assert any("used for guidance without copy" in k for k in opt_in["warnings"])
    assert not any("is provisional" in k for k in opt_in["warnings"])
    # the file says which options produced it (provenance)
    meta = lambda path: json.loads(pq.read_schema(path).metadata[b"recommender.cohort_score"])  # noqa: E731
    assert meta(out)["options"]["cyp2d6_without_copy_number"] is True
    assert meta(summary.output)["options"]["cyp2d6_without_copy_number"] is False
    # a different plan: chunks of the default run are never reused for the opt-in run (and the plans of runs
    # without the option keep their hash)
    from cohorts.score import _plan_hash

    plain = _plan_hash(cohort_dir.resolve(), CHUNK, None, None)
    assert _plan_hash(cohort_dir.resolve(), CHUNK, None, None, False) == plain
    assert _plan_hash(cohort_dir.resolve(), CHUNK, None, None, True) != plain


def test_progress_callback_and_cancel_keep_finished_chunks_and_resume(cohort_dir, reference, tmp_path):
    import threading

    from cohorts.errors import ScoringCancelled

    out = tmp_path / "cancel.parquet"
    seen: list[tuple[int, int]] = []
    stop = threading.Event()

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        if done >= CHUNK:
            stop.set()  # cancel after the first chunk

    with pytest.raises(ScoringCancelled, match="1 of 3 chunks") as err:
        score_cohort(cohort_dir, out, chunk_size=CHUNK, progress=False, on_progress=progress, cancel=stop)
    assert "re-run" in err.value.fix
    assert seen == [(0, N_PATIENTS), (CHUNK, N_PATIENTS)]
    assert not out.exists() and len(list(parts_dir(out).glob("chunk-*.parquet"))) == 1
    summary = score_cohort(cohort_dir, out, chunk_size=CHUNK, progress=False)
    assert summary.chunks_reused == 1 and summary.chunks_computed == 2
    pd.testing.assert_frame_equal(pd.read_parquet(out), reference[1])


# ------------------------------------------------------------------------------------------------ scale (issue 8)
def test_chunk_stats_carry_stage_seconds_and_worker_memory(cohort_dir, tmp_path):
    from cohorts.score import STAGES, STATS_KEY

    out = tmp_path / "stages.parquet"
    summary = score_cohort(cohort_dir, out, chunk_size=CHUNK, progress=False, keep_parts=True)
    for part in sorted(parts_dir(out).glob("chunk-*.parquet")):
        stats = json.loads(pq.read_schema(part).metadata[STATS_KEY])
        assert stats["pid"] == os.getpid() and stats["peak_rss_kib"] > 10_000 and stats["ru_maxrss_kib"] > 0
        assert {"vcf", "pgx", "biomarkers", "features", "models"} <= set(stats["stage_seconds"])
        assert set(stats["stage_seconds"]) <= set(STAGES) and min(stats["stage_seconds"].values()) >= 0
    st = summary.stage_seconds
    assert {"vcf", "pgx", "biomarkers", "features", "models", "overlay", "output"} <= set(st)
    assert list(st) == [s for s in STAGES if s in st]  # pipeline order
    assert 0 < sum(st.values()) <= summary.seconds * 1.05 + 0.5  # one process: the stages fit in the run
    assert list(summary.peak_rss_mb_per_worker) == [str(os.getpid())]
    assert summary.peak_rss_mb_per_worker[str(os.getpid())] > 50
    data = summary.to_dict()
    assert data["stage_seconds"] == st and data["peak_rss_mb_per_worker"] == summary.peak_rss_mb_per_worker
    # a run that only reuses finished chunks computed nothing: no stage seconds, no worker
    again = score_cohort(cohort_dir, out, chunk_size=CHUNK, progress=False)
    assert again.chunks_computed == 0 and again.stage_seconds == {} and again.peak_rss_mb_per_worker == {}


def test_two_workers_report_their_own_pids_and_memory(cohort_dir, tmp_path):
    summary = score_cohort(cohort_dir, tmp_path / "w2.parquet", chunk_size=CHUNK, workers=2, progress=False)
    pids = set(summary.peak_rss_mb_per_worker)
    assert 1 <= len(pids) <= 2 and str(os.getpid()) not in pids
    assert all(50 < mb < 4000 for mb in summary.peak_rss_mb_per_worker.values())
    assert summary.stage_seconds["models"] > 0


def test_cli_prints_stage_seconds_and_memory(cohort_dir, tmp_path, capsys):
    from recommender.cli import main

    out = tmp_path / "cli-stages.parquet"
    assert main(["cohort", "score", str(cohort_dir), "-o", str(out), "--chunk-size", str(CHUNK), "--no-progress",
                 "--dnalm-cache", str(tmp_path / "lm.sqlite")]) == 0
    text = capsys.readouterr().out
    assert "seconds per stage (all workers): vcf" in text and "models" in text
    assert f"(pid {os.getpid()})" in text and "peak RSS per worker" in text
    assert main(["cohort", "score", str(cohort_dir), "-o", str(tmp_path / "j.parquet"), "--chunk-size", str(CHUNK),
                 "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert set(info["stage_seconds"]) >= {"vcf", "pgx", "models"} and info["peak_rss_mb_per_worker"]


LM_N, LM_SEED = 20, 19  # a cohort with two BRCA1 carriers (DNA LM genes of the default bundle)


@pytest.fixture(scope="module")
def lm_cohort(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("lm")
    sim = simulate_cohort(LM_N, seed=LM_SEED, germline=RealGenotypeSource(workdir=base / "germ"))
    sim.write(base / "cohort")
    return base / "cohort"


def _default_bundle_or_skip():
    from recommender.scoring import load_bundle

    bundle, reason = load_bundle(None)
    if bundle is None:
        pytest.skip(f"default model bundle not available: {reason}")
    if not bundle.schema.dnalm_genes:
        pytest.skip("the default bundle has no DNA LM genes")
    return bundle


def test_cohort_rows_equal_single_patient_scores_with_dna_lm_features(lm_cohort, tmp_path):
    """Every cohort row equals the row of score_patient for that patient alone (own VCF read, own DNA LM run)."""
    import warnings

    from cohorts.score import DNALM_CACHE_NAME, DNALM_FEATURES_NAME, _rows
    from cohorts.storage import _patients_from_tables, load_cohort
    from genomics.pgx import call_pgx
    from recommender.requests import PatientInputs, RankingOptions
    from recommender.schema import TreatmentOption
    from recommender.scoring import score_patient

    _default_bundle_or_skip()
    out = tmp_path / "lm.parquet"
    summary = score_cohort(lm_cohort, out, chunk_size=7, progress=False, keep_parts=True)
    assert summary.n_scored == LM_N and "dnalm" in summary.stage_seconds
    assert (parts_dir(out) / DNALM_FEATURES_NAME).exists() and (parts_dir(out) / DNALM_CACHE_NAME).exists()
    df = pd.read_parquet(out)
    carriers = sorted(set(df.loc[df["dnalm_model"].notna(), "patient_id"]))
    assert len(carriers) == 2  # the DNA LM ran for the two BRCA1 carriers only

    cohort = load_cohort(lm_cohort, validate=False)
    vcf = str(cohort.vcf_path)
    patients = {p.patient_id: p for p in _patients_from_tables(cohort)}
    # cohort score reads each patient's covariates (ER status, ...) from the patients table: pass the same ones
    from recommender.models.training import patient_covariates

    bundle = _default_bundle_or_skip()
    covs = {str(r["patient_id"]): patient_covariates(r, bundle.schema) for r in cohort.patients.to_dict("records")}
    others = [pid for pid in patients if pid not in carriers][:4]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for pid in carriers + others:
            p = patients[pid]
            p = p.model_copy(update={"candidate_treatments": tuple(
                TreatmentOption(regimen=r) for r in CANDIDATES[p.diagnosis.cancer_type])})
            rec = score_patient(p, inputs=PatientInputs(fill_missing_with_reference=True, covariates=covs[pid]),
                                ranking=RankingOptions(explain=False))  # reads the VCF itself
            assert rec.provenance.inputs["germline_vcf"] == "germline.vcf.gz"
            profile = call_pgx(vcf, sample=p.germline.sample_id, fill_missing_with_reference=True,
                               include_positions=False, sex=p.demographics.sex)
            chunk = int(df.loc[df["patient_id"] == pid, "chunk"].iloc[0])
            single = pa.Table.from_pylist(_rows(rec, chunk, profile), schema=ROW_SCHEMA).to_pandas()
            cohort_rows = df[df["patient_id"] == pid].reset_index(drop=True)
            pd.testing.assert_frame_equal(cohort_rows, single)
            if pid in carriers:
                assert rec.provenance.dna_lm and any("DNA LM features from 1 variant(s) in BRCA1" in n
                                                     for n in rec.provenance.notes)


def test_dna_lm_stage_per_chunk_without_the_run_file_gives_the_same_rows(lm_cohort, tmp_path):
    """score_chunk called directly (no DNA LM features file) computes its chunk's features through the cache."""
    from cohorts.score import ChunkTask, score_chunk

    _default_bundle_or_skip()
    out = tmp_path / "run.parquet"
    score_cohort(lm_cohort, out, chunk_size=LM_N, progress=False)
    ids = tuple(pd.read_parquet(lm_cohort / "patients.parquet")["patient_id"])
    part = tmp_path / "direct.parquet"
    stats = score_chunk(ChunkTask(str(lm_cohort.resolve()), 0, ids, str(part), None, None, "direct-plan",
                                  dnalm_cache=str(tmp_path / "cache.sqlite")))
    assert stats["stage_seconds"]["dnalm"] > 0 and (tmp_path / "cache.sqlite").exists()
    pd.testing.assert_frame_equal(pd.read_parquet(part), pd.read_parquet(out))


def test_dnalm_features_for_samples_equal_one_sample_at_a_time(lm_cohort, tmp_path):
    import warnings

    from recommender.dnalm_features import DnaLmFeatures, dnalm_features_for_samples, dnalm_gene_features

    genes = ("BRCA1", "BRCA2")
    vcf = str(lm_cohort / "germline.vcf.gz")
    samples = list(pd.read_parquet(lm_cohort / "patients.parquet")["sample_id"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        many = dnalm_features_for_samples(vcf, samples, genes, cache=tmp_path / "c.sqlite")
        again = dnalm_features_for_samples(vcf, samples, genes, cache=tmp_path / "c.sqlite")  # from the cache
        carriers = [s for s, f in many.items() if f.n_variants]
        assert len(carriers) == 2 and set(many) == set(samples)
        for s in carriers + [x for x in samples if x not in carriers][:3]:
            one = dnalm_gene_features(vcf, s, genes)
            assert many[s] == one == again[s]
            assert DnaLmFeatures.from_dict(json.loads(json.dumps(one.to_dict()))) == one


def test_pgx_shards_give_the_same_rows_as_reading_the_whole_vcf(cohort_dir, reference, tmp_path, monkeypatch):
    """Each chunk reads its own slice of the VCF at the PGx positions; results must not change."""
    import cohorts.score as score_mod

    calls: list[int] = []
    real = score_mod._pgx_shards

    def counting(*args, **kwargs):
        tasks, paths = real(*args, **kwargs)
        calls.append(len(paths))
        return tasks, paths

    monkeypatch.setattr(score_mod, "_pgx_shards", counting)
    out = tmp_path / "sharded.parquet"
    score_cohort(cohort_dir, out, chunk_size=CHUNK, progress=False, keep_parts=True)
    assert calls == [N_PATIENTS // CHUNK]  # one shard per chunk was written
    shards = sorted(parts_dir(out).glob("pgx-*.vcf.gz"))
    assert len(shards) == N_PATIENTS // CHUNK and all(Path(f"{s}.tbi").exists() for s in shards)
    import cyvcf2

    first = cyvcf2.VCF(str(shards[0]))
    pts = pd.read_parquet(cohort_dir / "patients.parquet")
    assert list(first.samples) == [s for s in pts["sample_id"].iloc[:CHUNK]]  # the chunk's samples only
    n_sharded = sum(1 for _ in first)
    assert 0 < n_sharded < sum(1 for _ in cyvcf2.VCF(str(cohort_dir / "germline.vcf.gz")))
    sharded = pd.read_parquet(out)

    monkeypatch.setattr(score_mod, "_pgx_shards", lambda cp, c, tasks, parts, plan: (tasks, []))
    whole = tmp_path / "whole.parquet"
    score_cohort(cohort_dir, whole, chunk_size=CHUNK, progress=False)
    pd.testing.assert_frame_equal(sharded, pd.read_parquet(whole))
    pd.testing.assert_frame_equal(sharded, reference[1])
    # without keep_parts the shards go with the chunk files
    score_cohort(cohort_dir, tmp_path / "clean.parquet", chunk_size=CHUNK, progress=False)
    assert not parts_dir(tmp_path / "clean.parquet").exists()
