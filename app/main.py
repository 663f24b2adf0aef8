"""Entry point of the physician's app: ``streamlit run app/main.py`` (or ``recommender app``).

Sign-in first (local accounts of ``recommender.store``; no default password anywhere), then the pages.
The research-use disclaimer is shown on every page.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.ui import disclaimer, engine, show_error

HERE = Path(__file__).resolve().parent

st.set_page_config(page_title="Treatment options (research use only)", page_icon=":material/genetics:", layout="wide")


def login() -> None:
    from genomics.errors import RecommenderError
    from recommender.store import authenticate

    st.title("Sign in")
    disclaimer()
    with st.form("login"):
        username = st.text_input("User name")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        try:
            st.session_state["user"] = authenticate(engine(), username.strip(), password)
        except RecommenderError as err:
            show_error(err)
        else:
            st.rerun()
    st.caption("Accounts are created with `recommender admin create-user` (or `create-demo`); passwords are "
               "generated and shown once.")


user = st.session_state.get("user")
if user is None:
    nav = st.navigation([st.Page(login, title="Sign in", icon=":material/login:")])
else:
    pages = [
        st.Page(str(HERE / "pages" / "patient.py"), title="Patient", icon=":material/person:", default=True),
        st.Page(str(HERE / "pages" / "compare.py"), title="Compare options", icon=":material/compare:"),
        st.Page(str(HERE / "pages" / "pharmacogenomics.py"), title="Pharmacogenomics", icon=":material/genetics:"),
        st.Page(str(HERE / "pages" / "review.py"), title="Review & sign-off", icon=":material/draw:"),
        st.Page(str(HERE / "pages" / "report.py"), title="Report", icon=":material/description:"),
        st.Page(str(HERE / "pages" / "cohort.py"), title="Cohort", icon=":material/groups:"),
    ]
    nav = st.navigation(pages)
    with st.sidebar:
        st.write(f"Signed in as **{user.username}** ({user.role})")
        patient = st.session_state.get("patient")
        if patient is not None:
            st.write(f"Patient: **{patient.patient_id}**")
        if st.button("Sign out"):
            st.session_state.clear()
            st.rerun()

nav.run()  # every page shows the disclaimer itself (app.ui.require_user)
