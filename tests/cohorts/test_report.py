"""The researcher's cohort report (cohorts/report.py, report_figures.py, ``recommender cohort report``)."""

from __future__ import annotations

import json
import math
import os
import re
from html import escape as html_escape
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from cohorts.errors import CohortError
from cohorts.germline import RealGenotypeSource
from cohorts.report import (
    MIN_GROUP_FOR_TEST,
    OTHER,
    RECOMMENDED,
    build_report,
    calibration,
    render_html,
    report_tables,
    survival_comparison,
)
from cohorts.score import score_cohort
from cohorts.simulate import simulate_cohort
from recommender.cli import main
from recommender.recommendation import DISCLAIMER

N_PATIENTS = 70


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> tuple[Path, Path]:
    """``(cohort_dir, scores.parquet)`` of a small simulated cohort on real genotypes."""
    base = tmp_path_factory.mktemp("report")
    simulate_cohort(N_PATIENTS, seed=11, germline=RealGenotypeSource(workdir=base / "germ")).write(base / "cohort")
    out = base / "scores.parquet"
    score_cohort(base / "cohort", out, chunk_size=35, progress=False)
    return base / "cohort", out


@pytest.fixture(scope="module")
def report(scored):
    return build_report(scored[1])


@pytest.fixture(scope="module")
def html(report) -> str:
    return render_html(report)


def _received(cohort_dir: Path, scores: Path) -> pd.DataFrame:
    """Independent join: first-line regimen per patient with its scored row (patients with a matching option)."""
    tr = pd.read_parquet(cohort_dir / "treatments.parquet").sort_values(["patient_id", "line"])
    tr = tr.drop_duplicates("patient_id")[["patient_id", "regimen"]]
    df = pd.read_parquet(scores, columns=["patient_id", "regimen", "rank", "p_response", "toxicity"])
    return tr.merge(df, on=["patient_id", "regimen"], how="inner")


def _rewrite(scores: Path, keep: pd.Series, out: Path) -> Path:
    """A copy of the score file with only the rows where ``keep`` is true (metadata kept)."""
    table = pq.read_table(scores)
    pq.write_table(table.filter(pd.Series(keep).to_numpy()), out)
    return out


# ------------------------------------------------------------------------------------------------ survival
def test_km_groups_add_up_to_patients_with_a_matching_received_regimen(scored, report):
    cohort_dir, scores = scored
    rec = _received(cohort_dir, scores)
    out = pd.read_parquet(cohort_dir / "outcomes.parquet")
    assert report.n_received_scored_option == len(rec) > 0
    assert report.n_received_recommended == int((rec["rank"] == 1).sum())
    assert report.n_patients_scored == N_PATIENTS
    assert {c.endpoint for c in report.survival} == {"pfs", "os"}
    for comp in report.survival:
        known = rec.merge(out, on="patient_id").dropna(subset=[f"{comp.endpoint}_days"])
        assert sum(g.n for g in comp.groups) == comp.n == len(known)
        by = {g.label: g for g in comp.groups}
        assert by[RECOMMENDED].n == int((known["rank"] == 1).sum())
        assert by[OTHER].n == int((known["rank"] != 1).sum())
        assert by[RECOMMENDED].events + by[OTHER].events == int(known[f"{comp.endpoint}_event"].sum())
        # numbers at risk at the fixed times: everyone at day 0, never increasing
        assert comp.times[0] == 0 and all(b > a for a, b in zip(comp.times, comp.times[1:]))
        for g in comp.groups:
            assert g.at_risk[0] == g.n and list(g.at_risk) == sorted(g.at_risk, reverse=True)
        # both groups have >= 10 patients here, so the log-rank p is shown
        assert min(g.n for g in comp.groups) >= MIN_GROUP_FOR_TEST
        assert comp.logrank_p is not None and 0 < comp.logrank_p <= 1
        # several cancer types: the test is stratified by cancer type (never pooled across them), said in the note
        assert comp.stratified_by == "cancer_type" and "stratified by cancer type" in comp.logrank_note


def test_hazard_ratios_are_finite_with_the_estimate_inside_its_interval(report):
    for comp in report.survival:
        models = {h.model.split(" ")[0]: h for h in comp.hazard_ratios if "stratified" not in h.model}
        assert set(models) == {"unadjusted", "adjusted"}
        assert set(models["adjusted"].covariates) >= {"age", "ecog"}
        # several cancer types: Cox stratified by cancer type, alone and with the adjustment
        stratified = [h.model for h in comp.hazard_ratios if "stratified by cancer type" in h.model]
        assert stratified == ["stratified by cancer type", f"{models['adjusted'].model}, stratified by cancer type"]
        for h in comp.hazard_ratios:
            assert h.hr is not None, h.note
            assert all(math.isfinite(v) for v in (h.hr, h.low, h.high, h.p))
            assert 0 < h.low < h.hr < h.high and 0 <= h.p <= 1
            assert h.n == comp.n


def test_logrank_hidden_when_a_group_has_fewer_than_ten_patients(scored, tmp_path):
    cohort_dir, scores = scored
    rec = _received(cohort_dir, scores)
    took_first = rec.loc[rec["rank"] == 1, "patient_id"]
    drop = set(took_first.iloc[5:])  # keep 5 patients who received the recommended option
    df = pd.read_parquet(scores, columns=["patient_id"])
    small = _rewrite(scores, ~df["patient_id"].isin(drop), tmp_path / "few.parquet")
    r = build_report(small, cohort_dir)
    assert r.n_received_recommended == 5
    for comp in r.survival:
        assert {g.label: g.n for g in comp.groups}[RECOMMENDED] == 5
        assert comp.logrank_p is None and comp.logrank_statistic is None
        assert "fewer than 10" in comp.logrank_note and "5 patients" in comp.logrank_note
    page = render_html(r)
    assert "log-rank test not shown" in page and "Log-rank test: χ²" not in page


def test_logrank_threshold_is_every_group_at_least_ten():
    rng = np.random.default_rng(0)

    def frame(n_rec: int, n_other: int) -> pd.DataFrame:
        n = n_rec + n_other
        return pd.DataFrame({"recommended": [True] * n_rec + [False] * n_other,
                             "pfs_days": rng.exponential(200, n), "pfs_event": rng.random(n) < 0.8})

    assert survival_comparison(frame(9, 30), "pfs").logrank_p is None
    assert survival_comparison(frame(10, 30), "pfs").logrank_p is not None
    one_group = survival_comparison(frame(0, 30), "pfs")
    assert one_group.groups == () and one_group.hazard_ratios == () and "one group" in one_group.logrank_note


# ------------------------------------------------------------------------------------------------ calibration
def test_response_calibration_bins_and_brier_match_a_direct_computation(scored, report):
    cohort_dir, scores = scored
    rec = _received(cohort_dir, scores).merge(pd.read_parquet(cohort_dir / "outcomes.parquet"), on="patient_id")
    rec = rec[rec["best_response"].isin(["CR", "PR", "SD", "PD"])]  # NE / missing are not evaluable
    y = rec["best_response"].isin(["CR", "PR"]).to_numpy(float)
    p = rec["p_response"].to_numpy(float)
    cal = report.response_calibration
    assert cal.n == len(rec) and cal.events == int(y.sum())
    assert sum(b.n for b in cal.bins) == cal.n and len(cal.bins) == 10
    assert cal.brier == pytest.approx(float(np.mean((p - y) ** 2)), rel=1e-12)
    assert cal.mean_predicted == pytest.approx(p.mean()) and cal.observed_rate == pytest.approx(y.mean())
    # the slope is an unpenalised logistic regression on logit(p) (cross-check with scikit-learn)
    from sklearn.linear_model import LogisticRegression

    lp = np.log(p / (1 - p)).reshape(-1, 1)
    lr = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(lp, y)
    assert cal.calibration_slope == pytest.approx(lr.coef_[0][0], abs=1e-4)
    assert cal.calibration_intercept == pytest.approx(lr.intercept_[0], abs=1e-4)
    assert cal.slope_ci[0] < cal.calibration_slope < cal.slope_ci[1]


def test_calibration_statistics_recover_known_miscalibration():
    rng = np.random.default_rng(1)
    p = rng.uniform(0.05, 0.95, 40_000)
    logit = np.log(p / (1 - p))
    good = calibration(rng.random(p.size) < p, p, "calibrated")
    assert good.calibration_slope == pytest.approx(1.0, abs=0.05)
    assert good.calibration_in_the_large == pytest.approx(0.0, abs=0.05)
    assert all(abs(b.mean_predicted - b.observed) < 0.03 for b in good.bins)
    steep = calibration(rng.random(p.size) < 1 / (1 + np.exp(-(0.5 + 2 * logit))), p, "too flat")
    assert steep.calibration_slope == pytest.approx(2.0, abs=0.1)
    shifted = calibration(rng.random(p.size) < 1 / (1 + np.exp(-(logit - 1.0))), p, "too high")
    assert shifted.calibration_in_the_large == pytest.approx(-1.0, abs=0.06)
    same = calibration(np.zeros(50), np.full(50, 0.2), "no events")
    assert same.calibration_slope is None and same.brier == pytest.approx(0.04) and "not estimable" in same.note
    assert sum(b.n for b in calibration(np.ones(7), np.full(7, 0.5), "tiny").bins) == 7


def test_toxicity_calibration_uses_grade_three_or_more_of_the_term(scored, report):
    cohort_dir, scores = scored
    rec = _received(cohort_dir, scores)
    ae = pd.read_parquet(cohort_dir / "adverse_events.parquet")
    assert report.toxicity_calibration
    checked = 0
    for cal in report.toxicity_calibration:
        term = cal.label.removeprefix("severe ").removesuffix(" (grade >= 3)")
        has = rec[rec["toxicity"].map(lambda ts, t=term: any(x["term"] == t for x in ts))]
        severe = set(ae.loc[(ae["term"] == term) & (ae["grade"] >= 3), "patient_id"])
        assert cal.n == len(has)
        assert cal.events == int(has["patient_id"].isin(severe).sum())
        assert sum(b.n for b in cal.bins) == cal.n
        checked += cal.events > 0
    # a grade 1-2 event never counts: some patients have only mild events of a modelled term
    mild = ae[ae["grade"] < 3]
    assert len(mild) and checked > 0


# ------------------------------------------------------------------------------------------------ PGx
def test_pgx_percentages_sum_to_100_per_population_and_gene(scored, report):
    cohort_dir, scores = scored
    pg = report.pgx
    assert pg.population_source == "population" and pg.n_patients == N_PATIENTS
    assert sum(pg.populations.values()) == N_PATIENTS
    assert len(pg.genes) >= 10 and "DPYD" in pg.genes
    for row in pg.rows:
        assert row.n_callable + row.n_not_callable == row.n_patients == pg.populations[row.population]
        assert sum(p.count for p in row.phenotypes) == row.n_callable
        if row.n_callable:
            assert sum(p.percent for p in row.phenotypes) == pytest.approx(100.0)
    # direct count for one gene: one row per patient (rank 1), called genes only
    pts = pd.read_parquet(cohort_dir / "patients.parquet")[["patient_id", "population"]]
    first = pd.read_parquet(scores, columns=["patient_id", "rank", "pgx_phenotypes"]).query("rank == 1")
    calls = [(pid, g["phenotype"]) for pid, ph in zip(first["patient_id"], first["pgx_phenotypes"], strict=True)
             for g in ph if g["gene"] == "CYP2C19" and g["status"] in ("called", "ambiguous") and g["phenotype"]]
    direct = pd.DataFrame(calls, columns=["patient_id", "phenotype"]).merge(pts, on="patient_id")
    expected = direct.groupby(["population", "phenotype"]).size().to_dict()
    got = {(r.population, p.phenotype): p.count for r in pg.rows if r.gene == "CYP2C19" for p in r.phenotypes}
    assert got == expected
    table = report_tables(report)["pgx:CYP2C19"]
    assert table["phenotype"].iloc[-1] == "not callable" and len(table.columns) == 1 + len(pg.populations)


# ------------------------------------------------------------------------------------------------ HTML / JSON
def test_html_is_self_contained_with_disclaimer_bundle_and_caveat(report, html):
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, flags=re.I)
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower() and "<link" not in html.lower() and "@import" not in html
    assert DISCLAIMER in html
    assert report.provenance.model_bundle_ids and all(b in html for b in report.provenance.model_bundle_ids)
    assert report.provenance.model_bundle_sha256[0] in html
    assert "confounding by indication" in html
    assert html.count("<svg") >= 5  # distributions, response + toxicity calibration, KM of PFS and OS
    for regimen in (r.regimen for r in report.distributions.regimens):
        assert regimen in html
    assert report.provenance.plan and report.provenance.plan in html
    assert report.provenance.genome_build == "GRCh38"
    # knowledge-base versions the scores were computed with (recorded by cohort score, shown by the report)
    kb = report.provenance.knowledge_bases
    assert kb["pgx_knowledge_base"]["kb_id"] in html
    table = kb["biomarker_tables"][0]
    assert html_escape(f"{table['name']} {table['version']}") in html and table["sha256"][:12] in html


def test_json_is_strict_and_complete(report):
    data = json.loads(report.to_json())
    assert data["n_patients_scored"] == N_PATIENTS
    assert {"distributions", "pgx", "response_calibration", "toxicity_calibration", "survival", "provenance",
            "disclaimer", "caveat"} <= set(data)
    pfs = next(s for s in data["survival"] if s["endpoint"] == "pfs")
    assert len(pfs["groups"]) == 2 and len(pfs["curves"]) == 2 and pfs["hazard_ratios"][0]["hr"] > 0


def test_distributions_per_regimen(scored, report):
    df = pd.read_parquet(scored[1], columns=["regimen", "rank", "p_response", "pfs_median_days"])
    for reg in report.distributions.regimens:
        rows = df[df["regimen"] == reg.regimen]
        assert reg.n_patients == len(rows) and reg.n_recommended == int((rows["rank"] == 1).sum())
        s = reg.metric("p_response")
        assert s.median == pytest.approx(rows["p_response"].median())
        assert s.q1 == pytest.approx(rows["p_response"].quantile(0.25))
        assert sum(s.histogram) == s.n == rows["p_response"].notna().sum()
        assert sum(reg.metric("pfs_median_days").histogram) == rows["pfs_median_days"].notna().sum()


# ------------------------------------------------------------------------------------------------ errors
def test_errors_name_the_file_and_the_fix(scored, tmp_path):
    cohort_dir, scores = scored
    with pytest.raises(CohortError, match="not found") as err:
        build_report(tmp_path / "missing.parquet")
    assert "missing.parquet" in err.value.one_line()
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(CohortError, match="not a readable Parquet"):
        build_report(bad)
    with pytest.raises(CohortError, match="not a cohort score file") as err:
        build_report(cohort_dir / "patients.parquet")
    assert "recommender cohort score" in err.value.one_line()
    with pytest.raises(CohortError, match="no manifest"):
        build_report(scores, tmp_path)


def test_a_cohort_without_the_scored_patients_is_refused(scored, tmp_path):
    _, scores = scored
    other = tmp_path / "other"
    simulate_cohort(12, seed=99).write(other)  # other patient ids (SIM99-...)
    with pytest.raises(CohortError, match="scored patients are not in this cohort") as err:
        build_report(scores, other)
    assert "patients.parquet" in err.value.one_line() and "--cohort" in err.value.one_line()
    assert "SIM11-" not in err.value.one_line()  # no patient identifiers in messages


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_writes_html_and_json_atomically(scored, tmp_path, monkeypatch, capsys):
    _, scores = scored
    out, js = tmp_path / "rep" / "report.html", tmp_path / "rep" / "report.json"
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src, dst):
        replaced.append((str(src), str(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    assert main(["cohort", "report", str(scores), "-o", str(out), "--json", str(js)]) == 0
    assert "wrote the report of 70 scored patients" in capsys.readouterr().out
    assert {dst for _, dst in replaced} >= {str(out), str(js)}
    for src, dst in replaced:
        if dst in (str(out), str(js)):
            assert src != dst and Path(src).parent == Path(dst).parent  # temp file beside, then renamed
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html", "report.json"]  # no temp left
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert json.loads(js.read_text())["n_patients_scored"] == N_PATIENTS


def test_cli_keeps_an_existing_report_when_it_fails(scored, tmp_path, capsys):
    cohort_dir, _ = scored
    out = tmp_path / "report.html"
    out.write_text("previous report")
    assert main(["cohort", "report", str(cohort_dir / "outcomes.parquet"), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "outcomes.parquet" in err and "not a cohort score file" in err and "fix:" in err
    assert len(err.strip().splitlines()) == 1  # one line, no traceback
    assert out.read_text() == "previous report" and [p.name for p in tmp_path.iterdir()] == ["report.html"]
