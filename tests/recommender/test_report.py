"""The HTML report: self-contained, escaped, shows guidance verbatim, PGx section, provenance, disclaimer."""

from __future__ import annotations

import json
import re

import pytest

from recommender.recommendation import Recommendation
from recommender.report import render_report, write_report
from recommender.requests import PatientInputs
from recommender.scoring import ScoringContext, score_patient
from tests.recommender._scoring_support import BREAST, COAD, OUTSIDE_PM, StubBundle


@pytest.fixture(scope="module")
def breast_rec() -> Recommendation:
    stub = StubBundle({"tamoxifen": 0.9, "anastrozole": 0.5, "letrozole": 0.4}, tox={"Diarrhea": 0.1})
    return score_patient(BREAST, inputs=PatientInputs(outside_calls=OUTSIDE_PM), context=ScoringContext(stub))


def test_report_is_self_contained(breast_rec):
    html = render_report(breast_rec)
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html.split('id="pgx-report"')[0])
    assert "<link" not in html.lower()


def test_report_shows_guidance_disagreement_and_disclaimer(breast_rec):
    html = render_report(breast_rec)
    assert "Recommend alternative hormonal therapy" in html  # verbatim CPIC text
    assert "The model ranks first tamoxifen, which contains tamoxifen" in html
    assert "Research use only" in html
    assert 'id="pgx-report"' in html  # the PGx section of genomics.pgx.report
    assert breast_rec.provenance.pgx_knowledge_base["recommendation_tables_version"] in html
    assert "stub-bundle-1" in html
    assert "<svg" in html  # survival sparkline


def test_values_are_escaped():
    data = json.loads(COAD.read_text())
    data["patient_id"] = "<script>alert(1)</script>"
    del data["germline"]
    rec = score_patient(data, ["FOLFOX"], context=ScoringContext(False))
    html = render_report(rec)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_model_unavailable_is_stated_and_no_numbers_are_invented():
    rec = score_patient(COAD, ["FOLFOX", "CAPOX"], context=ScoringContext(False))
    html = render_report(rec)
    assert "Model numbers unavailable" in html and "switched off" in html
    assert "%" not in html.split("Options side by side")[1].split("Ranking rule")[0]


def test_report_from_json_recomputes_the_pgx_section(breast_rec, tmp_path):
    again = Recommendation.from_json(breast_rec.to_json())
    assert again._guidance is None
    out = write_report(again, tmp_path / "r.html")
    html = out.read_text()
    assert 'id="pgx-report"' in html and "tamoxifen" in html


# ------------------------------------------------------------------------------------ issue 20


def _signed(rec: Recommendation, **kw):
    """A real stored review: the store records what was shown (sha256 of the exact JSON) and signs it."""
    from recommender.store import create_user, make_engine, record_recommendation, record_review, upgrade_database

    engine = make_engine("sqlite://")
    upgrade_database(engine)
    create_user(engine, "dr.who", "physician")
    text = kw.pop("shown_json", rec.to_json())
    stored = record_recommendation(engine, mrn="MRN-1", recommendation=text, model_bundle_id="b", model_bundle_hash="h",
                                   actor="dr.who")
    return record_review(engine, recommendation_id=stored.id, reviewer="dr.who", decision="modify",
                         shown_sha256=stored.json_sha256, chosen_option="FOLFOX", dose_note="DPYD first",
                         reason="test DPYD <before> starting")


@pytest.fixture(scope="module")
def form_rec() -> Recommendation:
    data = json.loads(COAD.read_text())
    data.pop("germline")
    return score_patient(data, context=ScoringContext(StubBundle({"FOLFOX+panitumumab": 0.6, "FOLFOX": 0.4})))


def test_signed_review_is_in_the_report_with_the_signed_version(form_rec):
    from recommender.report import render_signed_report, signed_version

    review = _signed(form_rec)
    html = render_signed_report(form_rec, review, role="physician")
    assert 'id="decision"' in html and "Decision in the record" in html
    for text in ("dr.who (physician)", "modify", "FOLFOX", "DPYD first", review.shown_sha256,
                 "This report shows the version that was signed"):
        assert text in html, text
    assert "test DPYD &lt;before&gt; starting" in html  # the comment is escaped
    assert signed_version(form_rec, review).matches


def test_report_after_sign_off_of_another_version_says_so(form_rec):
    from recommender.report import render_signed_report

    other = form_rec.model_copy(update={"warnings": (*form_rec.warnings, "changed after sign-off")})
    review = _signed(form_rec)
    html = render_signed_report(other, review, role="physician")
    assert "does NOT show the signed version" in html and "rr-signed-mismatch" in html
    assert review.shown_sha256 in html


def test_report_without_review_has_no_decision_section(form_rec):
    assert 'id="decision"' not in render_report(form_rec)


def test_report_shows_gaps_and_eligibility_in_words(form_rec):
    html = render_report(form_rec)
    assert "not assessed: DPYD not genotyped" in html
    assert "Test before treatment (DPYD)" in html and "Project summary (not a quotation)" in html
    assert "eligibility not established for panitumumab: test KRAS and NRAS" in html
    assert "Pharmacogenomics not assessed:" in html
    # the summary table never paints a gap green
    row = html.split("<strong>FOLFIRI</strong>", 1)[1].split("</tr>", 1)[0]
    assert "rr-green" not in row and "rr-amber" in row
