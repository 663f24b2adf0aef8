"""The review store: users, pseudonymous patients, recommendations, signed reviews, hash-chained audit log.

SQLite file by default (``$RECOMMENDER_HOME/recommender.db``), PostgreSQL by URL; schema managed by
Alembic (:func:`upgrade_database`). The app and the CLI call the service functions re-exported here.

Examples
--------
>>> from recommender.store import make_engine, upgrade_database, create_user, verify_chain
>>> engine = make_engine("sqlite://")            # in-memory; give a path or URL for a real one
>>> upgrade_database(engine)
'0003'
>>> user, password = create_user(engine, "dr.house", "physician")   # password generated, shown once
>>> verify_chain(engine).ok
True
"""

from __future__ import annotations

from recommender.store.audit import AuditReport, BrokenLink, append, canonical_json, verify_chain
from recommender.store.auth import (
    DEMO_USERNAME,
    ROLES,
    UserInfo,
    authenticate,
    authenticate_identity,
    create_demo_account,
    create_user,
    generate_password,
    get_user,
    hash_password,
    list_users,
    require_role,
    set_active,
    set_password,
    verify_password,
)
from recommender.store.engine import (
    data_home,
    default_database_url,
    demo_database_url,
    make_engine,
    read_session,
    redact_url,
    resolve_url,
    write_session,
)
from recommender.store.errors import (
    AccountLockedError,
    AuthError,
    DatabaseUnavailableError,
    InsecurePermissionsError,
    PermissionDeniedError,
    StoreError,
    StoreUsageError,
)
from recommender.store.migrations import current_revision, head_revision, upgrade_database
from recommender.store.models import DECISIONS, ImmutableRecordError
from recommender.store.note_reviews import record_note_review
from recommender.store.patients import pseudonymise
from recommender.store.reviews import (
    RecordProblem,
    StoredRecommendation,
    StoredReview,
    get_recommendation,
    json_sha256,
    list_recommendations,
    list_reviews,
    record_recommendation,
    record_review,
    verify_records,
)
from recommender.store.sessions import SessionRevocations
from recommender.store.throttle import unlock_user
from recommender.store.tokens import (
    ApiTokenInfo,
    create_api_token,
    list_api_tokens,
    revoke_api_token,
    user_for_token,
)

__all__ = [  # noqa: RUF022 - grouped by topic
    # engine / schema
    "make_engine", "resolve_url", "redact_url", "data_home", "default_database_url", "demo_database_url",
    "read_session", "write_session", "upgrade_database", "current_revision", "head_revision", "open_database",
    # auth
    "ROLES", "DEMO_USERNAME", "UserInfo", "create_user", "create_demo_account", "authenticate", "authenticate_identity",
    "get_user",
    "list_users", "set_password", "set_active", "require_role", "generate_password", "hash_password",
    "verify_password",
    # API tokens of the HTTP service
    "ApiTokenInfo", "create_api_token", "list_api_tokens", "revoke_api_token", "user_for_token",
    # signed-out app sessions
    "SessionRevocations",
    # patients, recommendations, reviews
    "pseudonymise", "DECISIONS", "StoredRecommendation", "StoredReview", "RecordProblem", "json_sha256",
    "record_recommendation", "get_recommendation", "list_recommendations", "record_review", "list_reviews",
    "verify_records", "record_note_review",
    # audit
    "append", "canonical_json", "verify_chain", "AuditReport", "BrokenLink",
    # errors
    "StoreError", "StoreUsageError", "DatabaseUnavailableError", "AuthError", "PermissionDeniedError",
    "AccountLockedError", "InsecurePermissionsError", "unlock_user",
    "ImmutableRecordError",
]


def open_database(url=None, *, upgrade: bool = True, allow_insecure_permissions: bool | None = None):
    """An engine for ``url`` (default database when ``None``), upgraded to the newest schema.

    The app calls this once per process (``st.cache_resource``) and passes the engine to the
    service functions. An SQLite file readable by others is refused unless ``allow_insecure_permissions``
    (default ``$RECOMMENDER_ALLOW_INSECURE_PERMISSIONS``).
    """
    engine = make_engine(url, allow_insecure_permissions=allow_insecure_permissions)
    if upgrade:
        upgrade_database(engine)
    return engine
