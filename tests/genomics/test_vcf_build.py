"""Genome build detection: header contig lengths, reference, known positions, assumed; GRCh37 refused."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from genomics.errors import DegradedResultWarning, GenomeBuildError, UsageError
from genomics.vcf import BuildCall, VcfReader, detect_build
from genomics.vcf.build import (
    GRCH37_LENGTHS,
    GRCH38_LENGTHS,
    build_from_contig_lengths,
    build_from_reference,
    known_positions,
)

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "vcf"


class FakeReference:
    """A reference that knows a few bases (1-based) and raises for everything else."""

    build = "GRCh38"

    def __init__(self, bases: dict[tuple[str, int], str]):
        self.bases = bases

    def fetch(self, contig: str, start: int, end: int) -> str:
        out = []
        for pos in range(start, end + 1):
            key = (contig if contig.startswith("chr") else f"chr{contig}", pos)
            if key not in self.bases:
                raise KeyError(key)
            out.append(self.bases[key])
        return "".join(out)


def test_lengths_tables_differ_for_every_chromosome():
    assert set(GRCH38_LENGTHS) == set(GRCH37_LENGTHS)
    assert all(GRCH38_LENGTHS[c] != GRCH37_LENGTHS[c] for c in GRCH38_LENGTHS)
    assert GRCH38_LENGTHS["1"] == 248_956_422 and GRCH37_LENGTHS["1"] == 249_250_621


@pytest.mark.parametrize(
    "lengths, build",
    [
        ({"chr1": 248_956_422, "chrM": 16_569}, "GRCh38"),
        ({"1": 249_250_621, "X": 155_270_560}, "GRCh37"),
        ({"chr1": 248_956_422, "chr2": 243_199_373}, "unknown"),  # mixed
        ({"chr1": 1000}, "unknown"),
    ],
)
def test_build_from_contig_lengths(lengths, build):
    call = build_from_contig_lengths(lengths)
    assert call is not None and call.build == build and call.method == "header contig lengths"


def test_no_lengths_decides_nothing():
    assert build_from_contig_lengths({"chr1": None, "chrUn_x": 5}) is None


def test_header_lengths_grch38():
    call = VcfReader(FIX / "basic.vcf.gz").build
    assert call == BuildCall("GRCh38", "header contig lengths", False, call.detail)


def test_grch37_accepted_when_asked_for():
    r = VcfReader(FIX / "grch37.vcf.gz", build="GRCh37")
    assert r.build.build == "GRCh37" and not r.build.assumed


def test_grch38_file_refused_when_grch37_asked_for():
    with pytest.raises(GenomeBuildError):
        VcfReader(FIX / "basic.vcf.gz", build="GRCh37")


def test_unknown_build_name_is_a_usage_error():
    with pytest.raises(UsageError):
        VcfReader(FIX / "basic.vcf.gz", build="hg18")


def test_build_aliases():
    assert VcfReader(FIX / "basic.vcf.gz", build="hg38").build.build == "GRCh38"


def test_known_positions_table_is_bundled_and_well_formed():
    table = known_positions()
    assert len(table) > 500
    by_rs = {kp.rsid: kp for kp in table}
    cyp2c19_2 = by_rs["rs4244285"]
    assert (cyp2c19_2.chrom, cyp2c19_2.grch38_pos, cyp2c19_2.grch37_pos) == ("chr10", 94781859, 96541616)


def test_known_positions_detect_grch38_without_contig_lengths():
    call = VcfReader(FIX / "nolength_grch38.vcf.gz").build
    assert (call.build, call.method, call.assumed) == ("GRCh38", "known positions", False)


def test_known_positions_detect_grch37_by_scan_and_refuse_it():
    with pytest.raises(GenomeBuildError) as info:
        VcfReader(FIX / "nolength_grch37.vcf")
    assert "known positions" in info.value.message
    assert VcfReader(FIX / "nolength_grch37.vcf", build="GRCh37").build.method == "known positions"


def test_nothing_to_go_on_means_assumed_and_warned():
    with pytest.warns(DegradedResultWarning, match="assumed"):
        call = VcfReader(FIX / "nolength_unknown.vcf.gz").build
    assert (call.build, call.method, call.assumed) == ("GRCh38", "assumed", True)
    assert "assumed" in call.detail


NOLENGTH_BASES = {("chr1", 1000): "A", ("chr1", 2000): "C", ("chr1", 3000): "G"}


def test_reference_decides_the_build_when_the_header_has_no_lengths():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegradedResultWarning)
        r = VcfReader(FIX / "nolength_unknown.vcf.gz", reference=FakeReference(NOLENGTH_BASES))
    assert (r.build.build, r.build.method) == ("GRCh38", "reference")


def test_reference_that_disagrees_means_not_grch38():
    wrong = {k: {"A": "C", "C": "G", "G": "T"}[v] for k, v in NOLENGTH_BASES.items()}
    with pytest.raises(GenomeBuildError):
        VcfReader(FIX / "nolength_unknown.vcf.gz", reference=FakeReference(wrong))


def test_build_from_reference_needs_enough_comparable_records():
    ref = FakeReference({("chr1", 1): "A"})
    assert build_from_reference([("chr1", 5, "A"), ("chr1", 6, "C")], ref) is None


def test_ref_mismatches_are_counted_and_reported():
    bases = {("chr1", 100): "A", ("chr1", 150): "G", ("chr1", 200): "A"}  # 150 is C in the file
    r = VcfReader(FIX / "basic.vcf.gz", reference=FakeReference(bases))
    list(r.fetch("chr1:100-200"))
    rc = r.ref_check
    assert (rc.checked, rc.mismatched) == (3, 1)
    assert rc.examples == ["chr1:150 REF C but reference G"]
    assert rc.not_covered == 0


def test_detect_build_never_refuses():
    assert detect_build(FIX / "grch37.vcf.gz").build == "GRCh37"


# -- with the bundled GRCh38 reference subset (BRCA1 region) ------------------------------------------


@pytest.fixture(scope="module")
def bundled():
    reference = pytest.importorskip("genomics.reference")
    return reference.bundled_reference()


def test_bundled_reference_decides_grch38_from_brca1_codons(bundled):
    r = VcfReader(FIX / "brca1_nolength.vcf", reference=bundled)
    assert (r.build.build, r.build.method, r.build.assumed) == ("GRCh38", "reference", False)
    assert "6 of 6" in r.build.detail


def test_bundled_reference_counts_the_wrong_ref(bundled):
    r = VcfReader(FIX / "brca1_mismatch.vcf", reference=bundled)
    list(r.fetch())
    assert (r.ref_check.checked, r.ref_check.mismatched, r.ref_check.not_covered) == (6, 1, 0)
    assert r.ref_check.examples == ["chr17:43124096 REF G but reference T"]


def test_positions_outside_the_bundled_subset_are_not_covered_not_mismatched(bundled):
    r = VcfReader(FIX / "basic.vcf.gz", reference=bundled)
    list(r.fetch())
    assert r.ref_check.checked == 0 and r.ref_check.mismatched == 0 and r.ref_check.not_covered == 14
