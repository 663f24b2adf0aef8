"""Clinical notes page (highlights, accept / reject, conflicts kept, audited) and evidence graph page (AppTest)."""

from __future__ import annotations

from tests.app.conftest import button, new_app, sign_in, texts


def _demo(at):
    button(at, "Load demo patient").click()
    return at.run()


def test_note_values_reviewed_one_by_one_only_accepted_enter_the_record_and_are_audited(db):
    engine, _, users = db
    at = _demo(sign_in(new_app(), *users["physician"]))
    at.switch_page("pages/notes.py").run()
    assert not at.exception
    at.text_area(key="note_text").input(
        "Name: Jane Roe. No history of COPD. T2DM. Meds: paroxetine 20 mg daily. Ex-smoker, 30 pack-years.").run()
    button(at, "Read the note").click()
    at.run()
    assert not at.exception
    page = texts(at) + "\n".join(e.proto.body for e in at.get("html"))
    assert "Jane Roe" not in page and "**** ***" in page          # masked before shown
    assert "record says 12" in page                               # pack-years conflict shown
    state = at.session_state["notes_page"]
    by_field = {p.value.field: p for p in state["proposals"]}
    assert "comorbidity" in by_field and by_field["pack_years"].status == "conflict"
    # nothing is decided by default: accept the comorbidity and smoking, reject the medication and the conflict,
    # leave the rest undecided
    for field, choice in (("comorbidity", "accept"), ("smoking", "accept"), ("medication", "reject"),
                          ("pack_years", "reject")):
        if by_field[field].status != "same":
            at.radio(key=f"dec-{by_field[field].value.id}").set_value(choice)
    at.run()
    button(at, "Apply the accepted values to the record").click()
    at.run()
    assert not at.exception, at.exception
    patient = at.session_state["app"].patient
    assert "diabetes" in patient.history.comorbidities
    assert "paroxetine" not in patient.medications and patient.lifestyle.pack_years == 12.0
    from recommender.store import verify_chain

    report = verify_chain(engine)
    assert report.ok
    from sqlalchemy import text as sql

    with engine.connect() as con:
        payload = con.execute(sql("select payload from audit_log where action = 'note.review'")).scalar_one()
    assert "diabetes" in payload and "Jane" not in payload and "DEMO-COAD-001" not in payload


def test_researcher_sees_proposals_but_cannot_accept(db):
    _, _, users = db
    at = _demo(sign_in(new_app(), *users["researcher"]))
    at.switch_page("pages/notes.py").run()
    at.text_area(key="note_text").input("ECOG 2. Hypertension.").run()
    button(at, "Read the note").click()
    at.run()
    assert "Only a physician can accept" in texts(at)
    assert not [b for b in at.button if b.label.startswith("Apply")]


def test_evidence_graph_page_draws_and_opens_guideline_text(db):
    _, _, users = db
    at = _demo(sign_in(new_app(), *users["physician"]))
    at.switch_page("pages/evidence.py").run()
    assert not at.exception
    assert at.get("graphviz_chart")
    guideline = next(o for o in at.selectbox[0].options if o.startswith("guideline:"))
    at.selectbox[0].set_value(guideline).run()
    assert not at.exception
    assert any(len(t.value) > 40 for t in at.text)  # the verbatim text, shown as text


def test_note_text_is_shown_as_text_never_as_markup(db):
    _, _, users = db
    at = _demo(sign_in(new_app(), *users["physician"]))
    at.switch_page("pages/notes.py").run()
    at.text_area(key="note_text").input(
        'ECOG 1. <img src="http://evil.example/t.png">\n\n![x](http://evil.example/t.png) <script>alert(1)</script>').run()
    button(at, "Read the note").click()
    at.run()
    assert not at.exception
    html = next(e.proto.body for e in at.get("html") if "white-space:pre-wrap" in e.proto.body)
    assert "<img" not in html and "<script" not in html
    assert "&lt;img" in html and "&lt;script&gt;" in html
    assert not any("evil.example" in m.value for m in at.markdown)  # nothing of the note goes through Markdown


def test_proposals_from_one_patients_note_never_reach_another_patients_record(db):
    from recommender.schema import Patient

    _, _, users = db
    at = _demo(sign_in(new_app(), *users["physician"]))
    at.switch_page("pages/notes.py").run()
    at.text_area(key="note_text").input("T2DM. ECOG 2.").run()
    button(at, "Read the note").click()
    at.run()
    assert at.session_state["notes_page"]["proposals"]
    # another patient is loaded (as the Patient page does) while the proposals are on screen
    app = at.session_state["app"]
    other = Patient.model_validate({**app.patient.model_dump(mode="json"), "patient_id": "OTHER-002"})
    app.load(other, app.recommendation)
    at.run()
    assert not at.exception
    assert at.session_state["notes_page"]["proposals"] is None
    assert not [b for b in at.button if b.label.startswith("Apply")]
