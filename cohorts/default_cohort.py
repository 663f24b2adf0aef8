"""The embedded default cohort: 2,000 simulated patients on real 1000 Genomes haplotypes, regenerated on demand.

It is not shipped as files: the compact haplotype panel is (``cohorts/data/haplotype_panel``, 157 kB), and
the cohort (tables + germline VCF, about 0.8 MB) is regenerated from it offline in seconds, byte-identical
for the same seed, by :func:`ensure_default_cohort` or ``recommender cohort simulate -o DIR`` (whose
defaults are these). Shipping the panel instead of a generated cohort keeps the default cohort in step
with the causal model (:data:`cohorts.simulate_model.MODEL_VERSION`) and the PGx knowledge it is built from.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEFAULT_N", "DEFAULT_SEED", "build_default_cohort", "ensure_default_cohort"]

DEFAULT_N = 2000
DEFAULT_SEED = 0


def build_default_cohort(directory: str | os.PathLike[str], *, overwrite: bool = False):
    """Simulate and write the default cohort to ``directory`` (returns the :class:`~cohorts.storage.Cohort`)."""
    from cohorts.germline import RealGenotypeSource
    from cohorts.simulate import simulate_cohort

    sim = simulate_cohort(DEFAULT_N, DEFAULT_SEED, germline=RealGenotypeSource())
    return sim.write(directory, overwrite=overwrite)


def ensure_default_cohort(directory: str | os.PathLike[str]):
    """The default cohort at ``directory``: opened when present and current, (re)built otherwise."""
    from cohorts.errors import CohortError
    from cohorts.simulate_model import MODEL_VERSION
    from cohorts.storage import load_cohort

    directory = Path(directory)
    if directory.exists():
        try:
            cohort = load_cohort(directory, validate=False)
            version = cohort.manifest.provenance.source_version or ""
            if cohort.n_patients == DEFAULT_N and version.startswith(f"{MODEL_VERSION}; seed {DEFAULT_SEED}"):
                return cohort
        except CohortError:
            pass
        return build_default_cohort(directory, overwrite=True)
    return build_default_cohort(directory)
