"""Streamlit glue shared by the pages: cached resources, session state, sign-in guard, disclaimer."""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.core import database_url

__all__ = ["current", "disclaimer", "engine", "require_user", "score", "scoring_context", "show_error"]


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


def score(patient: Any = None, *, demo: bool = False, germline_vcf: Any = None, sample: str | None = None) -> Any:
    """A Recommendation for ``patient`` (or the demo patient, cached per process).

    ``germline_vcf`` / ``sample``: a VCF on the server (an upload staged by ``app.vcf_upload``) and the
    sample to call, passed to ``score_patient`` like the CLI's ``--vcf`` / ``--sample``.
    """
    if demo:
        return _demo_recommendation()
    from recommender.scoring import score_patient

    # an uploaded record's file paths (germline VCF) cannot be resolved on the server: not followed
    return score_patient(patient, context=scoring_context(), allow_record_paths=False,
                         germline_vcf=None if germline_vcf is None else str(germline_vcf), sample=sample)


def show_error(err: BaseException) -> None:
    """One-line message of a project error (never a library traceback)."""
    one_line = getattr(err, "one_line", None)
    st.error(one_line() if callable(one_line) else f"{type(err).__name__}: {err}")


def disclaimer() -> None:
    from recommender.recommendation import DISCLAIMER

    st.caption(f":material/warning: {DISCLAIMER}")


def require_user(*roles: str) -> Any:
    """The signed-in user (stops the page with a message if absent or lacking a role); shows the disclaimer."""
    disclaimer()
    user = st.session_state.get("user")
    if user is None:
        st.warning("Sign in first.")
        st.stop()
    if roles and user.role not in roles:
        st.error(f"Your role ({user.role}) may not use this page; it needs {' or '.join(roles)}.")
        st.stop()
    return user


def current() -> tuple[Any, Any, str | None]:
    """``(patient, recommendation, exact JSON shown)`` of the session, or stops with a hint."""
    rec = st.session_state.get("rec")
    if rec is None:
        st.info("No patient loaded yet: open **Patient** and load the demo patient or a record.")
        st.stop()
    return st.session_state.get("patient"), rec, st.session_state.get("rec_json")
