"""Germline BRCA1/2 reading and variant-effect evidence for scoring: what is shown beside PARP / platinum options.

:func:`germline_genes_for_patient` reads BRCA1/2 from the patient's germline VCF (the file the PGx caller
reads) with :func:`genomics.biomarkers.germline.read_germline_genes`; without a VCF, or when it cannot be
read for these genes, every gene is ``not_assessed`` with the reason (never "wild type").
:func:`patient_variant_evidence` turns the germline alleles and the tumour's BRCA1/2 VUS into
:class:`~recommender.recommendation.VariantEvidence` (consequence, splice distance, DNA LM part, fitted
probability with its 90% interval), and :func:`evidence_for_option` keeps those beside an option that holds a
PARP inhibitor or a platinum drug (:data:`genomics.biomarkers.variant_evidence.THERAPY_GENES`).

Eligibility itself is decided in :mod:`genomics.biomarkers.eligibility` (one rule,
:func:`genomics.biomarkers.variant_evidence.parp_eligibility`); this module only carries data to the result.

Examples
--------
>>> germline_genes_for_patient(None, None).genes[0].status
'not_assessed'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from genomics.errors import RecommenderError

__all__ = ["LM_NOT_COMPUTED", "evidence_for_option", "germline_genes_for_patient", "patient_variant_evidence"]

#: ``lm_status`` of a VUS whose DNA LM part was not computed in this run.
LM_NOT_COMPUTED = ("not computed for this result (the DNA LM runs only when the model bundle's DNA LM features "
                   "were computed; the shipped combination gives the LM weight 0, so it cannot change the probability)")


def germline_genes_for_patient(vcf: str | os.PathLike[str] | None, sample: str | None, *,
                               reference: Any = None) -> Any:
    """BRCA1/2 of the patient's germline VCF (:class:`~genomics.biomarkers.germline.GermlineGenes`).

    A VCF that cannot be read for these genes (the PGx caller read it already, so this is rare) gives
    ``not_assessed`` with the reader's one-line error: a gap, never a guess.
    """
    from genomics.biomarkers.germline import GermlineGenes, read_germline_genes

    if vcf is None:
        return GermlineGenes.not_assessed("no germline VCF given: germline BRCA1/2 not assessed")
    try:
        ref = None
        if reference is not None:
            from genomics.reference import reference_from_option

            ref = reference if hasattr(reference, "fetch") else reference_from_option(str(reference))
        return read_germline_genes(vcf, sample, reference=ref)
    except RecommenderError as err:
        return GermlineGenes.not_assessed(f"germline BRCA1/2 not assessed: {err.one_line()}")


def patient_variant_evidence(germline: Any, report: Any, *, lm_scorer: Any = None) -> tuple[dict[str, Any], ...]:
    """Evidence dicts of the patient's BRCA1/2 germline alleles (not the benign-looking ones) and tumour VUS."""
    from genomics.biomarkers.eligibility import _tumour_vus_variants
    from genomics.biomarkers.variant_evidence import variant_evidence

    genes = ("BRCA1", "BRCA2")
    out = []
    items: list[Any] = [] if germline is None else [v for v in germline.variants if v.gene in genes]
    items += _tumour_vus_variants(report, genes) if report is not None else []
    for item in items:
        ev = variant_evidence(item, lm_scorer=lm_scorer, source="tumour" if isinstance(item, dict) else "germline")
        if ev.supports == "benign_like":
            continue
        d = ev.to_dict()
        if d["lm_status"] == "not computed" and ev.classification == "vus":
            d["lm_status"] = LM_NOT_COMPUTED
        out.append(d)
    return tuple(out)


def evidence_for_option(drugs: Sequence[str], evidence: Sequence[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """The evidence items that bear on an option's drugs (BRCA1/2 beside PARP inhibitors and platinum)."""
    from genomics.biomarkers.variant_evidence import THERAPY_GENES

    genes = {g for d in drugs for g in THERAPY_GENES.get(d.strip().lower(), ())}
    return tuple(e for e in evidence if e["gene"] in genes)
