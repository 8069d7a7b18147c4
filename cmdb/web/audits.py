"""Audit campaigns: the list, a campaign's progress (polled as JSON) and continuous scanning."""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from cmdb import policy
from cmdb.audit import service
from cmdb.auth import GraphDep
from cmdb.graph import Graph
from cmdb.errors import InvalidInput
from cmdb.graph.schema import validate_key
from cmdb.i18n import _
from cmdb.i18n.names import reason_name
from cmdb.web.forms import CheckedJson
from cmdb.web.render import JsonRoute, PageRoute, render
from cmdb.web.roles import Recorder
from cmdb.web.views import path_text

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)
json_router = APIRouter(route_class=JsonRoute, tags=["pages"], include_in_schema=False)

CHART_BAR_HEIGHT = 34

LIST_LIMIT = 200  # entries of each list the progress page shows
CACHE_SECONDS = 30  # progress is recomputed when a scan arrives, or after this long
_cache: dict[tuple[int, str], tuple[int, str, float, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


@router.get("/audits")
def campaigns(request: Request, user: Recorder, graph: GraphDep) -> Response:
    return render(request, "audits.html", user=user, title=_("Audit campaigns"),
                  campaigns=service.list_campaigns(graph))


@router.get("/audits/{campaign_id}")
def campaign_page(request: Request, campaign_id: str, user: Recorder, graph: GraphDep) -> Response:
    campaign = service.get_campaign(graph, campaign_id)
    progress = _visible(campaign_progress_view(graph, campaign.id), user)
    return render(request, "audit.html", user=user, title=campaign.name, campaign=campaign,
                  progress=progress, bar_height=CHART_BAR_HEIGHT)


@json_router.get("/audits/{campaign_id}/progress.json")
def campaign_progress(campaign_id: str, user: Recorder, graph: GraphDep) -> dict:
    return _visible(campaign_progress_view(graph, campaign_id), user)


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
        raise InvalidInput(_("Choose the location you are scanning in first"), field="location")
    policy.require_in_scope(graph, user, [location])
    campaign = service.get_campaign(graph, campaign_id)
    stored = service.record_scan(graph, campaign.id, tag, location, actor=user.actor,
                                 source="scan_page")
    ci = graph.get_cis([tag]).get(tag)
    known = ci is not None
    message = _("%(tag)s: not in the register (recorded as unexpected)", tag=tag)
    elsewhere = None
    if known:
        message = f"{tag} {ci.name or ''}".strip()
        elsewhere = _registered_elsewhere(graph, tag, location)
        if elsewhere:
            message += _(" — registered in %(place)s", place=elsewhere)
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


def _entry(e: dict[str, Any]) -> dict[str, Any]:
    """The fields the page lists show, all plain text."""
    found = e.get("found_path") or ", ".join(p or "" for p in e.get("found_paths") or [])
    return {"key": e.get("key") or e.get("tag"), "registered": e.get("key") is not None,
            "name": e.get("name") or "", "expected": e.get("expected_path") or "",
            "found": found or "", "reason": e.get("reason") or "",
            "note": "; ".join(x for x in (e.get("condition"), e.get("note")) if x)}


def campaign_progress_view(graph: Graph, campaign_id: str) -> dict[str, Any]:
    """Summary, per site/building bars and the missing/relocated/unexpected lists.

    Every open progress page polls this; reconciling a large campaign takes a while, so the
    result is reused until the campaign's scan count or status changes (or it gets old).
    """
    campaign = service.get_campaign(graph, campaign_id)
    slot = (id(graph), campaign.id)
    with _cache_lock:
        cached = _cache.get(slot)
    if cached and cached[:2] == (campaign.scans, campaign.status) \
            and time.monotonic() - cached[2] < CACHE_SECONDS:
        return _in_language(cached[3])
    computed = _progress(graph, campaign)
    with _cache_lock:
        if len(_cache) > 100:
            _cache.clear()
        _cache[slot] = (campaign.scans, campaign.status, time.monotonic(), computed)
    return _in_language(computed)


def _in_language(computed: dict[str, Any]) -> dict[str, Any]:
    """The cached progress (language-neutral) with its words in the reader's language."""
    groups = [{**g, "label": g["label"] or _("No location")} for g in computed["groups"]]
    lists = {category: {**data, "items": [{**e, "reason": reason_name(e["reason"])}
                                          for e in data["items"]]}
             for category, data in computed["lists"].items()}
    return {**computed, "groups": groups, "lists": lists}


def _progress(graph: Graph, campaign: Any) -> dict[str, Any]:
    result = service.reconcile(graph, campaign)
    summary = result["summary"]
    groups = [{"label": " › ".join(x for x in (g.get("site_name"), g.get("building_name")) if x),
               "expected": g["expected"], "verified": g["verified"],
               "percent": g["verified_percent"]}
              for g in summary["by_site"] if g["expected"]]
    lists = {}
    for category in ("missing", "relocated", "unexpected", "duplicates", "status_mismatch"):
        entries = result[category]
        lists[category] = {"total": len(entries), "items": [_entry(e) for e in entries[:LIST_LIMIT]]}
    return {"campaign": summary["campaign"], "expected": summary["expected"],
            "verified": summary["verified"], "percent": summary["verified_percent"],
            "scans": summary["scans"], "counts": summary["counts"], "groups": groups,
            "lists": lists}
