"""The survival candidates added for issue 13's accuracy targets: random survival forest, boosted AFT, the stack.

Each: fit / predict / save / load round-trip (JSON + UBJSON, no pickle), and cross-validated selection picking
it when it wins on a small synthetic set. Small and fast (a few hundred rows, few trees).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from lifelines.utils import concordance_index

from recommender.models._base import BundleIntegrityError
from recommender.models.survival import BlendedSurvival, load_survival_model
from recommender.models.survival_aft import BoostedAFT
from recommender.models.survival_forest import SurvivalForest, _apply, leaf_mortality, nelson_aalen_at
from recommender.models.training import TrainingConfig, _fit_selected, select_survival_model


def _u_shaped(n=400, seed=0):
    """Hazard rises with |a| (U-shaped): a linear Cox model cannot rank it, trees can."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "const": 1.0})
    X.loc[rng.random(n) < 0.1, "b"] = np.nan  # NaN is allowed: each split learns a direction for it
    lp = 1.5 * np.abs(X["a"].to_numpy())
    t = rng.exponential(np.exp(-lp))
    c = rng.exponential(2.0, n)
    return X, np.minimum(t, c), t <= c


@pytest.fixture(scope="module")
def forest():
    X, t, e = _u_shaped()
    return SurvivalForest(n_estimators=15, min_samples_leaf=10, max_features=0.5).fit(X, t, e), (X, t, e)


def test_forest_ranks_a_non_linear_hazard_and_drops_constant_columns(forest):
    est, _ = forest
    assert est.used_columns_ == ["a", "b"]
    Xn, tn, en = _u_shaped(300, seed=1)
    assert concordance_index(tn, -est.predict_risk(Xn), en) > 0.65
    curves = est.predict_survival(Xn.iloc[:5])
    assert ((curves.to_numpy() >= 0) & (curves.to_numpy() <= 1)).all()
    assert (np.diff(curves.to_numpy(), axis=1) <= 1e-12).all()  # non-increasing


def test_forest_json_round_trip_is_exact_and_has_no_pickle(forest, tmp_path):
    est, (X, _t, _e) = forest
    files = est.save(tmp_path, "f")
    assert [p.suffix for p in files] == [".json"]
    back = load_survival_model(tmp_path, "f")
    assert isinstance(back, SurvivalForest)
    np.testing.assert_array_equal(back.predict_risk(X), est.predict_risk(X))
    np.testing.assert_allclose(back.predict_survival(X).to_numpy(), est.predict_survival(X).to_numpy())


def test_forest_numpy_traversal_matches_scikit_learn_with_missing_values():
    from sklearn.tree import DecisionTreeRegressor

    X, t, _e = _u_shaped()
    Z = X[["a", "b"]].to_numpy(dtype="float32").astype("float64")
    tree = DecisionTreeRegressor(min_samples_leaf=5, random_state=0).fit(Z, t)
    t_ = tree.tree_
    arrays = {"left": t_.children_left, "right": t_.children_right, "feature": t_.feature, "threshold": t_.threshold,
              "missing_left": np.asarray(t_.missing_go_to_left)}
    Zn = _u_shaped(200, seed=3)[0][["a", "b"]].to_numpy(dtype="float32").astype("float64")
    np.testing.assert_array_equal(_apply(arrays, Zn), tree.apply(Zn.astype("float32")))


def test_leaf_mortality_is_the_sum_of_the_nelson_aalen_hazard_over_event_times():
    time = np.array([1.0, 2.0, 2.0, 3.0, 5.0, 4.0])
    event = np.array([True, True, False, True, False, True])
    leaf = np.array([1, 1, 1, 1, 2, 2])
    w = np.ones(6)
    event_times = np.unique(time[event])  # 1, 2, 3, 4
    got = leaf_mortality(leaf, w, time, event, event_times, 3)
    # leaf 1: H(1) = 1/4, H(2) = 1/4 + 1/3, H(3) = H(2) + 1/1, H(4) = H(3)
    h1 = [0.25, 0.25 + 1 / 3, 0.25 + 1 / 3 + 1.0, 0.25 + 1 / 3 + 1.0]
    # leaf 2 (times 5 censored, 4 event): H = 0 until 4, then 1/2
    h2 = [0, 0, 0, 0.5]
    np.testing.assert_allclose(got, [0.0, sum(h1), sum(h2)])
    na = nelson_aalen_at(time, event)
    assert na[0] == pytest.approx(1 / 6) and na[-1] == pytest.approx(1 / 6 + 1 / 5 + 1 / 3 + 1 / 2)


def test_forest_chooses_leaf_size_and_features_by_out_of_bag_c():
    X, t, e = _u_shaped(200)
    est = SurvivalForest(n_estimators=8).fit(X, t, e)
    assert len(est.oob_c_index_) == 6
    best = max(est.oob_c_index_, key=lambda k: est.oob_c_index_[k])
    assert best == f"min_samples_leaf={est.min_samples_leaf_}, max_features={est.max_features_:.2f}"


def test_a_tampered_forest_file_is_refused(forest, tmp_path):
    """A child pointing backwards would loop forever; an out-of-range feature would index past the row."""
    est, _ = forest
    est.save(tmp_path, "f")
    path = tmp_path / "f.json"
    meta = json.loads(path.read_text())
    import base64

    left = np.frombuffer(base64.b64decode(meta["trees"][0]["left"]["b64"]), dtype="<i4").copy()
    left[0] = 0  # the root's left child is the root itself
    meta["trees"][0]["left"]["b64"] = base64.b64encode(left.tobytes()).decode()
    path.write_text(json.dumps(meta))
    with pytest.raises(BundleIntegrityError, match="inconsistent"):
        SurvivalForest.load(tmp_path, "f")
    meta["trees"][0]["left"]["dtype"] = "<f8"
    path.write_text(json.dumps(meta))
    with pytest.raises(BundleIntegrityError, match="malformed"):
        SurvivalForest.load(tmp_path, "f")


def test_forest_and_aft_refuse_bad_targets():
    X, t, e = _u_shaped(50)
    with pytest.raises(ValueError, match="too few events"):
        SurvivalForest(n_estimators=2).fit(X, t, np.zeros(50, bool))
    with pytest.raises(ValueError, match="negative"):
        SurvivalForest(n_estimators=2).fit(X, -t, e)
    with pytest.raises(ValueError, match="distribution"):
        BoostedAFT(distribution="weibull").fit(X, t, e)
    with pytest.raises(ValueError, match="max_features"):
        SurvivalForest(max_features=1.5).fit(X, t, e)


def test_boosted_aft_round_trip_and_risk_direction(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400)})
    t = rng.exponential(np.exp(-X["a"].to_numpy()))  # larger a -> shorter time -> higher risk
    c = rng.exponential(2.0, 400)
    tt, e = np.minimum(t, c), t <= c
    est = BoostedAFT(n_estimators=200).fit(X, tt, e)
    assert est.score(X, np.column_stack([tt, e])) > 0.65
    assert np.corrcoef(est.predict_risk(X), X["a"])[0, 1] > 0.5
    files = est.save(tmp_path, "a")
    assert sorted(p.suffix for p in files) == [".json", ".ubj"]
    back = load_survival_model(tmp_path, "a")
    assert isinstance(back, BoostedAFT)
    np.testing.assert_allclose(back.predict_risk(X), est.predict_risk(X))
    np.testing.assert_allclose(back.predict_log_time(X), -est.predict_risk(X))



def test_selection_picks_the_forest_when_it_wins_on_cross_validation(monkeypatch):
    from recommender.models import training

    original = training._candidate
    monkeypatch.setattr(training, "_candidate", lambda name, bp, cfg: (
        SurvivalForest(n_estimators=10, min_samples_leaf=10, max_features=0.5) if name == "forest"
        else original(name, bp, cfg)))
    X, t, e = _u_shaped()
    cfg = TrainingConfig(cv_folds=3, survival_candidates=("cox", "forest"))
    name, report = select_survival_model(X, t, e, config=cfg)
    assert name == "forest"
    assert report["cv_c_index"]["forest"] > report["cv_c_index"]["cox"] + 0.05


def test_stack_weights_come_from_out_of_fold_predictions_and_it_round_trips(monkeypatch, tmp_path):
    from recommender.models import training

    original = training._candidate
    monkeypatch.setattr(training, "_candidate", lambda name, bp, cfg: (
        SurvivalForest(n_estimators=10, min_samples_leaf=10, max_features=0.5) if name == "forest"
        else original(name, bp, cfg)))
    X, t, e = _u_shaped()
    cfg = TrainingConfig(cv_folds=3, survival_candidates=("cox", "forest", "stack"))
    _, report = select_survival_model(X, t, e, config=cfg)
    stack = report["stack"]
    assert report["cv_c_index"]["stack"] is not None and len(report["cv_c_index_folds"]["stack"]) == 3
    assert len(stack["fold_weights"]) == 3 and stack["pool"] == ["cox", "forest"]
    assert sum(stack["weights"].values()) == pytest.approx(1.0) and "forest" in stack["weights"]
    model = _fit_selected("stack", X, t, e, np.ones(len(t)), {}, cfg, {}, stack_weights=stack["weights"])
    assert isinstance(model, BlendedSurvival) and len(model.members_) == len(stack["weights"])
    model.save(tmp_path, "s")
    back = load_survival_model(tmp_path, "s")
    np.testing.assert_allclose(back.predict_risk(X), model.predict_risk(X))


@pytest.mark.parametrize("est", [SurvivalForest(n_estimators=5, min_samples_leaf=10, max_features=0.5),
                                 BoostedAFT(n_estimators=30)], ids=lambda e: type(e).__name__)
def test_new_estimators_take_a_structured_target_and_clone(est):
    from sklearn.base import clone

    X, t, e = _u_shaped(200)
    y = np.array(list(zip(e, t, strict=True)), dtype=[("event", "?"), ("time", "<f8")])  # scikit-survival's layout
    a = clone(est).fit(X, y)
    b = clone(est).fit(X, np.column_stack([t, e]))
    np.testing.assert_allclose(a.predict_risk(X), b.predict_risk(X))
    assert clone(a).get_params() == est.get_params()
