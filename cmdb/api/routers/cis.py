"""CIs: list, search, read, create, change, delete; their relationships and history.

A CI's ``revision`` is its version: responses carry it as ``ETag: "<revision>"`` and a PATCH
or DELETE sent with ``If-Match`` is refused with 412 when someone else changed the CI since.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Response
from pydantic import StringConstraints

from cmdb import policy
from cmdb.auth import Admin, CIEditor, GraphDep, Registrar, SettingsDep, Viewer
from cmdb.api.errors import PreconditionFailed
from cmdb.api.models import (
    COMMON_ERRORS, MAX_OFFSET, AnyProperties, CategoryQuery, CICreate, CIOut,
    AfterKey, CIPatch, DeleteResult, HistoryPage, ChangeEntry, KeyPath, KeyQuery, KindName, Limit, Offset,
    Page, RelationshipOfCI, Status, check_page, error_responses, property_values,
)
from cmdb.errors import InvalidInput, PermissionDenied, UnknownProperty, UnknownKey, UnknownReference, WrongKind
from cmdb.graph import CI, Graph
from cmdb.graph.schema import LINE_PATTERN, NONBLANK_LINE_PATTERN
from cmdb.settings import Settings
from cmdb.i18n import gettext

router = APIRouter(tags=["cis"], responses=COMMON_ERRORS)

IfMatch = Annotated[str | None, Header(
    alias="If-Match", max_length=200, examples=['"3"'],
    description='The ETag from your last read, e.g. "3"; the change is refused with 412 if the '
                "CI changed since, or if the value names no version of it (RFC 9110)")]
_TEXT_HELP = "Text contained in the key, name, serial or model (case-insensitive)"
_QUERY_LENGTH = {"x-cmdb-max-length-setting": "max_query_length"}
# Search text: one line (its length is bounded by max_query_length); blank filters nothing.
FilterText = Annotated[str, Query(pattern=LINE_PATTERN, json_schema_extra=_QUERY_LENGTH,
                                  description=_TEXT_HELP + "; blank: no filter")]
SearchText = Annotated[str, Query(min_length=1, pattern=NONBLANK_LINE_PATTERN,
                                  json_schema_extra=_QUERY_LENGTH, description=_TEXT_HELP)]
_ETAG = re.compile(r'\s*(?:W/)?"?([0-9]{1,15})"?\s*')


def key_in_path(key: str) -> str:
    """The key as one URL path segment (keys are never "." or "..", which clients collapse)."""
    return quote(key, safe="")


def etag(ci: CI) -> str:
    return f'"{ci.revision}"'


def expected_revision(if_match: str | None) -> int | None:
    """The revision an If-Match header names; ``None`` for no header or ``*``."""
    if if_match is None or if_match.strip() == "*":
        return None
    found = _ETAG.fullmatch(if_match)
    if not found:
        # Well-formed or not, it matches no version of the CI: the precondition fails (RFC 9110).
        raise PreconditionFailed(gettext("If-Match %(value)s matches no version of this CI; send the "
                                   "ETag of your last read, like \"3\"", value=repr(if_match)),
                                 {"field": "If-Match", "value": if_match[:100],
                                  "allowed": gettext('an ETag such as "3", or *')})
    return int(found.group(1))


def check_query(settings: Settings, name: str, text: str | None) -> str | None:
    if text is None:
        return None
    if len(text) > settings.max_query_length:
        raise InvalidInput(gettext("%(name)s is %(length)s characters long; at most %(max)s allowed",
                             name=name, length=len(text), max=settings.max_query_length),
                           field=name, value=text,
                           allowed=gettext("at most %(max)s characters", max=settings.max_query_length))
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidInput(gettext("%(name)s may not contain control characters", name=name),
                           field=name, value=text)
    return text.strip() or None


def _paged(graph: Graph, settings: Settings, *, offset: int, limit: int, page: int | None,
           **filters: Any) -> Page:
    check_page(settings, limit)
    if page is not None:
        # Pages count from offset; a page past the largest offset is past the end: empty.
        offset += (page - 1) * limit
        if offset > MAX_OFFSET:
            total = graph.list_cis(offset=0, limit=1, **filters).total
            return Page(items=[], total=total, offset=offset, limit=limit)
    result = graph.list_cis(offset=offset, limit=limit, **filters)
    end = result.offset + result.limit
    return Page(items=[CIOut.of(ci) for ci in result.items], total=result.total,
                offset=result.offset, limit=result.limit,
                next_after=result.items[-1].key if result.items and end < result.total else None)


PageNo = Annotated[int | None, Query(ge=1, le=MAX_OFFSET,
                                     description="1-based page number, counted from offset")]
FieldFilter = Annotated[str, StringConstraints(
    pattern=r"^[^=\x00-\x1f\x7f]{1,64}=[^\x00-\x1f\x7f]{0,2000}$")]
FieldFilters = Annotated[list[FieldFilter] | None, Query(
    max_length=20, description="A custom field's value, NAME=VALUE (repeatable; all must hold)",
    examples=[["rack_units=2"]])]


def field_filters(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    found: dict[str, str] = {}
    for pair in pairs:
        name, value = pair.split("=", 1)
        found[name.strip()] = value
    return found


@router.get("/cis", response_model=Page, summary="List CIs, filtered and paged",
            responses=error_responses(404))
def list_cis(graph: GraphDep, settings: SettingsDep, _: Viewer,
             kind: KindName | None = None,
             status: Status | None = None,
             category: CategoryQuery | None = None,
             location: KeyQuery | None = None,
             q: FilterText | None = None,
             field: FieldFilters = None,
             offset: Offset = 0, limit: Limit = 50, page: PageNo = None,
             after: AfterKey = None) -> Page:
    q = check_query(settings, "q", q)
    location = check_query(settings, "location", location)
    return _paged(graph, settings, offset=offset, limit=limit, page=page, kind=kind,
                  status=status, category=category, location=location, q=q,
                  fields=field_filters(field), after=after)


@router.get("/search", response_model=Page, summary="Find CIs by key, name, serial or model")
def search(graph: GraphDep, settings: SettingsDep, _: Viewer,
           q: SearchText, offset: Offset = 0, limit: Limit = 20, after: AfterKey = None) -> Page:
    text = check_query(settings, "q", q)
    if text is None:
        raise InvalidInput(gettext("q is empty; give some text to search for"), field="q", value=q)
    return _paged(graph, settings, offset=offset, limit=limit, page=None, q=text, after=after)


@router.post("/cis", response_model=CIOut, status_code=201, summary="Create a CI",
             responses=error_responses(409))
def create_ci(body: CICreate, graph: GraphDep, principal: Registrar, response: Response) -> CIOut:
    if principal.scope is not None:
        raise PermissionDenied(
            gettext("This token may change only CIs inside location %(scope)s, and a CI created here "
              "has no location yet; create it through an import with a location column "
              "(POST /api/v1/imports)", scope=repr(principal.scope)), {"scope": principal.scope})
    ci = graph.create_ci(body.kind, body.key, property_values(body.properties), actor=principal.actor)
    response.headers["ETag"] = etag(ci)
    response.headers["Location"] = f"/api/v1/cis/{key_in_path(ci.key)}"
    return CIOut.of(ci)


@router.get("/cis/{key}", response_model=CIOut, summary="Read one CI",
            responses=error_responses(404))
def get_ci(key: KeyPath, graph: GraphDep, _: Viewer, response: Response) -> CIOut:
    ci = graph.get_ci(key)
    response.headers["ETag"] = etag(ci)
    return CIOut.of(ci)


@router.patch("/cis/{key}", response_model=CIOut, summary="Change a CI's properties or location",
              responses=error_responses(404, 409, 412))
def patch_ci(key: KeyPath, body: CIPatch, graph: GraphDep, principal: CIEditor,
             response: Response, if_match: IfMatch = None) -> CIOut:
    properties = property_values(body.properties)
    policy.require_fields(principal, set(properties) | ({"location"} if body.location else set()))
    policy.require_in_scope(graph, principal, [key] + ([body.location] if body.location else []))
    try:
        ci = graph.update_ci(key, properties, location=body.location, actor=principal.actor,
                             expected_revision=expected_revision(if_match))
    except UnknownKey as exc:
        if body.location is not None and key not in exc.keys:
            raise UnknownReference(exc.keys, "location") from None
        raise
    except UnknownProperty as exc:
        if exc.field in AnyProperties.model_fields:
            # A property of another kind: the body is well-formed, the CI's kind refuses it.
            raise WrongKind(exc.message, field=exc.field, value=exc.value, allowed=exc.allowed) from None
        raise
    response.headers["ETag"] = etag(ci)
    return CIOut.of(ci)


@router.delete("/cis/{key}", response_model=DeleteResult, summary="Delete a CI",
               responses=error_responses(404, 409, 412))
def delete_ci(key: KeyPath, graph: GraphDep, principal: Admin, if_match: IfMatch = None,
              force: Annotated[bool, Query(description="Delete even while other CIs need it, "
                                                       "removing their relationships")] = False
              ) -> DeleteResult:
    removed = graph.delete_ci(key, actor=principal.actor, force=force,
                              expected_revision=expected_revision(if_match))
    return DeleteResult(key=key, removed_relationships=[RelationshipOfCI(**r) for r in removed])


@router.get("/cis/{key}/relationships", response_model=list[RelationshipOfCI],
            summary="What this CI needs (out) and what needs it (in)",
            responses=error_responses(404))
def relationships_of(key: KeyPath, graph: GraphDep, _: Viewer) -> list[RelationshipOfCI]:
    return [RelationshipOfCI(**r) for r in graph.relationships(key)]


@router.get("/cis/{key}/history", response_model=HistoryPage,
            summary="Who changed what and when, newest first (kept after a delete)",
            responses=error_responses(404))
def history_of(key: KeyPath, graph: GraphDep, settings: SettingsDep, _: Viewer,
               offset: Offset = 0, limit: Limit = 100) -> HistoryPage:
    check_page(settings, limit)
    entries, total = graph.history(key, offset=offset, limit=limit)
    if total == 0 and not graph.get_cis([key]):
        raise UnknownKey(key)
    return HistoryPage(items=[ChangeEntry.of(e) for e in entries], total=total,
                       offset=offset, limit=limit)
