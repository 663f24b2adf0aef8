"""Random access to a reference genome: bases and windows at real chromosome coordinates.

A :class:`ReferenceGenome` reads any bgzip+faidx or plain FASTA through ``pysam.FastaFile``.
When an interval manifest (``<fasta>.intervals.json``, see :mod:`genomics.reference.intervals`)
lies beside the FASTA, the FASTA holds only pieces of chromosomes and the class translates real
coordinates to record offsets; that is how the bundled GRCh38 subset works.

Coordinates are 1-based and inclusive everywhere; sequences are forward strand, upper case.
"""

from __future__ import annotations

import bisect
import operator
import os
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from genomics.errors import GenomeBuildError, OutsideReferenceError, ReferenceSequenceError, UsageError
from genomics.reference._builds import CHROMOSOME_LENGTHS, SUPPORTED_BUILDS, canonical_chromosome, detect_build
from genomics.reference.fasta import INDEX_FIX, open_fasta, quiet_htslib
from genomics.reference.intervals import MANIFEST_SUFFIX, CoveredInterval, IntervalManifest

__all__ = ["ReferenceGenome", "SequenceWindow", "DEFAULT_WINDOW", "FULL_REFERENCE_FIX"]

#: Default window size (bases) of :meth:`ReferenceGenome.window`.
DEFAULT_WINDOW = 6000

#: What to do when a position is not in a subset reference.
FULL_REFERENCE_FIX = (
    "point at a full GRCh38 FASTA with --reference PATH (bgzip it and run `samtools faidx`, "
    "or give a plain FASTA: its .fai is created automatically)"
)

#: Records up to this many bases are kept in memory after their first read (a subset's intervals;
#: never a whole chromosome), up to _CACHE_TOTAL_MAX_BASES per reference.
_CACHE_RECORD_MAX_BASES = 4_000_000
_CACHE_TOTAL_MAX_BASES = 32_000_000

_BUILD_ALIASES = {"grch38": "GRCh38", "hg38": "GRCh38", "grch37": "GRCh37", "hg19": "GRCh37"}


@dataclass(frozen=True)
class SequenceWindow:
    """A stretch of reference sequence around a position.

    Attributes
    ----------
    contig
        Contig name as the reference spells it (``chr17`` for the bundled subset even when ``17``
        was asked).
    start, end
        First and last position of ``sequence`` (1-based, inclusive; ``end - start + 1 == len(sequence)``).
    sequence
        Forward-strand bases, upper case.
    center
        The position the window was asked around; ``sequence[center - start]`` is its base.
    clipped
        True when the window is shorter than asked because it reached the end of the chromosome
        or of the covered interval.
    build
        Genome build of the reference.
    """

    contig: str
    start: int
    end: int
    sequence: str
    center: int
    clipped: bool = False
    build: str = "GRCh38"

    @property
    def center_index(self) -> int:
        """0-based index of ``center`` in ``sequence``."""
        return self.center - self.start

    def __len__(self) -> int:
        return len(self.sequence)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return asdict(self)


def _as_position(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise UsageError(f"{field} must be an integer position, got {value!r}", field=field,
                         fix="pass 1-based integer coordinates")
    try:
        return operator.index(value)
    except TypeError:
        raise UsageError(f"{field} must be an integer position, got {value!r}", field=field,
                         fix="pass 1-based integer coordinates") from None


def _normalise_build(build: str) -> str:
    normalised = _BUILD_ALIASES.get(str(build).lower())
    if normalised not in SUPPORTED_BUILDS:
        raise UsageError(f"unknown genome build {build!r}", field="build",
                         fix=f"use one of: {', '.join(SUPPORTED_BUILDS)}")
    return normalised


class ReferenceGenome:
    """An indexed reference FASTA addressed in real chromosome coordinates.

    Parameters
    ----------
    path
        bgzip-compressed FASTA with ``.fai`` and ``.gzi`` (``bgzip`` + ``samtools faidx``), or a
        plain FASTA (its ``.fai`` is created beside it, or in a cache folder if that folder is
        read-only). ``17`` and ``chr17`` name the same contig whichever the file uses.
    build
        Genome build of the file (``GRCh38`` by default; ``GRCh37`` only on explicit request).
        A file whose chromosome lengths show the other build is refused.
    intervals
        Interval manifest for a subset FASTA; by default ``<path>.intervals.json`` if it exists.
    index_cache_dir
        Where to write an index that cannot be written beside the FASTA.

    Raises
    ------
    ReferenceSequenceError
        Missing, malformed, truncated or unindexable FASTA, or an inconsistent manifest.
    GenomeBuildError
        The file's chromosome lengths belong to another build.

    Notes
    -----
    Reads are serialised with a lock, so one instance may be shared by threads; a pickled
    instance re-opens the file in the receiving process.

    Examples
    --------
    >>> from genomics.reference import bundled_reference
    >>> ref = bundled_reference()
    >>> ref.fetch("chr17", 43124094, 43124096)   # BRCA1 start codon, minus strand
    'CAT'
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        build: str = "GRCh38",
        *,
        intervals: str | os.PathLike[str] | None = None,
        index_cache_dir: str | os.PathLike[str] | None = None,
        label: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.build = _normalise_build(build)
        self._init_args = (str(path), build, None if intervals is None else str(intervals),
                           None if index_cache_dir is None else str(index_cache_dir), label)
        self._lock = threading.Lock()
        self._cache: dict[str, str] = {}
        self._cached_bases = 0
        self._fasta, self.index_path = open_fasta(self.path, index_cache_dir)
        try:
            self._load_layout(intervals, label)
        except BaseException:
            self._fasta.close()
            raise

    def _load_layout(self, intervals: str | os.PathLike[str] | None, label: str | None) -> None:
        """Read contigs and covered intervals (from the index, or from the interval manifest)."""
        records = dict(zip(self._fasta.references, self._fasta.lengths))
        manifest_path = Path(intervals) if intervals is not None else Path(str(self.path) + MANIFEST_SUFFIX)
        if intervals is not None or manifest_path.exists():
            manifest = IntervalManifest.load(manifest_path)
            self._check_manifest(manifest, manifest_path, records)
            self.intervals_path: Path | None = manifest_path
            lengths = dict(manifest.contig_lengths)
            covered = manifest.intervals
        else:
            self.intervals_path = None
            lengths = records
            covered = tuple(CoveredInterval(name, 1, n, name) for name, n in records.items() if n > 0)
        self._lengths: dict[str, int] = lengths
        self._intervals: dict[str, list[CoveredInterval]] = {}
        order = {name: i for i, name in enumerate(lengths)}
        for iv in sorted(covered, key=lambda i: (order[i.contig], i.start)):
            self._intervals.setdefault(iv.contig, []).append(iv)
        self._starts = {c: [iv.start for iv in ivs] for c, ivs in self._intervals.items()}
        self._aliases = self._make_aliases(lengths)
        self.label = label or (f"reference subset {self.path.name}" if self.is_subset else str(self.path))
        self._check_build()

    # ------------------------------------------------------------------ construction helpers
    def _check_manifest(self, manifest: IntervalManifest, manifest_path: Path, records: Mapping[str, int]) -> None:
        if _normalise_build(manifest.build) != self.build:
            raise GenomeBuildError(
                f"subset reference is {manifest.build}, but {self.build} was asked for",
                file=manifest_path, field="build", fix=f"use a {self.build} reference FASTA")
        for iv in manifest.intervals:
            if records.get(iv.record) != iv.length:
                found = records.get(iv.record)
                raise ReferenceSequenceError(
                    f"interval manifest and FASTA disagree: record {iv.record} "
                    f"{'is missing' if found is None else f'has {found} bases, not {iv.length}'}",
                    file=manifest_path, record=iv.record,
                    fix="rebuild the subset with `python -m genomics.reference.build_bundled`")

    @staticmethod
    def _make_aliases(lengths: Mapping[str, int]) -> dict[str, str]:
        aliases: dict[str, str] = {}
        for name in lengths:
            bare = canonical_chromosome(name)
            for alias in (bare, f"chr{bare}", bare.lower(), f"chr{bare.lower()}"):
                aliases.setdefault(alias, name)
            if bare == "MT":
                for alias in ("M", "chrM", "chrMT"):
                    aliases.setdefault(alias, name)
        aliases.update({name: name for name in lengths})  # exact names always win
        return aliases

    def _check_build(self) -> None:
        detected = detect_build(self._lengths)
        if detected is not None and detected != self.build:
            where = self.intervals_path or self.index_path
            raise GenomeBuildError(
                f"reference FASTA is {detected} (its chromosome lengths match {detected}), "
                f"but {self.build} was asked for", file=where, field="build",
                fix=f"give a {self.build} FASTA with --reference (GRCh37 is read only on explicit request)")

    # ------------------------------------------------------------------ properties
    @property
    def contigs(self) -> dict[str, int]:
        """Contig name -> real chromosome length (for a subset: the chromosomes it has pieces of)."""
        return dict(self._lengths)

    @property
    def is_subset(self) -> bool:
        """True when the FASTA holds only intervals of its chromosomes (interval manifest present)."""
        return self.intervals_path is not None

    @property
    def covered_intervals(self) -> tuple[CoveredInterval, ...]:
        """Every interval whose bases this reference holds (whole contigs for a full FASTA)."""
        return tuple(iv for ivs in self._intervals.values() for iv in ivs)

    def provenance(self) -> dict[str, Any]:
        """What an output should record about the reference it used."""
        return {
            "build": self.build,
            "reference": self.label,
            "path": str(self.path),
            "subset": self.is_subset,
            "intervals": len(self.covered_intervals) if self.is_subset else None,
        }

    # ------------------------------------------------------------------ lookups
    def resolve_contig(self, contig: str) -> str:
        """The reference's own name for ``contig`` (``17`` -> ``chr17``), or raise.

        Raises
        ------
        OutsideReferenceError
            For a subset reference, when ``contig`` is a real chromosome of the build that the
            subset does not cover.
        ReferenceSequenceError
            When the contig is unknown.
        """
        name = self._aliases.get(str(contig))
        if name is not None:
            return name
        bare = canonical_chromosome(str(contig))
        if self.is_subset and bare in CHROMOSOME_LENGTHS[self.build]:
            raise OutsideReferenceError(
                f"{contig} is not in the {self._subset_phrase()}, which holds only "
                f"{self._coverage_summary()}",
                file=self.path, record=str(contig), field="contig", fix=FULL_REFERENCE_FIX)
        known = list(self._lengths)
        shown = ", ".join(known[:25]) + (f", ... ({len(known)} in total)" if len(known) > 25 else "")
        raise ReferenceSequenceError(
            f"unknown contig {contig!r}; this reference has: {shown}", file=self.path,
            record=str(contig), field="contig",
            fix="use one of the reference's contig names ('17' and 'chr17' are both accepted)")

    def _subset_phrase(self) -> str:
        return "bundled GRCh38 subset" if self.label == "bundled GRCh38 subset" else f"{self.label}"

    def _coverage_summary(self, contig: str | None = None) -> str:
        """Covered intervals of one contig (all listed) or of every contig (one phrase each)."""
        if contig is not None:
            ivs = self._intervals.get(contig, [])
            if not ivs:
                return "nothing"
            return f"{contig}: " + ", ".join(
                f"{iv.start:,}-{iv.end:,}" + (f" ({iv.label})" if iv.label else "") for iv in ivs)
        parts = []
        for name, ivs in self._intervals.items():
            if len(ivs) <= 2:
                parts.append(self._coverage_summary(name))
            else:
                parts.append(f"{len(ivs)} intervals of {name} between {ivs[0].start:,} and {ivs[-1].end:,} "
                             f"({', '.join(iv.label or iv.record for iv in ivs)})")
        return "; ".join(parts)

    def _check_range(self, name: str, contig: str, start: int, end: int) -> None:
        length = self._lengths[name]
        if start > end:
            raise ReferenceSequenceError(
                f"start {start:,} is after end {end:,}", file=self.path, record=f"{contig}:{start}-{end}",
                field="start", fix="give start <= end (1-based, inclusive)")
        if start < 1 or end > length:
            raise ReferenceSequenceError(
                f"{contig}:{start:,}-{end:,} is outside the contig ({name} is 1-{length:,} on {self.build})",
                file=self.path, record=f"{contig}:{start}-{end}", field="position",
                fix=f"use 1-based positions between 1 and {length:,}")

    def _covering(self, name: str, contig: str, start: int, end: int) -> CoveredInterval:
        ivs = self._intervals.get(name, [])
        i = bisect.bisect_right(self._starts.get(name, []), start) - 1
        if i >= 0 and ivs[i].contains(start, end):
            return ivs[i]
        where = f"{contig}:{start:,}" if start == end else f"{contig}:{start:,}-{end:,}"
        if i >= 0 and ivs[i].contains(start, start) or (i + 1 < len(ivs) and ivs[i + 1].start <= end):
            what = f"{where} is only partly in the {self._subset_phrase()}"
        else:
            what = f"{where} is not in the {self._subset_phrase()}"
        raise OutsideReferenceError(
            f"{what}, which holds only {self._coverage_summary(name)}",
            file=self.path, record=f"{contig}:{start}" if start == end else f"{contig}:{start}-{end}",
            field="position", fix=FULL_REFERENCE_FIX)

    def _read(self, iv: CoveredInterval, start: int, end: int) -> str:
        begin, stop = start - iv.start, end - iv.start + 1
        cached = self._cache.get(iv.record)
        if cached is not None:
            return cached[begin:stop]
        if iv.length <= _CACHE_RECORD_MAX_BASES and self._cached_bases + iv.length <= _CACHE_TOTAL_MAX_BASES:
            # small records (a subset's intervals) are read once and kept: random access into bgzip
            # otherwise decompresses a 64 kB block per call
            whole = self._read_uncached(iv, iv.start, iv.end)
            with self._lock:
                self._cache[iv.record] = whole
                self._cached_bases += iv.length
            return whole[begin:stop]
        return self._read_uncached(iv, start, end)

    def _read_uncached(self, iv: CoveredInterval, start: int, end: int) -> str:
        begin, stop = start - iv.start, end - iv.start + 1
        reason = ""
        with self._lock, quiet_htslib():
            try:
                seq = self._fasta.fetch(reference=iv.record, start=begin, end=stop)
            except (OSError, ValueError, KeyError) as exc:
                seq = None
                reason = str(exc) or type(exc).__name__
        if seq is None or len(seq) != stop - begin:
            detail = reason if seq is None else f"got {len(seq)} of {stop - begin} bases"
            raise ReferenceSequenceError(
                f"cannot read {iv.contig}:{start}-{end} from the FASTA ({detail}); the file or its "
                "index is corrupt or stale", file=self.path, record=f"{iv.contig}:{start}",
                fix=f"delete {self.index_path.name} (and the .gzi) to re-create the index; if that "
                    f"fails, copy the FASTA again ({INDEX_FIX})")
        return seq.upper()

    # ------------------------------------------------------------------ public API
    def fetch(self, contig: str, start: int, end: int) -> str:
        """Forward-strand bases ``start..end`` (1-based, inclusive), upper case.

        Raises
        ------
        ReferenceSequenceError
            Unknown contig, ``start > end``, or positions outside the chromosome.
        OutsideReferenceError
            Positions inside the chromosome that this (subset) reference does not hold.
        """
        start, end = _as_position(start, "start"), _as_position(end, "end")
        name = self.resolve_contig(contig)
        self._check_range(name, contig, start, end)
        iv = self._covering(name, contig, start, end)
        return self._read(iv, start, end)

    def base_at(self, contig: str, pos: int) -> str:
        """The forward-strand base at ``pos`` (1-based)."""
        return self.fetch(contig, pos, pos)

    def contains(self, contig: str, start: int, end: int | None = None) -> bool:
        """True when every position of ``start..end`` can be read (never raises for bad input)."""
        end = start if end is None else end
        try:
            start, end = _as_position(start, "start"), _as_position(end, "end")
        except UsageError:
            return False
        name = self._aliases.get(str(contig))
        if name is None or start > end or start < 1 or end > self._lengths[name]:
            return False
        ivs = self._intervals.get(name, [])
        i = bisect.bisect_right(self._starts.get(name, []), start) - 1
        return i >= 0 and ivs[i].contains(start, end)

    def window(self, contig: str, pos: int, size: int = DEFAULT_WINDOW, *, clip: bool = True) -> SequenceWindow:
        """``size`` bases around ``pos``: positions ``pos - size//2`` to ``pos - size//2 + size - 1``.

        Parameters
        ----------
        contig, pos
            Centre of the window (1-based). It must itself be readable.
        size
            Number of bases asked for (>= 1). For an even size the centre is the base just right
            of the middle, so ``sequence[size // 2]`` is the base at ``pos``.
        clip
            True (default): at the end of the chromosome, or of the covered interval of a subset,
            return a shorter window (``clipped=True``; ``center_index`` still locates ``pos``).
            False: raise instead of returning a shorter window.

        Raises
        ------
        ReferenceSequenceError
            Unknown contig, ``pos`` outside the chromosome, or (``clip=False``) a window reaching
            past the chromosome ends.
        OutsideReferenceError
            ``pos`` not held by this subset reference, or (``clip=False``) the window reaching
            outside the covered interval.
        """
        pos = _as_position(pos, "pos")
        size = _as_position(size, "size")
        if size < 1:
            raise UsageError(f"window size must be at least 1, got {size}", field="size",
                             fix="ask for a positive window size")
        name = self.resolve_contig(contig)
        self._check_range(name, contig, pos, pos)
        iv = self._covering(name, contig, pos, pos)
        start = pos - size // 2
        end = start + size - 1
        if clip:
            lo, hi = max(start, iv.start), min(end, iv.end)
        else:
            self._check_range(name, contig, start, end)
            iv = self._covering(name, contig, start, end)
            lo, hi = start, end
        sequence = self._read(iv, lo, hi)
        return SequenceWindow(contig=name, start=lo, end=hi, sequence=sequence, center=pos,
                              clipped=(lo, hi) != (start, end), build=self.build)

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Close the FASTA handle."""
        with self._lock:
            self._fasta.close()

    def __enter__(self) -> ReferenceGenome:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __reduce__(self) -> tuple[Any, ...]:
        path, build, intervals, cache, label = self._init_args
        return (_reopen, (path, build, intervals, cache, label))

    def __repr__(self) -> str:
        kind = f"subset of {len(self.covered_intervals)} intervals" if self.is_subset else "full"
        return f"ReferenceGenome({str(self.path)!r}, build={self.build!r}, {kind})"


def _reopen(path: str, build: str, intervals: str | None, cache: str | None, label: str | None) -> ReferenceGenome:
    return ReferenceGenome(path, build, intervals=intervals, index_cache_dir=cache, label=label)
