"""DNA LM gene features for scoring: a patient's variants in the DNA LM genes, scored and pooled per gene.

The default model bundle's feature schema has DNA LM gene features (``DEFAULT_DNALM_GENES``: BRCA1, BRCA2).
:func:`dnalm_gene_features` reads the patient's non-reference alleles inside each gene's canonical transcript
(the MANE Select table shipped with :mod:`genomics.dnalm`), scores them with the DNA language model
(:class:`genomics.dnalm.VariantScorer`, bundled GRCh38 subset unless a reference FASTA is given) and pools them
per gene (:func:`genomics.dnalm.pool_by_gene`). The model is loaded only when there is something to score, so a
patient without variants in those genes costs one region query per gene.

Uncertainty is data: a gene without a transcript, a variant outside the reference or a REF that disagrees with it
is reported in ``notes``; the model then treats that gene's features as missing.

:func:`dnalm_features_for_samples` is the cohort form: each gene region of a multi-sample VCF is read once for a
chunk of samples, every distinct variant is scored once (through the SQLite :class:`genomics.dnalm.ScoreCache`,
shared by the worker processes of a run), the model loads once per process, and each sample gets exactly the
:class:`DnaLmFeatures` :func:`dnalm_gene_features` gives for it alone.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DnaLmFeatures", "dnalm_features_for_samples", "dnalm_gene_features", "no_variant_features"]


@dataclass(frozen=True)
class DnaLmFeatures:
    """Pooled DNA LM features per gene, the model that made them and what could not be scored."""

    genes: dict[str, Any] = field(default_factory=dict)  # gene -> genomics.dnalm.GeneEmbedding
    model: str | None = None  # "model_id@weights_sha256_16" when the model ran
    n_variants: int = 0
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; :meth:`from_dict` gives back an equal object (floats round-trip exactly)."""
        return {"genes": {g: e.to_dict() for g, e in self.genes.items()}, "model": self.model,
                "n_variants": self.n_variants, "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DnaLmFeatures:
        from genomics.dnalm import GeneEmbedding

        genes = {g: GeneEmbedding(gene=e["gene"], n_variants=int(e["n_variants"]),
                                  mean_embedding_delta=tuple(float(x) for x in e["mean_embedding_delta"]),
                                  min_llr=float(e["min_llr"]), sum_llr=float(e["sum_llr"]))
                 for g, e in data.get("genes", {}).items()}
        return cls(genes=genes, model=data.get("model"), n_variants=int(data.get("n_variants", 0)),
                   notes=tuple(data.get("notes", ())))


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


@functools.lru_cache(maxsize=4)
def _reference(reference: str | None) -> Any:
    from genomics.reference import reference_from_option

    return reference_from_option(reference)


_CACHES: dict[str, Any] = {}


def _score_cache(path: str | os.PathLike[str]) -> Any:
    """One :class:`~genomics.dnalm.ScoreCache` connection per process and file."""
    key = str(Path(path).resolve())
    if key in _CACHES and not os.path.exists(key):  # removed since (e.g. a finished run's default cache)
        _CACHES.pop(key).close()
    if key not in _CACHES:
        from genomics.dnalm import ScoreCache

        _CACHES[key] = ScoreCache(key)
    return _CACHES[key]


def _stage(timer: Any, name: str) -> Any:
    return contextlib.nullcontext() if timer is None else timer.stage(name)


def dnalm_features_for_samples(
    vcf: str | os.PathLike[str],
    samples: Sequence[str],
    genes: tuple[str, ...] | list[str],
    *,
    reference: str | os.PathLike[str] | None = None,
    model: str | None = None,
    cache: str | os.PathLike[str] | None = None,
    timer: Any = None,
) -> dict[str, DnaLmFeatures]:
    """:func:`dnalm_gene_features` for many samples of one VCF at once (the cohort form).

    Parameters
    ----------
    vcf, samples
        Multi-sample germline VCF and the samples wanted (e.g. one chunk of a cohort).
    genes, reference, model
        As :func:`dnalm_gene_features`.
    cache
        SQLite score cache (:class:`genomics.dnalm.ScoreCache`; safe with several processes): a variant
        scored once is read back, in this run and later ones. ``None``: no cache.
    timer
        Optional timing hook with a ``stage(name)`` context manager: region reads are timed as ``"vcf"``,
        model load, scoring and pooling as ``"dnalm"``.

    Returns
    -------
    dict
        ``sample -> DnaLmFeatures``, for every sample asked for; each equals what :func:`dnalm_gene_features`
        returns for that sample alone (same variants in the same order, notes, pools and model id).
    """
    from genomics.dnalm import Variant, pool_by_gene
    from genomics.dnalm.consequence import load_transcripts
    from genomics.vcf import VcfReader

    wanted = list(dict.fromkeys(samples))
    if not wanted:
        return {}
    transcripts = load_transcripts()
    carried: dict[str, list[Any]] = {s: [] for s in wanted}
    gene_notes = list(_gene_notes(genes, transcripts))
    with _stage(timer, "vcf"), VcfReader(vcf, samples=wanted) as reader:
        order = list(reader.samples)  # file order: the rows of rec.gt
        for gene in genes:
            tx = transcripts.get(gene)
            if tx is None:
                continue
            for rec in reader.fetch(f"{tx.chrom}:{tx.start}-{tx.end}"):
                gt = rec.gt.reshape(len(order), -1)
                for k, alt in enumerate(rec.alts, start=1):
                    if rec.symbolic[k - 1]:
                        continue
                    who = (gt == k).any(axis=1).nonzero()[0]
                    if len(who) == 0:
                        continue
                    variant = Variant(rec.chrom, rec.pos, rec.ref, alt, gene=gene)
                    for i in who:
                        carried[order[int(i)]].append(variant)
    out: dict[str, DnaLmFeatures] = {}
    nothing = no_variant_features(genes)
    for s, variants in carried.items():
        if not variants:
            out[s] = nothing
    distinct = list(dict.fromkeys(v for vs in carried.values() for v in vs))
    if not distinct:
        return out

    from genomics.dnalm import VariantScorer

    with _stage(timer, "dnalm"):
        lm = _model(model)
        scorer = VariantScorer(lm, reference=_reference(None if reference is None else str(reference)),
                               on_ref_mismatch="skip", cache=None if cache is None else _score_cache(cache))
        by_variant = dict(zip(distinct, scorer.score(distinct), strict=True))
        for s, variants in carried.items():
            if not variants:
                continue
            scores = [by_variant[v] for v in variants]
            notes = list(gene_notes)
            for sc in scores:
                if sc.status != "ok":
                    notes.append(f"{sc.contig}:{sc.pos}:{sc.ref}>{sc.alt}: not scored by the DNA LM ({sc.status})")
            out[s] = DnaLmFeatures(genes=pool_by_gene(scores), model=lm.cache_key, n_variants=len(variants),
                                   notes=tuple(notes))
    return out


def _gene_notes(genes: tuple[str, ...] | list[str], transcripts: Any) -> tuple[str, ...]:
    return tuple(f"{gene}: no canonical transcript in the DNA LM table; its DNA LM features are missing"
                 for gene in genes if transcripts.get(gene) is None)


def no_variant_features(genes: tuple[str, ...] | list[str]) -> DnaLmFeatures:
    """What :func:`dnalm_gene_features` returns for a sample without a variant in ``genes`` (no model run)."""
    from genomics.dnalm.consequence import load_transcripts

    none = f"no variants of this sample in the DNA LM genes ({', '.join(genes)}); features missing"
    return DnaLmFeatures(notes=(*_gene_notes(genes, load_transcripts()), none))
