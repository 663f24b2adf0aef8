"""Train a model bundle on a cohort directory (``recommender cohort train``).

The cohort's tables are read with :func:`cohorts.storage.load_cohort` and handed to
:func:`recommender.models.training.train_bundle` (``recommender`` never imports ``cohorts``).
Feature groups can be left out (``exclude_groups``, e.g. ``("pgx", "biomarker", "dnalm")`` for a
model without genomic features): the bundle is then trained with a reduced feature schema, recorded
in the bundle, so it refuses to load against the full one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from genomics.errors import UsageError

__all__ = ["FEATURE_GROUPS", "GENOMIC_GROUPS", "reduced_schema", "train_cohort"]

#: Feature groups of :func:`recommender.features.default_feature_schema`.
FEATURE_GROUPS = ("pgx", "biomarker", "dnalm", "history", "lifestyle", "medication", "treatment", "demographics")
#: The groups that come from DNA (germline PGx, tumour biomarkers, DNA LM).
GENOMIC_GROUPS = ("pgx", "biomarker", "dnalm")


def reduced_schema(exclude_groups: Iterable[str] = ()):
    """The default feature schema without the features of ``exclude_groups``."""
    from recommender.features import default_feature_schema
    from recommender.features.schema import FeatureSchema

    exclude = tuple(dict.fromkeys(g.strip().lower() for g in exclude_groups if g.strip()))
    unknown = [g for g in exclude if g not in FEATURE_GROUPS]
    if unknown:
        raise UsageError(f"unknown feature group(s): {', '.join(unknown)}", field="--exclude-groups",
                         fix=f"choose from {', '.join(FEATURE_GROUPS)}")
    if "treatment" in exclude:
        raise UsageError("the treatment group cannot be excluded (the model could not tell options apart)",
                         field="--exclude-groups", fix="drop 'treatment' from --exclude-groups")
    base = default_feature_schema(dnalm_genes=() if "dnalm" in exclude else
                                  default_feature_schema().dnalm_genes)
    if not exclude:
        return base
    return FeatureSchema(features=tuple(f for f in base.features if f.group not in exclude),
                         pgx_genes=base.pgx_genes, dnalm_genes=base.dnalm_genes,
                         dnalm_embedding_dims=base.dnalm_embedding_dims, covariates=base.covariates)


def train_cohort(cohort_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None, *,
                 exclude_groups: Iterable[str] = (), config=None, overwrite: bool = False):
    """Fit a :class:`~recommender.models.ModelBundle` on the cohort at ``cohort_dir``.

    Parameters
    ----------
    cohort_dir
        Cohort directory (validated on load).
    out_dir
        Bundle directory to write (atomically); ``None`` keeps the bundle in memory.
    exclude_groups
        Feature groups to leave out (see :data:`FEATURE_GROUPS`).
    config
        :class:`recommender.models.training.TrainingConfig` (default hyper-parameters when ``None``).
    overwrite
        Replace an existing bundle directory.

    Returns
    -------
    ModelBundle
    """
    from cohorts.storage import load_cohort
    from recommender.models.training import TrainingConfig, train_bundle

    if out_dir is not None and Path(out_dir).exists() and not overwrite:
        raise UsageError("the bundle directory already exists", file=out_dir, field="--output",
                         fix="choose another directory or pass --overwrite")
    cohort = load_cohort(cohort_dir)
    tables = {name: cohort.table(name) for name in cohort.table_names}
    schema = reduced_schema(exclude_groups)
    excluded = sorted({g.strip().lower() for g in exclude_groups if g.strip()})
    prov = cohort.manifest.provenance
    trained_on = f"cohort '{cohort.manifest.name}' ({cohort.n_patients} patients)"
    if prov.source_version:
        trained_on += f", {prov.source_version}"
    description = (f"{prov.source}" + (f" [{prov.source_version}]" if prov.source_version else "")
                   + (f"; feature groups excluded: {', '.join(excluded)}" if excluded else ""))
    dnalm = None
    if schema.dnalm_genes:
        from cohorts.dnalm_pools import cohort_dnalm_pools

        dnalm, lm_notes = cohort_dnalm_pools(cohort, schema.dnalm_genes)
        description += "; " + "; ".join(lm_notes)
    return train_bundle(tables, out_dir, config=config or TrainingConfig(), schema=schema,
                        trained_on=trained_on, cohort_description=description, overwrite=overwrite,
                        dnalm=dnalm or None)
