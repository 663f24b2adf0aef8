"""Typed request objects of the scoring API: what to read for a patient, and how to rank.

:func:`recommender.score_patient` takes a patient (record, mapping or file), optionally the options to compare,
and three small objects instead of a long list of keywords:

- :class:`PatientInputs`: the files and precomputed results that go with the record (germline VCF and sample,
  tumour file, outside PGx calls, reference, a PGx profile or DNA LM features already computed);
- :class:`RankingOptions`: how options are ranked and explained;
- :class:`~recommender.scoring.ScoringContext`: what is loaded once and shared by many calls (the model bundle).

The CLI (``recommender score``), the HTTP service, the app and cohort scoring all build these same objects.

Examples
--------
>>> from recommender.requests import PatientInputs, RankingOptions
>>> PatientInputs(germline_vcf="germline.vcf.gz", sample="S1").sample
'S1'
>>> RankingOptions(explain=False).allow_avoid_first
False
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from recommender.rank import RankingWeights

__all__ = ["PatientInputs", "RankingOptions", "split_legacy_keywords"]


@dataclass(frozen=True)
class PatientInputs:
    """Files and precomputed results that go with one patient's record.

    Every field overrides what the record itself names (``germline``, ``tumour_variants``).

    Parameters
    ----------
    germline_vcf, sample
        GRCh38 germline VCF/BCF and the sample to call (default: the record's ``germline`` reference).
    tumour
        A tumour VCF/MAF path, a :class:`~genomics.biomarkers.TumourProfile` or a
        :class:`~genomics.biomarkers.BiomarkerReport` (default: the record's ``tumour_variants``).
    outside_calls
        Outside PGx calls (TSV path or parsed calls: CYP2D6 copy number, DPYD, HLA).
    reference
        Reference FASTA for DNA LM features (default: the bundled GRCh38 subset).
    fill_missing_with_reference
        Treat defining positions ABSENT from the VCF as reference (recorded in the result). A no-call that is
        present in the VCF stays missing.
    cyp2d6_without_copy_number
        Use a CYP2D6 call made from SNVs/indels alone for guidance (opt-in; default ``False``). Without a
        copy-number source (an outside call or copy number in the VCF) CYP2D6 is "provisional: copy number not
        assessed" and treated as not assessed by the guidance, because a VCF cannot see the ``*5`` deletion,
        duplications or CYP2D6/2D7 hybrids. The choice is recorded in the result's provenance and warnings.
    base_dir
        Folder for relative paths inside the record (default: the patient file's folder).
    allow_record_paths
        Read file paths named inside the record (the HTTP service and the app pass ``False``: only uploads).
    pgx_profile
        An already called :class:`~genomics.pgx.PgxProfile` (the VCF is then not read again).
    dnalm_features
        Already computed DNA LM features of this patient.
    covariates
        Clinical covariates of this patient for the model features: ``{name: value}`` with a bundle's declared
        covariates (``recommender score --covariates NAME=VALUE``; values read as at training, see
        :mod:`recommender.covariate_inputs`) and ``er_positive``, ``msi_high``, ``brca_lof``, ``tmb``; or the
        block :func:`recommender.models.training.patient_covariates` writes from a cohort's patients row. A
        covariate the bundle needs and this lacks is refused (``UsageError`` naming it).
    fill_missing_covariates
        Accept missing bundle covariates: the models impute them (training medians); the result's warnings say
        which (``--fill-missing-covariates``).
    germline_genes
        Already read germline BRCA1/2 of this patient (:class:`~genomics.biomarkers.germline.GermlineGenes`,
        e.g. :func:`genomics.biomarkers.germline.read_germline_genes_cohort` over a cohort VCF); default: read
        from ``germline_vcf`` (not assessed without one).
    """

    germline_vcf: str | os.PathLike[str] | None = None
    sample: str | None = None
    tumour: Any = None
    outside_calls: Any = None
    reference: str | os.PathLike[str] | None = None
    fill_missing_with_reference: bool = False
    base_dir: str | os.PathLike[str] | None = None
    allow_record_paths: bool = True
    pgx_profile: Any = None
    dnalm_features: Any = None
    covariates: Any = None
    cyp2d6_without_copy_number: bool = False
    germline_genes: Any = None
    fill_missing_covariates: bool = False

    def replace(self, **changes: Any) -> PatientInputs:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class RankingOptions:
    """How options are ranked and explained.

    Parameters
    ----------
    weights
        Utility weights (:class:`~recommender.rank.RankingWeights`).
    allow_avoid_first
        Let an option with a drug flagged ``avoid`` rank first (the result then says so).
    explain
        Compute drivers (per-feature contributions) for the model numbers.
    """

    weights: RankingWeights = field(default_factory=RankingWeights)
    allow_avoid_first: bool = False
    explain: bool = True


_INPUT_FIELDS = tuple(f.name for f in dataclasses.fields(PatientInputs))
_RANKING_FIELDS = tuple(f.name for f in dataclasses.fields(RankingOptions))


def split_legacy_keywords(
    function: str, legacy: Mapping[str, Any], inputs: PatientInputs | None, ranking: RankingOptions | None,
) -> tuple[PatientInputs, RankingOptions, dict[str, Any]]:
    """Map the keywords of the old scoring signature onto the request objects (with a DeprecationWarning).

    Returns ``(inputs, ranking, old)`` where ``old`` holds the old ``bundle=`` keyword when it was given
    (``{}`` otherwise). Unknown keywords raise ``TypeError`` as Python would.
    """
    inputs = inputs or PatientInputs()
    ranking = ranking or RankingOptions()
    if not legacy:
        return inputs, ranking, {}
    unknown = set(legacy) - set(_INPUT_FIELDS) - set(_RANKING_FIELDS) - {"bundle"}
    if unknown:
        raise TypeError(f"{function}() got unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    warnings.warn(
        f"{function}(): the keywords {', '.join(sorted(legacy))} are deprecated and will be removed in the next "
        "release; pass inputs=PatientInputs(...), ranking=RankingOptions(...) and "
        "context=ScoringContext(bundle) instead",
        DeprecationWarning, stacklevel=3)
    in_changes = {k: v for k, v in legacy.items() if k in _INPUT_FIELDS}
    rk_changes = {k: v for k, v in legacy.items() if k in _RANKING_FIELDS}
    if rk_changes.get("weights", True) is None:
        rk_changes.pop("weights")
    if in_changes:
        inputs = dataclasses.replace(inputs, **in_changes)
    if rk_changes:
        ranking = dataclasses.replace(ranking, **rk_changes)
    return inputs, ranking, ({"bundle": legacy["bundle"]} if "bundle" in legacy else {})
