"""Evaluate a model bundle on a cohort (``recommender cohort evaluate``), against the oracle when there is one.

Predictive metrics use the treatment each patient received (observed outcomes):

* response (CR/PR) and every toxicity the bundle models (severe = CTCAE grade >= 3): AUROC, Brier
  score, and a binned reliability curve (10 equal-width bins of predicted probability) with the
  expected calibration error (ECE = sum over bins of ``n_bin / n * |mean predicted - observed|``);
* PFS and OS, from the survival model the bundle predicts with (its cross-validated choice): Harrell's C
  (risk = the model's risk score: its log relative hazard, or minus its curves' RMST for a mixture that
  ranks by its curves), Antolini's C^td and the IPCW integrated Brier score (pycox conventions,
  :mod:`cohorts.evaluation.metrics`), and calibration at the median follow-up (predicted survival vs
  Kaplan-Meier in 10 equal groups), all read from the exact step function (every training event time), each
  with a percentile bootstrap interval over the evaluated patients (:func:`survival_metrics`).

Rows: the test part of the cohort's split (``split == "test"`` by default; ``split_column`` /
``split_value`` choose, ``"none"`` evaluates everyone). Covariates are read as in training; a cohort without a
covariate column the bundle needs is refused unless ``fill_missing_covariates``.

Decision metrics need the simulator's oracle (``truth/oracle``: the expected outcome of every patient x
candidate). Every candidate is scored by the bundle (the same feature code path as training, one row
per patient x candidate) and the option with the highest *predicted utility* is recommended, where the
utility is the ranking's own formula (:func:`recommender.rank.utility_value`, default
:class:`~recommender.rank.RankingWeights`): ``P(response) + S_PFS(365 d) - 0.5 x sum over modelled CTCAE terms
of P(severe)``, from the bundle's predictions; the oracle utility is the same formula on the simulator's true
values (true response probability, true PFS survival at the horizon from the Weibull median, every true
severe-toxicity probability), so regret measures the model's estimation error, not a difference of
definitions. Reported:

* regret: oracle utility of the oracle-best option minus oracle utility of the recommended one (utility units);
* response regret: best oracle response probability minus that of the option with the highest
  predicted response probability;
* best-option rate: how often the recommended option is the oracle-best one;
* Spearman: per patient (>= 3 candidates), rank correlation of predicted with oracle utility (and
  predicted with oracle response probability), averaged over patients;
* baselines: a constant recommender (the candidate given most often in the bundle's training data)
  and a random one (the mean over candidates).

Everything is reported for the whole cohort, per super-population and per sex.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["EvaluationReport", "binary_metrics", "calibration_at", "evaluate_bundle", "oracle_rank_utility", "reliability",
           "survival_metrics"]

N_BINS = 10
_GROUP_COLUMNS = {"population": "by_population", "sex": "by_sex"}


@dataclass(frozen=True)
class EvaluationReport:
    """Result of :func:`evaluate_bundle` (JSON-serialisable with :meth:`to_dict` / :meth:`to_json`)."""

    cohort: str
    bundle_id: str
    n_patients: int
    overall: dict[str, Any]
    by_population: dict[str, dict[str, Any]]
    by_sex: dict[str, dict[str, Any]]
    feature_groups_excluded: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _clean(asdict(self))

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False, allow_nan=False)


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


# -- binary metrics ----------------------------------------------------------------------------------
def reliability(y: np.ndarray, p: np.ndarray, bins: int = N_BINS) -> tuple[list[dict[str, float]], float]:
    """Equal-width reliability bins over [0, 1] (empty bins left out) and the expected calibration error."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    out, ece = [], 0.0
    for b in range(bins):
        m = idx == b
        if not m.any():
            continue
        mp, ob = float(p[m].mean()), float(y[m].mean())
        out.append({"bin_low": b / bins, "bin_high": (b + 1) / bins, "mean_predicted": mp, "observed": ob,
                    "n": int(m.sum())})
        ece += m.sum() / len(y) * abs(mp - ob)
    return out, float(ece)


def binary_metrics(y: np.ndarray, p: np.ndarray, *, bins: int = N_BINS) -> dict[str, Any]:
    """AUROC (``None`` with one class), Brier score, prevalence, reliability bins and ECE."""
    from sklearn.metrics import roc_auc_score

    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    ok = ~(np.isnan(y) | np.isnan(p))
    y, p = y[ok], p[ok]
    if len(y) == 0:
        return {"n": 0, "events": 0, "auroc": None, "brier": None, "ece": None, "reliability": []}
    bins_, ece = reliability(y, p, bins)
    return {"n": len(y), "events": int(y.sum()),
            "auroc": float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else None,
            "brier": float(np.mean((p - y) ** 2)), "brier_prevalence": float(np.mean((y.mean() - y) ** 2)),
            "ece": ece, "reliability": bins_}


# -- predictions ---------------------------------------------------------------------------------------
def _predict(bundle: Any, X: pd.DataFrame) -> dict[str, Any]:
    """Response probability, per-term toxicity, and per-endpoint risk, curves and RMST for feature rows."""
    Xs = X.loc[:, list(bundle.schema.columns)]
    if bundle.ood is not None and hasattr(bundle.ood, "missing_rate_"):
        Xs, _ = bundle.ood.impute_unseen_missing(Xs)
        Xs.index = X.index
    out: dict[str, Any] = {"n": len(Xs)}
    out["p_response"] = bundle.response.predict_proba(Xs)[:, 1] if bundle.response is not None else None
    out["toxicity"] = bundle.toxicity.predict_proba(Xs) if bundle.toxicity is not None else pd.DataFrame(index=Xs.index)
    out["survival"] = {}
    from recommender.models.bundle import survival_main
    from recommender.models.survival_mixture import rmst_risk

    for ep, models in bundle.survival.items():
        main = survival_main(models)
        if main is None:
            continue
        # full resolution: time 0 and every training event time (the Breslow curve steps only there); one pass
        # over the model (the curves derive from the log hazard)
        risk, _, curves = main.predict_outputs(Xs, main.full_times())
        grid = np.asarray(curves.columns, dtype=float)
        vals = curves.to_numpy(dtype=float)
        # restricted mean: area under the step curve from 0 (S = 1) to the last grid time
        rmst = -rmst_risk(vals, grid)
        from recommender.rank import RankingWeights

        k = int(np.searchsorted(grid, RankingWeights().horizon_days, side="right")) - 1  # right-continuous step
        s_h = vals[:, k] if k >= 0 else np.ones(len(vals))
        out["survival"][ep] = {"risk": risk, "curves": curves, "rmst_days": rmst, "s_horizon": s_h,
                               "model": type(main).__name__}
    return out


def _counterfactual_tables(tables: dict[str, pd.DataFrame], oracle: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """Tables with one pseudo-patient per oracle row (patient x candidate), the candidate as its treatment."""
    from recommender import vocab

    key = oracle[["patient_id", "regimen"]].reset_index(drop=True).copy()
    key["row_id"] = [f"{p}\x1fcand{i}" for i, p in enumerate(key["patient_id"])]
    pts = tables["patients"].set_index("patient_id")
    patients = pts.loc[key["patient_id"]].reset_index()
    patients["patient_id"] = key["row_id"].to_numpy()
    drugs = {}
    for reg in key["regimen"].unique():
        r = vocab.resolve_regimen(reg)
        drugs[reg] = list(r.drugs) if r is not None else []
    trs = tables["treatments"]
    first = trs.drop_duplicates("patient_id").set_index("patient_id").loc[key["patient_id"]].reset_index()
    first["patient_id"] = key["row_id"].to_numpy()
    first["regimen"] = key["regimen"].to_numpy()
    first["drugs"] = [drugs[r] for r in key["regimen"]]
    if "line" in first:
        first["line"] = 1
    outs = tables["outcomes"].set_index("patient_id").loc[key["patient_id"]].reset_index()
    outs["patient_id"] = key["row_id"].to_numpy()
    cf = {"patients": patients, "treatments": first, "outcomes": outs}
    tv = tables.get("tumour_variants")
    if tv is not None and len(tv):
        m = key.merge(tv, on="patient_id", how="inner")
        m["patient_id"] = m.pop("row_id")
        cf["tumour_variants"] = m.drop(columns=["regimen_x"], errors="ignore").rename(
            columns={"regimen_y": "regimen"})[tv.columns]
    return cf, key


def _spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    from scipy.stats import spearmanr

    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    r = spearmanr(a, b).statistic
    return None if not np.isfinite(r) else float(r)


def oracle_rank_utility(oracle: pd.DataFrame) -> np.ndarray:
    """The ranking's utility (:func:`recommender.rank.utility_value`) on the oracle's true values, per oracle row.

    True response probability, true PFS survival at the ranking horizon (Weibull with the oracle's median and
    :data:`cohorts.simulate_model.WEIBULL_SHAPE`) and the sum of the true ``p_severe:<term>`` probabilities.
    """
    from cohorts.simulate_model import WEIBULL_SHAPE
    from recommender.rank import RankingWeights, utility_value

    horizon = RankingWeights().horizon_days
    med = oracle["median_pfs_days"].to_numpy(dtype=float)
    s_h = np.exp(-math.log(2) * (horizon / med) ** WEIBULL_SHAPE)
    tox_cols = [c for c in oracle.columns if str(c).startswith("p_severe:")]
    tox = oracle[tox_cols].fillna(0.0).sum(axis=1).to_numpy(dtype=float) if tox_cols else np.zeros(len(oracle))
    return np.asarray(utility_value(oracle["p_response"].to_numpy(dtype=float), s_h, tox), dtype=float)


def _decisions(key: pd.DataFrame, oracle: pd.DataFrame, pred: dict[str, Any], constant_rank: dict[str, int]
               ) -> pd.DataFrame:
    """Per-patient decision metrics (one row per real patient); utilities by the ranking's formula."""
    from recommender.rank import utility_value

    df = key.copy()
    df["true_utility"] = oracle_rank_utility(oracle)
    df["true_p_response"] = oracle["p_response"].to_numpy(dtype=float)
    tox = pred["toxicity"]
    tox_sum = np.nan_to_num(tox.to_numpy(dtype=float)).sum(axis=1) if tox.shape[1] else np.zeros(len(df))
    s_h = pred["survival"]["pfs"]["s_horizon"] if "pfs" in pred["survival"] else np.zeros(len(df))
    p_resp = pred["p_response"] if pred["p_response"] is not None else np.zeros(len(df))
    df["pred_utility"] = utility_value(np.asarray(p_resp, dtype=float), np.asarray(s_h, dtype=float), tox_sum)
    df["pred_p_response"] = pred["p_response"] if pred["p_response"] is not None else 0.0
    df["constant_score"] = [-constant_rank.get(r, 10**6) for r in df["regimen"]]
    rows = []
    for pid, g in df.groupby("patient_id", sort=False):
        tu, tr = g["true_utility"].to_numpy(), g["true_p_response"].to_numpy()
        pu, pr, cs = g["pred_utility"].to_numpy(), g["pred_p_response"].to_numpy(), g["constant_score"].to_numpy()
        best = tu.max()
        k, kr, kc = int(np.argmax(pu)), int(np.argmax(pr)), int(np.argmax(cs))
        rows.append({
            "patient_id": pid, "n_candidates": len(g),
            "regret": best - tu[k], "best_chosen": float(np.isclose(tu[k], best)),
            "regret_response": tr.max() - tr[kr], "best_response_chosen": float(np.isclose(tr[kr], tr.max())),
            "regret_constant": best - tu[kc], "best_chosen_constant": float(np.isclose(tu[kc], best)),
            "regret_random": best - tu.mean(), "best_chosen_random": float(np.isclose(tu, best).sum() / len(tu)),
            "regret_response_random": tr.max() - tr.mean(),
            "spearman_utility": _spearman(pu, tu), "spearman_response": _spearman(pr, tr),
        })
    return pd.DataFrame(rows)


def _mean(x: pd.Series) -> float | None:
    x = pd.to_numeric(x, errors="coerce").dropna()
    return float(x.mean()) if len(x) else None


def _summary(mask: np.ndarray, ex: Any, pred: dict[str, Any], dec: pd.DataFrame | None,
             dec_mask: np.ndarray | None, n_bootstrap: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {"n": int(mask.sum())}
    if pred["p_response"] is not None:
        out["response"] = binary_metrics(ex.response[mask], pred["p_response"][mask])
    tox = {}
    for term in pred["toxicity"].columns:
        if term in ex.toxicity.columns:
            tox[term] = binary_metrics(ex.toxicity[term].to_numpy(dtype=float)[mask],
                                       pred["toxicity"][term].to_numpy(dtype=float)[mask])
    out["toxicity"] = tox
    for ep, s in pred["survival"].items():
        if ep not in ex.time:
            continue
        t, e = ex.time[ep][mask], ex.event[ep][mask]
        ok = ~np.isnan(t)
        res: dict[str, Any] = {"n": int(ok.sum()), "events": int(e[ok].sum()), "harrell_c": None,
                               "integrated_brier_score": None}
        if e[ok].sum() >= 2:
            res.update(survival_metrics(t[ok], e[ok], s["risk"][mask][ok], s["curves"][mask][ok],
                                        n_bootstrap=n_bootstrap))
        out[ep] = res
    if dec is not None and dec_mask is not None:
        d = dec[dec_mask]
        out["decision"] = {
            "n": len(d),
            "regret": _mean(d["regret"]), "best_chosen_rate": _mean(d["best_chosen"]),
            "regret_response": _mean(d["regret_response"]), "best_response_chosen_rate": _mean(d["best_response_chosen"]),
            "spearman_utility": _mean(d["spearman_utility"]), "spearman_response": _mean(d["spearman_response"]),
            "constant_regret": _mean(d["regret_constant"]), "constant_best_chosen_rate": _mean(d["best_chosen_constant"]),
            "random_regret": _mean(d["regret_random"]), "random_best_chosen_rate": _mean(d["best_chosen_random"]),
            "random_regret_response": _mean(d["regret_response_random"]),
        }
    return out


def evaluate_bundle(cohort_dir: str | os.PathLike[str], bundle_dir: str | os.PathLike[str], *,
                    split_column: str | None = None, split_value: str = "test", n_bootstrap: int = 0,
                    fill_missing_covariates: bool = False) -> EvaluationReport:
    """Evaluate the bundle at ``bundle_dir`` on the cohort at ``cohort_dir`` (module docstring).

    Parameters
    ----------
    cohort_dir
        Cohort directory; decision metrics need its ``truth/oracle`` table (simulated cohorts).
    bundle_dir
        Model bundle directory (loaded and verified with :meth:`ModelBundle.load`).
    split_column, split_value
        Evaluate only the patients whose ``split_column`` equals ``split_value`` (default: the cohort's stored
        ``split`` column when it has ``split_value`` rows; ``"none"``: every patient).
    n_bootstrap
        Resamples of the evaluated patients for the percentile intervals of the survival metrics (0: none).
    fill_missing_covariates
        A covariate column the bundle needs but the cohort lacks is refused (:class:`CohortError`) unless
        this is set; it is then filled with the bundle's training medians, and the report says so.

    Returns
    -------
    EvaluationReport
    """
    from cohorts.storage import load_cohort
    from recommender.models import ModelBundle
    from recommender.models.training import examples_from_tables

    from cohorts.covariates import check_cohort_covariates
    from recommender.features.covariates import specs_from_dicts

    cohort = load_cohort(cohort_dir)
    bundle = ModelBundle.load(bundle_dir).without_ensembles()
    tables = {name: cohort.table(name) for name in cohort.table_names}
    specs = specs_from_dicts(bundle.metadata.get("covariates") or [])
    cov_notes = check_cohort_covariates(specs, tables["patients"], fill=fill_missing_covariates, cohort_path=cohort.path)
    tables["patients"], split_note = _evaluation_rows(tables["patients"], split_column, split_value, cohort.path)
    dnalm: dict = {}
    lm_notes: list[str] = []
    if bundle.schema.dnalm_genes:
        from cohorts.dnalm_pools import cohort_dnalm_pools

        dnalm, lm_notes = cohort_dnalm_pools(cohort, bundle.schema.dnalm_genes)
    ex = examples_from_tables(tables, schema=bundle.schema, dnalm=dnalm or None, covariates=specs)
    pred = _predict(bundle, ex.X)
    notes = [split_note, *cov_notes, *lm_notes]
    groups = {c: ex.groups[c].astype(str).to_numpy() if c in ex.groups else None for c in _GROUP_COLUMNS}

    dec = None
    patient_group: dict[str, np.ndarray] = {}
    if "oracle" in cohort.manifest.truth_tables:
        oracle = cohort.truth("oracle")
        oracle = oracle[oracle["patient_id"].isin(set(ex.patient_ids))].reset_index(drop=True)
        cf, key = _counterfactual_tables(tables, oracle)
        cf_dnalm = {row: dnalm[pid] for row, pid in zip(key["row_id"], key["patient_id"], strict=True) if pid in dnalm}
        cex = examples_from_tables(cf, schema=bundle.schema, dnalm=cf_dnalm or None, covariates=specs)
        order = pd.Index(cex.patient_ids).get_indexer(key["row_id"])
        if (order < 0).any():
            raise RuntimeError("counterfactual rows were lost while building features")
        cpred = _predict(bundle, cex.X.iloc[order])
        counts = bundle.metadata.get("regimens_in_training", {})
        rank = {r: i for i, r in enumerate(sorted(counts, key=lambda r: -counts[r]))}
        dec = _decisions(key, oracle, cpred, rank)
        pos = pd.Index(ex.patient_ids).get_indexer(dec["patient_id"])
        for c, vals in groups.items():
            if vals is not None:
                patient_group[c] = vals[pos]
    else:
        notes.append("the cohort has no truth/oracle table: decision metrics (regret, best option) not computed")

    full = np.ones(len(ex.patient_ids), dtype=bool)
    overall = _summary(full, ex, pred, dec, None if dec is None else np.ones(len(dec), dtype=bool),
                       n_bootstrap=n_bootstrap)
    by: dict[str, dict[str, Any]] = {}
    for c, attr in _GROUP_COLUMNS.items():
        by[attr] = {}
        vals = groups[c]
        if vals is None:
            continue
        for g in sorted(set(vals)):
            by[attr][g] = _summary(vals == g, ex, pred, dec,
                                   None if dec is None else patient_group[c] == g)
    excluded = tuple(sorted({"pgx", "biomarker", "dnalm", "history", "lifestyle", "medication", "demographics"}
                            - {bundle.schema.spec(c).group for c in bundle.schema.columns}))
    if "dnalm" not in excluded:
        dn = [c for c in bundle.schema.columns if bundle.schema.spec(c).group == "dnalm"]
        if dn and ex.X[dn].drop(columns=[c for c in dn if c.endswith("__missing")]).isna().all().all():
            notes.append("DNA LM features are in the schema but missing for every patient of this cohort")
    from recommender.models.bundle import package_version

    prov = {"package_version": package_version(), **bundle.provenance(),
            "cohort_path": str(cohort.path), "cohort_source_version": cohort.manifest.provenance.source_version,
            "genome_build": cohort.manifest.genome_build,
            "evaluated": datetime.now(UTC).isoformat(timespec="seconds")}
    return EvaluationReport(cohort=cohort.manifest.name, bundle_id=bundle.bundle_id, n_patients=len(ex.patient_ids),
                            overall=overall, by_population=by["by_population"], by_sex=by["by_sex"],
                            feature_groups_excluded=excluded, notes=tuple(notes), provenance=_clean(prov))


def _evaluation_rows(patients: pd.DataFrame, split_column: str | None, split_value: str,
                     cohort_path: Any) -> tuple[pd.DataFrame, str]:
    """The patients to evaluate (a split's rows) and a note saying which."""
    from genomics.errors import UsageError

    if split_column is None:
        has = "split" in patients.columns and (patients["split"].astype("string") == split_value).any()
        if not has:
            return patients, "evaluated on every patient of the cohort (no stored split)"
        split_column = "split"
    if split_column.lower() == "none":
        return patients, "evaluated on every patient of the cohort (--split-column none)"
    if split_column not in patients.columns:
        raise UsageError(f"the cohort has no column {split_column!r}", file=cohort_path, field="--split-column",
                         fix="name a column of the patients table (e.g. split) or pass --split-column none")
    keep = patients[split_column].astype("string") == split_value
    if not keep.any():
        raise UsageError(f"no patient has {split_column} == {split_value!r}", file=cohort_path,
                         field="--split-value", fix="check --split-value")
    return patients[keep.fillna(False).to_numpy()].reset_index(drop=True), (
        f"evaluated on the {int(keep.sum())} patients with {split_column} == '{split_value}'")


def _percentile(values: list[float], interval: float = 0.95) -> list[float | None]:
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=float)
    if len(v) < 10:
        return [None, None]
    a = (1 - interval) / 2
    return [float(np.quantile(v, a)), float(np.quantile(v, 1 - a))]


def _km_at(time: np.ndarray, event: np.ndarray, horizon: float) -> float:
    """Kaplan-Meier survival at ``horizon`` (product over event times <= horizon)."""
    t, e = np.asarray(time, float), np.asarray(event, bool)
    ev_times = np.unique(t[e & (t <= horizon)])
    if len(ev_times) == 0:
        return 1.0
    st = np.sort(t)
    at_risk = len(t) - np.searchsorted(st, ev_times, side="left")
    ev_sorted = np.sort(t[e])  # events at each distinct event time, counted without a loop over times
    deaths = np.searchsorted(ev_sorted, ev_times, side="right") - np.searchsorted(ev_sorted, ev_times, side="left")
    return float(np.prod(1.0 - deaths / at_risk))


def calibration_at(curves: pd.DataFrame, time: np.ndarray, event: np.ndarray, horizon: float,
                   groups: int = 10) -> tuple[list[dict[str, float]], float | None]:
    """Predicted vs Kaplan-Meier survival at ``horizon`` in groups of predicted survival (equal-size groups).

    Returns the groups (mean predicted, observed KM, n) and the mean absolute difference weighted by group size.
    """
    from cohorts.evaluation import survival_at

    p = survival_at(curves, [horizon])[:, 0]
    n = len(p)
    k = max(2, min(groups, n // 30))
    order = np.argsort(p, kind="stable")
    out, err = [], 0.0
    for idx in np.array_split(order, k):
        if len(idx) == 0:
            continue
        obs = _km_at(time[idx], event[idx], horizon)
        mp = float(p[idx].mean())
        out.append({"mean_predicted": mp, "observed_km": obs, "n": int(len(idx))})
        err += len(idx) / n * abs(mp - obs)
    return out, float(err)


def survival_metrics(time: np.ndarray, event: np.ndarray, risk: np.ndarray, curves: pd.DataFrame, *,
                     n_bootstrap: int = 0, seed: int = 0, interval: float = 0.95) -> dict[str, Any]:
    """Harrell's C, Antolini's C^td, the IPCW IBS (pycox conventions) and calibration at the median follow-up.

    ``curves`` should be the full-resolution step function (time 0 and every training event time); the
    values needed are read exactly at the evaluated patients' times and on the pycox grid. With
    ``n_bootstrap``, each metric gets a percentile interval over resamples of the patients (model fixed).
    """
    from cohorts.evaluation import antolini_c, harrell_c, integrated_brier_score, pycox_time_grid, survival_at

    t, e, r = np.asarray(time, float), np.asarray(event, bool), np.asarray(risk, float)
    grid = pycox_time_grid(t)
    horizon = float(np.median(t))
    cols = np.unique(np.concatenate([t, grid, [horizon]]))
    tab = pd.DataFrame(survival_at(curves, cols), columns=cols)  # exact values of the step function

    def compute(idx: np.ndarray | None) -> dict[str, Any]:
        tt, ee, rr = (t, e, r) if idx is None else (t[idx], e[idx], r[idx])
        tb = (tab if idx is None else tab.iloc[idx]).reset_index(drop=True)
        out: dict[str, Any] = {"harrell_c": float(harrell_c(tt, ee, rr)), "antolini_c_td": None,
                               "integrated_brier_score": None}
        out["antolini_c_td"] = float(antolini_c(tb, tt, ee))
        try:
            out["integrated_brier_score"] = integrated_brier_score(tb, tt, ee, grid)
        except ValueError:
            pass
        bins, err = calibration_at(tb, tt, ee, horizon)
        out["calibration_error"] = err
        if idx is None:
            out["calibration"] = bins
        return out

    res = compute(None)
    res["calibration_horizon_days"] = horizon
    res["ibs_grid"] = "pycox: 100 points from the minimum to the maximum evaluated time"
    res["curve_resolution"] = f"{curves.shape[1]} time points (time 0 and every training event time)"
    if n_bootstrap:
        rng = np.random.default_rng(seed)
        draws: dict[str, list[float]] = {k: [] for k in ("harrell_c", "antolini_c_td", "integrated_brier_score",
                                                         "calibration_error")}
        for _ in range(n_bootstrap):
            idx = rng.integers(0, len(t), len(t))
            if e[idx].sum() < 2:
                continue
            b = compute(idx)
            for k in draws:
                if b.get(k) is not None:
                    draws[k].append(b[k])
        res["intervals"] = {k: _percentile(v, interval) for k, v in draws.items()}
        res["bootstrap"] = {"resamples": n_bootstrap, "interval": interval,
                            "method": "percentile over resamples of the evaluated patients (model fixed)"}
    return res


def write_report(report: EvaluationReport, path: str | os.PathLike[str]) -> Path:
    """Write the report as JSON (atomically)."""
    from recommender.commands._output import write_atomic

    path = Path(path)
    write_atomic(path, report.to_json() + "\n")
    return path
