"""The app's ASGI entry point: ``streamlit run app/server.py`` (what ``recommender app`` runs).

Streamlit serves :mod:`app.main` with two extra routes (:mod:`app.session_routes`) that set and remove the
HttpOnly session cookie. Started as ``streamlit run app/main.py`` instead, the app works but a page reload
signs the user out (the cookie is never set).
"""

from pathlib import Path

import streamlit as st

from app.session_routes import session_routes

app = st.App(Path(__file__).resolve().parent / "main.py", routes=session_routes())
