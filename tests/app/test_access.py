"""Roles decide which pages exist for a user; single sign-on maps an OIDC identity to a local account."""

from __future__ import annotations


from app.access import PAGE_ROLES, oidc_providers, pages_for
from tests.app.conftest import assert_page_refused, button, new_app, sign_in, texts

SSO = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x" * 32,
       "client_id": "recommender", "client_secret": "s", "server_metadata_url": "https://idp.example.org/.well-known"}


def test_every_role_has_pages_and_only_physicians_sign_reviews():
    from recommender.store import ROLES

    assert set(PAGE_ROLES) == {"patient", "compare", "pharmacogenomics", "notes", "evidence", "review", "report",
                               "cohort", "admin"}
    for role in ROLES:
        assert pages_for(role), role
    assert [p for p in PAGE_ROLES if "physician" in PAGE_ROLES[p]] == pages_for("physician")
    assert "review" not in pages_for("researcher") and pages_for("admin") == ["admin"]


def test_oidc_providers_need_the_shared_settings_and_a_complete_provider():
    assert oidc_providers(None) == [] and oidc_providers({}) == []
    assert oidc_providers(SSO) == [None]
    assert oidc_providers({k: v for k, v in SSO.items() if k != "cookie_secret"}) == []
    named = {"redirect_uri": SSO["redirect_uri"], "cookie_secret": "c",
             "hospital": {k: SSO[k] for k in ("client_id", "client_secret", "server_metadata_url")},
             "broken": {"client_id": "only"}}
    assert oidc_providers(named) == ["hospital"]


def test_admin_sees_accounts_and_audit_but_no_patient_page(db):
    from recommender.store import create_user

    engine, _, _ = db
    _, pw = create_user(engine, "admin.test", "admin")
    at = sign_in(new_app(), "admin.test", pw)
    assert not at.exception, at.exception
    assert at.title[0].value == "Accounts & audit"
    users = at.dataframe[0].value
    assert {"dr.test", "res.test", "admin.test"} <= set(users["username"])
    assert "password_hash" not in users.columns
    assert "Load demo patient" not in [b.label for b in at.button]
    button(at, "Verify the audit chain").click()
    at.run()
    assert any("Audit chain intact" in s.value for s in at.success)


def test_researcher_lands_on_patient_page_and_has_no_review_page(db):
    _, _, users = db
    at = sign_in(new_app(), *users["researcher"])
    assert at.title[0].value == "Patient"
    assert_page_refused(at, "pages/review.py")
    assert "Confirm and sign" not in [b.label for b in at.button]
    at.switch_page("pages/cohort.py").run()  # a page the role has is reachable
    assert not at.exception and at.title[0].value == "Cohort"


def test_sign_in_page_offers_single_sign_on_when_configured(db):
    at = new_app()
    at.secrets["auth"] = SSO
    at.run()
    assert not at.exception, at.exception
    assert "Sign in with single sign-on" in [b.label for b in at.button]
    plain = new_app().run()
    assert "Sign in with single sign-on" not in [b.label for b in plain.button]


def test_single_sign_on_identity_becomes_the_matching_local_account(db):
    from recommender.store import create_user

    engine, _, _ = db
    create_user(engine, "dr.sso@example.org", "physician")
    at = new_app()
    at.secrets["auth"] = SSO
    at.user = {"is_logged_in": True, "email": "Dr.SSO@example.org", "iss": "https://idp.example.org"}
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["app"].user.username == "dr.sso@example.org"
    assert at.title[0].value == "Patient"


def test_single_sign_on_without_an_account_is_refused_with_the_fix(db):
    at = new_app()
    at.secrets["auth"] = SSO
    at.user = {"is_logged_in": True, "email": "stranger@example.org"}
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["app"].user is None
    assert "create-user" in texts(at) or any("create-user" in e.value for e in at.error)
    assert "Load demo patient" not in [b.label for b in at.button]
