"""Streamlit glue shared by the pages: cached resources, the session object, sign-in guard, disclaimer.

The session is one :class:`app.session.AppSession` under ``st.session_state["app"]`` (:func:`app_state`);
the signed session cookie of :mod:`app.web_session` signs a user in again after a page reload.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.core import database_url
from app.session import SESSION_KEY, AppSession

__all__ = ["app_state", "current", "disclaimer", "engine", "hand_cookie", "require_user", "restore_session", "revoke",
           "score", "scoring_context", "session_secret", "show_error", "start_session"]


@st.cache_resource(show_spinner=False)
def _engine(url: str | None) -> Any:
    from recommender.store import open_database

    return open_database(url)


def engine() -> Any:
    """The database engine (opened and upgraded once per process and URL)."""
    return _engine(database_url())


@st.cache_resource(show_spinner="Loading the model bundle...")
def scoring_context() -> Any:
    """Model bundle and tables loaded once per process, never per rerun."""
    from recommender.scoring import ScoringContext

    return ScoringContext()


@st.cache_resource(show_spinner="Scoring the demo patient...")
def _demo_recommendation() -> Any:
    from recommender.commands.score import DEMO_PATIENT
    from recommender.scoring import score_patient

    return score_patient(DEMO_PATIENT, context=scoring_context())


def score(patient: Any = None, *, demo: bool = False, germline_vcf: Any = None, sample: str | None = None,
          outside_calls: Any = None, tumour: Any = None, er_status: str | None = None) -> Any:
    """A Recommendation for ``patient`` (or the demo patient, cached per process).

    ``germline_vcf`` / ``sample`` / ``outside_calls``: files on the server (uploads staged by ``app.vcf_upload``
    and ``app.uploads``), passed to ``score_patient`` like the CLI's ``--vcf`` / ``--sample`` /
    ``--outside-calls``; ``tumour``: the ``TumourProfile`` read from an uploaded tumour VCF/MAF (``--tumour``);
    ``er_status``: one of :data:`ER_STATUS_CHOICES` (breast cancer: decides endocrine-therapy eligibility).
    """
    if demo:
        return _demo_recommendation()
    from recommender.requests import PatientInputs
    from recommender.scoring import score_patient

    # an uploaded record's file paths (germline VCF) cannot be resolved on the server: not followed
    inputs = PatientInputs(allow_record_paths=False, sample=sample, tumour=tumour, covariates=er_covariates(er_status),
                           germline_vcf=None if germline_vcf is None else str(germline_vcf),
                           outside_calls=None if outside_calls is None else str(outside_calls))
    return score_patient(patient, inputs=inputs, context=scoring_context())


#: Choices of the ER-status field (breast cancer); "not given" leaves endocrine therapy "not established".
ER_STATUS_CHOICES: tuple[str, ...] = ("not given", "positive", "negative")


def er_covariates(er_status: str | None) -> dict[str, bool] | None:
    """The ``er_positive`` covariate of an ER-status choice (``None`` when not given)."""
    if er_status in (None, "not given"):
        return None
    if er_status not in ER_STATUS_CHOICES:
        raise ValueError(f"unknown ER status {er_status!r}")
    return {"er_positive": er_status == "positive"}


def show_error(err: BaseException) -> None:
    """One-line message of a project error (never a library traceback)."""
    from recommender.escaping import escape_markdown

    one_line = getattr(err, "one_line", None)  # messages may quote user values: shown as text
    st.error(escape_markdown(one_line() if callable(one_line) else f"{type(err).__name__}: {err}"))


def disclaimer() -> None:
    from recommender.recommendation import DISCLAIMER

    st.caption(f":material/warning: {DISCLAIMER}")


def app_state() -> AppSession:
    """The session's one :class:`~app.session.AppSession` (created on first use)."""
    state = st.session_state.get(SESSION_KEY)
    if not isinstance(state, AppSession):
        state = AppSession()
        st.session_state[SESSION_KEY] = state
    return state


def _revocations() -> Any:
    """Signed-out sessions, in the store: shared by every app process and kept across restarts."""
    from recommender.store import SessionRevocations

    return SessionRevocations(engine())


def session_secret() -> bytes | None:
    """The server secret of the session cookies (``None`` with the reason shown once, when unusable)."""
    from app.web_session import SessionSecretError, load_secret

    try:
        return load_secret()
    except SessionSecretError as err:
        show_error(err)
        st.caption("Sign-in works, but a page reload signs you out until the session secret is fixed.")
        return None


def start_session(user: Any, *, sso: bool = False) -> None:
    """Sign ``user`` in for this browser session and issue the signed session cookie (handed over next run)."""
    from app.web_session import issue

    secret = session_secret()
    token = claims = None
    if secret is not None:
        token, claims = issue(user.username, user.role, secret=secret, sso=sso)
    app_state().sign_in(user, sso=sso, nonce=None if claims is None else claims.nonce, cookie=token)


def hand_cookie() -> None:
    """Give the browser a freshly issued session cookie (runs once): the page posts a one-time code and the
    server sets the HttpOnly cookie (:mod:`app.session_routes`); the token never reaches the page."""
    from app.web_session import HANDOFFS, claim_cookie_script

    state = app_state()
    if state.cookie_pending:
        st.html(claim_cookie_script(HANDOFFS.offer(state.cookie_pending)), unsafe_allow_javascript=True)
        state.cookie_pending = None


def _request_cookies() -> Any:
    """The cookies of the websocket's opening request (``st.context.cookies``)."""
    return st.context.cookies


def restore_session() -> None:
    """Sign the user in again from a valid session cookie (after a reload); drop an invalid one."""
    from app.web_session import COOKIE_NAME, clear_cookie_script, verify

    state = app_state()
    token = _request_cookies().get(COOKIE_NAME)
    if state.signed_in or not token:
        return
    secret = None if state.signed_out else session_secret()
    claims = None if secret is None else verify(token, secret=secret, revoked=_revocations())
    user = None
    if claims is not None:
        from recommender.store import get_user

        user = get_user(engine(), claims.username)
        if user is None or not user.active or user.role != claims.role:
            user = None
    if user is None:
        st.html(clear_cookie_script(), unsafe_allow_javascript=True)
        return
    state.sign_in(user, sso=claims.sso, nonce=claims.nonce)


def revoke() -> None:
    """Sign out: the session cookie is revoked (and removed from the browser), the session forgotten."""
    from app.web_session import clear_cookie_script

    state = app_state()
    _revocations().revoke(state.session_nonce)
    state.sign_out()
    st.session_state.clear()  # widget values too (a form typed by the previous user)
    st.session_state[SESSION_KEY] = state
    st.html(clear_cookie_script(), unsafe_allow_javascript=True)


def require_user(*roles: str) -> Any:
    """The signed-in user (stops the page with a message if absent or lacking a role); shows the disclaimer."""
    disclaimer()
    user = app_state().user
    if user is None:
        st.warning("Sign in first.")
        st.stop()
    if roles and user.role not in roles:
        st.error(f"Your role ({user.role}) may not use this page; it needs {' or '.join(roles)}.")
        st.stop()
    return user


def current() -> tuple[Any, Any, str | None]:
    """``(patient, recommendation, exact JSON shown)`` of the session, or stops with a hint."""
    state = app_state()
    if state.recommendation is None:
        st.info("No patient loaded yet: open **Patient** and load the demo patient or a record.")
        st.stop()
    return state.patient, state.recommendation, state.recommendation_json
