"""The language of an HTTP request: the page reader's choice (a cookie the pages' language
switcher sets, so it is sent by a browser only, also for the impact picture a page loads from
the API), else ``Accept-Language``, else the organisation's (``CMDB_LANGUAGE``), else English.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cmdb.i18n import ENGLISH, from_accept_language, html_lang, normalise_language, reset_language, set_language

LANGUAGE_COOKIE = "cmdb_language"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return value.decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    cookies = SimpleCookie()
    try:
        cookies.load(raw)
    except Exception:  # a malformed Cookie header: as if there were none
        return None
    morsel = cookies.get(name)
    return morsel.value if morsel else None


def request_language(scope: Scope, default: str | None = None) -> str:
    return (normalise_language(_cookie(scope, LANGUAGE_COOKIE))
            or from_accept_language(_header(scope, b"accept-language"))
            or normalise_language(default) or ENGLISH)


class LanguageMiddleware:
    """Sets the current language for everything a request runs, and says it in
    ``Content-Language``."""

    def __init__(self, app: ASGIApp, default: str | None = None):
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        language = request_language(scope, self.default)
        scope["cmdb.language"] = language

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                headers.append((b"content-language", html_lang(language).encode()))
                headers.append((b"vary", b"Accept-Language, Cookie"))
                message = {**message, "headers": headers}
            await send(message)

        token = set_language(language)
        try:
            await self.app(scope, receive, send_with_language)
        finally:
            reset_language(token)
