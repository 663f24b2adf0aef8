"""Read a clinical note: plain text, the text layer of a PDF, or a FHIR DocumentReference / Bundle (JSON).

Everything is read offline from the bytes given; nothing is fetched (a FHIR attachment given only by URL is
refused with the fix). Errors name the file, the record (FHIR entry or PDF page) and what to do.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
from dataclasses import dataclass
from pathlib import Path

from genomics.errors import InputFileError

__all__ = ["MAX_NOTE_BYTES", "NoteText", "read_note", "read_note_bytes"]

#: Largest note accepted (a clinic letter is a few kB; a discharge summary rarely over 100 kB).
MAX_NOTE_BYTES = 5_000_000


@dataclass(frozen=True)
class NoteText:
    """The text of one note and where it came from (``kind``: text, pdf or fhir; ``title`` when known)."""

    text: str
    kind: str
    source: str
    title: str | None = None


def read_note(path: str | os.PathLike[str]) -> list[NoteText]:
    """Read the note(s) in ``path`` (``.txt``/``.md``, ``.pdf``, ``.json`` FHIR); a Bundle may hold several."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError("not a regular file" if p.exists() else "file not found", file=str(p),
                             fix="give the path of a note (.txt, .pdf or FHIR .json)")
    size = p.stat().st_size
    if size > MAX_NOTE_BYTES:
        raise InputFileError(f"note is {size:,} bytes, more than the {MAX_NOTE_BYTES:,} accepted", file=str(p),
                             fix="split the document or give the relevant letter only")
    with open(p, "rb") as fh:
        data = fh.read(MAX_NOTE_BYTES + 1)
    return read_note_bytes(data, name=p.name)


def read_note_bytes(data: bytes, name: str = "note") -> list[NoteText]:
    """Read a note from bytes; the format is told by the content (``%PDF``, a JSON object) or else text."""
    if len(data) > MAX_NOTE_BYTES:
        raise InputFileError(f"note is more than {MAX_NOTE_BYTES:,} bytes", file=name,
                             fix="split the document or give the relevant letter only")
    if not data.strip():
        raise InputFileError("empty note", file=name, fix="give a note with text")
    head = data.lstrip()[:5]
    if head.startswith(b"%PDF"):
        return [NoteText(_pdf_text(data, name), "pdf", name)]
    if head.startswith(b"{"):
        return _fhir_notes(data, name)
    return [NoteText(_decode(data, name), "text", name)]


def _decode(data: bytes, name: str, record: str | None = None) -> str:
    text = data.decode("utf-8-sig", errors="strict") if _is_utf8(data) else data.decode("latin-1")
    if "\x00" in text:
        raise InputFileError("binary data, not a text note", file=name, record=record,
                             fix="give a plain-text, PDF or FHIR JSON note")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _pdf_text(data: bytes, name: str) -> str:
    try:
        from pypdf import PdfReader
    except ImportError as err:  # pragma: no cover - pypdf is a dependency
        raise InputFileError("reading PDF notes needs pypdf", file=name, fix="pip install pypdf") from err
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InputFileError("encrypted PDF", file=name, fix="give an unencrypted PDF or its text")
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputFileError:
        raise
    except Exception as err:  # pypdf on hostile bytes raises many kinds (LimitReachedError,
        # NotImplementedError for an unknown filter, AttributeError, IndexError, RecursionError...): all "unreadable"
        raise InputFileError(f"unreadable PDF ({type(err).__name__})", file=name,
                             fix="give the note as text, or a PDF with a text layer") from err
    text = "\n".join(pages).strip()
    if not text:
        raise InputFileError("the PDF has no text layer (a scanned image?)", file=name,
                             fix="run OCR first, or give the note as text")
    return text


def _fhir_notes(data: bytes, name: str) -> list[NoteText]:
    from genomics.fileio import parse_json_strict

    # strict: a 5000-digit number, NaN, deep nesting, a duplicate key or a lone surrogate is a product error
    doc = parse_json_strict(_decode(data, name), file=name)
    if not isinstance(doc, dict):
        raise InputFileError("JSON is not a FHIR resource object", file=name,
                             fix="give a FHIR DocumentReference or Bundle")
    rtype = doc.get("resourceType")
    if rtype == "DocumentReference":
        return _document_reference(doc, name, "DocumentReference")
    if rtype == "Bundle":
        notes: list[NoteText] = []
        entries = doc.get("entry") or []
        if not isinstance(entries, list):
            raise InputFileError(f"Bundle.entry is a JSON {type(entries).__name__}, not a list", file=name,
                                 field="entry", fix="give a FHIR Bundle whose entry is a list of resources")
        for i, entry in enumerate(entries):
            res = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(res, dict) and res.get("resourceType") == "DocumentReference":
                notes.extend(_document_reference(res, name, f"entry {i + 1}"))
        if not notes:
            raise InputFileError("the Bundle holds no DocumentReference", file=name,
                                 fix="give a Bundle with DocumentReference entries")
        return notes
    raise InputFileError(f"FHIR resourceType {rtype!r} is not read", file=name,
                         fix="give a DocumentReference or a Bundle of them")


def _document_reference(doc: dict, name: str, record: str) -> list[NoteText]:
    out = []
    kind = doc.get("type")
    title = doc.get("description") or (kind.get("text") if isinstance(kind, dict) else None)
    title = title if isinstance(title, str) else None  # shown back: text only
    contents = doc.get("content") or []
    if not isinstance(contents, list):
        raise InputFileError(f"DocumentReference.content is a JSON {type(contents).__name__}, not a list", file=name,
                             record=record, field="content", fix="give content as a list of {\"attachment\": ...}")
    for j, content in enumerate(contents):
        att = content.get("attachment") if isinstance(content, dict) else None
        if not isinstance(att, dict):
            continue
        rec = f"{record}, content {j + 1}"
        ctype = str(att.get("contentType") or "text/plain").split(";")[0].strip().lower()
        if "data" not in att:
            if att.get("url"):
                raise InputFileError("the attachment is given by URL only; nothing is fetched", file=name,
                                     record=rec, fix="embed the note as base64 'data'")
            continue
        try:
            raw = base64.b64decode(str(att["data"]), validate=True)
        except (binascii.Error, ValueError) as err:
            raise InputFileError("attachment data is not valid base64", file=name, record=rec,
                                 fix="encode the note with base64") from err
        if ctype == "application/pdf":
            out.append(NoteText(_pdf_text(raw, name), "fhir", name, title))
        elif ctype.startswith("text/"):
            out.append(NoteText(_decode(raw, name, rec), "fhir", name, title))
        else:
            raise InputFileError(f"attachment type {ctype!r} is not read", file=name, record=rec,
                                 fix="use text/plain or application/pdf")
    if not out:
        raise InputFileError("the DocumentReference has no attachment with data", file=name, record=record,
                             fix="embed the note as base64 'data' in content.attachment")
    return out
