"""Bring your own model: every published DNA LM family as a tiny random model of its architecture.

Each fixture builds a folder shaped like the published one (``config.json`` with the same
``model_type``/``architectures``/``auto_map``, the same tokenizer files and id layout, the model's own
``.py`` files where the published folder ships them; see ``_byo_model_code.py`` for what those
stand-ins reproduce). The tests then check that ``load_model`` + ``VariantScorer`` give exactly what
the folder's own tokenizer and model give when called the documented way (the SNV log-likelihood
ratio computed by hand), on both strands, with embeddings, independent of batching; and that every
way a user's folder can be wrong ends in one :class:`ModelError` naming the folder and the fix.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from genomics.dnalm import Variant, VariantScorer, load_model
from genomics.dnalm.tokenization import all_kmers
from genomics.errors import ModelError
from tests.genomics import _byo_model_code as code
from tests.genomics.test_dnalm_scoring import DictReference, make_char_model, random_dna

SEQ = random_dna(700, seed=21)
REF = DictReference({"chr1": (1, SEQ)})
NT_SPECIALS = ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>"]


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _folder(factory, name: str) -> Path:
    # a unique folder name: transformers copies a local folder's code under its base name
    return factory.mktemp("byo") / f"{name}_{uuid.uuid4().hex[:8]}"


def _write_code(folder: Path, modules: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in modules.items():
        (folder / f"{name}.py").write_text(code.MARKER.format(folder=str(folder), name=name) + text)


def _clear_markers(folder: Path) -> None:
    for p in folder.glob("RAN_*"):
        p.unlink()


def _patch_config(folder: Path, **fields) -> None:
    cfg = json.loads((folder / "config.json").read_text())
    cfg.update(fields)
    (folder / "config.json").write_text(json.dumps(cfg, indent=2))


def _build_remote(folder: Path, auto_map: dict, config: dict, auto_cls: str, seed: int = 0) -> None:
    """Instantiate a random model from the folder's own code, save it, keep config.json like the original."""
    from transformers import AutoConfig

    (folder / "config.json").write_text(json.dumps({**config, "auto_map": auto_map}))
    cfg = AutoConfig.from_pretrained(folder, trust_remote_code=True, local_files_only=True)
    torch.manual_seed(seed)
    model = getattr(transformers, auto_cls).from_config(cfg, trust_remote_code=True)
    model.save_pretrained(folder)
    _patch_config(folder, auto_map=auto_map, architectures=config["architectures"])
    _clear_markers(folder)


def _char_tokenizer_files(folder: Path, module: str, cls: str) -> None:
    _write_code(folder, {module: code.CHAR_TOKENIZER.format(cls=cls)})
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": cls, "model_max_length": 1024, "characters": list("ACGTN"),
        "auto_map": {"AutoTokenizer": [f"{module}.{cls}", None]},
    }))


# ------------------------------------------------------------------ family folders
def nt_v1_folder(factory) -> Path:
    """Nucleotide Transformer v1: transformers' own EsmForMaskedLM, learned positions, 6-mer EsmTokenizer."""
    from transformers import EsmConfig, EsmForMaskedLM, EsmTokenizer

    folder = _folder(factory, "nt_v1")
    folder.mkdir(parents=True)
    # v1 checkpoints have 4,105 embedding rows: <cls> in front of a sequence and no <eos>/<bos>
    # (v2 below: 4,107 ids with <eos>); both layouts are read off the tokenizer itself
    vocab = NT_SPECIALS[:4] + all_kmers(6) + list("ATCGN")
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tok = EsmTokenizer(str(folder / "vocab.txt"), unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
                       cls_token="<cls>", eos_token=None)
    torch.manual_seed(1)
    cfg = EsmConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                    intermediate_size=32, max_position_embeddings=1002, position_embedding_type="absolute",
                    pad_token_id=1, mask_token_id=2, token_dropout=False, emb_layer_norm_before=False)
    EsmForMaskedLM(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def nt_v2_folder(factory) -> Path:
    folder = _folder(factory, "nt_v2")
    from transformers import EsmTokenizer

    _write_code(folder, {"esm_config": code.NT2_CONFIG, "modeling_esm": code.NT2_MODEL})
    vocab = NT_SPECIALS + all_kmers(6) + list("ATCGN")
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    EsmTokenizer(str(folder / "vocab.txt"), unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
                 cls_token="<cls>", eos_token="<eos>").save_pretrained(folder)
    auto_map = {"AutoConfig": "esm_config.EsmConfig", "AutoModelForMaskedLM": "modeling_esm.EsmForMaskedLM",
                "AutoModelForSequenceClassification": "modeling_esm.EsmForSequenceClassification"}
    config = {"model_type": "esm", "architectures": ["EsmForMaskedLM"], "add_bias_fnn": False,
              "position_embedding_type": "rotary", "tie_word_embeddings": False, "vocab_size": len(vocab),
              "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32,
              "pad_token_id": 1, "mask_token_id": 2, "max_position_embeddings": 2050}
    _build_remote(folder, auto_map, config, "AutoModelForMaskedLM", seed=2)
    return folder


def dnabert2_folder(factory) -> Path:
    from safetensors.torch import load_file
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    folder = _folder(factory, "dnabert2")
    _write_code(folder, {"configuration_bert": code.DNABERT2_CONFIG, "bert_layers": code.DNABERT2_MODEL})
    specials = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]  # DNABERT-2's ids 0-4
    tk = Tokenizer(models.BPE(unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(vocab_size=160, special_tokens=specials, initial_alphabet=list("ACGTN"))
    tk.train_from_iterator([random_dna(3000, seed=40 + i) for i in range(4)], trainer)
    tk.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 1), ("[SEP]", 2)])
    PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
                            pad_token="[PAD]", mask_token="[MASK]").save_pretrained(folder)
    auto_map = {"AutoConfig": "configuration_bert.BertConfig", "AutoModel": "bert_layers.BertModel",
                "AutoModelForMaskedLM": "bert_layers.BertForMaskedLM"}
    config = {"model_type": "bert", "architectures": ["BertForMaskedLM"], "alibi_starting_size": 512,
              "vocab_size": tk.get_vocab_size(), "hidden_size": 16, "num_hidden_layers": 2,
              "num_attention_heads": 2, "intermediate_size": 32, "pad_token_id": 3}
    _build_remote(folder, auto_map, config, "AutoModelForMaskedLM", seed=3)
    # published as pytorch_model.bin only
    state = load_file(folder / "model.safetensors")
    torch.save(state, folder / "pytorch_model.bin")
    (folder / "model.safetensors").unlink()
    return folder


def hyena_folder(factory) -> Path:
    folder = _folder(factory, "hyenadna")
    _write_code(folder, {"configuration_hyena": code.HYENA_CONFIG, "modeling_hyena": code.HYENA_MODEL})
    _char_tokenizer_files(folder, "tokenization_hyena", "CharacterTokenizer")
    auto_map = {"AutoConfig": "configuration_hyena.HyenaConfig", "AutoModel": "modeling_hyena.HyenaDNAModel",
                "AutoModelForCausalLM": "modeling_hyena.HyenaDNAForCausalLM"}
    config = {"model_type": "hyenadna", "architectures": ["HyenaDNAForCausalLM"], "vocab_size": 12, "d_model": 16,
              "n_layer": 2, "pad_vocab_size_multiple": 8, "pad_token_id": 4}
    _build_remote(folder, auto_map, config, "AutoModelForCausalLM", seed=4)
    return folder


def caduceus_folder(factory, extra_import: str = "") -> Path:
    folder = _folder(factory, "caduceus")
    _write_code(folder, {"configuration_caduceus": code.CADUCEUS_CONFIG,
                         "modeling_caduceus": code.CADUCEUS_MODEL.format(extra_import="")})
    _char_tokenizer_files(folder, "tokenization_caduceus", "CaduceusTokenizer")
    auto_map = {"AutoConfig": "configuration_caduceus.CaduceusConfig", "AutoModel": "modeling_caduceus.Caduceus",
                "AutoModelForMaskedLM": "modeling_caduceus.CaduceusForMaskedLM"}
    config = {"model_type": "caduceus", "architectures": ["CaduceusForMaskedLM"], "d_model": 16, "n_layer": 2,
              "vocab_size": 12, "pad_vocab_size_multiple": 8, "rcps": False, "bidirectional": True,
              "pad_token_id": 4}
    _build_remote(folder, auto_map, config, "AutoModelForMaskedLM", seed=5)
    if extra_import:  # the published modeling file imports mamba_ssm at the top
        # a fresh folder name: the classes built above are registered with the Auto classes in this process
        copy = _folder(factory, "caduceus_mamba")
        shutil.copytree(folder, copy)
        _write_code(copy, {"modeling_caduceus": code.CADUCEUS_MODEL.format(extra_import=extra_import)})
        return copy
    return folder


@pytest.fixture(scope="module")
def fake_gpn(tmp_path_factory):
    """A ``gpn`` package on sys.path (the real one needs Python >= 3.13 and transformers 5.15)."""
    root = tmp_path_factory.mktemp("gpnpkg")
    (root / "gpn").mkdir()
    (root / "gpn" / "__init__.py").write_text(code.GPN_INIT)
    (root / "gpn" / "ss_model.py").write_text(code.GPN_MODEL)
    saved = {k: sys.modules.pop(k) for k in list(sys.modules) if k == "gpn" or k.startswith("gpn.")}
    sys.path.insert(0, str(root))
    yield root
    sys.path.remove(str(root))
    for k in [k for k in sys.modules if k == "gpn" or k.startswith("gpn.")]:
        del sys.modules[k]
    sys.modules.update(saved)


def gpn_folder(factory) -> Path:
    """GPN (ConvNet): lower-case character vocabulary, no special tokens around a sequence."""
    import gpn
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers
    from transformers import AutoConfig, AutoModelForMaskedLM, PreTrainedTokenizerFast

    gpn.register_auto_classes("ss")
    folder = _folder(factory, "gpn")
    folder.mkdir(parents=True)
    vocab = {"[PAD]": 0, "[MASK]": 1, "[UNK]": 2, "a": 3, "c": 4, "g": 5, "t": 6}
    tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tk.normalizer = normalizers.Lowercase()
    tk.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="[PAD]", mask_token="[MASK]", unk_token="[UNK]")
    tok.save_pretrained(folder)
    cfg = AutoConfig.for_model("ConvNet", vocab_size=7, hidden_size=16, n_layers=3, kernel_size=5)
    torch.manual_seed(6)
    AutoModelForMaskedLM.from_config(cfg).save_pretrained(folder)
    _patch_config(folder, architectures=["ConvNetForMaskedLM"])
    return folder


# ------------------------------------------------------------------ the contract, family by family
def _window(pos: int, w: int) -> tuple[str, int]:
    start = pos - (w - 1) // 2
    return SEQ[start - 1 : start - 1 + w], pos - start


def _alt(b: str) -> str:
    return "A" if b != "A" else "G"


def _hand_masked_llr(lm, window: str, alt_window: str, index) -> float:
    """The folder's own tokenizer and model, called the documented way: mask the token holding the variant."""
    tok = lm.adapter.tokenizer
    ids = tok(window)["input_ids"]
    alt_ids = tok(alt_window)["input_ids"]
    i = index(tok, window)
    ref_id, alt_id = ids[i], alt_ids[i]
    ids = torch.tensor([ids])
    ids[0, i] = tok.mask_token_id
    with torch.no_grad():
        lp = torch.log_softmax(lm.model(input_ids=ids).logits[0, i].float(), -1)
    return float(lp[alt_id] - lp[ref_id])


def _hand_causal_llr(lm, window: str, alt_window: str) -> float:
    tok = lm.adapter.tokenizer

    def ll(w):
        ids = torch.tensor([tok(w)["input_ids"]])
        with torch.no_grad():
            lp = torch.log_softmax(lm.model(input_ids=ids).logits[0].float(), -1)
        return float(sum(lp[t - 1, ids[0, t]] for t in range(1, len(w))))  # base tokens 1..W-1 ([SEP] last)

    return ll(alt_window) - ll(window)


FAMILIES = {
    # name: (builder, load kwargs, window, expected adapter kind, objective, token index of window offset `off`)
    "nucleotide-transformer-v1": (nt_v1_folder, {}, 60, "kmer", "masked", lambda off: lambda tok, w: 1 + off // 6),
    "nucleotide-transformer-v2": (nt_v2_folder, {"trust_remote_code": True}, 60, "kmer", "masked",
                                  lambda off: lambda tok, w: 1 + off // 6),
    "dnabert-2": (dnabert2_folder, {"trust_remote_code": True}, 121, "bpe", "masked", None),
    "hyenadna": (hyena_folder, {"trust_remote_code": True}, 61, "char", "causal", None),
    "caduceus": (caduceus_folder, {"trust_remote_code": True}, 61, "char", "masked", lambda off: lambda tok, w: off),
    "gpn": (gpn_folder, {}, 61, "char", "masked", lambda off: lambda tok, w: off),
}


def _bpe_index(off):
    def index(tok, w):
        enc = tok(w, return_offsets_mapping=True)
        return next(i for i, (a, b) in enumerate(enc["offset_mapping"]) if a <= off < b and b > a)
    return index


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def family(request, tmp_path_factory):
    name = request.param
    if name == "gpn":
        request.getfixturevalue("fake_gpn")
    builder, kwargs, window, kind, objective, index = FAMILIES[name]
    folder = builder(tmp_path_factory)
    lm = load_model(folder, device="cpu", window_bases=window, **kwargs)
    return name, folder, lm, window, kind, objective, index


def test_family_loads_with_its_tokenizer_and_objective(family):
    name, folder, lm, _window_len, kind, objective, _ = family
    assert lm.adapter.kind == kind, name
    # the special tokens around a window are exactly the ones the folder's tokenizer adds
    enc = lm.adapter.encode("ACGTAC" * 3)
    assert list(enc.ids) == list(lm.adapter.tokenizer("ACGTAC" * 3)["input_ids"]), name
    assert lm.objective == objective, name
    prov = lm.provenance()
    assert prov["dnalm_objective"] == objective and prov["dnalm_model_type"]
    assert lm.model_id == folder.name
    if name in {"hyenadna", "caduceus", "gpn"}:
        assert not lm.uses_attention_mask  # these forward() take no attention mask
    else:
        assert lm.uses_attention_mask


def test_snv_llr_equals_the_folders_own_model_called_by_hand(family):
    name, _folder, lm, w, _kind, objective, index = family
    pos = 350
    b = SEQ[pos - 1]
    window, off = _window(pos, w)
    alt_window = window[:off] + _alt(b) + window[off + 1 :]
    s = VariantScorer(lm, REF, embeddings=False).score([Variant("chr1", pos, b, _alt(b))])[0]
    assert s.status == "ok", s.detail
    if objective == "causal":
        assert s.method == "causal_ll_delta"
        expect = _hand_causal_llr(lm, window, alt_window)
    else:
        idx = _bpe_index(off) if name == "dnabert-2" else index(off)
        if s.method != "masked_marginal":  # a BPE substitution that moves token boundaries
            pytest.skip("token boundaries moved; covered by the pseudo-likelihood tests")
        expect = _hand_masked_llr(lm, window, alt_window, idx)
    assert s.llr_forward == pytest.approx(expect, abs=1e-4), name
    assert math.isfinite(s.llr_reverse) and s.llr == pytest.approx((s.llr_forward + s.llr_reverse) / 2)


def test_scores_and_embeddings_do_not_depend_on_batching(family):
    """Models without an attention mask must never see padding; BPE windows differ in length."""
    name, _folder, lm, *_ = family
    vs = [Variant("chr1", p, SEQ[p - 1], _alt(SEQ[p - 1])) for p in (300, 311, 333)]
    vs.append(Variant("chr1", 400, SEQ[399:403], SEQ[399]))  # 3-base deletion
    vs.append(Variant("chr1", 420, SEQ[419], SEQ[419] + "CA"))  # insertion
    one = VariantScorer(lm, REF, batch_size=1).score(vs)
    many = VariantScorer(lm, REF, batch_size=16).score(vs)
    width = None
    for a, b in zip(one, many):
        assert a.status == b.status == "ok", (name, a.detail)
        assert a.llr == pytest.approx(b.llr, abs=1e-4), name
        assert np.allclose(a.embedding_delta, b.embedding_delta, atol=1e-4), name
        width = len(a.embedding_delta)
    cfg = lm.model.config
    assert width == getattr(cfg, "hidden_size", None) or width == getattr(cfg, "d_model", None)
    assert {r.method for r in one[3:]} <= {"pll_delta_mean", "causal_ll_delta"}


# ------------------------------------------------------------------ failure modes: one line, folder named, fix given
@pytest.mark.parametrize("builder", [nt_v2_folder, dnabert2_folder, hyena_folder, caduceus_folder],
                         ids=["nt-v2", "dnabert-2", "hyenadna", "caduceus"])
def test_folder_with_its_own_code_is_refused_without_trust_and_the_code_never_runs(builder, tmp_path_factory):
    folder = builder(tmp_path_factory)
    with pytest.raises(ModelError) as err:
        load_model(folder, device="cpu")
    msg = str(err.value)
    assert str(folder) in msg and "--trust-remote-code" in msg and ".py" in msg
    assert not list(folder.glob("RAN_*")), "the folder's code ran without --trust-remote-code"


def test_nt_v2_weights_under_transformers_own_esm_are_refused_not_silently_wrong(tmp_path_factory):
    """Strip the folder's code: transformers' ESM has another feed-forward, so weights are missing."""
    folder = nt_v2_folder(tmp_path_factory)
    cfg = json.loads((folder / "config.json").read_text())
    cfg.pop("auto_map")
    (folder / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelError) as err:
        load_model(folder, device="cpu", window_bases=60)
    assert str(folder) in str(err.value) and "weight" in str(err.value)


def test_caduceus_without_mamba_ssm_names_the_package_and_cuda(tmp_path_factory):
    folder = caduceus_folder(tmp_path_factory, extra_import="import mamba_ssm  # noqa")
    with pytest.raises(ModelError) as err:
        load_model(folder, device="cpu", trust_remote_code=True)
    msg = str(err.value)
    assert str(folder) in msg and "mamba_ssm" in msg and "CUDA" in msg and "cannot run on CPU" in msg


def test_missing_module_named_by_auto_map(tmp_path_factory):
    folder = hyena_folder(tmp_path_factory)
    (folder / "modeling_hyena.py").unlink()
    with pytest.raises(ModelError) as err:
        load_model(folder, device="cpu", trust_remote_code=True)
    assert "modeling_hyena.py" in str(err.value) and str(folder) in str(err.value)


def test_auto_map_pointing_at_another_repository_is_refused(tmp_path_factory):
    folder = hyena_folder(tmp_path_factory)
    _patch_config(folder, auto_map={"AutoModelForCausalLM": "someone/else--modeling_hyena.HyenaDNAForCausalLM"})
    with pytest.raises(ModelError, match="another hub repository"):
        load_model(folder, device="cpu", trust_remote_code=True)


def test_broken_tokenizer_code_is_a_clear_error(tmp_path_factory):
    """A character tokenizer that builds its vocabulary after the base constructor fails under newer
    transformers (get_vocab() runs inside it). Whatever the folder's tokenizer code raises is one ModelError."""
    folder = hyena_folder(tmp_path_factory)
    path = folder / "tokenization_hyena.py"
    path.write_text(path.read_text().replace("    def get_vocab(self):\n", "    def get_vocab(self):\n"
                                             "        raise AttributeError('_vocab_str_to_int')\n"))
    with pytest.raises(ModelError) as err:
        load_model(folder, device="cpu", trust_remote_code=True)
    assert "tokenizer" in str(err.value) and "AttributeError" in str(err.value) and str(folder) in str(err.value)


@pytest.mark.parametrize("cls_name", ["EsmModel", "EsmForSequenceClassification"])
def test_checkpoint_without_lm_head_is_refused(cls_name, tmp_path):
    from transformers import EsmConfig

    src = make_char_model(tmp_path / "char")
    cfg = EsmConfig.from_pretrained(src)
    getattr(transformers, cls_name)(cfg).save_pretrained(tmp_path / "base")
    for f in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        if (src / f).exists():
            shutil.copy(src / f, tmp_path / "base" / f)
    with pytest.raises(ModelError, match="language-model head") as err:
        load_model(tmp_path / "base", device="cpu")
    assert str(tmp_path / "base") in str(err.value)


def test_lm_architecture_without_head_weights_is_refused(tmp_path):
    """config.json says ...ForMaskedLM but the weights were saved from the base model: the head would be random."""
    from transformers import EsmConfig, EsmModel

    src = make_char_model(tmp_path / "char")
    cfg = EsmConfig.from_pretrained(src)
    EsmModel(cfg).save_pretrained(tmp_path / "headless")
    _patch_config(tmp_path / "headless", architectures=["EsmForMaskedLM"])
    for f in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        if (src / f).exists():
            shutil.copy(src / f, tmp_path / "headless" / f)
    with pytest.raises(ModelError, match="missing from the checkpoint"):
        load_model(tmp_path / "headless", device="cpu")


def test_bpe_needs_a_fast_tokenizer_and_the_error_names_the_folder(tmp_path):
    folder = make_char_model(tmp_path / "char")
    with pytest.raises(ModelError, match="fast tokenizer") as err:
        load_model(folder, device="cpu", tokenization="bpe")
    assert str(folder) in str(err.value)


def test_gpn_folder_without_the_gpn_package(tmp_path, monkeypatch):
    (tmp_path / "gpn").mkdir()
    (tmp_path / "gpn" / "config.json").write_text(json.dumps({"model_type": "ConvNet", "architectures": ["ConvNetForMaskedLM"]}))
    (tmp_path / "gpn" / "model.safetensors").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "gpn", None)  # import gpn -> ImportError
    with pytest.raises(ModelError, match="gpn package") as err:
        load_model(tmp_path / "gpn", device="cpu")
    assert "pip install gpn" in str(err.value)


def test_gpn_alignment_models_are_refused(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text(json.dumps({"model_type": "GPNRoFormer"}))
    (tmp_path / "m" / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelError, match="alignment"):
        load_model(tmp_path / "m", device="cpu")


def test_cli_remote_code_folder_without_flag_exits_1_with_one_line(tmp_path_factory, capsys):
    from recommender.cli import main

    folder = hyena_folder(tmp_path_factory)
    capsys.readouterr()  # building the folder printed progress bars
    rc = main(["dnalm", "score", "--model", str(folder), "--device", "cpu", "--variant", "chr17:43124096:T:C"])
    err = capsys.readouterr().err.strip()
    assert rc == 1 and "--trust-remote-code" in err and "Traceback" not in err
    assert len(err.splitlines()) == 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (GPU path: bf16 autocast)")
def test_cuda_bf16_scores_close_to_fp32(family):
    name, folder, lm, w, *_ = family
    _builder, kwargs, *_ = FAMILIES[name]
    vs = [Variant("chr1", p, SEQ[p - 1], _alt(SEQ[p - 1])) for p in (300, 311, 333)]
    cpu = VariantScorer(lm, REF, embeddings=False).score(vs)
    gpu_lm = load_model(folder, device="cuda", precision="bf16", window_bases=w, **kwargs)
    gpu = VariantScorer(gpu_lm, REF, embeddings=False).score(vs)
    assert VariantScorer(gpu_lm, REF).batch_size >= 8
    for a, b in zip(cpu, gpu):
        assert b.status == "ok" and abs(a.llr - b.llr) < 0.05, name


def test_model_code_failing_while_scoring_is_one_error_not_a_traceback(tmp_path_factory):
    """DNABERT-2 with triton installed on a CPU machine fails inside forward (assert q.is_cuda)."""
    folder = dnabert2_folder(tmp_path_factory)
    copy = _folder(tmp_path_factory, "dnabert2_triton")
    shutil.copytree(folder, copy)
    path = copy / "bert_layers.py"
    path.write_text(path.read_text().replace(
        "        if attention_mask is None:\n            attention_mask = torch.ones_like(input_ids)\n        b, n",
        "        assert input_ids.is_cuda, 'q.is_cuda'\n        b, n"))
    lm = load_model(copy, device="cpu", window_bases=121, trust_remote_code=True)
    with pytest.raises(ModelError) as err:
        VariantScorer(lm, REF, embeddings=False).score([Variant("chr1", 300, SEQ[299], _alt(SEQ[299]))])
    msg = str(err.value)
    assert "bert_layers.py" in msg and "AssertionError" in msg and "CUDA" in msg and str(copy) in msg


def test_cli_scores_a_remote_code_folder_with_the_flag(tmp_path_factory, tmp_path, capsys):
    from recommender.cli import main

    folder = hyena_folder(tmp_path_factory)
    tsv = tmp_path / "v.tsv"
    tsv.write_text(f"contig\tpos\tref\talt\nchr1\t350\t{SEQ[349]}\t{_alt(SEQ[349])}\n")
    ref = tmp_path / "ref.fa"
    ref.write_text(">chr1\n" + SEQ + "\n")
    capsys.readouterr()
    assert main(["dnalm", "info", "--model", str(folder), "--trust-remote-code", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["dnalm_objective"] == "causal" and info["dnalm_model_type"] == "hyenadna"
    out = tmp_path / "scores.json"
    rc = main(["dnalm", "score", "--model", str(folder), "--trust-remote-code", "--device", "cpu", "--window", "61",
               "--reference", str(ref), "--variants", str(tsv), "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    data = json.loads(out.read_text())
    text = json.dumps(data)
    assert "causal_ll_delta" in text and '"dnalm_objective": "causal"' in text


@pytest.mark.parametrize("cfg", [{"hidden_size": 768, "num_hidden_layers": 12, "vocab_size": 4096},
                                 {"d_model": 256, "n_layer": 16, "vocab_size": 16},
                                 {"hidden_size": 512, "n_layers": 25, "vocab_size": 7}],
                         ids=["transformers-names", "caduceus-hyena-names", "gpn-names"])
def test_cuda_batch_size_is_sized_from_free_memory_for_every_config_style(cfg, monkeypatch):
    """The GPU path picks larger batches from free memory; checked on CPU with a stand-in for the device."""
    from types import SimpleNamespace

    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda dev=None: (int(40e9), int(80e9)))  # an 80 GB GPU
    lm = SimpleNamespace(window_bases=510, device=torch.device("cuda"), model=SimpleNamespace(config=SimpleNamespace(**cfg)))
    big = VariantScorer(lm, REF).batch_size
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda dev=None: (int(1e8), int(16e9)))
    small = VariantScorer(lm, REF).batch_size
    assert 8 <= small < big <= 512 and big > 16  # 16: the CPU default


def test_checkpoint_without_esm_contact_head_still_loads(tmp_path):
    """ESM's contact head is not used by the LM: a checkpoint saved without it is not refused."""
    from safetensors.torch import load_file, save_file

    folder = make_char_model(tmp_path / "char")
    state = {k: v for k, v in load_file(folder / "model.safetensors").items() if "contact_head" not in k}
    save_file(state, folder / "model.safetensors", metadata={"format": "pt"})
    lm = load_model(folder, device="cpu")
    assert lm.adapter.kind == "char"
