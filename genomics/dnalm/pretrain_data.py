"""Pre-training corpus of the default DNA LM: real human sequence, split into train / held-out.

The corpus is built from a folder laid out like ``../shared/data/sequence`` (see its README):

- ``vg_1mb1kgp_chr20_GRCh37/z.fa``      GRCh37 chr20:1,000,001-2,000,000
- ``hisat2_chr22_20-21M_GRCh37/*.fa``   GRCh37 chr22:20,000,001-21,000,000 (100 kb of N)
- ``brca1_region_GRCh38/chr17_brca1_ext.txt``  GRCh38 chr17:42,425,000-43,600,000, reverse-complemented
- ``vg_GRCh38_HLA/*.fa``                GRCh38 MHC genes plus ALT haplotypes / other assemblies

Rules (written down so the run can be repeated):

- **BRCA1 is excluded**: GRCh38 chr17:43,044,295-43,125,483 plus a 10 kb margin on each side never
  enters training, so scoring BRCA1 variants stays an honest test. It is kept as a separate
  "excluded" evaluation segment.
- **HLA de-duplication**: of each gene file only the GRCh38 primary-assembly record and the CHM1
  assembly record (longer, with flanks) are used; the seven ALT_REF_LOCI haplotypes, the RefSeqGene
  and HuRef records (near-copies of the same sequence) are dropped.
- **Held-out**: the last contiguous 5% of chr20, chr22 and the BRCA1-region chunk, and two whole
  MHC genes (``DRA``, ``TAP2``: all their records), never enter training.
"""

from __future__ import annotations

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

    def by_split(self, split: str) -> list[Segment]:
        return [s for s in self.segments if s.split == split]

    def summary(self) -> dict[str, object]:
        out: dict[str, object] = {}
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
    for line in path.read_text().splitlines():
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


def load_corpus(root: str | Path) -> Corpus:
    """Read the sequence folder and return the split corpus (see the module docstring)."""
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
    return Corpus(segments=segments, inputs=inputs)


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
