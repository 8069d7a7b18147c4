"""Sessions, CSRF tokens and page headers for the web pages.

A session is a random id in an HttpOnly, SameSite=Lax cookie; what it means (the token it
was opened with, its CSRF token) is kept in the graph (``cmdb.graph.sessions``), so a
restart keeps everyone signed in. Every request re-checks the token, so revoking an API
token also ends the sessions opened with it.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from fastapi import Request

from cmdb.api.deps import PRINCIPAL_SOURCES, Principal
from cmdb.graph import Graph
from cmdb.graph.sessions import WebSession, find_session

SESSION_COOKIE = "cmdb_session"
SIGNIN_COOKIE = "cmdb_signin"  # double-submit CSRF token of the sign-in form (no session yet)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def current_session(request: Request) -> WebSession | None:
    """The request's live session, looked up once per request."""
    cached = request.scope.get("cmdb.web_session", False)
    if cached is not False:
        return cached
    session = find_session(request.app.state.graph, request.cookies.get(SESSION_COOKIE))
    request.scope["cmdb.web_session"] = session
    return session


def csrf_ok(session: WebSession | None, supplied: str | None) -> bool:
    return bool(session and supplied and hmac.compare_digest(session.csrf.encode(), supplied.encode()))


def session_principal(request: Request, graph: Graph) -> Principal | None:
    """The pages' principal source: the session cookie.

    Under /api/ the cookie counts only for reads (the impact picture in an <img>) or with
    the session's CSRF token in a header, so a cross-site form cannot write through the API.
    """
    session = current_session(request)
    if session is None:
        return None
    if request.url.path.startswith("/api/") and request.method not in SAFE_METHODS:
        if not csrf_ok(session, request.headers.get(CSRF_HEADER)):
            return None
    return Principal(session.name, session.role, session.scope)


if session_principal not in PRINCIPAL_SOURCES:
    PRINCIPAL_SOURCES.append(session_principal)


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to after signing in; anything else becomes ``default``."""
    if not target or len(target) > 2000 or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7f for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
