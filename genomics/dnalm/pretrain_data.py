"""Pre-training corpus of the default DNA LM: real human sequence, split into train / held-out.

The corpus is built from a folder laid out like ``../shared/data/sequence`` (see its README):

- ``vg_1mb1kgp_chr20_GRCh37/z.fa``      GRCh37 chr20:1,000,001-2,000,000
- ``hisat2_chr22_20-21M_GRCh37/*.fa``   GRCh37 chr22:20,000,001-21,000,000 (100 kb of N)
- ``brca1_region_GRCh38/chr17_brca1_ext.txt``  GRCh38 chr17:42,425,000-43,600,000, reverse-complemented
- ``vg_GRCh38_HLA/*.fa``                GRCh38 MHC genes plus ALT haplotypes / other assemblies
- ``grch38_chr2_0-2.3mb/chr2_1-2333275.fa.gz``  GRCh38 chr2:1-2,333,275 (bgzipped FASTA; optional)
- ``grch38_chr21_vep_testdb/``          GRCh38 chr21 contigs of an Ensembl core-database dump, stitched
  with its ``assembly.txt`` (about 1.17 Mb, mostly chr21:25-26 Mb; optional)

Rules (written down so the run can be repeated):

- **BRCA1 is excluded**: GRCh38 chr17:43,044,295-43,125,483 plus a 10 kb margin on each side never
  enters training, so scoring BRCA1 variants stays an honest test. It is kept as a separate
  "excluded" evaluation segment.
- **HLA de-duplication**: of each gene file only the GRCh38 primary-assembly record and the CHM1
  assembly record (longer, with flanks) are used; the seven ALT_REF_LOCI haplotypes, the RefSeqGene
  and HuRef records (near-copies of the same sequence) are dropped.
- **Held-out**: the last contiguous 5% of chr20, chr22, the BRCA1-region chunk, chr2 and of every
  stitched chr21 block, and two whole MHC genes (``DRA``, ``TAP2``: all their records), never enter
  training.
- **Evaluation regions held out**: every sequence of a labelled evaluation set that is located by
  sequence (Vex-seq / MaPSy constructs, see :func:`exclude_sequences`) is cut out of the training
  segments with a 2 kb margin, whatever genome build the set uses (matching is by exact 24-mers).
"""

from __future__ import annotations

import gzip
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genomics.fileio import sha256_file

__all__ = [
    "BRCA1_GENE",
    "BRCA1_MARGIN",
    "BRCA1_REGION_START",
    "HELD_OUT_HLA_GENES",
    "Corpus",
    "Segment",
    "exclude_sequences",
    "load_corpus",
    "revcomp",
]

BRCA1_GENE = ("chr17", 43_044_295, 43_125_483)
BRCA1_MARGIN = 10_000
BRCA1_REGION_START = 42_425_000  # first base of chr17_brca1_ext.txt after reverse-complementing
HELD_OUT_HLA_GENES = ("DRA", "TAP2")
HELD_OUT_FRACTION = 0.05

_COMP = str.maketrans("ACGTNacgtn", "TGCANtgcan")


def revcomp(seq: str) -> str:
    """Reverse complement of an upper-case A/C/G/T/N string."""
    return seq.translate(_COMP)[::-1]


@dataclass(frozen=True)
class Segment:
    """One contiguous stretch of sequence with a name and its split."""

    name: str
    split: str  # "train" | "valid" | "excluded"
    seq: str = field(repr=False)

    @property
    def length(self) -> int:
        return len(self.seq)


@dataclass
class Corpus:
    """Train / held-out / excluded segments plus the sha256 of every input file."""

    segments: list[Segment]
    inputs: dict[str, str]
    excluded_regions: list[str] = field(default_factory=list)

    def by_split(self, split: str) -> list[Segment]:
        return [s for s in self.segments if s.split == split]

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {"evaluation_regions_cut_from_training": len(self.excluded_regions)}
        for split in ("train", "valid", "excluded"):
            segs = self.by_split(split)
            out[split] = {
                "segments": len(segs),
                "bases": int(sum(s.length for s in segs)),
                "non_N_bases": int(sum(s.length - s.seq.count("N") for s in segs)),
            }
        return out


def _read_fasta(path: Path) -> list[tuple[str, str]]:
    records: list[tuple[str, str]] = []
    header = None
    chunks: list[str] = []
    if path.suffix == ".gz":
        with gzip.open(path, "rt") as fh:
            text = fh.read()
    else:
        text = path.read_text()
    for line in text.splitlines():
        if line.startswith(">"):
            if header is not None:
                records.append((header, "".join(chunks).upper()))
            header, chunks = line[1:].strip(), []
        elif line.strip():
            chunks.append(line.strip())
    if header is not None:
        records.append((header, "".join(chunks).upper()))
    return records


def _split_tail(name: str, seq: str) -> list[Segment]:
    cut = int(len(seq) * (1 - HELD_OUT_FRACTION))
    return [Segment(f"{name}:train", "train", seq[:cut]), Segment(f"{name}:valid", "valid", seq[cut:])]


def stitch_chr21(folder: Path) -> list[tuple[int, str]]:
    """Contiguous GRCh38 chr21 blocks ``(first 1-based position, sequence)`` from an Ensembl core dump.

    Contig rows of ``assembly.txt`` placed on the ``chromosome`` region named ``21`` are joined
    (``ori == -1``: reverse-complemented); touching pieces merge into one block.
    """
    names = {}
    for line in (folder / "seq_region.txt").read_text().splitlines():
        f = line.split("\t")
        if len(f) >= 3:
            names[f[0]] = (f[1], f[2])
    chrom_ids = {k for k, (name, cs) in names.items() if name == "21" and cs == "4"}
    dna = {}
    for line in (folder / "dna.txt").read_text().splitlines():
        k, _, seq = line.partition("\t")
        dna[k] = seq.strip().upper()
    pieces = []
    for line in (folder / "assembly.txt").read_text().splitlines():
        f = line.split("\t")
        if len(f) < 7 or f[0] not in chrom_ids or f[1] not in dna:
            continue
        s, _e, cs, ce, ori = (int(x) for x in f[2:7])
        seq = dna[f[1]][cs - 1 : ce]
        pieces.append((s, revcomp(seq) if ori == -1 else seq))
    pieces.sort()
    blocks: list[tuple[int, str]] = []
    for s, seq in pieces:
        if blocks and blocks[-1][0] + len(blocks[-1][1]) == s:
            blocks[-1] = (blocks[-1][0], blocks[-1][1] + seq)
        elif not blocks or s >= blocks[-1][0] + len(blocks[-1][1]):
            blocks.append((s, seq))
    return blocks


EXCLUDE_MARGIN = 2_000
_PROBE = 24


def exclude_sequences(segments: list[Segment], sequences: list[str], margin: int = EXCLUDE_MARGIN,
                      ) -> tuple[list[Segment], list[str]]:
    """Cut every place where an evaluation sequence occurs (either strand) out of the train segments.

    Each sequence gives three 24-base probes (at 1/4, 1/2 and 3/4 of its length). A locus counts as
    that sequence when at least two of its probes hit the same strand of a train segment within the
    sequence's length of each other (a lone 24-mer hit is usually a repeat, e.g. an Alu); the locus
    plus ``margin`` bases on each side is removed. Returns the new segment list (valid / excluded
    segments untouched) and a description of every cut.
    """
    index: dict[str, list[tuple[int, int]]] = {}  # probe -> [(sequence number * 2 + strand, length)]
    for n, seq in enumerate(sequences):
        seq = seq.upper()
        if len(seq) < 2 * _PROBE:
            continue
        for frac in (0.25, 0.5, 0.75):
            at = int(len(seq) * frac) - _PROBE // 2
            pr = seq[at : at + _PROBE]
            if set(pr) <= set("ACGT"):
                index.setdefault(pr, []).append((2 * n, len(seq)))
                index.setdefault(revcomp(pr), []).append((2 * n + 1, len(seq)))
    out: list[Segment] = []
    cuts: list[str] = []
    for seg in segments:
        if seg.split != "train" or not index:
            out.append(seg)
            continue
        found: dict[int, list[int]] = {}
        lengths: dict[int, int] = {}
        text = seg.seq
        for i in range(len(text) - _PROBE + 1):
            owners = index.get(text[i : i + _PROBE])
            if owners:
                for key, length in owners:
                    found.setdefault(key, []).append(i)
                    lengths[key] = length
        hits = []
        for key, pos in found.items():
            pos.sort()
            for a, b in itertools.pairwise(pos):
                if 0 < b - a <= lengths[key]:
                    hits.append((max(0, a - margin), min(seg.length, b + _PROBE + margin)))
        if not hits:
            out.append(seg)
            continue
        hits.sort()
        merged = [list(hits[0])]
        for a, b in hits[1:]:
            if a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        prev = 0
        for k, (a, b) in enumerate(merged):
            cuts.append(f"{seg.name}[{a}:{b}]")
            if a > prev:
                out.append(Segment(f"{seg.name}#{k}", "train", seg.seq[prev:a]))
            prev = b
        if prev < seg.length:
            out.append(Segment(f"{seg.name}#{len(merged)}", "train", seg.seq[prev:]))
    return out, cuts


def load_corpus(root: str | Path, exclude: list[str] | None = None) -> Corpus:
    """Read the sequence folder and return the split corpus (see the module docstring).

    ``exclude``: sequences of labelled evaluation sets to cut out of training (:func:`exclude_sequences`).
    """
    root = Path(root)
    segments: list[Segment] = []
    inputs: dict[str, str] = {}

    for rel in ("vg_1mb1kgp_chr20_GRCh37/z.fa", "hisat2_chr22_20-21M_GRCh37/22_20-21M.fa"):
        path = root / rel
        inputs[rel] = sha256_file(path)
        ((_, seq),) = _read_fasta(path)
        segments += _split_tail(rel.split("/")[0], seq)

    rel = "brca1_region_GRCh38/chr17_brca1_ext.txt"
    path = root / rel
    inputs[rel] = sha256_file(path)
    fwd = revcomp("".join(path.read_text().split()).upper())
    _, g_start, g_end = BRCA1_GENE
    ex_lo = g_start - BRCA1_MARGIN - BRCA1_REGION_START  # 0-based offsets into fwd
    ex_hi = g_end + BRCA1_MARGIN - BRCA1_REGION_START + 1
    gene_lo, gene_hi = g_start - BRCA1_REGION_START, g_end - BRCA1_REGION_START + 1
    segments.append(Segment("chr17_brca1_region:left", "train", fwd[:ex_lo]))
    segments.append(Segment("chr17:BRCA1_gene(excluded)", "excluded", fwd[gene_lo:gene_hi]))
    segments += _split_tail("chr17_brca1_region:right", fwd[ex_hi:])

    for path in sorted((root / "vg_GRCh38_HLA").glob("*.fa")):
        gene = path.name.split("-")[0]
        inputs[f"vg_GRCh38_HLA/{path.name}"] = sha256_file(path)
        split = "valid" if gene in HELD_OUT_HLA_GENES else "train"
        for header, seq in _read_fasta(path):
            if "GRCh38 Primary Assembly" in header or "CHM1" in header:
                tag = "primary" if "Primary" in header else "CHM1"
                segments.append(Segment(f"HLA-{gene}:{tag}", split, seq))

    rel = "grch38_chr2_0-2.3mb/chr2_1-2333275.fa.gz"
    if (root / rel).exists():
        inputs[rel] = sha256_file(root / rel)
        ((_, seq),) = _read_fasta(root / rel)
        segments += _split_tail("chr2:1-2333275", seq)
    folder = root / "grch38_chr21_vep_testdb"
    if (folder / "assembly.txt").exists():
        for name in ("dna.txt", "assembly.txt", "seq_region.txt"):
            inputs[f"grch38_chr21_vep_testdb/{name}"] = sha256_file(folder / name)
        for start, seq in stitch_chr21(folder):
            if len(seq) >= 2_000:
                segments += _split_tail(f"chr21:{start}-{start + len(seq) - 1}", seq)
            else:
                segments.append(Segment(f"chr21:{start}-{start + len(seq) - 1}", "train", seq))
    cuts: list[str] = []
    if exclude:
        segments, cuts = exclude_sequences(segments, exclude)
    return Corpus(segments=segments, inputs=inputs, excluded_regions=cuts)


class WindowSampler:
    """Random training windows: segment chosen by length, random offset, random strand.

    Windows with more than ``max_n_frac`` N are redrawn.
    """

    def __init__(self, segments: list[Segment], length: int, seed: int = 0, max_n_frac: float = 0.05):
        self.segments = [s for s in segments if s.length >= length]
        lengths = np.array([s.length - length + 1 for s in self.segments], dtype=float)
        self.p = lengths / lengths.sum()
        self.length = length
        self.rng = np.random.default_rng(seed)
        self.max_n = int(max_n_frac * length)

    def sample(self) -> str:
        while True:
            seg = self.segments[self.rng.choice(len(self.segments), p=self.p)]
            off = int(self.rng.integers(0, seg.length - self.length + 1))
            w = seg.seq[off : off + self.length]
            if w.count("N") > self.max_n:
                continue
            return revcomp(w) if self.rng.random() < 0.5 else w


def tiled_windows(segments: list[Segment], length: int, max_windows: int, seed: int = 1) -> list[str]:
    """Deterministic evaluation windows: evenly spaced across the segments, forward strand, no N."""
    all_w: list[str] = []
    for seg in segments:
        for off in range(0, seg.length - length + 1, length):
            w = seg.seq[off : off + length]
            if "N" not in w:
                all_w.append(w)
    if len(all_w) <= max_windows:
        return all_w
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(all_w), size=max_windows, replace=False))
    return [all_w[i] for i in idx]
