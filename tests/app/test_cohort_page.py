"""The Cohort page's background scoring: the job object (threads) and the page with AppTest.

AppTest does not wait on threads, so the job object is tested on its own and the page is shown jobs that are
already finished or cancelled (plus one start whose thread the test joins before the next rerun).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cohort_jobs import CANCELLED, FINISHED, IDLE, CohortJob
from cohorts.errors import ScoringCancelled
from tests.app.conftest import button, new_app, sign_in, texts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

N_PATIENTS = 24
CHUNK = 6  # -> 4 chunks


@pytest.fixture(scope="module")
def cohort_dir(tmp_path_factory) -> Path:
    from cohorts.germline import RealGenotypeSource
    from cohorts.simulate import simulate_cohort

    base = tmp_path_factory.mktemp("cohort_page")
    simulate_cohort(N_PATIENTS, seed=3, germline=RealGenotypeSource(workdir=base / "germ")).write(base / "cohort")
    return base / "cohort"


@pytest.fixture(scope="module")
def out_root(tmp_path_factory) -> Path:
    """$RECOMMENDER_OUTPUT_ROOT of the page tests: the researcher's own folder is ``out_root/res.test``."""
    return tmp_path_factory.mktemp("outputs")


@pytest.fixture(scope="module")
def finished_job(cohort_dir, out_root) -> CohortJob:
    """A job that scored the cohort into the page's default per-user file and built the report."""
    job = CohortJob(cohort_dir, out_root / "res.test" / "cohort" / "scores.parquet", chunk_size=12).start()
    assert job.wait(timeout=240)
    assert job.status == FINISHED, job.error
    return job


def test_job_progress_cancel_keeps_chunks_and_resume_completes(cohort_dir, tmp_path):
    out = tmp_path / "scores.parquet"
    seen: list[tuple[int, int]] = []
    holder: dict[str, CohortJob] = {}

    def listener(done: int, total: int) -> None:
        seen.append((done, total))
        if done > 0 and holder["job"].runs == 1:
            holder["job"].cancel()  # after the first finished chunk of the first run

    job = CohortJob(cohort_dir, out, chunk_size=CHUNK, on_progress=listener)
    holder["job"] = job
    assert job.status == IDLE and job.progress == (0, 0) and job.fraction == 0.0
    job.start()
    with pytest.raises(RuntimeError):
        job.start()  # one run at a time
    assert job.wait(timeout=240)
    assert job.status == CANCELLED and isinstance(job.error, ScoringCancelled)
    assert "resume" in job.error.one_line()
    assert job.progress == (CHUNK, N_PATIENTS) and job.fraction == pytest.approx(CHUNK / N_PATIENTS)
    assert seen[0] == (0, N_PATIENTS) and (CHUNK, N_PATIENTS) in seen
    parts = sorted(p.name for p in (tmp_path / "scores.parquet.parts").glob("chunk-*.parquet"))
    assert parts == ["chunk-00000.parquet"] and not out.exists() and job.report is None

    job.resume()
    assert job.wait(timeout=240)
    assert job.status == FINISHED and job.error is None and job.runs == 2
    assert job.summary.chunks_reused == 1 and job.summary.chunks_computed == 3
    assert job.summary.n_scored == N_PATIENTS and out.exists()
    assert job.progress == (N_PATIENTS, N_PATIENTS) and job.fraction == 1.0
    assert job.report.n_patients_scored == N_PATIENTS
    assert job.html.startswith("<!DOCTYPE html>") and job.report.disclaimer in job.html
    assert {"distributions", "km_pfs", "km_os"} <= set(job.figures)


def test_report_only_job_and_failure_is_stored(cohort_dir, finished_job, tmp_path):
    only = CohortJob(cohort_dir, finished_job.output, score=False).start()
    assert only.wait(timeout=120) and only.status == FINISHED and only.summary is None
    assert only.report.provenance.scores_sha256 == finished_job.report.provenance.scores_sha256
    bad = CohortJob(cohort_dir, tmp_path / "none.parquet", score=False).start()
    assert bad.wait(timeout=60) and bad.status == "failed" and "not found" in bad.error.one_line()


def _open_page(db, monkeypatch, cohort_dir: Path, job: CohortJob | None = None, out_root: Path | None = None):
    monkeypatch.setenv("RECOMMENDER_COHORT_DIR", str(cohort_dir))
    if out_root is not None:
        monkeypatch.setenv("RECOMMENDER_OUTPUT_ROOT", str(out_root))
    _, _, users = db
    at = sign_in(new_app(), *users["researcher"])
    if job is not None:
        at.session_state["app"].cohort_job = job
    return at.switch_page("pages/cohort.py").run()


def test_page_shows_the_finished_report_and_downloads(db, monkeypatch, cohort_dir, finished_job, out_root):
    at = _open_page(db, monkeypatch, cohort_dir, finished_job, out_root)
    assert not at.exception, at.exception
    page = texts(at)
    assert "Research use only" in page
    assert "Scored 24 patients" in page and str(finished_job.output) in page
    assert "per-cohort default in your output folder" in page
    assert "confounding by indication" in page
    labels = [b.label for b in at.get("download_button")]
    assert {"Download the scores (Parquet)", "Download the HTML report",
            "Download the report numbers (JSON)"} <= set(labels)
    frames = [d.value for d in at.dataframe]
    preds = next(f for f in frames if "ranked first" in f.columns)
    assert preds["patients"].sum() == finished_job.report.n_rows
    assert any("phenotype" in f.columns for f in frames)  # PGx table of the selected gene
    assert any("HR (recommended vs another)" in f.columns for f in frames)
    assert len(at.get("image")) >= 4  # distributions, response + toxicity calibration, KM (PFS, OS)
    # the existing parts of the page are kept
    assert at.metric[0].value == str(N_PATIENTS) and "log-rank" in page
    assert "Cancel" not in [b.label for b in at.button] and "Resume" not in [b.label for b in at.button]


def test_page_offers_resume_for_a_cancelled_job(db, monkeypatch, cohort_dir, tmp_path, out_root):
    out = out_root / "res.test" / "cancelled.parquet"
    job = CohortJob(cohort_dir, out, chunk_size=CHUNK,
                    on_progress=lambda done, total: job.cancel() if done else None)
    assert job.start().wait(timeout=240) and job.status == CANCELLED
    at = _open_page(db, monkeypatch, cohort_dir, job, out_root)
    at.text_input(key="cohort_scores_out").input(str(out)).run()
    assert not at.exception, at.exception
    assert "Scoring cancelled after 6 of 24 patients" in texts(at)
    assert "the path you chose" in texts(at)
    assert "Resume" in [b.label for b in at.button]


def test_page_starts_a_job_in_the_background(db, monkeypatch, cohort_dir, tmp_path, out_root):
    at = _open_page(db, monkeypatch, cohort_dir, out_root=out_root)
    assert not at.exception, at.exception
    out = out_root / "res.test" / "page_scores.parquet"
    at.text_input(key="cohort_scores_out").input(str(out)).run()
    button(at, "Score this cohort").click()
    at.run()
    assert not at.exception, at.exception
    job = at.session_state["app"].cohort_job
    assert job.matches(cohort_dir, out)
    assert job.wait(timeout=240) and job.status == FINISHED, job.error
    at.run()
    assert not at.exception, at.exception
    assert out.exists() and "Download the HTML report" in [b.label for b in at.get("download_button")]


def test_cyp2d6_without_copy_number_box_reaches_the_job(db, monkeypatch, cohort_dir, out_root):
    """The app's cohort scoring offers the same CYP2D6 opt-in as `cohort score --cyp2d6-without-copy-number`
    (off by default: provisional calls are not used)."""
    import app.cohort_jobs as jobs

    started: list[CohortJob] = []
    monkeypatch.setattr(jobs.CohortJob, "start", lambda self: started.append(self) or self)
    at = _open_page(db, monkeypatch, cohort_dir, out_root=out_root)
    assert not at.exception, at.exception
    box = at.checkbox(key="cohort_cyp2d6_snv")
    assert box.value is False
    box.check().run()
    button(at, "Score this cohort").click()
    at.run()
    assert not at.exception, at.exception
    assert started and started[-1].cyp2d6_without_copy_number is True
