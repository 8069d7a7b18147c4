"""Rendering pages: Jinja2 templates with autoescaping, security headers, error pages.

``PageRoute`` turns the errors the shared role checks raise into what a person with a
browser needs: signed out -> the sign-in page (and back afterwards), wrong role or unknown
key -> a readable page, never a JSON body or a stack trace.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from neo4j.exceptions import DriverError, Neo4jError

from cmdb import i18n
from cmdb.auth import current_session
from cmdb.documents.markdown import render as render_markdown
from cmdb.errors import (
    CMDBError, DiskFull, EngineOutOfMemory, EngineUnavailable, InvalidInput, NotFound,
    PermissionDenied, RegisterLocked, Unauthenticated, UnknownKey,
)
from cmdb.graph.faults import ENGINE_RETRY_AFTER, EngineFacts, classify
from cmdb.graph.schema import DATE, DATETIME, KINDS
from cmdb.i18n import _, formats, names
from cmdb.web.security import PAGE_HEADERS, safe_next

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
TEMPLATES = Environment(
    loader=FileSystemLoader(str(HERE / "templates")),
    autoescape=select_autoescape(["html", "svg"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
# The current request's language (set by the language middleware) at each call.
TEMPLATES.install_gettext_callables(i18n.translate, i18n.translate_plural, newstyle=True,
                                    pgettext=i18n.translate_in_context,
                                    npgettext=i18n.translate_plural_in_context)
TEMPLATES.globals.update(
    status_name=names.status_name, campaign_status_name=names.campaign_status_name,
    kind_name=names.kind_name, category_name=names.category_name,
    location_type_name=names.location_type_name, criticality_name=names.criticality_name,
    relationship_name=names.relationship_name, finding_name=names.finding_name,
    impact_state_name=names.impact_state_name, property_label=names.property_label,
    value_text=names.value_text, format_date=formats.format_date,
    history_action_name=names.history_action_name,
    # Properties shown as dates, and as moments (in UTC), in the locale's form.
    date_props=frozenset(p.name for k in KINDS.values() for p in k.properties if p.type == DATE),
    time_props=frozenset(p.name for k in KINDS.values() for p in k.properties if p.type == DATETIME),
    current_language=i18n.current_language, html_lang=i18n.html_lang,
    LANGUAGE_NAMES=i18n.LANGUAGE_NAMES,
)


def _percent(value: float | int | None) -> str:
    if value is None:
        return "–"
    return f"{float(value):.0f}%" if float(value) in (0.0, 100.0) else f"{float(value):.1f}%"


TEMPLATES.filters["percent"] = _percent
TEMPLATES.filters["when"] = formats.format_datetime   # timestamps: '2026年11月29日 04:30 UTC'
TEMPLATES.filters["date"] = formats.format_date        # dates: '2027年4月30日'
TEMPLATES.filters["urlpart"] = lambda v: quote(str(v), safe="")
TEMPLATES.filters["markdown"] = render_markdown


def render(request: Request, template: str, status: int = 200, user: Any = None,
           **context: Any) -> HTMLResponse:
    """A page; ``user`` is the signed-in principal (for the header), if any."""
    session = current_session(request)
    principal = user if user is not None else request.scope.get("cmdb.web_principal")
    html = TEMPLATES.get_template(template).render(
        request_path=request.url.path, request_query=request.url.query, session=session, principal=principal,
        csrf_token=session.csrf if session else "", **context)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html", status=status, title=title, message=message)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


def sign_in_redirect(request: Request) -> RedirectResponse:
    if request.method == "GET":
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:  # a form posted from a page: go back to that page
        referer = urlsplit(request.headers.get("referer", ""))
        same_host = referer.netloc == request.url.netloc
        back = (referer.path + (f"?{referer.query}" if referer.query else "")) if same_host else "/"
    return redirect("/signin?next=" + quote(safe_next(back), safe=""))


class PageRoute(APIRoute):
    """A route serving HTML: domain errors become pages, signed-out users go to sign-in."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Unauthenticated:
                return sign_in_redirect(request)
            except PermissionDenied as exc:
                return error_page(request, 403, _("Not allowed"), exc.message)
            except (UnknownKey, NotFound) as exc:
                return error_page(request, 404, _("Not found"), exc.message)
            except InvalidInput as exc:
                return error_page(request, 422, _("Check what you entered"), exc.message)
            except FAULTS as exc:
                return fault_page(request, exc)
            except CMDBError as exc:
                return error_page(request, 400, _("That did not work"), exc.message)
            except (Neo4jError, DriverError) as exc:
                graph = getattr(request.app.state, "graph", None)
                engine = getattr(graph, "engine", None) or EngineFacts(_("the graph engine"))
                fault = classify(exc, engine) or EngineUnavailable(str(exc))
                return fault_page(request, fault)
        return page_handler


FAULTS = (DiskFull, EngineOutOfMemory, EngineUnavailable, RegisterLocked)


def fault_page(request: Request, exc: CMDBError) -> HTMLResponse:
    """The engine or its disk failed: the public sentence (the operator's is in the log)."""
    log.warning("%s on %s %s: %s (%s)", exc.code, request.method, request.url.path, exc.message,
                exc.__cause__ or "no further detail")
    page = error_page(request, 507 if isinstance(exc, DiskFull) else 503,
                      _("The register cannot do that right now"),
                      exc.public_message or _("The graph engine is unreachable or refused the "
                                              "operation; nothing was changed. Try again shortly."))
    if isinstance(exc, (EngineUnavailable, RegisterLocked)):
        page.headers["Retry-After"] = str(getattr(exc, "retry_after", None) or ENGINE_RETRY_AFTER)
    return page


class JsonRoute(APIRoute):
    """A JSON endpoint for the pages' scripts: errors as the API's error body."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def json_handler(request: Request) -> Response:
            response = await handler(request)
            for name, value in PAGE_HEADERS.items():
                response.headers.setdefault(name, value)
            return response
        return json_handler


