"""``recommender score``: rank one patient's treatment options (JSON, self-contained HTML report, PDF).

Without arguments beyond ``--demo`` it scores the demo patient shipped in the package (colon cancer,
FOLFOX / FOLFIRI / CAPOX / FOLFOX+panitumumab, real 1000 Genomes genotypes of NA19625, KRAS G12D).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from recommender.commands._output import print_json, write_atomic

__all__ = ["DEMO_PATIENT", "add_arguments", "run"]

#: The demo patient shipped in the package (its germline path is relative to this file).
DEMO_PATIENT = Path(__file__).resolve().parent.parent / "data" / "demo" / "demo_patient.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("patient", nargs="?", metavar="PATIENT.json",
                        help="patient record: our JSON schema or a GA4GH Phenopacket v2 JSON")
    parser.add_argument("--demo", action="store_true", help="score the demo patient shipped in the package")
    parser.add_argument("--vcf", metavar="VCF", help="germline VCF/BCF (GRCh38); overrides the record's germline.path")
    parser.add_argument("--sample", metavar="S", help="sample of the VCF; overrides the record's germline.sample_id")
    parser.add_argument("--outside-calls", metavar="TSV",
                        help="outside PGx calls (CYP2D6 with copy number, DPYD, HLA...), see `recommender pgx`")
    parser.add_argument("--tumour", "--tumor", metavar="FILE",
                        help="tumour somatic VCF or MAF; overrides the record's tumour_variants")
    parser.add_argument("--treatments", nargs="+", metavar="REGIMEN",
                        help="options to compare (regimen names); overrides the record's candidate_treatments")
    parser.add_argument("--bundle", metavar="DIR", help="model bundle directory (default: the bundle shipped in "
                        "the package; without one, guidance and evidence are shown and model numbers are marked "
                        "unavailable)")
    parser.add_argument("--no-model", action="store_true", help="skip the model: guidance and evidence only")
    parser.add_argument("--covariates", nargs="+", metavar="NAME=VALUE",
                        help="clinical covariates a bundle trained on a real cohort needs (its model card lists "
                             "them), e.g. --covariates nodes_positive=3 grade=2 claudin_subtype=LumA; also "
                             "er_positive=yes, msi_high=no, tmb=12")
    parser.add_argument("--fill-missing-covariates", action="store_true",
                        help="score even when a covariate the bundle needs is not given: the models impute its "
                             "training median (the result's warnings name it)")
    parser.add_argument("--fill-missing-with-reference", action="store_true",
                        help="treat PGx positions absent from the VCF as reference (recorded in the output)")
    parser.add_argument("--cyp2d6-without-copy-number", action="store_true",
                        help="use a CYP2D6 call made from SNVs/indels alone for guidance (default: without a "
                             "copy-number source it is provisional, not used for guidance; recorded in the output)")
    parser.add_argument("--allow-avoid-first", action="store_true",
                        help="rank by the model alone even above guidance 'avoid' flags (the result says so)")
    parser.add_argument("--json", action="store_true", help="print the Recommendation as JSON on stdout")
    parser.add_argument("--out", metavar="FILE", help="write the Recommendation JSON to FILE")
    parser.add_argument("--html", metavar="OUT", help="write the self-contained HTML report to OUT")
    parser.add_argument("--pdf", metavar="OUT", help="write the report as PDF (A4) to OUT; needs Chromium "
                        "(`apt-get install chromium`, or $RECOMMENDER_CHROMIUM) and the playwright package")


def _summary(rec) -> str:
    model = f"bundle {rec.model_status.bundle_id}" if rec.model_status.available else "unavailable"
    lines = [f"patient {rec.patient_id}  cancer type {rec.cancer_type or '-'}  model: {model}"]
    if not rec.model_status.available:
        lines.append(f"  model numbers unavailable: {rec.model_status.reason}")
    lines.append(f"{'#':<3}{'option':<22}{'guidance':<13}{'response':<18}{'PFS median (months)':<22}{'utility':<9}flags")
    for o in rec.options:
        m = o.model
        resp = pfs = util = "-"
        if m.available and m.response is not None:
            r = m.response
            resp = f"{100 * r.probability:.0f}%" + (f" ({100 * r.low:.0f}-{100 * r.high:.0f})"
                                                    if r.low is not None and r.high is not None else "")
        if m.available:
            s = next((s for s in m.survival if s.endpoint == "pfs"), None)
            if s is not None:
                month = 30.4375  # survival in months on every view
                pfs = "not reached" if s.median_days is None else f"{s.median_days / month:.1f}"
                if s.low is not None and s.high is not None:
                    pfs += f" ({s.low / month:.1f}-{s.high / month:.1f})"
            if m.utility is not None:
                util = f"{m.utility:.3f}"
        flags = [f"{f.drug}: {f.label or f.action}" for f in o.pgx
                 if f.action not in ("no_guidance", "standard") or f.missing_genes]
        if o.eligibility != "eligible":
            flags.append(o.eligibility_label)
        for e in getattr(o, "variant_evidence", ()):  # BRCA1/2 beside PARP inhibitors and platinum
            if e.supports == "loss_of_function":
                flags.append(f"{e.source} {e.gene} {e.variant} {e.consequence}: loss of function")
            else:
                num = ("P not assessed" if e.probability is None else
                       f"P={e.probability:.2f} ({e.interval[0]:.2f}-{e.interval[1]:.2f})")
                flags.append(f"{e.source} {e.gene} {e.variant} VUS ({e.consequence or 'consequence not assessed'}): "
                             f"variant-effect evidence {num}; confirm by clinical classification")
        flags += [f"{b.finding} {b.direction} ({b.level_for_patient or b.evidence_level})" for b in o.biomarkers]
        if m.ood.flag:
            flags.append("outside training data")
        lines.append(f"{o.rank:<3}{o.regimen[:21]:<22}{o.guidance_action:<13}{resp:<18}{pfs:<22}{util:<9}"
                     f"{'; '.join(flags)}")
    for o in rec.options:
        for w in o.warnings:
            lines.append(f"  {o.regimen}: {w}")
    for d in rec.disagreements:
        lines.append(f"DISAGREEMENT: {d.message}")
    for w in rec.warnings:
        lines.append(f"note: {w}")
    lines.append(rec.disclaimer)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from genomics.errors import UsageError
    from recommender.report import render_report
    from recommender.requests import PatientInputs, RankingOptions
    from recommender.scoring import ScoringContext, score_patient

    if args.demo and args.patient:
        raise UsageError("give a PATIENT file or --demo, not both", fix="drop one of them")
    stray = next((c for c in args.covariates or () if "=" not in c), None)
    if stray is not None and not args.patient:  # `--covariates a=1 patient.json`: argparse took the file
        raise UsageError(f"{stray!r} is not NAME=VALUE", field="--covariates",
                         fix="put PATIENT.json before --covariates (it takes every word after it)")
    if not args.demo and not args.patient:
        raise UsageError("no patient given", fix="give PATIENT.json (or a Phenopacket), or --demo")
    if args.bundle and args.no_model:
        raise UsageError("--bundle and --no-model contradict each other", fix="drop one of them")
    if args.sample and not args.vcf and not args.patient and not args.demo:
        raise UsageError("--sample needs a VCF", fix="add --vcf FILE")
    if args.pdf:
        from recommender.report_pdf import check_pdf_backend

        check_pdf_backend()  # no Chromium or Playwright: say so before scoring, not after
    patient = DEMO_PATIENT if args.demo else Path(args.patient)
    bundle = False if args.no_model else args.bundle
    from recommender.covariate_inputs import parse_covariate_assignments

    covariates = parse_covariate_assignments(args.covariates) if args.covariates else None
    inputs = PatientInputs(germline_vcf=args.vcf, sample=args.sample, tumour=args.tumour,
                           outside_calls=args.outside_calls, covariates=covariates,
                           fill_missing_covariates=args.fill_missing_covariates,
                           fill_missing_with_reference=args.fill_missing_with_reference,
                           cyp2d6_without_copy_number=args.cyp2d6_without_copy_number)
    rec = score_patient(patient, args.treatments, inputs=inputs,
                        ranking=RankingOptions(allow_avoid_first=args.allow_avoid_first),
                        context=ScoringContext(bundle))
    if args.out:
        write_atomic(args.out, rec.to_json() + "\n")
    html = render_report(rec) if args.html or args.pdf else None
    if args.html:
        write_atomic(args.html, html)
    if args.pdf:
        from recommender.report_pdf import html_to_pdf

        html_to_pdf(html, args.pdf)
    if args.json:
        print_json(rec.to_dict())
    else:
        print(_summary(rec))
        for path, what in ((args.out, "JSON"), (args.html, "HTML report"), (args.pdf, "PDF report")):
            if path:
                print(f"{what} written to {path}", file=sys.stderr)
    return 0
