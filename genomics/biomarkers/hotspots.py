"""Hand-curated GRCh38 hotspot positions (``data/hotspots_grch38.tsv``), for matching by position.

Each row maps one GRCh38 SNV allele to its gene and protein change; a variant found at such a
position is then matched against the biomarker table by that protein change (match method
``"GRCh38 position"``). Sources of every position: ``data/SOURCES.md``.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from genomics.errors import KnowledgeBaseError

__all__ = ["HOTSPOT_FILE", "HotspotAllele", "HotspotTable", "load_hotspots"]

HOTSPOT_FILE = "hotspots_grch38.tsv"
_COLUMNS = ("gene", "protein_change", "chrom", "pos", "ref", "alt", "grch37_pos", "hgvs_c", "dbsnp", "verified_by")


def _canon(chrom: str) -> str:
    c = str(chrom)
    return c[3:] if c.lower().startswith("chr") else c


@dataclass(frozen=True)
class HotspotAllele:
    gene: str
    protein_change: str
    chrom: str
    pos: int
    ref: str
    alt: str
    grch37_pos: int
    hgvs_c: str
    dbsnp: str
    verified_by: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HotspotTable:
    alleles: tuple[HotspotAllele, ...]
    sha256: str
    path: str

    def grch38_allele(self, chrom: str, pos: int, ref: str, alt: str) -> HotspotAllele | None:
        return _index38(self).get((_canon(chrom), int(pos), ref.upper(), alt.upper()))

    def grch37_allele(self, chrom: str, pos: int, ref: str, alt: str) -> HotspotAllele | None:
        return _index37(self).get((_canon(chrom), int(pos), ref.upper(), alt.upper()))

    def provenance(self) -> dict[str, str]:
        return {"path": self.path, "sha256": self.sha256, "build": "GRCh38", "alleles": str(len(self.alleles))}


@lru_cache(maxsize=8)
def _index38(table: HotspotTable) -> dict[tuple[str, int, str, str], HotspotAllele]:
    return {(_canon(a.chrom), a.pos, a.ref, a.alt): a for a in table.alleles}


@lru_cache(maxsize=8)
def _index37(table: HotspotTable) -> dict[tuple[str, int, str, str], HotspotAllele]:
    return {(_canon(a.chrom), a.grch37_pos, a.ref, a.alt): a for a in table.alleles}


@lru_cache(maxsize=4)
def load_hotspots(path: str | None = None) -> HotspotTable:
    """Load the GRCh38 hotspot table (the bundled one when ``path`` is ``None``)."""
    p = Path(str(resources.files("genomics.biomarkers") / "data" / HOTSPOT_FILE)) if path is None else Path(path)
    source = str(p)
    try:
        blob = p.read_bytes()
    except OSError as err:
        raise KnowledgeBaseError(f"hotspot table cannot be read ({err.strerror})", file=source,
                                 fix="reinstall the package (the table ships in genomics/biomarkers/data)") from None
    alleles = []
    header = None
    for n, line in enumerate(blob.decode("utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if header is None:
            header = parts
            if tuple(header) != _COLUMNS:
                raise KnowledgeBaseError("unexpected header", file=source, record=f"line {n}",
                                         fix="columns: " + ", ".join(_COLUMNS))
            continue
        if len(parts) != len(_COLUMNS) or not parts[3].isdigit() or not parts[6].isdigit():
            raise KnowledgeBaseError("malformed row", file=source, record=f"line {n}",
                                     fix="10 tab-separated columns; pos and grch37_pos whole numbers")
        row = dict(zip(_COLUMNS, parts))
        alleles.append(HotspotAllele(
            gene=row["gene"], protein_change=row["protein_change"], chrom=row["chrom"], pos=int(row["pos"]),
            ref=row["ref"].upper(), alt=row["alt"].upper(), grch37_pos=int(row["grch37_pos"]),
            hgvs_c=row["hgvs_c"], dbsnp=row["dbsnp"], verified_by=row["verified_by"],
        ))
    return HotspotTable(alleles=tuple(alleles), sha256=hashlib.sha256(blob).hexdigest(),
                        path=source if path is not None else f"genomics/biomarkers/data/{HOTSPOT_FILE}")
