"""Labelled variant-effect sets, read from a user-given folder (never bundled in the package).

The folder is laid out like ``../shared/data/variant_effect`` (its README gives sources, commits and
licences): ``vexseq/``, ``mmsplice_cagi/``, ``enigma_brca/``. Every loader returns
:class:`LabelledVariant` rows that carry what the variant-effect parts need:

- a **sequence window** holding the variant (``window``, 0-based ``offset``, ``ref``/``alt`` on the
  window's strand) for the DNA LM, when the set carries sequence or the variant lies in the
  reference at hand; ``None`` otherwise (the LM part is then "not assessed");
- the **consequence** class (:mod:`genomics.dnalm.consequence` names) where it is known;
- the **distance to the nearest exon boundary** (``exon_distance``, bases; ``in_exon``) where known;
- a binary ``label`` (1 = damaging) and, where the set has one, a continuous ``value`` (higher = more
  damaging) for Spearman correlations;
- the ``group`` (gene or exon) used to keep evaluation genes out of fitting, and the ``split``.

Sets and labels (exactly as used by ``benchmarks/eval_variant_effect.py``):

``vexseq``  Vex-seq HepG2 (Adamson et al. 2018), CAGI5 split (``train`` 957 / ``test`` 1,098 variants,
            test truth from ``Vexseq_HepG2_delta_PSI_CAGI_test_true.tsv``). Label: delta PSI <= -10
            (the variant lowers exon inclusion by at least 10 points); value: -delta PSI. Window: the
            assayed construct (reference sequence from ``68_97_final_sequences_fixed.tsv``), group: exon.
``mapsy``   CAGI5 MaPSy test answers (796 exonic variants; 200-base constructs, adapters removed).
            Label: the file's last column (1 = significant allelic splicing skew). Exon boundaries are
            not given in construct coordinates, so only the LM part is assessed.
``enigma``  ENIGMA expert-panel classifications (batches 1-2), Pathogenic = 1, Benign = 0 (other
            classes dropped), HGVS c. substitutions only. BRCA1 (NM_007294.3; same CDS as the MANE
            NM_007294.4) is mapped to GRCh38 and annotated by the product's own consequence code, with
            an LM window when the reference holds it; BRCA2 (no transcript or sequence here) gets its
            consequence from the HGVS and the protein change, intronic distance from the HGVS offset.
``af_chr21`` Allele frequency as a weak label (:func:`load_allele_frequency`): biallelic SNVs of the Ensembl
            VEP test cache in GRCh38 chr21:25-26 Mb (``../shared/data/sequence/grch38_chr21_vep_testdb``),
            rare (1000 Genomes singleton, ALT = minor allele) = 1 vs common (MAF >= 5%) = 0, in 254-base
            windows of the sequence stitched from the same folder's Ensembl DB dump; group: 50 kb block.
            No transcript models of the region here: consequence and splice distance are not assessed.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from genomics.dnalm.pretrain_data import revcomp

__all__ = [
    "AlleleFrequencySet",
    "LabelledVariant",
    "evaluation_sequences",
    "load_allele_frequency",
    "load_enigma",
    "load_mapsy",
    "load_vexseq",
    "stitch_ensembl_dump",
]

VEX_THRESHOLD = -10.0
_ADAPTER = 15


@dataclass(frozen=True)
class LabelledVariant:
    """One labelled variant with the inputs of every variant-effect part (see the module docstring)."""

    dataset: str
    split: str
    group: str
    variant_id: str
    label: int
    value: float | None = None
    window: str | None = None
    offset: int | None = None
    ref: str | None = None
    alt: str | None = None
    consequence: str | None = None
    exon_distance: int | None = None
    in_exon: bool | None = None
    gene: str | None = None


def evaluation_sequences(folder: str | Path) -> list[str]:
    """Genomic sequences of the Vex-seq and MaPSy constructs (to keep them out of LM training).

    Missing files are skipped (a folder without them gives an empty list).
    """
    folder = Path(folder)
    seqs: set[str] = set()
    vex = folder / "vexseq" / "68_97_final_sequences_fixed.tsv"
    if vex.exists():
        with vex.open() as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                s = (row.get("Sequence") or "").strip().upper()
                if len(s) >= 48:
                    seqs.add(s)
    mapsy = folder / "mmsplice_cagi" / "MaPsyCAGI_entire_file_test_set_answers.txt"
    if mapsy.exists():
        for line in mapsy.read_text().splitlines():
            f = line.split("\t")
            if len(f) >= 4:
                for s in f[2:4]:
                    s = s.strip().upper()[_ADAPTER:-_ADAPTER]
                    if len(s) >= 48:
                        seqs.add(s)
    return sorted(seqs)


# ---------------------------------------------------------------------------------------- Vex-seq
def _vex_constructs(folder: Path) -> dict[tuple[str, int], tuple[int, int, str, str]]:
    """(chrom, upstream start) -> (start, end, strand, reference construct sequence)."""
    out = {}
    with (folder / "vexseq" / "68_97_final_sequences_fixed.tsv").open() as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            if r["reference"] == "Control" and r["alternative"] == "Original":
                up, down = int(r["Upstream Int Adj"]), int(r["Down Int Adj"])
                out[(r["chromosome"], up)] = (up, down, r["strand"], r["Sequence"].strip().upper())
    return out


def _exon_distance(pos: int, start: int, end: int) -> tuple[bool, int]:
    """(in exon, distance to the nearest exon boundary: 1 = the exon's edge base or the first intron base)."""
    if start <= pos <= end:
        return True, min(pos - start, end - pos) + 1
    return False, (start - pos) if pos < start else (pos - end)


def load_vexseq(folder: str | Path) -> list[LabelledVariant]:
    """Vex-seq HepG2 SNVs with the CAGI5 train/test split (see the module docstring)."""
    folder = Path(folder)
    cagi = folder / "mmsplice_cagi"
    constructs = _vex_constructs(folder)
    by_chrom: dict[str, list[tuple[int, int, str, str]]] = {}
    for (chrom, _), c in constructs.items():
        by_chrom.setdefault(chrom, []).append(c)
    truth = {}
    with (cagi / "Vexseq_HepG2_delta_PSI_CAGI_test_true.tsv").open() as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            truth[r["ID"]] = r["HepG2_delta_psi"]
    rows: list[LabelledVariant] = []
    for split, name in (("train", "HepG2_delta_PSI_CAGI_training.csv"), ("test", "HepG2_delta_PSI_CAGI_testing.csv")):
        with (cagi / name).open() as fh:
            for r in csv.DictReader(fh):
                ref, alt = r["reference"].upper(), r["variant"].upper()
                if len(ref) != 1 or len(alt) != 1 or ref not in "ACGT" or alt not in "ACGT":
                    continue
                dpsi = r.get("HepG2_delta_psi") or truth.get(r["ID"])
                try:
                    dpsi_f = float(dpsi)
                except (TypeError, ValueError):
                    continue
                chrom, pos = r["seqnames"], int(r["hg19_variant_position"])
                ex_s, ex_e = int(r["start"]), int(r["end"])
                con = next((c for c in by_chrom.get(chrom, []) if c[0] <= pos <= c[1] and c[0] <= ex_s), None)
                window = offset = w_ref = w_alt = None
                if con is not None:
                    up, down, c_strand, seq = con
                    if c_strand == "+":
                        off, wr, wa = pos - up, ref, alt
                    else:
                        off, wr, wa = down - pos, revcomp(ref), revcomp(alt)
                    if 0 <= off < len(seq) and seq[off] == wr:
                        window, offset, w_ref, w_alt = seq, off, wr, wa
                in_exon, dist = _exon_distance(pos, ex_s, ex_e)
                rows.append(LabelledVariant(
                    dataset="vexseq", split=split, group=f"{chrom}:{ex_s}-{ex_e}", variant_id=r["ID"],
                    label=int(dpsi_f <= VEX_THRESHOLD), value=-dpsi_f, window=window, offset=offset, ref=w_ref,
                    alt=w_alt, consequence=None, exon_distance=dist, in_exon=in_exon, gene=None,
                ))
    return rows


# ---------------------------------------------------------------------------------------- MaPSy
def load_mapsy(folder: str | Path) -> list[LabelledVariant]:
    """CAGI5 MaPSy test answers: single-base differences between wild-type and mutant constructs."""
    path = Path(folder) / "mmsplice_cagi" / "MaPsyCAGI_entire_file_test_set_answers.txt"
    rows = []
    for line in path.read_text().splitlines():
        f = line.rstrip("\n").split("\t")
        if len(f) < 17 or f[16].strip() not in {"0", "1"}:
            continue
        w_first = f[0].endswith("W")
        wt, mt = (f[2], f[3]) if w_first else (f[3], f[2])
        wt, mt = wt.upper()[_ADAPTER:-_ADAPTER], mt.upper()[_ADAPTER:-_ADAPTER]
        diff = [k for k in range(min(len(wt), len(mt))) if wt[k] != mt[k]]
        if len(wt) != len(mt) or len(diff) != 1:
            continue
        k = diff[0]
        mut_id = f[0] if not w_first else f[1]
        rows.append(LabelledVariant(
            dataset="mapsy", split="test", group=f[4].split(":")[0] + ":" + f[4].split(":")[1], variant_id=mut_id,
            label=int(f[16].strip()), value=None, window=wt, offset=k, ref=wt[k], alt=mt[k],
        ))
    return rows


# ---------------------------------------------------------------------------------------- ENIGMA
_HGVS = re.compile(r"^c\.(?P<utr>[-*]?)(?P<pos>\d+)(?:(?P<sign>[+-])(?P<off>\d+))?(?P<ref>[ACGT])>(?P<alt>[ACGT])$")
_AA = re.compile(r"^(?P<ref>[A-Z*])(?P<pos>\d+)(?P<alt>[A-Z*=]|X|Ter)$")
_COMP = {"A": "T", "C": "G", "G": "C", "T": "A"}


def _enigma_rows(path: Path):
    lines = path.read_text(errors="replace").splitlines()
    header_i = next(i for i, ln in enumerate(lines) if ln.startswith("##Local ID"))
    header = lines[header_i].lstrip("#").split("\t")
    col = {name.strip(): i for i, name in enumerate(header)}
    for ln in lines[header_i + 1 :]:
        f = ln.split("\t")
        if len(f) < len(header) // 2:
            continue

        def get(name, f=f):
            i = col.get(name)
            return f[i].strip() if i is not None and i < len(f) else ""

        yield get("Gene symbol"), get("HGVS"), get("Abbrev AA change"), get("Clinical significance")


def _genomic_brca1(m, tx, reference):
    """GRCh38 (pos, ref, alt) of a BRCA1 c. substitution, or ``None`` (minus-strand transcript)."""
    exon_pos: list[int] = []
    for s, e in tx.exons:  # transcript order
        exon_pos.extend(range(e, s - 1, -1) if tx.strand == "-" else range(s, e + 1))
    cds = tx.cds_positions()
    first, last = exon_pos.index(cds[0]), exon_pos.index(cds[-1])
    n = int(m["pos"])
    idx = first - n if m["utr"] == "-" else (last + n if m["utr"] == "*" else first + n - 1)
    if not 0 <= idx < len(exon_pos):
        return None
    g = exon_pos[idx]
    if m["sign"]:
        off = int(m["off"]) * (1 if m["sign"] == "+" else -1)
        g = g - off if tx.strand == "-" else g + off
    ref, alt = (_COMP[m["ref"]], _COMP[m["alt"]]) if tx.strand == "-" else (m["ref"], m["alt"])
    try:
        have = reference.fetch(tx.chrom, g, g).upper()
    except Exception:  # noqa: BLE001 - outside the reference at hand
        return None
    return (g, ref, alt) if have == ref else None


def _hgvs_consequence(m, aa: str) -> tuple[str | None, bool | None, int | None]:
    """Consequence, in_exon and exon distance from the HGVS alone (BRCA2: no transcript here)."""
    if m["sign"]:
        off = int(m["off"])
        cls = "canonical_splice" if off <= 2 else ("splice_region" if off <= 8 else "intron")
        return cls, False, off
    if m["utr"]:
        return "utr", True, None
    a = _AA.match(aa.replace("p.", "").strip())
    if a is None:
        return None, True, None
    alt = a["alt"]
    if alt in {"*", "X", "Ter"}:
        cls = "stop_gained"
    elif alt == "=" or alt == a["ref"]:
        cls = "synonymous"
    elif a["pos"] == "1" and a["ref"] == "M":
        cls = "start_lost"
    else:
        cls = "missense"
    return cls, True, None


def load_enigma(folder: str | Path, reference=None, window: int = 254) -> list[LabelledVariant]:
    """ENIGMA BRCA1/BRCA2 substitutions, Pathogenic (1) vs Benign (0), batches 1 and 2 (duplicates once).

    ``reference``: GRCh38 reference for BRCA1 windows (default: the bundled subset).
    """
    from genomics.dnalm.consequence import annotate, load_transcripts

    if reference is None:
        from genomics.reference import bundled_reference

        reference = bundled_reference()
    tx = load_transcripts().get("BRCA1")
    seen: set[tuple[str, str]] = set()
    rows: list[LabelledVariant] = []
    for path in sorted((Path(folder) / "enigma_brca").glob("ENIGMA_variants_batch*.tsv")):
        for gene, hgvs, aa, sig in _enigma_rows(path):
            label = {"pathogenic": 1, "benign": 0}.get(sig.lower())
            m = _HGVS.match(hgvs.replace(" ", ""))
            if label is None or m is None or gene not in {"BRCA1", "BRCA2"} or (gene, hgvs) in seen:
                continue
            seen.add((gene, hgvs))
            vid = f"{gene}:{hgvs}"
            if gene == "BRCA1" and tx is not None:
                hit = _genomic_brca1(m, tx, reference)
                if hit is None:
                    continue
                g, ref, alt = hit
                c = annotate(tx.chrom, g, ref, alt, reference)
                start = g - (window - 1) // 2
                win = off = None
                try:
                    if reference.contains(tx.chrom, start, start + window - 1):
                        win, off = reference.fetch(tx.chrom, start, start + window - 1).upper(), g - start
                except Exception:  # noqa: BLE001
                    win = None
                rows.append(LabelledVariant(
                    dataset="enigma", split="test", group=gene, variant_id=vid, label=label,
                    window=win, offset=off, ref=ref if win else None, alt=alt if win else None,
                    consequence=c.consequence, exon_distance=c.exon_boundary_distance, in_exon=c.in_exon, gene=gene,
                ))
            else:
                cls, in_exon, dist = _hgvs_consequence(m, aa)
                if cls is None:
                    continue
                rows.append(LabelledVariant(
                    dataset="enigma", split="test", group=gene, variant_id=vid, label=label, consequence=cls,
                    exon_distance=dist, in_exon=in_exon, gene=gene,
                ))
    return rows


# ---------------------------------------------------------------------------------------- allele frequency (weak label)
#: The VEP cache file of ``../shared/data/sequence/grch38_chr21_vep_testdb`` (Ensembl VEP test data, Apache-2.0).
AF_CACHE_FILE = "cache_84_GRCh38_chr21_25000001-26000000_var.gz"
#: Leading columns of a VEP 84 ``*_var.gz`` cache line (space-separated, empty = missing; the rest are the
#: 1000 Genomes super-population, ESP, gnomAD exome frequencies, synonyms and AF, which are not used).
AF_CACHE_COLUMNS = ("variation_name", "failed", "somatic", "start", "end", "allele_string", "strand",
                    "minor_allele", "minor_allele_freq")
AF_COMMON_MIN = 0.05  #: common: 1000 Genomes phase 3 global minor-allele frequency >= 5%
AF_RARE_MAX = 0.0002  #: rare: a 1000 Genomes phase 3 singleton (1 of 5,008 alleles; the file rounds to 0.0002)
AF_MAX_REF_MISMATCH = 0.01  #: refuse the set when more SNVs than this disagree with the stitched reference
AF_BLOCK = 50_000  #: genomic block (bases) that groups variants for cross-validation
_AF_FIX = ("copy the folder unmodified from Ensembl/ensembl-vep (t/test-genome-DBs/homo_vepiens/core/ and "
           "t/testdata/cache/homo_sapiens/84_GRCh38/21/; see ../shared/data/sequence/README.md)")


@dataclass(frozen=True)
class AlleleFrequencySet:
    """The allele-frequency weak-label set: rows plus every count needed to report how it was built.

    ``rows``: :class:`LabelledVariant` with ``label`` 1 = rare (singleton), 0 = common, no ``value`` (two
    classes only: AUROC, no Spearman), ``group`` the 50 kb genomic block, ``split`` ``"cv"`` (the benchmark
    scores it by cross-validation grouped by block), ordered by position.
    ``counts``: SNVs read, placed on the stitched reference, REF mismatches, eligible per class, excluded
    because the window leaves the stitched sequence or holds N, and sampled per class.
    ``blocks``: the stitched reference as ``(first 1-based position, sequence)`` on chromosome ``chrom``.
    ``alt_is_minor``: per row, whether the ALT allele is the 1000 Genomes minor allele (always true for rare
    rows; for a common row false means the reference genome carries the minor allele).
    """

    rows: list[LabelledVariant]
    counts: dict[str, int]
    ref_mismatch_rate: float
    chrom: str
    blocks: list[tuple[int, str]]
    definition: str
    alt_is_minor: tuple[bool, ...] = ()


def _dump_lines(path: Path) -> list[list[str]]:
    from genomics.errors import InputFileError

    if not path.is_file():
        raise InputFileError("file not found (part of the Ensembl core-database dump)", file=path, fix=_AF_FIX)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read: {exc}", file=path, fix=_AF_FIX) from None
    return [ln.split("\t") for ln in text.splitlines() if ln.strip()]


def _dump_int(value: str, path: Path, line: int, field: str) -> int:
    from genomics.errors import InputFileError

    try:
        return int(value)
    except ValueError:
        raise InputFileError(f"not an integer: {value[:40]!r}", file=path, record=f"line {line}", field=field,
                             fix=_AF_FIX) from None


def stitch_ensembl_dump(folder: str | Path, chrom: str = "21", build: str = "GRCh38") -> list[tuple[int, str]]:
    """Contiguous blocks ``(first 1-based position, sequence)`` of chromosome ``chrom`` from an Ensembl core dump.

    Reads ``coord_system.txt`` (the ``chromosome`` system of ``build``), ``seq_region.txt`` (the chromosome's
    region id), ``dna.txt`` (contig sequences) and ``assembly.txt`` (contig placements; ``ori == -1`` is
    reverse-complemented). Placements whose contig has no sequence in ``dna.txt`` are gaps. Pieces that
    touch merge into one block; overlapping pieces must agree base for base. Every malformed or
    inconsistent line is an :class:`~genomics.errors.InputFileError` naming the file and line.
    """
    from genomics.errors import InputFileError

    folder = Path(folder)
    cs_path, sr_path, dna_path, asm_path = (folder / n for n in ("coord_system.txt", "seq_region.txt", "dna.txt",
                                                                   "assembly.txt"))
    cs_ids = {f[0] for f in _dump_lines(cs_path) if len(f) >= 4 and f[2] == "chromosome" and f[3] == build}
    if not cs_ids:
        raise InputFileError(f"no 'chromosome' coordinate system of {build}", file=cs_path, fix=_AF_FIX)
    chrom_ids = {f[0] for f in _dump_lines(sr_path) if len(f) >= 3 and f[1] == chrom and f[2] in cs_ids}
    if not chrom_ids:
        raise InputFileError(f"no seq_region for chromosome {chrom} ({build})", file=sr_path, fix=_AF_FIX)
    dna: dict[str, str] = {}
    for n, f in enumerate(_dump_lines(dna_path), 1):
        seq = f[1].strip().upper() if len(f) >= 2 else ""
        if not seq or set(seq) - set("ACGTN"):
            raise InputFileError("expected '<seq_region_id> TAB <sequence of A/C/G/T/N>'", file=dna_path,
                                 record=f"line {n}", field="sequence", fix=_AF_FIX)
        dna[f[0]] = seq
    pieces: list[tuple[int, str]] = []
    for n, f in enumerate(_dump_lines(asm_path), 1):
        if len(f) < 7:
            raise InputFileError(f"{len(f)} columns, expected 7", file=asm_path, record=f"line {n}", fix=_AF_FIX)
        if f[0] not in chrom_ids or f[1] not in dna:
            continue
        s, e, cs, ce, ori = (_dump_int(x, asm_path, n, name) for x, name in
                             zip(f[2:7], ("asm_start", "asm_end", "cmp_start", "cmp_end", "ori"), strict=True))
        contig = dna[f[1]]
        if ori not in (1, -1) or e - s != ce - cs or not 1 <= cs <= ce <= len(contig) or s < 1:
            raise InputFileError(
                f"placement {s}-{e} <- contig {f[1]}:{cs}-{ce} (ori {ori}) does not fit its {len(contig)}-base "
                "sequence in dna.txt", file=asm_path, record=f"line {n}", fix=_AF_FIX)
        seq = contig[cs - 1 : ce]
        pieces.append((s, revcomp(seq) if ori == -1 else seq))
    pieces.sort()
    blocks: list[tuple[int, str]] = []
    for s, seq in pieces:
        if blocks and s <= blocks[-1][0] + len(blocks[-1][1]):
            b0, bseq = blocks[-1]
            over = bseq[s - b0 :]
            if seq[: len(over)] != over[: len(seq)]:
                raise InputFileError(f"overlapping contig placements disagree at chromosome {chrom}:{s}",
                                     file=asm_path, fix=_AF_FIX)
            if len(seq) > len(over):
                blocks[-1] = (b0, bseq + seq[len(over) :])
        else:
            blocks.append((s, seq))
    if not blocks:
        raise InputFileError(f"no contig with sequence is placed on chromosome {chrom}", file=asm_path, fix=_AF_FIX)
    return blocks


def _af_cache_snvs(path: Path):
    """Yield ``(line number, id, position, ref, alt, minor allele, MAF or None)`` for biallelic SNVs of the cache."""
    import gzip
    import zlib

    from genomics.errors import InputFileError

    if not path.is_file():
        raise InputFileError("VEP variant cache not found", file=path, fix=_AF_FIX)
    try:
        with gzip.open(path, "rt") as fh:
            lines = fh.read().splitlines()
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise InputFileError(f"not a complete gzip file ({type(exc).__name__}: {exc})", file=path,
                             fix=_AF_FIX) from None
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split("\t") if "\t" in line else line.split(" ")
        f += [""] * (len(AF_CACHE_COLUMNS) - len(f))
        name, failed, somatic, start, end, alleles, strand, minor, maf = f[: len(AF_CACHE_COLUMNS)]
        if somatic == "1" or failed not in ("", "0"):
            continue
        pos = _dump_int(start, path, n, "start")
        al = alleles.split("/")
        if (end and end != start) or len(al) != 2 or not all(len(x) == 1 and x in "ACGT" for x in al):
            continue
        if strand not in ("", "1"):
            continue  # never seen in the 84 cache; a minus-strand allele string is not on the reference
        freq = None
        if maf:
            try:
                freq = float(maf)
            except ValueError:
                freq = -1.0
            if not 0.0 <= freq <= 0.5:
                raise InputFileError(f"minor allele frequency {maf!r} is not a number in [0, 0.5]", file=path,
                                     record=f"line {n}", field="minor_allele_freq", fix=_AF_FIX)
        yield n, name, pos, al[0], al[1], minor, freq


def load_allele_frequency(folder: str | Path, n_per_class: int = 1500, seed: int = 0, window: int = 254,
                          common_min: float = AF_COMMON_MIN, rare_max: float = AF_RARE_MAX,
                          max_ref_mismatch: float = AF_MAX_REF_MISMATCH, cache_file: str | None = None,
                          chrom: str = "21") -> AlleleFrequencySet:
    """Rare vs common SNVs of the Ensembl VEP chr21 test cache, in reference windows stitched from its DB dump.

    Label (fixed before any scoring): **rare = 1** when the 1000 Genomes phase 3 global minor-allele
    frequency is ``<= rare_max`` (a singleton) *and* the minor allele is the SNV's alternate allele;
    **common = 0** when that frequency is ``>= common_min`` (either allele may be the minor one). SNVs
    without a frequency, in between, somatic (COSMIC) or flagged as failed are not used; only biallelic
    SNVs are. Every SNV of the cache that lies on the stitched reference is checked against it: a REF
    that disagrees drops the SNV, and more than ``max_ref_mismatch`` of them refuses the whole set
    (:class:`~genomics.errors.ReferenceSequenceError`). A variant whose ``window``-base window
    (``offset = (window - 1) // 2``) leaves the stitched sequence or holds an N is excluded. Then
    ``n_per_class`` of each class are drawn with ``numpy.random.default_rng(seed)`` (fewer if the rarer
    class is smaller; both classes get the same number). ``cache_file``: the cache inside ``folder``
    (default: its only ``*_var.gz`` file, :data:`AF_CACHE_FILE` in the shared folder).
    """
    import numpy as np

    from genomics.errors import InputFileError, ReferenceSequenceError, UsageError

    if not 0 < rare_max < common_min <= 0.5:
        raise UsageError(f"rare_max ({rare_max}) must be below common_min ({common_min})",
                         fix="use e.g. rare_max=0.0002, common_min=0.05")
    folder = Path(folder)
    if cache_file is None:
        found = sorted(p.name for p in folder.glob("*_var.gz")) if folder.is_dir() else []
        if len(found) != 1:
            raise InputFileError(f"expected one VEP variant cache '*_var.gz', found {len(found)}", file=folder,
                                 fix=f"give cache_file=NAME or {_AF_FIX}")
        cache_file = found[0]
    blocks = stitch_ensembl_dump(folder, chrom=chrom)
    starts = [s for s, _ in blocks]
    off = (window - 1) // 2
    counts = {"snvs_read": 0, "on_reference": 0, "ref_mismatch": 0, "with_maf": 0, "common_eligible": 0,
              "rare_eligible": 0, "window_outside_or_n": 0}
    pools: dict[int, list[LabelledVariant]] = {0: [], 1: []}
    minor_alt: dict[str, bool] = {}
    import bisect

    for _, name, pos, ref, alt, minor, maf in _af_cache_snvs(folder / cache_file):
        counts["snvs_read"] += 1
        k = bisect.bisect_right(starts, pos) - 1
        if k < 0 or pos >= starts[k] + len(blocks[k][1]):
            continue
        b0, bseq = blocks[k]
        counts["on_reference"] += 1
        if bseq[pos - b0] != ref:
            counts["ref_mismatch"] += 1
            continue
        if maf is None:
            continue
        counts["with_maf"] += 1
        if maf >= common_min:
            label = 0
        elif 0 < maf <= rare_max and minor == alt:
            label = 1
        else:
            continue
        counts["common_eligible" if label == 0 else "rare_eligible"] += 1
        lo = pos - off - b0
        win = bseq[lo : lo + window] if lo >= 0 else ""
        if len(win) != window or "N" in win:
            counts["window_outside_or_n"] += 1
            continue
        minor_alt[f"{name}:chr{chrom}:{pos}:{ref}>{alt}"] = minor == alt
        pools[label].append(LabelledVariant(
            dataset="af_chr21", split="cv", group=f"chr{chrom}:{(pos - 1) // AF_BLOCK * AF_BLOCK + 1}",
            variant_id=f"{name}:chr{chrom}:{pos}:{ref}>{alt}", label=label, value=None, window=win, offset=off,
            ref=ref, alt=alt,
        ))
    checked = counts["on_reference"]
    rate = counts["ref_mismatch"] / checked if checked else 1.0
    if not checked or rate > max_ref_mismatch:
        raise ReferenceSequenceError(
            f"{counts['ref_mismatch']} of {checked} SNVs disagree with the sequence stitched from the DB dump "
            f"(limit {max_ref_mismatch:.1%}): the cache and the dump are not the same build/region",
            file=folder / cache_file, field="allele_string", fix=_AF_FIX)
    n = min(n_per_class, len(pools[0]), len(pools[1]))
    if n == 0:
        raise InputFileError(
            f"no usable {'rare' if not pools[1] else 'common'} SNV (rare: MAF <= {rare_max}, common: MAF >= "
            f"{common_min}, {window}-base window on the stitched sequence)", file=folder / cache_file,
            field="minor_allele_freq", fix=_AF_FIX)
    rng = np.random.default_rng(seed)
    rows: list[LabelledVariant] = []
    for label in (1, 0):
        pick = sorted(rng.choice(len(pools[label]), size=n, replace=False).tolist())
        rows += [pools[label][i] for i in pick]
    rows.sort(key=lambda r: int(r.variant_id.split(":")[2]))
    counts["sampled_rare"] = counts["sampled_common"] = n
    definition = (f"rare (1) = 1000 Genomes phase 3 global MAF <= {rare_max} with minor allele = ALT; "
                  f"common (0) = MAF >= {common_min}; biallelic SNVs, {window}-base windows without N; "
                  f"{n} + {n} drawn with seed {seed}")
    return AlleleFrequencySet(rows=rows, counts=counts, ref_mismatch_rate=rate, chrom=chrom, blocks=blocks,
                              definition=definition, alt_is_minor=tuple(minor_alt[r.variant_id] for r in rows))
