"""Paired bootstrap intervals of learned - true in the per-effect table (``effect_table(bootstrap=B)``).

Fast: no model is trained; the "learned" predictions are the simulator's own truth, exactly or distorted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cohorts import simulate_model as M
from cohorts.sim_effects import effect_table, true_features
from cohorts.simulate import PhenotypePriorSource, simulate_cohort


class _EnrichedDpyd(PhenotypePriorSource):
    def draw(self, n, rng, female_share):
        g = super().draw(n, rng, female_share)
        g.phenotypes["dpyd_activity_score"] = np.where(rng.random(n) < 0.3, 1.0, 2.0)
        return g


@pytest.fixture(scope="module")
def cohort():
    sim = simulate_cohort(1200, 5, randomised=True, cancer_mix={"COAD": 0.5, "BRCA": 0.5}, germline=_EnrichedDpyd())
    oracle = sim.truth_tables["oracle"]
    feats = true_features(sim.tables, sim.truth_tables)
    # the oracle in the layout of model predictions; PFS as a log hazard (the contrast is taken as is)
    preds = oracle[["patient_id", "regimen", "p_response"]
                   + [c for c in oracle.columns if c.startswith("p_severe:")]].copy()
    preds["pfs_log_hazard"] = -M.WEIBULL_SHAPE * np.log(oracle["median_pfs_days"].to_numpy(float))
    return oracle, feats, preds


def test_a_perfect_model_has_zero_width_intervals_at_zero(cohort):
    oracle, feats, preds = cohort
    rows = effect_table(preds, oracle, feats, bootstrap=50)
    scored = [r for r in rows if r.true is not None and r.learned is not None]
    assert len(scored) >= 10
    for r in scored:
        assert r.difference_ci is not None, r.to_dict()
        assert r.difference_ci == pytest.approx((0.0, 0.0), abs=1e-9), r.to_dict()


def test_an_overstated_toxicity_effect_gives_an_interval_away_from_zero(cohort):
    """Carriers' predicted risk doubled: learned - true is about log 2 and its interval excludes 0."""
    oracle, feats, preds = cohort
    distorted = preds.copy()
    carrier = distorted["patient_id"].map(feats["dpyd_deficit"] > 0).to_numpy(bool)
    col = "p_severe:Diarrhea"
    distorted.loc[carrier, col] = distorted.loc[carrier, col] * 2
    rows = effect_table(distorted, oracle, feats, bootstrap=200)
    row = next(r for r in rows if r.outcome == "toxicity" and r.feature == "dpyd_deficit" and r.regimen == "FOLFOX"
               and r.term == "Diarrhea")
    assert row.learned - row.true == pytest.approx(np.log(2), abs=1e-6)
    lo, hi = row.difference_ci
    assert 0 < lo <= np.log(2) <= hi


def test_intervals_are_off_by_default_and_serialise(cohort):
    oracle, feats, preds = cohort
    rows = effect_table(preds, oracle, feats)
    assert all(r.difference_ci is None for r in rows)
    frame = pd.DataFrame([r.to_dict() for r in effect_table(preds, oracle, feats, bootstrap=20)])
    assert "difference_ci" in frame.columns


def test_the_interval_covers_the_point_difference_under_noise(cohort):
    """A noisy model (multiplicative noise on every predicted risk): each interval holds its point difference."""
    oracle, feats, preds = cohort
    rng = np.random.default_rng(0)
    noisy = preds.copy()
    for col in [c for c in noisy.columns if c.startswith("p_severe:")]:
        noisy[col] = np.clip(noisy[col] * np.exp(rng.normal(0, 0.3, len(noisy))), 1e-6, 1 - 1e-6)
    rows = [r for r in effect_table(noisy, oracle, feats, bootstrap=200, seed=1)
            if r.outcome == "toxicity" and r.difference_ci is not None]
    assert rows
    for r in rows:
        lo, hi = r.difference_ci
        assert lo <= r.learned - r.true <= hi, r.to_dict()
        assert hi > lo
