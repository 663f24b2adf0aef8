"""Warnings around the model path: library noise is filtered by category, meaningful warnings reach the caller.

Regression: ``_predict_one`` / ``_predict_many`` (recommender/scoring.py) and the chunk scoring of
cohorts/score.py wrapped the model calls in a blanket ``warnings.simplefilter("ignore")``, which also swallowed
the project's own DegradedResultWarning.
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import numpy as np
import pytest

from genomics.errors import DegradedResultWarning
from recommender.library_warnings import ignore_library_noise
from recommender.scoring import ScoringContext, score_patient, score_patients
from tests.recommender._scoring_support import COAD, StubBundle

ROOT = Path(__file__).resolve().parents[2]


class _WarningBundle(StubBundle):
    """A stub bundle whose prediction emits library noise and one meaningful warning."""

    def predict_options(self, patient, options, **kwargs):
        kwargs.pop("covariates", None)
        np.exp(np.array([1000.0]))  # numpy overflow: library noise
        warnings.warn("X does not have valid feature names, but the model was fitted with names", UserWarning)
        warnings.warn("a covariate was filled with the training median", DegradedResultWarning)
        return super().predict_options(patient, options, **kwargs)


def test_a_degraded_result_warning_from_the_model_reaches_the_caller_of_score_patient():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rec = score_patient(COAD, ["FOLFOX"], context=ScoringContext(_WarningBundle({"FOLFOX": 0.4})))
    assert rec.model_status.available
    kinds = [(w.category, str(w.message)) for w in caught]
    assert (DegradedResultWarning, "a covariate was filled with the training median") in kinds
    assert not any(issubclass(c, RuntimeWarning) for c, _ in kinds), kinds  # overflow: filtered
    assert not any("feature names" in m for _, m in kinds), kinds


def test_a_degraded_result_warning_reaches_the_caller_of_score_patients_batch():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = list(score_patients([COAD, COAD], ["FOLFOX"], context=ScoringContext(_WarningBundle({})),
                                  batch_size=2))
    assert len(out) == 2
    assert any(issubclass(w.category, DegradedResultWarning) for w in caught)


def test_ignore_library_noise_hides_only_what_it_names():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ignore_library_noise():
            np.exp(np.array([1000.0]))
            np.log(np.array([0.0]))
            warnings.warn("kept", UserWarning)
            warnings.warn("kept too", RuntimeWarning)  # a RuntimeWarning that is not numpy's notice
            warnings.warn("degraded", DegradedResultWarning)
    assert sorted(str(w.message) for w in caught) == ["degraded", "kept", "kept too"]


@pytest.mark.parametrize("path", ["recommender/scoring.py", "cohorts/score.py"])
def test_no_blanket_ignore_of_every_warning(path):
    """``warnings.simplefilter("ignore")`` without a category must not come back in the scoring paths."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    blanket = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("simplefilter", "filterwarnings")
                and node.args and isinstance(node.args[0], ast.Constant) and node.args[0].value == "ignore"
                and len(node.args) == 1 and not any(k.arg in ("category", "message", "module")
                                                    for k in node.keywords)):
            blanket.append(node.lineno)
    assert blanket == [], f"{path}: blanket warnings filter at line(s) {blanket}"
