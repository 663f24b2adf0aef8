"""AppTest (no browser) of the physician's app: sign-in, demo patient, compare, PGx, review, report."""

from __future__ import annotations

import pytest

from tests.app.conftest import assert_page_refused, button, new_app, sign_in, texts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_login_required_and_disclaimer_on_sign_in_page(db):
    at = new_app().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Sign in"]
    assert "Research use only" in texts(at)
    # no page with patient data is reachable before sign-in
    assert "Load demo patient" not in [b.label for b in at.button]


def test_wrong_password_is_refused(db):
    _, _, users = db
    at = sign_in(new_app(), users["physician"][0], "not-the-password-at-all")
    assert not at.exception
    assert any("sign-in failed" in e.value for e in at.error)
    assert at.session_state["user"] is None if "user" in at.session_state else True
    assert [t.value for t in at.title] == ["Sign in"]


def test_demo_patient_scored_and_options_compared(db):
    _, _, users = db
    at = sign_in(new_app(), *users["physician"])
    assert not at.exception
    assert [t.value for t in at.title] == ["Patient"]
    button(at, "Load demo patient").click()
    at.run()
    assert not at.exception
    rec = at.session_state["rec"]
    assert len(rec.options) == 4
    assert "Ranked first" in texts(at)

    at.switch_page("pages/compare.py").run()
    assert not at.exception
    page = texts(at)
    assert "Research use only" in page
    for o in rec.options:
        assert o.regimen in page
    assert "Model and guidance disagree" in page  # KRAS G12D vs panitumumab
    table = at.dataframe[0].value
    assert list(table["option"]) == [o.regimen for o in sorted(rec.options, key=lambda o: o.rank)]
    assert table["response"].str.contains("%").all()
    # sorting by response probability puts the highest first
    at.selectbox(key="sort_key").set_value("response probability").run()
    probs = [o.model.response.probability for o in rec.options]
    assert at.dataframe[0].value["option"].iloc[0] == rec.options[probs.index(max(probs))].regimen
    # one survival chart for all options, PFS by default, OS on request; medians with intervals in the caption
    assert "Progression-free survival (model)" in [h.value for h in at.subheader]
    assert len(at.get("vega_lite_chart")) == 1
    at.segmented_control(key="surv_endpoint").set_value("OS").run()
    assert not at.exception
    assert "Overall survival (model)" in [h.value for h in at.subheader]
    assert any("median (dot) with its interval" in c.value and "d (" in c.value for c in at.caption)

    at.switch_page("pages/pharmacogenomics.py").run()
    assert not at.exception
    genes = at.dataframe[0].value
    assert {"gene", "diplotype", "phenotype"} <= set(genes.columns)
    assert "DPYD" in set(genes["gene"])
    assert "DPYD" in texts(at)  # not called, with the reason

    at.switch_page("pages/report.py").run()
    assert not at.exception
    assert "Research use only" in texts(at)


def test_review_is_confirmed_stored_and_listed(db):
    from recommender.store import json_sha256, list_reviews, verify_chain

    engine, _, users = db
    at = sign_in(new_app(), *users["physician"])
    button(at, "Load demo patient").click()
    at.run()
    at.switch_page("pages/review.py").run()
    assert not at.exception
    # reject without a reason is refused before confirmation
    at.radio(key="review_decision").set_value("reject").run()
    button(at, "Continue to confirmation").click()
    at.run()
    assert any("needs a reason" in e.value for e in at.error)
    assert list_reviews(engine, mrn="DEMO-COAD-001") == []

    at.radio(key="review_decision").set_value("modify").run()
    at.selectbox(key="review_option").set_value("FOLFIRI")
    at.text_input(key="review_dose").input("start at 80% dose")
    at.text_area(key="review_reason").input("patient preference")
    button(at, "Continue to confirmation").click()
    at.run()
    assert any("Please confirm" in i.value for i in at.info)
    assert list_reviews(engine, mrn="DEMO-COAD-001") == []  # nothing stored before confirmation
    button(at, "Confirm and sign").click()
    at.run()
    assert not at.exception, at.exception
    reviews = list_reviews(engine, mrn="DEMO-COAD-001")
    assert len(reviews) == 1
    r = reviews[0]
    assert (r.decision, r.chosen_option, r.dose_note, r.reviewer) == ("modify", "FOLFIRI", "start at 80% dose",
                                                                       "dr.test")
    assert r.shown_sha256 == json_sha256(at.session_state["rec_json"])
    assert any("stored and signed" in s.value for s in at.success)
    listed = at.dataframe[0].value
    assert list(listed["decision"]) == ["modify"]
    assert verify_chain(engine).ok
    # once signed, no form is left open: a second review needs an explicit amendment
    labels = [b.label for b in at.button]
    assert "Continue to confirmation" not in labels
    button(at, "Amend: record another review of this recommendation").click()
    at.run()
    assert "Continue to confirmation" in [b.label for b in at.button]
    assert len(list_reviews(engine, mrn="DEMO-COAD-001")) == 1


def test_researcher_may_not_sign_reviews(db):
    _, _, users = db
    at = sign_in(new_app(), *users["researcher"])
    button(at, "Load demo patient").click()
    at.run()
    assert_page_refused(at, "pages/review.py")
    assert "Confirm and sign" not in [b.label for b in at.button]


def test_cohort_page_summarises_and_compares_regimens(db, tmp_path, monkeypatch):
    from cohorts import simulate_cohort

    simulate_cohort(150, 0).write(tmp_path / "cohort")
    monkeypatch.setenv("RECOMMENDER_COHORT_DIR", str(tmp_path / "cohort"))
    _, _, users = db
    at = sign_in(new_app(), *users["researcher"])
    at.switch_page("pages/cohort.py").run()
    assert not at.exception, at.exception
    assert at.metric[0].value == "150"
    km = at.dataframe[0].value
    assert km["n"].sum() > 100 and "regimen" in km.columns
    assert "log-rank" in texts(at)
    at.text_input(key="cohort_where").input("no_such_column > 1").run()
    assert not at.exception
    assert at.error  # a bad filter is a message, not a traceback
