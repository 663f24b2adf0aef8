"""The product's VCF/BCF reader (built on cyvcf2; see :class:`VcfReader`)."""

from __future__ import annotations

import gzip
import itertools
import os
import re
import tempfile
import warnings
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Self

from genomics.errors import DegradedResultWarning, GenomeBuildError, IndexFileError, UsageError, VcfError
from genomics.fileio import check_input_file
from genomics.vcf import _htslib
from genomics.vcf._child import check_in_child
from genomics.vcf._index_check import index_mismatch
from genomics.vcf.build import (
    BuildCall,
    RefCheck,
    build_from_contig_lengths,
    build_from_known_positions,
    build_from_reference,
    normalise_build,
)
from genomics.vcf.contigs import ContigNames, canonical_contig, parse_region
from genomics.vcf.precheck import TextCheck, precheck_text, write_clean_copy
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
    check_input_file(path, error=VcfError, what="VCF file", fix="give the path of a .vcf, .vcf.gz or .bcf file")
    size = path.stat().st_size
    if size == 0:
        raise VcfError("empty file (0 bytes)", file=source, record="line 1",
                       fix="give a VCF/BCF with a header (##fileformat=VCF...) and a #CHROM line")
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except PermissionError:
        raise VcfError("permission denied (the file is not readable)", file=source,
                       fix="make the file readable to this user (chmod u+r FILE), or copy it") from None
    with handle:
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
        # ascii, at most 12 digits (as a non-numeric length: unknown): int() of '²' or of 5000 digits raised ValueError
        out[name] = int(length) if length and length.isascii() and length.isdigit() and len(length) <= 12 else None
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
        self._read_path = self._source  # what htslib opens: the file, or a repaired copy of a text VCF
        self._line_map: list[int] | None = None
        self._tmpdir: tempfile.TemporaryDirectory | None = None
        self._text_check: TextCheck | None = None
        self._declared: set[str] | None = None  # text VCF: contigs htslib knows (None: not tracked)
        self._extra_contigs: list[str] = []
        self._sorted_known = False
        self._warned: set[str] = set()
        self._reference = reference
        label = None if reference is None else str(getattr(reference, "label", "") or type(reference).__name__)
        self.ref_check = RefCheck(reference=label)
        self.access: str | None = None
        self.warnings: list[str] = []
        self._prepare_text()
        if self.kind == "bcf":
            check_in_child(self._read_path, self._source)

        vcf = self._open_cyvcf2()
        self.all_samples: list[str] = list(vcf.samples)
        self.samples = self._select_samples(samples)
        # no htslib sample subsetting when every sample is asked for (in file order): it costs time
        self._selection: list[str] | None = None if self.samples == self.all_samples else list(self.samples)
        self.contig_lengths = _contig_lengths(vcf.raw_header)
        self.header_contigs = list(self.contig_lengths)
        if self._line_map is not None:  # the copy declares contigs the user's header lacks: report the original
            for name in self._text_check.undeclared_contigs if self._text_check else ():
                if self.contig_lengths.get(name, 0) is None:
                    self.contig_lengths.pop(name, None)
            self.header_contigs = list(self.contig_lengths)
        if self.kind != "bcf":
            self._declared = set(_contig_lengths(vcf.raw_header))
        self._vcf = vcf
        if self._selection is not None:
            vcf.set_samples(self._selection)

        self.index_path: Path | None = None
        if self._line_map is None:
            self._check_index(index, require_index)
        elif require_index:
            raise IndexFileError("the file must be repaired before it can be read (comment lines, unsorted records "
                                 "or undeclared contigs), so no index can be used", file=self._source,
                                 fix="sort and clean it (bcftools sort FILE -Oz -o sorted.vcf.gz), then tabix -p vcf it")
        if self._declared is not None and self.index_path is not None:
            with _htslib.quiet():
                undeclared = [n for n in self._vcf.seqnames if n not in self._declared]
            if undeclared:  # every handle opened from now on declares them too (see _declare)
                self._extra_contigs = list(dict.fromkeys([*self._extra_contigs, *undeclared]))
                self._declared.update(undeclared)
                self._declare(self._vcf, undeclared)
        self._names = ContigNames(self._known_contigs())
        self.build = self._decide_build(requested)

    # -- opening --------------------------------------------------------------------------------
    def _open_cyvcf2(self, samples: list[str] | None = None):
        from cyvcf2 import VCF

        with _htslib.captured_stderr() as err:
            try:
                vcf = VCF(self._read_path, samples=samples, lazy=True)
                _ = list(vcf.samples)  # non-UTF-8 sample names raise here
                failure = None
            except UnicodeDecodeError:
                raise VcfError("sample names (the #CHROM line) hold bytes that are not UTF-8", file=self._source,
                               record="#CHROM line", field="sample names",
                               fix="re-encode the file as UTF-8 (iconv -f latin1 -t utf-8) or rename the samples") \
                    from None
            except Exception as exc:  # noqa: BLE001 - cyvcf2 raises OSError / bare Exception
                vcf, failure = None, exc
        if failure is None:
            if self._extra_contigs:
                self._declare(vcf, self._extra_contigs)
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

    def _prepare_text(self) -> None:
        """Pre-check a text VCF; read a repaired copy when it has comments, unsorted records or undeclared contigs."""
        if self.kind not in ("vcf", "vcf.gz", "gzip"):
            return
        lengths = _contig_lengths(_raw_text_header(self.path, self.kind))
        check = precheck_text(self.path, self.kind, lengths, source=self._source)
        self._text_check = check
        self.warnings.extend(check.warnings())
        if check.complete:
            self._sorted_known = True
        if not check.needs_copy:
            return
        self._tmpdir = tempfile.TemporaryDirectory(prefix="genomics-vcf-")
        target = Path(self._tmpdir.name) / "repaired.vcf"
        self._line_map = write_clean_copy(self.path, self.kind, check, target, list(lengths))
        self._read_path = str(target)

    @staticmethod
    def _declare(vcf: Any, names: Iterable[str]) -> None:
        """Declare contigs in a handle's header so htslib parses their records strictly.

        A record on a contig the header does not declare is parsed leniently by htslib, and cyvcf2 then
        returns it even when its FORMAT data failed to parse; reading those data crashes the process
        (segmentation fault). Declared contigs close that path: a bad record raises an error instead.
        """
        for name in names:
            if name and "," not in name and ">" not in name and not name.startswith("#"):
                vcf.add_to_header(f"##contig=<ID={name}>")

    def _declare_all_contigs(self) -> None:
        """Find every contig of a large text VCF (one raw scan) so a fresh handle can declare them."""
        found: dict[str, None] = {}
        opener = gzip.open if self.kind in ("vcf.gz", "gzip") else open
        with opener(self._read_path, "rb") as handle:
            for raw in handle:
                if raw.startswith(b"#"):
                    continue
                name = raw.split(b"\t", 1)[0].decode("utf-8", "replace").strip()
                if name and self._declared is not None and name not in self._declared:
                    found[name] = None
        self._extra_contigs = list(dict.fromkeys([*self._extra_contigs, *found]))
        if self._declared is not None:
            self._declared.update(found)

    def _warn_once(self, key: str, text: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.warnings.append(text)
            warnings.warn(f"{self._source}: {text}", DegradedResultWarning, stacklevel=4)

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
        doubt = index_mismatch(self.path, found) or self._probe_index(found)
        if doubt is not None:
            if require:
                raise IndexFileError(f"the index does not belong to this file: {doubt}", file=str(found),
                                     fix=_FIX_REINDEX)
            text = (f"the index {found.name} does not fit the file ({doubt}); it was ignored and the file scanned "
                    "-- re-create it (tabix -p vcf FILE / bcftools index FILE)")
            self.warnings.append(text)
            warnings.warn(f"{self._source}: {text}", DegradedResultWarning, stacklevel=3)
            if index is not None:  # the handle uses the given index: reopen without it
                self._vcf = self._open_cyvcf2(self._selection)
            return
        self.index_path = found

    def _probe_index(self, found: Path) -> str | None:
        """Query the index for the file's first record (found by a scan); ``None`` when it is found."""
        from cyvcf2 import VCF

        first = None
        with _htslib.quiet(), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            try:
                for variant in VCF(self._read_path, lazy=True):
                    if variant.end >= variant.POS:
                        first = (variant.CHROM, variant.POS)
                    break
                if first is None:
                    return None
                probe = VCF(self._read_path, lazy=True)
                probe.set_index(str(found))
                for variant in probe(f"{first[0]}:{first[1]}-{first[1]}"):
                    if variant.CHROM == first[0] and variant.POS == first[1]:
                        return None
            except Exception:  # noqa: BLE001 - a failing query is a doubtful index too
                pass
        return f"a query for the file's first record ({first[0]}:{first[1]}) does not find it" if first else None

    def _known_contigs(self) -> list[str]:
        names = list(self.header_contigs)
        try:
            with _htslib.quiet():
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
        names = self.samples if samples is None else samples
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
                        if variant.CHROM.startswith("#"):
                            continue  # a comment line inside the region (tabix keeps none; be safe)
                        raise self._blank_line(None)
                    pos = variant.POS
                    self._check_pos(variant.CHROM, pos, None)
                    rec = VcfRecord(variant, source, n_samples, names)
                    if reference is not None:
                        self.ref_check.check(reference, variant.CHROM, pos, variant.REF)
                    last = pos
                    yield rec
            except (VcfError, GeneratorExit):
                raise
            except UnicodeDecodeError:
                raise self._not_utf8(f"{file_name}:{last}" if last else None, None) from None
            except Exception as err:  # noqa: BLE001 - cyvcf2 raises bare Exception on bad records
                raise self._iteration_error(err, f"{file_name}:{last}" if last else None, region) from None

    def _check_pos(self, chrom: str, pos: int, n: int | None) -> None:
        """POS 0 and POS beyond the contig's declared length are refused (never read as something else)."""
        if pos >= 1:
            length = self.contig_lengths.get(chrom)
            if length is None or pos <= length:
                return
            line = self._record_line(n) if n else None
            raise VcfError(f"POS {pos} lies beyond the end of {chrom} (length {length} in the ##contig line)",
                           file=self._source, record=f"{chrom}:{pos}" + (f" (line {line})" if line else ""),
                           field="POS", fix="check the genome build of the file and of its header, or correct the record")
        line = self._record_line(n) if n else None
        raise VcfError("position must be >= 1 (POS is 0)", file=self._source,
                       record=f"{chrom}:{pos}" + (f" (line {line})" if line else ""), field="POS",
                       fix="POS is 1-based: correct the record (a 0-based export?)")

    def _not_utf8(self, last: str | None, n: int | None) -> VcfError:
        line = self._record_line(n) if n else None
        where = (f"after {last}" if last else "the first record") + (f" (line {line})" if line else "")
        return VcfError("a record holds bytes that are not UTF-8 (in CHROM, ID, REF, ALT, FILTER or INFO)",
                        file=self._source, record=where,
                        fix="VCF text must be UTF-8 (REF/ALT plain A, C, G, T, N): correct the record or re-encode "
                            "the file (iconv -f latin1 -t utf-8)")

    def _iterate(
        self,
        target: tuple[str, int, int | None] | None,
        *,
        check_ref: bool = True,
        samples: list[str] | None = None,
    ) -> Iterator[VcfRecord]:
        vcf = self._handle_for(samples)
        n_samples = len(self.samples) if samples is None else len(samples)
        names = self.samples if samples is None else samples
        source = self._source
        reference = self._reference if check_ref else None
        declared = self._declared
        seen: set[str] = set()
        chrom = None
        last_pos = 0
        n = 0  # records read (comment lines included: htslib hands them over as records without REF)
        in_target = False
        t_canon, t_start, t_end = target if target is not None else (None, 0, None)
        filtering = target is not None
        checking = reference is not None
        unsorted = False
        clen = None
        with _htslib.quiet():
            try:
                iterator = iter(vcf)
                while True:
                    variant = next(iterator, None)
                    if variant is None:
                        break
                    n += 1
                    vchrom = variant.CHROM
                    if vchrom.startswith("#"):  # a comment line between records (no contig starts with '#')
                        self._warn_once("comment", "comment line(s) starting with '#' between records were skipped")
                        continue
                    if variant.end < variant.POS:  # no REF: a blank / tab-less line; reading REF would crash
                        raise self._blank_line(n)
                    if declared is not None and vchrom not in declared:
                        # htslib parsed this record leniently (contig undeclared): its FORMAT data may be
                        # half-parsed and reading them would crash. Declare every contig, re-read strictly.
                        self._declare_all_contigs()
                        declared = self._declared
                        vcf = self._handle_for(samples)
                        iterator = iter(vcf)
                        for _ in range(n - 1):
                            next(iterator)
                        variant = next(iterator)
                        vchrom = variant.CHROM
                    pos = variant.POS
                    if vchrom != chrom:
                        if vchrom in seen:
                            unsorted = True
                        elif target is not None and in_target and self._sorted_known:
                            return  # sorted file: past the target contig
                        seen.add(vchrom)
                        chrom = vchrom
                        last_pos = 0
                        in_target = target is not None and canonical_contig(vchrom) == t_canon
                        clen = self.contig_lengths.get(vchrom)
                    elif pos < last_pos:
                        unsorted = True
                    if unsorted and not self._sorted_known and "unsorted" not in self._warned:
                        self._warn_once("unsorted", f"records are not sorted ({vchrom}:{pos} comes after "
                                                    f"{chrom}:{last_pos}); every record was read in file order "
                                                    "-- sort the file (bcftools sort FILE -Oz -o sorted.vcf.gz)")
                    if pos < 1 or (clen is not None and pos > clen):
                        self._check_pos(vchrom, pos, n)
                    last_pos = max(pos, last_pos)
                    if filtering:
                        if not in_target:
                            continue
                        if t_end is not None and pos > t_end:
                            if self._sorted_known:
                                return
                            continue
                        if variant.end < t_start:
                            continue
                    if checking:
                        self.ref_check.check(reference, vchrom, pos, variant.REF)
                    yield VcfRecord(variant, source, n_samples, names)
                if target is None and not unsorted:
                    self._sorted_known = True
            except (VcfError, GeneratorExit):
                raise
            except UnicodeDecodeError:
                raise self._not_utf8(f"{chrom}:{last_pos}" if chrom else None, n + 1) from None
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
        if self._line_map is not None:
            return self._line_map[n - 1] if 0 < n <= len(self._line_map) else None
        if self._text_check is not None:
            return self._text_check.header_lines + n
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
                vcf = VCF(self._read_path, lazy=True)
                if self._extra_contigs:
                    self._declare(vcf, self._extra_contigs)
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
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

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


def _raw_text_header(path: Path, kind: str) -> str:
    """The ``##`` header lines of a text VCF (decoded leniently; the pre-check refuses bad bytes)."""
    lines = []
    opener = gzip.open if kind in ("vcf.gz", "gzip") else open
    with opener(path, "rb") as handle:
        for raw in handle:
            if not raw.startswith(b"##"):
                break
            lines.append(raw.decode("utf-8", "replace"))
    return "".join(lines)


def _header_line(message: str) -> str | None:
    match = re.search(r"line (\d+)", message)
    return f"line {match.group(1)}" if match else None
