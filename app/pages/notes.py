"""Clinical notes page: paste or upload a note, see the values read from it highlighted in the (masked) note,
accept / edit / replace / reject each one; only accepted values enter the record (audited), then the patient is
scored again. Conflicts with the record are shown, never overwritten without 'replace'."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import streamlit as st

from app.ui import app_state, engine, require_user, score, show_error
from recommender.escaping import escape_html, escape_markdown

user = require_user("physician", "researcher")
APP = app_state()
st.title("Clinical notes")
st.caption("Values are read offline (medspaCy with ConText). Identifiers are masked before anything is shown or "
           "stored; negated, uncertain, family-history and planned mentions are listed apart and never proposed. "
           "Nothing enters the record until you accept it.")

if APP.patient is None:
    st.info("Load a patient first (**Patient** page): proposals are compared with that record.")
    st.stop()

from genomics.errors import RecommenderError
from recommender.notes import apply_decisions, extract_note, propose, read_note_bytes

_STATUS_COLOUR = {"new": "#d7f0d2", "same": "#e6e6e6", "conflict": "#ffe0b2"}
NOTES_KEY = "notes_page"
state = st.session_state.setdefault(NOTES_KEY, {"extraction": None, "proposals": None, "record": None})
# Proposals belong to the record they were compared with: another patient loaded since (or the same patient
# changed elsewhere) drops them, so "Apply" can never write one patient's note into another's record.
if state["record"] is not None and state["record"] != APP.patient.model_dump_json():
    state["extraction"], state["proposals"], state["record"] = None, None, None

pasted = st.text_area("Paste a note", height=180, key="note_text",
                      help="Clinic letter, discharge summary, medication list. Not stored: only the masked text "
                           "and the decisions are kept.")
upload = st.file_uploader("…or upload one (.txt, .pdf with a text layer, FHIR DocumentReference/Bundle .json)",
                          type=["txt", "pdf", "json"], key="note_file")
if st.button("Read the note", type="primary", disabled=not (pasted.strip() or upload)):
    try:
        if upload is not None:
            notes = read_note_bytes(upload.getvalue(), name="uploaded note")
            text = "\n\n".join(n.text for n in notes)
        else:
            text = pasted
        extraction = extract_note(text)
        state["extraction"], state["proposals"] = extraction, propose(APP.patient, extraction)
        state["record"] = APP.patient.model_dump_json()
    except RecommenderError as err:
        show_error(err)

extraction, proposals = state["extraction"], state["proposals"]
if extraction is None:
    st.stop()

masked = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in extraction.identifiers_masked.items()) or "none found"
st.caption(f"Identifiers masked: {escape_markdown(masked)}.")

left, right = st.columns([1, 1])
with left:
    st.subheader("The note (masked)")
    spans = sorted(((p.value.start, p.value.end, _STATUS_COLOUR[p.status]) for p in proposals), key=lambda s: s[0])
    spans += sorted(((v.start, v.end, "#f5f5f5") for v in extraction.excluded), key=lambda s: s[0])
    spans.sort(key=lambda s: s[0])
    text, html, pos = extraction.masked_text, [], 0
    for start, end, colour in spans:
        if start < pos:
            continue
        html.append(escape_html(text[pos:start]))
        html.append(f'<mark style="background:{colour}">{escape_html(text[start:end])}</mark>')
        pos = end
    html.append(escape_html(text[pos:]))
    # st.html, not st.markdown: the note's text is escaped HTML and is never parsed as Markdown (a blank line in a
    # note would otherwise end the HTML block and let "![x](http://...)" after it render as an image)
    st.html('<div style="white-space:pre-wrap;font-family:monospace;font-size:0.85em">' + "".join(html) + "</div>")
    st.caption("Green: new value; grey: already in the record; orange: conflicts with the record; light: found but "
               "not proposed (see below).")

decisions: dict[str, object] = {}
with right:
    st.subheader("Proposed values")
    can_accept = user.role == "physician"
    if not proposals:
        st.write("Nothing to propose from this note.")
    for p in proposals:
        v = p.value
        label = f"**{escape_markdown(v.field.replace('_', ' '))}**: {escape_markdown(v.display)}"
        if p.status == "conflict":
            label += f" — record says {escape_markdown(p.current)}"
        elif p.status == "same":
            label += " — already in the record"
        st.markdown(label)
        st.caption(f"confidence {v.confidence:.2f} · \u201c{escape_markdown(v.sentence)}\u201d")
        if p.status == "same" or not can_accept:
            continue
        options = ["reject", "replace", "edit"] if p.status == "conflict" else ["accept", "reject", "edit"]
        # no default: every value needs the physician's own decision (undecided values stay out of the record)
        choice = st.radio("decision", options, index=None, horizontal=True, key=f"dec-{v.id}",
                          label_visibility="collapsed")
        if choice is None:
            continue
        if choice == "edit":
            edited = st.text_input("corrected value (JSON or text)", value=json.dumps(v.value), key=f"edit-{v.id}")
            try:
                value = json.loads(edited)
            except json.JSONDecodeError:
                value = edited
            decisions[v.id] = {"action": "edit", "value": value}
        else:
            decisions[v.id] = choice
    if not can_accept:
        st.info("Only a physician can accept values into the record.")

with st.expander(f"Found but not proposed ({len(extraction.excluded)})"):
    rows = [{"field": v.field, "mention": v.evidence, "why not": v.excluded_because, "sentence": v.sentence}
            for v in extraction.excluded]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

if can_accept and proposals and st.button("Apply the accepted values to the record", type="primary",
                                         disabled=not decisions):
    try:
        updated, changes = apply_decisions(APP.patient, proposals, decisions)
        rejected = [{"field": p.value.field, "evidence": [p.value.start, p.value.end]} for p in proposals
                    if decisions.get(p.value.id) == "reject"]
        record_note = hashlib.sha256(extraction.masked_text.encode()).hexdigest()
        from recommender.store import record_note_review

        record_note_review(engine(), actor=user.username, mrn=updated.patient_id, changes=changes,
                           rejected=rejected, extractor=extraction.extractor, note_sha256=record_note)
        with st.spinner("Scoring the updated record..."):
            germline = None
            if APP.uploads.vcf is not None:
                germline = APP.uploads.vcf.path
            rec = score(updated, germline_vcf=germline, sample=APP.recommendation.pgx_sample if germline else None,
                        er_status=st.session_state.get("er_status"),
                        outside_calls=None if APP.uploads.pgx_calls is None else APP.uploads.pgx_calls.path,
                        tumour=None if APP.uploads.tumour is None else APP.uploads.tumour.profile)
        APP.load(updated, rec)
        state["extraction"], state["proposals"], state["record"] = None, None, None
        st.success(f"{len(changes)} value(s) entered the record (audited); the patient was scored again.")
    except RecommenderError as err:
        show_error(err)
