"""Mutation fuzzing of the tumour inputs (somatic MAF, tumour VCF, copy-number/fusion table) and of the outside
PGx calls TSV (``recommender score --tumour`` / ``biomarkers`` / ``pgx --outside-calls`` / ``score --outside-calls``).

Seeds: the committed fixtures under ``tests/fixtures/biomarkers`` and ``tests/fixtures/scoring``. Mutations
(:func:`_fuzz_support.mutate_table`, fixed seed): byte flips, inserted tokens, truncation at every boundary class
(start, inside the header, at a tab, at a line end, mid-field, one byte short), a line duplicated or deleted,
two columns swapped, a 200,000-character field, a cell of another type (``NaN``, ``1e309``, 20 digits, ``[1, [2``),
a BOM, CRLF, a NUL, an invalid UTF-8 byte. Contract: a result, or a ``RecommenderError`` naming the file in a
bounded one-line message; each batch runs in a forked child (a crash or hang is reported, not fatal).

``FUZZ_CASES`` (default 300 per reader) and ``FUZZ_SEED`` (default 20261206) change the run.
"""

from __future__ import annotations

import os
import random
import sys
import warnings
from pathlib import Path

import pytest

from genomics.biomarkers import match_biomarkers, read_tumour
from genomics.biomarkers.inputs import read_cnv_table, read_maf
from genomics.errors import InputFileError
from genomics.pgx.outside_calls import read_outside_calls

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"
sys.path.insert(0, str(HERE))
from _fuzz_support import mutate_table, run_cases

CASES = int(os.environ.get("FUZZ_CASES", "300"))
SEED = int(os.environ.get("FUZZ_SEED", "20261206"))
B = FIXTURES / "biomarkers"
MAF_SEEDS = [B / "tumour.maf", B / "tumour_grch37.maf", FIXTURES / "scoring" / "tumour_kras.maf", B / "multi_sample.maf"]
VCF_SEEDS = [B / "tumour_vep.vcf", B / "tumour_snpeff.vcf", B / "tumour_unannotated.vcf"]
CNV_SEEDS = [B / "cnv.tsv", B / "fusion_dash.tsv"]
OUTSIDE_HEADERLESS = b"CYP2D6\t*1/*2x2\n#comment\n\nHLA-B\t*57:01/*08:01\t\t\tlab X\nCYP2C19\t\tPoor Metabolizer\t\tclinic\n"


def _outside_seeds(folder: Path) -> list[Path]:
    extra = folder / "headerless.tsv"
    extra.write_bytes(OUTSIDE_HEADERLESS)
    return [FIXTURES / "scoring" / "outside_calls_pm.tsv", extra]


def _mutants(folder: Path, seeds: list[Path], n: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        src = seeds[i % len(seeds)]
        path = folder / f"case-{i}{src.suffix}"
        path.write_bytes(mutate_table(src.read_bytes(), rng, first_data_line=2))
        out.append(path)
    return out


def _tumour_and_match(path: Path) -> None:
    """What ``score --tumour`` and ``biomarkers`` do: read (format detected) and match against the table."""
    match_biomarkers(read_tumour(path), "COAD")


def _check(call, paths: list[Path]) -> None:
    bad = run_cases(call, paths, timeout_s=30)
    report = "\n".join(f"{o}: {p}: {d[:300]}" for p, o, d in bad[:20])
    assert not bad, f"{len(bad)} of {len(paths)} mutants broke the contract (inputs kept):\n{report}"


def test_fuzz_seeds_read_cleanly(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in MAF_SEEDS[:3] + VCF_SEEDS:
            assert read_tumour(path).variants
        with pytest.raises(InputFileError, match="tumour samples"):  # the multi-sample seed needs --sample
            read_maf(MAF_SEEDS[3])
        rows = [line.split("\t") for line in MAF_SEEDS[3].read_text().splitlines() if not line.startswith("#")]
        barcode = rows[1][rows[0].index("Tumor_Sample_Barcode")]
        assert read_maf(MAF_SEEDS[3], sample=barcode).variants
        for path in CNV_SEEDS:
            assert any(read_cnv_table(path))
        for path in _outside_seeds(tmp_path):
            assert read_outside_calls(path)


def test_fuzz_maf_reader(tmp_path):
    _check(_tumour_and_match, _mutants(tmp_path / "maf", MAF_SEEDS, CASES, SEED))


def test_fuzz_tumour_vcf_reader(tmp_path):
    _check(_tumour_and_match, _mutants(tmp_path / "vcf", VCF_SEEDS, CASES, SEED + 1))


def test_fuzz_copy_number_table_reader(tmp_path):
    _check(read_cnv_table, _mutants(tmp_path / "cnv", CNV_SEEDS, CASES, SEED + 2))


def test_fuzz_outside_calls_reader(tmp_path):
    _check(read_outside_calls, _mutants(tmp_path / "outside", _outside_seeds(tmp_path), CASES, SEED + 3))


# --- regressions found by the fuzzer -------------------------------------------------------------------


def _maf_with_exon(tmp_path: Path, exon: str) -> Path:
    lines = (B / "tumour.maf").read_text().splitlines()
    header = lines[1].split("\t")
    row = lines[2].split("\t")
    row[header.index("Exon_Number")] = exon
    path = tmp_path / "exon.maf"
    path.write_text("\n".join([lines[0], lines[1], "\t".join(row)]) + "\n")
    return path


@pytest.mark.parametrize("exon", ["9" * 200_000 + "/18", "\u00b2/18"])
def test_maf_with_a_giant_or_superscript_exon_number_is_read_without_the_exon(tmp_path, exon):
    # was ValueError: int() of 200,000 digits (over Python's 4300-digit limit), and int('²') ('²'.isdigit() is True)
    profile = read_tumour(_maf_with_exon(tmp_path, exon))
    assert profile.variants[0].gene == "BRAF" and profile.variants[0].exon is None


def test_error_quoting_a_200000_character_gene_stays_short(tmp_path):
    lines = (B / "tumour.maf").read_text().splitlines()
    path = tmp_path / "gene.maf"
    path.write_text("\n".join([lines[0], lines[1], "[" * 200_000 + lines[2][4:]]) + "\n")
    with pytest.raises(InputFileError, match="bad gene symbol") as err:  # the message echoed all 200,000 characters
        read_tumour(path)
    assert len(err.value.one_line()) < 1000 and err.value.field == "Hugo_Symbol" and "gene.maf" in err.value.one_line()


def test_outside_calls_unknown_gene_of_600000_characters_is_not_echoed_in_full(tmp_path):
    path = tmp_path / "calls.tsv"
    path.write_text("gene\tdiplotype\n" + "p.V" * 200_000 + "\t*1/*2\n")
    with pytest.raises(InputFileError, match="unknown gene") as err:
        read_outside_calls(path)
    assert len(err.value.one_line()) < 2000 and err.value.record == "line 2"


# --- the CLI: one line, exit 1, no traceback ---------------------------------------------------------


def _cli_cases(tmp_path: Path) -> list[tuple[str, Path]]:
    rng = random.Random(SEED)
    cases = []
    for opt, seeds in (("--tumour", MAF_SEEDS[:3] + VCF_SEEDS[:1]), ("--outside-calls", _outside_seeds(tmp_path))):
        for i in range(4):
            src = seeds[i % len(seeds)]
            path = tmp_path / f"cli-{opt[2:]}-{i}{src.suffix}"
            path.write_bytes(mutate_table(src.read_bytes(), rng, first_data_line=2))
            cases.append((opt, path))
    bad_maf = tmp_path / "cli-bad.maf"
    bad_maf.write_bytes((B / "no_hugo.maf").read_bytes())
    bad_calls = tmp_path / "cli-bad.tsv"
    bad_calls.write_bytes(b"gene\tdiplotype\nCYP2D6\t*1/*2\nCYP2D6\t*4/*4\n")
    truncated = tmp_path / "cli-truncated.vcf"
    truncated.write_bytes(VCF_SEEDS[0].read_bytes()[:-7] + b"\xff\x00")
    return cases + [("--tumour", bad_maf), ("--outside-calls", bad_calls), ("--tumour", truncated)]


def test_cli_score_with_mutated_tumour_and_outside_calls_prints_one_line(tmp_path, capsys):
    from recommender.cli import main

    failed = 0
    for opt, path in _cli_cases(tmp_path):
        code = main(["score", "--demo", "--no-model", opt, str(path)])
        err = capsys.readouterr().err
        assert code in (0, 1, 2), (path, code, err)
        if code != 0:  # 1 bad input, 2 a usage error (e.g. a record without candidate treatments)
            failed += 1
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("recommender score: error: "), err
            assert path.name in lines[0] and "internal error" not in err and "Traceback" not in err, err
    assert failed >= 3


def test_tumour_vcf_with_a_200000_digit_pos_names_the_field(tmp_path):
    lines = VCF_SEEDS[2].read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    cells = lines[first].split("\t")
    cells[1] = "9" * 200_000
    lines[first] = "\t".join(cells)
    path = tmp_path / "pos.vcf"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError, match="is not a position") as err:  # was ValueError from int() (precheck)
        read_tumour(path)
    assert err.value.field == "POS" and len(err.value.one_line()) < 1000


def test_vcf_contig_length_of_5000_digits_is_read_as_an_unknown_length(tmp_path):
    path = tmp_path / "contig.vcf"
    path.write_text("##fileformat=VCFv4.2\n##contig=<ID=chr7,length=" + "9" * 5000 + ">\n"
                    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr7\t140753336\t.\tA\tT\t.\tPASS\t.\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        profile = read_tumour(path)  # was ValueError from int() of the ##contig length
    assert profile.variants[0].pos == 140753336


def test_cli_pgx_with_mutated_outside_calls_prints_one_line(tmp_path, capsys):
    from recommender.cli import main

    demo = HERE.parents[1] / "genomics" / "data" / "demo" / "demo_pgx_panel.vcf.gz"
    rng = random.Random(SEED + 4)
    seeds = _outside_seeds(tmp_path)
    paths = []
    for i in range(3):
        path = tmp_path / f"pgx-{i}.tsv"
        path.write_bytes(mutate_table(seeds[i % 2].read_bytes(), rng, first_data_line=2))
        paths.append(path)
    broken = tmp_path / "pgx-broken.tsv"
    broken.write_bytes(b"gene\tdiplotype\tphenotype\tactivity_score\nCYP2D6\t\t\thigh\n")
    failed = 0
    for path in [*paths, broken]:
        code = main(["pgx", str(demo), "--sample", "HG00096", "--genes", "CYP2D6", "DPYD",
                     "--outside-calls", str(path)])
        out = capsys.readouterr()
        assert code in (0, 1, 2), (path, code, out.err)
        if code != 0:
            failed += 1
            lines = out.err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("recommender pgx: error: "), out.err
            assert path.name in lines[0] and "Traceback" not in out.err and "internal error" not in out.err
    assert failed >= 1
