"""Contig names (``chr1`` vs ``1``, ``chrM`` vs ``MT``) and region strings.

Examples
--------
>>> canonical_contig("chr10"), canonical_contig("10"), canonical_contig("chrM")
('10', '10', 'MT')
>>> parse_region("chr10:94,761,900-94,855,547")
('chr10', 94761900, 94855547)
>>> parse_region("chrX")
('chrX', 1, None)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from genomics.errors import UsageError

__all__ = ["ContigNames", "canonical_contig", "parse_region"]

_REGION = re.compile(r"^\s*([^:\s]+?)(?::([\d,]+)(?:-([\d,]+))?)?\s*$")


def canonical_contig(name: str) -> str:
    """Naming-independent form of a contig name: no ``chr`` prefix, ``M`` -> ``MT``."""
    base = name[3:] if name[:3].lower() == "chr" else name
    if base in ("M", "m", "Mt", "mt"):
        return "MT"
    return base.upper() if base in ("x", "y") else base


def parse_region(region: str) -> tuple[str, int, int | None]:
    """Parse ``contig[:start[-end]]`` (1-based, inclusive; commas allowed).

    Returns ``(contig, start, end)``; ``end`` is ``None`` for "to the end of the contig".

    Raises
    ------
    UsageError
        When the string is not a region or start > end.
    """
    match = _REGION.match(region or "")
    if not match:
        raise UsageError(
            f"cannot read region {region!r}",
            field="region",
            fix="write a region as CONTIG, CONTIG:POS or CONTIG:START-END, e.g. chr10:94761900-94855547",
        )
    contig, start_s, end_s = match.groups()
    start = int(start_s.replace(",", "")) if start_s else 1
    if start_s and not end_s:
        end: int | None = start
    else:
        end = int(end_s.replace(",", "")) if end_s else None
    if start < 1 or (end is not None and end < start):
        raise UsageError(
            f"region {region!r} has start {start} after end {end} or below 1",
            field="region",
            fix="give START <= END, both 1-based, e.g. chr10:94761900-94855547",
        )
    return contig, start, end


class ContigNames:
    """Maps contig names the caller uses onto the names a file uses (``chr1`` <-> ``1``)."""

    def __init__(self, file_names: Iterable[str] = ()) -> None:
        self._by_canonical: dict[str, str] = {}
        for name in file_names:
            self._by_canonical.setdefault(canonical_contig(name), name)

    def __contains__(self, name: str) -> bool:
        return canonical_contig(name) in self._by_canonical

    def to_file(self, name: str) -> str | None:
        """The file's spelling of ``name``, or ``None`` when the file does not know the contig."""
        return self._by_canonical.get(canonical_contig(name))

    @property
    def names(self) -> list[str]:
        return list(self._by_canonical.values())
