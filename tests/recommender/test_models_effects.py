"""The interaction learners (recommender.models.effects): they represent drug x covariate effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.models.effects import (
    InteractionCox,
    InteractionDesign,
    InteractionLogit,
    InteractionToxicity,
    is_modifier_column,
    is_treatment_column,
)


def _frame(n: int = 1500, seed: int = 0) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    drug = rng.random(n) < 0.5
    marker = rng.random(n) < 0.3
    age = rng.normal(60, 10, n)
    X = pd.DataFrame({"demo_age": age, "bm_egfr_sensitising": marker.astype(float),
                      "tx_drug_osimertinib": drug.astype(float), "tx_drug_carboplatin": (~drug).astype(float),
                      "bm_option_sensitivity_level": (drug & marker).astype(float) * 0})
    # only the drug x marker interaction matters (+2.5 log-odds), plus age
    logit = -1.0 + 2.5 * (drug & marker) - 0.02 * (age - 60)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    hazard = np.exp(-1.5 * (drug & marker) + 0.02 * (age - 60)) / 300
    t = rng.exponential(1 / hazard)
    c = rng.uniform(100, 900, n)
    return X, {"y": y, "time": np.minimum(t, c), "event": t <= c}


def test_column_roles():
    assert is_treatment_column("tx_drug_osimertinib")
    assert not is_treatment_column("tx_class_platinum")
    assert is_modifier_column("bm_egfr_sensitising") and is_modifier_column("pgx_dpyd_activity_score")
    assert not is_modifier_column("bm_option_sensitivity_level")
    assert not is_modifier_column("pgx_dpyd_phenotype__missing")


def test_design_has_the_drug_x_marker_product_and_drops_constant_columns():
    X, _ = _frame()
    d = InteractionDesign().fit(X)
    assert ("tx_drug_osimertinib", "bm_egfr_sensitising") in d.pairs_
    assert "bm_option_sensitivity_level" not in d.main_  # constant in training
    assert d.transform(X).shape == (len(X), len(d.names))


def test_logit_recovers_the_interaction_an_additive_model_cannot():
    X, o = _frame()
    m = InteractionLogit(penalty=1e-3).fit(X, o["y"])
    eff = m.effects()
    assert eff["tx_drug_osimertinib*bm_egfr_sensitising"] == pytest.approx(2.5, abs=0.8)
    p = m.predict_proba(X)[:, 1]
    both = (X["tx_drug_osimertinib"] == 1) & (X["bm_egfr_sensitising"] == 1)
    assert p[both].mean() > p[~both].mean() + 0.3


def test_contributions_add_up_to_the_margin_and_credit_the_modifier():
    X, o = _frame()
    m = InteractionLogit(penalty=1e-3).fit(X, o["y"])
    c = m.contributions(X.iloc[:20])
    assert list(c.columns) == [*X.columns, "bias"]
    np.testing.assert_allclose(c.sum(axis=1).to_numpy(), m.decision_function(X.iloc[:20]), rtol=1e-9, atol=1e-9)
    row = X.index[(X["tx_drug_osimertinib"] == 1) & (X["bm_egfr_sensitising"] == 1)][0]
    assert m.contributions(X.loc[[row]])["bm_egfr_sensitising"].iloc[0] > 0.3


def test_penalty_is_chosen_on_held_out_rows_when_not_given():
    X, o = _frame(800)
    m = InteractionLogit().fit(X, o["y"])
    assert set(m.selection_) == {str(p) for p in m.penalties}
    assert m.penalty_ in m.penalties


def test_cox_recovers_the_interaction_hazard_ratio():
    X, o = _frame(2000, seed=1)
    m = InteractionCox(penalty=1e-3).fit(X, o["time"], o["event"])
    assert m.effects()["tx_drug_osimertinib*bm_egfr_sensitising"] == pytest.approx(-1.5, abs=0.5)
    s = m.predict_survival(X.iloc[:5], times=[365.0])
    assert s.shape == (5, 1) and ((s.to_numpy() > 0) & (s.to_numpy() < 1)).all()


def test_save_load_round_trip_is_json_and_bitwise(tmp_path):
    X, o = _frame(600)
    lo = InteractionLogit(penalty=1e-2).fit(X, o["y"])
    cx = InteractionCox(penalty=1e-2).fit(X, o["time"], o["event"])
    tx = InteractionToxicity(min_events=5, logit_params={"penalty": 1e-2}).fit(
        X, pd.DataFrame({"Diarrhea": o["y"], "Rare": np.r_[np.ones(2), np.zeros(len(X) - 2)].astype(int)}))
    assert tx.terms_ == ["Diarrhea"] and "Rare" in tx.skipped_terms_
    paths = lo.save(tmp_path, "r") + cx.save(tmp_path, "c") + tx.save(tmp_path, "t")
    assert all(p.suffix == ".json" for p in paths)
    np.testing.assert_array_equal(InteractionLogit.load(tmp_path, "r").predict_proba(X), lo.predict_proba(X))
    np.testing.assert_array_equal(InteractionCox.load(tmp_path, "c").predict_risk(X), cx.predict_risk(X))
    pd.testing.assert_frame_equal(InteractionToxicity.load(tmp_path, "t").predict_proba(X), tx.predict_proba(X))


def test_single_class_labels_are_refused():
    X, _ = _frame(100)
    with pytest.raises(ValueError, match="both classes"):
        InteractionLogit().fit(X, np.zeros(len(X)))


def test_prediction_of_a_row_does_not_depend_on_the_batch():
    """Scoring promises batch == one patient at a time, bit for bit (a BLAS product blocks rows by batch size)."""
    X, o = _frame(700)
    lo = InteractionLogit(penalty=1e-2).fit(X, o["y"])
    cx = InteractionCox(penalty=1e-2).fit(X, o["time"], o["event"])
    whole_p, whole_r = lo.predict_proba(X)[:, 1], cx.predict_risk(X)
    for i in (0, 3, 351):
        assert lo.predict_proba(X.iloc[[i]])[0, 1] == whole_p[i]
        assert cx.predict_risk(X.iloc[[i]])[0] == whole_r[i]


# -- DrugCauseToxicity: severe toxicity as independent drug causes -------------------------------------------------

_REGIMENS = {"FOLFOX": ("fluorouracil", "leucovorin", "oxaliplatin"), "CAPOX": ("capecitabine", "oxaliplatin"),
             "FOLFOX+panitumumab": ("fluorouracil", "leucovorin", "oxaliplatin", "panitumumab")}
_PAIRS = {"DPYD": ("capecitabine", "fluorouracil")}


def _tox_frame(n: int = 3000, seed: int = 0, share: tuple[float, float, float] = (0.45, 0.1, 0.45)):
    """FOLFOX / CAPOX / FOLFOX+panitumumab; DPYD deficit raises only the fluoropyrimidine's own cause."""
    rng = np.random.default_rng(seed)
    reg = rng.choice(list(_REGIMENS), n, p=list(share))
    activity = np.where(rng.random(n) < 0.25, rng.choice([0.5, 1.0, 1.5], n), 2.0)
    age = rng.normal(60, 10, n)
    X = pd.DataFrame({"demo_age": age, "pgx_dpyd_activity_score": activity})
    for d in ("fluorouracil", "leucovorin", "capecitabine", "oxaliplatin", "panitumumab"):
        X[f"tx_drug_{d}"] = np.array([d in _REGIMENS[r] for r in reg], dtype=float)
    deficit = 2.0 - activity
    base = {"Diarrhea": {"fluorouracil": -2.6, "capecitabine": -2.3},
            "Neutrophil count decreased": {"fluorouracil": -2.0, "capecitabine": -3.5, "oxaliplatin": -2.2}}
    Y = {}
    for term, drugs in base.items():
        p_none = np.ones(n)
        for d, b in drugs.items():
            z = b + 1.6 * deficit * (d in ("fluorouracil", "capecitabine")) + 0.02 * (age - 60)
            p_none *= np.where(X[f"tx_drug_{d}"] > 0, 1 - 1 / (1 + np.exp(-z)), 1.0)
        Y[term] = (rng.random(n) < 1 - p_none).astype(int)
    return X, pd.DataFrame(Y), reg


@pytest.fixture(scope="module")
def cause_model():
    from recommender.models.effects import DrugCauseToxicity

    X, Y, reg = _tox_frame()
    return DrugCauseToxicity(penalty=1e-3, pairs=_PAIRS, min_events=10).fit(X, Y), X, reg


def test_pharmacogene_acts_only_on_drugs_with_a_guideline_regression_dpyd_x_panitumumab(cause_model):
    """The per-term logit learned DPYD x panitumumab from noise (FOLFOX+panitumumab neutropenia sign wrong)."""
    m, _, _ = cause_model
    d = m.design_
    linked = {(d.modifiers_[mi], d.drugs_[k]) for mi, k in d.links_}
    assert ("pgx_dpyd_activity_score", "tx_drug_fluorouracil") in linked
    assert ("pgx_dpyd_activity_score", "tx_drug_capecitabine") in linked
    assert not {(mod, drug) for mod, drug in linked
                if mod.startswith("pgx_") and drug in ("tx_drug_panitumumab", "tx_drug_oxaliplatin")}
    assert ["tx_drug_fluorouracil", "tx_drug_leucovorin"] in d.groups_  # always given together: one cause


def test_dpyd_raises_every_fluoropyrimidine_regimen_and_capox_borrows_from_folfox(cause_model):
    m, X, _ = cause_model
    carriers = X["pgx_dpyd_activity_score"] < 2
    for r, drugs in _REGIMENS.items():
        Xr = X.copy()
        for d in ("fluorouracil", "leucovorin", "capecitabine", "oxaliplatin", "panitumumab"):
            Xr[f"tx_drug_{d}"] = float(d in drugs)
        p = m.predict_proba(Xr)
        for term in p.columns:
            log_rr = np.log(p.loc[carriers, term].mean() / p.loc[~carriers, term].mean())
            assert log_rr > 0.1, (r, term, log_rr)
    # panitumumab causes neither term here: adding it to FOLFOX adds (almost) nothing
    folfox, plus = X.copy(), X.copy()
    for frame, pan in ((folfox, 0.0), (plus, 1.0)):
        for d in ("fluorouracil", "leucovorin", "oxaliplatin"):
            frame[f"tx_drug_{d}"] = 1.0
        frame["tx_drug_capecitabine"] = 0.0
        frame["tx_drug_panitumumab"] = pan
    diff = m.predict_proba(plus).mean() - m.predict_proba(folfox).mean()
    assert (diff.abs() < 0.02).all(), diff


def test_cause_model_contributions_explain_the_probability(cause_model):
    from recommender.features.schema import default_feature_schema
    from recommender.models.explain import explain_probability

    m, X, _ = cause_model
    term = m.models_["Diarrhea"]
    c = term.contributions(X.iloc[:50])
    p = m.predict_proba(X.iloc[:50])["Diarrhea"].to_numpy()
    assert 1 / (1 + np.exp(-c.sum(axis=1).to_numpy())) == pytest.approx(p, rel=1e-9)
    explain_probability(term, X.iloc[[0]], default_feature_schema(), "severe diarrhoea risk")


def test_cause_model_save_load_round_trip_and_batch_independence(cause_model, tmp_path):
    from recommender.models.effects import DrugCauseToxicity

    m, X, _ = cause_model
    (path,) = m.save(tmp_path, "toxicity")
    assert path.suffix == ".json"
    back = DrugCauseToxicity.load(tmp_path, "toxicity")
    a, b = m.predict_proba(X.iloc[:200]), back.predict_proba(X.iloc[:200])
    assert np.array_equal(a.to_numpy(), b.to_numpy())
    one = m.predict_proba(X.iloc[[7]]).to_numpy()[0]
    assert np.array_equal(one, a.to_numpy()[7])


def test_gene_drug_pairs_come_from_the_pgx_knowledge_base():
    from recommender.models.effects import cpic_gene_drug_pairs, pgx_column_genes

    pairs = cpic_gene_drug_pairs()
    assert {"fluorouracil", "capecitabine"} <= set(pairs["DPYD"])
    assert "irinotecan" in pairs["UGT1A1"] and "panitumumab" not in pairs["DPYD"]
    assert {"mercaptopurine", "thioguanine"} <= set(pairs["TPMT"]) & set(pairs["NUDT15"])
    assert pgx_column_genes("pgx_thiopurine_phenotype") == ("TPMT", "NUDT15")
    assert pgx_column_genes("pgx_dpyd_activity_score") == ("DPYD",)
    assert pgx_column_genes("pgx_dpyd_phenotype__missing") == ()


def test_smoking_interacts_by_level_not_by_code_regression_pembrolizumab_x_ever_smoker():
    """Smoking is coded 0 never / 1 former / 2 current; a linear slope over the codes forced "current" to twice
    "former" and recovered half of the simulator's pembrolizumab x ever-smoker effect (0.29 vs 0.60 log-odds)."""
    rng = np.random.default_rng(5)
    n = 20000
    smoking = rng.choice([0.0, 1.0, 2.0], n, p=[0.25, 0.5, 0.25])
    pembro = rng.random(n) < 0.5
    X = pd.DataFrame({"life_smoking": smoking, "tx_drug_pembrolizumab": pembro.astype(float),
                      "tx_drug_carboplatin": (~pembro).astype(float)})
    logit = -1.0 + 0.8 * (pembro & (smoking >= 1)) + 0.1 * smoking
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    m = InteractionLogit(penalty=1e-4).fit(X, y)
    assert {"life_smoking>=1", "life_smoking>=2"} <= {mod for _, mod in m.design_.pairs_}
    assert set(m.design_.sources) == set(X.columns)  # explanations credit the schema column

    def contrast(level: float) -> float:
        rows = pd.DataFrame({"life_smoking": [level, level], "tx_drug_pembrolizumab": [1.0, 0.0],
                             "tx_drug_carboplatin": [0.0, 1.0]})
        d = m.decision_function(rows)
        return float(d[0] - d[1])

    never, former, current = contrast(0.0), contrast(1.0), contrast(2.0)
    assert former - never == pytest.approx(0.8, abs=0.2)
    assert current - never == pytest.approx(0.8, abs=0.2)
    back = InteractionDesign.from_dict(m.design_.to_dict())
    assert np.array_equal(back.transform(X.iloc[:50]), m.design_.transform(X.iloc[:50]))
