"""G6PD (chrX): hemizygous in males. The sex is taken as given, or inferred from the chrX calls.

* ``sex="male"`` forces a haploid (one-allele) call; heterozygous calls then make the gene not callable;
* without a given sex, haploid calls mean male, any heterozygous call means female, and diploid
  homozygous calls leave the sex unknown (said so in ``sex_source``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["force_haploid", "sex_for_call"]


def force_haploid(sex: str | None) -> bool:
    """Whether G6PD must be called as one allele."""
    return sex == "male"


def sex_for_call(out: Any, geno: Any, sex: str | None) -> tuple[str | None, str]:
    """``(sex used for the phenotype, how it was decided)``; adds a warning to ``out`` on a conflict."""
    if sex is not None:
        if sex == "female" and out.haploid:
            out.warnings.append("sex given as female but chrX calls are haploid; called as haploid")
        return sex, "given"
    if out.haploid:
        return "male", "inferred from chrX ploidy (haploid genotypes)"
    a1, a2 = np.asarray(geno.a1), np.asarray(geno.a2)
    if out.n_observed and (a1 != a2)[(a1 >= 0) & (a2 >= 0)].any():
        return "female", "inferred from chrX ploidy (heterozygous genotypes)"
    return None, "unknown: diploid homozygous chrX calls; if male, the call is hemizygous"
