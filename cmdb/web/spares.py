"""The spares page: stock per model and location against the minimum, and forms to mark
hardware a spare and set a minimum (asset staff, registrar)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cmdb.auth import GraphDep, Viewer
from cmdb.errors import InvalidInput
from cmdb.i18n import _
from cmdb.service import spares
from cmdb.web.forms import CheckedForm
from cmdb.web.render import PageRoute, redirect, render
from cmdb.web.roles import SPARE_ROLES, SpareKeeper

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)


@router.get("/spares")
def spares_page(request: Request, user: Viewer, graph: GraphDep, done: str | None = None) -> Response:
    return render(request, "spares.html", user=user, wide=True, title=_("Spares"),
                  stock=spares.stock(graph), issues=spares.list_issues(graph, open_only=True),
                  can_manage=user.role in SPARE_ROLES, done=done)


@router.post("/spares")
def mark(user: SpareKeeper, graph: GraphDep, form: CheckedForm) -> Response:
    spares.mark_spare(graph, user, form.get("key", ""), location=form.get("location") or None,
                      model=form.get("model") or None)
    return redirect("/spares?done=marked")


@router.post("/spares/minimums")
def minimum(user: SpareKeeper, graph: GraphDep, form: CheckedForm) -> Response:
    text = form.get("minimum", "").strip()
    if not text.isdigit():
        raise InvalidInput(_("minimum %(value)s is not a whole number", value=repr(text)), field="minimum", value=text)
    spares.set_minimum(graph, user, form.get("model", ""), form.get("location", ""), int(text))
    return redirect("/spares?done=minimum")
