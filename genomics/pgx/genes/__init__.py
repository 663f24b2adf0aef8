"""Gene-specific calling rules, one small module per rule, so a CPIC rule change touches one file.

* :mod:`~genomics.pgx.genes.lowest_function` -- DPYD, RYR1, CACNA1S: without usable phase the two
  lowest-function alleles form the diplotype (CPIC/PharmCAT); alleles the phenotype table does not
  rate are "uncertain function";
* :mod:`~genomics.pgx.genes.g6pd` -- G6PD on chrX: sex given or inferred from ploidy;
* :mod:`~genomics.pgx.genes.cyp2d6` -- CYP2D6: copy number (``*5``, ``xN``) from an outside call or the
  VCF, else the call is provisional.

:func:`rules_for` gives the flags the matcher reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "LOWEST_FUNCTION_GENES",
    "UNDOCUMENTED_AS_REFERENCE",
    "GeneRules",
    "allele_sort_key",
    "rules_for",
]

#: Genes whose undocumented variants at defining positions are matched as reference (PharmCAT rule).
UNDOCUMENTED_AS_REFERENCE = frozenset({"CACNA1S", "DPYD", "G6PD", "NUDT15", "RYR1", "TPMT"})
#: Genes called by the "lowest function" rule when phase is not known (CPIC: DPYD; PharmCAT also RYR1, CACNA1S).
LOWEST_FUNCTION_GENES = frozenset({"CACNA1S", "DPYD", "RYR1"})


@dataclass(frozen=True)
class GeneRules:
    """What is special about one gene for the matcher and the caller."""

    gene: str
    undocumented_as_reference: bool = False
    lowest_function: bool = False
    sex_linked: bool = False
    copy_number_sensitive: bool = False


def rules_for(gene: str) -> GeneRules:
    """The :class:`GeneRules` of ``gene``."""
    g = gene.upper()
    return GeneRules(
        gene=g,
        undocumented_as_reference=g in UNDOCUMENTED_AS_REFERENCE,
        lowest_function=g in LOWEST_FUNCTION_GENES,
        sex_linked=g == "G6PD",
        copy_number_sensitive=g == "CYP2D6",
    )


def allele_sort_key(name: str) -> tuple:
    """Natural order of allele names: ``*1 < *2 < *10 < *10.002 < named alleles``."""
    m = re.match(r"^\*(\d+)(.*)$", name)
    if m:
        return (0, int(m.group(1)), m.group(2))
    if name.lower().startswith("reference") or name.endswith("(reference)"):
        return (-1, 0, name)
    return (1, 0, name)
