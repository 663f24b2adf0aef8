"""Pre-training corpus rules (BRCA1 excluded, HLA de-duplicated, held-out split) and a tiny training run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genomics.dnalm.pretrain_data import (
    BRCA1_GENE,
    BRCA1_MARGIN,
    BRCA1_REGION_START,
    WindowSampler,
    load_corpus,
    revcomp,
    tiled_windows,
)

MOTIF = "ACGTTGCAACGTTGCAGGCCTTAAGGCCTTAAACGTGT"  # planted inside BRCA1 (must never reach training)


def _dna(n, seed):
    return "".join(np.random.default_rng(seed).choice(list("ACGT"), n))


def _fasta(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f">{h}\n{s}\n" for h, s in records))


@pytest.fixture(scope="module")
def fake_shared(tmp_path_factory):
    root = tmp_path_factory.mktemp("seq")
    _fasta(root / "vg_1mb1kgp_chr20_GRCh37" / "z.fa", [("z", _dna(20000, 1))])
    _fasta(root / "hisat2_chr22_20-21M_GRCh37" / "22_20-21M.fa", [("22:20000001-21000000", _dna(10000, 2) + "N" * 500)])
    fwd = list(_dna(1_175_001, 3))
    at = BRCA1_GENE[1] + 5000 - BRCA1_REGION_START
    fwd[at : at + len(MOTIF)] = MOTIF
    (root / "brca1_region_GRCh38").mkdir()
    (root / "brca1_region_GRCh38" / "chr17_brca1_ext.txt").write_text(revcomp("".join(fwd)))
    hla = root / "vg_GRCh38_HLA"
    prim = "gi|568815592:1-100 Homo sapiens chromosome 6, GRCh38 Primary Assembly"
    alt = "gi|568815454:1-100 Homo sapiens chromosome 6 genomic scaffold, GRCh38 alternate locus group ALT_REF_LOCI_1"
    chm = "gi|528476637:1-300 Homo sapiens chromosome 6, alternate assembly CHM1_1.1"
    _fasta(hla / "A-3105.fa", [(prim, _dna(3000, 4)), (alt, _dna(3000, 5)), (chm, _dna(6000, 6))])
    _fasta(hla / "DRA-3122.fa", [(prim, _dna(3000, 7))])
    return root


def test_corpus_excludes_brca1_and_alt_haplotypes(fake_shared):
    corpus = load_corpus(fake_shared)
    train = "".join(s.seq for s in corpus.by_split("train"))
    assert MOTIF not in train and revcomp(MOTIF) not in train
    (excluded,) = corpus.by_split("excluded")
    assert MOTIF in excluded.seq and excluded.length == BRCA1_GENE[2] - BRCA1_GENE[1] + 1
    names = [s.name for s in corpus.segments]
    assert "HLA-A:primary" in names and "HLA-A:CHM1" in names and len([n for n in names if n.startswith("HLA-A")]) == 2
    assert [s.split for s in corpus.segments if s.name.startswith("HLA-DRA")] == ["valid"]
    left = next(s for s in corpus.segments if s.name == "chr17_brca1_region:left")
    assert left.length == BRCA1_GENE[1] - BRCA1_MARGIN - BRCA1_REGION_START
    valid = corpus.by_split("valid")
    assert {s.name.split(":")[0] for s in valid} >= {"vg_1mb1kgp_chr20_GRCh37", "hisat2_chr22_20-21M_GRCh37"}


def test_sampler_and_eval_windows_avoid_n(fake_shared):
    corpus = load_corpus(fake_shared)
    s = WindowSampler(corpus.by_split("train"), 100, seed=0, max_n_frac=0.0)
    assert all(len(w) == 100 and "N" not in w for w in (s.sample() for _ in range(50)))
    ws = tiled_windows(corpus.by_split("valid"), 100, 10)
    assert len(ws) == 10 and all("N" not in w for w in ws)


@pytest.mark.slow
def test_tiny_training_run_writes_loadable_checkpoint(fake_shared, tmp_path):
    pytest.importorskip("torch")
    from genomics.dnalm import load_model
    from genomics.dnalm.train import main

    out = tmp_path / "model"
    rc = main(["--shared", str(fake_shared), "--out", str(out), "--state-dir", str(tmp_path / "st"),
               "--max-minutes", "0.05", "--hidden", "32", "--layers", "1", "--heads", "2", "--seq-len", "62",
               "--batch", "4", "--eval-windows", "8"])
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["final"] is True and metrics["step"] > 0
    assert 0 < metrics["heldout"]["accuracy"] <= 1 and metrics["heldout"]["perplexity"] > 1
    assert not list(tmp_path.glob(".model.tmp*"))
    lm = load_model(out, device="cpu")
    assert lm.adapter.kind == "char" and lm.window_bases == 62


@pytest.mark.needs_shared
def test_real_corpus_split_sizes(shared_data):
    from genomics.dnalm.labelled_sets import evaluation_sequences

    corpus = load_corpus(shared_data / "sequence", exclude=evaluation_sequences(shared_data / "variant_effect"))
    summary = corpus.summary()
    assert summary["excluded"]["bases"] == 81_189
    assert 6_300_000 < summary["train"]["bases"] < 6_900_000  # with chr2 and the stitched chr21 contigs
    assert summary["valid"]["bases"] > 300_000
    assert 5 <= summary["evaluation_regions_cut_from_training"] <= 50
    assert any(r.startswith("chr2:") for r in corpus.excluded_regions)  # the Vex-seq exon near chr2:277 kb


@pytest.mark.needs_shared
def test_stitched_chr21_matches_vep_cache_ref_alleles(shared_data):
    """The chr21 contigs placed with assembly.txt agree with the REF alleles of the VEP cache there."""
    import gzip

    from genomics.dnalm.pretrain_data import stitch_chr21

    folder = shared_data / "sequence" / "grch38_chr21_vep_testdb"
    blocks = stitch_chr21(folder)
    assert 1_100_000 < sum(len(s) for _, s in blocks) < 1_250_000
    pos = {}
    for start, seq in blocks:
        if start <= 25_500_000 < start + len(seq):
            pos = {p: seq[p - start] for p in range(25_500_000, 25_520_000)}
    checked = 0
    with gzip.open(folder / "cache_84_GRCh38_chr21_25000001-26000000_var.gz", "rt") as fh:
        for line in fh:
            f = line.split()
            p, ref = int(f[1]), f[2].split("/")[0]
            if p in pos and len(ref) == 1:
                assert pos[p] == ref
                checked += 1
    assert checked > 1000
