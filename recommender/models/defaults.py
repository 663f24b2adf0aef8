"""The default model bundle shipped in the package (trained on 40,000 simulated patients, seed 0).

Learner ``"interaction"`` (:mod:`recommender.models.effects`: explicit drug x covariate interactions; toxicity as
independent drug causes), chosen over the xgboost S-learner and a per-regimen T-learner on the simulator's oracle
(``benchmarks/EVAL_SIMULATED.md``).

Its numbers illustrate the method and are not clinical evidence (see its ``MODEL_CARD.md``). Rebuild
it with the command in :data:`REBUILD_COMMAND` (the cohorts package simulates the cohort and calls
:func:`recommender.models.train_bundle`; ``recommender`` itself never imports ``cohorts``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recommender.models._base import BundleIntegrityError
from recommender.models.bundle import ModelBundle

__all__ = ["DEFAULT_BUNDLE_DIR", "REBUILD_COMMAND", "build_default_bundle", "default_bundle_path",
           "default_training_config", "load_default_bundle"]

#: Where the default bundle lives inside the installed package.
DEFAULT_BUNDLE_DIR = Path(__file__).resolve().parent.parent / "data" / "bundles" / "default"

#: The command that rebuilds the default bundle (also written into its model card): the bundle's training
#: cohort is :func:`cohorts.default_cohort.training_cohort_spec` (40,000 simulated patients, seed 0).
REBUILD_COMMAND = (
    "python -c \"from cohorts.germline import RealGenotypeSource; from cohorts.simulate import simulate_cohort; "
    "from recommender.models.defaults import build_default_bundle; "
    "build_default_bundle(simulate_cohort(40000, 0, germline=RealGenotypeSource()))\""
)


def default_training_config(**changes: Any) -> Any:
    """The default bundle's :class:`~recommender.models.training.TrainingConfig` (``changes`` override fields).

    Learner ``"interaction"`` (explicit drug x covariate interactions, :mod:`recommender.models.effects`) with
    toxicity as independent drug causes (``interaction_toxicity="drug_causes"``: pharmacogene effects only on the
    drugs of their CPIC/DPWG guidelines, shared by those drugs) and a fixed Cox ridge penalty of 0.003 (the
    held-out partial likelihood is flat from 1e-4 to 1e-2 and picked the strongest, which halved the anti-EGFR x
    KRAS hazard ratio; 0.003 checked on a validation cohort, seed 103, not the benchmark's test seeds); a fixed
    toxicity ridge penalty of 0.001 (no per-run selection: each selection fit costs minutes on the shared machine);
    4 bootstrap members for response and survival intervals, 2 for toxicity (the bundle ships in the package).
    """
    from recommender.models.training import TrainingConfig

    base = {"learner": "interaction", "interaction_toxicity": "drug_causes", "cox_penalties": (0.003,),
            "toxicity_penalty": 0.001,
            "n_bootstrap": 4, "n_bootstrap_toxicity": 2}
    base.update(changes)
    if "n_bootstrap" in changes and "n_bootstrap_toxicity" not in changes:
        base["n_bootstrap_toxicity"] = min(base["n_bootstrap_toxicity"], changes["n_bootstrap"])
    return TrainingConfig(**base)

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
    from recommender.models.training import train_bundle

    prov = getattr(cohort, "provenance", None)
    notes = "; ".join(getattr(prov, "notes", ()) or ())
    description = (f"Synthetic cohort '{cohort.name}' from cohorts.simulate "
                   f"({getattr(prov, 'source_version', '')}); {notes}. Rebuild: {REBUILD_COMMAND}")
    kwargs.setdefault("config", default_training_config())
    kwargs.setdefault("trained_on", f"the default simulated cohort ({cohort.name}); synthetic data, not patients")
    return train_bundle(cohort.tables, out_dir or DEFAULT_BUNDLE_DIR, cohort_description=description,
                        overwrite=True, **kwargs)
