"""Maintenance round pages: the rounds and overdue schedules, a round's progress, and the
check of one scanned device (pass or fail per item, a note, a fault record in one tap)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cmdb.auth import GraphDep, Principal, Viewer, allowed_to
from cmdb.errors import InvalidInput
from cmdb.graph.schema import validate_key
from cmdb.i18n import _
from cmdb.i18n.names import checklist_item_name
from cmdb.levels.hours import CHINA
from cmdb.maintenance import service
from cmdb.policy import roles_for
from cmdb.web.faults import fault_url
from cmdb.web.forms import CheckedForm
from cmdb.web.render import PageRoute, redirect, render

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)

Checker = Annotated[Principal, Depends(allowed_to("maintenance.check"))]
CHECKING_ROLES = roles_for("maintenance.check")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def round_url(round_id: str, *rest: str) -> str:
    return "/maintenance/" + "/".join(quote(p, safe="") for p in (round_id, *rest))


@router.get("/maintenance")
def rounds_page(request: Request, user: Viewer, graph: GraphDep) -> Response:
    today = _now().astimezone(CHINA).date()
    return render(request, "rounds.html", user=user, title=_("Maintenance rounds"),
                  rounds=service.list_rounds(graph), schedules=service.schedule_status(graph, today))


@router.get("/maintenance/{round_id}")
def round_page(request: Request, round_id: str, user: Viewer, graph: GraphDep) -> Response:
    r = service.get_round(graph, round_id[:40])
    return render(request, "round.html", user=user, title=r.record["name"], round=r,
                  progress=r.progress(), findings=r.findings(),
                  can_check=user.role in CHECKING_ROLES and r.record["status"] == "open")


@router.get("/maintenance/{round_id}/check/{key}")
def check_page(request: Request, round_id: str, key: str, user: Checker, graph: GraphDep,
               done: str | None = None) -> Response:
    key = validate_key(key)
    r = service.get_round(graph, round_id[:40])
    device = next((d for d in r.expected if d["key"] == key), None)
    if device is None:
        raise InvalidInput(_("%(key)s is not among the devices of this round", key=key), field="key", value=key)
    items = service.checklist_for(r.checklists, device["category"])
    check = r.checks.get(key)
    results = dict(enumerate(json.loads(check["results"]))) if check else {}
    return render(request, "round_check.html", user=user, title=_("Check %(key)s", key=key), round=r,
                  device=device, items=items, results=results, done=done)


@router.post("/maintenance/{round_id}/check/{key}")
def record_check(request: Request, round_id: str, key: str, user: Checker, graph: GraphDep,
                 form: CheckedForm) -> Response:
    key = validate_key(key)
    r = service.get_round(graph, round_id[:40])
    device = next((d for d in r.expected if d["key"] == key), None)
    if device is None:
        raise InvalidInput(_("%(key)s is not among the devices of this round", key=key), field="key", value=key)
    items = service.checklist_for(r.checklists, device["category"])
    results = []
    for i, item in enumerate(items):
        mark = form.get(f"item-{i}", "")
        if mark not in ("pass", "fail"):
            raise InvalidInput(_("Mark %(item)s as pass or fail", item=repr(checklist_item_name(item))), field=f"item-{i}", value=mark[:10],
                               allowed=["pass", "fail"])
        results.append((mark == "pass", form.get(f"note-{i}", "")))
    service.record_check(graph, user, r.id, key, results=results, at=_now())
    return redirect(round_url(r.id, "check", key) + "?done=checked")


@router.post("/maintenance/{round_id}/check/{key}/fault/{index}")
def open_fault(request: Request, round_id: str, key: str, index: int, user: Checker,
               graph: GraphDep, form: CheckedForm) -> Response:
    fault = service.open_fault_for_item(graph, user, round_id[:40], validate_key(key), index, at=_now())
    return redirect(fault_url(fault.id, done="opened"))
