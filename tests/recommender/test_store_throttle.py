"""Issue 15 (4): sign-in back-off and temporary lock, per account and per client, audited, admin unlock.

Before the fix 12 wrong passwords were followed by the right one, accepted at once.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from recommender.cli import main
from recommender.store import authenticate, create_user, verify_chain
from recommender.store import throttle as throttle_mod
from recommender.store.errors import AccountLockedError, AuthError
from tests.recommender import _store_support

pytestmark = pytest.mark.usefixtures("fast_hashing")

engine = _store_support.engine
fast_hashing = _store_support.fast_hashing


class Clock:
    def __init__(self) -> None:
        from recommender.store.models import utcnow

        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture()
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(throttle_mod, "utcnow", c)
    return c


def _actions(engine) -> list[str]:
    from sqlalchemy import select

    from recommender.store.engine import read_session
    from recommender.store.models import AuditEntry

    with read_session(engine) as s:
        return [e.action for e in s.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars()]


def test_twelve_wrong_passwords_then_the_right_one_is_refused(engine, clock):
    _, pw = create_user(engine, "dr.lock", "physician")
    for _ in range(12):
        with pytest.raises(AuthError):
            authenticate(engine, "dr.lock", "wrong-password-123", client="10.0.0.1")
        clock.advance(0.5)
    with pytest.raises(AccountLockedError) as exc:
        authenticate(engine, "dr.lock", pw, client="10.0.0.2")  # another client: the account is locked
    assert exc.value.retry_after > 0
    assert "auth.lock" in _actions(engine)
    assert verify_chain(engine).ok


def test_back_off_grows_exponentially_and_expires(engine, clock):
    _, pw = create_user(engine, "dr.wait", "physician")
    waits = []
    for _ in range(8):
        try:
            authenticate(engine, "dr.wait", "wrong-password-123")
        except AccountLockedError as err:  # pragma: no cover - not expected: we wait out every lock
            raise AssertionError("locked although the wait was over") from err
        except AuthError:
            pass
        state = throttle_mod.lock_state(engine, "user", "dr.wait")
        waits.append(state.retry_after if state else 0.0)
        clock.advance(waits[-1] + 0.01)
    locked = [w for w in waits if w > 0]
    assert waits[:throttle_mod.FREE_FAILURES - 1] == [0.0] * (throttle_mod.FREE_FAILURES - 1)
    assert all(b >= 2 * a * 0.99 for a, b in itertools.pairwise(locked) if b < throttle_mod.MAX_LOCK_S)
    assert authenticate(engine, "dr.wait", pw).username == "dr.wait"  # lock expired: right password accepted
    assert throttle_mod.lock_state(engine, "user", "dr.wait") is None  # and the count is reset


def test_one_client_guessing_many_accounts_is_slowed(engine, clock):
    for i in range(12):
        with pytest.raises(AuthError):
            authenticate(engine, f"guess{i}", "wrong-password-123", client="203.0.113.9")
        clock.advance(0.01)
    _, pw = create_user(engine, "dr.other", "physician")
    with pytest.raises(AccountLockedError):
        authenticate(engine, "dr.other", pw, client="203.0.113.9")
    assert authenticate(engine, "dr.other", pw, client="198.51.100.1").username == "dr.other"


def test_admin_unlock_user(engine, clock, capsys, monkeypatch):
    _, pw = create_user(engine, "dr.unlock", "physician")
    for _ in range(12):
        with pytest.raises(AuthError):
            authenticate(engine, "dr.unlock", "wrong-password-123")
    with pytest.raises(AccountLockedError):
        authenticate(engine, "dr.unlock", pw)
    url = engine.url.render_as_string(hide_password=False)
    assert main(["admin", "unlock-user", "dr.unlock", "--db", url]) == 0
    assert "unlocked" in capsys.readouterr().out
    assert authenticate(engine, "dr.unlock", pw).username == "dr.unlock"
    assert "user.unlock" in _actions(engine)
    assert verify_chain(engine).ok
