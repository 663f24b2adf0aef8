"""Accounts & audit page (admins): the user accounts and a check of the hash-chained audit log. No patient data."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.ui import engine, require_user

require_user("admin")
st.title("Accounts & audit")

from recommender.store import list_users, verify_chain

users = list_users(engine())
st.subheader(f"Accounts ({len(users)})")
st.dataframe(pd.DataFrame([{k: v for k, v in u.to_dict().items() if k != "id"} for u in users]),
             hide_index=True, width="stretch")
st.caption("Create accounts with `recommender admin create-user NAME --role physician|researcher|admin` "
           "(the password is generated and shown once); for single sign-on use the person's e-mail address "
           "as the name.")

st.subheader("Audit log")
if st.button("Verify the audit chain", type="primary"):
    report = verify_chain(engine())
    if report.ok:
        st.success(f"Audit chain intact: {report.entries_checked} entries checked up to #{report.last_seq}; "
                   f"head hash {report.head_hash[:16]}...")
    else:
        st.error(f"Audit chain BROKEN: {report.broken.describe()} — the log was altered outside the product. "
                 "Keep the database as it is and compare it with a backup.")
