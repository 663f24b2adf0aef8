"""Per-term severe toxicity classifiers; DPYD x fluoropyrimidine signal recovered through real features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from recommender.features import build_feature_frame, default_feature_schema
from recommender.models import ToxicityModel, severe_toxicity_labels
from recommender.models.training import examples_from_tables
from tests.recommender._model_support import toy_cohort, toy_matrix

FAST = {"n_estimators": 120, "learning_rate": 0.1, "max_depth": 3}


def test_labels_from_adverse_events_table():
    ae = pd.DataFrame({"patient_id": ["a", "a", "b", "c"], "term": ["Diarrhea", "Anemia", "Diarrhea", "Anemia"],
                       "grade": [3, 2, 1, 4]})
    Y = severe_toxicity_labels(ae, ["a", "b", "c", "d"])
    assert list(Y.columns) == ["Anemia", "Diarrhea"]
    assert Y["Diarrhea"].tolist() == [1, 0, 0, 0] and Y["Anemia"].tolist() == [0, 0, 1, 0]


def test_terms_with_too_few_events_are_skipped_with_reason():
    X, y = toy_matrix(500)
    rare = np.zeros(len(y), dtype=int)
    rare[:3] = 1
    m = ToxicityModel(min_events=10, classifier_params=FAST).fit(X, pd.DataFrame({"Neutrophil count decreased": y,
                                                                                   "Colitis": rare}))
    assert m.terms_ == ["Neutrophil count decreased"]
    assert "3 severe events" in m.skipped_terms_["Colitis"]
    p = m.predict_proba(X)
    assert list(p.columns) == ["Neutrophil count decreased"] and p.to_numpy().max() <= 1


@pytest.fixture(scope="module")
def trained_on_features():
    ex = examples_from_tables(toy_cohort(900, seed=3))
    m = ToxicityModel(min_events=10, classifier_params=FAST).fit(ex.X.iloc[:700], ex.toxicity.iloc[:700])
    return m, ex


def test_risk_conditioned_on_dpyd_through_the_feature_builder(trained_on_features):
    m, ex = trained_on_features
    y = ex.toxicity["Neutrophil count decreased"].to_numpy()[700:]
    p = m.predict_proba(ex.X.iloc[700:])["Neutrophil count decreased"].to_numpy()
    assert roc_auc_score(y, p) > 0.7
    # counterfactual: the same patient, DPYD 0.5 vs 2.0, on a fluoropyrimidine regimen
    from recommender.schema import Patient

    pt = Patient(patient_id="Q", demographics={"age": 64}, diagnosis={"cancer_type": "COAD", "ecog": 1})
    frame = build_feature_frame([pt, pt.model_copy(update={"patient_id": "R"})], ["CAPOX"],
                                pgx={"Q": {"DPYD": 0.5}, "R": {"DPYD": 2.0}}, schema=default_feature_schema())
    risk = m.predict_proba(frame)["Neutrophil count decreased"].to_numpy()
    assert risk[0] > risk[1] + 0.15


def test_round_trip_and_unfitted(trained_on_features, tmp_path):
    m, ex = trained_on_features
    m.save(tmp_path, "tox")
    back = ToxicityModel.load(tmp_path, "tox")
    pd.testing.assert_frame_equal(back.predict_proba(ex.X.iloc[:20]), m.predict_proba(ex.X.iloc[:20]))
    assert back.skipped_terms_ == m.skipped_terms_
    with pytest.raises(NotFittedError):
        ToxicityModel().predict_proba(ex.X.iloc[:2])
