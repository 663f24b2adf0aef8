"""Germline BRCA1/2 -> olaparib eligibility on a simulated cohort, with the tumour's BRCA record left out.

The simulator writes each germline BRCA1/2 carrier's curated variant into the cohort VCF
(``cohorts/data/germline_brca_variants.tsv``). This script scores the carriers (and every 20th non-carrier)
with their cancer type's candidates but **without any tumour data** (the common case: a germline test, no
tumour panel), once with germline BRCA1/2 not read (the behaviour before germline eligibility) and once read
from the VCF (``genomics.biomarkers.read_germline_genes_cohort``), and prints olaparib's eligibility in a table,
then the carriers the rule does not establish, with their variant and why. No model is run (eligibility only).

    recommender cohort simulate -o /tmp/simpaad -n 1200 --seed 11 --cancer-types PAAD
    python benchmarks/eval_germline_parp.py /tmp/simpaad
"""

from __future__ import annotations

import argparse
from collections import Counter


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cohort", help="a simulated cohort directory (recommender cohort simulate)")
    args = ap.parse_args(argv)
    import pandas as pd

    from cohorts.simulate_model import CANDIDATES
    from genomics.biomarkers.germline import GermlineGenes, read_germline_genes_cohort
    from recommender import ScoringContext, score_patients

    d = args.cohort
    pts = pd.read_parquet(f"{d}/patients.parquet")
    truth = pd.read_parquet(f"{d}/truth/germline.parquet")
    m = pts[["patient_id", "sample_id", "cancer_type"]].merge(
        truth[["patient_id", "germline_brca_lof", "germline_brca_variant"]], on="patient_id")
    m = m[m.germline_brca_lof | (m.index % 20 == 0)]
    m = m[[("olaparib" in CANDIDATES.get(c, ())) for c in m.cancer_type]]
    sample = dict(zip(m.patient_id, m.sample_id))
    carrier = dict(zip(m.patient_id, m.germline_brca_lof))
    germ = read_germline_genes_cohort(f"{d}/germline.vcf.gz", list(dict.fromkeys(sample.values())))
    records = [{"patient_id": p, "diagnosis": {"cancer_type": c}, "candidate_treatments": list(CANDIDATES[c])}
               for p, c in zip(m.patient_id, m.cancer_type)]
    print("| germline BRCA1/2 | carrier (truth) | olaparib eligible | not established | eligible (predicted VUS) |")
    print("|---|---|---:|---:|---:|")
    missed: list[str] = []
    for arm in ("not read (before)", "read from the VCF"):
        table = ({p: GermlineGenes.not_assessed("not read") for p in sample} if arm.startswith("not")
                 else {p: germ[s] for p, s in sample.items()})
        out: Counter = Counter()
        for rec in score_patients(records, context=ScoringContext(False), germline_genes=table):
            o = rec.option("olaparib")
            out[(carrier[rec.patient_id], o.eligibility)] += 1
            if arm.startswith("read") and carrier[rec.patient_id] and o.eligibility != "eligible":
                ev = "; ".join(e.label for e in o.variant_evidence) or "no variant read"
                missed.append(f"{rec.patient_id} ({rec.cancer_type}): {ev}")
        for c in (True, False):
            print(f"| {arm} | {'yes' if c else 'no'} | {out[(c, 'eligible')]} | {out[(c, 'not_established')]} | "
                  f"{out[(c, 'eligible_predicted')]} |")
    for line in missed:
        print("not established for a carrier:", line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
