"""A cheap pre-check of a text VCF before htslib parses it (see :func:`precheck_text`).

htslib (through cyvcf2) is fast but trusting: some malformed lines are read as something else
(QUAL ``high`` becomes 0.0, surplus sample columns are dropped, a ``#`` comment line between records
becomes a record without REF) and one combination crashes the process (a record on a contig without a
``##contig`` line whose FORMAT data do not parse: cyvcf2 hands back the half-parsed record because
htslib flags it only as "contig undefined", and reading its FORMAT data is a segmentation fault).

This module reads the text once, in Python, up to a byte budget, and

* refuses what is truly malformed with a :class:`~genomics.errors.VcfError` naming the line, the field and
  the fix (POS not a number, POS 0, POS beyond the contig's length, QUAL not a number, more columns than
  the header has samples, bytes that are not UTF-8, a record cut short);
* notes what PharmCAT reads and we read too: ``#`` comment lines between records (skipped) and records
  out of order (sorted), and contigs the header does not declare (declared, which closes the crash path).

When anything must be repaired (:attr:`TextCheck.needs_copy`), :func:`write_clean_copy` writes a plain-text
copy (comments dropped, missing ``##contig`` lines added, records sorted) that the reader opens instead;
``line_of`` maps its record numbers back to the user's line numbers for error messages.

A file larger than the budget is checked only up to it (:attr:`TextCheck.complete` is False); the reader
then guards the rest record by record (see :class:`~genomics.vcf.reader.VcfReader`).
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from genomics.errors import VcfError

__all__ = ["PRECHECK_BUDGET_BYTES", "TextCheck", "precheck_text", "write_clean_copy"]

#: Text bytes (after decompression) the pre-check reads; override with GENOMICS_VCF_PRECHECK_BYTES.
PRECHECK_BUDGET_BYTES = 32 * 1024 * 1024
_FIX_COLUMNS = ("every record needs the 8 fixed columns, FORMAT and one column per sample of the #CHROM line, "
                "separated by tabs: repair or remove the line")


def _budget() -> int:
    value = os.environ.get("GENOMICS_VCF_PRECHECK_BYTES")
    try:
        return int(value) if value else PRECHECK_BUDGET_BYTES
    except ValueError:
        return PRECHECK_BUDGET_BYTES


@dataclass
class TextCheck:
    """What the pre-check found (``complete``: the whole file was read within the budget)."""

    complete: bool
    header_lines: int
    n_samples: int
    records: int = 0
    comment_lines: list[int] = field(default_factory=list)
    unsorted_at: tuple[int, str, str] | None = None  # (line, locus, previous locus)
    undeclared_contigs: list[str] = field(default_factory=list)
    contig_order: list[str] = field(default_factory=list)

    @property
    def needs_copy(self) -> bool:
        """True when the reader should read a repaired copy (comments, order, undeclared contigs)."""
        return self.complete and bool(self.comment_lines or self.unsorted_at or self.undeclared_contigs)

    def warnings(self) -> list[str]:
        out = []
        if self.comment_lines:
            shown = ", ".join(str(n) for n in self.comment_lines[:5])
            more = f" and {len(self.comment_lines) - 5} more" if len(self.comment_lines) > 5 else ""
            out.append(f"{len(self.comment_lines)} comment line(s) starting with '#' between records were skipped "
                       f"(line {shown}{more})")
        if self.unsorted_at:
            line, locus, before = self.unsorted_at
            out.append(f"records are not sorted (line {line}: {locus} comes after {before}); they were sorted in "
                       "memory -- sort the file once (bcftools sort FILE -Oz -o sorted.vcf.gz) for speed")
        return out


def _open_text(path: Path, kind: str):
    return gzip.open(path, "rb") if kind in ("vcf.gz", "gzip") else open(path, "rb")


def _decode(raw: bytes, source: str, line: int, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        bad = raw[max(0, err.start - 10): err.end + 10]
        raise VcfError(f"{what} holds bytes that are not UTF-8 ({bad!r})", file=source, record=f"line {line}",
                       fix="VCF text must be UTF-8 (ASCII for REF/ALT): re-encode the file (iconv -f latin1 -t utf-8) "
                           "or correct the line") from None


_FIX_CORRUPT = ("the file is truncated or corrupt: copy or download it again (or re-compress it with bgzip) and "
                "re-index it")


def precheck_text(path: str | os.PathLike[str], kind: str, contig_lengths: dict[str, int | None],
                  source: str | None = None, budget: int | None = None) -> TextCheck:
    """Read a text VCF (plain or gzip) once and check what htslib would read wrongly.

    Raises
    ------
    VcfError
        For the first truly malformed line (line number, field and fix in the message); for compressed
        data that fail to decompress (or whose malformed line is explained by a damaged block), a
        "corrupt compressed data" error naming the last good record.
    """
    state: dict[str, object] = {"last": None, "line": 0}
    try:
        return _precheck(Path(path), kind, contig_lengths, source or str(path),
                         _budget() if budget is None else budget, state)
    except VcfError as err:
        if kind in ("vcf.gz", "gzip") and _damaged(Path(path)):
            raise _corrupt(source or str(path), state, err.message) from None
        raise
    except (EOFError, OSError, zlib.error) as err:
        raise _corrupt(source or str(path), state, str(err)) from None


def _damaged(path: Path) -> bool:
    try:
        with gzip.open(path, "rb") as handle:
            while handle.read(1 << 20):
                pass
    except (EOFError, OSError, zlib.error):
        return True
    return False


def _corrupt(source: str, state: dict[str, object], detail: str) -> VcfError:
    last = state.get("last")
    record = (f"after {last}" if last else "the first record") + f" (line {state.get('line')})"
    return VcfError(f"corrupt or truncated compressed data ({detail[:120]})", file=source, record=record,
                    fix=_FIX_CORRUPT)


def _precheck(path: Path, kind: str, contig_lengths: dict[str, int | None], source: str, budget: int,
              state: dict[str, object]) -> TextCheck:
    declared = set(contig_lengths)
    with _open_text(path, kind) as handle:
        n = 0
        n_samples = 0
        line = b""
        for line in handle:
            n += 1
            if line.startswith(b"##"):
                _decode(line, source, n, "the header line")
                continue
            if line.startswith(b"#CHROM"):
                text = _decode(line, source, n, "the #CHROM line (sample names)")
                cols = text.rstrip("\r\n").split("\t")
                if cols[:8] != ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]:
                    raise VcfError("a #CHROM header line without the 8 tab-separated column names (spaces instead "
                                   "of tabs?)", file=source, record="#CHROM line",
                                   fix="VCF header columns must be #CHROM, POS, ID, REF, ALT, QUAL, FILTER, INFO "
                                       "(then FORMAT and the samples), separated by tabs: re-export the file")
                n_samples = max(0, len(cols) - 9)
                break
            break
        check = TextCheck(complete=False, header_lines=n, n_samples=n_samples)
        expected = 9 + n_samples if n_samples else None
        read = 0
        last: dict[str, int] = {}
        order: list[str] = []
        current = None
        records = 0
        seen_undeclared: dict[str, None] = {}
        for raw in handle:
            n += 1
            state["line"] = n
            read += len(raw)
            if raw.startswith(b"#"):
                check.comment_lines.append(n)
                continue
            stripped = raw.rstrip(b"\r\n")
            if not stripped.strip():
                raise VcfError("a blank line between records", file=source, record=f"line {n}",
                               fix="remove the blank line (VCF files hold no blank lines; columns are separated "
                                   "by tabs)")
            records += 1
            ncol = stripped.count(b"\t") + 1  # = len(split): without building ~3,000 field objects per line
            if ncol < 8:
                raise VcfError(f"a record with {ncol} tab-separated column(s) (8 fixed columns are required; "
                               "space-separated or cut short)", file=source, record=f"line {n}", fix=_FIX_COLUMNS)
            if expected is not None and ncol > expected:
                raise VcfError(f"a record with {ncol} columns, but the #CHROM line names {n_samples} sample(s) "
                               f"(so {expected} columns)", file=source, record=f"line {n}", fix=_FIX_COLUMNS)
            if expected is None and ncol > 9:
                raise VcfError(f"a record with {ncol} columns in a file whose #CHROM line names no samples",
                               file=source, record=f"line {n}", fix=_FIX_COLUMNS)
            text = _decode(stripped, source, n, "the record")
            cols = text.split("\t", 6)
            chrom, pos_text, ref, alt, qual = cols[0], cols[1], cols[3], cols[4], cols[5]
            locus = f"{chrom}:{pos_text}"
            if not pos_text.isdigit() or not pos_text.isascii():
                raise VcfError(f"POS {pos_text[:20]!r} is not a whole number", file=source, record=f"line {n}",
                               field="POS", fix="POS must be a 1-based position (a whole number >= 1)")
            if len(pos_text) > 10:  # int() of 200,000 digits raised ValueError (Python's 4300-digit limit)
                raise VcfError(f"POS of {len(pos_text)} digits ({pos_text[:12]}...) is not a position", file=source,
                               record=f"line {n}", field="POS",
                               fix="POS must be a 1-based position (positions fit in 32 bits, at most 10 digits)")
            pos = int(pos_text)
            if pos < 1:
                raise VcfError("position must be >= 1 (POS is 0)", file=source, record=f"{locus} (line {n})",
                               field="POS", fix="POS is 1-based: correct the record (a 0-based export?)")
            length = contig_lengths.get(chrom)
            if length is not None and pos > length:
                raise VcfError(f"POS {pos} lies beyond the end of {chrom} (length {length} in the ##contig line)",
                               file=source, record=f"{locus} (line {n})", field="POS",
                               fix="check the genome build of the file and of its header, or correct the record")
            if not ref or ref == ".":
                raise VcfError("REF is empty", file=source, record=f"{locus} (line {n})", field="REF",
                               fix="every record needs a REF allele (the reference base(s) at POS)")
            if not alt:
                raise VcfError("ALT is empty", file=source, record=f"{locus} (line {n})", field="ALT",
                               fix="write '.' for a record without ALT allele")
            if qual != ".":
                try:
                    value = float(qual)
                except ValueError:
                    value = math.nan
                if not math.isfinite(value):
                    raise VcfError(f"QUAL {qual[:20]!r} is not a number", file=source, record=f"{locus} (line {n})",
                                   field="QUAL", fix="QUAL must be a number or '.' (missing)")
            if chrom != current:
                if chrom in last:
                    if check.unsorted_at is None:
                        check.unsorted_at = (n, locus, f"{current}:{last[current]}" if current else "?")
                else:
                    order.append(chrom)
                    if chrom not in declared:
                        seen_undeclared[chrom] = None
                current = chrom
            elif pos < last[chrom] and check.unsorted_at is None:
                check.unsorted_at = (n, locus, f"{chrom}:{last[chrom]}")
            last[chrom] = max(pos, last.get(chrom, 0))
            state["last"] = locus
            if read > budget:
                check.records = records
                check.contig_order = order
                check.undeclared_contigs = list(seen_undeclared)
                return check
        check.complete = True
        check.records = records
        check.contig_order = order
        check.undeclared_contigs = list(seen_undeclared)
        return check


def write_clean_copy(path: str | os.PathLike[str], kind: str, check: TextCheck, target: str | os.PathLike[str],
                     header_contigs: list[str]) -> list[int]:
    """Write a repaired plain-text copy of a pre-checked VCF to ``target``.

    Comment lines between records are dropped, ``##contig`` lines are added for undeclared contigs (so
    htslib parses every record strictly) and records are sorted by contig (header order, then order of
    first appearance) and position (stable). Returns the original line number of each record of the
    copy, in the copy's order.
    """
    rank = {c: i for i, c in enumerate(header_contigs)}
    for c in check.contig_order:
        rank.setdefault(c, len(rank))
    header: list[bytes] = []
    rows: list[tuple[int, int, int, bytes]] = []
    with _open_text(Path(path), kind) as handle:
        n = 0
        for raw in handle:
            n += 1
            if n < check.header_lines:
                header.append(raw)
                continue
            if n == check.header_lines:
                for name in check.undeclared_contigs:
                    header.append(f"##contig=<ID={name}>\n".encode())
                header.append(raw)
                continue
            if raw.startswith(b"#"):
                continue
            if not raw.endswith(b"\n"):
                raw += b"\n"
            chrom, pos, _ = raw.split(b"\t", 2)
            rows.append((rank[chrom.decode()], int(pos), n, raw))
    if check.unsorted_at:
        rows.sort(key=lambda r: (r[0], r[1], r[2]))
    with open(target, "wb") as out:
        out.writelines(header)
        out.writelines(r[3] for r in rows)
    return [r[2] for r in rows]
