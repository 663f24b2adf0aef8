"""Does a tabix (``.tbi``) or CSI (``.csi``) index belong to its bgzipped file, and is it up to date?

An index of another file, or one written before the file was changed, makes region queries return
nothing or the wrong records: genes look empty and positions "absent" (and then, with
``--fill-missing-with-reference``, filled as reference). File times prove nothing (a git checkout gives
every file the checkout time), so the index is compared with the file itself:

1. its chunks must end inside the file: the largest chunk end must point at the file's last data block
   or just after it (an index of a shorter or longer file points elsewhere; an index made before records
   were appended ends too early);
2. the reader then queries the index for the first record of the file (found by a scan) and must find it.

:func:`index_mismatch` returns a reason (text) when the index is doubtful, else ``None``.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

__all__ = ["index_mismatch", "last_data_block"]


def _read_index(path: Path) -> bytes:
    with gzip.open(path, "rb") as handle:
        return handle.read()


def _max_chunk_end(data: bytes) -> tuple[int, list[str]]:
    """Largest chunk end (virtual offset) in a TBI or CSI index, and the TBI sequence names."""
    names: list[str] = []
    off = 0

    def i32() -> int:
        nonlocal off
        (v,) = struct.unpack_from("<i", data, off)
        off += 4
        return v

    def u64() -> int:
        nonlocal off
        (v,) = struct.unpack_from("<Q", data, off)
        off += 8
        return v

    magic = data[:4]
    off = 4
    best = 0
    if magic == b"TBI\x01":
        n_ref = i32()
        off += 4 * 6  # format, col_seq, col_beg, col_end, meta, skip
        l_nm = i32()
        names = [n.decode("utf-8", "replace") for n in data[off:off + l_nm].split(b"\0") if n]
        off += l_nm
        pseudo = 37450
        for _ in range(n_ref):
            n_bin = i32()
            for _ in range(n_bin):
                (bin_id,) = struct.unpack_from("<I", data, off)
                off += 4
                n_chunk = i32()
                for k in range(n_chunk):
                    u64()
                    end = u64()
                    if bin_id == pseudo and k == 1:
                        continue  # the pseudo-bin's second pair holds record counts
                    best = max(best, end)
            n_intv = i32()
            off += 8 * n_intv
        return best, names
    if magic == b"CSI\x01":
        off += 4  # min_shift
        depth = i32()
        l_aux = i32()
        off += l_aux
        n_ref = i32()
        pseudo = ((1 << ((depth + 1) * 3)) - 1) // 7 + 1
        for _ in range(n_ref):
            n_bin = i32()
            for _ in range(n_bin):
                (bin_id,) = struct.unpack_from("<I", data, off)
                off += 4
                u64()  # loffset
                n_chunk = i32()
                for k in range(n_chunk):
                    u64()
                    end = u64()
                    if bin_id == pseudo and k == 1:
                        continue
                    best = max(best, end)
        return best, names
    raise ValueError("not a TBI or CSI index")


def last_data_block(path: Path) -> tuple[int, int]:
    """Start of the last BGZF block holding data, and the offset of the end-of-file block."""
    size = path.stat().st_size
    last = 0
    with open(path, "rb") as handle:
        pos = 0
        while pos < size:
            handle.seek(pos)
            head = handle.read(18)
            if len(head) < 18 or head[:2] != b"\x1f\x8b" or head[12:14] != b"BC":
                raise ValueError(f"not a BGZF block at byte {pos}")
            bsize = struct.unpack_from("<H", head, 16)[0] + 1
            handle.seek(pos + bsize - 4)
            (isize,) = struct.unpack("<I", handle.read(4))
            if isize:
                last = pos
            pos += bsize
    return last, size - 28


def index_mismatch(data_path: str | Path, index_path: str | Path) -> str | None:
    """Why the index does not fit the file (``None``: its chunks end where the file's data end)."""
    try:
        best, _names = _max_chunk_end(_read_index(Path(index_path)))
        last, eof = last_data_block(Path(data_path))
    except (OSError, EOFError, ValueError, struct.error, zlib.error) as err:
        return f"it cannot be compared with the file ({err})"
    coffset, uoffset = best >> 16, best & 0xFFFF
    if coffset == 0 and best == 0:
        return None  # an index of a file without records
    if coffset < last or (coffset == last and uoffset == 0 and last > 0):
        return ("it ends before the file's last data block (written before records were added, or made for "
                "another file)")
    if coffset > eof:
        return "it points beyond the end of the file (made for another, larger file)"
    return None
