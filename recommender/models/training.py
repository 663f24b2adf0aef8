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
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recommender import vocab
from recommender.features.build import _float_or_none, build_feature_frame
from recommender.features.schema import FeatureSchema, default_feature_schema
from recommender.models._base import ModelError
from recommender.models.bundle import ModelBundle, package_version
from recommender.models.counterfactual import BootstrapEnsemble, OodDetector, PropensityModel
from recommender.models.response import ResponseModel
from recommender.models.survival import BoostedSurvival, CoxBaseline
from recommender.models.toxicity import ToxicityModel, severe_toxicity_labels

__all__ = ["TrainingConfig", "TrainingExamples", "examples_from_tables", "table_fingerprint", "train_bundle"]

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


def examples_from_tables(tables: Mapping[str, pd.DataFrame], *, schema: FeatureSchema | None = None,
                         dnalm: Mapping[str, Any] | None = None, pgx: Mapping[str, Any] | None = None
                         ) -> TrainingExamples:
    """Feature rows (received course) and labels from cohort tables (module docstring, step 1).

    ``pgx`` / ``dnalm`` (``patient_id -> block``) override or add to what the tables hold (e.g. PGx
    calls from the cohort's VCF, DNA LM gene pools).
    """
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
        cov: dict[str, Any] = {}
        for key in ("er_positive", "msi_high", "tmb", *schema.covariates):
            if _na(rec.get(key)) is not None:
                cov[key] = rec[key]
        if "er_positive" not in cov:
            for alias in ("er_status", "er_ihc"):
                er = _na(rec.get(alias))
                if isinstance(er, str) and er.strip().lower() in ("positive", "pos", "+", "negative", "neg", "-"):
                    cov["er_positive"] = er.strip().lower() in ("positive", "pos", "+")
        thio = _na(rec.get("pgx_thiopurine_function"))
        if thio is not None:
            cov["thiopurine_phenotype"] = _THIO.get(str(thio).lower(), str(thio))
        covs[pid] = cov
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


def _split(n: int, strat: np.ndarray, frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    idx = np.arange(n)
    counts = pd.Series(strat).value_counts()
    ok = strat if counts.min() >= 2 else None
    return train_test_split(idx, test_size=frac, stratify=ok, random_state=seed)


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
    """
    cfg = config or TrainingConfig()
    schema = schema or default_feature_schema()
    started = datetime.now(UTC)
    ex = examples_from_tables(tables, schema=schema, pgx=pgx, dnalm=dnalm)
    X = ex.X.reset_index(drop=True)
    n = len(X)
    tr, te = _split(n, ex.regimen, cfg.test_fraction, cfg.random_state)
    bp = {**cfg.booster, "random_state": cfg.random_state, "n_jobs": cfg.n_jobs}
    patient_cols = list(schema.columns_in(patient_level=True))
    metrics: dict[str, Any] = {"n_rows": n, "n_train": len(tr), "n_test": len(te)}

    propensity = PropensityModel().fit(X.iloc[tr][patient_cols], ex.regimen[tr])
    w_all = propensity.weights(X[patient_cols], ex.regimen) if cfg.ipw else np.ones(n)
    metrics["ipw"] = {"enabled": cfg.ipw, "weight_min": float(w_all[tr].min()), "weight_max": float(w_all[tr].max()),
                      "effective_sample_size": float(w_all[tr].sum() ** 2 / (w_all[tr] ** 2).sum())}

    # response ------------------------------------------------------------------------------------
    response = response_ens = None
    ok = ~np.isnan(ex.response)
    tr_r, te_r = tr[ok[tr]], te[ok[te]]
    if len(tr_r) >= 40 and len(np.unique(ex.response[tr_r])) == 2:
        y = ex.response.astype(float)
        response = ResponseModel(**bp, calibration=cfg.calibration).fit(X.iloc[tr_r], y[tr_r], sample_weight=w_all[tr_r])
        if cfg.n_bootstrap:
            response_ens = BootstrapEnsemble(ResponseModel(**bp, calibration=cfg.calibration), cfg.n_bootstrap,
                                             cfg.interval, cfg.random_state).fit(
                X.iloc[tr_r], y[tr_r], sample_weight=w_all[tr_r], stratify=y[tr_r])
        p = response.predict_proba(X.iloc[te_r])[:, 1]
        prev = float(np.average(y[tr_r]))
        metrics["response"] = {"auroc": _auroc(y[te_r], p), "brier": _brier(y[te_r], p),
                               "brier_prevalence_baseline": _brier(y[te_r], np.full(len(te_r), prev)),
                               "n_test": len(te_r), "calibration": response.calibration_,
                               "calibration_bins": _calibration_bins(y[te_r], p)}
        if response_ens is not None:
            _, lo, hi = response_ens.interval_of(lambda m: m.predict_proba(X.iloc[te_r])[:, 1])
            metrics["response"]["mean_interval_width"] = float(np.nanmean(hi - lo))

    # survival ------------------------------------------------------------------------------------
    survival: dict[str, dict[str, Any]] = {}
    for end in cfg.endpoints:
        if end not in ex.time:
            continue
        t, e = ex.time[end], ex.event[end]
        okk = ~np.isnan(t)
        tr_s, te_s = tr[okk[tr]], te[okk[te]]
        if e[tr_s].sum() < 10:
            continue
        boosted = BoostedSurvival(**bp).fit(X.iloc[tr_s], t[tr_s], e[tr_s], sample_weight=w_all[tr_s])
        models: dict[str, Any] = {"boosted": boosted}
        try:
            models["cox"] = CoxBaseline(penalizer=cfg.cox_penalizer).fit(X.iloc[tr_s], t[tr_s], e[tr_s],
                                                                         sample_weight=w_all[tr_s])
        except ModelError as err:
            metrics.setdefault("warnings", []).append(f"{end}: Cox baseline not fitted: {err.message}")
        if cfg.n_bootstrap:
            models["ensemble"] = BootstrapEnsemble(BoostedSurvival(**bp), cfg.n_bootstrap, cfg.interval,
                                                   cfg.random_state).fit(
                X.iloc[tr_s], t[tr_s], e[tr_s], sample_weight=w_all[tr_s], stratify=e[tr_s])
        yt = np.column_stack([t[te_s], e[te_s]])
        metrics[end] = {"c_index_boosted": boosted.score(X.iloc[te_s], yt), "n_test": len(te_s),
                        "events_test": int(e[te_s].sum())}
        if "cox" in models:
            metrics[end]["c_index_cox"] = models["cox"].score(X.iloc[te_s], yt)
        survival[end] = models

    # toxicity ------------------------------------------------------------------------------------
    toxicity = tox_ens = None
    if ex.toxicity.shape[1]:
        Y = ex.toxicity
        toxicity = ToxicityModel(min_events=cfg.min_toxicity_events,
                                 classifier_params={**bp, "calibration": cfg.calibration}).fit(
            X.iloc[tr], Y.iloc[tr], sample_weight=w_all[tr])
        if toxicity.terms_ and cfg.n_bootstrap_toxicity:
            tox_ens = BootstrapEnsemble(ToxicityModel(terms=toxicity.terms_, min_events=3,
                                                      classifier_params={**bp, "calibration": cfg.calibration}),
                                        cfg.n_bootstrap_toxicity, cfg.interval, cfg.random_state).fit(
                X.iloc[tr], Y.iloc[tr], sample_weight=w_all[tr])
        if toxicity.terms_:
            probs = toxicity.predict_proba(X.iloc[te])
            metrics["toxicity"] = {}
            for term in toxicity.terms_:
                yy = Y.iloc[te][term].to_numpy()
                prev = float(Y.iloc[tr][term].mean())
                metrics["toxicity"][term] = {
                    "auroc": _auroc(yy, probs[term].to_numpy()), "brier": _brier(yy, probs[term].to_numpy()),
                    "brier_prevalence_baseline": _brier(yy, np.full(len(yy), prev)), "events_test": int(yy.sum())}
            metrics["toxicity_not_modelled"] = toxicity.skipped_terms_

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


def _fmt(v: Any) -> str:
    return "n/a" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def model_card(bundle: ModelBundle) -> str:
    """MODEL_CARD.md text: what the bundle was trained on, how, how well, and what it must not be used for."""
    m = bundle.metadata
    met = m.get("metrics", {})
    lines = [
        "# Model card", "",
        f"**Trained on:** {m.get('trained_on')}. {m.get('cohort_description', '')}".rstrip(), "",
        ("**Intended use:** research and demonstration of the method. **Not for clinical decisions.** "
         "Numbers from a simulated cohort illustrate the method and are not clinical evidence."), "",
        f"- training rows: {m.get('training_rows')} (train {met.get('n_train')}, held-out test {met.get('n_test')})",
        f"- training-data sha256: `{m.get('training_data_sha256')}`",
        (f"- feature schema sha256: `{bundle.schema.hash}` ({len(bundle.schema)} columns, builder "
         f"{bundle.schema.builder_version})"),
        f"- package version {m.get('package_version')}; vocabularies {m.get('vocab_version')}; libraries "
        + ", ".join(f"{k} {v}" for k, v in m.get("library_versions", {}).items()),
        f"- knowledge bases: {m.get('knowledge_bases') or 'none recorded'}",
        "", "## Models", "",
        (f"- response: xgboost + held-out calibration ({(met.get('response') or {}).get('calibration')}); "
         "S-learner (treatment features are inputs)"),
        "- survival: lifelines Cox (ridge) baseline and xgboost survival:cox, Breslow baseline hazard",
        "- toxicity: one calibrated xgboost classifier per CTCAE term (grade >= 3)",
        (f"- confounding: inverse propensity weighting ({'on' if met.get('ipw', {}).get('enabled') else 'off'}), "
         "multinomial logistic propensity model on patient-level features (adjusts for measured confounders only)"),
        (f"- uncertainty: bootstrap ensembles ({m.get('hyper_parameters', {}).get('n_bootstrap')} members; "
         f"{m.get('hyper_parameters', {}).get('interval')} intervals: the members' spread, centred on the "
         "full-data estimate; model-estimation uncertainty only, not one patient's outcome variability)"),
        "- out-of-distribution check: Mahalanobis distance (Ledoit-Wolf) + training ranges + unseen categories",
        "", "## Held-out test metrics", "",
    ]
    r = met.get("response")
    if r:
        lines.append(f"- response: AUROC {_fmt(r.get('auroc'))}, Brier {_fmt(r.get('brier'))} "
                     f"(prevalence baseline {_fmt(r.get('brier_prevalence_baseline'))}), n = {r.get('n_test')}")
    for end in ("pfs", "os"):
        if end in met:
            s = met[end]
            lines.append(f"- {end.upper()}: Harrell's C boosted {_fmt(s.get('c_index_boosted'))}, "
                         f"Cox {_fmt(s.get('c_index_cox'))} (n = {s.get('n_test')}, events {s.get('events_test')})")
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
