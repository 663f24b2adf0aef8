"""Issue 15 (3): user-controlled text is shown as text in the app, the HTML report and the PDF.

Before the fix a ``patient_id`` of ``![x](http://host/track.png)`` made the browser fetch the outside URL
and put a live link in the heading, caption and sidebar.
"""

from __future__ import annotations

import re

import pytest

from recommender.escaping import escape_html, escape_markdown
from tests.app.conftest import new_app, sign_in

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HOSTILE = ["![x](http://host.invalid/track.png)", "[click](http://host.invalid/)", "<img src=http://host.invalid/t.png>",
           ":red[boom] :material/warning: $x^2$", "**bold** _it_ `code`", "http://host.invalid/auto www.host.invalid"]
# markup that would render from the hostile strings: an image/link, a raw tag, a Streamlit directive, LaTeX,
# emphasis, code or an autolink (each fragment counts only when no backslash escapes it)
_LIVE = re.compile(r"(?<!\\)\]\(http\\?://host|(?<!\\)\[(?:x|click)(?<!\\)\]|(?<!\\)<img|(?<!\\):red(?<!\\)\[boom|"
                   r"(?<!\\)\$x|(?<!\\)\*\*bold|(?<![\\\w])_it_|(?<!\\)`code|http:|(?<!\\)www\.host")


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_markdown_leaves_no_markup(text):
    out = escape_markdown(text)
    assert not _LIVE.search(out), out
    assert "\n" not in escape_markdown("a\nb\r\nc")


def test_escape_html():
    assert escape_html('<img src="x" onerror=\'y\'>&') == "&lt;img src=&quot;x&quot; onerror=&#x27;y&#x27;&gt;&amp;"
    assert escape_html(None) == ""


def _hostile_patient(pid: str):
    from recommender.commands.score import DEMO_PATIENT
    from recommender.schema import load_patient

    return load_patient(DEMO_PATIENT).model_copy(update={"patient_id": pid, "germline": None})


def _shown_markdown(at) -> list[str]:
    out = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "header", "subheader"):
        out += [str(e.value) for e in getattr(at, kind)]
    for kind in ("markdown", "caption", "error", "warning", "info", "success"):
        out += [str(e.value) for e in getattr(at.sidebar, kind)]
    return out


@pytest.mark.parametrize("pid", [HOSTILE[0], HOSTILE[2], HOSTILE[3]])
def test_hostile_patient_id_is_text_on_every_page(db, pid):
    from recommender.scoring import score_patient

    patient = _hostile_patient(pid)
    rec = score_patient(patient)
    _, _, users = db
    at = sign_in(new_app(), *users["physician"])
    at.session_state["app"].load(patient, rec)
    for page in ("pages/patient.py", "pages/compare.py", "pages/pharmacogenomics.py", "pages/report.py",
                 "pages/review.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        for value in _shown_markdown(at):
            assert not _LIVE.search(value), (page, value)


@pytest.mark.parametrize("pid", HOSTILE)
def test_hostile_patient_id_is_text_in_the_html_report(pid):
    from recommender.report import render_report
    from recommender.scoring import score_patient

    html = render_report(score_patient(_hostile_patient(pid)))
    assert "<img src=http://host.invalid" not in html and 'src="http://host.invalid' not in html
    assert 'href="http://host.invalid' not in html
    assert "host.invalid" not in re.sub(r">[^<]*<", "><", html)  # only ever inside text nodes, never an attribute


def test_hostile_vcf_sample_name_is_text_on_the_patient_and_pharmacogenomics_pages(db):
    """A germline VCF's sample column is user-controlled: it was interpolated into captions unescaped."""
    from recommender.scoring import score_patient

    patient = _hostile_patient("P-1")
    rec = score_patient(patient).model_copy(update={"pgx_sample": HOSTILE[0]})
    _, _, users = db
    at = sign_in(new_app(), *users["physician"])
    at.session_state["app"].load(patient, rec)
    for page in ("pages/patient.py", "pages/pharmacogenomics.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        shown = _shown_markdown(at)
        assert any("track.png" in value for value in shown), page  # the sample is shown...
        for value in shown:
            assert not _LIVE.search(value), (page, value)  # ...as text
