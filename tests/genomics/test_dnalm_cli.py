"""``recommender dnalm score|info`` end to end with a tiny model and the bundled GRCh38 subset."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("genomics.reference")

from recommender.cli import main
from tests.genomics.test_dnalm_scoring import make_char_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_char_model(tmp_path_factory.mktemp("cli") / "m", window=40)


def test_score_json_has_scores_consequence_genes_and_provenance(tiny, tmp_path, capsys):
    out = tmp_path / "s.json"
    rc = main(["dnalm", "score", "--model", str(tiny), "--device", "cpu",
               "--variant", "chr17:43124096:T:C",   # BRCA1 start codon (minus strand ATG)
               "--variant", "chr1:1000:A:G",         # outside the bundled subset
               "--cache", str(tmp_path / "c.sqlite"), "--json", "--out", str(out)])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert data == json.loads(out.read_text())
    v0, v1 = data["variants"]
    assert v0["status"] == "ok" and v0["consequence"]["consequence"] == "start_lost"
    ve = v0["variant_effect"]
    assert v0["combined_score"] == pytest.approx(-ve["log_odds"])
    assert ve["parts"]["consequence"] == 1.0 and ve["parts"]["lm"] == pytest.approx(-v0["llr"])
    assert "lm" in ve["not_assessed"]  # regression: a user's own LM's LLR is not combined with weights fitted for another
    assert 0 < ve["interval"][0] <= ve["probability"] <= ve["interval"][1] < 1
    assert v1["variant_effect"]["not_assessed"] == ["consequence", "splice", "lm"]
    assert v0["gene"] == "BRCA1" and len(v0["embedding_delta"]) == 32
    assert v1["status"] == "outside_reference" and v1["llr"] is None
    assert data["genes"]["BRCA1"]["n_variants"] == 1
    prov = data["provenance"]
    assert prov["genome_build"] == "GRCh38" and prov["dnalm_model_id"] == "tiny-char" and prov["dnalm_weights_sha256_16"]
    comb = prov["variant_effect_combination"]
    assert set(comb["weights"]) == {"consequence", "splice", "lm"} and "BRCA1 held out" in comb["training"]


def test_score_ref_mismatch_exit_1_and_no_variants_exit_2(tiny, capsys):
    assert main(["dnalm", "score", "--model", str(tiny), "--device", "cpu", "--variant", "chr17:43124096:G:A"]) == 1
    assert "REF" in capsys.readouterr().err
    assert main(["dnalm", "score", "--model", str(tiny), "--device", "cpu"]) == 2


def test_missing_model_folder_exit_1(tmp_path, capsys):
    assert main(["dnalm", "score", "--model", str(tmp_path / "nope"), "--variant", "chr17:43124096:T:C"]) == 1
    assert "model folder not found" in capsys.readouterr().err


def test_score_vcf_sample_alleles_only(tiny, fixtures_dir, capsys):
    vcf = fixtures_dir / "dnalm" / "brca1_small.vcf"
    assert main(["dnalm", "score", "--model", str(tiny), "--device", "cpu", "--vcf", str(vcf), "--sample", "S1",
                 "--no-embeddings", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    got = {(v["contig"], v["pos"]): v for v in data["variants"]}
    assert set(got) == {("chr1", 1000000), ("chr17", 43093000), ("chr17", 43124096)}  # S1 lacks 43100000
    assert got[("chr1", 1000000)]["status"] == "outside_reference"
    assert got[("chr17", 43093000)]["method"] == "pll_delta_mean"
    assert got[("chr17", 43093000)]["consequence"]["consequence"] == "frameshift"
