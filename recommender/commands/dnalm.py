"""``recommender dnalm score|train|info``: DNA language model variant scores and the default model.

Examples
--------
recommender dnalm score --variant chr17:43124096:G:A --json
recommender dnalm score --vcf patient.vcf.gz --sample S1 --cache ~/.cache/dnalm.sqlite --out scores.json
recommender dnalm train --shared ../shared/data/sequence --out my_model --max-minutes 30
recommender dnalm info
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from importlib import metadata
from pathlib import Path

from genomics.errors import InputFileError, UsageError

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="dnalm_command", metavar="{score,train,info}")
    sub.required = True

    sc = sub.add_parser("score", help="zero-shot effect scores, consequences and embedding deltas of variants")
    src = sc.add_argument_group("variants (one or more sources)")
    src.add_argument("--variant", action="append", default=[], metavar="CHR:POS:REF:ALT",
                     help="one variant, e.g. chr17:43124096:G:A (repeatable)")
    src.add_argument("--variants", metavar="TSV", help="table with columns contig, pos, ref, alt [, gene]")
    src.add_argument("--vcf", metavar="PATH", help="VCF/BCF; with --sample only that sample's non-reference alleles")
    src.add_argument("--sample", help="sample name in --vcf")
    src.add_argument("--region", help="region of --vcf, e.g. chr17:43044295-43125483")
    sc.add_argument("--model", default=None, help="model folder or hub id (default: the shipped model)")
    sc.add_argument("--allow-hub", action="store_true", help="allow downloading --model from a model hub")
    sc.add_argument("--trust-remote-code", action="store_true", help="run the model's own code (DNABERT-2, NT v2...)")
    sc.add_argument("--tokenization", choices=["char", "kmer", "bpe"], help="override tokenizer detection")
    sc.add_argument("--reference", default=None, help="GRCh38 FASTA (default: the bundled GRCh38 subset)")
    sc.add_argument("--device", default="auto", help="auto (CUDA, MPS, CPU), cpu, cuda, cuda:N, mps")
    sc.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"], help="autocast on CUDA only")
    sc.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    sc.add_argument("--window", type=int, default=None, help="window length in bases (default: the model's)")
    sc.add_argument("--batch-size", type=int, default=None)
    sc.add_argument("--cache", default=None, metavar="SQLITE", help="persistent score cache (shared by processes)")
    sc.add_argument("--no-embeddings", action="store_true", help="skip embedding deltas (half the forward passes)")
    sc.add_argument("--ref-mismatch", choices=["error", "skip"], default="error")
    sc.add_argument("--combination", default=None, metavar="JSON",
                    help="fitted variant-effect combination (default: the one shipped with the package)")
    sc.add_argument("--json", action="store_true", help="print JSON (scores, consequences, per-gene pools, provenance)")
    sc.add_argument("--out", help="write the JSON result to this file (atomic)")

    tr = sub.add_parser("train", help="pre-train the default character-level DNA LM (CPU)")
    from genomics.dnalm.train import add_train_arguments

    add_train_arguments(tr)

    info = sub.add_parser("info", help="the default (or given) model's size, data and held-out metrics")
    info.add_argument("--model", default=None)
    info.add_argument("--trust-remote-code", action="store_true", help="run the model folder's own code (see score)")
    info.add_argument("--json", action="store_true")


def _parse_variant(text: str):
    from genomics.dnalm import Variant

    parts = text.replace("-", ":").split(":")
    if len(parts) != 4 or not parts[1].isdigit():
        raise UsageError(f"cannot read variant {text!r}", field="--variant", fix="write CHR:POS:REF:ALT, e.g. chr17:43124096:G:A")
    return Variant(parts[0], int(parts[1]), parts[2].upper(), parts[3].upper())


def _read_table(path: str):
    from genomics.dnalm import Variant

    p = Path(path)
    if not p.exists():
        raise InputFileError("file not found", file=p, fix="check the path")
    out = []
    with p.open() as fh:
        dialect = "excel-tab" if "\t" in fh.readline() else "excel"
        fh.seek(0)
        for n, row in enumerate(csv.DictReader(fh, dialect=dialect), start=2):
            try:
                out.append(Variant(row["contig"], int(row["pos"]), row["ref"].upper(), row["alt"].upper(),
                                   row.get("gene") or None))
            except (KeyError, ValueError, TypeError):
                raise InputFileError("row is not contig, pos, ref, alt [, gene]", file=p, record=f"line {n}",
                                     fix="use a header line: contig pos ref alt gene") from None
    return out


def _read_vcf(path: str, sample: str | None, region: str | None, reference):
    from genomics.dnalm import Variant
    from genomics.vcf import VcfReader

    out = []
    with VcfReader(path, samples=[sample] if sample else None, reference=reference) as reader:
        for rec in reader.fetch(region):
            for k, alt in enumerate(rec.alts, start=1):
                if sample is not None:
                    gt = rec.gt
                    if not (gt == k).any():
                        continue
                out.append(Variant(rec.chrom, rec.pos, rec.ref, alt))
    return out


def _version() -> str:
    try:
        return metadata.version("genomics-treatment-recommender")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _score(args) -> int:
    from genomics.dnalm import VariantScorer, load_model, pool_by_gene
    from genomics.dnalm.consequence import annotate
    from genomics.dnalm.variant_effect import assess, load_combination
    from genomics.reference import reference_from_option

    reference = reference_from_option(args.reference)
    variants = [_parse_variant(v) for v in args.variant]
    if args.variants:
        variants += _read_table(args.variants)
    if args.vcf:
        variants += _read_vcf(args.vcf, args.sample, args.region, reference)
    if not variants:
        raise UsageError("no variants given", field="variants", fix="use --variant, --variants TSV or --vcf")
    lm = load_model(args.model, device=args.device, precision=args.precision, allow_hub=args.allow_hub,
                    trust_remote_code=args.trust_remote_code, tokenization=args.tokenization, threads=args.threads)
    scorer = VariantScorer(lm, reference, window_bases=args.window, batch_size=args.batch_size, cache=args.cache,
                           embeddings=not args.no_embeddings, on_ref_mismatch=args.ref_mismatch)
    # consequence first, so each variant gets its gene for the per-gene pools
    from dataclasses import replace

    cons = []
    for i, v in enumerate(variants):
        try:
            c = annotate(v.contig, v.pos, v.ref, v.alt, reference)
        except Exception:  # noqa: BLE001 - outside the reference: no consequence
            c = None
        cons.append(c)
        if v.gene is None and c is not None and c.gene:
            variants[i] = replace(v, gene=c.gene)
    scores = scorer.score(variants)
    combination = load_combination(args.combination)
    rows = []
    for s, c in zip(scores, cons):
        d = s.to_dict(embedding=not args.no_embeddings)
        d["consequence"] = None if c is None else c.to_dict()
        effect = assess(None if c is None else c.consequence, None if c is None else c.in_exon,
                        None if c is None else c.exon_boundary_distance, s.llr, combination=combination,
                        lm_model=lm.cache_key)
        d["variant_effect"] = effect.to_dict()
        d["combined_score"] = -effect.log_odds  # lower = more damaging
        rows.append(d)
    result = {
        "schema": "dnalm-scores/1",
        "variants": rows,
        "genes": {g: p.to_dict() for g, p in pool_by_gene(scores).items()},
        "provenance": {"package_version": _version(), "genome_build": "GRCh38", **lm.provenance(),
                       "reference": str(getattr(reference, "label", None) or args.reference or "bundled"),
                       "transcripts": "MANE Select (GENCODE intervals), genomics/dnalm/data/transcripts",
                       "variant_effect_combination": {"version": combination.version, "lm_model": combination.lm_model,
                                                      "weights": dict(zip(combination.parts, combination.weights)),
                                                      "contributing_parts": combination.contributing_parts(),
                                                      "training": combination.training.get("sets")}},
    }
    if args.out:
        from recommender.commands._output import write_atomic

        write_atomic(args.out, json.dumps(result, indent=2) + "\n")
    if args.json:
        from recommender.commands._output import print_json

        print_json(result)
    else:
        print(f"{'variant':<28} {'status':<24} {'llr':>8} {'consequence':<18} {'P(damaging) [90% CI]':<22} not assessed")
        for r in rows:
            label = f"{r['contig']}:{r['pos']}:{r['ref']}>{r['alt']}"
            llr = "" if r["llr"] is None else f"{r['llr']:.3f}"
            con = "" if r["consequence"] is None else r["consequence"]["consequence"]
            ve = r["variant_effect"]
            prob = f"{ve['probability']:.3f} [{ve['interval'][0]:.3f}-{ve['interval'][1]:.3f}]"
            print(f"{label:<28} {r['status']:<24} {llr:>8} {con:<18} {prob:<22} {','.join(ve['not_assessed']) or '-'}")
        used = ", ".join(combination.contributing_parts()) or "none"
        print(f"combined with fitted weights ({combination.version}); parts with weight > 0: {used}", file=sys.stderr)
        print(f"model {lm.model_id} ({lm.weights_sha}) on {lm.device}; {len(rows)} variants", file=sys.stderr)
    return 0


def _info(args) -> int:
    from genomics.dnalm import load_model

    lm = load_model(args.model, device="cpu", trust_remote_code=getattr(args, "trust_remote_code", False))
    m = dict(lm.metrics)
    m.pop("inputs_sha256", None)
    info = {**lm.provenance(), "parameters": sum(p.numel() for p in lm.model.parameters()), "metrics": m}
    if args.json:
        from recommender.commands._output import print_json

        print_json(info)
    else:
        for k, v in info.items():
            print(f"{k}: {v if not isinstance(v, dict) else json.dumps(v)[:400]}")
    return 0


def run(args) -> int:
    if args.dnalm_command == "score":
        return _score(args)
    if args.dnalm_command == "train":
        from genomics.dnalm.train import run_training

        return run_training(args)
    if args.dnalm_command == "info":
        return _info(args)
    raise UsageError(f"unknown dnalm command {args.dnalm_command!r}", fix="use score, train or info")
