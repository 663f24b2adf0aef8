"""Helpers of the reader fuzz test: a seeded mutator, a BGZF writer and a crash-isolating runner.

Each input is read in a forked child (the reader API and the CLI's ``qc`` / ``pgx`` code paths), so a
crash (a signal) is seen as such; the parent records it and saves the input.
"""

from __future__ import annotations

import gzip
import io
import os
import random
import struct
import sys
import zlib
from pathlib import Path

_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def bgzf(data: bytes) -> bytes:
    """Compress ``data`` as BGZF (what bgzip writes): blocks of <= 64 KiB plus the end-of-file block."""
    out = io.BytesIO()
    for i in range(0, len(data), 0xFF00):
        chunk = data[i:i + 0xFF00]
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = comp.compress(chunk) + comp.flush()
        bsize = len(body) + 25
        out.write(b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00")
        out.write(struct.pack("<H", bsize))
        out.write(body)
        out.write(struct.pack("<II", zlib.crc32(chunk) & 0xFFFFFFFF, len(chunk)))
    out.write(_EOF)
    return out.getvalue()


_TOKENS = [b"\t", b"\n", b"#", b"/", b"|", b".", b"0", b"1", b"2", b"9", b"-1", b"chrZ", b"abc", b"\xff", b"\x00",
           b"99999999999", b"<DEL>", b"GT", b"PS", b",", b"=", b";", b" ", b"nan", b"inf", b"0/0/1", b"[", b"%"]


def mutate_text(data: bytes, rng: random.Random, header_end: int) -> bytes:
    """A few random edits after the header: byte flips, token insertions, deletions, line swaps."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if len(buf) <= header_end + 2:
            break
        at = rng.randrange(header_end, len(buf))
        op = rng.random()
        if op < 0.3:
            buf[at] = rng.randrange(256)
        elif op < 0.6:
            buf[at:at] = rng.choice(_TOKENS)
        elif op < 0.8:
            del buf[at:at + rng.randint(1, 20)]
        else:  # duplicate a line elsewhere (same site twice, unsorted records)
            start = buf.rfind(b"\n", 0, at) + 1
            end = buf.find(b"\n", at)
            if end > start:
                line = bytes(buf[start:end + 1])
                where = rng.randrange(header_end, len(buf))
                where = buf.find(b"\n", where) + 1 or len(buf)
                buf[where:where] = line
    return bytes(buf)


def mutate_binary(data: bytes, rng: random.Random, header_end: int) -> bytes:
    """One to three changed bytes after the header (the BCF crashers of issue 16)."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(header_end, len(buf))
        buf[at] = rng.choice([rng.randrange(256), 0, 0xFF, 0x7F, 0x80, buf[at] ^ (1 << rng.randrange(8))])
    return bytes(buf)


def bcf_header_end(raw: bytes) -> int:
    """Offset of the first record of an uncompressed BCF."""
    (l_text,) = struct.unpack_from("<I", raw, 5)
    return 9 + l_text


def text_header_end(raw: bytes) -> int:
    at = raw.find(b"\n#CHROM")
    return raw.find(b"\n", at + 1) + 1


def decompress(path: Path) -> bytes:
    with gzip.open(path, "rb") as fh:
        return fh.read()


def _read_everything(path: str) -> None:
    """What ``recommender qc`` and ``recommender pgx`` do with a file, through the reader API."""
    import warnings

    from genomics.errors import RecommenderError
    from genomics.vcf import VcfReader, vcf_qc

    warnings.simplefilter("ignore")
    try:
        reader = VcfReader(path, build=None)
        for rec in reader.fetch():
            _ = (rec.gt, rec.phased, rec.phase_set, rec.dp, rec.gq, rec.alts, rec.qual, rec.filters, rec.id)
        vcf_qc(path, build=None)
        from genomics.pgx import call_pgx_cohort

        for _profile in call_pgx_cohort(path, genes=["CYP2C19", "DPYD", "CYP2C9"], build="GRCh38"):
            pass
    except RecommenderError:
        return


def check_one(path: str) -> tuple[str, str]:
    """Read ``path`` in a forked child: ``("ok" | "crash" | "non-product" | "hang", detail)``."""
    import signal
    import tempfile
    import time

    with tempfile.TemporaryFile() as log:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            code = 0
            try:
                os.dup2(log.fileno(), 2)
                os.dup2(log.fileno(), 1)
                _read_everything(path)
            except BaseException as err:  # noqa: BLE001
                os.write(log.fileno(), f"NON-PRODUCT {type(err).__name__}: {err}"[:400].encode("utf-8", "replace"))
                code = 7
            os._exit(code)
        deadline = time.monotonic() + 60
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return "hang", "no answer in 60 s"
            time.sleep(0.002)
        log.seek(0)
        text = log.read().decode("utf-8", "replace")[-400:]
    if os.WIFSIGNALED(status):
        return "crash", f"signal {os.WTERMSIG(status)}: {text}"
    if os.WEXITSTATUS(status) == 7:
        return "non-product", text
    return "ok", ""


def fuzz(seeds: list[Path], budget_s: float, out_dir: Path, seed: int = 16) -> dict:
    """Mutate the seed files for ``budget_s`` seconds; findings are saved under ``out_dir``."""
    import time

    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = []
    for path in seeds:
        raw = decompress(path) if path.suffix in (".gz", ".bcf") else path.read_bytes()
        if raw.startswith(b"BCF"):
            corpus.append(("bcf", raw, bcf_header_end(raw)))
        else:
            corpus.append(("vcf", raw, text_header_end(raw)))
    stop = time.monotonic() + budget_s
    tried = 0
    findings = []
    while time.monotonic() < stop or tried < 2:
        kind, raw, hend = corpus[tried % len(corpus)]
        tried += 1
        if kind == "bcf":
            data = bgzf(mutate_binary(raw, rng, hend))
            name = f"case-{tried}.bcf"
        else:
            mutated = mutate_text(raw, rng, 0 if rng.random() < 0.2 else hend)  # sometimes the header too
            data = bgzf(mutated) if rng.random() < 0.3 else mutated
            name = f"case-{tried}.vcf.gz" if data[:2] == b"\x1f\x8b" else f"case-{tried}.vcf"
        path = out_dir / name
        path.write_bytes(data)
        outcome, detail = check_one(str(path))
        if outcome == "ok":
            path.unlink()
        else:
            findings.append({"file": str(path), "outcome": outcome, "detail": detail})
    return {"tried": tried, "findings": findings}


# ---------------------------------------------------------------------------------------------
# Issue 16 follow-up: helpers for fuzzing the other user-facing parsers (patient records, MAF, tumour
# VCF, outside calls, notes, cohort CSV/phenopackets, knowledge-base import). Added functions only.
# ---------------------------------------------------------------------------------------------

#: Values a hostile JSON record puts where a field belongs (type swaps, huge/negative numbers, NaN text...).
HOSTILE_JSON_VALUES: tuple = (
    None, True, False, 0, -1, -61, 1.5, 1e308, -1e308, 10**30, 2**63, 99999, "", " ", "NaN", "nan", "Infinity",
    "-inf", "1e999", "x" * 20_000, "\x00", "\ud800", "../../etc/passwd", "<script>alert(1)</script>", "P-5Y",
    "P99999999999Y", "grade 9", "gtr:prior_line_x", "gtr:received_treatment_", "outcome:x;event:1", [], {}, [None],
    [[[[[[[[1]]]]]]]], {"a": {"b": {"c": 1}}}, ["x"] * 50, "unknown-regimen-ZZZ", "COAD", "*1/*2", "p.V600E",
)

_JSON_TEXT_TOKENS = (b",", b"}", b"{", b"[", b"]", b":", b'"', b"\\", b"\\u", b"NaN", b"-", b"1e999", b"\xff",
                     b"\xc3", b"\x00", b"null", b"true", b"9" * 40)


def _json_paths(obj, prefix=()):
    """Every path (tuple of keys / indices) of a parsed JSON value, the root first."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _json_paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _json_paths(v, prefix + (i,))


def _json_get(obj, path):
    for p in path:
        obj = obj[p]
    return obj


def mutate_json_tree(obj, rng: random.Random):
    """A deep copy of ``obj`` with one or two structural edits: a value swapped for a hostile one (type swap),
    a key deleted or renamed, a value wrapped in a list or nested in an object, a list emptied or doubled."""
    import copy

    obj = copy.deepcopy(obj)
    for _ in range(rng.randint(1, 2)):
        paths = [p for p in _json_paths(obj) if p]
        if not paths:
            break
        path = rng.choice(paths)
        parent = _json_get(obj, path[:-1])
        key = path[-1]
        op = rng.random()
        if op < 0.55:
            parent[key] = copy.deepcopy(rng.choice(HOSTILE_JSON_VALUES))
        elif op < 0.65 and isinstance(parent, dict):
            del parent[key]
        elif op < 0.72 and isinstance(parent, dict):
            parent[rng.choice(["", "x", key.upper(), key + "_", "__proto__"])] = parent.pop(key)
        elif op < 0.8:
            parent[key] = [parent[key]]
        elif op < 0.86:
            parent[key] = {"value": parent[key]}
        elif isinstance(parent[key], list):
            parent[key] = [] if rng.random() < 0.5 else parent[key] * 2
        else:
            parent[key] = str(parent[key]) if not isinstance(parent[key], str) else rng.choice([0, 1.0, None])
    return obj


def mutate_json_text(data: bytes, rng: random.Random) -> bytes:
    """Text-level JSON damage: a duplicated key, a BOM, truncation, a stray token or byte, deep nesting,
    Latin-1 text, a NaN literal, a giant integer."""
    op = rng.random()
    if op < 0.15:  # duplicate the first key of a random object
        starts = [i for i in range(len(data)) if data[i:i + 2] == b'{"']
        if starts:
            at = rng.choice(starts) + 1
            end = data.find(b",", at)
            if end > at:
                return data[:at] + data[at:end] + b"," + data[at:]
    if op < 0.25:
        return b"\xef\xbb\xbf" + data
    if op < 0.45:
        cuts = [i for i, b in enumerate(data) if b in b',:{}[]"'] or [len(data) // 2]
        return data[:rng.choice(cuts) + rng.choice([0, 1])]
    if op < 0.6:
        buf = bytearray(data)
        at = rng.randrange(len(buf))
        buf[at:at] = rng.choice(_JSON_TEXT_TOKENS)
        return bytes(buf)
    if op < 0.7:
        buf = bytearray(data)
        buf[rng.randrange(len(buf))] = rng.randrange(256)
        return bytes(buf)
    if op < 0.78:
        depth = rng.choice([63, 65, 1000, 100_000])
        return data.rstrip()[:-1] + b', "deep": ' + b"[" * depth + b"]" * depth + b"}"
    if op < 0.86:
        return data.decode("utf-8", "replace").replace("e", "\u00e9").encode("latin-1", "replace")
    if op < 0.93:
        return data.replace(b": 1", b": NaN", 1).replace(b": 0", b": -Infinity", 1)
    return data.replace(b": 1", b": 1" + b"0" * 5000, 1)


def mutate_table(data: bytes, rng: random.Random, *, sep: bytes = b"\t", first_data_line: int = 1) -> bytes:
    """Line/column damage to a delimited text table: byte flips, token insertions, truncation at every
    boundary class (start, inside the header, at a separator, at a line end, mid-field, one byte short),
    a line duplicated or deleted, two columns swapped (header or row), a giant field, a BOM, CRLF endings,
    a NUL, a stray invalid UTF-8 byte."""
    lines = data.split(b"\n")
    op = rng.random()
    if op < 0.12:
        buf = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(buf))
            buf[at] = rng.choice([rng.randrange(256), 0, 0xFF, ord("\t"), ord("\n"), ord(","), ord('"')])
        return bytes(buf)
    if op < 0.24:
        buf = bytearray(data)
        at = rng.randrange(len(buf))
        buf[at:at] = rng.choice(_TOKENS + [sep, sep * 3, b'"', b"NA", b"-5", b"1e999", b"\xc3"])
        return bytes(buf)
    if op < 0.40:  # truncation at a boundary class
        kind = rng.choice(["zero", "header", "sep", "eol", "mid", "short"])
        if kind == "zero":
            return data[:rng.choice([0, 1])]
        if kind == "header":
            return data[:rng.randrange(1, max(2, data.find(b"\n") + 1))]
        if kind == "sep":
            seps = [i for i in range(len(data)) if data[i:i + len(sep)] == sep] or [len(data) // 2]
            return data[:rng.choice(seps) + rng.choice([0, len(sep)])]
        if kind == "eol":
            eols = [i for i, b in enumerate(data) if b == 10] or [len(data) // 2]
            return data[:rng.choice(eols)]
        if kind == "mid":
            return data[:rng.randrange(len(data))]
        return data[:-1]
    if op < 0.50 and len(lines) > 1:  # duplicate a line
        i = rng.randrange(len(lines))
        lines.insert(rng.randrange(len(lines) + 1), lines[i])
        return b"\n".join(lines)
    if op < 0.60 and len(lines) > 1:  # delete a line (the header too)
        del lines[rng.randrange(len(lines))]
        return b"\n".join(lines)
    if op < 0.72:  # swap two columns of one line (the header or a row)
        i = rng.randrange(len(lines))
        cells = lines[i].split(sep)
        if len(cells) > 1:
            a, b = rng.sample(range(len(cells)), 2)
            cells[a], cells[b] = cells[b], cells[a]
            lines[i] = sep.join(cells)
        return b"\n".join(lines)
    if op < 0.80:  # a giant field
        i = rng.randrange(max(1, min(first_data_line, len(lines) - 1)), len(lines))
        cells = lines[i].split(sep)
        cells[rng.randrange(len(cells))] = rng.choice([b"A", b"9", b"[", b"p.V"]) * rng.choice([300, 200_000])
        lines[i] = sep.join(cells)
        return b"\n".join(lines)
    if op < 0.86:  # a cell's content swapped for another type
        i = rng.randrange(max(1, min(first_data_line, len(lines) - 1)), len(lines))
        cells = lines[i].split(sep)
        cells[rng.randrange(len(cells))] = rng.choice(
            [b"", b"NaN", b"inf", b"-1", b"0", b"1e309", b"99999999999999999999", b"abc", b"True", b"[]",
             b"[1, [2", b"\xe9", b"\"", b"*1/*2x2", b"p.", b".", b"chrZ"])
        lines[i] = sep.join(cells)
        return b"\n".join(lines)
    if op < 0.90:
        return b"\xef\xbb\xbf" + data
    if op < 0.94:
        return data.replace(b"\n", b"\r\n")
    if op < 0.97:
        buf = bytearray(data)
        buf[rng.randrange(len(buf)):0] = b"\x00"
        return bytes(buf)
    buf = bytearray(data)
    buf.insert(rng.randrange(len(buf)), rng.choice([0x80, 0xC3, 0xFE, 0xFF]))
    return bytes(buf)


def product_error_problem(err: BaseException, path: str | None) -> str | None:
    """``None`` when ``err`` keeps the contract (a ``RecommenderError`` naming the file), else what is wrong."""
    from genomics.errors import RecommenderError

    if not isinstance(err, RecommenderError):
        return f"non-product {type(err).__name__}: {str(err)[:300]}"
    line = err.one_line()
    if "\n" in str(err.message) or "Traceback" in line:
        return f"multi-line message: {line[:300]}"
    if len(line) > 2000:  # text shown back: a hostile cell must not come back as a 200 kB message
        return f"message of {len(line)} characters: {line[:200]}"
    if path is not None and os.path.basename(path) not in line:
        return f"{type(err).__name__} does not name the file: {line[:300]}"
    return None


def run_cases(call, paths: list, *, timeout_s: float = 20.0) -> list[tuple[str, str, str]]:
    """Run ``call(path)`` on every path in forked children (a batch per child, restarted after a death).

    Returns ``[(path, outcome, detail)]`` for every case that broke the contract: ``non-product`` (an exception
    that is not a ``RecommenderError`` naming the file), ``crash`` (a signal or exit from C), ``hang``
    (no answer in ``timeout_s``). A ``RecommenderError`` naming the file, or a result, is fine.
    """
    import json as _json
    import select
    import signal
    import time
    import warnings as _warnings

    bad: list[tuple[str, str, str]] = []
    start = 0
    while start < len(paths):
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            os.close(rfd)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            _warnings.simplefilter("ignore")
            sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
            for i in range(start, len(paths)):
                os.write(wfd, f"S{i}\n".encode())
                try:
                    call(paths[i])
                    problem = None
                except BaseException as err:  # noqa: BLE001
                    problem = product_error_problem(err, None if paths[i] is None else str(paths[i]))
                msg = _json.dumps({"i": i, "p": problem})
                os.write(wfd, f"R{msg}\n".encode())
            os._exit(0)
        os.close(wfd)
        buf = b""
        current = None
        deadline = time.monotonic() + timeout_s
        finished = False
        with os.fdopen(rfd, "rb", buffering=0) as pipe:
            while True:
                ready, _, _ = select.select([pipe], [], [], 0.05)
                if ready:
                    chunk = pipe.read(65536)
                    if not chunk:
                        break
                    buf += chunk
                    *done, buf = buf.split(b"\n")
                    for line in done:
                        if line.startswith(b"S"):
                            current = int(line[1:])
                            deadline = time.monotonic() + timeout_s
                        elif line.startswith(b"R"):
                            res = _json.loads(line[1:])
                            current = None
                            if res["p"]:
                                bad.append((str(paths[res["i"]]), "non-product", res["p"]))
                            if res["i"] == len(paths) - 1:
                                finished = True
                elif time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    break
        _, status = os.waitpid(pid, 0)
        if finished and current is None:
            break
        if current is None:  # the child died between cases (should not happen)
            bad.append(("?", "crash", f"child ended with status {status}"))
            break
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL and time.monotonic() > deadline:
            bad.append((str(paths[current]), "hang", f"no answer in {timeout_s:g} s"))
        else:
            bad.append((str(paths[current]), "crash", f"child ended with status {status}"))
        start = current + 1
    return bad


if __name__ == "__main__":  # pragma: no cover - run by tests/genomics/test_fuzz_readers.py
    import json

    budget, out, *seed_files = sys.argv[1:]
    result = fuzz([Path(p) for p in seed_files], float(budget), Path(out),
                  seed=int(os.environ.get("FUZZ_SEED", "16")))
    print(json.dumps(result))
