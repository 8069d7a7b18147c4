"""Image lineage and the lists built on it.

``W11-2026 -SUPERSEDES-> W10-2026`` says W11-2026 replaces W10-2026. Devices in service (any
status but retired and disposed) on an image that has a successor are "still on a superseded
image"; those on an image whose ``end_of_support`` is before a day (today unless asked) are
"past end of support". Both lists are per device with its site, and counted per site and
category.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from cmdb.errors import Conflict, WrongKind
from cmdb.graph import CI, Graph, images as image_queries
from cmdb.graph.schema import DATE, Prop, convert_value
from cmdb.i18n import _, names

NO_SITE = "(no site)"


def require_image(graph: Graph, key: str, field: str = "key") -> CI:
    image = graph.get_ci(key)
    if image.kind != "SoftwareImage":
        raise WrongKind(_("%(key)s is a %(kind)s, not a SoftwareImage", key=repr(key),
                          kind=names.kind_name(image.kind)), field=field, value=key,
                        allowed=_("the key of a %(kind)s", kind="SoftwareImage"))
    return image


def lineage(graph: Graph, key: str, *, today: str | None = None) -> dict[str, Any]:
    """One image with what it supersedes and what supersedes it (directly and all the way)."""
    image = require_image(graph, key)
    supersedes, superseded_by = image_queries.direct_lineage(graph, image.key)
    end = image.properties.get("end_of_support")
    today = today or dt.date.today().isoformat()
    return {
        "image": _image(image),
        "supersedes": supersedes,
        "superseded_by": superseded_by,
        "older": image_queries.older_images(graph, image.key),
        "newer": image_queries.newer_images(graph, image.key),
        "devices": image_queries.count_devices_on(graph, image.key),
        "past_end_of_support": bool(end) and end < today,
    }


def _image(ci: CI) -> dict[str, Any]:
    return {"key": ci.key, "name": ci.name, "version": ci.properties.get("version"),
            "end_of_support": ci.properties.get("end_of_support")}


def _with_sites(graph: Graph, devices: list[dict[str, Any]]) -> list[dict[str, Any]]:
    paths = graph.location_paths([d["key"] for d in devices])
    for device in devices:
        path = paths.get(device["key"], [])
        site = next((p for p in path if p.get("type") == "site"), path[0] if path else None)
        device["site"] = site["key"] if site else None
        device["site_name"] = site.get("name") if site else None
    return devices


def _filtered(devices: list[dict[str, Any]], site: str | None,
              category: str | None) -> list[dict[str, Any]]:
    return [d for d in devices if (site is None or d["site"] == site)
            and (category is None or d["category"] == category)]


def _report(devices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    by_site = Counter(d["site"] or NO_SITE for d in devices)
    by_category = Counter(d["category"] or "(none)" for d in devices)
    by_image = Counter(d["image"] for d in devices)
    return {**extra, "devices": devices, "total": len(devices),
            "by_site": dict(sorted(by_site.items())),
            "by_category": dict(sorted(by_category.items())),
            "by_image": dict(sorted(by_image.items()))}


def _check_site(graph: Graph, site: str | None) -> None:
    if site is not None:
        graph.get_ci(site)


def on_superseded_images(graph: Graph, *, site: str | None = None,
                         category: str | None = None) -> dict[str, Any]:
    """Devices in service still on an image that another image supersedes."""
    _check_site(graph, site)
    devices = _with_sites(graph, image_queries.devices_on_superseded_images(graph))
    return _report(_filtered(devices, site, category), site=site, category=category)


def past_end_of_support(graph: Graph, *, on: str | None = None, site: str | None = None,
                        category: str | None = None) -> dict[str, Any]:
    """Devices in service on an image whose end of support is before ``on`` (default today)."""
    day = (convert_value(Prop("on", DATE), on) if on is not None else dt.date.today().isoformat())
    _check_site(graph, site)
    devices = _with_sites(graph, image_queries.devices_past_support(graph, day))
    return _report(_filtered(devices, site, category), on=day, site=site, category=category)


def check_no_self_rollout(old: str, new: str) -> None:
    if old == new:
        raise Conflict(_("The rollout goes from %(key)s to itself; name the image that replaces it",
                         key=repr(old)),
                       {"field": "to", "value": new})
