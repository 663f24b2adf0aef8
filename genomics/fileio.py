"""Small file helpers shared by every package: file hashing, atomic replacement of a directory, and the
hostile-input guards every reader uses (:func:`check_input_file`, :func:`parse_json_strict`,
:func:`read_text_input`).

Lives in ``genomics`` because that is the bottom of the import order (``genomics`` <- ``recommender`` <-
``cohorts`` <- ``app``), so every package can use it without breaking the import rule.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import stat
import uuid
from pathlib import Path
from typing import Any

from genomics.errors import InputFileError

__all__ = [
    "MAX_JSON_DEPTH",
    "check_input_file",
    "parse_json_strict",
    "read_text_input",
    "sha256_file",
    "swap_directory",
]

#: Deepest nesting of arrays/objects :func:`parse_json_strict` accepts (a patient record needs < 10).
MAX_JSON_DEPTH = 64
_KERNEL_DIRS = ("/proc/", "/sys/", "/dev/")


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


def check_input_file(path: str | os.PathLike[str], *, error: type[InputFileError] = InputFileError,
                     what: str = "file", fix: str | None = None) -> Path:
    """Check that ``path`` is a readable regular file before anything opens it; returns it as a Path.

    Refuses, with ``error`` (an :class:`~genomics.errors.InputFileError` subclass) naming the file and a fix:
    a missing file, a symlink loop, a folder, a FIFO / socket / device (``/dev/zero``, ``/dev/urandom``:
    "not a regular file", never "empty file", and never a blocking open), a kernel file under ``/proc`` or
    ``/sys`` and a file the user may not read.
    """
    source = str(path)
    path = Path(path)
    give = fix or f"give the path of a regular {what}"
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise error("a broken symbolic link (its target does not exist)", file=source, fix=give) from None
        raise error("file not found", file=source, fix="check the path (and that the file was copied completely)") \
            from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise error("a symbolic link loop (the link points back to itself)", file=source,
                        fix="point the link at a real file, or give the file's own path") from None
        if err.errno == errno.EACCES:
            raise error("permission denied (cannot look at the file)", file=source,
                        fix="make the file and its folders readable to this user (chmod), or copy it") from None
        raise error(f"cannot look at the file ({err.strerror or err})", file=source, fix=give) from None
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        raise error("is a folder, not a file", file=source, fix=give)
    if not stat.S_ISREG(mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)) else "a special file")
        raise error(f"not a regular file ({kind})", file=source,
                    fix=f"{give}; to read a stream, save it to a file first")
    real = os.path.realpath(path)
    if real.startswith(_KERNEL_DIRS):
        raise error("not a regular file (a kernel or device file)", file=source, fix=give)
    if not os.access(path, os.R_OK):
        raise error("permission denied (the file is not readable)", file=source,
                    fix="make the file readable to this user (chmod u+r FILE), or copy it")
    return path


def read_text_input(path: str | os.PathLike[str], *, error: type[InputFileError] = InputFileError,
                    what: str = "text file", max_bytes: int | None = 512 * 1024 * 1024) -> str:
    """Read a user's text file as UTF-8 (a leading BOM is dropped); refuse what is not a text file.

    Uses :func:`check_input_file` first; bytes that are not UTF-8 are refused naming the line.
    """
    path = check_input_file(path, error=error, what=what)
    source = str(path)
    if max_bytes is not None and path.stat().st_size > max_bytes:
        raise error(f"file too large ({path.stat().st_size} bytes; at most {max_bytes} are read)", file=source,
                    fix="split the file or give a smaller one")
    try:
        data = path.read_bytes()
    except PermissionError:
        raise error("permission denied (the file is not readable)", file=source,
                    fix="make the file readable to this user (chmod u+r FILE), or copy it") from None
    except OSError as err:
        raise error(f"cannot read the file ({err.strerror or err})", file=source, fix=f"give a readable {what}") \
            from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise error(f"bytes that are not UTF-8 ({data[err.start:err.start + 8]!r})", file=source,
                    record=f"line {line}", fix="save the file as UTF-8 text (iconv -f latin1 -t utf-8 FILE)") from None
    return text[1:] if text.startswith("\ufeff") else text


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth(text: str, limit: int) -> int | None:
    """Offset where nesting first exceeds ``limit`` (``None``: never); strings are skipped."""
    depth = 0
    in_string = escaped = False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return i
        elif ch in "]}":
            depth -= 1
    return None


def parse_json_strict(text: str | bytes, *, file: str | os.PathLike[str] | None = None, record: str | None = None,
                      error: type[InputFileError] = InputFileError, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON from a user strictly: the ONE JSON parser for user input (CLI, HTTP service, app).

    Stable name: ``recommender`` input readers (patient records, JSON lines) call this function.

    Refused with ``error`` (default :class:`~genomics.errors.InputFileError`; pass e.g. the schema's
    ``PatientRecordError``), naming ``file``, the line and a fix:

    * invalid JSON (the line and column of the first error);
    * a key given twice in one object (``{"age": 61, "age": 16}``): never silently resolved;
    * ``NaN``, ``Infinity``, ``-Infinity`` (not JSON numbers);
    * nesting deeper than ``max_depth`` (no RecursionError), an integer of more than 4300 digits;
    * bytes that are not UTF-8 (a leading UTF-8 BOM is dropped).

    Booleans stay booleans: numeric fields must refuse them (the patient schema does).

    >>> parse_json_strict('{"a": [1, 2.5]}')
    {'a': [1, 2.5]}
    >>> parse_json_strict('{"a": 1, "a": 2}', file="p.json").one_line()  # doctest: +SKIP
    """
    where = None if file is None else str(file)
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as err:
            line = bytes(text).count(b"\n", 0, err.start) + 1
            raise error("bytes that are not UTF-8", file=where, record=record or f"line {line}",
                        fix="save the file as UTF-8 text") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    deep = _depth(text, max_depth) if text.count("[") + text.count("{") > max_depth else None
    if deep is not None:
        line = text.count("\n", 0, deep) + 1
        raise error(f"JSON nested deeper than {max_depth} levels", file=where, record=record or f"line {line}",
                    fix="give a flat record (a patient record nests a few levels at most)")
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except _DuplicateKey as err:
        raise error(f"the key {str(err)[:80]!r} appears twice in one JSON object", file=where, record=record,
                    field=str(err)[:80], fix="keep one value per key (a duplicate is never silently resolved)") \
            from None
    except json.JSONDecodeError as err:
        raise error(f"not valid JSON: {err.msg} (column {err.colno})", file=where,
                    record=record or f"line {err.lineno}", fix="fix the JSON syntax") from None
    except RecursionError:
        raise error("JSON nested too deeply", file=where, record=record,
                    fix="give a flat record (a patient record nests a few levels at most)") from None
    except ValueError as err:  # NaN/Infinity, or an integer with too many digits
        raise error(f"not valid JSON: {str(err)[:120]}", file=where, record=record,
                    fix="numbers must be finite JSON numbers of reasonable size") from None
    if "\\u" in text or _SURROGATE.search(text):
        bad = _lone_surrogate(value)
        if bad is not None:  # "\ud800": not text; it breaks every later UTF-8 encode (output, protobuf, logs)
            raise error("a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape without its pair) is not text",
                        file=where, record=record, field=bad or None,
                        fix="save the file as UTF-8 text (write the character itself, or both halves of the pair)")
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate(value: Any, path: str = "") -> str | None:
    """Dotted path of the first string (key or value) holding a lone surrogate, ``None`` when there is none."""
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = _SURROGATE.sub("?", f"{path}.{key}" if path else str(key))  # the path is shown back
            if _SURROGATE.search(key):
                return here
            found = _lone_surrogate(item, here)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _lone_surrogate(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None
