"""Reference sequence: bases and windows at real GRCh38 coordinates.

``bundled_reference()`` is the embedded default, a GRCh38 subset (BRCA1 region on chr17 and the
MHC genes' primary-assembly segments on chr6) at real chromosome coordinates; ``ReferenceGenome``
reads any bgzip+faidx or plain FASTA (``--reference PATH``). Coordinates are 1-based, inclusive;
sequence is forward strand, upper case; ``"17"`` and ``"chr17"`` are the same contig.

Examples
--------
>>> from genomics.reference import bundled_reference
>>> ref = bundled_reference()
>>> ref.fetch("17", 43124094, 43124096)
'CAT'
>>> w = ref.window("chr17", 43124095, size=11)
>>> (w.start, w.end, w.sequence[w.center_index])
(43124090, 43124100, 'A')
"""

from genomics.errors import OutsideReferenceError, ReferenceSequenceError
from genomics.reference.bundled import (
    BUNDLED_LABEL,
    BUNDLED_REGIONS,
    bundled_reference,
    bundled_reference_path,
    reference_from_option,
)
from genomics.reference.genome import DEFAULT_WINDOW, FULL_REFERENCE_FIX, ReferenceGenome, SequenceWindow
from genomics.reference.intervals import CoveredInterval

__all__ = [
    "BUNDLED_LABEL",
    "BUNDLED_REGIONS",
    "DEFAULT_WINDOW",
    "FULL_REFERENCE_FIX",
    "CoveredInterval",
    "OutsideReferenceError",
    "ReferenceGenome",
    "ReferenceSequenceError",
    "SequenceWindow",
    "bundled_reference",
    "bundled_reference_path",
    "reference_from_option",
]
