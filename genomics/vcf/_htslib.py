"""Keep htslib's stderr chatter away from users and turn it into error text.

cyvcf2 links its own copy of htslib, which writes warnings and errors straight to file
descriptor 2 (``[W::vcf_parse_filter] ...``). The reader (a) silences that log while it
iterates (:func:`quiet`) and (b) captures it while opening a file, loading an index or
diagnosing a failure (:func:`captured_stderr`), so the text can go into a project error.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["captured_stderr", "first_message", "log_level", "quiet"]

HTS_LOG_OFF = 0
HTS_LOG_WARNING = 3


def _load():
    try:
        import cyvcf2.cyvcf2 as ext

        lib = ctypes.CDLL(ext.__file__)
        lib.hts_set_log_level.argtypes = [ctypes.c_int]
        lib.hts_get_log_level.restype = ctypes.c_int
        return lib
    except (OSError, AttributeError, ImportError):  # pragma: no cover - other cyvcf2 builds
        return None


_LIB = _load()


def log_level() -> int | None:
    """htslib's current log level in cyvcf2's copy (``None`` when not reachable)."""
    return None if _LIB is None else int(_LIB.hts_get_log_level())


def set_log_level(level: int) -> None:
    if _LIB is not None:
        _LIB.hts_set_log_level(int(level))


@contextmanager
def quiet() -> Iterator[None]:
    """Silence htslib (cyvcf2's copy) inside the block, then restore its previous level."""
    before = log_level()
    set_log_level(HTS_LOG_OFF)
    try:
        yield
    finally:
        if before is not None:
            set_log_level(before)


@contextmanager
def captured_stderr(level: int = HTS_LOG_WARNING) -> Iterator[list[str]]:
    """Capture everything written to file descriptor 2 inside the block.

    Yields a list that holds the captured text (one string) once the block has ended.
    """
    before = log_level()
    set_log_level(level)
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError):  # pragma: no cover
        pass
    saved = os.dup(2)
    out: list[str] = []
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if before is not None:
                set_log_level(before)
            tmp.seek(0)
            out.append(tmp.read().decode("utf-8", errors="replace"))


_MSG = re.compile(r"\[([EW])::([A-Za-z0-9_]+)\]\s*(.*)")


def first_message(text: str, prefer: str = "E") -> str | None:
    """The first htslib message of kind ``prefer`` (``E`` errors, ``W`` warnings) in ``text``."""
    found = None
    for line in text.splitlines():
        match = _MSG.search(line)
        if not match:
            continue
        if match.group(1) == prefer:
            return match.group(3).strip()
        found = found or match.group(3).strip()
    return found
