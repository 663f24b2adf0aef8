"""Every known failure mode gives a project error naming file, record and fix (never a library error)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from genomics.errors import DegradedResultWarning, GenomeBuildError, IndexFileError, RecommenderError, VcfError
from genomics.vcf import VcfReader, vcf_qc

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "vcf"


def _read_all(path, **kw):
    r = VcfReader(path, **kw)
    return [(x.locus, x.gt.tolist(), x.dp) for x in r.fetch()]


def _check(err: RecommenderError, file_part: str, record: str | None = None, field: str | None = None):
    line = err.one_line()
    assert "\n" not in line
    assert file_part in (err.file or "")
    assert err.fix, "every error says what to do"
    if record is not None:
        assert err.record is not None and record in err.record, err.record
    if field is not None:
        assert err.field == field
    return line


def test_missing_file():
    with pytest.raises(VcfError) as info:
        VcfReader(FIX / "does_not_exist.vcf.gz")
    _check(info.value, "does_not_exist.vcf.gz")


def test_empty_file():
    with pytest.raises(VcfError) as info:
        VcfReader(FIX / "empty.vcf")
    assert "empty" in _check(info.value, "empty.vcf", record="line 1")


def test_compressed_file_with_no_content():
    with pytest.raises(VcfError) as info:
        VcfReader(FIX / "empty_content.vcf.gz")
    assert "empty" in _check(info.value, "empty_content.vcf.gz")


def test_file_that_is_not_a_vcf():
    with pytest.raises(VcfError) as info:
        VcfReader(FIX / "not_a_vcf.vcf")
    assert "not a VCF" in _check(info.value, "not_a_vcf.vcf", record="line 1")


def test_truncated_bgzip():
    with pytest.raises(VcfError) as info:
        VcfReader(FIX / "truncated.vcf.gz")
    assert "truncated" in _check(info.value, "truncated.vcf.gz")


def test_truncated_bgzip_detected_when_cut_at_a_block_boundary(tmp_path):
    # a copy without only its 28-byte EOF block: every block is intact, the end is missing
    data = (FIX / "basic.vcf.gz").read_bytes()
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(data[:-28])
    with pytest.raises(VcfError) as info:
        VcfReader(cut)
    assert "truncated" in info.value.message


def test_corrupt_index():
    with pytest.raises(IndexFileError) as info:
        VcfReader(FIX / "corrupt_index.vcf.gz")
    assert "index" in _check(info.value, "corrupt_index.vcf.gz.tbi")
    assert "tabix" in info.value.fix


def test_missing_index_falls_back_to_a_scan_and_says_so(tmp_path):
    copy = tmp_path / "copy.vcf.gz"
    shutil.copyfile(FIX / "basic.vcf.gz", copy)
    r = VcfReader(copy)
    assert r.index_path is None
    assert [x.pos for x in r.fetch("chr1:100-150")] == [100, 150]
    assert r.access == "scan"
    with pytest.raises(IndexFileError):
        VcfReader(copy, require_index=True)


def test_empty_index_file(tmp_path):
    copy = tmp_path / "copy.vcf.gz"
    shutil.copyfile(FIX / "basic.vcf.gz", copy)
    (tmp_path / "copy.vcf.gz.tbi").write_bytes(b"")
    with pytest.raises(IndexFileError) as info:
        VcfReader(copy)
    _check(info.value, "copy.vcf.gz.tbi")


@pytest.mark.parametrize("name", ["unsorted.vcf.gz", "unsorted_contigs.vcf"])
def test_unsorted_file_is_read_sorted_with_one_warning(name):
    # issue 12 (inputs PharmCAT reads): unsorted records are read, sorted, with one warning naming the line
    r = VcfReader(FIX / name)
    loci = [(x.chrom, x.pos) for x in r.fetch()]
    order = {c: i for i, c in enumerate(dict.fromkeys(c for c, _ in loci))}
    assert loci == sorted(loci, key=lambda k: (order[k[0]], k[1]))
    unsorted = [w for w in r.warnings if "not sorted" in w]
    assert len(unsorted) == 1 and "line " in unsorted[0] and "bcftools sort" in unsorted[0]


def test_unsorted_file_beyond_the_precheck_budget_is_read_in_file_order_with_one_warning(monkeypatch):
    monkeypatch.setenv("GENOMICS_VCF_PRECHECK_BYTES", "1")
    r = VcfReader(FIX / "unsorted_contigs.vcf")
    with pytest.warns(DegradedResultWarning):
        n = sum(1 for _ in r.fetch())
    assert n == sum(1 for line in (FIX / "unsorted_contigs.vcf").read_text().splitlines() if not line.startswith("#"))
    assert len([w for w in r.warnings if "not sorted" in w]) == 1


def test_unknown_sample():
    with pytest.raises(VcfError) as info:
        VcfReader(FIX / "basic.vcf.gz", samples=["HG00096"])
    _check(info.value, "basic.vcf.gz", field="sample")
    assert "S1" in info.value.fix


def test_record_without_gt_is_reported_not_crashed():
    summary = vcf_qc(FIX / "basic.vcf.gz")
    assert summary.totals.no_genotype == 1
    assert any("no GT" in w for w in summary.warnings)


def test_header_lies_about_type_integer_field_holds_a_float():
    with pytest.raises(VcfError) as info:
        _read_all(FIX / "lying_type.vcf")
    line = _check(info.value, "lying_type.vcf", record="chr1:200", field="DP")
    assert "FORMAT/DP" in line and "##FORMAT=<ID=DP" in info.value.fix


def test_header_lies_about_number_one_value_per_sample_holds_two():
    with pytest.raises(VcfError) as info:
        _read_all(FIX / "lying_number.vcf")
    _check(info.value, "lying_number.vcf", record="chr1:100", field="DP")


def test_grch37_input_is_refused_by_default():
    with pytest.raises(GenomeBuildError) as info:
        VcfReader(FIX / "grch37.vcf.gz")
    line = _check(info.value, "grch37.vcf.gz", field="build")
    assert "GRCh37" in line and "liftover" in info.value.fix.lower()


@pytest.mark.filterwarnings("ignore::genomics.errors.DegradedResultWarning")
def test_no_library_exception_escapes_on_any_fixture():
    for path in sorted(FIX.iterdir()):
        if path.suffix in (".py", ".tbi", ".csi"):
            continue
        try:
            for rec in VcfReader(path).fetch():
                rec.gt, rec.phased, rec.dp, rec.gq, rec.phase_set, list(rec.biallelic())
        except RecommenderError:
            pass


def test_header_lie_reports_the_line_of_the_failing_record():
    with pytest.raises(VcfError) as info:
        _read_all(FIX / "lying_type.vcf")
    lines = (FIX / "lying_type.vcf").read_text().splitlines()
    expected = next(i for i, line in enumerate(lines, start=1) if line.startswith("chr1\t200\t"))
    assert f"line {expected}" in info.value.record


def test_corrupt_block_in_the_middle_of_a_bgzip_file(tmp_path):
    import pysam

    text = tmp_path / "many.vcf"
    lines = (FIX / "header_only.vcf").read_text()
    lines += "".join(f"chr1\t{1000 + 10 * i}\t.\tA\tG\t50\tPASS\t.\tGT\t0|1\t1|1\n" for i in range(20000))
    text.write_text(lines)
    good = tmp_path / "many.vcf.gz"
    pysam.tabix_compress(str(text), str(good))
    data = bytearray(good.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 50] = b"\x00" * 50
    bad = tmp_path / "corrupt.vcf.gz"
    bad.write_bytes(bytes(data))
    with pytest.raises(VcfError) as info:  # header and end-of-file block are intact: found by the pre-check
        for _ in VcfReader(bad).fetch():
            pass
    assert "corrupt" in info.value.message and info.value.record.startswith("after chr1:")
    assert "again" in info.value.fix


def _demo_lines() -> list[str]:
    import gzip

    with gzip.open(Path(__file__).resolve().parents[2] / "genomics/data/demo/demo_pgx_panel.vcf.gz", "rt") as fh:
        return fh.read().splitlines(keepends=True)[:120]


@pytest.mark.parametrize("damage", ["blank_at_end", "blank_in_middle", "space_separated_record",
                                    "cut_before_first_tab"])
def test_blank_or_space_separated_line_is_an_error_not_a_segfault(tmp_path, damage):
    """cyvcf2 0.35 segfaulted reading REF of such a line; run in a child so a crash cannot hide as a pass."""
    import subprocess
    import sys

    lines = _demo_lines()
    first = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    bad = first + 10
    if damage == "blank_at_end":
        lines.append("\n")
        bad = len(lines)
    elif damage == "blank_in_middle":
        lines.insert(bad - 1, "\n")
    elif damage == "space_separated_record":
        lines[bad - 1] = lines[bad - 1].replace("\t", " ")
    else:  # a copy that stopped inside the first column of its last line
        lines = lines[:bad - 1] + [lines[bad - 1].split("\t", 1)[0][:3]]
    path = tmp_path / "damaged.vcf"
    path.write_text("".join(lines))
    code = ("import sys\nfrom genomics.vcf import VcfReader, vcf_qc\nfrom genomics.errors import VcfError\n"
            f"try:\n    vcf_qc(VcfReader({str(path)!r}, build='GRCh38'))\n"
            "except VcfError as e:\n    print(e.one_line()); sys.exit(3)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 3, (proc.returncode, proc.stderr[-500:])
    assert "damaged.vcf" in proc.stdout and f"line {bad}" in proc.stdout and "tab" in proc.stdout
