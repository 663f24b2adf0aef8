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
