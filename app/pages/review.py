"""Review and sign-off: accept, modify or reject, confirm, store with the sha256 of the exact JSON shown."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.core import review_rows
from app.ui import current, engine, require_user, show_error

user = require_user("physician")
patient, rec, rec_json = current()
st.title("Review & sign-off")

from genomics.errors import RecommenderError
from recommender.store import json_sha256, list_reviews, record_recommendation, record_review

shown_sha = json_sha256(rec_json)
regimens = [o.regimen for o in rec.options]
st.write(f"Recommendation ranked first: **{rec.top.regimen if rec.top else '-'}**")
with st.expander("Exact recommendation shown (JSON)"):
    st.caption(f"sha256 {shown_sha}")
    st.code(rec_json[:20000], language="json")

pending = st.session_state.get("pending_review")
signed = st.session_state.get("last_review")
if signed and pending is None and not st.session_state.get("amending"):
    # signed: no form until the physician asks for an amendment (a second review never happens by accident)
    st.success(f"Review {signed} stored and signed.")
    if st.button("Amend: record another review of this recommendation"):
        st.session_state["amending"] = True
        st.rerun()
elif pending is None:
    decision = st.radio("Decision", ["accept", "modify", "reject"], horizontal=True, key="review_decision")
    chosen = st.selectbox("Option", regimens, key="review_option", disabled=decision == "reject")
    dose_note = st.text_input("Dose note (optional; for modify)", key="review_dose", disabled=decision != "modify")
    reason = st.text_area("Reason (required for modify and reject)", key="review_reason")
    if st.button("Continue to confirmation", type="primary"):
        if decision in ("modify", "reject") and not reason.strip():
            st.error("A modify or reject decision needs a reason.")
        else:
            st.session_state["pending_review"] = {
                "decision": decision, "chosen_option": None if decision == "reject" else chosen,
                "dose_note": dose_note if decision == "modify" else None, "reason": reason,
            }
            st.rerun()
else:
    st.info(f"Please confirm: **{pending['decision']}**"
            + (f" — option **{pending['chosen_option']}**" if pending["chosen_option"] else "")
            + (f" — dose note: {pending['dose_note']}" if pending["dose_note"] else "")
            + (f" — reason: {pending['reason']}" if pending["reason"] else "")
            + f". Signed as {user.username}; the record keeps the recommendation shown (sha256 {shown_sha[:12]}...).")
    c1, c2 = st.columns(2)
    if c1.button("Confirm and sign", type="primary"):
        try:
            stored = st.session_state.get("stored_rec")
            if stored is None or stored.json_sha256 != shown_sha:
                stored = record_recommendation(
                    engine(), mrn=patient.patient_id, recommendation=rec_json,
                    model_bundle_id=rec.provenance.model_bundle_id or "none",
                    model_bundle_hash=rec.provenance.model_bundle_sha256 or "none", actor=user.username)
                st.session_state["stored_rec"] = stored
            review = record_review(engine(), recommendation_id=stored.id, reviewer=user.username,
                                   shown_sha256=shown_sha, **pending)
        except RecommenderError as err:
            show_error(err)
        else:
            st.session_state["pending_review"] = None
            st.session_state["last_review"] = review.id
            st.session_state["amending"] = False
            st.rerun()
    if c2.button("Cancel"):
        st.session_state["pending_review"] = None
        st.rerun()

st.subheader("Past reviews of this patient")
reviews = list_reviews(engine(), mrn=patient.patient_id)
if reviews:
    st.dataframe(pd.DataFrame(review_rows(reviews)), hide_index=True, width="stretch")
else:
    st.caption("No reviews yet.")
