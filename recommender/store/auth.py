"""Local accounts: argon2id password hashes, roles, generated passwords, sign-in.

There is no default password anywhere: :func:`create_user` and :func:`create_demo_account` generate one
with :mod:`secrets` and return it once, for the caller to show once; only the argon2id hash is stored.
Every account change and every sign-in (successful or not) is an audit entry.

Examples
--------
>>> h = hash_password("correct horse battery staple")
>>> verify_password(h, "correct horse battery staple"), verify_password(h, "wrong")
(True, False)
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from recommender.store import audit
from recommender.store.engine import read_session, write_session
from recommender.store.errors import (
    AccountLockedError,
    AuthError,
    PermissionDeniedError,
    StoreError,
    StoreUsageError,
)
from recommender.store.models import ROLES, User, utcnow

__all__ = [
    "DEMO_USERNAME",
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "UserInfo",
    "authenticate",
    "authenticate_identity",
    "create_demo_account",
    "create_user",
    "generate_password",
    "get_user",
    "hash_password",
    "list_users",
    "require_role",
    "set_active",
    "set_password",
    "validate_username",
    "verify_password",
]

#: User name of the demo physician created by ``recommender admin create-demo``.
DEMO_USERNAME = "demo"
#: Shortest password accepted from a person (generated ones are 24 characters).
MIN_PASSWORD_LENGTH = 12

#: argon2id with the library's defaults (RFC 9106 low-memory profile: t=3, m=64 MiB, p=4).
PRODUCTION_HASHER = PasswordHasher()
_HASHER = PRODUCTION_HASHER
_USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")
_DUMMY: list[str] = []


def _dummy_hash() -> str:
    """A hash verified against when the user name is unknown, so both failures take the same time."""
    if not _DUMMY:
        _DUMMY.append(_HASHER.hash(secrets.token_urlsafe(16)))
    return _DUMMY[0]


@dataclass(frozen=True)
class UserInfo:
    """A user account as the app and the CLI see it (never the hash)."""

    id: int
    username: str
    role: str
    full_name: str | None
    active: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def from_row(cls, row: User) -> UserInfo:
        return cls(id=row.id, username=row.username, role=row.role, full_name=row.full_name, active=row.active,
                   created_at=row.created_at, last_login_at=row.last_login_at)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("created_at", "last_login_at"):
            data[key] = None if data[key] is None else data[key].isoformat()
        return data


def generate_password() -> str:
    """A new random password (24 URL-safe characters, 144 bits from :mod:`secrets`)."""
    return secrets.token_urlsafe(18)


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string) of ``password``."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def validate_username(username: str) -> str:
    """The user name, checked: 2-64 characters, letters, digits and ``. _ @ -``, starting alphanumeric."""
    if not isinstance(username, str) or not _USERNAME_RE.match(username):
        raise StoreUsageError(
            f"invalid user name {username!r}", field="NAME",
            fix="use 2-64 characters: letters, digits, '.', '_', '@', '-' (starting with a letter or digit)",
        )
    return username


def _validate_role(role: str) -> str:
    if role not in ROLES:
        raise StoreUsageError(f"unknown role {role!r}", field="--role", fix=f"choose one of: {', '.join(ROLES)}")
    return role


def _checked_password(password: str | None) -> tuple[str, bool]:
    if password is None:
        return generate_password(), True
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StoreUsageError(f"password shorter than {MIN_PASSWORD_LENGTH} characters", field="password",
                              fix="choose a longer password or let the product generate one")
    return password, False


def _user_row(session: Session, username: str) -> User | None:
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def create_user(
    engine: Engine,
    username: str,
    role: str,
    *,
    password: str | None = None,
    full_name: str | None = None,
    actor: str | None = None,
) -> tuple[UserInfo, str]:
    """Create an account; returns it and its password (generated unless given) to show once.

    Raises
    ------
    StoreUsageError
        Bad user name, role or password.
    StoreError
        The user name is taken.
    """
    validate_username(username)
    _validate_role(role)
    password, generated = _checked_password(password)
    with write_session(engine) as session:
        if _user_row(session, username) is not None:
            raise StoreError(f"user {username!r} exists already", record=f"user {username}",
                             fix="choose another name, or reset the password with 'recommender admin reset-password'")
        now = utcnow()
        row = User(username=username, role=role, password_hash=hash_password(password), full_name=full_name,
                   active=True, created_at=now, password_changed_at=now)
        session.add(row)
        session.flush()
        audit.append(session, action="user.create", actor=actor, entity_type="user", entity_id=row.id,
                     payload={"username": username, "role": role, "password_generated": generated})
        info = UserInfo.from_row(row)
    return info, password


def set_password(engine: Engine, username: str, password: str | None = None, *, actor: str | None = None) -> str:
    """Set (or generate) a new password for ``username``; returns it to show once."""
    password, generated = _checked_password(password)
    with write_session(engine) as session:
        row = _user_row(session, username)
        if row is None:
            raise StoreError(f"no user {username!r}", record=f"user {username}",
                             fix="check the name ('recommender admin list-users') or create the user")
        row.password_hash = hash_password(password)
        row.password_changed_at = utcnow()
        audit.append(session, action="user.password_reset", actor=actor, entity_type="user", entity_id=row.id,
                     payload={"username": username, "password_generated": generated})
    return password


def set_active(engine: Engine, username: str, active: bool, *, actor: str | None = None) -> UserInfo:
    """Enable or disable an account (a disabled account cannot sign in)."""
    with write_session(engine) as session:
        row = _user_row(session, username)
        if row is None:
            raise StoreError(f"no user {username!r}", record=f"user {username}", fix="check the user name")
        row.active = active
        audit.append(session, action="user.enable" if active else "user.disable", actor=actor, entity_type="user",
                     entity_id=row.id, payload={"username": username})
        return UserInfo.from_row(row)


def create_demo_account(engine: Engine) -> tuple[UserInfo, str]:
    """The demo physician (``demo``) with a freshly generated password (reset if the account exists)."""
    with read_session(engine) as session:
        exists = _user_row(session, DEMO_USERNAME) is not None
    if not exists:
        try:
            return create_user(engine, DEMO_USERNAME, "physician", full_name="Demo physician (synthetic data only)",
                               actor="system")
        except StoreError:  # created concurrently: fall through to a reset
            pass
    password = set_password(engine, DEMO_USERNAME, actor="system")
    info = get_user(engine, DEMO_USERNAME)
    assert info is not None
    return info, password


def _throttle_keys(name: str, client: str | None) -> list[tuple[str, str]]:
    keys = [("user", name)]
    if client:
        keys.append(("client", str(client)[:100]))
    return keys


def authenticate(engine: Engine, username: str, password: str, *, client: str | None = None) -> UserInfo:
    """Check a sign-in; returns the user or raises :class:`AuthError` (same message for every failure).

    Both outcomes are audit entries; a successful sign-in updates ``last_login_at`` and upgrades an
    outdated hash. Repeated failures lock the account name and the ``client`` (the browser's address,
    when known) for a growing time (:mod:`recommender.store.throttle`): while locked every attempt is refused
    with :class:`AccountLockedError` before the password is checked.
    """
    from recommender.store import throttle

    failure = AuthError("sign-in failed: unknown user, wrong password or disabled account", field="username",
                        fix="check the user name and password, or ask an administrator")
    name = username if isinstance(username, str) else ""
    keys = _throttle_keys(name[:64], client)
    locked = None
    with write_session(engine) as session:
        locked = throttle.check(session, keys)
        if locked is not None:
            audit.append(session, action="auth.login_failed", actor=None, entity_type="user", entity_id=None,
                         payload={"username": name[:64], "locked": True})
            info = None
        else:
            row = _user_row(session, name) if name else None
            ok = verify_password(row.password_hash if row is not None else _dummy_hash(), password or "")
            info = _finish_sign_in(session, row, ok, name, password, keys)
    if locked is not None:
        wait = max(1, int(locked.retry_after + 0.999))
        raise AccountLockedError(
            f"too many failed sign-ins: try again in {wait} s", field="username", retry_after=locked.retry_after,
            fix="wait, or ask an administrator ('recommender admin unlock-user NAME')")
    if info is None:
        raise failure
    return info


def _finish_sign_in(session: Session, row: User | None, ok: bool, name: str, password: str,
                    keys: list[tuple[str, str]]) -> UserInfo | None:
    """Audit the outcome; count a failure against ``keys`` or clear them on success."""
    from recommender.store import throttle

    if row is None or not ok or not row.active:
        audit.append(session, action="auth.login_failed", actor=None, entity_type="user",
                     entity_id=None if row is None else row.id,
                     payload={"username": name[:64], "known_user": row is not None})
        throttle.record_failure(session, keys)
        return None
    throttle.clear(session, keys)
    if _HASHER.check_needs_rehash(row.password_hash):
        row.password_hash = hash_password(password)
    row.last_login_at = utcnow()
    audit.append(session, action="auth.login", actor=row.username, entity_type="user", entity_id=row.id,
                 payload={"username": row.username, "role": row.role})
    return UserInfo.from_row(row)


def authenticate_identity(engine: Engine, email: str | None, *, issuer: str | None = None) -> UserInfo:
    """Sign in a user whom an OpenID Connect provider has identified (Streamlit ``st.login``).

    The provider proves who the person is; this product still decides what they may do: the e-mail
    address must be the user name of an active local account (``recommender admin create-user EMAIL
    --role ROLE``), whose role applies. Nobody gets an account by signing in. Both outcomes are audit
    entries (``auth.login`` with ``method: oidc``, or ``auth.login_failed``).

    Raises
    ------
    AuthError
        No e-mail claim, no such account, or the account is disabled.
    """
    name = email.strip().lower() if isinstance(email, str) else ""  # e-mail addresses: case-insensitive match
    with write_session(engine) as session:
        row = session.execute(select(User).where(func.lower(User.username) == name)).scalars().first() if name else None
        if row is None or not row.active:
            audit.append(session, action="auth.login_failed", actor=None, entity_type="user",
                         entity_id=None if row is None else row.id,
                         payload={"username": name[:64], "known_user": row is not None, "method": "oidc",
                                  "issuer": issuer})
            info = None
        else:
            row.last_login_at = utcnow()
            audit.append(session, action="auth.login", actor=row.username, entity_type="user", entity_id=row.id,
                         payload={"username": row.username, "role": row.role, "method": "oidc", "issuer": issuer})
            info = UserInfo.from_row(row)
    if info is None:
        raise AuthError(
            "single sign-on succeeded, but there is no active account for this e-mail address here",
            field="email", fix="ask an administrator to run 'recommender admin create-user EMAIL --role ROLE'")
    return info


def get_user(engine: Engine, username: str) -> UserInfo | None:
    """The account named ``username`` or ``None``."""
    with read_session(engine) as session:
        row = _user_row(session, username)
        return None if row is None else UserInfo.from_row(row)


def list_users(engine: Engine) -> list[UserInfo]:
    """All accounts, by user name."""
    with read_session(engine) as session:
        return [UserInfo.from_row(r) for r in session.execute(select(User).order_by(User.username)).scalars()]


def require_role(user: UserInfo | None, *roles: str) -> UserInfo:
    """``user`` if signed in, active and holding one of ``roles``; else :class:`PermissionDeniedError`."""
    if user is None:
        raise PermissionDeniedError("not signed in", fix="sign in first")
    if not user.active:
        raise PermissionDeniedError(f"account {user.username!r} is disabled", fix="ask an administrator")
    if roles and user.role not in roles:
        raise PermissionDeniedError(
            f"role {user.role!r} may not do this (needs {' or '.join(roles)})", record=f"user {user.username}",
            fix="sign in with an account holding the needed role",
        )
    return user
