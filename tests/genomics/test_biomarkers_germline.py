"""Germline BRCA1/2 -> PARP-inhibitor eligibility, and VUS variant-effect evidence (issues 14 and 17)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from genomics.biomarkers.eligibility import ELIGIBILITY_COLOURS, assess_eligibility
from genomics.biomarkers.germline import GermlineGenes, classify_variant, read_germline_genes
from genomics.biomarkers.variant_evidence import (
    PREDICTED_PATHOGENIC_LOWER_BOUND,
    parp_eligibility,
    variant_evidence,
)
from genomics.dnalm.consequence import load_transcripts

VCF = Path(__file__).resolve().parents[1] / "fixtures" / "germline_brca" / "germline_brca.vcf"
DEMO_VCF = Path(__file__).resolve().parents[2] / "genomics" / "data" / "demo" / "demo_pgx_panel.vcf.gz"


def test_brca2_transcript_is_mane_select_and_maps_the_founder_frameshift():
    tx = load_transcripts()["BRCA2"]
    assert (tx.ensembl, tx.refseq, tx.strand, len(tx.exons)) == ("ENST00000380152", "NM_000059.4", "+", 27)
    assert len(tx.cds_positions()) == 3419 * 3  # 3,418 residues + stop
    # BRCA2 c.5946del (6174delT), position from cohorts/data/germline_brca_variants.tsv: independent of the table
    v = classify_variant("chr13", 32340300, "GT", "G")
    assert (v.gene, v.consequence, v.cds_position, v.protein_position) == ("BRCA2", "frameshift", 5946, 1982)


def test_germline_brca2_frameshift_makes_olaparib_eligible_with_germline_evidence():
    g = read_germline_genes(VCF, "BRCA2_FS")
    assert g.status("BRCA2").status == "pathogenic_variant"
    (r,) = assess_eligibility(["olaparib"], "PAAD", None, germline=g)
    assert r.status == "eligible" and ELIGIBILITY_COLOURS[r.status] == "green"
    (ev,) = r.evidence
    assert (ev["gene"], ev["source"], ev["consequence"], ev["supports"]) == ("BRCA2", "germline", "frameshift",
                                                                              "loss_of_function")
    assert ev["variant"] == "chr13:32340300 GT>G"
    assert any(c.get("pmid") == "31157963" for c in r.citations)  # POLO beside the option


def test_germline_brca1_stop_gained_is_loss_of_function_in_breast():
    g = read_germline_genes(VCF, "BRCA1_STOP")
    (r,) = assess_eligibility(["talazoparib"], "IDC", None, germline=g)
    assert r.status == "eligible" and "stop_gained" in r.reason


def test_germline_brca1_missense_vus_is_not_established_and_its_evidence_is_shown():
    g = read_germline_genes(VCF, "BRCA1_VUS")
    assert g.status("BRCA1").status == "vus"
    (r,) = assess_eligibility(["olaparib"], "PAAD", None, germline=g)
    assert r.status == "not_established"
    (ev,) = r.evidence
    assert ev["classification"] == "vus" and ev["consequence"] == "missense" and ev["supports"] == "not_established"
    lo, hi = ev["interval"]
    assert 0 <= lo <= ev["probability"] <= hi <= 1 and lo < PREDICTED_PATHOGENIC_LOWER_BOUND
    assert "VUS" in ev["label"] and "confirm by clinical classification" in ev["label"]
    assert "consequence" in ev["contributing_parts"]


def test_brca_not_covered_by_the_vcf_is_not_assessed_never_wild_type():
    for vcf, sample in ((VCF, "NOCALL"), (DEMO_VCF, "HG00096")):
        g = read_germline_genes(vcf, sample)
        assert {s.status for s in g.genes} == {"not_assessed"}
    (r,) = assess_eligibility(["olaparib"], "BRCA", None, germline=GermlineGenes.not_assessed("no germline VCF"))
    assert r.status == "not_established" and "not assessed" in r.reason
    assert "wild type" not in r.reason


def test_calls_without_a_reportable_variant_are_not_called_wild_type():
    g = read_germline_genes(VCF, "NONE")
    assert {s.status for s in g.genes} == {"no_reportable_variant"}
    assert all("not proof of a normal gene" in s.detail for s in g.genes)


def test_filtered_loss_of_function_call_does_not_establish(tmp_path):
    text = VCF.read_text().replace("rs80359550\tGT\tG\t50\tPASS", "rs80359550\tGT\tG\t50\tLowQual")
    text = text.replace("##FORMAT", '##FILTER=<ID=LowQual,Description="low">\n##FORMAT', 1)
    p = tmp_path / "filtered.vcf"
    p.write_text(text)
    g = read_germline_genes(p, "BRCA2_FS")
    (r,) = assess_eligibility(["olaparib"], "PAAD", None, germline=g)
    assert r.status == "not_established"


class _AllAReference:
    """A fake reference of A's (BRCA2 CDS is not in the bundled subset)."""

    def fetch(self, chrom, start, end):
        return "A" * (end - start + 1)


def test_brca2_truncation_in_the_last_exon_is_a_vus_not_loss_of_function():
    tx = load_transcripts()["BRCA2"]
    pos = tx.cds_positions()[9976 - 1]  # c.9976 (p.Lys3326Ter, benign polymorphic stop)
    v = classify_variant("chr13", pos, "A", "T", reference=_AllAReference())
    assert v.consequence == "stop_gained" and v.classification == "vus" and "nonsense-mediated decay" in v.detail
    early = classify_variant("chr13", tx.cds_positions()[300], "A", "T", reference=_AllAReference())
    assert early.consequence == "stop_gained" and early.classification == "pathogenic_like"


def test_substitution_without_reference_sequence_is_not_assessed_not_benign():
    v = classify_variant("chr13", 32340300, "G", "A")  # BRCA2 coding SNV, no chr13 in the bundled subset
    assert v.consequence is None and v.classification == "vus"


def test_vus_never_establishes_eligibility_without_a_supporting_calibration():
    d = parp_eligibility([{"chrom": "chr17", "pos": 43045694, "ref": "G", "alt": "C"}], (), "PAAD")
    assert d.status == "not_established"
    d = parp_eligibility([{"chrom": "chr17", "pos": 43045694, "ref": "G", "alt": "C"}], (), "PAAD",
                         use_variant_effect=False)
    assert d.status == "not_established" and "not used" in d.reason


def _confident_combination():
    """A combination sure that any missense is pathogenic (to exercise the predicted-pathogenic path)."""
    from genomics.dnalm.variant_effect import FittedCombination

    return FittedCombination(parts=("consequence", "splice", "lm"), mean=(0.0, 0.0, 0.0), scale=(0.01, 1.0, 1.0),
                             weights=(1.0, 0.0, 0.0), intercepts={"enigma": 0.0}, product_intercept="enigma", l1=0.0,
                             bootstrap=tuple((1.0, 0.0, 0.0, 0.0) for _ in range(10)))


def test_predicted_pathogenic_vus_is_amber_eligible_predicted_never_green(monkeypatch):
    comb = _confident_combination()
    ev = variant_evidence({"chrom": "chr17", "pos": 43045694, "ref": "G", "alt": "C"}, combination=comb)
    assert ev.supports == "predicted_pathogenic" and ev.interval[0] >= PREDICTED_PATHOGENIC_LOWER_BOUND
    d = parp_eligibility([{"chrom": "chr17", "pos": 43045694, "ref": "G", "alt": "C"}], (), "PAAD",
                         combination=comb)
    assert d.status == "eligible_predicted"
    import genomics.dnalm.variant_effect as ve

    monkeypatch.setitem(ve._LOADED, "default", comb)
    (r,) = assess_eligibility(["olaparib"], "PAAD", None, germline=read_germline_genes(VCF, "BRCA1_VUS"))
    assert r.status == "eligible_predicted" and ELIGIBILITY_COLOURS[r.status] == "amber"
    assert r.label.startswith("eligible (predicted pathogenic VUS; confirm)")


def test_tumour_brca_vus_gives_evidence_with_a_tumour_source():
    from genomics.biomarkers import TumourProfile, match_biomarkers
    from genomics.biomarkers.inputs import SomaticVariant

    prof = TumourProfile(variants=(SomaticVariant(gene="BRCA1", protein=None, chrom="chr17", pos=43045694, ref="G", alt="C",
                                                  consequences=("missense_variant",), record="t1",
                                                  positions_build="GRCh38"),),
                         source_file="t.vcf", file_format="vcf")
    report = match_biomarkers(prof, "PRAD")
    assert report.vus
    (r,) = assess_eligibility(["olaparib"], "PRAD", report)
    assert r.status == "not_established"
    assert r.evidence and r.evidence[0]["source"] == "tumour" and r.evidence[0]["probability"] is not None


def test_interval_of_the_shipped_combination_is_ordered():
    ev = variant_evidence({"chrom": "chr17", "pos": 43093844, "ref": "G", "alt": "A"})
    assert ev.supports == "loss_of_function"
    assert np.isfinite(ev.probability) and ev.interval[0] <= ev.probability <= ev.interval[1]


@pytest.mark.parametrize("drug", ["oxaliplatin", "panitumumab"])
def test_germline_does_not_touch_other_requirements(drug):
    g = read_germline_genes(VCF, "BRCA2_FS")
    out = assess_eligibility([drug], "COAD", None, germline=g)
    assert all(r.requirement_id != "BRCA_LOF_PARP_INHIBITOR" for r in out)


def test_cohort_reading_equals_one_sample_reading():
    from genomics.biomarkers.germline import read_germline_genes_cohort

    samples = ["BRCA2_FS", "BRCA1_VUS", "BRCA1_STOP", "NONE", "NOCALL"]
    many = read_germline_genes_cohort(VCF, samples)
    assert all(many[s] == read_germline_genes(VCF, s) for s in samples)


def test_ref_that_disagrees_with_the_reference_is_not_assessed_not_loss_of_function():
    v = classify_variant("chr17", 43093844, "T", "A")  # the reference base is G (BRCA1 c.1687)
    assert v.consequence is None and v.classification == "vus" and "not assessed" in v.detail
