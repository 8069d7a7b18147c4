"""Reads for standard-image lineage: which image supersedes which, which devices run an image
that has a successor, which run one past its end of support, and which were re-imaged.

Images are few, so the lists start from the ``SoftwareImage`` label; devices are reached
through their ``RUNS_IMAGE`` links.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from cmdb.graph.connection import Connection as Graph

_IMAGE_FIELDS = ("key", "name", "version", "end_of_support")

NEWER_IMAGES = """
MATCH (img:CI {key: $key})<-[:SUPERSEDES*1..32]-(n:SoftwareImage)
RETURN collect(DISTINCT [n.key, n.name, n.version, n.end_of_support]) AS rows
"""

OLDER_IMAGES = """
MATCH (img:CI {key: $key})-[:SUPERSEDES*1..32]->(o:SoftwareImage)
RETURN collect(DISTINCT [o.key, o.name, o.version, o.end_of_support]) AS rows
"""

DIRECT_LINEAGE = """
MATCH (img:CI {key: $key})
OPTIONAL MATCH (img)-[:SUPERSEDES]->(o:SoftwareImage)
WITH img, collect(o.key) AS supersedes
OPTIONAL MATCH (n:SoftwareImage)-[:SUPERSEDES]->(img)
RETURN supersedes, collect(n.key) AS superseded_by
"""

COUNT_DEVICES_ON = """
MATCH (img:CI {key: $key})<-[:RUNS_IMAGE]-(h:Hardware)
RETURN count(h) AS devices
"""

# Devices in service (not retired or disposed) on an image another one supersedes.
DEVICES_ON_SUPERSEDED = """
MATCH (newer:SoftwareImage)-[:SUPERSEDES]->(img:SoftwareImage)
WITH img, collect(newer.key) AS newer
MATCH (img)<-[:RUNS_IMAGE]-(h:Hardware)
WHERE NOT coalesce(h.status, '') IN ['retired', 'disposed']
RETURN collect([h.key, h.name, h.category, h.status, img.key, img.end_of_support, newer]) AS rows
"""

# Devices in service on an image whose end of support (YYYY-MM-DD text) is before $on.
DEVICES_PAST_SUPPORT = """
MATCH (img:SoftwareImage)
WHERE img.end_of_support IS NOT NULL AND img.end_of_support < $on
MATCH (img)<-[:RUNS_IMAGE]-(h:Hardware)
WHERE NOT coalesce(h.status, '') IN ['retired', 'disposed']
OPTIONAL MATCH (newer:SoftwareImage)-[:SUPERSEDES]->(img)
WITH h, img, collect(newer.key) AS newer
RETURN collect([h.key, h.name, h.category, h.status, img.key, img.end_of_support, newer]) AS rows
"""
_DEVICE_FIELDS = ("key", "name", "category", "status", "image", "end_of_support", "superseded_by")

UNLINKS_OF = """
UNWIND $keys AS k
MATCH (c:Change {key: k})
WHERE c.action = 'unlink'
RETURN collect([c.key, c.at, c.actor, c.source, c.before]) AS rows
"""


def _images(rows: list[list[Any]]) -> list[dict[str, Any]]:
    return sorted((dict(zip(_IMAGE_FIELDS, row)) for row in rows), key=lambda i: i["key"])


def newer_images(graph: Graph, key: str) -> list[dict[str, Any]]:
    """Every image that supersedes ``key``, directly or through others."""
    return _images(graph.read_list(NEWER_IMAGES, key=key))


def older_images(graph: Graph, key: str) -> list[dict[str, Any]]:
    """Every image ``key`` supersedes, directly or through others."""
    return _images(graph.read_list(OLDER_IMAGES, key=key))


def direct_lineage(graph: Graph, key: str) -> tuple[list[str], list[str]]:
    """(the images ``key`` supersedes, the images superseding it), one step each way."""
    rows = graph.read(DIRECT_LINEAGE, key=key)
    if not rows:
        return [], []
    return sorted(rows[0]["supersedes"]), sorted(rows[0]["superseded_by"])


def count_devices_on(graph: Graph, key: str) -> int:
    return graph.read(COUNT_DEVICES_ON, key=key)[0]["devices"]


def _devices(rows: list[list[Any]]) -> list[dict[str, Any]]:
    devices = [dict(zip(_DEVICE_FIELDS, row)) for row in rows]
    for device in devices:
        device["superseded_by"] = sorted(device["superseded_by"])
    return sorted(devices, key=lambda d: d["key"])


def devices_on_superseded_images(graph: Graph) -> list[dict[str, Any]]:
    return _devices(graph.read_list(DEVICES_ON_SUPERSEDED))


def devices_past_support(graph: Graph, on: str) -> list[dict[str, Any]]:
    """Devices on an image whose end of support is before ``on`` (YYYY-MM-DD)."""
    return _devices(graph.read_list(DEVICES_PAST_SUPPORT, on=on))


def image_unlinks(graph: Graph, keys: Sequence[str], image_key: str) -> dict[str, dict[str, Any]]:
    """For each of ``keys`` the latest history entry that took its RUNS_IMAGE link to
    ``image_key`` away (at, actor, source), if any."""
    found: dict[str, dict[str, Any]] = {}
    if not keys:
        return found
    for key, at, actor, source, before in graph.read_list(UNLINKS_OF, keys=list(keys)):
        link = json.loads(before) if before else {}
        if link.get("type") != "RUNS_IMAGE" or link.get("to") != image_key:
            continue
        if key not in found or at > found[key]["at"]:
            found[key] = {"at": at, "actor": actor, "source": source}
    return found
