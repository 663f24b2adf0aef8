"""``recommender biomarkers``: actionable tumour biomarkers from a somatic VCF/MAF, CNV/fusion calls, TMB, MSI.

Examples
--------
recommender biomarkers tumour.vcf.gz --cancer-type LUAD
recommender biomarkers tumour.maf --cnv cnv.tsv --tmb 14 --msi MSS --cancer-type COADREAD --json
recommender biomarkers tumour.maf --table ../shared/data/oncology/moalmanac/molecular-oncology-almanac.json
recommender biomarkers --tmb 12 --msi MSI-H --cancer-type PAAD
"""

from __future__ import annotations

import argparse

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Match a tumour (somatic VCF annotated with VEP CSQ or SnpEff ANN, unannotated GRCh38 VCF: hotspot "
        "positions only, or MAF) plus copy-number/fusion calls, TMB and MSI against the bundled, cited "
        "biomarker -> therapy table (evidence levels 1/2/3A/3B/R1/R2; cancer types as OncoTree codes). "
        "BRCA1/2 variants of unknown significance are listed as such, never as approved biomarkers. "
        "Research use only."
    )
    parser.add_argument("tumour", metavar="TUMOUR_FILE", nargs="?",
                        help="somatic VCF/BCF (GRCh38) or MAF (optional when only --cnv/--tmb/--msi are given)")
    parser.add_argument("--format", dest="file_format", choices=("vcf", "maf", "auto"), default="auto",
                        help="format of TUMOUR_FILE (default: detected from its first bytes)")
    parser.add_argument("--cnv", metavar="TSV",
                        help="copy-number/fusion table: gene, alteration (amplification|deletion|fusion), "
                             "partner, copy_number (tab-separated, header line)")
    parser.add_argument("--tmb", type=float, metavar="X", help="tumour mutational burden in mutations/megabase")
    parser.add_argument("--msi", metavar="STATUS", help="MSI status: MSI-H or MSS (also MSI-L, dMMR, pMMR)")
    parser.add_argument("--cancer-type", metavar="ONCOTREE",
                        help="the patient's OncoTree code (e.g. LUAD, COADREAD, BRCA, SKCM, HGSOC); decides which "
                             "matches apply to the patient")
    parser.add_argument("--sample", metavar="S", help="MAF: the Tumor_Sample_Barcode to read (when several)")
    parser.add_argument("--table", metavar="PATH", action="append",
                        help="also match a third-party table read from PATH (MOAlmanac JSON, CGI biomarkers TSV; "
                             "cancer hotspots TSV adds hotspot annotations); repeatable. Not shipped: their "
                             "licences (GPL-2.0, AGPL-3.0, unclear) keep them out of the package")
    parser.add_argument("--include-filtered", action="store_true", help="VCF: also use records that are not PASS")
    parser.add_argument("--score-vus", action="store_true",
                        help="give BRCA1/2 VUS the DNA language model's zero-shot effect score (loads the model)")
    parser.add_argument("--json", action="store_true", help="print JSON (with provenance) instead of a table")


def run(args: argparse.Namespace) -> int:
    import warnings

    from genomics.biomarkers import load_third_party, match_biomarkers, read_tumour
    from genomics.biomarkers.importers import annotate_hotspots
    from genomics.errors import DegradedResultWarning, UsageError

    if args.tumour is None and args.cnv is None and args.tmb is None and args.msi is None:
        raise UsageError("nothing to match", fix="give TUMOUR_FILE and/or --cnv, --tmb, --msi")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegradedResultWarning)  # the report lists them itself
        profile = read_tumour(args.tumour, file_format=args.file_format, cnv=args.cnv, tmb=args.tmb, msi=args.msi,
                              sample=args.sample, include_filtered=args.include_filtered)
    extra = []
    hotspot_notes = []
    imports = []
    for path in args.table or []:
        kind, table, summary = load_third_party(path)
        imports.append({"kind": kind, **summary.to_dict()})
        if kind == "hotspots":
            hotspot_notes.extend(annotate_hotspots(profile, table))
        else:
            extra.append(table)
    scorer = None
    if args.score_vus:
        from genomics.biomarkers import dnalm_vus_scorer

        scorer = dnalm_vus_scorer()
    report = match_biomarkers(profile, cancer_type=args.cancer_type, extra_tables=extra, vus_scorer=scorer)
    if args.json:
        from recommender.commands._output import print_json

        data = report.to_dict()
        data["hotspot_annotations"] = hotspot_notes
        data["provenance"]["third_party_imports"] = imports
        print_json(data)
    else:
        print(report.format_table())
        for h in hotspot_notes:
            print(f"hotspot: {h['gene']} p.{h['protein_change']} lies on recurrent codon {h['hotspot_codon']} "
                  f"({h['tumour_count']} tumours; {h['source']})")
        for imp in imports:
            print(f"imported {imp['kind']}: {imp['rows_kept']} of {imp['rows_read']} rows from {imp['source']}")
    return 0
