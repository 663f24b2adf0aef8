"""``recommender cohort simulate`` with the genotype source (default) and the default cohort helper."""

from __future__ import annotations

import json
import warnings

from cohorts import load_cohort
from genomics.errors import DegradedResultWarning
from recommender.cli import main


def test_simulate_writes_a_vcf_cohort_by_default(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["cohort", "simulate", "-n", "120", "--seed", "4", "-o", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["vcf"]["samples"] == 120 and (out / "germline.vcf.gz.tbi").exists()
    cohort = load_cohort(out)  # validates sample IDs against the VCF
    germ = cohort.truth("germline")
    assert {"pgx_CYP2D6_diplotype", "pgx_fallback", "germline_origin", "population_code"} <= set(germ.columns)
    assert any("real 1000 Genomes haplotypes" in n for n in cohort.manifest.provenance.notes)
    from genomics.pgx import call_pgx

    pid = cohort.patients["patient_id"][0]
    p = cohort.patient(pid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegradedResultWarning)  # filled positions are reported on purpose
        prof = call_pgx(p.germline.path, sample=p.germline.sample_id, fill_missing_with_reference=True,
                        genes=["DPYD", "UGT1A1"])
    row = germ[germ["patient_id"] == pid].iloc[0]
    assert prof.genes["UGT1A1"].phenotype == row["pgx_UGT1A1_phenotype"]


def test_simulate_recombine_mode_and_priors(tmp_path, capsys):
    out = tmp_path / "rec"
    assert main(["cohort", "simulate", "-n", "100", "--germline-mode", "recombine", "-o", str(out)]) == 0
    germ = load_cohort(out).truth("germline")
    assert (germ["germline_origin"] == "recombinant").all()
    pri = tmp_path / "pri"
    assert main(["cohort", "simulate", "-n", "100", "--germline", "priors", "-o", str(pri)]) == 0
    assert load_cohort(pri).vcf_path is None
    capsys.readouterr()
    assert main(["cohort", "simulate", "-n", "100", "--germline", "priors", "--germline-mode", "real",
                 "-o", str(tmp_path / "x")]) == 2
    assert "genotype" in capsys.readouterr().err


def test_simulate_from_a_missing_panel_is_exit_1(tmp_path, capsys):
    assert main(["cohort", "simulate", "-n", "100", "--genotypes", str(tmp_path / "none.npz"),
                 "-o", str(tmp_path / "y")]) == 1
    err = capsys.readouterr().err
    assert "haplotype panel not found" in err and "Traceback" not in err


def test_ensure_default_cohort_reuses_a_current_cohort(tmp_path, monkeypatch):
    import cohorts.default_cohort as D

    monkeypatch.setattr(D, "DEFAULT_N", 100)
    first = D.ensure_default_cohort(tmp_path / "default")
    stamp = (first.path / "manifest.json").stat().st_mtime_ns
    again = D.ensure_default_cohort(tmp_path / "default")
    assert again.n_patients == 100 and (again.path / "manifest.json").stat().st_mtime_ns == stamp


def test_ensure_default_cohort_rebuilds_when_the_trial_share_differs(tmp_path, monkeypatch):
    import cohorts.default_cohort as D

    monkeypatch.setattr(D, "DEFAULT_N", 100)
    D.ensure_default_cohort(tmp_path / "default")
    mixed = D.ensure_default_cohort(tmp_path / "default", trial_share=0.5)
    assert mixed.manifest.provenance.source_version.endswith("; trial0.5")
    stamp = (mixed.path / "manifest.json").stat().st_mtime_ns
    assert (D.ensure_default_cohort(tmp_path / "default", trial_share=0.5).path / "manifest.json").stat().st_mtime_ns == stamp
    plain = D.ensure_default_cohort(tmp_path / "default")
    assert "trial" not in plain.manifest.provenance.source_version


def test_rebuild_command_trains_on_the_default_training_cohort_spec():
    """The model card's rebuild command and ``training_cohort_spec`` (used by the benchmarks) name one cohort."""
    import ast

    from cohorts.default_cohort import training_cohort_spec
    from recommender.models.defaults import REBUILD_COMMAND

    code = REBUILD_COMMAND.split('-c "', 1)[1].rstrip('"')
    call = next(node for node in ast.walk(ast.parse(code))
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "simulate_cohort")
    n, seed = (ast.literal_eval(a) for a in call.args)
    keywords = {k.arg: k.value for k in call.keywords}
    share = ast.literal_eval(keywords["trial_share"]) if "trial_share" in keywords else 0.0
    assert (n, seed, share) == tuple(training_cohort_spec())
