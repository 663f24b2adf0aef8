"""Allele frequency as a weak label: the VEP-cache / Ensembl-dump loader and its benchmark option.

The fixture ``tests/fixtures/dnalm/vep_af_mini`` is synthetic (random sequence, no copied data; the generator
is described in its README): six contigs placed on chromosome 21 (one reverse-complemented, one placed as two
touching pieces, one with five N at chr21:1,201-1,205, one placement whose contig has no sequence) and a
cache in the VEP 84 layout with one example of every rule (common, rare, between, no frequency, rare minor
allele = REF, multi-allelic, deletion, somatic, failed, window on N, window off the block edge).
"""

from __future__ import annotations

import gzip
import importlib.util
import shutil
from pathlib import Path

import pytest

from genomics.dnalm.labelled_sets import load_allele_frequency, stitch_ensembl_dump
from genomics.errors import InputFileError, ReferenceSequenceError

REPO = Path(__file__).resolve().parents[2]
MINI = REPO / "tests" / "fixtures" / "dnalm" / "vep_af_mini"
CACHE = "synthetic_var.gz"


@pytest.fixture
def mini(tmp_path) -> Path:
    out = tmp_path / "vep"
    shutil.copytree(MINI, out)
    return out


def _names(rows) -> set[str]:
    return {r.variant_id.split(":")[0] for r in rows}


def _edit_cache(folder: Path, edit) -> None:
    path = folder / CACHE
    with gzip.open(path, "rt") as fh:
        lines = fh.read().splitlines()
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join(edit(lines)) + "\n")


def test_stitch_joins_touching_pieces_reverse_complements_and_leaves_gaps():
    blocks = dict(stitch_ensembl_dump(MINI))
    dna = dict(line.split("\t") for line in (MINI / "dna.txt").read_text().splitlines())
    comp = str.maketrans("ACGT", "TGCA")
    assert sorted(blocks) == [1001, 50001, 100001, 150001, 200001, 250001]
    assert blocks[1001] == dna["11"] and blocks[1001][200:205] == "NNNNN"
    assert blocks[50001] == dna["12"].translate(comp)[::-1]  # ori -1
    assert blocks[250001] == dna["16"]  # two touching pieces make one block
    # contig 99 has no sequence in dna.txt (a gap); the scaffold placement of contig 13 is not chromosome 21


def test_stitch_agrees_with_the_pretraining_corpus_stitcher():
    from genomics.dnalm.pretrain_data import stitch_chr21

    assert stitch_ensembl_dump(MINI) == stitch_chr21(MINI)


def test_af_labels_follow_the_maf_thresholds_and_alt_must_be_the_rare_minor_allele():
    s = load_allele_frequency(MINI, n_per_class=100, window=21)
    by = {r.variant_id.split(":")[0]: r.label for r in s.rows}
    assert by["rsC1"] == 0 and by["rsComMinorRef"] == 0  # MAF 0.25 / 0.30 (minor allele = REF): common
    assert by["rsR1"] == 1  # 1000 Genomes singleton, minor allele = ALT: rare
    assert by["rsC2a"] == 0 and by["rsR6b"] == 1
    # between the classes, no frequency, rare REF, multi-allelic, deletion, somatic, failed: never used
    assert not _names(s.rows) & {"rsMid", "rsNoMaf", "rsMinorRef", "rsTri", "rsDel", "COSM1", "rsFail"}
    assert s.counts["sampled_rare"] == s.counts["sampled_common"] == sum(r.label for r in s.rows)
    assert s.counts["ref_mismatch"] == 0 and s.ref_mismatch_rate == 0.0
    r = next(r for r in s.rows if r.variant_id.startswith("rsC2a"))
    assert len(r.window) == 21 and r.offset == 10 and r.window[10] == r.ref and r.alt != r.ref
    assert r.group == "chr21:50001"  # 50 kb block for the grouped split


def test_af_windows_on_n_or_off_the_stitched_sequence_are_excluded():
    s = load_allele_frequency(MINI, n_per_class=100, window=21)
    assert not _names(s.rows) & {"rsNwin", "rsEdge"}
    assert s.counts["window_outside_or_n"] == 2
    assert all("N" not in r.window for r in s.rows)
    wide = load_allele_frequency(MINI, n_per_class=100)  # 254 bases: every block-1 window holds the N run
    assert not any(r.group == "chr21:1" for r in wide.rows) and len(wide.rows) == 20


def test_af_sample_is_balanced_and_seeded():
    a = load_allele_frequency(MINI, n_per_class=3, window=21, seed=5)
    b = load_allele_frequency(MINI, n_per_class=3, window=21, seed=5)
    assert [r.variant_id for r in a.rows] == [r.variant_id for r in b.rows]
    assert sum(r.label for r in a.rows) == 3 and len(a.rows) == 6
    pos = [int(r.variant_id.split(":")[2]) for r in a.rows]
    assert pos == sorted(pos)


def test_af_ref_mismatch_above_the_limit_is_refused(mini):
    comp = {"A": "C", "C": "G", "G": "T", "T": "A"}

    def flip_first(lines):  # rsR2a's REF no longer matches the stitched reference
        out = []
        for ln in lines:
            if ln.startswith("rsR2a "):
                f = ln.split(" ")
                ref, alt = f[5].split("/")
                new = comp[ref] if comp[ref] != alt else comp[comp[ref]]
                f[5] = f"{new}/{alt}"
                ln = " ".join(f)
            out.append(ln)
        return out

    _edit_cache(mini, flip_first)
    with pytest.raises(ReferenceSequenceError) as e:
        load_allele_frequency(mini, window=21)
    assert CACHE in str(e.value) and "1 of" in str(e.value) and "fix:" in str(e.value)
    s = load_allele_frequency(mini, window=21, max_ref_mismatch=0.5)  # a looser limit: dropped and counted
    assert s.counts["ref_mismatch"] == 1 and "rsR2a" not in _names(s.rows)


def test_af_truncated_cache_is_a_clear_error(mini):
    path = mini / CACHE
    path.write_bytes(path.read_bytes()[:-12])
    with pytest.raises(InputFileError) as e:
        load_allele_frequency(mini)
    assert CACHE in str(e.value) and "gzip" in str(e.value) and "fix:" in str(e.value)


def test_af_missing_or_malformed_dump_names_the_file(mini):
    (mini / "assembly.txt").unlink()
    with pytest.raises(InputFileError, match=r"assembly\.txt.*fix:"):
        load_allele_frequency(mini)
    shutil.copy(MINI / "assembly.txt", mini / "assembly.txt")
    (mini / "dna.txt").write_text((MINI / "dna.txt").read_text()[:-200] + "\n")  # last contig cut short
    with pytest.raises(InputFileError, match=r"assembly\.txt: record line 6.*does not fit"):
        load_allele_frequency(mini)


def test_af_bad_position_names_the_line(mini):
    _edit_cache(mini, lambda lines: [*lines[:3], "rsBad   12x4  A/G  G 0.2", *lines[3:]])
    with pytest.raises(InputFileError, match=r"record line 4: field start"):
        load_allele_frequency(mini)


def _benchmark():
    spec = importlib.util.spec_from_file_location("eval_variant_effect", REPO / "benchmarks" / "eval_variant_effect.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_af_probe_folds_are_grouped_by_block_so_block_identity_cannot_leak():
    import numpy as np

    groups = np.repeat([f"chr21:{k * 50_000 + 1}" for k in range(10)], 12)
    y = np.repeat(np.arange(10) % 2, 12)  # the label is a property of the block
    X = (groups[:, None] == np.unique(groups)[None, :]).astype(float)  # block identity, nothing else
    pred, strengths = _benchmark().grouped_oof_probe(X, y, groups)
    from genomics.dnalm.evaluate import auroc

    assert np.isfinite(pred).all() and len(strengths) == 5
    assert auroc(pred, y) <= 0.6  # a row-wise split would memorise the blocks (AUROC 1.0)


def test_benchmark_af_only_scores_the_set_and_says_what_is_not_assessed(tmp_path, capsys, monkeypatch):
    import functools
    import json

    from genomics.dnalm import probe

    # one probe strength keeps this plumbing test fast (the grid itself is tested in test_dnalm_probe.py)
    monkeypatch.setattr(probe.Probe, "__init__", functools.partialmethod(probe.Probe.__init__, strengths=(0.01,)))
    out = tmp_path / "af.json"
    rc = _benchmark().main(["--af-only", "--af-set", str(MINI), "--models", "default", "--n-boot", "20",
                            "--out", str(out)])
    assert rc == 0
    res = json.loads(out.read_text())
    rows = {r["score"]: r for r in res["table"]}
    assert rows["consequence alone"]["auroc"] is None and rows["consequence alone"]["assessed"] == 0
    assert rows["splice distance alone"]["auroc"] is None
    lm = next(r for k, r in rows.items() if k.startswith("LM alone [genomics-dnalm-char-esm@") and "tail" not in k)
    assert lm["assessed"] == 20 and 0.0 <= lm["auroc"] <= 1.0 and lm["ci_low"] <= lm["auroc"] <= lm["ci_high"]
    assert any(k.startswith("probe: LM embedding delta") for k in rows)
    assert res["af"]["counts"]["ref_mismatch"] == 0 and res["af"]["n_blocks"] == 5
    assert "af chr21 rare vs common" in capsys.readouterr().out


def test_benchmark_af_only_bad_folder_is_one_line_exit_1(mini, capsys):
    (mini / "dna.txt").unlink()
    assert _benchmark().main(["--af-only", "--af-set", str(mini), "--models", "default"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "dna.txt" in err[0] and "fix:" in err[0]


def test_benchmark_af_only_absent_folder_is_skipped(tmp_path, capsys):
    assert _benchmark().main(["--af-only", "--af-set", str(tmp_path / "nope"), "--models", "default"]) == 0
    assert "SKIP af chr21" in capsys.readouterr().out


@pytest.mark.needs_shared
def test_shared_vep_cache_af_set_matches_its_reference_and_is_balanced(shared_data):
    s = load_allele_frequency(shared_data / "sequence" / "grch38_chr21_vep_testdb")
    assert s.counts["on_reference"] > 100_000 and s.counts["ref_mismatch"] == 0
    assert s.counts["common_eligible"] > 1_500 and s.counts["rare_eligible"] > 10_000
    assert len(s.rows) == 3_000 and sum(r.label for r in s.rows) == 1_500
    assert len({r.group for r in s.rows}) >= 15
