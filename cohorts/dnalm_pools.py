"""DNA LM gene pools for every patient of a cohort (the ``dnalm`` feature block for training and evaluation).

The cohort's germline VCF is read once over each DNA LM gene's canonical transcript (the MANE Select table of
:mod:`genomics.dnalm`) for all samples; every distinct non-reference allele is scored once with the DNA LM
(:class:`genomics.dnalm.VariantScorer`, bundled GRCh38 subset by default), and each sample's carried alleles are
pooled per gene (:func:`genomics.dnalm.pool_by_gene`), exactly as :func:`recommender.dnalm_features.dnalm_gene_features`
does for one patient at scoring time. Patients without a carried allele in a gene get no block for it (the model
treats it as missing, as at scoring time).
"""

from __future__ import annotations

from typing import Any

__all__ = ["cohort_dnalm_pools"]


def cohort_dnalm_pools(cohort: Any, genes: tuple[str, ...] | list[str], *, reference: str | None = None,
                       model: str | None = None) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """``({patient_id: {gene: GeneEmbedding}}, notes)`` for a loaded cohort (:class:`cohorts.Cohort`)."""
    notes: list[str] = []
    vcf = cohort.vcf_path
    if vcf is None or not genes:
        return {}, ["no germline VCF in the cohort (or no DNA LM genes): DNA LM features missing for everyone"]
    from genomics.dnalm import Variant, pool_by_gene
    from genomics.dnalm.consequence import load_transcripts
    from genomics.vcf import VcfReader

    transcripts = load_transcripts()
    carried: dict[int, list[Any]] = {}  # sample index -> variants
    with VcfReader(vcf) as reader:
        samples = list(reader.samples)
        for gene in genes:
            tx = transcripts.get(gene)
            if tx is None:
                notes.append(f"{gene}: no canonical transcript in the DNA LM table; its features are missing")
                continue
            for rec in reader.fetch(f"{tx.chrom}:{tx.start}-{tx.end}"):
                for k, alt in enumerate(rec.alts, start=1):
                    if rec.symbolic[k - 1]:
                        continue
                    who = (rec.gt == k).any(axis=1).nonzero()[0]
                    if len(who) == 0:
                        continue
                    variant = Variant(rec.chrom, rec.pos, rec.ref, alt, gene=gene)
                    for i in who:
                        carried.setdefault(int(i), []).append(variant)
    if not carried:
        return {}, notes + ["no sample carries a variant in the DNA LM genes: DNA LM features missing for everyone"]
    from genomics.dnalm import VariantScorer, load_model
    from genomics.reference import reference_from_option

    lm = load_model(model) if model else load_model()
    scorer = VariantScorer(lm, reference=reference_from_option(reference), on_ref_mismatch="skip")
    distinct = sorted({v for vs in carried.values() for v in vs}, key=lambda v: (v.contig, v.pos, v.ref, v.alt))
    by_variant = dict(zip(distinct, scorer.score(distinct), strict=True))
    failed = [s for s in by_variant.values() if s.status != "ok"]
    if failed:
        notes.append(f"{len(failed)} of {len(distinct)} distinct variants not scored by the DNA LM "
                     f"({', '.join(sorted({s.status for s in failed}))})")
    sample_to_patient: dict[str, str] = {}
    pts = cohort.table("patients")
    if "sample_id" in pts:
        for pid, sid in zip(pts["patient_id"].astype(str), pts["sample_id"], strict=True):
            if isinstance(sid, str) and sid:
                sample_to_patient[sid] = pid
    pools: dict[str, dict[str, Any]] = {}
    for i, variants in carried.items():
        pid = sample_to_patient.get(samples[i])
        if pid is None:
            continue
        pooled = pool_by_gene(by_variant[v] for v in variants)
        if pooled:
            pools[pid] = pooled
    notes.append(f"DNA LM features for {len(pools)} patients from {len(distinct)} distinct variants "
                 f"({lm.cache_key})")
    return pools, notes
