"""Mutation fuzzing of the patient-record reader (our JSON schema and GA4GH Phenopacket v2 JSON).

Seeds: the committed records (``tests/fixtures/cohorts``, ``tests/fixtures/scoring``, the demo patient and its
Phenopacket) plus the Phenopacket this product writes for ``patient_full.json`` (it carries every ``gtr:`` code).
Each mutant is made with a fixed seed: a JSON value swapped for a hostile one (wrong type, 1e308, 10**30,
"NaN"/"Infinity" strings, a lone surrogate, 20,000 characters, nesting), a key deleted or renamed, or text damage
(duplicate key, BOM, truncation, stray byte, Latin-1, deep nesting, a 5000-digit integer). The contract
(:func:`_fuzz_support.product_error_problem`): a Patient, or a ``RecommenderError`` naming the file in a
bounded one-line message; never another exception, a crash or a hang (each batch runs in a forked child).

``FUZZ_CASES`` (default 500) and ``FUZZ_SEED`` (default 20261206) change the run, e.g.
``FUZZ_CASES=20000 .venv/bin/python -m pytest -q tests/recommender/test_fuzz_patient_inputs.py``.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import sys
import warnings
from pathlib import Path

import pytest

from recommender.inputs import read_patient, read_patient_file
from recommender.schema import PatientRecordError, load_patient
from tests.conftest import FIXTURES, REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tests" / "genomics"))
from _fuzz_support import mutate_json_text, mutate_json_tree, run_cases

CASES = int(os.environ.get("FUZZ_CASES", "500"))
SEED = int(os.environ.get("FUZZ_SEED", "20261206"))
SEEDS = [
    FIXTURES / "cohorts" / "patient_full.json",
    FIXTURES / "cohorts" / "phenopacket_luad.json",
    FIXTURES / "scoring" / "patient_coad.json",
    REPO_ROOT / "recommender" / "data" / "demo" / "demo_patient.json",
    REPO_ROOT / "recommender" / "data" / "demo" / "demo_patient.phenopacket.json",
]


@pytest.fixture(scope="module")
def exported_phenopacket() -> str:
    """``patient_full.json`` as the Phenopacket this product writes (prior lines, received treatments, PFS/OS, VAF)."""
    from recommender.phenopackets_io import phenopacket_json

    return phenopacket_json(load_patient(SEEDS[0]))


def _seed_bytes(exported: str) -> list[bytes]:
    return [p.read_bytes() for p in SEEDS] + [exported.encode()]


def _mutants(folder: Path, seeds: list[bytes], n: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        raw = seeds[i % len(seeds)]
        if rng.random() < 0.65:
            data = json.dumps(mutate_json_tree(json.loads(raw), rng)).encode("utf-8", "surrogatepass")
        else:
            data = mutate_json_text(raw, rng)
        path = folder / f"case-{i}.json"
        path.write_bytes(data)
        out.append(path)
    return out


def _read_both_ways(path: Path) -> None:
    read_patient_file(path)  # the CLI / service / app boundary
    load_patient(path)  # what notes --patient and the cohort loaders use


def test_fuzz_seeds_read_cleanly(exported_phenopacket):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for raw in _seed_bytes(exported_phenopacket):
            assert read_patient(raw).patient_id


def test_fuzz_patient_reader_only_returns_records_or_product_errors(tmp_path, exported_phenopacket):
    paths = _mutants(tmp_path, _seed_bytes(exported_phenopacket), CASES, SEED)
    bad = run_cases(_read_both_ways, paths, timeout_s=30)
    report = "\n".join(f"{o}: {p}: {d[:300]}" for p, o, d in bad[:20])
    assert not bad, f"{len(bad)} of {len(paths)} mutants broke the contract (inputs kept):\n{report}"


# --- regressions found by the fuzzer (each named after what broke) -----------------------------------


def _exported(exported: str, old: str, new: str, *, regex: bool = False) -> str:
    out = re.sub(old, new, exported, count=1, flags=re.DOTALL) if regex else exported.replace(old, new, 1)
    assert out != exported, f"seed does not contain {old!r}"
    return out


def test_phenopacket_prior_line_intent_without_a_number_names_the_field(exported_phenopacket):
    text = _exported(exported_phenopacket, "gtr:prior_line_1", "gtr:prior_line_x")
    with pytest.raises(PatientRecordError, match="not a whole number") as err:  # was ValueError from int()
        read_patient(text, source="pp.json")
    assert err.value.file == "pp.json" and err.value.field == "medicalActions.treatmentIntent"


def test_phenopacket_received_treatment_code_without_a_number_names_the_field(exported_phenopacket):
    text = exported_phenopacket.replace("gtr:received_treatment_0", "gtr:received_treatment_x")
    with pytest.raises(PatientRecordError, match="not a whole number") as err:  # was ValueError from int()
        read_patient(text, source="pp.json")
    assert err.value.field in {"medicalActions.treatmentIntent", "phenotypicFeatures.modifiers"}


def test_phenopacket_survival_description_without_an_outcome_number_names_the_field(exported_phenopacket):
    text = _exported(exported_phenopacket, "outcome:0", "outcome:x")
    with pytest.raises(PatientRecordError, match="not a whole number") as err:  # was ValueError from int()
        read_patient(text, source="pp.json")
    assert err.value.field.startswith("measurements.gtr:")


def test_phenopacket_vaf_extension_that_is_not_a_number_names_the_field(exported_phenopacket):
    text = _exported(exported_phenopacket, r'("name": "vaf",\s*"value": ")', r"\1abc", regex=True)
    with pytest.raises(PatientRecordError, match="not a number") as err:  # was ValueError from float()
        read_patient(text, source="pp.json")
    assert err.value.field.endswith("extensions.vaf")


@pytest.mark.parametrize("assay,value,field", [
    ("LOINC:89247-1", '"NaN"', "diagnosis.ecog"),  # was ValueError from round(nan)
    ("LOINC:39156-5", '"NaN"', "lifestyle.bmi"),  # was accepted as bmi = nan
    ("gtr:os_days", '"Infinity"', "outcomes.0.os.time_days"),  # was accepted as an infinite survival time
])
def test_phenopacket_nan_and_infinity_strings_in_quantities_are_refused(exported_phenopacket, assay, value, field):
    # protobuf's JSON mapping reads the strings "NaN" / "Infinity" as doubles
    text = _exported(exported_phenopacket, rf'("id": "{assay}".*?"value": )[0-9.]+', rf"\g<1>{value}", regex=True)
    with pytest.raises(PatientRecordError, match="finite") as err:
        read_patient(text, source="pp.json")
    assert err.value.field == field


def test_survival_time_written_as_infinity_text_is_refused():
    record = json.loads((FIXTURES / "cohorts" / "patient_full.json").read_text())
    record["outcomes"][0]["os"]["time_days"] = "Infinity"  # pydantic's lax float read this as inf
    with pytest.raises(PatientRecordError, match="finite") as err:
        read_patient(json.dumps(record), source="p.json")
    assert err.value.field == "outcomes.0.os.time_days"


def test_phenopacket_with_a_lone_surrogate_is_a_product_error_not_a_systemerror(exported_phenopacket):
    packet = json.loads(exported_phenopacket)
    packet["measurements"][0] = "\ud800"  # upb raised SystemError; the message could not be printed as UTF-8
    with pytest.raises(PatientRecordError, match="surrogate") as err:
        read_patient(json.dumps(packet), source="pp.json")
    err.value.one_line().encode("utf-8")
    assert err.value.field == "measurements[0]"


def test_patient_record_with_a_lone_surrogate_key_is_refused_and_the_message_encodes():
    with pytest.raises(PatientRecordError, match="surrogate") as err:
        read_patient('{"patient_id": "P1", "\\udc00": 1}', source="p.json")
    err.value.one_line().encode("utf-8")


def test_phenopacket_unknown_field_error_is_one_short_line_naming_the_field(exported_phenopacket):
    text = exported_phenopacket.replace('"assay"', '"assayX"', 1)
    with pytest.raises(PatientRecordError) as err:  # was protobuf's multi-line list of every allowed field
        read_patient(text, source="pp.json")
    assert "\n" not in err.value.message and "Available Fields" not in err.value.message
    assert err.value.field == "measurements[0]"


@pytest.mark.parametrize("path,field", [(("subject", "sex"), "subject.sex"),
                                        (("subject", "vitalStatus", "status"), "subject.vitalStatus.status")])
def test_phenopacket_enum_of_an_unknown_number_names_the_field(path, field):
    packet = json.loads((FIXTURES / "cohorts" / "phenopacket_luad.json").read_text())
    target = packet
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = -61  # protobuf JSON keeps unknown enum numbers; Sex.Name(-61) raised ValueError
    with pytest.raises(PatientRecordError, match="not a value of this field") as err:
        read_patient(json.dumps(packet), source="pp.json")
    assert err.value.field == field


def test_tumour_variant_position_beyond_32_bits_is_refused():
    record = json.loads((FIXTURES / "cohorts" / "patient_full.json").read_text())
    record["tumour_variants"][0]["pos"] = 2**63  # overflowed the cohort table's int64 column (ValueError)
    with pytest.raises(PatientRecordError, match="less than or equal") as err:
        read_patient(json.dumps(record), source="p.json")
    assert err.value.field == "tumour_variants.0.pos"


def test_patient_id_of_20000_characters_is_not_echoed_in_full():
    record = json.loads((FIXTURES / "cohorts" / "patient_full.json").read_text())
    record["patient_id"] = "x" * 20_000
    with pytest.raises(PatientRecordError) as err:
        read_patient(json.dumps(record), source="p.json")
    assert len(err.value.one_line()) < 1000


def test_load_phenopacket_of_latin1_bytes_names_the_line(tmp_path, exported_phenopacket):
    from recommender.phenopackets_io import load_phenopacket

    path = tmp_path / "pp.json"
    path.write_bytes(exported_phenopacket.replace("moderate", "mod\u00e9r\u00e9").encode("latin-1"))
    with pytest.raises(PatientRecordError, match="not UTF-8") as err:  # was UnicodeDecodeError
        load_phenopacket(path)
    assert err.value.record.startswith("line ")


# --- field-level hostility: refused, naming the field -------------------------------------------------

FIELD_CASES = [
    (("demographics", "age"), -5), (("demographics", "age"), "NaN"), (("demographics", "age"), 1e308),
    (("demographics", "age"), 10**30), (("demographics", "age"), [61]), (("diagnosis", "ecog"), 2.5),
    (("diagnosis", "cancer_type"), 5), (("history", "labs", 0, "value"), "inf"),
    (("history", "prior_treatments", 0, "line"), 10**30), (("patient_id",), 123), (("tumour_variants",), {}),
    (("medications",), [None]), (("outcomes", 0, "pfs", "time_days"), -1), (("lifestyle", "bmi"), "Infinity"),
    (("demographics", "sex"), ["female"]), (("schema_version",), "patient/9.9"),
    (("candidate_treatments",), [{"regimen": "ZZZ-unknown"}]), (("demographics", "age"), True),
]


@pytest.mark.parametrize("path,value", FIELD_CASES, ids=[f"{'.'.join(map(str, p))}={str(v)[:12]}" for p, v in FIELD_CASES])
def test_hostile_field_value_is_refused_naming_the_field(path, value):
    record = copy.deepcopy(json.loads((FIXTURES / "cohorts" / "patient_full.json").read_text()))
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(PatientRecordError) as err:
        read_patient(json.dumps(record), source="p.json")
    named = ".".join(str(p) for p in path)
    assert err.value.file == "p.json"
    assert err.value.field and (err.value.field.startswith(named) or named.startswith(err.value.field))


# --- the CLI: one line, exit 1, no traceback ---------------------------------------------------------


def test_cli_score_of_mutated_records_prints_one_line_and_exits_1(tmp_path, capsys, exported_phenopacket):
    from recommender.cli import main

    seeds = _seed_bytes(exported_phenopacket)
    broken = [
        exported_phenopacket.replace("gtr:prior_line_1", "gtr:prior_line_x").encode(),
        json.dumps({**json.loads(seeds[2]), "demographics": {"age": "NaN"}}).encode(),
        seeds[0][: len(seeds[0]) // 2],
        b"\xef\xbb\xbf" + seeds[2].replace(b"{", b'{"patient_id": "X", ', 1),
    ]
    rng = random.Random(SEED)
    broken += [json.dumps(mutate_json_tree(json.loads(seeds[i % 3]), rng)).encode() for i in range(3)]
    failed = 0
    for i, data in enumerate(broken):
        path = tmp_path / f"cli-{i}.json"
        path.write_bytes(data)
        code = main(["score", str(path), "--no-model"])
        err = capsys.readouterr().err
        assert code in (0, 1, 2), (i, code, err)
        if code != 0:  # 1 bad input, 2 a usage error (e.g. a record without candidate treatments)
            failed += 1
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("recommender score: error: "), err
            assert "Traceback" not in err and "internal error" not in err, err
    assert failed >= 4
