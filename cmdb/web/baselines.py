"""Baselines on the pages: the list, and one baseline compared with now (or a newer one)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cmdb.auth import GraphDep, SettingsDep, Viewer
from cmdb.baselines import service as baselines
from cmdb.documents.store import file_store
from cmdb.i18n import _, names
from cmdb.web.render import TEMPLATES, PageRoute, render

TEMPLATES.globals.update(change_name=names.change_name)

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)


@router.get("/baselines")
def baseline_list(request: Request, user: Viewer, graph: GraphDep) -> Response:
    return render(request, "baselines.html", user=user, title=_("Baselines"),
                  baselines=list(reversed(baselines.list_all(graph))))


@router.get("/baselines/{name}")
def baseline_diff(request: Request, name: str, user: Viewer, graph: GraphDep, settings: SettingsDep,
                  to: str = "now") -> Response:
    diff = baselines.diff(graph, file_store(settings), name, to)
    others = [b["name"] for b in baselines.list_all(graph)
              if b["created_at"] > diff["baseline"]["created_at"] and b["scope"] == diff["scope"]]
    return render(request, "baseline.html", user=user, title=_("Baseline %(name)s", name=diff['baseline']['name']),
                  diff=diff, others=others, to=diff["to"]["name"] if diff["to"] else "now")
