"""The product's VCF/BCF reader (built on cyvcf2; see :class:`VcfReader`)."""

from __future__ import annotations

import gzip
import itertools
import os
import re
import warnings
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Self

from genomics.errors import DegradedResultWarning, GenomeBuildError, IndexFileError, UsageError, VcfError
from genomics.vcf import _htslib
from genomics.vcf.build import (
    BuildCall,
    RefCheck,
    build_from_contig_lengths,
    build_from_known_positions,
    build_from_reference,
    normalise_build,
)
from genomics.vcf.contigs import ContigNames, canonical_contig, parse_region
from genomics.vcf.records import VcfRecord

__all__ = ["RefCheck", "VcfReader"]

# cyvcf2 warns (Python UserWarning) when a region query finds no records: not news for a caller.
warnings.filterwarnings("ignore", message=r"no intervals found for", category=UserWarning)

BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_FIX_TRUNCATED = "the file is truncated or corrupt: copy or download it again (or re-compress it with bgzip) and re-index it"
_FIX_REINDEX = "re-create the index (tabix -p vcf FILE.vcf.gz, or bcftools index FILE), or delete it to read without one"
_CONTIG_LINE = re.compile(r"^##contig=<(.*)>\s*$", re.MULTILINE)
_KEY_VALUE = re.compile(r'([A-Za-z_][\w.]*)=("(?:[^"\\]|\\.)*"|[^,]*)')
_HTS_LOCUS = re.compile(r"\bat ([^\s:]+):(\d+)")
_HTS_FIELD = re.compile(r"'([^']+)' (FORMAT|INFO) field|(FORMAT|INFO)[/ ]'?([A-Za-z_][\w.]*)'?")
_SCAN_LIMIT_KNOWN = 200_000  # records scanned for known positions when a file has no index
_REFERENCE_SAMPLE = 200  # records whose REF is compared with a reference for build detection


def _sniff(path: Path) -> str:
    """``"vcf"``, ``"vcf.gz"`` (bgzip), ``"gzip"`` (plain gzip) or ``"bcf"``; raises VcfError otherwise."""
    source = str(path)
    if not path.exists():
        raise VcfError("file not found", file=source, fix="check the path (and that the file was copied completely)")
    if path.is_dir():
        raise VcfError("is a folder, not a VCF file", file=source, fix="give the path of a .vcf, .vcf.gz or .bcf file")
    size = path.stat().st_size
    if size == 0:
        raise VcfError("empty file (0 bytes)", file=source, record="line 1",
                       fix="give a VCF/BCF with a header (##fileformat=VCF...) and a #CHROM line")
    with open(path, "rb") as handle:
        head = handle.read(18)
        if head[:2] == b"\x1f\x8b":
            is_bgzf = len(head) >= 14 and bool(head[3] & 4) and head[12:14] == b"BC"
            if is_bgzf:
                handle.seek(max(0, size - len(BGZF_EOF)))
                if handle.read() != BGZF_EOF:
                    raise VcfError("truncated bgzip file: the end-of-file block is missing", file=source,
                                   fix=_FIX_TRUNCATED)
            try:
                with gzip.open(path, "rb") as inner:
                    text = inner.read(64)
            except (EOFError, OSError, zlib.error) as err:
                raise VcfError(f"corrupt or truncated compressed file ({err})", file=source, fix=_FIX_TRUNCATED) from None
            if not text:
                raise VcfError("empty file (compressed, but holds no text)", file=source, record="line 1",
                               fix="give a VCF/BCF with a header (##fileformat=VCF...) and a #CHROM line")
            if text.startswith(b"BCF"):
                return "bcf"
            if text.startswith((b"##fileformat=VCF", b"#CHROM")):
                return "vcf.gz" if is_bgzf else "gzip"
            raise VcfError(f"not a VCF: it starts with {_show(text)}", file=source, record="line 1",
                           fix="give a VCF (first line ##fileformat=VCFv4.x), a bgzipped VCF or a BCF file")
        if head.startswith(b"BCF"):
            return "bcf"
        if head.startswith((b"##fileformat=VCF", b"#CHROM")):
            return "vcf"
        raise VcfError(f"not a VCF: it starts with {_show(head)}", file=source, record="line 1",
                       fix="give a VCF (first line ##fileformat=VCFv4.x), a bgzipped VCF or a BCF file")


def _show(data: bytes) -> str:
    first = data.split(b"\n", 1)[0][:30]
    return repr(first.decode("utf-8", errors="replace"))


def _contig_lengths(raw_header: str) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for match in _CONTIG_LINE.finditer(raw_header):
        fields = {k: v.strip('"') for k, v in _KEY_VALUE.findall(match.group(1))}
        name = fields.get("ID")
        if not name:
            continue
        length = fields.get("length")
        out[name] = int(length) if length and length.isdigit() else None
    return out


def _index_candidates(path: Path, kind: str) -> list[Path]:
    if kind == "vcf.gz":
        return [Path(f"{path}.tbi"), Path(f"{path}.csi")]
    if kind == "bcf":
        return [Path(f"{path}.csi")]
    return []


class VcfReader:
    """Read a VCF, bgzipped VCF or BCF file.

    Parameters
    ----------
    path
        ``.vcf``, ``.vcf.gz`` (bgzip; tabix ``.tbi`` or ``.csi`` index beside it) or ``.bcf``
        (``.csi`` index beside it).
    samples
        Sample names to read (``None``: all). They are read in the file's order; ``samples``
        tells the order. A name the file lacks raises :class:`~genomics.errors.VcfError` listing
        the names available.
    build
        The build the caller works on: ``"GRCh38"`` (default). A file detected as another build
        is refused with :class:`~genomics.errors.GenomeBuildError`; pass ``"GRCh37"`` only to
        read GRCh37 data on purpose; ``None`` accepts whatever is detected.
    reference
        Optional reference sequence (``fetch(contig, start, end)`` 1-based inclusive, upper-case
        forward strand, e.g. :class:`genomics.reference.ReferenceGenome`). Used for build
        detection and to count REF alleles that disagree with it (:attr:`ref_check`).
    index
        Path of the index when it does not lie beside the file.
    require_index
        Raise :class:`~genomics.errors.IndexFileError` when there is no usable index instead of
        falling back to a streaming scan.

    Attributes
    ----------
    path : Path
    samples : list[str]
        Selected samples in file order.
    build : BuildCall
    access : str or None
        ``"index"`` or ``"scan"``: how the last :meth:`fetch` / :meth:`fetch_positions` read.
    ref_check : RefCheck
        REF alleles compared with ``reference`` over the records read so far.

    Notes
    -----
    Index queries share one htslib handle: finish (or drop) one region's iterator before starting
    the next; whole-file scans open their own handle. A reader is not thread-safe: open one per
    thread or process. Records stay valid after the iteration moves on (each owns its data).
    htslib's own stderr messages are silenced while reading and turned into
    :class:`~genomics.errors.VcfError` / :class:`~genomics.errors.IndexFileError` text instead.

    Examples
    --------
    >>> r = VcfReader("genomics/data/demo/demo_pgx_panel.vcf.gz")  # doctest: +SKIP
    >>> for rec in r.fetch("chr10:94761900-94855547"):  # doctest: +SKIP
    ...     rec.gt.shape
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        samples: Sequence[str] | None = None,
        build: str | None = "GRCh38",
        reference: Any = None,
        *,
        index: str | os.PathLike[str] | None = None,
        require_index: bool = False,
    ) -> None:
        self.path = Path(path)
        self._source = str(path)
        if isinstance(samples, str):
            samples = [samples]
        requested = None
        if build is not None:
            requested = normalise_build(build)
            if requested is None:
                raise UsageError(f"unknown genome build {build!r}", field="build",
                                 fix="use GRCh38 (default) or GRCh37")
        self.kind = _sniff(self.path)
        self._reference = reference
        label = None if reference is None else str(getattr(reference, "label", "") or type(reference).__name__)
        self.ref_check = RefCheck(reference=label)
        self.access: str | None = None
        self.warnings: list[str] = []

        vcf = self._open_cyvcf2()
        self.all_samples: list[str] = list(vcf.samples)
        self.samples = self._select_samples(samples)
        # no htslib sample subsetting when every sample is asked for (in file order): it costs time
        self._selection: list[str] | None = None if self.samples == self.all_samples else list(self.samples)
        self.contig_lengths = _contig_lengths(vcf.raw_header)
        self.header_contigs = list(self.contig_lengths)
        self._vcf = vcf
        if self._selection is not None:
            vcf.set_samples(self._selection)

        self.index_path: Path | None = None
        self._check_index(index, require_index)
        self._names = ContigNames(self._known_contigs())
        self.build = self._decide_build(requested)

    # -- opening --------------------------------------------------------------------------------
    def _open_cyvcf2(self, samples: list[str] | None = None):
        from cyvcf2 import VCF

        with _htslib.captured_stderr() as err:
            try:
                vcf = VCF(self._source, samples=samples, lazy=True)
                failure = None
            except Exception as exc:  # noqa: BLE001 - cyvcf2 raises OSError / bare Exception
                vcf, failure = None, exc
        if failure is None:
            return vcf
        message = _htslib.first_message(err[0] if err else "") or str(failure)
        lowered = message.lower()
        if "bgzf" in lowered or "truncat" in lowered or "inflate" in lowered:
            raise VcfError(f"corrupt or truncated file ({message})", file=self._source, fix=_FIX_TRUNCATED)
        if "spaces are present instead of tabs" in lowered:  # the #CHROM line itself is space-separated
            raise VcfError("a #CHROM header line without tab-separated columns (spaces instead of tabs)",
                           file=self._source, record="#CHROM line",
                           fix="VCF columns must be separated by tabs: re-export the file, or replace the spaces "
                               "of the #CHROM line and records by tabs")
        if "header" in str(failure).lower() or "header" in lowered:
            raise VcfError(f"cannot parse the VCF header ({message})", file=self._source, record=_header_line(message),
                           fix="repair the header (## lines and the #CHROM line; bcftools view -h FILE shows it)")
        raise VcfError(f"not a readable VCF/BCF ({message})", file=self._source,
                       fix="give a valid VCF, bgzipped VCF or BCF (check it with bcftools view -h FILE)")

    def _select_samples(self, samples: Sequence[str] | None) -> list[str]:
        if samples is None:
            return list(self.all_samples)
        wanted = [str(s) for s in samples]
        known = set(self.all_samples)
        missing = [s for s in wanted if s not in known]
        if missing:
            shown = ", ".join(self.all_samples[:10])
            more = f" ... ({len(self.all_samples)} in total)" if len(self.all_samples) > 10 else ""
            available = f"choose from: {shown}{more}" if self.all_samples else "the file has no samples (sites only)"
            raise VcfError(
                f"no sample named {', '.join(repr(m) for m in missing[:5])} in the file",
                file=self._source, field="sample", fix=available,
            )
        wanted_set = set(wanted)
        return [s for s in self.all_samples if s in wanted_set]

    def _check_index(self, index: str | os.PathLike[str] | None, require: bool) -> None:
        candidates = [Path(index)] if index is not None else _index_candidates(self.path, self.kind)
        if index is not None and not Path(index).exists():
            raise IndexFileError("index file not found", file=str(index), fix="check the --index path or leave it out")
        found = next((p for p in candidates if p.exists()), None)
        if found is None:
            if require:
                raise IndexFileError(
                    "no index found (looked for " + ", ".join(p.name for p in candidates) + ")"
                    if candidates else f"a {self.kind} file cannot be indexed",
                    file=self._source,
                    fix="bgzip the VCF and index it (bgzip FILE.vcf && tabix -p vcf FILE.vcf.gz; bcftools index FILE.bcf)",
                )
            return
        if found.stat().st_size == 0:
            raise IndexFileError("index file is empty", file=str(found), fix=_FIX_REINDEX)
        if index is not None:
            self._vcf.set_index(str(found))
        probe = self._vcf.seqnames[0] if self._vcf.seqnames else None
        with _htslib.captured_stderr() as err:
            try:
                if probe is not None:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", UserWarning)
                        for _ in self._vcf(f"{probe}:1-1"):
                            break
                failure = None
            except Exception as exc:  # noqa: BLE001 - cyvcf2 raises AssertionError for a bad index
                failure = exc
        if failure is not None:
            message = _htslib.first_message(err[0] if err else "") or str(failure)
            raise IndexFileError(f"the index cannot be read ({message})", file=str(found), fix=_FIX_REINDEX)
        self.index_path = found

    def _known_contigs(self) -> list[str]:
        names = list(self.header_contigs)
        try:
            names += [n for n in self._vcf.seqnames if n not in self.contig_lengths]
        except Exception:  # noqa: BLE001, S110 - no index and no header contigs: nothing to add
            pass
        return names

    @property
    def has_index(self) -> bool:
        return self.index_path is not None

    # -- build ----------------------------------------------------------------------------------
    def _decide_build(self, requested: str | None) -> BuildCall:
        call = build_from_contig_lengths(self.contig_lengths)
        if call is None and self._reference is not None:
            call = build_from_reference(self._first_refs(_REFERENCE_SAMPLE), self._reference)
        if call is None:
            call = build_from_known_positions(
                self._known_lookup,
                per_contig=self.has_index,
                contigs=self._names.names or None,
            )
        if call is None:
            target = requested or "GRCh38"
            call = BuildCall(
                target, "assumed", True,
                "no contig lengths in the header"
                + ("" if self._reference is not None else ", no reference given")
                + f", no known pharmacogene positions found; {target} assumed",
            )
            self.warnings.append(f"genome build assumed {target}: {call.detail}")
            warnings.warn(f"{self._source}: genome build assumed {target} ({call.detail})",
                          DegradedResultWarning, stacklevel=3)
            return call
        if requested is not None and call.build != requested:
            if call.build == "unknown":
                what = f"matches neither GRCh38 nor GRCh37 ({call.detail})"
            else:
                what = f"is on {call.build} (detected from {call.method}: {call.detail})"
            other = "GRCh37" if requested == "GRCh38" else "GRCh38"
            fix = (
                "lift the VCF over to GRCh38 (e.g. bcftools +liftover, CrossMap or Picard LiftoverVcf)"
                f"; only loaders of {call.build} data may pass build='{call.build}' (--build {call.build})"
                if call.build in ("GRCh37", "GRCh38")
                else f"give a {requested} VCF (check its ##contig lines) or pass build='{other}' if it is {other}"
            )
            raise GenomeBuildError(f"the file {what}, but {requested} is required", file=self._source,
                                   field="build", fix=fix)
        return call

    def _first_refs(self, n: int) -> list[tuple[str, int, str]]:
        out = []
        for rec in self._iterate(None, check_ref=False, samples=[]):
            out.append((rec.chrom, rec.pos, rec.ref))
            if len(out) >= n:
                break
        return out

    def _known_lookup(self, positions: list[tuple[str, int]]):
        if not positions:
            return {}
        return self._positions(positions, check_ref=False, samples=[], scan_limit=_SCAN_LIMIT_KNOWN,
                               record_access=False)

    # -- reading --------------------------------------------------------------------------------
    def fetch(self, region: str | None = None) -> Iterator[VcfRecord]:
        """Records in ``region`` (``"chr10:94761900-94855547"``, ``"10"``, ...; ``None``: all).

        Uses the index when there is one (``access == "index"``), otherwise scans the file
        (``access == "scan"``; a whole-file read is always a scan). Records overlapping the
        region are returned, as tabix does. Contig names ``chr10`` and ``10`` are both accepted.
        """
        if region is None:
            self.access = "scan"
            return self._iterate(None)
        contig, start, end = parse_region(region)
        if self.has_index:
            self.access = "index"
            return self._indexed(contig, start, end)
        self.access = "scan"
        return self._iterate((canonical_contig(contig), start, end))

    def __iter__(self) -> Iterator[VcfRecord]:
        return self.fetch(None)

    def fetch_positions(
        self, positions: Iterable[tuple[str, int]]
    ) -> dict[tuple[str, int], tuple[VcfRecord, ...] | None]:
        """Records starting at each ``(contig, pos)`` (1-based), ``None`` where the file has none.

        Keys are the pairs as given. Uses the index when there is one (nearby positions are
        read with one query), otherwise one scan of the file.
        """
        return self._positions(list(positions))

    def _positions(
        self,
        positions: list[tuple[str, int]],
        *,
        check_ref: bool = True,
        samples: list[str] | None = None,
        scan_limit: int | None = None,
        record_access: bool = True,
        gap: int = 20_000,
    ) -> dict[tuple[str, int], tuple[VcfRecord, ...] | None]:
        keys = list(dict.fromkeys((str(c), int(p)) for c, p in positions))
        wanted: dict[tuple[str, int], list[tuple[str, int]]] = {}
        for key in keys:
            wanted.setdefault((canonical_contig(key[0]), key[1]), []).append(key)
        hits: dict[tuple[str, int], list[VcfRecord]] = {}
        if self.has_index:
            if record_access:
                self.access = "index"
            by_contig: dict[str, list[int]] = {}
            for canon, pos in wanted:
                by_contig.setdefault(canon, []).append(pos)
            handle = None if samples is None else self._handle_for(samples)
            for canon, plist in by_contig.items():
                file_name = self._names.to_file(canon)
                if file_name is None:
                    continue
                plist.sort()
                for lo, hi in _clusters(plist, gap=gap):
                    for rec in self._indexed(file_name, lo, hi, check_ref=check_ref, samples=samples, handle=handle):
                        key = (canon, rec.pos)
                        if key in wanted:
                            hits.setdefault(key, []).append(rec)
        else:
            if record_access:
                self.access = "scan"
            for n, rec in enumerate(self._iterate(None, check_ref=check_ref, samples=samples), start=1):
                key = (canonical_contig(rec.chrom), rec.pos)
                if key in wanted:
                    hits.setdefault(key, []).append(rec)
                if scan_limit is not None and n >= scan_limit:
                    break
        out: dict[tuple[str, int], tuple[VcfRecord, ...] | None] = {}
        for canon_key, originals in wanted.items():
            found = hits.get(canon_key)
            for key in originals:
                out[key] = tuple(found) if found else None
        return {key: out[key] for key in keys}

    def _handle_for(self, samples: list[str] | None):
        if samples is None:
            samples = self._selection
        vcf = self._open_cyvcf2(samples)
        if self.index_path is not None and self.index_path != _default_index(self.path, self.kind):
            vcf.set_index(str(self.index_path))
        return vcf

    def _indexed(
        self,
        contig: str,
        start: int,
        end: int | None,
        *,
        check_ref: bool = True,
        samples: list[str] | None = None,
        handle: Any = None,
    ) -> Iterator[VcfRecord]:
        file_name = self._names.to_file(contig)
        if file_name is None:
            return
        region = f"{file_name}:{start}-{end}" if end is not None else f"{file_name}:{start}"
        if handle is not None:
            vcf = handle
        elif samples is None:
            vcf = self._vcf
        else:
            vcf = self._handle_for(samples)
        n_samples = len(self.samples) if samples is None else len(samples)
        source = self._source
        reference = self._reference if check_ref else None
        last = None
        with _htslib.quiet():
            try:
                iterator = iter(vcf(region))
                with warnings.catch_warnings():  # cyvcf2 warns when a region holds no records
                    warnings.simplefilter("ignore", UserWarning)
                    head = next(iterator, None)
                if head is None:
                    return
                for variant in itertools.chain((head,), iterator):
                    if variant.end < variant.POS:  # no REF (see _iterate)
                        raise self._blank_line(None)
                    rec = VcfRecord(variant, source, n_samples)
                    if reference is not None:
                        self.ref_check.check(reference, variant.CHROM, variant.POS, variant.REF)
                    last = variant.POS
                    yield rec
            except (VcfError, GeneratorExit):
                raise
            except Exception as err:  # noqa: BLE001 - cyvcf2 raises bare Exception on bad records
                raise self._iteration_error(err, f"{file_name}:{last}" if last else None, region) from None

    def _iterate(
        self,
        target: tuple[str, int, int | None] | None,
        *,
        check_ref: bool = True,
        samples: list[str] | None = None,
    ) -> Iterator[VcfRecord]:
        vcf = self._handle_for(samples)
        n_samples = len(self.samples) if samples is None else len(samples)
        source = self._source
        reference = self._reference if check_ref else None
        seen: set[str] = set()
        chrom = None
        last_pos = 0
        n = 0
        in_target = False
        t_canon, t_start, t_end = target if target is not None else (None, 0, None)
        filtering = target is not None
        checking = reference is not None
        with _htslib.quiet():
            try:
                for variant in vcf:
                    n += 1
                    vchrom = variant.CHROM
                    if variant.end < variant.POS:  # no REF: a blank / tab-less line; reading REF would crash
                        raise self._blank_line(n)
                    pos = variant.POS
                    if vchrom != chrom:
                        if vchrom in seen:
                            raise self._unsorted(f"{vchrom}:{pos}", f"contig {vchrom} appears again after {chrom}", n)
                        if target is not None and in_target:
                            return  # sorted file: past the target contig
                        seen.add(vchrom)
                        chrom = vchrom
                        last_pos = 0
                        in_target = target is not None and canonical_contig(vchrom) == t_canon
                    elif pos < last_pos:
                        raise self._unsorted(f"{vchrom}:{pos}", f"position {pos} comes after {vchrom}:{last_pos}", n)
                    last_pos = pos
                    if filtering:
                        if not in_target:
                            continue
                        if t_end is not None and pos > t_end:
                            return
                        if variant.end < t_start:
                            continue
                    if checking:
                        self.ref_check.check(reference, vchrom, pos, variant.REF)
                    yield VcfRecord(variant, source, n_samples)
            except (VcfError, GeneratorExit):
                raise
            except Exception as err:  # noqa: BLE001 - cyvcf2 raises bare Exception on bad records
                # the failing record is the one after the n records read so far
                raise self._iteration_error(err, f"{chrom}:{last_pos}" if chrom else None, None, n + 1) from None

    def _blank_line(self, n: int | None) -> VcfError:
        """A line htslib could not split into columns (blank, space-separated or cut short).

        htslib parses such a line into a record without REF (its end lies before its position; any real
        record spans at least its REF), and reading that REF crashes the process (segmentation fault in
        cyvcf2 0.35), so it is refused before anything else is read from it.
        """
        line = None if n is None else self._record_line(n)
        return VcfError(
            "a blank line or a record without tab-separated columns (space-separated, or cut short)",
            file=self._source, record=f"line {line}" if line else (f"record {n}" if n else None),
            fix="VCF columns must be separated by tabs and the file must hold no blank lines: remove or repair "
                "the line (e.g. grep -n -v $'\\t' FILE | grep -v '^[0-9]*:#' lists such lines)",
        )

    def _unsorted(self, locus: str, what: str, n: int) -> VcfError:
        line = self._record_line(n)
        return VcfError(
            f"records are not sorted: {what}",
            file=self._source,
            record=f"{locus}" + (f" (line {line})" if line else ""),
            fix="sort the file (bcftools sort FILE -Oz -o sorted.vcf.gz) and index it (tabix -p vcf sorted.vcf.gz)",
        )

    def _record_line(self, n: int) -> int | None:
        """Line number of the ``n``-th record (1-based) of a text VCF."""
        if self.kind == "bcf":
            return None
        header_lines = self._vcf.raw_header.count("\n")
        return header_lines + n

    def _iteration_error(self, err: Exception, last: str | None, region: str | None, n: int | None = None) -> VcfError:
        """Translate a cyvcf2 failure while iterating: re-read with htslib's messages captured."""
        message = self._diagnose(region)
        text = message or str(err)
        locus = None
        match = _HTS_LOCUS.search(text)
        if match:
            locus = f"{match.group(1)}:{match.group(2)}"
        field_name = None
        fmatch = _HTS_FIELD.search(text)
        if fmatch:
            field_name = fmatch.group(1) or fmatch.group(4)
        line = self._record_line(n) if (n and region is None) else None
        if locus is None:
            locus = f"after {last}" if last else "the first record"
        lowered = text.lower()
        if any(word in lowered for word in ("bgzf", "truncat", "inflate", "eof", "checksum", "crc", "decompress")):
            return VcfError(f"corrupt or truncated compressed data ({text})", file=self._source, record=locus,
                            fix=_FIX_TRUNCATED)
        record = locus + (f" (line {line})" if line else "")
        if field_name:
            kind = "FORMAT" if "format" in lowered else "INFO"
            return VcfError(
                f"the data do not fit the header's {kind}/{field_name} definition ({text})",
                file=self._source, record=record, field=field_name,
                fix=f"correct the ##{kind}=<ID={field_name},Number=..,Type=..> header line (or the record) so they agree",
            )
        return VcfError(f"cannot parse record ({text})", file=self._source, record=record,
                        fix="inspect the record (bcftools view FILE REGION) and correct or remove it")

    def _diagnose(self, region: str | None) -> str | None:
        from cyvcf2 import VCF

        with _htslib.captured_stderr() as err:
            try:
                vcf = VCF(self._source, lazy=True)
                if region is not None and self.index_path is not None:
                    vcf.set_index(str(self.index_path))
                iterator = vcf(region) if region is not None else vcf
                for _ in iterator:
                    pass
            except Exception:  # noqa: BLE001, S110 - the failure we are diagnosing
                pass
        return _htslib.first_message(err[0] if err else "")

    # -- misc -----------------------------------------------------------------------------------
    @property
    def contigs(self) -> list[str]:
        """Contig names the file declares (header ``##contig`` lines, else its index)."""
        return self._names.names

    def provenance(self) -> dict[str, Any]:
        """What a report should say about how this file was read."""
        return {
            "file": self._source,
            "format": self.kind,
            "index": None if self.index_path is None else str(self.index_path),
            "access": self.access,
            "build": self.build.to_dict(),
            "samples": len(self.samples),
        }

    def close(self) -> None:
        try:
            self._vcf.close()
        except Exception:  # noqa: BLE001, S110 - already closed
            pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"VcfReader({self._source!r}, samples={len(self.samples)}, build={self.build.build})"


def _default_index(path: Path, kind: str) -> Path | None:
    return next((p for p in _index_candidates(path, kind) if p.exists()), None)


def _clusters(sorted_positions: list[int], gap: int) -> Iterator[tuple[int, int]]:
    lo = hi = sorted_positions[0]
    for pos in sorted_positions[1:]:
        if pos - hi > gap:
            yield lo, hi
            lo = pos
        hi = pos
    yield lo, hi


def _header_line(message: str) -> str | None:
    match = re.search(r"line (\d+)", message)
    return f"line {match.group(1)}" if match else None
