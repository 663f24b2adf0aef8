"""Which folders the Cohort page may open and write (Streamlit-free, testable on its own).

A cohort directory typed on the page must lie inside a configured cohort root
(``$RECOMMENDER_COHORT_ROOTS``, default ``<data home>/cohorts``; the cohort the launcher named in
``$RECOMMENDER_COHORT_DIR`` counts as one); a scores file must lie inside the signed-in user's own output
folder (``$RECOMMENDER_OUTPUT_ROOT/<user>``, default ``<data home>/outputs/<user>``), which is also where the
default goes, and an existing file there is replaced only when it is this product's own scores Parquet.
Links are followed before the check, so a link inside a root that points out of it is refused.
"""

from __future__ import annotations

import os
from pathlib import Path

from recommender.paths import (
    confine,
    is_cohort_scores_parquet,
    private_dir,
    refuse_foreign_output,
    safe_component,
)
from recommender.settings import get_settings

__all__ = ["ENV_COHORT_DIR", "cohort_roots", "default_output", "open_cohort_dir", "output_dir", "scores_output"]

#: The cohort the launcher (or an operator) names for the page; allowed like a root.
ENV_COHORT_DIR = "RECOMMENDER_COHORT_DIR"


def cohort_roots() -> list[Path]:
    """Folders cohorts may be opened from."""
    roots = list(get_settings().cohort_roots)
    named = os.environ.get(ENV_COHORT_DIR, "").strip()
    if named:
        roots.append(Path(named).expanduser())
    return roots


def open_cohort_dir(text: str) -> Path:
    """The resolved cohort directory for what the user typed (inside a cohort root), else ``PathNotAllowedError``."""
    return confine(text, cohort_roots(), field="cohort directory", what="cohort directory")


def output_dir(username: str | None) -> Path:
    """The user's own output folder (not created here)."""
    return get_settings().user_output_dir(username)


def default_output(username: str | None, cohort_dir: str | os.PathLike[str]) -> Path:
    """``<user output folder>/<cohort folder name>/scores.parquet``."""
    return output_dir(username) / safe_component(Path(cohort_dir).name) / "scores.parquet"


def scores_output(text: str | None, username: str | None, cohort_dir: str | os.PathLike[str], *,
                  for_writing: bool = True) -> Path:
    """The scores file for what the user typed (empty: the default), confined to the user's output folder.

    With ``for_writing`` an existing file must be this product's scores Parquet (else ``PathNotAllowedError``)
    and the folder is created with mode 0700.
    """
    base = output_dir(username)
    text = (text or "").strip() or str(default_output(username, cohort_dir))
    path = confine(text, [base], field="scores file", what="scores file")
    if path.suffix.lower() != ".parquet":
        from recommender.paths import PathNotAllowedError

        raise PathNotAllowedError("the scores file must end in .parquet", field="scores file",
                                  fix="give a file name ending in .parquet")
    if for_writing:
        refuse_foreign_output(path, is_cohort_scores_parquet, field="scores file", what="scores file")
        parts = path.with_name(path.name + ".parts")
        if parts.is_symlink() or (parts.exists() and not parts.is_dir()):
            refuse_foreign_output(parts, lambda _p: False, field="scores file", what="chunk folder")
        private_dir(base)
        private_dir(path.parent)
    return path
