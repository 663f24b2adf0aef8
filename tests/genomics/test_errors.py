from genomics.errors import GenomeBuildError, InputFileError, RecommenderError, UsageError, VcfError


def test_one_line_names_file_record_field_and_fix():
    err = VcfError("REF disagrees", file="a.vcf", record="chr1:10", field="REF", fix="use GRCh38")
    assert err.one_line() == "a.vcf: record chr1:10: field REF: REF disagrees -- fix: use GRCh38"
    assert "\n" not in err.one_line()
    assert isinstance(err, InputFileError) and isinstance(err, RecommenderError)
    assert err.to_dict()["record"] == "chr1:10"


def test_multiline_message_is_folded_to_one_line():
    err = GenomeBuildError("line one\nline two", file="x.vcf")
    assert err.one_line() == "x.vcf: line one line two"


def test_usage_error_exit_code_is_2():
    assert UsageError("bad options").exit_code == 2
    assert VcfError("bad").exit_code == 1
