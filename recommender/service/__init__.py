"""HTTP scoring service (FastAPI): ``create_app`` and bearer-token helpers.

Run it with ``recommender serve`` (uvicorn); see :mod:`recommender.service.app` for the endpoints.
"""

from recommender.service.app import DEFAULT_MAX_REQUEST_BYTES, ScoreRequest, create_app
from recommender.service.auth import (
    ENV_VAR,
    TokenSet,
    create_token,
    default_tokens_file,
    hash_token,
    load_token_hashes,
)

__all__ = [
    "DEFAULT_MAX_REQUEST_BYTES",
    "ENV_VAR",
    "ScoreRequest",
    "TokenSet",
    "create_app",
    "create_token",
    "default_tokens_file",
    "hash_token",
    "load_token_hashes",
]
