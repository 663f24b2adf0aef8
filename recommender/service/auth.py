"""Bearer tokens for the HTTP service, stored hashed (sha256), never in clear.

Where the hashes come from (all are merged):

* a tokens file (``recommender serve --tokens FILE``; default ``<data home>/api_tokens``, :mod:`recommender.settings`): one
  entry per line, ``sha256:<64 hex>`` optionally followed by a label; ``#`` starts a comment;
* the ``RECOMMENDER_API_TOKENS`` environment variable: comma-separated ``sha256:<64 hex>`` entries.

``recommender serve --create-token`` makes a new random token (256 bits), appends its hash to the tokens
file (written atomically, mode 600) and prints the token once. Tokens issued per user from the review store
(``recommender admin create-token USER``; :mod:`recommender.store.tokens`) are accepted when the service is
given the database (``recommender serve --db URL``).
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

from genomics.errors import UsageError
from recommender.store.tokens import hash_token  # one definition for file and store tokens

__all__ = ["ENV_VAR", "TokenSet", "create_token", "default_tokens_file", "hash_token", "load_token_hashes"]

ENV_VAR = "RECOMMENDER_API_TOKENS"
_ENTRY = re.compile(r"^sha256:([0-9a-f]{64})$")


def default_tokens_file() -> Path:
    """``<data home>/api_tokens``: the same folder as the store and the KB (:mod:`recommender.settings`)."""
    from recommender.settings import get_settings

    return get_settings().tokens_file


def _parse_entries(lines: Iterable[str], *, source: str) -> set[str]:
    out: set[str] = set()
    for lineno, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        entry = line.split()[0].lower()
        if not _ENTRY.match(entry):
            raise UsageError("not a token hash (expected sha256:<64 hex digits>)", file=source, record=f"line {lineno}",
                             fix="store hashes made by `recommender serve --create-token`, never clear tokens")
        out.add(entry)
    return out


def load_token_hashes(tokens_file: str | os.PathLike[str] | None = None,
                      env: Mapping[str, str] | None = None) -> frozenset[str]:
    """All token hashes from the file (if it exists) and the environment."""
    env = os.environ if env is None else env
    hashes: set[str] = set()
    path = Path(tokens_file) if tokens_file is not None else default_tokens_file()
    if path.is_file():
        hashes |= _parse_entries(path.read_text(encoding="utf-8").splitlines(), source=str(path))
    elif tokens_file is not None:
        raise UsageError("tokens file not found", file=str(path),
                         fix="create one with `recommender serve --create-token --tokens FILE`")
    if env.get(ENV_VAR):
        hashes |= _parse_entries(env[ENV_VAR].split(","), source=f"${ENV_VAR}")
    return frozenset(hashes)


def create_token(tokens_file: str | os.PathLike[str] | None = None, label: str = "") -> str:
    """A new random token; its hash is appended to ``tokens_file``. Returns the clear token (show it once)."""
    from recommender.commands._output import write_atomic
    from recommender.paths import private_dir

    path = Path(tokens_file) if tokens_file is not None else default_tokens_file()
    if not path.parent.exists():
        private_dir(path.parent)
    token = secrets.token_urlsafe(32)
    old = path.read_text(encoding="utf-8") if path.is_file() else "# recommender API token hashes (sha256)\n"
    if old and not old.endswith("\n"):
        old += "\n"
    label = re.sub(r"[^A-Za-z0-9_.@-]", "_", label)[:60]
    write_atomic(path, old + hash_token(token) + (f"  {label}" if label else "") + "\n")
    os.chmod(path, 0o600)
    return token


class TokenSet:
    """Checks a presented bearer token against the stored hashes (constant-time comparison)."""

    def __init__(self, hashes: Iterable[str]) -> None:
        self._hashes = tuple(sorted(set(hashes)))

    def __len__(self) -> int:
        return len(self._hashes)

    def check(self, token: str | None) -> bool:
        if not token:
            return False
        digest = hash_token(token)
        ok = False
        for h in self._hashes:
            ok |= hmac.compare_digest(digest, h)
        return ok
