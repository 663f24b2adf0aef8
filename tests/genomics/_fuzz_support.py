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


if __name__ == "__main__":  # pragma: no cover - run by tests/genomics/test_fuzz_readers.py
    import json

    budget, out, *seed_files = sys.argv[1:]
    result = fuzz([Path(p) for p in seed_files], float(budget), Path(out),
                  seed=int(os.environ.get("FUZZ_SEED", "16")))
    print(json.dumps(result))
