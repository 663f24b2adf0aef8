"""HGVS protein-change normalisation (``p.V600E`` / ``p.Val600Glu`` / ``V600E`` -> one form).

Annotators write the same change in several ways: VEP ``ENSP00000288602.7:p.Val600Glu``
(``%3D`` for ``=``), SnpEff ``p.Val600Glu``, MAF ``HGVSp_Short`` ``p.V600E``, curated tables
``V600E``. :func:`parse_protein_change` reads all of them into a :class:`ProteinChange`
whose :attr:`~ProteinChange.short` is the one-letter form without ``p.`` (``V600E``,
``E746_A750del``, ``L747_P753delinsS``, ``A767_V769dup``, ``D770_N771insSVD``, ``R1443*``,
``K1445fs``), the form every matcher of the package compares.

Examples
--------
>>> parse_protein_change("ENSP00000288602.7:p.Val600Glu").short
'V600E'
>>> parse_protein_change("p.Glu746_Ala750del").kind
'inframe_deletion'
>>> parse_protein_change("p.(Arg1443Ter)").short
'R1443*'
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import unquote

__all__ = ["LOSS_OF_FUNCTION_KINDS", "THREE_TO_ONE", "ProteinChange", "parse_protein_change"]

THREE_TO_ONE: dict[str, str] = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E", "Gly": "G",
    "His": "H", "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F", "Pro": "P", "Ser": "S",
    "Thr": "T", "Trp": "W", "Tyr": "Y", "Val": "V", "Sec": "U", "Pyl": "O", "Ter": "*", "Xaa": "X",
}
_ONE = set("ACDEFGHIKLMNPQRSTVWYUOX*")

#: Kinds that remove the protein's function (nonsense, frameshift, start lost).
LOSS_OF_FUNCTION_KINDS = frozenset({"nonsense", "frameshift", "start_lost"})

_AA3 = "|".join(sorted(THREE_TO_ONE, key=len, reverse=True))
_THREE_RE = re.compile(rf"({_AA3})")


def _to_one(text: str) -> str:
    """Replace every three-letter amino-acid code by its one-letter code (``*`` for Ter)."""
    return _THREE_RE.sub(lambda m: THREE_TO_ONE[m.group(1)], text)


# one-letter grammar after conversion (no "p.")
_AA = r"[ACDEFGHIKLMNPQRSTVWYUOX*]"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("synonymous", re.compile(rf"^(?P<ref>{_AA})(?P<start>\d+)=$")),
    ("start_lost", re.compile(r"^(?P<ref>M)(?P<start>1)(\?|0|[A-Z])$")),
    ("frameshift", re.compile(rf"^(?P<ref>{_AA})(?P<start>\d+)(?:{_AA})?fs(?:\*?\??\d*)?$")),
    ("extension", re.compile(rf"^(?P<ref>\*)(?P<start>\d+)(?P<alt>{_AA})?ext\*?\??\d*$")),
    ("nonsense", re.compile(rf"^(?P<ref>{_AA})(?P<start>\d+)\*$")),
    ("missense", re.compile(rf"^(?P<ref>{_AA})(?P<start>\d+)(?P<alt>{_AA})$")),
    ("inframe_deletion",
     re.compile(rf"^(?P<ref>{_AA})(?P<start>\d+)(?:_(?P<ref2>{_AA})(?P<end>\d+))?del(?:{_AA}*)$")),
    ("duplication",
     re.compile(rf"^(?P<ref>{_AA})(?P<start>\d+)(?:_(?P<ref2>{_AA})(?P<end>\d+))?dup(?:{_AA}*)$")),
    ("delins",
     re.compile(rf"^(?P<ref>{_AA})(?P<start>\d+)(?:_(?P<ref2>{_AA})(?P<end>\d+))?delins(?P<alt>{_AA}+)$")),
    ("inframe_insertion",
     re.compile(rf"^(?P<ref>{_AA})(?P<start>\d+)_(?P<ref2>{_AA})(?P<end>\d+)ins(?P<alt>{_AA}+|\d+)$")),
]


@dataclass(frozen=True)
class ProteinChange:
    """One protein change, normalised.

    Attributes
    ----------
    raw : str
        The text as given.
    short : str or None
        One-letter form without ``p.`` (``V600E``); ``None`` when the text could not be read.
    kind : str
        ``missense``, ``nonsense``, ``synonymous``, ``frameshift``, ``inframe_deletion``,
        ``inframe_insertion``, ``duplication``, ``delins``, ``extension``, ``start_lost`` or
        ``unknown``.
    ref : str or None
        Reference amino acid at ``start`` (one letter).
    start, end : int or None
        First and last affected codon (``end == start`` for single-codon changes).
    alt : str or None
        Alternative amino acid(s) for missense / delins / insertion.
    """

    raw: str
    short: str | None
    kind: str
    ref: str | None = None
    start: int | None = None
    end: int | None = None
    alt: str | None = None

    @property
    def is_loss_of_function(self) -> bool:
        return self.kind in LOSS_OF_FUNCTION_KINDS

    @property
    def is_inframe_indel(self) -> bool:
        return self.kind in {"inframe_deletion", "inframe_insertion", "duplication", "delins"}

    @property
    def is_protein_altering(self) -> bool:
        return self.kind not in {"synonymous", "unknown"}

    @property
    def codon(self) -> str | None:
        """``V600`` for ``V600E`` (reference amino acid + first position)."""
        if self.ref is None or self.start is None:
            return None
        return f"{self.ref}{self.start}"

    def overlaps(self, lo: int, hi: int) -> bool:
        """True when the affected codons overlap ``lo..hi`` (inclusive)."""
        if self.start is None:
            return False
        end = self.end if self.end is not None else self.start
        return self.start <= hi and end >= lo

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_protein_change(text: str | None) -> ProteinChange:
    """Read an HGVS protein change in any common spelling.

    Parameters
    ----------
    text
        ``p.V600E``, ``p.Val600Glu``, ``V600E``, ``p.(Val600Glu)``,
        ``ENSP00000288602.7:p.Val600Glu``, ``p.Glu746_Ala750del``, ``p.L747_P753delinsS``,
        ``p.Arg1443Ter``, ``p.K1445Nfs*3``, ``p.V600%3D`` (VEP's escaped ``=``) ...

    Returns
    -------
    ProteinChange
        ``kind == "unknown"`` and ``short is None`` when the text is empty or not readable
        (never raises: a bad annotation is a reason not to match, not a crash).
    """
    raw = "" if text is None else str(text)
    s = unquote(raw.strip())
    if ":" in s:
        s = s.rsplit(":", 1)[1]
    s = s.removeprefix("p.")
    s = s.strip()
    if s.startswith("(") and s.endswith(")"):
        s = s[1:-1]
    if not s or s in {"?", "0", "=", ".", "-"}:
        return ProteinChange(raw, None, "unknown")
    s = _to_one(s)
    if s.endswith("X") and re.match(rf"^{_AA}\d+X$", s):
        # older tables write stop codons as X (R1443X)
        s = s[:-1] + "*"
    for kind, pattern in _PATTERNS:
        m = pattern.match(s)
        if not m:
            continue
        g = m.groupdict()
        start = int(g["start"])
        end = int(g["end"]) if g.get("end") else start
        ref = g["ref"]
        alt = g.get("alt")
        if kind == "missense" and ref == alt:
            kind, short = "synonymous", f"{ref}{start}="
        elif kind == "start_lost":
            short = "M1?"
        elif kind == "frameshift":
            short = f"{ref}{start}fs"
        elif kind == "nonsense":
            short = f"{ref}{start}*"
        elif kind == "missense":
            short = f"{ref}{start}{alt}"
        elif kind == "synonymous":
            short = f"{ref}{start}="
        elif kind == "extension":
            short = f"*{start}{alt or ''}ext"
        else:
            span = f"{ref}{start}" + (f"_{g['ref2']}{end}" if g.get("end") else "")
            suffix = {"inframe_deletion": "del", "duplication": "dup"}.get(kind)
            short = span + (suffix if suffix else ("delins" if kind == "delins" else "ins") + (alt or ""))
        return ProteinChange(raw, short, kind, ref, start, end, alt)
    return ProteinChange(raw, None, "unknown")
