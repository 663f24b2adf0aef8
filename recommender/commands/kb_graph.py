"""``recommender kb graph``: the drug-gene-biomarker graph of the knowledge base, queried or exported.

Examples
--------
recommender kb graph --phenotype DPYD "Poor Metabolizer"
recommender kb graph --requires KRAS --json
recommender kb graph --export kb.graphml
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_graph_parser", "run_graph"]


def add_graph_parser(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    g = sub.add_parser(
        "graph", help="query or export the drug-gene-biomarker graph of the knowledge base",
        description="The graph of the CPIC/DPWG recommendation tables in force and the biomarker table: genes -> "
                    "phenotypes (lookup values) -> guidelines -> drugs -> regimens; biomarkers -> therapies; "
                    "eligibility requirements -> therapies. Query it or export it (GraphML or node-link JSON).")
    g.add_argument("--phenotype", nargs=2, metavar=("GENE", "PHENOTYPE"),
                   help="drugs with guidance for this phenotype or activity score, e.g. DPYD 'Poor Metabolizer'")
    g.add_argument("--requires", metavar="GENE", nargs="?", const="",
                   help="therapies that need a biomarker (of GENE when given) to be indicated")
    g.add_argument("--export", metavar="FILE", help="write the whole graph (.graphml, or .json node-link)")
    g.add_argument("--json", action="store_true", help="print JSON")


def run_graph(args: argparse.Namespace) -> int:
    from genomics.errors import UsageError
    from recommender.commands._output import print_json, write_atomic
    from recommender.evidence_graph import (
        drugs_for_phenotype,
        knowledge_graph,
        therapies_requiring,
        to_json,
        write_graphml,
    )

    if not (args.phenotype or args.requires is not None or args.export):
        raise UsageError("nothing asked", fix="give --phenotype GENE PHENOTYPE, --requires [GENE] or --export FILE")
    g = knowledge_graph()
    result: dict = {"nodes": g.number_of_nodes(), "edges": g.number_of_edges()}
    if args.export:
        if str(args.export).endswith(".json"):
            write_atomic(args.export, to_json(g) + "\n")
        else:
            write_graphml(g, args.export)
        result["exported"] = str(args.export)
    if args.phenotype:
        gene, phenotype = args.phenotype
        result["drugs"] = drugs_for_phenotype(g, gene, phenotype)
    if args.requires is not None:
        result["requirements"] = therapies_requiring(g, args.requires or None)
    if args.json:
        print_json(result)
        return 0
    out = sys.stdout
    out.write(f"knowledge graph: {result['nodes']} nodes, {result['edges']} edges\n")
    if args.export:
        out.write(f"written to {args.export}\n")
    if args.phenotype:
        out.write(f"\n{args.phenotype[0]} {args.phenotype[1]}: {len(result['drugs'])} guideline row(s)\n")
        for r in result["drugs"]:
            regs = f"  (regimens: {', '.join(r['regimens'])})" if r["regimens"] else ""
            out.write(f"  {r['drug']:<16} {r['source']:<5} {r['action']:<12} {r['strength']:<9} "
                      f"lookup {', '.join(r['lookup'])}{regs}\n")
    if args.requires is not None:
        out.write(f"\ntherapies that need a biomarker: {len(result['requirements'])}\n")
        for r in result["requirements"]:
            out.write(f"  {r['therapy']:<16} {r['requirement']} [{r['cancer_types']}] -- {r['test']}\n")
    return 0
