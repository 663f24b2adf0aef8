"""The ``recommender`` console command: one entry point, one subcommand per job.

Each subcommand lives in its own module with two functions, ``add_arguments(parser)`` and
``run(args) -> int``, and is imported only when it runs (``cohort ...`` from ``cohorts``,
``app`` from ``app``), so ``recommender --help`` stays fast and ``recommender`` never imports
``cohorts`` or ``app`` otherwise (DESIGN.md import order).

Exit codes: 0 success, 1 bad input (one line naming the file, record and fix), 2 usage.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["main", "SUBCOMMANDS"]


@dataclass(frozen=True)
class Subcommand:
    name: str
    module: str
    summary: str


#: Every subcommand the product knows, in the order ``--help`` lists them. A module that is
#: not installed yet (a later issue) is left out of the listing.
SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("qc", "recommender.commands.qc", "QC summary and genotype overview of a VCF/BCF"),
    Subcommand("pgx", "recommender.commands.pgx", "pharmacogene star alleles, phenotypes and CPIC/DPWG guidance"),
    Subcommand("biomarkers", "recommender.commands.biomarkers", "actionable tumour biomarkers from a somatic VCF/MAF"),
    Subcommand("dnalm", "recommender.commands.dnalm", "DNA language model: score variants or train the default model"),
    Subcommand("score", "recommender.commands.score", "score one patient's treatment options (versioned JSON)"),
    Subcommand("serve", "recommender.commands.serve", "HTTP scoring service"),
    Subcommand("kb", "recommender.commands.kb", "knowledge-base versions (info) and import of newer releases"),
    Subcommand("admin", "recommender.commands.admin", "user accounts and audit-log verification"),
    Subcommand("notes", "recommender.commands.notes", "clinical notes -> proposed history fields with evidence"),
    Subcommand("cohort", "cohorts.cli", "simulate, import, train, evaluate, score and report cohorts"),
    Subcommand("app", "app.launch", "start the physician's browser app"),
)


def _available() -> list[Subcommand]:
    found = []
    for sub in SUBCOMMANDS:
        try:
            if importlib.util.find_spec(sub.module) is not None:
                found.append(sub)
        except ModuleNotFoundError:
            continue
    return found


class _LazyVersion(argparse.Action):
    """``--version``: the version is looked up only when asked (importlib.metadata costs start-up time)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str = "show program's version number and exit") -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        from recommender import __version__

        sys.stdout.write(f"recommender {__version__}\n")  # stdout, as argparse's own version action
        parser.exit()


def _top_parser(subs: Sequence[Subcommand]) -> argparse.ArgumentParser:
    listing = "\n".join(f"  {s.name:<11} {s.summary}" for s in subs)
    parser = argparse.ArgumentParser(
        prog="recommender",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Genomics-aware treatment recommender (research use only; not a medical device).\n\n"
            f"commands:\n{listing}\n\n"
            "Run 'recommender COMMAND --help' for a command's options."
        ),
        epilog="Exit codes: 0 ok, 1 bad input (one-line message naming file, record and fix), 2 usage.",
    )
    parser.add_argument("--version", action=_LazyVersion)
    parser.add_argument("command", nargs="?", help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    subs = _available()
    by_name = {s.name: s for s in subs}
    top = _top_parser(subs)
    if not argv or argv[0].startswith("-"):
        top.parse_args(argv)  # handles --help / --version (exits)
        top.print_help(sys.stderr)
        return 2
    name, rest = argv[0], argv[1:]
    if name not in by_name:
        top.error(f"unknown command {name!r}; choose one of: {', '.join(by_name)}")
    sub = by_name[name]
    module = importlib.import_module(sub.module)
    parser = argparse.ArgumentParser(prog=f"recommender {name}", description=sub.summary)
    parser.add_argument("--debug", action="store_true", help="show a full traceback on error (developers)")
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    return _run(module, args, prog=parser.prog)


def _run(module, args: argparse.Namespace, prog: str) -> int:
    from genomics.errors import RecommenderError

    try:
        return int(module.run(args) or 0)
    except RecommenderError as err:
        if getattr(args, "debug", False):
            raise
        print(f"{prog}: error: {err.one_line()}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as err:  # noqa: BLE001 - last line of defence: no traceback for users
        if getattr(args, "debug", False):
            raise
        print(
            f"{prog}: internal error: {type(err).__name__}: {err} -- rerun with --debug and report it",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
