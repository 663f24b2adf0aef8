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
from typing import NamedTuple

__all__ = ["BUNDLE_TRAINING_N", "BUNDLE_TRIAL_SHARE", "DEFAULT_N", "DEFAULT_SEED", "build_default_cohort", "ensure_default_cohort",
           "training_cohort_spec"]

DEFAULT_N = 2000
DEFAULT_SEED = 0
#: Patients of the default *model bundle's* training cohort (same generator and seed as the default cohort,
#: more patients). The pharmacogenomic effects concern a few per cent of patients: among 2,000 simulated
#: patients about 25 DPYD-deficient ones receive a fluoropyrimidine (tested carriers are steered away), too
#: few to estimate a toxicity risk ratio, and 5-10 EGFR wild-type patients receive osimertinib. At 10,000 the
#: about 100 exposed DPYD-deficient patients and 125 never-smokers on pembrolizumab left 24 of the 50 encoded
#: effects outside half their true size (issue 14); 40,000 quadrupled them, and at 40,000 (with the trial
#: component below) one effect stayed outside because of chance in the cohort: the 133 DPYD-deficient patients
#: on CAPOX had severe neutropenia 28.6 % of the time where the simulator expects 24.7 %. 80,000 doubles the
#: exposed carriers (``benchmarks/eval_simulated.py``).
BUNDLE_TRAINING_N = 80_000
#: Share of the bundle's training patients enrolled in a simulated randomised trial (treatment uniform over the
#: candidates; the others by indication): :func:`cohorts.simulate.simulate_cohort`'s ``trial_share``. By
#: indication alone, some effects have no overlap: 44 of 40,000 patients were ER-negative breast cancers
#: given tamoxifen, so the tamoxifen x ER response effect could not be estimated by any learner (issue 14). A
#: fifth of the cohort randomised gives about 165 such patients per 40,000, as the early tamoxifen trials enrolled
#: patients whatever their receptor status (EBCTCG).
BUNDLE_TRIAL_SHARE = 0.2


class TrainingCohortSpec(NamedTuple):
    """What the default model bundle is trained on: :func:`cohorts.simulate.simulate_cohort` arguments."""

    n: int
    seed: int
    trial_share: float


def training_cohort_spec() -> TrainingCohortSpec:
    """``(patients, seed, trial_share)`` of the cohort the default model bundle is trained on."""
    return TrainingCohortSpec(BUNDLE_TRAINING_N, DEFAULT_SEED, BUNDLE_TRIAL_SHARE)


def build_default_cohort(directory: str | os.PathLike[str], *, overwrite: bool = False, n: int | None = None,
                         seed: int | None = None, trial_share: float = 0.0):
    """Simulate and write the default cohort to ``directory`` (returns the :class:`~cohorts.storage.Cohort`).

    ``n`` / ``seed`` default to :data:`DEFAULT_N` / :data:`DEFAULT_SEED`; ``trial_share`` to none (the bundle's
    training cohort: :func:`training_cohort_spec`).
    """
    from cohorts.germline import RealGenotypeSource
    from cohorts.simulate import simulate_cohort

    n = DEFAULT_N if n is None else n
    seed = DEFAULT_SEED if seed is None else seed
    sim = simulate_cohort(n, seed, germline=RealGenotypeSource(), trial_share=trial_share)
    return sim.write(directory, overwrite=overwrite)


def ensure_default_cohort(directory: str | os.PathLike[str], *, n: int | None = None, seed: int | None = None,
                          trial_share: float = 0.0):
    """The default cohort (or ``n`` patients of seed ``seed``, ``trial_share`` randomised) at ``directory``:
    opened when current, else built."""
    from cohorts.errors import CohortError
    from cohorts.simulate_model import MODEL_VERSION
    from cohorts.storage import load_cohort

    n = DEFAULT_N if n is None else n
    seed = DEFAULT_SEED if seed is None else seed
    directory = Path(directory)
    if directory.exists():
        try:
            cohort = load_cohort(directory, validate=False)
            version = cohort.manifest.provenance.source_version or ""
            base, _, trial = version.partition("; trial")
            if (cohort.n_patients == n and base == f"{MODEL_VERSION}; seed {seed}"
                    and trial == (f"{float(trial_share):g}" if trial_share else "")):
                return cohort
        except CohortError:
            pass
        return build_default_cohort(directory, overwrite=True, n=n, seed=seed, trial_share=trial_share)
    return build_default_cohort(directory, n=n, seed=seed, trial_share=trial_share)
