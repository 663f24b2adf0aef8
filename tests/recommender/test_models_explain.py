"""Explanations: xgboost contributions grouped into physician-readable phrases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from recommender.features import build_feature_frame, default_feature_schema
from recommender.models import (
    BoostedSurvival,
    CalibratedBoostedClassifier,
    explain_hazard,
    explain_probability,
)
from recommender.models.explain import describe_value, group_contributions
from recommender.models.training import examples_from_tables
from recommender.schema import Patient
from tests.recommender._model_support import toy_cohort

SCHEMA = default_feature_schema()
FAST = {"n_estimators": 120, "learning_rate": 0.1, "max_depth": 3}


@pytest.fixture(scope="module")
def neutropenia_model():
    ex = examples_from_tables(toy_cohort(900, seed=5))
    y = ex.toxicity["Neutrophil count decreased"].to_numpy()
    return CalibratedBoostedClassifier(**FAST).fit(ex.X, y), ex


def _row(regimen: str, dpyd: float | None) -> pd.DataFrame:
    pt = Patient(patient_id="E", demographics={"age": 64, "sex": "male"}, diagnosis={"cancer_type": "COAD", "ecog": 1})
    return build_feature_frame([pt], [regimen], pgx=None if dpyd is None else {"E": {"DPYD": dpyd}}, schema=SCHEMA)


def test_dpyd_is_the_top_driver_with_a_readable_phrase(neutropenia_model):
    model, _ = neutropenia_model
    drivers = explain_probability(model, _row("CAPOX", 0.5), SCHEMA, "severe neutropenia risk")
    top = drivers[0]
    assert top.driver == "DPYD" and top.effect > 5 and top.unit == "points"
    assert top.phrase.startswith("DPYD activity score 0.5: severe neutropenia risk +")
    assert top.phrase.endswith(" points")
    assert "pgx_dpyd_activity_score" in top.features
    # a normal DPYD activity score lowers the risk (negative points) or is not a driver at all
    normal = {d.driver: d for d in explain_probability(model, _row("CAPOX", 2.0), SCHEMA, "risk", min_points=0)}
    assert normal["DPYD"].effect < 0


def test_points_add_up_to_the_change_from_baseline(neutropenia_model):
    model, _ = neutropenia_model
    X = _row("CAPOX", 1.0)
    drivers = explain_probability(model, X, SCHEMA, "risk", top=1000, min_points=0)
    contrib = model.contributions(X).iloc[0]
    p = model.predict_proba(X)[0, 1]
    p0 = model.calibrate(np.array([contrib["bias"]]))[0]
    assert sum(d.effect for d in drivers) == pytest.approx(100 * (p - p0), abs=0.1)


def test_grouping_and_value_descriptions():
    X = _row("FOLFOX", None)
    row = X.iloc[0]
    fake = pd.Series(0.1, index=[*SCHEMA.columns, "bias"])
    groups = group_contributions(fake, SCHEMA)
    assert "DPYD" in groups and "bias" not in groups
    assert set(groups["DPYD"][1]) >= {"pgx_dpyd_activity_score", "pgx_dpyd_activity_score__missing",
                                      "tx_fluoropyrimidine_x_dpyd_deficit"}
    assert describe_value(SCHEMA, row, groups["DPYD"][1], "DPYD") == "DPYD not known"
    assert describe_value(SCHEMA, row, groups["cancer type"][1], "cancer type") == "cancer type COAD"
    assert describe_value(SCHEMA, row, groups["age"][1], "age") == "age 64 years"
    assert describe_value(SCHEMA, row, groups["serum albumin"][1], "serum albumin") == "serum albumin not known"


def test_hazard_explanations(neutropenia_model):
    _, ex = neutropenia_model
    surv = BoostedSurvival(**FAST).fit(ex.X, ex.time["pfs"], ex.event["pfs"])
    pt = Patient(patient_id="H", demographics={"age": 60}, diagnosis={"cancer_type": "COAD", "ecog": 2})
    X = build_feature_frame([pt], ["FOLFOX"], schema=SCHEMA)
    drivers = explain_hazard(surv, X, SCHEMA, "progression hazard", top=10, min_log=0)
    ecog = next(d for d in drivers if d.driver == "ECOG")
    assert ecog.unit == "hazard ratio" and ecog.effect > 1  # ECOG 2 raises the hazard in the toy cohort
    assert ecog.phrase.startswith("ECOG performance status 2: progression hazard x")
    assert all(math.isfinite(d.effect) for d in drivers)
    with pytest.raises(ValueError, match="one row"):
        explain_hazard(surv, pd.concat([X, X]), SCHEMA)


def test_negative_binary_feature_is_not_a_double_negative():
    """Regression: a RAS/RAF-mutant patient's driver read "no KRAS, NRAS and BRAF V600 wild type"."""
    spec = next(s for s in SCHEMA.features if s.name.endswith("ras_raf_wildtype"))
    row = pd.Series({spec.name: 0.0})
    text = describe_value(SCHEMA, row, [spec.name], "RAS/RAF")
    assert text == "KRAS, NRAS and BRAF V600 wild type: no"
    assert not text.startswith("no ")


# ------------------------------------------------------------------------------------ issue 20


def test_clinical_wording_of_model_internals():
    from recommender.models.explain import clinical_phrase, decode_ordinal

    assert clinical_phrase("absolute neutrophil count not known", "response probability", 2.4, "points") == (
        "Absolute neutrophil count not recorded (the model assumed a typical value): chance of response about "
        "2 percentage points higher")
    assert clinical_phrase("smoking: former", "response probability", -0.6, "points").startswith(
        "Smoking (former): chance of response about 0.6 percentage points lower")
    assert clinical_phrase("the treatment itself", "severe diarrhea risk", 12.7, "points").endswith(
        "risk of grade 3 or worse diarrhea about 13 percentage points higher")
    assert clinical_phrase("ECOG performance status 2", "PFS hazard", 1.25, "hazard ratio") == (
        "ECOG performance status 2: risk of progression or death about 25% higher")
    assert decode_ordinal("0=never 1=former 2=current", 1.0) == "former"
    assert decode_ordinal("0-4", 2.0) is None


def test_drivers_carry_clinical_wording_and_keep_the_model_details(neutropenia_model):
    model, _ = neutropenia_model
    drivers = explain_probability(model, _row("CAPOX", 0.5), SCHEMA, "severe neutropenia risk")
    top = drivers[0]
    assert top.phrase.endswith(" points")  # model details: the model's own units
    assert "percentage point" in top.clinical and "+" not in top.clinical
    assert top.to_dict()["clinical"] == top.clinical
