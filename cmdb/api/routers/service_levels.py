"""Service levels: the contract's terms (registrar), their assignment, the level of a CI."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, BeforeValidator, Field

from cmdb.auth import GraphDep, Principal, Viewer, allowed_to
from cmdb.api.models import PATTERN_HELP, Key, KeyPath, RequestModel, text_without
from cmdb.api.service_models import whole_number
from cmdb.graph.schema import CRITICALITIES
from cmdb.levels import service
from cmdb.levels.hours import SERVICE_HOURS
from cmdb.i18n import N_

router = APIRouter(tags=["service levels"])

LevelEditor = Annotated[Principal, Depends(allowed_to("service_level.change"))]
LEVEL_ID_PATTERN = service.ID_PATTERN.pattern
PATTERN_HELP[LEVEL_ID_PATTERN] = N_("1-40 lower-case letters, digits, '-' or '_', e.g. vip")
LevelId = Annotated[str, Path(min_length=1, max_length=40, pattern=LEVEL_ID_PATTERN,
                               description="The level's id", examples=["vip"])]
Name = text_without(service.TEXT_CONTROL, service.NAME_MAX_LENGTH)
Minutes = Annotated[int, Field(ge=0, le=service.MAX_TARGET_MINUTES), BeforeValidator(whole_number)]


class LevelIn(RequestModel):
    name_en: Name | None = None  # type: ignore[valid-type]
    name_zh_cn: Name | None = None  # type: ignore[valid-type]
    name_zh_tw: Name | None = None  # type: ignore[valid-type]
    hours: Literal[tuple(SERVICE_HOURS)] = "5x8"  # type: ignore[valid-type]
    respond_minutes: Minutes
    resolve_minutes: Minutes | None = None
    arrive_minutes: Minutes | None = None
    criticality: Literal[CRITICALITIES] | None = Field(  # type: ignore[valid-type]
        None, description="Applications of this criticality get this level")
    departments: list[Name] = Field(default_factory=list, max_length=200)  # type: ignore[valid-type]
    is_default: bool = False


class LevelOut(BaseModel):
    id: str
    name_en: str
    name_zh_cn: str
    name_zh_tw: str
    hours: str
    respond_minutes: int
    resolve_minutes: int | None
    arrive_minutes: int | None
    criticality: str | None
    departments: list[str]
    is_default: bool
    assigned: list[str]


class LevelAssignIn(RequestModel):
    keys: list[Key] = Field(..., min_length=1, max_length=500)
    remove: bool = Field(False, description="Take the level off these CIs instead")


class AppliedOut(BaseModel):
    level: LevelOut | None
    reason: str
    reasons: list[dict[str, Any]]
    candidates: list[dict[str, Any]]


def _out(level: service.ServiceLevel) -> dict[str, Any]:
    return level.as_dict()


@router.get("/service-levels", response_model=list[LevelOut])
def list_levels(graph: GraphDep, _: Viewer) -> list[dict[str, Any]]:
    return [_out(lv) for lv in service.list_levels(graph)]


@router.put("/service-levels/{level_id}", response_model=LevelOut)
def put_level(level_id: LevelId, body: LevelIn, graph: GraphDep, user: LevelEditor) -> dict[str, Any]:
    level = service.level_from_input({"id": level_id, **body.model_dump()})
    service.save_level(graph, user, level)
    return _out(next(lv for lv in service.list_levels(graph) if lv.id == level.id))


@router.delete("/service-levels/{level_id}", status_code=204, response_class=Response)
def delete_level(level_id: LevelId, graph: GraphDep, user: LevelEditor) -> Response:
    service.delete_level(graph, user, level_id)
    return Response(status_code=204)


@router.post("/service-levels/{level_id}/assignments", response_model=LevelOut)
def assign_level(level_id: LevelId, body: LevelAssignIn, graph: GraphDep, user: LevelEditor) -> dict[str, Any]:
    service.assign(graph, user, level_id, body.keys, remove=body.remove)
    return _out(next(lv for lv in service.list_levels(graph) if lv.id == level_id))


@router.get("/cis/{key}/service-level", response_model=AppliedOut)
def level_of(key: KeyPath, graph: GraphDep, _: Viewer) -> dict[str, Any]:
    return service.applicable_level(graph, key).as_dict()
