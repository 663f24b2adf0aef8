"""The reader on the real 1000 Genomes files (3,202 samples, no contig lengths; GRCh37 DPYD refused)."""

from __future__ import annotations

import numpy as np
import pytest

from genomics.errors import GenomeBuildError
from genomics.vcf import VcfReader, vcf_qc


@pytest.fixture(scope="module")
def pop(shared_data):
    return shared_data / "population"


def test_1kgp_grch38_build_from_known_positions(pop):
    r = VcfReader(pop / "1kgp_GRCh38" / "CYP2C19.vcf.gz")
    assert len(r.samples) == 3202
    assert (r.build.build, r.build.method, r.build.assumed) == ("GRCh38", "known positions", False)


def test_1kgp_grch37_dpyd_refused_unless_asked(pop):
    path = pop / "1kgp_GRCh37" / "DPYD.vcf.gz"
    with pytest.raises(GenomeBuildError) as info:
        VcfReader(path)
    assert "GRCh37" in info.value.message
    assert VcfReader(path, build="GRCh37").build.build == "GRCh37"


def test_1kgp_region_query_by_index_with_bare_contig_name(pop):
    r = VcfReader(pop / "1kgp_GRCh38" / "CYP2C19.vcf.gz", samples=["HG00096", "NA18486"])
    recs = list(r.fetch("10:94781859-94781859"))
    assert r.access == "index" and [x.pos for x in recs] == [94781859]
    assert recs[0].gt.shape == (2, 2) and recs[0].phased.all()


def test_1kgp_g6pd_males_are_haploid(pop):
    s = vcf_qc(pop / "1kgp_GRCh38" / "G6PD.vcf.gz", samples=["HG00096", "HG00097"])
    male, female = s.samples
    assert male.haploid == male.records and male.phased_fraction is None
    assert female.haploid == 0 and female.phased_fraction == 1.0


def test_1kgp_cyp2c19_star2_frequency_is_plausible(pop):
    r = VcfReader(pop / "1kgp_GRCh38" / "CYP2C19.vcf.gz")
    rec = r.fetch_positions([("chr10", 94781859)])[("chr10", 94781859)][0]
    af = float((rec.gt == 1).sum()) / float((rec.gt >= 0).sum())
    assert 0.2 < af < 0.4  # CYP2C19*2 is ~29 % across 1000 Genomes
    assert np.isin(rec.gt, [0, 1]).all()
