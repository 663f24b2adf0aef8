"""The documentation cannot drift from the code.

- the site builds offline with warnings as errors (``make docs``);
- every ``python`` example in the README and the docs pages runs (one namespace per page, in a temporary folder),
  unless the line before its fence is ``<!-- not-tested: REASON -->``;
- every ``recommender ...`` command line in a shell example names a real subcommand (and sub-subcommand) and
  only options that its parser knows;
- the README stays a front door (at most about 250 lines) and links to the docs site.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, require

DOCS = REPO_ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md")) + [REPO_ROOT / "README.md"]
FENCE = re.compile(r"(?P<before>[^\n]*)\n```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)\n```", re.S)
SHELL_LANGS = {"bash", "sh", "shell", "console", ""}


def _blocks(page: Path, langs: set[str]):
    text = "\n" + page.read_text(encoding="utf-8")
    for m in FENCE.finditer(text):
        if m.group("lang") in langs:
            yield m.group("before").strip(), m.group("body")


def _python_pages():
    return [p for p in PAGES if any(True for _ in _blocks(p, {"python"}))]


@pytest.mark.parametrize("page", _python_pages(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_python_examples_in_docs_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECOMMENDER_HOME", str(tmp_path / "home"))
    namespace: dict = {"__name__": "__docs__"}
    for before, body in _blocks(page, {"python"}):
        if before.startswith("<!-- not-tested"):
            assert len(before) > len("<!-- not-tested -->"), f"{page.name}: say why the example is not tested"
            continue
        code = compile(body, f"{page.name}:python-example", "exec")
        exec(code, namespace)  # noqa: S102 - our own documentation's examples


def _parser_for(sub: str) -> argparse.ArgumentParser | None:
    from recommender.cli import SUBCOMMANDS

    for s in SUBCOMMANDS:
        if s.name == sub:
            module = importlib.import_module(s.module)
            parser = argparse.ArgumentParser(prog=f"recommender {sub}")
            parser.add_argument("--debug", action="store_true")
            module.add_arguments(parser)
            return parser
    return None


def _options_and_children(parser: argparse.ArgumentParser) -> tuple[set[str], dict[str, argparse.ArgumentParser]]:
    options: set[str] = set()
    children: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:  # noqa: SLF001
        options.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            children.update(action.choices)
    return options, children


def _command_lines():
    for page in PAGES:
        for _before, body in _blocks(page, SHELL_LANGS):
            joined = body.replace("\\\n", " ")
            for line in joined.splitlines():
                line = line.strip().removeprefix("$ ")
                line = re.sub(r"^(\.venv/bin/|\$\(BIN\)/)", "", line)
                if line.startswith("recommender "):
                    yield page, line.split("#", 1)[0].strip()


@pytest.mark.parametrize("page,line", list(_command_lines()),
                         ids=lambda v: v if isinstance(v, str) else v.name)
def test_cli_lines_in_docs_name_real_commands_and_options(page: Path, line: str) -> None:
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    words = [w for w in words[1:] if not w.startswith(("<", "["))]
    if not words or words[0].startswith("-"):
        return  # `recommender --help` and the like
    parser = _parser_for(words[0])
    assert parser is not None, f"{page.name}: unknown subcommand in {line!r}"
    options, children = _options_and_children(parser)
    rest = words[1:]
    if children and rest and not rest[0].startswith("-"):
        if rest[0] in ("/", "|") or "/" in rest[0] or "|" in rest[0]:
            names = re.split(r"[/|]", rest[0])
        else:
            names = [rest[0]]
        for name in names:
            if name:
                assert name in children, f"{page.name}: unknown sub-command {name!r} in {line!r}"
        child = children.get(names[0])
        if child is not None:
            child_options, _ = _options_and_children(child)
            options = options | child_options
    for word in rest:
        if word.startswith("--"):
            flag = word.split("=", 1)[0].rstrip(",")
            assert flag in options, f"{page.name}: option {flag!r} not known to `recommender {words[0]}` in {line!r}"


def test_readme_is_a_front_door_that_links_the_docs() -> None:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 260
    assert "make docs" in text and "docs/" in text
    assert "Research use only" in text


def test_docs_site_builds_offline_with_warnings_as_errors(tmp_path: Path) -> None:
    mkdocs = Path(sys.executable).with_name("mkdocs")
    require(mkdocs.exists(), "mkdocs is not installed (pip install -e '.[docs]')")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", DISABLE_MKDOCS_2_WARNING="true")
    proc = subprocess.run([str(mkdocs), "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site")],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = (tmp_path / "site" / "reference" / "cli.html").read_text(encoding="utf-8")
    assert "recommender score" in html and "recommender cohort" in html
    assert "/v1/score" in (tmp_path / "site" / "reference" / "http.html").read_text(encoding="utf-8")
    # Offline: the built pages reference no font or script CDN.
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in index and "cdn.jsdelivr.net" not in index
