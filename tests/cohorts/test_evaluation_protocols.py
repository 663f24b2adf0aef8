"""Published protocols on the DeepSurv files: the pycox split, and Rotterdam -> GBSG on a subsample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cohorts.evaluation.protocols import (
    HARRELL,
    LifelinesCox,
    RecommenderSurvival,
    metabric_pycox,
    pycox_split,
    rotterdam_gbsg,
)


def test_pycox_split_is_numpy_seed_1234_and_restores_global_state():
    df = pd.DataFrame({"x": np.arange(1904)})
    np.random.seed(7)
    before = np.random.random()
    np.random.seed(7)
    train, test = pycox_split(df)
    assert np.random.random() == before  # global RandomState untouched for the caller
    assert len(test) == 381 and len(train) == 1523
    assert set(train.index).isdisjoint(test.index)
    # pandas' sample(frac=0.2) without random_state == RandomState(1234).choice(n, round(0.2 n), replace=False)
    expected = np.random.RandomState(1234).choice(1904, 381, replace=False)
    assert test.index.tolist() == expected.tolist()


@pytest.mark.needs_shared
def test_rotterdam_gbsg_protocol_on_a_subsample(shared_data):
    from recommender.models import CoxBaseline

    folder = shared_data / "cohorts" / "deepsurv_h5"
    models = [lambda: LifelinesCox(0.01), lambda: RecommenderSurvival(CoxBaseline(), "CoxBaseline")]
    res = rotterdam_gbsg(folder, models=models, max_train=400, max_test=300, bootstrap=20)
    assert res.metrics == (HARRELL,)
    assert [r.n_train for r in res.results] == [400, 400] and res.results[0].n_test == 300
    for r in res.results:
        assert 0.55 < r.harrell_c < 0.8  # published Cox on the full split: ~0.66
        assert 0.005 < r.harrell_c_se < 0.06  # bootstrap SE over 20 test resamples
        assert r.antolini_c is None and r.ibs is None  # protocol asks for Harrell's C only
    # a linear Cox model without interactions recommends the same option to everyone (hormone therapy:
    # protective in Rotterdam), so 'as recommended' == 'treated'
    rec = res.recommendations[0]
    assert rec.recommend_treated == 300 and rec.recommend_untreated == 0
    assert rec.km.group("treated as recommended").n == rec.followed
    assert 0 <= rec.km.logrank_p <= 1
    assert any("descriptive" in n for n in res.notes)


@pytest.mark.needs_shared
def test_metabric_protocol_reports_antolini_and_ibs(shared_data):
    folder = shared_data / "cohorts" / "deepsurv_h5"
    res = metabric_pycox(folder, models=[lambda: LifelinesCox(0.01)], max_train=500, bootstrap=0)
    (r,) = res.results
    assert (r.n_test, r.events_test) == (381, 206)
    assert 0.58 < r.antolini_c < 0.72 and 0.12 < r.ibs < 0.22
    assert r.harrell_c_se is None  # bootstrap=0
