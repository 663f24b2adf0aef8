"""The bundled demo VCF: readable, GRCh38 from its header, real 1000 Genomes genotypes, filled calls marked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from genomics.vcf import VcfReader, vcf_qc

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "genomics" / "data" / "demo" / "demo_pgx_panel.vcf.gz"


def test_demo_is_small_indexed_and_grch38_by_header():
    assert DEMO.stat().st_size < 1_000_000
    r = VcfReader(DEMO)
    assert r.index_path is not None
    assert (r.build.build, r.build.method) == ("GRCh38", "header contig lengths")
    assert len(r.samples) == 8


def test_demo_qc_runs_and_is_phased_with_haploid_males():
    s = vcf_qc(DEMO)
    assert s.totals.records > 1000
    assert all(x.phased_fraction == 1.0 for x in s.samples)
    assert all(x.missing == 0 for x in s.samples)
    males = [x.sample for x in s.samples if x.haploid > 0]
    assert 0 < len(males) < 8


def test_demo_has_explicit_reference_calls_at_pharmcat_positions_marked_filled():
    r = VcfReader(DEMO)
    filled = [rec for rec in r.fetch("chr10:94761900-94855547") if rec.info("FILLED")]
    assert filled, "CYP2C19 has PharmCAT positions absent from 1000 Genomes"
    for rec in filled:
        assert (rec.gt == 0).all() and rec.phased.all()


def test_demo_matches_the_1000_genomes_source(shared_data):
    src = shared_data / "population" / "1kgp_GRCh38" / "CYP2C19.vcf.gz"
    demo = VcfReader(DEMO)
    source = VcfReader(src, samples=demo.samples)
    pos = ("chr10", 94781859)  # CYP2C19*2, rs4244285
    a = demo.fetch_positions([pos])[pos]
    b = source.fetch_positions([pos])[pos]
    assert a is not None and b is not None
    np.testing.assert_array_equal(a[0].gt, b[0].gt)
    np.testing.assert_array_equal(a[0].phased, b[0].phased)


@pytest.mark.slow
def test_demo_rebuild_is_byte_identical(shared_data, tmp_path):
    from genomics.vcf.make_demo import make_demo

    out = make_demo(shared_data, tmp_path)
    assert out.read_bytes() == DEMO.read_bytes()


def test_demo_has_dpyd_from_grch37_at_every_pharmcat_position():
    """Issue 20: the demo colorectal patient's fluoropyrimidines get DPYD guidance, not a gap."""
    import warnings

    from genomics.pgx import call_pgx

    r = VcfReader(DEMO)
    dpyd = list(r.fetch("chr1:97078000-97884000"))
    assert len(dpyd) == 83 and all(rec.info("FROM_GRCH37") for rec in dpyd)
    star9a = next(rec for rec in dpyd if rec.pos == 97883329)  # rs1801265: REF differs between the builds
    assert rec_alleles(star9a) == ("A", "G")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profile = call_pgx(DEMO, sample="NA19625", include_positions=False)
    assert profile.genes["DPYD"].status == "called" and profile.genes["DPYD"].activity_score == "2.0"


def rec_alleles(rec) -> tuple[str, str]:
    return rec.ref, rec.alts[0]
