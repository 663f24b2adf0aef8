"""Pharmacogenomic knowledge base: which tables are in use, their versions, and import of newer ones.

The knowledge base (KB) is the set of tables the PGx code reads at run time:

* CPIC phenotype tables (allele function, activity values, diplotype -> phenotype / lookup key),
  PharmCAT ``phenotype/*.json`` (MPL-2.0 files, CPIC CC0 content);
* DPWG phenotype tables (PharmCAT v2.12.0 ``phenotype/dpwg/*.json``);
* CPIC and DPWG recommendations (ClinPGx guideline annotations as packaged by PharmCAT: one file per
  guideline up to v2.12.0, or one merged ``prescribing_guidance.json`` since v2.13);
* PharmCAT report messages, allele definitions and positions (read by the caller);
* PyPGx G6PD allele-function and diplotype tables (MIT; CPIC has no G6PD phenotype file at hand).

Where tables come from (precedence, first match wins)
-----------------------------------------------------
1. ``$RECOMMENDER_KB_DIR``: the path of one knowledge-base version folder (as written by
   :func:`import_knowledge_base`), or the word ``bundled`` to force the tables shipped in the package.
2. The user data directory: ``$RECOMMENDER_HOME/kb`` (else ``$XDG_DATA_HOME/recommender/kb``, else
   ``~/.local/share/recommender/kb``); its ``CURRENT`` file names the active version folder.
3. The tables bundled in the package (``genomics/pgx/data``), read-only.

An imported version need not hold every table: a table it lacks (for example the DPWG phenotypes, or the
PyPGx G6PD tables) is taken from the bundle, and :func:`knowledge_base_info` says which layer each table
came from. Import never writes into the installed package.

Examples
--------
>>> kb = active_knowledge_base()
>>> kb.recommendation_version()[:10]
'2024-03-25'
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from genomics.errors import KnowledgeBaseError
from genomics.fileio import sha256_file

__all__ = [
    "BUNDLED_ROOT",
    "ENV_HOME",
    "ENV_KB_DIR",
    "STALENESS_NOTE",
    "KnowledgeBase",
    "KnowledgeBaseInfo",
    "TableInfo",
    "active_knowledge_base",
    "bundled_knowledge_base",
    "clear_cache",
    "import_knowledge_base",
    "kb_home",
    "knowledge_base_info",
    "validate_guideline_package",
    "validate_phenotype_table",
    "validate_version",
]

#: The tables shipped inside the package.
BUNDLED_ROOT = Path(__file__).resolve().parent / "data"
#: Explicit override: path of one KB version folder, or ``bundled``.
ENV_KB_DIR = "RECOMMENDER_KB_DIR"
#: User data home of the product (the KB lives in ``$RECOMMENDER_HOME/kb``).
ENV_HOME = "RECOMMENDER_HOME"
MANIFEST_NAME = "kb_manifest.json"
CURRENT_NAME = "CURRENT"

#: Said on every output whose recommendation tables are older than its allele definitions.
STALENESS_NOTE = (
    "The recommendation tables ({rec}) are older than the allele definitions ({defs}); CPIC/DPWG updates "
    "after March 2024 are missing (e.g. the 2025 DPWG DPYD changes): refresh with 'recommender kb import' "
    "before clinical use."
)

_PHARMCAT = "pharmcat"
_GUIDELINE_DIR = f"{_PHARMCAT}/reporter/guidelines"
_MERGED_GUIDANCE = f"{_PHARMCAT}/reporter/prescribing_guidance.json"
_MESSAGES = f"{_PHARMCAT}/reporter/messages.json"
_PHENO_CPIC = f"{_PHARMCAT}/phenotype/cpic"
_PHENO_DPWG = f"{_PHARMCAT}/phenotype/dpwg"
_DEFINITIONS = f"{_PHARMCAT}/definition"
_PYPGX = "pypgx"

_LICENCE_PHARMCAT_CPIC = "MPL-2.0 (PharmCAT files, unmodified); content CPIC CC0-1.0"
_LICENCE_PHARMCAT_CLINPGX = "MPL-2.0 (PharmCAT files, unmodified); content ClinPGx/PharmGKB CC BY-SA 4.0"
_LICENCE_DEFS = "MPL-2.0 (PharmCAT files, unmodified); content CPIC CC0-1.0 and PharmVar CC BY-SA 4.0"

#: What the bundle's files are (the sources are detailed in data/pharmcat/PROVENANCE.md).
_BUNDLED_SOURCES = {
    "cpic_phenotypes": "PharmCAT main 5431bf1 (2025-11-19) phenotype/*.json; CYP2D6 from v2.15.4, "
    "RYR1 from commit 5cb6717",
    "dpwg_phenotypes": "PharmCAT v2.12.0 (2024-04-23) phenotype/dpwg/*.json",
    "cpic_recommendations": "PharmCAT v2.12.0 (2024-04-23) reporter/guidelines/CPIC_*.json",
    "dpwg_recommendations": "PharmCAT v2.12.0 (2024-04-23) reporter/guidelines/DPWG_*.json",
    "report_messages": "PharmCAT main 5431bf1 (2025-11-19) reporter/messages.json",
    "allele_definitions": "PharmCAT main 5431bf1 (2025-11-19) definition/alleles/*",
    "positions": "PharmCAT main 5431bf1 (2025-11-19) pharmcat_positions.vcf, pharmcat_regions.bed",
    "pypgx_g6pd": "PyPGx fa6b9f7 (v0.26.0, 2026-01-04) api/data/{allele,diplotype}-table.csv, G6PD rows",
}


# --------------------------------------------------------------------------------------------------
# small helpers


def _combined_sha(root: Path, files: Iterable[Path]) -> str:
    """sha256 over ``relative path NUL file sha256 LF`` lines, sorted by path (stable across machines)."""
    digest = hashlib.sha256()
    for rel, path in sorted((p.relative_to(root).as_posix(), p) for p in files):
        digest.update(f"{rel}\0{sha256_file(path)}\n".encode())
    return digest.hexdigest()


def _date_of(version: str | None) -> str | None:
    """``2024-03-25-16-13`` -> ``2024-03-25`` (None when it does not start with a date)."""
    if version and len(version) >= 10 and version[4] == "-" and version[7] == "-":
        return version[:10]
    return None


def _load_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as err:
        raise KnowledgeBaseError(
            f"not valid JSON: {err.msg}",
            file=path,
            record=f"line {err.lineno}",
            fix="replace the file with an unmodified copy from the PharmCAT release",
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise KnowledgeBaseError(
            f"cannot read file: {err}", file=path, fix="check the path and its permissions"
        ) from None
    except (ValueError, RecursionError) as err:  # a number of > 4300 digits; nesting deeper than the stack
        raise KnowledgeBaseError(
            f"not valid JSON: {type(err).__name__}: {str(err)[:100]}",
            file=path,
            fix="replace the file with an unmodified copy from the PharmCAT release",
        ) from None


def gene_file_stem(gene: str) -> str:
    """PharmCAT file stem of a gene (``MT-RNR1`` -> ``MT_RNR1``)."""
    return gene.replace("-", "_")


# --------------------------------------------------------------------------------------------------
# validation (used for the bundle and, strictly, for imports)


#: A data version as PharmCAT/ClinPGx write it (``2024-03-25-16-13``, ``v2.15.4``): it names the installed
#: folder, so it must be one plain name (no separator, no ``..``, no whitespace), never a number.
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")
_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".gz", ".bz2", ".xz",
                     ".7z", ".rar", ".jar", ".whl")


def validate_version(value: Any, *, file: str | Path, record: str | None = None, field: str = "version") -> None:
    """Raise :class:`KnowledgeBaseError` unless ``value`` is ``None`` or a safe version text."""
    if value is None:
        return
    fix = "use an unmodified PharmCAT file: 'version' is text such as \"2024-03-25-16-13\""
    if not isinstance(value, str):
        raise KnowledgeBaseError(f"must be text, not {type(value).__name__} ({str(value)[:20]})", file=file,
                                 record=record, field=field, fix=fix)
    if not _VERSION_RE.match(value) or ".." in value:
        raise KnowledgeBaseError(f"not a version name ({value[:40]!r}): letters, digits and . _ + - only",
                                 file=file, record=record, field=field, fix=fix)


def _refuse_archive(path: Path) -> None:
    name = path.name.lower()
    try:
        with open(path, "rb") as handle:
            head = handle.read(262)
    except OSError:
        head = b""
    magic = head.startswith((b"PK\x03\x04", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"7z\xbc\xaf", b"Rar!")) or \
        head[257:262] == b"ustar"
    if magic or name.endswith(_ARCHIVE_SUFFIXES):
        raise KnowledgeBaseError("archives are not read: unpack it first", file=path,
                                 fix="unpack the archive and give its folder (or prescribing_guidance.json)")


def validate_guideline_package(pkg: Any, *, file: str | Path, index: int | None = None) -> None:
    """Raise :class:`KnowledgeBaseError` naming file, record and field when ``pkg`` is malformed.

    ``pkg`` is one ClinPGx guideline annotation as PharmCAT packages it:
    ``{"guideline": {...}, "recommendations": [...], "citations": [...], "version": "..."}``.
    """
    where = f"guideline #{index}" if index is not None else "guideline"
    fix = "use an unmodified PharmCAT guideline file (reporter/guidelines/*.json or prescribing_guidance.json)"
    if not isinstance(pkg, dict):
        raise KnowledgeBaseError("guideline entry is not a JSON object", file=file, record=where, fix=fix)
    guideline = pkg.get("guideline")
    if not isinstance(guideline, dict):
        raise KnowledgeBaseError("missing object", file=file, record=where, field="guideline", fix=fix)
    gid = guideline.get("id")
    where = f"guideline {gid}" if gid else where
    for key in ("id", "name", "source"):
        if not isinstance(guideline.get(key), str) or not guideline.get(key):
            raise KnowledgeBaseError(
                "missing or empty text", file=file, record=where, field=f"guideline.{key}", fix=fix
            )
    chems = guideline.get("relatedChemicals")
    if not isinstance(chems, list) or not all(isinstance(c, dict) and c.get("name") for c in chems):
        raise KnowledgeBaseError(
            "must be a list of chemicals with names", file=file, record=where,
            field="guideline.relatedChemicals", fix=fix,
        )
    recs = pkg.get("recommendations")
    if recs is None:
        recs = []
    if not isinstance(recs, list):
        raise KnowledgeBaseError("must be a list", file=file, record=where, field="recommendations", fix=fix)
    for i, rec in enumerate(recs):
        rwhere = f"{where} recommendation #{i}" + (f" ({rec.get('id')})" if isinstance(rec, dict) else "")
        if not isinstance(rec, dict):
            raise KnowledgeBaseError("recommendation is not an object", file=file, record=rwhere, fix=fix)
        key = rec.get("lookupKey")
        if not isinstance(key, dict) or not key:
            raise KnowledgeBaseError(
                "must be a non-empty object gene -> value", file=file, record=rwhere, field="lookupKey", fix=fix
            )
        for gene, value in key.items():
            ok = isinstance(value, str) or (
                isinstance(value, dict) and all(isinstance(v, (int, float)) for v in value.values())
            )
            if not ok:
                raise KnowledgeBaseError(
                    f"value for {gene} must be text or an allele -> count object", file=file, record=rwhere,
                    field=f"lookupKey.{gene}", fix=fix,
                )
        text = rec.get("text")
        if not isinstance(text, dict) or not isinstance(text.get("html"), str):
            raise KnowledgeBaseError("missing guideline text", file=file, record=rwhere, field="text.html", fix=fix)
        cls = rec.get("classification")
        if cls is not None and not isinstance(cls, dict):
            raise KnowledgeBaseError("must be an object or null", file=file, record=rwhere,
                                     field="classification", fix=fix)
        chem = rec.get("relatedChemicals")
        if chem is not None and (
            not isinstance(chem, list) or not all(isinstance(c, dict) and c.get("name") for c in chem)
        ):
            raise KnowledgeBaseError("must be a list of chemicals with names", file=file, record=rwhere,
                                     field="relatedChemicals", fix=fix)
        impl = rec.get("implications")
        if impl is not None and not (isinstance(impl, list) and all(isinstance(x, str) for x in impl)):
            raise KnowledgeBaseError("must be a list of text", file=file, record=rwhere, field="implications",
                                     fix=fix)
    validate_version(pkg.get("version"), file=file, record=where)
    cites = pkg.get("citations")
    if cites is not None and not isinstance(cites, list):
        raise KnowledgeBaseError("must be a list", file=file, record=where, field="citations", fix=fix)


def validate_phenotype_table(data: Any, *, file: str | Path) -> None:
    """Raise :class:`KnowledgeBaseError` when a PharmCAT phenotype file is malformed."""
    fix = "use an unmodified PharmCAT phenotype file (phenotype/<GENE>.json)"
    if not isinstance(data, dict):
        raise KnowledgeBaseError("phenotype table is not a JSON object", file=file, fix=fix)
    if not isinstance(data.get("gene"), str):
        raise KnowledgeBaseError("missing gene symbol", file=file, field="gene", fix=fix)
    validate_version(data.get("version"), file=file)
    dips = data.get("diplotypes")
    if not isinstance(dips, list):
        raise KnowledgeBaseError("must be a list", file=file, field="diplotypes", fix=fix)
    for i, row in enumerate(dips):
        where = f"diplotype #{i}"
        if not isinstance(row, dict):
            raise KnowledgeBaseError("row is not an object", file=file, record=where, fix=fix)
        key = row.get("diplotypekey")
        if not isinstance(key, dict) or not all(isinstance(v, int) for v in key.values()):
            raise KnowledgeBaseError("must be an allele -> count object", file=file,
                                     record=f"{where} ({row.get('diplotype')})", field="diplotypekey", fix=fix)
        if not isinstance(row.get("lookupkey"), str):
            raise KnowledgeBaseError("missing lookup key", file=file, record=f"{where} ({row.get('diplotype')})",
                                     field="lookupkey", fix=fix)
    named = data.get("namedAlleles", [])
    if not isinstance(named, list) or not all(isinstance(a, dict) and a.get("name") for a in named):
        raise KnowledgeBaseError("must be a list of alleles with names", file=file, field="namedAlleles", fix=fix)


# --------------------------------------------------------------------------------------------------
# the knowledge base object


@dataclass(frozen=True)
class TableInfo:
    """One knowledge table: what it is, which version, where it came from."""

    key: str
    name: str
    version: str | None
    date: str | None
    source: str
    licence: str
    file_count: int
    sha256: str | None
    origin: str  # "bundled" | "imported"
    path: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class KnowledgeBaseInfo:
    """Versions and provenance of every table in use (``recommender kb info``)."""

    kb_id: str
    origin: str
    root: str
    bundle_sha256: str
    recommendation_version: str | None
    definition_version: str | None
    tables: tuple[TableInfo, ...]
    warnings: tuple[str, ...]
    precedence: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tables"] = [t.to_dict() for t in self.tables]
        data["warnings"] = list(self.warnings)
        return data


class KnowledgeBase:
    """The tables in use: an imported version (optional) layered over the bundled tables.

    Parameters
    ----------
    root
        Folder with the KB layout (``pharmcat/phenotype/cpic``, ``pharmcat/reporter/...``, ``pypgx``).
    origin
        ``"bundled"`` or ``"imported"``. Imported guideline HTML is untrusted (sanitised when rendered).
    fallback
        Where tables missing from ``root`` are taken from (the bundle for an imported version).
    """

    def __init__(self, root: Path, origin: str = "bundled", fallback: KnowledgeBase | None = None) -> None:
        self.root = Path(root)
        self.origin = origin
        self.fallback = fallback
        self._lock = threading.Lock()
        self._guidelines: list[dict[str, Any]] | None = None
        self._guideline_origin: str | None = None
        self._phenotypes: dict[tuple[str, str], dict[str, Any] | None] = {}
        self._manifest: dict[str, Any] | None = None

    # -- identity -------------------------------------------------------------------------------
    @property
    def trusted(self) -> bool:
        """Bundled tables are trusted (their HTML is shown as is); imported ones are sanitised."""
        return self.origin == "bundled"

    @property
    def manifest(self) -> dict[str, Any]:
        if self._manifest is None:
            path = self.root / MANIFEST_NAME
            self._manifest = _load_json(path) if path.is_file() else {}
        return self._manifest

    @property
    def kb_id(self) -> str:
        if self.origin == "bundled":
            return f"bundled-{self.recommendation_version() or 'unknown'}"
        return str(self.manifest.get("kb_id") or self.root.name)

    def __repr__(self) -> str:
        return f"KnowledgeBase(origin={self.origin!r}, root={str(self.root)!r})"

    # -- layered file lookup --------------------------------------------------------------------
    def _layers(self) -> Iterator[KnowledgeBase]:
        kb: KnowledgeBase | None = self
        while kb is not None:
            yield kb
            kb = kb.fallback

    def phenotype_path(self, gene: str, source: str = "CPIC") -> tuple[Path, KnowledgeBase] | None:
        sub = _PHENO_CPIC if source.upper() == "CPIC" else _PHENO_DPWG
        for layer in self._layers():
            path = layer.root / sub / f"{gene_file_stem(gene)}.json"
            if path.is_file():
                return path, layer
        return None

    def phenotype_table(self, gene: str, source: str = "CPIC") -> dict[str, Any] | None:
        """The PharmCAT phenotype table of ``gene`` for ``source`` (``CPIC``/``DPWG``), or None."""
        key = (gene.upper(), source.upper())
        with self._lock:
            if key in self._phenotypes:
                return self._phenotypes[key]
        found = self.phenotype_path(gene, source)
        data = None
        if found is not None:
            path, _layer = found
            data = _load_json(path)
            validate_phenotype_table(data, file=path)
            data = dict(data)
            data["_file"] = str(path)
        with self._lock:
            self._phenotypes[key] = data
        return data

    def phenotype_genes(self, source: str = "CPIC") -> list[str]:
        sub = _PHENO_CPIC if source.upper() == "CPIC" else _PHENO_DPWG
        genes: set[str] = set()
        for layer in self._layers():
            folder = layer.root / sub
            if folder.is_dir():
                genes.update(p.stem.replace("_", "-") for p in folder.glob("*.json"))
        return sorted(genes)

    def pypgx_file(self, name: str) -> Path | None:
        for layer in self._layers():
            path = layer.root / _PYPGX / name
            if path.is_file():
                return path
        return None

    def messages(self) -> list[dict[str, Any]]:
        """PharmCAT report message rules (``reporter/messages.json``), loaded once."""
        cached = getattr(self, "_messages", None)
        if cached is not None:
            return cached
        self._messages = self._load_messages()
        return self._messages

    def _load_messages(self) -> list[dict[str, Any]]:
        for layer in self._layers():
            path = layer.root / _MESSAGES
            if path.is_file():
                data = _load_json(path)
                if not isinstance(data, list):
                    raise KnowledgeBaseError("must be a list of message rules", file=path,
                                             fix="use an unmodified PharmCAT reporter/messages.json")
                return data
        return []

    def definitions_dir(self) -> Path:
        """Allele definitions in use (always the bundle's: import does not replace the caller's tables)."""
        last = list(self._layers())[-1]
        return last.root / _DEFINITIONS

    # -- guidelines -----------------------------------------------------------------------------
    def _guideline_layer(self) -> tuple[KnowledgeBase, list[Path], bool]:
        for layer in self._layers():
            merged = layer.root / _MERGED_GUIDANCE
            if merged.is_file():
                return layer, [merged], True
            folder = layer.root / _GUIDELINE_DIR
            files = sorted(folder.glob("*.json")) if folder.is_dir() else []
            if files:
                return layer, files, False
        raise KnowledgeBaseError(
            "no recommendation tables found", file=self.root / _GUIDELINE_DIR,
            fix="reinstall the package or run 'recommender kb import PATH' with a PharmCAT release",
        )

    def guideline_packages(self) -> list[dict[str, Any]]:
        """Every guideline annotation (validated), each with ``_file`` and ``_trusted`` added."""
        with self._lock:
            if self._guidelines is not None:
                return self._guidelines
        layer, files, merged = self._guideline_layer()
        packages = list(_read_guideline_files(files, merged))
        for pkg in packages:
            pkg["_trusted"] = layer.trusted
        with self._lock:
            self._guidelines = packages
            self._guideline_origin = layer.origin
        return packages

    def guideline_origin(self) -> str:
        self.guideline_packages()
        return self._guideline_origin or self.origin

    def recommendation_version(self) -> str | None:
        """Newest data version over the recommendation tables (e.g. ``2024-03-25-16-13``)."""
        versions = {p.get("version") for p in self.guideline_packages() if p.get("version")}
        return max(versions) if versions else None

    def definition_version(self) -> str | None:
        folder = self.definitions_dir()
        versions: set[str] = set()
        if folder.is_dir():
            for path in folder.rglob("*_translation.json"):
                try:
                    with open(path, encoding="utf-8") as handle:
                        head = handle.read(400)
                except OSError:
                    continue
                marker = '"version"'
                if marker in head:
                    tail = head.split(marker, 1)[1]
                    value = tail.split('"')[1] if tail.count('"') >= 2 else ""
                    if value:
                        versions.add(value)
        if versions:
            return max(versions)
        return "2025-11-05-00-25" if self.origin == "bundled" or self.fallback else None

    def staleness_warning(self) -> str | None:
        """The provenance note when recommendations are older than the allele definitions."""
        rec, defs = self.recommendation_version(), self.definition_version()
        if rec and defs and _date_of(rec) and _date_of(defs) and _date_of(rec) < _date_of(defs):
            return STALENESS_NOTE.format(rec=rec, defs=defs)
        return None

    def provenance(self) -> dict[str, Any]:
        """Short provenance block stamped on every PGx output (computed once per knowledge base)."""
        cached = getattr(self, "_provenance", None)
        if cached is not None:
            return dict(cached)
        pheno_versions = {}
        for gene in ("CYP2C19", "CYP2D6", "RYR1", "DPYD"):
            table = self.phenotype_table(gene, "CPIC")
            if table:
                pheno_versions[gene] = table.get("version")
        self._provenance = {
            "kb_id": self.kb_id,
            "kb_origin": self.origin,
            "recommendation_tables_version": self.recommendation_version(),
            "allele_definitions_version": self.definition_version(),
            "cpic_phenotype_versions": pheno_versions,
            "staleness_warning": self.staleness_warning(),
        }
        return dict(self._provenance)

    # -- info -----------------------------------------------------------------------------------
    def info(self) -> KnowledgeBaseInfo:
        tables: list[TableInfo] = []

        def add(key: str, name: str, layer: KnowledgeBase, files: list[Path], version: str | None,
                licence: str) -> None:
            if not files:
                return
            source = _BUNDLED_SOURCES.get(key, "") if layer.origin == "bundled" else (
                f"imported from {layer.manifest.get('source_path', '?')} on {layer.manifest.get('imported_at', '?')}"
            )
            common = os.path.commonpath([str(f) for f in files]) if len(files) > 1 else str(files[0])
            tables.append(TableInfo(
                key=key, name=name, version=version, date=_date_of(version), source=source, licence=licence,
                file_count=len(files), sha256=_combined_sha(layer.root, files), origin=layer.origin,
                path=common,
            ))

        for source, key, name, licence in (
            ("CPIC", "cpic_phenotypes", "CPIC allele function and phenotype tables", _LICENCE_PHARMCAT_CPIC),
            ("DPWG", "dpwg_phenotypes", "DPWG phenotype tables (ClinPGx)", _LICENCE_PHARMCAT_CLINPGX),
        ):
            by_layer: dict[int, tuple[KnowledgeBase, list[Path]]] = {}
            for gene in self.phenotype_genes(source):
                found = self.phenotype_path(gene, source)
                if found:
                    path, layer = found
                    by_layer.setdefault(id(layer), (layer, []))[1].append(path)
            for layer, files in by_layer.values():
                versions = sorted({str(_peek_version(f)) for f in files if _peek_version(f)})
                version = versions[-1] if len(versions) == 1 else (
                    f"{versions[-1]} (oldest {versions[0]})" if versions else None)
                add(key, name, layer, files, version, licence)

        layer, files, merged = self._guideline_layer()
        pkgs = self.guideline_packages()
        for src, key in (("CPIC", "cpic_recommendations"), ("DPWG", "dpwg_recommendations")):
            versions = sorted({p.get("version") for p in pkgs if p["guideline"]["source"].upper() == src
                               and p.get("version")})
            src_files = files if merged else sorted({Path(p["_file"]) for p in pkgs
                                                     if p["guideline"]["source"].upper() == src})
            lic = _LICENCE_PHARMCAT_CPIC + "; annotation wrapper ClinPGx CC BY-SA 4.0" if src == "CPIC" \
                else _LICENCE_PHARMCAT_CLINPGX
            n_rows = sum(len(p.get("recommendations") or []) for p in pkgs
                         if p["guideline"]["source"].upper() == src)
            add(key, f"{src} recommendations ({n_rows} rows)", layer, src_files,
                versions[-1] if versions else None, lic)

        for lay in self._layers():
            path = lay.root / _MESSAGES
            if path.is_file():
                add("report_messages", "PharmCAT report messages", lay, [path], None, "MPL-2.0 (PharmCAT)")
                break
        base = list(self._layers())[-1]
        defs = base.root / _DEFINITIONS
        if defs.is_dir():
            def_files = sorted(p for p in defs.rglob("*.json"))
            pos_files = sorted(p for p in defs.rglob("*") if p.suffix in {".vcf", ".bed", ".gz", ".tbi"})
            add("allele_definitions", "CPIC/PharmVar allele definitions (GRCh38)", base, def_files,
                self.definition_version(), _LICENCE_DEFS)
            add("positions", "PharmCAT positions and regions (GRCh38)", base, pos_files, "2025-11-19 (main 5431bf1)",
                "MPL-2.0 (PharmCAT files, unmodified)")
        g6pd = [p for p in (self.pypgx_file("G6PD-allele-table.csv"), self.pypgx_file("G6PD-diplotype-table.csv"))
                if p]
        if g6pd:
            add("pypgx_g6pd", "PyPGx G6PD allele function and diplotype tables", base, g6pd,
                "0.26.0 (fa6b9f7, 2026-01-04)", "MIT (PyPGx); content CPIC CC0, PharmVar/PharmGKB CC BY-SA 4.0")

        digest = hashlib.sha256()
        for table in tables:
            digest.update(f"{table.key}\0{table.sha256}\n".encode())
        warnings = [w for w in (self.staleness_warning(),) if w]
        return KnowledgeBaseInfo(
            kb_id=self.kb_id, origin=self.origin, root=str(self.root), bundle_sha256=digest.hexdigest(),
            recommendation_version=self.recommendation_version(), definition_version=self.definition_version(),
            tables=tuple(tables), warnings=tuple(warnings), precedence=PRECEDENCE_TEXT,
        )


PRECEDENCE_TEXT = (
    f"${ENV_KB_DIR} (a KB version folder, or 'bundled') > user directory "
    f"(${ENV_HOME}/kb, else $XDG_DATA_HOME/recommender/kb, else ~/.local/share/recommender/kb; "
    f"its {CURRENT_NAME} file names the version) > tables bundled in the package; "
    "tables missing from an imported version come from the bundle"
)


def _peek_version(path: Path) -> str | None:
    try:
        data = _load_json(path)
    except KnowledgeBaseError:
        return None
    return data.get("version") if isinstance(data, dict) else None


def _read_guideline_files(files: list[Path], merged: bool) -> Iterator[dict[str, Any]]:
    for path in files:
        data = _load_json(path)
        if merged or (isinstance(data, dict) and "guidelines" in data):
            if not isinstance(data, dict) or not isinstance(data.get("guidelines"), list):
                raise KnowledgeBaseError(
                    "merged guidance file must be an object with a 'guidelines' list", file=path,
                    field="guidelines", fix="use an unmodified PharmCAT reporter/prescribing_guidance.json",
                )
            top_version = data.get("version")
            validate_version(top_version, file=path)
            for i, pkg in enumerate(data["guidelines"]):
                validate_guideline_package(pkg, file=path, index=i)
                pkg = dict(pkg)
                pkg.setdefault("version", top_version)
                pkg["recommendations"] = pkg.get("recommendations") or []
                pkg["_file"] = str(path)
                yield pkg
        else:
            validate_guideline_package(data, file=path)
            pkg = dict(data)
            pkg["recommendations"] = pkg.get("recommendations") or []
            pkg["_file"] = str(path)
            yield pkg


# --------------------------------------------------------------------------------------------------
# resolution


_CACHE: dict[tuple[str, str], KnowledgeBase] = {}
_CACHE_LOCK = threading.Lock()


def clear_cache() -> None:
    """Forget loaded tables (tests; after an import in the same process)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _cached(root: Path, origin: str) -> KnowledgeBase:
    key = (str(root), origin)
    with _CACHE_LOCK:
        kb = _CACHE.get(key)
        if kb is None:
            fallback = None if origin == "bundled" else _cached_bundled_unlocked()
            kb = KnowledgeBase(root, origin, fallback)
            _CACHE[key] = kb
        return kb


def _cached_bundled_unlocked() -> KnowledgeBase:
    key = (str(BUNDLED_ROOT), "bundled")
    kb = _CACHE.get(key)
    if kb is None:
        kb = KnowledgeBase(BUNDLED_ROOT, "bundled")
        _CACHE[key] = kb
    return kb


def bundled_knowledge_base() -> KnowledgeBase:
    """The tables shipped in the package."""
    return _cached(BUNDLED_ROOT, "bundled")


def kb_home(home: str | os.PathLike[str] | None = None) -> Path:
    """The user KB folder: ``home/kb`` if given, else ``$RECOMMENDER_HOME/kb``, else the XDG data dir.

    A home that exists but is not a folder (a file, a FIFO) is refused (issue 16), never silently ignored.
    """
    if home is not None or os.environ.get(ENV_HOME):
        base = Path(home if home is not None else os.environ[ENV_HOME]).expanduser()
        if base.exists() and not base.is_dir():
            raise KnowledgeBaseError("the data home is not a folder", file=str(base),
                                     field="--home" if home is not None else ENV_HOME,
                                     fix="give a folder (it is created when missing), not a file")
        return base / "kb"
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "recommender" / "kb"


def active_knowledge_base(home: str | os.PathLike[str] | None = None) -> KnowledgeBase:
    """The knowledge base in force (see the module docstring for the precedence)."""
    override = os.environ.get(ENV_KB_DIR)
    if override and home is None:
        if override.strip().lower() == "bundled":
            return bundled_knowledge_base()
        root = Path(override).expanduser()
        if not (root / MANIFEST_NAME).is_file():
            raise KnowledgeBaseError(
                "not a knowledge-base version folder (no kb_manifest.json)", file=root, field=ENV_KB_DIR,
                fix=f"point {ENV_KB_DIR} at a folder written by 'recommender kb import', or unset it",
            )
        return _cached(root.resolve(), "imported")
    folder = kb_home(home)
    pointer = folder / CURRENT_NAME
    if pointer.is_file():
        name = pointer.read_text(encoding="utf-8").strip()
        root = folder / name
        if not _is_plain_name(name):
            raise KnowledgeBaseError(
                "does not name a version folder inside the knowledge-base folder", file=pointer,
                fix=f"run 'recommender kb import PATH' again, or delete {pointer} to use the bundled tables",
            )
        if not name or not (root / MANIFEST_NAME).is_file():
            raise KnowledgeBaseError(
                f"names a missing knowledge-base version {name!r}", file=pointer,
                fix=f"run 'recommender kb import PATH' again, or delete {pointer} to use the bundled tables",
            )
        return _cached(root.resolve(), "imported")
    return bundled_knowledge_base()


def knowledge_base_info(home: str | os.PathLike[str] | None = None) -> KnowledgeBaseInfo:
    """Versions, dates, sources, licences, file counts and hashes of every table in use."""
    return active_knowledge_base(home).info()


# --------------------------------------------------------------------------------------------------
# import


def _find_resources_root(path: Path) -> Path | None:
    for candidate in (path / "src" / "main" / "resources" / "org" / "pharmgkb" / "pharmcat", path,
                      path / _PHARMCAT):
        if (candidate / "reporter").is_dir() or (candidate / "phenotype").is_dir():
            return candidate
    return None


def _is_plain_name(name: str) -> bool:
    """True for one folder name (no separator, not ``.``/``..``, no control character)."""
    return bool(name) and name not in {".", ".."} and "/" not in name and "\\" not in name and \
        name.isprintable() and not name.startswith(".")


def _collect_import(path: Path) -> dict[str, list[tuple[Path, str]]]:
    """Map KB destination kinds to (source file, destination relative path)."""
    found: dict[str, list[tuple[Path, str]]] = {"guidelines": [], "cpic": [], "dpwg": [], "messages": []}
    if path.is_file():
        _refuse_archive(path)
        data = _load_json(path)
        if isinstance(data, dict) and "guidelines" in data:
            found["guidelines"].append((path, _MERGED_GUIDANCE))
        elif isinstance(data, dict) and "guideline" in data:
            found["guidelines"].append((path, f"{_GUIDELINE_DIR}/{path.name}"))
        else:
            raise KnowledgeBaseError(
                "neither a merged prescribing_guidance.json nor a single guideline file", file=path,
                fix="give a PharmCAT checkout, its resources folder, or reporter/prescribing_guidance.json",
            )
        return found
    if not path.is_dir():
        raise KnowledgeBaseError("no such file or folder", file=path, fix="check the path")
    res = _find_resources_root(path)
    if res is None:
        files = sorted(path.glob("*.json"))
        for f in files:
            data = _load_json(f)
            if isinstance(data, dict) and "guidelines" in data:
                found["guidelines"].append((f, _MERGED_GUIDANCE))
            elif isinstance(data, dict) and "guideline" in data:
                found["guidelines"].append((f, f"{_GUIDELINE_DIR}/{f.name}"))
        return found
    merged = res / "reporter" / "prescribing_guidance.json"
    if merged.is_file():
        found["guidelines"].append((merged, _MERGED_GUIDANCE))
    else:
        for f in sorted((res / "reporter" / "guidelines").glob("*.json")):
            found["guidelines"].append((f, f"{_GUIDELINE_DIR}/{f.name}"))
    pheno = res / "phenotype"
    cpic_files = {f.name: f for f in sorted(pheno.glob("*.json"))}
    cpic_files.update({f.name: f for f in sorted((pheno / "cpic").glob("*.json"))})
    found["cpic"] = [(f, f"{_PHENO_CPIC}/{name}") for name, f in sorted(cpic_files.items())]
    found["dpwg"] = [(f, f"{_PHENO_DPWG}/{f.name}") for f in sorted((pheno / "dpwg").glob("*.json"))]
    messages = res / "reporter" / "messages.json"
    if messages.is_file():
        found["messages"].append((messages, _MESSAGES))
    return found


def _inside_package(path: Path) -> bool:
    package_root = Path(__file__).resolve().parents[1]  # genomics/
    try:
        path.resolve().relative_to(package_root)
    except ValueError:
        return False
    return True


def import_knowledge_base(
    path: str | os.PathLike[str],
    *,
    home: str | os.PathLike[str] | None = None,
    activate: bool = True,
) -> KnowledgeBase:
    """Validate newer PharmCAT/CPIC tables at ``path`` and install them as a new KB version.

    Parameters
    ----------
    path
        A PharmCAT source checkout (or its ``src/main/resources/org/pharmgkb/pharmcat`` folder), a merged
        ``prescribing_guidance.json`` (PharmCAT >= 2.13), a folder of per-guideline files (<= 2.12), or
        one guideline file. Phenotype tables (``phenotype/*.json``, ``phenotype/cpic``, ``phenotype/dpwg``)
        and ``reporter/messages.json`` are taken too when present.
    home
        Product data home (default: ``$RECOMMENDER_HOME``, else the XDG data directory).
    activate
        Make the new version the one in force (``CURRENT``).

    Returns
    -------
    KnowledgeBase
        The installed version (layered over the bundle).

    Raises
    ------
    KnowledgeBaseError
        Malformed input (names the file, record and field) or nothing importable at ``path``.
    """
    src = Path(path).expanduser()
    found = _collect_import(src)
    if not found["guidelines"]:
        raise KnowledgeBaseError(
            "no recommendation tables found (reporter/guidelines/*.json or reporter/prescribing_guidance.json)",
            file=src, fix="give a PharmCAT checkout, its resources folder, or a prescribing_guidance.json",
        )
    # Validate everything before writing anything.
    merged = any(dest == _MERGED_GUIDANCE for _, dest in found["guidelines"])
    if merged and len(found["guidelines"]) > 1:
        raise KnowledgeBaseError("more than one merged guidance file", file=src,
                                 fix="give one prescribing_guidance.json")
    packages = list(_read_guideline_files([f for f, _ in found["guidelines"]], merged))
    if not packages:
        raise KnowledgeBaseError("the guidance file holds no guidelines", file=found["guidelines"][0][0],
                                 field="guidelines", fix="use a complete PharmCAT release")
    for kind in ("cpic", "dpwg"):
        for f, _ in found[kind]:
            validate_phenotype_table(_load_json(f), file=f)
    for f, _ in found["messages"]:
        if not isinstance(_load_json(f), list):
            raise KnowledgeBaseError("must be a list of message rules", file=f,
                                     fix="use an unmodified PharmCAT reporter/messages.json")

    versions = sorted({p.get("version") for p in packages if p.get("version")})
    rec_version = versions[-1] if versions else "unversioned"
    content_sha = hashlib.sha256(
        "".join(f"{dest}\0{sha256_file(f)}\n" for kind in found.values() for f, dest in sorted(
            kind, key=lambda x: x[1])).encode()
    ).hexdigest()
    validate_version(rec_version, file=src)
    kb_id = f"{rec_version}-{content_sha[:8]}"
    folder = kb_home(home)
    if _inside_package(folder):
        raise KnowledgeBaseError("refusing to write into the installed package", file=folder, field=ENV_HOME,
                                 fix=f"set {ENV_HOME} to a user-writable folder outside the package")
    final = folder / kb_id
    if not _is_plain_name(kb_id) or final.resolve().parent != folder.resolve():  # belt and braces
        raise KnowledgeBaseError("the version does not make a folder name inside the knowledge-base folder",
                                 file=src, field="version", fix="use an unmodified PharmCAT file")
    folder.mkdir(parents=True, exist_ok=True)
    created = False
    if not (final / MANIFEST_NAME).is_file():
        created = True
        staging = Path(tempfile.mkdtemp(prefix=".import-", dir=folder))
        try:
            records = []
            for kind in found.values():
                for f, dest in kind:
                    target = staging / dest
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(f, target)
                    records.append({"path": dest, "source": str(f.resolve()), "sha256": sha256_file(target)})
            manifest = {
                "kb_id": kb_id,
                "source_path": str(src.resolve()),
                "imported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "recommendation_version": rec_version,
                "guideline_count": len(packages),
                "recommendation_rows": sum(len(p.get("recommendations") or []) for p in packages),
                "format": "merged prescribing_guidance.json" if merged else "per-guideline files",
                "files": records,
                "note": "Files copied unmodified (PharmCAT MPL-2.0; CPIC CC0; ClinPGx CC BY-SA 4.0).",
            }
            (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
            if final.exists():  # a half-written leftover without manifest
                shutil.rmtree(final)
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    clear_cache()
    try:  # load the installed version the way kb info, pgx and score will; never activate what fails
        candidate = KnowledgeBase(final.resolve(), "imported", bundled_knowledge_base())
        candidate.info()
        candidate.provenance()
    except Exception as err:
        if created:
            shutil.rmtree(final, ignore_errors=True)
        clear_cache()
        if isinstance(err, KnowledgeBaseError):
            raise
        raise KnowledgeBaseError(f"the imported tables do not load: {type(err).__name__}: {str(err)[:200]}",
                                 file=src, fix="use an unmodified PharmCAT release; nothing was activated") from None
    if activate:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{CURRENT_NAME}.", suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(kb_id + "\n")
        os.replace(tmp, folder / CURRENT_NAME)
    clear_cache()
    return _cached(final.resolve(), "imported")

