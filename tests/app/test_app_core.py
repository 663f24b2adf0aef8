"""Streamlit-free helpers of the app (upload parsing, formatting, sorting) and the launcher."""

from __future__ import annotations

import argparse
import json
import os

import pytest

from app.core import fmt_interval, parse_upload, sort_options
from recommender.commands.score import DEMO_PATIENT


def test_upload_of_our_json_and_of_a_phenopacket_are_read():
    p = parse_upload("demo.json", DEMO_PATIENT.read_bytes())
    assert p.patient_id == "DEMO-COAD-001"
    pp = DEMO_PATIENT.with_name("demo_patient.phenopacket.json")
    q = parse_upload(pp.name, pp.read_bytes())
    assert q.diagnosis.cancer_type == "COAD"


def test_upload_validation_error_names_the_file_and_field():
    from recommender.schema import PatientRecordError

    data = json.loads(DEMO_PATIENT.read_text())
    data["demographics"]["age"] = -3
    with pytest.raises(PatientRecordError) as err:
        parse_upload("bad.json", json.dumps(data).encode())
    line = err.value.one_line()
    assert "bad.json" in line and "age" in line
    with pytest.raises(PatientRecordError, match="line 1"):
        parse_upload("broken.json", b'{"patient_id": ')
    with pytest.raises(PatientRecordError, match="UTF-8"):
        parse_upload("latin.json", b"\xff\xfe{")


def test_fmt_interval():
    assert fmt_interval(0.411, 0.31, 0.459, pct=True) == "41% (31–46%)"
    assert fmt_interval(174.2, 127.3, 190.4, unit=" d") == "174 d (127–190 d)"
    assert fmt_interval(None, None, None) == "-"


def test_sort_options_by_response_and_unknown_last():
    from types import SimpleNamespace as NS

    def opt(rank, p):
        resp = None if p is None else NS(probability=p)
        return NS(rank=rank, model=NS(available=p is not None, response=resp, toxicity=(), survival=()))

    opts = [opt(1, 0.2), opt(2, None), opt(3, 0.5)]
    assert [o.rank for o in sort_options(opts, "response probability")] == [3, 1, 2]
    assert [o.rank for o in sort_options(opts, "recommended rank")] == [1, 2, 3]


def test_launcher_binds_localhost_passes_db_in_env_and_prints_demo_password_once(tmp_path, monkeypatch, capsys):
    from app import launch

    seen = {}

    def fake_call(cmd, env, cwd):
        seen.update(cmd=cmd, env=env)
        return 0

    monkeypatch.setattr(launch.subprocess, "call", fake_call)
    monkeypatch.delenv("RECOMMENDER_DB_URL", raising=False)
    parser = argparse.ArgumentParser()
    launch.add_arguments(parser)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert launch.run(parser.parse_args(["--db", url, "--port", "8599", "--demo"])) == 0
    cmd = seen["cmd"]
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--server.headless") + 1] == "true"
    assert cmd[cmd.index("--server.port") + 1] == "8599"
    assert seen["env"]["RECOMMENDER_DB_URL"] == url
    assert url not in " ".join(cmd)
    out = capsys.readouterr().out
    password = out.split("password ", 1)[1].split()[0]
    assert len(password) >= 20
    from recommender.store import authenticate, open_database

    assert authenticate(open_database(url), "demo", password).role == "physician"
    assert "RECOMMENDER_DB_URL" not in os.environ or os.environ["RECOMMENDER_DB_URL"] != url


def test_launcher_rejects_bad_port():
    from app import launch
    from genomics.errors import UsageError

    with pytest.raises(UsageError):
        launch.run(argparse.Namespace(db=None, port=0, demo=False))


def test_survival_frames_are_in_months_in_rank_order_with_bands_and_median_intervals():
    from app.views import DAYS_PER_MONTH, curves_indistinguishable, survival_frames
    from recommender.commands.score import DEMO_PATIENT
    from recommender.scoring import score_patient

    rec = score_patient(DEMO_PATIENT)
    for endpoint in ("pfs", "os"):
        curves, medians = survival_frames(rec.options, endpoint)
        assert list(dict.fromkeys(curves["option"])) == [o.regimen for o in sorted(rec.options, key=lambda o: o.rank)]
        assert curves["survival"].between(0, 1).all()
        banded = curves.dropna(subset=["low", "high"])
        assert len(banded) and (banded["low"] <= banded["high"]).all()
        for r in medians.itertuples():
            pred = next(s for o in rec.options if o.regimen == r.option for s in o.model.survival
                        if s.endpoint == endpoint)
            assert abs(r.median - pred.median_days / DAYS_PER_MONTH) < 1e-9 and r.low <= r.median <= r.high
            assert r.label.startswith(f"{pred.median_days / DAYS_PER_MONTH:.1f} mo")
    assert survival_frames([], "pfs")[0].empty
    # identical curves are said to be identical rather than drawn four times
    same = [rec.options[0].model_copy(update={"rank": i + 1, "regimen": f"R{i}"}) for i in range(3)]
    assert curves_indistinguishable(same, "pfs") and not curves_indistinguishable(same[:1], "pfs")


def test_words_replace_internal_codes():
    from app.views import evidence_badge, gene_status_words, months, months_interval, pmid_links

    assert gene_status_words("not_called", "no_data") == "not callable from the data — no position of the gene is " \
                                                         "in the VCF"
    assert "cyp2d6" not in gene_status_words("provisional", "cyp2d6_snv_indel_only")
    assert months(182.6) == "6.0 mo" and months_interval(None, None, None, reached=False) == "not reached"
    assert pmid_links(["123", "javascript:alert(1)", "45 6"]) == "[PMID 123](https://pubmed.ncbi.nlm.nih.gov/123/)"
    assert evidence_badge("R1").startswith(":red-badge[level R1")
