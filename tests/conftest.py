"""Shared test helpers.

Tests that need something outside the repository (../shared/data, Chromium, PostgreSQL) call
:func:`require`: on a developer machine without it they skip with the reason; with ``CI=true``
they fail instead, so CI never passes by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RECOMMENDER_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
FIXTURES = REPO_ROOT / "tests" / "fixtures"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skip (developer machine) or fail (``CI=true``) when ``condition`` is false."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or ``$RECOMMENDER_SHARED_DATA``); skips/fails when absent."""
    require(SHARED_DATA.is_dir(), f"shared data folder not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def isolated_kb(tmp_path, monkeypatch):
    """A private PGx knowledge-base home (no ``$RECOMMENDER_KB_DIR``), caches cleared before and after."""
    from genomics.pgx import knowledge_base as kbmod

    monkeypatch.delenv(kbmod.ENV_KB_DIR, raising=False)
    monkeypatch.setenv(kbmod.ENV_HOME, str(tmp_path / "home"))
    kbmod.clear_cache()
    yield tmp_path / "home"
    kbmod.clear_cache()
