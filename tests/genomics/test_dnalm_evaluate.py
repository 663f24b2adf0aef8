"""AUROC, bootstrap interval, the BRCA1 label set, and the SQLite cache under concurrent writers."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest

from genomics.dnalm.cache import ScoreCache
from genomics.dnalm.evaluate import auroc, bootstrap_auroc, brca1_snv_label_set


def test_auroc_known_values_and_ties():
    assert auroc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert auroc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    assert auroc([1, 1, 1, 1], [0, 1, 0, 1]) == 0.5
    # one of four positive-negative pairs is inverted
    assert auroc([0.1, 0.6, 0.5, 0.9], [0, 0, 1, 1]) == pytest.approx(0.75)


def test_bootstrap_interval_brackets_estimate():
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(200), np.zeros(300)]
    s = y * 0.8 + rng.normal(size=500)
    r = bootstrap_auroc(s, y, n_boot=200)
    assert r.ci_low < r.auroc < r.ci_high and 0.6 < r.auroc < 0.8
    assert (r.n_positive, r.n_negative) == (200, 300)


def test_brca1_label_set_from_bundled_reference():
    ref_mod = pytest.importorskip("genomics.reference")
    rows = brca1_snv_label_set(ref_mod.bundled_reference())
    kinds = {r[4] for r in rows}
    assert kinds == {"stop_gained", "canonical_splice", "synonymous"}
    assert sum(1 for r in rows if r[4] == "canonical_splice") == 22 * 4 * 3  # 22 introns, 4 bases, 3 alts
    assert all((r[5] == 1) == (r[4] != "synonymous") for r in rows)


def _writer(path, start):
    c = ScoreCache(path, timeout=30)
    for i in range(start, start + 40, 4):
        c.put_many("m", [(f"k{j}", {"llr": float(j)}, np.array([j], dtype=np.float32)) for j in range(i, i + 4)])
    c.close()


def test_cache_safe_with_concurrent_writer_processes(tmp_path):
    path = tmp_path / "c.sqlite"
    ScoreCache(path).close()
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, s)) for s in (0, 20, 40)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    c = ScoreCache(path)
    got = c.get_many([f"k{j}" for j in range(80)])
    assert len(c) == 80 and len(got) == 80
    assert got["k57"][0]["llr"] == 57.0 and got["k57"][1][0] == 57.0
