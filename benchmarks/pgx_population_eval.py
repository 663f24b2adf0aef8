"""Run the star-allele caller over the 3,202 samples of 1000 Genomes (NYGC 30x, GRCh38) and compare.

Usage::

    python benchmarks/pgx_population_eval.py [--data DIR] [--out FILE.md] [--tsv CALLS.tsv]

``DIR`` is the ``population`` folder of the shared data (default ``../shared/data/population`` next to
the repository). Prints markdown: call status per gene, star-allele frequencies per super-population,
phenotype distributions, and checks against published frequencies and against the allele frequencies
written in the VCFs themselves (INFO ``AF_<POP>``).

The 1000 Genomes files list only sites that vary in the panel: a defining position absent from a file
is homozygous reference for every sample, so the caller runs with ``fill_missing_with_reference=True``
(said in the output). Genes whose defining positions lie outside a file's span (IFNL3: rs12979860 is
not in the file) are reported as not covered instead of being filled; DPYD has no GRCh38 file.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
import warnings
from pathlib import Path

import cyvcf2

from genomics.errors import DegradedResultWarning
from genomics.pgx import call_pgx_cohort
from genomics.pgx.caller import compiled_gene
from genomics.pgx.definitions import CALLABLE_GENES

REPO = Path(__file__).resolve().parents[1]
POPS = ("AFR", "AMR", "EAS", "EUR", "SAS")
SUPER = {
    **{p: "AFR" for p in ["YRI", "LWK", "GWD", "MSL", "ESN", "ASW", "ACB"]},
    **{p: "AMR" for p in ["MXL", "PUR", "CLM", "PEL"]},
    **{p: "EAS" for p in ["CHB", "JPT", "CHS", "CDX", "KHV"]},
    **{p: "EUR" for p in ["CEU", "TSI", "FIN", "GBR", "IBS"]},
    **{p: "SAS" for p in ["GIH", "PJL", "BEB", "STU", "ITU"]},
}

#: Published frequencies (allele frequency unless stated), as ranges, with the source that reports them.
#: kind: "allele" = named allele(s); "variant" = every allele carrying rsid:alt; "phenotype" = phenotype share.
PUBLISHED = [
    ("CYP2C19", "allele", ("*2",), {"EUR": (0.12, 0.18), "EAS": (0.25, 0.35), "AFR": (0.12, 0.20)},
     "CPIC clopidogrel guideline 2022 update (Lee et al., Clin Pharmacol Ther 2022) / PharmGKB CYP2C19 frequency table"),
    ("CYP2C19", "allele", ("*17",), {"EUR": (0.17, 0.26), "EAS": (0.00, 0.04), "AFR": (0.14, 0.26)},
     "CPIC clopidogrel 2022 / PharmGKB CYP2C19 frequency table"),
    ("CYP2C19", "allele", ("*3",), {"EAS": (0.04, 0.10), "EUR": (0.0, 0.01)},
     "CPIC clopidogrel 2022 / PharmGKB CYP2C19 frequency table"),
    ("CYP2C9", "allele", ("*2",), {"EUR": (0.10, 0.16), "EAS": (0.0, 0.01)},
     "CPIC NSAIDs (Theken et al., Clin Pharmacol Ther 2020) / CPIC warfarin (Johnson et al. 2017) frequency tables"),
    ("CYP2C9", "allele", ("*3",), {"EUR": (0.05, 0.09), "EAS": (0.02, 0.06), "SAS": (0.07, 0.14)},
     "CPIC NSAIDs 2020 / warfarin 2017 frequency tables"),
    ("CYP3A5", "allele", ("*3",), {"EUR": (0.85, 0.96), "EAS": (0.60, 0.80), "AFR": (0.10, 0.40)},
     "CPIC tacrolimus (Birdwell et al., Clin Pharmacol Ther 2015)"),
    ("TPMT", "allele", ("*3A",), {"EUR": (0.02, 0.05), "EAS": (0.0, 0.005)},
     "CPIC thiopurines 2018 update (Relling et al., Clin Pharmacol Ther 2019)"),
    ("TPMT", "allele", ("*3C",), {"EAS": (0.01, 0.03), "AFR": (0.02, 0.08)},
     "CPIC thiopurines (Relling et al. 2019)"),
    ("NUDT15", "allele", ("*3",), {"EAS": (0.07, 0.12), "EUR": (0.0, 0.01)},
     "CPIC thiopurines (Relling et al. 2019); Moriyama et al., Nat Genet 2016"),
    ("NUDT15", "variant", ("rs116855232", "T"), {"EAS": (0.07, 0.12), "EUR": (0.0, 0.01)},
     "CPIC thiopurines (Relling et al. 2019); Moriyama et al. 2016: p.R139C, in *2 and *3"),
    ("SLCO1B1", "variant", ("rs4149056", "C"), {"EUR": (0.13, 0.19), "EAS": (0.09, 0.16), "AFR": (0.0, 0.04)},
     "CPIC statins (Cooper-DeHoff et al., Clin Pharmacol Ther 2022): c.521T>C (in *5, *15...)"),
    ("UGT1A1", "variant", ("rs3064744", "CATAT"), {"EUR": (0.26, 0.42), "EAS": (0.07, 0.18), "AFR": (0.30, 0.45)},
     "CPIC atazanavir (Gammal et al., Clin Pharmacol Ther 2016): *28 (TA)8"),
    ("UGT1A1", "allele", ("*6",), {"EAS": (0.08, 0.20), "EUR": (0.0, 0.01)},
     "CPIC atazanavir (Gammal et al. 2016)"),
    ("CYP2B6", "variant", ("rs3745274", "T"), {"AFR": (0.30, 0.45), "EUR": (0.18, 0.30), "EAS": (0.12, 0.25)},
     "CPIC efavirenz (Desta et al., Clin Pharmacol Ther 2019): 516G>T (*6, *9...)"),
    ("VKORC1", "variant", ("rs9923231", "T"), {"EAS": (0.85, 0.95), "EUR": (0.33, 0.45), "AFR": (0.0, 0.15)},
     "CPIC warfarin (Johnson et al., Clin Pharmacol Ther 2017)"),
    ("CYP2D6", "allele", ("*4",), {"EUR": (0.13, 0.23), "EAS": (0.0, 0.01)},
     "Gaedigk et al., Genet Med 2017 (CYP2D6 phenotype across world populations) / PharmGKB CYP2D6 frequency table"),
    ("CYP2D6", "allele", ("*10",), {"EAS": (0.30, 0.50)}, "Gaedigk et al., Genet Med 2017"),
    ("CYP2D6", "allele", ("*17",), {"AFR": (0.12, 0.25)}, "Gaedigk et al., Genet Med 2017"),
    ("NAT2", "phenotype", ("Poor Metabolizer",), {"EUR": (0.40, 0.65), "EAS": (0.03, 0.20)},
     "Sabbagh et al., Pharmacogenet Genomics 2011 / PharmGKB NAT2 (slow acetylators)"),
    ("G6PD", "allele", ("A- 202A_376G",), {"AFR": (0.05, 0.25)},
     "CPIC G6PD (Gammal et al., Clin Pharmacol Ther 2023); Howes et al., PLoS Med 2012"),
    ("ABCG2", "variant", ("rs2231142", "T"), {"EAS": (0.24, 0.36), "EUR": (0.07, 0.14), "AFR": (0.0, 0.06)},
     "CPIC statins (Cooper-DeHoff et al. 2022), ABCG2 frequency table"),
    ("CYP4F2", "variant", ("rs2108622", "T"), {"EUR": (0.23, 0.35), "EAS": (0.15, 0.30), "AFR": (0.03, 0.12)},
     "CPIC warfarin (Johnson et al. 2017)"),
    ("CYP3A4", "allele", ("*22",), {"EUR": (0.03, 0.08), "EAS": (0.0, 0.01)},
     "PharmVar / PharmGKB CYP3A4 frequency table (Elens et al. 2011)"),
]


def load_populations(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        sample, pop = line.split("\t")[:2]
        if "," in pop:
            continue  # one sample carries two codes (IBS,MSL): left out of super-population tallies
        out[sample] = SUPER[pop]
    return out


def covered(path: Path, gene: str) -> bool:
    positions = [r.POS for r in cyvcf2.VCF(str(path))]
    cg = compiled_gene(gene)
    return all(min(positions) <= lo.position <= max(positions) for lo in cg.loci)


def variant_alleles(gene: str, rsid: str, alt: str) -> set[str]:
    cg = compiled_gene(gene)
    li = next(i for i, lo in enumerate(cg.loci) if lo.rsid == rsid)
    code = cg.vocab[li].index(alt)
    return {cg.names[i] for i in range(len(cg.names)) if cg.defined[i, li] and cg.masks[i, li] & (1 << code)}


def vcf_af(path: Path, rsid_pos: int, alt: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for rec in cyvcf2.VCF(str(path))(f"{_chrom(path)}:{rsid_pos}-{rsid_pos}"):
        if rec.POS != rsid_pos:
            continue
        for pop in POPS:
            af = rec.INFO.get(f"AF_{pop}")
            if af is None:
                continue
            # split records: the alt may be written from a shorter REF; compare the resulting haplotype
            if rec.ALT and _same(rec.REF, rec.ALT[0], alt, path, rsid_pos):
                out[pop] = out.get(pop, 0.0) + float(af)
    return out


def _same(ref: str, alt: str, definition_alt: str, path: Path, pos: int) -> bool:
    gene = path.name.split(".")[0]
    cg = compiled_gene(gene)
    li = cg.position_index[pos]
    R = cg.loci[li].ref
    w = ref if len(ref) >= len(R) else R
    return alt + w[len(ref):] == definition_alt + w[len(R):]


def _chrom(path: Path) -> str:
    return next(iter(cyvcf2.VCF(str(path)))).CHROM


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "population")
    parser.add_argument("--out", type=Path, help="also write the markdown here")
    parser.add_argument("--tsv", type=Path, help="write every call (sample, population, gene, ...) here")
    args = parser.parse_args(argv)
    folder = args.data / "1kgp_GRCh38"
    files = {p.name.split(".")[0]: p for p in sorted(folder.glob("*.vcf.gz"))}
    if not files:
        print(f"no VCFs in {folder}", file=sys.stderr)
        return 1
    pops = load_populations(args.data / "1kgp_sample_populations.tsv")
    genes = [g for g in CALLABLE_GENES if g in files and covered(files[g], g)]
    not_covered = [g for g in CALLABLE_GENES if g in files and g not in genes]
    absent = [g for g in CALLABLE_GENES if g not in files]

    t0 = time.perf_counter()
    status = collections.Counter()
    reasons = collections.Counter()
    allele_counts = {g: {p: collections.Counter() for p in POPS} for g in genes}
    chromosomes = {g: collections.Counter() for g in genes}
    pheno = {g: {p: collections.Counter() for p in POPS} for g in genes}
    n_samples = 0
    tsv_rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegradedResultWarning)
        for profile in call_pgx_cohort([files[g] for g in genes], genes=genes, fill_missing_with_reference=True):
            n_samples += 1
            pop = pops.get(profile.sample)
            for gene, call in profile.genes.items():
                status[(gene, call.status)] += 1
                for r in call.reasons:
                    if r not in ("filled_with_reference", "cyp2d6_snv_indel_only", "cyp2d6_copy_number_not_assessed",
                                 "no_cpic_dpwg_guideline"):
                        reasons[(gene, r)] += 1
                if args.tsv:
                    tsv_rows.append("\t".join([profile.sample, pop or "", gene, call.status,
                                               ";".join(d.name for d in call.diplotypes), call.phenotype or "",
                                               ";".join(call.reasons)]))
                if pop is None:
                    continue
                if call.phenotype:
                    pheno[gene][pop][call.phenotype] += 1
                elif call.status in ("called", "ambiguous", "incomplete", "not_called", "provisional"):
                    pheno[gene][pop][f"(no phenotype: {call.status})"] += 1
                # provisional (CYP2D6 without copy number): the SNV/indel alleles still count, labelled below
                if call.status not in ("called", "ambiguous", "provisional") or not call.diplotypes:
                    continue
                w = 1.0 / len(call.diplotypes)
                for d in call.diplotypes:
                    for a in (d.allele1, d.allele2):
                        if a is not None:
                            allele_counts[gene][pop][a] += w
                            chromosomes[gene][pop] += w
    elapsed = time.perf_counter() - t0

    lines = []
    emit = lines.append
    emit(f"Samples: {n_samples}; genes called: {len(genes)}; wall time {elapsed:.1f} s "
         f"({n_samples / elapsed:.0f} samples/s, every gene); fill_missing_with_reference=True "
         "(sites absent from these variable-sites-only files are homozygous reference).")
    if not_covered:
        emit(f"Not covered by the files (defining positions outside the file's span, not filled): {', '.join(not_covered)}.")
    if absent:
        emit(f"No GRCh38 file: {', '.join(absent)}.")
    emit("")
    emit("### Call status per gene (3,202 samples)")
    emit("")
    emit("| gene | called | ambiguous | incomplete | not called | provisional | main reasons (not called / ambiguous) |")
    emit("|---|---|---|---|---|---|---|")
    for g in genes:
        rs = ", ".join(f"{r} {n}" for (gg, r), n in reasons.most_common() if gg == g and r not in (
            "missing_positions_without_effect",))[:120]
        emit(f"| {g} | {status[(g, 'called')]} | {status[(g, 'ambiguous')]} | {status[(g, 'incomplete')]} | "
             f"{status[(g, 'not_called')]} | {status[(g, 'provisional')]} | {rs} |")
    emit("")
    emit("### Star-allele frequencies per super-population (alleles >= 1% in any population)")
    emit("")
    emit("Frequencies among called chromosomes (ambiguous calls split equally; G6PD males count one chromosome).")
    emit("")
    for g in genes:
        freqs = {p: {a: c / chromosomes[g][p] for a, c in allele_counts[g][p].items()} if chromosomes[g][p] else {}
                 for p in POPS}
        names = sorted({a for p in POPS for a, f in freqs[p].items() if f >= 0.01},
                       key=lambda a: (-max(freqs[p].get(a, 0) for p in POPS), a))  # ties: by name
        if not names:
            continue
        emit(f"**{g}**")
        emit("")
        emit("| allele | " + " | ".join(POPS) + " |")
        emit("|---|" + "---|" * len(POPS))
        for a in names[:12]:
            emit(f"| {a} | " + " | ".join(f"{freqs[p].get(a, 0):.3f}" for p in POPS) + " |")
        emit("")
    emit("### Phenotype distributions per super-population (share of samples)")
    emit("")
    for g in genes:
        names = sorted({k for p in POPS for k in pheno[g][p]})
        emit(f"**{g}**")
        emit("")
        emit("| phenotype | " + " | ".join(POPS) + " |")
        emit("|---|" + "---|" * len(POPS))
        totals = {p: sum(pheno[g][p].values()) for p in POPS}
        for k in sorted(names, key=lambda k: -sum(pheno[g][p][k] for p in POPS))[:10]:
            emit(f"| {k} | " + " | ".join(f"{pheno[g][p][k] / totals[p]:.3f}" if totals[p] else "-" for p in POPS)
                 + " |")
        emit("")
    emit("### Checks against published frequencies and against the VCFs' own INFO/AF")
    emit("")
    emit("| gene | what | pop | caller | VCF INFO AF | published range | source | ok |")
    emit("|---|---|---|---|---|---|---|---|")
    n_ok = n_all = 0
    for gene, kind, what, ranges, source in PUBLISHED:
        if gene not in genes:
            continue
        for pop, (lo, hi) in ranges.items():
            raw = "-"
            if kind == "allele":
                total = chromosomes[gene][pop]
                value = sum(allele_counts[gene][pop][a] for a in what) / total if total else float("nan")
                label = "+".join(what)
            elif kind == "variant":
                rsid, alt = what
                names = variant_alleles(gene, rsid, alt)
                total = chromosomes[gene][pop]
                value = sum(allele_counts[gene][pop][a] for a in names) / total if total else float("nan")
                cg = compiled_gene(gene)
                pos = next(lo_.position for lo_ in cg.loci if lo_.rsid == rsid)
                af = vcf_af(files[gene], pos, alt)
                raw = f"{af[pop]:.3f}" if pop in af else "-"
                label = f"{rsid} {alt} (alleles: {', '.join(sorted(names))[:40]})"
            else:
                total = sum(pheno[gene][pop].values())
                value = pheno[gene][pop][what[0]] / total if total else float("nan")
                label = f"phenotype {what[0]}"
            ok = lo <= value <= hi
            n_ok += ok
            n_all += 1
            emit(f"| {gene} | {label} | {pop} | {value:.3f} | {raw} | {lo:.2f}-{hi:.2f} | {source} | "
                 f"{'yes' if ok else '**no**'} |")
    emit("")
    emit(f"{n_ok}/{n_all} checks inside the published range.")
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text)
    if args.tsv:
        args.tsv.write_text("sample\tpopulation\tgene\tstatus\tdiplotypes\tphenotype\treasons\n"
                            + "\n".join(tsv_rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
