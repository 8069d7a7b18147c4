"""Audit campaigns: the list, a campaign's progress (polled as JSON) and continuous scanning."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from cmdb import policy
from cmdb.auth import GraphDep
from cmdb.errors import InvalidInput
from cmdb.graph.schema import validate_key
from cmdb.web import audits_bridge
from cmdb.web.forms import CheckedJson
from cmdb.web.render import JsonRoute, PageRoute, render
from cmdb.web.roles import Recorder
from cmdb.web.views import path_text

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)
json_router = APIRouter(route_class=JsonRoute, tags=["pages"], include_in_schema=False)

CHART_BAR_HEIGHT = 34


@router.get("/audits")
def campaigns(request: Request, user: Recorder, graph: GraphDep) -> Response:
    return render(request, "audits.html", user=user, title="Audit campaigns",
                  campaigns=audits_bridge.all_campaigns(graph))


@router.get("/audits/{campaign_id}")
def campaign_page(request: Request, campaign_id: str, user: Recorder, graph: GraphDep) -> Response:
    campaign = audits_bridge.campaign(graph, campaign_id)
    progress = _visible(audits_bridge.progress(graph, campaign.id), user)
    return render(request, "audit.html", user=user, title=campaign.name, campaign=campaign,
                  progress=progress, bar_height=CHART_BAR_HEIGHT)


@json_router.get("/audits/{campaign_id}/progress.json")
def campaign_progress(campaign_id: str, user: Recorder, graph: GraphDep) -> dict:
    return _visible(audits_bridge.progress(graph, campaign_id), user)


def _visible(progress: dict, user) -> dict:
    """Progress for everyone who scans; the findings (missing, relocated, unexpected, …) only
    for those the API shows the reconciliation to."""
    if policy.may(user, "audit"):
        return progress
    return {**progress, "counts": {}, "lists": {}}


@json_router.post("/audits/{campaign_id}/scans.json")
def scan(campaign_id: str, user: Recorder, graph: GraphDep, body: CheckedJson) -> Response:
    """One tag from the continuous scanning mode: recorded, and said whether it is known."""
    tag = validate_key(body.get("tag"), "tag")
    location = validate_key(body.get("location"), "location") if body.get("location") else None
    if location is None:
        raise InvalidInput("Choose the location you are scanning in first", field="location")
    policy.require_in_scope(graph, user, [location])
    campaign = audits_bridge.campaign(graph, campaign_id)
    stored = audits_bridge.record_scan(graph, campaign.id, tag, location, actor=user.actor,
                                       source="scan_page")
    ci = graph.get_cis([tag]).get(tag)
    known = ci is not None
    message = f"{tag}: not in the register (recorded as unexpected)"
    elsewhere = None
    if known:
        message = f"{tag} {ci.name or ''}".strip()
        elsewhere = _registered_elsewhere(graph, tag, location)
        if elsewhere:
            message += f" — registered in {elsewhere}"
    return JSONResponse({"tag": tag, "location": location, "known": known,
                         "kind": ci.kind if ci else None, "name": (ci.name or "") if ci else "",
                         "created": stored.get("created", True),
                         "registered_elsewhere": elsewhere, "message": message})


def _registered_elsewhere(graph, key: str, location: str) -> str | None:
    """Where ``key`` is registered, when that is neither inside nor around ``location``."""
    registered = graph.location_path(key)
    if not registered:
        return None
    here = [p["key"] for p in graph.location_path(location)] + [location]
    there = [p["key"] for p in registered]
    if location in there or there[-1] in here:
        return None
    return path_text(registered)
