"""Evidence graph of a recommendation and of the knowledge base (networkx): content, queries, exports, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from recommender.evidence_graph import (
    drugs_for_phenotype,
    knowledge_graph,
    recommendation_graph,
    therapies_requiring,
    to_json,
    write_graphml,
)
from recommender.scoring import DEMO_PATIENT, ScoringContext, score_patient
from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def demo_graph() -> nx.MultiDiGraph:
    rec = score_patient(DEMO_PATIENT, context=ScoringContext(False))
    return recommendation_graph(rec, medications=["paroxetine"])


def _edges(g: nx.MultiDiGraph, relation: str) -> list[tuple[str, str]]:
    return [(u, v) for u, v, d in g.edges(data=True) if d["relation"] == relation]


def test_demo_patient_graph_links_options_drugs_and_the_kras_finding(demo_graph: nx.MultiDiGraph) -> None:
    g = demo_graph
    assert ("option:FOLFOX", "drug:oxaliplatin") in _edges(g, "contains")
    resist = _edges(g, "confers resistance")
    assert any(u.startswith("finding:") and "KRAS" in u and v == "drug:panitumumab" for u, v in resist)
    assert any(v == "drug:panitumumab" for _u, v in _edges(g, "eligibility contraindicated"))


def test_guideline_nodes_carry_verbatim_text_and_sources(demo_graph: nx.MultiDiGraph) -> None:
    guides = [(u, v) for u, v in _edges(demo_graph, "guides")]
    assert guides
    for u, _v in guides:
        node = demo_graph.nodes[u]
        assert node["kind"] == "guideline" and node["text"] and node["label"].split(":")[0] in ("CPIC", "DPWG")
    assert any(demo_graph.nodes[u]["kind"] == "publication" for u, _v in _edges(demo_graph, "supports"))


def test_comedication_inhibits_its_enzyme(demo_graph: nx.MultiDiGraph) -> None:
    assert ("comedication:paroxetine", "gene:CYP2D6") in _edges(demo_graph, "inhibits")


def test_exports_roundtrip(demo_graph: nx.MultiDiGraph, tmp_path: Path) -> None:
    path = write_graphml(demo_graph, tmp_path / "g.graphml")
    back = nx.read_graphml(path)
    assert back.number_of_nodes() == demo_graph.number_of_nodes()
    data = json.loads(to_json(demo_graph))
    assert len(data["nodes"]) == demo_graph.number_of_nodes() and len(data["edges"]) == demo_graph.number_of_edges()


def test_kb_query_dpyd_poor_metaboliser_reaches_fluoropyrimidines_and_their_regimens() -> None:
    hits = drugs_for_phenotype(knowledge_graph(), "DPYD", "Poor Metabolizer")
    by = {(h["drug"], h["source"]) for h in hits if h["action"] == "avoid"}
    assert {("fluorouracil", "CPIC"), ("capecitabine", "CPIC"), ("fluorouracil", "DPWG")} <= by
    fu = next(h for h in hits if h["drug"] == "fluorouracil")
    assert "FOLFOX" in fu["regimens"]
    normal = {h["drug"] for h in drugs_for_phenotype(knowledge_graph(), "DPYD", "Normal Metabolizer")
              if h["action"] == "avoid"}
    assert "fluorouracil" not in normal


def test_kb_query_therapies_requiring_a_biomarker() -> None:
    rows = therapies_requiring(knowledge_graph(), "KRAS")
    assert {"cetuximab", "panitumumab"} <= {r["therapy"] for r in rows}
    assert all(r["requires"] == "wild_type" for r in rows)


def test_kb_graph_cli_json() -> None:
    proc = subprocess.run([sys.executable, "-m", "recommender.cli", "kb", "graph", "--phenotype", "CYP2C19",
                           "Poor Metabolizer", "--json"], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert any(r["drug"] == "clopidogrel" and r["action"] == "avoid" for r in data["drugs"])


def test_kb_graph_cli_without_a_question_is_usage_error() -> None:
    proc = subprocess.run([sys.executable, "-m", "recommender.cli", "kb", "graph"], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
