"""The FastAPI application: REST under /api/v1, OpenAPI at /docs, pages at /."""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from cmdb import __version__, policy
from cmdb.api.access_log import AccessLog
from cmdb.api.errors import ENGINE_UNAVAILABLE, error_response, install_error_handlers, status_for
from cmdb.api.models import error_responses
from cmdb.api.openapi import install_openapi, operation_id
from cmdb.api.routers import (
    audits, backup, baselines, cis, contracts, documents, faults, images, impact, imports,
    labels, relationships, repairs, service_levels, spares, system, vocabulary,
)
from cmdb.auth import current_principal
from cmdb.errors import CMDBError
from cmdb.graph import Graph
from cmdb.graph.engine import EmbeddedServer
from cmdb.graph.engine_supervisor import EngineWatch
from cmdb.graph.list_index import ListIndex
from cmdb.i18n import _
from cmdb.i18n.asgi import LanguageMiddleware
from cmdb.settings import Settings, get_settings
from cmdb.web.router import router as web_router

API_PREFIX = "/api/v1"
log = logging.getLogger(__name__)


def _routers():
    """Every router of the app. A new domain adds its router here."""
    return [
        (system.router, ""),
        (cis.router, API_PREFIX),
        (relationships.router, API_PREFIX),
        (impact.router, API_PREFIX),
        (audits.router, API_PREFIX),
        (imports.router, API_PREFIX),
        (backup.router, API_PREFIX),
        (labels.router, API_PREFIX),
        (vocabulary.router, API_PREFIX),
        (baselines.router, API_PREFIX),
        (images.router, API_PREFIX),
        (documents.router, API_PREFIX),
        (contracts.router, API_PREFIX),
        (repairs.router, API_PREFIX),
        (spares.router, API_PREFIX),
        (service_levels.router, API_PREFIX),
        (faults.router, API_PREFIX),
        (web_router, ""),
    ]


class BodySizeLimit:
    """Refuses request bodies over the limit with 413 before they are read into memory.

    Only upload routes take big bodies, and only from a caller who may use them: there the
    caller is authenticated and authorized before a byte of the body is read, so an anonymous
    50 MB upload is refused at once. Every other route takes at most ``default_limit``."""

    def __init__(self, app: ASGIApp, default_limit: int, upload_limit: int,
                 upload_routes: dict[str, str]):
        self.app = app
        self.default_limit = default_limit
        self.upload_limit = upload_limit
        self.upload_routes = upload_routes   # path -> the policy's action that may upload there

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.default_limit
        action = self.upload_routes.get(scope.get("path", "")) if scope.get("method") == "POST" else None
        if action is not None:
            refusal = await self._caller_refusal(scope, action)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            limit = self.upload_limit
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await self._refuse(scope, receive, send, limit)

    @staticmethod
    async def _caller_refusal(scope: Scope, action: str):
        """An error response when the caller is anonymous or may not upload here, else None."""
        request = Request(scope)
        try:
            principal = await run_in_threadpool(current_principal, request, request.app.state.graph)
            policy.require(principal, action)
        except CMDBError as exc:
            return error_response(status_for(exc), exc.code, exc.message, exc.details)
        except Exception:  # the engine is unreachable: same answer as the routes give
            log.exception("signing in an upload failed")
            return error_response(503, "engine_unavailable", _(ENGINE_UNAVAILABLE))
        return None

    @staticmethod
    async def _refuse(scope, receive, send, limit):
        response = error_response(413, "too_large",
                                  _("The request body is larger than the limit of %(limit)s bytes",
                                    limit=format(limit, ",")),
                                  {"limit_bytes": limit})
        await response(scope, receive, send)


class _BodyTooLarge(StarletteHTTPException):
    """Raised while a streamed body is read. An HTTPException, so FastAPI's body parsing passes
    it through as 413 instead of turning it into "error parsing the body" (400)."""

    def __init__(self, limit: int):
        super().__init__(413, _("The request body is larger than the limit of %(limit)s bytes",
                                limit=format(limit, ",")))


def _build_quietly(index: ListIndex) -> None:
    try:
        index.ensure_built()
    except Exception as exc:  # noqa: BLE001 - the first list builds it again and says why
        logging.getLogger(__name__).warning("the list index could not be read yet: %s", exc)


def create_app(settings: Settings | None = None, graph: Graph | None = None, *,
               worker: bool = False) -> FastAPI:
    """Build the app. With ``graph`` given the caller owns it; otherwise the app connects
    on start-up and, on shutdown, closes the connection and stops an embedded engine it hosts.

    ``worker``: one of ``cmdb serve``'s API worker processes. The engine runs in a process of
    its own that ``cmdb serve`` started (and bootstrapped the schema in); the worker watches it,
    answering 503 with ``Retry-After`` while it is restarted, and logs each request."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        owned = graph is None
        app.state.graph = graph or Graph.connect(settings, bootstrap=not worker)
        if worker and settings.embedded:
            app.state.graph.availability = EngineWatch(settings.register_dir).check
        indexed = app.state.graph.list_index is None
        if indexed:
            app.state.graph.list_index = ListIndex(app.state.graph.read_list, freeze=owned)
            if owned:
                # Read while the first requests are still on their way; a list that comes
                # first waits for it.
                threading.Thread(target=_build_quietly, args=(app.state.graph.list_index,),
                                 name="list-index", daemon=True).start()
        try:
            yield
        finally:
            if indexed:
                app.state.graph.list_index = None
            if owned:
                app.state.graph.close()
                # The engine lives in the JVM hosted by this process; it is stopped from the
                # main thread (uvicorn's), otherwise by the exit hook the engine registered.
                if threading.current_thread() is threading.main_thread():
                    EmbeddedServer.stop_all()

    app = FastAPI(title="CMDB", version=__version__, lifespan=lifespan,
                  generate_unique_id_function=operation_id,
                  description="Asset and configuration register as a graph: CIs, relationships, "
                              "impact analysis, labels, imports and inventory audits. "
                              "Authenticate with `Authorization: Bearer <token>`.")
    app.state.settings = settings
    if graph is not None:
        app.state.graph = graph
    install_error_handlers(app)

    # Every /api/v1 operation can answer with these (sign-in, roles, limits, unknown keys,
    # versions, the engine); documenting them once keeps the OpenAPI truthful for clients.
    api_errors = error_responses(400, 401, 403, 404, 409, 412, 413, 422, 503, 507)
    for router, prefix in _routers():
        app.include_router(router, prefix=prefix,
                           responses=api_errors if prefix == API_PREFIX else None)
    install_openapi(app, settings)
    app.add_middleware(BodySizeLimit, default_limit=settings.max_body_bytes,
                       upload_limit=settings.max_upload_bytes,
                       upload_routes={f"{API_PREFIX}/imports": "import",
                                      f"{API_PREFIX}/documents/files": "document.change"})
    if worker:
        app.add_middleware(AccessLog)
    # Outermost: everything the request runs, refusals of the body limit too, speaks its language.
    app.add_middleware(LanguageMiddleware, default=settings.language)
    return app


def worker_app() -> FastAPI:
    """The app of one ``cmdb serve`` worker process (uvicorn's factory, settings from the
    environment ``cmdb serve`` passed on)."""
    return create_app(get_settings(), worker=True)
