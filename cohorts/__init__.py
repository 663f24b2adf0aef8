"""Cohort storage, real-cohort loaders, the simulator, training and evaluation runs, scoring at scale.

The public names below are imported lazily (on first use), so ``recommender cohort --help`` does
not pay for pandas, DuckDB and NumPy.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CohortError": "cohorts.errors",
    "CohortQueryError": "cohorts.errors",
    "CohortValidationError": "cohorts.errors",
    "Licence": "cohorts.manifest",
    "Manifest": "cohorts.manifest",
    "Provenance": "cohorts.manifest",
    "read_manifest": "cohorts.manifest",
    "connect": "cohorts.query",
    "query": "cohorts.query",
    "sql": "cohorts.query",
    "GermlineDraw": "cohorts.simulate",
    "GermlineSource": "cohorts.simulate",
    "PhenotypePriorSource": "cohorts.simulate",
    "simulate_cohort": "cohorts.simulate",
    "Cohort": "cohorts.storage",
    "load_cohort": "cohorts.storage",
    "tables_from_patients": "cohorts.storage",
    "write_cohort": "cohorts.storage",
    "TABLES": "cohorts.tables",
    "Problem": "cohorts.validate",
    "validate_tables": "cohorts.validate",
    "RealGenotypeSource": "cohorts.germline",
    "HaplotypePanel": "cohorts.germline_panel",
    "load_panel": "cohorts.germline_panel",
    "ensure_default_cohort": "cohorts.default_cohort",
    "km_compare": "cohorts.evaluation",
    "train_cohort": "cohorts.train",
    "EvaluationReport": "cohorts.evaluate",
    "evaluate_bundle": "cohorts.evaluate",
    "score_cohort": "cohorts.score",
    "ScoreSummary": "cohorts.score",
    "cohort_dnalm_pools": "cohorts.dnalm_pools",
    "CohortReport": "cohorts.report",
    "build_report": "cohorts.report",
    "write_report": "cohorts.report",
    "ScoringCancelled": "cohorts.errors",
    "load_vus_variants": "cohorts.brca_vus",
}

__all__ = [
    "CohortReport",
    "build_report",
    "write_report",
    "ScoringCancelled",
    "cohort_dnalm_pools",
    "score_cohort",
    "ScoreSummary",
    "RealGenotypeSource",
    "HaplotypePanel",
    "load_panel",
    "ensure_default_cohort",
    "km_compare",
    "train_cohort",
    "EvaluationReport",
    "evaluate_bundle",
    "TABLES",
    "Cohort",
    "CohortError",
    "CohortQueryError",
    "CohortValidationError",
    "GermlineDraw",
    "GermlineSource",
    "Licence",
    "Manifest",
    "PhenotypePriorSource",
    "Problem",
    "Provenance",
    "connect",
    "load_cohort",
    "query",
    "read_manifest",
    "simulate_cohort",
    "sql",
    "tables_from_patients",
    "validate_tables",
    "write_cohort",
    "load_vus_variants",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cohorts' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
