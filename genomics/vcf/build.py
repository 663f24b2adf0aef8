"""Which genome build is a VCF on? (header contig lengths, reference, known positions, or assumed)

The evidence is tried in this order:

1. ``header contig lengths``: the ``##contig=<ID=..,length=..>`` lines of chr1..22, X, Y are
   compared with the GRCh38 and GRCh37 lengths (every one of these differs between the builds).
2. ``reference``: REF alleles of the first records are compared with a reference sequence of
   known build (an object with ``fetch(contig, start, end)``, e.g. ``genomics.reference``).
3. ``known positions``: records at well-known pharmacogene SNV positions whose GRCh37 and GRCh38
   coordinates and REF alleles are both known (a table derived from PyPGx, MIT; see
   ``genomics/vcf/data/PROVENANCE.md``) vote for the build whose coordinate and REF they match.
4. ``assumed``: nothing decided it; the requested build is assumed and the output says so.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from genomics.vcf.contigs import canonical_contig

__all__ = [
    "BUILDS",
    "GRCH37_LENGTHS",
    "GRCH38_LENGTHS",
    "METHODS",
    "BuildCall",
    "KnownPosition",
    "RefCheck",
    "build_from_contig_lengths",
    "build_from_known_positions",
    "build_from_reference",
    "detect_build",
    "known_positions",
    "normalise_build",
]

#: Primary-assembly chromosome lengths (Genome Reference Consortium; GRCh38 = GCA_000001405.15,
#: GRCh37 = GCA_000001405.1). chrM is left out: it has the same length in both.
GRCH38_LENGTHS: Mapping[str, int] = {
    "1": 248_956_422, "2": 242_193_529, "3": 198_295_559, "4": 190_214_555, "5": 181_538_259,
    "6": 170_805_979, "7": 159_345_973, "8": 145_138_636, "9": 138_394_717, "10": 133_797_422,
    "11": 135_086_622, "12": 133_275_309, "13": 114_364_328, "14": 107_043_718, "15": 101_991_189,
    "16": 90_338_345, "17": 83_257_441, "18": 80_373_285, "19": 58_617_616, "20": 64_444_167,
    "21": 46_709_983, "22": 50_818_468, "X": 156_040_895, "Y": 57_227_415,
}
GRCH37_LENGTHS: Mapping[str, int] = {
    "1": 249_250_621, "2": 243_199_373, "3": 198_022_430, "4": 191_154_276, "5": 180_915_260,
    "6": 171_115_067, "7": 159_138_663, "8": 146_364_022, "9": 141_213_431, "10": 135_534_747,
    "11": 135_006_516, "12": 133_851_895, "13": 115_169_878, "14": 107_349_540, "15": 102_531_392,
    "16": 90_354_753, "17": 81_195_210, "18": 78_077_248, "19": 59_128_983, "20": 63_025_520,
    "21": 48_129_895, "22": 51_304_566, "X": 155_270_560, "Y": 59_373_566,
}
BUILDS: tuple[str, ...] = ("GRCh38", "GRCh37")
METHODS: tuple[str, ...] = ("header contig lengths", "reference", "known positions", "assumed")
_ALIASES = {"grch38": "GRCh38", "hg38": "GRCh38", "b38": "GRCh38", "grch37": "GRCh37", "hg19": "GRCh37",
            "b37": "GRCh37", "hs37d5": "GRCh37"}


def normalise_build(build: str) -> str | None:
    """``'hg38'`` -> ``'GRCh38'`` etc.; ``None`` for an unknown name."""
    return _ALIASES.get(str(build).strip().lower())


@dataclass(frozen=True)
class BuildCall:
    """The genome build of a file and how it was decided.

    Attributes
    ----------
    build
        ``"GRCh38"``, ``"GRCh37"`` or ``"unknown"`` (contig lengths of neither build).
    method
        ``"header contig lengths"``, ``"reference"``, ``"known positions"`` or ``"assumed"``.
    assumed
        True when no evidence decided the build (then ``build`` is the one asked for).
    detail
        One sentence of evidence, for reports.
    """

    build: str
    method: str
    assumed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        word = "assumed" if self.assumed else f"detected from {self.method}"
        return f"{self.build} ({word}: {self.detail})"


@dataclass
class RefCheck:
    """REF alleles compared with a reference sequence (counts over the records read so far)."""

    reference: str | None = None
    checked: int = 0
    mismatched: int = 0
    not_covered: int = 0
    examples: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def check(self, reference: Any, chrom: str, pos: int, ref: str) -> bool | None:
        """Compare one REF; returns True/False, or None when the reference does not cover it."""
        observed = _reference_bases(reference, chrom, pos, ref)
        if observed is None:
            self.not_covered += 1
            return None
        self.checked += 1
        if observed != ref.upper():
            self.mismatched += 1
            if len(self.examples) < 5:
                self.examples.append(f"{chrom}:{pos} REF {ref} but reference {observed}")
            return False
        return True


def _reference_bases(reference: Any, chrom: str, pos: int, ref: str) -> str | None:
    if not ref or not ref.isalpha():
        return None
    end = pos + len(ref) - 1
    names = (chrom,) if hasattr(reference, "contains") else (chrom, _other_spelling(chrom))
    for name in names:
        try:
            if hasattr(reference, "contains") and not reference.contains(name, pos, end):
                return None
            return str(reference.fetch(name, pos, end)).upper()
        except Exception:  # noqa: BLE001, S112 - unknown contig / outside the reference: not covered
            continue
    return None


def _other_spelling(chrom: str) -> str:
    return chrom[3:] if chrom.lower().startswith("chr") else f"chr{chrom}"


def build_from_contig_lengths(lengths: Mapping[str, int | None]) -> BuildCall | None:
    """Decide the build from ``##contig`` lengths of chr1..22, X, Y (``None``: no lengths given)."""
    votes = {"GRCh38": [], "GRCh37": [], "neither": []}
    for name, length in lengths.items():
        key = canonical_contig(name)
        if length is None or key not in GRCH38_LENGTHS:
            continue
        if GRCH38_LENGTHS[key] == length:
            votes["GRCh38"].append(name)
        elif GRCH37_LENGTHS[key] == length:
            votes["GRCh37"].append(name)
        else:
            votes["neither"].append(f"{name}={length}")
    n38, n37, other = len(votes["GRCh38"]), len(votes["GRCh37"]), votes["neither"]
    if not (n38 or n37 or other):
        return None
    if n38 and not n37 and not other:
        return BuildCall("GRCh38", METHODS[0], False, f"{n38} contig lengths match GRCh38")
    if n37 and not n38 and not other:
        return BuildCall("GRCh37", METHODS[0], False, f"{n37} contig lengths match GRCh37 (e.g. {votes['GRCh37'][0]})")
    detail = f"contig lengths match GRCh38 for {n38}, GRCh37 for {n37}, neither for {len(other)}"
    if other:
        detail += f" (e.g. {other[0]})"
    return BuildCall("unknown", METHODS[0], False, detail)


def build_from_reference(
    records: Iterable[tuple[str, int, str]], reference: Any, *, minimum: int = 5
) -> BuildCall | None:
    """Compare REF alleles with ``reference`` (of build ``reference.build``, GRCh38 by default).

    Returns a call when at least ``minimum`` REFs (or all of them, if fewer were read and at
    least one) could be compared; >= 95 % agreement means the reference's build, <= 60 % means
    not that build (``build="unknown"``); in between nothing is decided.
    """
    ref_build = normalise_build(getattr(reference, "build", "GRCh38") or "GRCh38") or "GRCh38"
    check = RefCheck()
    n_records = 0
    for chrom, pos, ref in records:
        n_records += 1
        check.check(reference, chrom, pos, ref)
    if check.checked == 0 or (check.checked < minimum and check.checked < n_records):
        return None
    agree = 1 - check.mismatched / check.checked
    detail = f"{check.checked - check.mismatched} of {check.checked} REF alleles match the {ref_build} reference"
    if agree >= 0.95:
        return BuildCall(ref_build, METHODS[1], False, detail)
    if agree <= 0.6:
        return BuildCall("unknown", METHODS[1], False, detail + f" (not {ref_build})")
    return None


@dataclass(frozen=True)
class KnownPosition:
    gene: str
    rsid: str
    chrom: str
    grch37_pos: int
    grch37_ref: str
    grch38_pos: int
    grch38_ref: str


@lru_cache(maxsize=1)
def known_positions() -> tuple[KnownPosition, ...]:
    """The bundled table of pharmacogene SNVs with GRCh37 and GRCh38 coordinates (PyPGx, MIT)."""
    text = resources.files("genomics.vcf").joinpath("data/known_positions.tsv").read_text()
    rows = csv.DictReader((line for line in text.splitlines() if not line.startswith("#")), delimiter="\t")
    return tuple(
        KnownPosition(r["gene"], r["rsid"], r["chrom"], int(r["grch37_pos"]), r["grch37_ref"],
                      int(r["grch38_pos"]), r["grch38_ref"])
        for r in rows
    )


Lookup = Callable[[list[tuple[str, int]]], Mapping[tuple[str, int], Any]]


def build_from_known_positions(
    lookup: Lookup,
    table: Iterable[KnownPosition] | None = None,
    *,
    per_contig: bool = False,
    enough: int = 5,
    contigs: Iterable[str] | None = None,
) -> BuildCall | None:
    """Vote with records found at known GRCh38 / GRCh37 positions whose REF matches that build.

    ``lookup`` maps a list of ``(contig, pos)`` to ``{(contig, pos): records or None}`` (records
    with ``.pos`` and ``.ref``), e.g. :meth:`VcfReader.fetch_positions`. With ``per_contig`` the
    positions are looked up one contig at a time and the vote stops once ``enough`` unanimous
    votes are in (cheap with an index); otherwise in one call (one scan of a file without index).
    ``contigs`` limits the lookup to contigs the file has.
    """
    table = tuple(known_positions() if table is None else table)
    keep = None if contigs is None else {canonical_contig(c) for c in contigs}
    wanted: dict[tuple[str, int], list[tuple[str, str]]] = {}
    for kp in table:
        if kp.grch37_pos == kp.grch38_pos or (keep is not None and canonical_contig(kp.chrom) not in keep):
            continue
        wanted.setdefault((kp.chrom, kp.grch38_pos), []).append(("GRCh38", kp.grch38_ref))
        wanted.setdefault((kp.chrom, kp.grch37_pos), []).append(("GRCh37", kp.grch37_ref))
    if not wanted:
        return None
    groups: dict[str, list[tuple[str, int]]] = {}
    for key in wanted:
        groups.setdefault(key[0] if per_contig else "", []).append(key)
    votes = {"GRCh38": 0, "GRCh37": 0}
    for keys in groups.values():
        found = lookup(keys)
        for key, hits in found.items():
            if not hits:
                continue
            refs = {r.ref.upper() for r in hits}
            for build, ref in wanted.get(key, ()):
                if ref.upper() in refs:
                    votes[build] += 1
        if max(votes.values()) >= enough and min(votes.values()) == 0:
            break
    n38, n37 = votes["GRCh38"], votes["GRCh37"]
    total = n38 + n37
    if total == 0:
        return None
    detail = f"records at {n38} known GRCh38 and {n37} known GRCh37 pharmacogene positions with matching REF"
    if n38 >= 0.9 * total:
        return BuildCall("GRCh38", METHODS[2], False, detail)
    if n37 >= 0.9 * total:
        return BuildCall("GRCh37", METHODS[2], False, detail)
    return None


def detect_build(path: str | os.PathLike[str], reference: Any = None) -> BuildCall:
    """The genome build of the VCF/BCF at ``path`` (never refuses; see :class:`BuildCall`)."""
    from genomics.vcf.reader import VcfReader

    return VcfReader(path, samples=[], build=None, reference=reference).build
