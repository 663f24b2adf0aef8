"""Signed, expiring session cookie: a page reload does not sign the user out.

Streamlit keeps its session state per websocket, so a reload (a new websocket) starts empty. At sign-in
the app issues a token ``payload.signature``: ``payload`` is base64url JSON (user name, role, issued,
expires, a random nonce, single sign-on flag), ``signature`` its HMAC-SHA256 under a server secret. The
browser keeps it in the cookie :data:`COOKIE_NAME` (``HttpOnly``, ``SameSite=Strict``, ``Secure`` over https,
for :data:`SESSION_SECONDS`), set by the server's own response (:mod:`app.session_routes`: the page posts a
one-time hand-over code, :class:`Handoffs`, and never sees the token); on a new websocket the app reads it with
``st.context.cookies`` (the cookies of the websocket's opening request) and, when the signature, the expiry
and the nonce check out and the account is still active with the same role, the user is signed in again.

The secret is 32 random bytes in ``<data home>/app-session.key`` (``$RECOMMENDER_HOME``), created with mode
0600; a key file others can read is refused. Signing out revokes the nonce: the app keeps revocations in the
store (``recommender.store.SessionRevocations``), so every app process refuses a signed-out cookie, after a
restart too; :class:`Revocations` is the in-memory equivalent. The token holds no patient data and no password. Streamlit-free; nothing here logs.

Examples
--------
>>> key = b"k" * 32
>>> token, claims = issue("dr.who", "physician", secret=key, now=1000.0)
>>> verify(token, secret=key, now=1001.0) == claims
True
>>> verify(token, secret=b"x" * 32, now=1001.0) is None
True
>>> verify(token, secret=key, now=1000.0 + SESSION_SECONDS + 1) is None
True
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import stat
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from genomics.errors import RecommenderError

__all__ = [
    "CLAIM_PATH",
    "CLEAR_PATH",
    "COOKIE_NAME",
    "HANDOFFS",
    "HANDOFF_SECONDS",
    "SECRET_FILE",
    "SESSION_SECONDS",
    "Handoffs",
    "Revocations",
    "SessionClaims",
    "SessionSecretError",
    "claim_cookie_script",
    "clear_cookie_script",
    "issue",
    "load_secret",
    "secret_path",
    "verify",
]

#: Name of the session cookie.
COOKIE_NAME = "gtr_session"
#: Lifetime of a session cookie (a working day).
SESSION_SECONDS = 8 * 3600
#: File name of the server secret under the data home.
SECRET_FILE = "app-session.key"
_MAX_TOKEN = 2048


class SessionSecretError(RecommenderError):
    """The session secret cannot be created or is readable by others."""


@dataclass(frozen=True)
class SessionClaims:
    """What a session cookie says (signed by the server)."""

    username: str
    role: str
    issued: float
    expires: float
    nonce: str
    sso: bool = False


def secret_path(home: str | os.PathLike[str] | None = None) -> Path:
    """``<home>/app-session.key`` (``home`` defaults to :func:`recommender.store.data_home`)."""
    if home is None:
        from recommender.store import data_home

        home = data_home()
    return Path(home) / SECRET_FILE


def load_secret(path: str | os.PathLike[str] | None = None) -> bytes:
    """The server secret, created (32 random bytes, mode 0600, atomically) on first use.

    Raises
    ------
    SessionSecretError
        The file is readable or writable by group or others, is not a regular file, or cannot be created.
    """
    p = Path(path) if path is not None else secret_path()
    try:
        p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        pass
    except OSError as err:
        raise SessionSecretError(f"cannot create the session secret ({err.strerror})", file=str(p),
                                 fix="make the data home writable ($RECOMMENDER_HOME)") from None
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    try:
        st_ = os.lstat(p)
    except OSError as err:
        raise SessionSecretError(f"cannot read the session secret ({err.strerror})", file=str(p),
                                 fix="check the data home ($RECOMMENDER_HOME)") from None
    if not stat.S_ISREG(st_.st_mode):
        raise SessionSecretError("the session secret is not a regular file", file=str(p),
                                 fix="remove it; the app creates a new one")
    if st_.st_mode & 0o077:
        raise SessionSecretError(f"the session secret is readable or writable by others (mode "
                                 f"{stat.S_IMODE(st_.st_mode):04o})", file=str(p),
                                 fix=f"chmod 600 {p} (or remove it: every session cookie becomes invalid)")
    text = p.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise SessionSecretError("the session secret is not 64 hexadecimal characters", file=str(p),
                                 fix="remove it; the app creates a new one")
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(payload: str, secret: bytes) -> str:
    return hmac.new(secret, payload.encode("ascii"), hashlib.sha256).hexdigest()


def issue(username: str, role: str, *, secret: bytes, sso: bool = False, now: float | None = None,
          lifetime: float = SESSION_SECONDS) -> tuple[str, SessionClaims]:
    """A signed token for ``username`` and its claims."""
    t = time.time() if now is None else now
    claims = SessionClaims(username=username, role=role, issued=t, expires=t + lifetime,
                           nonce=secrets.token_urlsafe(16), sso=sso)
    payload = _b64(json.dumps(asdict(claims), separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_sign(payload, secret)}", claims


def verify(token: str | None, *, secret: bytes, now: float | None = None,
           revoked: Any = None) -> SessionClaims | None:
    """The claims of a valid, unexpired, unrevoked ``token``; ``None`` for anything else (never raises).

    ``revoked``: anything with ``is_revoked(nonce) -> bool`` (:class:`Revocations`, or the store's
    ``recommender.store.SessionRevocations``).
    """
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN or token.count(".") != 1:
        return None
    payload, signature = token.split(".")
    if not hmac.compare_digest(_sign(payload, secret), signature):
        return None
    try:
        data = json.loads(_unb64(payload))
        claims = SessionClaims(**data)
    except (ValueError, TypeError, binascii.Error):
        return None
    t = time.time() if now is None else now
    if not (claims.issued <= t + 60 and t < claims.expires):
        return None
    if revoked is not None and revoked.is_revoked(claims.nonce):
        return None
    return claims


class Revocations:
    """Nonces of signed-out sessions, kept until their cookie would have expired anyway (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}

    def revoke(self, nonce: str | None, until: float | None = None) -> None:
        if not nonce:
            return
        with self._lock:
            now = time.time()
            self._until = {n: u for n, u in self._until.items() if u > now}
            self._until[nonce] = until if until is not None else now + SESSION_SECONDS

    def is_revoked(self, nonce: str) -> bool:
        with self._lock:
            return nonce in self._until


class Handoffs:
    """One-time codes that hand a session token to the browser's HttpOnly cookie (thread-safe, process-wide).

    The app never gives the token itself to the page: at sign-in it :meth:`offer` s the token for a random code,
    the page posts the code to :data:`CLAIM_PATH` and the server answers with the ``Set-Cookie`` header
    (``HttpOnly``: no script of the page can read the cookie afterwards). A code is good once, for
    :data:`HANDOFF_SECONDS`; at most ``capacity`` codes wait at a time (the oldest go first).
    """

    def __init__(self, capacity: int = 10_000, lifetime: float | None = None) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[str, float]] = {}
        self._capacity = int(capacity)
        self._lifetime = float(HANDOFF_SECONDS if lifetime is None else lifetime)

    def offer(self, token: str, now: float | None = None) -> str:
        """A fresh code for ``token``."""
        t = time.time() if now is None else now
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._pending = {c: v for c, v in self._pending.items() if v[1] > t}
            while len(self._pending) >= self._capacity:
                self._pending.pop(next(iter(self._pending)))
            self._pending[code] = (token, t + self._lifetime)
        return code

    def claim(self, code: object, now: float | None = None) -> str | None:
        """The token of an unexpired, unclaimed ``code`` (the code is spent); ``None`` for anything else."""
        if not isinstance(code, str) or not _is_code(code):
            return None
        t = time.time() if now is None else now
        with self._lock:
            entry = self._pending.pop(code, None)
        return entry[0] if entry is not None and t < entry[1] else None


#: Seconds a hand-over code stays good (the page claims it at once).
HANDOFF_SECONDS = 60
#: The process's hand-over codes (the app's script run offers, :mod:`app.session_routes` claims).
HANDOFFS = Handoffs()
#: Where the page posts a hand-over code to receive the HttpOnly session cookie.
CLAIM_PATH = "/gtr-session/claim"
#: Where the page posts to have the session cookie removed (an HttpOnly cookie is out of reach of scripts).
CLEAR_PATH = "/gtr-session/clear"
_MAX_CODE = 64


def _is_code(text: str) -> bool:
    return 0 < len(text) <= _MAX_CODE and all(c.isascii() and (c.isalnum() or c in "-_") for c in text)


def _post_js(path: str, body: str) -> str:
    # path is a module constant; body a code of base64url characters: nothing to escape inside the strings
    return (f'<script>fetch("{path}", {{method: "POST", credentials: "same-origin", cache: "no-store", '
            f'headers: {{"Content-Type": "text/plain"}}, body: "{body}"}});</script>')


def claim_cookie_script(code: str) -> str:
    """The ``<script>`` that posts hand-over ``code`` (:class:`Handoffs`) to :data:`CLAIM_PATH`; the token never
    appears in the page."""
    if not _is_code(code):
        raise ValueError("a hand-over code holds only base64url characters")
    return _post_js(CLAIM_PATH, code)


def clear_cookie_script() -> str:
    """The ``<script>`` that asks the server to remove the session cookie."""
    return _post_js(CLEAR_PATH, "")
