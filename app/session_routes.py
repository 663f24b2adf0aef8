"""The two HTTP endpoints that set and remove the HttpOnly session cookie (mounted by :mod:`app.server`).

Streamlit scripts cannot answer an HTTP request, so a script-written cookie is readable by every script of
the page. Instead, at sign-in the app offers the signed token for a one-time code
(:data:`app.web_session.HANDOFFS`), the page posts the code to :data:`~app.web_session.CLAIM_PATH` and this
module answers with ``Set-Cookie: gtr_session=...; HttpOnly; SameSite=Strict; Path=/`` (``Secure`` over https).
:data:`~app.web_session.CLEAR_PATH` answers with the header that removes it. Both accept only a same-origin
``POST`` (the ``Origin`` header names this host): a page of another site can neither spend a code nor sign a
user out. Nothing here logs; the code travels in the body, never in a URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.web_session import CLAIM_PATH, CLEAR_PATH, COOKIE_NAME, HANDOFFS, SESSION_SECONDS

__all__ = ["session_routes"]

_MAX_BODY = 256
_NO_STORE = {"Cache-Control": "no-store"}


def _same_origin(request: Request) -> bool:
    """The request comes from a page of this host (``Origin`` present and naming the ``Host`` it was sent to)."""
    origin = request.headers.get("origin")
    host = request.headers.get("host")
    if not origin or not host:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


async def _claim(request: Request) -> Response:
    if not _same_origin(request):
        return Response("cross-origin request refused", status_code=403, headers=_NO_STORE)
    body = await request.body()
    if len(body) > _MAX_BODY:
        return Response("request too large", status_code=413, headers=_NO_STORE)
    token = HANDOFFS.claim(body.decode("ascii", errors="replace").strip())
    if token is None:
        return Response("unknown or expired hand-over code: sign in again", status_code=404, headers=_NO_STORE)
    response = Response(status_code=204, headers=_NO_STORE)
    response.set_cookie(COOKIE_NAME, token, max_age=SESSION_SECONDS, path="/", secure=_secure(request),
                        httponly=True, samesite="strict")
    return response


async def _clear(request: Request) -> Response:
    if not _same_origin(request):
        return Response("cross-origin request refused", status_code=403, headers=_NO_STORE)
    response = Response(status_code=204, headers=_NO_STORE)
    response.delete_cookie(COOKIE_NAME, path="/", secure=_secure(request), httponly=True, samesite="strict")
    return response


def session_routes() -> list[Route]:
    """The claim and clear endpoints (``POST`` only)."""
    return [Route(CLAIM_PATH, _claim, methods=["POST"]), Route(CLEAR_PATH, _clear, methods=["POST"])]
