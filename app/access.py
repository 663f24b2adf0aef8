"""Who may see which page, and whether single sign-on (OpenID Connect through Streamlit) is configured.

Streamlit-free, so the rules are unit-tested and the same for every page. The navigation built in
``app/main.py`` holds only the pages a role may open (a page outside the navigation cannot be reached),
and each page checks its roles again with :func:`app.ui.require_user`.

Roles (``recommender.store.ROLES``):

- ``physician``: every patient page, signs reviews, the cohort page;
- ``researcher``: the patient pages read-only (no sign-off) and the cohort page;
- ``admin``: accounts and the audit-chain check only, never patient data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["PAGE_ROLES", "oidc_providers", "pages_for"]

#: Page script stem -> roles allowed to open it (navigation order).
PAGE_ROLES: dict[str, tuple[str, ...]] = {
    "patient": ("physician", "researcher"),
    "compare": ("physician", "researcher"),
    "pharmacogenomics": ("physician", "researcher"),
    "notes": ("physician", "researcher"),
    "evidence": ("physician", "researcher"),
    "review": ("physician",),
    "report": ("physician", "researcher"),
    "cohort": ("physician", "researcher"),
    "admin": ("admin",),
}

#: Settings every OIDC provider block needs (Streamlit's ``st.login`` documentation).
_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def pages_for(role: str) -> list[str]:
    """The page stems ``role`` may open, in navigation order.

    >>> pages_for("admin")
    ['admin']
    >>> "review" in pages_for("researcher")
    False
    """
    return [page for page, roles in PAGE_ROLES.items() if role in roles]


def oidc_providers(auth: Mapping[str, Any] | None) -> list[str | None]:
    """Providers configured in the ``[auth]`` section of Streamlit's ``secrets.toml``.

    ``None`` in the list stands for the unnamed provider (settings directly under ``[auth]``); a name for
    each ``[auth.NAME]`` block. Empty when single sign-on is not configured (local accounts only) or when
    ``redirect_uri`` / ``cookie_secret`` are missing (Streamlit refuses to log in without them).

    >>> oidc_providers({})
    []
    >>> oidc_providers({"redirect_uri": "https://x/oauth2callback", "cookie_secret": "s",
    ...                 "hospital": {"client_id": "a", "client_secret": "b", "server_metadata_url": "https://i"}})
    ['hospital']
    """
    if not auth or not auth.get("redirect_uri") or not auth.get("cookie_secret"):
        return []
    found: list[str | None] = []
    if all(auth.get(k) for k in _PROVIDER_KEYS):
        found.append(None)
    for name, block in auth.items():
        if isinstance(block, Mapping) and all(block.get(k) for k in _PROVIDER_KEYS):
            found.append(str(name))
    return found
