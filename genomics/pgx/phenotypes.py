"""Phenotypes and activity scores from a diplotype, by the CPIC (or DPWG) tables PharmCAT ships.

Each PharmCAT phenotype file maps every allele to its function (and activity value) and every
diplotype to a phenotype, an activity score (CYP2C9, CYP2D6, DPYD) and a *lookup key*: the value the
recommendation tables match on. For activity-score genes the key is the score (``"1.0"``); for the
others it is the phenotype (``"Poor Metabolizer"``). DPWG tables have their own keys (DPYD:
``"1.0 (Intermediate Metabolizer)"``).

G6PD has no CPIC phenotype file at hand; its allele function (WHO class) and diplotype -> phenotype map
come from PyPGx (``data/pypgx/G6PD-*.csv``, MIT), whose allele names are those of PharmCAT's
``G6PD_translation.json``. Males are hemizygous: pass ``allele2=None`` (the diplotype is then ``A/MALE`` in
PyPGx's notation and shown as ``A``).

Nothing here raises on an unknown allele or an unlisted diplotype: the result is a
:class:`PhenotypeCall` with phenotype ``"Indeterminate"``, no lookup key and a ``reason``.

Examples
--------
>>> assign_phenotype("CYP2C19", "*2", "*2").phenotype
'Poor Metabolizer'
>>> call = assign_phenotype("CYP2C9", "*1", "*3")
>>> (call.activity_score, call.phenotype, call.lookup_key)
('1.0', 'Intermediate Metabolizer', '1.0')
"""

from __future__ import annotations

import csv
import threading
from dataclasses import asdict, dataclass
from typing import Any

from genomics.pgx.knowledge_base import KnowledgeBase, active_knowledge_base

__all__ = [
    "ACTIVITY_SCORE_GENES",
    "HLA_GENES",
    "INDETERMINATE",
    "PhenotypeCall",
    "allele_activity_value",
    "allele_function",
    "assign_phenotype",
    "canonical_gene",
    "phenotype_from_outside_call",
]

#: Genes whose CPIC recommendations key on the activity score.
ACTIVITY_SCORE_GENES = frozenset({"CYP2C9", "CYP2D6", "DPYD"})
#: Genes whose recommendations key on the presence of one allele (``*57:01 positive``); outside calls only.
HLA_GENES = frozenset({"HLA-A", "HLA-B"})
INDETERMINATE = "Indeterminate"
_PYPGX_MALE = "MALE"


@dataclass(frozen=True)
class PhenotypeCall:
    """The phenotype of one gene for one diplotype, by one guideline source's tables.

    Attributes
    ----------
    gene, diplotype
        ``"CYP2C19"``, ``"*1/*17"`` (hemizygous G6PD: one allele name).
    phenotype
        ``"Rapid Metabolizer"``; ``"Indeterminate"`` when the tables cannot say (see ``reason``).
    activity_score
        Text as CPIC writes it (``"1.5"``, ``"≥3.0"``), or None for genes without scores.
    lookup_key
        What the recommendation rows of ``source`` match on; None when nothing can match.
    function1, function2
        Allele functions (``"No function"``); None when unknown.
    source, source_version
        ``"CPIC"`` or ``"DPWG"`` and the table's data version (``2025-11-05-00-25``).
    reason
        Reason code when the call is degraded: ``unknown_allele``, ``diplotype_not_in_table``,
        ``no_phenotype_table``, ``missing_allele``, ``sex_conflict``, ``allele_presence_gene``.
    table
        The file the answer came from.
    """

    gene: str
    diplotype: str
    phenotype: str
    activity_score: str | None
    lookup_key: str | None
    function1: str | None
    function2: str | None
    source: str
    source_version: str | None
    reason: str | None = None
    detail: str | None = None
    table: str | None = None

    @property
    def is_determinate(self) -> bool:
        return self.lookup_key is not None and self.reason is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def canonical_gene(gene: str) -> str:
    """``mt_rnr1`` -> ``MT-RNR1``; ``hla_b`` -> ``HLA-B``; others upper-cased."""
    g = gene.strip().upper()
    if g in {"MT_RNR1", "MTRNR1"}:
        return "MT-RNR1"
    if g.startswith("HLA_"):
        return "HLA-" + g[4:]
    return g


# --------------------------------------------------------------------------------------------------
# table index


class _Table:
    """Index over one PharmCAT phenotype file."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.gene = canonical_gene(data["gene"])
        self.version = data.get("version")
        self.file = data.get("_file")
        self.functions: dict[str, str] = {}
        self.activity: dict[str, str] = {}
        for allele in data.get("namedAlleles") or []:
            name = allele["name"]
            if allele.get("functionValue"):
                self.functions[name] = allele["functionValue"]
            if allele.get("activityValue") not in (None, ""):
                self.activity[name] = str(allele["activityValue"])
        for name, value in (data.get("haplotypes") or {}).items():
            # 'haplotypes' holds functions for most genes but activity values for score genes.
            if name not in self.functions and value and not _is_number(value) and value != "n/a":
                self.functions[name] = value
        for name, value in (data.get("activityValues") or {}).items():
            self.activity.setdefault(name, str(value))
        self.known = set(self.functions) | set(self.activity) | set(data.get("haplotypes") or {})
        self.by_key: dict[frozenset[tuple[str, int]], dict[str, Any]] = {}
        self.by_score: dict[str, list[dict[str, Any]]] = {}
        self.by_phenotype: dict[str, list[dict[str, Any]]] = {}
        for row in data.get("diplotypes") or []:
            key = frozenset((a, int(n)) for a, n in row["diplotypekey"].items())
            self.by_key.setdefault(key, row)
            for a in row["diplotypekey"]:
                self.known.add(a)
            if row.get("activityScore") not in (None, ""):
                self.by_score.setdefault(str(row["activityScore"]), []).append(row)
            if row.get("phenotype"):
                self.by_phenotype.setdefault(row["phenotype"].casefold(), []).append(row)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


_LOCK = threading.Lock()


def _cache(kb: KnowledgeBase) -> dict[Any, Any]:
    """Per-knowledge-base index cache (lives and dies with the KnowledgeBase object)."""
    cache = getattr(kb, "_phenotype_index", None)
    if cache is None:
        cache = {}
        kb._phenotype_index = cache  # type: ignore[attr-defined]
    return cache


def _table(kb: KnowledgeBase, gene: str, source: str) -> _Table | None:
    cache = _cache(kb)
    key = (gene, source)
    with _LOCK:
        if key in cache:
            return cache[key]
    data = kb.phenotype_table(gene, source)
    table = _Table(data) if data else None
    with _LOCK:
        cache[key] = table
    return table


def _g6pd_tables(kb: KnowledgeBase):
    cache = _cache(kb)
    with _LOCK:
        if "G6PD-pypgx" in cache:
            return cache["G6PD-pypgx"]
    functions: dict[str, str] = {}
    diplotypes: dict[frozenset[tuple[str, int]], str] = {}
    allele_path = kb.pypgx_file("G6PD-allele-table.csv")
    dip_path = kb.pypgx_file("G6PD-diplotype-table.csv")
    if allele_path:
        with open(allele_path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["Gene"] == "G6PD":
                    functions[row["StarAllele"]] = row["Function"]
    if dip_path:
        with open(dip_path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["Gene"] != "G6PD":
                    continue
                parts = row["Diplotype"].split("/")
                if len(parts) != 2:
                    continue
                a, b = parts
                key: dict[str, int] = {}
                for allele in (a, b):
                    key[allele] = key.get(allele, 0) + 1
                diplotypes[frozenset(key.items())] = row["Phenotype"]
    result = (functions, diplotypes, dip_path)
    with _LOCK:
        cache["G6PD-pypgx"] = result
    return result


def _multiset(*alleles: str) -> frozenset[tuple[str, int]]:
    counts: dict[str, int] = {}
    for a in alleles:
        counts[a] = counts.get(a, 0) + 1
    return frozenset(counts.items())


# --------------------------------------------------------------------------------------------------
# public API


def allele_function(gene: str, allele: str, *, source: str = "CPIC",
                    kb: KnowledgeBase | None = None) -> str | None:
    """Function of one allele (``"No function"``, ``"Decreased function"``...), or None if unknown.

    G6PD returns the PyPGx WHO-class function (``"Class II (Deficient)"``).
    """
    kb = kb or active_knowledge_base()
    gene = canonical_gene(gene)
    if gene == "G6PD":
        functions, _, _ = _g6pd_tables(kb)
        return functions.get(allele)
    table = _table(kb, gene, source)
    if table is None:
        return None
    return table.functions.get(allele)


def allele_activity_value(gene: str, allele: str, *, kb: KnowledgeBase | None = None) -> str | None:
    """CPIC activity value of one allele (``"0.5"``), or None (no score gene / unknown / ``n/a``)."""
    kb = kb or active_knowledge_base()
    table = _table(kb, canonical_gene(gene), "CPIC")
    if table is None:
        return None
    value = table.activity.get(allele)
    return value if value and _is_number(value) else None


def _dup_activity(table: _Table, allele: str) -> str | None:
    """Activity of an allele the table does not list: ``*17x2`` = 2 x ``*17``; a tandem ``*36+*10`` = the sum."""
    import re

    if "+" in allele and allele not in table.known:  # a tandem (CYP2D6 *36+*10): the sum of its genes
        parts = [table.activity.get(p) for p in allele.split("+")]
        if parts and all(v is not None and _is_number(v) for v in parts):
            return f"{sum(float(v) for v in parts):g}"  # type: ignore[arg-type]
        return None
    m = re.fullmatch(r"(.+)x(≥)?(\d+)", allele)
    if not m or m.group(1) not in table.activity or not _is_number(table.activity[m.group(1)]):
        return None
    value = float(table.activity[m.group(1)])
    if m.group(2) and value > 0:
        return None  # "at least N copies" of a functional allele: the score is not known
    return f"{value * int(m.group(3)):g}"


def _parent_allele(gene: str, allele: str) -> str:
    """The allele a sub-allele rolls up to, from the gene's definition file (``suballelesMap``)."""
    from genomics.errors import RecommenderError
    from genomics.pgx.definitions import load_definition

    try:
        return load_definition(gene).parent_allele(allele)
    except (RecommenderError, KeyError, ValueError, OSError):
        return allele


def _indeterminate(gene: str, diplotype: str, source: str, version: str | None, reason: str, detail: str,
                   f1: str | None = None, f2: str | None = None, table: str | None = None) -> PhenotypeCall:
    return PhenotypeCall(gene=gene, diplotype=diplotype, phenotype=INDETERMINATE, activity_score=None,
                         lookup_key=None, function1=f1, function2=f2, source=source, source_version=version,
                         reason=reason, detail=detail, table=table)


def _g6pd_call(gene: str, allele1: str, allele2: str | None, sex: str | None, kb: KnowledgeBase,
               source: str) -> PhenotypeCall:
    functions, diplotypes, path = _g6pd_tables(kb)
    table_name = f"PyPGx {path.name}" if path else None
    version = "PyPGx 0.26.0 (fa6b9f7)"
    sex_norm = (sex or "").strip().lower()
    hemizygous = allele2 is None
    if sex_norm in {"male", "m"} and allele2 is not None:
        if allele2 == allele1:
            hemizygous = True
        else:
            return _indeterminate(gene, f"{allele1}/{allele2}", source, version, "sex_conflict",
                                  "two different G6PD alleles given for a male (hemizygous) sample",
                                  functions.get(allele1), functions.get(allele2), table_name)
    if hemizygous and sex_norm in {"female", "f"}:
        return _indeterminate(gene, allele1, source, version, "missing_allele",
                              "one G6PD allele given for a female sample", functions.get(allele1), None,
                              table_name)
    for allele in (allele1,) if hemizygous else (allele1, allele2):
        if allele not in functions or allele == _PYPGX_MALE:
            return _indeterminate(gene, allele1 if hemizygous else f"{allele1}/{allele2}", source, version,
                                  "unknown_allele", f"G6PD allele {allele!r} is not in the PyPGx allele table",
                                  functions.get(allele1), functions.get(allele2 or ""), table_name)
    key = _multiset(allele1, _PYPGX_MALE) if hemizygous else _multiset(allele1, allele2)  # type: ignore[arg-type]
    diplotype = allele1 if hemizygous else f"{allele1}/{allele2}"
    phenotype = diplotypes.get(key)
    if phenotype is None:
        return _indeterminate(gene, diplotype, source, version, "diplotype_not_in_table",
                              "diplotype not listed in the PyPGx G6PD diplotype table", functions.get(allele1),
                              None if hemizygous else functions.get(allele2 or ""), table_name)
    pheno = phenotype.removeprefix("G6PD ")
    return PhenotypeCall(gene=gene, diplotype=diplotype, phenotype=pheno, activity_score=None,
                         lookup_key=pheno if source == "CPIC" else None, function1=functions.get(allele1),
                         function2=None if hemizygous else functions.get(allele2 or ""), source=source,
                         source_version=version, reason=None if source == "CPIC" else "no_phenotype_table",
                         detail=None if source == "CPIC" else "DPWG has no G6PD guideline",
                         table=table_name)


def assign_phenotype(gene: str, allele1: str, allele2: str | None, *, sex: str | None = None,
                     source: str = "CPIC", kb: KnowledgeBase | None = None) -> PhenotypeCall:
    """Phenotype, activity score and lookup key of one diplotype.

    Parameters
    ----------
    gene
        Gene symbol (``CYP2C19``; ``MT-RNR1`` and ``MT_RNR1`` both work).
    allele1, allele2
        Allele names as the definition files write them (``*1``, ``c.1905+1G>A``, ``Reference``).
        ``allele2=None``: hemizygous G6PD (male) or the single mitochondrial haplotype of MT-RNR1.
    sex
        ``"male"``/``"female"`` or None; only used for G6PD.
    source
        ``"CPIC"`` (default) or ``"DPWG"`` (DPWG phenotype tables and lookup keys).
    kb
        Knowledge base (default: the one in force).

    Returns
    -------
    PhenotypeCall
        Never raises for unknown alleles: phenotype ``"Indeterminate"`` with a ``reason`` instead.
    """
    kb = kb or active_knowledge_base()
    gene = canonical_gene(gene)
    source = source.upper()
    diplotype = allele1 if allele2 is None else f"{allele1}/{allele2}"
    if gene in HLA_GENES:
        return PhenotypeCall(gene=gene, diplotype=diplotype, phenotype=diplotype, activity_score=None,
                             lookup_key=None, function1=None, function2=None, source=source,
                             source_version=None, reason="allele_presence_gene",
                             detail="HLA recommendations key on the presence of one allele; matched per row",
                             table=None)
    if gene == "G6PD":
        return _g6pd_call(gene, allele1, allele2, sex, kb, source)
    table = _table(kb, gene, source)
    if table is None:
        from genomics.pgx.pypgx import PYPGX_GENES, PYPGX_VERSION
        from genomics.pgx.pypgx import allele_function as pypgx_function
        from genomics.pgx.pypgx import phenotype as pypgx_phenotype

        if gene in PYPGX_GENES:  # PyPGx-only gene: allele function, and PyPGx's phenotype where it has one
            f1, f2 = pypgx_function(gene, allele1), pypgx_function(gene, allele2) if allele2 else None
            pheno = pypgx_phenotype(gene, allele1, allele2)
            return PhenotypeCall(gene=gene, diplotype=diplotype, phenotype=pheno or "No phenotype assigned",
                                 activity_score=None, lookup_key=None, function1=f1, function2=f2, source="PyPGx",
                                 source_version=PYPGX_VERSION, reason="no_cpic_dpwg_guideline",
                                 detail=f"no CPIC/DPWG guideline for {gene}; "
                                        + ("phenotype from PyPGx" if pheno else "PyPGx assigns no phenotype"),
                                 table="PyPGx allele-table.csv")
    if table is None:
        return _indeterminate(gene, diplotype, source, None, "no_phenotype_table",
                              f"no {source} phenotype table for {gene}")
    rolled = [(a, _parent_allele(gene, a)) for a in (allele1, allele2) if a is not None and a not in table.known]
    rolled = [(a, p) for a, p in rolled if p != a]
    if rolled:  # suballelesMap: SLCO1B1 *45.001 -> *45 before the phenotype lookup (as PharmCAT does)
        parents = dict(rolled)  # each unknown allele's parent, looked up once
        allele1 = parents.get(allele1, allele1)
        if allele2 is not None:
            allele2 = parents.get(allele2, allele2)
        call = assign_phenotype(gene, allele1, allele2, sex=sex, source=source, kb=kb)
        note = "; ".join(f"sub-allele {a} looked up as {p} (suballelesMap)" for a, p in rolled)
        return PhenotypeCall(**{**call.to_dict(), "detail": f"{note}" + (f"; {call.detail}" if call.detail else "")})
    f1 = table.functions.get(allele1)
    f2 = table.functions.get(allele2) if allele2 is not None else None
    for allele in (allele1,) if allele2 is None else (allele1, allele2):
        if allele not in table.known and _dup_activity(table, allele) is None:
            return _indeterminate(gene, diplotype, source, table.version, "unknown_allele",
                                  f"allele {allele!r} is not in the {source} {gene} table", f1, f2, table.file)
    key = _multiset(allele1) if allele2 is None else _multiset(allele1, allele2)
    row = table.by_key.get(key)
    if row is None and allele2 is None:
        return _indeterminate(gene, diplotype, source, table.version, "missing_allele",
                              f"{gene} needs two alleles", f1, f2, table.file)
    if row is None and gene in ACTIVITY_SCORE_GENES and source == "CPIC":
        v1 = table.activity.get(allele1) or _dup_activity(table, allele1)
        v2 = table.activity.get(allele2 or "") or _dup_activity(table, allele2 or "")
        if v1 and v2 and _is_number(v1) and _is_number(v2):
            score = f"{float(v1) + float(v2):.2f}".rstrip("0")
            score = score + "0" if score.endswith(".") else score
            rows = table.by_score.get(score) or []
            phenos = {r["phenotype"] for r in rows}
            if len(phenos) == 1:
                return PhenotypeCall(gene=gene, diplotype=diplotype, phenotype=phenos.pop(),
                                     activity_score=score, lookup_key=rows[0]["lookupkey"], function1=f1,
                                     function2=f2, source=source, source_version=table.version,
                                     detail="diplotype not listed; phenotype from the sum of activity values",
                                     table=table.file)
    if row is None:
        return _indeterminate(gene, diplotype, source, table.version, "diplotype_not_in_table",
                              f"{diplotype} is not listed in the {source} {gene} table", f1, f2, table.file)
    score = row.get("activityScore")
    return PhenotypeCall(gene=gene, diplotype=diplotype, phenotype=row.get("phenotype") or INDETERMINATE,
                         activity_score=None if score in (None, "") else str(score),
                         lookup_key=row.get("lookupkey"), function1=f1, function2=f2, source=source,
                         source_version=table.version, table=table.file)


def _score_text(value: str | float) -> str:
    text = str(value).strip()
    if text.startswith(("≥", ">=")):
        return text
    try:
        number = float(text)
    except ValueError:
        return text
    out = f"{number:.2f}".rstrip("0")
    return out + "0" if out.endswith(".") else out


def phenotype_from_outside_call(gene: str, *, phenotype: str | None = None, activity_score: str | None = None,
                                diplotype: str | None = None, source: str = "CPIC", sex: str | None = None,
                                kb: KnowledgeBase | None = None) -> PhenotypeCall:
    """Phenotype call for an outside result (another lab's diplotype, phenotype or activity score).

    A diplotype (``*1/*4``, or ``*1x2/*4``) is looked up like a VCF call; a bare activity score gives the
    score-keyed lookup key; a bare phenotype is used as the key for phenotype-keyed genes, and for score
    genes only when the table maps it to exactly one score.
    """
    kb = kb or active_knowledge_base()
    gene = canonical_gene(gene)
    source = source.upper()
    if diplotype:
        parts = diplotype.split("/", 1)
        return assign_phenotype(gene, parts[0].strip(), parts[1].strip() if len(parts) > 1 else None, sex=sex,
                                source=source, kb=kb)
    table = _table(kb, gene, source) if gene not in HLA_GENES and gene != "G6PD" else None
    version = table.version if table else None
    label = phenotype or (f"activity score {activity_score}" if activity_score is not None else "")
    if activity_score is not None:
        score = _score_text(activity_score)
        rows = table.by_score.get(score, []) if table else []
        if source == "DPWG" and table is not None:
            rows = [r for r in table.by_key.values() if str(r.get("lookupkey", "")).split(" ")[0] == score]
            keys = sorted({r["lookupkey"] for r in rows})
            if len(keys) == 1:
                return PhenotypeCall(gene=gene, diplotype="", phenotype=rows[0].get("phenotype") or keys[0],
                                     activity_score=score, lookup_key=keys[0], function1=None, function2=None,
                                     source=source, source_version=version, table=table.file)
            if gene in ACTIVITY_SCORE_GENES and gene != "DPYD":
                keys = [score] if any(r.get("lookupkey") == score for r in table.by_key.values()) else []
                if keys:
                    return PhenotypeCall(gene=gene, diplotype="", phenotype=phenotype or label,
                                         activity_score=score, lookup_key=score, function1=None,
                                         function2=None, source=source, source_version=version,
                                         table=table.file)
            return _indeterminate(gene, "", source, version, "ambiguous_outside_call",
                                  f"activity score {score} maps to {len(keys)} DPWG lookup keys: {keys}")
        phenos = sorted({r["phenotype"] for r in rows})
        pheno = phenotype or (phenos[0] if len(phenos) == 1 else INDETERMINATE)
        key = score if gene in ACTIVITY_SCORE_GENES else (phenos[0] if len(phenos) == 1 else None)
        return PhenotypeCall(gene=gene, diplotype="", phenotype=pheno, activity_score=score, lookup_key=key,
                             function1=None, function2=None, source=source, source_version=version,
                             reason=None if key else "ambiguous_outside_call",
                             table=table.file if table else None)
    if phenotype:
        pheno = phenotype.strip()
        if gene.startswith("G6PD") and pheno.startswith("G6PD "):
            pheno = pheno[5:]
        if gene in ACTIVITY_SCORE_GENES and table is not None:
            rows = table.by_phenotype.get(pheno.casefold(), [])
            keys = sorted({r["lookupkey"] for r in rows})
            scores = sorted({str(r.get("activityScore")) for r in rows if r.get("activityScore")})
            if len(keys) == 1:
                return PhenotypeCall(gene=gene, diplotype="", phenotype=pheno,
                                     activity_score=scores[0] if len(scores) == 1 else None,
                                     lookup_key=keys[0], function1=None, function2=None, source=source,
                                     source_version=version, table=table.file)
            return _indeterminate(gene, "", source, version, "phenotype_only_for_activity_score_gene",
                                  f"{gene} recommendations key on the activity score; phenotype {pheno!r} "
                                  f"spans scores {scores}: give the activity score")
        if table is not None:
            rows = table.by_phenotype.get(pheno.casefold(), [])
            keys = sorted({r["lookupkey"] for r in rows})
            key = keys[0] if len(keys) == 1 else pheno
        else:
            key = pheno
        return PhenotypeCall(gene=gene, diplotype="", phenotype=pheno, activity_score=None, lookup_key=key,
                             function1=None, function2=None, source=source, source_version=version,
                             table=table.file if table else None)
    return _indeterminate(gene, "", source, version, "empty_outside_call",
                          "outside call gives no diplotype, phenotype or activity score")
