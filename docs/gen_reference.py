"""Generate the CLI and HTTP reference pages at build time (run by the mkdocs-gen-files plugin).

The CLI reference is the ``--help`` text of every subcommand, built from the same argparse parsers the
``recommender`` command uses, so it cannot drift from the code. The HTTP reference is rendered from the
service's OpenAPI schema (``create_app().openapi()``), the same schema served at ``/openapi.json``.
It can also be run by hand: ``python docs/gen_reference.py OUTDIR`` writes the two pages there.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("COLUMNS", "100")  # stable --help wrapping


def _subparsers(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:  # noqa: SLF001 - argparse has no public walk
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            seen = set()
            for name, sub in action.choices.items():
                if id(sub) in seen:
                    continue
                seen.add(id(sub))
                found.append((name, sub))
    return found


def _walk(parser: argparse.ArgumentParser, level: int, out: list[str]) -> None:
    out.append(f"{'#' * level} `{parser.prog}`\n")
    out.append("```text\n" + parser.format_help().rstrip() + "\n```\n")
    for _name, sub in _subparsers(parser):
        _walk(sub, min(level + 1, 4), out)


def cli_reference() -> str:
    """Markdown of every subcommand's ``--help``, from the product's own parsers."""
    from recommender.cli import SUBCOMMANDS, _top_parser

    out = [
        "# CLI reference\n",
        "Generated at build time from the `recommender` command's own argparse parsers "
        "(`docs/gen_reference.py`). Exit codes: 0 ok, 1 bad input (one line naming the file, record and fix), "
        "2 usage. Every subcommand also takes `--debug` (full traceback, for developers).\n",
        "```text\n" + _top_parser(SUBCOMMANDS).format_help().rstrip() + "\n```\n",
    ]
    for sub in SUBCOMMANDS:
        module = importlib.import_module(sub.module)
        parser = argparse.ArgumentParser(prog=f"recommender {sub.name}", description=sub.summary)
        parser.add_argument("--debug", action="store_true", help="show a full traceback on error (developers)")
        module.add_arguments(parser)
        _walk(parser, 2, out)
    return "\n".join(out)


def _schema_name(schema: dict) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_schema_name(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"array of {_schema_name(schema.get('items', {}))}"
    return str(schema.get("type", schema.get("format", "object")))


def http_reference() -> str:
    """Markdown of the HTTP service's endpoints and schemas, from its OpenAPI document."""
    from recommender.service.app import create_app

    spec = create_app(token_hashes=set()).openapi()
    out = [
        "# HTTP reference\n",
        f"Generated at build time from the service's OpenAPI {spec.get('openapi', '')} document "
        f"(`{spec['info']['title']}`, version {spec['info']['version']}); a running service serves the same "
        "document at `/openapi.json` and an interactive view at `/docs`. Every endpoint except the health check "
        "needs `Authorization: Bearer <token>`.\n",
    ]
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            out.append(f"## `{method.upper()} {path}`\n")
            if op.get("summary"):
                out.append(f"**{op['summary']}**\n")
            if op.get("description"):
                out.append(op["description"].strip() + "\n")
            params = op.get("parameters", [])
            if params:
                out.append("| parameter | in | required | type | description |\n| --- | --- | --- | --- | --- |")
                for p in params:
                    desc = (p.get("description") or "").replace("\n", " ").replace("|", "\\|")
                    out.append(f"| `{p['name']}` | {p.get('in', '')} | {p.get('required', False)} | "
                               f"{_schema_name(p.get('schema', {}))} | {desc} |")
                out.append("")
            body = op.get("requestBody", {}).get("content", {})
            for ctype, content in body.items():
                out.append(f"Request body (`{ctype}`): {_schema_name(content.get('schema', {}))}\n")
            responses = op.get("responses", {})
            if responses:
                out.append("| status | description |\n| --- | --- |")
                for status, resp in responses.items():
                    out.append(f"| {status} | {(resp.get('description') or '').replace('|', '/')} |")
                out.append("")
    schemas = spec.get("components", {}).get("schemas", {})
    if schemas:
        out.append("## Schemas\n")
        for name, schema in sorted(schemas.items()):
            out.append(f"### {name}\n")
            out.append("```json\n" + json.dumps(schema, indent=2, sort_keys=True)[:6000] + "\n```\n")
    return "\n".join(out)


def _write_with_gen_files() -> None:
    import mkdocs_gen_files

    with mkdocs_gen_files.open("reference/cli.md", "w") as fh:
        fh.write(cli_reference())
    with mkdocs_gen_files.open("reference/http.md", "w") as fh:
        fh.write(http_reference())


if __name__ == "__main__" and len(sys.argv) > 1:
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    (target / "cli.md").write_text(cli_reference())
    (target / "http.md").write_text(http_reference())
else:
    _write_with_gen_files()
