"""Contract pages: the list with expiring ones marked, one contract with what it covers, forms
to register a contract and cover CIs (registrar), and the warranty report download."""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cmdb.auth import GraphDep, Viewer
from cmdb.i18n import _
from cmdb.i18n import names
from cmdb.service import contracts, warranty
from cmdb.web.forms import CheckedForm
from cmdb.web.render import TEMPLATES, PageRoute, redirect, render
from cmdb.web.roles import CONTRACT_ROLES, ContractKeeper

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)
EXPIRING_DAYS = 90
# Contract types, coverage, repair statuses and outcomes as words on the service pages.
TEMPLATES.globals.update(
    contract_type_name=names.contract_type_name, coverage_name=names.coverage_name,
    repair_status_name=names.repair_status_name, repair_outcome_name=names.repair_outcome_name,
    overdue_reason_name=names.overdue_reason_name, issue_state_name=names.issue_state_name,
)
REPORT_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8"}


def _keys(text: str) -> list[str]:
    return [k for k in re.split(r"[\s,;、]+", text or "") if k]


@router.get("/contracts")
def contracts_page(request: Request, user: Viewer, graph: GraphDep, done: str | None = None) -> Response:
    rows = contracts.list_contracts(graph)
    expiring = {r["number"] for r in contracts.list_contracts(graph, expiring_within_days=EXPIRING_DAYS)}
    return render(request, "contracts.html", user=user, wide=True, title=_("Contracts"), contracts=rows,
                  expiring=expiring, types=contracts.CONTRACT_TYPES, coverage=contracts.COVERAGE,
                  can_manage=user.role in CONTRACT_ROLES, done=done)


@router.post("/contracts")
def add(user: ContractKeeper, graph: GraphDep, request: Request, form: CheckedForm) -> Response:
    fields = {name: form.get(name) for name in ("vendor", "type", "start", "end", "title")
              if form.get(name)}
    coverage = [c for c in contracts.COVERAGE if form.get(f"coverage_{c}")]
    if coverage:
        fields["coverage"] = coverage
    contract = contracts.add_contract(graph, user, form.get("number", ""), fields,
                                      _keys(form.get("covers", "")))
    return redirect("/contracts/" + quote(contract["number"], safe="") + "?done=added")


@router.get("/contracts/{number}")
def contract_page(request: Request, number: str, user: Viewer, graph: GraphDep,
                  done: str | None = None) -> Response:
    contract = contracts.get_contract(graph, number)
    return render(request, "contract.html", user=user, title=_("Contract %(number)s", number=number),
                  contract=contract, can_manage=user.role in CONTRACT_ROLES, done=done)


@router.post("/contracts/{number}/covers")
def cover(number: str, user: ContractKeeper, graph: GraphDep, form: CheckedForm) -> Response:
    contracts.link_contract(graph, user, number, _keys(form.get("keys", "")),
                            remove=form.get("remove") == "1")
    return redirect("/contracts/" + quote(number, safe="") + "?done=linked")


@router.get("/warranty/report.{fmt}")
def report(fmt: str, user: Viewer, graph: GraphDep, within: int = EXPIRING_DAYS) -> Response:
    days = warranty.parse_window(within)
    fmt = warranty.format_of(f"w.{fmt}")
    body = warranty.render(warranty.warranty_report(graph, days), fmt)
    return Response(body, media_type=REPORT_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="warranty.{fmt}"'})
