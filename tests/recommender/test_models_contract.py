"""The scikit-learn estimator contract for every estimator of recommender.models."""

from __future__ import annotations

import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks as checks

from genomics.errors import ModelError
from recommender.models import (
    BoostedSurvival,
    BootstrapEnsemble,
    CalibratedBoostedClassifier,
    CoxBaseline,
    OodDetector,
    PropensityModel,
    ResponseModel,
    ToxicityModel,
)

ESTIMATORS = [ResponseModel(), CalibratedBoostedClassifier(), BoostedSurvival(), CoxBaseline(), ToxicityModel(),
              PropensityModel(), OodDetector(), BootstrapEnsemble(ResponseModel(), n_bootstrap=2)]


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_contract_checks(est):
    name = type(est).__name__
    checks.check_parameters_default_constructible(name, est)
    checks.check_no_attributes_set_in_init(name, est)
    checks.check_get_params_invariance(name, est)
    checks.check_set_params(name, est)
    checks.check_estimator_cloneable(name, est)
    assert clone(est).get_params().keys() == est.get_params().keys()


@pytest.mark.parametrize("est,method", [
    (ResponseModel(), "predict_proba"), (BoostedSurvival(), "predict_survival"), (CoxBaseline(), "predict_median"),
    (ToxicityModel(), "predict_proba"), (PropensityModel(), "predict_proba"), (OodDetector(), "check"),
], ids=lambda x: x if isinstance(x, str) else type(x).__name__)
def test_unfitted_use_raises_not_fitted_model_error(est, method):
    import pandas as pd

    with pytest.raises(NotFittedError) as info:
        getattr(est, method)(pd.DataFrame({"a": [1.0]}))
    assert isinstance(info.value, ModelError)
    assert type(est).__name__ in str(info.value) and "fit" in info.value.fix
