"""Inventory audits: campaigns (auditor), scans (asset staff), reconciliation and reports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from cmdb import policy
from cmdb.auth import Auditor, GraphDep, Scanner, SettingsDep
from cmdb.api.models import PATTERN_HELP, DateText, Key, Limit, Offset, RequestModel, check_page, text_without
from cmdb.audit import campaigns, scans, service
from cmdb.audit.reconcile import CATEGORIES
from cmdb.audit.reports import render
from cmdb.graph import audit as graph_audit
from cmdb.i18n import N_, current_language, use_language

router = APIRouter(prefix="/audits", tags=["audits"])


AUDIT_ID_PATTERN = r"^AUD-[0-9]{8}-[0-9a-f]{6}$"
PATTERN_HELP[AUDIT_ID_PATTERN] = N_("a campaign id such as AUD-20261121-0a1b2c")
AuditId = Annotated[str, Path(min_length=1, max_length=64, pattern=AUDIT_ID_PATTERN,
                                description="The campaign's id", examples=["AUD-20261121-0a1b2c"])]
ScanText = text_without(scans._CONTROL, scans.TEXT_LIMIT)
ScanShortText = text_without(scans._CONTROL, scans.PERSON_LIMIT)


class CampaignIn(RequestModel):
    name: text_without(campaigns._CONTROL, campaigns.NAME_MAX_LENGTH, nonblank=True,  # type: ignore[valid-type]
                       examples=["Spring 2026 inventory"])
    scope: list[Key] = Field(default_factory=list, max_length=500,
                             description="Location keys whose subtrees are audited; empty: everything")
    due: DateText | None = None


class AuditCloseIn(RequestModel):
    apply_relocations: bool = False
    mark_missing: bool = False


class ScanIn(RequestModel):
    tag: Key = Field(..., description="Asset tag or serial number")
    location: Key = Field(..., description="Key of the location where it was found")
    at: Annotated[StrictStr, Field(json_schema_extra={"format": "date-time"})] | None = Field(
        None, description="When it was scanned, ISO 8601 (default: now)")
    person: ScanShortText | None = Field(None, description="Who scanned (default: the caller)")  # type: ignore[valid-type]
    note: ScanText | None = None  # type: ignore[valid-type]
    condition: ScanShortText | None = None  # type: ignore[valid-type]


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
def get_audit(audit_id: AuditId, graph: GraphDep, _: Auditor) -> dict[str, Any]:
    return service.get_campaign(graph, audit_id).as_dict()


@router.post("/{audit_id}/close", response_model=CloseOut)
def close_audit(audit_id: AuditId, graph: GraphDep, settings: SettingsDep, user: Auditor,
                body: AuditCloseIn | None = None) -> dict[str, Any]:
    body = body or AuditCloseIn()
    campaign = service.get_campaign(graph, audit_id)
    return service.close_campaign(graph, campaign, actor=user.actor, settings=settings,
                                  apply_relocations=body.apply_relocations,
                                  mark_missing=body.mark_missing)


@router.post("/{audit_id}/scans", response_model=ScanOut, status_code=201)
def add_scan(audit_id: AuditId, body: ScanIn, graph: GraphDep, user: Scanner,
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
def list_scans(audit_id: AuditId, graph: GraphDep, settings: SettingsDep, _: Auditor,
               offset: Offset = 0, limit: Limit = 100) -> dict[str, Any]:
    check_page(settings, limit)
    campaign = service.get_campaign(graph, audit_id)
    return {"items": graph_audit.scans_page(graph, audit_id, offset, limit), "offset": offset,
            "limit": limit, "total": campaign.scans}


@router.get("/{audit_id}/reconciliation", response_model=Reconciliation)
def reconciliation(audit_id: AuditId, graph: GraphDep, _: Auditor) -> dict[str, Any]:
    return service.reconcile(graph, service.get_campaign(graph, audit_id))


@router.get("/{audit_id}/report", response_class=Response,
            responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}})
def report(audit_id: AuditId, graph: GraphDep, _: Auditor, settings: SettingsDep,
           format: Literal["xlsx", "html", "csv"] = Query("xlsx"),
           language: Literal["en", "zh_CN", "zh_TW"] | None = Query(
               None, description="The report's language; default CMDB_LANGUAGE, else the "
                                 "request's Accept-Language")) -> Response:
    campaign = service.get_campaign(graph, audit_id)
    with use_language(language or settings.language or current_language()):
        body = render(service.reconcile(graph, campaign), format)
    return Response(body, media_type=MEDIA_TYPES[format], headers={
        "Content-Disposition": f'attachment; filename="{campaign.id}.{format}"',
        "X-Content-Type-Options": "nosniff"})


assert set(CATEGORIES) <= set(Reconciliation.model_fields)
