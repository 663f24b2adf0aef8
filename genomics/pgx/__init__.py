"""Pharmacogenomics: star-allele calling from a VCF, phenotypes and CPIC/DPWG guidance.

Calling half (``definitions``, ``matcher``, ``caller``, ``outside_calls``, ``profile``): VCF -> per-gene
diplotypes -> :class:`PgxProfile`. Knowledge half (``phenotypes``, ``guidance``, ``knowledge_base``,
``report``): phenotype/activity-score tables, CPIC/DPWG guidance per drug, the HTML report section.

>>> from genomics.pgx import call_pgx                                  # doctest: +SKIP
>>> profile = call_pgx("patient.vcf.gz", fill_missing_with_reference=True)  # doctest: +SKIP
>>> profile.genes["CYP2C19"].diplotypes[0].name                        # doctest: +SKIP
'*1/*2'
"""

from genomics.pgx.caller import CYP2D6_LIMITATION, call_pgx, call_pgx_cohort
from genomics.pgx.definitions import (
    CALLABLE_GENES,
    GeneDefinition,
    Locus,
    NamedAlleleDefinition,
    definitions_version,
    load_definition,
    load_definitions,
)
from genomics.pgx.guidance import DrugGuidance, guidance_for_drug, guidance_for_profile
from genomics.pgx.knowledge_base import KnowledgeBase, active_knowledge_base, knowledge_base_info
from genomics.pgx.matcher import CompiledGene, GeneGenotypes, MatchOutcome, match_gene
from genomics.pgx.outside_calls import (
    OUTSIDE_ONLY_GENES,
    OutsideCall,
    parse_outside_calls,
    read_outside_calls,
)
from genomics.pgx.phenotypes import PhenotypeCall, assign_phenotype
from genomics.pgx.profile import (
    Diplotype,
    GeneCall,
    MissingPosition,
    NovelVariant,
    PgxProfile,
    PgxProvenance,
    PositionGenotype,
)
from genomics.pgx.report import render_pgx_html

__all__ = [
    "CALLABLE_GENES",
    "CYP2D6_LIMITATION",
    "OUTSIDE_ONLY_GENES",
    "CompiledGene",
    "Diplotype",
    "DrugGuidance",
    "GeneCall",
    "GeneDefinition",
    "GeneGenotypes",
    "KnowledgeBase",
    "Locus",
    "MatchOutcome",
    "MissingPosition",
    "NamedAlleleDefinition",
    "NovelVariant",
    "OutsideCall",
    "PgxProfile",
    "PgxProvenance",
    "PhenotypeCall",
    "PositionGenotype",
    "active_knowledge_base",
    "assign_phenotype",
    "call_pgx",
    "call_pgx_cohort",
    "definitions_version",
    "guidance_for_drug",
    "guidance_for_profile",
    "knowledge_base_info",
    "load_definition",
    "load_definitions",
    "match_gene",
    "parse_outside_calls",
    "read_outside_calls",
    "render_pgx_html",
]
