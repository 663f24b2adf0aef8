"""Paths a user types (app) or sends (service): confined to configured data roots, never a foreign file.

* :func:`confine` resolves a typed path (relative paths against the first root) with every link
  followed, and accepts it only when the result lies inside one of the roots (also resolved): a link
  inside a root that points out of it is refused, and so is ``..``.
* :func:`refuse_foreign_output` refuses to replace an existing file that is not this product's own
  output (for Parquet: the product's schema-metadata key), so a typo cannot turn a server file into
  Parquet.
* :func:`private_dir` creates a folder (and missing parents) with mode 0700.

Examples
--------
>>> safe_component("../../etc/passwd")
'.._.._etc_passwd'
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from genomics.errors import UsageError

__all__ = ["PathNotAllowedError", "confine", "is_cohort_scores_parquet", "private_dir", "refuse_foreign_output",
           "safe_component"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]")
MAX_PATH_CHARS = 1024


class PathNotAllowedError(UsageError):
    """A path typed or sent by a user lies outside the configured data roots, or names a foreign file."""


def safe_component(name: str) -> str:
    """``name`` as one harmless folder name (letters, digits, ``. _ @ -``; never ``.``/``..``/hidden)."""
    out = _UNSAFE.sub("_", str(name))[:64].lstrip(".") or "_"
    return out


def confine(text: str | os.PathLike[str], roots: Iterable[str | os.PathLike[str]], *, field: str,
            what: str = "path") -> Path:
    """The resolved path of ``text`` if it lies inside one of ``roots`` (links followed), else an error.

    Parameters
    ----------
    text
        What the user typed; a relative path is taken relative to the first root.
    roots
        The allowed folders (need not exist yet).
    field
        The form field or parameter named in the error.

    Raises
    ------
    PathNotAllowedError
        Empty, too long, a NUL byte, or outside every root after resolving links and ``..``.
    """
    roots = [Path(r).expanduser() for r in roots]
    raw = os.fspath(text).strip() if text is not None else ""
    allowed = ", ".join(str(r) for r in roots)
    if not raw or "\x00" in raw or len(raw) > MAX_PATH_CHARS:
        raise PathNotAllowedError(f"not a usable {what}", field=field, fix=f"give a {what} inside: {allowed}")
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = roots[0] / path
    real = Path(os.path.realpath(path))
    for root in roots:
        real_root = Path(os.path.realpath(root))
        if real == real_root or real.is_relative_to(real_root):
            return real
    raise PathNotAllowedError(f"the {what} is outside the folders this installation allows", field=field,
                              fix=f"give a {what} inside: {allowed} (an administrator sets them: "
                                  "$RECOMMENDER_COHORT_ROOTS, $RECOMMENDER_OUTPUT_ROOT)")


def refuse_foreign_output(path: str | os.PathLike[str], is_ours: Callable[[Path], bool], *, field: str,
                          what: str = "output file") -> None:
    """Raise unless ``path`` is absent or a regular file for which ``is_ours(path)`` is true."""
    p = Path(path)
    if p.is_symlink():
        raise PathNotAllowedError(f"the {what} is a symbolic link: not replaced", field=field,
                                  fix="choose a new file name")
    if not p.exists():
        return
    ok = False
    if p.is_file():
        try:
            ok = bool(is_ours(p))
        except Exception:  # noqa: BLE001 - unreadable or not our format: not ours
            ok = False
    if not ok:
        raise PathNotAllowedError(f"{p.name} exists and is not an output of this product: not replaced",
                                  field=field, fix="choose a new file name (existing files are never overwritten "
                                                   "unless this product wrote them)")


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and missing parents) with mode 0700; an existing folder is left as it is."""
    p = Path(path)
    if not p.is_dir():
        old = os.umask(0o077)
        try:
            p.mkdir(parents=True, exist_ok=True, mode=0o700)
        finally:
            os.umask(old)
    return p


def is_cohort_scores_parquet(path: Path) -> bool:
    """True for a Parquet file written by ``cohorts.score.score_cohort`` (its schema-metadata key)."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    return b"recommender.cohort_score" in meta
