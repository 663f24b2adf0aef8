"""The HTML report: self-contained, escaped, shows guidance verbatim, PGx section, provenance, disclaimer."""

from __future__ import annotations

import json
import re

import pytest

from recommender.recommendation import Recommendation
from recommender.report import render_report, write_report
from recommender.scoring import score_patient
from tests.recommender._scoring_support import BREAST, COAD, OUTSIDE_PM, StubBundle


@pytest.fixture(scope="module")
def breast_rec() -> Recommendation:
    stub = StubBundle({"tamoxifen": 0.9, "anastrozole": 0.5, "letrozole": 0.4}, tox={"Diarrhea": 0.1})
    return score_patient(BREAST, bundle=stub, outside_calls=OUTSIDE_PM)


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
    rec = score_patient(data, ["FOLFOX"], bundle=False)
    html = render_report(rec)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_model_unavailable_is_stated_and_no_numbers_are_invented():
    rec = score_patient(COAD, ["FOLFOX", "CAPOX"], bundle=False)
    html = render_report(rec)
    assert "Model numbers unavailable" in html and "switched off" in html
    assert "%" not in html.split("Options side by side")[1].split("Ranking rule")[0]


def test_report_from_json_recomputes_the_pgx_section(breast_rec, tmp_path):
    again = Recommendation.from_json(breast_rec.to_json())
    assert again._guidance is None
    out = write_report(again, tmp_path / "r.html")
    html = out.read_text()
    assert 'id="pgx-report"' in html and "tamoxifen" in html
