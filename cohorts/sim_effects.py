"""Learned vs true treatment effects on a simulated cohort (the simulator's oracle as the yardstick).

Every effect the simulator encodes (:data:`cohorts.simulate_model.EFFICACY_EFFECTS` on response and PFS,
the pharmacogenomic rows of :data:`cohorts.simulate_model.TOXICITY_MODIFIERS` on severe toxicity) is
measured the same way on the model's predictions and on ``truth/oracle``, over the same patients:

* **response**: a biomarker's effect on a regimen is the difference, between patients with and without
  the biomarker (same cancer type), of the mean *contrast* ``logit P(response | regimen) - logit
  P(response | reference regimen)``; the reference is the cancer type's first candidate without encoded
  effects (:data:`REFERENCE`). In the simulator the contrast is ``eta_regimen - eta_reference`` (the
  prognosis cancels), so the true value is the encoded coefficient (or a mix of two coefficients where two
  features move together, e.g. KRAS-mutant vs wild type moves both ``kras_mut`` and ``ras_raf_wt``).
  For a continuous feature (CYP2D6 function, 0-1) the effect is the least-squares slope of the contrast
  on the feature among ER-positive patients.
* **PFS**: the same with the contrast ``log(-log S_regimen(365 d)) - log(-log S_reference(365 d))``: a log
  hazard ratio under proportional hazards (true value ``-PFS_EFFICACY x`` the coefficient).
* **toxicity**: for a pharmacogenomic modifier of a drug and each severe CTCAE term of that drug, the risk
  ratio ``mean P(term | regimen)`` in carriers over non-carriers, for every regimen containing the drug
  (reported as a log risk ratio).

"Sign right" means learned and true effects have the same sign; "within half" means
``|learned - true| <= 0.5 |true|`` on the scale shown (log-odds, log hazard ratio, log risk ratio).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from cohorts import simulate_model as M

__all__ = ["REFERENCE", "EffectRow", "candidate_frame", "effect_table", "model_predictions", "score_predictions",
           "true_features"]

#: Reference regimen of each cancer type for efficacy contrasts (no encoded biomarker effect).
REFERENCE: dict[str, str] = {"COAD": "FOLFOX", "READ": "FOLFOX", "LUAD": "carboplatin-paclitaxel", "BRCA": "AC-T",
                             "PAAD": "FOLFIRINOX", "HGSOC": "carboplatin-paclitaxel"}
HORIZON_DAYS = 365.0
_PGX_TOX = ("dpyd_deficit", "ugt1a1_poor", "thiopurine_intermediate", "thiopurine_poor")
_LABEL = {"egfr_sensitising": "EGFR sensitising", "ras_raf_wt": "RAS/RAF wild type", "kras_mut": "KRAS mutant",
          "erbb2_amp": "ERBB2 amplified", "brca_lof": "BRCA1/2 loss of function", "er_positive": "ER positive vs negative",
          "cyp2d6_function": "CYP2D6 function (per unit, ER+)", "ever_smoker": "ever smoker",
          "dpyd_deficit": "DPYD activity < 2", "ugt1a1_poor": "UGT1A1 poor metaboliser",
          "thiopurine_intermediate": "TPMT/NUDT15 intermediate", "thiopurine_poor": "TPMT/NUDT15 poor"}


@dataclass(frozen=True)
class EffectRow:
    """One encoded effect: learned vs true on the same patients."""

    outcome: str  # response / pfs / toxicity
    regimen: str
    feature: str
    label: str
    cancer_types: str
    term: str
    scale: str
    n_with: int
    n_without: int
    true: float | None
    learned: float | None
    encoded: float
    #: 95 % paired bootstrap interval of ``learned - true`` over the same patients (``effect_table(bootstrap=B)``).
    difference_ci: tuple[float, float] | None = None

    @property
    def sign_ok(self) -> bool | None:
        if self.true is None or self.learned is None or not np.isfinite(self.learned):
            return None
        return bool(np.sign(self.learned) == np.sign(self.true)) if abs(self.true) > 1e-9 else None

    @property
    def within_half(self) -> bool | None:
        if self.true is None or self.learned is None or not np.isfinite(self.learned):
            return None
        return bool(abs(self.learned - self.true) <= 0.5 * abs(self.true))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "sign_ok": self.sign_ok, "within_half": self.within_half}


def true_features(tables: Mapping[str, pd.DataFrame], truth: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The simulator's effect features per patient (index ``patient_id``), recomputed from the tables + truth."""
    pts = tables["patients"].set_index("patient_id")
    tv = tables.get("tumour_variants")
    tv = tv if tv is not None else pd.DataFrame(columns=["patient_id", "gene", "protein_change", "variant_type"])
    genes = tv.groupby("patient_id")["gene"].apply(set)
    has = lambda g: pts.index.map(lambda p: g in genes.get(p, set())).to_numpy(bool)  # noqa: E731
    braf = has("BRAF")
    kras = has("KRAS")
    germ = truth["germline"].set_index("patient_id").reindex(pts.index)
    cyp = np.clip(germ["cyp2d6_effective_activity"].to_numpy(float) / 1.25, 0, 1)
    er = pts["er_positive"].astype("object")
    thio = germ["thiopurine_function"].astype(str).to_numpy()
    return pd.DataFrame({
        "cancer_type": pts["cancer_type"].to_numpy(), "egfr_sensitising": has("EGFR").astype(float),
        "kras_mut": kras.astype(float), "ras_raf_wt": (~kras & ~braf).astype(float), "erbb2_amp": has("ERBB2").astype(float),
        "brca_lof": (has("BRCA1") | has("BRCA2")).astype(float),
        "er_positive": er.map(lambda v: np.nan if v is None or (isinstance(v, float) and np.isnan(v)) else float(bool(v))).to_numpy(float),
        "cyp2d6_function": cyp, "ever_smoker": (pts["smoking"] != "never").astype(float).to_numpy(),
        "dpyd_deficit": 2.0 - germ["dpyd_activity_score"].to_numpy(float),
        "ugt1a1_poor": germ["ugt1a1_poor"].astype(bool).astype(float).to_numpy(),
        "thiopurine_intermediate": (thio == "intermediate").astype(float), "thiopurine_poor": (thio == "poor").astype(float),
    }, index=pts.index)


def candidate_frame(tables: Mapping[str, pd.DataFrame], schema: Any, candidates: Mapping[str, tuple[str, ...]] | None = None
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Feature rows of every patient x candidate regimen, built by the training feature path.

    Returns ``(X, keys)``: ``keys`` has ``patient_id``, ``regimen`` and ``cancer_type`` per row of ``X``.
    """
    from recommender import vocab
    from recommender.models.training import examples_from_tables

    candidates = candidates or M.CANDIDATES
    pts = tables["patients"]
    rows_p, rows_t, keys = [], [], []
    for rec in pts.to_dict("records"):
        for reg in candidates.get(rec["cancer_type"], ()):
            pid = f"{rec['patient_id']}::{reg}"
            rows_p.append({**rec, "patient_id": pid})
            rows_t.append({"treatment_id": pid + "-t", "patient_id": pid, "regimen": reg,
                           "drugs": list(vocab.regimen(reg).drugs), "line": 1})
            keys.append((rec["patient_id"], reg, rec["cancer_type"]))
    tv = tables.get("tumour_variants")
    tvx = tv.iloc[:0] if tv is not None else None
    if tv is not None and len(tv):
        # each patient's variant rows (in table order) once per candidate, relabelled with the candidate row's id
        pos = tv.groupby("patient_id").indices
        take: list[np.ndarray] = []
        ids: list[str] = []
        for pid, reg, _ in keys:
            ix = pos.get(pid)
            if ix is not None:
                take.append(ix)
                ids += [f"{pid}::{reg}"] * len(ix)
        if take:
            tvx = tv.iloc[np.concatenate(take)].assign(patient_id=ids).reset_index(drop=True)
    outs = pd.DataFrame({"patient_id": [f"{p}::{r}" for p, r, _ in keys], "best_response": "SD",
                         "pfs_days": 100.0, "pfs_event": False, "os_days": 100.0, "os_event": False})
    t = {"patients": pd.DataFrame(rows_p), "treatments": pd.DataFrame(rows_t), "outcomes": outs}
    if tvx is not None:
        t["tumour_variants"] = tvx
    ex = examples_from_tables(t, schema=schema)
    key = pd.DataFrame(keys, columns=["patient_id", "regimen", "cancer_type"])
    key.index = [f"{p}::{r}" for p, r, _ in keys]
    key = key.reindex(list(ex.patient_ids)).reset_index(drop=True)
    return ex.X.reset_index(drop=True), key


def model_predictions(bundle: Any, X: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """``p_response``, ``pfs_s365`` and ``p_severe:<term>`` of the bundle's point models for each row."""
    from recommender.models.bundle import survival_main

    out = keys.copy()
    Xs = X.loc[:, list(bundle.schema.columns)]
    if bundle.ood is not None and hasattr(bundle.ood, "missing_rate_"):
        Xs, _ = bundle.ood.impute_unseen_missing(Xs)
    if bundle.response is not None:
        out["p_response"] = bundle.response.predict_proba(Xs)[:, 1]
    models = bundle.survival.get("pfs", {})
    main = survival_main(models)  # as ModelBundle predicts
    if main is not None:
        out["pfs_s365"] = main.predict_survival(Xs, times=[HORIZON_DAYS]).to_numpy()[:, 0]
    if bundle.toxicity is not None:
        probs = bundle.toxicity.predict_proba(Xs)
        for term in probs.columns:
            out[f"p_severe:{term}"] = probs[term].to_numpy()
    return out


def score_predictions(scores: pd.DataFrame, *, pfs_log_hazard: bool = True) -> pd.DataFrame:
    """The per-option numbers of a ``recommender cohort score`` Parquet file, in :func:`model_predictions`' layout.

    ``p_response`` and ``p_severe:<term>`` (each modelled term's probability in the ``toxicity`` list) are the
    columns users read; PFS comes from ``pfs_risk`` as ``pfs_log_hazard`` when ``pfs_log_hazard`` (the bundle's PFS
    risk is its log relative hazard: under proportional hazards the contrast of two options' log hazards equals
    that of ``log(-log S(365 d))``); a bundle whose PFS risk is a curve mixture's RMST gives no PFS effects.
    """
    out = scores[["patient_id", "regimen"]].copy().reset_index(drop=True)
    out["p_response"] = pd.to_numeric(scores["p_response"], errors="coerce").to_numpy(float)
    if pfs_log_hazard and "pfs_risk" in scores:
        out["pfs_log_hazard"] = pd.to_numeric(scores["pfs_risk"], errors="coerce").to_numpy(float)
    terms: dict[str, list[float]] = {}
    for i, entries in enumerate(scores["toxicity"].to_numpy()):
        for entry in (entries if entries is not None else ()):
            terms.setdefault(str(entry["term"]), [np.nan] * len(out))[i] = (
                np.nan if entry.get("probability") is None else float(entry["probability"]))
    for term, values in sorted(terms.items()):
        out[f"p_severe:{term}"] = values
    return out


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _cloglog(s: np.ndarray) -> np.ndarray:
    s = np.clip(np.asarray(s, dtype=float), 1e-9, 1 - 1e-9)
    return np.log(-np.log(s))


def _wide(frame: pd.DataFrame, col: str) -> pd.DataFrame:
    return frame.pivot_table(index="patient_id", columns="regimen", values=col, aggfunc="first")


def _contrast_effect(c: pd.Series, f: pd.Series, continuous: bool) -> tuple[float | None, int, int]:
    """(effect, n with, n without) of the per-patient contrast ``c`` by feature ``f`` (:func:`_group_effect`)."""
    ok = c.notna() & f.notna()
    cv, fv = c[ok].to_numpy(float), f[ok].to_numpy(float)
    value = _group_effect(cv, fv, continuous)
    if continuous:
        return value, len(cv), 0
    return value, int((fv == 1).sum()), int((fv == 0).sum())


def _difference_ci(stat: Any, arrays: tuple[np.ndarray, ...], group: np.ndarray | None, bootstrap: int,
                   rng: np.random.Generator) -> tuple[float, float] | None:
    """95 % percentile interval of ``stat(*arrays[idx])`` (learned - true) over ``bootstrap`` resamples of the patients.

    With a binary ``group`` the resampling is stratified (carriers and non-carriers each keep their number), so a
    resample never loses a group; otherwise (a slope on a continuous feature) patients are resampled as a whole.
    """
    if bootstrap <= 0:
        return None
    n = len(arrays[0])
    strata = [np.flatnonzero(group == g) for g in (0.0, 1.0)] if group is not None else [np.arange(n)]
    values = []
    for _ in range(bootstrap):
        idx = np.concatenate([s[rng.integers(0, len(s), len(s))] for s in strata])
        v = stat(*(a[idx] for a in arrays))
        if v is not None and np.isfinite(v):
            values.append(v)
    if len(values) < max(10, bootstrap // 2):
        return None
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def _group_effect(c: np.ndarray, f: np.ndarray, continuous: bool) -> float | None:
    """:func:`_contrast_effect` on arrays (no index alignment), for the bootstrap."""
    ok = np.isfinite(c) & np.isfinite(f)
    c, f = c[ok], f[ok]
    if continuous:
        return float(np.polyfit(f, c, 1)[0]) if len(c) >= 10 and f.std() > 0 else None
    a, b = c[f == 1], c[f == 0]
    return float(a.mean() - b.mean()) if len(a) >= 3 and len(b) >= 3 else None


def _log_risk_ratio(p: np.ndarray, group: np.ndarray) -> float | None:
    a, b = p[group == 1], p[group == 0]
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 3 or len(b) < 3 or a.mean() <= 0 or b.mean() <= 0:
        return None
    return float(np.log(a.mean() / b.mean()))


def effect_table(preds: pd.DataFrame, oracle: pd.DataFrame, feats: pd.DataFrame, *, bootstrap: int = 0,
                 seed: int = 0) -> list[EffectRow]:
    """Learned (``preds``: :func:`model_predictions`) vs true (``oracle``) effects (module docstring).

    ``bootstrap`` > 0 adds to every row a 95 % paired bootstrap interval of learned - true
    (:attr:`EffectRow.difference_ci`): the same resampled patients give both values, so the interval shows how much
    of a gap the finite number of carriers alone could make.
    """
    from recommender import vocab

    rng = np.random.default_rng(seed)

    rows: list[EffectRow] = []
    orc = oracle.copy()
    orc["pfs_cll"] = -M.WEIBULL_SHAPE * np.log(orc["median_pfs_days"].to_numpy(float))  # log(-log S) up to a constant
    pred_resp = _wide(preds, "p_response") if "p_response" in preds else None
    pred_pfs = _wide(preds, "pfs_s365") if "pfs_s365" in preds else None
    pfs_is_log_hazard = pred_pfs is None and "pfs_log_hazard" in preds  # score_predictions: contrast taken as is
    if pfs_is_log_hazard:
        pred_pfs = _wide(preds, "pfs_log_hazard")
    true_resp, true_pfs = _wide(orc, "p_response"), _wide(orc, "pfs_cll")
    done = set()
    for (reg, feat), beta in M.EFFICACY_EFFECTS.items():
        if feat == "er_negative":
            continue  # measured together with er_positive (ER positive vs negative)
        codes = [c for c, cands in M.CANDIDATES.items() if reg in cands and c in REFERENCE and reg != REFERENCE[c]]
        sub = feats[feats["cancer_type"].isin(codes)]
        f = sub[feat]
        if feat == "cyp2d6_function":
            sub = sub[sub["er_positive"] == 1]
            f = sub[feat]
        if f.nunique() < 2:
            continue
        ref = sub["cancer_type"].map(REFERENCE)
        encoded = beta + (-M.EFFICACY_EFFECTS[(reg, "er_negative")] if feat == "er_positive" else 0.0)
        for outcome, pred_w, true_w, fn, scale, mult in (
                ("response", pred_resp, true_resp, _logit, "log-odds", 1.0),
                ("pfs", pred_pfs, true_pfs, None, "log hazard ratio", -M.PFS_EFFICACY)):
            if (outcome, reg, feat) in done:
                continue
            done.add((outcome, reg, feat))

            def contrast(w: pd.DataFrame | None, transform: Any, pred: bool) -> pd.Series | None:
                if w is None or reg not in w.columns:
                    return None
                w = w.reindex(sub.index)
                own = w[reg].to_numpy(float)
                base = np.array([w.at[p, r] if r in w.columns else np.nan for p, r in zip(sub.index, ref)], dtype=float)
                if transform is not None:
                    own, base = transform(own), transform(base)
                elif pred and not pfs_is_log_hazard:
                    own, base = _cloglog(own), _cloglog(base)
                return pd.Series(own - base, index=sub.index)

            ct = contrast(true_w, fn, False)
            cp = contrast(pred_w, fn, True)
            cont = feat == "cyp2d6_function"
            tv, n1, n0 = _contrast_effect(ct, f, cont) if ct is not None else (None, 0, 0)
            lv = _contrast_effect(cp, f, cont)[0] if cp is not None else None
            ci = None
            if tv is not None and lv is not None and np.isfinite(lv):
                def diff(a: np.ndarray, b: np.ndarray, g: np.ndarray, cont: bool = cont) -> float | None:
                    t_, l_ = _group_effect(a, g, cont), _group_effect(b, g, cont)
                    return None if t_ is None or l_ is None else l_ - t_
                fa = f.to_numpy(float)
                ci = _difference_ci(diff, (ct.to_numpy(float), cp.to_numpy(float), fa),
                                    None if cont else np.where(np.isfinite(fa), fa, -1.0), bootstrap, rng)
            rows.append(EffectRow(outcome, reg, feat, _LABEL.get(feat, feat), "/".join(sorted(set(sub["cancer_type"]))),
                                  "", scale, n1, n0, tv, lv, encoded * mult, ci))
    # toxicity: pharmacogenomic modifiers
    for (target, feat), beta in M.TOXICITY_MODIFIERS.items():
        if feat not in _PGX_TOX:
            continue
        drugs = [d for d in M.TOXICITY_BASE if d == target or target in vocab.DRUGS[d].classes]
        for code, cands in M.CANDIDATES.items():
            for reg in cands:
                rdrugs = [d for d in vocab.regimen(reg).drugs if d in drugs]
                if not rdrugs:
                    continue
                sub = feats[feats["cancer_type"] == code]
                group = (sub[feat] > 0).astype(float)
                for term in sorted({t for d in rdrugs for t in M.TOXICITY_BASE[d]}):
                    col = f"p_severe:{term}"
                    if col not in orc:
                        continue
                    tw = orc[orc["regimen"] == reg].set_index("patient_id")[col].reindex(sub.index)
                    n1, n0 = int((group == 1).sum()), int((group == 0).sum())
                    true_v = learned = ci = None
                    if n1 >= 3 and n0 >= 3:
                        true_v = float(np.log(tw[group == 1].mean() / tw[group == 0].mean()))
                        if col in preds:
                            pw = preds[preds["regimen"] == reg].set_index("patient_id")[col].reindex(sub.index)
                            learned = float(np.log(pw[group == 1].mean() / pw[group == 0].mean()))

                            def diff(a: np.ndarray, b: np.ndarray, g: np.ndarray) -> float | None:
                                t_, l_ = _log_risk_ratio(a, g), _log_risk_ratio(b, g)
                                return None if t_ is None or l_ is None else l_ - t_
                            ga = group.to_numpy(float)
                            ci = _difference_ci(diff, (tw.to_numpy(float), pw.to_numpy(float), ga), ga, bootstrap, rng)
                        else:
                            learned = float("nan")
                    rows.append(EffectRow("toxicity", reg, feat, _LABEL.get(feat, feat), code, term, "log risk ratio",
                                          n1, n0, true_v, learned, beta, ci))
    return rows
