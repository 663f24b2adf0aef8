"""One ranking rule: the oracle in the simulated evaluation is scored with the ranking's own formula."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.rank import RankingWeights, expected_utility, utility_value
from recommender.recommendation import ModelPrediction, ResponsePrediction, SurvivalPrediction, ToxicityRisk


@pytest.mark.parametrize("weights", [RankingWeights(), RankingWeights(response=0.5, survival=2.0, toxicity=1.0)])
def test_utility_value_is_expected_utility_on_plain_numbers(weights):
    m = ModelPrediction(available=True, response=ResponsePrediction(probability=0.42),
                        survival=(SurvivalPrediction(endpoint="pfs", times=(0.0, 365.0), survival=(1.0, 0.55)),),
                        toxicity=(ToxicityRisk(term="Diarrhea", probability=0.2),
                                  ToxicityRisk(term="Anemia", probability=0.05)))
    u, _ = expected_utility(m, weights)
    assert utility_value(0.42, 0.55, 0.25, weights) == pytest.approx(u, abs=1e-6)


def test_utility_value_is_vectorised():
    got = utility_value(np.array([0.1, 0.9]), np.array([0.5, 0.2]), np.array([0.0, 0.4]))
    np.testing.assert_allclose(got, [0.6, 0.9])
