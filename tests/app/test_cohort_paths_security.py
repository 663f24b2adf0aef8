"""Issue 15 (2): paths typed on the Cohort page stay inside the configured folders; no foreign file is replaced.

Before the fix the page opened any directory and wrote the scores Parquet over any file the server could
write (``/etc/...``, a user's notes), without a warning.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.cohort_paths import default_output, open_cohort_dir, scores_output
from recommender.paths import PathNotAllowedError, confine, private_dir, refuse_foreign_output
from tests.app.conftest import new_app, sign_in, texts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture()
def roots(tmp_path, monkeypatch):
    cohorts, outputs = tmp_path / "cohorts", tmp_path / "outputs"
    cohorts.mkdir()
    monkeypatch.setenv("RECOMMENDER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RECOMMENDER_COHORT_ROOTS", str(cohorts))
    monkeypatch.setenv("RECOMMENDER_OUTPUT_ROOT", str(outputs))
    monkeypatch.delenv("RECOMMENDER_COHORT_DIR", raising=False)
    return cohorts, outputs


@pytest.fixture()
def small_cohort(roots):
    from cohorts import write_cohort
    from cohorts.manifest import Licence, Provenance
    from tests.cohorts.conftest import small_tables

    return write_cohort(roots[0] / "small", small_tables(), name="small", licence=Licence(name="CC0-1.0"),
                        provenance=Provenance(source="test", loader="test")).path


@pytest.mark.parametrize("typed", ["/etc", "../../", "/", "small/../../..", "\x00x", ""])
def test_cohort_dir_outside_the_roots_is_refused(roots, small_cohort, typed):
    with pytest.raises(PathNotAllowedError):
        open_cohort_dir(typed)


def test_cohort_dir_inside_a_root_is_resolved(roots, small_cohort):
    assert open_cohort_dir("small") == small_cohort.resolve()
    assert open_cohort_dir(str(small_cohort)) == small_cohort.resolve()


def test_link_inside_a_root_pointing_out_is_refused(roots, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (roots[0] / "escape").symlink_to(outside)
    with pytest.raises(PathNotAllowedError):
        open_cohort_dir("escape")
    out_user = roots[1] / "res.test"
    out_user.mkdir(parents=True)
    (out_user / "link.parquet").symlink_to(tmp_path / "victim.parquet")
    with pytest.raises(PathNotAllowedError):
        scores_output(str(out_user / "link.parquet"), "res.test", roots[0] / "small")


def test_scores_file_outside_the_users_folder_is_refused(roots, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    for typed in (str(victim), "../other.user/scores.parquet", "/etc/passwd.parquet"):
        with pytest.raises(PathNotAllowedError):
            scores_output(typed, "res.test", roots[0] / "small")
    assert victim.read_text() == "precious"


def test_existing_file_that_is_not_our_output_is_never_replaced(roots):
    folder = private_dir(roots[1] / "res.test")
    notes = folder / "notes.parquet"
    notes.write_bytes(b"not parquet at all")
    with pytest.raises(PathNotAllowedError, match="not an output of this product"):
        scores_output(str(notes), "res.test", roots[0] / "small")
    import pandas as pd

    other = folder / "other.parquet"
    pd.DataFrame({"x": [1]}).to_parquet(other)  # a Parquet file, but not our scores
    with pytest.raises(PathNotAllowedError):
        scores_output(str(other), "res.test", roots[0] / "small")
    assert notes.read_bytes() == b"not parquet at all"


def test_default_output_is_a_private_per_user_folder(roots):
    out = scores_output("", "res.test", roots[0] / "small")
    assert out == default_output("res.test", roots[0] / "small").resolve()
    assert out.is_relative_to((roots[1] / "res.test").resolve())
    assert (os.stat(roots[1] / "res.test").st_mode & 0o777) == 0o700
    assert default_output("../../x", "c").parent.parent.parent == roots[1]  # a user name cannot climb out


def test_confine_and_refuse_helpers(tmp_path):
    with pytest.raises(PathNotAllowedError):
        confine("a" * 5000, [tmp_path], field="f")
    assert confine("sub/x", [tmp_path], field="f") == (tmp_path / "sub" / "x").resolve()
    refuse_foreign_output(tmp_path / "absent.parquet", lambda p: False, field="f")
    (tmp_path / "present").write_text("x")
    with pytest.raises(PathNotAllowedError):
        refuse_foreign_output(tmp_path / "present", lambda p: False, field="f")


def _page(db, small_cohort):
    _, _, users = db
    at = sign_in(new_app(), *users["researcher"])
    at = at.switch_page("pages/cohort.py").run()
    at.text_input(key="cohort_dir").input(str(small_cohort)).run()
    return at


def test_page_refuses_a_cohort_dir_outside_the_roots(db, roots, small_cohort):
    _, _, users = db
    at = sign_in(new_app(), *users["researcher"]).switch_page("pages/cohort.py").run()
    at.text_input(key="cohort_dir").input("/etc").run()
    assert not at.exception, at.exception
    assert "outside the folders this installation allows" in texts(at)
    assert not at.metric  # nothing opened


def test_page_refuses_to_overwrite_a_server_file(db, roots, small_cohort, tmp_path):
    victim = tmp_path / "victim.conf"
    victim.write_text("precious")
    at = _page(db, small_cohort)
    assert not at.exception, at.exception
    at.text_input(key="cohort_scores_out").input(str(victim)).run()
    assert not at.exception, at.exception
    assert "outside the folders this installation allows" in texts(at)
    assert "Score this cohort" not in [b.label for b in at.button]
    assert at.session_state["app"].cohort_job is None
    assert victim.read_text() == "precious"
    assert Path(victim).stat().st_size == len("precious")
