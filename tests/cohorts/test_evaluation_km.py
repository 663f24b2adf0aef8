"""Kaplan-Meier group comparison: medians, numbers at risk, log-rank."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cohorts.evaluation import km_compare


def test_km_compare_medians_at_risk_and_logrank():
    # 5 per group so S(t) never equals 0.5 exactly (lifelines' median is the first t with S(t) < 0.5)
    t = [1, 2, 3, 4, 5, 10, 11, 12, 13, 14]
    e = [1] * 10
    g = ["early"] * 5 + ["late"] * 5
    res = km_compare(t, e, g, times=[0, 5, 12], order=("late", "early"))
    late, early = res.group("late"), res.group("early")
    assert [x.label for x in res.groups] == ["late", "early"]
    assert (early.n, early.events, late.n) == (5, 5, 5)
    assert early.median == pytest.approx(3.0) and late.median == pytest.approx(12.0)
    assert early.at_risk == (5, 1, 0) and late.at_risk == (5, 5, 3)
    assert early.survival[1] == pytest.approx(0.0) and late.survival[2] == pytest.approx(0.4)
    assert res.logrank_p < 0.01 and res.logrank_statistic > 5
    json.dumps(res.to_dict())  # serialisable
    assert "p = " in res.format(unit=" d")


def test_km_median_not_reached_and_identical_groups():
    t = np.r_[np.arange(1, 11), np.arange(1, 11)].astype(float)
    e = np.r_[np.zeros(10), np.zeros(10)].astype(bool)
    e[[0, 10]] = True
    res = km_compare(t, e, ["a"] * 10 + ["b"] * 10)
    assert res.group("a").median is None  # survival never reaches 0.5
    assert res.logrank_p == pytest.approx(1.0)
    assert "not reached" in res.format()


def test_km_needs_two_groups():
    with pytest.raises(ValueError, match="two non-empty groups"):
        km_compare([1, 2], [1, 1], ["a", "a"])
