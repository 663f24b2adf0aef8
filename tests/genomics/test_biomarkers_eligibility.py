"""Biomarker eligibility (genomics.biomarkers.eligibility): requirements from the table, three states."""

from __future__ import annotations

import json

import pytest

from genomics.biomarkers import (
    CopyNumberCall,
    SomaticVariant,
    TumourProfile,
    assess_eligibility,
    load_requirements,
    match_biomarkers,
    parse_protein_change,
)
from genomics.biomarkers.eligibility import ELIGIBILITY_COLOURS, worst_eligibility
from genomics.errors import KnowledgeBaseError


def _report(cancer: str, *, variants=(), cnv=()):
    profile = TumourProfile(
        variants=tuple(SomaticVariant(gene=g, protein=parse_protein_change(p), consequences=("missense_variant",),
                                      record=f"{g} {p}") for g, p in variants),
        copy_number=tuple(CopyNumberCall(gene=g, alteration="amplification", record=g) for g in cnv),
        source_file="t.vcf", file_format="vcf")
    return match_biomarkers(profile, cancer)


def test_every_requirement_is_cited_and_names_rows_that_exist():
    from genomics.biomarkers import load_knowledge_base

    ids = {r.id for r in load_knowledge_base().rows}
    reqs = load_requirements()
    assert {r.id for r in reqs} >= {"ANTI_EGFR_RAS_WILD_TYPE_CRC", "ERBB2_POSITIVE_ANTI_HER2",
                                   "EGFR_SENSITISING_EGFR_TKI_NSCLC", "BRCA_LOF_PARP_INHIBITOR",
                                   "ALK_FUSION_ALK_INHIBITOR_NSCLC", "MSI_H_CHECKPOINT_CRC"}
    for r in reqs:
        assert r.citations and all(c["kind"] and c["text"] for c in r.citations), r.id
        assert set(r.established_by) | set(r.contraindicated_by) <= ids, r.id
        assert r.test.startswith("test "), r.id


def test_no_tumour_data_is_not_established_with_the_test_to_do():
    (res,) = assess_eligibility(["fluorouracil", "panitumumab"], "COAD", None)
    assert (res.drug, res.status) == ("panitumumab", "not_established")
    assert res.label.startswith("eligibility not established: test KRAS and NRAS")
    assert ELIGIBILITY_COLOURS[res.status] == "amber"


def test_ras_mutation_contraindicates_anti_egfr():
    (res,) = assess_eligibility(["cetuximab"], "COAD", _report("COAD", variants=[("KRAS", "G12D")]))
    assert res.status == "contraindicated" and "KRAS" in res.reason and res.label.startswith("avoid:")


def test_ras_wild_type_file_is_eligible_with_the_coverage_caveat():
    (res,) = assess_eligibility(["panitumumab"], "COAD", _report("COAD", variants=[("TP53", "R175H")]))
    assert res.status == "eligible" and "check that the assay did" in res.reason


def test_record_covers_only_the_genes_it_names():
    report = _report("COAD", variants=[("KRAS", "G12G")])
    (res,) = assess_eligibility(["panitumumab"], "COAD", report, tested_genes=["KRAS"])
    assert res.status == "not_established" and "NRAS not covered" in res.reason
    (ok,) = assess_eligibility(["panitumumab"], "COAD", report, tested_genes=["KRAS", "NRAS"])
    assert ok.status == "eligible"


def test_present_requirement_needs_the_alteration():
    none = assess_eligibility(["trastuzumab"], "BRCA", _report("BRCA", variants=[("TP53", "R175H")]))
    assert none[0].status == "not_established" and "not proof of absence" in none[0].reason
    amp = assess_eligibility(["trastuzumab"], "BRCA", _report("BRCA", cnv=["ERBB2"]))
    assert amp[0].status == "eligible" and "ERBB2" in amp[0].reason
    # gastric: the breast row's amplification shows the alteration is present
    stad = assess_eligibility(["trastuzumab"], "STAD", _report("STAD", cnv=["ERBB2"]))
    assert stad[0].status == "eligible"


def test_egfr_tki_needs_a_sensitising_mutation_in_lung_only():
    assert assess_eligibility(["osimertinib"], "LUAD", _report("LUAD", variants=[("EGFR", "L858R")]))[0].status \
        == "eligible"
    assert assess_eligibility(["osimertinib"], "LUAD", None)[0].status == "not_established"
    assert assess_eligibility(["osimertinib"], "BRCA", None) == ()  # no requirement for this cancer type


def test_requirement_applies_only_in_its_cancer_types_and_without_cancer_type_nothing():
    assert assess_eligibility(["cetuximab"], "HNSC", None) == ()  # head and neck: no biomarker needed
    assert assess_eligibility(["cetuximab"], None, None) == ()


def test_worst_eligibility_order():
    assert worst_eligibility([]) == "eligible"
    assert worst_eligibility(["eligible", "not_established"]) == "not_established"
    assert worst_eligibility(["not_established", "contraindicated"]) == "contraindicated"


def test_bad_requirement_is_a_knowledge_base_error(tmp_path):
    from genomics.biomarkers.knowledge import _default_path

    data = json.loads(_default_path().read_text())
    data["eligibility_requirements"][0]["requires"] = "maybe"
    bad = tmp_path / "table.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(KnowledgeBaseError) as err:
        load_requirements(bad)
    assert "requires" in err.value.one_line() and str(bad) in err.value.one_line()


@pytest.mark.parametrize("er, status", [(True, "eligible"), ("positive", "eligible"), (1.0, "eligible"),
                                        (False, "contraindicated"), (0, "contraindicated"), ("negative", "contraindicated"),
                                        (None, "not_established"), (float("nan"), "not_established"),
                                        ("unknown", "not_established")])
def test_endocrine_therapy_needs_an_er_positive_breast_tumour_regression_tamoxifen_for_er_negative(er, status):
    """Tamoxifen had no hormone-receptor requirement: nothing kept it from an ER-negative patient's first rank
    (the models cannot learn its ER effect from observational data: 44 of 40,000 simulated training patients)."""
    receptors = {} if er is None else {"er_positive": er}
    (res,) = assess_eligibility(["tamoxifen"], "IDC", None, receptors=receptors)
    assert (res.drug, res.status, res.requirement_id) == ("tamoxifen", status, "HORMONE_RECEPTOR_POSITIVE_ENDOCRINE_BREAST")
    if status == "not_established":
        assert res.label.startswith("eligibility not established: test oestrogen receptor (ER) status")
        assert ELIGIBILITY_COLOURS[res.status] == "amber"
    if status == "contraindicated":
        assert "ER) negative" in res.reason
    assert assess_eligibility(["tamoxifen"], "LUAD", None, receptors=receptors) == ()  # breast only


def test_a_receptor_requirement_without_its_receptor_is_refused(tmp_path):
    import json

    from genomics.biomarkers.eligibility import _default_table
    from genomics.errors import KnowledgeBaseError

    data = json.loads(_default_table().read_text(encoding="utf-8"))
    req = next(r for r in data["eligibility_requirements"] if r["requires"] == "receptor_positive")
    del req["receptor"]
    bad = tmp_path / "table.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as err:
        load_requirements(bad)
    assert err.value.field == "receptor" and err.value.record == "HORMONE_RECEPTOR_POSITIVE_ENDOCRINE_BREAST"
