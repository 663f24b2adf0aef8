"""DNA LM gene features computed for scoring (the bundle's BRCA1/BRCA2 features)."""

from __future__ import annotations

from pathlib import Path

import pytest

from recommender.dnalm_features import dnalm_gene_features

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "dnalm" / "brca1_small.vcf"
DEMO_VCF = Path(__file__).resolve().parents[2] / "genomics" / "data" / "demo" / "demo_pgx_panel.vcf.gz"


@pytest.mark.slow
def test_brca1_variants_of_the_sample_are_scored_and_pooled():
    feats = dnalm_gene_features(FIXTURE, "S2", ("BRCA1", "BRCA2", "TP53"))
    # S2 carries chr17:43100000 A>G (1/1) and 43124096 T>C (0/1) inside BRCA1, and nothing on chr1
    assert feats.n_variants == 2
    assert set(feats.genes) == {"BRCA1"}
    pooled = feats.genes["BRCA1"]
    assert pooled.n_variants <= 2 and len(pooled.mean_embedding_delta) > 0
    assert feats.model and "@" in feats.model
    assert any("TP53" in n and "no canonical transcript" in n for n in feats.notes)
    assert not any("BRCA2" in n and "no canonical transcript" in n for n in feats.notes)  # BRCA2 has one now


def test_no_variants_in_the_genes_means_no_model_load_and_a_note():
    feats = dnalm_gene_features(DEMO_VCF, "HG00096", ("BRCA1",))
    assert feats.genes == {} and feats.model is None and feats.n_variants == 0
    assert any("no variants" in n for n in feats.notes)
