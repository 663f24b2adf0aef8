"""The fitted variant-effect combination: parts, non-negative L1 fit (a part without signal gets weight 0),
JSON round trip, contributions, the shipped combination, and the labelled-set loaders."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from genomics.dnalm.variant_effect import (
    DEFAULT_COMBINATION,
    PARTS,
    FittedCombination,
    assess,
    fit_combination,
    load_combination,
    part_values,
)
from genomics.errors import ModelError


def test_parts_are_oriented_higher_is_more_damaging_and_missing_is_none():
    lof = part_values("stop_gained", True, 40, -3.0)
    syn = part_values("synonymous", True, 40, 0.5)
    assert lof["consequence"] == 1.0 and syn["consequence"] == 0.0
    assert lof["lm"] == 3.0 and syn["lm"] == -0.5
    near, far = part_values("intron", False, 1, None), part_values("intron", False, 150, None)
    assert near["splice"] == 1.0 and 0 < far["splice"] < near["splice"]
    assert part_values("intron", False, 5000, None)["splice"] == 0.0
    assert part_values(None, None, None, float("nan")) == {"consequence": None, "splice": None, "lm": None}
    # regression: "no transcript in the (small) table" is a gap, never evidence of a benign variant
    assert part_values("outside_transcript", False, None, None) == {"consequence": None, "splice": None, "lm": None}


def _synthetic(n=600, seed=0):
    rng = np.random.default_rng(seed)
    x_signal = rng.normal(size=n)
    x_noise = rng.normal(size=n)
    x_anti = rng.normal(size=n)
    eta = 2.0 * x_signal - 1.5 * x_anti
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    X = np.stack([x_signal, x_noise, x_anti], axis=1)
    groups = [f"g{i % 60}" for i in range(n)]
    ds = ["a" if i % 2 else "b" for i in range(n)]
    return X, y, ds, groups


def test_fit_gives_zero_weight_to_noise_and_to_a_part_pointing_the_wrong_way():
    X, y, ds, groups = _synthetic(seed=2)
    comb = fit_combination(X, y, ds, groups, parts=("signal", "noise", "anti"), product_intercept="a", n_boot=30)
    w = dict(zip(comb.parts, comb.weights))
    assert w["signal"] > 0.5
    assert w["anti"] == 0.0  # non-negative: a part can only add evidence in its documented direction
    assert w["noise"] == 0.0  # dropped: removing it does not worsen the grouped-CV log-loss by > 1 SE
    assert set(comb.training["dropped_parts"]) == {"noise", "anti"}
    assert comb.contributing_parts()[0] == "signal"
    assert len(comb.bootstrap) >= 25 and all(len(r) == 4 for r in comb.bootstrap)
    assert set(comb.training["cv_logloss_by_l1"]) and comb.l1 in {float(k) for k in comb.training["cv_logloss_by_l1"]}


def test_combination_json_round_trip_and_interval_brackets_estimate(tmp_path):
    X, y, ds, groups = _synthetic(seed=1)
    comb = fit_combination(X, y, ds, groups, parts=("signal", "noise", "anti"), product_intercept="a", n_boot=40)
    path = tmp_path / "c.json"
    path.write_text(comb.to_json())
    back = load_combination(path)
    assert back == comb
    p = back.predict_proba(X[:20])
    iv = back.interval(X[:20])
    assert np.all(iv[:, 0] <= p + 1e-9) and np.all(p <= iv[:, 1] + 1e-9)


def test_unreadable_combination_is_a_clear_error(tmp_path):
    bad = tmp_path / "c.json"
    bad.write_text("{not json")
    with pytest.raises(ModelError, match="variant-effect combination"):
        load_combination(bad)


def _toy_combination(lm_weight=0.0):
    return FittedCombination(parts=PARTS, mean=(0.1, 0.2, 0.5), scale=(0.3, 0.3, 1.0), weights=(2.0, 1.0, lm_weight),
                             intercepts={"enigma": -3.0, "vexseq": -1.0}, product_intercept="enigma", l1=0.01,
                             bootstrap=((2.0, 1.0, lm_weight, -3.0), (1.5, 0.8, lm_weight, -3.2)), lm_model="m@1")


def test_assess_contributions_sum_to_log_odds_and_missing_parts_contribute_nothing():
    comb = _toy_combination(lm_weight=0.5)
    e = assess("stop_gained", True, 30, -2.0, combination=comb, lm_model="m@1")
    assert e.log_odds == pytest.approx(e.baseline_log_odds + sum(e.contributions.values()))
    assert e.probability == pytest.approx(1 / (1 + math.exp(-e.log_odds)))
    assert e.interval[0] <= e.interval[1] and e.not_assessed == ()
    none = assess(None, None, None, None, combination=comb)
    assert none.contributions == {"consequence": 0.0, "splice": 0.0, "lm": 0.0}
    assert none.not_assessed == PARTS and none.log_odds == pytest.approx(none.baseline_log_odds)


def test_llr_from_another_model_is_shown_but_not_combined():
    """Regression: an LLR on another model's scale must not enter weights fitted for the shipped LM."""
    comb = _toy_combination(lm_weight=0.5)
    same = assess("missense", True, 30, -4.0, combination=comb, lm_model="m@1")
    other = assess("missense", True, 30, -4.0, combination=comb, lm_model="byo@2")
    assert other.parts["lm"] == 4.0 and "lm" in other.not_assessed and other.contributions["lm"] == 0.0
    assert same.contributions["lm"] == pytest.approx(0.5 * 4.0 / 1.0)


def test_combined_score_is_minus_fitted_log_odds_lower_is_more_damaging():
    from genomics.dnalm.consequence import combined_score

    lof = combined_score(None, "stop_gained", in_exon=True, exon_boundary_distance=40)
    syn = combined_score(None, "synonymous", in_exon=True, exon_boundary_distance=40)
    assert lof < syn


def test_shipped_combination_has_training_metrics_and_nonnegative_weights():
    comb = load_combination(DEFAULT_COMBINATION)
    assert comb.parts == PARTS and all(w >= 0 for w in comb.weights)
    assert comb.product_intercept == "enigma" and comb.lm_model
    assert "BRCA1 held out" in comb.training["sets"] and comb.training["bootstrap_refits"] >= 100
    table = comb.metrics["table"]
    assert any(r["set"] == "enigma BRCA1" and r["score"].startswith("combined") for r in table)
    assert comb.metrics["command"].startswith("python benchmarks/eval_variant_effect.py")
    json.loads(DEFAULT_COMBINATION.read_text())  # plain JSON, no pickle


def test_combined_never_below_consequence_alone_on_held_out_brca1():
    """The shipped benchmark figures: on ENIGMA BRCA1 (held out of the fit) the combined score is not
    worse than the consequence prior alone (point estimates)."""
    table = load_combination(DEFAULT_COMBINATION).metrics["table"]
    get = {(r["set"], r["score"].split(" [")[0]): r for r in table}
    assert get[("enigma BRCA1", "combined")]["auroc"] >= get[("enigma BRCA1", "consequence alone")]["auroc"] - 1e-9


# ------------------------------------------------------------------ labelled sets (real files, ../shared)
@pytest.mark.needs_shared
def test_labelled_sets_load_with_documented_sizes(shared_data):
    from genomics.dnalm.labelled_sets import load_enigma, load_mapsy, load_vexseq

    folder = shared_data / "variant_effect"
    vex = load_vexseq(folder)
    assert {r.split for r in vex} == {"train", "test"} and len(vex) > 1900
    assert all(r.window[r.offset] == r.ref for r in vex if r.window)
    assert sum(r.label for r in vex) > 200 and len({r.group for r in vex}) > 100
    mapsy = load_mapsy(folder)
    assert len(mapsy) > 700 and all(r.window[r.offset] == r.ref != r.alt for r in mapsy)
    en = load_enigma(folder)
    brca1 = [r for r in en if r.gene == "BRCA1"]
    assert len(brca1) > 400 and all(r.window and r.window[r.offset] == r.ref for r in brca1)
    assert {r.consequence for r in en if r.label == 1} >= {"stop_gained", "canonical_splice", "missense"}


def test_evaluation_sequences_are_cut_from_training_but_lone_repeats_are_not():
    from genomics.dnalm.pretrain_data import Segment, exclude_sequences, revcomp

    rng = np.random.default_rng(5)
    dna = lambda n: "".join(rng.choice(list("ACGT"), n))
    construct = dna(160)
    repeat = construct[40:64]  # one of its probes, alone elsewhere (e.g. an Alu fragment)
    train = dna(20_000) + revcomp(construct) + dna(20_000) + repeat + dna(10_000)
    segs = [Segment("s:train", "train", train), Segment("s:valid", "valid", construct)]
    out, cuts = exclude_sequences(segs, [construct], margin=2000)
    kept = "".join(s.seq for s in out if s.split == "train")
    assert revcomp(construct) not in kept and len(cuts) == 1
    assert repeat in kept  # the lone probe hit was not cut
    assert any(s.split == "valid" and s.seq == construct for s in out)
