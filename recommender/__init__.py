"""Patient schema and vocabularies, feature fusion, models, knowledge overlay, ranking,
explanations, review store, scoring API, CLI and HTTP service."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genomics-treatment-recommender")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = [
    "SCHEMA_VERSION",
    "Patient",
    "Recommendation",
    "TreatmentOption",
    "__version__",
    "load_patient",
    "schema",
    "score_patient",
    "score_patients",
    "vocab",
]

_LAZY = {"Patient": "recommender.schema", "TreatmentOption": "recommender.schema",
         "load_patient": "recommender.schema", "SCHEMA_VERSION": "recommender.schema",
         "score_patient": "recommender.scoring", "score_patients": "recommender.scoring",
         "Recommendation": "recommender.recommendation"}


def __getattr__(name: str):
    """Lazy exports (keeps ``recommender --help`` fast)."""
    import importlib

    if name in ("schema", "vocab"):
        return importlib.import_module(f"recommender.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'recommender' has no attribute {name!r}")
