"""The dilated-CNN DNA LM (GPN kind): reverse-complement equivariance, safetensors round trip, loading,
scoring, resumable best-checkpoint training, CUDA path (skipped without CUDA)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from genomics.dnalm import Variant, VariantScorer, load_model
from genomics.dnalm.conv_model import (
    ConvLMConfig,
    build_conv_model,
    is_conv_folder,
    load_conv_model,
    save_conv_model,
)
from genomics.dnalm.train import write_tokenizer
from genomics.errors import ModelError
from tests.genomics.test_dnalm_scoring import DictReference, random_dna
from tests.genomics.test_dnalm_train import fake_shared  # noqa: F401 - fixture


def make_conv_model(folder, seed: int = 0, window: int = 62):
    torch.manual_seed(seed)
    model = build_conv_model(ConvLMConfig(hidden_size=16, num_layers=3, dilations=(1, 2, 4)))
    save_conv_model(model, folder, dtype="float32")
    write_tokenizer(folder)
    (folder / "metrics.json").write_text(json.dumps({"model": "tiny-conv", "window_bases": window}))
    return folder


def test_conjoined_output_is_exactly_reverse_complement_equivariant():
    torch.manual_seed(0)
    model = build_conv_model(ConvLMConfig(hidden_size=16, num_layers=3, dilations=(1, 2, 4))).eval()
    ids = torch.randint(4, 9, (3, 40))
    ids[:, 0], ids[:, -1] = 0, 2  # <cls> ... <eos>
    rc = model.comp[ids].flip(1)
    with torch.no_grad():
        a = model(input_ids=ids).logits
        b = model(input_ids=rc).logits
    torch.testing.assert_close(a, b.flip(1)[..., model.comp], atol=1e-5, rtol=1e-5)
    model.rc_conjoin = False  # one strand only: no longer equivariant (the check above can fail)
    with torch.no_grad():
        assert not torch.allclose(model(input_ids=ids).logits, model(input_ids=rc).logits.flip(1)[..., model.comp], atol=1e-3)


def test_padding_does_not_change_the_real_positions():
    torch.manual_seed(1)
    model = build_conv_model(ConvLMConfig(hidden_size=16, num_layers=2, dilations=(1, 2), rc_conjoin=False)).eval()
    ids = torch.randint(4, 8, (1, 30))
    padded = torch.cat([ids, torch.full((1, 10), 1)], dim=1)
    mask = torch.cat([torch.ones(1, 30), torch.zeros(1, 10)], dim=1).long()
    with torch.no_grad():
        a = model(input_ids=ids).logits
        b = model(input_ids=padded, attention_mask=mask).logits[:, :30]
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_safetensors_round_trip_and_folder_detection(tmp_path):
    folder = make_conv_model(tmp_path / "m")
    assert is_conv_folder(folder) and not is_conv_folder(tmp_path)
    assert not list(folder.glob("*.bin")) and not list(folder.glob("*.pt"))
    torch.manual_seed(0)
    a = build_conv_model(ConvLMConfig(hidden_size=16, num_layers=3, dilations=(1, 2, 4)))
    b = load_conv_model(folder)
    for (k, v), (k2, v2) in zip(a.state_dict().items(), b.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)


def test_weights_that_do_not_match_config_are_a_clear_error(tmp_path):
    folder = make_conv_model(tmp_path / "m")
    cfg = json.loads((folder / "config.json").read_text())
    cfg["hidden_size"] = 32
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelError, match="do not match"):
        load_model(folder, device="cpu")


def test_load_model_scores_with_conv_model_strands_identical(tmp_path):
    lm = load_model(make_conv_model(tmp_path / "m"), device="cpu")
    assert lm.model_id == "tiny-conv" and lm.adapter.kind == "char" and lm.window_bases == 62
    ref = DictReference({"chr1": (1001, random_dna(3000, seed=3))})
    b = ref.fetch("chr1", 2000, 2000)
    alt = {"A": "C", "C": "G", "G": "T", "T": "A"}[b]
    scorer = VariantScorer(lm, ref)
    s = scorer.score([Variant("chr1", 2000, b, alt), Variant("chr1", 2100, ref.fetch("chr1", 2100, 2102), ref.fetch("chr1", 2100, 2100))])
    assert all(x.status == "ok" for x in s)
    assert s[0].llr_forward == s[0].llr_reverse == s[0].llr and s[0].method == "masked_marginal"
    assert s[1].method == "pll_delta_mean" and np.isfinite(s[1].llr)
    assert len(s[0].embedding_delta) == 16


def test_gpn_folder_without_its_package_is_a_clear_error(tmp_path):
    """A GPN checkpoint (model_type ConvNet) needs the gpn package's code: a clear error, no traceback."""
    folder = tmp_path / "gpn"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "ConvNet", "architectures": ["ConvNetForMaskedLM"]}))
    (folder / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelError, match="gpn package"):  # names the package and how to install it
        load_model(folder, device="cpu")


@pytest.mark.slow
def test_conv_training_keeps_best_checkpoint_and_resumes(fake_shared, tmp_path):  # noqa: F811
    from genomics.dnalm.train import main

    out, state = tmp_path / "model", tmp_path / "state"
    common = ["--shared", str(fake_shared), "--out", str(out), "--state-dir", str(state), "--arch", "conv",
              "--hidden", "16", "--layers", "2", "--dilations", "1,2", "--seq-len", "62", "--batch", "4",
              "--eval-windows", "8", "--labelled", str(tmp_path)]
    assert main(common + ["--max-steps", "3"]) == 0
    m1 = json.loads((out / "metrics.json").read_text())
    assert m1["step"] == 3 and m1["arch"] == "conv" and m1["selected_by"].startswith("lowest held-out")
    assert (state / "train_state.pt").exists()
    assert main(common + ["--max-steps", "6", "--resume"]) == 0
    st = torch.load(state / "train_state.pt", weights_only=True)
    assert st["step"] == 6 and st["arch"] == "conv" and st["best_nll"] <= m1["heldout"]["nll"]
    assert json.loads((out / "metrics.json").read_text())["heldout"]["nll"] == pytest.approx(st["best_nll"])
    lm = load_model(out, device="cpu")
    assert lm.model_id == "genomics-dnalm-conv" and lm.window_bases == 62
    from genomics.errors import UsageError

    with pytest.raises(UsageError, match="resume state"):
        main(common[:-2] + ["--labelled", str(tmp_path), "--arch", "esm", "--max-steps", "7", "--resume"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (GPU path: bf16 autocast)")
def test_cuda_bf16_scoring_close_to_fp32(tmp_path):
    folder = make_conv_model(tmp_path / "m")
    ref = DictReference({"chr1": (1001, random_dna(3000, seed=4))})
    vs = [Variant("chr1", p, ref.fetch("chr1", p, p), "A" if ref.fetch("chr1", p, p) != "A" else "C") for p in range(1500, 1520)]
    a = VariantScorer(load_model(folder, device="cpu"), ref, embeddings=False).score(vs)
    b = VariantScorer(load_model(folder, device="cuda", precision="bf16"), ref, embeddings=False).score(vs)
    assert np.allclose([x.llr for x in a], [y.llr for y in b], atol=0.05)


def test_shipped_conv_model_loads_scores_and_records_its_training():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "genomics" / "dnalm" / "data" / "conv_model"
    m = json.loads((folder / "metrics.json").read_text())
    assert m["arch"] == "conv" and m["step"] > 0 and m["evaluation_regions_cut"]
    assert m["heldout"]["perplexity"] < 3.41 and m["brca1_excluded"]["perplexity"] < 3.44  # beat the ESM (3.414 / 3.443)
    assert (folder / "MODEL_CARD.md").exists() and (folder / "model.safetensors").stat().st_size < 5_000_000
    lm = load_model(folder, device="cpu")
    assert lm.model_id == "genomics-dnalm-conv" and lm.window_bases == 254
    s = VariantScorer(lm, embeddings=False).score([Variant("chr17", 43124096, "T", "C")])[0]
    assert s.status == "ok" and s.llr_forward == s.llr_reverse
