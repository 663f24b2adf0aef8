"""DNA LM gene features for scoring: a patient's variants in the DNA LM genes, scored and pooled per gene.

The default model bundle's feature schema has DNA LM gene features (``DEFAULT_DNALM_GENES``: BRCA1, BRCA2).
:func:`dnalm_gene_features` reads the patient's non-reference alleles inside each gene's canonical transcript
(the MANE Select table shipped with :mod:`genomics.dnalm`), scores them with the DNA language model
(:class:`genomics.dnalm.VariantScorer`, bundled GRCh38 subset unless a reference FASTA is given) and pools them
per gene (:func:`genomics.dnalm.pool_by_gene`). The model is loaded only when there is something to score, so a
patient without variants in those genes costs one region query per gene.

Uncertainty is data: a gene without a transcript, a variant outside the reference or a REF that disagrees with it
is reported in ``notes``; the model then treats that gene's features as missing.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DnaLmFeatures", "dnalm_gene_features"]


@dataclass(frozen=True)
class DnaLmFeatures:
    """Pooled DNA LM features per gene, the model that made them and what could not be scored."""

    genes: dict[str, Any] = field(default_factory=dict)  # gene -> genomics.dnalm.GeneEmbedding
    model: str | None = None  # "model_id@weights_sha256_16" when the model ran
    n_variants: int = 0
    notes: tuple[str, ...] = ()


@functools.lru_cache(maxsize=2)
def _model(model: str | None):
    from genomics.dnalm import load_model

    return load_model(model) if model else load_model()


def dnalm_gene_features(
    vcf: str | os.PathLike[str],
    sample: str | None,
    genes: tuple[str, ...] | list[str],
    *,
    reference: str | os.PathLike[str] | None = None,
    model: str | None = None,
) -> DnaLmFeatures:
    """Score the sample's variants in ``genes`` with the DNA LM and pool them per gene.

    Parameters
    ----------
    vcf, sample
        Germline VCF and sample name (``None``: the file's only sample).
    genes
        Gene symbols (the model bundle's DNA LM genes).
    reference
        GRCh38 FASTA; default the bundled subset (BRCA1 region and MHC genes).
    model
        Local path of a DNA LM; default the model shipped with :mod:`genomics.dnalm`.
    """
    from genomics.dnalm import Variant, pool_by_gene
    from genomics.dnalm.consequence import load_transcripts
    from genomics.vcf import VcfReader

    transcripts = load_transcripts()
    notes: list[str] = []
    variants: list[Any] = []
    with VcfReader(vcf, samples=[sample] if sample else None) as reader:
        for gene in genes:
            tx = transcripts.get(gene)
            if tx is None:
                notes.append(f"{gene}: no canonical transcript in the DNA LM table; its DNA LM features are missing")
                continue
            for rec in reader.fetch(f"{tx.chrom}:{tx.start}-{tx.end}"):
                for k, alt in enumerate(rec.alts, start=1):
                    if rec.symbolic[k - 1] or not (rec.gt == k).any():
                        continue
                    variants.append(Variant(rec.chrom, rec.pos, rec.ref, alt, gene=gene))
    if not variants:
        notes.append(f"no variants of this sample in the DNA LM genes ({', '.join(genes)}); features missing")
        return DnaLmFeatures(notes=tuple(notes))

    from genomics.dnalm import VariantScorer
    from genomics.reference import reference_from_option

    lm = _model(model)
    scorer = VariantScorer(lm, reference=reference_from_option(None if reference is None else str(reference)),
                           on_ref_mismatch="skip")
    scores = scorer.score(variants)
    for s in scores:
        if s.status != "ok":
            notes.append(f"{s.contig}:{s.pos}:{s.ref}>{s.alt}: not scored by the DNA LM ({s.status})")
    pools = pool_by_gene(scores)
    return DnaLmFeatures(genes=pools, model=lm.cache_key, n_variants=len(variants), notes=tuple(notes))
