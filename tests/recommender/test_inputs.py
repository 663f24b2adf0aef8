"""Issue 15 (9): one input boundary and one settings object for the CLI, the HTTP service and the app."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from genomics.errors import UsageError
from recommender import inputs
from recommender.inputs import StagedUpload, public_error, read_patient, read_patient_file, safe_upload_name
from recommender.schema import PatientRecordError
from recommender.settings import get_settings
from tests.recommender._scoring_support import COAD

DUPLICATE = '{"patient_id": "P1", "cancer_type": "COAD", "cancer_type": "LUAD"}'


@pytest.fixture()
def spy(monkeypatch):
    calls: list[str] = []
    real = inputs.read_patient

    def counting(data, *, source=None):
        calls.append(type(data).__name__)
        return real(data, source=source)

    monkeypatch.setattr(inputs, "read_patient", counting)
    return calls


def test_the_three_front_ends_call_the_one_patient_reader(spy, tmp_path, capsys):
    from app.core import parse_upload
    from recommender.cli import main
    from recommender.service import create_app, hash_token

    record = COAD.read_text()
    parse_upload("p.json", record.encode())  # app
    client = TestClient(create_app(token_hashes=[hash_token("t")]))
    client.post("/v1/score/json", json={"patient": json.loads(record)},
                headers={"Authorization": "Bearer t"})  # service, JSON body
    client.post("/v1/score", data={"patient": record}, headers={"Authorization": "Bearer t"})  # service, form
    path = tmp_path / "p.json"
    path.write_text(DUPLICATE)
    assert main(["score", str(path), "--no-model"]) == 1  # CLI
    assert "appears twice" in capsys.readouterr().err
    assert len(spy) == 4


@pytest.mark.parametrize("bad", [DUPLICATE, '{"patient_id": "P1", "age": NaN, "cancer_type": "COAD"}',
                                 "[" * 5000 + "]" * 5000, "12345", b"\xff\xfe{}"])
def test_hostile_records_are_refused_the_same_way_everywhere(bad, tmp_path):
    from app.core import parse_upload
    from recommender.service import create_app, hash_token

    with pytest.raises(PatientRecordError):
        read_patient(bad)
    with pytest.raises(PatientRecordError):
        parse_upload("x.json", bad if isinstance(bad, bytes) else bad.encode())
    path = tmp_path / "x.json"
    path.write_bytes(bad if isinstance(bad, bytes) else bad.encode())
    with pytest.raises(PatientRecordError):
        read_patient_file(path)
    client = TestClient(create_app(token_hashes=[hash_token("t")]))
    r = client.post("/v1/score", data={"patient": bad if isinstance(bad, str) else bad.decode("latin-1")},
                    headers={"Authorization": "Bearer t"})
    assert r.status_code == 422 and r.json()["error"] == "PatientRecordError"


def test_oversized_record_is_refused_before_parsing():
    with pytest.raises(PatientRecordError, match="larger than"):
        read_patient(b" " * (inputs.MAX_PATIENT_BYTES + 1))


def test_staged_upload_is_private_and_neutrally_named():
    up = StagedUpload("../../etc/Jane Doe.vcf.gz", b"\x1f\x8bdata", stem="germline", suffixes=(".vcf.gz", ".vcf"))
    try:
        assert up.name == "Jane_Doe.vcf.gz" and up.path.name == "germline.vcf.gz"
        assert stat.S_IMODE(os.stat(up.path.parent).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(up.path).st_mode) == 0o600
        err = up.rename_error(UsageError(f"cannot read {up.path}", file=str(up.path)))
        assert str(up.path.parent) not in err.one_line() and "Jane_Doe.vcf.gz" in err.one_line()
    finally:
        up.discard()
    assert not up.path.parent.exists()
    assert safe_upload_name("..") == "upload" and safe_upload_name(None) == "upload"


def test_public_error_hides_server_paths():
    body = public_error(UsageError("cannot open /srv/data/tmp/recommender-upload-x/germline.vcf now",
                                   file="/srv/data/tmp/recommender-upload-x/germline.vcf",
                                   fix="see /etc/recommender/conf"))
    assert body["file"] == "germline.vcf"
    assert "/srv" not in json.dumps(body) and "/etc/" not in json.dumps(body)


def test_one_settings_object_one_home(tmp_path, monkeypatch):
    monkeypatch.setenv("RECOMMENDER_HOME", str(tmp_path / "h"))
    monkeypatch.delenv("RECOMMENDER_DB_URL", raising=False)
    from genomics.pgx.knowledge_base import kb_home
    from recommender.service.auth import default_tokens_file
    from recommender.store import data_home, default_database_url

    s = get_settings()
    assert s.home == tmp_path / "h" == data_home()
    assert default_tokens_file() == s.tokens_file == s.home / "api_tokens"  # was ~/.config/recommender
    assert kb_home() == s.kb_home
    assert default_database_url().endswith(str(s.database_file))
    monkeypatch.delenv("RECOMMENDER_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    s2 = get_settings()
    assert s2.home == tmp_path / "xdg" / "recommender" == data_home()
    assert default_tokens_file().parent == s2.home  # tokens no longer fall back to another folder
    assert Path(s2.user_output_dir("../x")).parent == s2.output_root
