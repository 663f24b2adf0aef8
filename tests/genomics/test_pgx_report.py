"""The self-contained HTML report section: content, colours, verbatim text, escaping and sanitising."""

from __future__ import annotations

from pathlib import Path

import pytest

from genomics.pgx import knowledge_base as kbmod
from genomics.pgx.guidance import guidance_for_profile
from genomics.pgx.knowledge_base import import_knowledge_base
from genomics.pgx.profile import Diplotype, GeneCall, MissingPosition, PgxProfile, PgxProvenance
from genomics.pgx.report import render_pgx_html, sanitize_guideline_html

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pgx_kb"


@pytest.fixture(autouse=True)
def _bundled_kb(tmp_path, monkeypatch):
    monkeypatch.setenv(kbmod.ENV_KB_DIR, "bundled")
    monkeypatch.setenv(kbmod.ENV_HOME, str(tmp_path / "home"))
    kbmod.clear_cache()
    yield
    kbmod.clear_cache()


def _profile(sample: str = "NA12878") -> PgxProfile:
    genes = {
        "CYP2C19": GeneCall(
            gene="CYP2C19", status="called", diplotypes=[Diplotype(allele1="*2", allele2="*2", name="*2/*2",
                                                                  phenotype="Poor Metabolizer")],
            phenotype="Poor Metabolizer", lookup_key="Poor Metabolizer", n_positions=36, n_observed=35,
            missing_positions=[MissingPosition(position=94852738, rsid="rs1234", alleles_defined_here=["*5"])],
            reasons=["missing_positions_without_effect"], warnings=["<b>not bold</b> warning"],
        ),
        "DPYD": GeneCall(
            gene="DPYD", status="called", n_positions=80, n_observed=80,
            diplotypes=[Diplotype(allele1="Reference", allele2="c.1905+1G>A (*2A)",
                                  name="Reference/c.1905+1G>A (*2A)")],
            phenotype="Intermediate Metabolizer", activity_score="1.0", lookup_key="1.0",
            rule="lowest_function_rule",
        ),
        "TPMT": GeneCall(gene="TPMT", status="not_called", reasons=["no_data"], n_positions=40, n_observed=0),
    }
    return PgxProfile(sample=sample, genes=genes,
                      provenance=PgxProvenance(definitions_version="2025-11-05-00-25", vcf="demo.vcf.gz"))


def test_report_sections_colours_and_provenance():
    profile = _profile()
    guidance = guidance_for_profile(profile)
    html = render_pgx_html(profile, guidance)
    assert html.lstrip().startswith('<section class="pgx-report"')
    for title in ("Per-drug summary", "Genotype summary", "Full recommendations", "Allele-matching details",
                  "Disclaimers", "Provenance"):
        assert f"<h3>{title}</h3>" in html
    # clopidogrel for a CYP2C19 poor metabolizer is red (avoid); fluorouracil for DPYD AS 1.0 amber
    clop = html.split('href="#pgx-drug-clopidogrel"')[0].rsplit("<tr", 1)[1]
    assert 'pgx-row-red' in clop
    fu = html.split('href="#pgx-drug-fluorouracil"')[0].rsplit("<tr", 1)[1]
    assert 'pgx-row-amber' in fu
    # coverage of required positions and missing positions
    assert "35 / 36 (97%); 1 missing" in html
    assert "94852738 (rs1234)" in html
    # uncalled TPMT: drugs keyed on it say so
    assert "not called" in html
    # provenance and the staleness note
    assert "older than the allele definitions" in html
    assert "2024-03-25-16-13" in html and "2025-11-05-00-25" in html
    assert "GRCh38" in html and "genomics-treatment-recommender" in html
    assert "Research use only" in html


def test_bundled_guideline_html_is_verbatim():
    profile = _profile()
    guidance = guidance_for_profile(profile, drugs=["clopidogrel"])
    html = render_pgx_html(profile, guidance)
    rec = next(r for r in guidance[0].recommendations if r.source == "CPIC")
    assert rec.text_html in html  # the table's HTML, unchanged
    assert "PMID 35034351" in html


def test_report_is_self_contained():
    profile = _profile()
    html = render_pgx_html(profile, guidance_for_profile(profile), standalone=True)
    assert html.startswith("<!DOCTYPE html>")
    lowered = html.lower()
    for marker in ("<script", "<link", "<img", "@import", "url(", "<iframe", "src="):
        assert marker not in lowered


def test_values_are_escaped():
    profile = _profile(sample="<script>alert(1)</script>")
    html = render_pgx_html(profile, guidance_for_profile(profile, drugs=["codeine"]))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;not bold&lt;/b&gt; warning" in html


def test_imported_guideline_html_is_sanitised(tmp_path, monkeypatch):
    monkeypatch.delenv(kbmod.ENV_KB_DIR)
    kb = import_knowledge_base(FIXTURES / "prescribing_guidance.json", home=tmp_path / "h")
    profile = _profile()
    guidance = guidance_for_profile(profile, drugs=["clopidogrel"], kb=kb)
    assert any(r.recommendation_id == "FIXTURE-XSS" for r in guidance[0].recommendations)
    html = render_pgx_html(profile, guidance, kb=kb)
    assert "Fixture text kept." in html
    lowered = html.lower()
    assert "<script" not in lowered and "onclick" not in lowered and "javascript:" not in lowered
    assert "2025-06-01-00-00" in html


def test_sanitizer_keeps_words_drops_active_content():
    out = sanitize_guideline_html('<p style="x">Reduce dose by <b>50%</b></p><img src=x onerror=alert(1)>')
    assert out == "<p>Reduce dose by <b>50%</b></p>"


def test_plain_mapping_profile_renders():
    prof = {"CYP2D6": ("*4", "*4")}
    html = render_pgx_html(prof, guidance_for_profile(prof, drugs=["codeine"]))
    assert "*4/*4" in html and "codeine" in html
    assert "<td>Poor Metabolizer</td>" in html and "<td>0.0</td>" in html
