"""The app's session object (one typed state, the review state machine) and the signed session cookie."""

from __future__ import annotations

import os
import stat
from types import SimpleNamespace as NS

import pytest

from app.session import AppSession, ReviewDraft, ReviewFlow, ReviewPhase, ReviewStateError
from app.web_session import (
    SESSION_SECONDS,
    Handoffs,
    Revocations,
    SessionSecretError,
    claim_cookie_script,
    clear_cookie_script,
    issue,
    load_secret,
    verify,
)

KEY = b"k" * 32


def test_review_flow_allows_only_the_documented_transitions():
    flow = ReviewFlow()
    with pytest.raises(ReviewStateError):
        flow.sign("review", "stored")  # signing without confirming first
    with pytest.raises(ReviewStateError):
        flow.amend()
    flow.propose(ReviewDraft("accept", "FOLFOX"))
    assert flow.phase is ReviewPhase.CONFIRMING and flow.draft.chosen_option == "FOLFOX"
    with pytest.raises(ReviewStateError):
        flow.propose(ReviewDraft("reject", reason="x"))  # a second draft while one waits for confirmation
    flow.sign("review-1", "stored-1")
    assert (flow.phase, flow.signed, flow.draft) == (ReviewPhase.SIGNED, "review-1", None)
    flow.amend()
    assert flow.phase is ReviewPhase.EDITING and flow.amending and flow.signed == "review-1"


def test_loading_another_recommendation_restarts_the_review_and_drops_the_pdf():
    state = AppSession()
    rec = NS(to_json=lambda: '{"a": 1}')
    state.load("patient", rec)
    state.review.propose(ReviewDraft("accept", "X")).sign("r", "s")
    state.pdf_cache["k"] = b"%PDF"
    state.load("patient 2", rec)
    assert state.review.phase is ReviewPhase.EDITING and state.review.signed is None
    assert state.pdf_cache == {} and state.recommendation_json == '{"a": 1}'


def test_sign_out_forgets_everything_and_refuses_the_cookie_again():
    state = AppSession()
    state.sign_in(NS(username="dr", role="physician"), nonce="n1", cookie="t")
    state.load("patient", NS(to_json=lambda: "{}"))
    discarded = []
    state.uploads.vcf = NS(discard=lambda: discarded.append("vcf"))
    state.sign_out()
    assert state.user is None and state.patient is None and state.recommendation is None
    assert state.signed_out and discarded == ["vcf"]


def test_session_token_round_trip_tamper_expiry_and_revocation():
    token, claims = issue("dr.who", "physician", secret=KEY, now=1000.0)
    assert verify(token, secret=KEY, now=1001.0) == claims
    payload, sig = token.split(".")
    forged, _ = issue("dr.who", "admin", secret=b"attacker-key-000000000000000000000", now=1000.0)
    assert verify(f"{forged.split('.')[0]}.{sig}", secret=KEY, now=1001.0) is None  # role swapped
    assert verify(f"{payload}.{'0' * 64}", secret=KEY, now=1001.0) is None
    assert verify(token, secret=KEY, now=1000.0 + SESSION_SECONDS) is None  # expired
    for junk in (None, "", "a.b.c", "x" * 5000, "%%%.abc"):
        assert verify(junk, secret=KEY, now=1001.0) is None
    revoked = Revocations()
    revoked.revoke(claims.nonce)
    assert verify(token, secret=KEY, now=1001.0, revoked=revoked) is None


def test_session_secret_is_created_private_and_a_readable_one_is_refused(tmp_path):
    path = tmp_path / "home" / "app-session.key"
    key = load_secret(path)
    assert len(key) == 32 and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_secret(path) == key  # stable across restarts
    os.chmod(path, 0o644)
    with pytest.raises(SessionSecretError, match="readable or writable by others"):
        load_secret(path)


def test_cookie_scripts_never_carry_the_token_or_other_text():
    handoffs = Handoffs()
    token, _ = issue("dr", "physician", secret=KEY)
    code = handoffs.offer(token)
    script = claim_cookie_script(code)
    assert code in script and token not in script and "document.cookie" not in script
    assert "/gtr-session/claim" in script and "document.cookie" not in clear_cookie_script()
    for hostile in ('x";alert(1);"', "a b", "", "x" * 65, "é"):
        with pytest.raises(ValueError):
            claim_cookie_script(hostile)


def test_hand_over_code_is_good_once_and_only_until_it_expires():
    handoffs = Handoffs(lifetime=60)
    code = handoffs.offer("tok", now=1000.0)
    assert handoffs.claim(code, now=1001.0) == "tok"
    assert handoffs.claim(code, now=1001.0) is None  # spent
    late = handoffs.offer("tok2", now=1000.0)
    assert handoffs.claim(late, now=1060.0) is None  # expired
    for bad in (None, 3, "", "nope", "a" * 500, code + '"'):
        assert handoffs.claim(bad) is None


def test_hand_over_codes_are_bounded_oldest_dropped_first():
    handoffs = Handoffs(capacity=3)
    codes = [handoffs.offer(f"t{i}") for i in range(5)]
    assert [handoffs.claim(c) for c in codes] == [None, None, "t2", "t3", "t4"]


# ---------------------------------------------------------------------------------------------- in the app
def _cookie_app(monkeypatch, token):
    import app.ui as ui
    from app.web_session import COOKIE_NAME
    from tests.app.conftest import new_app

    monkeypatch.setattr(ui, "_request_cookies", lambda: {COOKIE_NAME: token} if token else {})
    return new_app().run()


def test_a_valid_session_cookie_signs_the_user_in_again_after_a_reload(db, monkeypatch):
    from app.web_session import issue

    token, _ = issue("dr.test", "physician", secret=load_secret())
    at = _cookie_app(monkeypatch, token)
    assert not at.exception, at.exception
    assert at.session_state["app"].user.username == "dr.test"
    assert "Load demo patient" in [b.label for b in at.button]


@pytest.mark.parametrize("case", ["forged", "role changed", "disabled", "expired", "unknown user", "signed out"])
def test_a_bad_session_cookie_signs_nobody_in(db, monkeypatch, case):
    import time

    from app.web_session import issue
    from recommender.store import set_active

    engine, _, _ = db
    key = load_secret()
    token = {
        "forged": lambda: issue("dr.test", "physician", secret=b"x" * 32)[0],
        "role changed": lambda: issue("dr.test", "admin", secret=key)[0],
        "disabled": lambda: issue("dr.test", "physician", secret=key)[0],
        "expired": lambda: issue("dr.test", "physician", secret=key, now=time.time() - SESSION_SECONDS - 5)[0],
        "unknown user": lambda: issue("nobody", "physician", secret=key)[0],
        "signed out": lambda: issue("dr.test", "physician", secret=key)[0],
    }[case]()
    if case == "disabled":
        set_active(engine, "dr.test", False)
    if case == "signed out":  # revoked by an earlier app process (the revocation is in the store, not in memory)
        from app.web_session import verify
        from recommender.store import SessionRevocations

        SessionRevocations(engine).revoke(verify(token, secret=key).nonce)
    at = _cookie_app(monkeypatch, token)
    assert not at.exception, at.exception
    assert at.session_state["app"].user is None
    assert [t.value for t in at.title] == ["Sign in"]
