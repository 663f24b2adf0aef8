"""Evidence graph page: why each option sits where it does, as one graph (genes -> phenotypes -> guidelines ->
drugs -> options; tumour findings; eligibility; co-medications; model drivers), drawn offline, with the verbatim
guideline text of any node one click away, and GraphML / JSON downloads."""

from __future__ import annotations

import streamlit as st

from app.ui import current, require_user
from recommender.escaping import escape_markdown
from recommender.evidence_graph import recommendation_graph, to_json, write_graphml

require_user("physician", "researcher")
patient, rec, _ = current()
st.title("Evidence graph")
st.caption("Built only from the recommendation shown (and the patient's co-medications). Drawn in the browser from "
           "the page itself; nothing is fetched.")

g = recommendation_graph(rec, medications=getattr(patient, "medications", ()) or ())
_SHAPES = {"gene": "ellipse", "phenotype": "ellipse", "guideline": "note", "drug": "box", "option": "box3d",
           "biomarker": "diamond", "requirement": "hexagon", "co-medication": "cds", "model driver": "plaintext",
           "publication": "tab"}
_COLOURS = {"standard": "#4caf50", "adjust_dose": "#ff9800", "caution": "#ff9800", "avoid": "#f44336",
            "not_assessed": "#ff9800", "no_guidance": "#9e9e9e"}

kinds = sorted({d["kind"] for _n, d in g.nodes(data=True)})
shown = st.multiselect("Show", kinds, default=[k for k in kinds if k not in ("publication", "model driver")])


def _dot_label(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace('"', '\\"')[:60]


lines = ["digraph evidence {", "rankdir=LR; node [fontsize=10]; edge [fontsize=8];"]
keep = {n for n, d in g.nodes(data=True) if d["kind"] in shown}
ids = {n: f"n{i}" for i, n in enumerate(g.nodes)}
for n, d in g.nodes(data=True):
    if n in keep:
        colour = _COLOURS.get(d.get("action", ""), "#e0e0e0")
        lines.append(f'{ids[n]} [label="{_dot_label(d["label"])}", shape={_SHAPES.get(d["kind"], "ellipse")}, '
                     f'style=filled, fillcolor="{colour}"];')
for u, v, d in g.edges(data=True):
    if u in keep and v in keep:
        lines.append(f'{ids[u]} -> {ids[v]} [label="{_dot_label(d["relation"])}"];')
lines.append("}")
st.graphviz_chart("\n".join(lines), width="stretch")

st.subheader("Details")
choices = {f'{d["kind"]}: {d["label"]}': n for n, d in g.nodes(data=True) if d["kind"] in shown}
picked = st.selectbox("Node", sorted(choices), index=None, placeholder="pick a node to read its evidence")
if picked:
    node = choices[picked]
    data = g.nodes[node]
    if data.get("text"):
        strength = data.get("strength") or "strength not stated"
        st.markdown(f"**{escape_markdown(data['label'])}** ({escape_markdown(strength)}, version "
                    f"{escape_markdown(data.get('version') or '-')})")
        st.text(data["text"])  # verbatim guideline text, shown as text
        if data.get("url"):
            st.link_button("Open the guideline", data["url"])
    for u, _v, e in g.in_edges(node, data=True):
        st.write(f"← {escape_markdown(g.nodes[u]['label'])} ({escape_markdown(e['relation'])}; source "
                 f"{escape_markdown(e.get('source', ''))}{'; ' + escape_markdown(e['evidence']) if e.get('evidence') else ''})")
    for _u, v, e in g.out_edges(node, data=True):
        st.write(f"→ {escape_markdown(g.nodes[v]['label'])} ({escape_markdown(e['relation'])}; source "
                 f"{escape_markdown(e.get('source', ''))})")

import io
import tempfile
from pathlib import Path

with tempfile.TemporaryDirectory() as tmp:
    graphml = write_graphml(g, Path(tmp) / "evidence.graphml").read_bytes()
c1, c2 = st.columns(2)
c1.download_button("Download GraphML", io.BytesIO(graphml), file_name="evidence.graphml")
c2.download_button("Download JSON", to_json(g), file_name="evidence.json", mime="application/json")
