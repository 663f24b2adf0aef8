"""Mutation fuzzing of the knowledge-base import (``recommender kb import``).

Seed: ``tests/fixtures/pgx_kb/prescribing_guidance.json`` (PharmCAT's merged format). Mutations (fixed seed):
JSON type swaps, deleted or renamed keys, emptied or doubled lists (:func:`_fuzz_support.mutate_json_tree`) and
text damage (duplicate key, BOM, truncation, a stray byte, 100,000-deep nesting, a 5000-digit integer:
:func:`_fuzz_support.mutate_json_text`). Each mutant is imported into its own temporary data home. Contract:
an installed version, or a ``RecommenderError`` naming the file in a bounded one-line message; every batch runs
in a forked child. An import loads the installed tables, so each case costs ~0.1 s.

``FUZZ_CASES`` (default 40) and ``FUZZ_SEED`` (default 20261206) change the run.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

import pytest

from genomics.errors import KnowledgeBaseError
from genomics.pgx.knowledge_base import import_knowledge_base

HERE = Path(__file__).resolve().parent
SEED_FILE = HERE.parent / "fixtures" / "pgx_kb" / "prescribing_guidance.json"
sys.path.insert(0, str(HERE))
from _fuzz_support import mutate_json_text, mutate_json_tree, run_cases

CASES = int(os.environ.get("FUZZ_CASES", "40"))
SEED = int(os.environ.get("FUZZ_SEED", "20261206"))


@pytest.fixture(autouse=True)
def _isolated_kb(isolated_kb):
    """Every test here gets a private knowledge-base home (tests/conftest.py: ``isolated_kb``)."""
    return isolated_kb


def _mutants(folder: Path, n: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    raw = SEED_FILE.read_bytes()
    out = []
    for i in range(n):
        if rng.random() < 0.7:
            data = json.dumps(mutate_json_tree(json.loads(raw), rng)).encode("utf-8", "surrogatepass")
        else:
            data = mutate_json_text(raw, rng)
        case = folder / f"case-{i}"
        case.mkdir(parents=True)
        path = case / "prescribing_guidance.json"
        path.write_bytes(data)
        out.append(path)
    return out


def _import(path: Path) -> None:
    import_knowledge_base(path, home=str(path.parent / "home"))


def test_fuzz_seed_imports_cleanly(tmp_path):
    kb = import_knowledge_base(SEED_FILE, home=str(tmp_path / "h"))
    assert kb.info().tables


def test_fuzz_kb_import_only_installs_or_raises_product_errors(tmp_path):
    paths = _mutants(tmp_path, CASES, SEED)
    bad = run_cases(_import, paths, timeout_s=60)
    report = "\n".join(f"{o}: {p}: {d[:300]}" for p, o, d in bad[:20])
    assert not bad, f"{len(bad)} of {len(paths)} mutants broke the contract (inputs kept):\n{report}"


# --- regressions found by the fuzzer -------------------------------------------------------------------


def _guidance(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prescribing_guidance.json"
    path.write_text(text)
    return path


def test_kb_import_of_a_5000_digit_number_is_a_knowledge_base_error(tmp_path):
    text = SEED_FILE.read_text().replace('"version"', '"n": ' + "1" * 5000 + ', "version"', 1)
    with pytest.raises(KnowledgeBaseError, match="not valid JSON") as err:  # was ValueError (int digit limit)
        import_knowledge_base(_guidance(tmp_path, text), home=str(tmp_path / "h"))
    assert err.value.file.endswith("prescribing_guidance.json")


def test_kb_import_nested_100000_deep_is_a_knowledge_base_error(tmp_path):
    text = SEED_FILE.read_text().rstrip()[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(KnowledgeBaseError, match="not valid JSON") as err:  # was RecursionError
        import_knowledge_base(_guidance(tmp_path, text), home=str(tmp_path / "h"))
    assert err.value.file.endswith("prescribing_guidance.json")


def test_cli_kb_import_of_mutated_files_prints_one_line(tmp_path, capsys):
    from recommender.cli import main

    paths = _mutants(tmp_path / "m", 4, SEED + 1)
    paths.append(_guidance(tmp_path, SEED_FILE.read_text().replace("[", "[" * 100_000, 1)))
    failed = 0
    for path in paths:
        code = main(["kb", "import", str(path), "--home", str(tmp_path / "h"), "--no-activate"])
        err = capsys.readouterr().err
        assert code in (0, 1, 2), (path, code, err)
        if code != 0:  # 1 bad input, 2 a usage error (e.g. a record without candidate treatments)
            failed += 1
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("recommender kb: error: "), err
            assert str(path) in lines[0] and "Traceback" not in err and "internal error" not in err, err
    assert failed >= 1
