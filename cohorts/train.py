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

__all__ = ["FEATURE_GROUPS", "GENOMIC_GROUPS", "reduced_schema", "train_cohort", "training_split"]

#: Feature groups of :func:`recommender.features.default_feature_schema`.
FEATURE_GROUPS = ("pgx", "biomarker", "dnalm", "history", "lifestyle", "medication", "treatment", "demographics")
#: The groups that come from DNA (germline PGx, tumour biomarkers, DNA LM).
GENOMIC_GROUPS = ("pgx", "biomarker", "dnalm")


def reduced_schema(exclude_groups: Iterable[str] = (), covariates: Iterable[str] = ()):
    """The default feature schema (with the covariate names ``covariates``) without the features of ``exclude_groups``."""
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
                                  default_feature_schema().dnalm_genes, covariates=tuple(covariates))
    if not exclude:
        return base
    return FeatureSchema(features=tuple(f for f in base.features if f.group not in exclude),
                         pgx_genes=base.pgx_genes, dnalm_genes=base.dnalm_genes,
                         dnalm_embedding_dims=base.dnalm_embedding_dims, covariates=base.covariates)


def training_split(patients, split_column: str | None, train_value: str = "train",
                   *, cohort_path=None) -> tuple[list[str] | None, str]:
    """``(training patient ids or None, description)`` from a split column of the patients table.

    ``split_column=None``: the cohort's stored ``split`` column when it marks both ``train`` and other rows,
    else every row trains. ``split_column="none"``: every row trains.
    """
    if split_column is None:
        if "split" in patients.columns:
            vals = set(patients["split"].dropna().astype(str))
            if train_value in vals and len(vals) > 1:
                split_column = "split"
        if split_column is None:
            return None, "no split: every patient of the cohort is a training row"
    if split_column.lower() == "none":
        return None, "no split (--split-column none): every patient of the cohort is a training row"
    if split_column not in patients.columns:
        raise UsageError(f"the cohort has no column {split_column!r}", file=cohort_path, field="--split-column",
                         fix="name a column of the patients table (e.g. split) or pass --split-column none")
    col = patients[split_column].astype("string")
    ids = patients.loc[col == train_value, "patient_id"].astype(str).tolist()
    if not ids:
        raise UsageError(f"no patient has {split_column} == {train_value!r}", file=cohort_path,
                         field="--split-column", fix="check --train-value")
    counts = col.value_counts(dropna=False)
    return ids, (f"column '{split_column}': training rows = '{train_value}' ({len(ids)}); held out: "
                 + ", ".join(f"'{k}' ({v})" for k, v in counts.items() if k != train_value))


def train_cohort(cohort_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None, *,
                 exclude_groups: Iterable[str] = (), config=None, overwrite: bool = False,
                 covariates: Iterable[str] | None = None, exclude_covariates: Iterable[str] = (),
                 split_column: str | None = None, train_value: str = "train"):
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
    covariates, exclude_covariates
        The cohort's covariates to use (default: every one it declares, see :mod:`cohorts.covariates`)
        and those to leave out.
    split_column, train_value
        Train only on patients whose ``split_column`` equals ``train_value`` (default: the cohort's stored
        ``split`` when it has one; ``"none"``: every patient).

    Returns
    -------
    ModelBundle
    """
    from cohorts.covariates import cohort_covariates, select_covariates
    from cohorts.storage import load_cohort
    from recommender.features.covariates import covariate_feature_names
    from recommender.models.training import TrainingConfig, train_bundle

    if out_dir is not None and Path(out_dir).exists() and not overwrite:
        raise UsageError("the bundle directory already exists", file=out_dir, field="--output",
                         fix="choose another directory or pass --overwrite")
    cohort = load_cohort(cohort_dir)
    tables = {name: cohort.table(name) for name in cohort.table_names}
    declared, origin = cohort_covariates(cohort)
    specs = select_covariates(declared, None if covariates is None else list(covariates), exclude_covariates)
    schema = reduced_schema(exclude_groups, covariate_feature_names(specs))
    train_ids, split_text = training_split(tables["patients"], split_column, train_value, cohort_path=cohort.path)
    excluded = sorted({g.strip().lower() for g in exclude_groups if g.strip()})
    prov = cohort.manifest.provenance
    trained_on = f"cohort '{cohort.manifest.name}' ({cohort.n_patients} patients)"
    if prov.source_version:
        trained_on += f", {prov.source_version}"
    description = (f"{prov.source}" + (f" [{prov.source_version}]" if prov.source_version else "")
                   + (f"; feature groups excluded: {', '.join(excluded)}" if excluded else "")
                   + (f"; covariates ({origin}): {', '.join(s.name for s in specs)}" if specs else "; no covariates"))
    lic = cohort.manifest.licence
    licence = lic.name + (f" ({lic.url})" if lic.url else "") + (f" -- {lic.note}" if lic.note else "")
    if prov.loader.endswith("simulate") or prov.source == "simulated":
        licence = None  # simulated: the card keeps the simulated-data wording
    dnalm = None
    if schema.dnalm_genes:
        from cohorts.dnalm_pools import cohort_dnalm_pools

        dnalm, lm_notes = cohort_dnalm_pools(cohort, schema.dnalm_genes)
        description += "; " + "; ".join(lm_notes)
    # the cohort path's default compares weighted and unweighted survival fits out of fold (`cohort train`)
    return train_bundle(tables, out_dir, config=config or TrainingConfig(survival_weights="auto"), schema=schema,
                        trained_on=trained_on, cohort_description=description, overwrite=overwrite,
                        dnalm=dnalm or None, covariates=specs, train_ids=train_ids, split_description=split_text,
                        licence=licence)
