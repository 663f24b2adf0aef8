"""``recommender kb info|import``: knowledge-base versions, and import of a newer PharmCAT/CPIC release.

``kb info`` lists every table in use (name, version, date, source, licence, file count, sha256) and the
sha256 of the whole bundle; ``kb import PATH`` validates a PharmCAT source checkout (or its merged
``prescribing_guidance.json``, or a folder of per-guideline files) and installs it atomically into the user
data directory, where later runs find it. Precedence: ``$RECOMMENDER_KB_DIR`` > user directory
(``$RECOMMENDER_HOME/kb``, else ``~/.local/share/recommender/kb``) > the tables bundled in the package.
"""

from __future__ import annotations

import argparse
import sys

from recommender.commands._output import print_json

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="kb_command", metavar="{info,import,graph}")
    sub.required = True
    info = sub.add_parser("info", help="versions, dates, sources, licences and hashes of every knowledge table",
                          description="Versions, dates, sources, licences and hashes of every knowledge table.")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.add_argument("--home", metavar="DIR", help="product data home (default $RECOMMENDER_HOME or "
                      "~/.local/share/recommender)")
    imp = sub.add_parser(
        "import", help="validate and install newer PharmCAT/CPIC tables from PATH",
        description="Validate newer PharmCAT/CPIC tables and install them into the user data directory. PATH: a "
                    "PharmCAT source checkout, its src/main/resources/org/pharmgkb/pharmcat folder, a merged "
                    "prescribing_guidance.json (PharmCAT >= 2.13) or a folder of per-guideline JSON files "
                    "(PharmCAT <= 2.12).",
    )
    imp.add_argument("path", metavar="PATH", help="PharmCAT checkout, resources folder or guidance file")
    imp.add_argument("--json", action="store_true", help="print JSON")
    imp.add_argument("--home", metavar="DIR", help="product data home (default $RECOMMENDER_HOME or "
                     "~/.local/share/recommender)")
    imp.add_argument("--no-activate", action="store_true",
                     help="install without making it the version in force")
    from recommender.commands.kb_graph import add_graph_parser

    add_graph_parser(sub)


def _print_info(info) -> None:
    out = sys.stdout
    out.write(f"knowledge base: {info.kb_id} ({info.origin})\n")
    out.write(f"root:           {info.root}\n")
    out.write(f"bundle sha256:  {info.bundle_sha256}\n")
    out.write(f"recommendations {info.recommendation_version}; allele definitions {info.definition_version}\n")
    out.write(f"precedence:     {info.precedence}\n\n")
    for t in info.tables:
        out.write(f"{t.name}\n")
        out.write(f"  version {t.version or '-'} (date {t.date or '-'}), {t.file_count} file(s), {t.origin}\n")
        out.write(f"  source  {t.source}\n")
        out.write(f"  licence {t.licence}\n")
        out.write(f"  sha256  {t.sha256}\n")
    for w in info.warnings:
        out.write(f"\nWARNING: {w}\n")


def run(args: argparse.Namespace) -> int:
    from genomics.pgx.knowledge_base import import_knowledge_base, knowledge_base_info

    if args.kb_command == "graph":
        from recommender.commands.kb_graph import run_graph

        return run_graph(args)
    if args.kb_command == "info":
        info = knowledge_base_info(args.home)
        if args.json:
            print_json(info.to_dict())
        else:
            _print_info(info)
        return 0
    kb = import_knowledge_base(args.path, home=args.home, activate=not args.no_activate)
    info = kb.info()
    if args.json:
        data = info.to_dict()
        data["installed_at"] = str(kb.root)
        data["activated"] = not args.no_activate
        print_json(data)
    else:
        state = "installed and in force" if not args.no_activate else "installed (not activated)"
        sys.stdout.write(f"{state}: {kb.kb_id}\n  at {kb.root}\n")
        sys.stdout.write(f"  recommendations {info.recommendation_version}; "
                         f"{sum(t.file_count for t in info.tables if t.origin == 'imported')} imported file(s)\n")
        for w in info.warnings:
            sys.stdout.write(f"WARNING: {w}\n")
    return 0
