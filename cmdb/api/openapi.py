"""The OpenAPI document: FastAPI's, generated from the request models the server validates
with, completed with what those models cannot carry themselves:

- bounds that come from the running server's settings (``max_page_size``, ``max_query_length``),
  so the document states the limits this server enforces;
- the bearer-token security scheme on every operation that needs a sign-in;
- multipart form fields without ``null`` (a form cannot send one: a field is there or not);
- ``links`` from the operations that create a CI, a relationship or an audit campaign to the
  operations that use what they return, so clients (and fuzzers) can follow them.

``allowed_methods`` answers ``OPTIONS`` and fills the ``Allow`` header of a 405.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from cmdb.settings import Settings

SETTING_BOUNDS = {"x-cmdb-maximum-setting": "maximum", "x-cmdb-max-length-setting": "maxLength"}
BEARER = "bearer"
API = "/api/v1"

_CI_KEY = {"key": "$response.body#/key"}
# operationId -> {link name: (target operationId, parameters, requestBody)}
LINKS: dict[str, dict[str, dict[str, Any]]] = {
    "create_ci": {
        "GetCI": {"operationId": "get_ci", "parameters": _CI_KEY},
        "PatchCI": {"operationId": "patch_ci", "parameters": _CI_KEY},
        "DeleteCI": {"operationId": "delete_ci", "parameters": _CI_KEY},
        "RelationshipsOfCI": {"operationId": "relationships_of", "parameters": _CI_KEY},
        "HistoryOfCI": {"operationId": "history_of", "parameters": _CI_KEY},
        "LabelPng": {"operationId": "label_png", "parameters": _CI_KEY},
        "LabelZpl": {"operationId": "label_zpl", "parameters": _CI_KEY},
        "ImpactOfCI": {"operationId": "impact", "requestBody": {"keys": ["$response.body#/key"]}},
        "ImpactPicture": {"operationId": "impact_graph", "parameters": {"keys": "$response.body#/key"}},
        "LinkFromCI": {"operationId": "link", "requestBody": {"from": "$response.body#/key"}},
        "LinkToCI": {"operationId": "link", "requestBody": {"to": "$response.body#/key"}},
        "HardwareChange": {"operationId": "hardware_change", "requestBody": {"key": "$response.body#/key"}},
        "ImageChange": {"operationId": "image_change", "requestBody": {"image": "$response.body#/key"}},
    },
    "link": {
        "UnlinkIt": {"operationId": "unlink", "requestBody": {
            "from": "$response.body#/from", "type": "$response.body#/type", "to": "$response.body#/to"}},
        "RelationshipsOfFrom": {"operationId": "relationships_of",
                                "parameters": {"key": "$response.body#/from"}},
        "ImpactOfTarget": {"operationId": "impact", "requestBody": {"keys": ["$response.body#/to"]}},
    },
    "start_audit": {  # audits live in their own register, so ids link only from here
        name: {"operationId": target, "parameters": {"audit_id": "$response.body#/id"}}
        for name, target in (("GetAudit", "get_audit"), ("CloseAudit", "close_audit"),
                             ("AddScan", "add_scan"), ("ListScans", "list_scans"),
                             ("Reconciliation", "reconciliation"), ("Report", "report"))
    },
    "add_contract": {
        name: {"operationId": target, "parameters": {"number": "$response.body#/number"}}
        for name, target in (("GetContract", "get_contract"), ("PatchContract", "patch_contract"),
                             ("CoverCIs", "cover"))
    },
    "open_repair": {
        **{name: {"operationId": target, "parameters": {"repair_id": "$response.body#/id"}}
           for name, target in (("GetRepair", "get_repair"), ("AddNote", "add_note"),
                                ("SendOut", "send_out"), ("RecordReturn", "record_return"),
                                ("CloseRepair", "close_repair"))},
        "IssueSpare": {"operationId": "issue_spare", "requestBody": {"repair": "$response.body#/id"}},
        "WarrantyOfUnit": {"operationId": "warranty_of", "parameters": {"key": "$response.body#/key"}},
    },
    "issue_spare": {
        name: {"operationId": target, "parameters": {"issue_id": "$response.body#/id"}}
        for name, target in (("GetIssue", "get_issue"), ("ReturnSpare", "return_spare"),
                             ("IssueSlip", "issue_slip"))
    },
}


def install_openapi(app: FastAPI, settings: Settings) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description,
                              routes=app.routes)
            complete(doc, app, settings)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def operation_id(route: APIRoute) -> str:
    """Operation ids are the endpoint functions' names: short, stable, unique in this app."""
    return route.name


def complete(doc: dict[str, Any], app: FastAPI, settings: Settings) -> None:
    for node in _walk(doc):
        for marker, keyword in SETTING_BOUNDS.items():
            if marker in node:
                node[keyword] = getattr(settings, node.pop(marker))
    _forms_without_null(doc)
    _json_first(doc)
    _files_are_binary(doc)
    _security(doc, app)
    _links(doc)


def _files_are_binary(doc: dict[str, Any]) -> None:
    """Answers that are files (PDF, PNG, ZPL, XLSX, SVG, a backup) are declared as such."""
    for path_item in doc["paths"].values():
        for operation in path_item.values():
            for code, response in operation["responses"].items():
                for media_type, content in response.get("content", {}).items():
                    if code.startswith("2") and media_type != "application/json" \
                            and not content.get("schema"):
                        textual = media_type.startswith("text/") or media_type == "image/svg+xml"
                        content["schema"] = {"type": "string"} if textual else \
                            {"type": "string", "format": "binary"}


def _json_first(doc: dict[str, Any]) -> None:
    """Where a response has several media types, JSON comes first (what clients parse)."""
    for path_item in doc["paths"].values():
        for operation in path_item.values():
            for response in operation["responses"].values():
                content = response.get("content")
                if content and "application/json" in content and len(content) > 1:
                    response["content"] = {"application/json": content.pop("application/json"), **content}


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in list(node.values()):
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _without_null(prop: dict[str, Any]) -> None:
    options = prop.get("anyOf")
    if options and {"type": "null"} in options:
        rest = [o for o in options if o != {"type": "null"}]
        del prop["anyOf"]
        if len(rest) == 1:
            prop.update(rest[0])
        else:
            prop["anyOf"] = rest
        if "default" in prop and prop["default"] is None:
            del prop["default"]


def _forms_without_null(doc: dict[str, Any]) -> None:
    """Form fields and headers are sent or not; neither can carry a JSON null."""
    schemas = doc.get("components", {}).get("schemas", {})
    for path_item in doc["paths"].values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "header":
                    _without_null(parameter["schema"])
            form = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data")
            if not form:
                continue
            ref = form["schema"].get("$ref", "")
            target = schemas.get(ref.rsplit("/", 1)[-1], form["schema"])
            for prop in target.get("properties", {}).values():
                _without_null(prop)


def _needs_sign_in(route: Any) -> bool:
    def roles(dependant) -> Iterator[Any]:
        for dep in dependant.dependencies:
            if hasattr(dep.call, "allowed_roles"):
                yield dep.call.allowed_roles
            yield from roles(dep)

    return any(r is not None for r in roles(route.dependant))


def _api_routes(app: FastAPI) -> Iterator[Any]:
    """The app's API routes with their routers' prefixes and dependencies applied."""
    from fastapi import routing

    if hasattr(routing, "iter_route_contexts"):
        for context in routing.iter_route_contexts(app.routes):
            if isinstance(context.original_route, APIRoute):
                yield context
    else:  # FastAPI before route contexts: included routes are copies
        yield from (r for r in app.routes if isinstance(r, APIRoute))


def _security(doc: dict[str, Any], app: FastAPI) -> None:
    doc.setdefault("components", {}).setdefault("securitySchemes", {})[BEARER] = {
        "type": "http", "scheme": "bearer",
        "description": "An API token (`cmdb token create`), sent as `Authorization: Bearer <token>`"}
    for route in _api_routes(app):
        if route.include_in_schema and _needs_sign_in(route):
            for method in route.methods:
                operation = doc["paths"].get(route.path_format, {}).get(method.lower())
                if operation is not None:
                    operation["security"] = [{BEARER: []}]


def _links(doc: dict[str, Any]) -> None:
    by_id = {op["operationId"]: op for item in doc["paths"].values() for op in item.values()}
    for source, links in LINKS.items():
        operation = by_id[source]
        success = next(code for code in operation["responses"] if code.startswith("2"))
        for name, link in links.items():
            assert link["operationId"] in by_id, f"link {name} names an unknown operation"
        operation["responses"][success]["links"] = links


def allowed_methods(app: FastAPI, path: str) -> list[str] | None:
    """Every method the document declares for the resource at ``path`` (RFC 9110's Allow),
    and OPTIONS; None for paths the document does not describe."""
    templates = getattr(app.state, "path_templates", None)
    if templates is None:
        templates = app.state.path_templates = [
            (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(p)) + "$"),
             [m.upper() for m in item]) for p, item in app.openapi()["paths"].items()]
    for regex, methods in templates:
        if regex.match(path):
            found = set(methods) | {"OPTIONS"}
            order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
            return sorted(found, key=lambda m: (order.index(m) if m in order else len(order), m))
    return None
