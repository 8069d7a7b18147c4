"""Sign in with an API token (the session cookie keeps a phone signed in), sign out."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cmdb.api.deps import GraphDep, SettingsDep, Viewer, public
from cmdb.graph.tokens import authenticate, hash_token
from cmdb.graph.web_sessions import MAX_AGE_SECONDS, close_session, open_session
from cmdb.web.forms import CheckedForm, CsrfRejected
from cmdb.web.render import PageRoute, redirect, render
from cmdb.web.security import CSRF_FIELD, SESSION_COOKIE, SIGNIN_COOKIE, safe_next

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)


def _signin_page(request: Request, secure: bool, next_path: str, error: str | None = None,
                 status: int = 200) -> Response:
    nonce = secrets.token_urlsafe(24)
    response = render(request, "signin.html", status=status, title="Sign in",
                      signin_token=nonce, next_path=next_path, error=error)
    response.set_cookie(SIGNIN_COOKIE, nonce, max_age=3600, path="/signin", httponly=True,
                        samesite="strict", secure=secure)
    return response


@router.get("/signin", dependencies=[Depends(public)])
def signin_page(request: Request, settings: SettingsDep, next: str = "/") -> Response:
    return _signin_page(request, settings.secure_cookies, safe_next(next))


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
    info = authenticate(graph, token) if token else None
    if info is None:
        message = ("Enter your API token." if not token else
                   "That token is unknown or revoked. Ask an admin for a new one "
                   "(cmdb token create).")
        return _signin_page(request, settings.secure_cookies, next_path, message, status=401)
    session_id, _ = open_session(graph, hash_token(token))
    response = redirect(next_path)
    response.set_cookie(SESSION_COOKIE, session_id, max_age=MAX_AGE_SECONDS, path="/",
                        httponly=True, samesite="lax", secure=settings.secure_cookies)
    response.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return response


@router.post("/signout")
def signout(request: Request, graph: GraphDep, user: Viewer, settings: SettingsDep,
            form: CheckedForm) -> Response:
    close_session(graph, request.cookies.get(SESSION_COOKIE))
    response = redirect("/signin")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=settings.secure_cookies)
    return response
