"""``recommender cohort import|info|validate|query`` through the console entry point."""

from __future__ import annotations

import json

import pytest

from recommender.cli import main
from tests.cohorts.conftest import small_tables


@pytest.fixture()
def csv_folder(tmp_path):
    folder = tmp_path / "csv"
    folder.mkdir()
    for name, df in small_tables().items():
        df = df.copy()
        for col in ("drugs", "medications"):
            if col in df:
                df[col] = df[col].map(lambda v: json.dumps(list(v)))
        df.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.fixture()
def cohort_dir(tmp_path, csv_folder, capsys):
    out = tmp_path / "cohort"
    assert main(["cohort", "import", "--from", "csv", str(csv_folder), "-o", str(out), "--licence", "CC0-1.0"]) == 0
    capsys.readouterr()
    return out


def test_import_and_info_json(cohort_dir, capsys):
    assert main(["cohort", "info", str(cohort_dir), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["tables"]["patients"] == 3 and info["licence"]["name"] == "CC0-1.0"
    assert info["cancer_types"] == {"COAD": 2, "LUAD": 1}
    assert main(["cohort", "info", str(cohort_dir)]) == 0
    assert "licence    CC0-1.0" in capsys.readouterr().out


def test_import_refuses_existing_output(cohort_dir, csv_folder, capsys):
    assert main(["cohort", "import", "--from", "csv", str(csv_folder), "-o", str(cohort_dir)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_query_filter_json_and_csv(cohort_dir, capsys):
    assert main(["cohort", "query", str(cohort_dir), "ecog <= 1 and cancer_type = 'COAD'", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rows"] == 1 and data["data"][0]["patient_id"] == "P1"
    assert data["data"][0]["medications"] == ["paroxetine"] and data["data"][0]["sample_id"] == "S1"
    assert main(["cohort", "query", str(cohort_dir), "--sql", "select count(*) as n from outcomes", "--csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["n", "3"]


def test_query_error_is_one_line_exit_1(cohort_dir, capsys):
    assert main(["cohort", "query", str(cohort_dir), "nope > 1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "fix:" in err


def test_validate_reports_every_problem(cohort_dir, tmp_path, capsys):
    import pandas as pd

    from cohorts.manifest import sha256_file

    path = cohort_dir / "outcomes.parquet"
    df = pd.read_parquet(path)
    df.loc[0, "os_days"] = -1.0
    df.loc[2, "best_response"] = "MEH"
    df.to_parquet(path, index=False)
    manifest = json.loads((cohort_dir / "manifest.json").read_text())
    manifest["tables"]["outcomes"]["sha256"] = sha256_file(path)
    (cohort_dir / "manifest.json").write_text(json.dumps(manifest))
    assert main(["cohort", "validate", str(cohort_dir), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "invalid"
    assert {(p["table"], p["row"], p["column"]) for p in report["problems"]} == {
        ("outcomes", 1, "os_days"), ("outcomes", 1, "pfs_days"), ("outcomes", 3, "best_response")}
    assert main(["cohort", "info", str(cohort_dir)]) == 1


def test_bad_input_path_exit_1(tmp_path, capsys):
    assert main(["cohort", "import", "--from", "metabric", str(tmp_path / "none"), "-o", str(tmp_path / "o")]) == 1
    assert "metabric_clinical.tsv" in capsys.readouterr().err


def test_option_for_wrong_source_is_usage_error(tmp_path, csv_folder, capsys):
    assert main(["cohort", "import", "--from", "csv", str(csv_folder), "-o", str(tmp_path / "o"),
                 "--dataset", "gbsg"]) == 2


@pytest.mark.needs_shared
def test_import_summit_from_shared(shared_data, tmp_path, capsys):
    out = tmp_path / "summit"
    assert main(["cohort", "import", "--from", "summit", str(shared_data / "cohorts" / "summit_neratinib_btc"),
                 "-o", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["patients"] == 25 and info["regimens"] == {"neratinib": 25}


def test_simulate_command_trial_share(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["cohort", "simulate", "-n", "400", "--seed", "9", "--trial-share", "0.25", "--germline", "priors",
                 "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "randomised uniformly over the candidates (trial component)" in printed
    assert main(["cohort", "simulate", "-n", "40", "--trial-share", "2", "--germline", "priors",
                 "-o", str(tmp_path / "bad")]) == 2


def test_simulate_command(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["cohort", "simulate", "-n", "300", "--seed", "9", "--randomised", "--cancer-types", "COAD,LUAD",
                 "-o", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["patients"] == 300 and set(info["cancer_types"]) == {"COAD", "LUAD"}
    assert info["truth_tables"]["germline"] == 300 and info["bytes_on_disk"] > 0
    assert main(["cohort", "simulate", "-n", "300", "-o", str(out)]) == 2
    assert main(["cohort", "simulate", "-n", "10", "--cancer-types", "XYZ", "-o", str(tmp_path / "x")]) == 2


def test_export_phenopackets_and_reimport(cohort_dir, tmp_path, capsys):
    out = tmp_path / "pp"
    assert main(["cohort", "export", str(cohort_dir), "-o", str(out), "--where", "cancer_type = 'COAD'", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["patients"] == 2
    assert sorted(p.name for p in out.iterdir()) == ["P1.json", "P2.json"]
    back = tmp_path / "back"
    assert main(["cohort", "import", "--from", "phenopackets", str(out), "-o", str(back)]) == 0
    capsys.readouterr()
    assert main(["cohort", "query", str(back), "true", "--csv", "--columns", "patient_id, ecog"]) == 0
    assert capsys.readouterr().out.splitlines() == ["patient_id,ecog", "P1,0", "P2,2"]
