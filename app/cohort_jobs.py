"""Background cohort scoring for the app's Cohort page (Streamlit-free, so it is testable on its own).

A :class:`CohortJob` runs :func:`cohorts.score.score_cohort` and then builds the cohort report
(:func:`cohorts.report.build_report`, its SVG figures and the HTML page) in a daemon thread. The page keeps one
job per user session in ``st.session_state`` and only reads it: progress ``(done, total)``, status, and when
finished the summary, report, figures and HTML. ``cancel()`` sets a :class:`threading.Event` that
``score_cohort`` checks between chunks: finished chunk files stay in ``OUT.parquet.parts/`` and the stored
error is :class:`~cohorts.errors.ScoringCancelled`; ``resume()`` runs the same arguments again and reuses them.
No patient identifier is logged.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["CohortJob", "default_scores_path"]

#: Job states (``status``).
IDLE, RUNNING, CANCELLED, FAILED, FINISHED = "not started", "running", "cancelled", "failed", "finished"


def default_scores_path(cohort_dir: str | os.PathLike[str]) -> Path:
    """The per-cohort scores file the app writes by default: ``COHORT/scores/scores.parquet``."""
    return Path(cohort_dir) / "scores" / "scores.parquet"


class CohortJob:
    """Score a cohort (or only report on an existing score file) in a background thread.

    Parameters
    ----------
    cohort_dir, output
        The cohort directory and the scores Parquet to write (or read, with ``score=False``).
    score
        ``False``: skip scoring and only build the report of an existing ``output``.
    chunk_size, workers, bundle
        Passed to :func:`cohorts.score.score_cohort`.
    report
        Build the report (figures and HTML) after scoring.
    cyp2d6_without_copy_number
        Use SNV/indel-only CYP2D6 calls (``cohort score --cyp2d6-without-copy-number``; default: provisional,
        not used).
    on_progress
        Extra listener called as ``on_progress(done, total)`` from the job's thread.
    """

    def __init__(self, cohort_dir: str | os.PathLike[str], output: str | os.PathLike[str], *, score: bool = True,
                 chunk_size: int = 200, workers: int = 1, bundle: str | None = None, report: bool = True,
                 on_progress: Callable[[int, int], None] | None = None,
                 cyp2d6_without_copy_number: bool = False) -> None:
        self.cohort_dir = Path(cohort_dir).resolve()
        self.output = Path(output).resolve()
        self.score, self.chunk_size, self.workers, self.bundle = score, chunk_size, workers, bundle
        self.cyp2d6_without_copy_number = bool(cyp2d6_without_copy_number)
        self.make_report = report
        self._listener = on_progress
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._done, self._total = 0, 0
        self._stage: tuple[str, int, int] | None = None
        self._phase = "waiting"
        self._status = IDLE
        self.summary: Any = None
        self.report: Any = None
        self.figures: dict[str, str] = {}
        self.html: str | None = None
        self.error: BaseException | None = None
        self.runs = 0

    # -- state (read by the page) -----------------------------------------------------------------
    @property
    def status(self) -> str:
        with self._lock:
            return self._status

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    @property
    def progress(self) -> tuple[int, int]:
        """``(patients done, patients total)`` of the scoring (finished chunks of earlier runs count as done)."""
        with self._lock:
            return self._done, self._total

    @property
    def stage(self) -> tuple[str, int, int] | None:
        """The stage last reported by the scoring (``cohorts.score.PROGRESS_STAGES``): ``(stage, done, total)``."""
        with self._lock:
            return self._stage

    def stage_text(self) -> str:
        """Where the job is, in words, with counts (covers every stage, not only the chunks)."""
        stage, phase = self.stage, self.phase
        if phase == "report":
            return "Scoring done; building the report..."
        if stage is None:
            return "Starting: reading the cohort..." if self.score else "Building the report..."
        name, done, total = stage
        if name == "pgx_shards":
            return "Step 1 of 4: slicing the germline VCF at the pharmacogene positions per chunk..."
        if name == "dnalm":
            return f"Step 2 of 4: DNA language-model features, {done} of {total or '?'} samples"
        if name == "scoring":
            return f"Step 3 of 4: Scoring: {done} of {total or '?'} patients"
        return f"Step 4 of 4: writing the scores, {done} of {total or '?'} chunks"

    @property
    def stage_fraction(self) -> float:
        """Fraction done of the current stage (1.0 when finished)."""
        if self.status == FINISHED:
            return 1.0
        stage = self.stage
        if stage is None:
            return self.fraction
        _, done, total = stage
        return 0.0 if total <= 0 else min(1.0, done / total)

    @property
    def phase(self) -> str:
        """``waiting``, ``scoring``, ``report`` or ``done``."""
        with self._lock:
            return self._phase

    @property
    def fraction(self) -> float:
        done, total = self.progress
        if self.status == FINISHED:
            return 1.0
        return 0.0 if total <= 0 else min(1.0, done / total)

    def matches(self, cohort_dir: str | os.PathLike[str], output: str | os.PathLike[str]) -> bool:
        """Whether this job is about ``cohort_dir`` and ``output``."""
        return self.cohort_dir == Path(cohort_dir).resolve() and self.output == Path(output).resolve()

    # -- control ----------------------------------------------------------------------------------
    def start(self) -> CohortJob:
        """Start (or, after a cancel or a failure, resume) the job in a daemon thread."""
        with self._lock:
            if self._status == RUNNING:
                raise RuntimeError("the job is already running")
            self._cancel.clear()
            self.error = None
            self._status = RUNNING
            self._phase = "scoring" if self.score else "report"
            self.runs += 1
            self._thread = threading.Thread(target=self._run, name="cohort-scoring", daemon=True)
        self._thread.start()
        return self

    resume = start

    def cancel(self) -> None:
        """Ask the job to stop after the chunk(s) being scored; finished chunks are kept."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the thread; ``True`` when it has ended."""
        t = self._thread
        if t is not None:
            t.join(timeout)
        return t is None or not t.is_alive()

    # -- the work ---------------------------------------------------------------------------------
    def _on_stage(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            if stage == "scoring" and self._stage is not None and self._stage[0] == "dnalm" \
                    and self._stage[1] < self._stage[2] and done == 0:
                return  # the DNA LM pre-pass is still running: keep showing it until a chunk is done
            self._stage = (stage, done, total)

    def _on_progress(self, done: int, total: int) -> None:
        with self._lock:
            self._done, self._total = done, total
        if self._listener is not None:
            self._listener(done, total)

    def _run(self) -> None:
        status = FAILED
        try:
            if self.score:
                from cohorts.score import score_cohort

                self.summary = score_cohort(self.cohort_dir, self.output, chunk_size=self.chunk_size,
                                            workers=self.workers, bundle=self.bundle, progress=False,
                                            on_progress=self._on_progress, cancel=self._cancel,
                                            on_stage=self._on_stage,
                                            cyp2d6_without_copy_number=self.cyp2d6_without_copy_number)
            if self.make_report:
                with self._lock:
                    self._phase = "report"
                from cohorts.report import build_report, render_html
                from cohorts.report_figures import report_figures

                report = build_report(self.output, self.cohort_dir)
                figures = report_figures(report)
                self.report, self.figures, self.html = report, figures, render_html(report, figures)
            status = FINISHED
        except BaseException as err:  # stored for the page (ScoringCancelled, RecommenderError, anything else)
            from cohorts.errors import ScoringCancelled

            self.error = err
            status = CANCELLED if isinstance(err, ScoringCancelled) else FAILED
        finally:
            with self._lock:
                self._status = status
                self._phase = "done"
