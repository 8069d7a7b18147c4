"""Sessions, CSRF tokens and page headers for the web pages.

A session is a random id in an HttpOnly, SameSite=Lax cookie; the server keeps what it
means (who signed in, the token's hash, the CSRF token) in memory. Restarting the server
signs everyone out. Every request re-checks the token's hash against the graph, so revoking
an API token also ends the sessions opened with it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from fastapi import Request

from cmdb.api.deps import PRINCIPAL_SOURCES, Principal
from cmdb.graph import Graph
from cmdb.graph.tokens import TOKEN_BY_HASH

SESSION_COOKIE = "cmdb_session"
SIGNIN_COOKIE = "cmdb_signin"  # double-submit CSRF token of the sign-in form (no session yet)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
IDLE_SECONDS = 24 * 3600
MAX_AGE_SECONDS = 14 * 24 * 3600
MAX_SESSIONS = 10_000
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


@dataclass
class Session:
    name: str
    role: str
    token_hash: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    created: float = field(default_factory=time.time)
    last_used: float = field(default_factory=time.time)

    def expired(self, now: float) -> bool:
        return now - self.last_used > IDLE_SECONDS or now - self.created > MAX_AGE_SECONDS


class SessionStore:
    """Sessions by the hash of their id (the id itself is only ever in the cookie)."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _hash(session_id: str) -> str:
        return hashlib.sha256(session_id.encode("utf-8")).hexdigest()

    def create(self, name: str, role: str, token_hash: str) -> tuple[str, Session]:
        session_id = secrets.token_urlsafe(32)
        session = Session(name, role, token_hash)
        with self._lock:
            self._prune()
            self._sessions[self._hash(session_id)] = session
        return session_id, session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id or len(session_id) > 100:
            return None
        now = time.time()
        with self._lock:
            key = self._hash(session_id)
            session = self._sessions.get(key)
            if session is None:
                return None
            if session.expired(now):
                del self._sessions[key]
                return None
            session.last_used = now
            return session

    def drop(self, session_id: str | None) -> None:
        if session_id:
            with self._lock:
                self._sessions.pop(self._hash(session_id), None)

    def _prune(self) -> None:
        now = time.time()
        for key in [k for k, s in self._sessions.items() if s.expired(now)]:
            del self._sessions[key]
        while len(self._sessions) >= MAX_SESSIONS:  # oldest first
            del self._sessions[next(iter(self._sessions))]


def session_store(request: Request) -> SessionStore:
    state = request.app.state
    store = getattr(state, "web_sessions", None)
    if store is None:
        store = state.web_sessions = SessionStore()
    return store


def current_session(request: Request) -> Session | None:
    cached = request.scope.get("cmdb.web_session", False)
    if cached is not False:
        return cached
    session = session_store(request).get(request.cookies.get(SESSION_COOKIE))
    request.scope["cmdb.web_session"] = session
    return session


def csrf_ok(session: Session | None, supplied: str | None) -> bool:
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
    rows = graph.read(TOKEN_BY_HASH, hash=session.token_hash)
    if not rows:  # the token was revoked: the session ends with it
        session_store(request).drop(request.cookies.get(SESSION_COOKIE))
        request.scope["cmdb.web_session"] = None
        return None
    return Principal(rows[0]["name"], rows[0]["role"])


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
