"""The evidence behind a recommendation, and the knowledge base as a whole, as graphs (networkx).

:func:`recommendation_graph` turns one :class:`~recommender.recommendation.Recommendation` (optionally with the
patient's co-medications) into a directed multigraph: genes -> phenotypes -> guidelines -> drugs -> options,
tumour findings -> drugs (sensitivity / resistance), eligibility requirements -> drugs, co-medications -> genes
(phenoconversion), model drivers -> options, publications -> guidelines and findings. Every edge carries its
``relation``, ``source`` and, where there is one, its evidence level or strength; every guideline node carries
its verbatim text. Nothing is inferred that the result does not say.

:func:`knowledge_graph` builds the drug-gene-biomarker graph of the bundled CPIC/DPWG tables and the biomarker
table, with two queries researchers ask: :func:`drugs_for_phenotype` ("which drugs does a DPYD poor metaboliser
phenotype affect, and how?") and :func:`therapies_requiring` ("which therapies need which biomarker?").

Both export to GraphML (:func:`write_graphml`, attributes flattened to text) or node-link JSON (:func:`to_json`).

Examples
--------
>>> from recommender.evidence_graph import knowledge_graph, drugs_for_phenotype
>>> hits = drugs_for_phenotype(knowledge_graph(), "DPYD", "Poor Metabolizer")
>>> "fluorouracil" in {h["drug"] for h in hits}
True
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx

from recommender import vocab

__all__ = ["drugs_for_phenotype", "knowledge_graph", "recommendation_graph", "therapies_requiring", "to_json",
           "write_graphml"]


def _node(g: nx.MultiDiGraph, key: str, kind: str, label: str, **attrs: Any) -> str:
    if key not in g:
        g.add_node(key, kind=kind, label=label, **attrs)
    return key


def recommendation_graph(rec: Any, medications: Iterable[str] = ()) -> nx.MultiDiGraph:
    """The evidence graph of one recommendation (see the module docstring)."""
    g = nx.MultiDiGraph(patient_id=rec.patient_id, cancer_type=rec.cancer_type or "",
                        schema=rec.schema_version, package_version=rec.provenance.package_version)
    genes = {}
    for gs in rec.pharmacogenes:
        gk = _node(g, f"gene:{gs.gene}", "gene", gs.gene, status=gs.status, diplotype=gs.diplotype or "")
        genes[gs.gene] = gk
        if gs.phenotype:
            pk = _node(g, f"phenotype:{gs.gene}:{gs.phenotype}", "phenotype", f"{gs.gene} {gs.phenotype}",
                       activity_score=gs.activity_score or "")
            g.add_edge(gk, pk, relation="determines", source="star-allele call", evidence=gs.diplotype or "")
        if gs.functional_phenotype and gs.functional_phenotype != gs.phenotype:
            fk = _node(g, f"phenotype:{gs.gene}:{gs.functional_phenotype}", "phenotype",
                       f"{gs.gene} {gs.functional_phenotype} (functional)")
            g.add_edge(gk, fk, relation="determines", source="phenoconversion", evidence=gs.note or "")
    for med in medications:
        drug = vocab.normalise_drug(med)
        for row in vocab.cyp_modulators_for(drug):
            mk = _node(g, f"comedication:{drug}", "co-medication", drug)
            target = None
            for gene in genes:
                if gene.startswith(row.enzyme):
                    target = genes[gene]
            target = target or _node(g, f"gene:{row.enzyme}", "gene", row.enzyme, status="enzyme")
            g.add_edge(mk, target, relation="inhibits" if row.effect == "inhibitor" else "induces",
                       source=vocab.CYP_SOURCE, evidence=row.strength)
    for opt in rec.options:
        ok = _node(g, f"option:{opt.regimen}", "option", opt.regimen, rank=opt.rank, action=opt.guidance_action,
                   eligibility=opt.eligibility)
        for drug in opt.drugs:
            dk = _node(g, f"drug:{drug}", "drug", drug)
            g.add_edge(ok, dk, relation="contains", source="regimen vocabulary")
        for flag in opt.pgx:
            dk = _node(g, f"drug:{flag.drug}", "drug", flag.drug, action=flag.action)
            for quote in flag.recommendations:
                qk = _node(g, f"guideline:{quote.source}:{quote.guideline}:{quote.lookup_key}", "guideline",
                           f"{quote.source}: {quote.guideline}", text=quote.text_plain, strength=quote.strength or "",
                           action=quote.action, version=quote.version or "", url=quote.url or "")
                g.add_edge(qk, dk, relation="guides", source=quote.source, evidence=quote.strength or "",
                           action=quote.action)
                for gene, value in (quote.lookup_key or {}).items():
                    gk = genes.get(gene) or _node(g, f"gene:{gene}", "gene", gene, status="")
                    pk = next((n for n in g.successors(gk) if g.nodes[n]["kind"] == "phenotype"), gk)
                    g.add_edge(pk, qk, relation="triggers", source=quote.source, evidence=str(value))
                for pmid in quote.pmids:
                    pub = _node(g, f"pmid:{pmid}", "publication", f"PMID {pmid}",
                                url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/")
                    g.add_edge(pub, qk, relation="supports", source="PubMed")
            for gene in flag.missing_genes:
                gk = genes.get(gene) or _node(g, f"gene:{gene}", "gene", gene, status="not genotyped")
                g.add_edge(gk, dk, relation="not assessed", source="guidance overlay",
                           evidence="; ".join(a.advice for a in flag.testing_advice))
        for ev in opt.biomarkers:
            fk = _node(g, f"finding:{ev.finding}", "biomarker", ev.finding, gene=ev.gene, level=ev.evidence_level)
            for drug in ev.drugs_in_option or opt.drugs:
                g.add_edge(fk, f"drug:{drug}", relation="confers " + ev.direction, source=ev.source,
                           evidence=ev.level_for_patient or ev.evidence_level)
            for cit in ev.citations:
                if cit.get("pmid"):
                    pub = _node(g, f"pmid:{cit['pmid']}", "publication", f"PMID {cit['pmid']}",
                                url=f"https://pubmed.ncbi.nlm.nih.gov/{cit['pmid']}/")
                    g.add_edge(pub, fk, relation="supports", source="PubMed")
        for check in opt.eligibility_checks:
            rk = _node(g, f"requirement:{check.requirement_id}", "requirement", check.requirement, test=check.test)
            g.add_edge(rk, f"drug:{check.drug}", relation=f"eligibility {check.status}", source="biomarker table",
                       evidence=check.reason)
        if opt.model.available and opt.model.response is not None:
            for driver in opt.model.response.drivers[:5]:
                mk = _node(g, f"driver:{driver}", "model driver", driver)
                g.add_edge(mk, ok, relation="drives prediction", source=rec.provenance.model_bundle_id or "model")
    return g


@functools.lru_cache(maxsize=4)
def knowledge_graph(kb_root: str | None = None) -> nx.MultiDiGraph:
    """Drug-gene-phenotype graph of the active CPIC/DPWG tables plus the biomarker table's therapies."""
    from genomics.biomarkers.eligibility import load_requirements
    from genomics.biomarkers.knowledge import load_knowledge_base
    from genomics.pgx.guidance import classify_recommendation
    from genomics.pgx.knowledge_base import active_knowledge_base

    kb = active_knowledge_base()
    g = nx.MultiDiGraph(pgx_knowledge_base=str(kb.kb_id))
    for pkg in kb.guideline_packages():
        guide = pkg["guideline"]
        source = str(guide.get("source", ""))
        for row in pkg.get("recommendations") or []:
            action, _why = classify_recommendation(row)
            drugs = [c["name"].strip().lower() for c in row.get("relatedChemicals") or []] or \
                [c["name"].strip().lower() for c in guide.get("relatedChemicals") or []]
            strength = (row.get("classification") or {}).get("term") or ""
            rk = _node(g, f"rec:{source}:{row.get('id')}", "guideline", f"{source}: {guide.get('name', '')}",
                       strength=strength, action=action, population=str(row.get("population") or ""))
            for gene, value in (row.get("lookupKey") or {}).items():
                gk = _node(g, f"gene:{gene}", "gene", gene)
                pk = _node(g, f"value:{gene}:{value}", "phenotype", f"{gene} {value}", gene=gene, value=str(value))
                g.add_edge(gk, pk, relation="determines", source="CPIC/DPWG lookup")
                g.add_edge(pk, rk, relation="triggers", source=source)
            for drug in drugs:
                dk = _node(g, f"drug:{drug}", "drug", drug)
                g.add_edge(rk, dk, relation="guides", source=source, action=action, evidence=strength)
    bkb = load_knowledge_base()
    for rule in bkb.rows:
        fk = _node(g, f"biomarker:{rule.id}", "biomarker", f"{'/'.join(rule.genes)} {rule.alteration}",
                   level=rule.evidence_level, cancer_types=",".join(rule.cancer_types))
        for therapy in rule.therapies:
            dk = _node(g, f"drug:{therapy.lower()}", "drug", therapy.lower())
            g.add_edge(fk, dk, relation="confers " + rule.direction, source="biomarker table " + bkb.version,
                       evidence=rule.evidence_level)
    for req in load_requirements():
        qk = _node(g, f"requirement:{req.id}", "requirement", req.requirement, test=req.test,
                   requires=req.requires, genes=",".join(req.genes), cancer_types=",".join(req.cancer_types))
        for therapy in req.therapies:
            dk = _node(g, f"drug:{therapy.lower()}", "drug", therapy.lower())
            g.add_edge(qk, dk, relation="required for", source="biomarker table " + bkb.version)
    for reg in vocab.REGIMENS.values():
        if reg.drugs:
            rk = _node(g, f"regimen:{reg.name}", "regimen", reg.name, citation=reg.citation)
            for drug in reg.drugs:
                g.add_edge(rk, _node(g, f"drug:{drug}", "drug", drug), relation="contains", source="regimens")
    return g


def _phenotype_matches(gene: str, value: str, phenotype: str) -> bool:
    value_l, pheno_l = value.strip().lower(), phenotype.strip().lower()
    if "(" in value_l:  # DPWG writes "0.0 (Poor Metabolizer)" or "0.5 (Phenotyping)"
        number, _, label = value_l.partition("(")
        label = label.rstrip(")").strip()
        return label == pheno_l or (label == "phenotyping" and _phenotype_matches(gene, number, phenotype))
    if value_l == pheno_l or value_l == pheno_l.replace("metabolizer", "metaboliser"):
        return True
    try:
        score = float(value)
    except ValueError:
        return False
    from recommender.features import activity_to_phenotype

    try:
        return (activity_to_phenotype(gene, score) or "").lower() == pheno_l
    except ValueError:
        return False


def drugs_for_phenotype(g: nx.MultiDiGraph, gene: str, phenotype: str) -> list[dict[str, Any]]:
    """Drugs a phenotype (or activity score) of ``gene`` has guidance for: drug, source, action, strength, regimens."""
    gene = gene.upper()
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for pk in g.successors(f"gene:{gene}") if f"gene:{gene}" in g else ():
        node = g.nodes[pk]
        if node.get("kind") != "phenotype" or not _phenotype_matches(gene, node.get("value", ""), phenotype):
            continue
        for rk in g.successors(pk):
            rnode = g.nodes[rk]
            for dk in g.successors(rk):
                if g.nodes[dk].get("kind") != "drug":
                    continue
                drug = g.nodes[dk]["label"]
                key = (drug, rnode["label"].split(":")[0], rnode.get("action", ""))
                regimens = sorted(g.nodes[r]["label"] for r in g.predecessors(dk) if g.nodes[r].get("kind") == "regimen")
                hit = out.setdefault(key, {"drug": drug, "source": key[1], "action": key[2],
                                           "strength": rnode.get("strength", ""), "lookup": [],
                                           "regimens": regimens})
                if node["value"] not in hit["lookup"]:
                    hit["lookup"].append(node["value"])
    return sorted(out.values(), key=lambda r: (r["drug"], r["source"], r["action"]))


def therapies_requiring(g: nx.MultiDiGraph, gene: str | None = None) -> list[dict[str, Any]]:
    """Eligibility requirements (optionally those naming ``gene``): therapy, requirement, test, cancer types."""
    rows = []
    for node, data in g.nodes(data=True):
        if data.get("kind") != "requirement":
            continue
        if gene and gene.upper() not in data.get("genes", "").split(","):
            continue
        for dk in g.successors(node):
            rows.append({"therapy": g.nodes[dk]["label"], "requirement": data["label"], "test": data.get("test", ""),
                         "requires": data.get("requires", ""), "cancer_types": data.get("cancer_types", "")})
    return sorted(rows, key=lambda r: (r["therapy"], r["requirement"]))


def to_json(g: nx.MultiDiGraph) -> str:
    """Node-link JSON of ``g`` (nodes with their attributes, edges with relation/source/evidence)."""
    return json.dumps(nx.node_link_data(g, edges="edges"), indent=1, default=str)


def write_graphml(g: nx.MultiDiGraph, path: str | os.PathLike[str]) -> Path:
    """Write ``g`` as GraphML (attribute values flattened to text), atomically."""
    import io

    from recommender.commands._output import write_atomic

    flat = nx.MultiDiGraph()
    flat.graph.update({k: str(v) for k, v in g.graph.items()})
    for n, d in g.nodes(data=True):
        flat.add_node(n, **{k: str(v) for k, v in d.items()})
    for u, v, d in g.edges(data=True):
        flat.add_edge(u, v, **{k: str(x) for k, x in d.items()})
    buf = io.BytesIO()
    nx.write_graphml(flat, buf)
    return write_atomic(path, buf.getvalue())
