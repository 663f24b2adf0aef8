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
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from genomics.dnalm.pretrain_data import revcomp

__all__ = ["LabelledVariant", "evaluation_sequences", "load_enigma", "load_mapsy", "load_vexseq"]

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
