"""Repair orders: open (asset staff, registrar), progress notes, send out, return, close;
``GET /repairs?overdue=true`` lists those whose note or return is late (working days)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query

from cmdb.auth import GraphDep, RepairStaff, SettingsDep, Viewer
from cmdb.api.models import COMMON_ERRORS, Key, error_responses
from cmdb.api.service_models import (
    AsOf, RepairCloseIn, RepairNoteIn, RepairId, RepairIn, RepairOut, ReturnIn, SendIn, as_of_day,
)
from cmdb.service import repairs
from cmdb.service.repairs import STATUSES

router = APIRouter(prefix="/repairs", tags=["repairs"], responses=COMMON_ERRORS)


@router.get("", response_model=list[RepairOut], summary="List repair orders")
def list_repairs(graph: GraphDep, settings: SettingsDep, _: Viewer,
                 status: Literal[STATUSES] | None = None,  # type: ignore[valid-type]
                 key: Key | None = Query(None, description="Only this CI's repairs"),
                 overdue: bool = Query(False, description="Only those with a late note or return"),
                 as_of: AsOf = None) -> list[dict[str, Any]]:
    return repairs.list_repairs(graph, status=status, key=key, overdue=overdue, settings=settings,
                                today=as_of_day(as_of))


@router.post("", response_model=RepairOut, status_code=201, summary="Open a repair order",
             responses=error_responses(404, 409))
def open_repair(body: RepairIn, graph: GraphDep, settings: SettingsDep,
                user: RepairStaff) -> dict[str, Any]:
    """Sets the unit ``in_repair`` and answers its warranty from its contracts."""
    return repairs.open_repair(graph, user, body.key, body.fault, send_to=body.send_to,
                               settings=settings, source="api")


@router.get("/{repair_id}", response_model=RepairOut, summary="A repair order",
            responses=error_responses(404))
def get_repair(repair_id: RepairId, graph: GraphDep, settings: SettingsDep, _: Viewer,
               as_of: AsOf = None) -> dict[str, Any]:
    return repairs.get_repair(graph, repair_id, settings=settings, today=as_of_day(as_of))


@router.post("/{repair_id}/notes", response_model=RepairOut, summary="Write a progress note",
             responses=error_responses(404, 409))
def add_note(repair_id: RepairId, body: RepairNoteIn, graph: GraphDep, settings: SettingsDep,
             user: RepairStaff) -> dict[str, Any]:
    return repairs.add_note(graph, user, repair_id, body.text, settings=settings)


@router.post("/{repair_id}/send", response_model=RepairOut, summary="Send the unit out",
             responses=error_responses(404, 409))
def send_out(repair_id: RepairId, body: SendIn, graph: GraphDep, settings: SettingsDep,
             user: RepairStaff) -> dict[str, Any]:
    return repairs.send_out(graph, user, repair_id, body.to, settings=settings)


@router.post("/{repair_id}/return", response_model=RepairOut, summary="The unit is back",
             responses=error_responses(404, 409))
def record_return(repair_id: RepairId, body: ReturnIn, graph: GraphDep, settings: SettingsDep,
                  user: RepairStaff) -> dict[str, Any]:
    """Spares standing in for it go back to their stock location."""
    return repairs.record_return(graph, user, repair_id, cost=body.cost, note=body.note,
                                 settings=settings)


@router.post("/{repair_id}/close", response_model=RepairOut, summary="Close a repair order",
             responses=error_responses(404, 409))
def close_repair(repair_id: RepairId, body: RepairCloseIn, graph: GraphDep, settings: SettingsDep,
                 user: RepairStaff) -> dict[str, Any]:
    """repaired: the unit gets back the status it had; replaced or written_off: retired."""
    return repairs.close_repair(graph, user, repair_id, body.outcome, cost=body.cost,
                                note=body.note, settings=settings)
