"""Outside-calls TSV: parsing, validation with line numbers."""

from __future__ import annotations

import pytest

from genomics.errors import InputFileError
from genomics.pgx.outside_calls import parse_outside_calls, read_outside_calls


def test_headerless_pharmcat_layout():
    calls = parse_outside_calls("CYP2D6\t*1/*2x2\n#comment\n\nHLA-B\t*57:01/*08:01\t\t\tlab X\n")
    assert [c.gene for c in calls] == ["CYP2D6", "HLA-B"]
    assert calls[0].alleles == ("*1", "*2x2")
    assert calls[1].source == "lab X"
    assert calls[1].line == 4


def test_header_with_named_columns_in_any_order():
    text = "gene\tsource\tactivity score\nCYP2D6\tStargazer\t1.25\nmt_rnr1\tpanel\t\n"
    with pytest.raises(InputFileError) as err:
        parse_outside_calls(text)
    assert "line 3" in err.value.one_line()  # MT-RNR1 without a value
    calls = parse_outside_calls("gene\tsource\tphenotype\nMT_RNR1\tpanel\tnormal risk\n")
    assert calls[0].gene == "MT-RNR1" and calls[0].phenotype == "normal risk" and calls[0].source == "panel"


def test_activity_score_normalised_and_validated():
    assert parse_outside_calls("CYP2D6\t\t\t1\n")[0].activity_score == "1.0"
    assert parse_outside_calls("CYP2D6\t\t\t≥3\n")[0].activity_score == ">=3"
    with pytest.raises(InputFileError) as err:
        parse_outside_calls("CYP2D6\t\t\thigh\n")
    assert err.value.field == "activity_score"


@pytest.mark.parametrize("text, field", [
    ("XYZ1\t*1/*1\n", "gene"),
    ("\t*1/*1\n", "gene"),
    ("CYP2D6\t*1/*1\nCYP2D6\t*1/*2\n", "gene"),
    ("CYP2D6\n", "diplotype"),
    ("gene\tbogus\nCYP2D6\tx\n", "header"),
])
def test_bad_rows_name_line_and_field(text, field):
    with pytest.raises(InputFileError) as err:
        parse_outside_calls(text, file="calls.tsv")
    assert err.value.field == field
    assert err.value.record.startswith("line ")
    assert err.value.fix


def test_read_file(tmp_path):
    p = tmp_path / "o.tsv"
    p.write_text("HLA-A\t*31:01/*02:01\n", encoding="utf-8")
    assert read_outside_calls(p)[0].gene == "HLA-A"
    with pytest.raises(InputFileError):
        read_outside_calls(tmp_path / "missing.tsv")
