"""Browse and search the register (``/cis``) and one CI with relationships and history."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cmdb.auth import GraphDep, SettingsDep, Viewer
from cmdb.documents import service as documents
from cmdb.images import lineage as images
from cmdb.graph import schema
from cmdb.graph.schema import validate_key
from cmdb.web.faults import ci_service_panel
from cmdb.i18n import _
from cmdb.web.render import PageRoute, render
from cmdb.web.views import ci_view, ci_views, property_labels, register_category_names

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)

PAGE_SIZE = 50
HISTORY_SIZE = 50


@router.get("/cis")
def browse(request: Request, user: Viewer, graph: GraphDep, settings: SettingsDep,
           q: str = "", kind: str = "", location: str = "", page: int = 1) -> Response:
    q = q.strip()[: settings.max_query_length]
    kind_label = schema.kind_of(kind).label if kind else None
    inside = graph.get_ci(validate_key(location, "location")) if location.strip() else None
    page = max(1, min(page, 100_000))
    result = graph.list_cis(kind=kind_label, q=q or None, location=inside.key if inside else None,
                            offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    last_page = max(1, (result.total + PAGE_SIZE - 1) // PAGE_SIZE)
    return render(request, "cis.html", user=user, title=_("Configuration items"),
                  items=ci_views(graph, result.items), total=result.total, q=q,
                  kind=kind_label or "", kinds=list(schema.KINDS), page=page, last_page=last_page,
                  inside=inside)


@router.get("/cis/{key}")
def detail(request: Request, key: str, user: Viewer, graph: GraphDep) -> Response:
    key = validate_key(key)
    ci = graph.get_ci(key)
    view = ci_view(ci, graph.location_path(key))
    relationships = graph.relationships(key)
    history, total = graph.history(key, limit=HISTORY_SIZE)
    system = {p.name for p in schema.KINDS[ci.kind].properties if p.system}
    user_props = sorted((k, v) for k, v in ci.properties.items() if k not in system)
    system_props = sorted((k, v) for k, v in ci.properties.items() if k in system)
    words = graph.vocabulary()
    return render(request, "ci.html", user=user, title=f"{key} {view.name}".strip(), ci=view,
                  user_props=user_props, system_props=system_props,
                  labels=property_labels(words, ci.kind),
                  register_categories=register_category_names(words),
                  outgoing=[r for r in relationships if r["direction"] == "out"],
                  incoming=[r for r in relationships if r["direction"] == "in"],
                  history=[h.as_dict() for h in history], history_total=total,
                  can_impact=user.role in ("reviewer", "admin"),
                  attached=documents.for_ci(graph, key),
                  lineage=images.lineage(graph, key) if ci.kind == "SoftwareImage" else None, **ci_service_panel(graph, key))
