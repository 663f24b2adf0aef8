"""Tumour inputs: somatic VCF (VEP CSQ / SnpEff ANN / unannotated), MAF, copy-number/fusion TSV.

Everything is read into one :class:`TumourProfile` (variants with gene + normalised protein
change and, when the positions are GRCh38, chrom/pos/ref/alt; copy-number and fusion calls;
TMB and MSI when given). Bad input raises the project's errors naming file, record, field and fix.

Notes
-----
* VCF records are read with :class:`genomics.vcf.VcfReader` (build check: a GRCh37 file is
  refused). The reader has no public access to the raw header, so the ``##INFO=<ID=CSQ>`` /
  ``ANN`` format description is read with cyvcf2 directly (errors translated the same way).
* Only PASS (or ``.``) records are used; filtered records are counted in the warnings.
* A MAF on GRCh37 keeps gene + protein change (build-independent) but its positions are not
  used for position matching.
"""

from __future__ import annotations

import gzip
import io
import math
import re
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from genomics.biomarkers.protein_change import ProteinChange, parse_protein_change
from genomics.fileio import check_input_file
from genomics.errors import (
    DegradedResultWarning,
    GenomeBuildError,
    InputFileError,
    UsageError,
    VcfError,
)

__all__ = [
    "MSI_STATUSES",
    "CopyNumberCall",
    "FusionCall",
    "SomaticVariant",
    "TumourProfile",
    "detect_format",
    "normalise_msi",
    "read_cnv_table",
    "read_maf",
    "read_somatic_vcf",
    "read_tumour",
]

MSI_STATUSES = {"MSI-H": "MSI-H", "MSIH": "MSI-H", "MSI-HIGH": "MSI-H", "DMMR": "dMMR", "MSS": "MSS",
                "MSI-L": "MSI-L", "MSIL": "MSI-L", "MSI-LOW": "MSI-L", "PMMR": "pMMR", "MSI-S": "MSS"}
_GENE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]*$")
_MAF_CLASS_TO_SO = {
    "Missense_Mutation": "missense_variant",
    "Nonsense_Mutation": "stop_gained",
    "Nonstop_Mutation": "stop_lost",
    "Frame_Shift_Del": "frameshift_variant",
    "Frame_Shift_Ins": "frameshift_variant",
    "In_Frame_Del": "inframe_deletion",
    "In_Frame_Ins": "inframe_insertion",
    "Splice_Site": "splice_donor_variant",
    "Translation_Start_Site": "start_lost",
    "Silent": "synonymous_variant",
}
_GRCH38_NAMES = {"GRCH38", "HG38", "38"}
_GRCH37_NAMES = {"GRCH37", "HG19", "37", "B37"}


@dataclass(frozen=True)
class SomaticVariant:
    """One somatic variant as the matcher sees it.

    ``chrom``/``pos``/``ref``/``alt`` are set only when the positions are on GRCh38
    (``positions_build == "GRCh38"``); gene and protein change are build-independent.
    """

    gene: str | None
    protein: ProteinChange | None
    consequences: tuple[str, ...] = ()
    exon: int | None = None
    chrom: str | None = None
    pos: int | None = None
    ref: str | None = None
    alt: str | None = None
    positions_build: str | None = None
    record: str = ""
    annotation: str = ""
    clin_sig: str | None = None
    transcript: str | None = None

    @property
    def protein_change(self) -> str | None:
        return None if self.protein is None else self.protein.short

    @property
    def label(self) -> str:
        gene = self.gene or "?"
        if self.protein is not None and self.protein.short:
            return f"{gene} p.{self.protein.short}"
        if self.pos is not None:
            return f"{gene} {self.chrom}:{self.pos} {self.ref}>{self.alt}"
        return gene

    @property
    def pathogenic(self) -> bool:
        """The annotation calls it pathogenic / likely pathogenic (not 'conflicting')."""
        sig = (self.clin_sig or "").lower()
        if not sig or "conflicting" in sig:
            return False
        terms = {t for t in re.split(r"[&,/ ]+", sig) if t}
        return bool(terms & {"pathogenic", "likely_pathogenic"})

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["protein_change"] = self.protein_change
        return d


@dataclass(frozen=True)
class CopyNumberCall:
    gene: str
    alteration: str  # amplification | deletion
    copy_number: float | None = None
    record: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FusionCall:
    gene: str
    partner: str | None = None
    record: str = ""

    @property
    def genes(self) -> tuple[str, ...]:
        return (self.gene,) if not self.partner else (self.gene, self.partner)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TumourProfile:
    """Everything known about one tumour."""

    variants: tuple[SomaticVariant, ...] = ()
    copy_number: tuple[CopyNumberCall, ...] = ()
    fusions: tuple[FusionCall, ...] = ()
    tmb: float | None = None
    msi: str | None = None
    source_file: str | None = None
    file_format: str | None = None
    annotation: str | None = None
    positions_build: str | None = None
    sample: str | None = None
    warnings: tuple[str, ...] = ()
    cnv_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_file": self.source_file,
            "file_format": self.file_format,
            "annotation": self.annotation,
            "positions_build": self.positions_build,
            "sample": self.sample,
            "variants": [v.to_dict() for v in self.variants],
            "copy_number": [c.to_dict() for c in self.copy_number],
            "fusions": [f.to_dict() for f in self.fusions],
            "tmb": self.tmb,
            "msi": self.msi,
            "cnv_file": self.cnv_file,
            "warnings": list(self.warnings),
        }


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------

def _open_text(path: Path) -> io.TextIOBase:
    with open(path, "rb") as handle:
        magic = handle.read(2)
    if magic == b"\x1f\x8b":  # utf-8-sig: a leading byte-order mark (Excel's "UTF-8") is dropped
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text without the newline); translates decode/gzip errors."""
    source = str(path)
    n = 0
    try:
        with _open_text(path) as handle:
            for n, line in enumerate(handle, start=1):
                yield n, line.rstrip("\r\n")
    except UnicodeDecodeError:
        raise InputFileError("not a text file (cannot be decoded as UTF-8)", file=source, record=f"line {n + 1}",
                             fix="give a tab-separated text file (optionally gzip-compressed)") from None
    except (EOFError, OSError) as err:
        raise InputFileError(f"truncated or corrupt compressed file ({err})", file=source, record=f"line {n + 1}",
                             fix="copy or download the file again") from None


def _check_file(path: str | Path, what: str) -> Path:
    p = Path(path)
    check_input_file(p, what=what, fix=f"give the path of the {what}")  # FIFOs, devices, loops, permissions
    if p.stat().st_size == 0:
        raise InputFileError("empty file (0 bytes)", file=str(p), record="line 1",
                             fix=f"give a {what} with a header line and at least one row")
    return p


def _exon_number(value: Any) -> int | None:
    text = str(value or "").strip()
    if not text or text in {".", "NA"}:
        return None
    head = text.split("/")[0].split("-")[0]
    # ascii, at most 6 digits: '²'.isdigit() is True but int('²') fails; 200,000 digits exceed int()'s limit
    return int(head) if head.isascii() and head.isdigit() and len(head) <= 6 else None


def normalise_msi(value: str | None) -> str | None:
    """``MSI-H``, ``MSS``, ``MSI-L``, ``dMMR`` or ``pMMR`` (case-insensitive aliases); ``None`` passes."""
    if value is None or str(value).strip() == "":
        return None
    key = str(value).strip().upper().replace("_", "-").replace(" ", "-")
    if key not in MSI_STATUSES:
        raise UsageError(f"unknown MSI status {value!r}", field="msi", fix="use MSI-H, MSS, MSI-L, dMMR or pMMR")
    return MSI_STATUSES[key]


def _check_tmb(tmb: Any) -> float | None:
    if tmb is None:
        return None
    try:
        value = float(tmb)
    except (TypeError, ValueError):
        raise UsageError(f"TMB must be a number of mutations per megabase, got {tmb!r}", field="tmb",
                         fix="give e.g. --tmb 12.5") from None
    if math.isnan(value) or value < 0 or value > 10_000:
        raise UsageError(f"TMB {value} mut/Mb is out of range", field="tmb", fix="give a value between 0 and 10000")
    return value


# ---------------------------------------------------------------------------------------------
# VCF
# ---------------------------------------------------------------------------------------------

_INFO_LINE = re.compile(r'^##INFO=<ID=(CSQ|ANN),.*?Description="(?P<desc>(?:[^"\\]|\\.)*)"', re.MULTILINE)


def _annotation_fields(raw_header: str) -> dict[str, list[str]]:
    """Field names of the CSQ (VEP) and ANN (SnpEff) INFO entries, from the header descriptions."""
    out: dict[str, list[str]] = {}
    for m in _INFO_LINE.finditer(raw_header):
        key, desc = m.group(1), m.group("desc")
        if key == "CSQ":
            if "Format:" not in desc:
                continue
            names = desc.split("Format:", 1)[1]
        else:
            quoted = re.search(r"'([^']+)'", desc)
            names = quoted.group(1) if quoted else desc.split(":", 1)[-1]
        fields = [f.strip() for f in names.strip().strip("'\"").split("|")]
        if len(fields) > 1:
            out[key] = fields
    return out


def _vep_allele(ref: str, alt: str, alts: tuple[str, ...]) -> str:
    """VEP's allele string: strips the shared first base of indels (``-`` when nothing is left)."""
    if all(a and ref and a[0] == ref[0] for a in alts) and any(len(a) != len(ref) for a in alts):
        trimmed = alt[1:]
        return trimmed or "-"
    return alt


def _pick_csq(entries: list[dict[str, str]]) -> dict[str, str] | None:
    if not entries:
        return None
    with_gene = [e for e in entries if e.get("SYMBOL") or e.get("Gene")] or entries

    def rank(e: dict[str, str]) -> tuple[int, int, int, int]:
        return (
            0 if e.get("PICK") == "1" else 1,
            0 if e.get("MANE_SELECT") or e.get("MANE") else 1,
            0 if e.get("CANONICAL") == "YES" else 1,
            0 if e.get("HGVSp") else 1,
        )

    return min(with_gene, key=rank)


def read_somatic_vcf(path: str | Path, *, include_filtered: bool = False) -> TumourProfile:
    """Read a somatic VCF (GRCh38), with VEP ``CSQ`` or SnpEff ``ANN`` annotation when present.

    Parameters
    ----------
    path
        ``.vcf`` / ``.vcf.gz`` / ``.bcf``.
    include_filtered
        Also use records whose FILTER is not PASS.

    Raises
    ------
    VcfError
        Unreadable, truncated or malformed file, or a CSQ/ANN value that does not fit its
        header description.
    GenomeBuildError
        The file is on GRCh37 (or looks like it: a GRCh37 hotspot allele with no build in the
        header).
    """
    from genomics.vcf import VcfReader

    source = str(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DegradedResultWarning)
        reader = VcfReader(path, build="GRCh38")
    notes = [str(w.message) for w in caught if issubclass(w.category, DegradedResultWarning)]
    raw_header = _raw_header(source)
    fields = _annotation_fields(raw_header)
    if "CSQ" in fields:
        annotation, key = "VEP CSQ", "CSQ"
    elif "ANN" in fields:
        annotation, key = "SnpEff ANN", "ANN"
    else:
        annotation, key = "none", None
        notes.append("the VCF carries no VEP CSQ or SnpEff ANN annotation: only GRCh38 hotspot positions can be "
                     "matched (annotate with VEP --hgvs --symbol or SnpEff to match by gene and protein change)")
    names = fields.get(key, []) if key else []
    if key == "CSQ" and "HGVSp" not in names:
        notes.append("the VEP annotation has no HGVSp field (VEP run without --hgvs): protein changes are unknown, "
                     "only GRCh38 hotspot positions and consequence/exon rules can match")
    variants: list[SomaticVariant] = []
    filtered = 0
    try:
        for rec in reader.fetch(None):
            if not rec.is_pass and not include_filtered:
                filtered += 1
                continue
            alts = rec.alts
            entries: list[dict[str, str]] = []
            if key is not None:
                value = rec.info(key)
                if value not in (None, False, True):
                    for raw in str(value).split(","):
                        parts = raw.split("|")
                        if len(parts) != len(names):
                            raise VcfError(
                                f"INFO/{key} entry has {len(parts)} fields but the header's Format lists {len(names)}",
                                file=source, record=rec.locus, field=key,
                                fix=f"re-annotate the file or repair the ##INFO=<ID={key}> header line so they agree",
                            )
                        entries.append(dict(zip(names, parts)))
            for alt in alts or ():
                if not alt or alt.startswith("<") or alt == "*":
                    continue
                variants.append(_vcf_variant(rec, alt, alts, entries, key, annotation))
    finally:
        reader.close()
    if filtered:
        notes.append(f"{filtered} record(s) not PASS were left out (include_filtered=True uses them)")
    if reader.build.method == "assumed":
        _refuse_grch37_lookalike(variants, source)
    return TumourProfile(
        variants=tuple(variants), source_file=source, file_format="vcf", annotation=annotation,
        positions_build="GRCh38", warnings=tuple(notes),
    )


def _raw_header(source: str) -> str:
    from cyvcf2 import VCF

    try:
        vcf = VCF(source, lazy=True)
        try:
            return vcf.raw_header
        finally:
            vcf.close()
    except Exception as err:  # noqa: BLE001 - cyvcf2 raises bare exceptions; VcfReader already validated
        raise VcfError(f"cannot read the VCF header ({err})", file=source,
                       fix="repair the header (bcftools view -h FILE shows it)") from None


def _vcf_variant(rec, alt: str, alts: tuple[str, ...], entries: list[dict[str, str]], key: str | None,
                 annotation: str) -> SomaticVariant:
    chosen: dict[str, str] | None = None
    if key == "CSQ":
        wanted = {alt, _vep_allele(rec.ref, alt, alts)}
        mine = [e for e in entries if e.get("Allele") in wanted] or (entries if len(alts) == 1 else [])
        chosen = _pick_csq(mine)
        if chosen is not None:
            gene = chosen.get("SYMBOL") or chosen.get("Gene") or None
            hgvsp = chosen.get("HGVSp") or ""
            cons = tuple(c for c in (chosen.get("Consequence") or "").split("&") if c)
            exon = _exon_number(chosen.get("EXON"))
            clin = chosen.get("CLIN_SIG") or None
            transcript = chosen.get("Feature") or None
    elif key == "ANN":
        mine = [e for e in entries if e.get("Allele") == alt] or (entries if len(alts) == 1 else [])
        chosen = mine[0] if mine else None
        if chosen is not None:
            gene = chosen.get("Gene_Name") or None
            hgvsp = chosen.get("HGVS.p") or ""
            cons = tuple(c for c in (chosen.get("Annotation") or "").split("&") if c)
            exon = _exon_number(chosen.get("Rank"))
            clin = None
            transcript = chosen.get("Feature_ID") or None
    if chosen is None:
        return SomaticVariant(gene=None, protein=None, chrom=rec.chrom, pos=rec.pos, ref=rec.ref, alt=alt,
                              positions_build="GRCh38", record=rec.locus,
                              annotation="none" if key is None else f"{annotation} (no entry for this allele)")
    protein = parse_protein_change(hgvsp) if hgvsp else None
    return SomaticVariant(
        gene=gene.upper() if gene else None, protein=protein, consequences=cons, exon=exon, chrom=rec.chrom,
        pos=rec.pos, ref=rec.ref, alt=alt, positions_build="GRCh38", record=rec.locus, annotation=annotation,
        clin_sig=clin, transcript=transcript,
    )


def _refuse_grch37_lookalike(variants: list[SomaticVariant], source: str) -> None:
    """No build in the header: refuse a file whose alleles sit on GRCh37 hotspot positions."""
    from genomics.biomarkers.hotspots import load_hotspots

    table = load_hotspots()
    for v in variants:
        if v.pos is None:
            continue
        hit = table.grch37_allele(v.chrom or "", v.pos, v.ref or "", v.alt or "")
        if hit is not None:
            raise GenomeBuildError(
                f"the file declares no genome build and {v.chrom}:{v.pos} {v.ref}>{v.alt} is {hit.gene} "
                f"{hit.protein_change} on GRCh37: the positions look like GRCh37",
                file=source, record=v.record, field="build",
                fix="lift the VCF over to GRCh38 (bcftools +liftover, CrossMap or Picard LiftoverVcf) "
                    "and add ##contig lines with lengths",
            )


# ---------------------------------------------------------------------------------------------
# MAF
# ---------------------------------------------------------------------------------------------

_PROTEIN_COLUMNS = ("HGVSp_Short", "HGVSp", "Protein_Change", "Amino_Acid_Change")


def read_maf(path: str | Path, *, sample: str | None = None) -> TumourProfile:
    """Read a MAF (tab-separated, ``#`` comment lines allowed, optionally gzip-compressed).

    Required column: ``Hugo_Symbol`` and one of ``HGVSp_Short``, ``HGVSp``, ``Protein_Change``.
    Used when present: ``Variant_Classification``, ``NCBI_Build``, ``Chromosome``,
    ``Start_Position``, ``Reference_Allele``, ``Tumor_Seq_Allele2``, ``Exon_Number``,
    ``Tumor_Sample_Barcode``, ``FILTER``.

    Positions are kept for position matching only when ``NCBI_Build`` is GRCh38; GRCh37 rows keep
    gene + protein change (build-independent) and say so in the warnings.
    """
    p = _check_file(path, "MAF file")
    source = str(p)
    header: list[str] | None = None
    col: dict[str, int] = {}
    rows: list[tuple[int, list[str]]] = []
    for n, line in _lines(p):
        if header is None:
            if not line.strip() or line.startswith("#"):
                continue
            header = line.split("\t")
            col = {name.strip(): i for i, name in enumerate(header)}
            if "Hugo_Symbol" not in col:
                raise InputFileError("no Hugo_Symbol column in the header line", file=source, record=f"line {n}",
                                     field="Hugo_Symbol",
                                     fix="give a MAF (tab-separated, header with Hugo_Symbol, HGVSp_Short, ...)")
            if not any(c in col for c in _PROTEIN_COLUMNS):
                raise InputFileError("no protein-change column (HGVSp_Short, HGVSp or Protein_Change)", file=source,
                                     record=f"line {n}", field="HGVSp_Short",
                                     fix="annotate the MAF (vcf2maf / VEP adds HGVSp_Short)")
            continue
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != len(header):
            raise InputFileError(
                f"row has {len(parts)} tab-separated fields but the header has {len(header)}"
                + (" (the file may be truncated)" if len(parts) < len(header) else ""),
                file=source, record=f"line {n}",
                fix="repair the row (tabs inside values?) or re-export the MAF",
            )
        rows.append((n, parts))
    if header is None:
        raise InputFileError("no header line (only comments or blank lines)", file=source, record="line 1",
                             fix="give a MAF with a header line starting with Hugo_Symbol")

    def get(parts: list[str], name: str) -> str:
        i = col.get(name)
        return parts[i].strip() if i is not None else ""

    samples = sorted({get(parts, "Tumor_Sample_Barcode") for _, parts in rows} - {""})
    if sample is not None:
        if sample not in samples:
            raise InputFileError(f"no sample {sample!r} in Tumor_Sample_Barcode", file=source,
                                 field="Tumor_Sample_Barcode", fix="choose one of: " + ", ".join(samples[:10]))
        rows = [(n, parts) for n, parts in rows if get(parts, "Tumor_Sample_Barcode") == sample]
    elif len(samples) > 1:
        raise InputFileError(f"the MAF holds {len(samples)} tumour samples", file=source, field="Tumor_Sample_Barcode",
                             fix="choose one with --sample: " + ", ".join(samples[:10])
                                 + (" ..." if len(samples) > 10 else ""))
    notes: list[str] = []
    variants: list[SomaticVariant] = []
    builds: set[str] = set()
    for n, parts in rows:
        gene = get(parts, "Hugo_Symbol").upper()
        if not gene or not _GENE.match(gene):
            raise InputFileError(f"bad gene symbol {gene!r}", file=source, record=f"line {n}", field="Hugo_Symbol",
                                 fix="write an HGNC symbol such as EGFR")
        ptext = next((get(parts, c) for c in _PROTEIN_COLUMNS if get(parts, c)), "")
        if len(ptext) > 200:
            raise InputFileError(f"protein change of {len(ptext)} characters ({ptext[:20]!r}...)", file=source,
                                 record=f"line {n}", field="HGVSp_Short",
                                 fix="write an HGVS protein change such as p.V600E (codon numbers have a few digits)")
        try:
            protein = parse_protein_change(ptext) if ptext else None
        except (ValueError, OverflowError) as err:
            raise InputFileError(f"cannot read the protein change {ptext[:40]!r} ({str(err)[:80]})", file=source,
                                 record=f"line {n}", field="HGVSp_Short",
                                 fix="write an HGVS protein change such as p.V600E") from None
        vclass = get(parts, "Variant_Classification")
        cons = (_MAF_CLASS_TO_SO[vclass],) if vclass in _MAF_CLASS_TO_SO else ()
        build_raw = get(parts, "NCBI_Build").upper()
        build = "GRCh38" if build_raw in _GRCH38_NAMES else "GRCh37" if build_raw in _GRCH37_NAMES else None
        builds.add(build or (build_raw or "missing"))
        chrom = pos = ref = alt = None
        start = get(parts, "Start_Position")
        if start and (not start.isdigit() or not start.isascii() or len(start) > 10 or int(start) < 1):
            raise InputFileError(f"Start_Position {start[:20]!r} is not a position (a whole number >= 1)", file=source,
                                 record=f"line {n}", field="Start_Position", fix="write a 1-based position")
        if build == "GRCh38" and start:
            chrom = get(parts, "Chromosome") or None
            if chrom and not chrom.startswith("chr"):
                chrom = "chr" + chrom
            pos = int(start)
            ref = get(parts, "Reference_Allele") or None
            alt = get(parts, "Tumor_Seq_Allele2") or None
        variants.append(SomaticVariant(
            gene=gene, protein=protein, consequences=cons, exon=_exon_number(get(parts, "Exon_Number")),
            chrom=chrom, pos=pos, ref=ref, alt=alt, positions_build=build if pos is not None else None,
            record=f"line {n}", annotation="MAF", clin_sig=None,
            transcript=get(parts, "Transcript_ID") or None,
        ))
    if "GRCh37" in builds:
        notes.append("MAF rows on GRCh37: their positions are not used for position matching (GRCh38 only); "
                     "gene + protein change (build-independent) are matched")
    odd = builds - {"GRCh38", "GRCh37"}
    if odd:
        notes.append(f"MAF rows with NCBI_Build {', '.join(sorted(odd))}: positions not used; "
                     "gene + protein change are matched")
    return TumourProfile(
        variants=tuple(variants), source_file=source, file_format="maf", annotation="MAF",
        positions_build="GRCh38" if builds == {"GRCh38"} else None,
        sample=sample or (samples[0] if samples else None), warnings=tuple(notes),
    )


# ---------------------------------------------------------------------------------------------
# copy number / fusion table
# ---------------------------------------------------------------------------------------------

_ALTERATIONS = {"amplification": "amplification", "amp": "amplification", "deletion": "deletion",
                "del": "deletion", "homdel": "deletion", "fusion": "fusion"}


def read_cnv_table(path: str | Path) -> tuple[tuple[CopyNumberCall, ...], tuple[FusionCall, ...]]:
    """Read the small copy-number / fusion table.

    Tab-separated with a header line: ``gene``, ``alteration`` (amplification | deletion |
    fusion), optional ``partner`` (fusions) and ``copy_number``; ``#`` lines are comments.
    A fusion written ``EML4-ALK`` or ``EML4::ALK`` in ``gene`` with no partner is split.
    """
    p = _check_file(path, "copy-number/fusion table")
    source = str(p)
    header: dict[str, int] | None = None
    cnv: list[CopyNumberCall] = []
    fus: list[FusionCall] = []
    for n, line in _lines(p):
        if not line.strip() or line.startswith("#"):
            continue
        parts = [x.strip() for x in line.split("\t")]
        if header is None:
            header = {name.lower(): i for i, name in enumerate(parts)}
            missing = [c for c in ("gene", "alteration") if c not in header]
            if missing:
                raise InputFileError(f"missing column(s) {', '.join(missing)} in the header line", file=source,
                                     record=f"line {n}", field=missing[0],
                                     fix="first line: gene<TAB>alteration<TAB>partner<TAB>copy_number")
            continue
        if len(parts) > len(header) or len(parts) < 2:
            raise InputFileError(f"row has {len(parts)} fields but the header has {len(header)}", file=source,
                                 record=f"line {n}", fix="separate the columns with single tabs")

        def get(name: str, parts: list[str] = parts, header: dict[str, int] = header) -> str:
            i = header.get(name)
            return parts[i] if i is not None and i < len(parts) else ""

        gene = get("gene").upper()
        kind_raw = get("alteration").lower()
        kind = _ALTERATIONS.get(kind_raw)
        if kind is None:
            raise InputFileError(f"unknown alteration {get('alteration')!r}", file=source, record=f"line {n}",
                                 field="alteration", fix="use amplification, deletion or fusion")
        partner = get("partner").upper() or None
        if kind == "fusion" and partner is None:
            for sep in ("::", "-", "/"):
                if sep in gene:
                    left, right = gene.split(sep, 1)
                    gene, partner = right, left  # EML4-ALK: 5' partner EML4, kinase ALK
                    break
        for name, value in (("gene", gene), ("partner", partner)):
            if value is not None and not _GENE.match(value):
                raise InputFileError(f"bad gene symbol {value!r}", file=source, record=f"line {n}", field=name,
                                     fix="write an HGNC symbol such as ERBB2")
        cn_text = get("copy_number")
        copy_number = None
        if cn_text and cn_text not in {".", "NA"}:
            try:
                copy_number = float(cn_text)
            except ValueError:
                raise InputFileError(f"copy_number {cn_text!r} is not a number", file=source, record=f"line {n}",
                                     field="copy_number", fix="write a number (e.g. 12) or leave it empty") from None
            if copy_number < 0 or not math.isfinite(copy_number) or copy_number > 10_000:
                raise InputFileError(f"copy_number {cn_text[:20]!r} must be a finite number between 0 and 10000",
                                     file=source, record=f"line {n}", field="copy_number",
                                     fix="write the absolute copy number (e.g. 12) or leave it empty")
        if kind == "fusion":
            fus.append(FusionCall(gene=gene, partner=partner, record=f"line {n}"))
        else:
            cnv.append(CopyNumberCall(gene=gene, alteration=kind, copy_number=copy_number, record=f"line {n}"))
    if header is None:
        raise InputFileError("no header line", file=source, record="line 1",
                             fix="first line: gene<TAB>alteration<TAB>partner<TAB>copy_number")
    return tuple(cnv), tuple(fus)


# ---------------------------------------------------------------------------------------------
# one entry point
# ---------------------------------------------------------------------------------------------

def detect_format(path: str | Path) -> str:
    """``"vcf"`` or ``"maf"`` from the file's first bytes (gzip/BCF aware)."""
    p = _check_file(path, "tumour file")
    with open(p, "rb") as handle:
        head = handle.read(4)
    if head[:3] == b"BCF":
        return "vcf"
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(p, "rb") as inner:
                text = inner.read(4096)
        except (OSError, EOFError):
            raise InputFileError("corrupt or truncated compressed file", file=str(p),
                                 fix="copy or download the file again") from None
    else:
        with open(p, "rb") as handle:
            text = handle.read(4096)
    if text.startswith((b"BCF", b"##fileformat=VCF", b"#CHROM")):
        return "vcf"
    for line in text.split(b"\n"):
        if line.startswith(b"#") or not line.strip():
            continue
        if b"Hugo_Symbol" in line:
            return "maf"
        break
    raise InputFileError("neither a VCF nor a MAF", file=str(p), record="line 1",
                         fix="give a VCF (##fileformat=VCF...) or a MAF (header with Hugo_Symbol), or pass --format")


def read_tumour(
    path: str | Path | None = None,
    *,
    file_format: str = "auto",
    cnv: str | Path | None = None,
    tmb: float | None = None,
    msi: str | None = None,
    sample: str | None = None,
    include_filtered: bool = False,
) -> TumourProfile:
    """Read a tumour: a VCF or MAF (``path``), a copy-number/fusion table, TMB and MSI.

    Any part may be missing (e.g. only ``tmb`` and ``msi``), but at least one must be given.
    """
    if path is None and cnv is None and tmb is None and msi is None:
        raise UsageError("nothing to read: give a tumour VCF/MAF, a copy-number table, TMB or MSI",
                         fix="pass TUMOUR_FILE and/or --cnv/--tmb/--msi")
    if file_format not in {"auto", "vcf", "maf"}:
        raise UsageError(f"unknown format {file_format!r}", field="format", fix="use vcf, maf or auto")
    tmb_value = _check_tmb(tmb)
    msi_value = normalise_msi(msi)
    profile = TumourProfile()
    if path is not None:
        fmt = detect_format(path) if file_format == "auto" else file_format
        if fmt == "vcf":
            if sample is not None:
                warnings.warn("sample is ignored for a VCF (somatic calls are per file)", DegradedResultWarning,
                              stacklevel=2)
            profile = read_somatic_vcf(path, include_filtered=include_filtered)
        else:
            profile = read_maf(path, sample=sample)
    cnv_calls: tuple[CopyNumberCall, ...] = ()
    fusions: tuple[FusionCall, ...] = ()
    if cnv is not None:
        cnv_calls, fusions = read_cnv_table(cnv)
    return TumourProfile(
        variants=profile.variants, copy_number=cnv_calls, fusions=fusions, tmb=tmb_value, msi=msi_value,
        source_file=profile.source_file, file_format=profile.file_format, annotation=profile.annotation,
        positions_build=profile.positions_build, sample=profile.sample, warnings=profile.warnings,
        cnv_file=None if cnv is None else str(cnv),
    )

