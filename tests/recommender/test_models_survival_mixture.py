"""Survival curves that need not be proportional hazards (issue 13): the forest's and the AFT model's own curves,
the curve mixture, its IBS-fitted weights and the cross-validated choice of the curve form.

Small synthetic data (a few hundred rows, few trees): fast.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cohorts.evaluation.metrics import antolini_c, integrated_brier_score
from recommender.models._base import BundleIntegrityError, ModelError
from recommender.models.survival import BlendedSurvival, CoxBaseline, load_survival_model
from recommender.models.survival_aft import BoostedAFT, fit_aft_scale
from recommender.models.survival_forest import SurvivalForest, leaf_hazard_increments, leaf_mortality
from recommender.models.survival_mixture import (
    CurveMixture,
    antolini_c_td,
    choose_curve_form,
    choose_risk_score,
    fit_mixture_weights,
    integrated_brier,
    rmst_risk,
)
from recommender.models.training import (
    TrainingConfig,
    _apply_curve_form,
    _fit_selected,
    select_survival_model,
)


def _crossing(n=400, seed=0):
    """Group ``g`` has a high early hazard that then stops (curves cross the other group's): not PH."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"g": (rng.random(n) < 0.5).astype(float), "z": rng.normal(size=n)})
    early = rng.exponential(0.3, n)
    late = rng.exponential(1.5, n) * np.exp(-0.3 * X["z"].to_numpy())
    t = np.where(X["g"].to_numpy() == 1, np.where(rng.random(n) < 0.5, early, 3.0 + late), late)
    c = rng.uniform(0.5, 6.0, n)
    return X, np.minimum(t, c), t <= c


@pytest.fixture(scope="module")
def fitted():
    X, t, e = _crossing()
    forest = SurvivalForest(n_estimators=12, min_samples_leaf=15, max_features=1.0).fit(X, t, e)
    aft = BoostedAFT(n_estimators=60).fit(X, t, e)
    cox = CoxBaseline().fit(X, t, e)
    return X, t, e, forest, aft, cox


def _check_survival_curves(values: np.ndarray, times: np.ndarray) -> None:
    assert np.isfinite(values).all()
    assert ((values >= 0) & (values <= 1)).all()
    assert (np.diff(values, axis=1) <= 1e-12).all()  # non-increasing in time
    if times[0] == 0:
        np.testing.assert_allclose(values[:, 0], 1.0)


def test_forest_native_curves_are_monotone_start_at_one_and_may_cross(fitted):
    X, _t, _e, forest, _aft, _cox = fitted
    assert forest.has_native_curves()
    times = forest.full_times()
    S = forest.predict_survival_native(X, times=times).to_numpy()
    _check_survival_curves(S, times)
    # the group with early deaths that stop: its mean curve starts lower and ends higher than the other's
    g = X["g"].to_numpy() == 1
    early, late = np.searchsorted(times, 0.5), np.searchsorted(times, 4.5)
    assert S[g, early].mean() < S[~g, early].mean()
    assert S[g, late].mean() > S[~g, late].mean()
    # the forest's Breslow curves cannot cross
    P = forest.predict_survival(X, times=times).to_numpy()
    assert (S[g, early].mean() - S[~g, early].mean()) * (S[g, late].mean() - S[~g, late].mean()) < 0
    order = np.argsort(forest.predict_risk(X))
    assert (np.diff(P[order][:, late]) <= 1e-12).all()


def test_leaf_hazard_increments_sum_to_the_leaf_mortality():
    rng = np.random.default_rng(3)
    n = 60
    leaf = rng.integers(1, 4, n)
    weight = rng.integers(0, 3, n).astype(float)
    time = np.round(rng.exponential(1.0, n), 1)  # ties
    event = rng.random(n) < 0.7
    event_times = np.unique(time[event])
    csr = leaf_hazard_increments(leaf, weight, time, event, event_times, 4)
    from scipy import sparse

    inc = sparse.csr_matrix((csr["chf_value"], csr["chf_index"], csr["chf_ptr"]), shape=(4, len(event_times)))
    later = len(event_times) - np.arange(len(event_times))  # #{k: T_k >= T_j}
    np.testing.assert_allclose(inc.toarray() @ later, leaf_mortality(leaf, weight, time, event, event_times, 4))


def test_forest_native_curves_round_trip_and_old_forests_load_without_them(fitted, tmp_path):
    X, _t, _e, forest, _aft, _cox = fitted
    forest.save(tmp_path, "f")
    back = load_survival_model(tmp_path, "f")
    np.testing.assert_array_equal(back.predict_survival_native(X).to_numpy(),
                                  forest.predict_survival_native(X).to_numpy())
    meta = json.loads((tmp_path / "f.json").read_text())
    for tree in meta["trees"]:
        for k in ("chf_ptr", "chf_index", "chf_value"):
            del tree[k]
    (tmp_path / "old.json").write_text(json.dumps(meta))
    old = load_survival_model(tmp_path, "old")
    np.testing.assert_array_equal(old.predict_risk(X), forest.predict_risk(X))
    assert not old.has_native_curves()
    with pytest.raises(BundleIntegrityError):
        old.predict_survival_native(X)


def test_forest_with_an_out_of_range_leaf_hazard_is_refused(fitted, tmp_path):
    _X, _t, _e, forest, _aft, _cox = fitted
    forest.save(tmp_path, "f")
    meta = json.loads((tmp_path / "f.json").read_text())
    from recommender.models.survival_forest import _pack

    tree = meta["trees"][0]
    n_idx = tree["chf_index"]["shape"][0]
    tree["chf_index"] = _pack(np.full(n_idx, 10**6), "<i4")
    (tmp_path / "bad.json").write_text(json.dumps(meta))
    with pytest.raises(BundleIntegrityError):
        load_survival_model(tmp_path, "bad")


def test_aft_native_curves_and_scale(fitted, tmp_path):
    X, _t, _e, _forest, aft, _cox = fitted
    times = aft.full_times()
    S = aft.predict_survival_native(X, times=times).to_numpy()
    _check_survival_curves(S, times)
    assert 0.05 <= aft.native_scale_ <= 20
    aft.save(tmp_path, "a")
    back = load_survival_model(tmp_path, "a")
    assert back.native_scale_ == aft.native_scale_
    np.testing.assert_allclose(back.predict_survival_native(X).to_numpy(), aft.predict_survival_native(X).to_numpy())


def test_fit_aft_scale_recovers_a_log_normal_scale():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=4000)
    log_t = mu + 0.5 * rng.normal(size=4000)
    log_c = mu + rng.normal(0.3, 1.0, 4000)
    event = log_t <= log_c
    sigma = fit_aft_scale(np.minimum(log_t, log_c), event, mu, "normal")
    assert abs(sigma - 0.5) < 0.03


def test_metrics_match_the_evaluation_code(fitted):
    X, t, e, forest, _aft, _cox = fitted
    grid = np.linspace(t.min(), t.max(), 100)
    curves = forest.predict_survival_native(X, times=grid)
    assert integrated_brier(curves.to_numpy(), t, e, grid) == pytest.approx(
        integrated_brier_score(curves, t, e, grid), abs=1e-12)
    times = forest.full_times()
    full = forest.predict_survival_native(X, times=times)
    assert antolini_c_td(full.to_numpy(), times, t, e) == pytest.approx(antolini_c(full, t, e), abs=1e-12)


def test_mixture_is_the_weighted_mean_of_the_members_curves(fitted, tmp_path):
    X, _t, _e, forest, aft, cox = fitted
    mix = CurveMixture.from_fitted(cox, [forest, aft, cox], ["native", "native", "breslow"], [0.5, 0.3, 0.2])
    times = mix.full_times()
    expected = (0.5 * forest.predict_survival_native(X, times=times).to_numpy()
                + 0.3 * aft.predict_survival_native(X, times=times).to_numpy()
                + 0.2 * cox.predict_survival(X, times=times).to_numpy())
    got = mix.predict_survival(X, times=times).to_numpy()
    np.testing.assert_allclose(got, expected, atol=1e-12)
    _check_survival_curves(got, times)
    risk, median, curves = mix.predict_outputs(X)
    np.testing.assert_array_equal(risk, cox.predict_risk(X))  # ranking: the risk model's log hazard
    below = got <= 0.5
    want = np.where(below.any(axis=1), times[np.argmax(below, axis=1)], np.nan)
    np.testing.assert_array_equal(median, want)
    assert list(curves.columns) == list(mix.time_grid_)
    with pytest.raises(ModelError):
        mix.survival_from_risk(risk)  # the curves need the rows, not only the risk


def test_mixture_round_trip_saves_a_shared_member_once(fitted, tmp_path):
    X, t, e, forest, aft, _cox = fitted
    risk = BlendedSurvival.from_fitted([forest, aft], X, t, e, weights=[0.6, 0.4], scale=0.8)
    mix = CurveMixture.from_fitted(risk, [risk, forest, aft], ["breslow", "native", "native"], [0.2, 0.5, 0.3],
                                   ["selected:breslow_ipw", "forest:native", "aft:native"])
    files = mix.save(tmp_path, "m")
    assert sum(1 for p in files if p.suffix == ".json" and p.name != "m.json"
               and json.loads(p.read_text())["class"] == "SurvivalForest") == 1
    back = load_survival_model(tmp_path, "m")
    assert isinstance(back, CurveMixture) and back.labels_ == mix.labels_
    np.testing.assert_allclose(back.predict_risk(X), mix.predict_risk(X))
    np.testing.assert_allclose(back.predict_survival(X).to_numpy(), mix.predict_survival(X).to_numpy())


def test_mixture_refuses_bad_weights_and_forms(fitted):
    _X, _t, _e, forest, _aft, cox = fitted
    with pytest.raises(ValueError):
        CurveMixture.from_fitted(cox, [forest], ["native"], [-1.0])
    with pytest.raises(ValueError):
        CurveMixture.from_fitted(cox, [forest], ["smooth"], [1.0])
    with pytest.raises(ModelError):
        CurveMixture().fit(None, None)


def test_ibs_weights_put_the_mass_on_the_better_curves():
    rng = np.random.default_rng(1)
    n = 500
    rate = np.where(rng.random(n) < 0.5, 0.5, 2.0)
    t_ev = rng.exponential(1 / rate)
    c = rng.uniform(0, 3, n)
    t, e = np.minimum(t_ev, c), t_ev <= c
    grid = np.linspace(t.min(), t.max(), 50)
    true = np.exp(-np.outer(rate, grid))
    flat = np.full_like(true, 0.5)
    a = fit_mixture_weights([flat, true], t, e, grid)
    assert a[1] > 0.9 and a.sum() == pytest.approx(1.0)
    mixed = a[0] * flat + a[1] * true
    assert integrated_brier(mixed, t, e, grid) <= integrated_brier(0.5 * flat + 0.5 * true, t, e, grid)
    assert integrated_brier(mixed, t, e, grid) <= integrated_brier(flat, t, e, grid)


def test_curve_form_choice_is_the_lowest_ibs_within_the_c_td_tolerance():
    forms = {"breslow_ipw": {"ibs": 0.170, "c_td": 0.660}, "breslow": {"ibs": 0.168, "c_td": 0.659},
             "mixture": {"ibs": 0.160, "c_td": 0.640}}
    assert choose_curve_form(forms) == "breslow"  # mixture's IBS is lower, but its C^td is 0.02 below the best
    forms["mixture"]["c_td"] = 0.657
    assert choose_curve_form(forms) == "mixture"
    tie = {"breslow_ipw": {"ibs": 0.17, "c_td": 0.66}, "breslow": {"ibs": 0.17, "c_td": 0.66}}
    assert choose_curve_form(tie) == "breslow_ipw"  # ties: the earlier form


def test_cross_validated_selection_records_the_curve_criterion_and_builds_the_mixture():
    X, t, e = _crossing(300, seed=2)
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(t))  # stand-in for inverse-propensity weights
    cfg = TrainingConfig(survival_candidates=("cox", "forest", "aft", "stack"), cv_folds=3,
                         survival_curves="mixture")
    name, report = select_survival_model(X, t, e, weights=w, config=cfg)
    cur = report["curves"]
    assert set(cur["forms"]) == {"breslow_ipw", "breslow", "mixture"}
    for v in cur["forms"].values():
        assert 0 < v["ibs"] < 0.5 and 0.4 < v["c_td"] < 1 and len(v["ibs_folds"]) == 3
    assert "forest:native" in cur["members"] and "aft:native" in cur["members"]
    assert cur["selected"] == "mixture" and "fixed by the configuration" in cur["criterion"]
    assert sum(cur["mixture_weights"].values()) == pytest.approx(1.0)
    json.dumps(cur)  # recorded in the bundle metadata: plain JSON
    fitted_models: dict = {}
    chosen = _fit_selected(name, X, t, e, w, {}, cfg, fitted_models,
                           stack_weights=(report.get("stack") or {}).get("weights"))
    final = _apply_curve_form(chosen, cur, X, t, e, w, {}, cfg, fitted_models)
    assert isinstance(final, CurveMixture)
    assert final.labels_ == list(cur["mixture_weights"])
    _check_survival_curves(final.predict_survival(X, times=final.full_times()).to_numpy(), final.full_times())
    rs = cur["risk_scores"]
    assert rs["log_hazard"]["c"] == pytest.approx(report["cv_c_index"][name])  # the selection's own C
    assert cur["risk_score"] == choose_risk_score("mixture", rs) and final.risk_score_ == cur["risk_score"]
    if cur["risk_score"] == "log_hazard":
        np.testing.assert_allclose(final.predict_risk(X), chosen.predict_risk(X))
    else:
        times = final.risk_times_
        np.testing.assert_allclose(final.predict_risk(X), rmst_risk(final.predict_survival(X, times).to_numpy(), times))


def test_automatic_choice_follows_the_criterion_and_breslow_ipw_skips_the_curves():
    X, t, e = _crossing(300, seed=4)
    cfg = TrainingConfig(survival_candidates=("cox", "forest"), cv_folds=3)
    _, report = select_survival_model(X, t, e, config=cfg)
    cur = report["curves"]
    assert cur["selected"] == choose_curve_form(cur["forms"])
    assert "lowest mean out-of-fold integrated Brier score" in cur["criterion"]
    _, old = select_survival_model(X, t, e, config=TrainingConfig(survival_candidates=("cox", "forest"), cv_folds=3,
                                                                   survival_curves="breslow_ipw"))
    assert "curves" not in old


def test_a_bundle_with_mixture_curves_saves_loads_predicts_and_records_the_criterion(tmp_path):
    from recommender.features import default_feature_schema
    from recommender.models import ModelBundle, train_bundle
    from recommender.schema import Patient
    from tests.recommender._model_support import toy_cohort

    cfg = TrainingConfig(n_bootstrap=0, n_bootstrap_toxicity=0, min_toxicity_events=10, cv_folds=3,
                         survival_candidates=("cox", "forest", "stack"), survival_curves="mixture",
                         booster={"n_estimators": 40, "learning_rate": 0.1, "max_depth": 3,
                                  "early_stopping_rounds": 10, "validation_fraction": 0.25})
    out = tmp_path / "bundle"
    bundle = train_bundle(toy_cohort(400, seed=3), out, config=cfg, trained_on="toy synthetic cohort (tests)")
    assert isinstance(bundle.survival["pfs"]["selected"], CurveMixture)
    sel = bundle.metadata["metrics"]["pfs"]
    assert sel["survival_curves"] == "mixture"
    cur = sel["model_selection"]["curves"]
    assert cur["criterion"] and set(cur["forms"]) == {"breslow_ipw", "breslow", "mixture"}
    assert "PFS survival curves: mixture" in bundle.model_card
    back = ModelBundle.load(out, expected_schema=default_feature_schema())
    assert isinstance(back.survival["pfs"]["selected"], CurveMixture)
    patient = Patient(patient_id="N1", demographics={"age": 70, "sex": "female"},
                      diagnosis={"cancer_type": "COAD", "ecog": 1}, candidate_treatments=["FOLFOX", "CAPOX"])
    a = [x.to_dict() for x in bundle.predict_options(patient)]
    b = [x.to_dict() for x in back.predict_options(patient)]
    assert a == b
    pfs = a[0]["survival"]["pfs"]
    assert pfs["survival"][0] == pytest.approx(1.0) and np.all(np.diff(pfs["survival"]) <= 1e-12)
    assert sel["risk_score"] == cur["risk_score"] == bundle.survival["pfs"]["selected"].risk_score_
    assert "PFS risk score (`risk`, Harrell's C)" in bundle.model_card
    assert "drivers) decompose the boosted model's log hazard" in bundle.model_card

    # the same bundle ranking by its curves' RMST: predictions, explanations and the saved flag follow
    mix = bundle.survival["pfs"]["selected"]
    bundle.survival["pfs"]["selected"] = CurveMixture.from_fitted(
        mix.risk_model_, mix.members_, mix.forms_, mix.weights_, mix.labels_, risk_score="rmst",
        risk_times=mix.full_times())
    bundle.save(tmp_path / "rmst")
    back = ModelBundle.load(tmp_path / "rmst", expected_schema=default_feature_schema())
    assert back.survival["pfs"]["selected"].risk_score_ == "rmst"
    opts = back.predict_options(patient, explain=True)
    got = [x.to_dict() for x in opts]
    assert got == [x.to_dict() for x in bundle.predict_options(patient, explain=True)]
    for o, before in zip(got, a, strict=True):
        s_new, s_old = o["survival"]["pfs"], before["survival"]["pfs"]
        assert s_new["survival"] == s_old["survival"] and s_new["median_days"] == s_old["median_days"]
        assert -max(mix.full_times()) <= s_new["risk"] < 0  # minus an RMST in days, up to the last event time
        assert s_new["drivers"]  # explanations still come from the boosted model's log hazard


def test_an_unknown_curve_form_is_refused_before_any_fit():
    X, t, e = _crossing(120, seed=5)
    with pytest.raises(ModelError, match="survival curve form"):
        select_survival_model(X, t, e, config=TrainingConfig(survival_candidates=("cox",), cv_folds=3,
                                                             survival_curves="smooth"))


# -- the risk score of a mixture: its curves' restricted mean survival time, chosen out of fold ----------------
def test_rmst_risk_is_minus_the_area_under_the_step_curve_and_linear_in_the_curves():
    times = np.array([1.0, 2.0, 4.0])
    S = np.array([[0.9, 0.5, 0.2], [1.0, 1.0, 1.0]])
    # 1 * 1 + 0.9 * 1 + 0.5 * 2 = 2.9; a flat curve: tau = 4
    np.testing.assert_allclose(rmst_risk(S, times), [-2.9, -4.0])
    T = np.array([[0.5, 0.4, 0.1], [0.8, 0.2, 0.0]])
    np.testing.assert_allclose(rmst_risk(0.3 * S + 0.7 * T, times), 0.3 * rmst_risk(S, times) + 0.7 * rmst_risk(T, times))
    with pytest.raises(ValueError):
        rmst_risk(S, [2.0, 1.0, 4.0])
    with pytest.raises(ValueError):
        rmst_risk(S, [1.0, 2.0])


def test_rmst_risk_orders_patients_exactly_as_their_curves_when_curves_do_not_cross(fitted):
    X, _t, _e, forest, aft, cox = fitted
    times = cox.full_times()
    # proportional-hazards curves never cross: the RMST risk orders patients as the log hazard does
    mix = CurveMixture.from_fitted(cox, [cox], ["breslow"], [1.0], risk_score="rmst", risk_times=times)
    lp, risk = cox.predict_risk(X), mix.predict_risk(X)
    assert np.array_equal(np.argsort(lp, kind="stable"), np.argsort(risk, kind="stable"))
    assert (np.sign(np.subtract.outer(lp, lp)) == np.sign(np.subtract.outer(risk, risk))).all()
    # a mixture whose curves may cross: every pair whose curves do not cross is ordered as its curves
    mix = CurveMixture.from_fitted(cox, [forest, aft, cox], ["native", "native", "breslow"], [0.5, 0.3, 0.2],
                                   risk_score="rmst", risk_times=times)
    S, risk = mix.predict_survival(X, times=times).to_numpy(), mix.predict_risk(X)
    above = (S[:, None, :] >= S[None, :, :]).all(axis=2)  # above[i, j]: i's curve nowhere below j's
    strictly = above & (S[:, None, :-1] > S[None, :, :-1]).any(axis=2)
    assert strictly.sum() > 1000  # most pairs do not cross on these data
    assert (risk[:, None] <= risk[None, :])[above].all()
    assert (risk[:, None] < risk[None, :])[strictly].all()


def test_rmst_mixture_predictions_are_one_consistent_risk(fitted):
    X, _t, _e, forest, aft, cox = fitted
    grid = np.union1d(np.linspace(0, 5, 50), cox.time_grid_)
    mix = CurveMixture.from_fitted(cox, [forest, aft, cox], ["native", "native", "breslow"], [0.5, 0.3, 0.2],
                                   risk_score="rmst", risk_times=grid)
    want = rmst_risk(mix.predict_survival(X, times=grid).to_numpy(), grid)
    np.testing.assert_allclose(mix.predict_risk(X), want)
    for times in (None, mix.full_times()):  # bundle predictions, cohort evaluate
        risk, median, curves = mix.predict_outputs(X, times)
        np.testing.assert_allclose(risk, want)
        assert list(curves.columns) == list(mix.time_grid_ if times is None else times)
    _, median_lh, _ = CurveMixture.from_fitted(cox, [forest, aft, cox], ["native", "native", "breslow"],
                                                        [0.5, 0.3, 0.2]).predict_outputs(X)
    np.testing.assert_array_equal(median, median_lh)  # the risk score does not change the curves or medians
    bad = X.copy()
    bad.iloc[0, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):  # as every survival model's predict_risk
        mix.predict_outputs(bad)


def test_risk_score_rule_needs_the_mixture_and_a_strictly_higher_out_of_fold_c():
    scores = {"log_hazard": {"c": 0.66}, "rmst": {"c": 0.67}}
    assert choose_risk_score("mixture", scores) == "rmst"
    assert choose_risk_score("breslow", scores) == "log_hazard"  # PH curves: the log hazard orders them already
    assert choose_risk_score("mixture", {"log_hazard": {"c": 0.67}, "rmst": {"c": 0.67}}) == "log_hazard"
    assert choose_risk_score("mixture", {"log_hazard": {"c": 0.68}, "rmst": {"c": 0.67}}) == "log_hazard"
    assert choose_risk_score("mixture", {"log_hazard": {"c": 0.6}, "rmst": {"c": None}}) == "log_hazard"
    assert choose_risk_score("mixture", {}) == "log_hazard"


def _rule_case(kind: str, n: int = 400, seed: int = 0) -> dict:
    """``compare_curve_forms`` with the true curves as the only extra member.

    ``log_hazard``: half the patients are cured after a high early hazard: the early hazard (the log hazard)
    orders their events, their curves' RMST (the cure) the other way. ``rmst``: proportional hazards, and the
    selected model's log hazard is noise.
    """
    from sklearn.model_selection import StratifiedKFold

    from recommender.models.survival_mixture import compare_curve_forms, curve_grid

    rng = np.random.default_rng(seed)
    if kind == "log_hazard":
        g = (rng.random(n) < 0.5).astype(float)
        tt = np.where(g == 1, np.where(rng.random(n) < 0.5, np.inf, rng.exponential(0.2, n)), rng.exponential(1 / 0.3, n))
        lp = g - 0.5
    else:
        rate = np.exp(0.8 * rng.normal(size=n))
        tt = rng.exponential(1 / rate)
        lp = rng.normal(size=n)
    c = rng.uniform(1.0, 6.0, n) if kind == "log_hazard" else rng.uniform(0.5, 4.0, n)
    time, event = np.minimum(tt, c), tt <= c
    grid, ibs_grid = curve_grid(time, event)
    true = (np.where(g[:, None] == 1, 0.5 * np.exp(-5.0 * grid[None]) + 0.5, np.exp(-0.3 * grid[None]))
            if kind == "log_hazard" else np.exp(-np.outer(rate, grid)))
    fold_of, ins = np.full(n, -1), []
    for k, (fi, vi) in enumerate(StratifiedKFold(3, shuffle=True, random_state=0).split(np.zeros(n), event.astype(int))):
        fold_of[vi] = k
        ins.append((fi, lp[fi]))
    return compare_curve_forms(selected="x", oof_lp=lp, insample_lp=ins, fold_of=fold_of, time=time, event=event,
                               weights=np.ones(n), grid=grid, ibs_grid=ibs_grid, member_oof={"truth:native": true},
                               recalibrate=False)


@pytest.mark.parametrize("kind", ["log_hazard", "rmst"])
def test_risk_score_rule_picks_the_better_score_out_of_fold(kind):
    rep = _rule_case(kind)
    assert rep["selected"] == "mixture"  # the true curves win the curve form in both cases
    rs = rep["risk_scores"]
    assert len(rs["log_hazard"]["c_folds"]) == len(rs["rmst"]["c_folds"]) == 3
    better, worse = (rs["log_hazard"], rs["rmst"]) if kind == "log_hazard" else (rs["rmst"], rs["log_hazard"])
    assert better["c"] > worse["c"] + 0.03
    assert rep["risk_score"] == kind
    assert "restricted mean survival time" in rep["risk_criterion"]
    json.dumps(rep["risk_scores"])


def test_rmst_mixture_round_trip_keeps_its_risk_score(fitted, tmp_path):
    X, _t, _e, forest, aft, cox = fitted
    grid = np.union1d(np.linspace(0, 5, 50), cox.time_grid_)
    mix = CurveMixture.from_fitted(cox, [forest, aft, cox], ["native", "native", "breslow"], [0.5, 0.3, 0.2],
                                   risk_score="rmst", risk_times=grid)
    mix.save(tmp_path, "m")
    back = load_survival_model(tmp_path, "m")
    assert back.risk_score_ == "rmst"
    np.testing.assert_array_equal(back.risk_times_, grid)
    np.testing.assert_allclose(back.predict_risk(X), mix.predict_risk(X))
    np.testing.assert_allclose(back.predict_outputs(X)[0], mix.predict_risk(X))


def test_old_mixture_bundle_without_risk_score_loads_with_the_log_hazard(fitted, tmp_path):
    X, _t, _e, forest, aft, cox = fitted
    mix = CurveMixture.from_fitted(cox, [forest, aft, cox], ["native", "native", "breslow"], [0.5, 0.3, 0.2],
                                   risk_score="rmst", risk_times=cox.full_times())
    mix.save(tmp_path, "m")
    meta = json.loads((tmp_path / "m.json").read_text())
    del meta["risk_score"], meta["risk_times"]  # what bundles saved before the risk-score choice hold
    (tmp_path / "m.json").write_text(json.dumps(meta))
    old = load_survival_model(tmp_path, "m")
    assert old.risk_score_ == "log_hazard" and old.risk_times_ is None
    np.testing.assert_array_equal(old.predict_risk(X), cox.predict_risk(X))
    np.testing.assert_array_equal(old.predict_outputs(X)[0], cox.predict_risk(X))


@pytest.mark.parametrize("change", [{"risk_score": "mortality"}, {"risk_score": ["rmst"]},
                                    {"risk_times": None}, {"risk_times": [3.0, 1.0, 2.0]},
                                    {"risk_times": ["a", "b"]}, {"risk_times": [0.0, float("nan")]}])
def test_tampered_mixture_risk_score_is_refused(fitted, tmp_path, change):
    _X, _t, _e, forest, _aft, cox = fitted
    CurveMixture.from_fitted(cox, [forest, cox], ["native", "breslow"], [0.5, 0.5], risk_score="rmst",
                             risk_times=cox.full_times()).save(tmp_path, "m")
    meta = json.loads((tmp_path / "m.json").read_text())
    meta.update(change)
    (tmp_path / "m.json").write_text(json.dumps(meta))
    with pytest.raises(BundleIntegrityError):
        load_survival_model(tmp_path, "m")
