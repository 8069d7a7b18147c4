"""The scan landing page a QR label opens: ``/s/{key}``.

"Found here" records a scan in every open campaign whose scope covers the asset (or the
place it was found) and always refreshes ``last_seen_at``. "Report a problem" records the
same, with the problem and note on the scan and in the asset's history.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cmdb import policy
from cmdb.api.deps import GraphDep, Viewer
from cmdb.errors import InvalidInput
from cmdb.graph import Graph
from cmdb.graph.schema import utc_now, validate_key
from cmdb.web import audits_bridge
from cmdb.web.faults import REPORTING_ROLES, ci_service_panel
from cmdb.web.forms import CheckedForm
from cmdb.web.render import PageRoute, redirect, render
from cmdb.web.roles import RECORDING_ROLES, STATUS_ROLES, Recorder, StatusSetter
from cmdb.web.views import ci_view, path_text

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)


PROBLEMS = {
    "wrong_location": "Wrong location",
    "damaged": "Damaged",
    "label_missing": "Label missing or unreadable",
}
NOTE_MAX = 1000
RESTORED_STATUS = "in_use"


def _scan_url(key: str, **query: Any) -> str:
    url = "/s/" + quote(key, safe="")
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return url + ("?" + urlencode(query) if query else "")


def _location(graph: Graph, key: str | None) -> dict[str, Any] | None:
    """The chosen location as {key, text}, or None; refuses keys that are not locations."""
    key = (key or "").strip()
    if not key:
        return None
    found = graph.get_cis([key]).get(key)
    if found is None or found.kind != "Location":
        raise InvalidInput(f"{key!r} is not a registered location; pick one from the list",
                           field="location", value=key)
    path = graph.location_path(key)
    return {"key": key, "text": path_text(path + [{"key": key, "name": found.name}])}


@router.get("/s/{key}")
def scan_page(request: Request, key: str, user: Viewer, graph: GraphDep,
              done: str | None = None, campaigns: int = 0) -> Response:
    key = validate_key(key)
    ci = graph.get_cis([key]).get(key)
    can_record = user.role in RECORDING_ROLES
    if ci is None:
        return render(request, "scan_unknown.html", status=404, user=user,
                      title=f"Unknown tag {key}", key=key, can_record=can_record,
                      campaigns=audits_bridge.open_campaigns(graph), done=done)
    view = ci_view(ci, graph.location_path(key))
    applications = [r for r in graph.relationships(key)
                    if r["direction"] == "in" and r["type"] == "RUNS_ON"]
    covering = audits_bridge.campaigns_covering(graph, key) if ci.kind == "Hardware" else []
    registered = None
    if view.location_key:
        registered = {"key": view.location_key, "text": view.location_text}
    return render(request, "scan.html", user=user, title=f"{key} {view.name}".strip(), ci=view,
                  applications=applications, covering=covering, can_record=can_record,
                  registered=registered, problems=PROBLEMS, done=done, recorded_in=campaigns,
                  can_set_status=user.role in STATUS_ROLES,
                  can_report_fault=user.role in REPORTING_ROLES, **ci_service_panel(graph, key))


def _record(graph: Graph, key: str, user, location: dict[str, Any] | None, *,
            problem: str | None = None, note: str | None = None) -> int:
    """Scan in each covering open campaign, then refresh last_seen_at (with the problem, if
    any, in the history entry's source). Returns the number of campaigns recorded in."""
    if location is None:  # the picker was cleared: where it is registered
        path = graph.location_path(key)
        if not path:
            raise InvalidInput("Pick the location where the asset is", field="location")
        location = {"key": path[-1]["key"], "text": path_text(path)}
    policy.require_in_scope(graph, user, [key, location["key"]])
    campaigns = audits_bridge.campaigns_covering(graph, key, location["key"])
    for campaign in campaigns:
        audits_bridge.record_scan(graph, campaign.id, key, location["key"], actor=user.actor,
                                  note=note, problem=PROBLEMS.get(problem or ""))
    source = f"scan page: found at {location['key']}"
    if problem:
        source = (f"problem reported: {PROBLEMS[problem]}" + (f" — {note}" if note else "")
                  + f" (at {location['key']})")
    graph.set_system_properties([(key, {"last_seen_at": utc_now()})], actor=user.actor,
                                source=source[:NOTE_MAX + 100])
    return len(campaigns)


def _scanned_hardware(graph: Graph, key: str) -> str:
    """The key of the hardware a scan or problem report is about; other kinds are refused."""
    key = validate_key(key)
    ci = graph.get_ci(key)
    if ci.kind != "Hardware":
        raise InvalidInput(f"{key!r} is a {ci.kind}; only hardware is scanned", field="key", value=key)
    return key


@router.post("/s/{key}/found")
def found_here(request: Request, key: str, user: Recorder, graph: GraphDep,
               form: CheckedForm) -> Response:
    key = _scanned_hardware(graph, key)
    location = _location(graph, form.get("location"))
    n = _record(graph, key, user, location)
    return redirect(_scan_url(key, done="found", campaigns=n))


@router.post("/s/{key}/problem")
def report_problem(request: Request, key: str, user: Recorder, graph: GraphDep,
                   form: CheckedForm) -> Response:
    key = _scanned_hardware(graph, key)
    problem = form.get("problem", "")
    if problem not in PROBLEMS:
        raise InvalidInput(f"Choose what is wrong: {', '.join(PROBLEMS.values())}",
                           field="problem", value=problem, allowed=list(PROBLEMS))
    note = " ".join(form.get("note", "").split())[:NOTE_MAX] or None
    location = _location(graph, form.get("location"))
    if problem == "wrong_location" and location is None:
        raise InvalidInput("Pick the location where the asset actually is", field="location")
    n = _record(graph, key, user, location, problem=problem, note=note)
    return redirect(_scan_url(key, done="problem", campaigns=n))


@router.post("/s/{key}/status")
def restore_status(request: Request, key: str, user: StatusSetter, graph: GraphDep,
                   form: CheckedForm) -> Response:
    """A hardware item registered as missing is here after all: set it back to in use."""
    key = _scanned_hardware(graph, key)
    status = form.get("status", "")
    if status != RESTORED_STATUS:
        raise InvalidInput(f"A missing asset can be set back to {RESTORED_STATUS!r} here, not {status[:40]!r}",
                           field="status", value=status[:40], allowed=[RESTORED_STATUS])
    policy.require_in_scope(graph, user, [key])
    current = graph.get_ci(key)
    if current.properties.get("status") != "missing":
        raise InvalidInput(f"{key} is registered as {current.properties.get('status') or 'no status'}, "
                           "not missing; its status was left as it is", field="status",
                           value=current.properties.get("status"))
    graph.update_ci(key, {"status": RESTORED_STATUS}, actor=user.actor,
                    expected_revision=current.revision,
                    source="scan page: found again, status set back from missing")
    return redirect(_scan_url(key, done="restored"))


@router.post("/s/{key}/unexpected")
def record_unexpected(request: Request, key: str, user: Recorder, graph: GraphDep,
                      form: CheckedForm) -> Response:
    key = validate_key(key)
    if graph.get_cis([key]):
        return redirect(_scan_url(key))
    campaign_id = form.get("campaign", "")
    open_ids = {c.id for c in audits_bridge.open_campaigns(graph)}
    if campaign_id not in open_ids:
        raise InvalidInput("Choose one of the open campaigns", field="campaign", value=campaign_id,
                           allowed=sorted(open_ids))
    location = _location(graph, form.get("location"))
    if location is None:
        raise InvalidInput("Pick the location where you found it", field="location")
    note = " ".join(form.get("note", "").split())[:NOTE_MAX] or None
    policy.require_in_scope(graph, user, [location["key"]])
    audits_bridge.record_scan(graph, campaign_id, key, location["key"], actor=user.actor, note=note)
    return redirect(_scan_url(key, done="unexpected", campaigns=1))

