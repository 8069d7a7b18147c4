"""Repair pages: the list (and the overdue list), one repair order with a form per action
(progress note, send out, issue a spare, return, close), and the spare's slip."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cmdb.auth import GraphDep, SettingsDep, Viewer
from cmdb.errors import InvalidInput
from cmdb.i18n import _
from cmdb.service import repairs, spares
from cmdb.service.repairs import OUTCOMES
from cmdb.web.forms import CheckedForm
from cmdb.web import contracts as _service_words  # noqa: F401  (the value names)
from cmdb.web.render import PageRoute, redirect, render
from cmdb.web.roles import REPAIR_ROLES, RepairWorker

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)


def repair_url(repair_id: str, done: str | None = None) -> str:
    return "/repairs/" + quote(repair_id, safe="") + (f"?done={quote(done)}" if done else "")


@router.get("/repairs")
def repairs_page(request: Request, user: Viewer, graph: GraphDep, settings: SettingsDep,
                 overdue: int = 0, status: str | None = None) -> Response:
    rows = repairs.list_repairs(graph, status=status or None, overdue=bool(overdue),
                                settings=settings)
    return render(request, "repairs.html", user=user, wide=True,
                  title=_("Overdue repairs") if overdue else _("Repairs"), repairs=rows,
                  overdue=bool(overdue))


@router.get("/repairs/{repair_id}")
def repair_page(request: Request, repair_id: str, user: Viewer, graph: GraphDep,
                settings: SettingsDep, done: str | None = None) -> Response:
    repair = repairs.get_repair(graph, repair_id, settings=settings)
    unit = graph.get_ci(repair["key"])
    candidates = spares.in_stock_for(graph, unit.properties.get("model"))
    issues = [i for i in spares.list_issues(graph) if i["repair"] == repair_id]
    return render(request, "repair.html", user=user, title=_("Repair %(id)s", id=repair_id), repair=repair,
                  unit=unit, candidates=candidates, issues=issues, outcomes=OUTCOMES, done=done,
                  can_act=user.role in REPAIR_ROLES)


@router.post("/repairs/{repair_id}/note")
def note(repair_id: str, user: RepairWorker, graph: GraphDep, settings: SettingsDep,
         form: CheckedForm) -> Response:
    repairs.add_note(graph, user, repair_id, form.get("text", ""), settings=settings)
    return redirect(repair_url(repair_id, "note"))


@router.post("/repairs/{repair_id}/send")
def send(repair_id: str, user: RepairWorker, graph: GraphDep, settings: SettingsDep,
         form: CheckedForm) -> Response:
    repairs.send_out(graph, user, repair_id, form.get("to", ""), settings=settings)
    return redirect(repair_url(repair_id, "sent"))


@router.post("/repairs/{repair_id}/return")
def returned(repair_id: str, user: RepairWorker, graph: GraphDep, settings: SettingsDep,
             form: CheckedForm) -> Response:
    repairs.record_return(graph, user, repair_id, cost=form.get("cost") or None,
                          note=form.get("note") or None, settings=settings)
    return redirect(repair_url(repair_id, "returned"))


@router.post("/repairs/{repair_id}/close")
def close(repair_id: str, user: RepairWorker, graph: GraphDep, settings: SettingsDep,
          form: CheckedForm) -> Response:
    repairs.close_repair(graph, user, repair_id, form.get("outcome", ""),
                         cost=form.get("cost") or None, note=form.get("note") or None,
                         settings=settings)
    return redirect(repair_url(repair_id, "closed"))


@router.post("/repairs/{repair_id}/spare")
def issue(repair_id: str, user: RepairWorker, graph: GraphDep, form: CheckedForm) -> Response:
    spare = form.get("spare", "").strip()
    if not spare:
        raise InvalidInput(_("Choose the spare to issue"), field="spare")
    spares.issue_spare(graph, user, repair_id, spare)
    return redirect(repair_url(repair_id, "issued"))


@router.post("/spares/issues/{issue_id}/return")
def spare_return(issue_id: str, user: RepairWorker, graph: GraphDep, form: CheckedForm) -> Response:
    issue = spares.return_spare(graph, user, issue_id)
    return redirect(repair_url(issue["repair"], "spare-returned"))


@router.get("/spares/issues/{issue_id}/slip.pdf")
def slip(issue_id: str, user: Viewer, graph: GraphDep, settings: SettingsDep) -> Response:
    return Response(spares.issue_slip(graph, issue_id, settings.label_font),
                    media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{issue_id}.pdf"'})
