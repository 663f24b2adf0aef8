"""BRCA1 variants of uncertain significance (VUS) for the simulator, with a hidden true effect from real labels.

The simulator can give patients a germline BRCA1 variant that a clinical report would list as "of uncertain
significance": a real SNV at a real position of BRCA1 (MANE Select NM_007294.4, minus strand, inside the bundled
GRCh38 reference subset) -- missense, synonymous, or intronic near a splice site. Each carries a **hidden true
effect** (loss of function or not) that drives the PARP-inhibitor response exactly like a curated BRCA1/2
loss-of-function variant does (:data:`cohorts.simulate_model.VUS_LOF_EFFECTS`).

The hidden truth is not the product's own score (that would make any evaluation circular): it is the ENIGMA
expert-panel classification of the variant (Pathogenic -> loss of function, Benign -> not), as submitted to
ClinVar (batches of 2015-09-21 and 2016-05-31). The product's variant-effect combination was fitted without any
BRCA1 row (``genomics/dnalm/data/variant_effect_combination.json``: "BRCA1 held out"), so nothing it learned saw
these labels.

The table ``cohorts/data/brca1_vus_enigma.tsv`` is derived (positions, alleles and consequence computed by this
project's code; only the class is taken from ENIGMA) and rebuilt with::

    python -m cohorts.brca_vus ../shared/data/variant_effect

Which variants: BRCA1 SNVs whose ENIGMA class is Pathogenic or Benign, annotated by
:func:`genomics.dnalm.consequence.annotate` as ``missense``, ``synonymous``, ``splice_region``,
``canonical_splice`` or ``intron`` within :data:`MAX_INTRON_DISTANCE` bases of an exon; stop-gain, UTR and deep
intronic variants are left out (a stop-gain is not "uncertain"; the others are not the VUS kinds asked for), and
so are the curated loss-of-function variants the simulator already uses (``germline_brca_variants.tsv``).
BRCA2 is not covered: the product ships no BRCA2 reference sequence or transcript, so a BRCA2 VUS could not be
read or assessed by it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from cohorts.germline_panel import DATA_DIR

__all__ = ["MAX_INTRON_DISTANCE", "VUS_CONSEQUENCES", "VUS_VARIANTS_PATH", "build_vus_table", "load_vus_variants"]

VUS_VARIANTS_PATH = DATA_DIR / "brca1_vus_enigma.tsv"
#: Consequence classes a simulated VUS may have.
VUS_CONSEQUENCES = ("missense", "synonymous", "splice_region", "canonical_splice", "intron")
#: Largest distance (bases) from an exon boundary of an intronic VUS ("near a splice site").
MAX_INTRON_DISTANCE = 50
_COLUMNS = ["gene", "hgvs_c", "chrom", "pos", "ref", "alt", "consequence", "exon_distance", "enigma_class",
            "hidden_lof", "enigma_batch"]


def load_vus_variants(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The simulator's BRCA1 VUS table (default ``cohorts/data/brca1_vus_enigma.tsv``), one row per SNV.

    Columns: ``gene, hgvs_c, chrom, pos, ref, alt`` (GRCh38, forward strand), ``consequence``,
    ``exon_distance``, ``enigma_class`` (Pathogenic / Benign), ``hidden_lof`` (bool: the hidden true effect),
    ``enigma_batch``.
    """
    from genomics.errors import UsageError

    p = Path(path) if path is not None else VUS_VARIANTS_PATH
    try:
        df = pd.read_csv(p, sep="\t", comment="#", dtype={"pos": np.int64})
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot read the BRCA VUS table ({err})", file=str(p), field="vus_variants",
                         fix="restore cohorts/data/brca1_vus_enigma.tsv or rebuild it with "
                             "`python -m cohorts.brca_vus ../shared/data/variant_effect`") from None
    missing = [c for c in _COLUMNS if c not in df.columns]
    if missing or df.empty:
        raise UsageError(f"the BRCA VUS table has no rows or lacks column(s) {', '.join(missing)}", file=str(p),
                         field="vus_variants", fix="rebuild it with `python -m cohorts.brca_vus FOLDER`")
    df["hidden_lof"] = df["hidden_lof"].astype(bool)
    return df


def build_vus_table(folder: str | os.PathLike[str], reference=None) -> pd.DataFrame:
    """Derive the VUS table from an ENIGMA folder laid out like ``../shared/data/variant_effect``.

    Positions: the c. position on NM_007294.3/.4 (same CDS) mapped through the shipped MANE exon table; REF
    checked against ``reference`` (default: the bundled GRCh38 subset); consequence and exon distance from
    :func:`genomics.dnalm.consequence.annotate` (the product's own annotation).
    """
    from cohorts.germline import load_brca_variants
    from genomics.dnalm.consequence import annotate, load_transcripts
    from genomics.dnalm.labelled_sets import _HGVS, _enigma_rows, _genomic_brca1

    if reference is None:
        from genomics.reference import bundled_reference

        reference = bundled_reference()
    tx = load_transcripts()["BRCA1"]
    curated = {(r.chrom, int(r.pos), r.ref, r.alt) for r in load_brca_variants().itertuples()}
    rows, seen = [], set()
    for path in sorted((Path(folder) / "enigma_brca").glob("ENIGMA_variants_batch*.tsv")):
        batch = path.stem.removeprefix("ENIGMA_variants_")
        for gene, hgvs, _aa, sig in _enigma_rows(path):
            cls = {"pathogenic": "Pathogenic", "benign": "Benign"}.get(sig.lower())
            hgvs = hgvs.replace(" ", "")
            m = _HGVS.match(hgvs)
            if gene != "BRCA1" or cls is None or m is None or hgvs in seen:
                continue
            seen.add(hgvs)
            hit = _genomic_brca1(m, tx, reference)
            if hit is None:
                continue
            pos, ref, alt = hit
            c = annotate(tx.chrom, pos, ref, alt, reference)
            if c.consequence not in VUS_CONSEQUENCES or (tx.chrom, pos, ref, alt) in curated:
                continue
            if c.consequence == "intron" and (c.exon_boundary_distance is None
                                              or c.exon_boundary_distance > MAX_INTRON_DISTANCE):
                continue
            rows.append({"gene": "BRCA1", "hgvs_c": hgvs, "chrom": tx.chrom, "pos": pos, "ref": ref, "alt": alt,
                         "consequence": c.consequence, "exon_distance": c.exon_boundary_distance,
                         "enigma_class": cls, "hidden_lof": cls == "Pathogenic", "enigma_batch": batch})
    df = pd.DataFrame(rows, columns=_COLUMNS).sort_values(["chrom", "pos", "alt"], kind="stable")
    return df.reset_index(drop=True)


_HEADER = """\
# BRCA1 germline variants of uncertain significance for the simulator (cohorts/brca_vus.py), with a hidden true effect.
# GRCh38, forward strand, VCF-style SNVs; REF checked against the bundled GRCh38 subset (chr17:42,425,000-43,600,000).
# Positions, alleles, consequence and exon distance were computed by this project's code (MANE Select NM_007294.4 exon
# table, genomics.dnalm.consequence.annotate). Only the class is taken from the source: the ENIGMA expert panel's
# classification as submitted to ClinVar (ENIGMA_variants_batch1_09_21_2015.tsv, batch2_05_31_2016.tsv in
# BRCAChallenge/brca-exchange @ ee595549, pipeline/enigma/raw_files/); ClinVar submissions are public domain.
# hidden_lof = (enigma_class == Pathogenic). Rebuild: python -m cohorts.brca_vus ../shared/data/variant_effect
"""


def main(argv: list[str] | None = None) -> int:
    """``python -m cohorts.brca_vus FOLDER [OUT.tsv]``: rebuild the table (written atomically)."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m cohorts.brca_vus VARIANT_EFFECT_FOLDER [OUT.tsv]", file=sys.stderr)
        return 1
    out = Path(args[1]) if len(args) > 1 else VUS_VARIANTS_PATH
    df = build_vus_table(args[0])
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    tmp.write_text(_HEADER + df.to_csv(sep="\t", index=False))
    os.replace(tmp, out)
    counts = df.groupby(["consequence", "enigma_class"]).size().to_dict()
    print(f"{len(df)} variants -> {out}: {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
