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
    assert at.session_state["app"].user is None
    assert [t.value for t in at.title] == ["Sign in"]


def test_demo_patient_scored_and_options_compared(db):
    _, _, users = db
    at = sign_in(new_app(), *users["physician"])
    assert not at.exception
    assert [t.value for t in at.title] == ["Patient"]
    button(at, "Load demo patient").click()
    at.run()
    assert not at.exception
    rec = at.session_state["app"].recommendation
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
    # one survival chart for all options (PFS by default, OS on request) and one toxicity chart; months everywhere
    assert "Progression-free survival (model)" in [h.value for h in at.subheader]
    assert "Severe toxicity (grade ≥3 risk, model)" in [h.value for h in at.subheader]
    assert len(at.get("vega_lite_chart")) == 2
    assert "PFS median (months)" in table.columns and table["PFS median (months)"].str.contains(" mo").all()
    at.segmented_control(key="surv_endpoint").set_value("OS").run()
    assert not at.exception
    assert "Overall survival (model)" in [h.value for h in at.subheader]
    assert any("median (dot) with its interval" in c.value and " mo (" in c.value for c in at.caption)
    page = texts(at)
    for code in ("no_guidance", "not_called", "GREY", "no_data", " d ("):
        assert code not in page, code  # internal codes and days are never shown
    assert "pubmed.ncbi.nlm.nih.gov/" in page  # PMIDs are links

    at.switch_page("pages/pharmacogenomics.py").run()
    assert not at.exception
    genes = at.table[0].value  # a static table: every row and column shown, long text wrapped
    assert {"gene", "diplotype", "phenotype", "allele function", "call"} <= set(genes.columns)
    page = texts(at)
    assert "Genes that matter for the candidate drugs" in page
    # drug first (PharmCAT layout): each candidate drug once, its genes under it; no guideline text twice
    drugs = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert len(drugs) == len(set(drugs)) and any("irinotecan" in d for d in drugs)
    verbatim = [e.label for e in at.expander if "verbatim" in e.label]
    assert len(verbatim) == len(set(verbatim))
    assert "DPYD" in page

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
    # signing re-asks the password (user name + password): a wrong one stores nothing and is audited
    name, password = users["physician"]
    at.text_input(key="sign_username").input(name)
    at.text_input(key="sign_password").input("not-my-password-at-all")
    button(at, "Confirm and sign").click()
    at.run()
    assert not at.exception, at.exception
    assert any("signature refused" in e.value.replace("\\", "") for e in at.error)
    assert list_reviews(engine, mrn="DEMO-COAD-001") == []
    at.text_input(key="sign_username").input(name)
    at.text_input(key="sign_password").input(password)
    button(at, "Confirm and sign").click()
    at.run()
    assert not at.exception, at.exception
    reviews = list_reviews(engine, mrn="DEMO-COAD-001")
    assert len(reviews) == 1
    r = reviews[0]
    assert (r.decision, r.chosen_option, r.dose_note, r.reviewer) == ("modify", "FOLFIRI", "start at 80% dose",
                                                                       "dr.test")
    assert r.shown_sha256 == json_sha256(at.session_state["app"].recommendation_json)
    assert any("stored and signed" in s.value for s in at.success)
    with engine.connect() as conn:
        from sqlalchemy import text

        actions = [row[0] for row in conn.execute(text("SELECT action FROM audit_log ORDER BY seq"))]
        payloads = [row[0] for row in conn.execute(text("SELECT payload FROM audit_log WHERE action = 'review.record'"))]
    assert "review.signature_failed" in actions and "review.record" in actions
    assert "password re-entered" in payloads[-1]
    listed = at.dataframe[0].value
    assert list(listed["decision"]) == ["modify"]
    assert verify_chain(engine).ok
    # once signed, no form is left open: a second review needs an explicit amendment
    labels = [b.label for b in at.button]
    assert "Continue to confirmation" not in labels
    # the report carries the signed review and says that it shows the signed version
    at.switch_page("pages/report.py").run()
    assert not at.exception, at.exception
    assert any("Signed version" in s.value and "dr.test" in s.value for s in at.success)
    html = next(b.proto for b in at.get("download_button") if b.proto.label == "Download HTML report")
    assert html is not None
    at.switch_page("pages/review.py").run()
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
    assert km["n"].sum() > 100 and {"cancer type", "regimen"} <= set(km.columns)
    # per cancer type, top N regimens + "other regimens"; the test is within a cancer type, never pooled
    assert (km.groupby("cancer type")["regimen"].nunique() <= 7).all()
    assert "log-rank test within this cancer type" in texts(at) or "not shown" in texts(at)
    assert "no test pools different cancer types" in texts(at)
    assert len(at.get("vega_lite_chart")) == 1
    at.number_input(key="cohort_top_n").set_value(2).run()
    km2 = at.dataframe[0].value
    assert set(km2["regimen"]) - set(km["regimen"]) <= {"other regimens"} and (
        km2.groupby("cancer type")["regimen"].nunique() <= 3).all()
    at.text_input(key="cohort_where").input("no_such_column > 1").run()
    assert not at.exception
    assert at.error  # a bad filter is a message, not a traceback
