"""HTTP service: auth (hashed tokens), validation, size limit, JSON errors, access log without identifiers."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from recommender.service import create_app, create_token, hash_token, load_token_hashes
from recommender.service.auth import TokenSet
from tests.recommender._scoring_support import COAD, DEMO_VCF, TUMOUR_MAF, StubBundle

TOKEN = "test-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def client():
    app = create_app(token_hashes=[hash_token(TOKEN)], bundle=StubBundle({"FOLFOX": 0.6, "CAPOX": 0.3}),
                     max_request_bytes=200_000)
    return TestClient(app)


def _patient() -> dict:
    return json.loads(COAD.read_text())


def test_health_and_version_need_no_token(client):
    assert client.get("/v1/health").json() == {"status": "ok"}
    v = client.get("/v1/version").json()
    assert v["recommendation_schema"] == "recommendation/1.0" and v["genome_build"] == "GRCh38"
    assert v["pgx_knowledge_base"]["recommendation_tables_version"]


def test_scoring_needs_a_known_token(client):
    r = client.post("/v1/score/json", json={"patient": _patient()})
    assert r.status_code == 401 and r.json()["error"] == "HTTPError" and r.headers["www-authenticate"] == "Bearer"
    r = client.post("/v1/score/json", json={"patient": _patient()}, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401


def test_multipart_score_with_vcf_upload(client):
    with open(DEMO_VCF, "rb") as vcf, open(str(DEMO_VCF) + ".tbi", "rb") as tbi, open(TUMOUR_MAF, "rb") as maf:
        r = client.post("/v1/score", headers=AUTH,
                        data={"patient": json.dumps(_patient()), "treatments": "FOLFOX,CAPOX,FOLFOX+panitumumab"},
                        files={"vcf": ("x.vcf.gz", vcf), "vcf_index": ("x.vcf.gz.tbi", tbi),
                               "tumour": ("t.maf", maf)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["schema_version"] == "recommendation/1.0" and body["pgx_sample"] == "NA19625"
    assert body["options"][0]["regimen"] == "FOLFOX"
    assert body["options"][-1]["regimen"] == "FOLFOX+panitumumab"  # KRAS G12D: resistance R1
    assert r.headers["x-request-id"]


def test_record_paths_are_never_read_by_the_service(client):
    p = _patient()
    p["germline"]["path"] = "/etc/passwd"
    r = client.post("/v1/score/json", headers=AUTH, json={"patient": p, "treatments": ["FOLFOX"]})
    assert r.status_code == 200
    body = r.json()
    assert body["pgx_profile"] is None
    assert "no germline VCF given" in body["options"][0]["pgx"][0]["messages"][0]


def test_html_format(client):
    r = client.post("/v1/score/json?format=html", headers=AUTH, json={"patient": _patient(), "treatments": ["FOLFOX"]})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Research use only" in r.text


def test_errors_are_json_with_field_and_fix(client):
    p = _patient()
    p["diagnosis"]["cancer_type"] = "NOPE"
    r = client.post("/v1/score/json", headers=AUTH, json={"patient": p})
    assert r.status_code == 422
    e = r.json()
    assert e["error"] == "PatientRecordError" and e["field"] == "diagnosis.cancer_type" and e["fix"] and e["request_id"]
    r = client.post("/v1/score/json", headers=AUTH, json={"patient": _patient(), "treatments": ["NOPE"]})
    assert r.status_code == 400 and r.json()["field"] == "treatments"
    r = client.post("/v1/score/json", headers=AUTH, json={"wrong": 1})
    assert r.status_code == 422 and r.json()["error"] == "RequestValidationError"
    r = client.post("/v1/score", headers=AUTH, data={"patient": "{not json"})
    assert r.status_code == 422 and r.json()["error"] == "PatientRecordError"


def test_bad_vcf_upload_error_hides_server_paths(client):
    r = client.post("/v1/score", headers=AUTH, data={"patient": json.dumps(_patient())},
                    files={"vcf": ("x.vcf", b"not a vcf at all\n")})
    assert r.status_code == 422, r.text
    e = r.json()
    assert e["file"] is None or "/" not in e["file"]


def test_request_size_limit(client):
    r = client.post("/v1/score", headers=AUTH, data={"patient": "x" * 300_000})
    assert r.status_code == 413 and r.json()["error"] == "RequestTooLarge"


def test_access_log_has_no_patient_identifiers(client, caplog):
    with caplog.at_level(logging.INFO, logger="recommender.service.access"):
        client.post("/v1/score/json", headers=AUTH, json={"patient": _patient(), "treatments": ["FOLFOX"]})
    lines = [r.getMessage() for r in caplog.records if r.name == "recommender.service.access"]
    assert lines and "POST /v1/score/json 200" in lines[-1]
    assert not any("TEST-COAD-1" in line or "NA19625" in line for line in lines)


def test_openapi_schema_lists_the_endpoints(client):
    spec = client.get("/openapi.json").json()
    assert {"/v1/score", "/v1/score/json", "/v1/health", "/v1/version"} <= set(spec["paths"])


def test_tokens_are_stored_hashed(tmp_path):
    path = tmp_path / "tokens"
    token = create_token(path, label="ci")
    text = path.read_text()
    assert token not in text and hash_token(token) in text
    assert (path.stat().st_mode & 0o777) == 0o600
    hashes = load_token_hashes(path, env={"RECOMMENDER_API_TOKENS": hash_token("other")})
    assert TokenSet(hashes).check(token) and TokenSet(hashes).check("other")
    assert not TokenSet(hashes).check("nope") and not TokenSet(hashes).check(None)


def test_clear_text_token_in_file_is_refused(tmp_path):
    from genomics.errors import UsageError

    path = tmp_path / "tokens"
    path.write_text("my-clear-token\n")
    with pytest.raises(UsageError) as err:
        load_token_hashes(path, env={})
    assert err.value.record == "line 1"


def test_serve_create_token_prints_once_and_serve_refuses_without_tokens(tmp_path, capsys, monkeypatch):
    from recommender.cli import main

    monkeypatch.delenv("RECOMMENDER_API_TOKENS", raising=False)
    path = tmp_path / "tokens"
    assert main(["serve", "--create-token", "--tokens", str(path)]) == 0
    token = capsys.readouterr().out.strip()
    assert len(token) >= 40 and hash_token(token) in path.read_text()
    empty = tmp_path / "empty"
    empty.write_text("# nothing\n")
    assert main(["serve", "--tokens", str(empty)]) == 2
    assert "--create-token" in capsys.readouterr().err


def test_per_user_store_tokens_are_accepted_until_revoked(tmp_path):
    from recommender.store import create_api_token, create_user, open_database, revoke_api_token

    engine = open_database(f"sqlite:///{tmp_path / 'store.db'}")
    create_user(engine, "pipe.bot", "researcher")
    info, token = create_api_token(engine, "pipe.bot")
    c = TestClient(create_app(token_hashes=[hash_token(TOKEN)], bundle=StubBundle({"FOLFOX": 0.6, "CAPOX": 0.3}),
                              db=engine))
    for tok, expected in ((token, 200), (TOKEN, 200), ("not-a-token", 401)):
        r = c.post("/v1/score/json", json={"patient": _patient()}, headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == expected, (tok, r.text[:300])
    revoke_api_token(engine, info.id)
    r = c.post("/v1/score/json", json={"patient": _patient()}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and "revoked" in r.json()["message"]
    engine.dispose()


def test_http_result_shows_gaps_and_eligibility_like_every_view(client):
    """Issue 20: a form patient (no genotype, no tumour data) over HTTP: not assessed, eligibility gated."""
    p = _patient()
    p.pop("germline")
    r = client.post("/v1/score/json", headers=AUTH,
                    json={"patient": p, "treatments": ["FOLFOX+panitumumab", "FOLFIRI"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body["missing_genes"]) == {"DPYD", "UGT1A1"}
    folfiri = next(o for o in body["options"] if o["regimen"] == "FOLFIRI")
    assert folfiri["guidance_action"] == "not_assessed" and folfiri["missing_genes"] == ["DPYD", "UGT1A1"]
    fu = folfiri["pgx"][0]
    assert fu["label"] == "not assessed: DPYD not genotyped" and fu["testing_advice"]
    pani = next(o for o in body["options"] if o["regimen"] == "FOLFOX+panitumumab")
    assert pani["eligibility"] == "not_established" and pani["rank"] == 2
