"""Survival metrics: hand-computed examples, pycox's definitions re-derived pair by pair, sksurv cross-check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cohorts.evaluation import (
    antolini_c,
    brier_scores,
    censoring_km,
    harrell_c,
    integrated_brier_score,
    pycox_time_grid,
    survival_at,
)

COLS = [0.0, 1.0, 2.0, 3.0]


def _table(rows):
    return pd.DataFrame(rows, columns=COLS)


def test_antolini_hand_example_all_concordant():
    # A dies at 1, B dies at 2, C censored at 3; comparable pairs (A,B), (A,C), (B,C)
    surv = _table([[1, 0.5, 0.4, 0.3], [1, 0.6, 0.2, 0.1], [1, 0.9, 0.8, 0.7]])
    assert antolini_c(surv, [1, 2, 3], [1, 1, 0]) == pytest.approx(1.0)


def test_antolini_hand_example_tie_counts_zero_but_half_in_adjusted():
    # S_A(1) == S_B(1): Antolini counts the tie as not concordant (2/3), pycox's adj variant as 1/2 (2.5/3)
    surv = _table([[1, 0.5, 0.4, 0.3], [1, 0.5, 0.2, 0.1], [1, 0.9, 0.8, 0.7]])
    assert antolini_c(surv, [1, 2, 3], [1, 1, 0]) == pytest.approx(2 / 3)
    assert antolini_c(surv, [1, 2, 3], [1, 1, 0], method="adj_antolini") == pytest.approx(2.5 / 3)


def test_antolini_uses_curves_at_each_event_time_not_one_risk_score():
    # crossing curves: at t=1 A is lower than B (concordant), B is higher than C at t=2 (discordant)
    surv = _table([[1, 0.3, 0.2, 0.1], [1, 0.6, 0.5, 0.4], [1, 0.9, 0.45, 0.3]])
    # pairs: (A,B) 0.3<0.6 yes, (A,C) 0.3<0.9 yes, (B,C) S_B(2)=0.5 < S_C(2)=0.45 no
    assert antolini_c(surv, [1, 2, 3], [1, 1, 0]) == pytest.approx(2 / 3)
    # step lookup is right-continuous: an event at 1.5 reads the column t=1
    assert antolini_c(surv, [1.5, 2, 3], [1, 1, 0]) == pytest.approx(2 / 3)
    assert survival_at(surv, [1.5, 0.2, 9]).tolist()[0] == [0.3, 1.0, 0.1]


def _antolini_loop(S: np.ndarray, cols: np.ndarray, t: np.ndarray, d: np.ndarray, adj: bool) -> float:
    """pycox concordance.py re-derived as a plain double loop (reference for the vectorised version)."""
    idx = np.clip(np.searchsorted(cols, t, side="right") - 1, 0, len(cols) - 1)
    num = den = 0.0
    for i in range(len(t)):
        for j in range(len(t)):
            if i == j:
                continue
            si, sj = S[i, idx[i]], S[j, idx[i]]
            if not adj:
                comp = (t[i] < t[j] and d[i]) or (t[i] == t[j] and d[i] and not d[j])
                num += comp and si < sj
            else:
                comp = (t[i] < t[j] and d[i]) or (t[i] == t[j] and (d[i] or d[j]))
                if not comp:
                    continue
                if t[i] < t[j] or (d[i] and not d[j]):
                    num += (si < sj) + 0.5 * (si == sj)
                elif d[i] and d[j]:
                    num += 1 - 0.5 * (si != sj)
                else:
                    num += (si > sj) + 0.5 * (si == sj)
            den += comp
    return num / den


@pytest.mark.parametrize("adj", [False, True])
def test_antolini_matches_pairwise_definition_with_ties(adj):
    rng = np.random.default_rng(3)
    n = 40
    t = np.round(rng.exponential(5, n)) + 1  # tied times
    d = rng.random(n) < 0.6
    cols = np.arange(0.0, 30.0, 2.0)
    S = np.round(np.exp(-np.outer(rng.exponential(1, n), cols / 8)), 1)  # tied predictions
    ours = antolini_c(pd.DataFrame(S, columns=cols), t, d, method="adj_antolini" if adj else "antolini")
    assert ours == pytest.approx(_antolini_loop(S, cols, t, d, adj), abs=1e-12)


def test_harrell_c_orders_by_risk_and_counts_ties_half():
    t, e = [1, 2, 3, 4], [1, 1, 1, 0]
    assert harrell_c(t, e, [4, 3, 2, 1]) == pytest.approx(1.0)
    assert harrell_c(t, e, [1, 2, 3, 4]) == pytest.approx(0.0)
    assert harrell_c(t, e, [1, 1, 1, 1]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="risk has 2 values"):
        harrell_c(t, e, [1, 2])


def test_censoring_km_hand_example():
    G = censoring_km([1, 2, 3], [0, 1, 1])  # one censoring at 1 among 3 at risk
    assert G.index.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert G.tolist() == pytest.approx([1, 2 / 3, 2 / 3, 2 / 3])


def test_brier_hand_example_ipcw_weights():
    # 1 censored at 1 (weight 0 at t=2), 2 event at 2 (case, weight 1/G(2-)=1.5), 3 at risk (1/G(2)=1.5)
    surv = pd.DataFrame([[1, 0.8, 0.6], [1, 0.5, 0.3], [1, 0.9, 0.7]], columns=[0.0, 1.5, 2.5])
    bs = brier_scores(surv, [1, 2, 3], [0, 1, 1], [2.0])
    assert bs[0] == pytest.approx((0.25 * 1.5 + 0.01 * 1.5) / 3.0)


def test_integrated_brier_two_points_is_the_trapezoid():
    surv = pd.DataFrame([[1, 0.4], [1, 0.9]], columns=[0.0, 2.0])
    t, e = [1, 3], [1, 0]
    assert brier_scores(surv, t, e, [1.0, 2.0]) == pytest.approx([0.5, 0.085])
    assert integrated_brier_score(surv, t, e, [1.0, 2.0]) == pytest.approx((0.5 + 0.085) / 2)
    assert pycox_time_grid([3, 1, 2]).tolist()[:2] == pytest.approx([1.0, 1 + 2 / 99])


def test_perfect_and_uninformative_predictions():
    rng = np.random.default_rng(0)
    t = rng.exponential(10, 200) + 0.1
    e = np.ones(200, dtype=bool)
    grid = pycox_time_grid(t)
    cols = np.sort(np.r_[0.0, t])
    oracle = pd.DataFrame((cols[None, :] < t[:, None]).astype(float), columns=cols)  # step at own time
    assert integrated_brier_score(oracle, t, e, grid) == pytest.approx(0.0, abs=1e-12)
    flat = pd.DataFrame(np.full((200, len(cols)), 0.5), columns=cols)
    assert antolini_c(flat, t, e) == 0.0  # every pair tied
    assert antolini_c(flat, t, e, method="adj_antolini") == pytest.approx(0.5)


def test_bad_shapes_are_refused():
    surv = _table([[1, 0.5, 0.4, 0.3]])
    with pytest.raises(ValueError, match="1 rows for 2"):
        antolini_c(surv, [1, 2], [1, 1])
    with pytest.raises(ValueError, match="increasing"):
        antolini_c(pd.DataFrame([[1, 0.5]], columns=[1.0, 0.0]), [1], [1])


def test_brier_close_to_scikit_survival_when_censoring_is_light():
    sk = pytest.importorskip("sksurv.metrics")
    from sksurv.util import Surv

    rng = np.random.default_rng(1)
    n = 300
    t = np.round(rng.exponential(10, n), 3) + 0.01
    e = rng.random(n) < 0.9
    cols = np.r_[0.0, np.linspace(0.5, 40, 80)]
    S = np.exp(-np.outer(rng.uniform(0.05, 0.2, n), cols))
    surv = pd.DataFrame(S, columns=cols)
    grid = np.linspace(1, 20, 30)
    y = Surv.from_arrays(e, t)
    _, theirs = sk.brier_score(y, y, survival_at(surv, grid), grid)
    ours = brier_scores(surv, t, e, grid)
    # same Graf et al. estimator; pycox normalises by the weights and uses G(T-), sksurv by n and G(T)
    assert np.max(np.abs(ours - theirs)) < 0.01
