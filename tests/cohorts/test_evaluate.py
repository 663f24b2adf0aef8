"""cohorts.evaluate: predictive metrics, decision metrics against the simulator's oracle, groups, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cohorts.evaluate import _decisions, binary_metrics, evaluate_bundle, oracle_rank_utility, reliability
from cohorts.simulate import simulate_cohort
from cohorts.train import GENOMIC_GROUPS, train_cohort
from recommender.cli import main
from recommender.models.training import TrainingConfig

# the four survival candidates of before issue 13's forest/AFT/stack: these tests are about the plumbing
FAST = TrainingConfig(n_bootstrap=0, n_bootstrap_toxicity=0,
                      survival_candidates=("boosted", "boosted_shallow", "cox", "blend"))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Train (1,000 patients, seed 0) and test (300 patients, seed 4) cohorts, phenotype priors; two bundles."""
    root = tmp_path_factory.mktemp("evaluate")
    simulate_cohort(1000, 0).write(root / "train")
    simulate_cohort(300, 4).write(root / "test")
    train_cohort(root / "train", root / "full", config=FAST)
    train_cohort(root / "train", root / "nogen", exclude_groups=GENOMIC_GROUPS, config=FAST)
    return {"root": root, "full": evaluate_bundle(root / "test", root / "full"),
            "nogen": evaluate_bundle(root / "test", root / "nogen")}


def test_reliability_bins_and_ece_by_hand():
    y = np.array([0, 0, 1, 1, 1])
    p = np.array([0.05, 0.15, 0.15, 0.95, 1.0])
    bins, ece = reliability(y, p)
    assert [b["n"] for b in bins] == [1, 2, 2]
    assert bins[1]["observed"] == pytest.approx(0.5) and bins[2]["mean_predicted"] == pytest.approx(0.975)
    # |0.05-0| * 1/5 + |0.15-0.5| * 2/5 + |0.975-1| * 2/5
    assert ece == pytest.approx(0.01 + 0.14 + 0.01)
    m = binary_metrics(y, p)
    assert m["auroc"] == pytest.approx(1.0 - 0.5 / 6)  # one tied pair (0.15, 0.15) of six
    assert m["brier"] == pytest.approx(np.mean((p - y) ** 2))


def test_decisions_oracle_predictions_have_zero_regret():
    key = pd.DataFrame({"patient_id": ["a", "a", "a", "b", "b"], "regimen": ["X", "Y", "Z", "X", "Y"]})
    oracle = pd.DataFrame({"p_response": [0.2, 0.6, 0.4, 0.5, 0.1], "median_pfs_days": [200.0, 400, 300, 365, 365],
                           "p_severe:Diarrhea": [0.1, 0.2, 0.05, 0.0, 0.3], "utility": [9.0, 0, 0, 0, 0]})
    true_u = oracle_rank_utility(oracle)
    s365 = np.exp(-np.log(2) * (365.0 / oracle["median_pfs_days"].to_numpy()) ** 1.3)
    # the ranking's formula (recommender.rank.utility_value), not the simulator's own "utility" column
    assert true_u == pytest.approx(oracle["p_response"] + s365 - 0.5 * oracle["p_severe:Diarrhea"])
    perfect = {"toxicity": oracle[["p_severe:Diarrhea"]].rename(columns=lambda c: c.split(":")[1]),
               "p_response": oracle["p_response"].to_numpy(), "survival": {"pfs": {"s_horizon": s365}}}
    d = _decisions(key, oracle, perfect, {"X": 0, "Y": 1})
    assert d["regret"].tolist() == pytest.approx([0.0, 0.0]) and d["best_chosen"].tolist() == [1.0, 1.0]
    best = [true_u[:3].max(), true_u[3:].max()]
    assert d["regret_constant"].tolist() == pytest.approx([best[0] - true_u[0], best[1] - true_u[3]])
    assert d.loc[0, "spearman_utility"] == pytest.approx(1.0)
    worst = {**perfect, "p_response": -3 * perfect["p_response"], "survival": {"pfs": {"s_horizon": -3 * s365}},
             "toxicity": -3 * perfect["toxicity"]}
    d = _decisions(key, oracle, worst, {"X": 0})
    assert d["regret"].tolist() == pytest.approx([best[0] - true_u[:3].min(), best[1] - true_u[3:].min()])
    assert d["best_chosen"].sum() == 0


def _probabilities(section):
    yield section["response"]["auroc"], section["response"]["brier"], section["response"]["ece"]
    for t in section["toxicity"].values():
        yield t["auroc"], t["brier"], t["ece"]
    for ep in ("pfs", "os"):
        yield section[ep]["harrell_c"], section[ep]["integrated_brier_score"]
    d = section["decision"]
    yield d["best_chosen_rate"], d["constant_best_chosen_rate"], d["random_best_chosen_rate"]


def test_metrics_are_probabilities_and_groups_cover_the_cohort(run):
    rep = run["full"].to_dict()
    for section in [rep["overall"], *rep["by_population"].values(), *rep["by_sex"].values()]:
        for vals in _probabilities(section):
            assert all(v is None or 0.0 <= v <= 1.0 for v in vals), vals
        assert section["decision"]["regret"] >= 0
    assert rep["overall"]["toxicity"], "no toxicity evaluated"
    assert set(rep["by_sex"]) == {"female", "male"}
    assert sum(g["n"] for g in rep["by_population"].values()) == rep["n_patients"] == 300
    assert sum(g["decision"]["n"] for g in rep["by_sex"].values()) == 300
    assert json.loads(run["full"].to_json())["bundle_id"] == run["full"].bundle_id


def test_genomic_bundle_beats_constant_and_non_genomic_recommenders(run):
    full, nogen = run["full"].overall["decision"], run["nogen"].overall["decision"]
    assert full["regret"] < full["constant_regret"]
    assert full["regret"] < full["random_regret"]
    assert full["regret"] < nogen["regret"]
    assert full["best_chosen_rate"] > nogen["best_chosen_rate"]
    assert run["nogen"].feature_groups_excluded == ("biomarker", "dnalm", "pgx")
    assert run["full"].feature_groups_excluded == ()
    assert run["full"].overall["pfs"]["harrell_c"] > 0.55


def test_cli_cohort_evaluate_writes_report(run, tmp_path, capsys):
    root = run["root"]
    out = tmp_path / "report.json"
    assert main(["cohort", "evaluate", str(root / "test"), "--bundle", str(root / "nogen"), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "regret" in text and "AUROC" in text
    data = json.loads(out.read_text())
    assert data["overall"]["decision"]["regret"] == pytest.approx(run["nogen"].overall["decision"]["regret"])
    assert main(["cohort", "evaluate", str(root / "test"), "--bundle", str(tmp_path / "missing")]) == 1
