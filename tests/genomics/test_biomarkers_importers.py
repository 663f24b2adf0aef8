"""Importers of third-party tables read from a user path (shared data: MOAlmanac, CGI, hotspots)."""

import json

import pytest

from genomics.biomarkers import (
    annotate_hotspots,
    load_cancer_hotspots,
    load_cgi,
    load_moalmanac,
    load_third_party,
    match_biomarkers,
    read_tumour,
)
from genomics.errors import KnowledgeBaseError
from tests.conftest import FIXTURES

F = FIXTURES / "biomarkers"


@pytest.fixture(scope="module")
def onco(shared_data):
    return shared_data / "oncology"


def test_moalmanac_import_and_match(onco):
    kb, summary = load_moalmanac(onco / "moalmanac" / "molecular-oncology-almanac.json")
    assert summary.rows_read == 1018 and 300 < summary.rows_kept < 1018
    assert summary.skipped.get("deprecated") == 3
    assert "GPL-2.0" in kb.licence and kb.path.endswith("molecular-oncology-almanac.json")
    assert all(t == t.lower() for r in kb.rows for t in r.therapies)
    report = match_biomarkers(read_tumour(F / "tumour_snpeff.vcf"), cancer_type="SKCM", extra_tables=[kb])
    moa = [m for m in report.matches if m.source_version.startswith("Molecular Oncology Almanac")]
    assert any(m.gene == "BRAF" and m.evidence_level == "1" and m.matched_in_patient_cancer_type for m in moa)
    names = [t["name"] for t in report.provenance["biomarker_tables"]]
    assert len(names) == 2 and "third-party" in names[1]


def test_gene_level_third_party_rows_never_match_a_brca_vus(onco):
    kb, _ = load_moalmanac(onco / "moalmanac" / "molecular-oncology-almanac.json")
    cgi, _ = load_cgi(onco / "cgi_biomarkers_2017" / "cgi_biomarkers_per_variant.tsv")
    report = match_biomarkers(read_tumour(F / "tumour.maf"), cancer_type="BRCA", extra_tables=[kb, cgi])
    assert [v.gene for v in report.vus] == ["BRCA2"]
    assert not any(m.gene == "BRCA2" for m in report.matches)


def test_cgi_import(onco):
    kb, summary = load_cgi(onco / "cgi_biomarkers_2017" / "cgi_biomarkers_per_variant.tsv")
    assert summary.rows_read == 1442 and summary.rows_kept > 300
    assert summary.skipped.get("toxicity association", 0) > 0
    egfr = [r for r in kb.rows if r.genes == ("EGFR",) and "exact:T790M" in r.rules]
    assert egfr and any(r.direction == "resistance" for r in egfr)
    assert all(";" not in t for r in kb.rows for t in r.therapies)


def test_hotspots_import_and_annotation(onco):
    codons, summary = load_cancer_hotspots(onco / "cancer_hotspots_chang2016" / "publication_hotspots.tsv")
    assert summary.rows_read == 470
    notes = annotate_hotspots(read_tumour(F / "tumour.maf"), codons)
    assert {(n["gene"], n["hotspot_codon"]) for n in notes} >= {("BRAF", "V600"), ("NRAS", "Q61")}


def test_auto_detection(onco):
    assert load_third_party(onco / "moalmanac" / "molecular-oncology-almanac.json")[0] == "moalmanac"
    assert load_third_party(onco / "cgi_biomarkers_2017" / "cgi_biomarkers_per_variant.tsv")[0] == "cgi"
    assert load_third_party(onco / "cancer_hotspots_chang2016" / "publication_hotspots.tsv")[0] == "hotspots"


def test_wrong_and_broken_tables_are_refused(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="unrecognised"):
        load_third_party(F / "cnv.tsv")
    bad = tmp_path / "moa.json"
    bad.write_text('[{"feature_type": "Somatic Variant", ')
    with pytest.raises(KnowledgeBaseError, match="not valid JSON"):
        load_moalmanac(bad)
    bad.write_text(json.dumps([{"gene": "BRAF"}]))
    with pytest.raises(KnowledgeBaseError, match="not a MOAlmanac"):
        load_moalmanac(bad)
    with pytest.raises(KnowledgeBaseError, match="not a CGI"):
        load_cgi(F / "cnv.tsv")
    with pytest.raises(KnowledgeBaseError, match="not found"):
        load_third_party(tmp_path / "missing.json")
