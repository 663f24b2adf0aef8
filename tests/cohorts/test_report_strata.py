"""Kaplan-Meier and Cox by cancer type: no log-rank pooled across cancer types; regimens top N + other."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cohorts.report_stats import OTHER_REGIMENS, regimen_km, stratified_logrank, survival_comparison


def _frame(seed: int = 0) -> pd.DataFrame:
    """Two cancer types with very different survival; within each, 'recommended' makes no difference, but
    the recommended option is received far more often in the good-prognosis cancer (Simpson's setting)."""
    rng = np.random.default_rng(seed)
    rows = []
    for ct, scale, p_rec in (("GOOD", 900.0, 0.85), ("POOR", 150.0, 0.15)):
        for _ in range(200):
            rows.append({"cancer_type": ct, "recommended": rng.random() < p_rec, "pfs_days": rng.exponential(scale),
                         "pfs_event": True, "age": rng.normal(60, 8), "ecog": rng.integers(0, 3), "stage": "IV"})
    return pd.DataFrame(rows)


def test_stratified_logrank_equals_lifelines_in_one_stratum():
    from lifelines.statistics import logrank_test

    rng = np.random.default_rng(3)
    t, e, g = rng.exponential(10, 300), rng.random(300) < 0.7, rng.random(300) < 0.5
    ref = logrank_test(t[g], t[~g], e[g], e[~g])
    stat, p = stratified_logrank(t, e, g, np.zeros(300))
    assert stat == pytest.approx(ref.test_statistic) and p == pytest.approx(ref.p_value)


def test_comparison_across_cancer_types_is_stratified_not_pooled():
    df = _frame()
    comp = survival_comparison(df, "pfs")
    pooled = stratified_logrank(df["pfs_days"], df["pfs_event"], df["recommended"], np.zeros(len(df)))[1]
    assert pooled < 1e-6  # pooling mixes the cancers' prognosis into a spurious difference
    assert comp.stratified_by == "cancer_type" and comp.logrank_p > 0.01  # stratified: no difference
    assert "stratified by cancer type" in comp.logrank_note
    models = [h.model for h in comp.hazard_ratios]
    assert "stratified by cancer type" in models and any("adjusted for" in m and "stratified" in m for m in models)
    strat = next(h for h in comp.hazard_ratios if h.model == "stratified by cancer type")
    assert 0.7 < strat.hr < 1.4
    assert [s.cancer_type for s in comp.strata] == ["GOOD", "POOR"]
    assert all(len(s.curves) == 2 and s.groups for s in comp.strata)


def test_one_cancer_type_keeps_the_plain_log_rank():
    df = _frame()
    comp = survival_comparison(df[df["cancer_type"] == "GOOD"], "pfs")
    assert comp.stratified_by is None and comp.strata == () and comp.logrank_note is None


def test_regimen_km_top_n_plus_other_per_cancer_type():
    rng = np.random.default_rng(1)
    regimens = [f"R{i}" for i in range(9)]
    df = pd.DataFrame({"cancer_type": rng.choice(["A", "B"], 400, p=[0.7, 0.3]),
                       "regimen": rng.choice(regimens, 400), "time": rng.exponential(300, 400),
                       "event": rng.random(400) < 0.8})
    strata = regimen_km(df, top_n=4)
    assert [s.cancer_type for s in strata] == ["A", "B"]  # largest first
    for s in strata:
        labels = [g.label for g in s.groups]
        assert len(labels) == 5 and labels[-1] == OTHER_REGIMENS
        assert sum(g.n for g in s.groups) == s.n
        assert all(len(g.at_risk) == len(s.times) for g in s.groups) and s.times[0] == 0.0
        # curves are step functions: survival never increases
        assert all(np.all(np.diff(c.survival) <= 1e-12) for c in s.curves)
