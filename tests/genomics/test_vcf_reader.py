"""VcfReader: formats, samples, regions (index vs scan), contig names, positions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from genomics.errors import IndexFileError, UsageError, VcfError
from genomics.vcf import VcfReader

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "vcf"
ALL_POSITIONS = [100, 150, 200, 300, 500, 600, 700, 800, 900, 94761900, 94781859, 1000, 2000, 3000]


@pytest.mark.parametrize(
    "name, kind, index",
    [
        ("basic.vcf", "vcf", None),
        ("basic.vcf.gz", "vcf.gz", "basic.vcf.gz.tbi"),
        ("basic_csi.vcf.gz", "vcf.gz", "basic_csi.vcf.gz.csi"),
        ("basic.bcf", "bcf", "basic.bcf.csi"),
    ],
)
def test_every_format_reads_the_same_records(name, kind, index):
    r = VcfReader(FIX / name)
    assert r.kind == kind
    assert (r.index_path.name if r.index_path else None) == index
    recs = list(r.fetch())
    assert r.access == "scan"
    assert [x.pos for x in recs] == ALL_POSITIONS
    assert r.samples == ["S1", "S2", "S3"]
    first = recs[0]
    assert (first.chrom, first.id, first.ref, first.alts, first.qual) == ("chr1", "rs100", "A", ("G",), 50.0)
    np.testing.assert_array_equal(first.gt, [[0, 1], [1, 1], [0, 0]])


@pytest.mark.parametrize("name, access", [("basic.vcf.gz", "index"), ("basic_csi.vcf.gz", "index"),
                                           ("basic.bcf", "index"), ("noindex.vcf.gz", "scan"), ("basic.vcf", "scan")])
def test_region_query_uses_index_when_present_and_scans_otherwise(name, access):
    r = VcfReader(FIX / name)
    got = [x.pos for x in r.fetch("chr1:150-600")]
    assert r.access == access
    assert got == [150, 200, 300, 500, 600]


@pytest.mark.parametrize("name", ["basic.vcf.gz", "noindex.vcf.gz"])
def test_region_overlap_includes_a_deletion_starting_before_the_region(name):
    # chr1:800 AT>A spans 800-801: a query at 801 overlaps it, with and without the index
    r = VcfReader(FIX / name)
    assert [x.pos for x in r.fetch("chr1:801-801")] == [800]


@pytest.mark.parametrize("region", ["chr10:94761900-94781859", "10:94761900-94781859", "10:94,761,900-94,781,859"])
@pytest.mark.parametrize("name", ["basic.vcf.gz", "noindex.vcf.gz"])
def test_chr_prefixed_and_bare_contig_names_are_both_accepted(name, region):
    r = VcfReader(FIX / name)
    assert [x.pos for x in r.fetch(region)] == [94761900, 94781859]


def test_file_with_bare_contig_names_answers_chr_prefixed_queries():
    r = VcfReader(FIX / "single.vcf.gz")
    recs = list(r.fetch("chr10:94781859"))
    assert [(x.chrom, x.pos) for x in recs] == [("10", 94781859)]
    assert r.samples == ["P1"]


def test_unknown_contig_gives_no_records_not_an_error():
    r = VcfReader(FIX / "basic.vcf.gz")
    assert list(r.fetch("chr22:1-1000")) == []


def test_require_index_refuses_a_file_without_one():
    with pytest.raises(IndexFileError) as info:
        VcfReader(FIX / "noindex.vcf.gz", require_index=True)
    assert "noindex.vcf.gz" in info.value.one_line() and info.value.fix


def test_bad_region_is_a_usage_error():
    r = VcfReader(FIX / "basic.vcf.gz")
    with pytest.raises(UsageError):
        list(r.fetch("chr1:500-100"))


def test_sample_selection_by_name_keeps_file_order():
    r = VcfReader(FIX / "basic.vcf.gz", samples=["S3", "S1"])
    assert r.samples == ["S1", "S3"]
    rec = next(iter(r.fetch("chr1:100")))
    np.testing.assert_array_equal(rec.gt, [[0, 1], [0, 0]])
    # the scan path honours the selection too
    rec = next(iter(r.fetch()))
    assert rec.gt.shape == (2, 2)


def test_unknown_sample_lists_the_available_ones():
    with pytest.raises(VcfError) as info:
        VcfReader(FIX / "basic.vcf.gz", samples=["S1", "NA0"])
    err = info.value
    assert err.field == "sample" and "NA0" in err.message
    assert "S1, S2, S3" in err.fix


def test_fetch_positions_with_index_and_scan_agree_and_mark_absent_positions():
    wanted = [("chr10", 94781859), ("10", 94761900), ("chr1", 101), ("chr1", 200)]
    results = []
    for name, access in (("basic.vcf.gz", "index"), ("noindex.vcf.gz", "scan")):
        r = VcfReader(FIX / name)
        got = r.fetch_positions(wanted)
        assert r.access == access
        assert list(got) == wanted
        assert got[("chr1", 101)] is None
        results.append({k: None if v is None else [(x.pos, x.ref) for x in v] for k, v in got.items()})
    assert results[0] == results[1]
    assert results[0][("10", 94761900)] == [(94761900, "C")]


def test_single_sample_file_with_dp_and_gq():
    r = VcfReader(FIX / "single.vcf.gz")
    recs = list(r.fetch())
    assert [x.dp.tolist() for x in recs] == [[20], [25]]
    assert [x.gq.tolist() for x in recs] == [[99], [99]]
    np.testing.assert_array_equal(recs[1].gt, [[1, 1]])


def test_header_only_file_reads_no_records():
    r = VcfReader(FIX / "header_only.vcf")
    assert list(r.fetch()) == []
    assert r.samples == ["S1", "S2"]


def test_provenance_names_build_and_access():
    r = VcfReader(FIX / "basic.vcf.gz")
    list(r.fetch("chr1:100-200"))
    prov = r.provenance()
    assert prov["access"] == "index" and prov["build"]["build"] == "GRCh38" and prov["samples"] == 3
