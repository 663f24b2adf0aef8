"""The Recommendation result model: frozen, schema-versioned, JSON round trip."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from recommender.recommendation import (
    DISCLAIMER,
    RECOMMENDATION_SCHEMA_VERSION,
    ModelPrediction,
    ModelStatus,
    Provenance,
    RankedOption,
    Recommendation,
    ResponsePrediction,
    SurvivalPrediction,
)


def _rec() -> Recommendation:
    opt = RankedOption(rank=1, model_rank=1, regimen="FOLFOX", drugs=("fluorouracil", "leucovorin", "oxaliplatin"),
                       model=ModelPrediction(available=True, response=ResponsePrediction(probability=0.4, low=0.3,
                                                                                       high=0.5)))
    return Recommendation(patient_id="P1", cancer_type="COAD", options=(opt,), ranking_rule="rule",
                          model_status=ModelStatus(available=True, bundle_id="b1"), provenance=Provenance())


def test_json_round_trip_is_exact_and_schema_versioned():
    rec = _rec()
    data = json.loads(rec.to_json())
    assert data["schema_version"] == RECOMMENDATION_SCHEMA_VERSION == "recommendation/1.0"
    assert Recommendation.from_json(rec.to_json()) == rec
    assert Recommendation.from_dict(rec.to_dict()) == rec
    assert data["disclaimer"] == DISCLAIMER and "Research use only" in DISCLAIMER


def test_result_is_frozen_and_rejects_unknown_fields():
    rec = _rec()
    with pytest.raises(ValidationError):
        rec.patient_id = "other"
    data = rec.to_dict()
    data["surprise"] = 1
    with pytest.raises(ValidationError):
        Recommendation.from_dict(data)


def test_probability_outside_0_1_is_refused():
    with pytest.raises(ValidationError):
        ResponsePrediction(probability=1.2)


def test_provenance_carries_package_version_and_build():
    p = Provenance()
    assert p.package_version and p.package_version != ""
    assert p.genome_build == "GRCh38"


def test_survival_at_reads_the_step_function():
    s = SurvivalPrediction(endpoint="pfs", times=(0.0, 100.0, 200.0), survival=(1.0, 0.7, 0.4))
    assert s.survival_at(150) == 0.7
    assert s.survival_at(250) == 0.4
    assert SurvivalPrediction(endpoint="os").survival_at(10) is None


def test_option_lookup_and_top():
    rec = _rec()
    assert rec.top.regimen == "FOLFOX"
    assert rec.option("FOLFOX").drugs[0] == "fluorouracil"
    with pytest.raises(KeyError):
        rec.option("CAPOX")
