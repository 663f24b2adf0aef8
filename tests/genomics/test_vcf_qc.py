"""vcf_qc: per-sample and per-file numbers checked by hand against the fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genomics.vcf import VcfReader, vcf_qc

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "vcf"


@pytest.fixture(scope="module")
def summary():
    return vcf_qc(FIX / "basic.vcf.gz")


def test_file_totals(summary):
    t = summary.totals
    assert t.records == 14 and t.passed == 13 and t.filtered == 1
    assert t.no_genotype == 1
    assert t.multiallelic == 3  # 200 (G,T), 600 (T,<NON_REF>), 800 (A,*)
    assert t.symbolic == 5  # 300, 500, 600, 700, 800
    assert t.contigs == ["chr1", "chr10", "chrX"]
    # SNVs: 100 A>G ti, 150 C>T ti, 200 A>G ti + A>T tv, 900 T>C ti, 94761900 C>T ti, 94781859 G>A ti,
    # X1000 A>G ti, X2000 C>T ti, X3000 G>A ti; 600 C>T ti (its other allele is symbolic)
    assert (t.transitions, t.transversions) == (10, 1)


def test_sample_numbers(summary):
    s1, s2, s3 = summary.samples
    assert [s.sample for s in summary.samples] == ["S1", "S2", "S3"]
    # 13 records with GT each
    assert s1.records == s2.records == s3.records == 13
    # S2 missing at 150 (./.), 2000 (./.); S3 missing at 200 (./.), 2000 (.)
    assert (s2.missing, s3.missing) == (2, 2)
    assert s2.missing_rate == round(2 / 13, 4)
    # S3 is male: haploid calls at chrX 1000, 3000 (2000 is a missing haploid call)
    assert s3.haploid == 2
    # S1: het at 100, 150, 200 (1/2), 300, 600, 700, 800, X1000, 94761900, 94781859; hom_alt at X3000 (haploid 1)
    assert (s1.het, s1.hom_alt) == (10, 1)
    assert s1.het_hom_ratio == 10.0
    # S2: hom_alt at 100 (1|1), 94781859 (1|1), X1000 (1|1); het at 200 (0/2), 500, 800 (1/2)
    assert (s2.het, s2.hom_alt) == (3, 3)


def test_phased_fraction_counts_called_diploid_calls(summary):
    s1 = summary.samples[0]
    # S1 diploid called: 12 (13 records - X3000 haploid); phased: 100, 94761900, 94781859, X2000 (0|0)
    assert s1.phased == 4
    assert s1.phased_fraction == round(4 / 12, 4)


def test_ti_tv_per_sample(summary):
    s1 = summary.samples[0]
    # S1 carries alt at SNV sites: 100 ti, 150 ti, 200 (G ti and T tv), 600 (T ti), 94761900 ti, 94781859 ti,
    # X1000 ti, X3000 ti  -> ti 8, tv 1
    assert (s1.transitions, s1.transversions) == (8, 1)


def test_pass_and_filtered_calls(summary):
    s1 = summary.samples[0]
    assert s1.filtered_calls == 1 and s1.pass_calls == 12


def test_summary_carries_build_access_and_provenance_and_serialises(summary):
    d = summary.to_dict()
    json.dumps(d)
    assert d["build"]["build"] == "GRCh38" and d["access"] == "scan"
    assert d["provenance"]["version"] and d["provenance"]["genome_build"] == "GRCh38"
    text = summary.format_table()
    assert "S3" in text and "GRCh38" in text and "scan (streaming" in text


def test_region_and_sample_selection():
    s = vcf_qc(FIX / "basic.vcf.gz", samples=["S2"], region="chrX")
    assert s.access == "index" and s.totals.records == 3 and [x.sample for x in s.samples] == ["S2"]
    assert s.samples[0].missing == 1


def test_qc_accepts_an_open_reader():
    r = VcfReader(FIX / "basic.bcf")
    assert vcf_qc(r).totals.records == 14
