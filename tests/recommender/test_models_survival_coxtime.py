"""Cox-Time (recommender.models.survival_coxtime): non-proportional curves, save/load without torch, the contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

pytest.importorskip("torch")

from recommender.models import ModelError, NotFittedModelError, survival_target
from recommender.models._base import BundleIntegrityError
from recommender.models.survival import CoxBaseline, load_survival_model
from recommender.models.survival_coxtime import CoxTime
from recommender.models.survival_metrics import integrated_brier
from tests.recommender.test_models_survival_contract import _GeneratedY

REPO = Path(__file__).resolve().parents[2]
SMALL = {"hidden": 8, "max_epochs": 20, "patience": 5}


class CoxTimeChecked(_GeneratedY, CoxTime):
    """CoxTime with sklearn's generated y made a survival target (test only)."""


@parametrize_with_checks([CoxTimeChecked(hidden=4, max_epochs=5, patience=2)], expected_failed_checks=lambda est: {
    "check_sample_weight_equivalence_on_dense_data": (
        "controls are drawn at random from the risk sets and a stratified validation split is held out: a repeated "
        "row changes both, a weight of 2 does not")})
def test_coxtime_passes_sklearn_checks(estimator, check):
    check(estimator)


def _crossing(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Crossing hazards: ``a > 0`` gives a Weibull shape 0.5 (early deaths), else shape 3 (late deaths)."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    u = rng.random(n)
    t = np.where(a > 0, (-np.log(u)) ** 2.0, 1.2 * (-np.log(u)) ** (1 / 3)) * np.exp(0.3 * b)
    c = rng.uniform(0.2, 3.0, n)
    return pd.DataFrame({"a": a, "b": b}), np.minimum(t, c), t <= c


@pytest.fixture(scope="module")
def fitted() -> tuple[CoxTime, pd.DataFrame, np.ndarray, np.ndarray]:
    X, t, e = _crossing(300, 0)
    return CoxTime(**SMALL).fit(X, survival_target(e, t)), X, t, e


def test_coxtime_curves_beat_a_proportional_hazards_cox_on_crossing_hazards():
    X, t, e = _crossing(600, 0)
    Xt, tt, et = _crossing(600, 1)
    grid = np.linspace(0.05, 2.5, 50)
    ct = CoxTime(max_epochs=60, random_state=0).fit(X, t, e)
    cox = CoxBaseline().fit(X, t, e)
    ibs_ct = integrated_brier(ct.predict_survival_native(Xt, grid).to_numpy(), tt, et, grid)
    ibs_cox = integrated_brier(cox.predict_survival(Xt, grid).to_numpy(), tt, et, grid)
    assert ibs_ct < ibs_cox - 0.003, (ibs_ct, ibs_cox)
    # the curves of the two groups cross: the early-death group is below at first, above later
    S = ct.predict_survival_native(pd.DataFrame({"a": [1.0, -1.0], "b": [0.0, 0.0]}), [0.2, 2.0]).to_numpy()
    assert S[0, 0] < S[1, 0] and S[0, 1] > S[1, 1]


def test_native_curves_are_survival_functions(fitted):
    m, X, _, _ = fitted
    S = m.predict_survival_native(X.iloc[:20], times=np.concatenate([[0.0], m.event_times_])).to_numpy()
    assert np.all(S[:, 0] == 1.0) and np.all(np.diff(S, axis=1) <= 1e-12) and np.all((S >= 0) & (S <= 1))
    # the product contract: predict_survival is one Breslow baseline of predict_risk (the log cumulative hazard)
    H = m.predict_cumulative_hazard_native(X.iloc[:20], [m.risk_time_]).to_numpy()[:, 0]
    np.testing.assert_allclose(m.predict_risk(X.iloc[:20]), np.log(H), rtol=1e-10)
    assert m.predict_survival(X.iloc[:5]).shape == (5, len(m.time_grid_))


def test_save_load_round_trip_gives_identical_curves_without_torch(fitted, tmp_path):
    m, X, _, _ = fitted
    m.save(tmp_path, "ct")
    (tmp_path / "x.json").write_text(json.dumps(X.iloc[:30].to_dict(orient="list")))  # exact floats
    code = f"""
import sys, json
class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked in this test")
sys.meta_path.insert(0, _NoTorch())  # any import of torch now fails
import numpy as np, pandas as pd
from recommender.models.survival import load_survival_model
m = load_survival_model({str(tmp_path)!r}, "ct")
X = pd.DataFrame(json.loads(open({str(tmp_path / 'x.json')!r}).read()))
grid = np.concatenate([[0.0], m.event_times_])
out = {{"native": m.predict_survival_native(X, grid).to_numpy().tolist(),
        "breslow": m.predict_survival(X).to_numpy().tolist(), "risk": m.predict_risk(X).tolist(),
        "torch": "torch" in sys.modules}}
print(json.dumps(out))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                         check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["torch"] is False
    grid = np.concatenate([[0.0], m.event_times_])
    np.testing.assert_array_equal(np.array(out["native"]), m.predict_survival_native(X.iloc[:30], grid).to_numpy())
    np.testing.assert_array_equal(np.array(out["breslow"]), m.predict_survival(X.iloc[:30]).to_numpy())
    np.testing.assert_array_equal(np.array(out["risk"]), m.predict_risk(X.iloc[:30]))


def test_a_tampered_saved_model_is_refused(fitted, tmp_path):
    m, _, _, _ = fitted
    m.save(tmp_path, "ct")
    path = tmp_path / "ct.json"
    meta = json.loads(path.read_text())
    meta["layers"][1]["W"] = meta["layers"][1]["W"][:-1]  # a weight matrix that no longer chains
    path.write_text(json.dumps(meta))
    with pytest.raises(BundleIntegrityError, match="layer 1"):
        load_survival_model(tmp_path, "ct")
    m.save(tmp_path, "ct2")
    meta = json.loads((tmp_path / "ct2.json").read_text())
    meta["baseline_hazard"][0] = -1.0
    (tmp_path / "ct2.json").write_text(json.dumps(meta))
    with pytest.raises(BundleIntegrityError, match="baseline hazard"):
        load_survival_model(tmp_path, "ct2")


def test_sklearn_contract_clone_and_unfitted_error(fitted):
    m, X, _, _ = fitted
    c = clone(m)
    assert c.get_params() == m.get_params() and not hasattr(c, "layers_")
    for call in (lambda: c.predict_risk(X), lambda: c.predict_survival_native(X), lambda: c.save(".", "x")):
        with pytest.raises(NotFittedModelError) as err:
            call()
        assert isinstance(err.value, NotFittedError) and isinstance(err.value, ModelError)
    assert sorted(k for k in vars(m) if k.endswith("_") and not k.startswith("_"))


def test_same_random_state_same_model_other_state_other_model():
    X, t, e = _crossing(200, 3)
    a = CoxTime(**SMALL, random_state=1).fit(X, t, e)
    b = CoxTime(**SMALL, random_state=1).fit(X, t, e)
    c = CoxTime(**SMALL, random_state=2).fit(X, t, e)
    np.testing.assert_array_equal(a.predict_survival_native(X).to_numpy(), b.predict_survival_native(X).to_numpy())
    np.testing.assert_array_equal(a.predict_risk(X), b.predict_risk(X))
    assert not np.allclose(a.predict_risk(X), c.predict_risk(X))


@pytest.mark.parametrize(("time", "event", "match"), [
    (lambda t: np.where(np.arange(len(t)) == 3, np.nan, t), None, "NaN or infinite"),
    (lambda t: np.where(np.arange(len(t)) == 3, -1.0, t), None, "must not be negative"),
    (None, lambda e: np.zeros(len(e), dtype=bool), "all samples are censored"),
    (None, lambda e: np.arange(len(e)) < 5, "needs at least 10"),
], ids=["nan-time", "negative-time", "no-events", "too-few-events"])
def test_bad_survival_targets_are_refused(time, event, match):
    X, t, e = _crossing(60, 4)
    t = time(t) if time else t
    e = event(e) if event else e
    with pytest.raises(ValueError, match=match):
        CoxTime(**SMALL).fit(X, t, e)


def test_bad_parameters_and_infinite_input_are_refused(fitted):
    X, t, e = _crossing(60, 4)
    with pytest.raises(ValueError, match="dropout"):
        CoxTime(dropout=1.5).fit(X, t, e)
    m, X, _, _ = fitted
    bad = X.iloc[:3].copy()
    bad.iloc[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        m.predict_survival_native(bad)
    with pytest.raises(ValueError, match="infinity"):
        m.predict_risk(bad)


def test_missing_values_and_sample_weights_are_used(fitted):
    X, t, e = _crossing(200, 5)
    X.loc[::7, "a"] = np.nan
    w = np.where(np.arange(len(t)) < 100, 2.0, 1.0)
    w[:5] = 0.0  # a zero weight drops the row
    m = CoxTime(**SMALL).fit(X, t, e, sample_weight=w)
    assert np.isfinite(m.predict_risk(X)).all()
    assert m.training_summary_["rows"] == 195


def test_coxtime_is_an_opt_in_candidate_whose_native_curves_enter_the_mixture():
    from recommender.models import training

    assert "coxtime" in training.SURVIVAL_CANDIDATES and "coxtime" in training._NATIVE_CURVES
    assert "coxtime" in training._STACK_POOL
    assert "coxtime" not in training.TrainingConfig().survival_candidates
    assert isinstance(training._candidate("coxtime", {"random_state": 3}, training.TrainingConfig()), CoxTime)
    X, t, e = _crossing(240, 6)
    cfg = training.TrainingConfig(cv_folds=3, survival_candidates=("cox", "coxtime"))
    _, report = training.select_survival_model(X, t, e, config=cfg)
    assert set(report["cv_c_index"]) == {"cox", "coxtime"} and not report["failed"]
    assert "coxtime:native" in report["curves"]["members"]


def test_a_curve_mixture_with_coxtime_native_curves_round_trips(fitted, tmp_path):
    from recommender.models.survival_mixture import CurveMixture

    m, X, t, e = fitted
    cox = CoxBaseline().fit(X, t, e)
    mix = CurveMixture.from_fitted(cox, [cox, m], ["breslow", "native"], [0.4, 0.6], ["cox:breslow", "coxtime:native"])
    mix.save(tmp_path, "mix")
    back = load_survival_model(tmp_path, "mix")
    assert type(back.members_[1]) is CoxTime and back.forms_ == ["breslow", "native"]
    np.testing.assert_array_equal(back.predict_survival(X.iloc[:10]).to_numpy(), mix.predict_survival(X.iloc[:10]).to_numpy())
    expected = 0.4 * cox.predict_survival(X.iloc[:10]).to_numpy() + 0.6 * m.predict_survival_native(X.iloc[:10]).to_numpy()
    np.testing.assert_allclose(mix.predict_survival(X.iloc[:10]).to_numpy(), expected, rtol=1e-12)
