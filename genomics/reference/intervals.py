"""Interval manifests: how a FASTA holding only pieces of chromosomes maps to real coordinates.

``pysam.FastaFile`` has no notion of a record that starts in the middle of a chromosome. A
*subset* reference therefore stores one FASTA record per covered interval and, beside the FASTA,
a small JSON manifest ``<fasta>.intervals.json`` that says which real interval each record holds::

    {
      "format": "genomics-reference-intervals/1",
      "build": "GRCh38",
      "contigs": [{"name": "chr17", "length": 83257441}],
      "intervals": [{"contig": "chr17", "start": 42425000, "end": 43600000,
                     "record": "chr17_42425000_43600000", "label": "BRCA1 region"}]
    }

Coordinates are 1-based and inclusive. Record names avoid ``:`` so that ``samtools faidx``
never mistakes them for a region.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from genomics.errors import ReferenceSequenceError

__all__ = [
    "MANIFEST_FORMAT",
    "MANIFEST_SUFFIX",
    "CoveredInterval",
    "IntervalManifest",
    "record_name",
]

MANIFEST_FORMAT = "genomics-reference-intervals/1"
MANIFEST_SUFFIX = ".intervals.json"


def record_name(contig: str, start: int, end: int) -> str:
    """FASTA record name for a covered interval: ``chr17_42425000_43600000``."""
    return f"{contig}_{start}_{end}"


@dataclass(frozen=True, order=True)
class CoveredInterval:
    """A stretch of a real chromosome that a reference holds (1-based, inclusive).

    Attributes
    ----------
    contig
        Chromosome name as the reference spells it (``chr17``).
    start, end
        First and last covered position, 1-based inclusive.
    record
        Name of the FASTA record holding these bases (the whole contig for a full FASTA).
    label
        Human-readable description (genes covered), empty for a full FASTA.
    """

    contig: str
    start: int
    end: int
    record: str
    label: str = ""

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def contains(self, start: int, end: int) -> bool:
        """True when ``start..end`` lies wholly inside this interval."""
        return self.start <= start and end <= self.end

    def describe(self) -> str:
        """``chr17:42,425,000-43,600,000 (BRCA1 region)``."""
        text = f"{self.contig}:{self.start:,}-{self.end:,}"
        return f"{text} ({self.label})" if self.label else text

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class IntervalManifest:
    """The contigs (real lengths) and covered intervals of a subset reference."""

    build: str
    contig_lengths: Mapping[str, int]
    intervals: tuple[CoveredInterval, ...]

    @classmethod
    def load(cls, path: str | Path) -> IntervalManifest:
        """Read and validate a manifest; any problem is a :class:`ReferenceSequenceError`."""
        path = Path(path)
        fix = "rebuild the subset (python -m genomics.reference.build_bundled) or remove the manifest"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ReferenceSequenceError(f"cannot read interval manifest ({exc.strerror})", file=path,
                                         fix=fix) from None
        except ValueError as exc:
            raise ReferenceSequenceError(f"interval manifest is not valid JSON ({exc})", file=path,
                                         fix=fix) from None
        try:
            if data.get("format") != MANIFEST_FORMAT:
                raise ValueError(f"format is {data.get('format')!r}, expected {MANIFEST_FORMAT!r}")
            lengths = {str(c["name"]): int(c["length"]) for c in data["contigs"]}
            intervals = tuple(
                CoveredInterval(str(i["contig"]), int(i["start"]), int(i["end"]), str(i["record"]),
                                str(i.get("label", "")))
                for i in data["intervals"]
            )
            manifest = cls(build=str(data["build"]), contig_lengths=lengths, intervals=intervals)
            manifest.validate()
        except (KeyError, TypeError, ValueError) as exc:
            raise ReferenceSequenceError(f"invalid interval manifest: {exc}", file=path, fix=fix) from None
        return manifest

    def validate(self) -> None:
        """Raise ``ValueError`` if intervals fall outside their contig or overlap each other."""
        by_contig: dict[str, list[CoveredInterval]] = {}
        for iv in self.intervals:
            if iv.contig not in self.contig_lengths:
                raise ValueError(f"interval {iv.describe()} is on a contig not listed in 'contigs'")
            if not 1 <= iv.start <= iv.end <= self.contig_lengths[iv.contig]:
                raise ValueError(f"interval {iv.describe()} lies outside 1..{self.contig_lengths[iv.contig]}")
            by_contig.setdefault(iv.contig, []).append(iv)
        for ivs in by_contig.values():
            ivs.sort()
            for a, b in zip(ivs, ivs[1:]):
                if b.start <= a.end:
                    raise ValueError(f"intervals {a.describe()} and {b.describe()} overlap")

    def to_json(self) -> str:
        """Serialised manifest (stable key order, one interval per line for readable diffs)."""
        contigs = ",\n    ".join(json.dumps({"name": n, "length": n_len})
                                 for n, n_len in self.contig_lengths.items())
        ivs = ",\n    ".join(json.dumps(iv.to_dict()) for iv in self.intervals)
        return (
            "{\n"
            f'  "format": {json.dumps(MANIFEST_FORMAT)},\n'
            f'  "build": {json.dumps(self.build)},\n'
            f'  "contigs": [\n    {contigs}\n  ],\n'
            f'  "intervals": [\n    {ivs}\n  ]\n'
            "}\n"
        )

    @staticmethod
    def merge(intervals: Iterable[tuple[str, int, int, str]]) -> list[tuple[str, int, int, list[str]]]:
        """Merge overlapping or adjacent ``(contig, start, end, label)`` intervals.

        Returns ``(contig, start, end, labels)`` sorted by contig order of first appearance, then start.
        """
        intervals = list(intervals)
        order: dict[str, int] = {}
        for contig, *_ in intervals:
            order.setdefault(contig, len(order))
        merged: list[tuple[str, int, int, list[str]]] = []
        for contig, start, end, label in sorted(intervals, key=lambda t: (order[t[0]], t[1], t[2])):
            if merged and merged[-1][0] == contig and start <= merged[-1][2] + 1:
                last = merged[-1]
                merged[-1] = (contig, last[1], max(last[2], end), last[3] + [label])
            else:
                merged.append((contig, start, end, [label]))
        return merged
