"""``recommender qc``: QC summary and genotype overview of a VCF/BCF.

Examples
--------
recommender qc genomics/data/demo/demo_pgx_panel.vcf.gz
recommender qc patient.vcf.gz --sample HG00096 --region chr10:94761900-94855547 --json
"""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "QC summary of a VCF, bgzipped VCF or BCF: per sample records, missing rate, het/hom-alt ratio, "
        "Ti/Tv and phased fraction; per file PASS/filtered, multi-allelic and symbolic records, the genome "
        "build (and how it was decided) and whether an index or a streaming scan was used."
    )
    parser.add_argument("vcf", metavar="VCF", help="VCF/BCF file (.vcf, .vcf.gz with .tbi/.csi, .bcf with .csi)")
    parser.add_argument("--sample", "-s", action="append", metavar="S",
                        help="only this sample (repeat for several; default: all)")
    parser.add_argument("--region", "-r", metavar="R", help="only this region, e.g. chr10:94761900-94855547")
    parser.add_argument("--build", choices=("GRCh38", "GRCh37"), default="GRCh38",
                        help="genome build the file must be on (default GRCh38; GRCh37 files are refused unless "
                             "--build GRCh37)")
    parser.add_argument("--reference", metavar="FASTA",
                        help="reference FASTA (bgzip+faidx or plain) to detect the build and count REF alleles "
                             "that disagree with it")
    parser.add_argument("--json", action="store_true", help="print JSON (with provenance) instead of a table")


def run(args: argparse.Namespace) -> int:
    import warnings

    from genomics.errors import DegradedResultWarning
    from genomics.vcf import vcf_qc

    reference = None
    if args.reference:
        from genomics.reference import ReferenceGenome

        reference = ReferenceGenome(args.reference, build=args.build)
    with warnings.catch_warnings():
        # the summary states an assumed build itself; no second copy on stderr
        warnings.simplefilter("ignore", DegradedResultWarning)
        summary = vcf_qc(args.vcf, samples=args.sample, region=args.region, build=args.build, reference=reference)
    if args.json:
        from recommender.commands._output import print_json

        data = summary.to_dict()
        if reference is not None and hasattr(reference, "provenance"):
            data["provenance"]["reference"] = reference.provenance()
        print_json(data)
    else:
        print(summary.format_table())
    return 0
