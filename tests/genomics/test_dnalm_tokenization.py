"""Variant position -> token mapping for the three tokenizer families (char, 6-mer, BPE)."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import itertools

from genomics.dnalm import Variant, VariantScorer, adapter_for, load_model
from genomics.dnalm.tokenization import all_kmers
from genomics.dnalm.train import CHAR_VOCAB
from tests.genomics.test_dnalm_scoring import DictReference, random_dna

NT_SPECIALS = ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>"]


def nt_tokenizer(tmp_path):
    from transformers import EsmTokenizer

    vocab = NT_SPECIALS + all_kmers(6) + list("ATCGN")
    (tmp_path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    return EsmTokenizer(str(tmp_path / "vocab.txt"), unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
                        cls_token="<cls>", eos_token="<eos>"), vocab


def test_char_adapter_matches_hf_tokenizer_and_maps_each_base(tmp_path):
    from transformers import EsmTokenizer

    (tmp_path / "vocab.txt").write_text("\n".join(CHAR_VOCAB) + "\n")
    tok = EsmTokenizer(str(tmp_path / "vocab.txt"))
    ad = adapter_for(tok)
    seq = "ACGTNNACGTTGCA"
    enc = ad.encode(seq)
    assert ad.kind == "char"
    assert list(enc.ids) == tok(seq)["input_ids"]
    assert enc.tokens_overlapping(5, 6) == [6]  # <cls> shifts by one
    assert enc.spans[0] is None and enc.spans[-1] is None


def test_kmer_adapter_matches_nt_tokenizer_including_tail_and_n(tmp_path):
    tok, _ = nt_tokenizer(tmp_path)
    ad = adapter_for(tok)
    assert ad.kind == "kmer" and ad.k == 6
    for seq in ("ACGTACGGTTCA" + "ACG", "ACGTAC" + "ACNTAC" + "GGGTTT", random_dna(600, seed=3)):
        assert list(ad.encode(seq).ids) == tok(seq)["input_ids"], seq
    enc = ad.encode("ACGTACGGTTCAACG")
    # base 7 is in the second 6-mer (token 2 after <cls>); bases 12-14 are single-base tail tokens
    assert enc.tokens_overlapping(7, 8) == [2]
    assert enc.spans[2] == (6, 12)
    assert enc.tokens_overlapping(13, 14) == [4]


def test_kmer_snv_llr_is_masked_6mer_ratio(tmp_path):
    from transformers import EsmConfig, EsmForMaskedLM

    tok, vocab = nt_tokenizer(tmp_path)
    torch.manual_seed(0)
    cfg = EsmConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                    intermediate_size=32, max_position_embeddings=256, position_embedding_type="rotary",
                    pad_token_id=1, mask_token_id=2, token_dropout=False)
    folder = tmp_path / "nt"
    EsmForMaskedLM(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    lm = load_model(folder, device="cpu", window_bases=60)
    assert lm.adapter.kind == "kmer"
    seq = random_dna(400, seed=5)
    ref = DictReference({"chr1": (1, seq)})
    pos = 200
    b = seq[pos - 1]
    alt = "A" if b != "A" else "C"
    s = VariantScorer(lm, ref, embeddings=False).score([Variant("chr1", pos, b, alt)])[0]
    assert s.method == "masked_marginal"
    # by hand, forward strand: window start = pos - 29 (60 bases); variant offset 29 -> 6-mer 4 (bases 24-29)
    start = pos - 29
    window = seq[start - 1 : start - 1 + 60]
    kmer_ref = window[24:30]
    kmer_alt = kmer_ref[:5] + alt
    ids = tok(window, return_tensors="pt")["input_ids"]
    assert ids[0, 5].item() == vocab.index(kmer_ref)
    ids[0, 5] = 2
    with torch.no_grad():
        lp = torch.log_softmax(lm.model(input_ids=ids).logits[0, 5], -1)
    expect = (lp[vocab.index(kmer_alt)] - lp[vocab.index(kmer_ref)]).item()
    assert s.llr_forward == pytest.approx(expect, abs=1e-4)


def bpe_model(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertForMaskedLM, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tk = Tokenizer(models.BPE(unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(vocab_size=120, special_tokens=specials, initial_alphabet=list("ACGTN"))
    tk.train_from_iterator([random_dna(2000, seed=i) for i in range(5)], trainer)
    tk.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tk, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]")
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=fast.vocab_size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=32, max_position_embeddings=512)
    folder = tmp_path / "bpe"
    BertForMaskedLM(cfg).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder, fast


def test_bpe_adapter_spans_tile_the_window_and_hold_the_variant(tmp_path):
    _folder, fast = bpe_model(tmp_path)
    ad = adapter_for(fast)
    assert ad.kind == "bpe"
    seq = random_dna(300, seed=9)
    enc = ad.encode(seq)
    spans = [s for s in enc.spans if s is not None]
    assert spans[0][0] == 0 and spans[-1][1] == len(seq)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert max(b - a for a, b in spans) > 1  # real multi-base tokens
    for i in (0, 57, 299):
        (t,) = enc.tokens_overlapping(i, i + 1)
        a, b = enc.spans[t]
        assert a <= i < b
        assert fast.convert_ids_to_tokens(enc.ids[t]) == seq[a:b]


def test_bpe_model_scores_snv_and_indel(tmp_path):
    folder, _ = bpe_model(tmp_path)
    lm = load_model(folder, device="cpu", window_bases=120)
    seq = random_dna(600, seed=11)
    ref = DictReference({"chr1": (1, seq)})
    vs = [Variant("chr1", p, seq[p - 1], "A" if seq[p - 1] != "A" else "G") for p in range(250, 262)]
    vs.append(Variant("chr1", 300, seq[299:302], seq[299]))
    res = VariantScorer(lm, ref).score(vs)
    assert all(r.status == "ok" and math.isfinite(r.llr) for r in res)
    assert res[-1].method == "pll_delta_mean"
    assert {r.method for r in res[:-1]} <= {"masked_marginal", "pll_delta_mean"}
    assert np.isfinite(res[0].embedding_delta).all()
