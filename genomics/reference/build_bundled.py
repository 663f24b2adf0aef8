"""Build the bundled GRCh38 reference subset from ../shared/data/sequence (reproducible).

Usage::

    python -m genomics.reference.build_bundled --shared ../shared/data --out genomics/data/reference

Inputs (see ``<shared>/sequence/README.md``):

* ``brca1_region_GRCh38/chr17_brca1_ext.txt``: GRCh38 chr17:42,425,000-43,600,000
  (NC_000017.11:c43600000-42425000), reverse-complemented, headerless, 70 columns. It is
  reverse-complemented back, so the stored record reads forward strand.
* ``vg_GRCh38_HLA/*.fa``: one file per MHC gene. Only the record whose header is
  ``gi|568815592:START-END`` (NC_000006.12, "GRCh38 Primary Assembly") is used; ALT_REF_LOCI
  haplotypes, CHM1, HuRef and RefSeqGene records are skipped. START-END are chr6 coordinates
  (1-based, inclusive) and the bases are forward strand (checked below). Overlapping segments
  (HLA-DPA1 / HLA-DPB1) are merged after checking they agree base for base.

Outputs in ``--out``: ``GRCh38_subset.fa.gz`` (bgzip) + ``.fai`` + ``.gzi``,
``GRCh38_subset.fa.gz.intervals.json`` (real coordinates of every record), ``PROVENANCE.md``
(sha256 of every input and output), ``LICENSE-NOTE.md`` and ``LICENSE-vg-MIT.txt``. The build stops with an error if any
input deviates from what is documented (length, alphabet, header, known codons).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pysam

from genomics.fileio import sha256_file
from genomics.reference._builds import CHROMOSOME_LENGTHS
from genomics.reference.intervals import MANIFEST_SUFFIX, CoveredInterval, IntervalManifest, record_name

__all__ = ["BUNDLED_FASTA_NAME", "SOURCES", "build", "collect_segments", "main"]

BUNDLED_FASTA_NAME = "GRCh38_subset.fa.gz"
LINE_WIDTH = 60
BRCA1_FILE = "sequence/brca1_region_GRCh38/chr17_brca1_ext.txt"
BRCA1_START, BRCA1_END = 42_425_000, 43_600_000
HLA_DIR = "sequence/vg_GRCh38_HLA"
PRIMARY_HEADER = re.compile(r"^>gi\|568815592:(\d+)-(\d+) Homo sapiens chromosome 6, GRCh38 Primary Assembly")
NON_HLA_PREFIX = {"MICA", "MICB", "TAP1", "TAP2"}

#: Where the inputs come from (copied from <shared>/sequence/README.md).
SOURCES = {
    BRCA1_FILE: ("vmizg/inf4_proj_main", "442e0a66497b1bac81f1e7ab6b7dff93cb12d215", "seq/chr17_brca1_ext.txt",
                 "no licence file; NCBI GRCh38 sequence (public domain)"),
    HLA_DIR: ("vgteam/vg", "fd49b9a9040716197f3b23521e14ca29e547fbb7", "test/GRCh38_alts/FASTA/HLA/",
              "vg: MIT; NCBI GRCh38 sequence (public domain)"),
}

_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


class BuildInputError(RuntimeError):
    """An input file is not what its README documents."""


def reverse_complement(seq: str) -> str:
    return seq.translate(_COMPLEMENT)[::-1]


def _read_records(path: Path) -> Iterator[tuple[str, str]]:
    header, chunks = None, []
    for line in path.read_text(encoding="ascii").splitlines():
        if line.startswith(">"):
            if header is not None:
                yield header, "".join(chunks)
            header, chunks = line, []
        else:
            chunks.append(line.strip())
    if header is not None:
        yield header, "".join(chunks)


def _check_alphabet(seq: str, where: str) -> None:
    bad = set(seq) - set("ACGTN")
    if bad:
        raise BuildInputError(f"{where}: unexpected characters {sorted(bad)}")


def gene_label(path: Path) -> str:
    """``A-3105.fa`` -> ``HLA-A``; ``MICA-100507436.fa`` -> ``MICA``."""
    gene = path.name.split("-")[0]
    return gene if gene in NON_HLA_PREFIX else f"HLA-{gene}"


def collect_segments(shared: Path) -> tuple[list[tuple[str, int, int, str, str]], list[str]]:
    """Read the inputs; return ``(contig, start, end, label, forward_sequence)`` and skipped genes."""
    segments: list[tuple[str, int, int, str, str]] = []
    brca1 = shared / BRCA1_FILE
    raw = "".join(brca1.read_text(encoding="ascii").split()).upper()
    _check_alphabet(raw, str(brca1))
    if len(raw) != BRCA1_END - BRCA1_START + 1:
        raise BuildInputError(f"{brca1}: {len(raw)} bases, expected {BRCA1_END - BRCA1_START + 1}")
    segments.append(("chr17", BRCA1_START, BRCA1_END, "BRCA1 region", reverse_complement(raw)))
    skipped = []
    for fa in sorted((shared / HLA_DIR).glob("*.fa")):
        primary = [(h, s) for h, s in _read_records(fa) if PRIMARY_HEADER.match(h)]
        if not primary:
            skipped.append(gene_label(fa))
            continue
        if len(primary) != 1:
            raise BuildInputError(f"{fa}: {len(primary)} primary-assembly records, expected 1")
        header, seq = primary[0]
        m = PRIMARY_HEADER.match(header)
        assert m is not None
        start, end = int(m.group(1)), int(m.group(2))
        seq = seq.upper()
        _check_alphabet(seq, str(fa))
        if len(seq) != end - start + 1:
            raise BuildInputError(f"{fa}: {header!r} holds {len(seq)} bases, range says {end - start + 1}")
        segments.append(("chr6", start, end, gene_label(fa), seq))
    return segments, skipped


def merge_segments(segments: Sequence[tuple[str, int, int, str, str]]) -> list[tuple[CoveredInterval, str]]:
    """Merge overlapping/adjacent segments (checking agreement); return intervals with their bases."""
    merged = IntervalManifest.merge([(c, s, e, label) for c, s, e, label, _ in segments])
    out = []
    for contig, start, end, labels in merged:
        buf = ["?"] * (end - start + 1)
        for c, s, e, label, seq in segments:
            if c != contig or s < start or e > end:
                continue
            for i, base in enumerate(seq, start=s - start):
                if buf[i] not in ("?", base):
                    raise BuildInputError(f"{label} disagrees with an overlapping segment at {contig}:{start + i}")
                buf[i] = base
        if "?" in buf:
            raise BuildInputError(f"gap inside merged interval {contig}:{start}-{end}")
        out.append((CoveredInterval(contig, start, end, record_name(contig, start, end), ",".join(labels)),
                    "".join(buf)))
    return out


def _self_check(pieces: list[tuple[CoveredInterval, str]]) -> None:
    """Known codons (see tests/genomics/test_reference.py for the sources)."""

    def base(contig: str, start: int, end: int) -> str:
        for iv, seq in pieces:
            if iv.contig == contig and iv.contains(start, end):
                return seq[start - iv.start:end - iv.start + 1]
        raise BuildInputError(f"{contig}:{start}-{end} not covered")

    checks = [("chr17", 43_124_094, 43_124_096, "CAT", "BRCA1 start codon (minus strand)"),
              ("chr17", 43_045_678, 43_045_680, "TCA", "BRCA1 stop codon TGA (minus strand)"),
              ("chr6", 29_942_554, 29_942_556, "ATG", "HLA-A start codon (plus strand)"),
              ("chr6", 31_357_156, 31_357_158, "CAT", "HLA-B start codon (minus strand)")]
    for contig, start, end, expected, what in checks:
        found = base(contig, start, end)
        if found != expected:
            raise BuildInputError(f"{what} at {contig}:{start}-{end} reads {found}, expected {expected}")


def _write_fasta(path: Path, pieces: list[tuple[CoveredInterval, str]]) -> None:
    with path.open("w", encoding="ascii", newline="\n") as fh:
        for iv, seq in pieces:
            fh.write(f">{iv.record} {iv.contig}:{iv.start}-{iv.end} {iv.label} GRCh38\n")
            for i in range(0, len(seq), LINE_WIDTH):
                fh.write(seq[i:i + LINE_WIDTH] + "\n")


def _provenance(shared: Path, out: Path, skipped: list[str], pieces: list[tuple[CoveredInterval, str]]) -> str:
    brca1 = shared / BRCA1_FILE
    hla_files = sorted((shared / HLA_DIR).glob("*.fa"))
    today = _dt.datetime.now(_dt.UTC).date().isoformat()
    lines = [
        "# Bundled GRCh38 reference subset: provenance",
        "",
        f"Built {today} by `python -m genomics.reference.build_bundled --shared <shared/data> --out {out.as_posix()}`",
        "from the project's copy of public sequence files (`shared/data/sequence`, see its README).",
        "Coordinates are GRCh38, 1-based, inclusive. Every record is forward strand, upper case.",
        "",
        "## Contents",
        "",
        "| record | GRCh38 interval | bases | genes |",
        "| --- | --- | ---: | --- |",
    ]
    lines += [f"| `{iv.record}` | {iv.contig}:{iv.start:,}-{iv.end:,} | {iv.length:,} | {iv.label} |"
              for iv, _ in pieces]
    total = sum(iv.length for iv, _ in pieces)
    lines += [
        "",
        f"Total: {len(pieces)} records, {total:,} bases.",
        f"MHC genes without a primary-assembly segment in the source (ALT haplotypes only, not bundled): "
        f"{', '.join(skipped) or 'none'}.",
        "",
        "## Sources",
        "",
        "| input | source repository @ commit | path in repository | licence |",
        "| --- | --- | --- | --- |",
    ]
    for key, (repo, commit, path, licence) in SOURCES.items():
        lines.append(f"| `{key}` | {repo} @ {commit} | `{path}` | {licence} |")
    lines += [
        "",
        "How each input was used:",
        "",
        "- `chr17_brca1_ext.txt`: GRCh38 chr17:42,425,000-43,600,000 (NC_000017.11:c43600000-42425000, GRCh38.p12),",
        "  stored reverse-complemented and without a header; reverse-complemented back here.",
        "- `vg_GRCh38_HLA/*.fa`: only the `gi|568815592:START-END` record (NC_000006.12, GRCh38 Primary",
        "  Assembly); START-END taken as chr6 coordinates. ALT_REF_LOCI haplotypes, CHM1, HuRef and RefSeqGene",
        "  records skipped. HLA-DPA1 and HLA-DPB1 overlap and were merged (identical bases in the overlap).",
        "",
        "Checks made by the builder: lengths equal the stated ranges; alphabet ACGTN; BRCA1 start codon (CAT at",
        "chr17:43,124,094-43,124,096) and stop codon (TCA at chr17:43,045,678-43,045,680) on the forward strand;",
        "HLA-A start codon ATG at chr6:29,942,554-29,942,556; HLA-B start codon (CAT at chr6:31,357,156-31,357,158).",
        "",
        "## sha256 of inputs",
        "",
        f"- `{BRCA1_FILE}`: {sha256_file(brca1)}",
    ]
    lines += [f"- `{HLA_DIR}/{f.name}`: {sha256_file(f)}" for f in hla_files]
    lines += ["", "## sha256 of outputs", ""]
    for name in (BUNDLED_FASTA_NAME, BUNDLED_FASTA_NAME + ".fai", BUNDLED_FASTA_NAME + ".gzi",
                 BUNDLED_FASTA_NAME + MANIFEST_SUFFIX):
        lines.append(f"- `{name}`: {sha256_file(out / name)}")
    lines += ["", "(bgzip output bytes can differ between zlib builds; the sequence does not.)", ""]
    return "\n".join(lines)


LICENSE_NOTE = """# Licence note: bundled GRCh38 reference subset

The bases in `GRCh38_subset.fa.gz` are GRCh38 human reference sequence produced by the Genome
Reference Consortium and distributed by NCBI (NC_000017.11, NC_000006.12). GRC/NCBI reference
sequence is in the public domain (NCBI places no restrictions on the use or distribution of
GenBank/RefSeq sequence data).

The sequence reached this project through two public repositories:

- vgteam/vg (`test/GRCh38_alts/FASTA/HLA/`): MIT licence, Copyright (c) 2014 Erik Garrison (full
  text in `LICENSE-vg-MIT.txt`). Only the GRCh38 primary-assembly records were used; no code was copied.
- vmizg/inf4_proj_main (`seq/chr17_brca1_ext.txt`): the repository has **no licence file**. The
  file holds NCBI GRCh38 sequence only (public domain, no added creative content), reverse-
  complemented. If a policy requires an explicit licence, rebuild without it (the BRCA1 region can
  be re-extracted from any GRCh38 FASTA: `samtools faidx GRCh38.fa chr17:42425000-43600000`).

The index files (`.fai`, `.gzi`) and the interval manifest were generated by this project
(`python -m genomics.reference.build_bundled`) and fall under the project's Apache-2.0 licence.
"""


#: The MIT part of vgteam/vg's LICENSE (read at commit 4ccb8dd44b8b8050e1b89d5e4a6901a861bcce16; the
#: data snapshot is fd49b9a9040716197f3b23521e14ca29e547fbb7). Kept beside the data it came with.
VG_LICENSE = """The following applies to files taken from vgteam/vg (https://github.com/vgteam/vg).
VG itself is licensed under the MIT license.

The MIT License (MIT)

Copyright (c) 2014 Erik Garrison

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of
the Software, and to permit persons to whom the Software is furnished to do so,
subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS
FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


def _replace_atomic(src: Path, dst: Path) -> None:
    os.replace(src, dst)


def build(shared: Path, out: Path) -> list[CoveredInterval]:
    """Build the bundled subset from ``shared`` (the ``shared/data`` folder) into ``out``."""
    shared, out = Path(shared), Path(out)
    segments, skipped = collect_segments(shared)
    pieces = merge_segments(segments)
    _self_check(pieces)
    lengths = {c: CHROMOSOME_LENGTHS["GRCh38"][c.removeprefix("chr")] for c in dict.fromkeys(iv.contig for iv, _ in pieces)}
    for iv, _ in pieces:
        if iv.end > lengths[iv.contig]:
            raise BuildInputError(f"{iv.describe()} runs past the end of GRCh38 {iv.contig}")
    manifest = IntervalManifest(build="GRCh38", contig_lengths=lengths, intervals=tuple(iv for iv, _ in pieces))
    manifest.validate()
    from genomics.reference.bundled import BUNDLED_REGIONS

    if manifest.intervals != BUNDLED_REGIONS:
        raise BuildInputError("the intervals derived from the inputs differ from BUNDLED_REGIONS in "
                              "genomics/reference/bundled.py; update that constant together with the data")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".build-", dir=out) as tmp_name:
        tmp = Path(tmp_name)
        plain = tmp / "subset.fa"
        _write_fasta(plain, pieces)
        gz = tmp / BUNDLED_FASTA_NAME
        pysam.tabix_compress(str(plain), str(gz), force=True)
        pysam.faidx(str(gz))
        (tmp / (BUNDLED_FASTA_NAME + MANIFEST_SUFFIX)).write_text(manifest.to_json(), encoding="utf-8")
        (tmp / "LICENSE-NOTE.md").write_text(LICENSE_NOTE, encoding="utf-8")
        (tmp / "LICENSE-vg-MIT.txt").write_text(VG_LICENSE, encoding="utf-8")
        for name in (BUNDLED_FASTA_NAME + ".gzi", BUNDLED_FASTA_NAME + ".fai", BUNDLED_FASTA_NAME,
                     BUNDLED_FASTA_NAME + MANIFEST_SUFFIX, "LICENSE-NOTE.md", "LICENSE-vg-MIT.txt"):
            _replace_atomic(tmp / name, out / name)
        prov = tmp / "PROVENANCE.md"
        prov.write_text(_provenance(shared, out, skipped, pieces), encoding="utf-8")
        _replace_atomic(prov, out / "PROVENANCE.md")
    return list(manifest.intervals)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genomics.reference.build_bundled",
                                     description="Build the bundled GRCh38 reference subset.")
    parser.add_argument("--shared", required=True, type=Path, help="the shared/data folder (holds sequence/)")
    parser.add_argument("--out", required=True, type=Path, help="output folder (genomics/data/reference)")
    args = parser.parse_args(argv)
    try:
        intervals = build(args.shared, args.out)
    except (BuildInputError, OSError) as exc:
        print(f"build_bundled: {exc}", file=sys.stderr)
        return 1
    total = sum(iv.length for iv in intervals)
    print(f"wrote {args.out / BUNDLED_FASTA_NAME}: {len(intervals)} intervals, {total:,} bases")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
