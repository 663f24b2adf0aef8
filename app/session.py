"""The app's session in one typed object: who is signed in, the patient, the recommendation shown and the
review of it as an explicit state machine.

Streamlit-free, so every transition is unit-tested. The pages hold one :class:`AppSession` in
``st.session_state[SESSION_KEY]`` (through :func:`app.ui.app_state`) instead of loose string keys; widget
keys stay with their widgets. No patient identifier is logged here.

The review of a recommendation moves through :class:`ReviewPhase`::

    editing --propose--> confirming --sign--> signed --amend--> editing (amending)
                 ^             |
                 +---cancel----+

Loading another patient (or another recommendation of the same patient) starts again at ``editing`` with
nothing signed; a transition that is not in :data:`TRANSITIONS` raises :class:`ReviewStateError`.

Examples
--------
>>> flow = ReviewFlow()
>>> flow.propose(ReviewDraft("accept", "FOLFOX")).phase.value
'confirming'
>>> flow.cancel().phase.value
'editing'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from genomics.errors import RecommenderError

__all__ = [
    "SESSION_KEY",
    "TRANSITIONS",
    "AppSession",
    "PatientForm",
    "ReviewDraft",
    "ReviewFlow",
    "ReviewPhase",
    "ReviewStateError",
    "Uploads",
]

#: The one ``st.session_state`` key the app keeps its state under.
SESSION_KEY = "app"


class ReviewStateError(RecommenderError):
    """A review step that is not allowed from the current phase (e.g. signing without confirming)."""


class ReviewPhase(str, Enum):
    """Where the review of the recommendation shown stands."""

    EDITING = "editing"
    CONFIRMING = "confirming"
    SIGNED = "signed"


#: Allowed transitions: phase -> phases it may move to.
TRANSITIONS: dict[ReviewPhase, frozenset[ReviewPhase]] = {
    ReviewPhase.EDITING: frozenset({ReviewPhase.CONFIRMING}),
    ReviewPhase.CONFIRMING: frozenset({ReviewPhase.EDITING, ReviewPhase.SIGNED}),
    ReviewPhase.SIGNED: frozenset({ReviewPhase.EDITING}),
}


@dataclass(frozen=True)
class ReviewDraft:
    """The decision a physician is about to sign."""

    decision: str
    chosen_option: str | None = None
    dose_note: str | None = None
    reason: str | None = None

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`recommender.store.record_review`."""
        return {"decision": self.decision, "chosen_option": self.chosen_option, "dose_note": self.dose_note,
                "reason": self.reason}


@dataclass
class ReviewFlow:
    """The review state machine of one recommendation shown.

    Attributes
    ----------
    phase : ReviewPhase
        Current phase.
    draft : ReviewDraft or None
        The decision waiting for confirmation (``confirming`` only).
    signed : Any
        The last :class:`~recommender.store.StoredReview` signed in this session (kept while amending).
    stored_recommendation : Any
        The :class:`~recommender.store.StoredRecommendation` of what was shown (stored at first signing).
    amending : bool
        ``editing`` again after a signature: a second, deliberate review.
    """

    phase: ReviewPhase = ReviewPhase.EDITING
    draft: ReviewDraft | None = None
    signed: Any = None
    stored_recommendation: Any = None
    amending: bool = False

    def _move(self, to: ReviewPhase, step: str) -> None:
        if to not in TRANSITIONS[self.phase]:
            raise ReviewStateError(f"cannot {step} a review that is {self.phase.value}", field="review",
                                   fix="reload the Review page and start from the current step")
        self.phase = to

    def propose(self, draft: ReviewDraft) -> ReviewFlow:
        """``editing`` -> ``confirming`` with ``draft``."""
        self._move(ReviewPhase.CONFIRMING, "confirm")
        self.draft = draft
        return self

    def cancel(self) -> ReviewFlow:
        """``confirming`` -> ``editing`` (the draft is dropped)."""
        self._move(ReviewPhase.EDITING, "cancel")
        self.draft = None
        return self

    def sign(self, review: Any, stored_recommendation: Any) -> ReviewFlow:
        """``confirming`` -> ``signed``: the review stored and signed."""
        self._move(ReviewPhase.SIGNED, "sign")
        self.signed, self.stored_recommendation = review, stored_recommendation
        self.draft, self.amending = None, False
        return self

    def amend(self) -> ReviewFlow:
        """``signed`` -> ``editing``: record another review of the same recommendation."""
        self._move(ReviewPhase.EDITING, "amend")
        self.amending = True
        return self


@dataclass
class PatientForm:
    """The clinical form's last checked values, the problems per field and the patient they make."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    patient: Any = None


@dataclass
class Uploads:
    """Files uploaded on the Patient page, staged on the server (:mod:`app.vcf_upload`, :mod:`app.uploads`)."""

    vcf: Any = None
    vcf_inspection: tuple[Any, Any] | None = None
    pgx_calls: Any = None
    tumour: Any = None

    def discard_vcf(self) -> None:
        if self.vcf is not None:
            self.vcf.discard()
        self.vcf, self.vcf_inspection = None, None

    def discard_all(self) -> None:
        self.discard_vcf()
        for staged in (self.pgx_calls, self.tumour):
            if staged is not None:
                staged.discard()
        self.pgx_calls = self.tumour = None


@dataclass
class AppSession:
    """Everything the app keeps for one browser session.

    Attributes
    ----------
    user : Any
        The signed-in :class:`~recommender.store.UserInfo` (``None``: signed out).
    sso : bool
        Signed in through OpenID Connect single sign-on.
    session_nonce : str or None
        Id of the signed session cookie issued at sign-in (revoked at sign-out).
    cookie_pending : str or None
        A freshly issued session cookie the browser has not been handed yet.
    signed_out : bool
        The user signed out in this browser session: a cookie is never honoured again here.
    patient, recommendation, recommendation_json
        The patient loaded, the :class:`~recommender.recommendation.Recommendation` and the exact JSON shown
        (hashed into the review).
    review : ReviewFlow
        The review of that recommendation.
    source : str or None
        The patient source last chosen on the Patient page.
    form, uploads
        The clinical form and the staged uploads.
    pdf_cache : dict
        PDF of the report per sha256 of the JSON shown (or the error of the last attempt).
    cohort_job : Any
        The background cohort scoring job (:class:`app.cohort_jobs.CohortJob`).
    """

    user: Any = None
    sso: bool = False
    session_nonce: str | None = None
    cookie_pending: str | None = None
    signed_out: bool = False
    patient: Any = None
    recommendation: Any = None
    recommendation_json: str | None = None
    review: ReviewFlow = field(default_factory=ReviewFlow)
    source: str | None = None
    form: PatientForm = field(default_factory=PatientForm)
    uploads: Uploads = field(default_factory=Uploads)
    pdf_cache: dict[str, Any] = field(default_factory=dict)
    cohort_job: Any = None

    @property
    def signed_in(self) -> bool:
        return self.user is not None

    def sign_in(self, user: Any, *, sso: bool = False, nonce: str | None = None, cookie: str | None = None) -> None:
        """Start a signed-in session (``cookie``: a session cookie still to hand to the browser)."""
        self.user, self.sso, self.session_nonce, self.cookie_pending = user, sso, nonce, cookie
        self.signed_out = False

    def load(self, patient: Any, recommendation: Any) -> None:
        """Show ``recommendation`` of ``patient``: the review starts again, the old PDF is dropped."""
        self.patient, self.recommendation = patient, recommendation
        self.recommendation_json = recommendation.to_json()
        self.review = ReviewFlow()
        self.pdf_cache = {}

    def sign_out(self) -> None:
        """Forget everything of this session (staged uploads removed); the cookie is not honoured again."""
        self.uploads.discard_all()
        job = self.cohort_job
        if job is not None and getattr(job, "running", False):
            job.cancel()
        fresh = AppSession()
        fresh.signed_out = True
        self.__dict__.update(fresh.__dict__)
