"""Patient schema and vocabularies, feature fusion, models, knowledge overlay, ranking,
explanations, review store, scoring API, CLI and HTTP service."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genomics-treatment-recommender")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
