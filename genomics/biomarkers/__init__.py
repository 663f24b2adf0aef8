"""Tumour biomarkers: somatic VCF / MAF / copy-number & fusion calls / TMB / MSI -> actionable findings.

Public API
----------
:func:`read_tumour` (and :func:`read_somatic_vcf`, :func:`read_maf`, :func:`read_cnv_table`)
    Read a tumour into a :class:`TumourProfile`.
:func:`match_biomarkers` -> :class:`BiomarkerReport`
    Match it against the project's biomarker -> therapy table (bundled, cited, versioned) and
    optional third-party tables; BRCA1/2 VUS are reported as :class:`VusFinding` (never as
    approved biomarkers) with an optional effect-score hook (:func:`dnalm_vus_scorer`).
:func:`read_germline_genes`, :func:`parp_eligibility`, :func:`variant_evidence`
    Germline BRCA1/2 from the patient's VCF (loss of function by consequence establishes PARP-inhibitor
    eligibility), and the variant-effect evidence of a VUS shown beside PARP-inhibitor / platinum options.
:func:`load_knowledge_base`, :class:`KnowledgeBase`, :class:`BiomarkerRule`
    The table and its rows; :func:`load_hotspots` the hand-curated GRCh38 hotspot positions.
:func:`parse_protein_change`, :class:`ProteinChange`
    HGVS p. normalisation (``p.Val600Glu`` = ``p.V600E`` = ``V600E``).
:func:`load_moalmanac`, :func:`load_cgi`, :func:`load_cancer_hotspots`, :func:`load_third_party`
    Importers of third-party tables from a path the user gives (never shipped).

Examples
--------
>>> from genomics.biomarkers import read_tumour, match_biomarkers          # doctest: +SKIP
>>> report = match_biomarkers(read_tumour("t.maf", tmb=12.0), cancer_type="LUAD")  # doctest: +SKIP
>>> report.to_dict()["matches"][0]["therapies"]                            # doctest: +SKIP
"""

from genomics.biomarkers.eligibility import (
    ELIGIBILITY_COLOURS,
    ELIGIBILITY_LABELS,
    EligibilityRequirement,
    EligibilityResult,
    assess_eligibility,
    load_requirements,
)
from genomics.biomarkers.germline import (
    GeneStatus,
    GeneVariant,
    GermlineGenes,
    classify_variant,
    read_germline_genes,
    read_germline_genes_cohort,
)
from genomics.biomarkers.hotspots import HotspotAllele, HotspotTable, load_hotspots
from genomics.biomarkers.importers import (
    HotspotCodon,
    ImportSummary,
    annotate_hotspots,
    load_cancer_hotspots,
    load_cgi,
    load_moalmanac,
    load_third_party,
)
from genomics.biomarkers.inputs import (
    CopyNumberCall,
    FusionCall,
    SomaticVariant,
    TumourProfile,
    detect_format,
    normalise_msi,
    read_cnv_table,
    read_maf,
    read_somatic_vcf,
    read_tumour,
)
from genomics.biomarkers.knowledge import (
    EVIDENCE_LEVELS,
    BiomarkerRule,
    Citation,
    KnowledgeBase,
    load_knowledge_base,
    rule_matches,
)
from genomics.biomarkers.match import (
    MATCH_METHODS,
    VUS_LABEL,
    BiomarkerReport,
    MatchedBiomarker,
    VusFinding,
    dnalm_vus_scorer,
    match_biomarkers,
)
from genomics.biomarkers.protein_change import ProteinChange, parse_protein_change
from genomics.biomarkers.variant_evidence import (
    PREDICTED_PATHOGENIC_LOWER_BOUND,
    ParpDecision,
    VariantEvidence,
    parp_eligibility,
    variant_evidence,
)

__all__ = [
    "ELIGIBILITY_COLOURS",
    "ELIGIBILITY_LABELS",
    "EVIDENCE_LEVELS",
    "MATCH_METHODS",
    "PREDICTED_PATHOGENIC_LOWER_BOUND",
    "VUS_LABEL",
    "BiomarkerReport",
    "BiomarkerRule",
    "Citation",
    "CopyNumberCall",
    "EligibilityRequirement",
    "EligibilityResult",
    "FusionCall",
    "GeneStatus",
    "GeneVariant",
    "GermlineGenes",
    "HotspotAllele",
    "HotspotCodon",
    "HotspotTable",
    "ImportSummary",
    "KnowledgeBase",
    "MatchedBiomarker",
    "ParpDecision",
    "ProteinChange",
    "SomaticVariant",
    "TumourProfile",
    "VariantEvidence",
    "VusFinding",
    "annotate_hotspots",
    "assess_eligibility",
    "classify_variant",
    "detect_format",
    "dnalm_vus_scorer",
    "load_cancer_hotspots",
    "load_cgi",
    "load_hotspots",
    "load_knowledge_base",
    "load_moalmanac",
    "load_requirements",
    "load_third_party",
    "match_biomarkers",
    "normalise_msi",
    "parp_eligibility",
    "parse_protein_change",
    "read_cnv_table",
    "read_germline_genes",
    "read_germline_genes_cohort",
    "read_maf",
    "read_somatic_vcf",
    "read_tumour",
    "rule_matches",
    "variant_evidence",
]
