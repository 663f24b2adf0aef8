"""Feature fusion: genomic profile + history + lifestyle + medications + one candidate treatment -> one row.

Public API
----------
:func:`build_features` / :func:`build_feature_frame`
    One row (dict) / many rows (DataFrame, index ``(patient_id, regimen)``) in schema column order.
:class:`FeatureSchema`, :class:`FeatureSpec`, :func:`default_feature_schema`
    The versioned, hashed list of features (dtype, group, missing-value policy).
:func:`phenoconvert`, :class:`PhenoconversionResult`, :func:`phenotype_code`
    Co-medication CYP inhibitors -> functional phenotype (documented, cited rule).
"""

from recommender.features.build import (
    GenePhenotype,
    build_feature_frame,
    build_features,
    missing_report,
    normalise_dnalm,
    normalise_pgx,
    options_for,
    resolve_option,
)
from recommender.features.phenoconversion import (
    PhenoconversionResult,
    activity_to_phenotype,
    phenoconvert,
    phenotype_code,
)
from recommender.features.schema import (
    BUILDER_VERSION,
    FEATURE_GROUPS,
    MISSING_SUFFIX,
    FeatureSchema,
    FeatureSpec,
    default_feature_schema,
)

__all__ = [
    "BUILDER_VERSION",
    "FEATURE_GROUPS",
    "MISSING_SUFFIX",
    "FeatureSchema",
    "FeatureSpec",
    "GenePhenotype",
    "PhenoconversionResult",
    "activity_to_phenotype",
    "build_feature_frame",
    "build_features",
    "default_feature_schema",
    "missing_report",
    "normalise_dnalm",
    "normalise_pgx",
    "options_for",
    "phenoconvert",
    "phenotype_code",
    "resolve_option",
]
