"""Pre-treatment pharmacogenetic testing advice, shown when a guideline's gene was not assessed.

When a drug has a CPIC/DPWG guideline but the gene it needs was not genotyped (no germline VCF, gene
not covered, not callable or ambiguous), the drug's guidance is ``not_assessed``
(:mod:`genomics.pgx.actions`) and carries the testing advice of this table for the missing gene(s).

The bundled CPIC/DPWG tables (PharmCAT's ``reporter/guidelines``) hold the per-genotype
recommendation text only: they contain no sentence about testing *before* treatment. So the advice
here is **the project's summary, not a quotation** (``verbatim=False``); each entry cites where it comes
from: the guideline annotation(s) of the bundled knowledge base for this drug (name, URL, PMIDs; read
from the tables at run time, so they always match the tables in force) and, where a regulator's label
or statement asks for testing, that document by name.

Examples
--------
>>> [a.genes for a in testing_advice("capecitabine", ["DPYD"])]
[('DPYD',)]
>>> testing_advice("oxaliplatin", ["DPYD"])
()
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["PRETREATMENT_TESTS", "PretreatmentTest", "testing_advice"]


@dataclass(frozen=True)
class PretreatmentTest:
    """Advice to test ``genes`` before starting one of ``drugs``.

    Attributes
    ----------
    genes : tuple[str, ...]
        Genes to test (HGNC symbols as the guideline tables write them).
    drugs : tuple[str, ...]
        Lower-case generic names the advice is for.
    advice : str
        The advice in plain words: the project's summary of the cited sources (``verbatim`` is False).
    label_sources : tuple[str, ...]
        Regulatory documents that ask for the test (by name).
    guidelines : tuple[dict, ...]
        Guideline annotations of the bundled knowledge base for this drug and gene(s): ``source``,
        ``name``, ``url``, ``pmids`` (filled by :func:`testing_advice`).
    verbatim : bool
        Always False here: the bundled tables have no pre-treatment testing text to quote.
    """

    genes: tuple[str, ...]
    drugs: tuple[str, ...]
    advice: str
    label_sources: tuple[str, ...] = ()
    guidelines: tuple[dict[str, Any], ...] = ()
    verbatim: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_FLUOROPYRIMIDINES = ("fluorouracil", "capecitabine", "tegafur")
_THIOPURINES = ("mercaptopurine", "thioguanine", "azathioprine")

#: The table (project summaries; see the module docstring for what is and is not quoted).
PRETREATMENT_TESTS: tuple[PretreatmentTest, ...] = (
    PretreatmentTest(
        genes=("DPYD",), drugs=_FLUOROPYRIMIDINES,
        advice=("Test DPYD before the first dose of a fluoropyrimidine: the CPIC and DPWG guidelines set the "
                "starting dose by DPYD genotype (reduced, or an alternative drug, for decreased DPD activity), "
                "and the EMA recommends testing for DPD deficiency before treatment with fluorouracil, "
                "capecitabine or tegafur."),
        label_sources=("EMA, 'EMA recommendations on DPD testing prior to treatment with fluorouracil, "
                       "capecitabine, tegafur and flucytosine' (EMA/229267/2020, 30 April 2020)",),
    ),
    PretreatmentTest(
        genes=("UGT1A1",), drugs=("irinotecan",),
        advice=("Genotype UGT1A1 before the first dose of irinotecan: the DPWG guideline gives a reduced starting "
                "dose for UGT1A1 poor metabolisers (e.g. *28/*28), and the irinotecan label advises a reduced "
                "starting dose for patients known to be homozygous for UGT1A1*28."),
        label_sources=("Irinotecan (Camptosar) US prescribing information, Dosage and Administration: "
                       "patients homozygous for UGT1A1*28",),
    ),
    PretreatmentTest(
        genes=("TPMT", "NUDT15"), drugs=_THIOPURINES,
        advice=("Test TPMT and NUDT15 before starting a thiopurine: CPIC and DPWG give reduced starting doses "
                "(or an alternative) for decreased-function genotypes, which carry a high risk of severe "
                "myelosuppression at standard doses."),
        label_sources=("Mercaptopurine / thioguanine / azathioprine US prescribing information: TPMT and NUDT15 "
                       "deficiency",),
    ),
    PretreatmentTest(
        genes=("HLA-B",), drugs=("abacavir",),
        advice=("Screen for HLA-B*57:01 before starting abacavir (boxed warning of the label); CPIC and DPWG: "
                "do not use abacavir in carriers."),
        label_sources=("Abacavir (Ziagen) US prescribing information, boxed warning: hypersensitivity reactions "
                       "and HLA-B*5701",),
    ),
    PretreatmentTest(
        genes=("HLA-B", "HLA-A"), drugs=("carbamazepine",),
        advice=("Test HLA-B*15:02 before starting carbamazepine in patients with ancestry in populations where "
                "the allele is common (boxed warning of the label); CPIC also covers HLA-A*31:01."),
        label_sources=("Carbamazepine (Tegretol) US prescribing information, boxed warning: serious "
                       "dermatologic reactions and HLA-B*1502",),
    ),
    PretreatmentTest(
        genes=("G6PD",), drugs=("rasburicase",),
        advice=("Test G6PD before rasburicase: CPIC advises against rasburicase in G6PD deficiency (risk of "
                "acute haemolysis and methaemoglobinaemia), and the label asks to screen patients at higher "
                "risk of G6PD deficiency before starting."),
        label_sources=("Rasburicase (Elitek) US prescribing information, boxed warning: hemolysis in G6PD "
                       "deficiency",),
    ),
)


def _guideline_refs(drug: str, genes: Iterable[str], kb: Any) -> tuple[dict[str, Any], ...]:
    from genomics.pgx.guidance import _drug_index, _pkg_genes

    wanted = set(genes)
    out = []
    for pkg in _drug_index(kb).get(drug, []):
        if not wanted & set(_pkg_genes(pkg)):
            continue
        g = pkg["guideline"]
        out.append({"source": str(g.get("source", "")).upper(), "name": g.get("name"), "url": g.get("url"),
                    "pmids": tuple(str(c["pmid"]) for c in pkg.get("citations") or []
                                   if isinstance(c, dict) and c.get("pmid"))})
    return tuple(out)


def testing_advice(drug: str, missing_genes: Iterable[str], *, kb: Any = None) -> tuple[PretreatmentTest, ...]:
    """The testing advice for ``drug`` that names any of ``missing_genes`` (with the KB's guideline refs).

    Parameters
    ----------
    drug
        Lower-case generic name.
    missing_genes
        Genes the drug's guideline needs that were not assessed.
    kb
        The PGx knowledge base whose guideline annotations are cited (default: the active one).
    """
    drug = drug.strip().lower()
    missing = {g.strip() for g in missing_genes}
    hits = [t for t in PRETREATMENT_TESTS if drug in t.drugs and missing & set(t.genes)]
    if not hits:
        return ()
    if kb is None:
        from genomics.pgx.knowledge_base import active_knowledge_base

        kb = active_knowledge_base()
    return tuple(PretreatmentTest(genes=t.genes, drugs=t.drugs, advice=t.advice, label_sources=t.label_sources,
                                  guidelines=_guideline_refs(drug, t.genes, kb), verbatim=False) for t in hits)
