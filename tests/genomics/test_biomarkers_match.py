"""Matching tumours against the biomarker table (genomics.biomarkers.match)."""

import json

import pytest

from genomics.biomarkers import (
    MATCH_METHODS,
    VUS_LABEL,
    SomaticVariant,
    TumourProfile,
    match_biomarkers,
    parse_protein_change,
    read_tumour,
)
from genomics.errors import UsageError
from tests.conftest import FIXTURES

F = FIXTURES / "biomarkers"


def _by(report, gene, in_type=True):
    return [m for m in report.matches if m.gene == gene and m.matched_in_patient_cancer_type is in_type]


def test_luad_vep_vcf_egfr_exon19_and_kras_g12c():
    report = match_biomarkers(read_tumour(F / "tumour_vep.vcf"), cancer_type="LUAD")
    egfr = _by(report, "EGFR")
    assert len(egfr) == 1 and egfr[0].rule_id == "EGFR_EX19DEL_NSCLC"
    assert set(egfr[0].therapies) == {"osimertinib", "gefitinib", "erlotinib", "afatinib"}
    assert egfr[0].evidence_level == "1" and egfr[0].match_method == "protein change"
    assert {m.rule_id for m in _by(report, "KRAS")} == {"KRAS_G12C_NSCLC"}
    # the same KRAS G12C is an anti-EGFR resistance marker in colorectal cancer: listed, not in type
    crc = _by(report, "KRAS", in_type=False)
    assert crc and crc[0].direction == "resistance" and crc[0].level_for_patient == "R2"
    # BRCA1 frameshift: PARP inhibitors in other tumour types -> 3B for this LUAD patient
    brca1 = _by(report, "BRCA1", in_type=False)
    assert brca1 and {m.level_for_patient for m in brca1} == {"3B"}


def test_brca2_vus_is_never_an_approved_biomarker():
    report = match_biomarkers(read_tumour(F / "tumour_vep.vcf"), cancer_type="HGSOC")
    assert [v.gene for v in report.vus] == ["BRCA2"]
    vus = report.vus[0]
    assert vus.classification == VUS_LABEL and vus.approved_biomarker is False
    assert not any(m.gene == "BRCA2" for m in report.matches)
    # the BRCA1 frameshift is a level-1 PARP inhibitor biomarker in ovarian cancer
    assert {"olaparib", "niraparib", "rucaparib"} <= set(_by(report, "BRCA1")[0].therapies)


def test_vus_hook_scores_but_does_not_promote():
    seen = []

    def hook(variant):
        seen.append(variant.gene)
        return {"score": -3.25, "method": "test LM", "detail": "research only"}

    report = match_biomarkers(read_tumour(F / "tumour.maf"), cancer_type="BRCA", vus_scorer=hook)
    assert seen == ["BRCA2"]
    assert report.vus[0].effect_score == -3.25 and report.vus[0].effect_score_method == "test LM"
    assert not any(m.gene == "BRCA2" for m in report.matches)


def test_vus_hook_failure_is_reported_not_raised():
    def broken(variant):
        raise RuntimeError("model missing")

    report = match_biomarkers(read_tumour(F / "tumour.maf"), cancer_type="BRCA", vus_scorer=broken)
    assert report.vus[0].effect_score is None and "model missing" in report.vus[0].effect_score_detail


def test_pathogenic_brca2_missense_is_lof_not_vus():
    v = SomaticVariant(gene="BRCA2", protein=parse_protein_change("p.D2723H"), consequences=("missense_variant",),
                       clin_sig="pathogenic&likely_pathogenic", record="x")
    report = match_biomarkers(TumourProfile(variants=(v,)), cancer_type="PRAD")
    assert not report.vus and _by(report, "BRCA2")[0].rule_id == "BRCA_LOF_PROSTATE"
    conflicting = SomaticVariant(gene="BRCA2", protein=parse_protein_change("p.D2723H"),
                                 clin_sig="conflicting_interpretations_of_pathogenicity", record="y")
    report = match_biomarkers(TumourProfile(variants=(conflicting,)), cancer_type="PRAD")
    assert report.vus and not report.matches


def test_unannotated_vcf_matches_hotspots_by_grch38_position():
    report = match_biomarkers(read_tumour(F / "tumour_unannotated.vcf"), cancer_type="BRCA")
    pik3ca = _by(report, "PIK3CA")
    assert pik3ca and pik3ca[0].match_method == "GRCh38 position" and pik3ca[0].protein_change == "H1047R"
    assert pik3ca[0].therapies == ("alpelisib",)
    braf = [m for m in report.matches if m.gene == "BRAF"]
    assert braf and all(m.match_method == "GRCh38 position" for m in braf)
    assert {m.protein_change for m in report.matches if m.gene == "KRAS"} == {"G12C", "G12S"}
    assert any("only GRCh38 hotspot positions" in w for w in report.warnings)


def test_grch37_maf_matches_by_protein_change_only():
    report = match_biomarkers(read_tumour(F / "tumour_grch37.maf"), cancer_type="NSCLC")
    assert {m.rule_id for m in report.matches if m.matched_in_patient_cancer_type} == {
        "BRAF_V600E_NSCLC", "EGFR_EX19DEL_NSCLC"}
    assert all(m.match_method == "protein change" for m in report.matches)


def test_crc_maf_cnv_tmb_msi():
    profile = read_tumour(F / "tumour.maf", cnv=F / "cnv.tsv", tmb=14, msi="MSI-H")
    report = match_biomarkers(profile, cancer_type="COAD")
    methods = {m.match_method for m in report.matches}
    assert methods == set(MATCH_METHODS) - {"GRCh38 position"}
    nras = _by(report, "NRAS")
    assert nras[0].direction == "resistance" and set(nras[0].therapies) == {"cetuximab", "panitumumab"}
    assert _by(report, "BRAF")[0].therapies == ("encorafenib + cetuximab",)
    assert _by(report, "BRAF")[0].drugs == ("encorafenib", "cetuximab")
    assert _by(report, "TMB")[0].therapies == ("pembrolizumab",) and _by(report, "MSI")
    alk = [m for m in report.matches if m.gene == "ALK"]
    assert alk[0].match_method == "fusion" and alk[0].finding == "EML4::ALK fusion"
    erbb2 = next(m for m in report.matches if m.gene == "ERBB2")
    assert erbb2.match_method == "copy number" and not erbb2.matched_in_patient_cancer_type
    # sensitivity in the patient's type first
    assert report.matches[0].matched_in_patient_cancer_type


def test_tmb_threshold_is_inclusive():
    assert _by(match_biomarkers(read_tumour(tmb=10), cancer_type="PAAD"), "TMB")
    assert not match_biomarkers(read_tumour(tmb=9.9), cancer_type="PAAD").matches
    assert not match_biomarkers(read_tumour(msi="MSS"), cancer_type="PAAD").matches


def test_no_cancer_type_lists_matches_without_claiming_they_apply():
    report = match_biomarkers(read_tumour(F / "tumour_snpeff.vcf"))
    assert report.matches and not any(m.matched_in_patient_cancer_type for m in report.matches)
    assert all(m.level_for_patient is None for m in report.matches)
    assert any("no cancer type given" in w for w in report.warnings)


def test_unknown_cancer_type_is_a_usage_error():
    with pytest.raises(UsageError):
        match_biomarkers(read_tumour(tmb=3), cancer_type="NOT_A_CODE")


def test_report_is_json_serialisable_with_provenance():
    report = match_biomarkers(read_tumour(F / "tumour_vep.vcf", tmb=3), cancer_type="LUAD")
    data = json.loads(json.dumps(report.to_dict()))
    prov = data["provenance"]
    assert prov["genome_build"] == "GRCh38" and prov["package_version"]
    table = prov["biomarker_tables"][0]
    assert table["version"] == "2026.12.3" and len(table["sha256"]) == 64
    assert len(prov["hotspot_positions"]["sha256"]) == 64
    m = data["matches"][0]
    for key in ("gene", "alteration", "protein_change", "evidence_level", "therapies", "direction", "cancer_types",
                "matched_in_patient_cancer_type", "citations", "source_version", "match_method"):
        assert key in m
    assert "LUAD" in report.format_table()


def test_import_pulls_in_neither_dnalm_nor_recommender():
    import subprocess
    import sys

    code = ("import sys, genomics.biomarkers; "
            "print(any(m.startswith(('genomics.dnalm', 'recommender', 'torch')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.slow
def test_dnalm_hook_scores_a_brca1_vus_inside_the_bundled_reference():
    pytest.importorskip("torch")
    from genomics.biomarkers import dnalm_vus_scorer
    from genomics.reference import bundled_reference

    ref = bundled_reference().fetch("chr17", 43094464, 43094464)
    alt = "A" if ref != "A" else "G"
    inside = SomaticVariant(gene="BRCA1", protein=parse_protein_change("p.S1000P"), consequences=("missense_variant",),
                            chrom="chr17", pos=43094464, ref=ref, alt=alt, positions_build="GRCh38", record="a")
    outside = SomaticVariant(gene="BRCA2", protein=parse_protein_change("p.I1334V"), chrom="chr13", pos=32339700,
                             ref="A", alt="G", positions_build="GRCh38", record="b")
    no_pos = SomaticVariant(gene="BRCA2", protein=parse_protein_change("p.I1335V"), record="c")
    scorer = dnalm_vus_scorer()
    report = match_biomarkers(TumourProfile(variants=(inside, outside, no_pos)), cancer_type="HGSOC",
                              vus_scorer=scorer)
    by_record = {v.record: v for v in report.vus}
    assert isinstance(by_record["a"].effect_score, float) and "genomics.dnalm" in by_record["a"].effect_score_method
    assert by_record["b"].effect_score is None and "outside" in by_record["b"].effect_score_detail
    assert by_record["c"].effect_score is None and "GRCh38" in by_record["c"].effect_score_detail
    assert not report.matches and all(v.approved_biomarker is False for v in report.vus)
    assert report.provenance["vus_effect_score"]["model_id"]


def test_exon19_deletion_matches_by_vep_exon_without_hgvsp(tmp_path):
    text = (F / "tumour_vep.vcf").read_text().replace("|HGVSp|", "|HGVS_P_OFF|")
    p = tmp_path / "nohgvs.vcf"
    p.write_text(text)
    report = match_biomarkers(read_tumour(p), cancer_type="LUAD")
    egfr = _by(report, "EGFR")
    assert [m.rule_id for m in egfr] == ["EGFR_EX19DEL_NSCLC"] and egfr[0].protein_change is None
    assert "inframe_deletion" in egfr[0].finding
    # KRAS G12C is at a curated GRCh38 hotspot position: found by position
    assert _by(report, "KRAS")[0].match_method == "GRCh38 position"
