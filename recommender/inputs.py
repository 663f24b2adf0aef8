"""The one input boundary of the three front ends (CLI, HTTP service, app).

Everything a user hands to the product goes through here, so every front end gets the same validation,
limits and privacy handling:

* :func:`read_patient`: a patient record -- our JSON schema or a GA4GH Phenopacket v2 -- from text, bytes or a
  parsed mapping, through the strict JSON parser (:func:`genomics.fileio.parse_json_strict`: duplicate keys,
  ``NaN``, deep nesting and non-UTF-8 refused) and a size limit; :func:`read_patient_file` for a path (CLI).
* :class:`StagedUpload`: an uploaded file written to a private temporary folder (0700, file 0600) under a
  neutral name keeping only its ending, so no user file name (which may hold a patient's name) reaches htslib
  messages; errors and results are relabelled with the uploaded name.
* :func:`public_error`: an error as a JSON-ready dict with server paths hidden (the file's base name only,
  absolute paths in the text removed).

Examples
--------
>>> read_patient('{"patient_id": "P1", "diagnosis": {"cancer_type": "COAD"}}').patient_id
'P1'
>>> public_error(UsageError("cannot read /srv/x/tmp/up-1/germline.vcf", file="/srv/x/tmp/up-1/germline.vcf"))["file"]
'germline.vcf'
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from genomics.errors import RecommenderError, UsageError

__all__ = ["MAX_PATIENT_BYTES", "StagedUpload", "public_error", "read_patient", "read_patient_file", "safe_upload_name"]

#: Largest patient record accepted (a record with hundreds of variants is a few hundred kB).
MAX_PATIENT_BYTES = 5 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_ABS_PATH = re.compile(r"(?:(?<=[\s'\"(=:])|^)(?:/[^\s/'\":]+)+/")


def _is_phenopacket(data: Mapping[str, Any]) -> bool:
    return "metaData" in data or "meta_data" in data


def read_patient(data: str | bytes | Mapping[str, Any], *, source: str | os.PathLike[str] | None = None) -> Any:
    """A :class:`recommender.schema.Patient` from JSON text/bytes or a parsed mapping (ours or a Phenopacket v2).

    Parameters
    ----------
    data
        The record: JSON text or bytes (parsed strictly), or an already parsed mapping (the JSON body of the
        HTTP service).
    source
        The name shown in errors (an uploaded file name, a path, or ``None`` for a form field).

    Raises
    ------
    PatientRecordError
        Too large, not UTF-8, not strict JSON, not one object, or not a valid record (naming file, record, field).
    """
    from genomics.fileio import parse_json_strict
    from recommender.schema import PatientRecordError, patient_from_dict

    name = None if source is None else str(source)
    if isinstance(data, (str, bytes, bytearray)):
        size = len(data) if isinstance(data, (bytes, bytearray)) else len(data.encode("utf-8", "surrogatepass"))
        if size > MAX_PATIENT_BYTES:
            raise PatientRecordError(f"the record is larger than {MAX_PATIENT_BYTES // (1024 * 1024)} MB", file=name,
                                     fix="send one patient's record (variants as a VCF/MAF upload, not inline)")
        parsed = parse_json_strict(data, file=name, error=PatientRecordError)
    else:
        parsed = data
    if not isinstance(parsed, Mapping):
        raise PatientRecordError("expected one JSON object (a patient record or a Phenopacket)", file=name,
                                 field="patient", fix="wrap the record in {...}")
    if _is_phenopacket(parsed):
        from recommender.phenopackets_io import patient_from_phenopacket_dict

        return patient_from_phenopacket_dict(dict(parsed), file=name)
    return patient_from_dict(dict(parsed), file=name)


def read_patient_file(path: str | os.PathLike[str]) -> Any:
    """:func:`read_patient` of a file (the CLI); errors name the file."""
    from genomics.fileio import check_input_file
    from recommender.schema import PatientRecordError

    p = check_input_file(path, error=PatientRecordError, what="patient record")
    try:
        size = p.stat().st_size
    except OSError as err:
        raise PatientRecordError(f"cannot read file: {err.strerror}", file=p, fix="check the path") from None
    if size > MAX_PATIENT_BYTES:
        raise PatientRecordError(f"the record is larger than {MAX_PATIENT_BYTES // (1024 * 1024)} MB", file=p,
                                 fix="give one patient's record")
    try:
        data = p.read_bytes()
    except OSError as err:
        raise PatientRecordError(f"cannot read file: {err.strerror}", file=p, fix="check the path") from None
    return read_patient(data, source=p)


def safe_upload_name(name: str | None, default: str = "upload") -> str:
    """An uploaded file's base name with only ``[A-Za-z0-9._-]`` (never a path, never empty or hidden)."""
    base = _UNSAFE.sub("_", Path(str(name or "").replace("\\", "/")).name).lstrip(".")
    return base or default


class StagedUpload:
    """An uploaded file written to a private temporary folder (removed by :meth:`discard` or at collection).

    Parameters
    ----------
    name
        The name the user uploaded (shown in messages instead of the temporary path).
    data
        The file's bytes, or a binary file object (copied in chunks, at most ``max_bytes``).
    stem, suffixes, default_suffix
        The staged file is ``<stem><ending>``: the upload's ending if it is one of ``suffixes`` (or ``.gz``),
        else the gzip magic picks ``suffixes[0]`` when that is a ``.gz`` ending, else ``default_suffix``.
    """

    #: Class of a renamed error whose own class cannot be rebuilt with the same arguments (:meth:`rename_error`).
    fallback_error: type[RecommenderError] = UsageError

    def __init__(self, name: str | None, data: bytes | IO[bytes], *, stem: str = "upload",
                 suffixes: Sequence[str] = (), default_suffix: str = "", max_bytes: int | None = None,
                 prefix: str = "recommender-upload-") -> None:
        self.name = safe_upload_name(name)
        folder = Path(tempfile.mkdtemp(prefix=prefix))  # mode 0700
        self._folder = folder
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(folder), True)
        head = data[:2] if isinstance(data, (bytes, bytearray)) else _peek(data, 2)
        self.path = folder / f"{stem}{_suffix(self.name, suffixes, default_suffix, head)}"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            if isinstance(data, (bytes, bytearray)):
                out.write(data)
            else:
                shutil.copyfileobj(data, out)
        self.size = self.path.stat().st_size
        if max_bytes is not None and self.size > max_bytes:
            self.discard()
            raise UsageError(f"the upload {self.name} is larger than {max_bytes} bytes", field="upload",
                             fix="send a smaller file")

    def sibling(self, suffix: str) -> Path:
        """A path next to the staged file (e.g. its ``.tbi`` index)."""
        return Path(str(self.path) + suffix)

    def write_sibling(self, suffix: str, data: bytes | IO[bytes]) -> Path:
        """Write ``data`` next to the staged file (mode 0600)."""
        path = self.sibling(suffix)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            if isinstance(data, (bytes, bytearray)):
                out.write(data)
            else:
                shutil.copyfileobj(data, out)
        return path

    @property
    def alive(self) -> bool:
        """``True`` while the temporary file exists."""
        return self._finalizer.alive and self.path.exists()

    def discard(self) -> None:
        """Remove the temporary folder (idempotent)."""
        self._finalizer()

    def hide(self, text: str | None) -> str | None:
        """``text`` naming the uploaded file instead of the temporary path."""
        if text is None:
            return None
        return text.replace(str(self.path), self.name).replace(str(self._folder) + os.sep, "")

    def rename_error(self, err: RecommenderError) -> RecommenderError:
        """The same error (same class when possible), naming the uploaded file instead of the temporary path."""
        kwargs = {"file": self.hide(err.file), "record": self.hide(err.record), "field": err.field,
                  "fix": self.hide(err.fix)}
        try:
            return type(err)(self.hide(err.message) or "", **kwargs)
        except TypeError:
            return self.fallback_error(self.hide(err.message) or "", **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.size} bytes)"


def _peek(handle: IO[bytes], n: int) -> bytes:
    try:
        pos = handle.tell()
        head = handle.read(n)
        handle.seek(pos)
        return head
    except (OSError, ValueError):
        return b""


def _suffix(name: str, suffixes: Sequence[str], default: str, head: bytes) -> str:
    lower = name.lower()
    for s in sorted(suffixes, key=len, reverse=True):
        if lower.endswith(s):
            return s
    if head == b"\x1f\x8b" and suffixes and suffixes[0].endswith(".gz"):
        return suffixes[0]
    if lower.endswith(".gz") and suffixes:
        return ".gz"
    return default


def public_error(err: RecommenderError) -> dict[str, Any]:
    """``err.to_dict()`` for someone outside the server: the file's base name only, no absolute paths in texts."""
    body = err.to_dict()
    if body.get("file"):
        body["file"] = Path(str(body["file"])).name
    for key in ("message", "record", "fix"):
        if isinstance(body.get(key), str):
            body[key] = _ABS_PATH.sub("", body[key])
    return body
