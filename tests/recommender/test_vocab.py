"""The shared vocabularies: completeness, citations and look-ups."""

from __future__ import annotations

import pytest

from recommender import vocab


def test_guidance_actions_and_colours():
    # one order, least to most severe: the documented order is the severity order
    assert vocab.GUIDANCE_ACTIONS == ("no_guidance", "standard", "not_assessed", "caution", "adjust_dose", "avoid")
    assert [vocab.GUIDANCE_COLOURS[a] for a in vocab.GUIDANCE_ACTIONS] == \
        ["grey", "green", "amber", "amber", "amber", "red"]
    assert [vocab.GUIDANCE_SEVERITY[a] for a in vocab.GUIDANCE_ACTIONS] == list(range(6))


def test_not_assessed_is_never_green():
    assert vocab.GUIDANCE_COLOURS["not_assessed"] != "green"
    assert [a for a, c in vocab.GUIDANCE_COLOURS.items() if c == "green"] == ["standard"]
    assert vocab.worst_action(["standard", "not_assessed"]) == "not_assessed"
    assert vocab.worst_action(["adjust_dose", "not_assessed"]) == "adjust_dose"


def test_one_definition_of_the_action_vocabulary():
    from genomics.pgx import actions, guidance
    from recommender import knowledge_overlay, recommendation

    assert guidance.ACTIONS is actions.ACTIONS and guidance.ACTION_COLOURS is actions.ACTION_COLOURS
    assert recommendation.ACTION_COLOURS is actions.ACTION_COLOURS
    assert knowledge_overlay.ACTION_SEVERITY is actions.ACTION_SEVERITY
    assert vocab.GUIDANCE_LABELS is actions.ACTION_LABELS
    with pytest.raises(KeyError):
        vocab.worst_action(["standrad"])  # a typo is never silently ranked least severe


@pytest.mark.parametrize(
    "drug",
    ["fluorouracil", "capecitabine", "irinotecan", "tamoxifen", "mercaptopurine", "thioguanine", "cisplatin",
     "carboplatin", "oxaliplatin", "paclitaxel", "docetaxel", "doxorubicin", "trastuzumab", "neratinib",
     "osimertinib", "gefitinib", "erlotinib", "cetuximab", "panitumumab", "olaparib", "pembrolizumab", "nivolumab"],
)
def test_oncology_drugs_present_lower_case(drug):
    assert drug in vocab.DRUGS
    assert vocab.DRUGS[drug].oncology


def test_drug_synonyms_normalise():
    assert vocab.normalise_drug(" 5-FU ") == "fluorouracil"
    assert vocab.normalise_drug("Rifampicin") == "rifampin"
    assert not vocab.is_drug("aspirinx")


def test_every_regimen_drug_is_known_and_cited():
    for reg in vocab.REGIMENS.values():
        assert all(d in vocab.DRUGS for d in reg.drugs)
        assert reg.citation
    assert vocab.regimen("folfox").drugs == ("fluorouracil", "leucovorin", "oxaliplatin")
    assert vocab.resolve_regimen("no such regimen") is None


def test_cyp2d6_strong_and_moderate_inhibitors_from_fda_table():
    strong = {r.drug for r in vocab.CYP_MODULATORS if r.enzyme == "CYP2D6" and r.strength == "strong"}
    moderate = {r.drug for r in vocab.CYP_MODULATORS if r.enzyme == "CYP2D6" and r.strength == "moderate"}
    assert strong == {"bupropion", "fluoxetine", "paroxetine", "quinidine", "terbinafine"}
    assert {"duloxetine", "mirabegron"} <= moderate
    assert all("fda.gov" in r.source for r in vocab.CYP_MODULATORS)
    assert not [r for r in vocab.CYP_MODULATORS if r.enzyme == "CYP2D6" and r.effect == "inducer"]


def test_cyp_modulators_cover_all_four_enzymes():
    assert {r.enzyme for r in vocab.CYP_MODULATORS} == {"CYP2D6", "CYP2C19", "CYP2C9", "CYP3A"}
    assert {r.effect for r in vocab.CYP_MODULATORS if r.enzyme == "CYP3A"} == {"inhibitor", "inducer"}


def test_phenoconversion_inhibitors_from_medication_list():
    assert vocab.phenoconversion_inhibitors(["Paroxetine", "metformin", "duloxetine"], "CYP2D6") == {
        "paroxetine": "strong", "duloxetine": "moderate"}
    assert vocab.phenoconversion_inhibitors(["metformin"], "CYP2D6") == {}


def test_ctcae_terms_from_design_present():
    for term in ["Neutrophil count decreased", "Febrile neutropenia", "Diarrhea", "Platelet count decreased",
                 "Anemia", "Ejection fraction decreased", "Palmar-plantar erythrodysesthesia syndrome"]:
        assert vocab.is_ctcae_term(term)
    assert vocab.canonical_ctcae_term("diarrhea") == "Diarrhea"
    assert vocab.SEVERE_GRADE == 3


@pytest.mark.parametrize("code,tissue", [("COAD", "Bowel"), ("READ", "Bowel"), ("LUAD", "Lung"), ("LUSC", "Lung"),
                                         ("NSCLC", "Lung"), ("BRCA", "Breast"), ("PAAD", "Pancreas"),
                                         ("SKCM", "Skin"), ("HGSOC", "Ovary/Fallopian Tube"), ("PRAD", "Prostate"),
                                         ("AML", "Myeloid"), ("BLL", "Lymphoid")])
def test_oncotree_codes(code, tissue):
    assert vocab.cancer_type(code.lower()).tissue == tissue


def test_oncotree_has_no_tcga_only_codes():
    assert not vocab.is_oncotree("OV") and not vocab.is_oncotree("ALL")
    assert all(v in vocab.ONCOTREE for v in vocab.TCGA_TO_ONCOTREE.values())
    assert len(vocab.TCGA_TO_ONCOTREE) == 33


def test_lab_units_convert_to_canonical():
    assert vocab.LABS["bilirubin"].units["mg/dL"] == pytest.approx(17.1)
    assert vocab.LABS["neutrophils"].unit == "10^9/L"


def test_module_cites_its_sources():
    doc = vocab.__doc__
    for needle in ["fda.gov", "CTCAE", "OncoTree", "cpicpgx.org", "RECIST"]:
        assert needle in doc
