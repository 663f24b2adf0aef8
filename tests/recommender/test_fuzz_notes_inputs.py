"""Mutation fuzzing of the clinical-note reader (``recommender notes extract``): plain text, FHIR
DocumentReference / Bundle JSON, and PDF text layers.

Seeds: ``tests/fixtures/notes/note_01.txt``, a DocumentReference carrying it as base64, a Bundle of two, and a
one-page PDF written by matplotlib. Mutations (fixed seed): JSON type swaps / deleted or renamed keys / text damage
(:func:`_fuzz_support.mutate_json_tree`, :func:`~_fuzz_support.mutate_json_text`), table damage of the text note,
and for the PDF changed bytes, truncation and token insertions. Contract: notes, or a ``RecommenderError``
naming the file in a bounded one-line message; every batch runs in a forked child.

``FUZZ_CASES`` (default 400; the PDF gets half) and ``FUZZ_SEED`` (default 20261206) change the run.
"""

from __future__ import annotations

import base64
import json
import os
import random
import sys
from pathlib import Path

import pytest

from genomics.errors import InputFileError
from recommender.notes import read_note, read_note_bytes
from tests.conftest import FIXTURES, REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tests" / "genomics"))
from _fuzz_support import mutate_json_text, mutate_json_tree, mutate_table, run_cases

CASES = int(os.environ.get("FUZZ_CASES", "400"))
SEED = int(os.environ.get("FUZZ_SEED", "20261206"))
TEXT = (FIXTURES / "notes" / "note_01.txt").read_bytes()
DOC = {"resourceType": "DocumentReference", "status": "current", "description": "clinic letter",
       "type": {"text": "Progress note"},
       "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "data": base64.b64encode(TEXT).decode()}}]}
BUNDLE = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": DOC}, {"resource": DOC}]}


@pytest.fixture(scope="module")
def pdf_bytes(tmp_path_factory) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    fig.text(0.1, 0.5, "ECOG 2. Current smoker. Oxaliplatin, grade 3 neuropathy.")
    path = tmp_path_factory.mktemp("pdf") / "letter.pdf"
    fig.savefig(path)
    plt.close(fig)
    return path.read_bytes()


def _mutants(folder: Path, n: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = i % 3
        if kind == 2:
            data, suffix = mutate_table(TEXT, rng, sep=b" "), ".txt"
        else:
            obj = (DOC, BUNDLE)[kind]
            if rng.random() < 0.65:
                data = json.dumps(mutate_json_tree(obj, rng)).encode("utf-8", "surrogatepass")
            else:
                data = mutate_json_text(json.dumps(obj).encode(), rng)
            suffix = ".json"
        path = folder / f"case-{i}{suffix}"
        path.write_bytes(data)
        out.append(path)
    return out


def _pdf_mutants(folder: Path, pdf: bytes, n: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        buf = bytearray(pdf)
        r = rng.random()
        if r < 0.5:
            for _ in range(rng.randint(1, 8)):
                buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif r < 0.7:
            buf = buf[:rng.randrange(len(buf))]
        else:
            buf = bytearray(mutate_table(bytes(buf), rng, sep=b" "))
        path = folder / f"case-{i}.pdf"
        path.write_bytes(bytes(buf))
        out.append(path)
    return out


def _check(paths: list[Path]) -> None:
    bad = run_cases(read_note, paths, timeout_s=30)
    report = "\n".join(f"{o}: {p}: {d[:300]}" for p, o, d in bad[:20])
    assert not bad, f"{len(bad)} of {len(paths)} mutants broke the contract (inputs kept):\n{report}"


def test_fuzz_seeds_read_cleanly(pdf_bytes):
    assert read_note_bytes(TEXT, "n.txt")[0].kind == "text"
    assert read_note_bytes(json.dumps(DOC).encode(), "d.json")[0].title == "clinic letter"
    assert len(read_note_bytes(json.dumps(BUNDLE).encode(), "b.json")) == 2
    assert "ECOG 2" in read_note_bytes(pdf_bytes, "l.pdf")[0].text


def test_fuzz_text_and_fhir_notes(tmp_path):
    _check(_mutants(tmp_path, CASES, SEED))


def test_fuzz_pdf_notes(tmp_path, pdf_bytes):
    _check(_pdf_mutants(tmp_path, pdf_bytes, CASES // 2, SEED + 1))


# --- regressions found by the fuzzer -------------------------------------------------------------------


@pytest.mark.parametrize("content", [5, 1.5, True, "text"])
def test_fhir_document_reference_whose_content_is_not_a_list_names_the_field(content):
    doc = {**DOC, "content": content}
    with pytest.raises(InputFileError) as err:  # was TypeError: 'int' object is not iterable
        read_note_bytes(json.dumps(doc).encode(), name="doc.json")
    assert err.value.file == "doc.json"
    assert err.value.field == "content" or "no attachment" in err.value.message


def test_fhir_bundle_whose_entry_is_not_a_list_names_the_field():
    with pytest.raises(InputFileError, match="not a list") as err:  # was TypeError
        read_note_bytes(json.dumps({**BUNDLE, "entry": 7}).encode(), name="b.json")
    assert err.value.field == "entry"


@pytest.mark.parametrize("kind", [["Progress note"], "Progress note", 3])
def test_fhir_type_that_is_not_an_object_is_read(kind):
    doc = {key: value for key, value in DOC.items() if key != "description"} | {"type": kind}
    notes = read_note_bytes(json.dumps(doc).encode(), name="doc.json")  # was AttributeError: 'list' ... 'get'
    assert notes[0].title is None and notes[0].text == TEXT.decode().replace("\r\n", "\n")


def test_fhir_json_with_a_5000_digit_number_is_a_product_error():
    data = json.dumps(DOC).replace('"current"', "1" + "0" * 5000).encode()
    with pytest.raises(InputFileError, match="not valid JSON") as err:  # was ValueError (int digit limit)
        read_note_bytes(data, name="doc.json")
    assert err.value.file == "doc.json"


def test_pdf_with_an_unknown_stream_filter_is_unreadable_not_notimplemented(pdf_bytes):
    data = pdf_bytes.replace(b"/FlateDecode", b"/FlateDecodX")
    assert data != pdf_bytes
    with pytest.raises(InputFileError, match="unreadable PDF") as err:  # was NotImplementedError from pypdf
        read_note_bytes(data, name="letter.pdf")
    assert err.value.file == "letter.pdf"


# --- the CLI: one line, exit 1, no traceback ---------------------------------------------------------


def test_cli_notes_extract_of_broken_notes_prints_one_line(tmp_path, capsys, pdf_bytes):
    from recommender.cli import main

    cases = {
        "content.json": json.dumps({**DOC, "content": 5}).encode(),
        "entry.json": json.dumps({**BUNDLE, "entry": 7}).encode(),
        "digits.json": json.dumps(DOC).replace('"current"', "1" + "0" * 5000).encode(),
        "filter.pdf": pdf_bytes.replace(b"/FlateDecode", b"/FlateDecodX"),
        "cut.pdf": pdf_bytes[: len(pdf_bytes) // 3],
        "binary.txt": b"\x00\x01\x02" + TEXT,
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        code = main(["notes", "extract", str(path)])
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert code == 1 and len(lines) == 1, (name, code, err)
        assert lines[0].startswith("recommender notes: error: ") and name in lines[0], err
        assert "Traceback" not in err and "internal error" not in err, err
