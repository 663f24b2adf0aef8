"""GPN through the real ``gpn`` package, when it is installed (skipped otherwise).

gpn 0.9.0 declares Python >= 3.13 and transformers == 5.15, so it is not a dependency of this
project; ``test_dnalm_byo_models.py`` covers the same contract with a stand-in package.
"""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")
gpn = pytest.importorskip("gpn")

from genomics.dnalm import Variant, VariantScorer, load_model
from tests.genomics.test_dnalm_byo_models import REF, SEQ, gpn_folder


def test_real_gpn_convnet_scores_on_cpu(tmp_path_factory):
    if not hasattr(gpn, "register_auto_classes"):
        pytest.skip("gpn < 0.9: registers on `import gpn.model`; covered by the loader, not by this test")
    folder = gpn_folder(tmp_path_factory)
    lm = load_model(folder, device="cpu", window_bases=61)
    assert lm.adapter.kind == "char" and lm.objective == "masked" and type(lm.model).__module__.startswith("gpn.")
    vs = [Variant("chr1", 300, SEQ[299], "A" if SEQ[299] != "A" else "G"), Variant("chr1", 400, SEQ[399:402], SEQ[399])]
    res = VariantScorer(lm, REF).score(vs)
    assert all(r.status == "ok" and math.isfinite(r.llr) for r in res)
    assert len(res[0].embedding_delta) == lm.model.config.hidden_size
