"""Standard images on the pages: devices still on a superseded image or on one past its end
of support (per site and category), and the rollout from an image to its successor."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cmdb.auth import GraphDep, Viewer
from cmdb.i18n import _, names
from cmdb.graph.schema import HARDWARE_CATEGORIES, validate_key
from cmdb.images import lineage as images
from cmdb.impact.rollout import rollout
from cmdb.web.render import PageRoute, render

router = APIRouter(route_class=PageRoute, tags=["pages"], include_in_schema=False)

# The phrases cmdb.impact.rollout gives for a device that cannot (or may not) move, and for the
# summary's counts per reason; the page shows them in the reader's language.
_BELOW = re.compile(r"(?P<property>[a-z_]+) (?P<actual>\S+) below (?P<required>\S+)")
_KIND_BELOW = re.compile(r"(?P<property>[a-z_]+) below (?P<required>\S+)")
_NOT_RECORDED = re.compile(r"(?P<property>[a-z_]+) not recorded")
_MODEL_NOT_SUPPORTED = re.compile(r"model (?P<model>.+) not supported")


def reason_text(reason: str) -> str:
    """One reason of the rollout in words of the current language (as it is if unknown)."""
    if reason == "model not recorded":
        return _("model not recorded")
    if reason == "model not supported":
        return _("model not supported")
    if m := _MODEL_NOT_SUPPORTED.fullmatch(reason):
        return _("model %(model)s not supported", model=m["model"])
    if m := _NOT_RECORDED.fullmatch(reason):
        return _("%(property)s not recorded", property=names.property_label(m["property"]))
    if m := _BELOW.fullmatch(reason):
        return _("%(property)s %(actual)s below %(required)s",
                 property=names.property_label(m["property"]), actual=m["actual"], required=m["required"])
    if m := _KIND_BELOW.fullmatch(reason):
        return _("%(property)s below %(required)s", property=names.property_label(m["property"]),
                 required=m["required"])
    return reason


def _in_words(view: dict[str, Any]) -> dict[str, Any]:
    rows = {part: [{**d, "reasons": [reason_text(r) for r in d["reasons"]]} for d in view[part]]
            for part in ("can", "cannot", "unknown")}
    summary = {**view["summary"],
               "reasons": {reason_text(r): n for r, n in view["summary"]["reasons"].items()}}
    return {**view, **rows, "summary": summary}


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
    view = rollout(graph, validate_key(key), validate_key(to, "to"))
    return render(request, "rollout.html", user=user,
                  title=_("Rollout %(image)s → %(new_image)s", image=view['image']['key'],
                            new_image=view['new_image']['key']), view=_in_words(view))
