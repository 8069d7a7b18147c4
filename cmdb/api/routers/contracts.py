"""Contracts and warranties: register contracts (registrar), cover CIs, answer "is it under
warranty, under which contract?" and report what expires soon."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response

from cmdb.auth import ContractManager, GraphDep, Viewer
from cmdb.api.models import COMMON_ERRORS, KeyPath, error_responses
from cmdb.api.service_models import (
    AsOf, ContractIn, ContractNumber, ContractOut, ContractPatch, ContractType, CoversIn,
    WarrantyOut, WarrantyReport, as_of_day,
)
from cmdb.service import contracts, warranty

router = APIRouter(tags=["contracts"], responses=COMMON_ERRORS)

REPORT_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8"}


@router.get("/contracts", response_model=list[ContractOut], summary="List contracts")
def list_contracts(graph: GraphDep, _: Viewer, type: ContractType | None = None,
                   vendor: str | None = Query(None, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$"),
                   expiring_within_days: int | None = Query(None, ge=0, le=warranty.MAX_WINDOW_DAYS),
                   as_of: AsOf = None) -> list[dict[str, Any]]:
    """Soonest end first; ``expiring_within_days`` keeps those ending in that window."""
    return contracts.list_contracts(graph, type=type, vendor=vendor,
                                    expiring_within_days=expiring_within_days,
                                    today=as_of_day(as_of))


@router.post("/contracts", response_model=ContractOut, status_code=201, summary="Register a contract",
             responses=error_responses(404, 409))
def add_contract(body: ContractIn, graph: GraphDep, user: ContractManager) -> dict[str, Any]:
    """The covered hardware's ``warranty_end`` follows a warranty contract's end. An end
    before the start is refused (422)."""
    fields = body.model_dump(exclude={"number", "covers"}, exclude_none=True)
    return contracts.add_contract(graph, user, body.number, fields, body.covers)


@router.get("/contracts/{number}", response_model=ContractOut, summary="A contract",
            responses=error_responses(404))
def get_contract(number: ContractNumber, graph: GraphDep, _: Viewer) -> dict[str, Any]:
    return contracts.get_contract(graph, number)


@router.patch("/contracts/{number}", response_model=ContractOut, summary="Change a contract",
              responses=error_responses(404, 409))
def patch_contract(number: ContractNumber, body: ContractPatch, graph: GraphDep,
                   user: ContractManager) -> dict[str, Any]:
    """Fields sent are set (null removes an optional one)."""
    return contracts.update_contract(graph, user, number, body.model_dump(exclude_unset=True))


@router.post("/contracts/{number}/covers", response_model=ContractOut,
             summary="Cover CIs by a contract (or no longer)", responses=error_responses(404, 409))
def cover(number: ContractNumber, body: CoversIn, graph: GraphDep,
          user: ContractManager) -> dict[str, Any]:
    return contracts.link_contract(graph, user, number, body.keys, remove=body.remove)


@router.get("/cis/{key}/warranty", response_model=WarrantyOut, summary="Is it under warranty?",
            responses=error_responses(404))
def warranty_of(key: KeyPath, graph: GraphDep, _: Viewer, as_of: AsOf = None) -> dict[str, Any]:
    """From the contracts covering it (warranty first), else its ``warranty_end``."""
    return contracts.warranty_of(graph, key, as_of_day(as_of))


@router.get("/warranty/report", response_model=WarrantyReport, summary="Warranties ending soon",
            responses={200: {"content": {t: {} for t in REPORT_TYPES.values()}}})
def warranty_report(graph: GraphDep, _: Viewer,
                    within_days: int = Query(90, ge=0, le=warranty.MAX_WINDOW_DAYS),
                    format: Literal["json", "xlsx", "html", "csv"] = Query("json"),
                    as_of: AsOf = None) -> Any:
    """Hardware whose warranty ends within the window, with counts by site, vendor, category."""
    report = warranty.warranty_report(graph, within_days, as_of_day(as_of))
    if format == "json":
        return report
    return Response(warranty.render(report, format), media_type=REPORT_TYPES[format], headers={
        "Content-Disposition": f'attachment; filename="warranty-{report["as_of"]}.{format}"',
        "X-Content-Type-Options": "nosniff"})
