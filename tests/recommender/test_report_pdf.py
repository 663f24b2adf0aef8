"""PDF of the report (recommender.report_pdf, ``recommender score --pdf``): printed by the system Chromium.

Tests that print need Chromium and the playwright package: they skip on a developer machine without
them and fail when ``CI=true`` (``.ci/run`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from recommender.report_pdf import PdfExportError, check_pdf_backend, find_chromium, html_to_pdf
from tests.conftest import require


def _pdf_backend() -> None:
    try:
        check_pdf_backend()
    except PdfExportError as err:
        require(False, f"PDF export unavailable: {err.one_line()}")


def _pdf_text(path: Path) -> tuple[int, str]:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return len(reader.pages), " ".join(text.split())


@pytest.fixture(scope="module")
def demo_rec():
    from recommender.commands.score import DEMO_PATIENT
    from recommender.scoring import score_patient

    return score_patient(DEMO_PATIENT)


def test_demo_report_prints_to_pdf(demo_rec, tmp_path):
    _pdf_backend()
    from recommender.report import render_report

    out = html_to_pdf(render_report(demo_rec), tmp_path / "sub" / "report.pdf")
    assert out == tmp_path / "sub" / "report.pdf"
    assert out.read_bytes().startswith(b"%PDF")
    assert [p.name for p in out.parent.iterdir()] == ["report.pdf"]  # no temporary file left behind
    pages, text = _pdf_text(out)
    assert pages >= 1
    assert "Research use only" in text
    assert demo_rec.top is not None and demo_rec.top.regimen in text
    assert re.search(r"page 1 of \d+", text)  # footer with page numbers


def test_cli_score_demo_pdf(tmp_path, capsys):
    _pdf_backend()
    from recommender.cli import main

    out = tmp_path / "demo.pdf"
    assert main(["score", "--demo", "--pdf", str(out)]) == 0
    assert "PDF report written to" in capsys.readouterr().err
    assert out.read_bytes()[:5] == b"%PDF-"
    _, text = _pdf_text(out)
    assert "Research use only" in text and "FOLFOX" in text


def test_missing_chromium_is_a_project_error_with_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("RECOMMENDER_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(PdfExportError) as exc:
        find_chromium()
    assert "no-such-chromium" in exc.value.one_line()
    assert "apt-get install chromium" in exc.value.fix
    out = tmp_path / "report.pdf"
    with pytest.raises(PdfExportError):
        html_to_pdf("<!DOCTYPE html><p>x</p>", out)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_no_chromium_anywhere(monkeypatch):
    import recommender.report_pdf as rp

    monkeypatch.delenv("RECOMMENDER_CHROMIUM", raising=False)
    monkeypatch.setattr(rp, "DEFAULT_CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.setattr(rp.shutil, "which", lambda name: None)
    with pytest.raises(PdfExportError) as exc:
        rp.find_chromium()
    assert "Chromium is not installed" in exc.value.message
    assert "apt-get install chromium" in exc.value.fix


def test_missing_playwright_is_a_project_error_with_the_fix(monkeypatch):
    import recommender.report_pdf as rp

    monkeypatch.setattr(rp.importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(PdfExportError) as exc:
        rp.check_pdf_backend()
    assert "pip install playwright" in exc.value.fix
    with pytest.raises(PdfExportError):
        rp.html_to_pdf_bytes("<p>x</p>")


def test_cli_pdf_fails_early_with_one_line(monkeypatch, tmp_path, capsys):
    from recommender.cli import main

    monkeypatch.setenv("RECOMMENDER_CHROMIUM", str(tmp_path / "missing"))

    def not_scored(*args, **kwargs):  # the backend is checked before the patient is scored
        raise AssertionError("scored although the PDF could not be printed")

    monkeypatch.setattr("recommender.scoring.score_patient", not_scored)
    assert main(["score", "--demo", "--pdf", str(tmp_path / "x.pdf")]) == 1
    err = capsys.readouterr().err
    assert "apt-get install chromium" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.pdf").exists()


def test_signed_review_is_in_the_pdf(tmp_path):
    """Issue 20: the decision in the record (reviewer, role, time, decision, option, comment, sha256) in the PDF."""
    _pdf_backend()
    from recommender.recommendation import SignedReview
    from recommender.report import render_signed_report
    from recommender.scoring import ScoringContext, score_patient
    from recommender.store import json_sha256
    from tests.recommender._scoring_support import COAD

    rec = score_patient(COAD, ["FOLFOX", "CAPOX"], context=ScoringContext(False))
    review = SignedReview(reviewer="dr.who", role="physician", signed_at="2026-12-06T12:00:00+00:00",
                          decision="accept", chosen_option="CAPOX", comment="agreed at tumour board",
                          shown_sha256=json_sha256(rec.to_json()), review_id=7)
    out = html_to_pdf(render_signed_report(rec, review), tmp_path / "signed.pdf")
    _, text = _pdf_text(out)
    for word in ("Decision in the record", "dr.who (physician)", "2026-12-06T12:00:00+00:00", "accept", "CAPOX",
                 "agreed at tumour board", "This report shows the version that was signed"):
        assert word in text, word
    assert review.shown_sha256[:32] in text.replace(" ", "")
