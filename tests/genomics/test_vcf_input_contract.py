"""The reader's input contract (issues 12 and 16): what is read with a warning, what is never silently wrong.

The CLI-level error suite is tests/genomics/test_hostile_inputs.py; these are the reader-API regressions.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from genomics.errors import DegradedResultWarning, IndexFileError, InputFileError, VcfError
from genomics.fileio import check_input_file, parse_json_strict
from genomics.vcf import VcfReader, vcf_qc

HERE = Path(__file__).resolve().parent
FIX = HERE.parent / "fixtures" / "vcf"
DEMO = HERE.parents[1] / "genomics" / "data" / "demo" / "demo_pgx_panel.vcf.gz"

HEAD = ('##fileformat=VCFv4.2\n##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        "##contig=<ID=chr10,length=133797422>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n")


def _rec(pos: int, ref: str = "G", alt: str = "A", gt: str = "0/1", chrom: str = "chr10") -> str:
    return f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\tGT\t{gt}\n"


def _write(tmp_path: Path, text: str, name: str = "in.vcf") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- inputs PharmCAT reads (issue 12) ----------------------------------------------------------------------
def test_comment_lines_between_records_are_skipped_with_one_warning_naming_the_lines(tmp_path):
    path = _write(tmp_path, HEAD + _rec(100) + "# missing: rs4244285\n" + _rec(200) + "# missing: rs12248560\n"
                  + _rec(300))
    r = VcfReader(path)
    assert [x.pos for x in r.fetch()] == [100, 200, 300]
    comments = [w for w in r.warnings if "comment line" in w]
    assert len(comments) == 1 and "line 6, 8" in comments[0]


def test_comment_line_with_tabs_is_skipped_too(tmp_path):
    path = _write(tmp_path, HEAD + _rec(100) + "# note\tsecond column\n" + _rec(200))
    assert [x.pos for x in VcfReader(path).fetch()] == [100, 200]


def test_descending_records_are_read_sorted(tmp_path):
    path = _write(tmp_path, HEAD + _rec(300) + _rec(200) + _rec(100))
    r = VcfReader(path)
    assert [x.pos for x in r.fetch()] == [100, 200, 300]
    assert [x.pos for x in r.fetch("chr10:150-250")] == [200]
    assert sum("not sorted" in w for w in r.warnings) == 1


def test_errors_in_a_repaired_copy_name_the_users_line(tmp_path):
    path = _write(tmp_path, HEAD + _rec(300) + "# c\n" + _rec(100, gt="abc"))
    with pytest.raises(VcfError) as info:
        list(VcfReader(path).fetch())
    assert "line 7" in info.value.record


# -- the segfault of issue 16: undeclared contig + bad FORMAT data -----------------------------------------------
_SEGV = ('##fileformat=VCFv4.2\n##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
         "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n" + _rec(100, "A", "G", "abc", chrom="chrZ"))


@pytest.mark.parametrize("budget", [None, "1"], ids=["prechecked", "beyond_precheck_budget"])
def test_undeclared_contig_with_bad_gt_is_an_error_not_a_segfault(tmp_path, budget):
    path = _write(tmp_path, _SEGV)
    code = ("import sys\nfrom genomics.vcf import VcfReader\nfrom genomics.errors import VcfError\n"
            f"try:\n    [r.gt for r in VcfReader({str(path)!r}, build=None).fetch()]\n"
            "except VcfError as e:\n    print(e.one_line()); sys.exit(3)\n")
    env = None
    if budget:
        import os

        env = dict(os.environ, GENOMICS_VCF_PRECHECK_BYTES=budget)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 3, (proc.returncode, proc.stderr[-800:])
    assert "chrZ:100" in proc.stdout and "GT" in proc.stdout


@pytest.mark.parametrize("budget", [None, "1"], ids=["prechecked", "beyond_precheck_budget"])
def test_records_on_undeclared_contigs_are_read(tmp_path, budget, monkeypatch):
    if budget:
        monkeypatch.setenv("GENOMICS_VCF_PRECHECK_BYTES", budget)
    text = HEAD.replace("##contig=<ID=chr10,length=133797422>\n", "")
    path = _write(tmp_path, text + _rec(100, chrom="chr1") + _rec(200, chrom="chr1") + _rec(50, chrom="chr2"))
    r = VcfReader(path, build=None)
    assert [(x.chrom, x.pos, x.gt.tolist()) for x in r.fetch()] == [
        ("chr1", 100, [[0, 1]]), ("chr1", 200, [[0, 1]]), ("chr2", 50, [[0, 1]])]


# -- never silently wrong ----------------------------------------------------------------------------------------
def test_allele_index_beyond_alts_is_refused(tmp_path):
    path = _write(tmp_path, HEAD + _rec(100, gt="0/2"))
    with pytest.raises(VcfError) as info:
        [x.gt for x in VcfReader(path).fetch()]
    assert info.value.record == "chr10:100" and info.value.field == "GT" and "'S1'" in info.value.message


def test_triploid_call_is_refused(tmp_path):
    path = _write(tmp_path, HEAD + _rec(100, gt="0/0/1"))
    with pytest.raises(VcfError) as info:
        vcf_qc(path)
    assert "ploidy 3" in info.value.message


def test_haploid_and_mixed_ploidy_calls_still_read(tmp_path):
    text = HEAD.replace("\tS1\n", "\tS1\tS2\n")
    path = _write(tmp_path, text + _rec(100).rstrip("\n") + "\t1\n")
    [rec] = list(VcfReader(path).fetch())
    assert rec.gt.tolist() == [[0, 1], [1, -2]]


@pytest.mark.parametrize("pos, message", [(0, "position must be >= 1"), (200_000_000, "beyond the end")])
def test_impossible_positions_are_refused(tmp_path, pos, message, monkeypatch):
    path = _write(tmp_path, HEAD + _rec(pos))
    with pytest.raises(VcfError) as info:
        list(VcfReader(path).fetch())
    assert message in info.value.message and info.value.field == "POS"
    monkeypatch.setenv("GENOMICS_VCF_PRECHECK_BYTES", "1")  # the reader's own guard, beyond the pre-check
    with pytest.raises(VcfError) as info:
        list(VcfReader(path).fetch())
    assert message in info.value.message


def test_qual_that_is_not_a_number_is_refused_not_read_as_zero(tmp_path):
    path = _write(tmp_path, HEAD + _rec(100).replace("\t.\tPASS", "\thigh\tPASS"))
    with pytest.raises(VcfError) as info:
        VcfReader(path)
    assert info.value.field == "QUAL" and "line 5" in info.value.record


def _foreign_index(tmp_path: Path) -> Path:
    data = tmp_path / "basic.vcf.gz"
    shutil.copy(FIX / "basic.vcf.gz", data)
    shutil.copy(DEMO.with_name(DEMO.name + ".tbi"), tmp_path / "basic.vcf.gz.tbi")
    return data


def test_index_of_another_file_is_ignored_and_the_file_scanned(tmp_path):
    data = _foreign_index(tmp_path)
    with pytest.warns(DegradedResultWarning, match="does not fit"):
        r = VcfReader(data)
    assert not r.has_index
    expected = [x.locus for x in VcfReader(FIX / "basic.vcf.gz").fetch()]
    assert [x.locus for x in r.fetch()] == expected
    assert any("re-create" in w for w in r.warnings)


def test_index_of_another_file_with_require_index_is_refused(tmp_path):
    data = _foreign_index(tmp_path)
    with pytest.raises(IndexFileError) as info:
        VcfReader(data, require_index=True)
    assert "does not belong" in info.value.message


def test_index_written_before_records_were_appended_is_ignored(tmp_path):
    sys.path.insert(0, str(HERE))
    from _fuzz_support import bgzf

    text = gzip.open(DEMO, "rb").read()
    last = text.rstrip(b"\n").rsplit(b"\n", 1)[1].split(b"\t")
    extra = b"\t".join([last[0], str(int(last[1]) + 1000).encode(), b".", b"A", b"G", *last[5:]]) + b"\n"
    data = tmp_path / "grown.vcf.gz"
    data.write_bytes(DEMO.read_bytes()[:-28] + bgzf(extra))  # old blocks + a new block, same old index
    shutil.copy(DEMO.with_name(DEMO.name + ".tbi"), tmp_path / "grown.vcf.gz.tbi")
    with pytest.warns(DegradedResultWarning):
        r = VcfReader(data)
    assert not r.has_index
    found = r.fetch_positions([(last[0].decode(), int(last[1]) + 1000)])
    assert next(iter(found.values())) is not None


def test_the_demo_index_is_trusted():
    r = VcfReader(DEMO)
    assert r.has_index and not r.warnings


# -- BCF decoded in a child first ------------------------------------------------------------------------------
def test_valid_bcf_passes_the_child_check_and_can_skip_it(monkeypatch):
    assert sum(1 for _ in VcfReader(FIX / "basic.bcf").fetch()) > 0
    monkeypatch.setenv("GENOMICS_VCF_CHILD_CHECK", "0")
    assert sum(1 for _ in VcfReader(FIX / "basic.bcf").fetch()) > 0


def test_bcf_that_makes_htslib_exit_is_a_clean_error_in_the_parent(tmp_path):
    sys.path.insert(0, str(HERE))
    from test_hostile_inputs import corrupt_bcf_format_type

    path = tmp_path / "bad.bcf"
    path.write_bytes(corrupt_bcf_format_type())
    with pytest.raises(VcfError) as info:
        VcfReader(path)
    assert "corrupt" in info.value.message and info.value.record.startswith("2 (")


# -- files that are not regular files, strict JSON ----------------------------------------------------------------
def test_fifo_is_not_a_regular_file_and_does_not_block(tmp_path):
    import os

    fifo = tmp_path / "pipe.vcf"
    os.mkfifo(fifo)
    with pytest.raises(VcfError, match="not a regular file"):
        VcfReader(fifo)


def test_symlink_loop_is_named(tmp_path):
    import os

    os.symlink("loop", tmp_path / "loop")
    with pytest.raises(InputFileError, match="symbolic link loop"):
        check_input_file(tmp_path / "loop")


@pytest.mark.parametrize("text, message", [
    ('{"a": 1, "a": 2}', "appears twice"),
    ('{"a": NaN}', "NaN"),
    ('{"a": Infinity}', "Infinity"),
    ("[" * 5000 + "]" * 5000, "nested"),
    ('{"a": ' + "1" * 5000 + "}", "not valid JSON"),
    ("{", "not valid JSON"),
])
def test_strict_json_refuses(text, message):
    with pytest.raises(InputFileError) as info:
        parse_json_strict(text, file="p.json")
    assert message in info.value.one_line() and info.value.file == "p.json"


def test_strict_json_keeps_booleans_and_drops_a_bom():
    assert parse_json_strict('\ufeff{"a": true, "b": [1, 2.5, "x"]}') == {"a": True, "b": [1, 2.5, "x"]}
    assert json.loads('{"a": true}') == parse_json_strict(b'{"a": true}')


def test_unreadable_file_is_permission_denied_not_a_library_error(tmp_path, monkeypatch):
    import os

    path = _write(tmp_path, HEAD + _rec(100))
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)  # the tests may run as root
    with pytest.raises(VcfError, match="permission denied") as info:
        VcfReader(path)
    assert "chmod" in info.value.fix
