"""DNA LM gene pools for a cohort's patients (the dnalm feature block for cohort training and evaluation)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cohorts.dnalm_pools import cohort_dnalm_pools

VCF = Path(__file__).resolve().parents[1] / "fixtures" / "dnalm" / "brca1_small.vcf"


class _FakeCohort:
    vcf_path = VCF

    def table(self, name):
        assert name == "patients"
        return pd.DataFrame({"patient_id": ["P1", "P2", "P3"], "sample_id": ["S1", "S2", None]})


@pytest.mark.slow
def test_each_carrier_gets_its_own_pool_and_distinct_variants_are_scored_once():
    pools, notes = cohort_dnalm_pools(_FakeCohort(), ("BRCA1",))
    # S1 carries 43093000 CT>C and 43124096 T>C; S2 carries 43100000 A>G and 43124096 T>C (fixture genotypes)
    assert set(pools) == {"P1", "P2"}
    assert pools["P1"]["BRCA1"].mean_embedding_delta != pools["P2"]["BRCA1"].mean_embedding_delta
    assert any("3 distinct variants" in n for n in notes)


def test_cohort_without_vcf_gives_no_pools_and_says_so():
    class NoVcf(_FakeCohort):
        vcf_path = None

    pools, notes = cohort_dnalm_pools(NoVcf(), ("BRCA1",))
    assert pools == {} and "no germline VCF" in notes[0]
