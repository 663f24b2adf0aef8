"""Opening an indexed FASTA with pysam, with project errors instead of htslib messages.

Handles: a missing file, a file that is not FASTA, gzip that is not bgzip, a truncated bgzip
file (no BGZF end-of-file block), a missing ``.fai``/``.gzi`` (built next to the FASTA, or in a
cache folder when that folder is read-only), and an index that does not match its file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pysam

from genomics.errors import IndexFileError, ReferenceSequenceError

__all__ = ["BGZF_EOF", "INDEX_DIR_ENV", "open_fasta", "quiet_htslib", "default_index_cache_dir"]

#: The 28-byte empty BGZF block that ends every complete bgzip file.
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
#: Environment variable naming a folder for FASTA indexes that cannot be written beside their FASTA.
INDEX_DIR_ENV = "GENOMICS_REFERENCE_INDEX_DIR"

INDEX_FIX = (
    "bgzip the FASTA and index it (`bgzip GRCh38.fa && samtools faidx GRCh38.fa.gz`), "
    "or give a plain FASTA (its .fai is created automatically)"
)


@contextlib.contextmanager
def quiet_htslib() -> Iterator[None]:
    """Silence htslib's own stderr messages; our errors say what went wrong instead."""
    previous = pysam.set_verbosity(0)
    try:
        yield
    finally:
        pysam.set_verbosity(previous)


def default_index_cache_dir() -> Path:
    """Where indexes of FASTA files in read-only folders are written."""
    env = os.environ.get(INDEX_DIR_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "genomics-treatment-recommender" / "faidx"


def _sniff(path: Path) -> str:
    """Return ``"bgzf"`` or ``"plain"``; raise a clear error for anything else."""
    if not path.exists():
        raise ReferenceSequenceError(
            "reference FASTA not found", file=path,
            fix="check the path given with --reference (a GRCh38 FASTA: " + INDEX_FIX + ")")
    if not path.is_file():
        raise ReferenceSequenceError("reference path is not a file", file=path,
                                     fix="give the FASTA file itself, not a folder")
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(18)
            if size >= len(BGZF_EOF):
                fh.seek(size - len(BGZF_EOF))
                tail = fh.read(len(BGZF_EOF))
            else:
                tail = b""
    except OSError as exc:
        raise ReferenceSequenceError(f"cannot read reference FASTA ({exc.strerror})", file=path,
                                     fix="check the file's permissions") from None
    if not head:
        raise ReferenceSequenceError("reference FASTA is empty", file=path, fix="give a non-empty FASTA file")
    if head[:2] == b"\x1f\x8b":
        is_bgzf = len(head) >= 16 and head[3] & 0x04 and head[12:14] == b"BC"
        if not is_bgzf:
            raise ReferenceSequenceError(
                "reference FASTA is compressed with gzip, not bgzip, so it cannot be indexed", file=path,
                fix=f"recompress it: `gzip -dc {path.name} | bgzip > {path.stem}.bgz.gz && "
                    f"samtools faidx {path.stem}.bgz.gz` (or decompress it to a plain FASTA)")
        if tail != BGZF_EOF:
            raise ReferenceSequenceError(
                "reference FASTA is truncated (the bgzip end-of-file block is missing)", file=path,
                fix="download or copy the file again, then index it with `samtools faidx`")
        return "bgzf"
    first = head.lstrip()[:1]
    if first != b">":
        raise ReferenceSequenceError(
            "not a FASTA file (it does not start with a '>' header line)", file=path,
            fix="give a reference genome in FASTA format (" + INDEX_FIX + ")")
    return "plain"


def _writable_dir(path: Path) -> bool:
    return os.access(path.parent, os.W_OK)


def _build_index(path: Path, fai: Path, gzi: Path | None) -> None:
    """Build ``fai`` (and ``gzi``) for ``path`` atomically (temporary names, then rename)."""
    fai.parent.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix=".faidx-", dir=fai.parent))
    try:
        tmp_fai = tmpdir / "index.fai"
        args = [str(path), "--fai-idx", str(tmp_fai)]
        tmp_gzi = tmpdir / "index.gzi"
        if gzi is not None:
            args += ["--gzi-idx", str(tmp_gzi)]
        with quiet_htslib():
            try:
                pysam.faidx(*args)
            except (pysam.utils.SamtoolsError, OSError) as exc:
                raise ReferenceSequenceError(
                    "cannot index reference FASTA: the file is malformed (bad header or line lengths) "
                    f"or truncated ({str(exc).strip().splitlines()[-1] if str(exc).strip() else 'samtools faidx failed'})",
                    file=path, fix="check the file is a complete FASTA; " + INDEX_FIX) from None
        if gzi is not None:
            os.replace(tmp_gzi, gzi)
        os.replace(tmp_fai, fai)
    finally:
        for leftover in tmpdir.iterdir():
            leftover.unlink()
        tmpdir.rmdir()


def _cache_paths(path: Path, cache_dir: Path, bgzf: bool) -> tuple[Path, Path | None]:
    st = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:20]
    folder = cache_dir / key
    return folder / (path.name + ".fai"), (folder / (path.name + ".gzi")) if bgzf else None


def _check_plain_index(path: Path, fai: Path) -> None:
    """A ``.fai`` of a plain FASTA must not point past the end of the file (stale index)."""
    size = path.stat().st_size
    try:
        lines = fai.read_text(encoding="ascii").splitlines()
        for line in lines:
            name, length, offset, bases, width = line.split("\t")[:5]
            length_i, offset_i, bases_i, width_i = int(length), int(offset), int(bases), int(width)
            if length_i == 0:
                continue
            full, rest = divmod(length_i - 1, bases_i)
            last_byte = offset_i + full * width_i + rest
            if last_byte >= size:
                raise ValueError(f"record {name} ends past the end of the FASTA")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise IndexFileError(
            f"FASTA index does not match the FASTA ({exc})", file=fai,
            fix=f"delete {fai.name} and run `samtools faidx {path.name}` (or let this tool re-create it)",
        ) from None


def open_fasta(path: str | os.PathLike[str], index_cache_dir: str | os.PathLike[str] | None = None
               ) -> tuple[pysam.FastaFile, Path]:
    """Open ``path`` as an indexed FASTA, building a missing index where possible.

    Parameters
    ----------
    path
        bgzip-compressed or plain FASTA.
    index_cache_dir
        Folder for indexes that cannot be written beside the FASTA (read-only folder). Default:
        ``$GENOMICS_REFERENCE_INDEX_DIR`` or ``~/.cache/genomics-treatment-recommender/faidx``.

    Returns
    -------
    (pysam.FastaFile, Path)
        The open file and the ``.fai`` actually used.

    Raises
    ------
    ReferenceSequenceError
        Missing, empty, non-FASTA, gzip-not-bgzip, truncated or unindexable file.
    IndexFileError
        An existing index that does not match its FASTA.
    """
    path = Path(path)
    kind = _sniff(path)
    bgzf = kind == "bgzf"
    fai = Path(str(path) + ".fai")
    gzi: Path | None = Path(str(path) + ".gzi") if bgzf else None
    if not fai.exists() or (gzi is not None and not gzi.exists()):
        built = False
        if _writable_dir(path):
            try:
                _build_index(path, fai, gzi)
                built = True
            except OSError:
                built = False
        if not built:
            cache = Path(index_cache_dir) if index_cache_dir is not None else default_index_cache_dir()
            fai, gzi = _cache_paths(path, cache, bgzf)
            if not fai.exists() or (gzi is not None and not gzi.exists()):
                try:
                    _build_index(path, fai, gzi)
                except OSError as exc:
                    raise ReferenceSequenceError(
                        f"FASTA has no index and none can be written beside it or in {cache} "
                        f"({exc.strerror})", file=path,
                        fix=f"run `samtools faidx {path.name}` where you can write, or set "
                            f"{INDEX_DIR_ENV} to a writable folder") from None
    if not bgzf:
        _check_plain_index(path, fai)
    kwargs: dict[str, str] = {"filepath_index": str(fai)}
    if gzi is not None:
        kwargs["filepath_index_compressed"] = str(gzi)
    with quiet_htslib():
        try:
            handle = pysam.FastaFile(str(path), **kwargs)
        except (OSError, ValueError) as exc:
            raise IndexFileError(
                f"cannot open indexed FASTA ({exc})", file=path,
                fix=f"delete {fai.name}{' and ' + gzi.name if gzi else ''} and re-index with "
                    f"`samtools faidx {path.name}`") from None
    return handle, fai
