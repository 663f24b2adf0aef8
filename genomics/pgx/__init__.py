"""Pharmacogenomics: star-allele calling from a VCF, phenotypes and CPIC/DPWG guidance.

Calling half (``definitions``, ``matcher``, ``caller``, ``outside_calls``, ``profile``): VCF -> per-gene
diplotypes -> :class:`PgxProfile`. Knowledge half (``phenotypes``, ``guidance``, ``knowledge_base``,
``report``): phenotype/activity-score tables, CPIC/DPWG guidance per drug, the HTML report section.

>>> from genomics.pgx import call_pgx                                  # doctest: +SKIP
>>> profile = call_pgx("patient.vcf.gz", fill_missing_with_reference=True)  # doctest: +SKIP
>>> profile.genes["CYP2C19"].diplotypes[0].name                        # doctest: +SKIP
'*1/*2'
"""

from genomics.pgx.actions import ACTION_COLOURS, ACTION_LABELS, ACTION_SEVERITY, ACTIONS, worst_action
from typing import TYPE_CHECKING, Any

# Public names -> defining module. Imported on first use (PEP 562), so ``recommender pgx`` does not pay
# for the guidance, knowledge-base and HTML-report modules when it only calls genes.
_LAZY = {
    "CYP2D6_LIMITATION": "caller", "call_pgx": "caller", "call_pgx_cohort": "caller",
    "CALLABLE_GENES": "definitions", "GeneDefinition": "definitions", "Locus": "definitions",
    "NamedAlleleDefinition": "definitions", "definitions_version": "definitions", "load_definition": "definitions",
    "load_definitions": "definitions",
    "DrugGuidance": "guidance", "guidance_for_drug": "guidance", "guidance_for_profile": "guidance",
    "KnowledgeBase": "knowledge_base", "active_knowledge_base": "knowledge_base",
    "knowledge_base_info": "knowledge_base",
    "CompiledGene": "matcher", "GeneGenotypes": "matcher", "MatchOutcome": "matcher", "match_gene": "matcher",
    "OUTSIDE_ONLY_GENES": "outside_calls", "OutsideCall": "outside_calls", "parse_outside_calls": "outside_calls",
    "read_outside_calls": "outside_calls",
    "PhenotypeCall": "phenotypes", "assign_phenotype": "phenotypes",
    "Diplotype": "profile", "GeneCall": "profile", "MissingPosition": "profile", "NovelVariant": "profile",
    "PgxProfile": "profile", "PgxProvenance": "profile", "PositionGenotype": "profile",
    "render_pgx_html": "report",
    "PYPGX_GENES": "pypgx", "BAM_ONLY_GENES": "pypgx",
    "PretreatmentTest": "pretreatment", "testing_advice": "pretreatment",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
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
    from genomics.pgx.outside_calls import OUTSIDE_ONLY_GENES, OutsideCall, parse_outside_calls, read_outside_calls
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
    from genomics.pgx.pretreatment import PretreatmentTest, testing_advice
    from genomics.pgx.pypgx import BAM_ONLY_GENES, PYPGX_GENES
    from genomics.pgx.report import render_pgx_html


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'genomics.pgx' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"genomics.pgx.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ACTIONS",
    "ACTION_COLOURS",
    "ACTION_LABELS",
    "ACTION_SEVERITY",
    "BAM_ONLY_GENES",
    "CALLABLE_GENES",
    "CYP2D6_LIMITATION",
    "OUTSIDE_ONLY_GENES",
    "PYPGX_GENES",
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
    "PretreatmentTest",
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
    "testing_advice",
    "worst_action",
]
