"""Issue 16: malformed and hostile inputs through the CLI, in child processes.

Every case is a small input built here from strings (or a device / FIFO / link) and one ``recommender``
command. Each must end with exit code 1 and ONE stderr line ``recommender CMD: error: FILE...: ... -- fix:
...`` naming the file (and the record or field where there is one): no traceback, no "internal error", no
signal, no hang. The cases run in one batch interpreter (tests/genomics/_cli_batch.py), each forked, so
the suite takes seconds, and a crash stays inside its case.

Accepted-but-repaired inputs (unsorted records, ``#`` comment lines, a BOM, a wrong index) and the
"never silently wrong" rules that end with exit 0 are tested at the bottom.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO_VCF = ROOT / "genomics" / "data" / "demo" / "demo_pgx_panel.vcf.gz"
DEMO_PATIENT = ROOT / "recommender" / "data" / "demo" / "demo_patient.json"
BATCH = Path(__file__).resolve().parent / "_cli_batch.py"

GT_FORMAT = '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
CONTIG10 = "##contig=<ID=chr10,length=133797422>\n"


def vcf(records: str, *, samples: tuple[str, ...] = ("S1",), contigs: str = CONTIG10, extra: str = "") -> bytes:
    cols = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO" + ("\tFORMAT\t" + "\t".join(samples) if samples else "")
    return ("##fileformat=VCFv4.2\n" + GT_FORMAT + contigs + extra + cols + "\n" + records).encode()


def rec(pos: int | str, ref: str = "G", alt: str = "A", gt: str = "0/1", chrom: str = "chr10", qual: str = ".") -> str:
    return f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t{qual}\tPASS\t.\tGT\t{gt}\n"


# CYP2C19*2: rs12769205 (chr10:94775367 A>G) and rs4244285 (chr10:94781859 G>A)
STAR2_A = (94775367, "A", "G")
STAR2_B = (94781859, "G", "A")


def _bcf_bytes(text: bytes) -> bytes:
    """An uncompressed BCF of a small VCF (pysam), for byte surgery."""
    import tempfile

    import pysam

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.vcf"
        src.write_bytes(text)
        out = Path(tmp) / "out.bcf"
        with pysam.VariantFile(str(src)) as inp, pysam.VariantFile(str(out), "wb", header=inp.header) as dst:
            for r in inp:
                dst.write(r)
        with gzip.open(out, "rb") as fh:
            return fh.read()


def corrupt_bcf_format_type() -> bytes:
    """A BCF whose second record's GT type byte is 0: htslib calls exit(1) ("Unexpected type 0")."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _fuzz_support import bgzf

    raw = bytearray(_bcf_bytes(vcf(rec(*STAR2_A[:1], STAR2_A[1], STAR2_A[2]) + rec(*STAR2_B[:1], STAR2_B[1], STAR2_B[2]))))
    (l_text,) = struct.unpack_from("<I", raw, 5)
    first = 9 + l_text
    l_shared, l_indiv = struct.unpack_from("<II", raw, first)
    second = first + 8 + l_shared + l_indiv
    l_shared2, _ = struct.unpack_from("<II", raw, second)
    raw[second + 8 + l_shared2 + 2] = 0  # indiv: [key type][key][value type] -> value type 0
    return bgzf(bytes(raw))


@dataclass
class Case:
    id: str
    argv: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    expect: tuple[str, ...] = ()
    special: str | None = None  # fifo | symlink_loop | dir
    timeout: float = 40.0


def _q(name: str, body: bytes, *expect: str, cmd: str = "qc", extra: tuple[str, ...] = ()) -> Case:
    return Case(name, [cmd, "in.vcf", *extra], {"in.vcf": body}, ("in.vcf", *expect))


def _pgx(name: str, body: bytes, *expect: str) -> Case:
    return Case(name, ["pgx", "in.vcf", "--genes", "CYP2C19"], {"in.vcf": body}, ("in.vcf", *expect))


def _patient(name: str, text: str | bytes, *expect: str) -> Case:
    data = text.encode() if isinstance(text, str) else text
    return Case(name, ["score", "patient.json", "--no-model"], {"patient.json": data}, ("patient.json", *expect))


def _demo_patient(**changes) -> dict:
    data = json.loads(DEMO_PATIENT.read_text())
    for dotted, value in changes.items():
        node = data
        *path, last = dotted.split("__")
        for part in path:
            node = node[part]
        node[last] = value
    return data


MAF_HEAD = "Hugo_Symbol\tHGVSp_Short\tTumor_Sample_Barcode\n"
CNV_HEAD = "gene\talteration\tcopy_number\n"


def _cases() -> list[Case]:
    star2_a = rec(STAR2_A[0], STAR2_A[1], STAR2_A[2])
    star2_b = rec(STAR2_B[0], STAR2_B[1], STAR2_B[2])
    cases = [
        # -- segfaults and aborts in htslib/cyvcf2 ----------------------------------------------------
        _q("segfault_undeclared_contig_with_bad_gt", vcf(rec(100, "A", "G", "abc", chrom="chrZ"), contigs=""),
           "chrZ:100", "GT"),
        _pgx("segfault_undeclared_contig_with_bad_gt_pgx",
             vcf(rec(94781859, gt="abc") + rec(100, "A", "G", "abc", chrom="chrZ"), contigs=""), "GT"),
        _q("bad_gt_on_declared_contig", vcf(rec(94781859, gt="abc")), "chr10:94781859"),
        _q("segfault_undeclared_contig_with_bad_gt_biomarkers", vcf(rec(100, "A", "G", "abc", chrom="chrZ"),
                                                                    contigs=""), "chrZ:100", cmd="biomarkers",
           extra=("--format", "vcf")),
        Case("bcf_record_that_makes_htslib_exit_biomarkers", ["biomarkers", "in.bcf", "--format", "vcf"],
             {"in.bcf": b"@corrupt_bcf"}, ("in.bcf", "corrupt")),
        Case("bcf_record_that_makes_htslib_exit", ["qc", "in.bcf"], {"in.bcf": b"@corrupt_bcf"},
             ("in.bcf", "corrupt", "record 2")),
        Case("bcf_record_that_makes_htslib_exit_pgx", ["pgx", "in.bcf", "--genes", "CYP2C19"],
             {"in.bcf": b"@corrupt_bcf"}, ("in.bcf", "corrupt")),
        # -- silently wrong before: now refused with the record named --------------------------------------
        _pgx("same_site_twice_unphased_cyp2c19_star2", vcf(star2_a + star2_a + star2_b + star2_b),
             "two records", "chr10:94775367"),
        _pgx("same_site_hom_ref_and_het", vcf(rec(STAR2_B[0], "G", "A", "0/0") + rec(STAR2_B[0], "G", "A", "0/1")),
             "two records", "chr10:94781859"),
        _pgx("same_site_twice_phased", vcf(rec(STAR2_B[0], "G", "A", "0|1") + rec(STAR2_B[0], "G", "A", "0|1")),
             "two records"),
        _pgx("site_without_alt_beside_variant", vcf(rec(STAR2_B[0], "G", ".", "0/0") + rec(STAR2_B[0], "G", "A")),
             "two records"),
        _pgx("gt_allele_beyond_alts_0_2", vcf(rec(STAR2_B[0], "G", "A", "0/2")), "allele 2", "chr10:94781859"),
        _q("gt_allele_beyond_alts_0_9_qc", vcf(rec(STAR2_B[0], "G", "A", "0/9")), "allele 9"),
        _q("triploid_call_qc", vcf(rec(STAR2_B[0], "G", "A", "0/0/1")), "ploidy 3"),
        _pgx("triploid_call_pgx", vcf(rec(STAR2_B[0], "G", "A", "0/0/1")), "ploidy 3"),
        _q("pos_zero", vcf(rec(0)), "position must be >= 1", "POS"),
        _q("pos_beyond_contig_length", vcf(rec(200_000_000)), "beyond the end of chr10"),
        _q("pos_negative", vcf(rec(-5)), "POS"),
        _q("pos_not_a_number", vcf(rec("abc")), "POS"),
        _q("qual_not_a_number", vcf(rec(100, qual="high")), "QUAL"),
        _q("qual_infinite", vcf(rec(100, qual="inf")), "QUAL"),
        _q("surplus_sample_columns", vcf(rec(100).rstrip("\n") + "\t0/1" * 100_000 + "\n"), "100010 columns"),
        _q("sites_only_header_with_sample_columns", vcf(rec(100), samples=()), "names no samples"),
        _q("non_utf8_alt", vcf(rec(100)).replace(b"\tA\t.\tPASS", b"\t\xff\t.\tPASS"), "UTF-8"),
        _q("non_utf8_ref", vcf(rec(100)).replace(b"\tG\tA\t", b"\t\xe9\tA\t"), "UTF-8"),
        _q("non_utf8_sample_name", vcf(rec(100), samples=("S\xff1",)).replace("S\xff1".encode(), b"S\xff1"),
           "UTF-8"),
        _q("blank_line_between_records", vcf(rec(100) + "\n" + rec(200)), "blank line"),
        _q("space_separated_record", vcf(rec(100).replace("\t", " ")), "column"),
        _q("record_cut_short", vcf(rec(100) + "chr10\t200\t."), "column"),
        _q("empty_ref", vcf(rec(100, ref="")), "REF"),
        _q("no_chrom_line", b"##fileformat=VCFv4.2\n" + rec(100).encode(), "header"),
        _q("chrom_line_with_spaces", vcf(rec(100)).replace(b"#CHROM\tPOS", b"#CHROM POS"), "#CHROM"),
        _q("empty_file", b"", "empty"),
        _q("not_a_vcf", b"hello world\n", "not a VCF"),
        _q("gzip_holding_no_text", gzip.compress(b""), "empty"),
        Case("truncated_bgzip", ["qc", "in.vcf.gz"], {"in.vcf.gz": b"@truncated_demo"}, ("in.vcf.gz", "truncated")),
        Case("corrupt_bgzip_block", ["qc", "in.vcf.gz"], {"in.vcf.gz": b"@corrupt_block"}, ("in.vcf.gz", "corrupt")),
        _q("lying_header_type", vcf("chr10\t100\t.\tG\tA\t.\tPASS\t.\tGT:DP\t0/1:1.5\n",
                                    extra='##FORMAT=<ID=DP,Number=1,Type=Integer,Description="d">\n'), "DP"),
        _q("duplicate_sample_names", vcf(rec(100).rstrip("\n") + "\t0/1\n", samples=("S1", "S1")), "header"),
        Case("unknown_sample_pgx", ["pgx", "in.vcf", "--sample", "NOPE"],
             {"in.vcf": vcf(rec(100), samples=("S1", "S2")).replace(b"0/1\n", b"0/1\t0/0\n")}, ("in.vcf", "NOPE")),
        # -- files that are not regular files --------------------------------------------------------------
        Case("dev_zero_qc", ["qc", "/dev/zero"], expect=("/dev/zero", "not a regular file")),
        Case("dev_urandom_qc", ["qc", "/dev/urandom"], expect=("/dev/urandom", "not a regular file")),
        Case("proc_file_qc", ["qc", "/proc/self/status"], expect=("/proc/self/status", "not a regular file")),
        Case("fifo_qc", ["qc", "fifo.vcf"], expect=("fifo.vcf", "not a regular file"), special="fifo"),
        Case("fifo_pgx", ["pgx", "fifo.vcf"], expect=("fifo.vcf", "not a regular file"), special="fifo"),
        Case("fifo_score_does_not_block", ["score", "fifo.vcf", "--no-model"],
             expect=("fifo.vcf", "not a regular file"), special="fifo", timeout=20),
        Case("fifo_score_vcf_option", ["score", "--demo", "--vcf", "fifo.vcf", "--no-model"],
             expect=("fifo.vcf", "not a regular file"), special="fifo", timeout=20),
        Case("symlink_loop_qc", ["qc", "loop.vcf"], expect=("loop.vcf", "symbolic link loop"), special="symlink_loop"),
        Case("symlink_loop_score", ["score", "loop.vcf", "--no-model"], expect=("loop.vcf", "symbolic link loop"),
             special="symlink_loop"),
        Case("folder_as_vcf", ["qc", "folder"], expect=("folder", "folder"), special="dir"),
        Case("missing_vcf", ["qc", "nope.vcf.gz"], expect=("nope.vcf.gz", "not found")),
        Case("dev_zero_biomarkers", ["biomarkers", "/dev/zero"], expect=("/dev/zero", "not a regular file")),
        Case("dev_zero_patient", ["score", "/dev/zero", "--no-model"], expect=("/dev/zero", "not a regular file")),
        # -- patient records -----------------------------------------------------------------------------
        _patient("patient_age_true", json.dumps(_demo_patient(demographics__age=True)), "age", "boolean"),
        _patient("patient_ecog_false", json.dumps(_demo_patient(diagnosis__ecog=False)), "ecog", "boolean"),
        _patient("patient_duplicate_key", DEMO_PATIENT.read_text().replace('"age": 58,', '"age": 58, "age": 16,'),
                 "appears twice"),
        _patient("patient_deeply_nested", '{"patient_id": "P1", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
                 "nested"),
        _patient("patient_nan", DEMO_PATIENT.read_text().replace('"age": 58', '"age": NaN'), "NaN"),
        _patient("patient_bare_number", "42", "object"),
        _patient("patient_not_utf8", b'{"patient_id": "P\xff"}', "UTF-8"),
        _patient("patient_invalid_json", "{", "JSON"),
        _patient("patient_huge_integer", '{"patient_id": "P1", "demographics": {"age": ' + "9" * 5000 + "}}",
                 "JSON"),
        # -- tumour files --------------------------------------------------------------------------------
        Case("maf_100000_digit_codon", ["biomarkers", "t.maf", "--format", "maf"],
             {"t.maf": (MAF_HEAD + "BRAF\tp.V" + "9" * 100_000 + "E\tT1\n").encode()}, ("t.maf", "HGVSp_Short")),
        Case("maf_not_utf8", ["biomarkers", "t.maf", "--format", "maf"],
             {"t.maf": (MAF_HEAD + "BRAF\tp.V600E\tT1\n").encode().replace(b"BRAF", b"BR\xffF")}, ("t.maf", "UTF-8")),
        Case("maf_start_position_zero", ["biomarkers", "t.maf", "--format", "maf"],
             {"t.maf": b"Hugo_Symbol\tHGVSp_Short\tNCBI_Build\tChromosome\tStart_Position\n"
                       b"BRAF\tp.V600E\tGRCh38\t7\t0\n"}, ("t.maf", "Start_Position")),
        Case("cnv_copy_number_inf", ["biomarkers", "--cnv", "c.tsv", "--cancer-type", "BRCA"],
             {"c.tsv": (CNV_HEAD + "ERBB2\tamplification\tinf\n").encode()}, ("c.tsv", "copy_number", "line 2")),
        Case("cnv_copy_number_nan", ["biomarkers", "--cnv", "c.tsv", "--cancer-type", "BRCA"],
             {"c.tsv": (CNV_HEAD + "ERBB2\tamplification\tnan\n").encode()}, ("c.tsv", "copy_number")),
        Case("cnv_copy_number_negative", ["biomarkers", "--cnv", "c.tsv", "--cancer-type", "BRCA"],
             {"c.tsv": (CNV_HEAD + "ERBB2\tamplification\t-3\n").encode()}, ("c.tsv", "copy_number")),
        Case("cnv_fifo", ["biomarkers", "--cnv", "fifo.vcf", "--cancer-type", "BRCA"],
             expect=("fifo.vcf", "not a regular file"), special="fifo"),
        # -- other commands ------------------------------------------------------------------------------
        Case("kb_home_is_a_file", ["kb", "info", "--home", "home.txt"], {"home.txt": b"not a folder\n"},
             ("home.txt",)),
    ]
    return cases


CASES = _cases()


def _materialise(case: Case, folder: Path, blobs: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in case.files.items():
        if data.startswith(b"@"):
            data = blobs[data[1:].decode()]
        (folder / name).write_bytes(data)
    if case.special == "fifo":
        os.mkfifo(folder / "fifo.vcf")
    elif case.special == "symlink_loop":
        os.symlink("loop.vcf", folder / "loop.vcf")
    elif case.special == "dir":
        (folder / "folder").mkdir()


def _blobs(tmp: Path) -> dict[str, bytes]:
    demo = DEMO_VCF.read_bytes()
    corrupt = bytearray(demo)
    middle = len(corrupt) // 2
    corrupt[middle:middle + 64] = b"\x00" * 64
    return {
        "corrupt_bcf": corrupt_bcf_format_type(),
        "truncated_demo": demo[: len(demo) // 2],
        "corrupt_block": bytes(corrupt),
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("hostile")
    blobs = _blobs(tmp)
    spec = []
    for case in CASES:
        folder = tmp / case.id
        _materialise(case, folder, blobs)
        spec.append({"id": case.id, "cwd": str(folder), "argv": case.argv, "timeout": case.timeout})
    cases_json = tmp / "cases.json"
    cases_json.write_text(json.dumps(spec))
    env = dict(os.environ, GENOMICS_VCF_CHILD_CHECK="1", RECOMMENDER_HOME=str(tmp / "home"))
    proc = subprocess.run([sys.executable, str(BATCH), str(cases_json)], capture_output=True, text=True,
                          timeout=900, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    slowest = sorted(out.items(), key=lambda kv: -kv[1]["seconds"])[:5]
    print("slowest cases:", ", ".join(f"{k} {v['seconds']:.1f}s" for k, v in slowest))
    return out


def test_the_suite_holds_at_least_60_malformed_inputs():
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_gets_one_line_product_error(case: Case, results):
    got = results[case.id]
    assert not got["timeout"], f"{case.id}: no answer within {case.timeout} s (blocked?)"
    assert got["signal"] is None, f"{case.id}: killed by signal {got['signal']}"
    stderr = got["stderr"]
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr[-1500:]
    assert got["rc"] == 1, (got["rc"], stderr[-800:])
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    line = lines[0]
    command = case.argv[0] if case.argv[0] != "kb" else "kb"
    assert line.startswith(f"recommender {command}"), line
    assert ": error: " in line and " -- fix: " in line, line
    for part in case.expect:
        assert part in line, f"{part!r} not in {line!r}"


# -- reader-API regressions of issue 16 that end with exit 0 (never silently wrong) ------------------------------
FILL_VCF = ('##fileformat=VCFv4.2\n##FORMAT=<ID=GT,Number=1,Type=String,Description="g">\n'
            '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="d">\n' + CONTIG10
            + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
            "chr10\t94775367\t.\tA\tG\t.\tPASS\t.\tGT\t1/.\n"      # half no-call
            "chr10\t94781859\t.\tG\tA\t.\tPASS\t.\tGT\t.\n"        # explicit no-call
            "chr10\t94842866\t.\tA\tG\t.\tPASS\t.\tDP\t7\n")        # a sample without GT


def test_fill_missing_with_reference_fills_only_absent_positions(tmp_path):
    import warnings

    from genomics.pgx import call_pgx

    path = tmp_path / "fill.vcf"
    path.write_text(FILL_VCF)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profile = call_pgx(path, fill_missing_with_reference=True, genes=["CYP2C19"])
    call = profile.genes["CYP2C19"]
    present = {94775367, 94781859, 94842866}
    assert call.filled_positions and not present & set(call.filled_positions)
    filled_note = [w for w in profile.warnings if "filled as reference" in w]
    assert filled_note and f"{len(call.filled_positions)} defining positions absent" in filled_note[0]
    assert call.diplotype is None or call.diplotype.name != "*1/*1"


def test_maf_and_cnv_tables_with_a_utf8_bom_are_read(tmp_path):
    from genomics.biomarkers.inputs import read_cnv_table, read_maf

    maf = tmp_path / "t.maf"
    maf.write_bytes(b"\xef\xbb\xbf" + (MAF_HEAD + "BRAF\tp.V600E\tT1\n").encode())
    assert [v.gene for v in read_maf(maf).variants] == ["BRAF"]
    cnv = tmp_path / "c.tsv"
    cnv.write_bytes(b"\xef\xbb\xbf" + (CNV_HEAD + "ERBB2\tamplification\t12\n").encode())
    calls, fusions = read_cnv_table(cnv)
    assert [c.gene for c in calls] == ["ERBB2"] and not fusions


def test_json_lines_line_that_is_a_bare_number_is_a_product_error(tmp_path):
    from recommender.schema import PatientRecordError, load_patients

    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(_demo_patient()) + "\n42\n")
    with pytest.raises(PatientRecordError) as info:
        load_patients(path)
    assert info.value.record == "line 2"


def test_patient_boolean_in_any_numeric_field_is_refused():
    from recommender.schema import PatientRecordError, patient_from_dict

    for dotted in ("demographics__age", "diagnosis__ecog", "lifestyle__pack_years"):
        with pytest.raises(PatientRecordError, match="boolean"):
            patient_from_dict(_demo_patient(**{dotted: True}))


def test_csv_list_cell_of_200_brackets_is_a_value_error_not_a_recursion():
    from cohorts.loaders.records import _parse_list

    with pytest.raises(ValueError, match="nested"):
        _parse_list("[" * 200)
    assert _parse_list('["a", "b"]') == ["a", "b"] and _parse_list("a;b") == ["a", "b"]
