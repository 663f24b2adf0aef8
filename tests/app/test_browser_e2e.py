"""End to end in a real browser: the Streamlit server process and a headless Chromium (Playwright).

Sign in, reload (still signed in: the signed session cookie), load the demo patient, compare the options,
accept the first-ranked one with a reason and sign with user name and password, check the review in the
database, see it in the report, download the PDF report; a form patient without genotype and without
tumour data, and what its summary card says. A screenshot of each step goes to
``test-artifacts/e2e/`` (gitignored). Needs Debian's ``chromium`` and the playwright package: skipped on
a developer machine without them, a failure when ``CI=true`` (``.ci/run`` installs ``chromium``).
"""

from __future__ import annotations

import pytest

from tests.app import _browser_support as browser
from tests.conftest import require

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

REASON = "first-ranked option, no avoid flag; DPYD to be genotyped before start"


@pytest.fixture(scope="module")
def app_server(tmp_path_factory):
    """``(server, engine, (username, password))``: the app on a free port over a fresh SQLite database."""
    problem = browser.browser_problem()
    require(problem is None, f"browser tests need Chromium and playwright: {problem}")
    from recommender.store import create_user, open_database

    for old in browser.ARTIFACTS.glob("zz-failure*.png"):  # failure shots of this run only; the step shots are
        old.unlink()  # overwritten by name (a partial run, e.g. -k cohort, keeps the others)
    folder = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{folder / 'app.db'}"
    engine = open_database(url)
    _, password = create_user(engine, "dr.e2e", "physician")
    # the cohort page opens cohorts and writes scores only under these folders (app.cohort_paths)
    roots = {"RECOMMENDER_COHORT_ROOTS": str(tmp_path_factory.getbasetemp()),
             "RECOMMENDER_OUTPUT_ROOT": str(folder / "outputs")}
    server = browser.start_app(url, folder / "streamlit.log", env=roots)
    server.output_root = folder / "outputs"
    try:
        yield server, engine, ("dr.e2e", password)
    finally:
        server.stop()
        engine.dispose()


@pytest.fixture(scope="module")
def chromium(app_server):
    with browser.chromium() as b:
        yield b


@pytest.mark.slow
def test_wrong_password_is_refused_in_the_browser(app_server, chromium):
    server, _, (username, _) = app_server
    with browser.page_for(chromium, server, "zz-failure-sign-in") as page:
        page.goto(server.url)
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password", exact=True).fill("not-the-password-at-all")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("sign-in failed").wait_for()
        browser.wait_idle(page)
        assert page.get_by_role("button", name="Load demo patient").count() == 0
        assert page.get_by_text("Research use only").first.is_visible()
        browser.screenshot(page, "00-sign-in-refused")


@pytest.mark.slow
def test_file_upload_works_under_the_asgi_server(app_server, chromium):
    """Regression guard for serving the app through ``app/server.py`` (uvicorn, ``st.App``): Streamlit's upload
    endpoint (XSRF-checked) still takes a file; the demo patient's record is read from the upload."""
    from recommender.scoring import DEMO_PATIENT

    server, _, (username, password) = app_server
    with browser.page_for(chromium, server, "zz-failure-upload") as page:
        browser.sign_in(page, server.url, username, password)
        page.get_by_text("Upload record (JSON / Phenopacket)").click()
        browser.wait_idle(page)
        page.locator("input[type=file]").first.set_input_files(str(DEMO_PATIENT))
        page.get_by_text("Record DEMO-COAD-001 read").wait_for()
        browser.wait_idle(page)


@pytest.mark.slow
def test_sign_in_compare_review_and_report(app_server, chromium, tmp_path):
    from recommender.store import list_reviews, verify_chain

    server, engine, (username, password) = app_server
    with browser.page_for(chromium, server, "zz-failure") as page:
        browser.sign_in(page, server.url, username, password)
        browser.screenshot(page, "01-signed-in")
        # a reload opens a new Streamlit session: the signed session cookie signs the user in again
        cookies = {c["name"]: c for c in page.context.cookies()}
        assert cookies["gtr_session"]["sameSite"] == "Strict" and "." in cookies["gtr_session"]["value"]
        assert password not in cookies["gtr_session"]["value"]
        # regression (session cookie readable by page scripts): the server sets it HttpOnly, so an injected
        # script cannot read the session token, and the page never held it
        assert cookies["gtr_session"]["httpOnly"] is True
        assert "gtr_session" not in page.evaluate("document.cookie")
        assert cookies["gtr_session"]["value"] not in page.content()
        page.reload()
        page.get_by_role("button", name="Load demo patient").wait_for()
        browser.wait_idle(page)
        assert page.get_by_text(f"Signed in as {username}").count() == 1

        browser.load_demo_patient(page)
        browser.screenshot(page, "02-demo-patient")

        browser.open_page(page, "Compare options")
        browser.wait_compare_rendered(page)
        card = page.locator(".st-key-top_option")  # the summary card of the first-ranked option
        top = card.get_by_role("heading").first.inner_text()
        assert top.startswith("Ranked first:")
        for what in ("Response probability", "interval", "PFS median", "Highest severe-toxicity risk",
                     "Pharmacogenomics", "Biomarker eligibility", "Why first", "Main drivers"):
            assert what in card.inner_text(), what
        assert page.get_by_text("Model and guidance disagree").first.is_visible()
        browser.screenshot(page, "03-compare")

        browser.open_page(page, "Review & sign-off")
        page.get_by_label("Reason (required for modify and reject)").fill(REASON)
        page.get_by_role("button", name="Continue to confirmation").click()
        page.get_by_text("Please confirm").wait_for()
        browser.wait_idle(page)
        browser.screenshot(page, "04-review-confirm")
        browser.sign_review(page, username, password)
        page.get_by_text("stored and signed").wait_for()
        browser.wait_idle(page)
        browser.screenshot(page, "05-review-signed")

        reviews = list_reviews(engine, mrn="DEMO-COAD-001")
        assert len(reviews) == 1
        r = reviews[0]
        assert (r.decision, r.reviewer, r.reason) == ("accept", username, REASON)
        assert r.chosen_option and r.chosen_option in top  # the first-ranked option is the default choice
        assert len(r.shown_sha256) == 64
        assert verify_chain(engine).ok

        browser.open_page(page, "Pharmacogenomics")
        page.get_by_text("Genes that matter for the candidate drugs").wait_for()
        browser.screenshot(page, "04b-pharmacogenomics")

        browser.open_page(page, "Report")
        page.get_by_text("Signed version").wait_for()
        assert username in page.get_by_text("Signed version").inner_text()
        pdf_button = page.get_by_role("button", name="Download PDF")
        assert pdf_button.is_enabled()
        assert page.get_by_role("button", name="Download HTML report").is_enabled()
        page.get_by_text("Preview").click()
        frame = page.frame_locator("iframe").first
        frame.get_by_role("heading", name="Decision in the record").wait_for()
        assert username in frame.locator("#decision").inner_text()
        browser.wait_idle(page)
        browser.screenshot(page, "06-report")
        with page.expect_download(timeout=browser.STEP_TIMEOUT_MS) as info:
            pdf_button.click()
        download = info.value
        assert download.suggested_filename == "treatment-options-report.pdf"
        saved = tmp_path / "report.pdf"
        download.save_as(saved)
        assert saved.read_bytes().startswith(b"%PDF")
        # signing out revokes the session cookie: a reload shows the sign-in page again
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("heading", name="Sign in").wait_for()
        browser.wait_idle(page)
        page.reload()
        page.get_by_role("heading", name="Sign in").wait_for()
        browser.wait_idle(page)
        assert page.get_by_role("button", name="Load demo patient").count() == 0
        # the revoked HttpOnly cookie is removed by the server's clear endpoint (no script could remove it)
        for _ in range(50):
            if "gtr_session" not in {c["name"] for c in page.context.cookies()}:
                break
            page.wait_for_timeout(100)
        assert "gtr_session" not in {c["name"] for c in page.context.cookies()}
        # patient identifiers never reach the server's log (MRN / pseudonym, germline sample)
        log = server.log.read_text(errors="replace")
        assert "DEMO-COAD-001" not in log and "NA19625" not in log


@pytest.mark.slow
def test_form_patient_without_genotype_or_tumour_data_summary_card(app_server, chromium):
    """The summary card of a form patient with neither germline nor tumour data: every fluoropyrimidine gap is
    amber "not assessed: DPYD not genotyped", never a green "none"; the anti-EGFR option is not first and its
    eligibility is said to be not established, with the test."""
    server, engine, (username, password) = app_server
    with browser.page_for(chromium, server, "zz-failure-form") as page:
        browser.sign_in(page, server.url, username, password)
        page.get_by_text("Enter clinical data (form)").click()
        browser.wait_idle(page)
        page.get_by_role("textbox", name="Patient pseudonym").fill("FORM-E2E")
        box = page.get_by_role("combobox", name="Cancer type (OncoTree)")
        box.click()
        page.keyboard.type("COAD - Colon")
        page.keyboard.press("Enter")
        browser.wait_idle(page)
        page.get_by_role("textbox", name="Patient pseudonym").fill("FORM-E2E")
        page.get_by_role("button", name="Check clinical data").click()
        page.get_by_text("Clinical data are valid").wait_for()
        browser.wait_idle(page)
        page.get_by_role("button", name="Score this patient").click()
        page.get_by_text("Ranked first:").wait_for()
        browser.wait_idle(page)
        browser.screenshot(page, "10-form-patient")

        browser.open_page(page, "Compare options")
        browser.wait_compare_rendered(page)
        card = page.locator(".st-key-top_option")
        text = card.inner_text()
        assert "Ranked first: FOLFOX+panitumumab" not in text
        assert "not assessed: DPYD not genotyped" in text, text
        assert "none" not in text.split("Biomarker eligibility")[0].split("Pharmacogenomics")[1]
        # the badge is amber (Streamlit's orange badge), not green
        badge = card.get_by_text("not assessed: DPYD not genotyped").first
        colour = badge.evaluate("e => getComputedStyle(e).color")
        r, g = (int(v) for v in colour[colour.index("(") + 1:].split(",")[:2])
        assert r > g, colour  # orange/amber text (red channel above green), never a green badge
        body = page.locator("[data-testid='stMain']").inner_text()
        assert "eligibility not established" in body and "panitumumab" in body and "KRAS" in body
        assert "No tumour variants were given" in body
        for code in ("no_guidance", "not_called", "GREY", "no_data"):
            assert code not in body, code
        browser.screenshot(page, "03b-compare-form-patient")


def test_report_page_says_when_chromium_is_missing(db, monkeypatch, tmp_path):
    """No browser needed: without Chromium the PDF button is disabled and the fix is shown; HTML still works."""
    from tests.app.conftest import button, new_app, sign_in

    monkeypatch.setenv("RECOMMENDER_CHROMIUM", str(tmp_path / "no-chromium"))
    _, _, users = db
    at = sign_in(new_app(), *users["physician"])
    button(at, "Load demo patient").click()
    at.run()
    at.switch_page("pages/report.py").run()
    assert not at.exception, at.exception
    assert any("apt-get install chromium" in e.value for e in at.error)
    buttons = {b.proto.label: b.proto for b in at.get("download_button")}
    assert buttons["Download PDF"].disabled
    assert not buttons["Download HTML report"].disabled


@pytest.fixture(scope="module")
def scoring_cohort(tmp_path_factory):
    """A simulated cohort big enough for several 200-patient chunks (a few seconds of scoring)."""
    from cohorts import simulate_cohort

    path = tmp_path_factory.mktemp("cohort") / "sim1200"
    simulate_cohort(1200, seed=3).write(path)
    return path


@pytest.mark.slow
def test_cohort_scoring_runs_in_the_background_cancels_resumes_and_reports(app_server, chromium, scoring_cohort,
                                                                            tmp_path):
    from recommender.store import create_user

    server, engine, _ = app_server
    _, password = create_user(engine, "res.e2e", "researcher")
    out = server.output_root / "res.e2e" / "scores.parquet"  # the researcher's own output folder
    with browser.page_for(chromium, server, "zz-failure-cohort") as page:
        browser.sign_in(page, server.url, "res.e2e", password)
        browser.open_page(page, "Cohort")
        page.get_by_role("textbox", name="Cohort directory").fill(str(scoring_cohort))
        page.get_by_role("textbox", name="Cohort directory").press("Enter")
        page.get_by_text("Kaplan-Meier of PFS by received regimen").wait_for()
        page.get_by_role("textbox", name="Scores file (Parquet)").fill(str(out))
        page.get_by_role("textbox", name="Scores file (Parquet)").press("Enter")
        browser.wait_idle(page)

        page.get_by_role("button", name="Score this cohort").click()
        page.get_by_text("Scoring:").first.wait_for()
        # the page stays usable while the job runs: another widget reruns the page and the job goes on
        page.get_by_text("os", exact=True).click()
        page.get_by_text("Kaplan-Meier of OS by received regimen").wait_for()
        page.get_by_text("of 1200 patients").first.wait_for()
        browser.screenshot(page, "07-cohort-scoring")
        page.get_by_role("button", name="Cancel").click()
        page.get_by_text("Scoring cancelled after").wait_for(timeout=120_000)
        browser.wait_idle(page)
        browser.screenshot(page, "08-cohort-cancelled")
        kept = list((out.parent / f"{out.name}.parts").glob("chunk-*.parquet"))
        assert kept and not out.exists()

        page.get_by_role("button", name="Resume").click()
        page.get_by_text("Scored 1200 patients").wait_for(timeout=240_000)
        browser.wait_idle(page)
        summary = page.get_by_text("Scored 1200 patients").inner_text()
        reused = int(summary.split(" reused")[0].rsplit(" ", 1)[-1])
        assert reused >= len(kept) >= 1, summary
        for heading in ("Predictions per treatment", "Pharmacogenomic phenotypes by population",
                        "Calibration on the received regimen",
                        "Survival by whether the recommended option was received"):
            assert page.get_by_role("heading", name=heading).count() == 1, heading
        assert page.get_by_role("button", name="Download the HTML report").is_enabled()
        assert out.is_file()
        browser.screenshot(page, "09-cohort-report")
