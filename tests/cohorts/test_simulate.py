"""The simulator: reproducible, valid tables, and effects in the documented directions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cohorts import load_cohort
from cohorts.simulate import GermlineDraw, simulate_cohort
from genomics.errors import UsageError


@pytest.fixture(scope="module")
def sim():
    return simulate_cohort(4000, seed=11, randomised=True)


def _oracle(sim) -> pd.DataFrame:
    o = sim.truth_tables["oracle"].merge(sim.truth_tables["germline"], on="patient_id")
    tv = sim.tables["tumour_variants"]
    for name, mask in (("egfr", tv["gene"].eq("EGFR")), ("kras", tv["gene"].eq("KRAS")),
                       ("brca", tv["gene"].isin(["BRCA1", "BRCA2"]))):
        o[name] = o["patient_id"].isin(set(tv.loc[mask, "patient_id"]))
    return o


def test_same_seed_same_cohort_other_seed_differs():
    a, b, c = simulate_cohort(300, seed=5), simulate_cohort(300, seed=5), simulate_cohort(300, seed=6)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    pd.testing.assert_frame_equal(a.truth_tables["oracle"], b.truth_tables["oracle"])
    assert not a.tables["outcomes"].equals(c.tables["outcomes"])


def test_writes_a_valid_cohort_with_truth_apart(sim, tmp_path):
    cohort = sim.write(tmp_path / "sim")
    loaded = load_cohort(cohort.path)
    assert loaded.n_patients == 4000
    assert set(loaded.manifest.truth_tables) == {"oracle", "germline", "assignment"}
    assert "oracle" not in loaded.table_names
    out = loaded.outcomes
    assert (out["pfs_days"] <= out["os_days"]).all() and (out["os_days"] >= 0).all()
    p = loaded.patient(loaded.patients["patient_id"][0])
    assert p.outcomes and p.diagnosis.stage in ("IV", None)
    hotspot = loaded.query("gene = 'KRAS' and protein_change = 'G12D'", table="tumour_variants")
    assert set(hotspot["pos"]) <= {25245350} and set(hotspot["chrom"]) == {"chr12"}


def test_oracle_has_every_candidate_and_utilities(sim):
    o = sim.truth_tables["oracle"]
    per_patient = o.groupby("patient_id").size()
    assert len(per_patient) == 4000 and per_patient.min() >= 1
    assert o["p_response"].between(0, 1).all() and (o["expected_os_days"] > o["expected_pfs_days"]).all()
    assert np.allclose(o["utility"], o["expected_pfs_days"] / 365.25 - 0.25 * o["p_any_severe_toxicity"])


def test_egfr_mutant_respond_to_osimertinib(sim):
    o = _oracle(sim)
    osi = o[o["regimen"] == "osimertinib"]
    assert osi.loc[osi["egfr"], "p_response"].mean() > 0.6
    assert osi.loc[~osi["egfr"], "p_response"].mean() < 0.15


def test_kras_mutant_no_benefit_from_anti_egfr(sim):
    o = _oracle(sim)
    crc = o[o["regimen"].isin(["FOLFOX", "FOLFOX+panitumumab"])].pivot_table(
        index=["patient_id", "kras"], columns="regimen", values="p_response").reset_index()
    gain = crc["FOLFOX+panitumumab"] - crc["FOLFOX"]
    assert gain[~crc["kras"]].mean() > 0.05 and gain[crc["kras"]].mean() < 0


def test_dpyd_deficit_raises_fluoropyrimidine_toxicity(sim):
    o = _oracle(sim)
    fp = o[o["regimen"] == "FOLFOX"]
    by = fp.groupby("dpyd_activity_score")["p_severe:Neutrophil count decreased"].mean()
    assert by.loc[1.0] > by.loc[2.0] * 1.5
    assert fp.loc[fp["dpyd_activity_score"] == 2.0, "p_any_severe_toxicity"].mean() < fp.loc[
        fp["dpyd_activity_score"] < 2.0, "p_any_severe_toxicity"].mean()


def test_ugt1a1_poor_raises_irinotecan_neutropenia(sim):
    o = _oracle(sim)
    f = o[o["regimen"] == "FOLFIRI"].groupby("ugt1a1_poor")["p_severe:Neutrophil count decreased"].mean()
    assert f.loc[True] > f.loc[False] * 1.3


def test_thiopurine_poor_function_myelosuppression():
    sim = simulate_cohort(3000, seed=2, cancer_mix={"BLL": 1.0})
    o = _oracle(sim)
    f = o.groupby("thiopurine_function")["p_severe:Neutrophil count decreased"].mean()
    assert f.loc["intermediate"] > f.loc["normal"]
    assert (sim.tables["patients"]["cancer_type"] == "BLL").all()


def test_tamoxifen_benefit_lower_in_cyp2d6_poor_or_strong_inhibitor(sim):
    o = _oracle(sim)
    tam = o[(o["regimen"] == "tamoxifen")]
    er_pos = set(sim.tables["patients"].query("er_positive == True")["patient_id"])
    tam = tam[tam["patient_id"].isin(er_pos)]
    low = tam["cyp2d6_effective_activity"] == 0
    assert tam.loc[low, "p_response"].mean() < tam.loc[tam["cyp2d6_effective_activity"] >= 1.25, "p_response"].mean() - 0.1
    strong = tam["cyp2d6_inhibitor"] == "strong"
    assert (tam.loc[strong, "cyp2d6_effective_activity"] == 0).all() and strong.any()


def test_parp_inhibitor_benefit_with_brca_loss(sim):
    o = _oracle(sim)
    ola = o[o["regimen"] == "olaparib"]
    assert ola.loc[ola["brca"], "expected_pfs_days"].median() > 1.5 * ola.loc[~ola["brca"], "expected_pfs_days"].median()


def test_confounding_by_indication_vs_randomised():
    obs = simulate_cohort(3000, seed=4)
    rnd = simulate_cohort(3000, seed=4, randomised=True)
    for s, lo, hi in ((obs, 0.6, 1.0), (rnd, 0.0, 0.45)):
        tv = s.tables["tumour_variants"]
        egfr = set(tv.loc[tv["gene"] == "EGFR", "patient_id"])
        tr = s.tables["treatments"]
        share = tr[tr["patient_id"].isin(egfr)]["regimen"].eq("osimertinib").mean()
        assert lo <= share <= hi
    a = rnd.truth_tables["assignment"]
    assert np.allclose(a.groupby("patient_id")["propensity"].transform(lambda p: p - 1 / len(p)), 0)


def test_trial_share_randomises_a_share_and_keeps_the_rest_of_the_cohort():
    obs = simulate_cohort(3000, seed=4)
    assert obs.tables["treatments"].equals(simulate_cohort(3000, seed=4, trial_share=0.0).tables["treatments"])
    mixed = simulate_cohort(3000, seed=4, trial_share=0.3)
    a = mixed.truth_tables["assignment"]
    per_patient = a.groupby("patient_id")
    randomised = per_patient["randomised"].first()
    assert 0.25 < randomised.mean() < 0.35 and mixed.stats["trial_patients"] == int(randomised.sum())
    uniform = per_patient["propensity"].agg(lambda p: bool(np.allclose(p, 1 / len(p))))
    assert uniform[randomised].all() and not uniform[~randomised].all()
    # patients not enrolled keep their treatment and everything else is drawn identically
    tr_obs = obs.tables["treatments"].set_index("patient_id")["regimen"]
    tr_mix = mixed.tables["treatments"].set_index("patient_id")["regimen"]
    assert (tr_obs[~randomised.reindex(tr_obs.index).to_numpy()] == tr_mix[~randomised.reindex(tr_mix.index).to_numpy()]).all()
    assert obs.tables["patients"].equals(mixed.tables["patients"])
    assert "trial component" in mixed.provenance.notes[0] and "trial0.3" in mixed.provenance.source_version
    assert "randomised" not in obs.truth_tables["assignment"].columns  # the old cohort, byte for byte
    # overlap where indication never goes: ER-negative breast cancers given tamoxifen
    def er_negative_on_tamoxifen(sim):
        t = sim.tables["treatments"].merge(sim.tables["patients"][["patient_id", "er_positive"]])
        return int(((t["regimen"] == "tamoxifen") & t["er_positive"].eq(False)).sum())
    assert er_negative_on_tamoxifen(mixed) > 3 * max(1, er_negative_on_tamoxifen(obs))


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_trial_share_outside_0_1_is_refused(share):
    with pytest.raises(UsageError, match="trial_share"):
        simulate_cohort(10, seed=0, trial_share=share)


def test_germline_source_hook_is_used():
    class Fixed:
        def draw(self, n, rng, female_share):
            phen = pd.DataFrame({"dpyd_activity_score": np.zeros(n), "ugt1a1_poor": np.ones(n, bool),
                                 "thiopurine_function": ["normal"] * n, "cyp2d6_activity_score": np.full(n, 2.0),
                                 "germline_brca_lof": np.zeros(n, bool)})
            return GermlineDraw(population=np.array(["EUR"] * n), phenotypes=phen, sex=np.array(["female"] * n),
                                sample_id=np.array([f"HG{i:05d}" for i in range(n)]), description="fixed test source")
    sim = simulate_cohort(200, seed=1, germline=Fixed())
    pts = sim.tables["patients"]
    assert pts["sample_id"].tolist()[:2] == ["HG00000", "HG00001"] and (pts["sex"] == "female").all()
    assert (pts["pgx_dpyd_activity_score"] == 0).all()
    assert "fixed test source" in sim.provenance.notes[1]


def test_bad_arguments_are_usage_errors():
    with pytest.raises(UsageError):
        simulate_cohort(0)
    with pytest.raises(UsageError, match="XYZ"):
        simulate_cohort(10, cancer_mix={"XYZ": 1.0})
