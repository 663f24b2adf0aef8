"""LM features of a variant in its window and the grouped-CV probe (embedding delta -> logistic / ridge)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from genomics.dnalm import load_model
from genomics.dnalm.evaluate import auroc
from genomics.dnalm.probe import Probe, window_features
from genomics.dnalm.variant_effect import score_windows
from tests.genomics.test_dnalm_conv_model import make_conv_model
from tests.genomics.test_dnalm_scoring import random_dna


def _items(n=12, length=41, seed=3):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        w = random_dna(length, seed=seed + i)
        off = int(rng.integers(3, length - 3))
        alt = next(b for b in "ACGT" if b != w[off])
        out.append((w, off, w[off], alt))
    return out


def test_window_features_mask_the_variant_base_and_agree_with_the_scorer(tmp_path):
    """Regression for "LM AUROC exactly 0.5": the score must come from the variant's own base, centred in the window."""
    lm = load_model(str(make_conv_model(tmp_path / "m", window=41)), device="cpu")
    items = _items()
    f = window_features(lm, items)
    assert np.isfinite(f.llr).all() and f.local.shape == (len(items), 16) and np.isfinite(f.mean).all()
    # the product's scorer (centred window, N outside the given sequence) gives the same LLR when the window fits
    s = np.array(score_windows(lm, items, window_bases=41 + 40))
    direct = []
    ad = lm.adapter
    for w, off, ref, alt in items:
        ids = list(ad.encode(w).ids)
        assert ids[off + 1] == ad._id(ref)  # token off+1 (after <cls>) is the variant base
        ids[off + 1] = ad.mask_id
        with torch.inference_mode():
            lp = torch.log_softmax(lm.model(input_ids=torch.tensor([ids])).logits[0, off + 1], -1)
        direct.append(float(lp[ad._id(alt)] - lp[ad._id(ref)]))
    np.testing.assert_allclose(f.llr, direct, atol=1e-5)
    assert np.corrcoef(s, direct)[0, 1] > 0.9  # same base scored, only the padding differs
    # masking a neighbour instead gives different values: the check above can fail
    shifted = window_features(lm, [(w, off + 1, w[off + 1], next(b for b in "ACGT" if b != w[off + 1])) for w, off, _, _ in items])
    assert not np.allclose(shifted.llr, f.llr)


def test_window_features_of_a_wrong_reference_base_are_nan_not_a_guess(tmp_path):
    lm = load_model(str(make_conv_model(tmp_path / "m", window=41)), device="cpu")
    w, off, ref, alt = _items(1)[0]
    wrong = next(b for b in "ACGT" if b not in (ref, alt))
    f = window_features(lm, [(w, off, wrong, alt), (w, off, ref, alt)])
    assert np.isnan(f.llr[0]) and np.isnan(f.local[0]).all() and np.isfinite(f.llr[1])


def _grouped(n=600, seed=0):
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(n // 10), 10)
    signal = rng.normal(size=n)
    X = np.column_stack([signal, rng.normal(size=(n, 5))])
    y = (signal + 0.7 * rng.normal(size=n) > 1.0).astype(int)
    value = signal + 0.5 * rng.normal(size=n)
    return X, y, value, groups


def test_probe_finds_signal_on_held_out_groups_and_not_in_noise():
    X, y, value, g = _grouped()
    tr, te = g < 40, g >= 40  # whole groups held out
    clf = Probe("logistic").fit(X[tr], y[tr], g[tr])
    assert auroc(clf.predict_score(X[te]), y[te]) > 0.85
    reg = Probe("ridge").fit(X[tr], value[tr], g[tr])
    assert np.corrcoef(reg.predict_score(X[te]), value[te])[0, 1] > 0.8
    assert clf.strength_ in clf.strengths and set(clf.cv_scores_) == set(clf.strengths)
    noise = Probe("logistic").fit(X[tr][:, 1:], y[tr], g[tr])
    assert abs(auroc(noise.predict_score(X[te][:, 1:]), y[te]) - 0.5) < 0.15


def test_probe_rejects_unknown_kind():
    with pytest.raises(ValueError, match="logistic"):
        Probe("forest")
