"""Reading VCF/BCF files: one reader for the whole product.

Public API
----------
:class:`VcfReader`
    Opens a VCF, bgzipped VCF or BCF (single- or multi-sample), selects samples by name,
    answers region queries through a tabix/CSI index or a streaming scan (``reader.access``
    says which), detects the genome build and refuses GRCh37 unless asked for.
:class:`VcfRecord`
    One record with bulk numpy genotype arrays (``gt``, ``phased``, ``phase_set``, ``dp``, ``gq``),
    symbolic-allele flags and :meth:`VcfRecord.biallelic` views of multi-allelic records.
:class:`BuildCall`, :func:`detect_build`
    The genome build and how it was decided (header contig lengths, reference, known positions,
    or assumed).
:func:`vcf_qc`, :class:`QcSummary`
    Per-sample and per-file QC (records, PASS/filtered, missing rate, het/hom-alt ratio, Ti/Tv,
    phased fraction, multi-allelic/symbolic records, REF mismatches).

Genotype codes (``VcfRecord.gt``, int16, shape ``(n_samples, 2)``): allele index into
``(ref,) + alts``; ``MISSING`` (-1) for a missing allele; ``HAPLOID_PAD`` (-2) in column 1 of a
haploid call (chrX/chrY in males; also a bare ``.``); ``OTHER_ALT`` (-3) in biallelic views for an
allele of the same record that is neither REF nor the view's ALT.
"""

from genomics.vcf.build import (
    GRCH37_LENGTHS,
    GRCH38_LENGTHS,
    BuildCall,
    detect_build,
)
from genomics.vcf.contigs import canonical_contig, parse_region
from genomics.vcf.qc import FileQc, QcSummary, SampleQc, vcf_qc
from genomics.vcf.reader import RefCheck, VcfReader
from genomics.vcf.records import (
    HAPLOID_PAD,
    MISSING,
    OTHER_ALT,
    BiallelicView,
    VcfRecord,
)

__all__ = [
    "GRCH37_LENGTHS",
    "GRCH38_LENGTHS",
    "HAPLOID_PAD",
    "MISSING",
    "OTHER_ALT",
    "BiallelicView",
    "BuildCall",
    "FileQc",
    "QcSummary",
    "RefCheck",
    "SampleQc",
    "VcfReader",
    "VcfRecord",
    "canonical_contig",
    "detect_build",
    "parse_region",
    "vcf_qc",
]
