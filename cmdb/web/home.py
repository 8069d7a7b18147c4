"""Home (type or scan a tag), the page assets, and the location picker's JSON."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response

from cmdb.audit import service
from cmdb.i18n import _
from cmdb.auth import GraphDep, SettingsDep, Viewer, public
from cmdb.web.render import JsonRoute, PageRoute, redirect, render
from cmdb.web.roles import RECORDING_ROLES
from cmdb.web.views import location_choices

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)
json_router = APIRouter(route_class=JsonRoute, tags=["pages"], include_in_schema=False)

STATIC = Path(__file__).parent / "static"
ASSETS = {p.name: p for p in STATIC.iterdir() if p.suffix in (".css", ".js")}
MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@router.get("/")
def home(request: Request, user: Viewer, graph: GraphDep, tag: str | None = None) -> Response:
    if tag and tag.strip():
        return redirect("/s/" + quote(tag.strip()[:200], safe=""))
    campaigns = service.open_campaigns(graph) if user.role in RECORDING_ROLES else []
    return render(request, "home.html", user=user, title=_("Home"), campaigns=campaigns,
                  can_record=user.role in RECORDING_ROLES)


@router.get("/assets/{name}", dependencies=[Depends(public)])
def asset(name: str) -> Response:
    path = ASSETS.get(name)
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain")
    headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=headers)


@json_router.get("/web/locations.json")
def locations(user: Viewer, graph: GraphDep, settings: SettingsDep, q: str = "") -> dict:
    q = q.strip()[: settings.max_query_length]
    return {"items": location_choices(graph, q or None)}

