"""Knowledge-base info, precedence and import (merged and per-guideline formats, malformed input)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from genomics.errors import KnowledgeBaseError
from genomics.pgx import knowledge_base as kbmod
from genomics.pgx.guidance import guidance_for_drug
from genomics.pgx.knowledge_base import (
    BUNDLED_ROOT,
    active_knowledge_base,
    bundled_knowledge_base,
    import_knowledge_base,
    kb_home,
    knowledge_base_info,
)
from genomics.pgx.phenotypes import assign_phenotype

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pgx_kb"
MERGED = FIXTURES / "prescribing_guidance.json"
CHECKOUT = FIXTURES / "pharmcat_checkout"


@pytest.fixture(autouse=True)
def _isolated_kb(isolated_kb):
    """Every test here gets a private knowledge-base home (tests/conftest.py: ``isolated_kb``)."""
    return isolated_kb


def test_bundled_info_lists_every_table():
    info = knowledge_base_info()
    assert info.origin == "bundled"
    tables = {t.key: t for t in info.tables}
    assert set(tables) >= {"cpic_phenotypes", "dpwg_phenotypes", "cpic_recommendations", "dpwg_recommendations",
                           "report_messages", "allele_definitions", "positions", "pypgx_g6pd"}
    assert tables["cpic_recommendations"].file_count == 56
    assert tables["dpwg_recommendations"].file_count == 62
    assert tables["cpic_phenotypes"].file_count == 19
    assert tables["dpwg_phenotypes"].file_count == 13
    assert tables["cpic_recommendations"].version == "2024-03-25-16-13"
    assert tables["cpic_recommendations"].date == "2024-03-25"
    assert "CC0" in tables["cpic_recommendations"].licence and "MPL-2.0" in tables["cpic_recommendations"].licence
    assert "CC BY-SA 4.0" in tables["dpwg_recommendations"].licence
    assert "MIT" in tables["pypgx_g6pd"].licence
    for t in info.tables:
        assert re.fullmatch(r"[0-9a-f]{64}", t.sha256)
    assert re.fullmatch(r"[0-9a-f]{64}", info.bundle_sha256)
    assert info.definition_version == "2025-11-05-00-25"
    assert info.warnings and "older than the allele definitions" in info.warnings[0]
    assert "March 2024" in info.warnings[0] and "DPYD" in info.warnings[0]
    json.dumps(info.to_dict())


def test_bundle_hash_is_stable():
    assert knowledge_base_info().bundle_sha256 == knowledge_base_info().bundle_sha256


def test_provenance_says_recommendations_are_older():
    prov = bundled_knowledge_base().provenance()
    assert prov["recommendation_tables_version"] == "2024-03-25-16-13"
    assert prov["allele_definitions_version"] == "2025-11-05-00-25"
    assert "refresh" in prov["staleness_warning"]


def test_import_merged_prescribing_guidance(tmp_path):
    kb = import_knowledge_base(MERGED)
    assert kb.origin == "imported"
    assert kb.root.parent == kb_home()
    assert kb.recommendation_version() == "2025-06-01-00-00"
    assert len(kb.guideline_packages()) == 2
    manifest = json.loads((kb.root / "kb_manifest.json").read_text())
    assert manifest["format"] == "merged prescribing_guidance.json"
    assert manifest["files"][0]["sha256"]
    # later runs use it (CURRENT pointer), and tables it lacks come from the bundle
    kbmod.clear_cache()
    active = active_knowledge_base()
    assert active.root == kb.root
    info = active.info()
    origins = {t.key: t.origin for t in info.tables}
    assert origins["cpic_recommendations"] == "imported"
    assert origins["cpic_phenotypes"] == "bundled"
    g = guidance_for_drug("clopidogrel", {"CYP2C19": ("*2", "*2")}, sources=("CPIC",))
    assert {r.version for r in g.recommendations} == {"2025-06-01-00-00"}
    assert all(not r.trusted_html for r in g.recommendations)
    assert g.provenance["kb_origin"] == "imported"
    # no staging leftovers
    assert not [p for p in kb_home().iterdir() if p.name.startswith(".")]


def test_import_checkout_with_phenotypes(tmp_path):
    kb = import_knowledge_base(CHECKOUT)
    assert len(kb.guideline_packages()) == 2
    tpmt = kb.phenotype_table("TPMT")
    assert tpmt["version"] == "2025-06-01-00-00"
    assert assign_phenotype("TPMT", "*3A", "*3A", kb=kb).phenotype == "Poor Metabolizer"
    assert assign_phenotype("TPMT", "*3A", "*3A", kb=kb).source_version == "2025-06-01-00-00"
    # genes the import lacks still come from the bundle
    assert kb.phenotype_table("CYP2C19")["version"] == "2025-11-05-00-25"


def test_import_is_idempotent_and_can_skip_activation(tmp_path):
    a = import_knowledge_base(MERGED, activate=False)
    assert not (kb_home() / "CURRENT").exists()
    assert active_knowledge_base().origin == "bundled"
    b = import_knowledge_base(MERGED)
    assert a.root == b.root
    assert (kb_home() / "CURRENT").read_text().strip() == b.root.name


def test_env_override_and_bundled(monkeypatch):
    kb = import_knowledge_base(MERGED)
    monkeypatch.setenv(kbmod.ENV_KB_DIR, "bundled")
    assert active_knowledge_base().origin == "bundled"
    monkeypatch.setenv(kbmod.ENV_KB_DIR, str(kb.root))
    assert active_knowledge_base().root == kb.root
    monkeypatch.setenv(kbmod.ENV_KB_DIR, str(kb.root.parent / "nope"))
    with pytest.raises(KnowledgeBaseError, match="RECOMMENDER_KB_DIR"):
        active_knowledge_base()


def test_dangling_current_pointer_is_a_clear_error():
    home = kb_home()
    home.mkdir(parents=True)
    (home / "CURRENT").write_text("gone\n")
    with pytest.raises(KnowledgeBaseError) as err:
        active_knowledge_base()
    assert err.value.file.endswith("CURRENT") and "gone" in err.value.message


def _write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _nothing_installed() -> bool:
    home = kb_home()
    return not home.exists() or not [p for p in home.iterdir() if p.name != "CURRENT"]


def test_malformed_json_names_file_and_line(tmp_path):
    bad = _write(tmp_path / "prescribing_guidance.json", '{"version": "x", "guidelines": [\n{"guideline": }]}')
    with pytest.raises(KnowledgeBaseError) as err:
        import_knowledge_base(bad)
    assert err.value.file == str(bad)
    assert err.value.record == "line 2"
    assert _nothing_installed()


def test_missing_lookup_key_names_record_and_field(tmp_path):
    data = json.loads(MERGED.read_text())
    del data["guidelines"][1]["recommendations"][1]["lookupKey"]
    bad = _write(tmp_path / "prescribing_guidance.json", data)
    with pytest.raises(KnowledgeBaseError) as err:
        import_knowledge_base(bad)
    gid = data["guidelines"][1]["guideline"]["id"]
    assert err.value.field == "lookupKey"
    assert gid in err.value.record and "recommendation #1" in err.value.record
    assert "fix" in err.value.one_line()
    assert _nothing_installed()


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["guidelines"][0]["guideline"].pop("source"), "guideline.source"),
        (lambda d: d["guidelines"][0]["recommendations"][0].__setitem__("text", {"html": 5}), "text.html"),
        (lambda d: d["guidelines"][0]["recommendations"][0].__setitem__("lookupKey", {"CYP2C19": [1]}),
         "lookupKey.CYP2C19"),
        (lambda d: d.__setitem__("guidelines", {"a": 1}), "guidelines"),
    ],
)
def test_malformed_records(tmp_path, mutate, field):
    data = json.loads(MERGED.read_text())
    mutate(data)
    bad = _write(tmp_path / "prescribing_guidance.json", data)
    with pytest.raises(KnowledgeBaseError) as err:
        import_knowledge_base(bad)
    assert err.value.field == field
    assert _nothing_installed()


def test_malformed_phenotype_table_in_checkout(tmp_path):
    root = tmp_path / "checkout"
    shutil.copytree(CHECKOUT, root)
    pheno = next(root.rglob("TPMT.json"))
    data = json.loads(pheno.read_text())
    data["diplotypes"][0]["diplotypekey"] = "oops"
    pheno.write_text(json.dumps(data))
    with pytest.raises(KnowledgeBaseError) as err:
        import_knowledge_base(root)
    assert err.value.file == str(pheno) and err.value.field == "diplotypekey"
    assert _nothing_installed()


def test_nothing_to_import(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(KnowledgeBaseError, match="no recommendation tables"):
        import_knowledge_base(tmp_path / "empty")
    with pytest.raises(KnowledgeBaseError, match="no such file"):
        import_knowledge_base(tmp_path / "missing")


def test_never_writes_into_the_package(monkeypatch):
    monkeypatch.setenv(kbmod.ENV_HOME, str(BUNDLED_ROOT))
    with pytest.raises(KnowledgeBaseError, match="installed package"):
        import_knowledge_base(MERGED)
    assert not (BUNDLED_ROOT / "kb").exists()


# --------------------------------------------------------------------------------------------------
# provenance of the bundled files

PHARMCAT = BUNDLED_ROOT / "pharmcat"
_R = "src/main/resources/org/pharmgkb/pharmcat/"
_ROW = re.compile(r"^\| `([^`]+)` \| `([^`]+)` \| ([^|]+?) `([0-9a-f]{7})` \| (\d{4}-\d{2}-\d{2}) \| `([0-9a-f]{64})` \|$")


def _provenance_rows() -> dict[str, tuple[str, str, str]]:
    rows = {}
    for line in (PHARMCAT / "PROVENANCE.md").read_text(encoding="utf-8").splitlines():
        m = _ROW.match(line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(4), m.group(6))
    return rows


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_provenance_lists_every_pharmcat_file_with_its_hash():
    rows = _provenance_rows()
    files = {p.relative_to(PHARMCAT).as_posix(): p for p in PHARMCAT.rglob("*")
             if p.is_file() and p.name != "PROVENANCE.md"}
    assert set(rows) == set(files)
    for rel, path in files.items():
        assert rows[rel][2] == _sha(path), f"{rel} changed since PROVENANCE.md was written"
    assert (PHARMCAT / "LICENSE").read_text().startswith("Mozilla Public License")


def test_pypgx_files_have_licence_and_provenance():
    folder = BUNDLED_ROOT / "pypgx"
    text = (folder / "PROVENANCE.md").read_text()
    for name in ("G6PD-allele-table.csv", "G6PD-diplotype-table.csv", "LICENSE"):
        assert _sha(folder / name) in text
    assert "MIT License" in (folder / "LICENSE").read_text()


_SHARED_FOLDER = {"5431bf1": "main-5431bf1", "5112473": "v2.15.4", "5cb6717": "commit-5cb6717",
                  "0585c29": "v2.12.0"}


def test_bundled_pharmcat_files_are_unmodified_copies(shared_data):
    source_root = shared_data / "pgx" / "pharmcat"
    for rel, (src, commit, digest) in _provenance_rows().items():
        local = src[len(_R):] if src.startswith(_R) else (
            "LICENSE" if src == "LICENSE" else f"repo-root/{src}")
        source = source_root / _SHARED_FOLDER[commit] / local
        assert source.is_file(), source
        assert _sha(source) == digest, rel


def test_bundled_pypgx_rows_equal_source_rows(shared_data):
    src = shared_data / "pgx" / "pypgx" / "master-fa6b9f7" / "api" / "data"
    for name in ("allele-table.csv", "diplotype-table.csv"):
        lines = (src / name).read_text(encoding="utf-8").splitlines(keepends=True)
        want = [lines[0]] + [ln for ln in lines[1:] if ln.startswith("G6PD,")]
        assert (BUNDLED_ROOT / "pypgx" / f"G6PD-{name}").read_text(encoding="utf-8") == "".join(want)
