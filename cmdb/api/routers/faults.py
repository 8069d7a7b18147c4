"""Fault records: reported by anyone but a viewer, handled by engineers, clocks on every read."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field, StrictStr

from cmdb.auth import GraphDep, Principal, Viewer, allowed_to
from cmdb.api.models import PATTERN_HELP, Key, KeyQuery, RequestModel, text_without
from cmdb.i18n import N_, _
from cmdb.errors import InvalidInput, NotFound
from cmdb.faults import service

router = APIRouter(prefix="/faults", tags=["faults"])

Reporter = Annotated[Principal, Depends(allowed_to("fault.report"))]
Handler = Annotated[Principal, Depends(allowed_to("fault.handle"))]
FAULT_ID_PATTERN = r"^F-[0-9]{6}-[0-9]{4,}$"
PATTERN_HELP[FAULT_ID_PATTERN] = N_("a fault record id such as F-202609-0001")
PATTERN_HELP[service.TIME_PATTERN] = N_("a date and time from 2000 to 2099 with a zone, e.g. "
                                        "2026-09-24T16:30:00+08:00")
BASE64_PATTERN = r"^[A-Za-z0-9+/]*={0,2}$"
PATTERN_HELP[BASE64_PATTERN] = N_("base64 text (A-Z, a-z, 0-9, +, / and = padding)")
FaultId = Annotated[str, Path(min_length=1, max_length=32, pattern=FAULT_ID_PATTERN,
                               description="The fault record's id", examples=["F-202609-0001"])]
Line = text_without(service.TEXT_CONTROL, 200, nonblank=True)
Text = text_without(service.NUL, service.MAX_TEXT, nonblank=True)
At = Annotated[StrictStr, Field(pattern=service.RFC3339_PATTERN, json_schema_extra={"format": "date-time"},
                                description="When it happened (default: now)")]


def _at(value: str | None) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) if value is None else service.parse_time(value)


class FaultIn(RequestModel):
    keys: list[Key] = Field(..., min_length=1, max_length=service.MAX_KEYS,
                            description="The CIs at fault")
    title: Line  # type: ignore[valid-type]
    severity: Literal[service.SEVERITIES]  # type: ignore[valid-type]
    reported_by: Line  # type: ignore[valid-type]
    reported_via: Literal["api", "phone", "scan"] = "api"
    description: Text | None = None  # type: ignore[valid-type]
    repair_order: Line | None = None  # type: ignore[valid-type]
    at: At | None = None


class FaultAssignIn(RequestModel):
    engineer: Line  # type: ignore[valid-type]
    at: At | None = None


class ArriveIn(RequestModel):
    at: At | None = None


class ActionIn(RequestModel):
    text: Text  # type: ignore[valid-type]
    at: At | None = None


class ResolveIn(RequestModel):
    resolution: Text  # type: ignore[valid-type]
    observe_hours: float = Field(service.DEFAULT_OBSERVATION_HOURS, ge=0,
                                 le=service.MAX_OBSERVATION_HOURS)
    at: At | None = None


class FaultCloseIn(RequestModel):
    signed_by: Line  # type: ignore[valid-type]
    signature_png: StrictStr | None = Field(
        None, max_length=service.SIGNATURE_MAX_BYTES * 4 // 3 + 4, pattern=BASE64_PATTERN,
        description=f"The customer's signature: a PNG of at most {service.SIGNATURE_MAX_BYTES} "
                    f"bytes and {service.SIGNATURE_MAX_PIXELS[0]}×{service.SIGNATURE_MAX_PIXELS[1]} "
                    "pixels, base64-encoded", json_schema_extra={"contentEncoding": "base64",
                                                                  "contentMediaType": "image/png"})
    at: At | None = None


class ClockOut(BaseModel):
    target_minutes: float | None
    started_at: str
    stopped_at: str | None
    due_at: str | None
    elapsed_minutes: float
    state: Literal["no_target", "within", "at_risk", "breached", "met"]


class ActionOut(BaseModel):
    at: str
    by: str
    text: str


class FaultOut(BaseModel):
    id: str
    title: str
    description: str | None = None
    severity: Literal[service.SEVERITIES]  # type: ignore[valid-type]
    status: Literal[service.STATUSES]  # type: ignore[valid-type]
    keys: list[str]
    reported_by: str
    reported_via: str
    reported_at: str
    opened_by: str
    level_id: str | None = None
    level_name_en: str | None = None
    level_name_zh_cn: str | None = None
    level_name_zh_tw: str | None = None
    level_hours: str | None = None
    level_reason: str | None = None
    respond_minutes: int | None = None
    resolve_minutes: int | None = None
    arrive_minutes: int | None = None
    assignee: str | None = None
    assigned_at: str | None = None
    arrived_at: str | None = None
    resolved_at: str | None = None
    resolution: str | None = None
    observe_until: str | None = None
    closed_at: str | None = None
    closed_by: str | None = None
    signed_by: str | None = None
    signed_at: str | None = None
    has_signature: bool
    repair_order: str | None = None
    actions: list[ActionOut]
    revision: int
    clocks: dict[str, ClockOut]


class ChangeOut(BaseModel):
    id: str
    at: str
    actor: str
    action: str
    before: str | None = None
    after: str | None = None
    source: str | None = None


@router.get("", response_model=list[FaultOut])
def list_faults(graph: GraphDep, viewer: Viewer,
                status: Literal[service.STATUSES] | None = Query(None),  # type: ignore[valid-type]
                open: bool = Query(False, description="Only those not closed"),
                ci: KeyQuery | None = None) -> list[dict[str, Any]]:
    return [f.as_dict() for f in service.list_faults(graph, _at(None), status=status,
                                                     open_only=open, key=ci)]


@router.post("", response_model=FaultOut, status_code=201)
def open_fault(body: FaultIn, graph: GraphDep, user: Reporter) -> dict[str, Any]:
    return service.open_fault(graph, user, keys=body.keys, title=body.title, severity=body.severity,
                              reported_by=body.reported_by, reported_via=body.reported_via,
                              at=_at(body.at), description=body.description or "",
                              repair_order=body.repair_order).as_dict()


@router.get("/{fault_id}", response_model=FaultOut)
def get_fault(fault_id: FaultId, graph: GraphDep, viewer: Viewer) -> dict[str, Any]:
    return service.get(graph, fault_id, _at(None)).as_dict()


@router.get("/{fault_id}/history", response_model=list[ChangeOut])
def fault_history(fault_id: FaultId, graph: GraphDep, viewer: Viewer) -> list[dict[str, Any]]:
    return service.history(graph, fault_id)


@router.post("/{fault_id}/assign", response_model=FaultOut)
def assign(fault_id: FaultId, body: FaultAssignIn, graph: GraphDep, user: Handler) -> dict[str, Any]:
    return service.assign(graph, user, fault_id, engineer=body.engineer, at=_at(body.at)).as_dict()


@router.post("/{fault_id}/arrive", response_model=FaultOut)
def arrive(fault_id: FaultId, body: ArriveIn, graph: GraphDep, user: Handler) -> dict[str, Any]:
    return service.arrive(graph, user, fault_id, at=_at(body.at)).as_dict()


@router.post("/{fault_id}/actions", response_model=FaultOut)
def add_action(fault_id: FaultId, body: ActionIn, graph: GraphDep, user: Handler) -> dict[str, Any]:
    return service.add_action(graph, user, fault_id, text=body.text, at=_at(body.at)).as_dict()


@router.post("/{fault_id}/resolve", response_model=FaultOut)
def resolve(fault_id: FaultId, body: ResolveIn, graph: GraphDep, user: Handler) -> dict[str, Any]:
    return service.resolve(graph, user, fault_id, resolution=body.resolution, at=_at(body.at),
                           observe_hours=body.observe_hours).as_dict()


@router.post("/{fault_id}/close", response_model=FaultOut)
def close(fault_id: FaultId, body: FaultCloseIn, graph: GraphDep, user: Handler) -> dict[str, Any]:
    png = None
    if body.signature_png is not None:
        try:
            png = base64.b64decode(body.signature_png, validate=True)
        except ValueError:  # binascii.Error, or text base64 cannot hold
            raise InvalidInput(_("signature_png: not valid base64"), field="signature_png") from None
    return service.close(graph, user, fault_id, signed_by=body.signed_by, at=_at(body.at),
                         signature_png=png).as_dict()


@router.get("/{fault_id}/signature", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def signature(fault_id: FaultId, graph: GraphDep, viewer: Viewer) -> Response:
    png = service.signature_png(graph, fault_id)
    if png is None:
        raise NotFound(_("Fault %(id)s has no signature", id=fault_id), {"id": fault_id})
    return Response(png, media_type="image/png", headers={"X-Content-Type-Options": "nosniff"})
