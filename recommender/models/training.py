"""Fit every model of a bundle from cohort tables (pandas DataFrames in the cohorts table layout).

``cohorts`` imports ``recommender`` (never the reverse), so this module takes the tables as
DataFrames (``patients``, ``treatments``, ``outcomes``, optional ``adverse_events`` and
``tumour_variants``; columns as in ``cohorts.tables``) and ``recommender cohort train`` calls
:func:`train_bundle` with them.

Steps
-----
1. Rows: one per patient, the received course (all treatment rows of the patient combined) as the
   treatment. Patients are converted to :class:`~recommender.schema.Patient` records and features are
   built with :func:`recommender.features.build_feature_frame` -- the same code path as scoring.
   Pharmacogenomic phenotype columns (``pgx_<gene>_phenotype``, ``pgx_<gene>_activity_score``;
   the simulator's ``pgx_dpyd_activity_score``, ``pgx_cyp2d6_activity_score``, ``pgx_ugt1a1_poor``,
   ``pgx_thiopurine_function``) and ``er_positive`` / ``msi_high`` / ``tmb`` become the optional blocks.
2. Split: a stratified (by received regimen) test split of ``test_fraction`` is held out; every
   model is fitted on the rest (each booster again holds out a validation split for early stopping
   and calibration) and evaluated on the test split (metrics in the bundle). Final models are the
   ones evaluated (no refit on all rows).
3. Confounding: a :class:`~recommender.models.counterfactual.PropensityModel` on the patient-level
   features; with ``ipw=True`` every outcome model is fitted with its stabilised, clipped weights.
4. Uncertainty: bootstrap ensembles (``n_bootstrap``) of the response, boosted survival and toxicity
   models. OOD: an :class:`~recommender.models.counterfactual.OodDetector` on the training rows.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recommender import vocab
from recommender.features.build import _float_or_none, build_feature_frame
from recommender.features.covariates import CovariateSpec, covariate_values, specs_from_dicts
from recommender.features.schema import FeatureSchema, default_feature_schema
from recommender.models._base import ModelError
from recommender.models.bundle import ModelBundle, package_version
from recommender.models.counterfactual import BootstrapEnsemble, OodDetector, PropensityModel
from recommender.models.response import ResponseModel
from recommender.models.survival import BlendedSurvival, BoostedSurvival, CoxBaseline
from recommender.models.toxicity import ToxicityModel, severe_toxicity_labels

__all__ = ["SURVIVAL_CANDIDATES", "SURVIVAL_WEIGHTS", "TrainingConfig", "calibration_slope", "TrainingExamples", "examples_from_tables", "patient_covariates",
           "select_survival_model", "table_fingerprint", "train_bundle"]

RESPONDERS = ("CR", "PR")


@dataclass
class TrainingConfig:
    """Hyper-parameters of a training run (recorded in the bundle)."""

    test_fraction: float = 0.2
    ipw: bool = True
    n_bootstrap: int = 8
    n_bootstrap_toxicity: int = 4
    interval: float = 0.9
    min_toxicity_events: int = 15
    booster: dict[str, Any] = field(default_factory=lambda: {
        "n_estimators": 300, "max_depth": 3, "learning_rate": 0.05, "subsample": 0.8, "colsample_bytree": 0.8,
        "min_child_weight": 1.0, "reg_lambda": 1.0, "early_stopping_rounds": 30, "validation_fraction": 0.25})
    calibration: str = "auto"
    cox_penalizer: float = 0.1
    endpoints: tuple[str, ...] = ("pfs", "os")
    random_state: int = 0
    n_jobs: int = 1
    #: Folds of the cross-validation that selects the survival model on the training rows (< 2: no selection).
    cv_folds: int = 5
    #: Survival candidates compared by cross-validated Harrell's C (see :data:`SURVIVAL_CANDIDATES`).
    #: ``neural`` and ``blend_neural`` are opt-in (they need torch and double the training time on wide cohorts);
    #: so is ``coxtime`` (Cox-Time; its cross-validated figures: docs/concepts/survival-models.md).
    survival_candidates: tuple[str, ...] = ("boosted", "boosted_shallow", "cox", "blend", "forest", "aft", "stack")
    #: Refit every model on all training rows after the held-out / cross-validated evaluation.
    refit: bool = True
    #: Shrink the selected survival model's log hazard by its out-of-fold calibration slope.
    recalibrate: bool = True
    #: Survival curves of the selected model: ``"auto"`` chooses by out-of-fold IBS and C^td among a Breslow
    #: baseline with / without the inverse-propensity weights and a mixture of the candidates' own curves
    #: (:func:`recommender.models.survival_mixture.compare_curve_forms`); ``"breslow_ipw"``, ``"breslow"`` or
    #: ``"mixture"`` force one form (``"breslow_ipw"``: bundles before the choice).
    survival_curves: str = "auto"
    #: Weights of the survival models' fit (``learner="slearner"``): ``"ipw"`` the inverse-propensity weights
    #: (as the response and toxicity models), ``"none"`` unweighted, ``"auto"`` both compared by the 5-fold
    #: out-of-fold Harrell's C of the selected model on the training rows (the higher kept; ties keep ``"ipw"``).
    #: Weighting targets a population in which treatment is not confounded; it also costs precision, which
    #: matters for prognosis on the cohort as treated.
    survival_weights: str = "ipw"
    #: Outcome learner: ``"slearner"`` (xgboost on the pooled patient x received-treatment table, treatment
    #: features as inputs) or ``"interaction"`` (ridge logistic / Cox models with explicit drug x covariate
    #: interactions, :mod:`recommender.models.effects`; the default bundle's learner).
    learner: str = "slearner"
    #: Toxicity model of ``learner="interaction"``: ``"drug_causes"`` (each drug an independent cause of a severe
    #: term, pharmacogene effects only on drugs with a CPIC/DPWG guideline for the gene, shared by those drugs:
    #: :class:`~recommender.models.effects.DrugCauseToxicity`) or ``"per_term"`` (one interaction logistic
    #: model per term: :class:`~recommender.models.effects.InteractionToxicity`).
    interaction_toxicity: str = "drug_causes"
    #: Ridge penalties the interaction response / Cox models choose from on a held-out quarter (``None``: the
    #: models' defaults; one value: that penalty, no selection).
    interaction_penalties: tuple[float, ...] | None = None
    cox_penalties: tuple[float, ...] | None = None
    #: Ridge penalty of the ``"drug_causes"`` toxicity model (``None``: chosen on a held-out quarter).
    toxicity_penalty: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainingExamples:
    """Feature rows of the received treatments plus labels (index aligned with ``X``)."""

    X: pd.DataFrame
    regimen: np.ndarray
    response: np.ndarray  # 1 / 0 / NaN (not evaluable)
    time: dict[str, np.ndarray]
    event: dict[str, np.ndarray]
    toxicity: pd.DataFrame
    patient_ids: np.ndarray
    groups: pd.DataFrame  # population / sex per row (for subgroup metrics)


def _na(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    try:
        if pd.isna(v) is True:
            return None
    except (TypeError, ValueError):
        pass
    return v


_THIO = {"normal": "Normal Metabolizer", "intermediate": "Intermediate Metabolizer", "poor": "Poor Metabolizer"}


def _pgx_from_row(rec: Mapping[str, Any]) -> dict[str, Any]:
    pgx: dict[str, dict[str, Any]] = {}
    for key, value in rec.items():
        value = _na(value)
        if value is None or not key.startswith("pgx_"):
            continue
        if key.endswith("_activity_score"):
            gene = key[4:-len("_activity_score")].upper()
            score = _float_or_none(value)
            if score is not None:
                pgx.setdefault(gene, {})["activity_score"] = score
        elif key.endswith("_phenotype"):
            gene = key[4:-len("_phenotype")].upper()
            pgx.setdefault(gene, {})["phenotype"] = str(value)
        elif key == "pgx_ugt1a1_poor":
            pgx.setdefault("UGT1A1", {})["phenotype"] = "Poor Metabolizer" if bool(value) else "Normal Metabolizer"
    return pgx


def _patient_dict(rec: Mapping[str, Any], tvs: list[dict[str, Any]], treatment: dict[str, Any] | None) -> dict:
    labs = []
    for lab in vocab.LABS:
        v = _na(rec.get(lab))
        if v is not None:
            labs.append({"name": lab, "value": float(v), "unit": vocab.LABS[lab].unit})
    diag = None
    if _na(rec.get("cancer_type")) is not None:
        diag = {k: _na(rec.get(k)) for k in ("cancer_type", "stage", "histology", "ecog")}
        diag = {k: (int(v) if k == "ecog" and v is not None else v) for k, v in diag.items()}
    life = {k: _na(rec.get(k)) for k in ("smoking", "pack_years", "alcohol", "alcohol_units_per_week", "bmi",
                                         "physical_activity")}
    demo = {k: _na(rec.get(k)) for k in ("age", "sex", "ancestry")}
    variants = []
    for tv in tvs:
        item = {k: _na(tv.get(k)) for k in ("gene", "protein_change", "variant_type", "fusion_partner", "chrom", "pos",
                                              "ref", "alt", "vaf")}
        if item.get("pos") is not None:
            item["pos"] = int(item["pos"])
        variants.append({k: v for k, v in item.items() if v is not None})
    meds = rec.get("medications")
    comorb = rec.get("comorbidities")
    data = {
        "patient_id": str(rec["patient_id"]),
        "demographics": {k: v for k, v in demo.items() if v is not None},
        "diagnosis": diag,
        "history": {"comorbidities": [] if comorb is None else list(comorb), "labs": labs},
        "medications": [] if meds is None else [m for m in meds if vocab.is_drug(m)],
        "lifestyle": {k: v for k, v in life.items() if v is not None},
        "tumour_variants": variants,
    }
    if treatment is not None:
        data["candidate_treatments"] = [treatment]
    return data


def patient_covariates(rec: Mapping[str, Any], schema: FeatureSchema,
                       specs: Sequence[CovariateSpec] = ()) -> dict[str, Any]:
    """The ``covariates`` block of one ``patients`` row: ER/MSI/TMB/thiopurine columns plus declared covariates.

    The one reading of a patients row shared by training, ``cohort evaluate`` and ``cohort score``.
    ``specs`` (declared covariates, e.g. from the bundle metadata) are expanded with
    :func:`~recommender.features.covariates.covariate_values`; any other name in ``schema.covariates`` is read
    as a number from the column of that name.
    """
    cov: dict[str, Any] = {}
    declared = {n for sp in specs for n in sp.feature_names}
    for key in ("er_positive", "msi_high", "tmb", *(c for c in schema.covariates if c not in declared)):
        if _na(rec.get(key)) is not None:
            cov[key] = rec[key]
    if specs:
        cov.update(covariate_values(rec, specs))
    if "er_positive" not in cov:
        for alias in ("er_status", "er_ihc"):
            er = _na(rec.get(alias))
            if isinstance(er, str) and er.strip().lower() in ("positive", "pos", "+", "negative", "neg", "-"):
                cov["er_positive"] = er.strip().lower() in ("positive", "pos", "+")
    thio = _na(rec.get("pgx_thiopurine_function"))
    if thio is not None:
        cov["thiopurine_phenotype"] = _THIO.get(str(thio).lower(), str(thio))
    return cov


def examples_from_tables(tables: Mapping[str, pd.DataFrame], *, schema: FeatureSchema | None = None,
                         dnalm: Mapping[str, Any] | None = None, pgx: Mapping[str, Any] | None = None,
                         covariates: Sequence[CovariateSpec | Mapping[str, Any]] = ()) -> TrainingExamples:
    """Feature rows (received course) and labels from cohort tables (module docstring, step 1).

    ``pgx`` / ``dnalm`` (``patient_id -> block``) override or add to what the tables hold (e.g. PGx
    calls from the cohort's VCF, DNA LM gene pools). ``covariates``: declared covariates (specs), read
    from the patients table with :func:`patient_covariates`.
    """
    specs = specs_from_dicts(covariates)
    from recommender.schema import patient_from_dict

    schema = schema or default_feature_schema()
    for name in ("patients", "treatments", "outcomes"):
        if name not in tables:
            raise ModelError(f"table {name!r} missing", field=name, fix="give patients, treatments and outcomes tables")
    pts = tables["patients"]
    trs = tables["treatments"].sort_values(["patient_id", "line"] if "line" in tables["treatments"] else ["patient_id"])
    outs = tables["outcomes"].set_index("patient_id")
    tv = tables.get("tumour_variants")
    tv_by: dict[str, list[dict]] = {}
    if tv is not None and len(tv):
        for rec in tv.to_dict("records"):
            tv_by.setdefault(str(rec["patient_id"]), []).append(rec)
    tr_by: dict[str, list[dict]] = {}
    for rec in trs.to_dict("records"):
        tr_by.setdefault(str(rec["patient_id"]), []).append(rec)
    patients, pgx_blocks, covs, regimens = [], {}, {}, []
    for rec in pts.to_dict("records"):
        pid = str(rec["patient_id"])
        courses = tr_by.get(pid)
        if not courses or pid not in outs.index:
            continue
        if len(courses) == 1:
            treatment = {"regimen": courses[0]["regimen"], "drugs": list(courses[0]["drugs"] or [])}
        else:
            treatment = {"regimen": " + ".join(c["regimen"] for c in courses),
                         "drugs": sorted({d for c in courses for d in (c["drugs"] or [])})}
        patients.append(patient_from_dict(_patient_dict(rec, tv_by.get(pid, []), treatment), record=pid))
        regimens.append(treatment["regimen"])
        block = _pgx_from_row(rec)
        if pgx and pid in pgx:
            extra = pgx[pid]
            block = {**block, **(dict(getattr(extra, "genes", extra)))}
        pgx_blocks[pid] = block
        covs[pid] = patient_covariates(rec, schema, specs)
    if not patients:
        raise ModelError("no patient has both a treatment and an outcome", field="treatments",
                         fix="check that the tables share patient_id values")
    X = build_feature_frame(patients, None, pgx=pgx_blocks, covariates=covs, dnalm=dnalm, schema=schema)
    pids = np.array([p.patient_id for p in patients], dtype=object)
    o = outs.reindex(pids)
    best = o["best_response"].astype("object").to_numpy() if "best_response" in o else np.full(len(pids), None)
    resp = np.array([np.nan if _na(b) is None or b == "NE" else float(b in RESPONDERS) for b in best])
    time, event = {}, {}
    for end in ("pfs", "os"):
        if f"{end}_days" in o:
            time[end] = pd.to_numeric(o[f"{end}_days"], errors="coerce").to_numpy(dtype="float64")
            event[end] = o[f"{end}_event"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    ae = tables.get("adverse_events")
    tox = (severe_toxicity_labels(ae, pids) if ae is not None and len(ae)
           else pd.DataFrame(index=range(len(pids))))
    groups = pts.set_index("patient_id").reindex(pids)
    groups = pd.DataFrame({c: groups[c].astype("object").to_numpy() for c in ("population", "sex")
                           if c in groups.columns})
    return TrainingExamples(X=X, regimen=np.array(regimens, dtype=object), response=resp, time=time, event=event,
                            toxicity=tox, patient_ids=pids, groups=groups)


def table_fingerprint(tables: Mapping[str, pd.DataFrame]) -> str:
    """sha256 over the tables (names, column names, and pandas' per-row hashes in row order)."""
    h = hashlib.sha256()
    for name in sorted(tables):
        df = tables[name]
        h.update(name.encode())
        h.update("\x1f".join(map(str, df.columns)).encode())
        safe = df.copy()
        for c in safe.columns:
            if safe[c].dtype == object:
                safe[c] = safe[c].map(lambda v: repr(list(v)) if isinstance(v, (list, tuple, np.ndarray)) else v)
        h.update(pd.util.hash_pandas_object(safe.astype("object").where(safe.notna(), None).astype(str),
                                            index=False).to_numpy().tobytes())
    return h.hexdigest()


def _auroc(y: np.ndarray, p: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else None


def _brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


def _booster_params(cfg: TrainingConfig) -> dict[str, Any]:
    """The xgboost parameters of every boosted model: the configured ones plus the run's seed and threads."""
    return {**cfg.booster, "random_state": cfg.random_state, "n_jobs": cfg.n_jobs}


def _replace(cfg: TrainingConfig, **changes: Any) -> TrainingConfig:
    import dataclasses

    return dataclasses.replace(cfg, **changes)


def _subset(ex: TrainingExamples, keep: np.ndarray) -> TrainingExamples:
    """The examples of the rows where ``keep`` is true (order kept)."""
    if keep.all():
        return ex
    idx = np.flatnonzero(keep)
    return TrainingExamples(
        X=ex.X.iloc[idx], regimen=ex.regimen[idx], response=ex.response[idx],
        time={k: v[idx] for k, v in ex.time.items()}, event={k: v[idx] for k, v in ex.event.items()},
        toxicity=ex.toxicity.iloc[idx].reset_index(drop=True), patient_ids=ex.patient_ids[idx],
        groups=ex.groups.iloc[idx].reset_index(drop=True) if len(ex.groups.columns) else ex.groups)


def _split(n: int, strat: np.ndarray, frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    idx = np.arange(n)
    counts = pd.Series(strat).value_counts()
    ok = strat if counts.min() >= 2 else None
    return train_test_split(idx, test_size=frac, stratify=ok, random_state=seed)


SURVIVAL_CANDIDATES: dict[str, str] = {
    "boosted": "xgboost survival:cox with the configured booster parameters",
    "boosted_shallow": "xgboost survival:cox, depth 2, learning rate 0.03, min_child_weight 5, up to 600 rounds",
    "cox": "lifelines Cox proportional hazards (ridge), median-imputed standardised features",
    "blend": "equal-weight blend of the standardised log hazards of 'boosted' and 'cox' (one Breslow baseline)",
    "neural": "DeepSurv-style MLP (one hidden layer of 32, dropout 0.2, Cox partial likelihood, early stopping; "
              "needs torch to train)",
    "blend_neural": "equal-weight blend of 'boosted_shallow', 'neural' and 'cox'",
    "forest": "random survival forest (recommender.models.survival_forest: 100 trees on martingale residuals, "
              "Nelson-Aalen leaves, mortality risk; min_samples_leaf and max_features chosen by out-of-bag C)",
    "aft": "xgboost survival:aft (normal errors, scale 1), depth 2, learning rate 0.03, min_child_weight 5, "
           "early stopping",
    "coxtime": "Cox-Time (Kvamme et al. 2019): MLP g(t, x) on features and time (2 x 32 ReLU, batch norm, dropout "
               "0.1), case-control loss, early stopping; risk = log cumulative hazard at the median training time; "
               "its own non-proportional curves may enter the mixture; needs torch to train",
    "stack": "weighted blend of the other single-model candidates compared in the same run; members and weights "
             "chosen by greedy forward selection (Caruana et al. 2004) on their out-of-fold log hazards, its "
             "cross-validated C with the weights chosen on the other folds",
}
#: Members of the blend candidates.
_BLENDS = {"blend": ("boosted", "cox"), "blend_neural": ("boosted_shallow", "neural", "cox")}
#: Candidates whose out-of-fold log hazards the ``stack`` candidate may combine (fixed blends are not members).
_STACK_POOL = ("boosted", "boosted_shallow", "cox", "forest", "aft", "neural", "coxtime")
#: Greedy forward-selection steps of the ``stack`` (weights are multiples of 1 / steps).
STACK_STEPS = 20


def _response_estimator(cfg: TrainingConfig, bp: Mapping[str, Any], penalty: float | None = None) -> Any:
    """The response classifier of ``cfg.learner`` (``penalty``: a ridge penalty already chosen, interaction only)."""
    if cfg.learner == "interaction":
        from recommender.models.effects import InteractionLogit

        extra = {"penalties": tuple(cfg.interaction_penalties)} if cfg.interaction_penalties else {}
        return InteractionLogit(penalty=penalty, random_state=cfg.random_state, **extra)
    return ResponseModel(**bp, calibration=cfg.calibration)


def _toxicity_estimator(cfg: TrainingConfig, bp: Mapping[str, Any], *, terms: list[str] | None = None,
                        min_events: int | None = None, penalty: float | None = None) -> Any:
    """The per-term toxicity model of ``cfg.learner``."""
    min_events = cfg.min_toxicity_events if min_events is None else min_events
    if penalty is None and cfg.interaction_toxicity == "drug_causes":
        penalty = cfg.toxicity_penalty
    if cfg.learner == "interaction" and cfg.interaction_toxicity == "drug_causes":
        from recommender.models.effects import DrugCauseToxicity

        return DrugCauseToxicity(terms=terms, min_events=min_events, penalty=penalty, random_state=cfg.random_state)
    if cfg.learner == "interaction":
        from recommender.models.effects import InteractionToxicity

        return InteractionToxicity(terms=terms, min_events=min_events, logit_params={"penalty": penalty},
                                   random_state=cfg.random_state)
    return ToxicityModel(terms=terms, min_events=min_events,
                         classifier_params={**bp, "calibration": cfg.calibration})


def _penalty(model: Any) -> float | None:
    """The ridge penalty an interaction model chose (reused by its refit and bootstrap members)."""
    if hasattr(model, "penalty_"):
        return float(model.penalty_)
    first = next(iter(getattr(model, "models_", {}).values()), None)
    return float(first.penalty_) if first is not None and hasattr(first, "penalty_") else None


def _interaction_survival(X: pd.DataFrame, t: np.ndarray, e: np.ndarray, w: np.ndarray, cfg: TrainingConfig
                          ) -> tuple[dict[str, Any], dict[str, Any]]:
    """``learner="interaction"``: the survival models of one endpoint (``selected`` + bootstrap ensemble) and metrics."""
    from recommender.models.effects import InteractionCox

    cands = tuple(cfg.cox_penalties or ())
    extra = ({"penalty": float(cands[0])} if len(cands) == 1 else {"penalties": cands} if cands else {})
    main = InteractionCox(random_state=cfg.random_state, **extra).fit(X, t, e, sample_weight=w)
    models: dict[str, Any] = {"selected": main}
    if cfg.n_bootstrap:
        models["ensemble"] = BootstrapEnsemble(InteractionCox(penalty=main.penalty_, random_state=cfg.random_state),
                                               cfg.n_bootstrap, cfg.interval, cfg.random_state).fit(
            X, t, e, sample_weight=w, stratify=e)
    note = ("ridge Cox with drug x covariate interactions (recommender.models.effects.InteractionCox); penalty "
            + (f"{main.penalty_:g} chosen by held-out partial likelihood {main.selection_}" if main.selection_
               else f"{main.penalty_:g} fixed by the configuration (cox_penalties)"))
    return models, {"n_train": len(t), "events_train": int(e.sum()), "selected_model": "interaction",
                    "model_selection": {"selected": "interaction", "note": note}}


def _candidate(name: str, bp: Mapping[str, Any], cfg: TrainingConfig) -> Any:
    if name == "boosted":
        return BoostedSurvival(**bp)
    if name == "boosted_shallow":
        return BoostedSurvival(**{**bp, "max_depth": 2, "learning_rate": 0.03, "min_child_weight": 5.0,
                                  "n_estimators": 600})
    if name == "cox":
        return CoxBaseline(penalizer=cfg.cox_penalizer)
    if name == "neural":
        from recommender.models.survival import NeuralCox

        return NeuralCox(random_state=int(bp.get("random_state", 0)))
    if name == "forest":
        from recommender.models.survival_forest import SurvivalForest

        return SurvivalForest(random_state=int(bp.get("random_state", 0)))
    if name == "aft":
        from recommender.models.survival_aft import BoostedAFT

        return BoostedAFT(subsample=float(bp.get("subsample", 0.8)), colsample_bytree=float(bp.get("colsample_bytree", 0.8)),
                          random_state=int(bp.get("random_state", 0)), n_jobs=int(bp.get("n_jobs", 1)))
    if name == "coxtime":
        from recommender.models.survival_coxtime import CoxTime

        return CoxTime(random_state=int(bp.get("random_state", 0)))
    raise ValueError(f"unknown survival candidate {name!r}; choose from {', '.join(SURVIVAL_CANDIDATES)}")


#: Values of :attr:`TrainingConfig.survival_weights`.
SURVIVAL_WEIGHTS = ("ipw", "none", "auto")


def _survival_weights(X: pd.DataFrame, time: np.ndarray, event: np.ndarray, ipw: np.ndarray, bp: Mapping[str, Any],
                      cfg: TrainingConfig, can_cv: bool) -> tuple[np.ndarray, dict[str, Any], Any]:
    """The weights of one endpoint's survival fit (:attr:`TrainingConfig.survival_weights`), what was decided and,
    for ``"auto"``, the kept weighting's model selection ``(name, report)`` (so it is not run a third time)."""
    mode = cfg.survival_weights
    if mode not in SURVIVAL_WEIGHTS:
        raise ValueError(f"survival_weights must be one of {', '.join(SURVIVAL_WEIGHTS)}, not {mode!r}")
    ones = np.ones_like(ipw, dtype="float64")
    if not cfg.ipw:
        return ones, {"selected": "none", "note": "inverse-propensity weighting is off (ipw=False)"}, None
    if mode == "ipw" or (mode == "auto" and not can_cv):
        note = "too few events or folds to compare, inverse-propensity weights kept" if mode == "auto" else None
        return ipw, {"selected": "ipw", **({"note": note} if note else {})}, None
    if mode == "none":
        return ones, {"selected": "none"}, None
    runs = {label: select_survival_model(X, time, event, weights=w, booster=bp, config=cfg)
            for label, w in (("ipw", ipw), ("none", ones))}
    cv = {label: run[1]["cv_c_index"].get(run[0]) for label, run in runs.items()}
    pick = "none" if (cv["none"] is not None and (cv["ipw"] is None or cv["none"] > cv["ipw"])) else "ipw"
    info = {"selected": pick, "cv_c_index": cv,
            "rule": "5-fold out-of-fold Harrell's C of each weighting's selected model (training rows); the higher "
                    "kept, ties keep the inverse-propensity weights",
            "selected_models": {label: run[0] for label, run in runs.items()}}
    return (ipw if pick == "ipw" else ones), info, runs[pick]


def _c_index(t: np.ndarray, e: np.ndarray, risk: np.ndarray) -> float | None:
    from lifelines.utils import concordance_index

    return float(concordance_index(t, -risk, e)) if e.sum() >= 1 and np.isfinite(risk).all() else None


def _score_fold(model: Any, Xf: pd.DataFrame, Xv: pd.DataFrame, t_val: np.ndarray, e_val: np.ndarray,
                scores: list[float], oof: np.ndarray, val_idx: np.ndarray) -> np.ndarray:
    """One fold of :func:`select_survival_model`: append the held-out C of ``model`` to ``scores`` and write its
    out-of-fold log hazard, standardised on the fitting rows, into ``oof[val_idx]``; returns the standardised
    log hazard of the fitting rows."""
    rv = model.predict_risk(Xv)
    c = _c_index(t_val, e_val, rv)
    if c is not None:
        scores.append(c)
    rv, rf = np.asarray(rv, dtype="float64"), np.asarray(model.predict_risk(Xf), dtype="float64")
    sd = rf.std() or 1.0
    oof[val_idx] = (rv - rf.mean()) / sd
    return (rf - rf.mean()) / sd


#: Candidates whose own curves (besides their Breslow curves) the curve mixture may use.
_NATIVE_CURVES = ("forest", "aft", "coxtime")


def select_survival_model(X: pd.DataFrame, time: np.ndarray, event: np.ndarray, *, weights: np.ndarray | None = None,
                          config: TrainingConfig | None = None, booster: Mapping[str, Any] | None = None
                          ) -> tuple[str, dict[str, Any]]:
    """Choose a survival model by K-fold cross-validation on the training rows only.

    Every candidate of ``config.survival_candidates`` (:data:`SURVIVAL_CANDIDATES`) is fitted on K-1 folds
    and scored on the held-out fold (Harrell's C of its log hazard, events-stratified folds, the same folds
    for every candidate); the candidate with the highest mean C wins (ties: the earlier one). ``stack`` is
    scored on the same folds from the single candidates' out-of-fold log hazards, with weights chosen on the
    other folds (:func:`_cross_validated_stack`; report key ``stack``). Nothing of a test split is seen. Returns ``(name, report)`` with the per-fold and mean C of every candidate.
    """
    from sklearn.model_selection import StratifiedKFold

    cfg = config or TrainingConfig()
    bp = dict(booster) if booster is not None else _booster_params(cfg)
    w = np.ones(len(time)) if weights is None else np.asarray(weights, dtype="float64")
    names = [c for c in cfg.survival_candidates if c in SURVIVAL_CANDIDATES]
    if not names:
        raise ModelError("no known survival candidate in the configuration", field="survival_candidates",
                         fix=f"choose from {', '.join(SURVIVAL_CANDIDATES)}")
    folds = StratifiedKFold(n_splits=cfg.cv_folds, shuffle=True, random_state=cfg.random_state)
    scores: dict[str, list[float]] = {n: [] for n in names}
    errors: dict[str, str] = {}
    oof = {n: np.full(len(time), np.nan) for n in names}  # fold-standardised out-of-fold log hazards
    needed = list(dict.fromkeys([m for n in names if n != "stack" for m in _BLENDS.get(n, (n,))]))  # + blend members
    fold_of = np.full(len(time), -1)
    if cfg.survival_curves not in ("auto", "breslow_ipw", "breslow", "mixture"):
        raise ModelError(f"unknown survival curve form {cfg.survival_curves!r}", field="survival_curves",
                         fix="choose auto, breslow_ipw, breslow or mixture")
    curves_on = cfg.survival_curves != "breslow_ipw"
    insample: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {n: [] for n in names}
    member_oof: dict[str, np.ndarray] = {}
    if curves_on:
        from recommender.models.survival_mixture import curve_grid

        grid, ibs_grid = curve_grid(time, event)
    for k, (fit_idx, val_idx) in enumerate(folds.split(np.zeros(len(time)), event.astype(int))):
        fold_of[val_idx] = k
        Xf, Xv = X.iloc[fit_idx], X.iloc[val_idx]
        fitted: dict[str, Any] = {}
        for name in needed:
            if name in errors:
                continue
            try:
                fitted[name] = _candidate(name, bp, cfg).fit(Xf, time[fit_idx], event[fit_idx],
                                                             sample_weight=w[fit_idx])
            except (ModelError, ValueError) as err:
                errors[name] = str(getattr(err, "message", err))
                continue
            if name in scores:
                insample[name].append((fit_idx, _score_fold(fitted[name], Xf, Xv, time[val_idx], event[val_idx],
                                                            scores[name], oof[name], val_idx)))
            if curves_on and name in _STACK_POOL:
                from recommender.models.survival_mixture import member_curves

                for form in ("breslow", "native") if name in _NATIVE_CURVES else ("breslow",):
                    arr = member_oof.setdefault(f"{name}:{form}", np.full((len(time), len(grid)), np.nan, "float32"))
                    arr[val_idx] = member_curves(fitted[name], form, Xv, grid)
        for bname, members in _BLENDS.items():
            if bname in names and all(m in fitted for m in members):
                blend = BlendedSurvival.from_fitted([fitted[m] for m in members], Xf, time[fit_idx],
                                                    event[fit_idx], sample_weight=w[fit_idx])
                insample[bname].append((fit_idx, _score_fold(blend, Xf, Xv, time[val_idx], event[val_idx],
                                                             scores[bname], oof[bname], val_idx)))
    stack: dict[str, Any] = {}
    if "stack" in names:
        pool = [n for n in names if n in _STACK_POOL and len(scores[n]) == cfg.cv_folds and np.isfinite(oof[n]).all()]
        if pool:
            stack = _cross_validated_stack(oof, pool, time, event, fold_of, cfg.cv_folds)
            scores["stack"], oof["stack"] = stack.pop("fold_c"), stack.pop("oof")
        else:
            errors["stack"] = "no single-model candidate was cross-validated to stack"
    mean = {n: (float(np.mean(v)) if len(v) == cfg.cv_folds else None) for n, v in scores.items()}
    ok = {n: m for n, m in mean.items() if m is not None}
    if not ok:
        raise ModelError("no survival candidate could be cross-validated", field="survival_candidates",
                         fix="check that the training rows have events; " + "; ".join(errors.values()))
    best = max(ok, key=lambda n: (round(ok[n], 10), -names.index(n)))
    slope = calibration_slope(oof[best], time, event, w) if np.isfinite(oof[best]).all() else None
    curves_report: dict[str, Any] | None = None
    if curves_on and np.isfinite(oof[best]).all():
        if best == "stack":  # per fold, the stack's weights applied to its members' in-sample log hazards
            ins = [(insample[next(iter(fw))][k][0], sum(v * insample[m][k][1] for m, v in fw.items()))
                   for k, fw in enumerate(stack["fold_weights"])]
        else:
            ins = insample[best]
        from recommender.models.survival_mixture import compare_curve_forms

        curves_report = compare_curve_forms(selected=best, oof_lp=oof[best], insample_lp=ins, fold_of=fold_of,
                                            time=time, event=event, weights=w, grid=grid, ibs_grid=ibs_grid,
                                            member_oof=member_oof, recalibrate=cfg.recalibrate)
        if cfg.survival_curves != "auto":
            from recommender.models.survival_mixture import choose_risk_score

            curves_report["selected"] = cfg.survival_curves
            curves_report["criterion"] = f"fixed by the configuration (survival_curves={cfg.survival_curves!r})"
            curves_report["risk_score"] = choose_risk_score(cfg.survival_curves, curves_report["risk_scores"])
    report = {"selected": best, "folds": cfg.cv_folds, "metric": "mean Harrell's C over folds (log hazard)",
              "calibration_slope": slope,
              "calibration_slope_method": ("Cox regression of the event times on the out-of-fold standardised "
                                           "log hazard of the selected model (1 = well calibrated, < 1 = "
                                           "over-confident); the final model's log hazard is multiplied by it"),
              "cv_c_index": mean, "cv_c_index_folds": {n: [float(x) for x in v] for n, v in scores.items()},
              "failed": errors, "candidates": {n: SURVIVAL_CANDIDATES[n] for n in names}}
    if stack:
        report["stack"] = stack
    if curves_report is not None:
        report["curves"] = curves_report
    return best, report


def _stack_weights(oof: Mapping[str, np.ndarray], members: Sequence[str], time: np.ndarray, event: np.ndarray,
                   rows: np.ndarray) -> dict[str, float]:
    """Greedy forward selection with replacement (Caruana et al. 2004) of ``members``' out-of-fold log hazards.

    Each step adds the member whose addition gives the highest Harrell's C on ``rows``; it stops after
    :data:`STACK_STEPS` steps or when no addition raises C. Weights: how often each member was added / steps.
    """
    counts = dict.fromkeys(members, 0)
    total = np.zeros(len(rows))
    best_c = -np.inf
    for step in range(STACK_STEPS):
        trial = {m: _c_index(time[rows], event[rows], total + oof[m][rows]) for m in members}
        pick = max(members, key=lambda m: (-np.inf if trial[m] is None else trial[m], -members.index(m)))
        if trial[pick] is None or (step and trial[pick] <= best_c + 1e-9):
            break
        counts[pick] += 1
        total = total + oof[pick][rows]
        best_c = trial[pick]
    k = sum(counts.values()) or 1
    return {m: c / k for m, c in counts.items() if c}


def _cross_validated_stack(oof: Mapping[str, np.ndarray], members: Sequence[str], time: np.ndarray,
                           event: np.ndarray, fold_of: np.ndarray, folds: int) -> dict[str, Any]:
    """The ``stack`` candidate: per fold, weights chosen on the other folds' out-of-fold log hazards and scored on
    this fold (its cross-validated C, comparable with the single candidates'); final weights from all rows."""
    fold_c: list[float] = []
    stacked = np.full(len(time), np.nan)
    fold_weights = []
    for k in range(folds):
        val, rest = np.flatnonzero(fold_of == k), np.flatnonzero(fold_of != k)
        wk = _stack_weights(oof, members, time, event, rest)
        fold_weights.append(wk)
        stacked[val] = sum(v * oof[m][val] for m, v in wk.items())
        c = _c_index(time[val], event[val], stacked[val])
        if c is not None:
            fold_c.append(c)
    final = _stack_weights(oof, members, time, event, np.arange(len(time)))
    return {"weights": final, "pool": list(members), "fold_weights": fold_weights, "fold_c": fold_c,
            "oof": stacked, "method": ("greedy forward selection with replacement on out-of-fold standardised log "
                                       f"hazards, at most {STACK_STEPS} steps, Harrell's C")}


def calibration_slope(lp: np.ndarray, time: np.ndarray, event: np.ndarray, weights: np.ndarray | None = None
                      ) -> float | None:
    """Maximum partial-likelihood slope ``b`` of a Cox model with the single covariate ``lp`` (Breslow ties).

    Out-of-fold, ``b < 1`` says the model's log hazard is over-confident (Van Houwelingen's calibration slope).
    Returns ``None`` when it cannot be estimated; clipped to [0.05, 2].
    """
    from scipy.optimize import minimize_scalar

    lp, t, e = np.asarray(lp, float), np.asarray(time, float), np.asarray(event, bool)
    w = np.ones(len(t)) if weights is None else np.asarray(weights, float)
    if e.sum() < 5 or not np.isfinite(lp).all() or np.ptp(lp) == 0:
        return None
    order = np.argsort(-t, kind="stable")
    lp, t, e, w = lp[order], t[order], e[order], w[order]
    # risk set of each row: all rows with time >= its time (ties share the last position of their time)
    last = np.searchsorted(-t, -t, side="right") - 1

    def negll(b: float) -> float:
        x = b * lp
        m = x.max()
        cum = np.cumsum(w * np.exp(x - m))
        return -float(np.sum(w[e] * (x[e] - (np.log(cum[last[e]]) + m))))

    res = minimize_scalar(negll, bounds=(0.05, 2.0), method="bounded")
    return float(res.x) if res.success else None


def _fit_selected(name: str, X: pd.DataFrame, t: np.ndarray, e: np.ndarray, w: np.ndarray, bp: Mapping[str, Any],
                  cfg: TrainingConfig, fitted: dict[str, Any], stack_weights: Mapping[str, float] | None = None
                  ) -> Any:
    """The selected survival candidate fitted on all training rows (reusing ``fitted`` members; the members it
    fits are added to ``fitted``)."""
    def member(m: str) -> Any:
        if m not in fitted:
            fitted[m] = _candidate(m, bp, cfg).fit(X, t, e, sample_weight=w)
        return fitted[m]

    if name == "stack":
        if not stack_weights:
            raise ModelError("the stack was selected without weights", field="survival_candidates",
                             fix="report this bug; leave 'stack' out of --survival-candidates meanwhile")
        return BlendedSurvival.from_fitted([member(m) for m in stack_weights], X, t, e, sample_weight=w,
                                           weights=[float(v) for v in stack_weights.values()])
    if name in _BLENDS:
        return BlendedSurvival.from_fitted([member(m) for m in _BLENDS[name]], X, t, e, sample_weight=w)
    return member(name)


def _apply_curve_form(chosen: Any, curves: Mapping[str, Any] | None, X: pd.DataFrame, t: np.ndarray,
                      e: np.ndarray, w: np.ndarray, bp: Mapping[str, Any], cfg: TrainingConfig,
                      fitted: dict[str, Any]) -> Any:
    """The final survival model in the curve form chosen by :func:`select_survival_model` (``curves`` report).

    ``breslow_ipw``: ``chosen`` as it is; ``breslow``: its log hazard with a Breslow baseline fitted without the
    inverse-propensity weights; ``mixture``: a :class:`~recommender.models.survival_mixture.CurveMixture` with the
    members' curves (fitted on all rows) and the out-of-fold weights, ranking by ``chosen``'s log hazard or, when
    the report's ``risk_score`` is ``"rmst"``, by minus the RMST of its curves on the comparison grid of ``t, e``.
    """
    form = (curves or {}).get("selected", "breslow_ipw")
    if form == "breslow_ipw":
        return chosen

    def unweighted() -> Any:
        members = chosen.members_ if isinstance(chosen, BlendedSurvival) else [chosen]
        weights = chosen.weights if isinstance(chosen, BlendedSurvival) else None
        scale = float(chosen.scale) if isinstance(chosen, BlendedSurvival) else 1.0
        return BlendedSurvival.from_fitted(members, X, t, e, sample_weight=None, weights=weights, scale=scale)

    if form == "breslow":
        return unweighted()
    if form != "mixture":
        raise ModelError(f"unknown survival curve form {form!r}", field="survival_curves",
                         fix="choose auto, breslow_ipw, breslow or mixture")
    from recommender.models.survival_mixture import CurveMixture, curve_grid

    members, forms, labels = [], [], []
    for label in curves["mixture_weights"]:
        name, form_m = label.split(":", 1)
        if name == "selected":
            members.append(chosen if form_m == "breslow_ipw" else unweighted())
            forms.append("breslow")
        else:
            if name not in fitted:
                fitted[name] = _candidate(name, bp, cfg).fit(X, t, e, sample_weight=w)
            members.append(fitted[name])
            forms.append(form_m)
        labels.append(label)
    risk_score = curves.get("risk_score", "log_hazard")
    return CurveMixture.from_fitted(chosen, members, forms, list(curves["mixture_weights"].values()), labels,
                                    risk_score=risk_score,
                                    risk_times=curve_grid(t, e)[0] if risk_score == "rmst" else None)


def train_bundle(
    tables: Mapping[str, pd.DataFrame],
    out_dir: str | Path | None = None,
    *,
    config: TrainingConfig | None = None,
    schema: FeatureSchema | None = None,
    trained_on: str = "unnamed cohort",
    cohort_description: str = "",
    knowledge_bases: Mapping[str, str] | None = None,
    pgx: Mapping[str, Any] | None = None,
    dnalm: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    covariates: Sequence[CovariateSpec | Mapping[str, Any]] = (),
    train_ids: Sequence[str] | None = None,
    split_description: str | None = None,
    licence: str | None = None,
) -> ModelBundle:
    """Fit every model from cohort tables and (when ``out_dir`` is given) save the bundle.

    Parameters
    ----------
    tables
        ``patients``, ``treatments``, ``outcomes`` (+ ``adverse_events``, ``tumour_variants``).
    out_dir
        Bundle directory (written atomically); ``None`` keeps the bundle in memory.
    config
        :class:`TrainingConfig` (defaults are the recorded hyper-parameters).
    trained_on, cohort_description
        Plain words for the model card ("simulated cohort, 2,000 patients, seed 0").
    knowledge_bases
        Versions of the knowledge tables in force (recorded, shown in outputs).
    covariates
        Declared covariates (:class:`~recommender.features.covariates.CovariateSpec`) read from the
        patients table; their feature names must be ``schema.covariates``. Recorded in the metadata, so
        evaluation and scoring read the same columns the same way.
    train_ids
        Patient ids of the training part (e.g. a cohort's stored split); the other rows are never used.
        ``None``: every row is a training row.
    split_description, licence
        Plain words for the model card (which split, the training data's licence).

    Notes
    -----
    Response and toxicity models are evaluated on a stratified hold-out of ``test_fraction`` of the
    training rows, survival models by ``cv_folds``-fold cross-validation (the candidate with the best
    mean C is selected); with ``refit`` (default) every final model is then fitted on all training rows.
    """
    cfg = config or TrainingConfig()
    schema = schema or default_feature_schema()
    specs = specs_from_dicts(covariates)
    wanted = [n for sp in specs for n in sp.feature_names]
    if wanted and tuple(wanted) != tuple(c for c in schema.covariates if c in set(wanted)):
        raise ModelError("the declared covariates are not the feature schema's covariates", field="covariates",
                         fix="build the schema with default_feature_schema(covariates=covariate_feature_names(specs))")
    started = datetime.now(UTC)
    ex_all = examples_from_tables(tables, schema=schema, pgx=pgx, dnalm=dnalm, covariates=specs)
    keep = (np.ones(len(ex_all.patient_ids), dtype=bool) if train_ids is None
            else np.isin(ex_all.patient_ids, np.asarray(list(train_ids), dtype=object)))
    if keep.sum() < 10:
        raise ModelError(f"only {int(keep.sum())} training rows", field="train_ids",
                         fix="check the split column: it must mark the training rows")
    ex = _subset(ex_all, keep)
    X = ex.X.reset_index(drop=True)
    n = len(X)
    all_rows = np.arange(n)
    tr, te = _split(n, ex.regimen, cfg.test_fraction, cfg.random_state)
    fit_rows = all_rows if cfg.refit else tr
    bp = _booster_params(cfg)
    patient_cols = list(schema.columns_in(patient_level=True))
    metrics: dict[str, Any] = {"n_rows": n, "n_train": len(fit_rows), "n_test": len(te),
                               "n_excluded_by_split": int((~keep).sum()),
                               "protocol": ("response/toxicity: stratified hold-out of "
                                            f"{cfg.test_fraction:.0%} of the training rows; survival: "
                                            + (("ridge Cox with interactions, penalty fixed at "
                                                f"{cfg.cox_penalties[0]:g}; " if len(cfg.cox_penalties or ()) == 1
                                                else "ridge Cox with interactions, penalty chosen on a held-out "
                                                "quarter; ") if cfg.learner == "interaction" else
                                               f"{cfg.cv_folds}-fold cross-validation on the training rows; ")
                                            + ("final models refitted on all training rows" if cfg.refit
                                               else "final models are the held-out-evaluated ones"))}

    propensity = PropensityModel().fit(X.iloc[fit_rows][patient_cols], ex.regimen[fit_rows])
    w_all = propensity.weights(X[patient_cols], ex.regimen) if cfg.ipw else np.ones(n)
    metrics["ipw"] = {"enabled": cfg.ipw, "weight_min": float(w_all[fit_rows].min()),
                      "weight_max": float(w_all[fit_rows].max()),
                      "effective_sample_size": float(w_all[fit_rows].sum() ** 2 / (w_all[fit_rows] ** 2).sum()),
                      "overlap": propensity.overlap(X.iloc[fit_rows][patient_cols], ex.regimen[fit_rows])}

    # response ------------------------------------------------------------------------------------
    response = response_ens = None
    ok = ~np.isnan(ex.response)
    tr_r, te_r, all_r = tr[ok[tr]], te[ok[te]], fit_rows[ok[fit_rows]]
    if len(tr_r) >= 40 and len(np.unique(ex.response[tr_r])) == 2:
        y = ex.response.astype(float)
        held = _response_estimator(cfg, bp).fit(X.iloc[tr_r], y[tr_r], sample_weight=w_all[tr_r])
        p = held.predict_proba(X.iloc[te_r])[:, 1]
        prev = float(np.average(y[tr_r]))
        metrics["response"] = {"auroc": _auroc(y[te_r], p), "brier": _brier(y[te_r], p),
                               "brier_prevalence_baseline": _brier(y[te_r], np.full(len(te_r), prev)),
                               "n_test": len(te_r), "calibration": held.calibration_,
                               "calibration_bins": _calibration_bins(y[te_r], p)}
        response = (_response_estimator(cfg, bp, _penalty(held)).fit(X.iloc[all_r], y[all_r],
                                                                          sample_weight=w_all[all_r])
                    if cfg.refit else held)
        if cfg.n_bootstrap:
            response_ens = BootstrapEnsemble(_response_estimator(cfg, bp, _penalty(response)), cfg.n_bootstrap,
                                             cfg.interval, cfg.random_state).fit(
                X.iloc[all_r], y[all_r], sample_weight=w_all[all_r], stratify=y[all_r])
            _, lo, hi = response_ens.interval_of(lambda m: m.predict_proba(X.iloc[te_r])[:, 1])
            metrics["response"]["mean_interval_width"] = float(np.nanmean(hi - lo))

    # survival: cross-validated selection on the training rows, then a refit on all of them -------------
    survival: dict[str, dict[str, Any]] = {}
    for end in cfg.endpoints:
        if end not in ex.time:
            continue
        t, e = ex.time[end], ex.event[end]
        rows_s = fit_rows[~np.isnan(t[fit_rows])]
        if e[rows_s].sum() < 10:
            continue
        Xs, ts, es, ws = X.iloc[rows_s], t[rows_s], e[rows_s], w_all[rows_s]
        if cfg.learner == "interaction":  # one ridge Cox with drug x covariate interactions (no xgboost candidates)
            survival[end], metrics[end] = _interaction_survival(Xs, ts, es, ws, cfg)
            continue
        can_cv = cfg.cv_folds >= 2 and es.sum() >= 2 * cfg.cv_folds and (~es).sum() >= cfg.cv_folds
        ws, weight_info, preselected = _survival_weights(Xs, ts, es, ws, bp, cfg, can_cv)
        models: dict[str, Any] = {}
        fitted: dict[str, Any] = {"boosted": BoostedSurvival(**bp).fit(Xs, ts, es, sample_weight=ws)}
        models["boosted"] = fitted["boosted"]
        try:
            fitted["cox"] = CoxBaseline(penalizer=cfg.cox_penalizer).fit(Xs, ts, es, sample_weight=ws)
            models["cox"] = fitted["cox"]
        except ModelError as err:
            metrics.setdefault("warnings", []).append(f"{end}: Cox baseline not fitted: {err.message}")
        m_end: dict[str, Any] = {"n_train": len(rows_s), "events_train": int(es.sum()),
                                 "survival_weights": weight_info}
        if can_cv:
            cands = cfg.survival_candidates if "cox" in fitted else tuple(
                c for c in cfg.survival_candidates if c != "cox" and "cox" not in _BLENDS.get(c, ()))
            if preselected is not None and tuple(cands) == tuple(cfg.survival_candidates):
                name, report = preselected  # the weighting comparison already ran this selection
            else:
                name, report = select_survival_model(Xs, ts, es, weights=ws, booster=bp,
                                                     config=_replace(cfg, survival_candidates=cands))
            m_end["model_selection"] = report
            chosen = _fit_selected(name, Xs, ts, es, ws, bp, cfg, fitted,
                                   stack_weights=(report.get("stack") or {}).get("weights"))
            slope = report.get("calibration_slope")
            if slope is not None and cfg.recalibrate:
                # the chosen model, its log hazard standardised and shrunk by the out-of-fold slope, baseline re-fitted
                members = chosen.members_ if isinstance(chosen, BlendedSurvival) else [chosen]
                weights = chosen.weights if isinstance(chosen, BlendedSurvival) else None
                chosen = BlendedSurvival.from_fitted(members, Xs, ts, es, sample_weight=ws, weights=weights,
                                                     scale=slope)
            chosen = _apply_curve_form(chosen, report.get("curves"), Xs, ts, es, ws, bp, cfg, fitted)
            if report.get("curves"):
                m_end["survival_curves"] = report["curves"]["selected"]
                m_end["risk_score"] = report["curves"].get("risk_score", "log_hazard")
            if chosen is not fitted.get("boosted"):
                models["selected"] = chosen
            m_end["selected_model"] = name
            m_end["c_index_cv"] = report["cv_c_index"][name]
        else:
            m_end["selected_model"] = "boosted"
            m_end["model_selection"] = {"selected": "boosted", "note": "too few events or folds for cross-validation"}
        if cfg.n_bootstrap:
            models["ensemble"] = BootstrapEnsemble(BoostedSurvival(**bp), cfg.n_bootstrap, cfg.interval,
                                                   cfg.random_state).fit(Xs, ts, es, sample_weight=ws, stratify=es)
        metrics[end] = m_end
        survival[end] = models

    # toxicity ------------------------------------------------------------------------------------
    toxicity = tox_ens = None
    if ex.toxicity.shape[1]:
        Y = ex.toxicity
        held_tox = _toxicity_estimator(cfg, bp).fit(X.iloc[tr], Y.iloc[tr], sample_weight=w_all[tr])
        if held_tox.terms_:
            probs = held_tox.predict_proba(X.iloc[te])
            metrics["toxicity"] = {}
            for term in held_tox.terms_:
                yy = Y.iloc[te][term].to_numpy()
                prev = float(Y.iloc[tr][term].mean())
                metrics["toxicity"][term] = {
                    "auroc": _auroc(yy, probs[term].to_numpy()), "brier": _brier(yy, probs[term].to_numpy()),
                    "brier_prevalence_baseline": _brier(yy, np.full(len(yy), prev)), "events_test": int(yy.sum())}
        toxicity = held_tox
        if cfg.refit:
            toxicity = _toxicity_estimator(cfg, bp, penalty=_penalty(held_tox)).fit(
                X.iloc[fit_rows], Y.iloc[fit_rows], sample_weight=w_all[fit_rows])
        if toxicity.terms_ and cfg.n_bootstrap_toxicity:
            tox_ens = BootstrapEnsemble(_toxicity_estimator(cfg, bp, terms=toxicity.terms_, min_events=3,
                                                            penalty=_penalty(toxicity)),
                                        cfg.n_bootstrap_toxicity, cfg.interval, cfg.random_state).fit(
                X.iloc[fit_rows], Y.iloc[fit_rows], sample_weight=w_all[fit_rows])
        metrics["toxicity_not_modelled"] = toxicity.skipped_terms_
    tr = fit_rows  # the rows the final models saw (OOD detector, regimen counts)

    labels = {c: schema.spec(c).label for c in schema.columns}
    ood = OodDetector(distance_columns=patient_cols, labels=labels).fit(X.iloc[tr])
    fingerprint = table_fingerprint(tables)
    regimen_counts = pd.Series(ex.regimen[tr]).value_counts().to_dict()
    metadata = {
        "trained_on": trained_on, "cohort_description": cohort_description,
        "training_data_sha256": fingerprint, "training_rows": n,
        "regimens_in_training": {str(k): int(v) for k, v in regimen_counts.items()},
        "metrics": metrics, "hyper_parameters": cfg.to_dict(),
        "knowledge_bases": dict(knowledge_bases) if knowledge_bases is not None else knowledge_versions(),
        "vocab_version": vocab.VOCAB_VERSION,
        "package_version": package_version(), "created": started.isoformat(timespec="seconds"),
        "training_seconds": round((datetime.now(UTC) - started).total_seconds(), 1),
        "feature_schema_hash": schema.hash, "library_versions": _library_versions(),
        "covariates": [sp.to_dict() for sp in specs],
        "split": split_description or ("all rows of the cohort are training rows" if train_ids is None
                                       else f"{n} training rows given by train_ids"),
        "training_licence": licence,
    }
    bundle = ModelBundle(schema=schema, response=response, response_ensemble=response_ens, survival=survival,
                         toxicity=toxicity, toxicity_ensemble=tox_ens, propensity=propensity, ood=ood,
                         metadata=metadata)
    bundle.model_card = model_card(bundle)
    if out_dir is not None:
        bundle.save(out_dir, overwrite=overwrite)
    return bundle


def knowledge_versions() -> dict[str, str]:
    """Versions of the knowledge tables the features read (biomarker table; PGx knowledge base in force)."""
    out: dict[str, str] = {}
    try:
        from genomics.biomarkers import load_knowledge_base

        kb = load_knowledge_base()
        out["biomarkers"] = f"{kb.name} {kb.version} (sha256 {str(kb.sha256)[:12]})"
    except Exception as err:  # noqa: BLE001 - provenance must never break training
        out["biomarkers"] = f"unavailable: {type(err).__name__}"
    try:
        from genomics.pgx import knowledge_base_info

        info = knowledge_base_info()
        out["pgx"] = f"{info.kb_id} (recommendations {info.recommendation_version})"
    except Exception as err:  # noqa: BLE001
        out["pgx"] = f"unavailable: {type(err).__name__}"
    return out


def _calibration_bins(y: np.ndarray, p: np.ndarray, bins: int = 5) -> list[dict[str, float]]:
    edges = np.quantile(p, np.linspace(0, 1, bins + 1))
    out = []
    for i in range(bins):
        m = (p >= edges[i]) & ((p <= edges[i + 1]) if i == bins - 1 else (p < edges[i + 1]))
        if m.sum():
            out.append({"mean_predicted": float(p[m].mean()), "observed": float(y[m].mean()), "n": int(m.sum())})
    return out


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for lib in ("xgboost-cpu", "scikit-learn", "lifelines", "numpy", "pandas"):
        try:
            out[lib] = version(lib)
        except PackageNotFoundError:
            out[lib] = "not installed"
    return out


def _fmt(v: Any, digits: int = 3) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def _simulated(meta: Mapping[str, Any]) -> bool:
    text = f"{meta.get('trained_on', '')} {meta.get('cohort_description', '')}".lower()
    return "simulat" in text or "synthetic" in text or not meta.get("training_licence")


_INTERACTION_CARD = [
    ("- learner: explicit drug x covariate interactions (recommender.models.effects): every drug indicator times "
     "every tumour biomarker, pharmacogenomic phenotype, cancer type, smoking, age, ECOG, creatinine clearance and "
     "bilirubin (non-zero for >= 5 training rows), plus all features as main effects; ridge penalty chosen on a "
     "held-out quarter of the training rows"),
    "- response: ridge logistic regression on that design (probabilities not recalibrated)",
    "- survival: ridge Cox proportional hazards on that design (Breslow ties and baseline hazard), per endpoint",
    "- toxicity: one ridge logistic regression per CTCAE term (grade >= 3) on that design",
]


_DRUG_CAUSE_CARD = (
    "- toxicity: per CTCAE term (grade >= 3), each drug of the regimen an independent cause (noisy-OR of per-drug "
    "ridge logistic models with shared patient effects; recommender.models.effects.DrugCauseToxicity); a "
    "pharmacogene acts only on drugs with a CPIC/DPWG guideline for it (PGx knowledge base), its effect shared by "
    "those drugs with per-drug deviations shrunk towards it")


def _interaction_card(hyper: dict[str, Any]) -> list[str]:
    """Model-card lines of ``learner="interaction"`` (the toxicity line follows ``interaction_toxicity``)."""
    if hyper.get("interaction_toxicity", "per_term") == "drug_causes":
        return [*_INTERACTION_CARD[:-1], _DRUG_CAUSE_CARD]
    return list(_INTERACTION_CARD)


def model_card(bundle: ModelBundle) -> str:
    """MODEL_CARD.md text: what the bundle was trained on, how, how well, and what it must not be used for."""
    m = bundle.metadata
    met = m.get("metrics", {})
    lines = [
        "# Model card", "",
        f"**Trained on:** {m.get('trained_on')}. {m.get('cohort_description', '')}".rstrip(), "",
        ("**Intended use:** research and demonstration of the method. **Not for clinical decisions.** "
         + ("Numbers from a simulated cohort illustrate the method and are not clinical evidence."
            if _simulated(m) else
            "Trained on observational real-world data: treatment was not randomised, so predicted differences "
            "between options mix treatment effects with who received which treatment (confounding by "
            "indication); they are associations, not causal effects.")), "",
        f"- training data licence: {m.get('training_licence') or 'not recorded'}",
        f"- split: {m.get('split') or 'not recorded'}",
        f"- protocol: {met.get('protocol') or 'held-out test split of the training rows'}",
        (f"- covariates: {', '.join(c['name'] for c in m.get('covariates', []))}" if m.get("covariates")
         else "- covariates: none beyond the standard feature schema"),
        f"- training rows: {m.get('training_rows')} (models fitted on {met.get('n_train')}; response/toxicity "
        f"hold-out {met.get('n_test')})",
        f"- training-data sha256: `{m.get('training_data_sha256')}`",
        (f"- feature schema sha256: `{bundle.schema.hash}` ({len(bundle.schema)} columns, builder "
         f"{bundle.schema.builder_version})"),
        f"- package version {m.get('package_version')}; vocabularies {m.get('vocab_version')}; libraries "
        + ", ".join(f"{k} {v}" for k, v in m.get("library_versions", {}).items()),
        f"- knowledge bases: {m.get('knowledge_bases') or 'none recorded'}",
        "", "## Models", "",
        *(_interaction_card(m.get("hyper_parameters", {})) if m.get("hyper_parameters", {}).get("learner") == "interaction"
          else [
            (f"- response: xgboost + held-out calibration ({(met.get('response') or {}).get('calibration')}); "
             "S-learner (treatment features are inputs)"),
            ("- survival: lifelines Cox (ridge) baseline and xgboost survival:cox, Breslow baseline hazard; the model "
             "behind the predictions is chosen per endpoint by cross-validated Harrell's C among: "
             + "; ".join(f"{k} ({v})" for k, v in SURVIVAL_CANDIDATES.items())),
            "- toxicity: one calibrated xgboost classifier per CTCAE term (grade >= 3)"]),
        (f"- confounding: inverse propensity weighting ({'on' if met.get('ipw', {}).get('enabled') else 'off'}), "
         "multinomial logistic propensity model on patient-level features (adjusts for measured confounders only)"),
        *([("- overlap: share of each regimen's recipients with P(received | patient) < 0.05 (patients who rarely receive "
            "it; their inverse-propensity weights are large or clipped): " + ", ".join(
                f"{k} {v['share_below']:.0%}" for k, v in sorted(met["ipw"]["overlap"].items())))]
          if met.get("ipw", {}).get("overlap") else []),
        (f"- uncertainty: bootstrap ensembles ({m.get('hyper_parameters', {}).get('n_bootstrap')} members; "
         f"{m.get('hyper_parameters', {}).get('interval')} intervals: the members' spread, centred on the "
         "full-data estimate; model-estimation uncertainty only, not one patient's outcome variability)"),
        "- out-of-distribution check: Mahalanobis distance (Ledoit-Wolf) + training ranges + unseen categories",
        "", "## Metrics on the training rows (hold-out / cross-validation)", "",
    ]
    r = met.get("response")
    if r:
        lines.append(f"- response: AUROC {_fmt(r.get('auroc'))}, Brier {_fmt(r.get('brier'))} "
                     f"(prevalence baseline {_fmt(r.get('brier_prevalence_baseline'))}), n = {r.get('n_test')}")
    for end in ("pfs", "os"):
        if end in met:
            s = met[end]
            if "c_index_boosted" in s:  # bundles trained before cross-validated selection
                lines.append(f"- {end.upper()}: Harrell's C boosted {_fmt(s.get('c_index_boosted'))}, "
                             f"Cox {_fmt(s.get('c_index_cox'))} (n = {s.get('n_test')}, events {s.get('events_test')})")
                continue
            if s.get("selected_model") == "interaction":
                lines.append(f"- {end.upper()}: {(s.get('model_selection') or {}).get('note')} "
                             f"(n = {s.get('n_train')}, events {s.get('events_train')})")
                continue
            cv = (s.get("model_selection") or {}).get("cv_c_index") or {}
            lines.append(f"- {end.upper()}: selected {s.get('selected_model')}; {len(cv) and (s.get('model_selection') or {}).get('folds')}-fold "
                         "cross-validated Harrell's C on the training rows: "
                         + ", ".join(f"{k} {_fmt(v)}" for k, v in cv.items())
                         + f" (n = {s.get('n_train')}, events {s.get('events_train')})")
            sw = s.get("survival_weights") or {}
            if sw:
                swcv = sw.get("cv_c_index") or {}
                lines.append(f"- {end.upper()} fit weights: "
                             + {"ipw": "inverse-propensity weights", "none": "unweighted"}.get(sw.get("selected"), "?")
                             + (f" (out-of-fold Harrell's C: weighted {_fmt(swcv.get('ipw'), 4)}, unweighted "
                                f"{_fmt(swcv.get('none'), 4)}; the higher kept)" if swcv else "")
                             + (f"; {sw['note']}" if sw.get("note") else ""))
            cur = (s.get("model_selection") or {}).get("curves")
            if cur:
                lines.append(f"- {end.upper()} survival curves: {cur['selected']} ({cur['criterion']}); out-of-fold "
                             + ", ".join(f"{f}: IBS {_fmt(v['ibs'])}, C^td {_fmt(v['c_td'])}"
                                         for f, v in cur["forms"].items())
                             + ("; mixture weights " + ", ".join(f"{k} {v:.2f}" for k, v in cur["mixture_weights"].items())
                                if cur["selected"] == "mixture" else ""))
                rs = cur.get("risk_scores")
                if rs:
                    lines.append(f"- {end.upper()} risk score (`risk`, Harrell's C): "
                                 + ("minus the restricted mean survival time of the mixture's curves"
                                    if cur.get("risk_score") == "rmst" else "the selected model's log hazard")
                                 + f"; out-of-fold Harrell's C: log hazard {_fmt((rs.get('log_hazard') or {}).get('c'), 4)}"
                                 f", mixture RMST {_fmt((rs.get('rmst') or {}).get('c'), 4)}. Rule: "
                                 f"{cur.get('risk_criterion')}. Explanations (drivers) decompose the boosted "
                                 "model's log hazard, not this score")
    ev = m.get("evaluation")
    if ev:
        lines += ["", "## Test-split evaluation (`recommender cohort evaluate`)", "", ev]
    for term, t in met.get("toxicity", {}).items():
        lines.append(f"- severe {term}: AUROC {_fmt(t.get('auroc'))}, Brier {_fmt(t.get('brier'))} "
                     f"(baseline {_fmt(t.get('brier_prevalence_baseline'))}), events {t.get('events_test')}")
    if met.get("toxicity_not_modelled"):
        lines += ["", "Not modelled (too few events): " + "; ".join(
            f"{k} ({v})" for k, v in met["toxicity_not_modelled"].items())]
    lines += ["", "## Regimens seen in training", "",
              ", ".join(f"{k} ({v})" for k, v in m.get("regimens_in_training", {}).items()),
              "", ("Options outside these regimens, or patients unlike the training cohort, are flagged as "
                   "out of distribution in every prediction."), ""]
    return "\n".join(lines)
