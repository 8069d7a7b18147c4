"""Who is calling: the one sign-in check under both the API and the pages.

A caller signs in with an API token (``Authorization: Bearer …``) or, on the pages, with a
session cookie opened from a token (``cmdb.graph.sessions``); either way it becomes a
``Principal`` (``cmdb.policy.Caller``) and the role an endpoint needs is checked here.

A session is a random id in an HttpOnly, SameSite=Lax cookie; what it means (the token it
was opened with, its CSRF token) is kept in the graph, so a restart keeps everyone signed
in. Every request re-checks the token, so revoking an API token also ends the sessions
opened with it.
"""

from __future__ import annotations

import hmac
import threading
import time
from typing import Annotated, Callable

from fastapi import Depends, Request

from cmdb.errors import Forbidden, Unauthenticated
from cmdb.graph import Graph
from cmdb.graph.sessions import WebSession, find_session
from cmdb.graph.tokens import ROLES, TokenInfo, authenticate, hash_token
from cmdb.i18n import _
from cmdb.policy import Caller, roles_for
from cmdb.settings import Settings

SESSION_COOKIE = "cmdb_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The authenticated caller: name, role and location scope (``cmdb.policy`` decides what it may do).
Principal = Caller


# Dependencies that only look things up are ``async``: FastAPI runs a plain ``def`` dependency
# in its thread pool, a hop that costs more than the lookup itself on every request.
async def get_graph(request: Request) -> Graph:
    return request.app.state.graph


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


GraphDep = Annotated[Graph, Depends(get_graph)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]

def bearer_principal(request: Request, graph: Graph) -> Principal | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(_("The Authorization header must be 'Bearer <token>'"))
    info = _authenticate_cached(graph, token.strip())
    if info is None:
        raise Unauthenticated(_("The token is unknown or revoked; ask an admin for a new one "
                                "(`cmdb token create`)"))
    return Principal(info.name, info.role, info.scope)


# Every API call is authenticated; remembering a valid token briefly saves a graph round trip
# per request. A revoked token (`cmdb token revoke`, possibly from another process) is
# refused at the latest this many seconds later. Unknown tokens are never remembered.
TOKEN_CACHE_SECONDS = 5.0
TOKEN_CACHE_MAX = 1000
_token_cache: dict[tuple[int, str], tuple[float, TokenInfo]] = {}
_token_cache_lock = threading.Lock()


def _authenticate_cached(graph: Graph, token: str) -> TokenInfo | None:
    key = (id(graph), hash_token(token))
    now = time.monotonic()
    with _token_cache_lock:
        hit = _token_cache.get(key)
    if hit is not None and now - hit[0] < TOKEN_CACHE_SECONDS:
        return hit[1]
    info = authenticate(graph, token)
    with _token_cache_lock:
        if info is None:
            _token_cache.pop(key, None)
        else:
            if len(_token_cache) >= TOKEN_CACHE_MAX:
                _token_cache.clear()
            _token_cache[key] = (now, info)
    return info


def forget_cached_tokens() -> None:
    """Drop remembered tokens (after revoking one in this process, and in tests)."""
    with _token_cache_lock:
        _token_cache.clear()


def current_principal(request: Request, graph: GraphDep) -> Principal:
    """The caller: a bearer token, else the pages' session cookie."""
    principal = bearer_principal(request, graph) or session_principal(request, graph)
    if principal is not None:
        return principal
    raise Unauthenticated(_("Sign in: send 'Authorization: Bearer <token>' "
                            "(create tokens with `cmdb token create`)"))


CurrentUser = Annotated[Principal, Depends(current_principal)]


def allow(*roles: str) -> Callable[..., Principal]:
    """A dependency admitting callers whose role is one of ``roles`` (admin always is).

    ``allow("viewer")`` admits every role: all roles may read. The allowed roles are kept on
    the dependency so a test can check that every endpoint declares one.
    """
    unknown = set(roles) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    admitted = frozenset(ROLES) if "viewer" in roles else frozenset(roles) | {"admin"}

    async def check(principal: CurrentUser) -> Principal:
        if principal.role not in admitted:
            raise Forbidden(_("The role %(role)s may not do this; it needs one of: %(allowed)s",
                              role=repr(principal.role), allowed=", ".join(sorted(admitted))),
                            {"role": principal.role, "allowed_roles": sorted(admitted)})
        return principal

    check.allowed_roles = admitted  # type: ignore[attr-defined]
    return check


async def public() -> None:
    """Marks an endpoint that needs no sign-in (health, version, sign-in page)."""


public.allowed_roles = None  # type: ignore[attr-defined]

def allowed_to(action: str) -> Callable[..., Principal]:
    """The role check of one of the policy's actions (``cmdb.policy.ACTIONS``)."""
    return allow(*roles_for(action))


Viewer = Annotated[Principal, Depends(allowed_to("read"))]
Reviewer = Annotated[Principal, Depends(allowed_to("impact"))]
Auditor = Annotated[Principal, Depends(allowed_to("audit"))]
Scanner = Annotated[Principal, Depends(allowed_to("scan"))]
Admin = Annotated[Principal, Depends(allow("admin"))]

Importer = Annotated[Principal, Depends(allowed_to("import"))]
Registrar = Annotated[Principal, Depends(allowed_to("ci.create"))]
CIEditor = Annotated[Principal, Depends(allowed_to("ci.update"))]
RelationshipEditor = Annotated[Principal, Depends(allowed_to("relationship.change"))]
LabelPrinter = Annotated[Principal, Depends(allowed_to("labels"))]
ContractManager = Annotated[Principal, Depends(allowed_to("contract.manage"))]
RepairStaff = Annotated[Principal, Depends(allowed_to("repair"))]
SpareStaff = Annotated[Principal, Depends(allowed_to("spare"))]


# --- the pages' session cookie ------------------------------------------------------------

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
