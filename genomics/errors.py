"""The project's one error hierarchy (base classes; every package extends them).

Every error a user can see carries *where* (the file, the record or line, the field) and
*what to do* (a one-line fix). The CLI turns any :class:`RecommenderError` into a single
line on stderr and exit code 1; a library traceback never reaches a user.

Warnings of :class:`DegradedResultWarning` mark results that are usable but weaker than
asked for (a gene called with missing positions, a build assumed rather than detected).

Examples
--------
>>> err = InputFileError("no such sample 'NA0'", file="demo.vcf.gz", field="sample",
...                      fix="choose one of: HG00096, HG00097")
>>> err.one_line()
"demo.vcf.gz: field sample: no such sample 'NA0' -- fix: choose one of: HG00096, HG00097"
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike

__all__ = [
    "RecommenderError",
    "InputFileError",
    "VcfError",
    "IndexFileError",
    "GenomeBuildError",
    "ReferenceSequenceError",
    "OutsideReferenceError",
    "UsageError",
    "ModelError",
    "KnowledgeBaseError",
    "DegradedResultWarning",
    "ErrorLocation",
]


@dataclass(frozen=True)
class ErrorLocation:
    """Where a problem is: file, record (``contig:pos`` or ``line N``) and field."""

    file: str | None = None
    record: str | None = None
    field: str | None = None

    def describe(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.record:
            parts.append(f"record {self.record}")
        if self.field:
            parts.append(f"field {self.field}")
        return ": ".join(parts)


def _bounded(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


class RecommenderError(Exception):
    """Base of every error the product raises on purpose.

    Parameters
    ----------
    message
        What is wrong, in one sentence.
    file, record, field
        Where it is wrong (any may be omitted).
    fix
        What the user should do, in one line.
    """

    exit_code: int = 1

    def __init__(
        self,
        message: str,
        *,
        file: str | PathLike[str] | None = None,
        record: str | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> None:
        # Text shown back is bounded: a message quoting a hostile 200 kB cell or field name stays one short line.
        self.message = _bounded(message, 500)
        self.location = ErrorLocation(
            file=None if file is None else str(file),
            record=None if record is None else _bounded(str(record), 120),
            field=None if field is None else _bounded(str(field), 120),
        )
        self.fix = None if fix is None else _bounded(fix, 1000)
        super().__init__(self.one_line())

    @property
    def file(self) -> str | None:
        return self.location.file

    @property
    def record(self) -> str | None:
        return self.location.record

    @property
    def field(self) -> str | None:
        return self.location.field

    def one_line(self) -> str:
        """The message a user sees: ``where: what -- fix: how``, on one line."""
        where = self.location.describe()
        text = f"{where}: {self.message}" if where else self.message
        if self.fix:
            text = f"{text} -- fix: {self.fix}"
        return " ".join(text.split())

    def to_dict(self) -> dict[str, str | None]:
        """JSON-serialisable form (used by ``--json`` error output and the HTTP service)."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "file": self.file,
            "record": self.record,
            "field": self.field,
            "fix": self.fix,
        }


class InputFileError(RecommenderError):
    """A file given by the user is missing, unreadable, malformed or inconsistent."""


class VcfError(InputFileError):
    """A VCF/BCF file cannot be read as asked (malformed, truncated, unsorted, no such sample...)."""


class IndexFileError(VcfError):
    """A tabix/CSI/faidx index is missing, stale or corrupt where one is required."""


class GenomeBuildError(InputFileError):
    """Input is on a genome build other than the one asked for (GRCh38 by default)."""


class ReferenceSequenceError(InputFileError):
    """A reference FASTA cannot serve a request (unknown contig, out of range, bad file)."""


class OutsideReferenceError(ReferenceSequenceError):
    """A position lies outside the sequence that the (bundled or given) reference holds."""


class UsageError(RecommenderError):
    """The caller asked for something inconsistent (bad option combination); CLI exit code 2."""

    exit_code = 2


class ModelError(RecommenderError):
    """A model or model bundle cannot be loaded or used (unfitted, wrong feature schema, bad file)."""


class KnowledgeBaseError(RecommenderError):
    """A knowledge table (CPIC, DPWG, biomarkers) is missing, malformed or of an unknown version."""


class DegradedResultWarning(UserWarning):
    """A result is usable but degraded (assumed build, missing positions, fallback path)."""
