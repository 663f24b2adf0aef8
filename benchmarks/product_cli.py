"""Run the product's command line from a benchmark: ``recommender.cli.main`` (what the ``recommender`` console
script runs), in this process, with its ``--json`` output captured and parsed.

A benchmark that calls the CLI this way measures exactly what a user's command does (argument parsing, defaults,
validation, the same functions); only the process start is saved.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

__all__ = ["run_cli_json"]


def run_cli_json(argv: list[str]) -> Any:
    """``recommender <argv>`` (which must print JSON: pass ``--json``); the parsed output. A non-zero exit stops
    the benchmark with the command line."""
    from recommender.cli import main as recommender_cli

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = recommender_cli([str(a) for a in argv])
    if rc != 0:
        raise SystemExit(f"recommender {' '.join(map(str, argv))} failed (exit {rc})")
    return json.loads(buf.getvalue())
