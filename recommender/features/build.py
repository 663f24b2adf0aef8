"""Feature fusion: one patient x one candidate treatment -> one named feature row.

:func:`build_features` is the single code path from a :class:`~recommender.schema.Patient` (plus its
optional genomic results) to a model input row; :func:`build_feature_frame` is its batch form over
many patients x options (a pandas DataFrame in schema column order). Training (cohorts) and scoring
use the same functions, so a model never sees features computed two different ways.

Inputs beside the Patient (all optional; a missing block gives ``NaN`` + missing indicators)
----------------------------------------------------------------------------------------------
``pgx``
    A :class:`genomics.pgx.PgxProfile`, or a mapping ``gene -> GeneCall | {"phenotype", "activity_score"}
    | phenotype string | activity score``. Only called genes count (a GeneCall without a phenotype
    is "unknown", never "normal").
``biomarkers``
    A :class:`genomics.biomarkers.BiomarkerReport` for the patient's tumour. When absent and the
    patient has tumour variants, the report is computed from them with the bundled table
    (``match_tumour=True``).
``dnalm``
    A mapping ``gene -> GeneEmbedding | {"n_variants", "min_llr", "sum_llr", "mean_embedding_delta"}
    | embedding vector`` (from :func:`genomics.dnalm.pool_by_gene`).
``covariates``
    Clinical covariates the patient schema does not (yet) hold: ``er_positive`` (bool), ``msi_high``
    (bool), ``tmb`` (mutations/Mb), ``thiopurine_phenotype`` (worse of TPMT/NUDT15 when only that is
    known), and any extra numeric covariate named in ``schema.covariates``.

Examples
--------
>>> from recommender.schema import Patient, TreatmentOption
>>> p = Patient(patient_id="P1", demographics={"age": 64, "sex": "female"},
...             diagnosis={"cancer_type": "COAD"}, medications=["paroxetine"])
>>> row = build_features(p, "FOLFOX", pgx={"DPYD": 1.0, "CYP2D6": {"phenotype": "Normal Metabolizer",
...                                        "activity_score": 2.0}}, match_tumour=False)
>>> row["pgx_dpyd_activity_score"], row["tx_fluoropyrimidine_x_dpyd_deficit"], row["pgx_cyp2d6_functional_phenotype"]
(1.0, 1.0, 0.0)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from genomics.errors import UsageError
from recommender import vocab
from recommender.features.phenoconversion import activity_to_phenotype, phenoconvert, phenotype_code
from recommender.features.schema import (
    BIOMARKER_FLAGS,
    MISSING_SUFFIX,
    FeatureSchema,
    default_feature_schema,
)
from recommender.schema import Patient, TreatmentOption

__all__ = [
    "GenePhenotype",
    "build_feature_frame",
    "build_features",
    "normalise_dnalm",
    "normalise_pgx",
    "resolve_option",
]

NaN = float("nan")

_SMOKING = {"never": 0.0, "former": 1.0, "current": 2.0}
_ALCOHOL = {"none": 0.0, "moderate": 1.0, "heavy": 2.0}
_ACTIVITY = {"sedentary": 0.0, "low": 1.0, "moderate": 2.0, "high": 3.0}
_STAGE_RE = re.compile(r"^(0|I{1,3}|IV)")
_STAGE = {"0": 0.0, "I": 1.0, "II": 2.0, "III": 3.0, "IV": 4.0}
_EGFR_SENSITISING = re.compile(r"^(L858R|E746_A750del.*|.*74[5-9].*del.*|.*75[0-9].*del.*)$")
_SENS_LEVEL = {"1": 4.0, "2": 3.0, "3A": 2.0, "3B": 2.0, "4": 1.0}
_RES_LEVEL = {"R1": 2.0, "R2": 1.0}


@dataclass(frozen=True)
class GenePhenotype:
    """A gene's usable call: phenotype text and activity score (either may be ``None``)."""

    phenotype: str | None = None
    activity_score: float | None = None


def _float_or_none(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool):
        v = float(value)
        return None if math.isnan(v) else v
    m = re.search(r"[-+]?\d+(\.\d+)?", str(value))
    return float(m.group(0)) if m else None


def normalise_pgx(pgx: Any) -> dict[str, GenePhenotype]:
    """``gene -> GenePhenotype`` from a PgxProfile or a mapping (see module docstring)."""
    if pgx is None:
        return {}
    genes = getattr(pgx, "genes", pgx)
    if not isinstance(genes, Mapping):
        raise TypeError(f"pgx must be a PgxProfile or a mapping gene -> call, not {type(pgx).__name__}")
    out: dict[str, GenePhenotype] = {}
    for gene, call in genes.items():
        gene = str(gene).upper()
        if call is None:
            continue
        if isinstance(call, GenePhenotype):
            out[gene] = call
        elif hasattr(call, "status") and hasattr(call, "phenotype"):  # genomics.pgx.GeneCall
            usable = call.phenotype is not None or call.activity_score is not None
            if getattr(call, "callable", True) and usable:
                out[gene] = GenePhenotype(call.phenotype, _float_or_none(call.activity_score))
        elif isinstance(call, Mapping):
            out[gene] = GenePhenotype(call.get("phenotype"), _float_or_none(call.get("activity_score")))
        elif isinstance(call, str):
            out[gene] = GenePhenotype(call, None)
        else:
            score = _float_or_none(call)
            if score is not None:
                out[gene] = GenePhenotype(None, score)
    return out


def normalise_dnalm(dnalm: Any) -> dict[str, dict[str, Any]]:
    """``gene -> {"n_variants", "min_llr", "sum_llr", "embedding"}`` from pooled DNA LM results."""
    if dnalm is None:
        return {}
    if not isinstance(dnalm, Mapping):
        raise TypeError(f"dnalm must be a mapping gene -> GeneEmbedding, not {type(dnalm).__name__}")
    out: dict[str, dict[str, Any]] = {}
    for gene, value in dnalm.items():
        if value is None:
            continue
        if hasattr(value, "mean_embedding_delta"):
            value = {"n_variants": value.n_variants, "min_llr": value.min_llr, "sum_llr": value.sum_llr,
                     "embedding": value.mean_embedding_delta}
        elif isinstance(value, Mapping):
            value = {"n_variants": value.get("n_variants"), "min_llr": value.get("min_llr"),
                     "sum_llr": value.get("sum_llr"),
                     "embedding": value.get("mean_embedding_delta", value.get("embedding"))}
        else:
            value = {"n_variants": None, "min_llr": None, "sum_llr": None, "embedding": value}
        out[str(gene).upper()] = value
    return out


def resolve_option(option: TreatmentOption | str | Mapping[str, Any]) -> TreatmentOption:
    """A :class:`TreatmentOption` from an option, a regimen name or a mapping."""
    if isinstance(option, TreatmentOption):
        return option
    if isinstance(option, str):
        return TreatmentOption(regimen=option)
    return TreatmentOption.model_validate(option)


def _modalities(option: TreatmentOption) -> set[str]:
    parts = vocab.resolve_course(option.regimen)
    if parts is None:
        classes = {c for d in option.drugs for c in vocab.DRUGS[d].classes}
        if classes & {"serm", "aromatase_inhibitor", "antiandrogen"}:
            return {"endocrine"}
        if classes & {"immune_checkpoint_inhibitor"}:
            return {"immunotherapy"}
        return {"chemotherapy"} if option.drugs else {"unspecified"}
    return {p.modality for p in parts}


def _tumour_flags(patient: Patient) -> dict[str, float]:
    flags = {name: 0.0 for name, _, _ in BIOMARKER_FLAGS}
    kras = nras = braf = False
    for v in patient.tumour_variants:
        change = (v.protein_change or "").upper()
        gene = v.gene
        small = v.variant_type not in ("amplification", "deletion", "fusion", "silent")
        if gene == "EGFR" and small:
            if change == "T790M":
                flags["egfr_t790m"] = 1.0
            elif change == "L858R" or (v.variant_type == "inframe_indel" and "DEL" in change) \
                    or _EGFR_SENSITISING.match(v.protein_change or ""):
                flags["egfr_sensitising"] = 1.0
        elif gene == "KRAS" and small:
            kras = True
            flags["kras_mutant"] = 1.0
            if change == "G12C":
                flags["kras_g12c"] = 1.0
        elif gene == "NRAS" and small:
            nras = True
            flags["nras_mutant"] = 1.0
        elif gene == "BRAF" and small and change.startswith("V600"):
            braf = True
            if change == "V600E":
                flags["braf_v600e"] = 1.0
        elif gene == "PIK3CA" and small:
            flags["pik3ca_mutant"] = 1.0
        elif gene == "ERBB2":
            if v.variant_type == "amplification":
                flags["erbb2_amplified"] = 1.0
            elif small:
                flags["erbb2_mutant"] = 1.0
        elif v.variant_type == "fusion" and "ALK" in (gene, v.fusion_partner):
            flags["alk_fusion"] = 1.0
        elif v.variant_type == "fusion" and "ROS1" in (gene, v.fusion_partner):
            flags["ros1_fusion"] = 1.0
        elif gene in ("BRCA1", "BRCA2") and v.variant_type in ("loss_of_function", "nonsense", "frameshift", "splice",
                                                               "deletion"):
            flags["brca_lof"] = 1.0
        elif gene == "TP53" and small:
            flags["tp53_mutant"] = 1.0
    flags["ras_raf_wildtype"] = 0.0 if (kras or nras or braf) else 1.0
    return flags


def _tumour_report(patient: Patient) -> Any:
    """The BiomarkerReport of the patient's tumour variants (bundled table), or ``None``."""
    if not patient.tumour_variants:
        return None
    genes = _knowledge_genes()
    relevant = tuple(v for v in patient.tumour_variants
                     if v.gene in genes or (v.fusion_partner or "") in genes)
    if not relevant:
        return None
    cancer = patient.diagnosis.cancer_type if patient.diagnosis else None
    key = (cancer, tuple(sorted((v.gene, v.protein_change or "", v.variant_type, v.fusion_partner or "")
                                for v in relevant)))
    return _report_for_key(key, relevant)


@lru_cache(maxsize=1)
def _knowledge_genes() -> frozenset[str]:
    """Genes of the bundled biomarker table (only their variants can match; BRCA1/2 for VUS)."""
    from genomics.biomarkers import load_knowledge_base

    kb = load_knowledge_base()
    return frozenset(g for row in kb.rows for g in row.genes) | {"BRCA1", "BRCA2"}


_REPORT_CACHE: dict[Any, Any] = {}


def _report_for_key(key: Any, tumour_variants: Any) -> Any:
    """Cached by (cancer type, variant set): cohorts repeat the same hotspot sets many times."""
    if key in _REPORT_CACHE:
        return _REPORT_CACHE[key]
    if len(_REPORT_CACHE) > 4096:
        _REPORT_CACHE.clear()
    report = _match_variants(key[0], tumour_variants)
    _REPORT_CACHE[key] = report
    return report


def _match_variants(cancer: str | None, tumour_variants: Any) -> Any:
    from genomics.biomarkers import (
        CopyNumberCall,
        FusionCall,
        SomaticVariant,
        TumourProfile,
        match_biomarkers,
    )
    from genomics.biomarkers.protein_change import parse_protein_change

    variants, cnvs, fusions = [], [], []
    for v in tumour_variants:
        if v.variant_type in ("amplification", "deletion"):
            cnvs.append(CopyNumberCall(gene=v.gene, alteration=v.variant_type, record=v.label))
        elif v.variant_type == "fusion":
            fusions.append(FusionCall(gene=v.gene, partner=v.fusion_partner, record=v.label))
        else:
            protein = parse_protein_change(v.protein_change) if v.protein_change else None
            cons = {"loss_of_function": ("stop_gained",), "nonsense": ("stop_gained",),
                    "frameshift": ("frameshift_variant",), "splice": ("splice_donor_variant",),
                    "inframe_indel": ("inframe_deletion",), "missense": ("missense_variant",)}.get(v.variant_type, ())
            variants.append(SomaticVariant(gene=v.gene, protein=protein, consequences=cons, record=v.label))
    profile = TumourProfile(variants=tuple(variants), copy_number=tuple(cnvs), fusions=tuple(fusions))
    try:
        return match_biomarkers(profile, cancer)
    except UsageError:  # an OncoTree code the biomarker table does not know: match without a type
        return match_biomarkers(profile, None)


def _option_levels(report: Any, option: TreatmentOption) -> tuple[float, float]:
    if report is None:
        return 0.0, 0.0
    drugs = set(option.drugs)
    sens = res = 0.0
    for m in getattr(report, "matches", ()):
        if not getattr(m, "matched_in_patient_cancer_type", False):
            continue
        therapy_drugs = set(m.drugs)
        if not therapy_drugs or not therapy_drugs & drugs:
            continue
        if m.direction == "resistance":
            res = max(res, _RES_LEVEL.get(m.evidence_level, 1.0))
        else:
            sens = max(sens, _SENS_LEVEL.get(m.evidence_level, 1.0))
    return sens, res


def _patient_block(patient: Patient, schema: FeatureSchema, pgx: dict[str, GenePhenotype],
                   dnalm: dict[str, dict[str, Any]], covariates: Mapping[str, Any], report: Any) -> dict[str, float]:
    row: dict[str, float] = {}
    d = patient.demographics
    row["demo_age"] = NaN if d.age is None else float(d.age)
    row["demo_sex_female"] = {"female": 1.0, "male": 0.0}.get(d.sex, NaN)
    cancer = patient.diagnosis.cancer_type if patient.diagnosis else None
    if cancer is not None:
        row[f"demo_cancer_{cancer}"] = 1.0
    dx = patient.diagnosis
    row["hist_ecog"] = NaN if dx is None or dx.ecog is None else float(dx.ecog)
    stage = NaN
    if dx is not None and dx.stage:
        m = _STAGE_RE.match(dx.stage)
        stage = _STAGE.get(m.group(1), NaN) if m else NaN
    row["hist_stage"] = stage
    row["hist_n_prior_lines"] = float(len(patient.history.prior_treatments))
    row["hist_n_comorbidities"] = float(len(patient.history.comorbidities))
    for lab in vocab.LABS:
        v = patient.history.lab(lab)
        row[f"lab_{lab}"] = NaN if v is None else float(v)
    ls = patient.lifestyle
    row["life_smoking"] = _SMOKING.get(ls.smoking, NaN)
    row["life_pack_years"] = NaN if ls.pack_years is None else float(ls.pack_years)
    if ls.smoking == "never" and ls.pack_years is None:
        row["life_pack_years"] = 0.0
    row["life_alcohol"] = _ALCOHOL.get(ls.alcohol, NaN)
    row["life_alcohol_units"] = NaN if ls.alcohol_units_per_week is None else float(ls.alcohol_units_per_week)
    row["life_bmi"] = NaN if ls.bmi is None else float(ls.bmi)
    row["life_activity"] = _ACTIVITY.get(ls.physical_activity, NaN)
    meds = patient.medications
    row["med_n_medications"] = float(len(meds))
    for drug in meds:
        for m in vocab.cyp_modulators_for(drug):
            key = f"med_{m.enzyme.lower()}_{m.strength}_{m.effect}"
            row[key] = row.get(key, 0.0) + 1.0

    # -- pharmacogenomics (with phenoconversion) -------------------------------------------------
    for gene in schema.pgx_genes:
        g = gene.lower()
        call = pgx.get(gene)
        phen = None if call is None else call.phenotype
        score = None if call is None else call.activity_score
        if phen is None and score is not None and gene in ("DPYD", "CYP2D6", "CYP2C9"):
            phen = activity_to_phenotype(gene, score)
        code = phenotype_code(phen)
        row[f"pgx_{g}_phenotype"] = NaN if code is None else code
        if gene in ("DPYD", "CYP2D6", "CYP2C9"):
            row[f"pgx_{g}_activity_score"] = NaN if score is None else score
        if gene in ("CYP2D6", "CYP2C19"):
            conv = phenoconvert(gene, phenotype=phen, activity_score=score, medications=meds)
            fcode = phenotype_code(conv.functional_phenotype)
            row[f"pgx_{g}_functional_phenotype"] = NaN if fcode is None else fcode
            if gene == "CYP2D6":
                fs = conv.functional_activity_score
                row["pgx_cyp2d6_functional_activity_score"] = NaN if fs is None else fs
    if "pgx_thiopurine_phenotype" in schema.names:
        codes = [row.get(f"pgx_{g}_phenotype", NaN) for g in ("tpmt", "nudt15")]
        codes = [c for c in codes if not math.isnan(c)]
        thio = covariates.get("thiopurine_phenotype")
        if thio is not None:
            tc = phenotype_code(thio)
            codes = codes + ([] if tc is None else [tc])
        row["pgx_thiopurine_phenotype"] = min(codes) if codes else NaN

    # -- tumour ------------------------------------------------------------------------------------
    for name, value in _tumour_flags(patient).items():
        row[f"bm_{name}"] = value
    if covariates.get("brca_lof"):
        row["bm_brca_lof"] = 1.0
    er = covariates.get("er_positive")
    row["bm_er_positive"] = NaN if er is None or (isinstance(er, float) and math.isnan(er)) else float(bool(er))
    msi = covariates.get("msi_high")
    tmb = covariates.get("tmb")
    if report is not None:
        tumour = getattr(report, "tumour", {}) or {}
        if msi is None and tumour.get("msi") is not None:
            msi = str(tumour["msi"]).upper() in ("MSI-H", "MSI_HIGH", "MSI-HIGH", "HIGH")
        if tmb is None:
            tmb = tumour.get("tmb")
    row["bm_msi_high"] = NaN if msi is None else float(bool(msi))
    row["bm_tmb"] = NaN if _float_or_none(tmb) is None else float(_float_or_none(tmb))  # type: ignore[arg-type]
    row["bm_n_tumour_variants"] = float(len(patient.tumour_variants))
    for name in schema.covariates:
        v = _float_or_none(covariates.get(name)) if not isinstance(covariates.get(name), bool) else \
            float(covariates[name])
        row[f"cov_{name}"] = NaN if v is None else v

    # -- DNA LM ---------------------------------------------------------------------------------------
    for gene in schema.dnalm_genes:
        g = gene.lower()
        block = dnalm.get(gene)
        emb = None if block is None else block.get("embedding")
        n = None if block is None else block.get("n_variants")
        if block is not None and n is None and emb is not None:
            n = 1
        row[f"dnalm_{g}_n_variants"] = NaN if n is None else float(n)
        for key in ("min_llr", "sum_llr"):
            v = None if block is None else _float_or_none(block.get(key))
            row[f"dnalm_{g}_{key}"] = NaN if v is None else v
        for k in range(schema.dnalm_embedding_dims):
            row[f"dnalm_{g}_emb{k}"] = float(emb[k]) if emb is not None and k < len(emb) else NaN
    return row


def _option_block(patient: Patient, option: TreatmentOption, patient_row: Mapping[str, float],
                  report: Any) -> dict[str, float]:
    row: dict[str, float] = {}
    for drug in option.drugs:
        row[f"tx_drug_{drug.replace(' ', '_')}"] = 1.0
    classes = set(option.drug_classes)
    for c in classes:
        row[f"tx_class_{c}"] = 1.0
    for m in _modalities(option):
        row[f"tx_modality_{m}"] = 1.0
    row["tx_n_drugs"] = float(len(option.drugs))
    prior = {c for pt in patient.history.prior_treatments for c in pt.treatment.drug_classes}
    row["tx_prior_same_class"] = 1.0 if classes & prior else 0.0
    sens, res = _option_levels(report, option)
    row["bm_option_sensitivity_level"] = sens
    row["bm_option_resistance_level"] = res

    def _interaction(applies: bool, value: float) -> float:
        return (value if not math.isnan(value) else NaN) if applies else 0.0

    dpyd = patient_row.get("pgx_dpyd_activity_score", NaN)
    row["tx_fluoropyrimidine_x_dpyd_deficit"] = _interaction("fluoropyrimidine" in classes, 2.0 - dpyd)
    ugt = patient_row.get("pgx_ugt1a1_phenotype", NaN)
    row["tx_irinotecan_x_ugt1a1_decreased"] = _interaction("irinotecan" in option.drugs, 2.0 - ugt)
    thio = patient_row.get("pgx_thiopurine_phenotype", NaN)
    row["tx_thiopurine_x_thiopurine_deficit"] = _interaction("thiopurine" in classes, 2.0 - thio)
    cyp = patient_row.get("pgx_cyp2d6_functional_activity_score", NaN)
    row["tx_tamoxifen_x_cyp2d6_function"] = _interaction("tamoxifen" in option.drugs, cyp)
    return row


def _finish(row: dict[str, float], schema: FeatureSchema) -> dict[str, float]:
    out: dict[str, float] = {}
    for f in schema.features:
        v = row.get(f.name)
        if v is None:
            v = 0.0 if f.missing == "zero" else NaN
        out[f.name] = float(v)
        if f.missing == "indicator":
            out[f.name + MISSING_SUFFIX] = 1.0 if math.isnan(out[f.name]) else 0.0
    return out


def build_features(
    patient: Patient,
    option: TreatmentOption | str | Mapping[str, Any],
    *,
    pgx: Any = None,
    biomarkers: Any = None,
    dnalm: Any = None,
    covariates: Mapping[str, Any] | None = None,
    schema: FeatureSchema | None = None,
    match_tumour: bool = True,
) -> dict[str, float]:
    """One feature row (``column -> float``, schema column order) for ``patient`` on ``option``.

    Parameters
    ----------
    patient
        The patient record.
    option
        The candidate treatment (a regimen name is resolved through :data:`recommender.vocab.REGIMENS`).
    pgx, biomarkers, dnalm, covariates
        Optional blocks (module docstring).
    schema
        Feature schema (default :func:`~recommender.features.schema.default_feature_schema`).
    match_tumour
        Compute the biomarker report from the patient's tumour variants when ``biomarkers`` is None.
    """
    schema = schema or default_feature_schema()
    report = biomarkers if biomarkers is not None else (_tumour_report(patient) if match_tumour else None)
    prow = _patient_block(patient, schema, normalise_pgx(pgx), normalise_dnalm(dnalm), covariates or {}, report)
    return _finish({**prow, **_option_block(patient, resolve_option(option), prow, report)}, schema)


def build_feature_frame(
    patients: Sequence[Patient],
    options: Sequence[TreatmentOption | str] | Sequence[Sequence[TreatmentOption | str]] | None = None,
    *,
    pgx: Mapping[str, Any] | None = None,
    biomarkers: Mapping[str, Any] | None = None,
    dnalm: Mapping[str, Any] | None = None,
    covariates: Mapping[str, Mapping[str, Any]] | None = None,
    schema: FeatureSchema | None = None,
    match_tumour: bool = True,
) -> pd.DataFrame:
    """Feature rows for many patients x options (batch form of :func:`build_features`).

    Parameters
    ----------
    patients
        The patients.
    options
        ``None``: each patient's ``candidate_treatments``; a flat list: the same options for every
        patient; a list of lists: per-patient options (same length as ``patients``).
    pgx, biomarkers, dnalm, covariates
        Per-patient blocks keyed by ``patient_id`` (missing keys: block absent).
    schema
        Feature schema (default: the default schema).

    Returns
    -------
    pandas.DataFrame
        Columns ``schema.columns`` (float64), index a MultiIndex ``(patient_id, regimen)``.
    """
    schema = schema or default_feature_schema()
    pgx, biomarkers, dnalm, covariates = pgx or {}, biomarkers or {}, dnalm or {}, covariates or {}
    per_patient: list[Sequence[Any]]
    if options is None:
        per_patient = [p.candidate_treatments for p in patients]
    elif len(options) and not isinstance(options[0], (str, TreatmentOption, Mapping)):
        if len(options) != len(patients):
            raise ValueError("per-patient options must have one list per patient")
        per_patient = list(options)  # type: ignore[arg-type]
    else:
        per_patient = [options] * len(patients)  # type: ignore[list-item]
    rows, index = [], []
    for patient, opts in zip(patients, per_patient):
        pid = patient.patient_id
        report = biomarkers.get(pid)
        if report is None and match_tumour:
            report = _tumour_report(patient)
        prow = _patient_block(patient, schema, normalise_pgx(pgx.get(pid)), normalise_dnalm(dnalm.get(pid)),
                              covariates.get(pid) or {}, report)
        for opt in opts:
            option = resolve_option(opt)
            rows.append(_finish({**prow, **_option_block(patient, option, prow, report)}, schema))
            index.append((pid, option.regimen))
    frame = pd.DataFrame(rows, columns=list(schema.columns), dtype="float64")
    frame.index = pd.MultiIndex.from_tuples(index, names=["patient_id", "regimen"]) if index else \
        pd.MultiIndex.from_arrays([[], []], names=["patient_id", "regimen"])
    return frame


def missing_report(frame: pd.DataFrame, schema: FeatureSchema) -> dict[str, float]:
    """Share of rows with an unknown value per feature (for model cards and QC)."""
    return {f.name: float(frame[f.name].isna().mean()) for f in schema.features if f.name in frame}


def options_for(patient: Patient, extra: Iterable[str] = ()) -> list[TreatmentOption]:
    """The patient's candidate treatments plus ``extra`` regimen names (deduplicated)."""
    seen = {t.regimen for t in patient.candidate_treatments}
    return list(patient.candidate_treatments) + [resolve_option(r) for r in extra if r not in seen]
