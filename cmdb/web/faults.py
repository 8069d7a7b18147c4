"""Fault pages: report a fault from the scan page, follow it to the customer's signature.

``/s/{key}/fault`` opens a record on the scanned device; ``/faults/{id}`` shows its clocks and
offers the next step to an engineer (assign, on site, note, resolve, close with a signature
drawn on the phone). Each step may say when it happened (China time), for work logged after
the fact; empty means now.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cmdb.auth import GraphDep, Principal, Viewer, allowed_to
from cmdb.errors import InvalidInput, NotFound
from cmdb.faults import service
from cmdb.graph.schema import validate_key
from cmdb.i18n import _, pgettext
from cmdb.i18n import names
from cmdb.levels.hours import CHINA
from cmdb.levels.service import applicable_level
from cmdb.policy import roles_for
from cmdb.web.forms import CheckedForm, read_checked_form
from cmdb.web.render import TEMPLATES, PageRoute, redirect, render
from cmdb.web.views import ci_view

# Values as words on the fault, round and service pages.
TEMPLATES.globals.update(
    clock_state_name=names.clock_state_name, clock_name=names.clock_name,
    severity_name=names.severity_name, service_hours_name=names.service_hours_name,
    fault_status_name=names.fault_status_name, fault_channel_name=names.fault_channel_name,
    round_status_name=names.round_status_name, frequency_name=names.frequency_name,
    checklist_item_name=names.checklist_item_name, level_name=names.level_name,
)

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)

Reporter = Annotated[Principal, Depends(allowed_to("fault.report"))]
Handler = Annotated[Principal, Depends(allowed_to("fault.handle"))]
REPORTING_ROLES = roles_for("fault.report")
HANDLING_ROLES = roles_for("fault.handle")
SIGNATURE_FIELD_MAX = service.SIGNATURE_MAX_BYTES * 4 // 3 + 100
STEPS = ("assign", "arrive", "note", "resolve", "close")


def fault_url(fault_id: str, **query: str) -> str:
    url = "/faults/" + quote(fault_id, safe="")
    return url + ("?" + "&".join(f"{k}={quote(v)}" for k, v in query.items()) if query else "")


def form_time(value: str | None, now: dt.datetime) -> dt.datetime:
    """A datetime-local field in China time (the service calendar's), or now when empty."""
    text = (value or "").strip()
    if not text:
        return now
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_("when: %(value)s is not a date and time", value=repr(text[:40])), field="when",
                           value=text[:40], allowed="YYYY-MM-DDTHH:MM (China time)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=CHINA)
    return service.parse_time(parsed, "when")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@router.post("/s/{key}/fault")
def report_fault(request: Request, key: str, user: Reporter, graph: GraphDep,
                 form: CheckedForm) -> Response:
    key = validate_key(key)
    fault = service.open_fault(
        graph, user, keys=[key], title=form.get("title", ""), severity=form.get("severity", ""),
        reported_by=form.get("reported_by", "").strip() or user.name, reported_via="scan",
        at=form_time(form.get("when"), _now()), description=form.get("description", ""))
    return redirect(fault_url(fault.id, done="opened"))


@router.get("/faults")
def fault_list(request: Request, user: Viewer, graph: GraphDep, all: int = 0) -> Response:
    faults = service.list_faults(graph, _now(), open_only=not all)
    return render(request, "faults.html", user=user, title=_("Fault records"), faults=faults,
                  showing_all=bool(all))


@router.get("/faults/{fault_id}")
def fault_page(request: Request, fault_id: str, user: Viewer, graph: GraphDep,
               done: str | None = None) -> Response:
    fault = service.get(graph, fault_id[:40], _now())
    cis = graph.get_cis(fault.record["keys"])
    views = [ci_view(cis[k], graph.location_path(k)) for k in fault.record["keys"] if k in cis]
    return render(request, "fault.html", user=user, title=_("Fault %(id)s", id=fault.id), fault=fault,
                  record=fault.as_dict(), cis=views, history=_steps(service.history(graph, fault.id)),
                  can_handle=user.role in HANDLING_ROLES, done=done,
                  severities=service.SEVERITY_TEXT)


def _steps(history: list[dict]) -> list[dict]:
    """History entries with what each step did, in words."""
    words = {"assigned": pgettext("fault step", "assigned"), "on_site": pgettext("fault step", "on site"),
             "resolved": pgettext("fault step", "resolved"), "closed": pgettext("fault step", "signed off")}
    out = []
    for h in history:
        after = json.loads(h.get("after") or "{}")
        if h["action"] == "create":
            what = pgettext("fault step", "reported")
        elif "status" in after:
            what = words.get(after["status"], after["status"])
        elif "actions" in after:
            what = pgettext("fault step", "noted an action")
        else:
            what = pgettext("fault step", "changed %(fields)s",
                            fields=", ".join(sorted(k for k in after if k != "revision")))
        out.append({**h, "what": what})
    return out


@router.get("/faults/{fault_id}/signature.png")
def signature(fault_id: str, user: Viewer, graph: GraphDep) -> Response:
    png = service.signature_png(graph, fault_id[:40])
    if png is None:
        raise NotFound(_("Fault %(id)s has no signature", id=fault_id[:40]), {"id": fault_id[:40]})
    return Response(png, media_type="image/png", headers={"X-Content-Type-Options": "nosniff",
                                                          "Cache-Control": "private, no-store"})


async def step_form(request: Request) -> dict[str, str]:
    """The step's form; the close step's drawn signature may be longer than other fields."""
    return await read_checked_form(request, {"signature": SIGNATURE_FIELD_MAX})


StepForm = Annotated[dict[str, str], Depends(step_form)]


@router.post("/faults/{fault_id}/{step}")
def fault_step(request: Request, fault_id: str, step: str, user: Handler, graph: GraphDep,
               form: StepForm) -> Response:
    if step not in STEPS:
        raise NotFound(_("No step %(step)s; the steps are %(steps)s", step=repr(step[:20]), steps=", ".join(STEPS)),
                       {"step": step[:20]})
    fault_id = fault_id[:40]
    at = form_time(form.get("when"), _now())
    if step == "assign":
        service.assign(graph, user, fault_id, engineer=form.get("engineer", ""), at=at)
    elif step == "arrive":
        service.arrive(graph, user, fault_id, at=at)
    elif step == "note":
        service.add_action(graph, user, fault_id, text=form.get("text", ""), at=at)
    elif step == "resolve":
        hours = form.get("observe_hours", "").strip() or str(service.DEFAULT_OBSERVATION_HOURS)
        try:
            observe = float(hours)
        except ValueError:
            raise InvalidInput(_("observe_hours: %(value)s is not a number of hours", value=repr(hours[:20])),
                               field="observe_hours", value=hours[:20]) from None
        service.resolve(graph, user, fault_id, resolution=form.get("resolution", ""), at=at,
                        observe_hours=observe)
    else:
        drawn = form.get("signature", "").strip()
        png = service.signature_from_data_url(drawn) if drawn else None
        service.close(graph, user, fault_id, signed_by=form.get("signed_by", ""), at=at,
                      signature_png=png)
    return redirect(fault_url(fault_id, done=step))


def ci_service_panel(graph, key: str) -> dict:
    """What the CI page and the scan page show: the level that applies, why, open faults."""
    return {"service_level": applicable_level(graph, key), "open_faults": service.open_faults_of(graph, [key])}
