"""The physician's app (its pages): ``recommender app`` serves it through :mod:`app.server`.

Sign-in first (local accounts of ``recommender.store``, or OpenID Connect single sign-on through
``st.login`` when ``[auth]`` is configured in ``.streamlit/secrets.toml``; no default password anywhere), then
the pages the user's role may open (:mod:`app.access`).
The research-use disclaimer is shown on every page.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.access import oidc_providers, pages_for
from app.ui import (
    app_state,
    disclaimer,
    engine,
    hand_cookie,
    restore_session,
    revoke,
    show_error,
    start_session,
)

HERE = Path(__file__).resolve().parent

# the favicon ships with the app: a ":material/...:" icon would make the browser fetch it from a font CDN
st.set_page_config(page_title="Treatment options (research use only)", page_icon=str(HERE / "assets" / "favicon.png"),
                   layout="wide")


#: Title and icon of each page (stems as in app.access.PAGE_ROLES).
PAGE_INFO = {
    "patient": ("Patient", ":material/person:"),
    "compare": ("Compare options", ":material/compare:"),
    "pharmacogenomics": ("Pharmacogenomics", ":material/genetics:"),
    "notes": ("Clinical notes", ":material/edit_note:"),
    "evidence": ("Evidence graph", ":material/hub:"),
    "review": ("Review & sign-off", ":material/draw:"),
    "report": ("Report", ":material/description:"),
    "cohort": ("Cohort", ":material/groups:"),
    "admin": ("Accounts & audit", ":material/admin_panel_settings:"),
}


def _auth_settings() -> dict:
    """The ``[auth]`` section of Streamlit's secrets (empty when there is no secrets file)."""
    try:
        return dict(st.secrets.get("auth", {}))
    except Exception:
        return {}


def _single_sign_on(providers: list) -> None:
    """After the OIDC provider identified the person, map the e-mail to a local account (role from there)."""
    from genomics.errors import RecommenderError
    from recommender.store import authenticate_identity

    if not providers or not st.user.get("is_logged_in", False) or app_state().signed_in:
        return
    try:
        start_session(authenticate_identity(engine(), st.user.get("email"), issuer=st.user.get("iss")), sso=True)
    except RecommenderError as err:
        show_error(err)
        if st.button("Sign out of single sign-on"):
            st.logout()
        st.stop()


def login() -> None:
    from genomics.errors import RecommenderError
    from recommender.store import authenticate

    st.title("Sign in")
    disclaimer()
    for provider in PROVIDERS:
        if st.button(f"Sign in with {provider or 'single sign-on'}", type="primary", key=f"sso-{provider}"):
            st.login(provider) if provider else st.login()
    with st.form("login"):
        username = st.text_input("User name")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        try:
            client = getattr(st.context, "ip_address", None)  # per-client back-off (None in tests/behind no proxy)
            start_session(authenticate(engine(), username.strip(), password, client=client))
        except RecommenderError as err:
            show_error(err)
        else:
            st.rerun()
    st.caption("Accounts are created with `recommender admin create-user` (or `create-demo`); passwords are "
               "generated and shown once." + (" Single sign-on maps your e-mail address to such an account."
                                              if PROVIDERS else ""))


PROVIDERS = oidc_providers(_auth_settings())
_single_sign_on(PROVIDERS)
restore_session()  # a reload: the signed session cookie signs the user in again
user = app_state().user
if user is None:
    nav = st.navigation([st.Page(login, title="Sign in", icon=":material/login:")])
else:
    pages = []
    for i, stem in enumerate(pages_for(user.role)):
        title, icon = PAGE_INFO[stem]
        pages.append(st.Page(str(HERE / "pages" / f"{stem}.py"), title=title, icon=icon, default=i == 0))
    nav = st.navigation(pages)
    with st.sidebar:
        from recommender.escaping import escape_markdown

        st.markdown(f"Signed in as **{escape_markdown(user.username)}** ({escape_markdown(user.role)})")
        patient_slot = st.empty()  # filled after the page ran, so a patient loaded in this run shows at once
        if st.button("Sign out"):
            sso = app_state().sso
            revoke()
            if sso:
                st.logout()
            st.rerun()
    hand_cookie()

nav.run()  # every page shows the disclaimer itself (app.ui.require_user)
if user is not None and app_state().patient is not None:
    patient_slot.text(f"Patient: {app_state().patient.patient_id}")
