"""Decode an untrusted BCF once in a child process, so a crash in htslib/cyvcf2 becomes a clean error.

A BCF is binary: one changed byte in a record can make cyvcf2 read past its buffers (a segmentation
fault that kills the whole process, i.e. the CLI, the HTTP service or the app). htslib's own record
check (``bcf_record_check``) does not catch every such record, and no check in Python can see them before
they are decoded. So the reader decodes every record of a BCF once in a forked child, touching every
field the product reads (site columns, GT, FORMAT PS/DP/GQ, INFO); when the child dies of a signal, the
parent raises :class:`~genomics.errors.VcfError` naming the file and the record reached. The same holds
when htslib calls ``exit()`` (it does on some corrupt binary records: "Unexpected type 0"), which would
otherwise end the CLI with no message, or end the HTTP service or the app. A child that
exits normally (with or without a Python-level parse error) lets the parent read the file as usual (and
report a parse error the normal way).

The cost is one extra decoding pass over the file, in parallel with nothing (measured in
``docs/concepts/input-contract.md``). Set ``GENOMICS_VCF_CHILD_CHECK=0`` to skip it for BCFs you trust.
"""

from __future__ import annotations

import mmap
import os
import signal
import struct

from genomics.errors import VcfError

__all__ = ["check_in_child", "child_check_enabled"]

_SLOT = struct.Struct("<qqq200s")  # records read, phase (1: reading its fields), position, contig


def child_check_enabled() -> bool:
    """False when ``GENOMICS_VCF_CHILD_CHECK=0`` (or fork is unavailable)."""
    return hasattr(os, "fork") and os.environ.get("GENOMICS_VCF_CHILD_CHECK", "1") != "0"


def _touch_all(path: str, shared: mmap.mmap) -> None:
    from cyvcf2 import VCF

    from genomics.vcf import _htslib

    with _htslib.quiet():
        vcf = VCF(path, lazy=True)
        n = 0
        chrom = None
        name = b""
        for variant in vcf:
            n += 1
            c = variant.CHROM
            if c != chrom:
                chrom = c
                name = c.encode("utf-8", "replace")[:200]
            _SLOT.pack_into(shared, 0, n, 1, int(variant.POS), name)
            _ = (variant.REF, variant.ALT, variant.QUAL, variant.FILTERS, variant.ID, variant.end)
            try:
                variant.genotype.array()
            except Exception:  # noqa: BLE001, S110 - no GT: fine
                pass
            for key in ("PS", "DP", "GQ"):
                try:
                    variant.format(key)
                except Exception:  # noqa: BLE001, S110 - not declared / wrong type: the parent reports it
                    pass
            try:
                for _ in variant.INFO:
                    pass
            except Exception:  # noqa: BLE001, S110
                pass
            struct.pack_into("<q", shared, 8, 2)


def check_in_child(path: str, source: str) -> None:
    """Decode every record of ``path`` in a forked child; raise VcfError if the child crashes.

    ``source`` is the path shown to the user.
    """
    if not child_check_enabled():
        return
    shared = mmap.mmap(-1, _SLOT.size)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 0
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.dup2(devnull, 1)
            _touch_all(path, shared)
        except BaseException:  # noqa: BLE001 - a Python-level error: the parent reports it normally
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    crashed = os.WIFSIGNALED(status) or (os.WIFEXITED(status) and os.WEXITSTATUS(status) not in (0, 3))
    if crashed:
        n, phase, pos, raw = _SLOT.unpack_from(shared, 0)
        chrom = raw.rstrip(b"\0").decode("utf-8", "replace")
        if phase == 1:  # died while reading the fields of record n
            where = f"{n} ({chrom}:{pos})"
        else:  # died while decoding the next record
            where = f"{n + 1} (after {chrom}:{pos})" if n else "1 (the first record)"
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            try:
                signame = signal.Signals(sig).name
            except ValueError:
                signame = f"signal {sig}"
        else:  # htslib calls exit() on some corrupt binary records ("Unexpected type")
            signame = f"it aborted the process with exit code {os.WEXITSTATUS(status)}"
        shared.close()
        raise VcfError(
            f"the file is corrupt: decoding this record crashed the VCF/BCF library (htslib/cyvcf2, {signame})",
            file=source, record=where,
            fix="the file was damaged (a changed or missing byte): copy or export it again "
                "(bcftools view -Ob), and check it with bcftools view FILE > /dev/null",
        )
    shared.close()
