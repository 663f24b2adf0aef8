"""Outside calls: gene results a VCF cannot give (CYP2D6 with copy number, HLA-A/B, MT-RNR1...).

File format (tab-separated, UTF-8; ``#`` starts a comment line; an optional header row whose first
cell is ``gene``)::

    gene     diplotype     phenotype                  activity_score   source
    CYP2D6   *1/*2x2                                                    Stargazer 2.0
    HLA-B    *57:01/*08:01                                              lab report 2024-05-01
    CYP2C19                Poor Metabolizer                             clinical genotyping

Without a header the columns are, in order, gene, diplotype, phenotype, activity score, source (the
first four are PharmCAT's outside-call layout). Each row needs a gene and at least one of diplotype,
phenotype or activity score; each gene may appear once. An outside call replaces the VCF call of the
same gene and is marked ``source="outside"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from genomics.errors import InputFileError
from genomics.pgx.definitions import CALLABLE_GENES

__all__ = ["OUTSIDE_ONLY_GENES", "OutsideCall", "parse_outside_calls", "read_outside_calls"]

#: Genes only available as outside calls (not called from a VCF).
OUTSIDE_ONLY_GENES: tuple[str, ...] = ("HLA-A", "HLA-B", "MT-RNR1")
_KNOWN = set(CALLABLE_GENES) | set(OUTSIDE_ONLY_GENES)
_COLUMNS = ("gene", "diplotype", "phenotype", "activity_score", "source")
_ALIASES = {"activity score": "activity_score", "activityscore": "activity_score", "activity": "activity_score",
            "genotype": "diplotype", "haplotype": "diplotype"}


@dataclass(frozen=True)
class OutsideCall:
    """One row of an outside-calls file."""

    gene: str
    diplotype: str | None = None
    phenotype: str | None = None
    activity_score: str | None = None
    source: str | None = None
    line: int = 0

    @property
    def alleles(self) -> tuple[str, str | None] | None:
        """The diplotype split into its two alleles (``None`` when no diplotype was given)."""
        if not self.diplotype:
            return None
        parts = self.diplotype.split("/")
        if len(parts) == 1:
            return parts[0].strip(), None
        return parts[0].strip(), "/".join(parts[1:]).strip()


def _norm_gene(text: str) -> str:
    g = text.strip().upper().replace("_", "-")
    return "MT-RNR1" if g in {"MT-RNR1", "MTRNR1"} else g


@lru_cache(maxsize=1)
def _pypgx_known() -> frozenset[str]:
    """Genes PyPGx defines (VCF-callable or BAM-only), accepted as outside calls too (loaded on first use)."""
    from genomics.pgx.pypgx import BAM_ONLY_GENES, PYPGX_GENES

    return frozenset(PYPGX_GENES) | frozenset(BAM_ONLY_GENES)


def parse_outside_calls(text: str, *, file: str = "<outside calls>") -> list[OutsideCall]:
    """Parse outside-calls text; raises :class:`InputFileError` naming the line on bad rows."""
    calls: list[OutsideCall] = []
    seen: dict[str, int] = {}
    columns = _COLUMNS
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        if not calls and not seen and cells[0].lower() == "gene":
            names = [_ALIASES.get(c.lower(), c.lower().replace(" ", "_")) for c in cells]
            unknown = [c for c in names if c not in _COLUMNS]
            if unknown:
                raise InputFileError(f"unknown column(s) {', '.join(unknown)}", file=file, record=f"line {lineno}",
                                     field="header", fix=f"use the columns: {', '.join(_COLUMNS)}")
            columns = tuple(names)
            seen["__header__"] = lineno
            continue
        if len(cells) > len(columns) and any(cells[len(columns):]):
            raise InputFileError(f"{len(cells)} columns, expected at most {len(columns)}", file=file,
                                 record=f"line {lineno}", fix="separate columns by single tabs: "
                                 + ", ".join(columns))
        row = {name: (cells[i] if i < len(cells) and cells[i] else None) for i, name in enumerate(columns)}
        if not row.get("gene"):
            raise InputFileError("row without a gene", file=file, record=f"line {lineno}", field="gene",
                                 fix="put the gene symbol (e.g. CYP2D6) in the first column")
        gene = _norm_gene(row["gene"])
        if gene not in _KNOWN and gene not in _pypgx_known():
            raise InputFileError(f"unknown gene {row['gene']!r}", file=file, record=f"line {lineno}", field="gene",
                                 fix=f"use one of: {', '.join(sorted(_KNOWN))} or a PyPGx gene "
                                     f"({', '.join(sorted(_pypgx_known()))})")
        if not (row.get("diplotype") or row.get("phenotype") or row.get("activity_score")):
            raise InputFileError(f"{gene}: no diplotype, phenotype or activity score", file=file,
                                 record=f"line {lineno}", field="diplotype",
                                 fix="give at least one of diplotype, phenotype, activity score")
        score = row.get("activity_score")
        if score is not None:
            score = score.replace("≥", ">=")
            if not re.fullmatch(r"(>=)?\d+(\.\d+)?", score):
                raise InputFileError(f"{gene}: activity score {score!r} is not a number", file=file,
                                     record=f"line {lineno}", field="activity_score",
                                     fix="write the activity score as a number, e.g. 1.5")
            if not score.startswith(">="):
                score = f"{float(score):.1f}" if "." not in score or len(score.split(".")[1]) <= 1 else score
        if gene in seen:
            raise InputFileError(f"{gene} appears twice (lines {seen[gene]} and {lineno})", file=file,
                                 record=f"line {lineno}", field="gene", fix="keep one row per gene")
        seen[gene] = lineno
        calls.append(OutsideCall(gene=gene, diplotype=row.get("diplotype"), phenotype=row.get("phenotype"),
                                 activity_score=score, source=row.get("source"), line=lineno))
    return calls


def read_outside_calls(path: str | Path) -> list[OutsideCall]:
    """Read an outside-calls TSV file (see the module docstring for the format)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError("file not found", file=path, fix="check the path of the outside-calls file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputFileError(f"cannot read: {err}", file=path, fix="give a UTF-8 tab-separated text file") from None
    return parse_outside_calls(text, file=str(path))
