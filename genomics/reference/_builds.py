"""Chromosome lengths of GRCh38 and GRCh37, used to recognise the build of a FASTA.

Lengths are those of the primary-assembly chromosomes as published by the Genome Reference
Consortium (GRCh38 = GCA_000001405.15, GRCh37 = GCA_000001405.1); the same numbers appear in
the ``##contig`` lines of GATK resource bundles and in UCSC ``chromInfo`` for hg38 / hg19.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["CHROMOSOME_LENGTHS", "SUPPORTED_BUILDS", "canonical_chromosome", "detect_build"]

_GRCH38 = {
    "1": 248_956_422, "2": 242_193_529, "3": 198_295_559, "4": 190_214_555, "5": 181_538_259,
    "6": 170_805_979, "7": 159_345_973, "8": 145_138_636, "9": 138_394_717, "10": 133_797_422,
    "11": 135_086_622, "12": 133_275_309, "13": 114_364_328, "14": 107_043_718, "15": 101_991_189,
    "16": 90_338_345, "17": 83_257_441, "18": 80_373_285, "19": 58_617_616, "20": 64_444_167,
    "21": 46_709_983, "22": 50_818_468, "X": 156_040_895, "Y": 57_227_415,
}
_GRCH37 = {
    "1": 249_250_621, "2": 243_199_373, "3": 198_022_430, "4": 191_154_276, "5": 180_915_260,
    "6": 171_115_067, "7": 159_138_663, "8": 146_364_022, "9": 141_213_431, "10": 135_534_747,
    "11": 135_006_516, "12": 133_851_895, "13": 115_169_878, "14": 107_349_540, "15": 102_531_392,
    "16": 90_354_753, "17": 81_195_210, "18": 78_077_248, "19": 59_128_983, "20": 63_025_520,
    "21": 48_129_895, "22": 51_304_566, "X": 155_270_560, "Y": 59_373_566,
}

#: Chromosome lengths per build, keyed by the bare chromosome name ("1".."22", "X", "Y").
CHROMOSOME_LENGTHS: Mapping[str, Mapping[str, int]] = {"GRCh38": _GRCH38, "GRCh37": _GRCH37}
SUPPORTED_BUILDS: tuple[str, ...] = ("GRCh38", "GRCh37")


def canonical_chromosome(name: str) -> str:
    """Bare chromosome name: ``chr17`` -> ``17``, ``chrM`` -> ``MT``; other names unchanged."""
    bare = name[3:] if name.lower().startswith("chr") else name
    if bare.upper() in {"M", "MT"}:
        return "MT"
    return bare.upper() if bare.upper() in {"X", "Y"} else bare


def detect_build(lengths: Mapping[str, int]) -> str | None:
    """The build whose chromosome lengths the given contigs match, or ``None`` if undecidable.

    Parameters
    ----------
    lengths
        Contig name -> length, as in a FASTA index or a VCF header.

    Returns
    -------
    str or None
        ``"GRCh38"`` or ``"GRCh37"`` when at least one chromosome matches that build and none
        matches the other; ``None`` when no chromosome length is recognised or they conflict.
    """
    votes = {build: 0 for build in CHROMOSOME_LENGTHS}
    for name, length in lengths.items():
        bare = canonical_chromosome(name)
        for build, table in CHROMOSOME_LENGTHS.items():
            if table.get(bare) == length:
                votes[build] += 1
    matched = [build for build, n in votes.items() if n > 0]
    return matched[0] if len(matched) == 1 else None
