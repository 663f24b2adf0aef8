"""Errors of the cohorts package (extending :mod:`genomics.errors`)."""

from __future__ import annotations

from genomics.errors import InputFileError, RecommenderError

__all__ = ["CohortError", "CohortQueryError", "CohortValidationError", "ScoringCancelled"]


class CohortError(InputFileError):
    """A cohort directory or a source file given to a loader cannot be used."""


class CohortValidationError(CohortError):
    """A cohort table breaks a rule (names the table file, the row, the column and the problem)."""

    def __init__(self, message: str, *, problems: list | None = None, **kwargs) -> None:
        self.problems = list(problems or [])
        super().__init__(message, **kwargs)


class CohortQueryError(RecommenderError):
    """A filter or SQL query over a cohort is not valid."""


class ScoringCancelled(RecommenderError):
    """A cohort scoring run was cancelled; its finished chunks are kept and a re-run resumes from them."""
