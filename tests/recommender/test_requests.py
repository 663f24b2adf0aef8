"""The typed scoring request objects, and the old keywords kept for one release with a DeprecationWarning."""

from __future__ import annotations

import pytest

from genomics.errors import UsageError
from recommender import DEMO_PATIENT, PatientInputs, RankingOptions, ScoringContext, score_patient, score_patients


def _ranked(rec):
    return [(o.rank, o.regimen, o.guidance_action) for o in rec.options]


def test_common_call_reads_in_one_line() -> None:
    rec = score_patient(DEMO_PATIENT, context=ScoringContext(False))
    assert rec.patient_id == "DEMO-COAD-001" and not rec.model_status.available


def test_old_keywords_still_work_with_a_deprecation_warning_and_give_the_same_result() -> None:
    new = score_patient(DEMO_PATIENT, ["FOLFOX", "CAPOX"], inputs=PatientInputs(sample="NA19625"),
                        ranking=RankingOptions(allow_avoid_first=True, explain=False), context=ScoringContext(False))
    with pytest.warns(DeprecationWarning, match="inputs=PatientInputs"):
        old = score_patient(DEMO_PATIENT, ["FOLFOX", "CAPOX"], sample="NA19625", allow_avoid_first=True,
                            explain=False, bundle=False)
    assert _ranked(old) == _ranked(new)


def test_old_keywords_outside_pytest_warns_fail_the_test_suite() -> None:
    """pyproject's filterwarnings turns the deprecation into an error, so no test uses the old keywords by accident."""
    with pytest.raises(DeprecationWarning, match=r"^score_patient\(\): .* are deprecated and will be removed"):
        score_patient(DEMO_PATIENT, bundle=False)
    with pytest.raises(DeprecationWarning, match=r"^score_patients\(\): .* are deprecated and will be removed"):
        list(score_patients([DEMO_PATIENT], explain=False))


def test_unknown_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="germline"):
        score_patient(DEMO_PATIENT, germline="x.vcf")


def test_bundle_and_context_together_are_refused() -> None:
    with pytest.raises(UsageError, match="not both"), pytest.warns(DeprecationWarning):
        score_patient(DEMO_PATIENT, bundle=False, context=ScoringContext(False))


def test_batch_takes_the_same_request_objects() -> None:
    ctx = ScoringContext(False)
    one = score_patient(DEMO_PATIENT, context=ctx)
    many = list(score_patients([DEMO_PATIENT, DEMO_PATIENT], context=ctx, batch_size=2))
    assert [_ranked(r) for r in many] == [_ranked(one)] * 2


def test_front_ends_use_the_new_objects_not_the_deprecated_keywords() -> None:
    import warnings

    from recommender.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert main(["score", "--demo", "--no-model", "--json"]) == 0
