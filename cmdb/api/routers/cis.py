"""CIs: list, search, read, create, change, delete; their relationships and history.

A CI's ``revision`` is its version: responses carry it as ``ETag: "<revision>"`` and a PATCH
or DELETE sent with ``If-Match`` is refused with 412 when someone else changed the CI since.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Response

from cmdb import policy
from cmdb.api.deps import Admin, CIEditor, GraphDep, Registrar, SettingsDep, Viewer
from cmdb.api.errors import PreconditionFailed
from cmdb.api.models import (
    COMMON_ERRORS, CICreate, CIOut, CIPatch, DeleteResult, HistoryPage, ChangeEntry, KindName,
    Page, RelationshipOfCI, error_responses,
)
from cmdb.errors import InvalidInput, PermissionDenied, UnknownKey
from cmdb.graph import CI, Graph
from cmdb.graph.schema import HARDWARE_CATEGORIES, HARDWARE_STATUSES
from cmdb.settings import Settings

router = APIRouter(tags=["cis"], responses=COMMON_ERRORS)

MAX_OFFSET = 10_000_000

Status = Literal[tuple(HARDWARE_STATUSES)]  # type: ignore[valid-type]
Category = Literal[tuple(HARDWARE_CATEGORIES)]  # type: ignore[valid-type]
IfMatch = Annotated[str | None, Header(
    alias="If-Match", description='The ETag from your last read, e.g. "3"; '
                                  "the change is refused with 412 if the CI changed since")]
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
        raise PreconditionFailed(f"If-Match {if_match!r} matches no version of this CI; send the "
                                 "ETag of your last read, like \"3\"",
                                 {"field": "If-Match", "value": if_match[:100],
                                  "allowed": 'an ETag such as "3", or *'})
    return int(found.group(1))


def check_page(settings: Settings, limit: int) -> None:
    if limit > settings.max_page_size:
        raise InvalidInput(f"limit {limit} is larger than the maximum page size "
                           f"{settings.max_page_size}; fetch further pages with offset",
                           field="limit", value=limit, allowed=f"1 to {settings.max_page_size}")


def check_query(settings: Settings, name: str, text: str | None) -> str | None:
    if text is None:
        return None
    if len(text) > settings.max_query_length:
        raise InvalidInput(f"{name} is {len(text)} characters long; at most "
                           f"{settings.max_query_length} allowed", field=name, value=text,
                           allowed=f"at most {settings.max_query_length} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidInput(f"{name} may not contain control characters", field=name, value=text)
    return text.strip() or None


def _paged(graph: Graph, settings: Settings, *, offset: int, limit: int, page: int | None,
           **filters: Any) -> Page:
    check_page(settings, limit)
    if page is not None:
        if offset:
            raise InvalidInput("Give either page or offset, not both", field="page", value=page)
        offset = (page - 1) * limit
        if offset > MAX_OFFSET:
            raise InvalidInput(f"page {page} is beyond the largest offset {MAX_OFFSET:,}",
                               field="page", value=page)
    result = graph.list_cis(offset=offset, limit=limit, **filters)
    return Page(items=[CIOut.of(ci) for ci in result.items], total=result.total,
                offset=result.offset, limit=result.limit)


Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many matches to skip")]
Limit = Annotated[int, Query(ge=1, description="Page size (at most the server's max_page_size, "
                                               "500 by default)")]
PageNo = Annotated[int | None, Query(ge=1, le=MAX_OFFSET,
                                     description="1-based page number (instead of offset)")]


@router.get("/cis", response_model=Page, summary="List CIs, filtered and paged",
            responses=error_responses(404))
def list_cis(graph: GraphDep, settings: SettingsDep, _: Viewer,
             kind: KindName | None = None,
             status: Status | None = None,
             category: Category | None = None,
             location: Annotated[str | None, Query(
                 max_length=256, description="Key of a Location: only CIs inside it, at any depth")] = None,
             q: Annotated[str | None, Query(
                 description="Text contained in the key, name, serial or model (case-insensitive)")] = None,
             offset: Offset = 0, limit: Limit = 50, page: PageNo = None) -> Page:
    q = check_query(settings, "q", q)
    location = check_query(settings, "location", location)
    return _paged(graph, settings, offset=offset, limit=limit, page=page, kind=kind,
                  status=status, category=category, location=location, q=q)


@router.get("/search", response_model=Page, summary="Find CIs by key, name, serial or model")
def search(graph: GraphDep, settings: SettingsDep, _: Viewer,
           q: Annotated[str, Query(min_length=1, description="Text to look for (case-insensitive)")],
           offset: Offset = 0, limit: Annotated[int, Query(ge=1)] = 20) -> Page:
    text = check_query(settings, "q", q)
    if text is None:
        raise InvalidInput("q is empty; give some text to search for", field="q", value=q)
    return _paged(graph, settings, offset=offset, limit=limit, page=None, q=text)


@router.post("/cis", response_model=CIOut, status_code=201, summary="Create a CI",
             responses=error_responses(409))
def create_ci(body: CICreate, graph: GraphDep, principal: Registrar, response: Response) -> CIOut:
    if principal.scope is not None:
        raise PermissionDenied(
            f"This token may change only CIs inside location {principal.scope!r}, and a CI "
            "created here has no location yet; create it through an import with a location "
            "column (POST /api/v1/imports)", {"scope": principal.scope})
    ci = graph.create_ci(body.kind, body.key, body.properties, actor=principal.actor)
    response.headers["ETag"] = etag(ci)
    response.headers["Location"] = f"/api/v1/cis/{key_in_path(ci.key)}"
    return CIOut.of(ci)


@router.get("/cis/{key}", response_model=CIOut, summary="Read one CI",
            responses=error_responses(404))
def get_ci(key: str, graph: GraphDep, _: Viewer, response: Response) -> CIOut:
    ci = graph.get_ci(key)
    response.headers["ETag"] = etag(ci)
    return CIOut.of(ci)


@router.patch("/cis/{key}", response_model=CIOut, summary="Change a CI's properties or location",
              responses=error_responses(404, 409, 412))
def patch_ci(key: str, body: CIPatch, graph: GraphDep, principal: CIEditor,
             response: Response, if_match: IfMatch = None) -> CIOut:
    policy.require_fields(principal, set(body.properties) | ({"location"} if body.location else set()))
    policy.require_in_scope(graph, principal, [key] + ([body.location] if body.location else []))
    ci = graph.update_ci(key, body.properties, location=body.location, actor=principal.actor,
                         expected_revision=expected_revision(if_match))
    response.headers["ETag"] = etag(ci)
    return CIOut.of(ci)


@router.delete("/cis/{key}", response_model=DeleteResult, summary="Delete a CI",
               responses=error_responses(404, 409, 412))
def delete_ci(key: str, graph: GraphDep, principal: Admin, if_match: IfMatch = None,
              force: Annotated[bool, Query(description="Delete even while other CIs need it, "
                                                       "removing their relationships")] = False
              ) -> DeleteResult:
    removed = graph.delete_ci(key, actor=principal.actor, force=force,
                              expected_revision=expected_revision(if_match))
    return DeleteResult(key=key, removed_relationships=[RelationshipOfCI(**r) for r in removed])


@router.get("/cis/{key}/relationships", response_model=list[RelationshipOfCI],
            summary="What this CI needs (out) and what needs it (in)",
            responses=error_responses(404))
def relationships_of(key: str, graph: GraphDep, _: Viewer) -> list[RelationshipOfCI]:
    return [RelationshipOfCI(**r) for r in graph.relationships(key)]


@router.get("/cis/{key}/history", response_model=HistoryPage,
            summary="Who changed what and when, newest first (kept after a delete)",
            responses=error_responses(404))
def history_of(key: str, graph: GraphDep, settings: SettingsDep, _: Viewer,
               offset: Offset = 0, limit: Limit = 100) -> HistoryPage:
    check_page(settings, limit)
    entries, total = graph.history(key, offset=offset, limit=limit)
    if total == 0 and not graph.get_cis([key]):
        raise UnknownKey(key)
    return HistoryPage(items=[ChangeEntry.of(e) for e in entries], total=total,
                       offset=offset, limit=limit)
