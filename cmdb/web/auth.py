"""Sign in with an API token (the session cookie keeps a phone signed in), sign out."""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cmdb.auth import SESSION_COOKIE, GraphDep, SettingsDep, Viewer, public
from cmdb.graph.sessions import MAX_AGE_SECONDS, close_session, open_session
from cmdb.graph.tokens import authenticate, hash_token
from cmdb.i18n import _
from cmdb.settings import Settings
from cmdb.web.forms import CheckedForm, CsrfRejected
from cmdb.web.render import PageRoute, redirect, render
from cmdb.web.security import CSRF_FIELD, SIGNIN_COOKIE, safe_next
from cmdb.web.throttle import FailureThrottle

log = logging.getLogger(__name__)
router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)


def _signin_page(request: Request, secure: bool, next_path: str, error: str | None = None,
                 status: int = 200, headers: dict[str, str] | None = None) -> Response:
    nonce = secrets.token_urlsafe(24)
    response = render(request, "signin.html", status=status, title=_("Sign in"),
                      signin_token=nonce, next_path=next_path, error=error)
    response.set_cookie(SIGNIN_COOKIE, nonce, max_age=3600, path="/signin", httponly=True,
                        samesite="strict", secure=secure)
    response.headers.update(headers or {})
    return response


def _throttle(request: Request, settings: Settings) -> FailureThrottle:
    state = request.app.state
    if getattr(state, "signin_throttle", None) is None:
        state.signin_throttle = FailureThrottle(settings.signin_failures_allowed,
                                                settings.signin_failure_window_seconds)
    return state.signin_throttle


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/signin", dependencies=[Depends(public)])
def signin_page(request: Request, settings: SettingsDep, next: str = "/") -> Response:
    return _signin_page(request, settings.cookies_secure, safe_next(next))


async def signin_form(request: Request) -> dict[str, str]:
    """The sign-in form, checked against its double-submit cookie (there is no session yet)."""
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and len(v) <= 2000}
    supplied = values.get(CSRF_FIELD, "")
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not supplied or not expected or not hmac.compare_digest(supplied.encode(), expected.encode()):
        raise CsrfRejected()
    return values


@router.post("/signin", dependencies=[Depends(public)])
def signin(request: Request, graph: GraphDep, settings: SettingsDep,
           form: Annotated[dict[str, str], Depends(signin_form)]) -> Response:
    next_path = safe_next(form.get("next"))
    token = form.get("token", "").strip()
    throttle, client = _throttle(request, settings), _client(request)
    wait = throttle.wait_seconds(client)
    if wait:
        log.warning("sign-in refused for %s: too many failed attempts, %d s to wait", client, wait)
        return _signin_page(request, settings.cookies_secure, next_path,
                            _("Too many failed sign-ins from your address. Try again in %(n)s "
                              "seconds.", n=wait), status=429, headers={"Retry-After": str(wait)})
    info = authenticate(graph, token) if token else None
    if info is None:
        if token:
            failures = throttle.failed(client)
            log.warning("sign-in failed from %s: unknown or revoked token (%d of %d allowed in "
                        "%d s)", client, failures, settings.signin_failures_allowed,
                        settings.signin_failure_window_seconds)
        message = (_("Enter your API token.") if not token else
                   _("That token is unknown or revoked. Ask an admin for a new one "
                     "(cmdb token create)."))
        return _signin_page(request, settings.cookies_secure, next_path, message, status=401)
    throttle.succeeded(client)
    session_id, _session = open_session(graph, hash_token(token), settings.max_sessions_per_token)
    response = redirect(next_path)
    response.set_cookie(SESSION_COOKIE, session_id, max_age=MAX_AGE_SECONDS, path="/",
                        httponly=True, samesite="lax", secure=settings.cookies_secure)
    response.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return response


@router.post("/signout")
def signout(request: Request, graph: GraphDep, user: Viewer, settings: SettingsDep,
            form: CheckedForm) -> Response:
    close_session(graph, request.cookies.get(SESSION_COOKIE))
    response = redirect("/signin")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=settings.cookies_secure)
    return response
