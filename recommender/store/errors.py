"""Errors of the review store (extend the project's hierarchy in :mod:`genomics.errors`)."""

from __future__ import annotations

from genomics.errors import RecommenderError, UsageError

__all__ = ["AccountLockedError", "AuthError", "DatabaseUnavailableError", "InsecurePermissionsError",
           "PermissionDeniedError", "StoreError", "StoreUsageError"]


class StoreError(RecommenderError):
    """The review database cannot do what was asked (missing record, conflicting data, bad state)."""


class DatabaseUnavailableError(StoreError):
    """The database URL cannot be opened (no server, bad credentials, unwritable file)."""


class AuthError(StoreError):
    """A sign-in failed (unknown user, wrong password, disabled account)."""


class AccountLockedError(AuthError):
    """Too many failed sign-ins: the account or the client waits (exponential back-off, temporary lock)."""

    def __init__(self, message: str, *, retry_after: float, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InsecurePermissionsError(DatabaseUnavailableError):
    """The store's file is readable by other users (refused unless told)."""


class PermissionDeniedError(StoreError):
    """The signed-in user's role does not allow the action."""


class StoreUsageError(UsageError):
    """Inconsistent arguments (unknown role, bad decision, missing reason...)."""
