"""Sign-in back-off: per account and per client, exponential, with a temporary lock; audited; admin unlock.

Each failed sign-in counts against the account name typed (known or not, so a lock says nothing about
whether the account exists) and against the client (the browser's address, when the front end knows it).
The first :data:`FREE_FAILURES` - 1 failures cost nothing; from the :data:`FREE_FAILURES`-th on, every
failure locks the key for ``BASE_LOCK_S * 2**(n - FREE_FAILURES)`` seconds, at most :data:`MAX_LOCK_S`.
While a key is locked a sign-in is refused at once (:class:`AccountLockedError`, with the seconds to wait),
without checking the password. A successful sign-in resets the account's and the client's counts;
``recommender admin unlock-user NAME`` resets an account's. Locks and unlocks are audit entries
(``auth.lock``, ``user.unlock``); the state lives in the ``sign_in_throttle`` table (revision 0004), so it
holds across app processes.

Examples
--------
>>> lock_seconds(FREE_FAILURES), lock_seconds(FREE_FAILURES + 3)
(1.0, 8.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recommender.store import audit
from recommender.store.engine import read_session, write_session
from recommender.store.models import SignInThrottle, utcnow

__all__ = ["BASE_LOCK_S", "FREE_FAILURES", "MAX_LOCK_S", "LockState", "check", "clear", "lock_seconds", "lock_state",
           "record_failure", "unlock_user"]

#: Failures before the first lock.
FREE_FAILURES = 5
#: First lock (seconds); doubles with every further failure.
BASE_LOCK_S = 1.0
#: Longest lock (seconds).
MAX_LOCK_S = 15 * 60.0


@dataclass(frozen=True)
class LockState:
    """A key's failures and how long it stays locked."""

    kind: str
    name: str
    failures: int
    locked_until: datetime | None
    retry_after: float


def lock_seconds(failures: int) -> float:
    """Seconds a key is locked after its ``failures``-th failure (0 before :data:`FREE_FAILURES`)."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(MAX_LOCK_S, BASE_LOCK_S * 2.0 ** min(failures - FREE_FAILURES, 40))


def _key(kind: str, name: str) -> str:
    return f"{kind}:{name.strip().lower()[:120]}"


def _state(row: SignInThrottle | None, kind: str, name: str, now: datetime) -> LockState | None:
    if row is None:
        return None
    until = row.locked_until
    wait = max(0.0, (until - now).total_seconds()) if until is not None else 0.0
    return LockState(kind, name, row.failures, until, wait)


def lock_state(engine: Engine, kind: str, name: str) -> LockState | None:
    """The state of one key (``kind`` ``user`` or ``client``), ``None`` when it has no failures."""
    with read_session(engine) as session:
        return _state(session.get(SignInThrottle, _key(kind, name)), kind, name, utcnow())


def check(session: Session, keys: list[tuple[str, str]]) -> LockState | None:
    """The locked key with the longest wait among ``keys``, or ``None``."""
    now = utcnow()
    worst: LockState | None = None
    for kind, name in keys:
        st = _state(session.get(SignInThrottle, _key(kind, name)), kind, name, now)
        if st is not None and st.retry_after > 0 and (worst is None or st.retry_after > worst.retry_after):
            worst = st
    return worst


def record_failure(session: Session, keys: list[tuple[str, str]]) -> None:
    """Count one failure against every key; lock (and audit the lock) where the count reaches the limit."""
    now = utcnow()
    for kind, name in keys:
        key = _key(kind, name)
        row = session.get(SignInThrottle, key)
        if row is None:
            row = SignInThrottle(key=key, failures=0)
            session.add(row)
        row.failures += 1
        row.last_failure_at = now
        wait = lock_seconds(row.failures)
        if wait > 0:
            row.locked_until = now + timedelta(seconds=wait)
            audit.append(session, action="auth.lock", actor=None, entity_type="sign_in", entity_id=None,
                         payload={"kind": kind, "name": name[:64] if kind == "user" else "(client)",
                                  "failures": row.failures, "seconds": wait})


def clear(session: Session, keys: list[tuple[str, str]]) -> None:
    """Forget the failures of ``keys`` (after a successful sign-in)."""
    for kind, name in keys:
        row = session.get(SignInThrottle, _key(kind, name))
        if row is not None:
            session.delete(row)


def unlock_user(engine: Engine, username: str, *, actor: str | None = None) -> bool:
    """Lift an account's lock and reset its failures (audited ``user.unlock``); ``True`` if it had any."""
    with write_session(engine) as session:
        row = session.execute(select(SignInThrottle).where(SignInThrottle.key == _key("user", username))
                              ).scalar_one_or_none()
        had = row is not None
        if had:
            session.delete(row)
        audit.append(session, action="user.unlock", actor=actor, entity_type="user", entity_id=None,
                     payload={"username": username[:64], "was_locked": had})
    return had
