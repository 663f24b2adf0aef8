"""Rebuild the VCF package's derived data from ../shared/data (developers only).

``python -m genomics.vcf.make_demo --shared ../shared/data`` writes

* ``genomics/vcf/data/known_positions.tsv``: pharmacogene SNVs with GRCh37 and GRCh38 positions
  and REF alleles (from PyPGx's ``variant-table.csv``, MIT), used for genome-build detection;
* ``genomics/data/demo/demo_pgx_panel.vcf.gz`` (+ ``.tbi``): 8 real 1000 Genomes samples over
  the 19 pharmacogene VCFs, merged and sorted, GRCh38 ``##contig`` lengths, with explicit
  ``0|0`` calls at every PharmCAT position that 1000 Genomes does not list, plus DPYD at every
  PharmCAT DPYD position from the GRCh37 phase-3 file moved to GRCh38 (:func:`_dpyd_records`; see
  ``genomics/data/demo/PROVENANCE.md``).

The run is deterministic: the same inputs give byte-identical outputs.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parents[1]
DEMO_DIR = REPO_ROOT / "genomics" / "data" / "demo"
DEMO_NAME = "demo_pgx_panel.vcf.gz"

#: Demo samples: 8 people of the 5 super-populations (1000 Genomes codes in brackets).
DEMO_SAMPLES = (
    ("HG00096", "GBR", "EUR"),
    ("HG00171", "FIN", "EUR"),
    ("NA18486", "YRI", "AFR"),
    ("NA19625", "ASW", "AFR"),
    ("HG00403", "CHS", "EAS"),
    ("NA18942", "JPT", "EAS"),
    ("HG00553", "PUR", "AMR"),
    ("NA20845", "GIH", "SAS"),
)
GENES = ("ABCG2", "CACNA1S", "CFTR", "CYP2B6", "CYP2C19", "CYP2C9", "CYP2D6", "CYP3A4", "CYP3A5", "CYP4F2",
         "G6PD", "IFNL3", "NAT2", "NUDT15", "RYR1", "SLCO1B1", "TPMT", "UGT1A1", "VKORC1")
PYPGX_COMMIT = "fa6b9f70747bdf1b6566adc5c21bb17276ae9f52"
BUNDLE_COMMIT = "919279ac733d4391e3a7c0f96ee0ed5e74c3297f"
PHARMCAT_COMMIT = "5431bf1187e50383df7e7db18ef67b36fc8b562e"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- known positions --------------------------------------------------------------------------
def make_known_positions(shared: Path, out: Path = PACKAGE_DIR / "data" / "known_positions.tsv") -> Path:
    src = shared / "pgx" / "pypgx" / "master-fa6b9f7" / "api" / "data" / "variant-table.csv"
    rows = []
    seen = set()
    acgt = set("ACGT")
    with open(src, newline="") as handle:
        for r in csv.DictReader(handle):
            chrom = r["Chromosome"]
            if chrom in ("M", "MT"):
                continue  # same coordinates in both builds: no evidence
            a37, a38, alt = r["GRCh37Allele"], r["GRCh38Allele"], r["Variant"]
            if not (a37 in acgt and a38 in acgt and alt in acgt):
                continue
            p37, p38 = int(r["GRCh37Position"]), int(r["GRCh38Position"])
            key = (chrom, p38)
            if key in seen or p37 == p38:
                continue
            seen.add(key)
            rows.append((r["Gene"], r["rsID"], f"chr{chrom}", p37, a37, p38, a38, alt))
    rows.sort(key=lambda x: (x[2], x[5]))
    buf = io.StringIO()
    buf.write(f"# Derived from sbslee/pypgx@{PYPGX_COMMIT} api/data/variant-table.csv (MIT, LICENSE_pypgx.txt):\n")
    buf.write("# single-base variants with both GRCh37 and GRCh38 coordinates; chrM left out. See PROVENANCE.md.\n")
    buf.write("gene\trsid\tchrom\tgrch37_pos\tgrch37_ref\tgrch38_pos\tgrch38_ref\talt\n")
    for row in rows:
        buf.write("\t".join(str(x) for x in row) + "\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(buf.getvalue())
    shutil.copyfile(shared / "pgx" / "pypgx" / "master-fa6b9f7" / "LICENSE", out.parent / "LICENSE_pypgx.txt")
    return out


# -- demo VCF ----------------------------------------------------------------------------------
_CONTIG_ORDER = {f"chr{c}": i for i, c in enumerate([*map(str, range(1, 23)), "X", "Y"])}


def _pharmcat_positions(shared: Path) -> list[tuple[str, int, str, str, str, str]]:
    """(chrom, pos, id, ref, alt, gene) of every PharmCAT defining position (GRCh38)."""
    src = shared / "pgx" / "pharmcat" / "main-5431bf1" / "repo-root" / "pharmcat_positions.vcf"
    out = []
    for line in src.read_text().splitlines():
        if line.startswith("#"):
            continue
        f = line.split("\t")
        info = dict(kv.split("=", 1) for kv in f[7].split(";") if "=" in kv)
        out.append((f[0], int(f[1]), f[2], f[3], f[4], info.get("PX", "")))
    return out


#: GRCh37 minus GRCh38 position over the DPYD region (chr1 ~97.07-97.92 Mb on GRCh38): the same for every
#: DPYD row of PyPGx's variant table (checked by :func:`_dpyd_offset`, which fails otherwise).
DPYD_GRCH37_OFFSET = 465556


def _dpyd_offset(shared: Path) -> int:
    """The GRCh37 - GRCh38 offset of DPYD, checked to be constant over PyPGx's DPYD rows (MIT table).

    The simulator (``cohorts.germline_panel``) maps DPYD row by row with the same table; the demo needs
    every PharmCAT DPYD position, some of which the table does not list, so it uses the offset after
    checking that the table agrees with it everywhere (genomics cannot import cohorts).
    """
    src = shared / "pgx" / "pypgx" / "master-fa6b9f7" / "api" / "data" / "variant-table.csv"
    offsets = set()
    with open(src, newline="") as handle:
        for r in csv.DictReader(handle):
            if r["Gene"] == "DPYD":
                offsets.add(int(r["GRCh37Position"]) - int(r["GRCh38Position"]))
    if offsets != {DPYD_GRCH37_OFFSET}:
        raise RuntimeError(f"DPYD GRCh37-GRCh38 offsets in the PyPGx table are {sorted(offsets)}, not "
                           f"{DPYD_GRCH37_OFFSET}: map DPYD row by row instead")
    return DPYD_GRCH37_OFFSET


def _dpyd_records(shared: Path, sample_order: list[str],
                  pharmcat: list[tuple[str, int, str, str, str, str]]) -> tuple[list[tuple[int, int, str]], int, int]:
    """DPYD records at every PharmCAT DPYD position, from the GRCh37 1000 Genomes phase-3 file.

    Returns ``(records, taken from 1000 Genomes, filled)``. For each PharmCAT DPYD position (GRCh38), the
    GRCh37 record at ``pos + offset`` is taken when its REF equals the GRCh38 REF and one of its ALTs is a
    PharmCAT ALT (other ALTs of a multi-allelic record are written as REF); where the reference base differs
    between the builds (rs1801265, DPYD*9A: GRCh37 REF G, GRCh38 REF A) the GRCh37 ALT must be the GRCh38
    REF and the allele indices are swapped. No record there = homozygous reference in phase 3: an explicit
    ``0|0`` with ``INFO/FILLED``. Every DPYD record carries ``INFO/FROM_GRCH37``.
    """
    from cyvcf2 import VCF

    offset = _dpyd_offset(shared)
    src = shared / "population" / "1kgp_GRCh37" / "DPYD.vcf.gz"
    vcf = VCF(str(src), samples=sample_order)
    index = [list(vcf.samples).index(s) for s in sample_order]
    out: list[tuple[int, int, str]] = []
    taken = filled = 0
    for chrom, pos, vid, ref, alt, gene in pharmcat:
        if gene != "DPYD":
            continue
        alts = alt.split(",")
        p37 = pos + offset
        recs = [r for r in vcf(f"1:{p37}-{p37}") if r.POS == p37]
        line = None
        for r in recs:
            gts = r.genotypes
            if r.REF == ref and set(r.ALT) & set(alts):
                keep = next(a for a in r.ALT if a in alts)
                k = r.ALT.index(keep) + 1
                calls = [tuple(1 if x == k else 0 for x in gts[i][:2]) + (gts[i][2],) for i in index]
                new_alt = keep
            elif ref in r.ALT and r.REF in alts and len(r.ALT) == 1:  # reference base differs between builds
                calls = [tuple(1 - x for x in gts[i][:2]) + (gts[i][2],) for i in index]
                new_alt = r.REF
            else:
                continue
            text = [f"{a}{'|' if ph else '/'}{b}" for a, b, ph in calls]
            line = "	".join([chrom, str(pos), vid, ref, new_alt, ".", "PASS", "GENE=DPYD;FROM_GRCH37", "GT", *text])
            taken += 1
            break
        if line is None:
            if recs:
                raise RuntimeError(f"DPYD {vid}: GRCh37 record(s) at {p37} do not match the PharmCAT alleles")
            line = "	".join([chrom, str(pos), vid, ref, alt, ".", "PASS", "GENE=DPYD;FILLED;FROM_GRCH37", "GT",
                              *["0|0"] * len(sample_order)])
            filled += 1
        out.append((_CONTIG_ORDER[chrom], pos, line))
    vcf.close()
    return out, taken, filled


def _gt_text(row, haploid_mask) -> list[str]:
    out = []
    for a, b, phased in row:
        if b == -2:
            out.append("." if a < 0 else str(a))
        else:
            sep = "|" if phased else "/"
            out.append(f"{'.' if a < 0 else a}{sep}{'.' if b < 0 else b}")
    return out


def make_demo(shared: Path, out_dir: Path = DEMO_DIR) -> Path:
    """Write the demo VCF (see the module docstring) and its PROVENANCE.md; returns the VCF path."""
    import numpy as np
    import pysam
    from cyvcf2 import VCF

    from genomics.vcf.build import GRCH38_LENGTHS

    pop_dir = shared / "population" / "1kgp_GRCh38"
    wanted = [s for s, _, _ in DEMO_SAMPLES]
    records: list[tuple[int, int, str]] = []
    covered: dict[str, tuple[str, int, int]] = {}
    present: set[tuple[str, int]] = set()
    male: dict[str, bool] = {}
    sample_order: list[str] | None = None
    kept_1kg = 0
    pharmcat = _pharmcat_positions(shared)
    pharmcat_keys = {(c, p) for c, p, *_ in pharmcat}
    for gene in GENES:
        vcf = VCF(str(pop_dir / f"{gene}.vcf.gz"), samples=wanted)
        if sample_order is None:
            sample_order = list(vcf.samples)
        elif sample_order != list(vcf.samples):
            raise RuntimeError(f"sample order differs in {gene}")
        first = last = None
        chrom = None
        for v in vcf:
            chrom = v.CHROM
            first = v.POS if first is None else first
            last = v.POS
            present.add((chrom, v.POS))
            arr = v.genotype.array()
            if arr.shape[1] == 2:  # all haploid
                arr = np.column_stack([arr[:, 0], np.full(len(arr), -2, dtype=arr.dtype), np.ones(len(arr), arr.dtype)])
            if chrom == "chrX":
                for s, row in zip(sample_order, arr):
                    male[s] = male.get(s, False) or bool(row[1] == -2)
            carries = bool(((arr[:, :2] > 0)).any())
            if not carries and (chrom, v.POS) not in pharmcat_keys:
                continue  # homozygous reference in all 8 demo samples and not a PharmCAT position
            kept_1kg += 1
            gts = _gt_text(arr.tolist(), None)
            alt = ",".join(v.ALT) or "."
            vid = v.ID or "."
            line = "\t".join([chrom, str(v.POS), vid, v.REF, alt, ".", "PASS", f"GENE={gene}", "GT", *gts])
            records.append((_CONTIG_ORDER[chrom], v.POS, line))
        vcf.close()
        covered[gene] = (chrom, first, last)
    assert sample_order is not None
    filled: dict[str, int] = {}
    not_filled: dict[str, list[str]] = {}
    for chrom, pos, vid, ref, alt, gene in pharmcat:
        span = covered.get(gene)
        if not gene:
            # one PharmCAT "position of interest" without gene (rs12777823, chr10): inside CYP2C19's file?
            span = next((sp for sp in covered.values() if sp[0] == chrom and sp[1] <= pos <= sp[2]), None)
        if span is None or span[0] != chrom or not (span[1] <= pos <= span[2]):
            not_filled.setdefault(gene or "none (PharmCAT position of interest)", []).append(f"{chrom}:{pos} {vid}")
            continue
        if (chrom, pos) in present:
            continue
        gts = [("0" if male.get(s) else "0|0") if chrom == "chrX" else "0|0" for s in sample_order]
        info = f"GENE={gene or 'none'};FILLED"
        line = "\t".join([chrom, str(pos), vid, ref, alt, ".", "PASS", info, "GT", *gts])
        records.append((_CONTIG_ORDER[chrom], pos, line))
        filled[gene or "none"] = filled.get(gene or "none", 0) + 1
    dpyd, dpyd_taken, dpyd_filled = _dpyd_records(shared, sample_order, pharmcat)
    records.extend(dpyd)
    kept_1kg += dpyd_taken
    if dpyd_filled:
        filled["DPYD"] = dpyd_filled
    not_filled.pop("DPYD", None)
    records.sort(key=lambda r: (r[0], r[1]))
    contigs = sorted({line.split("\t", 1)[0] for _, _, line in records}, key=_CONTIG_ORDER.get)
    header = [
        "##fileformat=VCFv4.2",
        "##source=genomics.vcf.make_demo (genomics-treatment-recommender)",
        "##reference=GRCh38",
        (
            f"##demo_source=1000 Genomes Project NYGC 30x phased genotypes via sbslee/pypgx-bundle@{BUNDLE_COMMIT} "
            "1kgp/GRCh38/<GENE>.vcf.gz (1000 Genomes: open access; pypgx-bundle: MIT)"
        ),
        f"##demo_samples={','.join(f'{s}:{p}:{sp}' for s, p, sp in DEMO_SAMPLES)}",
        "##demo_filter=records kept where any demo sample carries a non-reference allele, or at a PharmCAT position",
        (
            f"##demo_fill=0|0 (0 for males on chrX) added at PharmCAT positions (PharmGKB/PharmCAT@{PHARMCAT_COMMIT} "
            "pharmcat_positions.vcf) inside the 1000 Genomes gene regions but absent from them (absent = homozygous "
            "reference in 1000 Genomes); marked INFO/FILLED"
        ),
        (
            f"##demo_dpyd=DPYD at every PharmCAT DPYD position from 1000 Genomes phase 3 GRCh37 "
            f"(sbslee/pypgx-bundle@{BUNDLE_COMMIT} 1kgp/GRCh37/DPYD.vcf.gz), moved to GRCh38 by the constant "
            f"offset -{DPYD_GRCH37_OFFSET} checked against PyPGx's variant table; marked INFO/FROM_GRCH37"
        ),
        '##FILTER=<ID=PASS,Description="All filters passed">',
        '##INFO=<ID=GENE,Number=1,Type=String,Description="Pharmacogene file the record comes from">',
        (
            '##INFO=<ID=FILLED,Number=0,Type=Flag,Description="Reference call filled in at a PharmCAT position '
            'absent from the 1000 Genomes file (absent there means homozygous reference)">'
        ),
        (
            '##INFO=<ID=FROM_GRCH37,Number=0,Type=Flag,Description="DPYD record from the GRCh37 1000 Genomes '
            'phase-3 file, moved to its GRCh38 position (see ##demo_dpyd)">'
        ),
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        *[f"##contig=<ID={c},length={GRCH38_LENGTHS[c[3:]]},assembly=GRCh38>" for c in contigs],
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *sample_order]),
    ]
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / DEMO_NAME
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        text = Path(tmp) / "demo.vcf"
        text.write_text("\n".join(header) + "\n" + "".join(line + "\n" for _, _, line in records))
        gz = Path(tmp) / DEMO_NAME
        pysam.tabix_compress(str(text), str(gz), force=True)
        pysam.tabix_index(str(gz), preset="vcf", force=True)
        os.replace(f"{gz}.tbi", f"{target}.tbi")
        os.replace(gz, target)
    _write_demo_provenance(out_dir, target, sample_order, male, kept_1kg, filled, not_filled, len(records))
    return target


def _write_demo_provenance(out_dir, target, samples, male, kept, filled, not_filled, total) -> None:
    pops = {s: (p, sp) for s, p, sp in DEMO_SAMPLES}
    sample_rows = "\n".join(
        f"| {s} | {pops[s][0]} | {pops[s][1]} | {'male (haploid chrX)' if male.get(s) else 'female'} |" for s in samples
    )
    filled_rows = ", ".join(f"{g} {n}" for g, n in sorted(filled.items()))
    not_rows = "; ".join(
        f"{g} {len(loci)} position(s)" + (f" ({', '.join(loci)})" if len(loci) <= 3 else "")
        for g, loci in sorted(not_filled.items())
    )
    text = f"""# Demo VCF: `demo_pgx_panel.vcf.gz`

Real genotypes of 8 people of the 1000 Genomes Project at 20 pharmacogenes (the 19 GRCh38 files and DPYD), GRCh38, for the README's
main command (`recommender qc genomics/data/demo/demo_pgx_panel.vcf.gz`) and the pharmacogenomics demo.

| what | fact |
| --- | --- |
| built by | `python -m genomics.vcf.make_demo --shared ../shared/data --only demo` (deterministic) |
| records | {total} ({kept} from 1000 Genomes, {sum(filled.values())} filled reference calls) |
| genes | {', '.join(GENES)}, DPYD (from GRCh37, see 6.) |
| build | GRCh38; `##contig` lines carry GRCh38 lengths (added here: the source files have none) |
| FORMAT | `GT` only, phased (`0|1`); chrX calls of males are haploid (`0` / `1`) as in the source |
| INFO | `GENE` (source gene file); `FILLED` on filled reference calls. The source INFO (population counts over 3,202 people) is dropped: it does not describe these 8 |
| sha256 | `{sha256(target)}` (`.tbi`: `{sha256(Path(str(target) + '.tbi'))}`) |

## Samples

| sample | population | super-population | sex (from chrX ploidy) |
| --- | --- | --- | --- |
{sample_rows}

## Sources and licences

* Genotypes: 1000 Genomes Project, NYGC high-coverage 30x release, statistically phased, as packaged in
  `sbslee/pypgx-bundle` commit `{BUNDLE_COMMIT}` (2023-12-24), files `1kgp/GRCh38/<GENE>.vcf.gz`.
  1000 Genomes data are open access without restriction; pypgx-bundle is MIT-licensed
  (Copyright (c) 2020 Seung-been "Steven" Lee).
* Population labels: `CAST-genomics/haptools` commit `bb78f6c7bb2a59dc9832c095e2efc66582b4db84`,
  `example-files/1000genomes_sampleinfo.tsv` (MIT).
* Filled positions: the positions and alleles (facts, not the file) of `pharmcat_positions.vcf` from
  `PharmGKB/PharmCAT` commit `{PHARMCAT_COMMIT}` (MPL-2.0; the file itself is not redistributed here).

## What was changed, and why

1. **Samples**: only the 8 people above (mixed super-populations).
2. **Records kept**: a 1000 Genomes record is kept when any of the 8 carries a non-reference allele, or
   when it lies at a PharmCAT position. Records where all 8 are homozygous reference and no PharmCAT
   allele is defined were dropped to keep the file small.
3. **Reference calls filled in**: the 1000 Genomes files list only sites that vary in the panel; a site
   absent from them means every sample is homozygous reference there. A star-allele caller needs an
   explicit call at every defining position, so at each PharmCAT position that lies inside a gene file's
   region (between its first and last record) but is absent from it, an explicit `0|0` call (haploid `0` for
   males on chrX) was added with the PharmCAT REF/ALT alleles and `INFO/FILLED`. Filled per gene:
   {filled_rows}.
4. **Not filled** (outside the regions the 1000 Genomes files cover, so their genotype is unknown):
   {not_rows or 'none'}.
5. `##contig` lines with GRCh38 lengths were added so the genome build is detected from the header.
6. **DPYD** (so the demo shows the guidance that matters most for fluoropyrimidine regimens): the shared data
   have DPYD on GRCh37 only (1000 Genomes phase 3, 2,504 people, all 8 demo people among them; same
   `sbslee/pypgx-bundle` commit, `1kgp/GRCh37/DPYD.vcf.gz`). At each of the 83 PharmCAT DPYD positions (GRCh38)
   the GRCh37 record at position + {DPYD_GRCH37_OFFSET} is taken: the offset is the same for every DPYD row of
   PyPGx's variant table (MIT), which the build checks. A record is used only when its REF equals the GRCh38
   REF and an ALT is a PharmCAT ALT (other ALTs written as REF); where the reference base differs between the
   builds (rs1801265, DPYD*9A) the allele indices are swapped. A position without a phase-3 record is
   homozygous reference there and gets an explicit `0|0` (`INFO/FILLED`). Every DPYD record carries
   `INFO/FROM_GRCH37`. The simulator (`cohorts.germline_panel`) maps DPYD the same way, row by row.
"""
    (out_dir / "PROVENANCE.md").write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genomics.vcf.make_demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", required=True, type=Path, help="the shared data folder (../shared/data)")
    parser.add_argument("--only", choices=("known", "demo"), help="build only one of the outputs")
    args = parser.parse_args(argv)
    if args.only in (None, "known"):
        path = make_known_positions(args.shared)
        n_rows = sum(1 for line in path.read_text().splitlines() if line and not line.startswith("#")) - 1
        print(f"wrote {path} ({n_rows} positions)")
    if args.only in (None, "demo"):
        path = make_demo(args.shared)
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
