"""``recommender pgx``: star alleles, phenotypes and CPIC/DPWG guidance from a VCF.

One sample (``--sample NAME``, or a single-sample VCF) prints a per-gene table (``--json``: the full
profile as JSON, plus guidance for every ``--drug``). ``--all-samples`` calls every sample of a
multi-sample VCF (each gene region read once for all samples) and writes one TSV row per sample and
gene (``--tsv OUT``), a warnings file (``--warnings OUT``) and/or JSON Lines (``--json``: one profile
per line on stdout); progress goes to stderr.

Missing defining positions are never taken as reference unless ``--fill-missing-with-reference`` is
given (recorded in every output). CYP2D6 without a copy-number source (an outside call, or CN in the
VCF) is ``provisional`` and not used for guidance unless ``--cyp2d6-without-copy-number`` is given.

Several VCFs: by default they hold the same samples (e.g. one file per gene); with ``--each-file``
every file is its own input (pipelines pay the start-up once for many single-sample files).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from recommender.commands._output import print_json, write_atomic

__all__ = ["add_arguments", "run"]

_TSV_COLUMNS = (
    "sample", "gene", "source", "status", "diplotypes", "phenotype", "activity_score", "lookup_key", "phased",
    "n_positions", "n_observed", "n_missing", "n_filled", "alleles_not_ruled_out", "novel_variants", "rule",
    "reasons",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("vcf", nargs="+", metavar="VCF",
                        help="VCF/BCF (bgzipped and indexed for speed); several files may hold the same samples "
                             "(e.g. one file per gene)")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--sample", metavar="NAME", help="sample to call (needed for a multi-sample VCF)")
    who.add_argument("--all-samples", action="store_true", help="call every sample of a multi-sample VCF")
    parser.add_argument("--outside-calls", metavar="TSV",
                        help="outside calls (gene, diplotype, phenotype, activity_score, source): CYP2D6 with "
                             "copy number, HLA-A, HLA-B, MT-RNR1...; single-sample runs only")
    parser.add_argument("--fill-missing-with-reference", action="store_true",
                        help="treat defining positions absent from the VCF as homozygous reference (recorded in "
                             "the output); without it, missing positions leave alleles not ruled out")
    parser.add_argument("--genes", nargs="+", metavar="GENE",
                        help="genes to call (default: the 20 PharmCAT/CPIC genes; 'all' adds the 64 genes only PyPGx "
                             "defines, e.g. CYP2C8; 'pypgx' calls only those)")
    parser.add_argument("--sex", choices=("male", "female"), help="sample sex for G6PD (default: inferred from "
                        "chrX ploidy when possible)")
    parser.add_argument("--build", default="GRCh38", help="genome build of the VCF (only GRCh38 is supported "
                        "for calling; default GRCh38)")
    parser.add_argument("--json", action="store_true",
                        help="print JSON (one sample: the profile; --all-samples: JSON Lines, one profile per line)")
    parser.add_argument("--tsv", metavar="OUT", help="write one row per sample and gene to OUT")
    parser.add_argument("--warnings", metavar="OUT", help="write warnings (one per line: sample, gene, text) to OUT")
    parser.add_argument("--drug", nargs="+", metavar="DRUG", action="extend",
                        help="CPIC/DPWG guidance for these drugs (single-sample runs)")
    parser.add_argument("--positions", action="store_true",
                        help="include the per-position genotype table in JSON output")
    parser.add_argument("--cyp2d6-without-copy-number", action="store_true",
                        help="use a CYP2D6 call made from SNVs/indels without any copy-number source as a normal "
                             "call (default: provisional, not used for guidance)")
    parser.add_argument("--each-file", action="store_true",
                        help="treat every VCF as a separate input (default: the files hold the same samples)")
    parser.add_argument("--quiet", action="store_true", help="no progress messages on stderr")


def _usage(message: str, fix: str) -> Exception:
    from genomics.errors import UsageError

    return UsageError(message, fix=fix)


def _rows_tsv(rows: list[dict[str, Any]], header: bool) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=_TSV_COLUMNS, delimiter="\t", lineterminator="\n", extrasaction="ignore")
    if header:
        writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buf.getvalue()


def _warning_lines(profile) -> list[str]:
    out = [f"{profile.sample}\t-\t{w}" for w in profile.warnings]
    for gene, call in profile.genes.items():
        for w in call.warnings:
            out.append(f"{profile.sample}\t{gene}\t{w}")
        if call.status in ("not_called", "incomplete", "provisional"):
            out.append(f"{profile.sample}\t{gene}\t{call.status}: {', '.join(call.reasons)}")
        for lim in call.limitations:
            out.append(f"{profile.sample}\t{gene}\t{lim}")
    return out


def _print_table(profile, guidance) -> None:
    out = sys.stdout
    prov = profile.provenance
    out.write(f"sample {profile.sample}  (definitions {prov.definitions_version}, build {prov.genome_build}, "
              f"fill_missing_with_reference={prov.options.get('fill_missing_with_reference')})\n")
    out.write(f"{'gene':<9} {'status':<13} {'diplotype(s)':<34} {'phenotype':<34} notes\n")
    for gene, c in profile.genes.items():
        dips = "; ".join(d.name for d in c.diplotypes) or "-"
        if len(dips) > 34:
            dips = dips[:31] + "..."
        notes = []
        if c.source == "outside":
            notes.append(f"outside call ({c.outside_source or 'no source'})")
        if c.missing_positions:
            notes.append(f"{len(c.missing_positions)}/{c.n_positions} positions missing")
        if c.filled_positions:
            notes.append(f"{len(c.filled_positions)} filled as reference")
        if c.alleles_not_ruled_out:
            shown = ", ".join(c.alleles_not_ruled_out[:4]) + (" ..." if len(c.alleles_not_ruled_out) > 4 else "")
            notes.append(f"not ruled out: {shown}")
        if c.novel_variants:
            notes.append(f"{len(c.novel_variants)} novel variant(s)")
        if c.rule:
            notes.append(f"rule {c.rule}")
        if gene == "CYP2D6" and c.source == "vcf":
            if c.status == "provisional":
                shown = "; ".join(f"{d.name}: {d.phenotype}" for d in c.diplotypes if d.phenotype)
                notes.append("PROVISIONAL: copy number not assessed, not used for guidance"
                             + (f" (SNV/indel-only phenotype {shown})" if shown else ""))
            elif "copy_number_from_vcf" in c.reasons:
                notes.append("copy number from the VCF")
            else:
                notes.append("SNV/indel only: no CNV/hybrids")
        if "possible_cyp2d6_deletion" in c.reasons:
            notes.append("possible *5 deletion (see warnings)")
        if "partial_genotype" in c.reasons:
            notes.append("half-missing genotype(s)")
        if c.status == "not_called":
            notes.append(", ".join(r for r in c.reasons if r not in ("filled_with_reference",)))
        pheno = c.phenotype or "-"
        if c.activity_score:
            pheno = f"{pheno} (AS {c.activity_score})"
        out.write(f"{gene:<9} {c.status:<13} {dips:<34} {pheno[:34]:<34} {'; '.join(notes)}\n")
    for w in profile.warnings:
        out.write(f"WARNING: {w}\n")
    for g in guidance or []:
        out.write(f"\n{g.drug}: {g.action}")
        for s in g.summaries:
            out.write(f"\n  {s.source}: {s.action} - {s.message}")
        out.write("\n")


def _guidance(profile, drugs: list[str] | None):
    if not drugs:
        return None
    from genomics.pgx.guidance import guidance_for_profile

    return guidance_for_profile(profile, [d.strip().lower() for d in drugs])


def run(args: argparse.Namespace) -> int:
    from genomics.errors import DegradedResultWarning
    from genomics.pgx.caller import call_pgx, call_pgx_cohort

    for path in args.vcf:
        if not Path(path).exists():
            from genomics.errors import InputFileError

            raise InputFileError("file not found", file=path, fix="check the VCF path")
    if args.all_samples:
        if args.outside_calls:
            raise _usage("--outside-calls applies to one sample", "drop --outside-calls or call one --sample")
        if args.drug:
            raise _usage("--drug applies to one sample", "call one --sample with --drug, or drop --drug")
        if not (args.tsv or args.json):
            raise _usage("--all-samples needs an output", "add --tsv OUT (and --warnings OUT) or --json")
        return _run_all(args, call_pgx_cohort)

    inputs = [[p] for p in args.vcf] if args.each_file else [list(args.vcf)]
    profiles = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegradedResultWarning)  # warnings are part of the output
        for paths in inputs:
            profiles.append(call_pgx(paths, sample=args.sample, outside_calls=args.outside_calls,
                                     fill_missing_with_reference=args.fill_missing_with_reference, genes=args.genes,
                                     sex=args.sex, build=args.build, include_positions=args.positions,
                                     accept_cyp2d6_without_copy_number=args.cyp2d6_without_copy_number))
    guidances = [_guidance(profile, args.drug) for profile in profiles]
    if args.tsv:
        write_atomic(args.tsv, "".join(_rows_tsv(p.summary_rows(), header=k == 0) for k, p in enumerate(profiles)))
    if args.warnings:
        write_atomic(args.warnings, "".join(f"{line}\n" for p in profiles for line in _warning_lines(p)))
    if args.json:
        for profile, guidance in zip(profiles, guidances):
            data = profile.to_dict()
            if len(profiles) > 1:
                data["input"] = profile.provenance.vcf
            if guidance is not None:
                data["guidance"] = [g.to_dict() for g in guidance]
            if len(profiles) > 1:
                sys.stdout.write(json.dumps(data, separators=(",", ":")) + "\n")
            else:
                print_json(data)
    elif not args.tsv:
        for profile, guidance in zip(profiles, guidances):
            if len(profiles) > 1:
                sys.stdout.write(f"== {profile.provenance.vcf}\n")
            _print_table(profile, guidance)
    return 0


def _run_all(args: argparse.Namespace, call_pgx_cohort) -> int:
    from genomics.errors import DegradedResultWarning

    start = time.perf_counter()
    quiet = args.quiet

    def progress(stage: str, done: int, total: int) -> None:
        if quiet:
            return
        elapsed = time.perf_counter() - start
        if stage == "read":
            print(f"pgx: read gene {done}/{total} ({elapsed:.1f} s)", file=sys.stderr, flush=True)
        else:
            rate = done / elapsed if elapsed > 0 else 0.0
            print(f"pgx: called {done}/{total} samples ({rate:.0f} samples/s)", file=sys.stderr, flush=True)

    tsv_parts: list[str] = []
    warn_lines: list[str] = []
    n = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegradedResultWarning)
        inputs = [[p] for p in args.vcf] if args.each_file else [list(args.vcf)]
        profiles = (profile for paths in inputs for profile in call_pgx_cohort(
            paths, fill_missing_with_reference=args.fill_missing_with_reference, genes=args.genes, sex=args.sex,
            build=args.build, include_positions=args.positions, progress=progress,
            accept_cyp2d6_without_copy_number=args.cyp2d6_without_copy_number))
        for profile in profiles:
            n += 1
            if args.tsv:
                tsv_parts.append(_rows_tsv(profile.summary_rows(), header=n == 1))
            if args.warnings:
                warn_lines.extend(_warning_lines(profile))
            if args.json:
                sys.stdout.write(json.dumps(profile.to_dict(), separators=(",", ":")) + "\n")
    if args.tsv:
        write_atomic(args.tsv, "".join(tsv_parts) if tsv_parts else _rows_tsv([], header=True))
    if args.warnings:
        write_atomic(args.warnings, "".join(f"{line}\n" for line in warn_lines))
    if not quiet:
        elapsed = time.perf_counter() - start
        print(f"pgx: {n} samples in {elapsed:.1f} s", file=sys.stderr)
    return 0
