"""Hash-chained audit log: intact chains verify, any tampering is found and named, writers never fork it."""

from __future__ import annotations

import itertools
import threading

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from recommender.store import (
    ImmutableRecordError,
    append,
    canonical_json,
    read_session,
    verify_chain,
    write_session,
)
from recommender.store.audit import entry_hash
from recommender.store.models import GENESIS_HASH, AuditEntry
from tests.recommender import _store_support

engine = _store_support.engine
fast_hashing = _store_support.fast_hashing
store_session_cleanup = _store_support.store_session_cleanup
tamper = _store_support.tamper


def _add(engine, n: int, actor: str = "tester") -> None:
    for i in range(n):
        with write_session(engine) as s:
            append(s, action="test.event", actor=actor, entity_type="thing", entity_id=i, payload={"i": i, "note": "é"})


def _entries(engine) -> list[AuditEntry]:
    with read_session(engine) as s:
        return list(s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())


def test_canonical_json_is_order_and_space_independent():
    assert canonical_json({"b": 1, "a": [1, 2]}) == b'{"a":[1,2],"b":1}'
    assert canonical_json({"a": [1, 2], "b": 1}) == canonical_json({"b": 1, "a": [1, 2]})
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_chain_links_each_entry_to_the_previous_hash(engine):
    _add(engine, 3)
    rows = _entries(engine)
    # Entry 1 is the schema creation (schema.upgrade); then our three.
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert rows[0].action == "schema.upgrade" and rows[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.entry_hash
    report = verify_chain(engine)
    assert report.ok and report.entries_checked == 4 and report.last_seq == 4
    assert report.head_hash == rows[-1].entry_hash


def test_entry_hash_is_sha256_over_prev_hash_and_canonical_entry():
    import hashlib

    fields = {"seq": 1, "action": "x", "payload": {"k": "v"}}
    expected = hashlib.sha256(GENESIS_HASH.encode() + b'{"action":"x","payload":{"k":"v"},"seq":1}').hexdigest()
    assert entry_hash(GENESIS_HASH, fields) == expected


def test_tampered_payload_is_detected_and_entry_named(engine):
    _add(engine, 4)
    tamper(engine, "UPDATE audit_log SET payload = :p WHERE seq = 3", {"p": '{"i":99,"note":"é"}'})
    report = verify_chain(engine)
    assert not report.ok
    assert report.broken.seq == 3
    assert "altered" in report.broken.reason
    assert report.entries_checked == 2
    assert "entry 3" in report.broken.describe()


def test_tampered_entry_with_recomputed_hash_breaks_the_next_link(engine):
    _add(engine, 4)
    rows = _entries(engine)
    victim = rows[2]
    fields = {"seq": victim.seq, "created_at": victim.created_at, "actor": "mallory", "action": victim.action,
              "entity_type": victim.entity_type, "entity_id": victim.entity_id, "payload": {"i": 1, "note": "é"},
              "prev_hash": victim.prev_hash}
    forged = entry_hash(victim.prev_hash, fields)
    tamper(engine, "UPDATE audit_log SET actor = 'mallory', entry_hash = :h WHERE seq = :s",
           {"h": forged, "s": victim.seq})
    report = verify_chain(engine)
    assert not report.ok and report.broken.seq == victim.seq + 1
    assert "prev_hash" in report.broken.reason


def test_deleted_middle_entry_is_named(engine):
    _add(engine, 4)
    tamper(engine, "DELETE FROM audit_log WHERE seq = 3")
    report = verify_chain(engine)
    assert not report.ok and report.broken.seq == 3 and "missing" in report.broken.reason


def test_deleted_last_entries_are_detected_by_the_head(engine):
    _add(engine, 4)
    tamper(engine, "DELETE FROM audit_log WHERE seq >= 4")
    report = verify_chain(engine)
    assert not report.ok and report.broken.seq == 4
    assert "deleted" in report.broken.reason


def test_database_trigger_refuses_update_and_delete(engine):
    _add(engine, 1)
    for sql in ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 1"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    assert verify_chain(engine).ok


def test_orm_guard_refuses_changing_or_deleting_entries(engine):
    _add(engine, 1)
    with pytest.raises(ImmutableRecordError), write_session(engine) as s:
        row = s.get(AuditEntry, 1)
        row.actor = "mallory"
    with pytest.raises(ImmutableRecordError), write_session(engine) as s:
        s.delete(s.get(AuditEntry, 1))
    with pytest.raises(ImmutableRecordError), write_session(engine) as s:
        s.execute(update(AuditEntry).values(actor="mallory"))
    assert verify_chain(engine).ok


def test_concurrent_writers_do_not_fork_the_chain(engine):
    per_thread, threads = 15, 3
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def writer(name: str) -> None:
        try:
            start.wait()
            _add(engine, per_thread, actor=name)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    workers = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert not errors, errors
    rows = _entries(engine)
    assert [r.seq for r in rows] == list(range(1, 2 + per_thread * threads))
    assert len({r.prev_hash for r in rows}) == len(rows)  # no two entries share a parent: no fork
    assert {r.actor for r in rows[1:]} == {"w0", "w1", "w2"}
    assert verify_chain(engine).ok


def test_rolled_back_transaction_leaves_no_entry(engine):
    with pytest.raises(RuntimeError), write_session(engine) as s:
        append(s, action="test.event")
        raise RuntimeError("boom")
    assert len(_entries(engine)) == 1
    report = verify_chain(engine)
    assert report.ok and report.last_seq == 1
