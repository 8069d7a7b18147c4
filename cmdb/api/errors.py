"""Domain errors to HTTP responses, in one place.

Every error is ``{"error": {"code", "message", "details"}}`` with a message a person can act
on. Nothing reaches a client as a stack trace.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from neo4j.exceptions import ConstraintError, DriverError, Neo4jError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cmdb import errors as e
from cmdb.api.models import describe_pattern
from cmdb.api.openapi import allowed_methods
from cmdb.graph.faults import ENGINE_RETRY_AFTER, EngineFacts, classify
from cmdb.graph.schema import KINDS
from cmdb.i18n import N_, _, ngettext, use_language
from cmdb.i18n.asgi import request_language

log = logging.getLogger(__name__)


# What a client is told when the engine fails; where it runs (data directory, Bolt URI) and
# the driver's words go to the server log only.
ENGINE_UNAVAILABLE = N_("The graph engine is unreachable or refused the operation; nothing was "
                        "changed. Try again shortly; the server log has the details.")


class PreconditionFailed(e.VersionConflict):
    pass


STATUS_BY_ERROR: list[tuple[type[e.CMDBError], int]] = [
    (e.Unauthenticated, 401),
    (e.PermissionDenied, 403),
    (e.UnknownReference, 409),
    (e.UnknownKey, 404),
    (e.NotFound, 404),
    (e.DuplicateKey, 409),
    # Well-formed requests the register's current state refuses (a CI's kind, a cycle, its
    # text): 409, so 422 always means the request itself breaks the OpenAPI document.
    (e.ForbiddenRelationship, 409),
    (e.WrongKind, 409),
    (e.Unprintable, 409),
    (e.StillNeeded, 409),
    (e.Conflict, 409),
    (e.VersionConflict, 412),
    (e.TooLarge, 413),
    (e.InvalidInput, 422),
    (e.DiskFull, 507),
    (e.EngineOutOfMemory, 503),
    (e.RegisterLocked, 503),
    (e.EngineUnavailable, 503),
]


def status_for(exc: e.CMDBError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return status
    return 400


def error_response(status: int, code: str, message: str, details=None, headers=None) -> JSONResponse:
    """The error body; ``code`` is for programs and stays, ``message`` is in the request's language."""
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(_printable(body), status_code=status, headers=headers)


def fault_response(request: Request, exc: e.CMDBError) -> JSONResponse:
    """A fault of the engine or its disk: the operator's words (folders, addresses) go to the
    server log; the client gets the public sentence, and ``Retry-After`` when trying again
    later may help."""
    log.warning("%s on %s %s: %s (%s)", exc.code, request.method, request.url.path, exc.message,
                exc.__cause__ or "no further detail")
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(exc, (e.EngineUnavailable, e.RegisterLocked)):
        retry_after = retry_after or ENGINE_RETRY_AFTER
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    message = exc.public_message or _(ENGINE_UNAVAILABLE)
    return error_response(status_for(exc), exc.code, message, exc.public_details, headers)


def _printable(value):
    """Echoed input may hold text that is not valid UTF-8 (lone surrogates): replace it, so
    the error itself can always be sent."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_printable(str(k)): _printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_printable(v) for v in value]
    if isinstance(value, (int, float, bool, type(None))):
        return value
    return _printable(str(value))


def _readable(err: dict) -> str | None:
    """A sentence for the checks whose own message shows a regular expression or internals."""
    if err.get("type") == "string_pattern_mismatch":
        return describe_pattern(str((err.get("ctx") or {}).get("pattern", "")))
    if err.get("type") == "string_unicode":
        return _("text contains an unpaired surrogate (\\ud800-\\udfff); send valid UTF-8 text")
    return None


def _choices(expected: str) -> str:
    """Pydantic's "'a', 'b' or 'c'" in the reader's language (the values stay as sent)."""
    values = re.findall(r"'(?:[^'\\]|\\.)*'|\S+", expected.replace(" or ", ", "))
    values = [v.rstrip(",") for v in values if v.rstrip(",")]
    if len(values) < 2:
        return expected
    return _("%(items)s or %(last)s", items=", ".join(values[:-1]), last=values[-1])


def _translated(err: dict) -> str | None:
    """Pydantic's own sentence for a check, in the reader's language (English: pydantic's
    words); None for a check without a sentence here (pydantic's is kept)."""
    kind = err.get("type")
    ctx = err.get("ctx") or {}
    if kind == "value_error" and ctx.get("error") is not None:
        return str(ctx["error"])  # our validators' own messages, already translated
    if kind in ("literal_error", "enum") and "expected" in ctx:
        return _("Input should be %(expected)s", expected=_choices(str(ctx["expected"])))
    bounds = {"greater_than_equal": ("ge", N_("Input should be greater than or equal to %(limit)s")),
              "greater_than": ("gt", N_("Input should be greater than %(limit)s")),
              "less_than_equal": ("le", N_("Input should be less than or equal to %(limit)s")),
              "less_than": ("lt", N_("Input should be less than %(limit)s")),
              "multiple_of": ("multiple_of", N_("Input should be a multiple of %(limit)s"))}
    if kind in bounds and bounds[kind][0] in ctx:
        name, message = bounds[kind]
        return _(message, limit=ctx[name])
    if kind == "string_too_short" and isinstance(ctx.get("min_length"), int):
        return ngettext("String should have at least %(num)s character",
                        "String should have at least %(num)s characters", ctx["min_length"])
    if kind == "string_too_long" and isinstance(ctx.get("max_length"), int):
        return ngettext("String should have at most %(num)s character",
                        "String should have at most %(num)s characters", ctx["max_length"])
    if kind == "too_short" and isinstance(ctx.get("min_length"), int) and ctx.get("field_type") == "List":
        return ngettext("List should have at least %(num)s item after validation, not %(actual)s",
                        "List should have at least %(num)s items after validation, not %(actual)s",
                        ctx["min_length"], actual=ctx.get("actual_length"))
    if kind == "too_long" and isinstance(ctx.get("max_length"), int) and ctx.get("field_type") == "List":
        return ngettext("List should have at most %(num)s item after validation, not %(actual)s",
                        "List should have at most %(num)s items after validation, not %(actual)s",
                        ctx["max_length"], actual=ctx.get("actual_length"))
    if kind == "union_tag_invalid" and "tag" in ctx:
        return _("Input tag %(tag)s found using %(discriminator)s does not match any of the "
                 "expected tags: %(expected)s", tag=repr(ctx["tag"]),
                 discriminator=ctx.get("discriminator"), expected=ctx.get("expected_tags"))
    if kind == "union_tag_not_found" and "discriminator" in ctx:
        return _("Unable to extract tag using discriminator %(discriminator)s",
                 discriminator=ctx["discriminator"])
    fixed = _FIXED.get(kind)
    return _(fixed) if fixed else None


# Pydantic's sentences that name no value of the check.
_FIXED = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "float_type": N_("Input should be a valid number"),
    "float_parsing": N_("Input should be a valid number, unable to parse string as a number"),
    "finite_number": N_("Input should be a finite number"),
    "string_type": N_("Input should be a valid string"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "list_type": N_("Input should be a valid list"),
    "dict_type": N_("Input should be a valid dictionary"),
    "model_type": N_("Input should be a valid dictionary or instance of the model"),
    "model_attributes_type": N_("Input should be a valid dictionary or object to extract "
                                "fields from"),
    "json_invalid": N_("JSON decode error"),
    "json_type": N_("JSON input should be string, bytes or bytearray"),
    "date_type": N_("Input should be a valid date"),
    "datetime_type": N_("Input should be a valid datetime"),
}


def _describe_validation(errors: list[dict]) -> tuple[str, list[dict]]:
    details = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        if len(loc) > 1 and loc[0] in KINDS:  # the tag of the per-kind body a CI is created with
            loc = loc[1:]
        value = err.get("input")
        if isinstance(value, (bytes, bytearray)):
            value = value[:200].decode("utf-8", "replace")
        elif not isinstance(value, (str, int, float, bool, type(None))):
            value = None
        elif isinstance(value, str) and len(value) > 200:
            value = value[:200] + "…"
        detail = {"field": ".".join(loc), "message": _translated(err) or err.get("msg", "invalid"),
                  "value": value}
        readable = _readable(err)
        if readable:
            detail["message"] = readable
            if isinstance(value, str):
                detail["message"] = _("%(value)s is not allowed: %(reason)s", value=repr(value),
                                      reason=readable)
        details.append(detail)
    first = details[0] if details else {"field": "", "message": _("invalid request")}
    where = f"{first['field']}: " if first["field"] else ""
    more = _(" (and %(n)s more problem(s))", n=len(details) - 1) if len(details) > 1 else ""
    problem = where + first["message"] + more
    return _("Invalid request — %(problem)s", problem=problem), details


def _recognised(request: Request, exc: Exception) -> e.CMDBError:
    """A driver error that reached the app outside the graph layer's own handling."""
    graph = getattr(request.app.state, "graph", None)
    engine = getattr(graph, "engine", None) or EngineFacts("the graph engine")
    log.warning("graph engine error on %s %s: %s", request.method, request.url.path, exc)
    return classify(exc, engine) or e.EngineUnavailable(str(exc), retry_after=ENGINE_RETRY_AFTER)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(e.CMDBError)
    async def domain_error(request: Request, exc: e.CMDBError):
        if isinstance(exc, (e.EngineUnavailable, e.DiskFull, e.EngineOutOfMemory, e.RegisterLocked)):
            return fault_response(request, exc)
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, e.Unauthenticated) else None
        return error_response(status_for(exc), exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        message, details = _describe_validation(exc.errors())
        return error_response(422, "invalid_input", message, details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 405:
            # One route object per method: Starlette's Allow names only the first route's.

            methods = allowed_methods(request.app, request.url.path)
            if methods is None:  # a page: Starlette's own answer
                return error_response(405, "method_not_allowed",
                                      _("%(method)s is not allowed here", method=request.method),
                                      None, getattr(exc, "headers", None))
            allow = ", ".join(methods)
            if request.method == "OPTIONS":
                return Response(status_code=204, headers={"Allow": allow})
            return error_response(405, "method_not_allowed",
                                  _("%(method)s is not allowed here; allowed: %(allow)s",
                                    method=request.method, allow=allow),
                                  {"allowed_methods": allow.split(", ")}, {"Allow": allow})
        code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed",
                413: "too_large"}.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else _("request refused")
        if exc.status_code == 404 and message == "Not Found":
            message = _("No such endpoint: %(method)s %(path)s", method=request.method,
                        path=request.url.path)
        return error_response(exc.status_code, code, message, None, getattr(exc, "headers", None))

    @app.exception_handler(DriverError)
    async def engine_error(request: Request, exc: DriverError):
        return fault_response(request, _recognised(request, exc))

    @app.exception_handler(ConstraintError)
    async def constraint_error(request: Request, exc: ConstraintError):
        # A concurrent writer created the same key first.
        return error_response(409, "conflict", _("Someone else created or changed the same item "
                                                 "at the same moment; reload and try again"))

    @app.exception_handler(Neo4jError)
    async def engine_refused(request: Request, exc: Neo4jError):
        return fault_response(request, _recognised(request, exc))

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        # Answered outside the language middleware (by Starlette's outermost layer).
        with use_language(request_language(request.scope, request.app.state.settings.language)):
            message = _("Something went wrong on the server; nothing was changed. "
                        "The server log has the details.")
        return error_response(500, "internal_error", message)
