"""Importers for third-party biomarker tables, read from a path the user gives.

Their licences keep them out of the package (MOAlmanac: GPL-2.0; cancer hotspots: AGPL-3.0;
CGI biomarkers 2017: unclear terms): nothing here ships their data, the user points at a file.

* :func:`load_moalmanac` -- Molecular Oncology Almanac JSON (``molecular-oncology-almanac.json``)
  -> a :class:`~genomics.biomarkers.knowledge.KnowledgeBase` usable by
  :func:`~genomics.biomarkers.match.match_biomarkers` (``extra_tables=``).
* :func:`load_cgi` -- CGI ``cgi_biomarkers_per_variant.tsv`` -> the same.
* :func:`load_cancer_hotspots` -- Chang et al. 2016 ``publication_hotspots.tsv`` (codons; no
  therapies) -> :class:`HotspotCodon` list, and :func:`annotate_hotspots` to flag a tumour's
  variants that fall on a recurrent hotspot codon (build-independent: gene + codon).
* :func:`load_third_party` -- picks the importer from the file's content.

Evidence levels are mapped onto the project's scale (see ``EVIDENCE_LEVELS`` in
:mod:`genomics.biomarkers.knowledge`); the mapping is ours and approximate, and every imported
row keeps its source's own wording in ``statement`` and its citation.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from genomics.biomarkers.inputs import TumourProfile
from genomics.biomarkers.knowledge import BiomarkerRule, Citation, KnowledgeBase, load_knowledge_base
from genomics.biomarkers.protein_change import parse_protein_change
from genomics.errors import KnowledgeBaseError

__all__ = [
    "HotspotCodon",
    "ImportSummary",
    "annotate_hotspots",
    "load_cancer_hotspots",
    "load_cgi",
    "load_moalmanac",
    "load_third_party",
]

_MOA_LEVEL = {"FDA-Approved": "1", "Guideline": "2", "Clinical evidence": "3A", "Clinical trial": "3A",
              "Inferential": "4", "Preclinical": "4"}
_CGI_LEVEL = {"FDA guidelines": "1", "NCCN guidelines": "2", "European LeukemiaNet guidelines": "2",
              "NCCN/CAP guidelines": "2", "Late trials": "3A", "Early trials": "3A", "Case report": "4",
              "Pre-clinical": "4"}
_CGI_TUMOUR = {"COREAD": "COADREAD", "CM": "SKCM", "OV": "OVARY", "CANCER": "TISSUE", "ST": "TISSUE",
               "L": "LUNG", "G": "GB", "R": "CCRCC", "HNC": "HNSC", "TH": "THPA", "THCA": "THPA", "PA": "PAAD"}
#: Gene-level third-party rows ("any mutation", "BRCA2:.") match only loss-of-function or
#: annotated-pathogenic variants: a missense VUS must never match a gene-level row.
_GENE_LEVEL = ("loss_of_function",)


@dataclass(frozen=True)
class ImportSummary:
    """What an import kept and left out (and why)."""

    source: str
    rows_read: int
    rows_kept: int
    skipped: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _check(path: str | Path, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise KnowledgeBaseError(f"{what} not found", file=str(p), fix=f"give the path of the {what}")
    if p.stat().st_size == 0:
        raise KnowledgeBaseError(f"{what} is empty", file=str(p), fix="copy the file again")
    return p


def _resistance_level(level: str) -> str:
    return "R1" if level in {"1", "2"} else "R2"


def _oncotree(code: str) -> str:
    code = (code or "").strip().upper()
    return code or "TISSUE"


# ---------------------------------------------------------------------------------------------
# MOAlmanac
# ---------------------------------------------------------------------------------------------

def load_moalmanac(path: str | Path) -> tuple[KnowledgeBase, ImportSummary]:
    """Import the Molecular Oncology Almanac JSON (GPL-2.0; read from the user's path).

    Keeps rows with a therapy sensitivity or resistance flag for somatic and germline variants,
    copy number, rearrangements, MSI and TMB; leaves out deprecated rows, adverse-event and
    prognostic rows and other feature types (counted in the summary). Rearrangements match a
    fusion involving either gene (any partner).
    """
    p = _check(path, "MOAlmanac JSON")
    source = str(p)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise KnowledgeBaseError(f"not valid JSON ({err})", file=source,
                                 record=f"line {getattr(err, 'lineno', '?')}",
                                 fix="give molecular-oncology-almanac.json from vanallenlab/moalmanac-db") from None
    if isinstance(data, dict):
        data = data.get("content") or data.get("assertions") or data.get("rows")
    if not isinstance(data, list) or not data or not isinstance(data[0], dict) or "feature_type" not in data[0]:
        raise KnowledgeBaseError("not a MOAlmanac assertion list (no feature_type)", file=source,
                                 fix="give molecular-oncology-almanac.json from vanallenlab/moalmanac-db")
    skipped: dict[str, int] = {}
    rows: list[BiomarkerRule] = []

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    for i, a in enumerate(data):
        if a.get("_deprecated"):
            skip("deprecated")
            continue
        sens, res = a.get("therapy_sensitivity") == 1, a.get("therapy_resistance") == 1
        if not (sens or res) or not a.get("therapy_name"):
            skip("no therapy sensitivity/resistance (prognostic or adverse event)")
            continue
        implication = str(a.get("predictive_implication", ""))
        level = _MOA_LEVEL.get(implication)
        if level is None:
            skip(f"unknown predictive_implication {implication!r}")
            continue
        ft = a.get("feature_type")
        rule_kw: dict[str, Any] = {}
        if ft in {"Somatic Variant", "Germline Variant"}:
            gene = str(a.get("gene") or "").upper()
            pc = parse_protein_change(a.get("protein_change"))
            if not gene:
                skip("no gene")
                continue
            if pc.short:
                rules = (f"exact:{pc.short}",)
                alteration = f"p.{pc.short}"
            else:
                rules = _GENE_LEVEL
                alteration = a.get("variant_annotation") or "any mutation"
            kind, genes = "mutation", (gene,)
            rule_kw["rules"] = rules
        elif ft == "Copy Number":
            gene = str(a.get("gene") or "").upper()
            direction = str(a.get("direction", "")).lower()
            kind = {"amplification": "amplification", "deletion": "deletion"}.get(direction)
            if not gene or kind is None:
                skip("copy number without gene or direction")
                continue
            genes, alteration = (gene,), direction
        elif ft == "Rearrangement":
            genes = tuple(str(g).upper() for g in (a.get("gene1"), a.get("gene2")) if g)
            if not genes:
                skip("rearrangement without genes")
                continue
            kind, alteration = "fusion", "::".join(genes) + " " + str(a.get("rearrangement_type") or "rearrangement")
        elif ft == "Microsatellite Stability":
            if "high" not in str(a.get("status", "")).lower():
                skip("MSI status other than high")
                continue
            kind, genes, alteration = "msi", ("MSI",), "MSI-high"
            rule_kw["msi_status"] = ("MSI-H", "dMMR")
        elif ft == "Mutational Burden":
            try:
                threshold = float(a.get("mutations_per_mb") or 10)
            except (TypeError, ValueError):
                threshold = 10.0
            kind, genes, alteration = "tmb", ("TMB",), f"TMB >= {threshold:g} mut/Mb"
            rule_kw["tmb_min"] = threshold
        else:
            skip(f"feature type {ft}")
            continue
        year = str(a.get("publication_date") or "")[:4]
        pmid = str(a.get("pmid") or "")
        citation = Citation(
            kind={"FDA": "FDA", "Guideline": "guideline"}.get(str(a.get("source_type")), "PMID" if pmid.isdigit() else "source"),
            text=str(a.get("citation") or a.get("url") or "MOAlmanac"),
            year=int(year) if year.isdigit() else None, pmid=pmid if pmid.isdigit() else None,
            url=a.get("url") or None,
        )
        rows.append(BiomarkerRule(
            id=f"MOA-{a.get('assertion_id', i)}", genes=genes, alteration=str(alteration), kind=kind,
            cancer_types=(_oncotree(a.get("oncotree_code", "")),),
            therapies=(" ".join(str(a["therapy_name"]).lower().split()),),
            direction="sensitivity" if sens else "resistance",
            evidence_level=level if sens else _resistance_level(level), citations=(citation,),
            statement=str(a.get("description") or ""), source="MOAlmanac (GPL-2.0, user path)", **rule_kw,
        ))
    kb = _third_party_kb(rows, "Molecular Oncology Almanac (third-party, GPL-2.0)", p,
                         "GPL-2.0: read from the user's path, not redistributed")
    return kb, ImportSummary(source, len(data), len(rows), skipped)


def _third_party_kb(rows: list[BiomarkerRule], name: str, p: Path, licence: str) -> KnowledgeBase:
    ours = load_knowledge_base()
    sha = _sha(p)
    return KnowledgeBase(rows=tuple(rows), name=name, version=f"sha256:{sha[:12]}", sha256=sha, path=str(p),
                         evidence_levels=ours.evidence_levels, parents=ours.parents, licence=licence)


# ---------------------------------------------------------------------------------------------
# CGI
# ---------------------------------------------------------------------------------------------

_CGI_COLUMNS = ("Alteration", "Alteration type", "Association", "Drug", "Evidence level", "Gene",
                "Primary Tumor acronym", "Source")


def _cgi_rules(items: str) -> tuple[str, ...] | None:
    if items in {".", ""}:
        return _GENE_LEVEL
    m = re.match(r"^:consequence::(\w+):(\d+)-(\d+)$", items)
    if m:
        kind, lo, hi = m.groups()
        name = {"inframe_deletion": "inframe_deletion_in", "inframe_insertion": "inframe_insertion_in"}.get(kind)
        return (f"{name}:{lo}-{hi}",) if name else (f"protein_altering_in:{lo}-{hi}",)
    if items.startswith(":"):
        return None  # ::wildtype and other special syntax
    rules = []
    for item in items.split(","):
        item = item.strip()
        if re.fullmatch(r"[A-Z]\d+\.", item):
            rules.append(f"codon:{item[:-1]}")
            continue
        pc = parse_protein_change(item)
        if pc.short:
            rules.append(f"exact:{pc.short}")
    return tuple(dict.fromkeys(rules)) or None


def load_cgi(path: str | Path) -> tuple[KnowledgeBase, ImportSummary]:
    """Import CGI ``cgi_biomarkers_per_variant.tsv`` (terms unclear: user path, internal use only).

    Keeps single-biomarker MUT/CNA/FUS rows with a drug and a Responsive / Resistant /
    No Responsive association; toxicity and combined biomarkers are left out (counted).
    """
    p = _check(path, "CGI biomarkers TSV")
    source = str(p)
    with open(p, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        missing = [c for c in _CGI_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise KnowledgeBaseError(f"not a CGI biomarkers table: missing column(s) {', '.join(missing)}",
                                     file=source, record="line 1", fix="give cgi_biomarkers_per_variant.tsv")
        raw_rows = list(reader)
    skipped: dict[str, int] = {}
    rows: list[BiomarkerRule] = []
    seen: set[tuple[str, ...]] = set()

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    for n, r in enumerate(raw_rows, start=2):
        atype = r["Alteration type"]
        assoc = r["Association"]
        if atype not in {"MUT", "CNA", "FUS"}:
            skip("combined or expression biomarker")
            continue
        if assoc not in {"Responsive", "Resistant", "No Responsive"}:
            skip("toxicity association")
            continue
        drugs = [" + ".join(x.strip() for x in d.lower().split(";") if x.strip())
                 for d in r["Drug"].strip("[]").split(",") if d.strip()]
        if not drugs:
            skip("no drug")
            continue
        level = _CGI_LEVEL.get(r["Evidence level"])
        if level is None:
            skip(f"evidence level {r['Evidence level']!r}")
            continue
        key = (r["Alteration"], r["Drug"], assoc, r["Primary Tumor acronym"])
        if key in seen:
            skip("duplicate (one row per individual mutation)")
            continue
        seen.add(key)
        alteration = r["Alteration"]
        kw: dict[str, Any] = {}
        if atype == "FUS":
            genes = tuple(g for g in re.split(r"__|:", alteration) if g and g != ".")
            kind = "fusion"
        else:
            gene, _, items = alteration.partition(":")
            genes = (gene.upper(),)
            if atype == "CNA":
                kind = {"amp": "amplification", "del": "deletion"}.get(items)
                if kind is None:
                    skip("copy number other than amp/del")
                    continue
            else:
                rules = _cgi_rules(items)
                if rules is None:
                    skip("mutation syntax not supported (e.g. wildtype)")
                    continue
                kind, kw["rules"] = "mutation", rules
        cancer_types = tuple(_CGI_TUMOUR.get(c, c) for c in r["Primary Tumor acronym"].split(";") if c) or ("TISSUE",)
        direction = "sensitivity" if assoc == "Responsive" else "resistance"
        pmids = re.findall(r"PMID:(\d+)", r["Source"])
        citations = tuple(Citation(kind="PMID", text=f"CGI source {r['Source']}", pmid=pm) for pm in pmids) or (
            Citation(kind="source", text=f"CGI source: {r['Source']}"),)
        rows.append(BiomarkerRule(
            id=f"CGI-line{n}", genes=genes, alteration=alteration, kind=kind, cancer_types=cancer_types,
            therapies=tuple(drugs),
            direction=direction, evidence_level=level if direction == "sensitivity" else _resistance_level(level),
            citations=citations, statement=f"{r.get('Biomarker', '')}: {assoc} to {r['Drug']} ({r['Evidence level']})",
            source="CGI biomarkers 2017 (terms unclear, user path)", **kw,
        ))
    kb = _third_party_kb(rows, "Cancer Genome Interpreter biomarkers 2017 (third-party, terms unclear)", p,
                         "unclear terms: read from the user's path for internal evaluation only")
    return kb, ImportSummary(source, len(raw_rows), len(rows), skipped)


# ---------------------------------------------------------------------------------------------
# cancer hotspots (Chang et al. 2016)
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HotspotCodon:
    gene: str
    codon: str  # e.g. V600
    alleles: str  # E:520|K:33|...
    tumour_count: int
    q_value: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_cancer_hotspots(path: str | Path) -> tuple[tuple[HotspotCodon, ...], ImportSummary]:
    """Read ``publication_hotspots.tsv`` (AGPL-3.0; user path): recurrent hotspot codons, no therapies."""
    p = _check(path, "cancer hotspots TSV")
    source = str(p)
    out: list[HotspotCodon] = []
    with open(p, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        if not {"Hugo Symbol", "Codon"} <= set(reader.fieldnames or []):
            raise KnowledgeBaseError("not a cancer hotspots table: needs 'Hugo Symbol' and 'Codon'", file=source,
                                     record="line 1", fix="give publication_hotspots.tsv from taylor-lab/hotspots")
        n = 1
        for n, r in enumerate(reader, start=2):
            count = r.get("Tumor Count") or "0"
            if not count.isdigit():
                raise KnowledgeBaseError(f"Tumor Count {count!r} is not a number", file=source, record=f"line {n}",
                                         field="Tumor Count", fix="give the unmodified publication_hotspots.tsv")
            out.append(HotspotCodon(gene=r["Hugo Symbol"].upper(), codon=r["Codon"].strip(),
                                    alleles=r.get("Variant Amino Acid", ""), tumour_count=int(count),
                                    q_value=r.get("Q-value", "")))
    return tuple(out), ImportSummary(source, len(out), len(out), {})


def annotate_hotspots(profile: TumourProfile, codons: tuple[HotspotCodon, ...]) -> list[dict[str, Any]]:
    """The tumour's variants that lie on a recurrent hotspot codon (gene + codon; build-independent)."""
    index = {(c.gene, c.codon): c for c in codons}
    out = []
    for v in profile.variants:
        if v.gene is None or v.protein is None or v.protein.codon is None:
            continue
        hit = index.get((v.gene, v.protein.codon))
        if hit is not None:
            out.append({"gene": v.gene, "protein_change": v.protein.short, "record": v.record,
                        "hotspot_codon": hit.codon, "tumour_count": hit.tumour_count, "alleles": hit.alleles,
                        "source": "cancer hotspots (Chang et al. 2016; AGPL-3.0, user path)"})
    return out


# ---------------------------------------------------------------------------------------------
# auto-detection
# ---------------------------------------------------------------------------------------------

def load_third_party(path: str | Path) -> tuple[str, Any, ImportSummary]:
    """Detect and import a third-party table: returns ``(kind, table, summary)``.

    ``kind`` is ``"moalmanac"`` or ``"cgi"`` (``table`` is a KnowledgeBase) or ``"hotspots"``
    (``table`` is a tuple of :class:`HotspotCodon`).
    """
    p = _check(path, "third-party table")
    with open(p, "rb") as handle:
        head = handle.read(2048).decode("utf-8", errors="replace").lstrip()
    first = head.split("\n", 1)[0]
    if head.startswith(("[", "{")):
        kb, summary = load_moalmanac(p)
        return "moalmanac", kb, summary
    if "Alteration" in first and "Association" in first:
        kb, summary = load_cgi(p)
        return "cgi", kb, summary
    if "Hugo Symbol" in first and "Codon" in first:
        codons, summary = load_cancer_hotspots(p)
        return "hotspots", codons, summary
    raise KnowledgeBaseError("unrecognised third-party table", file=str(p), record="line 1",
                             fix="give MOAlmanac molecular-oncology-almanac.json, CGI cgi_biomarkers_per_variant.tsv "
                                 "or cancer hotspots publication_hotspots.tsv")
