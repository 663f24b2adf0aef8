"""Streamlit-free checks of the other files the Patient page accepts, as the CLI does (``recommender score
--outside-calls TSV --tumour FILE``): outside pharmacogenomic calls and a tumour VCF/MAF.

Each upload is staged like the germline VCF (:class:`app.vcf_upload.StagedVcf`: a private 0700 folder, a
neutral file name, removed when replaced or cleared) and read with the CLI's own readers
(:func:`genomics.pgx.outside_calls.read_outside_calls`, :func:`genomics.biomarkers.read_tumour`); errors name
the uploaded file, never the temporary path. A file whose name has an ending the uploader does not take is
refused in words by :func:`extension_problem` before anything is read (the page keeps scoring disabled until
it is removed). Nothing here logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.vcf_upload import UPLOAD_TYPES, StagedVcf
from genomics.errors import RecommenderError

__all__ = [
    "OUTSIDE_CALL_TYPES",
    "TUMOUR_TYPES",
    "OutsideCallsCheck",
    "StagedOutsideCalls",
    "StagedTumour",
    "TumourCheck",
    "check_outside_calls",
    "check_tumour",
    "extension_problem",
]

#: Endings of an outside-calls file (tab-separated text).
OUTSIDE_CALL_TYPES: tuple[str, ...] = (".tsv", ".txt")
#: Endings of a tumour file: somatic VCF (plain, bgzip, BCF) or MAF (plain or gzip).
TUMOUR_TYPES: tuple[str, ...] = (*UPLOAD_TYPES, ".maf", ".maf.gz")


def extension_problem(name: str, allowed: tuple[str, ...], what: str) -> str | None:
    """Why ``name`` is refused (``None`` when its ending is one of ``allowed``), in words.

    >>> extension_problem("calls.xlsx", OUTSIDE_CALL_TYPES, "outside calls")
    "'calls.xlsx' is not accepted as outside calls: the file name must end in .tsv or .txt. Remove it and upload the right file."
    >>> extension_problem("tumour.maf.gz", TUMOUR_TYPES, "a tumour file") is None
    True
    """
    lower = str(name).lower()
    if any(lower.endswith(s) for s in allowed):
        return None
    ends = ", ".join(allowed[:-1]) + f" or {allowed[-1]}" if len(allowed) > 1 else allowed[0]
    return (f"{name!r} is not accepted as {what}: the file name must end in {ends}. "
            "Remove it and upload the right file.")


class StagedOutsideCalls(StagedVcf):
    """An uploaded outside-calls TSV, staged privately."""

    stem = "outside_calls"
    suffixes = OUTSIDE_CALL_TYPES
    default_suffix = ".tsv"


class StagedTumour(StagedVcf):
    """An uploaded tumour VCF or MAF, staged privately."""

    stem = "tumour"
    suffixes = TUMOUR_TYPES
    default_suffix = ".vcf"


@dataclass(frozen=True)
class OutsideCallsCheck:
    """The rows of an outside-calls file, for the page (gene, diplotype / phenotype / activity score, source)."""

    name: str
    calls: tuple[Any, ...]

    def rows(self) -> list[dict[str, str]]:
        return [{"gene": c.gene, "diplotype": c.diplotype or "", "phenotype": c.phenotype or "",
                 "activity score": c.activity_score or "", "source": c.source or ""} for c in self.calls]


@dataclass(frozen=True)
class TumourCheck:
    """A tumour file read with the CLI's reader: the profile to score and what it holds."""

    name: str
    file_format: str
    profile: Any
    warnings: tuple[str, ...] = ()

    @property
    def n_variants(self) -> int:
        return len(getattr(self.profile, "variants", ()) or ())

    def genes(self, limit: int = 12) -> list[str]:
        genes = list(dict.fromkeys(v.gene for v in getattr(self.profile, "variants", ()) or () if v.gene))
        return genes[:limit]


def check_outside_calls(staged: StagedOutsideCalls) -> OutsideCallsCheck:
    """Read a staged outside-calls TSV (``InputFileError`` naming the uploaded file, line and field)."""
    from genomics.pgx.outside_calls import read_outside_calls

    try:
        calls = read_outside_calls(staged.path)
    except RecommenderError as err:
        raise staged.rename_error(err) from None
    if not calls:
        from genomics.errors import InputFileError

        raise InputFileError("no calls in the file", file=staged.name, record="line 1",
                             fix="one row per gene: gene, diplotype, phenotype, activity score, source")
    return OutsideCallsCheck(name=staged.name, calls=tuple(calls))


def check_tumour(staged: StagedTumour) -> TumourCheck:
    """Read a staged tumour VCF/MAF with :func:`genomics.biomarkers.read_tumour` (errors name the upload)."""
    import warnings

    from genomics.biomarkers import read_tumour
    from genomics.biomarkers.inputs import detect_format
    from genomics.errors import DegradedResultWarning

    try:
        fmt = detect_format(staged.path)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DegradedResultWarning)
            profile = read_tumour(staged.path, file_format=fmt)
    except RecommenderError as err:
        raise staged.rename_error(err) from None
    notes = tuple(dict.fromkeys(str(w.message).replace(str(staged.path), staged.name) for w in caught
                                if issubclass(w.category, DegradedResultWarning)))
    return TumourCheck(name=staged.name, file_format=fmt, profile=profile, warnings=notes)
