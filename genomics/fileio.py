"""Small file helpers shared by every package: file hashing and atomic replacement of a directory.

Lives in ``genomics`` because that is the bottom of the import order (``genomics`` <- ``recommender`` <-
``cohorts`` <- ``app``), so every package can use it without breaking the import rule.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path

__all__ = ["sha256_file", "swap_directory"]


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(delete=False) as fh:
    ...     _ = fh.write(b"abc")
    >>> sha256_file(fh.name)[:12]
    'ba7816bf8f01'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def swap_directory(tmp: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Move the finished directory ``tmp`` to ``target``, replacing any old ``target`` atomically.

    The old directory is first renamed aside, then ``tmp`` renamed into place, then the old one removed, so a
    reader sees either the old or the new directory, never a half-written one. ``tmp`` must be on the same
    file system as ``target`` (create it beside ``target``).
    """
    tmp, target = Path(tmp), Path(target)
    if target.exists():
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)
    return target
