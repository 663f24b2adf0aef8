"""Everything that reads DNA: VCF, reference sequence, pharmacogenomics, tumour biomarkers, DNA LM.

``genomics`` imports nothing from the other packages of this project.
"""

from genomics.errors import (
    DegradedResultWarning,
    GenomeBuildError,
    IndexFileError,
    InputFileError,
    KnowledgeBaseError,
    ModelError,
    OutsideReferenceError,
    RecommenderError,
    ReferenceSequenceError,
    UsageError,
    VcfError,
)

__all__ = [
    "DegradedResultWarning",
    "GenomeBuildError",
    "IndexFileError",
    "InputFileError",
    "KnowledgeBaseError",
    "ModelError",
    "OutsideReferenceError",
    "RecommenderError",
    "ReferenceSequenceError",
    "UsageError",
    "VcfError",
]
