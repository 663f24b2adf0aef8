"""``recommender kb info|import``: output, JSON, exit codes and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genomics.pgx import knowledge_base as kbmod
from recommender.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pgx_kb"


@pytest.fixture(autouse=True)
def _isolated_kb(isolated_kb):
    """Every test here gets a private knowledge-base home (tests/conftest.py: ``isolated_kb``)."""
    return isolated_kb


def test_kb_info_text(capsys):
    assert main(["kb", "info"]) == 0
    out = capsys.readouterr().out
    assert "bundle sha256:" in out
    assert "CPIC recommendations (2054 rows)" in out
    assert "DPWG recommendations (529 rows)" in out
    assert "version 2024-03-25-16-13" in out
    assert "MPL-2.0" in out and "CC0" in out and "CC BY-SA 4.0" in out and "MIT" in out
    assert "WARNING: The recommendation tables (2024-03-25-16-13) are older than the allele definitions" in out


def test_kb_info_json(capsys):
    assert main(["kb", "info", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["origin"] == "bundled"
    names = {t["key"] for t in data["tables"]}
    assert {"cpic_recommendations", "dpwg_recommendations", "cpic_phenotypes", "allele_definitions"} <= names
    for t in data["tables"]:
        assert {"name", "version", "date", "source", "licence", "file_count", "sha256"} <= set(t)
    assert len(data["bundle_sha256"]) == 64


def test_kb_import_then_info_uses_it(capsys, tmp_path):
    assert main(["kb", "import", str(FIXTURES / "prescribing_guidance.json"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["origin"] == "imported" and data["activated"] is True
    assert data["recommendation_version"] == "2025-06-01-00-00"
    assert Path(data["installed_at"]).is_relative_to(tmp_path / "home")
    kbmod.clear_cache()
    assert main(["kb", "info", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["kb_id"] == data["kb_id"]


def test_kb_import_with_home_option_text(capsys, tmp_path):
    home = tmp_path / "elsewhere"
    assert main(["kb", "import", str(FIXTURES / "pharmcat_checkout"), "--home", str(home), "--no-activate"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("installed (not activated):")
    assert (home / "kb").is_dir() and not (home / "kb" / "CURRENT").exists()


def test_kb_import_malformed_exits_1_with_one_line(capsys, tmp_path):
    bad = tmp_path / "prescribing_guidance.json"
    bad.write_text('{"version": "x", "guidelines": [{"guideline": {"id": "PA1"}}]}')
    assert main(["kb", "import", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert str(bad) in err and "guideline PA1" in err and "guideline.name" in err and "fix:" in err
    assert "Traceback" not in err


def test_kb_without_subcommand_is_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["kb"])
    assert exc.value.code == 2
