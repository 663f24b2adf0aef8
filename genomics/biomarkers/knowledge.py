"""The biomarker -> therapy table: loading, validation, rule matching, cancer-type hierarchy.

The table (``data/biomarker_therapy.json``) is written by the project from public facts (FDA
labels and approvals, guideline statements, pivotal trials), one citation list per row; its
version and sha256 go into every result's provenance. Third-party tables (MOAlmanac, CGI)
are read by :mod:`genomics.biomarkers.importers` into the same :class:`BiomarkerRule` form.

Row ``match`` kinds
-------------------
``mutation`` with ``rules`` (any rule matching is enough):

* ``exact:V600E`` -- this protein change (one-letter, normalised; ``p.Val600Glu`` matches);
* ``codon:R132`` -- any protein-altering change starting at that codon;
* ``codons:12,13,61`` -- a missense change (or in-frame indel starting) at one of the codons;
* ``inframe_deletion_in:729-761`` -- an in-frame deletion or deletion-insertion inside the
  codon range (EGFR exon 19 is codons 729-761);
* ``inframe_insertion_in:770-781`` / ``duplication_in:770-781`` -- in-frame insertions or
  duplications inside the range;
* ``protein_altering_in:550-592`` -- a missense change or in-frame indel inside the range;
* ``exon_inframe_deletion:19`` / ``exon_protein_altering:11`` -- the same, decided by the
  annotator's exon number (VEP ``EXON``, SnpEff ``Rank``, MAF ``Exon_Number``);
* ``loss_of_function`` -- nonsense, frameshift, start lost, a canonical splice-site change,
  or an annotation that the variant is pathogenic (ClinVar via VEP ``CLIN_SIG``).

``amplification``, ``deletion`` (copy number), ``fusion`` (any partner, or ``partners``),
``msi`` (``status`` list) and ``tmb`` (``min`` mut/Mb).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from genomics.biomarkers.protein_change import ProteinChange
from genomics.errors import KnowledgeBaseError
from genomics.fileio import sha256_file

__all__ = [
    "DEFAULT_TABLE",
    "EVIDENCE_LEVELS",
    "SPLICE_LOF_CONSEQUENCES",
    "BiomarkerRule",
    "Citation",
    "KnowledgeBase",
    "load_knowledge_base",
    "rule_matches",
]

DEFAULT_TABLE = "biomarker_therapy.json"
EVIDENCE_LEVELS = ("1", "2", "3A", "3B", "4", "R1", "R2")
MATCH_KINDS = ("mutation", "amplification", "deletion", "fusion", "msi", "tmb")
DIRECTIONS = ("sensitivity", "resistance")
SPLICE_LOF_CONSEQUENCES = frozenset({
    "splice_donor_variant", "splice_acceptor_variant", "stop_gained", "frameshift_variant", "start_lost",
    # SnpEff spellings
    "splice_donor_variant&intron_variant", "splice_acceptor_variant&intron_variant",
})
_RULE = re.compile(r"^(exact|codon|codons|inframe_deletion_in|inframe_insertion_in|duplication_in|"
                   r"protein_altering_in|exon_inframe_deletion|exon_protein_altering|loss_of_function)"
                   r"(?::(.+))?$")


@dataclass(frozen=True)
class Citation:
    """One source of a row: ``kind`` FDA / guideline / PMID / source; ``text``; year; pmid; url."""

    kind: str
    text: str
    year: int | None = None
    pmid: str | None = None
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class BiomarkerRule:
    """One row of a biomarker -> therapy table."""

    id: str
    genes: tuple[str, ...]
    alteration: str
    kind: str
    cancer_types: tuple[str, ...]
    therapies: tuple[str, ...]
    direction: str
    evidence_level: str
    citations: tuple[Citation, ...]
    rules: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    msi_status: tuple[str, ...] = ()
    tmb_min: float | None = None
    statement: str = ""
    source: str = "project table"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["citations"] = [c.to_dict() for c in self.citations]
        return d


@dataclass(frozen=True)
class KnowledgeBase:
    """A loaded, validated biomarker table.

    Attributes
    ----------
    rows : tuple[BiomarkerRule, ...]
    name, version, sha256, path : str
    evidence_levels : Mapping[str, str]
        Level -> its definition (the documented scale).
    parents : Mapping[str, str]
        OncoTree code -> parent code (``TISSUE`` is the root).
    """

    rows: tuple[BiomarkerRule, ...]
    name: str
    version: str
    sha256: str
    path: str
    evidence_levels: Mapping[str, str] = field(default_factory=dict)
    parents: Mapping[str, str] = field(default_factory=dict)
    licence: str = ""

    def provenance(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "sha256": self.sha256, "path": self.path,
                "licence": self.licence}

    def ancestors(self, code: str) -> list[str]:
        """``code`` and its parents up to ``TISSUE`` (``["LUAD", "NSCLC", "LUNG", "TISSUE"]``)."""
        out = [code]
        seen = {code}
        while out[-1] in self.parents:
            nxt = self.parents[out[-1]]
            if nxt in seen:
                break
            out.append(nxt)
            seen.add(nxt)
        if out[-1] != "TISSUE":
            out.append("TISSUE")
        return out

    def applies_to(self, row: BiomarkerRule, cancer_type: str | None) -> bool:
        """True when the row's cancer types include ``cancer_type`` or one of its ancestors."""
        if not cancer_type:
            return False
        lineage = set(self.ancestors(cancer_type.strip().upper()))
        return any(ct in lineage for ct in row.cancer_types)

    def rows_for_gene(self, gene: str) -> list[BiomarkerRule]:
        return [r for r in self.rows if gene in r.genes]

    def known_code(self, code: str) -> bool:
        code = code.strip().upper()
        return code == "TISSUE" or code in self.parents or code in set(self.parents.values())


def _default_path() -> Path:
    return Path(str(resources.files("genomics.biomarkers") / "data" / DEFAULT_TABLE))


def load_knowledge_base(path: str | Path | None = None) -> KnowledgeBase:
    """Load and validate a biomarker table in the project's JSON format.

    Parameters
    ----------
    path
        ``None``: the table shipped in the package. Otherwise a JSON file of the same shape.

    Raises
    ------
    KnowledgeBaseError
        Missing file, bad JSON, unknown level / direction / kind / cancer type or a malformed
        rule; the message names the file, the row id and the field.
    """
    p = _default_path() if path is None else Path(path)
    source = str(p)
    if not p.is_file():
        raise KnowledgeBaseError("biomarker table not found", file=source,
                                 fix="give the path of a biomarker table JSON (or leave it out for the bundled one)")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        line = getattr(err, "lineno", None)
        raise KnowledgeBaseError(f"not valid JSON ({err})", file=source, record=f"line {line}" if line else None,
                                 fix="repair the JSON (python -m json.tool FILE shows where) or restore the bundled table") from None
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise KnowledgeBaseError("no 'rows' list at the top level", file=source, field="rows",
                                 fix="use the format of genomics/biomarkers/data/biomarker_therapy.json")
    for key in ("version", "name"):
        if not data.get(key):
            raise KnowledgeBaseError(f"missing '{key}'", file=source, field=key,
                                     fix=f"add a '{key}' entry at the top level")
    parents = {str(k).upper(): str(v).upper() for k, v in (data.get("oncotree_parents") or {}).items()}
    known = set(parents) | set(parents.values()) | {"TISSUE"}
    rows = []
    seen: set[str] = set()
    for i, raw in enumerate(data["rows"]):
        rid = str(raw.get("id") or f"row {i + 1}") if isinstance(raw, dict) else f"row {i + 1}"
        row = _parse_row(raw, rid, source, known)
        if row.id in seen:
            raise KnowledgeBaseError("duplicate row id", file=source, record=rid, field="id",
                                     fix="give every row a unique id")
        seen.add(row.id)
        rows.append(row)
    return KnowledgeBase(
        rows=tuple(rows), name=str(data["name"]), version=str(data["version"]), sha256=sha256_file(p),
        path=source if path is not None else f"genomics/biomarkers/data/{DEFAULT_TABLE}",
        evidence_levels=dict(data.get("evidence_levels") or {}), parents=parents,
        licence=str(data.get("licence", "")),
    )


def _parse_row(raw: Any, rid: str, source: str, known: set[str]) -> BiomarkerRule:
    def bad(message: str, field_name: str, fix: str) -> KnowledgeBaseError:
        return KnowledgeBaseError(message, file=source, record=rid, field=field_name, fix=fix)

    if not isinstance(raw, dict):
        raise bad("row is not an object", "rows", "write each row as a JSON object")
    for key in ("id", "gene", "alteration", "match", "cancer_types", "therapies", "direction",
                "evidence_level", "citations"):
        if key not in raw or raw[key] in (None, "", []):
            raise bad(f"missing '{key}'", key, f"add '{key}' to the row")
    match = raw["match"]
    kind = match.get("kind") if isinstance(match, dict) else None
    if kind not in MATCH_KINDS:
        raise bad(f"unknown match kind {kind!r}", "match.kind", f"use one of: {', '.join(MATCH_KINDS)}")
    rules = tuple(str(r) for r in match.get("rules", []))
    if kind == "mutation":
        if not rules:
            raise bad("a mutation row needs match.rules", "match.rules", "add e.g. \"exact:V600E\"")
        for r in rules:
            check_rule(r, source=source, record=rid)
    level = str(raw["evidence_level"]).upper()
    if level not in EVIDENCE_LEVELS or level == "3B":
        raise bad(f"unknown evidence level {raw['evidence_level']!r}", "evidence_level",
                  "use 1, 2, 3A, 4, R1 or R2 (3B is computed, never stored)")
    direction = str(raw["direction"]).lower()
    if direction not in DIRECTIONS:
        raise bad(f"unknown direction {raw['direction']!r}", "direction", "use sensitivity or resistance")
    if direction == "resistance" and not level.startswith("R"):
        raise bad("a resistance row needs an R level", "evidence_level", "use R1 or R2")
    cts = tuple(str(c).strip().upper() for c in raw["cancer_types"])
    for ct in cts:
        if ct not in known:
            raise bad(f"unknown OncoTree code {ct!r}", "cancer_types",
                      "use an OncoTree code listed in oncotree_parents (or add it there)")
    therapies = tuple(str(t).strip() for t in raw["therapies"])
    if any(t != t.lower() or not t for t in therapies):
        raise bad("therapy names must be lower-case generic names", "therapies", "write e.g. \"osimertinib\"")
    citations = []
    for c in raw["citations"]:
        if not isinstance(c, dict) or not c.get("text") or not c.get("kind"):
            raise bad("a citation needs 'kind' and 'text'", "citations", "write {\"kind\": \"PMID\", \"pmid\": ..., \"text\": ...}")
        if c["kind"] == "PMID" and not str(c.get("pmid", "")).isdigit():
            raise bad("a PMID citation needs a numeric 'pmid'", "citations", "add the PubMed id")
        citations.append(Citation(kind=str(c["kind"]), text=str(c["text"]),
                                  year=int(c["year"]) if c.get("year") else None,
                                  pmid=str(c["pmid"]) if c.get("pmid") else None, url=c.get("url")))
    tmb_min = match.get("min")
    if kind == "tmb":
        try:
            tmb_min = float(tmb_min)
        except (TypeError, ValueError):
            raise bad("a tmb row needs a numeric match.min", "match.min", "write e.g. \"min\": 10") from None
    return BiomarkerRule(
        id=str(raw["id"]), genes=tuple(g.strip().upper() for g in str(raw["gene"]).split("|")),
        alteration=str(raw["alteration"]), kind=kind, cancer_types=cts, therapies=therapies,
        direction=direction, evidence_level=level, citations=tuple(citations), rules=rules,
        partners=tuple(str(p).upper() for p in match.get("partners", [])),
        msi_status=tuple(str(s) for s in match.get("status", [])), tmb_min=tmb_min,
        statement=str(raw.get("statement", "")),
    )


def check_rule(rule: str, *, source: str | None = None, record: str | None = None) -> None:
    """Raise :class:`KnowledgeBaseError` when ``rule`` is not in the rule grammar."""
    m = _RULE.match(rule)
    ok = m is not None
    if ok:
        name, arg = m.group(1), m.group(2)
        if name == "loss_of_function":
            ok = arg is None
        elif name in ("exact",):
            ok = bool(arg)
        elif name == "codon":
            ok = bool(arg and re.fullmatch(r"[A-Z*]\d+", arg))
        elif name == "codons":
            ok = bool(arg and re.fullmatch(r"\d+(,\d+)*", arg))
        elif name.startswith("exon_"):
            ok = bool(arg and arg.isdigit())
        else:
            ok = bool(arg and re.fullmatch(r"\d+-\d+", arg))
    if not ok:
        raise KnowledgeBaseError(f"malformed match rule {rule!r}", file=source, record=record, field="match.rules",
                                 fix="use exact:V600E, codon:R132, codons:12,13, inframe_deletion_in:729-761, "
                                     "exon_inframe_deletion:19, loss_of_function ...")


def _range(arg: str) -> tuple[int, int]:
    lo, hi = arg.split("-")
    return int(lo), int(hi)


def rule_matches(
    rule: str,
    change: ProteinChange,
    *,
    exon: int | None = None,
    consequences: Iterable[str] = (),
    pathogenic: bool = False,
) -> bool:
    """Does one rule (see the module docstring) match a variant's protein change?"""
    name, _, arg = rule.partition(":")
    cons = set(consequences)
    if name == "loss_of_function":
        return change.is_loss_of_function or bool(cons & SPLICE_LOF_CONSEQUENCES) or pathogenic
    if name == "exon_inframe_deletion":
        return exon == int(arg) and (change.kind in {"inframe_deletion", "delins"}
                                     or (change.kind == "unknown" and "inframe_deletion" in cons))
    if name == "exon_protein_altering":
        return exon == int(arg) and (change.kind == "missense" or change.is_inframe_indel)
    if change.short is None:
        return False
    if name == "exact":
        from genomics.biomarkers.protein_change import parse_protein_change

        target = parse_protein_change(arg)
        return target.short is not None and target.short == change.short
    if name == "codon":
        return change.codon == arg and change.is_protein_altering and change.kind != "synonymous"
    if name == "codons":
        codons = {int(c) for c in arg.split(",")}
        return change.start in codons and (change.kind == "missense" or change.is_inframe_indel)
    lo, hi = _range(arg)
    if name == "inframe_deletion_in":
        return change.kind in {"inframe_deletion", "delins"} and change.start is not None and \
            change.start >= lo and (change.end or change.start) <= hi
    if name == "inframe_insertion_in":
        if not change.overlaps(lo, hi):
            return False
        if change.kind == "inframe_insertion":
            return True
        span = (change.end or change.start or 0) - (change.start or 0) + 1
        return change.kind == "delins" and change.alt is not None and len(change.alt) > span
    if name == "duplication_in":
        return change.kind == "duplication" and change.overlaps(lo, hi)
    if name == "protein_altering_in":
        return (change.kind == "missense" or change.is_inframe_indel) and change.overlaps(lo, hi)
    return False
