"""The bundled GRCh38 reference subset (the embedded default) and ``--reference`` handling.

The subset holds real GRCh38 sequence at real chromosome coordinates: the BRCA1 region
(chr17:42,425,000-43,600,000) and the primary-assembly segments of 26 MHC genes on chr6.
It ships as package data in ``genomics/data/reference`` (built by
``python -m genomics.reference.build_bundled``; see PROVENANCE.md there). A position outside it
raises :class:`~genomics.errors.OutsideReferenceError` naming the covered intervals and how to
point at a full GRCh38 FASTA.
"""

from __future__ import annotations

import functools
import os
from importlib import resources
from pathlib import Path

from genomics.errors import GenomeBuildError, ReferenceSequenceError
from genomics.reference.genome import ReferenceGenome
from genomics.reference.intervals import CoveredInterval, record_name

__all__ = ["BUNDLED_LABEL", "BUNDLED_REGIONS", "bundled_reference", "bundled_reference_path",
           "reference_from_option"]

BUNDLED_LABEL = "bundled GRCh38 subset"
_FASTA_NAME = "GRCh38_subset.fa.gz"


def _region(contig: str, start: int, end: int, label: str) -> CoveredInterval:
    return CoveredInterval(contig, start, end, record_name(contig, start, end), label)


#: Every interval of the bundled subset (GRCh38, 1-based inclusive), as in its manifest.
BUNDLED_REGIONS: tuple[CoveredInterval, ...] = (
    _region("chr17", 42_425_000, 43_600_000, "BRCA1 region"),
    _region("chr6", 29_723_339, 29_727_295, "HLA-F"),
    _region("chr6", 29_791_752, 29_792_749, "HLA-V"),
    _region("chr6", 29_826_978, 29_831_121, "HLA-G"),
    _region("chr6", 29_887_759, 29_891_079, "HLA-H"),
    _region("chr6", 29_926_658, 29_929_838, "HLA-K"),
    _region("chr6", 29_942_469, 29_945_883, "HLA-A"),
    _region("chr6", 30_005_970, 30_009_955, "HLA-J"),
    _region("chr6", 30_259_561, 30_266_950, "HLA-L"),
    _region("chr6", 30_489_405, 30_494_204, "HLA-E"),
    _region("chr6", 31_268_748, 31_272_135, "HLA-C"),
    _region("chr6", 31_353_871, 31_357_211, "HLA-B"),
    _region("chr6", 31_399_783, 31_415_314, "MICA"),
    _region("chr6", 31_494_880, 31_511_123, "MICB"),
    _region("chr6", 32_439_841, 32_445_045, "HLA-DRA"),
    _region("chr6", 32_517_373, 32_530_228, "HLA-DRB5"),
    _region("chr6", 32_578_768, 32_589_835, "HLA-DRB1"),
    _region("chr6", 32_637_391, 32_654_684, "HLA-DQA1"),
    _region("chr6", 32_659_463, 32_666_688, "HLA-DQB1"),
    _region("chr6", 32_812_762, 32_817_047, "HLA-DOB"),
    _region("chr6", 32_821_832, 32_838_769, "TAP2"),
    _region("chr6", 32_845_208, 32_853_970, "TAP1"),
    _region("chr6", 32_934_628, 32_941_069, "HLA-DMB"),
    _region("chr6", 32_948_613, 32_953_121, "HLA-DMA"),
    _region("chr6", 33_004_181, 33_009_611, "HLA-DOA"),
    _region("chr6", 33_064_568, 33_089_695, "HLA-DPA1,HLA-DPB1"),
)


def bundled_reference_path() -> Path:
    """Path of the bundled subset FASTA (``GRCh38_subset.fa.gz``) inside the installed package."""
    return Path(str(resources.files("genomics") / "data" / "reference" / _FASTA_NAME))


@functools.lru_cache(maxsize=1)
def bundled_reference() -> ReferenceGenome:
    """The bundled GRCh38 subset, opened once per process.

    Raises
    ------
    ReferenceSequenceError
        If the package data is missing or damaged (reinstall the package).
    """
    path = bundled_reference_path()
    if not path.exists():
        raise ReferenceSequenceError(
            "the bundled GRCh38 reference subset is missing from the installed package", file=path,
            fix="reinstall the package (pip install .), or pass a full GRCh38 FASTA with --reference PATH")
    return ReferenceGenome(path, build="GRCh38", label=BUNDLED_LABEL)


def reference_from_option(path: str | os.PathLike[str] | None, build: str = "GRCh38") -> ReferenceGenome:
    """The reference a ``--reference PATH`` option asks for: the bundled subset when ``None``/empty.

    Parameters
    ----------
    path
        A bgzip+faidx or plain FASTA, or ``None`` for the bundled GRCh38 subset.
    build
        Genome build the caller expects (the bundled subset is GRCh38 only).
    """
    if path is None or str(path) == "":
        if str(build).lower() not in {"grch38", "hg38"}:
            raise GenomeBuildError(
                f"the bundled reference subset is GRCh38, but {build} was asked for", field="build",
                fix=f"pass a {build} FASTA with --reference PATH")
        return bundled_reference()
    return ReferenceGenome(path, build=build)
