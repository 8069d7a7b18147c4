"""Configuration baselines: create (registrar, auditor), list, compare, report (every role)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field

from cmdb.auth import GraphDep, SettingsDep, Viewer, allowed_to
from cmdb.api.models import PATTERN_HELP, Key, RequestModel, text_without
from cmdb.baselines import diff as differences, service
from cmdb.baselines.reports import MEDIA_TYPES, render_report
from cmdb.documents.store import file_store
from cmdb.policy import Caller
from cmdb.i18n import N_

router = APIRouter(prefix="/baselines", tags=["baselines"])

BaselineCreator = Annotated[Caller, Depends(allowed_to("baseline.create"))]

# One line without control characters, '/' or '\\' (it is part of the address), not blank.
NAME_PATTERN = r"^[^\x00-\x1f\x7f/\\]*[^\x00-\x1f\x7f/\\\s][^\x00-\x1f\x7f/\\]*$"
PATTERN_HELP[NAME_PATTERN] = N_("one line of text with something besides spaces, without '/', "
                                "'\\' or control characters")
BaselineName = Annotated[str, Path(min_length=1, max_length=service.NAME_MAX_LENGTH, pattern=NAME_PATTERN,
                                   description="The baseline's name", examples=["Hand-over 2026"])]


class BaselineIn(RequestModel):
    name: Annotated[str, Field(min_length=1, max_length=service.NAME_MAX_LENGTH, pattern=NAME_PATTERN,
                               examples=["Hand-over 2026"])]
    scope: Key | None = Field(None, description="A location: only it and what is inside it; "
                                                "none: the whole register")
    note: text_without(service.NOTE_CONTROL, service.NOTE_MAX_LENGTH) | None = None  # type: ignore[valid-type]


class BaselineOut(BaseModel):
    name: str
    created_at: str
    created_by: str
    scope: str | None
    note: str | None
    cis: int
    relationships: int


class ChangeRow(BaseModel):
    change: Literal[differences.CHANGE_KINDS]  # type: ignore[valid-type]
    key: str
    kind: str
    property: str | None = Field(description="The property that changed (change 'changed')")
    type: str | None = Field(description="The relationship type (moves, re-images, relationships)")
    before: Any
    after: Any
    by: str | None = Field(description="Who made the change, from the history; none if no entry explains it")
    at: str | None
    source: str | None = Field(description="The import file or audit campaign that made it")


class DiffOut(BaseModel):
    baseline: BaselineOut
    to: BaselineOut | None = Field(description="The newer baseline; none: the register now")
    since: str
    until: str
    scope: str | None
    counts: dict[str, int]
    changes: list[ChangeRow]


@router.post("", response_model=BaselineOut, status_code=201, summary="Record a baseline")
def create_baseline(body: BaselineIn, graph: GraphDep, settings: SettingsDep,
                    user: BaselineCreator) -> dict[str, Any]:
    """Records every CI (with the properties users keep) and relationship of the scope now."""
    result = service.create(graph, file_store(settings), body.name, actor=user.actor,
                            scope=body.scope, note=body.note)
    result.pop("durations")
    return result


@router.get("", response_model=list[BaselineOut], summary="List baselines, oldest first")
def list_baselines(graph: GraphDep, _: Viewer) -> list[dict[str, Any]]:
    return service.list_all(graph)


@router.get("/{name}", response_model=BaselineOut, summary="One baseline")
def get_baseline(name: BaselineName, graph: GraphDep, _: Viewer) -> dict[str, Any]:
    return service.get(graph, name)


@router.get("/{name}/diff", response_model=DiffOut, summary="What changed since a baseline")
def diff_baseline(name: BaselineName, graph: GraphDep, settings: SettingsDep, _: Viewer,
                  to: Annotated[str, Query(min_length=1, max_length=service.NAME_MAX_LENGTH,
                                           pattern=NAME_PATTERN,
                                           description="A newer baseline, or 'now'")] = "now",
                  ) -> dict[str, Any]:
    """Added, removed, moved, re-imaged and changed CIs and relationships, with who and when."""
    return service.diff(graph, file_store(settings), name, to)


@router.get("/{name}/report", response_class=Response, summary="The baseline report as a file",
            responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}})
def baseline_report(name: BaselineName, graph: GraphDep, settings: SettingsDep, _: Viewer,
                    format: Literal["xlsx", "html"] = Query("xlsx")) -> Response:
    """Counts by site, kind and category and the changes since the previous baseline."""
    result = service.report(graph, file_store(settings), name)
    return Response(render_report(result, format), media_type=MEDIA_TYPES[format], headers={
        "Content-Disposition": f'attachment; filename="baseline-report.{format}"',
        "X-Content-Type-Options": "nosniff"})
