"""Bearer tokens of the HTTP scoring service, issued per user from the review store.

A token is 256 random bits (``secrets.token_urlsafe(32)``), printed once; the database keeps only
``sha256:<hex>`` of it, the user it belongs to, a label, and when it was made, last used and revoked.
Creating and revoking are audit entries. A request's token maps to its user; a disabled user or a
revoked token is refused. (The file/environment tokens of ``recommender serve --tokens`` still work and
belong to no user.)

Examples
--------
>>> from recommender.store import make_engine, upgrade_database, create_user
>>> engine = make_engine("sqlite://"); _ = upgrade_database(engine)
>>> _ = create_user(engine, "pipeline.bot", "researcher")
>>> info, token = create_api_token(engine, "pipeline.bot", label="nightly")
>>> user_for_token(engine, token).username
'pipeline.bot'
>>> _ = revoke_api_token(engine, info.id)
>>> user_for_token(engine, token) is None
True
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from recommender.store import audit
from recommender.store.engine import read_session, write_session
from recommender.store.errors import StoreError
from recommender.store.models import ApiToken, User, utcnow

__all__ = ["ApiTokenInfo", "create_api_token", "hash_token", "list_api_tokens", "revoke_api_token",
           "user_for_token"]

#: ``last_used_at`` is refreshed at most this often per token (not one write per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(token: str) -> str:
    """``sha256:<hex>`` of a token (what is stored; the service compares these)."""
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiTokenInfo:
    """A token as the CLI lists it (never the token, never its hash)."""

    id: int
    username: str
    label: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("created_at", "last_used_at", "revoked_at"):
            data[key] = None if data[key] is None else data[key].isoformat()
        data["active"] = self.active
        return data


def _info(row: ApiToken, username: str) -> ApiTokenInfo:
    return ApiTokenInfo(id=row.id, username=username, label=row.label, created_at=row.created_at,
                        last_used_at=row.last_used_at, revoked_at=row.revoked_at)


def create_api_token(engine: Engine, username: str, *, label: str | None = None,
                     actor: str | None = None) -> tuple[ApiTokenInfo, str]:
    """Issue a token to the active account ``username``; returns it (to print once) and its record.

    Raises
    ------
    StoreError
        No such account, or the account is disabled.
    """
    token = secrets.token_urlsafe(32)
    clean = re.sub(r"[^A-Za-z0-9_.@ -]", "_", label)[:60] if label else None
    with write_session(engine) as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None or not user.active:
            raise StoreError(f"no active account {username!r}", record=f"user {username}",
                             fix="create it with 'recommender admin create-user NAME --role ROLE' (or re-enable it)")
        row = ApiToken(user_id=user.id, token_hash=hash_token(token), label=clean, created_at=utcnow())
        session.add(row)
        session.flush()
        audit.append(session, action="token.create", actor=actor, entity_type="api_token", entity_id=row.id,
                     payload={"username": username, "label": clean})
        info = _info(row, username)
    return info, token


def revoke_api_token(engine: Engine, token_id: int, *, actor: str | None = None) -> ApiTokenInfo:
    """Revoke token ``token_id`` (kept in the list, refused from now on). Revoking twice is an error."""
    with write_session(engine) as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise StoreError(f"no API token with id {token_id}", record=f"token {token_id}",
                             fix="see 'recommender admin list-tokens' for the ids")
        username = session.get(User, row.user_id).username
        if row.revoked_at is not None:
            raise StoreError(f"API token {token_id} is revoked already", record=f"token {token_id}",
                             fix="nothing to do; create a new token if one is needed")
        row.revoked_at = utcnow()
        audit.append(session, action="token.revoke", actor=actor, entity_type="api_token", entity_id=row.id,
                     payload={"username": username, "label": row.label})
        info = _info(row, username)
    return info


def list_api_tokens(engine: Engine, username: str | None = None) -> list[ApiTokenInfo]:
    """All tokens (or one user's), oldest first."""
    with read_session(engine) as session:
        query = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
        if username is not None:
            query = query.where(User.username == username)
        return [_info(row, name) for row, name in session.execute(query)]


def user_for_token(engine: Engine, token: str | None) -> Any:
    """The :class:`~recommender.store.UserInfo` a presented token belongs to, or ``None``.

    ``None`` for an unknown or revoked token or a disabled account. The lookup is by the token's sha256
    (a unique index), so its time does not depend on how much of a stored hash matches.
    """
    from recommender.store.auth import UserInfo

    if not token:
        return None
    digest = hash_token(token)
    with read_session(engine) as session:
        found = session.execute(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                                .where(ApiToken.token_hash == digest)).first()
        if found is None:
            return None
        row, user = found
        if row.revoked_at is not None or not user.active:
            return None
        info = UserInfo.from_row(user)
        stale = row.last_used_at is None or utcnow() - row.last_used_at > LAST_USED_RESOLUTION
        token_id = row.id
    if stale:
        with write_session(engine) as session:
            session.get(ApiToken, token_id).last_used_at = utcnow()
    return info
