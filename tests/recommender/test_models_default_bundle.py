"""The default bundle shipped in the package loads, verifies, and shows the simulator's known effects."""

from __future__ import annotations

import pytest

from recommender.models.defaults import DEFAULT_BUNDLE_DIR, load_default_bundle
from recommender.schema import Patient

pytestmark = pytest.mark.skipif(not (DEFAULT_BUNDLE_DIR / "MANIFEST.json").is_file(),
                                reason="default bundle not built in this checkout (see recommender.models.defaults)")


@pytest.fixture(scope="module")
def bundle():
    return load_default_bundle()


def test_default_bundle_card_says_what_it_was_trained_on(bundle):
    assert "simulated" in bundle.metadata["trained_on"]
    assert "Not for clinical decisions" in bundle.model_card
    assert bundle.provenance()["training_data_sha256"]
    assert bundle.metadata["metrics"]["ipw"]["enabled"]


def test_egfr_mutation_favours_osimertinib(bundle):
    p = Patient(patient_id="E", demographics={"age": 60, "sex": "female"},
                diagnosis={"cancer_type": "LUAD", "ecog": 1, "stage": "IV"}, lifestyle={"smoking": "never"},
                tumour_variants=[{"gene": "EGFR", "protein_change": "L858R"}])
    preds = {o.regimen: o for o in bundle.predict_options(p, ["osimertinib", "carboplatin-paclitaxel"])}
    osi, chemo = preds["osimertinib"], preds["carboplatin-paclitaxel"]
    assert osi.response["p"] > chemo.response["p"] + 0.05
    assert osi.survival["pfs"]["median_days"] > 1.3 * chemo.survival["pfs"]["median_days"]
    wild = Patient(patient_id="W", demographics={"age": 60, "sex": "female"},
                   diagnosis={"cancer_type": "LUAD", "ecog": 1, "stage": "IV"}, lifestyle={"smoking": "current"})
    w = {o.regimen: o for o in bundle.predict_options(wild, ["osimertinib", "carboplatin-paclitaxel"], explain=False)}
    # the benefit is specific to the mutation (treatment x biomarker interaction)
    assert (osi.response["p"] - chemo.response["p"]) > (w["osimertinib"].response["p"]
                                                         - w["carboplatin-paclitaxel"].response["p"]) + 0.05


def test_unseen_regimen_is_flagged(bundle):
    p = Patient(patient_id="U", demographics={"age": 60}, diagnosis={"cancer_type": "COAD"})
    pred = bundle.predict_options(p, ["FOLFOX", "dabrafenib-trametinib"], explain=False)
    assert not any("never given" in r for r in pred[0].ood["reasons"])
    assert pred[1].ood["flag"] and any("never given in training" in r for r in pred[1].ood["reasons"])



def test_point_estimate_lies_inside_its_interval(bundle):
    """Regression: the full-data model's number fell outside its bootstrap interval (0.39 in 0.21-0.38)."""
    from recommender.commands.score import DEMO_PATIENT
    from recommender.schema import load_patient

    patient = load_patient(DEMO_PATIENT)
    options = [t.regimen for t in patient.candidate_treatments]
    checked = 0
    for pred in bundle.predict_options(patient, options, explain=False):
        blocks = [pred.response, *pred.toxicity.values(), *pred.survival.values()]
        for block in blocks:
            point = block.get("p", block.get("median_days"))
            low, high = block.get("low"), block.get("high")
            if point is None or low is None or high is None:
                continue
            assert low - 1e-9 <= point <= high + 1e-9, (pred.regimen, block)
            checked += 1
    assert checked >= len(options)


# -- issue 14: the default bundle carries the gene x treatment effects the simulator encodes -----------------

def _breast(pid: str, er: bool) -> tuple[Patient, dict]:
    return (Patient(patient_id=pid, demographics={"age": 55, "sex": "female"},
                    diagnosis={"cancer_type": "BRCA", "ecog": 0, "stage": "IV"}), {"er_positive": er})


def test_default_bundle_learner_represents_interactions(bundle):
    assert bundle.metadata["hyper_parameters"]["learner"] == "interaction"
    assert type(bundle.response).__name__ == "InteractionLogit"
    assert type(bundle.toxicity).__name__ == "DrugCauseToxicity"
    # DPYD acts on the fluoropyrimidines only (CPIC pairs), never on a co-administered drug such as panitumumab
    d = bundle.toxicity.design_
    dpyd_drugs = {d.drugs_[k] for m, k in d.links_ if d.modifiers_[m].startswith("pgx_dpyd")}
    assert dpyd_drugs and dpyd_drugs <= {"tx_drug_fluorouracil", "tx_drug_capecitabine", "tx_drug_tegafur"}


def test_tamoxifen_not_favoured_for_er_negative_breast_cancer(bundle):
    """Regression (issue 14): tamoxifen was ranked first for 75 % of ER-negative breast cancers."""
    diffs = {}
    for er in (True, False):
        p, cov = _breast(f"ER{er}", er)
        pr = {o.regimen: o for o in bundle.predict_options(p, ["tamoxifen", "AC-T"], covariates=cov, explain=False)}
        diffs[er] = pr["tamoxifen"].response["p"] - pr["AC-T"].response["p"]
    assert diffs[False] < 0
    assert diffs[True] > diffs[False] + 0.2


def test_kras_mutation_removes_the_panitumumab_benefit(bundle):
    """Regression (issue 14): FOLFOX+panitumumab was favoured over FOLFOX for ~90 % of KRAS-mutant patients."""
    def gain(variants):
        p = Patient(patient_id="K" + str(len(variants)), demographics={"age": 65, "sex": "male"},
                    diagnosis={"cancer_type": "COAD", "ecog": 1, "stage": "IV"}, tumour_variants=variants)
        pr = {o.regimen: o for o in bundle.predict_options(p, ["FOLFOX+panitumumab", "FOLFOX"], explain=False)}
        return pr["FOLFOX+panitumumab"].response["p"] - pr["FOLFOX"].response["p"]
    assert gain([{"gene": "KRAS", "protein_change": "G12D"}]) < gain([]) - 0.05


@pytest.mark.parametrize(("gene", "block", "regimen", "term", "ratio"), [
    ("DPYD", {"DPYD": {"activity_score": 1.0}}, "FOLFOX", "Diarrhea", 1.3),
    # regressions (issue 14): per-regimen interactions gave CAPOX diarrhoea and FOLFOX+panitumumab neutropenia the
    # wrong sign (risk ratio < 1 for DPYD-deficient patients); the neutropenia ratio is diluted by the regimen's
    # other causes (true about 2 at activity 1.0; the default bundle's 1.15 is under-estimated, see
    # benchmarks/EVAL_SIMULATED.md), so only its direction is asserted here
    ("DPYD", {"DPYD": {"activity_score": 1.0}}, "CAPOX", "Diarrhea", 1.3),
    ("DPYD", {"DPYD": {"activity_score": 1.0}}, "FOLFOX+panitumumab", "Neutrophil count decreased", 1.05),
    ("UGT1A1", {"UGT1A1": {"phenotype": "Poor Metabolizer"}}, "FOLFIRI", "Neutrophil count decreased", 1.3),
])
def test_pharmacogenomic_deficit_raises_predicted_toxicity(bundle, gene, block, regimen, term, ratio):
    """Regression (issue 14): DPYD / UGT1A1 risk ratios were ~1 (true 1.7-2.4)."""
    p = Patient(patient_id="PGX", demographics={"age": 62, "sex": "female"},
                diagnosis={"cancer_type": "COAD", "ecog": 1, "stage": "IV"})
    normal = {"DPYD": {"activity_score": 2.0},
              "UGT1A1": {"phenotype": "Normal Metabolizer"}}
    risk = {}
    for label, pgx in (("normal", normal), ("deficit", {**normal, **block})):
        pred = bundle.predict_options(p, [regimen], pgx=pgx, explain=False)[0]
        risk[label] = pred.toxicity[term]["p"]
    assert risk["deficit"] > ratio * risk["normal"], (gene, risk)


def test_default_bundle_card_names_its_training_data_licence_regression_not_recorded():
    """The card said "training data licence: not recorded" for the shipped bundle."""
    from recommender.models.defaults import TRAINING_LICENCE, load_default_bundle

    bundle = load_default_bundle()
    assert bundle.metadata["training_licence"] == TRAINING_LICENCE
    assert f"training data licence: {TRAINING_LICENCE}" in bundle.model_card
