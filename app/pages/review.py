"""Review and sign-off: accept, modify or reject, confirm, sign with user name and password (an electronic
signature of two components), stored with the sha256 of the exact JSON shown and audited.

The steps are the state machine of :class:`app.session.ReviewFlow` (editing -> confirming -> signed ->
amending); nothing is stored before the signature."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.core import review_rows
from app.session import ReviewDraft, ReviewPhase
from app.ui import app_state, current, engine, require_user, show_error

user = require_user("physician")
patient, rec, rec_json = current()
st.title("Review & sign-off")

from genomics.errors import RecommenderError
from recommender.escaping import escape_markdown
from recommender.store import json_sha256, list_reviews, record_recommendation, record_review

APP = app_state()
flow = APP.review
shown_sha = json_sha256(rec_json)
regimens = [o.regimen for o in rec.options]
st.write(f"Recommendation ranked first: **{escape_markdown(rec.top.regimen) if rec.top else '-'}**")
with st.expander("Exact recommendation shown (JSON)"):
    st.caption(f"sha256 {shown_sha}")
    st.code(rec_json[:20000], language="json")

if flow.phase is ReviewPhase.SIGNED:
    # signed: no form until the physician asks for an amendment (a second review never happens by accident)
    r = flow.signed
    st.success(f"Review {r.id} stored and signed by {escape_markdown(r.reviewer)} at {r.reviewed_at:%Y-%m-%d %H:%M} UTC "
               f"({r.decision}); version signed: sha256 {r.shown_sha256[:12]}… — it is in the Report.")
    if st.button("Amend: record another review of this recommendation"):
        flow.amend()
        st.rerun()
elif flow.phase is ReviewPhase.EDITING:
    if flow.amending:
        st.info("Amending: this records a second review; the first one stays in the record.")
    decision = st.radio("Decision", ["accept", "modify", "reject"], horizontal=True, key="review_decision")
    chosen = st.selectbox("Option", regimens, key="review_option", disabled=decision == "reject")
    dose_note = st.text_input("Dose note (optional; for modify)", key="review_dose", disabled=decision != "modify")
    reason = st.text_area("Reason (required for modify and reject)", key="review_reason")
    if st.button("Continue to confirmation", type="primary"):
        if decision in ("modify", "reject") and not reason.strip():
            st.error("A modify or reject decision needs a reason.")
        else:
            flow.propose(ReviewDraft(decision=decision, chosen_option=None if decision == "reject" else chosen,
                                     dose_note=dose_note if decision == "modify" else None, reason=reason))
            st.rerun()
else:  # confirming
    d = flow.draft
    st.info(f"Please confirm the decision below. The record keeps the recommendation shown "
            f"(sha256 {shown_sha[:12]}...).")
    st.text("\n".join([f"Decision: {d.decision}"] + ([f"Option: {d.chosen_option}"] if d.chosen_option else [])
                      + ([f"Dose note: {d.dose_note}"] if d.dose_note else [])
                      + ([f"Reason: {d.reason}"] if d.reason else [])))
    st.markdown("**Electronic signature** — type your user name and password to sign.")
    with st.form("signature", clear_on_submit=True):
        c = st.columns(2)
        typed_user = c[0].text_input("Signing as (user name)", key="sign_username")
        typed_password = c[1].text_input("Password", type="password", key="sign_password")
        sign = st.form_submit_button("Confirm and sign", type="primary")
    if sign:
        if typed_user.strip() != user.username:
            st.error("The user name typed is not the signed-in account: sign with your own name and password.")
        else:
            try:
                stored = flow.stored_recommendation
                if stored is None or stored.json_sha256 != shown_sha:
                    stored = record_recommendation(
                        engine(), mrn=patient.patient_id, recommendation=rec_json,
                        model_bundle_id=rec.provenance.model_bundle_id or "none",
                        model_bundle_hash=rec.provenance.model_bundle_sha256 or "none", actor=user.username)
                    flow.stored_recommendation = stored
                review = record_review(engine(), recommendation_id=stored.id, reviewer=user.username,
                                       shown_sha256=shown_sha, signature_password=typed_password,
                                       **d.as_kwargs())
            except RecommenderError as err:
                show_error(err)
            else:
                flow.sign(review, stored)
                st.rerun()
    if st.button("Cancel"):
        flow.cancel()
        st.rerun()

st.subheader("Past reviews of this patient")
reviews = list_reviews(engine(), mrn=patient.patient_id)
if reviews:
    st.dataframe(pd.DataFrame(review_rows(reviews)), hide_index=True, width="stretch")
else:
    st.caption("No reviews yet.")
