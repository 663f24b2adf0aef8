"""Mutation fuzzing of ``recommender cohort import --from csv`` and ``--from phenopackets``.

Seeds: the cohort tables of :func:`tests.cohorts.conftest.small_tables` written as CSV (list cells as ``a;b``),
and a folder of three records (``tests/fixtures/cohorts``: our schema, a Phenopacket written by another tool,
and the Phenopacket this product writes). In each case one file is mutated with a fixed seed
(:func:`_fuzz_support.mutate_table` for CSV; JSON type swaps and text damage for records), then the folder is
loaded and written as a cohort (validated, atomic). Contract: a cohort, or a ``RecommenderError`` naming the
file in a bounded one-line message; every batch runs in a forked child.

``FUZZ_CASES`` (default 60 CSV folders, 4x as many record folders) and ``FUZZ_SEED`` (default 20261206).
"""

from __future__ import annotations

import json
import os
import random
import sys
import warnings
from pathlib import Path

import pytest

from cohorts.errors import CohortError
from cohorts.loaders import load_csv, load_phenopackets
from genomics.errors import InputFileError
from tests.cohorts.conftest import small_tables
from tests.conftest import FIXTURES, REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tests" / "genomics"))
from _fuzz_support import mutate_json_text, mutate_json_tree, mutate_table, run_cases

CASES = int(os.environ.get("FUZZ_CASES", "60"))
SEED = int(os.environ.get("FUZZ_SEED", "20261206"))


def _csv_tables() -> dict[str, bytes]:
    out = {}
    for name, df in small_tables().items():
        df = df.copy()
        for col in ("drugs", "medications", "comorbidities"):
            if col in df:
                df[col] = df[col].map(lambda v: ";".join(v) if isinstance(v, (list, tuple)) else v)
        out[name] = df.to_csv(index=False).encode()
    return out


@pytest.fixture(scope="module")
def record_seeds() -> list[bytes]:
    from recommender.phenopackets_io import phenopacket_json
    from recommender.schema import load_patient

    full = FIXTURES / "cohorts" / "patient_full.json"
    exported = phenopacket_json(load_patient(full)).replace("DEMO-0001", "DEMO-0002")  # a third patient
    return [full.read_bytes(), (FIXTURES / "cohorts" / "phenopacket_luad.json").read_bytes(), exported.encode()]


def _write_csv_folder(folder: Path, tables: dict[str, bytes], victim: str | None = None, rng=None) -> Path:
    folder.mkdir(parents=True)
    for name, data in tables.items():
        (folder / f"{name}.csv").write_bytes(mutate_table(data, rng, sep=b",") if name == victim else data)
    return folder


def _write_record_folder(folder: Path, seeds: list[bytes], victim: int | None = None, rng=None) -> Path:
    folder.mkdir(parents=True)
    for j, raw in enumerate(seeds):
        if j == victim:
            if rng.random() < 0.65:
                raw = json.dumps(mutate_json_tree(json.loads(raw), rng)).encode("utf-8", "surrogatepass")
            else:
                raw = mutate_json_text(raw, rng)
        (folder / f"r{j}.json").write_bytes(raw)
    return folder


def _import_csv(folder: Path) -> None:
    load_csv(folder).write(folder / "cohort")


def _import_records(folder: Path) -> None:
    load_phenopackets(folder).write(folder / "cohort")


def _check(call, paths: list[Path]) -> None:
    bad = run_cases(call, paths, timeout_s=60)
    report = "\n".join(f"{o}: {p}: {d[:300]}" for p, o, d in bad[:20])
    assert not bad, f"{len(bad)} of {len(paths)} mutants broke the contract (inputs kept):\n{report}"


def test_fuzz_seeds_import_cleanly(tmp_path, record_seeds):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert len(load_csv(_write_csv_folder(tmp_path / "csv", _csv_tables())).write(tmp_path / "c1").patients) == 3
        cohort = load_phenopackets(_write_record_folder(tmp_path / "pp", record_seeds)).write(tmp_path / "c2")
    assert len(cohort.patients) == 3


def test_fuzz_csv_import(tmp_path):
    tables = _csv_tables()
    names = sorted(tables)
    rng = random.Random(SEED)
    folders = [_write_csv_folder(tmp_path / f"case-{i}", tables, names[i % len(names)], rng) for i in range(CASES)]
    _check(_import_csv, folders)


def test_fuzz_phenopackets_folder_import(tmp_path, record_seeds):
    rng = random.Random(SEED + 1)
    folders = [_write_record_folder(tmp_path / f"case-{i}", record_seeds, i % len(record_seeds), rng)
               for i in range(4 * CASES)]
    _check(_import_records, folders)


# --- regressions found by the fuzzer -------------------------------------------------------------------


def test_csv_import_of_an_empty_table_file_names_the_file(tmp_path):
    tables = _csv_tables() | {"outcomes": b""}
    folder = _write_csv_folder(tmp_path / "csv", tables)
    with pytest.raises(CohortError, match="empty file") as err:  # was pandas EmptyDataError
        load_csv(folder)
    assert err.value.file.endswith("outcomes.csv")


def test_csv_import_with_an_extra_field_names_the_line_on_one_line(tmp_path):
    tables = _csv_tables()
    lines = tables["treatments"].split(b"\n")
    lines[2] += b",extra"
    folder = _write_csv_folder(tmp_path / "csv", tables | {"treatments": b"\n".join(lines)})
    with pytest.raises(CohortError, match="Expected") as err:  # pandas' message ended with a newline
        load_csv(folder)
    assert "\n" not in err.value.message and err.value.record == "line 3"
    assert err.value.file.endswith("treatments.csv")


def test_csv_import_validation_error_names_the_csv_file_not_the_table(tmp_path):
    tables = _csv_tables()
    tables["outcomes"] = tables["outcomes"].replace(b",PR,", b",C,", 1).replace(b",SD,", b",C,", 1)
    folder = _write_csv_folder(tmp_path / "csv", tables)
    with pytest.raises(CohortError, match="best_response") as err:  # said "outcomes table"
        load_csv(folder).write(tmp_path / "cohort")
    assert err.value.file == str(folder / "outcomes.csv") and err.value.field == "best_response"


def test_csv_import_of_a_200000_character_cell_is_not_echoed_in_full(tmp_path):
    tables = _csv_tables()
    lines = tables["adverse_events"].split(b"\n")
    header = lines[0].split(b",")
    row = lines[1].split(b",")
    row[header.index(b"term")] = b"9" * 200_000
    lines[1] = b",".join(row)
    folder = _write_csv_folder(tmp_path / "csv", tables | {"adverse_events": b"\n".join(lines)})
    with pytest.raises(CohortError) as err:
        load_csv(folder).write(tmp_path / "cohort")
    assert len(err.value.one_line()) < 2000 and err.value.file.endswith("adverse_events.csv")


def test_phenopackets_import_of_the_same_patient_in_two_files_names_both(tmp_path, record_seeds):
    folder = _write_record_folder(tmp_path / "pp", [record_seeds[0], record_seeds[0]])
    with pytest.raises(CohortError, match="appears twice") as err:  # said "patients table row 2"
        load_phenopackets(folder)
    assert err.value.file == str(folder / "r1.json") and "r0.json" in err.value.message


def test_phenopackets_import_of_a_position_of_2_pow_63_is_a_product_error(tmp_path, record_seeds):
    record = json.loads(record_seeds[0])
    record["tumour_variants"][0]["pos"] = 2**63  # was ValueError from the int64 cohort column
    folder = _write_record_folder(tmp_path / "pp", [json.dumps(record).encode()])
    with pytest.raises(InputFileError) as err:  # the record's own error now (PatientRecordError)
        load_phenopackets(folder)
    assert err.value.file.endswith("r0.json") and err.value.field == "tumour_variants.0.pos"


# --- the CLI: one line, exit 1, no traceback ---------------------------------------------------------


def test_cli_cohort_import_of_mutated_sources_prints_one_line(tmp_path, capsys, record_seeds):
    from recommender.cli import main

    tables = _csv_tables()
    rng = random.Random(SEED)
    runs = [("csv", _write_csv_folder(tmp_path / "empty", tables | {"outcomes": b""})),
            ("phenopackets", _write_record_folder(tmp_path / "dup", [record_seeds[0], record_seeds[0]]))]
    runs += [("csv", _write_csv_folder(tmp_path / f"csv-{i}", tables, sorted(tables)[i], rng)) for i in range(3)]
    runs += [("phenopackets", _write_record_folder(tmp_path / f"pp-{i}", record_seeds, i, rng)) for i in range(3)]
    failed = 0
    for source, folder in runs:
        code = main(["cohort", "import", "--from", source, str(folder), "-o", str(folder / "out")])
        err = capsys.readouterr().err
        assert code in (0, 1, 2), (folder, code, err)
        if code != 0:  # 1 bad input, 2 a usage error (e.g. a record without candidate treatments)
            failed += 1
            lines = [line for line in err.strip().splitlines() if "Warning" not in line and line.strip()]
            assert len(lines) == 1 and lines[0].startswith("recommender cohort: error: "), err
            assert str(folder) in lines[0] and "Traceback" not in err and "internal error" not in err, err
    assert failed >= 2
