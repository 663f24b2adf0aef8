"""Tumour readers: somatic VCF (VEP / SnpEff / unannotated), MAF, copy-number/fusion table."""

import gzip
import shutil

import pytest

from genomics.biomarkers import detect_format, read_cnv_table, read_maf, read_somatic_vcf, read_tumour
from genomics.errors import GenomeBuildError, InputFileError, UsageError, VcfError
from tests.conftest import FIXTURES

F = FIXTURES / "biomarkers"


def test_vep_vcf_reads_gene_protein_exon_and_skips_filtered():
    p = read_somatic_vcf(F / "tumour_vep.vcf")
    assert p.annotation == "VEP CSQ" and p.positions_build == "GRCh38"
    got = {(v.gene, v.protein_change) for v in p.variants}
    assert ("EGFR", "E746_A750del") in got and ("KRAS", "G12C") in got and ("BRCA1", "K1001fs") in got
    assert not any(v.gene == "PIK3CA" for v in p.variants)  # LowQual record left out
    assert any("not PASS" in w for w in p.warnings)
    egfr = next(v for v in p.variants if v.gene == "EGFR")
    assert egfr.exon == 19 and egfr.consequences == ("inframe_deletion",)
    # the PICK / MANE transcript wins over the other EGFR transcript (p.Glu693_Ala697del)
    assert egfr.transcript == "ENST00000275493.7"
    assert read_somatic_vcf(F / "tumour_vep.vcf", include_filtered=True).variants[0].gene == "PIK3CA"


def test_snpeff_vcf():
    p = read_somatic_vcf(F / "tumour_snpeff.vcf")
    assert p.annotation == "SnpEff ANN"
    assert [(v.gene, v.protein_change, v.exon) for v in p.variants] == [("BRAF", "V600E", 15), ("KRAS", "G12D", 2)]


def test_unannotated_vcf_keeps_positions_and_says_so():
    p = read_somatic_vcf(F / "tumour_unannotated.vcf")
    assert p.annotation == "none"
    assert any("only GRCh38 hotspot positions" in w for w in p.warnings)
    assert [(v.pos, v.alt) for v in p.variants][-2:] == [(25245351, "A"), (25245351, "T")]  # multi-allelic split
    assert all(v.gene is None for v in p.variants)


def test_grch37_vcf_is_refused():
    with pytest.raises(GenomeBuildError) as err:
        read_somatic_vcf(F / "tumour_grch37.vcf")
    assert err.value.fix and "GRCh37" in err.value.message


def test_grch37_positions_without_header_build_are_refused():
    with pytest.raises(GenomeBuildError) as err:
        read_somatic_vcf(F / "tumour_grch37_nocontigs.vcf")
    assert err.value.record == "chr7:140453136" and "liftover" in err.value.fix.lower().replace(" ", "")


def test_malformed_csq_names_record_and_field():
    with pytest.raises(VcfError) as err:
        read_somatic_vcf(F / "malformed_csq.vcf")
    assert (err.value.record, err.value.field) == ("chr7:140753336", "CSQ")


def test_truncated_vcf_is_an_input_error():
    with pytest.raises(InputFileError) as err:
        read_tumour(F / "truncated.vcf.gz")
    assert "truncated" in err.value.message and err.value.file.endswith("truncated.vcf.gz")


def test_maf_grch38():
    p = read_maf(F / "tumour.maf")
    assert p.positions_build == "GRCh38" and p.sample == "T1"
    braf = p.variants[0]
    assert (braf.gene, braf.protein_change, braf.pos, braf.chrom, braf.record) == (
        "BRAF", "V600E", 140753336, "chr7", "line 3")


def test_maf_grch37_keeps_protein_change_but_not_positions():
    p = read_maf(F / "tumour_grch37.maf")
    assert [v.protein_change for v in p.variants] == ["V600E", "E746_A750del"]
    assert all(v.pos is None for v in p.variants)
    assert any("GRCh37" in w for w in p.warnings)


@pytest.mark.parametrize(
    "name, record, field_name, words",
    [
        ("truncated.maf", "line 3", None, "truncated"),
        ("bad_position.maf", "line 2", "Start_Position", "whole number"),
        ("multi_sample.maf", None, "Tumor_Sample_Barcode", "2 tumour samples"),
    ],
)
def test_bad_mafs(name, record, field_name, words):
    with pytest.raises(InputFileError) as err:
        read_maf(F / name)
    assert err.value.record == record and err.value.field == field_name and words in err.value.message
    assert err.value.fix


def test_maf_without_hugo_symbol(tmp_path):
    with pytest.raises(InputFileError) as err:
        read_maf(F / "no_hugo.maf")
    assert err.value.field == "Hugo_Symbol"
    assert read_maf(F / "multi_sample.maf", sample="T2").variants[0].gene == "NRAS"
    with pytest.raises(InputFileError, match="no sample"):
        read_maf(F / "multi_sample.maf", sample="T9")


def test_gzipped_maf_and_format_detection(tmp_path):
    gz = tmp_path / "t.maf.gz"
    with open(F / "tumour.maf", "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    assert detect_format(gz) == "maf" and detect_format(F / "tumour_vep.vcf") == "vcf"
    assert len(read_tumour(gz).variants) == 4
    with pytest.raises(InputFileError, match="neither a VCF nor a MAF"):
        detect_format(F / "cnv.tsv")
    empty = tmp_path / "empty.maf"
    empty.write_text("")
    with pytest.raises(InputFileError, match="empty"):
        read_tumour(empty)


def test_cnv_table():
    cnv, fusions = read_cnv_table(F / "cnv.tsv")
    assert [(c.gene, c.alteration, c.copy_number) for c in cnv] == [("ERBB2", "amplification", 14.0),
                                                                   ("CDKN2A", "deletion", 0.0)]
    assert [(f.gene, f.partner) for f in fusions] == [("ALK", "EML4")]
    _, dash = read_cnv_table(F / "fusion_dash.tsv")
    assert [(f.gene, f.partner) for f in dash] == [("ALK", "EML4"), ("NTRK3", "ETV6")]


@pytest.mark.parametrize(
    "name, field_name",
    [("bad_cnv.tsv", "alteration"), ("bad_cnv_number.tsv", "copy_number"), ("no_header_cnv.tsv", "gene")],
)
def test_bad_cnv_tables(name, field_name):
    with pytest.raises(InputFileError) as err:
        read_cnv_table(F / name)
    assert err.value.field == field_name and err.value.record and err.value.fix


def test_tmb_msi_validation():
    p = read_tumour(tmb="12.5", msi="msi-h")
    assert (p.tmb, p.msi) == (12.5, "MSI-H")
    with pytest.raises(UsageError):
        read_tumour(tmb=-1)
    with pytest.raises(UsageError):
        read_tumour(tmb="lots")
    with pytest.raises(UsageError):
        read_tumour(msi="unstable-ish")
    with pytest.raises(UsageError):
        read_tumour()


def test_truncated_gzipped_maf(tmp_path):
    gz = tmp_path / "t.maf.gz"
    with open(F / "tumour.maf", "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    blob = gz.read_bytes()
    cut = tmp_path / "cut.maf.gz"
    cut.write_bytes(blob[: len(blob) - 12])
    with pytest.raises(InputFileError) as err:
        read_maf(cut)
    assert "truncated" in err.value.message and err.value.fix


def test_vep_without_hgvs_says_so(tmp_path):
    text = (F / "tumour_vep.vcf").read_text().replace("|HGVSp|", "|HGVS_P_OFF|")
    p = tmp_path / "nohgvs.vcf"
    p.write_text(text)
    profile = read_somatic_vcf(p)
    assert any("without --hgvs" in w for w in profile.warnings)
    assert all(v.protein is None for v in profile.variants)
