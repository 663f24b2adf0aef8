"""The survival models' fit weights (``TrainingConfig.survival_weights``): inverse-propensity, none, or chosen
out of fold on the training rows."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.models.training import SURVIVAL_WEIGHTS, TrainingConfig, _survival_weights, train_bundle
from tests.recommender._model_support import toy_cohort

BOOSTER = {"n_estimators": 40, "learning_rate": 0.1, "max_depth": 3, "early_stopping_rounds": 10,
           "validation_fraction": 0.25}


def _cfg(**kw):
    return TrainingConfig(n_bootstrap=0, n_bootstrap_toxicity=0, min_toxicity_events=10, cv_folds=3,
                          survival_candidates=("cox", "boosted_shallow"), survival_curves="breslow_ipw",
                          booster=BOOSTER, **kw)


@pytest.fixture(scope="module")
def cohort():
    return toy_cohort(400, seed=4)


def test_default_is_the_inverse_propensity_weights_as_before(cohort):
    bundle = train_bundle(cohort, None, config=_cfg(), trained_on="toy")
    sw = bundle.metadata["metrics"]["pfs"]["survival_weights"]
    assert TrainingConfig().survival_weights == "ipw" and sw == {"selected": "ipw"}
    assert "PFS fit weights: inverse-propensity weights" in bundle.model_card


def test_auto_compares_both_weightings_out_of_fold_and_keeps_the_higher_c(cohort):
    bundle = train_bundle(cohort, None, config=_cfg(survival_weights="auto"), trained_on="toy")
    sw = bundle.metadata["metrics"]["pfs"]["survival_weights"]
    cv = sw["cv_c_index"]
    assert set(cv) == {"ipw", "none"} and all(0.4 < v < 1 for v in cv.values())
    assert sw["selected"] == ("none" if cv["none"] > cv["ipw"] else "ipw")
    # the kept weighting's model selection is the one the bundle records (not run a third time)
    ms = bundle.metadata["metrics"]["pfs"]["model_selection"]
    assert bundle.metadata["metrics"]["pfs"]["selected_model"] == sw["selected_models"][sw["selected"]]
    assert ms["cv_c_index"][ms["selected"]] == pytest.approx(cv[sw["selected"]])
    assert "out-of-fold Harrell's C: weighted" in bundle.model_card


def test_none_fits_unweighted_and_ipw_off_is_unweighted_whatever_the_choice():
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 120
    Xs = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    t, e = rng.exponential(365, n), rng.random(n) < 0.7
    w = rng.uniform(0.5, 3, n)
    got, info, pre = _survival_weights(Xs, t, e, w, BOOSTER, _cfg(survival_weights="none"), True)
    assert np.all(got == 1) and info == {"selected": "none"} and pre is None
    got, info, _ = _survival_weights(Xs, t, e, w, BOOSTER, _cfg(survival_weights="auto", ipw=False), True)
    assert np.all(got == 1) and info["selected"] == "none" and "ipw=False" in info["note"]
    got, info, _ = _survival_weights(Xs, t, e, w, BOOSTER, _cfg(survival_weights="auto"), False)
    assert np.all(got == w) and "too few events" in info["note"]


def test_an_unknown_weighting_is_refused():
    assert SURVIVAL_WEIGHTS == ("ipw", "none", "auto")
    with pytest.raises(ValueError, match="survival_weights must be one of"):
        _survival_weights(None, np.ones(3), np.ones(3, bool), np.ones(3), BOOSTER, _cfg(survival_weights="iptw"), True)


def test_cli_train_offers_the_option_and_refuses_an_unknown_value(tmp_path, capsys):
    from recommender.cli import main

    with pytest.raises(SystemExit) as ex:
        main(["cohort", "train", "--help"])
    assert ex.value.code == 0 and "--survival-weights {ipw,none,auto}" in capsys.readouterr().out
    with pytest.raises(SystemExit) as ex:
        main(["cohort", "train", str(tmp_path), "-o", str(tmp_path / "b"), "--survival-weights", "iptw"])
    assert ex.value.code == 2
