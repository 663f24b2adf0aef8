"""CPIC/DPWG guidance lookups (single- and multi-gene) and the documented action mapping."""

from __future__ import annotations

import json

import pytest

from genomics.pgx import knowledge_base as kbmod
from genomics.pgx.guidance import (
    ACTION_RULES,
    ACTIONS,
    DrugGuidance,
    GeneInput,
    classify_recommendation,
    drugs_with_guidelines,
    guidance_for_drug,
    guidance_for_profile,
    html_to_text,
)
from genomics.pgx.knowledge_base import BUNDLED_ROOT, bundled_knowledge_base


@pytest.fixture(autouse=True)
def _bundled_kb(monkeypatch):
    """Use the bundled tables whatever the developer imported into their own data directory."""
    monkeypatch.setenv(kbmod.ENV_KB_DIR, "bundled")


GUIDELINES = BUNDLED_ROOT / "pharmcat" / "reporter" / "guidelines"


def _row(file: str, key: dict, population: str | None = None) -> dict:
    data = json.loads((GUIDELINES / file).read_text(encoding="utf-8"))
    rows = [r for r in data["recommendations"] if r["lookupKey"] == key
            and (population is None or r.get("population") == population)]
    assert rows, f"no row {key} in {file}"
    return rows[0]


# Real guideline rows -> expected action, with the reason (the words of the guideline that decide it).
ACTION_TABLE = [
    # CPIC clopidogrel PM: "Avoid clopidogrel if possible. Use prasugrel or ticagrelor ..." -> use an alternative
    ("CPIC_clopidogrel_and_CYP2C19.json", {"CYP2C19": "Poor Metabolizer"}, "CVI ACS PCI", "avoid"),
    # CPIC clopidogrel rapid: "If considering clopidogrel, use at standard dose (75 mg/day)"
    ("CPIC_clopidogrel_and_CYP2C19.json", {"CYP2C19": "Rapid Metabolizer"}, "CVI ACS PCI", "standard"),
    # CPIC clopidogrel IM (NVI): "Consider an alternative P2Y12 inhibitor ..." -> consider = caution
    ("CPIC_clopidogrel_and_CYP2C19.json", {"CYP2C19": "Intermediate Metabolizer"}, "NVI", "caution"),
    # CPIC codeine ultrarapid: "Avoid codeine use because of potential for serious toxicity."
    ("CPIC_codeine_and_CYP2D6.json", {"CYP2D6": "≥3.75"}, None, "avoid"),
    # CPIC codeine NM: "Use codeine label recommended age- or weight-specific dosing."
    ("CPIC_codeine_and_CYP2D6.json", {"CYP2D6": "2.0"}, None, "standard"),
    # CPIC fluorouracil DPYD AS 1.0 / 1.5: "Reduce starting dose by 50% ..."
    ("CPIC_fluorouracil_and_DPYD.json", {"DPYD": "1.0"}, None, "adjust_dose"),
    ("CPIC_fluorouracil_and_DPYD.json", {"DPYD": "1.5"}, None, "adjust_dose"),
    # CPIC fluorouracil DPYD AS 0: "Avoid use of 5-fluorouracil or 5-fluorouracil prodrug-based regimens."
    ("CPIC_fluorouracil_and_DPYD.json", {"DPYD": "0.0"}, None, "avoid"),
    # CPIC fluorouracil DPYD AS 2: "... no indication to change dose or therapy. Use label-recommended dosage"
    ("CPIC_fluorouracil_and_DPYD.json", {"DPYD": "2.0"}, None, "standard"),
    # DPWG fluorouracil AS 1.0 IM: "Start with 50% of the standard dose or avoid ..." -> first option: dose
    ("DPWG_fluorouracil_and_DPYD.json", {"DPYD": "1.0 (Intermediate Metabolizer)"}, None, "adjust_dose"),
    # DPWG fluorouracil AS 2: "The guideline does not provide a recommendation ..." -> no_guidance
    ("DPWG_fluorouracil_and_DPYD.json", {"DPYD": "2.0 (Normal Metabolizer)"}, None, "no_guidance"),
    # DPWG fluorouracil AS 0.5 (phenotyping): "It is not possible ... Determine the residual DPD activity" -> caution
    ("DPWG_fluorouracil_and_DPYD.json", {"DPYD": "0.5 (Phenotyping)"}, None, "caution"),
    # CPIC mercaptopurine TPMT NM + NUDT15 NM: "Start with normal starting dose ..."
    ("CPIC_mercaptopurine_and_NUDT15_TPMT.json", {"TPMT": "Normal Metabolizer", "NUDT15": "Normal Metabolizer"},
     None, "standard"),
    # CPIC mercaptopurine TPMT PM: "For malignancy, start with drastically reduced doses ..." -> adjust_dose
    ("CPIC_mercaptopurine_and_NUDT15_TPMT.json", {"TPMT": "Poor Metabolizer", "NUDT15": "Normal Metabolizer"},
     None, "adjust_dose"),
    # CPIC omeprazole PM: "Initiate standard starting daily dose. For chronic therapy ..., consider 50% reduction"
    ("CPIC_lansoprazole_omeprazole_pantoprazole_and_CYP2C19.json", {"CYP2C19": "Poor Metabolizer"}, None,
     "adjust_dose"),
    # CPIC tamoxifen NM: "Avoid moderate and strong CYP2D6 inhibitors. Initiate therapy with recommended standard
    # of care dosing" -> the inhibitor advice is co-medication (phenoconversion), not this drug: standard
    ("CPIC_tamoxifen_and_CYP2D6.json", {"CYP2D6": "2.0"}, None, "standard"),
    # CPIC abacavir HLA-B*57:01 positive: "Abacavir is not recommended"
    ("CPIC_abacavir_and_HLA_B.json", {"HLA-B": "*57:01 positive"}, None, "avoid"),
    # CPIC amitriptyline CYP2D6 PM (CYP2C19 NM): "Avoid amitriptyline use. If ... warranted, consider a 50%
    # reduction" -> the first directive (avoid) decides
    ("CPIC_amitriptyline_and_CYP2C19_CYP2D6.json", {"CYP2D6": "0.0", "CYP2C19": "Normal Metabolizer"}, None,
     "avoid"),
    # CPIC amitriptyline both normal: "Initiate therapy with recommended starting dose."
    ("CPIC_amitriptyline_and_CYP2C19_CYP2D6.json", {"CYP2D6": "2.0", "CYP2C19": "Normal Metabolizer"}, None,
     "standard"),
    # CPIC codeine CYP2D6 'n/a' rows: "No recommendation"
    ("CPIC_codeine_and_CYP2D6.json", {"CYP2D6": "n/a"}, None, "no_guidance"),
    # DPWG imipramine UM: "Use 1.7 times the standard dose ... If a dose increase is not wanted ...: avoid
    # imipramine." -> the conditional option does not raise the action
    ("DPWG_imipramine_and_CYP2D6.json", {"CYP2D6": "4.0"}, None, "adjust_dose"),
    # DPWG flucloxacillin HLA-B*57:01: "Regularly monitor ... Choose an alternative if liver enzymes ... elevated"
    ("DPWG_flucloxacillin_and_HLA_B.json", {"HLA-B": "*57:01 positive"}, None, "caution"),
    # CPIC G6PD deficient, rasburicase: "Avoid use"
    ("CPIC_dapsone_methylene_blue_pegloticase_rasburicase_tafenoquine_toluidine_blue_and_G6PD.json",
     {"G6PD": "Deficient"}, None, "avoid"),
]


@pytest.mark.parametrize(("file", "key", "population", "expected"), ACTION_TABLE)
def test_action_mapping_table(file, key, population, expected):
    action, rule = classify_recommendation(_row(file, key, population))
    assert action == expected, (file, key, rule)
    assert rule in {name for name, _ in ACTION_RULES}


def test_every_bundled_row_maps_to_the_vocabulary():
    counts = {a: 0 for a in ACTIONS}
    for pkg in bundled_knowledge_base().guideline_packages():
        for row in pkg["recommendations"]:
            action, _ = classify_recommendation(row)
            counts[action] += 1
    assert sum(counts.values()) == 2583
    # every class a row can have is used, and the fallbacks stay rare (the rules read the text, not the
    # flags); not_assessed is a state of the patient's data (gene not assessed), never of a guideline row
    assert counts["not_assessed"] == 0
    assert all(counts[a] > 50 for a in ACTIONS if a != "not_assessed"), counts


def test_html_to_text_keeps_every_word():
    html = "<p>Avoid codeine use &amp; consider a <em>non-tramadol</em> opioid.</p><ul><li>one</li><li>two</li></ul>"
    text = html_to_text(html)
    assert text == "Avoid codeine use & consider a non-tramadol opioid.\n- one\n- two"


def test_clopidogrel_poor_metabolizer_cpic_and_dpwg():
    g = guidance_for_drug("clopidogrel", {"CYP2C19": ("*2", "*2")})
    assert isinstance(g, DrugGuidance)
    assert g.action == "avoid" and g.colour == "red"
    cpic = g.per_source["CPIC"]
    assert cpic.status == "matched" and cpic.recommendation_count == 3  # three populations
    assert {r.population for r in g.recommendations if r.source == "CPIC"} == {"CVI ACS PCI", "NVI",
                                                                               "CVI non-ACS non-PCI"}
    rec = next(r for r in g.recommendations if r.source == "CPIC" and r.population == "CVI ACS PCI")
    # verbatim text, strength, PMIDs, version
    raw = _row("CPIC_clopidogrel_and_CYP2C19.json", {"CYP2C19": "Poor Metabolizer"}, "CVI ACS PCI")
    assert rec.text_html == raw["text"]["html"]
    assert rec.text_plain.startswith("Avoid clopidogrel if possible. Use prasugrel or ticagrelor")
    assert rec.strength == "Strong"
    assert "35034351" in rec.pmids
    assert rec.version == "2024-03-25-16-13"
    assert rec.alternate_drug_available is True
    assert g.per_source["DPWG"].action == "avoid"
    assert g.provenance["staleness_warning"] and "older than the allele definitions" in g.provenance[
        "staleness_warning"]


def test_dpyd_intermediate_fluorouracil_adjust_dose():
    g = guidance_for_drug("fluorouracil", {"DPYD": ("Reference", "c.1905+1G>A (*2A)")})
    assert g.action == "adjust_dose"
    assert [r.lookup_key for r in g.recommendations if r.source == "CPIC"] == [{"DPYD": "1.0"}]
    assert [r.lookup_key for r in g.recommendations if r.source == "DPWG"] == [
        {"DPYD": "1.0 (Intermediate Metabolizer)"}]


def test_tpmt_normal_standard():
    g = guidance_for_drug("mercaptopurine", {"TPMT": "*1/*1", "NUDT15": "*1/*1"})
    assert g.action == "standard" and g.colour == "green"
    assert g.per_source["DPWG"].action == "no_guidance"  # DPWG: 'does not provide a recommendation'
    assert g.sources_differ is False  # silence is not disagreement


def test_multi_gene_guideline_needs_both_genes():
    both = guidance_for_drug("amitriptyline", {"CYP2D6": ("*1", "*1"), "CYP2C19": ("*1", "*1")})
    cpic = both.per_source["CPIC"]
    assert cpic.status == "matched" and cpic.action == "standard"
    rec = next(r for r in both.recommendations if r.source == "CPIC")
    assert rec.lookup_key == {"CYP2D6": "2.0", "CYP2C19": "Normal Metabolizer"} and rec.missing_genes == ()


def test_multi_gene_guideline_missing_gene_uses_no_result_row_and_says_so():
    g = guidance_for_drug("amitriptyline", {"CYP2D6": ("*4", "*4")})
    cpic = g.per_source["CPIC"]
    assert cpic.status == "matched"
    rec = next(r for r in g.recommendations if r.source == "CPIC")
    assert rec.lookup_key == {"CYP2D6": "0.0", "CYP2C19": "No Result"}
    assert rec.missing_genes == ("CYP2C19",)
    assert "CYP2C19 not called" in cpic.message


def test_guideline_without_no_result_row_names_missing_gene():
    # CPIC carbamazepine keys on HLA-A + HLA-B and has no row with both 'No Result'; DPWG codeine has none at all
    g = guidance_for_drug("carbamazepine", {"CYP2C19": ("*1", "*1")}, sources=("CPIC",))
    cpic = g.per_source["CPIC"]
    assert cpic.status == "missing_gene"
    assert cpic.missing_genes == ("HLA-A", "HLA-B")
    assert "HLA-A" in cpic.message and "missing" in cpic.message
    # a guideline exists but its genes are missing: not assessed (amber), never 'no guidance'
    assert g.action == "not_assessed" and g.colour == "amber" and not g.recommendations
    assert g.missing_genes == ("HLA-A", "HLA-B") and g.has_guideline
    assert g.label == "not assessed: HLA-A not genotyped, HLA-B not genotyped"
    assert g.testing_advice and "HLA-B*15:02" in g.testing_advice[0].advice
    dpwg = guidance_for_drug("codeine", {"CYP2C19": ("*1", "*1")}, sources=("DPWG",)).per_source["DPWG"]
    assert dpwg.status == "missing_gene" and dpwg.missing_genes == ("CYP2D6",)


def test_hla_outside_call_matches_allele_presence():
    pos = guidance_for_drug("abacavir", {"HLA-B": ("*57:01", "*44:02")}, sources=("CPIC",))
    assert pos.action == "avoid"
    neg = guidance_for_drug("abacavir", {"HLA-B": ("*44:02", "*08:01")}, sources=("CPIC",))
    assert neg.action == "standard"
    as_text = guidance_for_drug("abacavir", {"HLA-B": "*57:01 positive"}, sources=("CPIC",))
    assert as_text.action == "avoid"


def test_ambiguous_gene_reports_candidates_not_a_match():
    g = guidance_for_drug("clopidogrel", {"CYP2C19": [("*1", "*1"), ("*2", "*2")]}, sources=("CPIC",))
    cpic = g.per_source["CPIC"]
    assert cpic.status == "ambiguous"
    assert g.action == "not_assessed" and not g.recommendations
    assert g.gene_states == {"CYP2C19": "genotype ambiguous"}
    assert {c["phenotype"] for c in cpic.candidates} == {"Normal Metabolizer", "Poor Metabolizer"}


def test_ambiguous_diplotypes_with_one_phenotype_still_match():
    g = guidance_for_drug("clopidogrel", {"CYP2C19": [("*1", "*2"), ("*1", "*3")]}, sources=("CPIC",))
    assert g.per_source["CPIC"].status == "matched"
    assert g.action == "avoid"  # IM: 'Avoid standard dose clopidogrel' (ACS/PCI)


def test_diplotype_keyed_dpwg_rows():
    g = guidance_for_drug("irinotecan", {"UGT1A1": ("*28", "*28")}, sources=("DPWG",))
    keys = [r.lookup_key["UGT1A1"] for r in g.recommendations]
    assert {"*28": 2.0} in keys  # the DPWG row keyed on the diplotype itself


def test_outside_call_by_activity_score():
    g = guidance_for_drug("codeine", {"CYP2D6": GeneInput("CYP2D6", activity_score="0", call_source="outside")},
                          sources=("CPIC",))
    assert g.action == "avoid"


def test_uncalled_gene_is_not_assessed_with_reason():
    g = guidance_for_drug("codeine", {"CYP2D6": GeneInput("CYP2D6", called=False, note="no_data")})
    assert g.action == "not_assessed"
    assert g.per_source["CPIC"].status == "missing_gene"
    assert g.label == "not assessed: CYP2D6 not callable from the data"


def test_unknown_drug_has_no_guideline():
    g = guidance_for_drug("aspirin", {"CYP2C19": ("*1", "*1")})
    assert g.action == "no_guidance"
    assert {s.status for s in g.summaries} == {"no_guideline"}


def test_guidance_for_profile_covers_drugs_of_profile_genes():
    out = guidance_for_profile({"CYP2C19": ("*1", "*17"), "TPMT": ("*1", "*1")})
    drugs = {g.drug for g in out}
    assert {"clopidogrel", "citalopram", "mercaptopurine", "azathioprine"} <= drugs
    assert "codeine" not in drugs
    assert drugs <= set(drugs_with_guidelines(["CYP2C19", "TPMT"]))
    json.dumps([g.to_dict() for g in out])  # JSON-serialisable


def test_guidance_for_profile_with_selected_drugs_keeps_order():
    out = guidance_for_profile({"CYP2D6": ("*1", "*1")}, drugs=["tramadol", "codeine"])
    assert [g.drug for g in out] == ["tramadol", "codeine"]


def test_sources_differ_is_reported():
    # CYP2D6 PM and tramadol: CPIC says avoid, DPWG says be alert (caution)
    g = guidance_for_drug("tramadol", {"CYP2D6": ("*4", "*4")})
    assert g.per_source["CPIC"].action == "avoid"
    assert g.per_source["DPWG"].action != "avoid"
    assert g.sources_differ
    assert any("differ" in m for m in g.messages)


def test_pharmcat_ambiguity_message_for_unphased_call_only():
    unphased = guidance_for_drug("efavirenz", {"CYP2B6": GeneInput("CYP2B6", (("*1", "*13"),))})
    assert any("*6/*8 cannot be ruled out" in m for m in unphased.messages)
    phased = guidance_for_drug("efavirenz", {"CYP2B6": GeneInput("CYP2B6", (("*1", "*13"),), phased=True)})
    assert not any("cannot be ruled out" in m for m in phased.messages)


def test_profile_gene_calls_are_read():
    from genomics.pgx.profile import Diplotype, GeneCall, MissingPosition, PgxProfile, PgxProvenance

    profile = PgxProfile(sample="S1", provenance=PgxProvenance(definitions_version="2025-11-05-00-25"), genes={
        "CYP2C19": GeneCall(gene="CYP2C19", status="called",
                            diplotypes=[Diplotype(allele1="*2", allele2="*2", name="*2/*2")]),
        "CYP2D6": GeneCall(gene="CYP2D6", status="incomplete", reasons=["missing_positions"],
                           missing_positions=[MissingPosition(position=42130692, rsid="rs1065852")],
                           diplotypes=[Diplotype(allele1="*1", allele2="*1", name="*1/*1")]),
        "HLA-B": GeneCall(gene="HLA-B", source="outside", status="outside_call", phenotype="*57:01 positive"),
    })
    out = {g.drug: g for g in guidance_for_profile(profile, drugs=["clopidogrel", "codeine", "abacavir"])}
    assert out["clopidogrel"].action == "avoid"
    # incomplete CYP2D6 (alleles not ruled out) is not guessed: not assessed, gene named
    assert out["codeine"].action == "not_assessed"
    assert out["codeine"].per_source["CPIC"].missing_genes == ("CYP2D6",)
    assert out["abacavir"].per_source["CPIC"].action == "avoid"


# --------------------------------------------------------------------------------------- issue 20


def test_no_genotype_gives_not_assessed_with_testing_advice_for_guideline_drugs():
    for drug, genes, word in [("fluorouracil", ("DPYD",), "DPYD"), ("capecitabine", ("DPYD",), "DPYD"),
                              ("irinotecan", ("UGT1A1",), "UGT1A1"), ("mercaptopurine", ("NUDT15", "TPMT"), "TPMT"),
                              ("abacavir", ("HLA-B",), "HLA-B*57:01"), ("rasburicase", ("G6PD",), "G6PD")]:
        g = guidance_for_drug(drug, {})
        assert g.action == "not_assessed" and g.colour == "amber", drug
        assert g.missing_genes == genes, drug
        assert g.label.startswith("not assessed: ") and "not genotyped" in g.label
        assert g.testing_advice and word in g.testing_advice[0].advice, drug
        assert not g.testing_advice[0].verbatim  # the project's summary, cited, never passed off as a quote
        assert all(ref["url"].startswith("https://www.pharmgkb.org/") for ref in g.testing_advice[0].guidelines)


def test_three_states_are_kept_apart():
    says = guidance_for_drug("fluorouracil", {"DPYD": ("Reference", "Reference")})
    missing = guidance_for_drug("fluorouracil", {})
    none = guidance_for_drug("oxaliplatin", {})
    assert (says.action, missing.action, none.action) == ("standard", "not_assessed", "no_guidance")
    assert (says.label, none.label) == ("standard dosing (DPYD Normal Metabolizer)", "no guideline for this drug")
    assert not says.missing_genes and not none.missing_genes and not none.has_guideline


def test_partial_gap_never_green_and_known_dose_kept():
    # TPMT called, NUDT15 missing: CPIC's 'No Result' row matches; the dose advice stays, the gap is named
    g = guidance_for_drug("mercaptopurine", {"TPMT": ("*1", "*3A")})
    assert g.action == "adjust_dose" and g.missing_genes == ("NUDT15",)
    assert g.label == "adjust dose (TPMT Intermediate Metabolizer); not assessed: NUDT15 not genotyped"
    normal = guidance_for_drug("mercaptopurine", {"TPMT": ("*1", "*1")})
    assert normal.action == "not_assessed" and normal.colour != "green"


def test_irinotecan_dpwg_text_not_duplicated():
    g = guidance_for_drug("irinotecan", {"UGT1A1": ("*28", "*28")}, sources=("DPWG",))
    texts = [r.text_html for r in g.recommendations]
    assert len(texts) == len(set(texts)) == 1


def test_irinotecan_dpwg_text_not_duplicated_on_the_pgx_page():
    from genomics.pgx import PgxProfile, render_pgx_html
    from genomics.pgx.profile import Diplotype, GeneCall, PgxProvenance

    profile = PgxProfile(sample="S1", provenance=PgxProvenance(definitions_version="x"), genes={
        "UGT1A1": GeneCall(gene="UGT1A1", status="called",
                           diplotypes=[Diplotype(allele1="*28", allele2="*28", name="*28/*28")])})
    g = guidance_for_drug("irinotecan", profile)
    html = render_pgx_html(profile, [g], standalone=False)
    assert html.count("Start with 70% of the normal dose") == 1
