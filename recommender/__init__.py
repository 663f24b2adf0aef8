"""Patient schema and vocabularies, feature fusion, models, knowledge overlay, ranking,
explanations, review store, scoring API, CLI and HTTP service."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # ~30 ms: only when asked (start-up)

    try:
        return version("genomics-treatment-recommender")
    except PackageNotFoundError:  # running from a source tree without installation
        return "0.0.0+unknown"

__all__ = [
    "DEMO_PATIENT",
    "SCHEMA_VERSION",
    "PatientInputs",
    "RankingOptions",
    "ScoringContext",
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
         "ScoringContext": "recommender.scoring", "DEMO_PATIENT": "recommender.scoring",
         "PatientInputs": "recommender.requests", "RankingOptions": "recommender.requests",
         "Recommendation": "recommender.recommendation"}


def __getattr__(name: str):
    """Lazy exports (keeps ``recommender --help`` fast)."""
    import importlib

    if name == "__version__":
        globals()["__version__"] = value = _version()
        return value
    if name in ("schema", "vocab"):
        return importlib.import_module(f"recommender.{name}")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'recommender' has no attribute {name!r}")
