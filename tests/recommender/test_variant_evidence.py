"""Germline BRCA1/2 and VUS variant-effect evidence beside PARP-inhibitor and platinum options (issues 14, 17)."""

from __future__ import annotations

from pathlib import Path

from recommender import PatientInputs, ScoringContext, score_patient
from recommender.recommendation import Recommendation
from recommender.report import render_report

VCF = Path(__file__).resolve().parents[1] / "fixtures" / "germline_brca" / "germline_brca.vcf"
PAAD = {"patient_id": "T-PAAD", "diagnosis": {"cancer_type": "PAAD"},
        "candidate_treatments": ["FOLFIRINOX", "gemcitabine-nab-paclitaxel", "olaparib"]}


def _score(sample: str | None, record: dict = PAAD) -> Recommendation:
    inputs = PatientInputs(germline_vcf=VCF, sample=sample) if sample else PatientInputs()
    return score_patient(record, inputs=inputs, context=ScoringContext(False))


def test_germline_brca2_frameshift_makes_olaparib_eligible_with_germline_evidence():
    rec = _score("BRCA2_FS")
    o = rec.option("olaparib")
    assert o.eligibility == "eligible" and o.eligibility_colour == "green"
    (check,) = o.eligibility_checks
    (ev,) = check.evidence
    assert (ev.gene, ev.source, ev.consequence) == ("BRCA2", "germline", "frameshift")
    assert any(c.get("pmid") for c in check.citations)
    assert [e.gene for e in o.variant_evidence] == ["BRCA2"]
    assert {(g.gene, g.status) for g in rec.germline_genes} == {("BRCA1", "no_reportable_variant"),
                                                               ("BRCA2", "pathogenic_variant")}
    assert Recommendation.from_json(rec.to_json()) == rec


def test_germline_brca1_missense_vus_is_not_established_and_evidence_is_shown():
    rec = _score("BRCA1_VUS")
    o = rec.option("olaparib")
    assert o.eligibility == "not_established"
    (ev,) = o.variant_evidence
    assert ev.supports == "not_established" and ev.probability is not None and ev.interval[0] < 0.9
    assert "confirm by clinical classification" in ev.label
    # platinum (FOLFIRINOX holds oxaliplatin) shows the same evidence; the gemcitabine doublet does not
    assert [e.variant for e in rec.option("FOLFIRINOX").variant_evidence] == [ev.variant]
    assert rec.option("gemcitabine-nab-paclitaxel").variant_evidence == ()


def test_brca_not_covered_by_the_vcf_is_not_assessed():
    rec = _score("NOCALL")
    assert {g.status for g in rec.germline_genes} == {"not_assessed"}
    assert rec.option("olaparib").eligibility == "not_established"
    rec = _score(None)  # no germline VCF at all
    assert {g.status for g in rec.germline_genes} == {"not_assessed"}
    assert all("no germline VCF" in g.detail for g in rec.germline_genes)


def test_tumour_brca_vus_evidence_beside_olaparib_and_carboplatin_paclitaxel():
    record = {"patient_id": "T-OV", "diagnosis": {"cancer_type": "HGSOC"},
              "candidate_treatments": ["carboplatin-paclitaxel", "olaparib"],
              "tumour_variants": [{"gene": "BRCA1", "protein_change": "p.R1699W", "variant_type": "missense"}]}
    rec = _score(None, record)
    for name in ("olaparib", "carboplatin-paclitaxel"):
        (ev,) = rec.option(name).variant_evidence
        assert (ev.gene, ev.source, ev.classification) == ("BRCA1", "tumour", "vus")
        assert ev.probability is not None and ev.supports == "not_established"


def test_hostile_text_in_variant_fields_is_escaped_in_html():
    rec = _score("BRCA1_VUS")
    bad = "<script>alert(1)</script>"
    data = rec.to_dict()
    for o in data["options"]:
        for e in o["variant_evidence"]:
            e.update(variant=bad, label=bad, gene=bad, consequence=bad, lm_status=bad)
    data["germline_genes"][0]["detail"] = bad
    html = render_report(Recommendation.from_dict(data))
    assert bad not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_cli_table_lists_the_vus_evidence():
    from recommender.commands.score import _summary

    text = _summary(_score("BRCA1_VUS"))
    assert "VUS (missense): variant-effect evidence P=" in text


def test_germline_brca_loss_of_function_reaches_the_models_brca_feature():
    """Regression: a germline BRCA2 frameshift made olaparib eligible but the model still saw BRCA wild type
    (its BRCA feature came only from tumour findings), so olaparib's predicted response did not move."""
    with_lof = score_patient(PAAD, inputs=PatientInputs(germline_vcf=VCF, sample="BRCA2_FS"))
    without = score_patient(PAAD, inputs=PatientInputs(germline_vcf=VCF, sample="BRCA1_VUS"))
    p_lof = with_lof.option("olaparib").model.response.probability
    p_vus = without.option("olaparib").model.response.probability
    assert p_lof > p_vus + 0.2


def test_germline_brca_loss_of_function_reaches_the_model_in_batch_scoring_too():
    """The cohort path (``score_patients`` with ``batch_size > 1``) gives the same olaparib numbers as one by one."""
    from genomics.biomarkers.germline import read_germline_genes_cohort
    from recommender import score_patients

    records = [{**PAAD, "patient_id": "P-FS"}, {**PAAD, "patient_id": "P-VUS"}]
    by_sample = read_germline_genes_cohort(str(VCF), ["BRCA2_FS", "BRCA1_VUS"])
    germline = {"P-FS": by_sample["BRCA2_FS"], "P-VUS": by_sample["BRCA1_VUS"]}
    batch = list(score_patients(records, batch_size=2, germline_genes=germline))
    single = score_patient(PAAD, inputs=PatientInputs(germline_vcf=VCF, sample="BRCA2_FS"))
    p_fs, p_vus = (r.option("olaparib").model.response.probability for r in batch)
    assert p_fs > p_vus + 0.2
    assert abs(p_fs - single.option("olaparib").model.response.probability) < 1e-9


def test_germline_loss_of_function_gives_the_model_the_same_inputs_as_a_tumour_finding():
    """Regression (VUS benchmark, arm A vs E): a germline BRCA1 loss of function set the BRCA flag but not the
    biomarker-match level of olaparib, so the model saw half a carrier (breast: P(response) 0.31 vs 0.61 with the
    same variant as a tumour finding). The models must see a germline loss of function as the tumour finding they
    were trained on."""
    brca = {"patient_id": "T-BRCA", "diagnosis": {"cancer_type": "BRCA"},
            "candidate_treatments": ["AC-T", "tamoxifen", "olaparib"]}
    germline = score_patient(brca, inputs=PatientInputs(germline_vcf=VCF, sample="BRCA1_STOP"))
    tumour = score_patient({**brca, "tumour_variants": [{"gene": "BRCA1", "variant_type": "loss_of_function"}]})
    p_germ = germline.option("olaparib").model.response.probability
    p_tum = tumour.option("olaparib").model.response.probability
    assert abs(p_germ - p_tum) < 0.02
    # what is shown stays what it is: a germline finding, not a tumour one
    assert not germline.tumour_findings
