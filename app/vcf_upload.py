"""Streamlit-free handling of a germline VCF uploaded in the app: staging, QC, sample choice.

An upload is written to a private temporary folder (:class:`StagedVcf`, mode 0700, removed when
the upload is replaced or cleared, when the session is garbage-collected and at interpreter exit),
then checked with the product's own reader and QC (:class:`genomics.vcf.VcfReader`,
:func:`genomics.vcf.vcf_qc`: format sniffing, truncation, malformed records, genome build), and its
samples and PGx defining positions are counted (:func:`inspect_vcf`). Errors keep the project's
hierarchy but name the uploaded file, never the temporary path (:meth:`StagedVcf.rename_error`).
No patient identifier is logged here.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from genomics.errors import RecommenderError, VcfError
from recommender.inputs import StagedUpload, safe_upload_name

__all__ = [
    "UPLOAD_TYPES",
    "SampleSummary",
    "StagedVcf",
    "VcfInspection",
    "inspect_vcf",
    "preselect_index",
    "stage_upload",
]

#: File name endings offered by the uploader (the content is sniffed anyway: plain, bgzip, gzip, BCF).
UPLOAD_TYPES: tuple[str, ...] = (".vcf", ".vcf.gz", ".vcf.bgz", ".bcf")

class StagedVcf(StagedUpload):
    """An uploaded VCF written to a private temporary folder (:class:`recommender.inputs.StagedUpload`).

    Parameters
    ----------
    name
        The name the user uploaded (shown in every message instead of the temporary path).
    data
        The file's bytes.
    key
        Identity of the upload (e.g. Streamlit's ``file_id``); the same key is not staged twice.

    Attributes
    ----------
    name : str
        The uploaded name (sanitised base name), used in messages and provenance.
    path : Path
        Where the bytes are (``germline.vcf.gz`` etc.), inside a folder only this process's user can read.
    """

    #: Neutral stem of the staged file, endings kept, the ending used when none matches (subclasses change them).
    stem: str = "germline"
    suffixes: tuple[str, ...] = UPLOAD_TYPES
    default_suffix: str = ".vcf"
    #: Class of a renamed error whose own class cannot be rebuilt (:meth:`StagedUpload.rename_error`).
    fallback_error: type[RecommenderError] = VcfError

    def __init__(self, name: str, data: bytes, *, key: Hashable = None) -> None:
        # the one upload stager of the service and the app (private 0700 folder, 0600 file, neutral name)
        super().__init__(safe_upload_name(name, "upload.vcf"), data, stem=self.stem, suffixes=self.suffixes,
                         default_suffix=self.default_suffix, prefix="gtr-vcf-")
        self.key = key

    def relabel(self, rec: Any) -> Any:
        """A :class:`~recommender.recommendation.Recommendation` naming the uploaded file, not the staged path.

        Only ``pgx_profile`` (the PGx caller's provenance) and ``provenance.inputs["germline_vcf"]`` name
        the VCF; the copy keeps everything else (private attributes included).
        """
        def swap(obj: Any) -> Any:
            if isinstance(obj, str):
                return obj.replace(str(self.path), self.name)
            if isinstance(obj, dict):
                return {k: swap(v) for k, v in obj.items()}
            if isinstance(obj, (list, tuple)):
                return type(obj)(swap(v) for v in obj)
            return obj

        update: dict[str, Any] = {}
        if rec.pgx_profile is not None:
            update["pgx_profile"] = swap(rec.pgx_profile)
        inputs = dict(rec.provenance.inputs or {})
        if inputs.get("germline_vcf") == self.path.name:
            inputs["germline_vcf"] = self.name
            update["provenance"] = rec.provenance.model_copy(update={"inputs": inputs})
        return rec.model_copy(update=update) if update else rec

    def __repr__(self) -> str:
        return f"StagedVcf({self.name!r}, {self.size} bytes)"


def stage_upload(current: StagedVcf | None, name: str, data: bytes, *, key: Hashable = None,
                 kind: type[StagedVcf] | None = None) -> StagedVcf:
    """Stage an upload, reusing ``current`` when it is the same upload, else removing ``current``.

    Parameters
    ----------
    current
        The VCF staged before (or ``None``).
    name, data, key
        The upload (see :class:`StagedVcf`); ``key`` defaults to ``(name, len(data))``.
    kind
        The staging class (default :class:`StagedVcf`; :mod:`app.uploads` has the others).
    """
    key = (name, len(data)) if key is None else key
    kind = kind or StagedVcf
    if current is not None and current.key == key and current.alive and type(current) is kind:
        return current
    if current is not None:
        current.discard()
    return kind(name, data, key=key)


@dataclass(frozen=True)
class SampleSummary:
    """What the page shows for the chosen sample."""

    sample: str
    records: int
    called: int
    het: int
    hom_alt: int
    missing_rate: float | None
    pgx_positions_called: int


@dataclass(frozen=True)
class VcfInspection:
    """Result of :func:`inspect_vcf`: build, samples, sizes and PGx coverage of an uploaded VCF."""

    name: str
    kind: str
    build: str
    build_method: str
    build_detail: str
    build_assumed: bool
    samples: tuple[str, ...]
    records: int
    passed: int
    contigs: tuple[str, ...]
    pgx_positions_total: int
    pgx_positions_present: int
    per_sample: dict[str, SampleSummary] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def summary(self, sample: str) -> SampleSummary:
        """The :class:`SampleSummary` of ``sample`` (``KeyError`` if the file lacks it)."""
        return self.per_sample[sample]

    def build_text(self) -> str:
        """``GRCh38 (from header contig lengths)`` / ``GRCh38 ASSUMED (...)``."""
        if self.build_assumed:
            return f"{self.build} ASSUMED ({self.build_detail})"
        return f"{self.build} (from {self.build_method})"


def _pgx_positions() -> list[tuple[str, int]]:
    from genomics.pgx import load_definitions

    return sorted({(d.chrom, locus.position) for d in load_definitions().values() for locus in d.loci})


def inspect_vcf(staged: StagedVcf) -> VcfInspection:
    """Read an uploaded VCF once: format, build (GRCh38 required), QC per sample, PGx positions.

    Raises
    ------
    VcfError, GenomeBuildError, IndexFileError
        Naming the uploaded file (not the temporary path), the record and the fix: not a VCF,
        truncated or corrupt compression, malformed or unsorted records, a GRCh37 (or unknown)
        build, a sites-only file (no sample to call).
    """
    from genomics.errors import DegradedResultWarning
    from genomics.vcf import VcfReader, vcf_qc

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DegradedResultWarning)
            reader = VcfReader(staged.path, build="GRCh38")
            try:
                if not reader.samples:
                    raise VcfError("the VCF has no sample columns (sites only)", file=str(staged.path),
                                   field="samples",
                                   fix="upload a germline VCF with genotypes (FORMAT/GT, one column per sample)")
                qc = vcf_qc(reader)
                positions = _pgx_positions()
                hits = reader.fetch_positions(positions)
            finally:
                reader.close()
    except RecommenderError as err:
        raise staged.rename_error(err) from None
    present = 0
    called = [0] * len(reader.samples)
    for recs in hits.values():
        if not recs:
            continue
        present += 1
        for i in range(len(reader.samples)):
            if any(r.has_gt and r.gt[i, 0] >= 0 for r in recs):
                called[i] += 1
    per_sample = {
        s.sample: SampleSummary(sample=s.sample, records=s.records, called=s.called, het=s.het, hom_alt=s.hom_alt,
                                missing_rate=s.missing_rate, pgx_positions_called=called[i])
        for i, s in enumerate(qc.samples)
    }
    notes = [str(w.message) for w in caught if issubclass(w.category, DegradedResultWarning)]
    notes += [w for w in qc.warnings if w not in notes]
    swap = lambda t: t.replace(str(staged.path), staged.name)
    b = qc.build
    return VcfInspection(
        name=staged.name, kind=reader.kind, build=b.build, build_method=b.method, build_detail=swap(b.detail),
        build_assumed=b.assumed, samples=tuple(reader.samples), records=qc.totals.records,
        passed=qc.totals.passed, contigs=tuple(qc.totals.contigs), pgx_positions_total=len(positions),
        pgx_positions_present=present, per_sample=per_sample,
        warnings=tuple(dict.fromkeys(swap(n) for n in notes)),
    )


def preselect_index(samples: Sequence[str], *wanted: str | None) -> int:
    """Index in ``samples`` of the first of ``wanted`` the file holds (0 when none matches)."""
    for w in wanted:
        if w and w in samples:
            return list(samples).index(w)
    return 0
