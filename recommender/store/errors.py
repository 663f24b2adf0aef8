"""Errors of the review store (extend the project's hierarchy in :mod:`genomics.errors`)."""

from __future__ import annotations

from genomics.errors import RecommenderError, UsageError

__all__ = ["AuthError", "DatabaseUnavailableError", "PermissionDeniedError", "StoreError", "StoreUsageError"]


class StoreError(RecommenderError):
    """The review database cannot do what was asked (missing record, conflicting data, bad state)."""


class DatabaseUnavailableError(StoreError):
    """The database URL cannot be opened (no server, bad credentials, unwritable file)."""


class AuthError(StoreError):
    """A sign-in failed (unknown user, wrong password, disabled account)."""


class PermissionDeniedError(StoreError):
    """The signed-in user's role does not allow the action."""


class StoreUsageError(UsageError):
    """Inconsistent arguments (unknown role, bad decision, missing reason...)."""
