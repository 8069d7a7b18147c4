"""Inventory audits: campaigns (auditor), scans (asset staff), reconciliation and reports."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from cmdb import policy
from cmdb.api.deps import Auditor, GraphDep, Scanner, SettingsDep
from cmdb.audit import service
from cmdb.audit.reconcile import CATEGORIES

router = APIRouter(prefix="/audits", tags=["audits"])


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=200, examples=["Spring 2026 inventory"])
    scope: list[str] = Field(default_factory=list, max_length=500,
                             description="Location keys whose subtrees are audited; empty: everything")
    due: dt.date | None = None


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    apply_relocations: bool = False
    mark_missing: bool = False


class ScanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tag: str = Field(..., min_length=1, max_length=128, description="Asset tag or serial number")
    location: str = Field(..., min_length=1, max_length=128, description="Key of the location where it was found")
    at: dt.datetime | None = Field(None, description="When it was scanned (default: now)")
    person: str | None = Field(None, max_length=200, description="Who scanned (default: the caller)")
    note: str | None = Field(None, max_length=2000)
    condition: str | None = Field(None, max_length=200)


class CampaignOut(BaseModel):
    id: str
    name: str
    status: Literal["open", "closing", "closed"]
    scope: list[str]
    due: str | None
    created_at: str
    created_by: str
    closed_at: str | None
    closed_by: str | None
    expected_count: int
    away_count: int
    scans: int
    corrections: dict[str, Any] | None


class ScanOut(BaseModel):
    id: str
    campaign_id: str
    tag: str
    location: str
    at: str
    by: str
    note: str | None = None
    condition: str | None = None
    source: str
    created: bool


class ScanPage(BaseModel):
    items: list[dict[str, Any]]
    offset: int
    limit: int
    total: int


class Entry(BaseModel):
    model_config = ConfigDict(extra="allow")
    key: str | None
    tag: str | None
    name: str | None
    registered_status: str | None
    expected_location: str | None
    expected_path: str | None
    found_location: str | None = None
    found_path: str | None = None


class Reconciliation(BaseModel):
    found: list[Entry]
    relocated: list[Entry]
    missing: list[Entry]
    unexpected: list[Entry]
    status_mismatch: list[Entry]
    duplicates: list[Entry]
    away: list[Entry]
    summary: dict[str, Any]


class CloseOut(BaseModel):
    campaign: CampaignOut
    relocated: list[str]
    marked_missing: list[str]
    audited: int
    next_audit_due: str
    summary: dict[str, Any]


MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8"}


@router.get("", response_model=list[CampaignOut])
def list_audits(graph: GraphDep, _: Auditor) -> list[dict[str, Any]]:
    return [c.as_dict() for c in service.list_campaigns(graph)]


@router.post("", response_model=CampaignOut, status_code=201)
def start_audit(body: CampaignIn, graph: GraphDep, user: Auditor) -> dict[str, Any]:
    return service.start_campaign(graph, body.name, scope=body.scope, due=body.due,
                                  actor=user.actor).as_dict()


@router.get("/{audit_id}", response_model=CampaignOut)
def get_audit(audit_id: str, graph: GraphDep, _: Auditor) -> dict[str, Any]:
    return service.get_campaign(graph, audit_id).as_dict()


@router.post("/{audit_id}/close", response_model=CloseOut)
def close_audit(audit_id: str, graph: GraphDep, settings: SettingsDep, user: Auditor,
                body: CloseIn | None = None) -> dict[str, Any]:
    body = body or CloseIn()
    campaign = service.get_campaign(graph, audit_id)
    return service.close_campaign(graph, campaign, actor=user.actor, settings=settings,
                                  apply_relocations=body.apply_relocations,
                                  mark_missing=body.mark_missing)


@router.post("/{audit_id}/scans", response_model=ScanOut, status_code=201)
def add_scan(audit_id: str, body: ScanIn, graph: GraphDep, user: Scanner,
             response: Response) -> dict[str, Any]:
    # No campaign look-up first: storing the scan checks, in its transaction, that the
    # campaign exists and is open (and a look-up would count the campaign's scans).
    policy.require_in_scope(graph, user, [body.location])
    scan = service.record_scan(graph, audit_id, body.tag, body.location, actor=user.actor,
                               at=body.at, person=body.person, note=body.note,
                               condition=body.condition, source="api")
    if not scan["created"]:
        response.status_code = 200
    return scan


@router.get("/{audit_id}/scans", response_model=ScanPage)
def list_scans(audit_id: str, graph: GraphDep, settings: SettingsDep, _: Auditor,
               offset: int = Query(0, ge=0), limit: int = Query(100, ge=1)) -> dict[str, Any]:
    from cmdb.graph import audit_store

    campaign = service.get_campaign(graph, audit_id)
    limit = min(limit, settings.max_page_size)
    return {"items": audit_store.scans_page(graph, audit_id, offset, limit), "offset": offset,
            "limit": limit, "total": campaign.scans}


@router.get("/{audit_id}/reconciliation", response_model=Reconciliation)
def reconciliation(audit_id: str, graph: GraphDep, _: Auditor) -> dict[str, Any]:
    return service.reconcile(graph, service.get_campaign(graph, audit_id))


@router.get("/{audit_id}/report", response_class=Response,
            responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}})
def report(audit_id: str, graph: GraphDep, _: Auditor,
           format: Literal["xlsx", "html", "csv"] = Query("xlsx")) -> Response:
    from cmdb.audit.reports import render

    campaign = service.get_campaign(graph, audit_id)
    body = render(service.reconcile(graph, campaign), format)
    return Response(body, media_type=MEDIA_TYPES[format], headers={
        "Content-Disposition": f'attachment; filename="{campaign.id}.{format}"',
        "X-Content-Type-Options": "nosniff"})


assert set(CATEGORIES) <= set(Reconciliation.model_fields)
