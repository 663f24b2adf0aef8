"""One settings object for the CLI, the HTTP service and the app: where data lives and what is allowed.

Every front end reads its folders and switches from :func:`get_settings`, so they agree on where
``$RECOMMENDER_HOME`` points (before this module the API tokens fell back to ``~/.config/recommender``
while the store and the knowledge base used ``~/.local/share/recommender``).

===================================  ======================================================================
variable                             meaning (default)
===================================  ======================================================================
``RECOMMENDER_HOME``                 data home: store, demo store, KB, tokens, app key
                                     (``$XDG_DATA_HOME/recommender``, else ``~/.local/share/recommender``)
``RECOMMENDER_DB_URL``               review-store database URL (``<home>/recommender.db``)
``RECOMMENDER_KB_DIR``               one knowledge-base version folder, or ``bundled`` (``<home>/kb``)
``RECOMMENDER_API_TOKENS``           extra API token hashes, comma-separated
``RECOMMENDER_COHORT_ROOTS``         folders the app may open cohorts from, ``os.pathsep``-separated
                                     (``<home>/cohorts``)
``RECOMMENDER_OUTPUT_ROOT``          folder under which the app writes outputs, one sub-folder per user
                                     (``<home>/outputs``)
``RECOMMENDER_ALLOW_INSECURE_PERMISSIONS``  ``1``: start on a store readable by others (``0``)
===================================  ======================================================================

Examples
--------
>>> s = get_settings({"RECOMMENDER_HOME": "/srv/rec"})
>>> str(s.home), str(s.tokens_file), str(s.output_root)
('/srv/rec', '/srv/rec/api_tokens', '/srv/rec/outputs')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ENV_ALLOW_INSECURE",
    "ENV_COHORT_ROOTS",
    "ENV_DB_URL",
    "ENV_HOME",
    "ENV_KB_DIR",
    "ENV_OUTPUT_ROOT",
    "ENV_TOKENS",
    "Settings",
    "get_settings",
]

ENV_HOME = "RECOMMENDER_HOME"
ENV_DB_URL = "RECOMMENDER_DB_URL"
ENV_KB_DIR = "RECOMMENDER_KB_DIR"
ENV_TOKENS = "RECOMMENDER_API_TOKENS"
ENV_COHORT_ROOTS = "RECOMMENDER_COHORT_ROOTS"
ENV_OUTPUT_ROOT = "RECOMMENDER_OUTPUT_ROOT"
ENV_ALLOW_INSECURE = "RECOMMENDER_ALLOW_INSECURE_PERMISSIONS"
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Folders and switches shared by every front end (see the module docstring for the variables)."""

    home: Path
    db_url: str | None
    kb_dir: str | None
    tokens_file: Path
    cohort_roots: tuple[Path, ...]
    output_root: Path
    allow_insecure_permissions: bool

    @property
    def database_file(self) -> Path:
        """The default SQLite store."""
        return self.home / "recommender.db"

    @property
    def demo_database_file(self) -> Path:
        """The demo store (``recommender admin create-demo``)."""
        return self.home / "demo.db"

    @property
    def kb_home(self) -> Path:
        """The user knowledge-base folder (``CURRENT`` + version folders)."""
        return self.home / "kb"

    def user_output_dir(self, username: str | None) -> Path:
        """The per-user output folder ``<output root>/<user>`` (``anonymous`` without a user)."""
        from recommender.paths import safe_component

        return self.output_root / safe_component(username or "anonymous")


def _home(env: Mapping[str, str]) -> Path:
    value = env.get(ENV_HOME)
    if value:
        return Path(value).expanduser()
    xdg = env.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "recommender"


def get_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The settings from ``env`` (default: the process environment), read afresh on every call."""
    env = os.environ if env is None else env
    home = _home(env)
    roots_text = env.get(ENV_COHORT_ROOTS, "")
    roots = tuple(Path(p).expanduser() for p in roots_text.split(os.pathsep) if p.strip()) or (home / "cohorts",)
    out_root = env.get(ENV_OUTPUT_ROOT)
    return Settings(
        home=home,
        db_url=env.get(ENV_DB_URL) or None,
        kb_dir=env.get(ENV_KB_DIR) or None,
        tokens_file=home / "api_tokens",
        cohort_roots=roots,
        output_root=Path(out_root).expanduser() if out_root else home / "outputs",
        allow_insecure_permissions=env.get(ENV_ALLOW_INSECURE, "").strip().lower() in _TRUE,
    )
