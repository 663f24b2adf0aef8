"""Treatment-effect learners: outcome models with explicit treatment x covariate interactions.

Why
---
A pooled table of patient x received-treatment rows fed to shallow boosted trees (the S-learner of
:mod:`recommender.models.counterfactual`) can in principle split on a drug and then on a biomarker,
but with a few hundred rows per regimen and strong confounding by indication it rarely does: on the
simulator's oracle it recovered the largest biomarker effects only partly and missed the rest
(issue 14). The learners here make the interactions explicit, so an effect such as "EGFR sensitising
mutation x osimertinib" is one coefficient that the data estimate directly.

Design (:class:`InteractionDesign`)
-----------------------------------
From the bundle's feature frame (the schema's columns; nothing else is needed at prediction time):

* every column that varies in training enters as a main effect (median-imputed);
* *treatment* columns are the drug indicators (``tx_drug_*``; a class effect such as DPYD on
  fluoropyrimidines is learned per drug: fluorouracil and capecitabine);
* *modifier* columns are the patient-level genomic and clinical features that can change what a
  drug does: tumour biomarkers (``bm_*``), pharmacogenomic phenotypes and activity scores
  (``pgx_*``), cancer type (``demo_cancer_*``), smoking, age, ECOG, creatinine clearance, bilirubin,
  and any cohort covariate (``cov_*``);
* every treatment x modifier product that is non-zero for at least ``min_count`` training rows
  enters as an interaction (modifier centred at its training mean, so the drug's main effect is its
  effect at the average patient). Columns identical to an earlier one are dropped.

All columns are standardised; the fit is a ridge-penalised maximum likelihood (L-BFGS): logistic for
response and each severe toxicity (:class:`InteractionLogit`, :class:`InteractionToxicity`), Cox
partial likelihood with Breslow ties for survival (:class:`InteractionCox`). The penalty is chosen on a
held-out quarter of the training rows from ``penalties`` (log-loss / partial likelihood), then the model
is refitted on all rows. These are "per-regimen heads" in linear form: a regimen's prediction is
its drugs' main effects plus their interactions with the patient's features, while the prognostic
part (ECOG, age, labs) is shared across regimens -- a T-learner would re-estimate it per regimen
from a few hundred rows.

Confounding: rows can be weighted (``sample_weight``: the inverse-propensity weights of
:class:`~recommender.models.counterfactual.PropensityModel`); the outcome model itself adjusts for
every measured confounder in the frame. Options that patients like this one never receive stay
poorly estimated (the bundle's overlap check and OOD flag say so).

Explanations: :meth:`InteractionLogit.contributions` gives exact additive log-odds contributions per
schema column (an interaction is credited to its modifier: "EGFR sensitising mutation" rather than
"osimertinib"), so :func:`recommender.models.explain.explain_probability` works unchanged.

Toxicity as drug causes (:class:`DrugCauseToxicity`, the default bundle's toxicity model)
-----------------------------------------------------------------------------------------
Per CTCAE term, every drug of the regimen is an independent cause (noisy-OR of per-drug logistic models plus a
background cause, shared patient effects); a pharmacogene acts only on the drugs of its CPIC/DPWG guidelines
(:func:`cpic_gene_drug_pairs`, read from the PGx knowledge base), with one effect shared by those drugs and per-drug
deviations under a stronger penalty. The per-term logistic model above learned DPYD x panitumumab from noise and
could not represent that a co-administered drug dilutes a pharmacogenomic risk ratio (issue 14).

Files: one JSON per model (coefficients, imputation medians, means, scales, interaction pairs). No
pickle.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from recommender.models._base import as_frame, check_fitted, floats, read_json, write_json
from recommender.models.survival import _SurvivalBase, split_survival_target
from recommender.models.toxicity import _modelled_terms

__all__ = [
    "DrugCauseTerm",
    "DrugCauseToxicity",
    "InteractionCox",
    "InteractionDesign",
    "InteractionLogit",
    "InteractionToxicity",
    "cpic_gene_drug_pairs",
    "is_modifier_column",
    "is_treatment_column",
    "pgx_column_genes",
]

_MODIFIER_PREFIXES = ("bm_", "pgx_", "demo_cancer_", "cov_")
_MODIFIER_COLUMNS = ("life_smoking", "demo_age", "hist_ecog", "lab_creatinine_clearance", "lab_bilirubin")
_NOT_MODIFIERS = ("bm_option_", "bm_n_tumour_variants")
#: Modifiers coded as categories, not doses: a drug interacts with each level step (``column>=level``) rather than
#: with the code's number. Smoking is never / former / current (0 / 1 / 2): a linear slope over those codes forced
#: "current" to twice "former" and recovered half of the pembrolizumab x ever-smoker effect (issue 14: 0.29 vs
#: 0.60 log-odds with 40,000 training patients).
LEVEL_MODIFIERS: dict[str, tuple[float, ...]] = {"life_smoking": (1.0, 2.0)}
DEFAULT_PENALTIES = (1e-3, 1e-2)


def is_treatment_column(name: str) -> bool:
    """A drug indicator (the treatment side of an interaction)."""
    return name.startswith("tx_drug_")


def is_modifier_column(name: str) -> bool:
    """A patient-level feature that may modify a drug's effect (module docstring)."""
    if name.endswith("__missing") or name.startswith(_NOT_MODIFIERS):
        return False
    return name.startswith(_MODIFIER_PREFIXES) or name in _MODIFIER_COLUMNS


def _modifier_column(name: str) -> str:
    """Schema column of a design modifier (``life_smoking>=1`` -> ``life_smoking``)."""
    return name.split(">=", 1)[0]


def _modifier_values(filled: np.ndarray, pos: dict[str, int], name: str) -> np.ndarray:
    """A modifier's values: the column, or ``1`` where a level modifier's column reaches the level."""
    col, _, level = name.partition(">=")
    v = filled[:, pos[col]]
    return (v >= float(level)).astype("float64") if level else v


class InteractionDesign:
    """Main effects + treatment x modifier products, imputed and standardised (module docstring).

    Parameters
    ----------
    min_count : int
        Fewest training rows with a non-zero product for an interaction to enter.
    """

    def __init__(self, min_count: int = 5) -> None:
        self.min_count = min_count

    def fit(self, frame: pd.DataFrame) -> InteractionDesign:
        cols = [str(c) for c in frame.columns]
        self.feature_names_in_ = cols
        varying = [c for c in cols if frame[c].nunique(dropna=True) > 1]
        self.main_ = varying
        self.medians_ = frame[varying].median().fillna(0.0).to_numpy()
        filled = frame[varying].fillna(pd.Series(self.medians_, index=varying)).to_numpy(dtype="float64")
        pos = {c: i for i, c in enumerate(varying)}
        treat = [c for c in varying if is_treatment_column(c)]
        mods = [m for c in varying if is_modifier_column(c)
                 for m in ([f"{c}>={lv:g}" for lv in LEVEL_MODIFIERS[c]] if c in LEVEL_MODIFIERS else [c])]
        self.modifier_means_ = {m: float(_modifier_values(filled, pos, m).mean()) for m in mods}
        pairs: list[tuple[str, str]] = []
        blocks: list[np.ndarray] = [filled]
        seen: set[bytes] = {filled[:, j].tobytes() for j in range(filled.shape[1])}
        for t in treat:
            tv = filled[:, pos[t]]
            on = tv != 0
            if on.sum() < self.min_count:
                continue
            for m in mods:
                mv = _modifier_values(filled, pos, m)
                if np.count_nonzero(mv[on] - self.modifier_means_[m]) < self.min_count:
                    continue
                if np.unique(mv[on]).size < 2:
                    continue
                prod = tv * (mv - self.modifier_means_[m])
                key = prod.tobytes()
                if key in seen:
                    continue
                seen.add(key)
                pairs.append((t, m))
                blocks.append(prod[:, None])
        self.pairs_ = pairs
        raw = np.hstack(blocks)
        self.means_ = raw.mean(axis=0)
        sd = raw.std(axis=0)
        self.scales_ = np.where(sd > 0, sd, 1.0)
        return self

    @property
    def names(self) -> list[str]:
        return [*self.main_, *(f"{t}*{m}" for t, m in self.pairs_)]

    @property
    def sources(self) -> list[str]:
        """Schema column each design column's contribution is credited to (the modifier for a product)."""
        return [*self.main_, *(_modifier_column(m) for _, m in self.pairs_)]

    def raw(self, frame: pd.DataFrame) -> np.ndarray:
        filled = frame[self.main_].to_numpy(dtype="float64", copy=True)
        nan = np.isnan(filled)
        if nan.any():
            filled[nan] = np.broadcast_to(self.medians_, filled.shape)[nan]
        if not self.pairs_:
            return filled
        pos = {c: i for i, c in enumerate(self.main_)}
        prods = np.empty((len(filled), len(self.pairs_)))
        for k, (t, m) in enumerate(self.pairs_):
            prods[:, k] = filled[:, pos[t]] * (_modifier_values(filled, pos, m) - self.modifier_means_[m])
        return np.hstack([filled, prods])

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        return (self.raw(frame) - self.means_) / self.scales_

    def to_dict(self) -> dict[str, Any]:
        return {"min_count": self.min_count, "feature_names": self.feature_names_in_, "main": self.main_,
                "medians": self.medians_, "modifier_means": self.modifier_means_,
                "pairs": [list(p) for p in self.pairs_], "means": self.means_, "scales": self.scales_}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> InteractionDesign:
        out = cls(min_count=int(d["min_count"]))
        out.feature_names_in_ = list(d["feature_names"])
        out.main_ = list(d["main"])
        out.medians_ = floats(d["medians"])
        out.modifier_means_ = {k: float(v) for k, v in d["modifier_means"].items()}
        out.pairs_ = [(str(a), str(b)) for a, b in d["pairs"]]
        out.means_, out.scales_ = floats(d["means"]), floats(d["scales"])
        return out


# -- penalised likelihoods -------------------------------------------------------------------------

def _one_blas_thread() -> Any:
    """Fits run with one BLAS thread: these are small matrix products repeated thousands of times, and a
    multi-threaded BLAS on a busy machine made them about five times slower (measured on the shared 2-core
    machine: 20 s -> 4 s for one toxicity term on 10,000 rows)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on threadpoolctl
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _rowdot(Z: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """``Z @ coef`` computed row by row: a row's number never depends on the other rows of the batch (a BLAS
    product may block rows differently for different batch sizes; scoring promises batch == one patient)."""
    return np.ascontiguousarray(Z * coef).sum(axis=1)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -35, 35)))


def _fit_logit(Z: np.ndarray, y: np.ndarray, w: np.ndarray, lam: float, max_iter: int) -> tuple[float, np.ndarray]:
    from scipy.optimize import minimize

    wn = w / w.sum()
    p0 = float(np.clip(np.average(y, weights=w), 1e-4, 1 - 1e-4))
    x0 = np.zeros(Z.shape[1] + 1)
    x0[0] = np.log(p0 / (1 - p0))

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        b0, b = theta[0], theta[1:]
        z = b0 + Z @ b
        loss = np.sum(wn * (np.logaddexp(0.0, z) - y * z)) + 0.5 * lam * b @ b
        r = wn * (_sigmoid(z) - y)
        g = np.empty_like(theta)
        g[0] = r.sum()
        g[1:] = Z.T @ r + lam * b
        return float(loss), g

    res = minimize(f, x0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter, "ftol": 1e-7, "gtol": 1e-5})
    return float(res.x[0]), res.x[1:]


def _fit_logit_multi(Z: np.ndarray, Y: np.ndarray, w: np.ndarray, lam: float, max_iter: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Independent ridge logistic regressions of every column of ``Y`` on ``Z``, fitted as one problem.

    The objective is the sum of the per-column objectives (they share no parameter), so the solution is
    each column's own fit; one matrix product per step instead of one per column.
    """
    from scipy.optimize import minimize

    p = Z.shape[1]
    k = Y.shape[1]
    wn = (w / w.sum())[:, None]
    prev = np.clip((Y * wn).sum(axis=0), 1e-4, 1 - 1e-4)
    x0 = np.zeros((p + 1) * k)
    x0[:k] = np.log(prev / (1 - prev))

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        b0, B = theta[:k], theta[k:].reshape(p, k)
        z = b0 + Z @ B
        loss = np.sum(wn * (np.logaddexp(0.0, z) - Y * z)) + 0.5 * lam * np.sum(B * B)
        r = wn * (_sigmoid(z) - Y)
        return float(loss), np.concatenate([r.sum(axis=0), (Z.T @ r + lam * B).ravel()])

    res = minimize(f, x0, jac=True, method="L-BFGS-B", options={"maxiter": max_iter, "ftol": 1e-7, "gtol": 1e-5})
    return res.x[:k], res.x[k:].reshape(p, k)


def _logloss(Z: np.ndarray, y: np.ndarray, w: np.ndarray, b0: float, b: np.ndarray) -> float:
    z = b0 + Z @ b
    return float(np.average(np.logaddexp(0.0, z) - y * z, weights=w))


def _cox_terms(time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Descending-time order and, per sorted row, the last sorted index of its risk set (ties included)."""
    order = np.argsort(-time, kind="stable")
    ts = time[order]
    last = np.searchsorted(-ts, -ts, side="right") - 1  # risk set of row k: sorted rows 0..last[k]
    return order, last


def _fit_cox(Z: np.ndarray, time: np.ndarray, event: np.ndarray, w: np.ndarray, lam: float,
             max_iter: int) -> np.ndarray:
    from scipy.optimize import minimize

    order, last = _cox_terms(time)
    Zs, es, ws = Z[order], event[order].astype(float), w[order]
    we = ws * es
    tot = we.sum() or 1.0

    def f(b: np.ndarray) -> tuple[float, np.ndarray]:
        lp = Zs @ b
        c = lp.max()
        r = ws * np.exp(lp - c)
        S0 = np.cumsum(r)[last]
        ll = np.sum(we * (lp - c - np.log(S0)))
        A = np.bincount(last, weights=we / S0, minlength=len(lp))
        cc = np.cumsum(A[::-1])[::-1]
        grad_ll = Zs.T @ we - Zs.T @ (r * cc)
        return float(-ll / tot + 0.5 * lam * b @ b), -grad_ll / tot + lam * b

    res = minimize(f, np.zeros(Z.shape[1]), jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter, "ftol": 1e-7, "gtol": 1e-5})
    return res.x


def _cox_loglik(Z: np.ndarray, time: np.ndarray, event: np.ndarray, w: np.ndarray, b: np.ndarray) -> float:
    order, last = _cox_terms(time)
    lp = (Z @ b)[order]
    c = lp.max()
    ws, es = w[order], event[order].astype(float)
    S0 = np.cumsum(ws * np.exp(lp - c))[last]
    return float(np.sum(ws * es * (lp - c - np.log(S0))) / max((ws * es).sum(), 1e-12))


def _holdout(n: int, strat: np.ndarray | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    idx = np.arange(n)
    ok = strat is not None and pd.Series(strat).value_counts().min() >= 2
    return train_test_split(idx, test_size=0.25, random_state=seed, stratify=strat if ok else None)


def _contributions(design: InteractionDesign, coef: np.ndarray, intercept: float, frame: pd.DataFrame,
                   columns: list[str]) -> pd.DataFrame:
    Z = design.transform(frame)
    parts = Z * coef
    out = pd.DataFrame(0.0, index=frame.index, columns=[*columns, "bias"])
    pos = {c: i for i, c in enumerate(columns)}
    acc = np.zeros((len(frame), len(columns)))
    for j, src in enumerate(design.sources):
        acc[:, pos[src]] += parts[:, j]
    out.iloc[:, :-1] = acc
    out["bias"] = intercept
    return out


class InteractionLogit(ClassifierMixin, BaseEstimator):
    """Ridge logistic regression on :class:`InteractionDesign` (response, or one toxicity term).

    Parameters
    ----------
    penalty : float or None
        Ridge strength on the standardised columns (per row-weight unit); ``None`` chooses from
        ``penalties`` on a held-out quarter (log-loss), then refits on all rows.
    penalties : tuple of float
    min_count : int
        See :class:`InteractionDesign`.
    max_iter : int
    random_state : int

    Attributes
    ----------
    design_ : InteractionDesign
    coef_ : numpy.ndarray (per design column); intercept_ : float
    penalty_ : float (the penalty used); selection_ : dict (held-out log-loss per penalty)
    classes_ : numpy.ndarray ``[0, 1]``; calibration_ : str ("logistic (none)")
    """

    def __init__(self, penalty: float | None = None, penalties: tuple[float, ...] = DEFAULT_PENALTIES,
                 min_count: int = 5, max_iter: int = 500, random_state: int = 0) -> None:
        self.penalty = penalty
        self.penalties = penalties
        self.min_count = min_count
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> InteractionLogit:
        with _one_blas_thread():
            return self._fit(X, y, sample_weight)

    def _fit(self, X: Any, y: Any, sample_weight: Any = None) -> InteractionLogit:
        frame = as_frame(X, estimator=type(self).__name__)
        y = np.asarray(y, dtype="float64")
        if y.ndim != 1 or len(y) != len(frame):
            raise ValueError("y must be 1-D with one label per row of X")
        if not set(np.unique(y).tolist()) <= {0.0, 1.0} or len(np.unique(y)) < 2:
            raise ValueError(f"y must contain both classes 0 and 1 (got {np.unique(y).tolist()})")
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype="float64")
        self.design_ = InteractionDesign(self.min_count).fit(frame)
        Z = self.design_.transform(frame)
        self.selection_ = {}
        lam = self.penalty
        if lam is None:
            tr, va = _holdout(len(y), y, self.random_state)
            for cand in self.penalties:
                b0, b = _fit_logit(Z[tr], y[tr], w[tr], cand, self.max_iter)
                self.selection_[str(cand)] = _logloss(Z[va], y[va], w[va], b0, b)
            lam = float(min(self.penalties, key=lambda c: self.selection_[str(c)]))
        intercept, coef = _fit_logit(Z, y, w, float(lam), self.max_iter)
        self._set_fitted(self.design_, intercept, coef, float(lam), self.selection_, y, joint=False)
        return self

    def _set_fitted(self, design: InteractionDesign, intercept: float, coef: np.ndarray, penalty: float,
                    selection: dict[str, float], y: np.ndarray, *, joint: bool = True) -> None:
        """Fitted state from :meth:`fit` or from a joint fit over terms (:class:`InteractionToxicity`)."""
        self.design_, self.intercept_, self.coef_, self.penalty_ = design, intercept, coef, penalty
        self.selection_ = dict(selection)
        self.feature_names_in_ = np.array(design.feature_names_in_, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.classes_ = np.array([0, 1])
        self.calibration_ = "logistic (none)"
        self.training_summary_ = {"rows": len(y), "events": int(y.sum()), "design_columns": len(coef),
                                  "interactions": len(design.pairs_), "penalty": penalty,
                                  **({"fit": "joint over terms"} if joint else {})}

    def decision_function(self, X: Any) -> np.ndarray:
        check_fitted(self, "coef_")
        frame = as_frame(X, list(self.feature_names_in_), estimator=type(self).__name__)
        return self.intercept_ + _rowdot(self.design_.transform(frame), self.coef_)

    def calibrate(self, margin: np.ndarray) -> np.ndarray:
        return _sigmoid(np.asarray(margin, dtype="float64"))

    def predict_proba(self, X: Any) -> np.ndarray:
        p = _sigmoid(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def contributions(self, X: Any) -> pd.DataFrame:
        """Exact additive log-odds contributions per schema column (products credited to the modifier)."""
        check_fitted(self, "coef_")
        frame = as_frame(X, list(self.feature_names_in_), estimator=type(self).__name__)
        return _contributions(self.design_, self.coef_, self.intercept_, frame, list(self.feature_names_in_))

    def effects(self) -> pd.Series:
        """Coefficient per design column on the raw scale (per unit of the column; products per unit of both)."""
        check_fitted(self, "coef_")
        return pd.Series(self.coef_ / self.design_.scales_, index=self.design_.names)

    def _meta(self) -> dict[str, Any]:
        return {"class": type(self).__name__, "params": {**self.get_params(), "penalties": list(self.penalties)},
                "design": self.design_.to_dict(), "coef": self.coef_, "intercept": self.intercept_,
                "penalty_used": self.penalty_, "selection": self.selection_, "summary": self.training_summary_}

    def save(self, directory: str | Path, name: str) -> list[Path]:
        check_fitted(self, "coef_")
        return [write_json(Path(directory) / f"{name}.json", self._meta())]

    @classmethod
    def _from_meta(cls, meta: dict[str, Any]) -> InteractionLogit:
        params = dict(meta["params"])
        params["penalties"] = tuple(params.get("penalties", DEFAULT_PENALTIES))
        est = cls(**params)
        est.design_ = InteractionDesign.from_dict(meta["design"])
        est.coef_ = floats(meta["coef"])
        est.intercept_ = float(meta["intercept"])
        est.penalty_ = float(meta["penalty_used"])
        est.selection_ = dict(meta.get("selection", {}))
        est.training_summary_ = dict(meta.get("summary", {}))
        est.feature_names_in_ = np.array(est.design_.feature_names_in_, dtype=object)
        est.n_features_in_ = len(est.feature_names_in_)
        est.classes_ = np.array([0, 1])
        est.calibration_ = "logistic (none)"
        return est

    @classmethod
    def load(cls, directory: str | Path, name: str) -> InteractionLogit:
        return cls._from_meta(read_json(Path(directory) / f"{name}.json"))


class InteractionToxicity(BaseEstimator):
    """One :class:`InteractionLogit` per CTCAE term (grade >= 3); the interface of ``ToxicityModel``.

    Parameters
    ----------
    terms : list of str or None
    min_events : int
        Fewest severe events (and non-events) a term needs to be modelled.
    logit_params : dict or None
        Parameters of each :class:`InteractionLogit`.
    """

    def __init__(self, terms: list[str] | None = None, min_events: int = 10,
                 logit_params: dict[str, Any] | None = None, random_state: int = 0) -> None:
        self.terms = terms
        self.min_events = min_events
        self.logit_params = logit_params
        self.random_state = random_state

    def fit(self, X: Any, Y: pd.DataFrame, sample_weight: Any = None) -> InteractionToxicity:
        with _one_blas_thread():
            return self._fit(X, Y, sample_weight)

    def _fit(self, X: Any, Y: pd.DataFrame, sample_weight: Any = None) -> InteractionToxicity:
        frame = as_frame(X, estimator=type(self).__name__)
        kept, skipped = _modelled_terms(Y, len(frame), self.terms, self.min_events)
        w = np.ones(len(frame)) if sample_weight is None else np.asarray(sample_weight, dtype="float64")
        params = {"random_state": self.random_state, **(self.logit_params or {})}
        template = InteractionLogit(**params)
        models: dict[str, InteractionLogit] = {}
        if kept:
            # one design and one joint fit for every term (independent terms; the penalty is chosen once, on
            # the summed held-out log-loss of all terms)
            design = InteractionDesign(template.min_count).fit(frame)
            Z = design.transform(frame)
            Ym = Y[kept].to_numpy().astype(float)
            selection: dict[str, float] = {}
            lam = template.penalty
            if lam is None:
                tr, va = _holdout(len(frame), Ym[:, int(np.argmax(Ym.sum(axis=0)))], self.random_state)
                for cand in template.penalties:
                    b0, B = _fit_logit_multi(Z[tr], Ym[tr], w[tr], cand, template.max_iter)
                    selection[str(cand)] = float(sum(_logloss(Z[va], Ym[va, j], w[va], b0[j], B[:, j])
                                                     for j in range(len(kept))))
                lam = float(min(template.penalties, key=lambda c: selection[str(c)]))
            b0, B = _fit_logit_multi(Z, Ym, w, float(lam), template.max_iter)
            for j, term in enumerate(kept):
                m = InteractionLogit(**params)
                m._set_fitted(design, float(b0[j]), B[:, j].copy(), float(lam), selection, Ym[:, j])
                models[term] = m
        self.models_ = models
        self.terms_ = list(models)
        self.skipped_terms_ = skipped
        self.feature_names_in_ = np.array([str(c) for c in frame.columns], dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def predict_proba(self, X: Any) -> pd.DataFrame:
        check_fitted(self, "models_")
        frame = as_frame(X, list(self.feature_names_in_), estimator=type(self).__name__)
        if not self.models_:
            return pd.DataFrame(index=frame.index)
        first = next(iter(self.models_.values()))
        if all(m.design_ is first.design_ for m in self.models_.values()):  # shared design: one transform
            Z = first.design_.transform(frame)
            return pd.DataFrame({t: _sigmoid(m.intercept_ + _rowdot(Z, m.coef_)) for t, m in self.models_.items()},
                                index=frame.index)
        return pd.DataFrame({t: m.predict_proba(frame)[:, 1] for t, m in self.models_.items()}, index=frame.index)

    def save(self, directory: str | Path, name: str = "toxicity") -> list[Path]:
        check_fitted(self, "models_")
        models = {t: m._meta() for t, m in self.models_.items()}
        first = next(iter(self.models_.values()), None)
        shared = first is not None and all(m.design_ is first.design_ for m in self.models_.values())
        if shared:  # one copy of the shared design
            for meta_t in models.values():
                meta_t.pop("design")
        meta = {"class": type(self).__name__, "params": self.get_params(), "models": models,
                "design": first.design_.to_dict() if shared else None,
                "skipped_terms": self.skipped_terms_, "feature_names": list(self.feature_names_in_)}
        return [write_json(Path(directory) / f"{name}.json", meta)]

    @classmethod
    def load(cls, directory: str | Path, name: str = "toxicity") -> InteractionToxicity:
        meta = read_json(Path(directory) / f"{name}.json")
        est = cls(**meta["params"])
        shared = meta.get("design")
        design = InteractionDesign.from_dict(shared) if shared else None
        est.models_ = {}
        for t, m in meta["models"].items():
            model = InteractionLogit._from_meta({**m, "design": shared} if shared else m)
            if design is not None:
                model.design_ = design
            est.models_[t] = model
        est.terms_ = list(est.models_)
        est.skipped_terms_ = dict(meta["skipped_terms"])
        est.feature_names_in_ = np.array(meta["feature_names"], dtype=object)
        est.n_features_in_ = len(est.feature_names_in_)
        return est


class InteractionCox(_SurvivalBase):
    """Ridge Cox proportional-hazards model on :class:`InteractionDesign`, Breslow baseline.

    Parameters are those of :class:`InteractionLogit` (the penalty is chosen by held-out partial
    log-likelihood).
    """

    def __init__(self, penalty: float | None = None, penalties: tuple[float, ...] = DEFAULT_PENALTIES,
                 min_count: int = 5, max_iter: int = 500, random_state: int = 0) -> None:
        self.penalty = penalty
        self.penalties = penalties
        self.min_count = min_count
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: Any, y: Any, event: Any = None, sample_weight: Any = None) -> InteractionCox:
        with _one_blas_thread():
            return self._fit(X, y, event, sample_weight)

    def _fit(self, X: Any, y: Any, event: Any = None, sample_weight: Any = None) -> InteractionCox:
        frame = as_frame(X, estimator=type(self).__name__)
        time, ev = split_survival_target(y, event)
        time = np.maximum(time, 1e-6)
        w = np.ones(len(time)) if sample_weight is None else np.asarray(sample_weight, dtype="float64")
        self.design_ = InteractionDesign(self.min_count).fit(frame)
        Z = self.design_.transform(frame)
        self.selection_ = {}
        lam = self.penalty
        if lam is None:
            tr, va = _holdout(len(time), ev, self.random_state)
            for cand in self.penalties:
                b = _fit_cox(Z[tr], time[tr], ev[tr], w[tr], cand, self.max_iter)
                self.selection_[str(cand)] = _cox_loglik(Z[va], time[va], ev[va], w[va], b)
            lam = float(max(self.penalties, key=lambda c: self.selection_[str(c)]))
        self.penalty_ = float(lam)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self.coef_ = _fit_cox(Z, time, ev, w, self.penalty_, self.max_iter)
        self.feature_names_in_ = np.array(self.design_.feature_names_in_, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.training_summary_ = {"rows": len(time), "events": int(ev.sum()), "design_columns": len(self.coef_),
                                  "interactions": len(self.design_.pairs_), "penalty": self.penalty_}
        self._fit_baseline(frame, time, ev, w)
        return self

    def _lp(self, frame: pd.DataFrame) -> np.ndarray:
        return _rowdot(self.design_.transform(frame), self.coef_)

    def contributions(self, X: Any) -> pd.DataFrame:
        """Exact additive log-hazard contributions per schema column (products credited to the modifier)."""
        check_fitted(self, "coef_")
        frame = as_frame(X, list(self.feature_names_in_), estimator=type(self).__name__)
        return _contributions(self.design_, self.coef_, 0.0, frame, list(self.feature_names_in_))

    def effects(self) -> pd.Series:
        check_fitted(self, "coef_")
        return pd.Series(self.coef_ / self.design_.scales_, index=self.design_.names)

    def save(self, directory: str | Path, name: str) -> list[Path]:
        check_fitted(self, "coef_")
        meta = {"class": type(self).__name__, "params": {**self.get_params(), "penalties": list(self.penalties)},
                "design": self.design_.to_dict(), "coef": self.coef_, "penalty_used": self.penalty_,
                "selection": self.selection_, "summary": self.training_summary_,
                "baseline_times": self.baseline_times_, "baseline_cumhaz": self.baseline_cumhaz_,
                "time_grid": self.time_grid_}
        return [write_json(Path(directory) / f"{name}.json", meta)]

    @classmethod
    def load(cls, directory: str | Path, name: str) -> InteractionCox:
        meta = read_json(Path(directory) / f"{name}.json")
        params = dict(meta["params"])
        params["penalties"] = tuple(params.get("penalties", DEFAULT_PENALTIES))
        est = cls(**params)
        est.design_ = InteractionDesign.from_dict(meta["design"])
        est.coef_ = floats(meta["coef"])
        est.penalty_ = float(meta["penalty_used"])
        est.selection_ = dict(meta.get("selection", {}))
        est.training_summary_ = dict(meta.get("summary", {}))
        est._restore_baseline(meta)
        est.feature_names_in_ = np.array(est.design_.feature_names_in_, dtype=object)
        est.n_features_in_ = len(est.feature_names_in_)
        return est


# -- toxicity as independent drug causes (noisy-OR) ------------------------------------------------------

#: Clinical features whose effect on a drug's toxicity may differ by drug (renal / hepatic clearance, age).
_TOX_CLINICAL_MODIFIERS = ("demo_age", "hist_ecog", "lab_creatinine_clearance", "lab_bilirubin")


def pgx_column_genes(name: str) -> tuple[str, ...]:
    """Genes a pharmacogenomic feature column describes (``pgx_dpyd_activity_score`` -> ``("DPYD",)``)."""
    if not name.startswith("pgx_") or name.endswith("__missing"):
        return ()
    token = name[4:].split("_", 1)[0]
    if token == "thiopurine":
        return ("TPMT", "NUDT15")
    return (token.upper(),)


def cpic_gene_drug_pairs(genes: Any = None) -> dict[str, tuple[str, ...]]:
    """Gene -> drugs with a CPIC/DPWG guideline for that gene, from the PGx knowledge base in force.

    ``{"DPYD": ("capecitabine", "fluorouracil", "tegafur", ...), "UGT1A1": ("irinotecan", ...), ...}``; these
    are the only pharmacogene x drug interactions :class:`DrugCauseToxicity` estimates.
    """
    from genomics.pgx.guidance import drugs_with_guidelines

    genes = genes or ("DPYD", "UGT1A1", "TPMT", "NUDT15", "CYP2D6", "CYP2C19", "CYP2C9")
    return {g: tuple(drugs_with_guidelines([g])) for g in genes}


#: Start and bounds of a cause's log-odds intercept (:func:`_fit_cause`).
_CAUSE_START = -8.0
_CAUSE_BOUNDS = (-14.0, 6.0)


def _softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


class _CauseDesign:
    """The parts of :class:`DrugCauseToxicity`'s model for a frame: drug incidence, shared and modifier columns."""

    def __init__(self, min_count: int, pairs: dict[str, tuple[str, ...]], clinical: bool) -> None:
        self.min_count, self.pairs, self.clinical = min_count, pairs, clinical

    def fit(self, frame: pd.DataFrame) -> _CauseDesign:
        cols = [str(c) for c in frame.columns]
        self.feature_names_in_ = cols
        drugs: list[str] = []
        seen: dict[bytes, int] = {}
        self.groups_: list[list[str]] = []
        for c in cols:
            if not is_treatment_column(c):
                continue
            v = (frame[c].fillna(0.0).to_numpy(dtype="float64") > 0)
            if v.sum() < self.min_count:
                continue
            key = v.tobytes()
            if key in seen:  # always given together (leucovorin with fluorouracil): one cause
                self.groups_[seen[key]].append(c)
                continue
            seen[key] = len(self.groups_)
            self.groups_.append([c])
            drugs.append(c)
        self.drugs_ = drugs
        shared = [c for c in cols if not c.startswith(("tx_", "bm_option_")) and frame[c].nunique(dropna=True) > 1]
        self.shared_ = shared
        self.medians_ = frame[shared].median().fillna(0.0).to_numpy()
        filled = self._fill(frame)
        self.means_ = filled.mean(axis=0)
        sd = filled.std(axis=0)
        self.scales_ = np.where(sd > 0, sd, 1.0)
        pos = {c: i for i, c in enumerate(shared)}
        # modifiers: pharmacogenomic columns of a gene with a guideline for one of the group's drugs (CPIC pairs),
        # shared by every drug of the gene (g_m) plus a per-drug deviation; clinical columns per drug only
        drug_names = [{c[len("tx_drug_"):] for c in grp} for grp in self.groups_]
        mods: list[str] = []
        links: list[tuple[int, int]] = []  # (modifier index, drug index)
        for c in shared:
            genes = pgx_column_genes(c)
            if genes:
                hit = [k for k, names in enumerate(drug_names)
                       if any(d in names for g in genes for d in self.pairs.get(g, ()))]
            elif self.clinical and c in _TOX_CLINICAL_MODIFIERS:
                hit = list(range(len(drug_names)))
            else:
                continue
            hit = [k for k in hit if np.count_nonzero(filled[self._on(frame, k), pos[c]] - self.means_[pos[c]])
                   >= self.min_count]
            if not hit:
                continue
            mods.append(c)
            links += [(len(mods) - 1, k) for k in hit]
        self.modifiers_ = mods
        self.links_ = links
        self.pgx_shared_ = [j for j, m in enumerate(mods) if pgx_column_genes(m)]
        return self

    def _on(self, frame: pd.DataFrame, k: int) -> np.ndarray:
        return frame[self.drugs_[k]].fillna(0.0).to_numpy(dtype="float64") > 0

    def _fill(self, frame: pd.DataFrame) -> np.ndarray:
        filled = frame[self.shared_].to_numpy(dtype="float64", copy=True)
        nan = np.isnan(filled)
        if nan.any():
            filled[nan] = np.broadcast_to(self.medians_, filled.shape)[nan]
        return filled

    def transform(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(T, Zs, Zm)``: drug incidence (with a background column first), standardised shared and modifier columns."""
        Zs = (self._fill(frame) - self.means_) / self.scales_
        T = np.ones((len(frame), len(self.drugs_) + 1))
        for k, c in enumerate(self.drugs_):
            T[:, k + 1] = frame[c].fillna(0.0).to_numpy(dtype="float64") > 0
        pos = {c: i for i, c in enumerate(self.shared_)}
        Zm = Zs[:, [pos[m] for m in self.modifiers_]] if self.modifiers_ else np.zeros((len(frame), 0))
        # shared patient effects act on every cause; pharmacogenomic columns act only through the drugs they pair
        # with (a DPYD deficit must not move oxaliplatin's neuropathy): zero in the shared part (their shared
        # coefficients stay 0 under the ridge penalty)
        pgx = [i for i, c in enumerate(self.shared_) if c.startswith("pgx_")]
        if pgx:
            Zs[:, pgx] = 0.0
        return T, Zs, Zm

    def to_dict(self) -> dict[str, Any]:
        return {"min_count": self.min_count, "pairs": {k: list(v) for k, v in self.pairs.items()},
                "clinical": self.clinical, "feature_names": self.feature_names_in_, "groups": self.groups_,
                "shared": self.shared_, "medians": self.medians_, "means": self.means_, "scales": self.scales_,
                "modifiers": self.modifiers_, "links": [list(x) for x in self.links_]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> _CauseDesign:
        out = cls(int(d["min_count"]), {k: tuple(v) for k, v in d["pairs"].items()}, bool(d["clinical"]))
        out.feature_names_in_ = list(d["feature_names"])
        out.groups_ = [list(g) for g in d["groups"]]
        out.drugs_ = [g[0] for g in out.groups_]
        out.shared_ = list(d["shared"])
        out.medians_, out.means_, out.scales_ = floats(d["medians"]), floats(d["means"]), floats(d["scales"])
        out.modifiers_ = list(d["modifiers"])
        out.links_ = [(int(a), int(b)) for a, b in d["links"]]
        out.pgx_shared_ = [j for j, m in enumerate(out.modifiers_) if pgx_column_genes(m)]
        return out


def _link_matrix(links: list[tuple[int, int]], n_mod: int, n_drugs: int, pgx_shared: list[int]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mods, B, S)``: modifier of each link, link -> drug one-hot (L x D), link -> shared-effect one-hot (L x G)."""
    mods = np.array([m for m, _ in links], dtype=int)
    B = np.zeros((len(links), n_drugs))
    S = np.zeros((len(links), len(pgx_shared)))
    where = {m: i for i, m in enumerate(pgx_shared)}
    for j, (m, k) in enumerate(links):
        B[j, k] = 1.0
        if m in where:
            S[j, where[m]] = 1.0
    return mods, B, S


def _cause_logits(theta: np.ndarray, T: np.ndarray, Zs: np.ndarray, Zm: np.ndarray, links: list[tuple[int, int]],
                  pgx_shared: list[int], *, exact: bool = True) -> np.ndarray:
    """Per row x cause (background + drugs) log-odds of causing the event.

    ``exact``: row-by-row products (a row's number never depends on the batch; :func:`_rowdot`), for prediction.
    """
    n_c = T.shape[1]
    a = theta[:n_c]
    beta = theta[n_c:n_c + Zs.shape[1]]
    rest = theta[n_c + Zs.shape[1]:]
    g, dev = rest[:len(pgx_shared)], rest[len(pgx_shared):]
    z = a[None, :] + (_rowdot(Zs, beta) if exact else Zs @ beta)[:, None]
    if links:
        mods, B, S = _link_matrix(links, Zm.shape[1], n_c - 1, pgx_shared)
        coef = dev + S @ g  # per link: shared pharmacogene effect + the drug's deviation
        if exact:
            for j, (m, k) in enumerate(links):
                z[:, k + 1] += Zm[:, m] * coef[j]
        else:
            z[:, 1:] += (Zm[:, mods] * coef) @ B
    return z


def _cause_objective(T: np.ndarray, Zs: np.ndarray, Zm: np.ndarray, links: list[tuple[int, int]],
                     pgx_shared: list[int], y: np.ndarray, w: np.ndarray) -> Any:
    """Unpenalised weighted noisy-OR log-loss of one term and its gradient, as a function of ``theta``."""
    n_c, p = T.shape[1], Zs.shape[1]
    L, G = len(links), len(pgx_shared)
    wn = w / w.sum()
    mods, B, S = _link_matrix(links, Zm.shape[1], n_c - 1, pgx_shared)
    ZL = Zm[:, mods] if L else np.zeros((len(y), 0))
    on = T.astype(bool)

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        beta, rest = theta[n_c:n_c + p], theta[n_c + p:]
        z = theta[:n_c][None, :] + (Zs @ beta)[:, None]
        if L:
            z[:, 1:] += (ZL * (rest[G:] + S @ rest[:G])) @ B
        e = np.exp(-np.abs(z))  # softplus and sigmoid from one exp
        sp = np.where(on, np.maximum(z, 0.0) + np.log1p(e), 0.0)
        sig = np.where(on, np.where(z >= 0, 1.0, e) / (1.0 + e), 0.0)
        S_ = np.clip(sp.sum(axis=1), 1e-12, 50.0)
        em = np.expm1(S_)
        logP = np.log(em) - S_  # log(1 - exp(-S))
        loss = -np.sum(wn * (y * logP - (1 - y) * S_))
        r = wn * ((1 - y) - y / em)  # dL/dz_d = r * sigmoid(z_d) for each cause given
        Gz = r[:, None] * sig
        grad = np.zeros_like(theta)
        grad[:n_c] += Gz.sum(axis=0)
        grad[n_c:n_c + p] += Zs.T @ Gz.sum(axis=1)
        if L:
            gl = np.einsum("ij,ij->j", ZL, Gz[:, 1:] @ B.T)
            grad[n_c + p + G:] += gl
            grad[n_c + p:n_c + p + G] += S.T @ gl
        return float(loss), grad

    return f


def _cause_penalties(n_c: int, p: int, G: int, L: int, lam: float, dev_mult: float) -> np.ndarray:
    """Ridge strength per parameter: intercepts free, patient and pharmacogene effects ``lam``, per-drug
    deviations ``lam x dev_mult``."""
    pen = np.zeros(n_c + p + G + L)
    pen[n_c:n_c + p + G] = lam
    pen[n_c + p + G:] = lam * dev_mult
    return pen


def _fit_cause(T: np.ndarray, Zs: np.ndarray, Zm: np.ndarray, links: list[tuple[int, int]], pgx_shared: list[int],
               y: np.ndarray, w: np.ndarray, lam: float, dev_mult: float, max_iter: int) -> np.ndarray:
    from scipy.optimize import minimize

    n_c, p = T.shape[1], Zs.shape[1]
    L, G = len(links), len(pgx_shared)
    theta0 = np.zeros(n_c + p + G + L)
    # every cause starts as (almost) no cause: a drug that never causes the term keeps a tiny probability instead of
    # the floor a start near the term's prevalence leaves (the gradient towards -inf vanishes); the intercepts are
    # not penalised (a penalty towards 0 would hold that floor up) but bounded
    theta0[:n_c] = _CAUSE_START
    pen = _cause_penalties(n_c, p, G, L, lam, dev_mult)
    data = _cause_objective(T, Zs, Zm, links, pgx_shared, y, w)

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        loss, grad = data(theta)
        return loss + 0.5 * float(np.sum(pen * theta * theta)), grad + pen * theta

    bounds = [_CAUSE_BOUNDS] * n_c + [(None, None)] * (len(theta0) - n_c)
    # the noisy-OR likelihood is not convex: two starts, the better optimum wins -- every cause nearly absent
    # (above), and every drug at the per-cause rate that would explain its rows' event rate shared equally
    # among their causes (with inverse-propensity weights the first start alone ended in a local optimum that
    # credited FOLFIRI's neutropenia to fluorouracil only, irinotecan x UGT1A1 lost)
    theta1 = theta0.copy()
    k = T.sum(axis=1)
    for d in range(1, n_c):
        on_d = T[:, d] > 0
        if on_d.any():
            ybar = float(np.average(y[on_d], weights=w[on_d]))
            p0 = 1.0 - (1.0 - ybar) ** (1.0 / max(float(k[on_d].mean()) - 1.0, 1.0))
            theta1[d] = float(np.log(np.clip(p0, 1e-4, 0.5) / (1 - np.clip(p0, 1e-4, 0.5))))
    best = None
    for start in (theta0, theta1):
        res = minimize(f, start, jac=True, method="L-BFGS-B", bounds=bounds,
                       options={"maxiter": max_iter, "ftol": 1e-8, "gtol": 1e-6})
        if best is None or res.fun < best.fun:
            best = res
    return best.x


class DrugCauseTerm(BaseEstimator):
    """One CTCAE term of :class:`DrugCauseToxicity`: ``P = 1 - prod over causes (1 - sigmoid(z_cause))``.

    ``contributions`` / ``calibrate`` make :func:`recommender.models.explain.explain_probability` work: the
    margin is ``logit P``; the bias is the margin of the row's drugs at the average patient, and the change from
    there is split over the schema columns by each column's share of the first-order change of ``logit P``.
    """

    def __init__(self, design: _CauseDesign, theta: np.ndarray) -> None:
        self.design = design
        self.theta = theta

    def _z(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        d = self.design
        T, Zs, Zm = d.transform(frame)
        return _cause_logits(self.theta, T, Zs, Zm, d.links_, d.pgx_shared_), T, Zs, Zm

    def predict_proba(self, X: Any) -> np.ndarray:
        frame = as_frame(X, self.design.feature_names_in_, estimator="DrugCauseTerm")
        z, T, _, _ = self._z(frame)
        p = -np.expm1(-(_softplus(z) * T).sum(axis=1))
        return np.column_stack([1 - p, p])

    def calibrate(self, margin: np.ndarray) -> np.ndarray:
        return _sigmoid(np.asarray(margin, dtype="float64"))

    def contributions(self, X: Any) -> pd.DataFrame:
        d = self.design
        frame = as_frame(X, d.feature_names_in_, estimator="DrugCauseTerm")
        z, T, Zs, Zm = self._z(frame)
        n_c, p = T.shape[1], Zs.shape[1]

        def margin(zz: np.ndarray) -> np.ndarray:
            pp = np.clip(-np.expm1(-(_softplus(zz) * T).sum(axis=1)), 1e-12, 1 - 1e-12)
            return np.log(pp / (1 - pp))

        z0 = np.broadcast_to(self.theta[:n_c], z.shape)
        bias, total = margin(z0), margin(z)
        # first-order weights of each cause's logit in logit P, at the row
        S = (_softplus(z) * T).sum(axis=1)
        dP = _sigmoid(z) * T * np.exp(-S)[:, None]
        Pp = np.clip(-np.expm1(-S), 1e-12, 1 - 1e-12)
        wcause = dP / (Pp * (1 - Pp))[:, None]
        cols = d.feature_names_in_
        pos = {c: i for i, c in enumerate(cols)}
        acc = np.zeros((len(frame), len(cols)))
        beta = self.theta[n_c:n_c + p]
        shared_part = wcause.sum(axis=1)
        for j, c in enumerate(d.shared_):
            acc[:, pos[c]] += Zs[:, j] * beta[j] * shared_part
        rest = self.theta[n_c + p:]
        gm = np.zeros(Zm.shape[1])
        gm[d.pgx_shared_] = rest[:len(d.pgx_shared_)]
        for (m, k), dv in zip(d.links_, rest[len(d.pgx_shared_):]):
            acc[:, pos[d.modifiers_[m]]] += Zm[:, m] * (gm[m] + dv) * wcause[:, k + 1]
        lin = acc.sum(axis=1)
        scale = np.where(np.abs(lin) > 1e-12, (total - bias) / np.where(np.abs(lin) > 1e-12, lin, 1.0), 0.0)
        out = pd.DataFrame(acc * scale[:, None], index=frame.index, columns=cols)
        out["bias"] = bias + np.where(np.abs(lin) > 1e-12, 0.0, total - bias)
        return out


class DrugCauseToxicity(BaseEstimator):
    """Severe toxicity per CTCAE term as independent drug causes (noisy-OR of per-drug logistic models).

    A regimen's probability of a severe term is ``1 - prod_d (1 - p_d)`` over its drugs plus a background
    cause, where ``logit p_d = a_d + x' beta + sum_m x_m (g_m + delta_dm)``: ``a_d`` the drug's own rate, ``beta``
    the shared patient effects (age, ECOG, labs, ...), ``g_m`` a pharmacogenomic feature's effect shared by every
    drug with a CPIC/DPWG guideline for that gene (so capecitabine borrows from fluorouracil for DPYD) and
    ``delta_dm`` per-drug deviations (ridge ``deviation_penalty`` times stronger: partial pooling). A
    pharmacogene never acts on a drug without a guideline for it (no DPYD x panitumumab), and a co-administered
    drug dilutes a pharmacogenomic effect on a term it also causes, as in a regimen. Clinical modifiers (age,
    ECOG, creatinine clearance, bilirubin) get per-drug deviations with ``clinical=True``.

    Parameters
    ----------
    terms : list of str or None
    min_events : int
    penalty : float or None
        Ridge strength (standardised columns, per row-weight unit); ``None``: chosen from ``penalties`` on a
        held-out quarter (summed log-loss of all terms).
    penalties : tuple of float
    deviation_penalty : float
    clinical : bool
    pairs : dict or None
        Gene -> drugs (default: :func:`cpic_gene_drug_pairs`, read at fit time and stored with the model).
    min_count, max_iter, random_state
    """

    def __init__(self, terms: list[str] | None = None, min_events: int = 10, penalty: float | None = None,
                 penalties: tuple[float, ...] = DEFAULT_PENALTIES, deviation_penalty: float = 10.0,
                 clinical: bool = True, pairs: dict[str, tuple[str, ...]] | None = None, min_count: int = 5,
                 max_iter: int = 500, random_state: int = 0) -> None:
        self.terms = terms
        self.min_events = min_events
        self.penalty = penalty
        self.penalties = penalties
        self.deviation_penalty = deviation_penalty
        self.clinical = clinical
        self.pairs = pairs
        self.min_count = min_count
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: Any, Y: pd.DataFrame, sample_weight: Any = None) -> DrugCauseToxicity:
        with _one_blas_thread():
            return self._fit(X, Y, sample_weight)

    def _fit(self, X: Any, Y: pd.DataFrame, sample_weight: Any = None) -> DrugCauseToxicity:
        frame = as_frame(X, estimator=type(self).__name__)
        kept, skipped = _modelled_terms(Y, len(frame), self.terms, self.min_events)
        w = np.ones(len(frame)) if sample_weight is None else np.asarray(sample_weight, dtype="float64")
        pairs = dict(self.pairs) if self.pairs is not None else cpic_gene_drug_pairs()
        design = _CauseDesign(self.min_count, pairs, self.clinical).fit(frame)
        T, Zs, Zm = design.transform(frame)
        Ym = Y[kept].to_numpy().astype(float) if kept else np.zeros((len(frame), 0))
        self.selection_ = {}
        lam = self.penalty
        if lam is None and kept:
            tr, va = _holdout(len(frame), Ym[:, int(np.argmax(Ym.sum(axis=0)))], self.random_state)
            for cand in self.penalties:
                tot = 0.0
                for j, th in enumerate(self._fit_terms(design, T[tr], Zs[tr], Zm[tr], Ym[tr], w[tr], cand)):
                    z = _cause_logits(th, T[va], Zs[va], Zm[va], design.links_, design.pgx_shared_)
                    pv = np.clip(-np.expm1(-(_softplus(z) * T[va]).sum(axis=1)), 1e-12, 1 - 1e-12)
                    tot += float(np.average(-(Ym[va, j] * np.log(pv) + (1 - Ym[va, j]) * np.log1p(-pv)), weights=w[va]))
                self.selection_[str(cand)] = tot
            lam = float(min(self.penalties, key=lambda c: self.selection_[str(c)]))
        self.penalty_ = float(lam if lam is not None else self.penalties[0])
        thetas = self._fit_terms(design, T, Zs, Zm, Ym, w, self.penalty_) if kept else []
        self.models_ = {term: DrugCauseTerm(design, th) for term, th in zip(kept, thetas)}
        self.design_ = design
        self.terms_ = list(self.models_)
        self.skipped_terms_ = skipped
        self.feature_names_in_ = np.array(design.feature_names_in_, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def _fit_terms(self, design: _CauseDesign, T: np.ndarray, Zs: np.ndarray, Zm: np.ndarray, Ym: np.ndarray,
                   w: np.ndarray, lam: float) -> list[np.ndarray]:
        return [_fit_cause(T, Zs, Zm, design.links_, design.pgx_shared_, Ym[:, j], w, lam,
                           self.deviation_penalty, self.max_iter) for j in range(Ym.shape[1])]

    def predict_proba(self, X: Any) -> pd.DataFrame:
        check_fitted(self, "models_")
        frame = as_frame(X, list(self.feature_names_in_), estimator=type(self).__name__)
        if not self.models_:
            return pd.DataFrame(index=frame.index)
        d = self.design_
        T, Zs, Zm = d.transform(frame)
        out = {}
        for t, m in self.models_.items():
            z = _cause_logits(m.theta, T, Zs, Zm, d.links_, d.pgx_shared_)
            out[t] = -np.expm1(-(_softplus(z) * T).sum(axis=1))
        return pd.DataFrame(out, index=frame.index)

    def effects(self, term: str) -> pd.Series:
        """Per-cause log-odds parameters of one term (intercepts, shared, pharmacogene and deviations; raw units)."""
        check_fitted(self, "models_")
        d, th = self.design_, self.models_[term].theta
        n_c, p = len(d.drugs_) + 1, len(d.shared_)
        names = ["background", *d.drugs_]
        out = {f"cause:{c}": th[i] for i, c in enumerate(names)}
        out.update({c: th[n_c + j] / d.scales_[j] for j, c in enumerate(d.shared_)})
        pos = {c: i for i, c in enumerate(d.shared_)}
        rest = th[n_c + p:]
        for i, m in enumerate(d.pgx_shared_):
            out[f"pgx-shared*{d.modifiers_[m]}"] = rest[i] / d.scales_[pos[d.modifiers_[m]]]
        for (m, k), dv in zip(d.links_, rest[len(d.pgx_shared_):]):
            out[f"{d.drugs_[k]}*{d.modifiers_[m]}"] = dv / d.scales_[pos[d.modifiers_[m]]]
        return pd.Series(out)

    def save(self, directory: str | Path, name: str = "toxicity") -> list[Path]:
        check_fitted(self, "models_")
        params = {**self.get_params(), "penalties": list(self.penalties),
                  "pairs": None if self.pairs is None else {k: list(v) for k, v in self.pairs.items()}}
        meta = {"class": type(self).__name__, "params": params, "design": self.design_.to_dict(),
                "theta": {t: m.theta for t, m in self.models_.items()}, "penalty_used": self.penalty_,
                "selection": self.selection_, "skipped_terms": self.skipped_terms_,
                "feature_names": list(self.feature_names_in_)}
        return [write_json(Path(directory) / f"{name}.json", meta)]

    @classmethod
    def load(cls, directory: str | Path, name: str = "toxicity") -> DrugCauseToxicity:
        meta = read_json(Path(directory) / f"{name}.json")
        params = dict(meta["params"])
        params["penalties"] = tuple(params.get("penalties", DEFAULT_PENALTIES))
        if params.get("pairs") is not None:
            params["pairs"] = {k: tuple(v) for k, v in params["pairs"].items()}
        est = cls(**params)
        est.design_ = _CauseDesign.from_dict(meta["design"])
        est.models_ = {t: DrugCauseTerm(est.design_, floats(th)) for t, th in meta["theta"].items()}
        est.penalty_ = float(meta["penalty_used"])
        est.selection_ = dict(meta.get("selection", {}))
        est.terms_ = list(est.models_)
        est.skipped_terms_ = dict(meta["skipped_terms"])
        est.feature_names_in_ = np.array(meta["feature_names"], dtype=object)
        est.n_features_in_ = len(est.feature_names_in_)
        return est
