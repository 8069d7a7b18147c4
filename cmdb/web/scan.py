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
from cmdb.audit import service
from cmdb.auth import GraphDep, Viewer
from cmdb.documents import service as documents
from cmdb.errors import InvalidInput
from cmdb.graph import Graph
from cmdb.graph.schema import validate_key
from cmdb.i18n import N_, _
from cmdb.i18n.names import kind_name, status_name
from cmdb.service import contracts, repairs
from cmdb.web.faults import REPORTING_ROLES, ci_service_panel
from cmdb.web.forms import CheckedForm
from cmdb.web.render import PageRoute, redirect, render
from cmdb.web.roles import RECORDING_ROLES, STATUS_ROLES, Recorder, StatusSetter
from cmdb.web.views import ci_view, path_text, register_category_names

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)


# Stored in English (scan records, history); shown in the reader's language.
FAULTY = "faulty"
PROBLEMS = {
    FAULTY: N_("Faulty: open a repair order 报修"),
    "wrong_location": N_("Wrong location"),
    "damaged": N_("Damaged"),
    "label_missing": N_("Label missing or unreadable"),
}
NOTE_MAX = 1000
RESTORED_STATUS = "in_use"


def _scan_url(key: str, **query: Any) -> str:
    url = "/s/" + quote(key, safe="")
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return url + ("?" + urlencode(query) if query else "")


def _chosen(form: dict[str, str]) -> str | None:
    """The location picked on the form, or None when the picker was left empty."""
    return (form.get("location") or "").strip() or None


def _location(graph: Graph, key: str | None) -> dict[str, Any] | None:
    """The chosen location as {key, text}, or None; refuses keys that are not locations."""
    key = (key or "").strip()
    if not key:
        return None
    found = graph.get_cis([key]).get(key)
    if found is None or found.kind != "Location":
        raise InvalidInput(_("%(key)s is not a registered location; pick one from the list", key=repr(key)),
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
                      title=_("Unknown tag %(key)s", key=key), key=key, can_record=can_record,
                      campaigns=service.open_campaigns(graph), done=done)
    view = ci_view(ci, graph.location_path(key))
    applications = [r for r in graph.relationships(key)
                    if r["direction"] == "in" and r["type"] == "RUNS_ON"]
    covering = service.open_campaigns_covering(graph, key) if ci.kind == "Hardware" else []
    registered = None
    if view.location_key:
        registered = {"key": view.location_key, "text": view.location_text}
    warranty = contracts.warranty_of(graph, key) if ci.kind == "Hardware" else None
    open_repairs = [r for r in repairs.list_repairs(graph, key=key, settings=request.app.state.settings)
                    if r["status"] != "closed"] if ci.kind == "Hardware" else []
    return render(request, "scan.html", user=user, title=f"{key} {view.name}".strip(), ci=view,
                  warranty=warranty, open_repairs=open_repairs,
                  register_categories=register_category_names(graph.vocabulary()),
                  applications=applications, covering=covering, can_record=can_record,
                  registered=registered, problems={k: _(v) for k, v in PROBLEMS.items()}, done=done, recorded_in=campaigns,
                  can_set_status=user.role in STATUS_ROLES, attached=documents.for_ci(graph, key),
                  can_report_fault=user.role in REPORTING_ROLES, **ci_service_panel(graph, key))


def _scanned_hardware(graph: Graph, key: str) -> str:
    """The key of the hardware a scan or problem report is about; other kinds are refused."""
    key = validate_key(key)
    ci = graph.get_ci(key)
    if ci.kind != "Hardware":
        raise InvalidInput(_("%(key)s is a %(kind)s; only hardware is scanned", key=repr(key),
                             kind=kind_name(ci.kind)), field="key", value=key)
    return key


@router.post("/s/{key}/found")
def found_here(request: Request, key: str, user: Recorder, graph: GraphDep,
               form: CheckedForm) -> Response:
    key = validate_key(key)
    recorded = service.record_found_here(graph, key, _chosen(form), actor=user.actor, caller=user)
    return redirect(_scan_url(key, done="found", campaigns=len(recorded)))


@router.post("/s/{key}/problem")
def report_problem(request: Request, key: str, user: Recorder, graph: GraphDep,
                   form: CheckedForm) -> Response:
    key = validate_key(key)
    problem = form.get("problem", "")
    if problem not in PROBLEMS:
        raise InvalidInput(_("Choose what is wrong: %(choices)s",
                             choices=", ".join(_(v) for v in PROBLEMS.values())),
                           field="problem", value=problem, allowed=list(PROBLEMS))
    note = " ".join(form.get("note", "").split())[:NOTE_MAX] or None
    if problem == FAULTY:
        repair = repairs.open_repair(graph, user, key, note or "Reported faulty on the scan page",
                                     send_to=form.get("send_to") or None,
                                     settings=request.app.state.settings, source="scan page")
        return redirect("/repairs/" + quote(repair["id"], safe="") + "?done=opened")
    location = _chosen(form)
    if problem == "wrong_location" and location is None:
        raise InvalidInput(_("Pick the location where the asset actually is"), field="location")
    recorded = service.record_found_here(graph, key, location, actor=user.actor, caller=user,
                                         condition=PROBLEMS[problem], note=note)
    return redirect(_scan_url(key, done="problem", campaigns=len(recorded)))


@router.post("/s/{key}/status")
def restore_status(request: Request, key: str, user: StatusSetter, graph: GraphDep,
                   form: CheckedForm) -> Response:
    """A hardware item registered as missing is here after all: set it back to in use."""
    key = _scanned_hardware(graph, key)
    status = form.get("status", "")
    if status != RESTORED_STATUS:
        raise InvalidInput(_("A missing asset can be set back to %(allowed)r here, not %(status)r",
                             allowed=status_name(RESTORED_STATUS), status=status[:40]),
                           field="status", value=status[:40], allowed=[RESTORED_STATUS])
    policy.require_in_scope(graph, user, [key])
    current = graph.get_ci(key)
    if current.properties.get("status") != "missing":
        raise InvalidInput(_("%(key)s is registered as %(status)s, not missing; its status was left "
                             "as it is", key=key, status=status_name(current.properties.get("status"))
                             if current.properties.get("status") else _("no status")), field="status",
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
    open_ids = {c.id for c in service.open_campaigns(graph)}
    if campaign_id not in open_ids:
        raise InvalidInput(_("Choose one of the open campaigns"), field="campaign", value=campaign_id,
                           allowed=sorted(open_ids))
    location = _location(graph, form.get("location"))
    if location is None:
        raise InvalidInput(_("Pick the location where you found it"), field="location")
    note = " ".join(form.get("note", "").split())[:NOTE_MAX] or None
    policy.require_in_scope(graph, user, [location["key"]])
    service.record_scan(graph, campaign_id, key, location["key"], actor=user.actor, note=note,
                        source="scan_page")
    return redirect(_scan_url(key, done="unexpected", campaigns=1))

