"""Standard images on the pages: devices still on a superseded image or on one past its end
of support (per site and category), and the rollout from an image to its successor."""

from __future__ import annotations


from fastapi import APIRouter, Request
from fastapi.responses import Response

from cmdb.auth import GraphDep, Viewer
from cmdb.i18n import _, names
from cmdb.graph.schema import HARDWARE_CATEGORIES, validate_key
from cmdb.images import lineage as images
from cmdb.impact.rollout import rollout
from cmdb.web.render import PageRoute, render

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)

@router.get("/images")
def image_lists(request: Request, user: Viewer, graph: GraphDep, site: str = "", category: str = "",
                on: str = "") -> Response:
    site_key = validate_key(site, "site") if site.strip() else None
    chosen = category if category in HARDWARE_CATEGORIES else None
    superseded = images.on_superseded_images(graph, site=site_key, category=chosen)
    past = images.past_end_of_support(graph, on=on.strip() or None, site=site_key, category=chosen)
    return render(request, "images.html", user=user, title=_("Standard images"), superseded=superseded,
                  past=past, site=site_key or "", category=chosen or "", on=past["on"],
                  categories=HARDWARE_CATEGORIES)


@router.get("/images/{key}/rollout")
def image_rollout(request: Request, key: str, to: str, user: Viewer, graph: GraphDep) -> Response:
    view = rollout(graph, validate_key(key), validate_key(to, "to"),
                   property_name=names.property_label)
    return render(request, "rollout.html", user=user,
                  title=_("Rollout %(image)s → %(new_image)s", image=view['image']['key'],
                            new_image=view['new_image']['key']), view=view)
