"""DNA LM scoring with tiny randomly initialised models built here (no download, CPU, seconds)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from genomics.dnalm import (
    ScoreCache,
    Variant,
    VariantScorer,
    load_model,
    pool_by_gene,
)
from genomics.dnalm.pretrain_data import revcomp
from genomics.dnalm.train import CHAR_VOCAB, write_tokenizer
from genomics.errors import ModelError, ReferenceSequenceError


class DictReference:
    """In-memory reference: {contig: (first 1-based position, sequence)}."""

    def __init__(self, contigs: dict[str, tuple[int, str]]):
        self.contigs = contigs

    def contains(self, contig, start, end=None):
        end = start if end is None else end
        if contig not in self.contigs:
            return False
        first, seq = self.contigs[contig]
        return first <= start and end <= first + len(seq) - 1

    def fetch(self, contig, start, end):
        from genomics.errors import OutsideReferenceError

        if not self.contains(contig, start, end):
            raise OutsideReferenceError("outside", record=f"{contig}:{start}")
        first, seq = self.contigs[contig]
        return seq[start - first : end - first + 1]


def random_dna(n: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    return "".join(rng.choice(list("ACGT"), size=n))


def make_char_model(folder: Path, seed: int = 0, hidden: int = 32, window: int = 62) -> Path:
    from transformers import EsmConfig, EsmForMaskedLM

    torch.manual_seed(seed)
    cfg = EsmConfig(vocab_size=len(CHAR_VOCAB), hidden_size=hidden, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=hidden * 2, max_position_embeddings=1026, position_embedding_type="rotary",
                    pad_token_id=1, mask_token_id=9, token_dropout=False, emb_layer_norm_before=False)
    model = EsmForMaskedLM(cfg)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    write_tokenizer(folder)
    (folder / "metrics.json").write_text(json.dumps({"model": "tiny-char", "window_bases": window}))
    return folder


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """Tiny models run fastest on one thread (and do not fight the other test workers)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def char_model_dir(tmp_path_factory) -> Path:
    return make_char_model(tmp_path_factory.mktemp("tinychar") / "model")


@pytest.fixture(scope="module")
def reference() -> DictReference:
    return DictReference({"chr1": (1001, random_dna(4000, seed=1))})


@pytest.fixture(scope="module")
def lm(char_model_dir):
    return load_model(char_model_dir, device="cpu")


def ref_base(reference, pos):
    return reference.fetch("chr1", pos, pos)


def other(base):
    return {"A": "C", "C": "G", "G": "T", "T": "A"}[base]


def test_llr_sign_follows_model_preference(tmp_path, reference):
    """A model biased to predict 'A' everywhere gives A-alleles a positive LLR and non-A a negative one."""
    folder = make_char_model(tmp_path / "biased")
    from transformers import EsmForMaskedLM

    model = EsmForMaskedLM.from_pretrained(folder)
    with torch.no_grad():
        model.lm_head.bias.zero_()
        model.lm_head.bias[CHAR_VOCAB.index("A")] = 8.0
        model.lm_head.bias[CHAR_VOCAB.index("T")] = 8.0  # reverse strand sees T<->A: keep it strand-symmetric
    model.save_pretrained(folder)
    lm_b = load_model(folder, device="cpu")
    scorer = VariantScorer(lm_b, reference, window_bases=40, embeddings=False)
    pos = next(p for p in range(1500, 1600) if ref_base(reference, p) in "CG")
    to_a = scorer.score([Variant("chr1", pos, ref_base(reference, pos), "A")])[0]
    pos2 = next(p for p in range(1500, 1600) if ref_base(reference, p) == "A")
    from_a = scorer.score([Variant("chr1", pos2, "A", "C")])[0]
    assert to_a.status == "ok" and to_a.method == "masked_marginal"
    assert to_a.llr > 3.0
    assert from_a.llr < -3.0


def test_snv_scores_stable_across_batch_sizes(lm, reference):
    variants = []
    for p in range(1200, 1208):
        b = ref_base(reference, p)
        variants.append(Variant("chr1", p, b, other(b)))
    variants.append(Variant("chr1", 1300, ref_base(reference, 1300) + ref_base(reference, 1301), ref_base(reference, 1300)))
    variants.append(Variant("chr1", 1400, ref_base(reference, 1400), ref_base(reference, 1400) + "GT"))
    a = VariantScorer(lm, reference, batch_size=2).score(variants)
    b = VariantScorer(lm, reference, batch_size=5).score(variants)
    c = VariantScorer(lm, reference, batch_size=64).score(variants)
    for x, y, z in zip(a, b, c):
        assert x.status == "ok"
        assert math.isclose(x.llr, y.llr, abs_tol=1e-4) and math.isclose(x.llr, z.llr, abs_tol=1e-4)
        np.testing.assert_allclose(x.embedding_delta, z.embedding_delta, atol=1e-4)
    assert a[-2].method == "pll_delta_mean" and a[-1].method == "pll_delta_mean"
    assert a[0].method == "masked_marginal"


def test_llr_is_average_of_strands_and_reverse_differs(lm, reference):
    b = ref_base(reference, 2000)
    s = VariantScorer(lm, reference, embeddings=False).score([Variant("chr1", 2000, b, other(b))])[0]
    assert s.llr == pytest.approx((s.llr_forward + s.llr_reverse) / 2)
    assert s.llr_forward != pytest.approx(s.llr_reverse)


def test_cache_hits_return_identical_scores(lm, reference, tmp_path):
    db = tmp_path / "cache.sqlite"
    variants = [Variant("chr1", p, ref_base(reference, p), other(ref_base(reference, p))) for p in range(1500, 1510)]
    s1 = VariantScorer(lm, reference, cache=db)
    first = s1.score(variants)
    assert not any(r.cached for r in first)
    s2 = VariantScorer(lm, reference, cache=ScoreCache(db))
    second = s2.score(variants + variants[:3])
    assert all(r.cached for r in second)
    assert s2.forward_windows == 0
    assert [r.llr for r in second[:10]] == [r.llr for r in first]
    assert second[0].embedding_delta == first[0].embedding_delta


def test_cache_key_changes_with_weights(tmp_path, reference):
    db = tmp_path / "c.sqlite"
    v = [Variant("chr1", 1700, ref_base(reference, 1700), other(ref_base(reference, 1700)))]
    m1 = load_model(make_char_model(tmp_path / "m1", seed=1), device="cpu")
    m2 = load_model(make_char_model(tmp_path / "m2", seed=2), device="cpu")
    a = VariantScorer(m1, reference, cache=db).score(v)[0]
    b = VariantScorer(m2, reference, cache=db).score(v)[0]
    assert not b.cached and a.llr != b.llr


def test_duplicate_windows_run_once(lm, reference):
    b = ref_base(reference, 1800)
    v = Variant("chr1", 1800, b, other(b))
    scorer = VariantScorer(lm, reference)
    scorer.score([v, v, v])
    # 2 masked passes (both strands) + 2 embedding windows (ref, alt)
    assert scorer.forward_windows == 4


def test_outside_reference_gets_reason_code_not_error(lm, reference):
    res = VariantScorer(lm, reference).score([
        Variant("chr2", 100, "A", "G"),
        Variant("chr1", 1005, ref_base(reference, 1005), other(ref_base(reference, 1005))),  # window off the edge
        Variant("chr1", 1500, ref_base(reference, 1500), "<DEL>"),
    ])
    assert [r.status for r in res] == ["outside_reference", "window_outside_reference", "unsupported_allele"]
    assert all(r.llr is None and r.embedding_delta is None for r in res)


def test_ref_mismatch_raises_clear_error_or_reason(lm, reference):
    b = ref_base(reference, 1600)
    bad = Variant("chr1", 1600, other(b), b)
    with pytest.raises(ReferenceSequenceError) as err:
        VariantScorer(lm, reference).score([bad])
    assert "chr1:1600" in err.value.one_line() and "REF" in err.value.one_line()
    res = VariantScorer(lm, reference, on_ref_mismatch="skip").score([bad])
    assert res[0].status == "ref_mismatch"


def test_model_folder_without_weights_is_clear_error(tmp_path, char_model_dir):
    folder = tmp_path / "noweights"
    folder.mkdir()
    for name in ("config.json", "vocab.txt", "tokenizer_config.json"):
        (folder / name).write_bytes((char_model_dir / name).read_bytes())
    with pytest.raises(ModelError, match="no weights"):
        load_model(folder, device="cpu")


def test_tokenizer_model_mismatch_is_clear_error(tmp_path):
    folder = make_char_model(tmp_path / "mm")
    cfg = json.loads((folder / "config.json").read_text())
    (folder / "vocab.txt").write_text("\n".join(CHAR_VOCAB + ["X", "Y"]) + "\n")
    assert cfg["vocab_size"] == 10
    with pytest.raises(ModelError, match="mismatch"):
        load_model(folder, device="cpu")


def test_hub_id_refused_without_allow_hub():
    with pytest.raises(ModelError, match="hub"):
        load_model("InstaDeepAI/nucleotide-transformer-500m-human-ref", device="cpu")


def test_gene_pool_means_deltas(lm, reference):
    vs = [Variant("chr1", p, ref_base(reference, p), other(ref_base(reference, p)), gene="G1") for p in (1500, 1550)]
    vs.append(Variant("chr1", 1900, ref_base(reference, 1900), other(ref_base(reference, 1900)), gene="G2"))
    res = VariantScorer(lm, reference).score(vs)
    pools = pool_by_gene(res)
    assert set(pools) == {"G1", "G2"} and pools["G1"].n_variants == 2
    np.testing.assert_allclose(pools["G1"].mean_embedding_delta,
                               (np.array(res[0].embedding_delta) + np.array(res[1].embedding_delta)) / 2, atol=1e-6)
    assert pools["G1"].min_llr == min(res[0].llr, res[1].llr)
    assert len(res[0].embedding_delta) == 32


@pytest.mark.parametrize("kind", ["snv", "deletion", "insertion", "mnv"])
def test_strand_windows_hold_alleles_at_same_offset(lm, reference, kind):
    p = 2500
    s = reference.fetch("chr1", p, p + 3)
    ref, alt = {"snv": (s[0], other(s[0])), "deletion": (s[:3], s[0]), "insertion": (s[0], s[0] + "GTA"),
                "mnv": (s[:2], other(s[0]) + other(s[1]))}[kind]
    scorer = VariantScorer(lm, reference, window_bases=41)
    status, (fwd, rev, _key, start, end) = scorer._prepare(Variant("chr1", p, ref, alt))
    assert status == "ok" and end - start + 1 == 41
    for job, r, a in ((fwd, ref, alt), (rev, revcomp(ref), revcomp(alt))):
        assert len(job.ref_window) == len(job.alt_window) == 41
        assert job.ref_window[job.a_start : job.a_start + len(r)] == r
        assert job.alt_window[job.a_start : job.a_start + len(a)] == a
        assert job.ref_window[: job.a_start] == job.alt_window[: job.a_start]  # same 5' flank on each strand
    assert fwd.ref_window == reference.fetch("chr1", start, end)
    assert rev.ref_window == revcomp(fwd.ref_window)


def test_chunked_scoring_matches_single_chunk(lm, reference):
    vs = [Variant("chr1", p, ref_base(reference, p), other(ref_base(reference, p))) for p in range(3000, 3007)]
    one = VariantScorer(lm, reference, embeddings=False).score(vs)
    many = VariantScorer(lm, reference, embeddings=False).score(vs, chunk_size=3)
    assert [r.llr for r in one] == pytest.approx([r.llr for r in many], abs=1e-5)
    assert [r.pos for r in many] == [v.pos for v in vs]


def test_device_selection_and_precision_rules(char_model_dir):
    from genomics.dnalm import select_device

    assert select_device("cpu").type == "cpu"
    assert select_device("auto").type in {"cpu", "cuda", "mps"}
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="CUDA"):
            select_device("cuda")
        with pytest.raises(ModelError, match="CUDA only"):
            load_model(char_model_dir, device="cpu", precision="bf16")
    with pytest.raises(ModelError, match="unknown device"):
        select_device("tpu")
