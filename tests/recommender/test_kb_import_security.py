"""Issue 15 (8): ``recommender kb import`` cannot write outside the KB folder or activate a broken KB.

A guideline file's ``version`` becomes part of the installed folder's name; before the fix a version
holding a path wrote (and ``rmtree``'d) outside ``$RECOMMENDER_HOME/kb``, and a numeric version was
installed, activated and then broke ``kb info``, ``pgx --drug`` and ``score``.
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from genomics.pgx import knowledge_base as kbmod
from recommender.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pgx_kb"


@pytest.fixture(autouse=True)
def _isolated_kb(isolated_kb):
    """Every test here gets a private knowledge-base home (tests/conftest.py: ``isolated_kb``)."""
    return isolated_kb


def _guidance_with_version(tmp_path: Path, version, *, per_package: bool = False) -> Path:
    data = json.loads((FIXTURES / "prescribing_guidance.json").read_text())
    if per_package:
        data.pop("version", None)
        for pkg in data["guidelines"]:
            pkg["version"] = version
    else:
        data["version"] = version
    out = tmp_path / "in" / "prescribing_guidance.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data).replace("NaN_MARKER", "NaN").replace('"NaN"', "NaN"))
    return out


def _files_outside(root: Path, inside: Path) -> set[Path]:
    return {p for p in root.rglob("*") if not p.is_relative_to(inside) and p.name != "prescribing_guidance.json"}


@pytest.mark.parametrize("version", ["../escaped", "../../escaped", "/abs/escaped", "a/../../escaped", "..",
                                     "x\\..\\y", "2025-06-01\nCURRENT"])
@pytest.mark.parametrize("per_package", [False, True])
def test_kb_import_version_holding_a_path_is_refused(tmp_path, capsys, version, per_package):
    src = _guidance_with_version(tmp_path, version, per_package=per_package)
    before = _files_outside(tmp_path, tmp_path / "home" / "kb")
    assert main(["kb", "import", str(src)]) == 1
    err = capsys.readouterr().err
    assert "version" in err and "Traceback" not in err
    assert _files_outside(tmp_path, tmp_path / "home" / "kb") == before
    assert not (tmp_path / "escaped").exists() and not Path("/abs/escaped").exists()
    assert not (tmp_path / "home" / "kb" / "CURRENT").exists()


@pytest.mark.parametrize("version", [12345, "NaN", 1.5, True, None, ["2025"], {"v": 1}])
def test_kb_import_numeric_version_is_refused_and_nothing_activated(tmp_path, capsys, version):
    src = _guidance_with_version(tmp_path, version)
    if version is None:  # no version at all: allowed, installed as 'unversioned'
        assert main(["kb", "import", str(src)]) == 0
    else:
        assert main(["kb", "import", str(src)]) == 1
        assert "version" in capsys.readouterr().err
        assert not (tmp_path / "home" / "kb" / "CURRENT").exists()
    kbmod.clear_cache()
    assert main(["kb", "info", "--json"]) == 0  # the KB in force (bundled, or the valid import) still loads
    kb = kbmod.active_knowledge_base()
    assert kb.guideline_packages() and kb.provenance()["recommendation_tables_version"]


def test_kb_pointer_naming_a_path_is_refused(tmp_path):
    folder = tmp_path / "home" / "kb"
    folder.mkdir(parents=True)
    outside = tmp_path / "outside"
    (outside).mkdir()
    (outside / kbmod.MANIFEST_NAME).write_text("{}")
    (folder / kbmod.CURRENT_NAME).write_text("../../outside\n")
    with pytest.raises(kbmod.KnowledgeBaseError):
        kbmod.active_knowledge_base()


def test_kb_import_never_activates_what_fails_validation(tmp_path, monkeypatch, capsys):
    def broken_info(self):
        raise kbmod.KnowledgeBaseError("simulated broken table", file=self.root)

    monkeypatch.setattr(kbmod.KnowledgeBase, "info", broken_info)
    assert main(["kb", "import", str(FIXTURES / "prescribing_guidance.json")]) == 1
    assert "simulated broken table" in capsys.readouterr().err
    folder = tmp_path / "home" / "kb"
    assert not (folder / kbmod.CURRENT_NAME).exists()
    assert not [p for p in folder.iterdir() if (p / kbmod.MANIFEST_NAME).exists()] if folder.exists() else True


@pytest.mark.parametrize("kind", ["zip", "tar.gz", "tar"])
def test_kb_import_archive_says_unpack_first(tmp_path, capsys, kind):
    payload = (FIXTURES / "prescribing_guidance.json").read_bytes()
    path = tmp_path / f"pharmcat.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("prescribing_guidance.json", payload)
    else:
        with tarfile.open(path, "w:gz" if kind == "tar.gz" else "w") as t:
            info = tarfile.TarInfo("prescribing_guidance.json")
            info.size = len(payload)
            t.addfile(info, io.BytesIO(payload))
    assert main(["kb", "import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "archives are not read: unpack it first" in err
    assert "\n" not in err.strip()
