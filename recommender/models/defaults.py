"""The default model bundle shipped in the package (trained on the default simulated cohort).

Its numbers illustrate the method and are not clinical evidence (see its ``MODEL_CARD.md``). Rebuild
it with the command in :data:`REBUILD_COMMAND` (the cohorts package simulates the cohort and calls
:func:`recommender.models.train_bundle`; ``recommender`` itself never imports ``cohorts``).
"""

from __future__ import annotations

from pathlib import Path

from recommender.models._base import BundleIntegrityError
from recommender.models.bundle import ModelBundle

__all__ = ["DEFAULT_BUNDLE_DIR", "REBUILD_COMMAND", "default_bundle_path", "load_default_bundle"]

#: Where the default bundle lives inside the installed package.
DEFAULT_BUNDLE_DIR = Path(__file__).resolve().parent.parent / "data" / "bundles" / "default"

#: The command that rebuilds the default bundle (also written into its model card).
REBUILD_COMMAND = (
    "python -c \"from cohorts.germline import RealGenotypeSource; from cohorts.simulate import simulate_cohort; "
    "from recommender.models.defaults import build_default_bundle; "
    "build_default_bundle(simulate_cohort(2000, 0, germline=RealGenotypeSource()))\""
)

_cache: dict[str, ModelBundle] = {}


def default_bundle_path() -> Path:
    """Path of the default bundle directory (it may not exist in a source checkout)."""
    return DEFAULT_BUNDLE_DIR


def load_default_bundle(*, reload: bool = False) -> ModelBundle:
    """Load (once per process) and verify the default bundle; a clear error when it is missing."""
    key = str(DEFAULT_BUNDLE_DIR)
    if reload or key not in _cache:
        if not (DEFAULT_BUNDLE_DIR / "MANIFEST.json").is_file():
            raise BundleIntegrityError("the default model bundle is not installed", file=DEFAULT_BUNDLE_DIR,
                                       fix=f"rebuild it: {REBUILD_COMMAND}")
        _cache[key] = ModelBundle.load(DEFAULT_BUNDLE_DIR)
    return _cache[key]


def build_default_bundle(cohort, out_dir: str | Path | None = None, **kwargs) -> ModelBundle:
    """Train the default bundle from a simulated cohort object (``cohorts.simulate_cohort`` result).

    ``cohort`` needs ``tables``, ``name`` and ``provenance`` attributes; nothing of ``cohorts`` is imported.
    """
    from recommender.models.training import TrainingConfig, train_bundle

    prov = getattr(cohort, "provenance", None)
    notes = "; ".join(getattr(prov, "notes", ()) or ())
    description = (f"Synthetic cohort '{cohort.name}' from cohorts.simulate "
                   f"({getattr(prov, 'source_version', '')}); {notes}. Rebuild: {REBUILD_COMMAND}")
    kwargs.setdefault("config", TrainingConfig())
    kwargs.setdefault("trained_on", f"the default simulated cohort ({cohort.name}); synthetic data, not patients")
    return train_bundle(cohort.tables, out_dir or DEFAULT_BUNDLE_DIR, cohort_description=description,
                        overwrite=True, **kwargs)
