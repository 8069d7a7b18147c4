"""``/language``: the language switcher under every page. The choice is kept in a cookie for
a year, so it holds before signing in, after signing out and across sessions; it wins over the
browser's ``Accept-Language``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cmdb.auth import SettingsDep, public
from cmdb.i18n.asgi import LANGUAGE_COOKIE
from cmdb.language_choice import parse_language
from cmdb.web.render import PageRoute, redirect
from cmdb.web.security import safe_next

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)

ONE_YEAR = 365 * 24 * 3600


@router.get("/language", dependencies=[Depends(public)])
def choose_language(request: Request, settings: SettingsDep, lang: str = "",
                    next: str = "/") -> Response:
    language = parse_language(lang[:20])
    response = redirect(safe_next(next))
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=ONE_YEAR, path="/", httponly=True,
                        samesite="lax", secure=settings.cookies_secure)
    return response
