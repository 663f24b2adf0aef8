"""Published survival-evaluation protocols on the DeepSurv benchmark files.

* :func:`rotterdam_gbsg`: train on Rotterdam (the DeepSurv ``gbsg`` train split), test on GBSG (its test
  split); Harrell's C on the test set; and the DeepSurv paper's treatment-recommendation analysis
  (Katzman et al. 2018, BMC Med Res Methodol 18:24): each test patient's risk is predicted with the
  hormone-therapy column set to 1 and to 0, the lower-risk option is "recommended", and test patients
  treated as recommended vs not are compared by Kaplan-Meier and the log-rank test. Hormone therapy was
  not randomised in Rotterdam, so this comparison is descriptive, not causal.
* :func:`metabric_pycox`: train and test concatenated (pycox ``metabric.read_df()``), then
  ``np.random.seed(1234); df_test = df.sample(frac=0.2)`` exactly as the pycox example notebooks
  (pandas draws from NumPy's global RandomState; the state is restored afterwards); Antolini's C^td and
  the IPCW integrated Brier score on ``np.linspace(min, max, 100)`` of the test durations.
* :func:`support_deepsurv`: the stored DeepSurv split; Harrell's C, Antolini's C^td and the IBS.

Models (:func:`default_models`): lifelines ``CoxPHFitter`` (ridge penaliser 0.01), the recommender's
:class:`~recommender.models.CoxBaseline` and :class:`~recommender.models.BoostedSurvival` (product
defaults), and scikit-survival's ``RandomSurvivalForest`` when that optional extra is installed.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cohorts.evaluation.km import KMComparison, km_compare
from cohorts.evaluation.metrics import (
    antolini_c,
    harrell_c,
    integrated_brier_score,
    pycox_time_grid,
    survival_at,
)

__all__ = [
    "ANTOLINI",
    "HARRELL",
    "IBS",
    "LifelinesCox",
    "ModelResult",
    "ProtocolResult",
    "RecommendationResult",
    "RecommenderSurvival",
    "SksurvRSF",
    "bootstrap_se",
    "deepsurv_frame",
    "default_models",
    "metabric_pycox",
    "pycox_split",
    "rotterdam_gbsg",
    "support_deepsurv",
]

DAYS_PER_MONTH = 30.4375
HARRELL = ("Harrell's C (lifelines.utils.concordance_index on the predicted log-hazard / risk score; "
           "+/- bootstrap SE over test-set resamples, model fixed)")
ANTOLINI = "Antolini's C^td (cohorts.evaluation.antolini_c = pycox EvalSurv.concordance_td('antolini'))"
IBS = ("integrated Brier score, IPCW with censoring KM on the test set, 100-point grid min..max test time, "
       "Simpson (pycox EvalSurv.integrated_brier_score)")

_COLUMNS = {
    "gbsg": ["hormone_therapy", "tumour_grade", "postmenopausal", "age", "positive_nodes", "pgr_fmol", "er_fmol"],
    "metabric": ["expr_0", "expr_1", "expr_2", "expr_3", "hormone_therapy", "radiotherapy", "chemotherapy",
                 "er_positive", "age"],
    "support": ["age", "sex_code", "race_code", "n_comorbidities", "diabetes", "dementia", "cancer_status",
                "mean_arterial_pressure", "heart_rate", "respiration_rate", "temperature_c", "sodium",
                "leukocytes", "creatinine"],
}


# --------------------------------------------------------------------------------------------- data


def deepsurv_frame(folder: str | Path, dataset: str) -> pd.DataFrame:
    """The DeepSurv file as one frame: covariates in the file's column order, ``time`` (days), ``event``,
    ``split``; rows in the file's order (train then test, as pycox concatenates them)."""
    from cohorts.loaders import load_deepsurv

    loaded = load_deepsurv(folder, dataset=dataset)
    pts = loaded.tables["patients"].set_index("patient_id")
    out = loaded.tables["outcomes"].set_index("patient_id").reindex(pts.index)
    regimens = loaded.tables["treatments"].groupby("patient_id")["regimen"].agg(set).reindex(pts.index)
    frame = pd.DataFrame(index=pts.index)
    if dataset == "gbsg":
        frame["hormone_therapy"] = regimens.map(lambda r: float("tamoxifen" in r))
        for c in _COLUMNS["gbsg"][1:]:
            frame[c] = pts[c].astype(float)
        frame["time"], frame["event"] = out["pfs_days"].astype(float), out["pfs_event"].astype(bool)
    elif dataset == "metabric":
        for c in _COLUMNS["metabric"][:4]:
            frame[c] = pts[c].astype(float)
        for c, reg in (("hormone_therapy", "endocrine therapy (unspecified)"), ("radiotherapy", "radiotherapy"),
                       ("chemotherapy", "chemotherapy (unspecified)")):
            frame[c] = regimens.map(lambda r, reg=reg: float(reg in r))
        frame["er_positive"], frame["age"] = pts["er_positive"].astype(float), pts["age"].astype(float)
        frame["time"], frame["event"] = out["os_days"].astype(float), out["os_event"].astype(bool)
    elif dataset == "support":
        for c in _COLUMNS["support"]:
            frame[c] = pts[c].astype(float)
        frame["time"], frame["event"] = out["os_days"].astype(float), out["os_event"].astype(bool)
    else:
        raise ValueError(f"unknown dataset {dataset!r}")
    frame["split"] = pts["split"].to_numpy()
    return frame.reset_index(drop=True)


def pycox_split(df: pd.DataFrame, seed: int = 1234, frac: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``np.random.seed(seed); df_test = df.sample(frac=frac); df_train = df.drop(df_test.index)``.

    Exactly the pycox examples' split (pandas ``sample`` without ``random_state`` draws from NumPy's global
    RandomState); the global state is saved and restored so callers are not affected.
    """
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        test = df.sample(frac=frac)
    finally:
        np.random.set_state(state)
    return df.drop(test.index), test


# ------------------------------------------------------------------------------------------- models


class _Adapter:
    """Uniform view of a fitted survival model: ``risk(X)`` (higher = worse) and ``survival(X)``
    (DataFrame: one row per individual, columns = the model's own increasing time points)."""

    name: str = ""

    def fit(self, X: pd.DataFrame, t: np.ndarray, e: np.ndarray) -> _Adapter:  # pragma: no cover
        raise NotImplementedError

    def risk(self, X: pd.DataFrame) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def survival(self, X: pd.DataFrame) -> pd.DataFrame:  # pragma: no cover
        raise NotImplementedError


class LifelinesCox(_Adapter):
    """lifelines ``CoxPHFitter(penalizer=p)`` (ridge on lifelines' internally standardised covariates)."""

    def __init__(self, penalizer: float = 0.01) -> None:
        self.penalizer = penalizer
        self.name = f"lifelines CoxPHFitter (penalizer={penalizer:g})"

    def fit(self, X, t, e):
        from lifelines import CoxPHFitter

        data = X.copy()
        data["__T"], data["__E"] = t, e.astype(int)
        self.model = CoxPHFitter(penalizer=self.penalizer).fit(data, duration_col="__T", event_col="__E")
        return self

    def risk(self, X):
        return self.model.predict_log_partial_hazard(X).to_numpy(dtype=float)

    def survival(self, X):
        sf = self.model.predict_survival_function(X)  # index = training durations (step values)
        return pd.DataFrame(sf.to_numpy().T, columns=sf.index.to_numpy(dtype=float))


class RecommenderSurvival(_Adapter):
    """A :mod:`recommender.models` survival estimator (``CoxBaseline`` or ``BoostedSurvival``)."""

    def __init__(self, estimator: Any, name: str) -> None:
        self.estimator = estimator
        self.name = name

    def fit(self, X, t, e):
        self.estimator.fit(X, np.column_stack([t, e.astype(float)]))
        return self

    def risk(self, X):
        return np.asarray(self.estimator.predict_risk(X), dtype=float)

    def survival(self, X):
        times = np.r_[0.0, self.estimator.baseline_times_]
        sf = self.estimator.predict_survival(X.reset_index(drop=True), times=times)
        sf.columns = times
        return sf


class SksurvRSF(_Adapter):
    """scikit-survival ``RandomSurvivalForest`` (optional extra ``eval``; GPL-3.0)."""

    def __init__(self, n_estimators: int = 100, min_samples_leaf: int = 15, n_jobs: int = 2,
                 random_state: int = 0) -> None:
        self.params = {"n_estimators": n_estimators, "min_samples_leaf": min_samples_leaf, "n_jobs": n_jobs,
                           "random_state": random_state}
        self.name = f"scikit-survival RandomSurvivalForest (trees={n_estimators}, min_samples_leaf={min_samples_leaf})"

    def fit(self, X, t, e):
        from sksurv.ensemble import RandomSurvivalForest
        from sksurv.util import Surv

        self.model = RandomSurvivalForest(**self.params).fit(X.to_numpy(), Surv.from_arrays(e.astype(bool), t))
        return self

    def risk(self, X):
        return np.asarray(self.model.predict(X.to_numpy()), dtype=float)

    def survival(self, X):
        arr = self.model.predict_survival_function(X.to_numpy(), return_array=True)
        return pd.DataFrame(arr, columns=np.asarray(self.model.unique_times_, dtype=float))


def sksurv_available() -> bool:
    try:
        import sksurv  # noqa: F401
    except ImportError:
        return False
    return True


def default_models(quick: bool = False, n_jobs: int = 2) -> tuple[list[Callable[[], _Adapter]], list[str]]:
    """Model factories for the comparison and notes on what was skipped."""
    notes: list[str] = []
    models: list[Callable[[], _Adapter]] = [lambda: LifelinesCox(0.01)]
    try:
        from recommender.models import BoostedSurvival, CoxBaseline
    except ImportError as err:  # pragma: no cover - the package ships them
        notes.append(f"recommender.models survival estimators not importable ({err}); skipped")
    else:
        models.append(lambda: RecommenderSurvival(CoxBaseline(), "recommender CoxBaseline (lifelines, penalizer=0.1)"))
        n_est = 60 if quick else 300
        models.append(lambda: RecommenderSurvival(
            # one xgboost thread: with 2 threads on a busy 2-core machine fitting was ~20x slower
            BoostedSurvival(n_estimators=n_est, n_jobs=1, random_state=0),
            f"recommender BoostedSurvival (xgboost survival:cox, <= {n_est} rounds, early stopping)"))
    if sksurv_available():
        trees = 20 if quick else 100
        models.append(lambda: SksurvRSF(n_estimators=trees, min_samples_leaf=15, n_jobs=n_jobs))
    else:
        notes.append("scikit-survival not installed (pip install -e .[eval]): random survival forest skipped")
    return models, notes


# ------------------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class ModelResult:
    """One model's numbers on one protocol (``None`` where the protocol does not ask for a metric)."""

    model: str
    harrell_c: float | None
    harrell_c_se: float | None
    antolini_c: float | None
    adj_antolini_c: float | None
    ibs: float | None
    ibs_sksurv: float | None
    n_train: int
    n_test: int
    events_train: int
    events_test: int
    fit_seconds: float


@dataclass(frozen=True)
class RecommendationResult:
    """DeepSurv-style recommendation analysis for one model (descriptive: treatment not randomised)."""

    model: str
    recommend_treated: int
    recommend_untreated: int
    followed: int
    km: KMComparison


@dataclass(frozen=True)
class ProtocolResult:
    protocol: str
    dataset: str
    metrics: tuple[str, ...]
    results: tuple[ModelResult, ...]
    recommendations: tuple[RecommendationResult, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------------------------------- protocols


def _xy(df: pd.DataFrame, cols: Sequence[str]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    return (df[list(cols)].reset_index(drop=True).astype(float), df["time"].to_numpy(float),
            df["event"].to_numpy(bool))


def _subsample(df: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    if n is None or len(df) <= n:
        return df
    return df.sample(n=n, random_state=seed)


def _sksurv_ibs(t_tr, e_tr, t_te, e_te, table: pd.DataFrame, grid: np.ndarray) -> float | None:
    """scikit-survival's IBS (censoring KM on the training set, trapezoid), over the grid points sksurv
    accepts (strictly inside the test follow-up and the training range)."""
    if not sksurv_available():
        return None
    from sksurv.metrics import integrated_brier_score as sk_ibs
    from sksurv.util import Surv

    g = grid[(grid >= t_te.min()) & (grid < t_te.max()) & (grid < t_tr.max())]
    if len(g) < 2:
        return None
    try:
        return float(sk_ibs(Surv.from_arrays(e_tr, t_tr), Surv.from_arrays(e_te, t_te), survival_at(table, g), g))
    except ValueError:
        return None


def bootstrap_se(time: np.ndarray, event: np.ndarray, risk: np.ndarray, n: int = 200, seed: int = 0) -> float | None:
    """Standard deviation of Harrell's C over ``n`` resamples of the test set (model and predictions fixed)."""
    if n < 2:
        return None
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n):
        i = rng.integers(0, len(time), len(time))
        if event[i].any():
            vals.append(harrell_c(time[i], event[i], risk[i]))
    return float(np.std(vals, ddof=1)) if len(vals) > 1 else None


def _evaluate(models: list[Callable[[], _Adapter]], train: pd.DataFrame, test: pd.DataFrame, cols: Sequence[str],
              *, harrell: bool, td: bool, bootstrap: int = 200) -> tuple[list[ModelResult], list[_Adapter]]:
    X_tr, t_tr, e_tr = _xy(train, cols)
    X_te, t_te, e_te = _xy(test, cols)
    grid = pycox_time_grid(t_te)
    results, fitted = [], []
    for make in models:
        m = make()
        start = _time.perf_counter()
        m.fit(X_tr, t_tr, e_tr)
        secs = _time.perf_counter() - start
        risk = m.risk(X_te)
        hc = harrell_c(t_te, e_te, risk) if harrell else None
        se = bootstrap_se(t_te, e_te, risk, bootstrap) if harrell else None
        ac = adj = ibs = ibs_sk = None
        if td:
            table = m.survival(X_te)
            ac = antolini_c(table, t_te, e_te, method="antolini")
            adj = antolini_c(table, t_te, e_te, method="adj_antolini")
            ibs = integrated_brier_score(table, t_te, e_te, grid)
            ibs_sk = _sksurv_ibs(t_tr, e_tr, t_te, e_te, table, grid)
        results.append(ModelResult(m.name, hc, se, ac, adj, ibs, ibs_sk, len(train), len(test), int(e_tr.sum()),
                                   int(e_te.sum()), round(secs, 3)))
        fitted.append(m)
    return results, fitted


def rotterdam_gbsg(folder: str | Path, *, quick: bool = False, models: list | None = None,
                   max_train: int | None = None, max_test: int | None = None, n_jobs: int = 2,
                   bootstrap: int = 200) -> ProtocolResult:
    """Rotterdam -> GBSG with hormone therapy as the treatment (see the module docstring)."""
    df = deepsurv_frame(folder, "gbsg")
    notes: list[str] = []
    if models is None:
        models, notes = default_models(quick, n_jobs)
    cols = _COLUMNS["gbsg"]
    train = _subsample(df[df["split"] == "train"], max_train, 0)
    test = _subsample(df[df["split"] == "test"], max_test, 0)
    results, fitted = _evaluate(models, train, test, cols, harrell=True, td=False, bootstrap=bootstrap)
    X_te, t_te, e_te = _xy(test, cols)
    actual = X_te["hormone_therapy"].to_numpy() > 0.5
    recs = []
    at = np.arange(0, 85, 12) * DAYS_PER_MONTH
    for m in fitted:
        r1 = m.risk(X_te.assign(hormone_therapy=1.0))
        r0 = m.risk(X_te.assign(hormone_therapy=0.0))
        rec_treat = r1 < r0  # ties -> observation
        followed = rec_treat == actual
        labels = np.where(followed, "treated as recommended", "not as recommended")
        if followed.all() or (~followed).all():
            continue
        km = km_compare(t_te, e_te, labels, times=at, order=("treated as recommended", "not as recommended"))
        recs.append(RecommendationResult(m.name, int(rec_treat.sum()), int((~rec_treat).sum()), int(followed.sum()),
                                         km))
    notes.append("recommendation analysis is descriptive: hormone therapy was not randomised in Rotterdam, "
                 "so 'treated as recommended vs not' is confounded by the reasons for treatment")
    notes.append("times in the loader are days (months x 30.4375); KM medians are reported in months")
    return ProtocolResult("Rotterdam -> GBSG (DeepSurv split)", "gbsg", (HARRELL,), tuple(results), tuple(recs),
                          tuple(notes))


def metabric_pycox(folder: str | Path, *, quick: bool = False, models: list | None = None,
                   max_train: int | None = None, n_jobs: int = 2, bootstrap: int = 200) -> ProtocolResult:
    """METABRIC with the pycox examples' 20% test split (seed 1234)."""
    df = deepsurv_frame(folder, "metabric")
    notes: list[str] = []
    if models is None:
        models, notes = default_models(quick, n_jobs)
    train, test = pycox_split(df)
    train = _subsample(train, max_train, 0)
    results, _ = _evaluate(models, train, test, _COLUMNS["metabric"], harrell=True, td=True,
                              bootstrap=bootstrap)
    notes.append("split: pycox examples, np.random.seed(1234); df_test = df.sample(frac=0.2) on train+test "
                 "concatenated (1904 rows); the pycox notebooks then take a further 20% validation split from the "
                 "rest for the neural nets: here all 1523 remaining rows train (BoostedSurvival holds out its own "
                 "25% for early stopping)")
    return ProtocolResult("METABRIC (pycox 20% test split, seed 1234)", "metabric", (ANTOLINI, IBS, HARRELL),
                          tuple(results), (), tuple(notes))


def support_deepsurv(folder: str | Path, *, quick: bool = False, models: list | None = None,
                     max_train: int | None = None, max_test: int | None = None, n_jobs: int = 2,
                     bootstrap: int = 200) -> ProtocolResult:
    """SUPPORT with the stored DeepSurv split."""
    df = deepsurv_frame(folder, "support")
    notes: list[str] = []
    if models is None:
        models, notes = default_models(quick, n_jobs)
    train = _subsample(df[df["split"] == "train"], max_train, 0)
    test = _subsample(df[df["split"] == "test"], max_test, 0)
    results, _ = _evaluate(models, train, test, _COLUMNS["support"], harrell=True, td=True,
                              bootstrap=bootstrap)
    return ProtocolResult("SUPPORT (DeepSurv split)", "support", (HARRELL, ANTOLINI, IBS), tuple(results), (),
                          tuple(notes))
