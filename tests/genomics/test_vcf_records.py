"""VcfRecord / BiallelicView: genotype codes, phase, PS/DP/GQ, missing, haploid, multi-allelic, symbolic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from genomics.vcf import HAPLOID_PAD, MISSING, OTHER_ALT, VcfReader

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "vcf"


@pytest.fixture(scope="module", params=["basic.vcf.gz", "basic.bcf", "basic.vcf"])
def records(request):
    return {x.pos: x for x in VcfReader(FIX / request.param).fetch()}


def test_phase_and_phase_set(records):
    rec = records[100]
    assert rec.gt.dtype == np.int16 and rec.gt.shape == (3, 2)
    assert rec.phased.tolist() == [True, True, False]
    assert rec.phase_set.tolist() == [100, -1, -1]
    assert records[94781859].phase_set.tolist() == [94761900, -1, -1]


def test_depth_and_quality_with_missing_values(records):
    rec = records[150]
    assert rec.dp.tolist() == [5, -1, 7]
    assert rec.gq.tolist() == [20, -1, 30]
    assert records[300].dp is None  # record without DP


def test_missing_calls(records):
    np.testing.assert_array_equal(records[150].gt[1], [MISSING, MISSING])  # ./.
    np.testing.assert_array_equal(records[200].gt[2], [MISSING, MISSING])  # ./.
    np.testing.assert_array_equal(records[2000].gt[2], [MISSING, HAPLOID_PAD])  # bare "."


def test_filters_and_pass(records):
    assert records[100].filters == ("PASS",) and records[100].is_pass
    assert records[150].filters == ("q10",) and not records[150].is_pass
    assert records[500].filters == () and records[500].is_pass


def test_haploid_chrx_calls_in_a_male(records):
    # mixed ploidy in one record: S3 is haploid
    np.testing.assert_array_equal(records[1000].gt, [[0, 1], [1, 1], [1, HAPLOID_PAD]])
    # every call haploid: htslib's narrow array is widened to (n, 2)
    np.testing.assert_array_equal(records[3000].gt, [[1, HAPLOID_PAD], [0, HAPLOID_PAD], [1, HAPLOID_PAD]])
    assert records[3000].phased.tolist() == [True, True, True]
    assert records[1000].phased[2]


def test_record_without_gt_does_not_crash(records):
    rec = records[900]
    assert not rec.has_gt
    assert rec.gt.shape == (3, 2) and (rec.gt == MISSING).all()
    assert rec.phased.tolist() == [False, False, False]
    assert rec.dp.tolist() == [10, 11, 12]
    assert [v.alt for v in rec.biallelic()] == ["C"]


def test_multiallelic_split_maps_genotypes(records):
    rec = records[200]  # A>G,T ; S1 1/2, S2 0/2, S3 ./.
    views = list(rec.biallelic())
    assert [(v.alt, v.alt_index, v.is_split) for v in views] == [("G", 1, True), ("T", 2, True)]
    np.testing.assert_array_equal(views[0].gt, [[1, OTHER_ALT], [0, OTHER_ALT], [MISSING, MISSING]])
    np.testing.assert_array_equal(views[1].gt, [[OTHER_ALT, 1], [0, 1], [MISSING, MISSING]])
    assert views[1].alt_dosage.tolist() == [1, 1, -1]
    # the parent record is unchanged by splitting
    np.testing.assert_array_equal(rec.gt, [[1, 2], [0, 2], [MISSING, MISSING]])


def test_biallelic_record_gives_one_view_with_the_same_genotypes(records):
    views = list(records[100].biallelic())
    assert len(views) == 1 and not views[0].is_split
    np.testing.assert_array_equal(views[0].gt, records[100].gt)


@pytest.mark.parametrize(
    "pos, symbolic",
    [(300, (True,)), (500, (True,)), (600, (False, True)), (700, (True,)), (800, (False, True)), (100, (False,))],
)
def test_symbolic_alleles_are_recognised(records, pos, symbolic):
    assert records[pos].symbolic == symbolic


def test_symbolic_alleles_are_not_misparsed(records):
    assert records[300].alts == ("<DEL>",) and records[300].ref == "A"
    assert records[600].alts == ("T", "<NON_REF>")
    assert records[700].alts == ("G]chr10:1000]",)
    assert not records[300].is_snv and records[100].is_snv
