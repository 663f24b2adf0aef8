"""The default training pipeline learns the sign of every effect the simulator encodes (small cohort).

The cohorts are small (seconds to fit, not minutes), so they are randomised (every patient may receive any
candidate) and drawn from a germline source enriched for the pharmacogenomic phenotypes: the test checks that
the pipeline *can* learn each encoded effect's direction, not the default bundle's accuracy (that is
``benchmarks/eval_simulated.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cohorts.sim_effects import (
    candidate_frame,
    effect_table,
    model_predictions,
    score_predictions,
    true_features,
)
from cohorts.simulate import PhenotypePriorSource, simulate_cohort
from recommender.models.defaults import default_training_config
from recommender.models.training import train_bundle

pytestmark = pytest.mark.slow  # two small training runs: about a minute idle, several on a loaded machine


class EnrichedPgxSource(PhenotypePriorSource):
    """Phenotype priors with DPYD deficit, UGT1A1 poor and TPMT/NUDT15 intermediate/poor in ~30 % each."""

    def draw(self, n, rng, female_share):
        g = super().draw(n, rng, female_share)
        ph = g.phenotypes
        ph["dpyd_activity_score"] = np.where(rng.random(n) < 0.3, rng.choice([0.5, 1.0, 1.5], n), 2.0)
        ph["ugt1a1_poor"] = rng.random(n) < 0.3
        u = rng.random(n)
        ph["thiopurine_function"] = np.where(u < 0.1, "poor", np.where(u < 0.4, "intermediate", "normal"))
        return g


MIX = {"COAD": 0.22, "LUAD": 0.33, "BRCA": 0.22, "PAAD": 0.1, "HGSOC": 0.05, "BLL": 0.08}


@pytest.fixture(scope="module")
def fitted():
    train = simulate_cohort(4000, 11, randomised=True, cancer_mix=MIX, germline=EnrichedPgxSource())
    cfg = default_training_config(n_bootstrap=0, endpoints=("pfs",), refit=False)
    bundle = train_bundle(train.tables, None, config=cfg, trained_on="test")
    test = simulate_cohort(1500, 12, randomised=True, cancer_mix=MIX, germline=EnrichedPgxSource())
    X, keys = candidate_frame(test.tables, bundle.schema)
    preds = model_predictions(bundle, X, keys)
    rows = effect_table(preds, test.truth_tables["oracle"], true_features(test.tables, test.truth_tables))
    return bundle, rows, preds, test


@pytest.fixture(scope="module")
def learned(fitted):
    bundle, rows, _, _ = fitted
    return bundle, rows


def test_the_default_pipeline_uses_the_interaction_learner(learned):
    bundle, _ = learned
    assert type(bundle.response).__name__ == "InteractionLogit"
    assert type(bundle.survival["pfs"]["selected"]).__name__ == "InteractionCox"
    assert type(bundle.toxicity).__name__ == "DrugCauseToxicity"


@pytest.mark.parametrize("outcome", ["response", "pfs"])
def test_every_biomarker_effect_has_the_right_sign(learned, outcome):
    _, rows = learned
    rows = [r for r in rows if r.outcome == outcome and r.true is not None and r.n_with >= 20
            and (r.n_without >= 20 or r.feature == "cyp2d6_function")  # a slope has no "without" group
            and r.regimen != "pembrolizumab"]  # the weakest effect: its own, lung-only cohort below
    assert len(rows) == 7, [r.to_dict() for r in rows]
    wrong = [(r.regimen, r.feature, round(r.true, 2), round(r.learned, 2)) for r in rows if not r.sign_ok]
    assert not wrong


def test_every_pharmacogenomic_toxicity_effect_has_the_right_sign(learned):
    _, rows = learned
    rows = [r for r in rows if r.outcome == "toxicity" and r.true is not None and r.n_with >= 10
            and abs(r.true) >= 0.2 and np.isfinite(r.learned)]
    feats = {r.feature for r in rows}
    assert {"dpyd_deficit", "ugt1a1_poor", "thiopurine_intermediate", "thiopurine_poor"} <= feats
    wrong = [(r.regimen, r.feature, r.term, round(r.true, 2), round(r.learned, 2)) for r in rows if not r.sign_ok]
    assert not wrong


def test_effect_table_truth_matches_the_encoded_coefficients(learned):
    _, rows = learned
    by = {(r.outcome, r.regimen, r.feature): r for r in rows if r.outcome != "toxicity"}
    assert by[("response", "osimertinib", "egfr_sensitising")].true == pytest.approx(4.0, abs=1e-6)
    assert by[("pfs", "osimertinib", "egfr_sensitising")].true == pytest.approx(-2.4, abs=1e-6)
    assert by[("response", "tamoxifen", "cyp2d6_function")].true == pytest.approx(1.2, abs=1e-6)
    # ER positive vs negative: 0.8 + 3.0, up to the groups' small difference in mean CYP2D6 function
    assert by[("response", "tamoxifen", "er_positive")].true == pytest.approx(3.8, abs=0.1)
    assert isinstance(pd.DataFrame([r.to_dict() for r in rows]), pd.DataFrame)


def test_effects_read_from_a_score_file_equal_the_model_predictions(fitted):
    """The benchmark's effects "as users see them" read ``cohort score`` columns (p_response, pfs_risk, the
    toxicity list): on the same predictions they must give the same table (PFS: under proportional hazards the
    contrast of log hazards equals that of log(-log S(365 d)))."""
    _, rows, preds, test = fitted
    tox_cols = [c for c in preds.columns if c.startswith("p_severe:")]
    scores = pd.DataFrame({
        "patient_id": preds["patient_id"], "regimen": preds["regimen"], "p_response": preds["p_response"],
        "pfs_risk": np.log(-np.log(np.clip(preds["pfs_s365"].to_numpy(float), 1e-9, 1 - 1e-9))),  # as sim_effects
        "toxicity": [[{"term": c.split(":", 1)[1], "probability": float(v), "low": None, "high": None}
                      for c, v in zip(tox_cols, vals)] for vals in preds[tox_cols].to_numpy()],
    })
    again = effect_table(score_predictions(scores), test.truth_tables["oracle"],
                         true_features(test.tables, test.truth_tables))
    assert [(r.outcome, r.regimen, r.feature, r.term) for r in again] == [(r.outcome, r.regimen, r.feature, r.term)
                                                                          for r in rows]
    for a, b in zip(again, rows):
        assert (a.learned is None) == (b.learned is None)
        if a.learned is not None and np.isfinite(b.learned):
            assert a.learned == pytest.approx(b.learned, abs=1e-6), (a.outcome, a.regimen, a.feature, a.term)
    assert "pfs_log_hazard" not in score_predictions(scores, pfs_log_hazard=False)  # an RMST risk is not a hazard


def _lung_only(seed: int, n: int):
    return simulate_cohort(n, seed, randomised=True, cancer_mix={"LUAD": 1.0})


@pytest.mark.parametrize("outcome", ["response", "pfs"])
def test_smoking_effect_on_pembrolizumab_has_the_right_sign(outcome, lung_rows):
    """The weakest encoded effect (+0.6 log-odds; PFS log HR -0.36) needs a lung-only cohort to show at this size."""
    row = next(r for r in lung_rows if r.outcome == outcome and r.regimen == "pembrolizumab")
    assert row.sign_ok, row.to_dict()


@pytest.fixture(scope="module")
def lung_rows():
    train = _lung_only(21, 3000)
    cfg = default_training_config(n_bootstrap=0, endpoints=("pfs",), refit=False)
    bundle = train_bundle(train.tables, None, config=cfg, trained_on="test")
    test = _lung_only(22, 1500)
    X, keys = candidate_frame(test.tables, bundle.schema)
    preds = model_predictions(bundle, X, keys)
    return effect_table(preds, test.truth_tables["oracle"], true_features(test.tables, test.truth_tables))
