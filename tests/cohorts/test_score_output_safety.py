"""``cohort score -o PATH`` never overwrites a file that is not a score output of ours.

Attack: ``recommender cohort score COHORT -o ~/.bashrc`` (or any Parquet/CSV the user keeps) replaced the file
with a score table. Now an existing output must be a ``cohort score`` Parquet (its metadata key) unless
``--overwrite``; a directory or a symbolic link is refused; the write goes through a new temporary file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from cohorts.score import score_cohort
from cohorts.simulate import simulate_cohort
from genomics.errors import UsageError
from recommender.cli import main


@pytest.fixture(scope="module")
def cohort_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("score_safety")
    sim = simulate_cohort(6, seed=11)
    sim.write(base / "cohort")
    return base / "cohort"


def test_refuses_to_overwrite_a_file_that_is_not_a_score_output(cohort_dir, tmp_path):
    victim = tmp_path / "notes.txt"
    victim.write_text("precious\n")
    with pytest.raises(UsageError, match="not a 'cohort score' output"):
        score_cohort(cohort_dir, victim, bundle=False, progress=False)
    assert victim.read_text() == "precious\n"
    assert not (tmp_path / "notes.txt.parts").exists()  # refused before any work


def test_refuses_to_overwrite_someone_elses_parquet(cohort_dir, tmp_path):
    victim = tmp_path / "mine.parquet"
    pd.DataFrame({"a": [1, 2]}).to_parquet(victim)
    before = victim.read_bytes()
    with pytest.raises(UsageError, match="--overwrite"):
        score_cohort(cohort_dir, victim, bundle=False, progress=False)
    assert victim.read_bytes() == before


def test_overwrite_replaces_it_and_a_score_output_is_rewritten_without_asking(cohort_dir, tmp_path):
    victim = tmp_path / "mine.parquet"
    pd.DataFrame({"a": [1, 2]}).to_parquet(victim)
    score_cohort(cohort_dir, victim, bundle=False, progress=False, overwrite=True)
    assert b"recommender.cohort_score" in pq.read_schema(victim).metadata
    score_cohort(cohort_dir, victim, bundle=False, progress=False)  # our own output: a re-run is fine


def test_refuses_a_directory_and_a_symbolic_link(cohort_dir, tmp_path):
    folder = tmp_path / "dir.parquet"
    folder.mkdir()
    with pytest.raises(UsageError, match="directory"):
        score_cohort(cohort_dir, folder, bundle=False, progress=False, overwrite=True)
    target = tmp_path / "target.txt"
    target.write_text("keep\n")
    link = tmp_path / "link.parquet"
    link.symlink_to(target)
    with pytest.raises(UsageError, match="symbolic link"):
        score_cohort(cohort_dir, link, bundle=False, progress=False, overwrite=True)
    assert target.read_text() == "keep\n"


def test_cli_refuses_with_one_line_and_a_usage_exit_code(cohort_dir, tmp_path, capsys):
    victim = tmp_path / "report.csv"
    victim.write_text("id,value\n1,2\n")
    code = main(["cohort", "score", str(cohort_dir), "-o", str(victim), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == UsageError.exit_code and len(err) == 1 and "--overwrite" in err[0]  # a usage error: exit 2
    assert victim.read_text() == "id,value\n1,2\n"
