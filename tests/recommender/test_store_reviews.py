"""Recommendations and signed reviews; pseudonymous patients; no patient identifier in logs or audit."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select, text

from recommender.store import (
    ImmutableRecordError,
    PermissionDeniedError,
    StoreError,
    StoreUsageError,
    create_user,
    get_recommendation,
    json_sha256,
    list_recommendations,
    list_reviews,
    make_engine,
    pseudonymise,
    read_session,
    record_recommendation,
    record_review,
    upgrade_database,
    verify_chain,
    verify_records,
    write_session,
)
from recommender.store.models import Review
from tests.recommender import _store_support

engine = _store_support.engine
fast_hashing = _store_support.fast_hashing
store_session_cleanup = _store_support.store_session_cleanup
tamper = _store_support.tamper

MRN = "MRN-0042-7731"
REC_TEXT = '{"schema_version": "recommendation/1.0",  "provenance": {"model_bundle_id": "default-2026.11", ' \
           '"model_bundle_hash": "9f2c"}, "options": [{"name": "FOLFOX"}, {"name": "CAPOX"}]}'


@pytest.fixture
def doctor(engine):
    create_user(engine, "dr.grey", "physician")
    return "dr.grey"


def _rec(engine, mrn=MRN, actor="dr.grey"):
    return record_recommendation(engine, mrn=mrn, recommendation=REC_TEXT, actor=actor)


def test_recommendation_is_stored_exactly_with_bundle_provenance(engine, doctor):
    stored = _rec(engine)
    again = get_recommendation(engine, stored.id)
    assert again.json_text == REC_TEXT  # byte for byte, odd spacing included
    assert again.json_sha256 == json_sha256(REC_TEXT)
    assert (again.model_bundle_id, again.model_bundle_hash, again.schema_version) == (
        "default-2026.11", "9f2c", "recommendation/1.0")
    assert again.created_by == "dr.grey"


def test_recommendation_without_bundle_provenance_is_refused(engine):
    with pytest.raises(StoreUsageError, match="model bundle"):
        record_recommendation(engine, mrn=MRN, recommendation={"options": []})
    with pytest.raises(StoreUsageError, match="valid JSON"):
        record_recommendation(engine, mrn=MRN, recommendation="{not json", model_bundle_id="b", model_bundle_hash="h")


def test_review_records_who_when_what_was_shown_and_decision(engine, doctor):
    rec = _rec(engine)
    review = record_review(engine, recommendation_id=rec.id, reviewer=doctor, decision="modify",
                           shown_sha256=rec.json_sha256, chosen_option="CAPOX", dose_note="capecitabine 75%",
                           reason="DPYD intermediate metaboliser")
    assert (review.reviewer, review.decision, review.chosen_option) == ("dr.grey", "modify", "CAPOX")
    assert review.model_bundle_id == "default-2026.11" and review.shown_sha256 == rec.json_sha256
    assert review.reviewed_at.tzinfo is not None
    listed = list_reviews(engine, mrn=MRN)
    assert [r.id for r in listed] == [review.id]
    assert listed[0].to_dict()["dose_note"] == "capecitabine 75%"
    assert review.audit_hash and verify_chain(engine).ok and verify_records(engine) is None


def test_review_rules(engine, doctor):
    rec = _rec(engine)
    base = {"recommendation_id": rec.id, "reviewer": doctor, "shown_sha256": rec.json_sha256}
    with pytest.raises(StoreUsageError, match="unknown decision"):
        record_review(engine, decision="maybe", **base)
    with pytest.raises(StoreUsageError, match="reason"):
        record_review(engine, decision="reject", **base)
    with pytest.raises(StoreUsageError, match="option"):
        record_review(engine, decision="modify", reason="x", **base)
    with pytest.raises(StoreError, match="shown"):
        record_review(engine, decision="accept", **{**base, "shown_sha256": "0" * 64})
    with pytest.raises(StoreError, match="no recommendation"):
        record_review(engine, decision="accept", **{**base, "recommendation_id": 999})
    create_user(engine, "res", "researcher")
    with pytest.raises(PermissionDeniedError):
        record_review(engine, decision="accept", **{**base, "reviewer": "res"})
    assert list_reviews(engine) == []


def test_reviews_are_immutable_through_the_orm(engine, doctor):
    rec = _rec(engine)
    record_review(engine, recommendation_id=rec.id, reviewer=doctor, decision="accept", shown_sha256=rec.json_sha256)
    with pytest.raises(ImmutableRecordError), write_session(engine) as s:
        s.execute(select(Review)).scalar_one().decision = "reject"
    with pytest.raises(ImmutableRecordError), write_session(engine) as s:
        s.execute(select(Review)).scalar_one().audit_hash = "f" * 64  # re-signing is a change too
    with pytest.raises(ImmutableRecordError), write_session(engine) as s:
        s.delete(s.execute(select(Review)).scalar_one())
    assert verify_records(engine) is None


def test_altered_review_is_found_by_verify_records(engine, doctor):
    rec = _rec(engine)
    first = record_review(engine, recommendation_id=rec.id, reviewer=doctor, decision="accept",
                          shown_sha256=rec.json_sha256, chosen_option="FOLFOX")
    record_review(engine, recommendation_id=rec.id, reviewer=doctor, decision="reject",
                  shown_sha256=rec.json_sha256, reason="patient declined")
    assert verify_records(engine) is None
    tamper(engine, "UPDATE reviews SET chosen_option = 'CAPOX' WHERE id = :i", {"i": first.id})
    problem = verify_records(engine)
    assert problem is not None and (problem.table, problem.id) == ("reviews", first.id)
    assert verify_chain(engine).ok  # the log itself is intact; the record drifted from it


def test_patients_are_pseudonymous_and_stable(engine, doctor):
    a = _rec(engine, mrn=MRN)
    b = _rec(engine, mrn=f"  {MRN} ")
    c = _rec(engine, mrn="MRN-other")
    assert a.patient_pseudonym == b.patient_pseudonym != c.patient_pseudonym
    assert len(a.patient_pseudonym) == 64 and MRN not in a.patient_pseudonym
    assert [r.id for r in list_recommendations(engine, mrn=MRN)] == [b.id, a.id]
    assert list_reviews(engine, mrn="never-seen") == []


def test_pseudonyms_differ_between_installations(tmp_path):
    pseudonyms = []
    for name in ("one", "two"):
        eng = make_engine(tmp_path / f"{name}.db")
        upgrade_database(eng)
        with read_session(eng) as s:
            pseudonyms.append(pseudonymise(s, MRN))
        eng.dispose()
    assert pseudonyms[0] != pseudonyms[1]


def test_no_patient_identifier_in_logs_audit_or_patient_table(engine, doctor, caplog):
    """Regression guard: the MRN never reaches a log record, an audit entry or the patients table."""
    caplog.set_level(logging.DEBUG)  # every logger, SQLAlchemy's statement + parameter logging included
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
    try:
        rec = _rec(engine)
        record_review(engine, recommendation_id=rec.id, reviewer=doctor, decision="reject",
                      shown_sha256=rec.json_sha256, reason="prefers observation")
        list_reviews(engine, mrn=MRN)
        list_recommendations(engine, mrn=MRN)
        with pytest.raises(StoreError) as info:
            record_review(engine, recommendation_id=rec.id, reviewer=doctor, decision="accept",
                          shown_sha256="bad")
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert caplog.records, "logging was not captured: the check would be vacuous"
    assert any("INSERT INTO patients" in r.getMessage() for r in caplog.records)
    logged = "\n".join(r.getMessage() + " " + repr(r.args) for r in caplog.records)
    assert MRN not in logged and MRN.lower() not in logged.lower()
    assert MRN not in info.value.one_line()
    with read_session(engine) as s:
        audit_text = json.dumps([list(map(str, r)) for r in s.execute(text("SELECT * FROM audit_log")).all()])
        patient_text = json.dumps([list(map(str, r)) for r in s.execute(text("SELECT * FROM patients")).all()])
    assert MRN not in audit_text and MRN not in patient_text
    assert rec.patient_pseudonym in audit_text  # the audit log refers to the pseudonym instead


def test_altered_recommendation_json_is_found_by_verify_records(engine, doctor):
    rec = _rec(engine)
    assert verify_records(engine) is None
    tamper(engine, "UPDATE recommendations SET json_text = :t WHERE id = :i",
           {"t": REC_TEXT.replace("FOLFOX", "FOLFIRI"), "i": rec.id})
    problem = verify_records(engine)
    assert problem is not None and (problem.table, problem.id) == ("recommendations", rec.id)
    assert "altered" in problem.describe()
