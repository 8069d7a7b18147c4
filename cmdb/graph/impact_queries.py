"""Reads for impact analysis and compatibility checks.

Impact is computed in ``cmdb.impact.service`` from plain data fetched here: the graph is
walked backwards from the changed CIs one level per query (``UNWIND`` the frontier, look each
key up through the indexed ``CI`` label, take its incoming relationships). Each query is
linear in the relationships it returns, so diamonds and cycles cannot multiply the work the
way path enumeration of a variable-length pattern can, and each level gives exact distances.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

from cmdb.graph.schema import RELATIONSHIPS
from cmdb.graph.store import Graph, kind_from_labels

FRONTIER_BATCH = 5000

# Every relationship type reads "A needs B": the types come from the schema's closed set.
_NEEDS = "|".join(RELATIONSHIPS)

NEEDERS_OF = f"""
UNWIND $keys AS k
MATCH (c:CI {{key: k}})
MATCH (x:CI)-[r:{_NEEDS}]->(c)
RETURN x.key AS key, labels(x) AS labels, x.name AS name, x.type AS type,
       x.criticality AS criticality, x.min_hosts AS min_hosts, type(r) AS rel, k AS target
"""

HOST_COUNTS = """
UNWIND $keys AS k
MATCH (a:CI {key: k})-[:RUNS_ON]->(h:CI)
RETURN k AS key, count(h) AS hosts
"""

PARENT_LOCATIONS = """
UNWIND $keys AS k
MATCH (n:CI {key: k})-[:LOCATED_IN]->(p:CI)
RETURN k AS key, p.key AS parent, p.name AS name, p.type AS type
"""

DEVICES_BUILT_FROM = """
MATCH (img:CI {key: $key})
MATCH (h:CI)-[:RUNS_IMAGE]->(img)
OPTIONAL MATCH (a:CI)-[:RUNS_ON]->(h)
WITH h, collect(a.key) AS applications
RETURN h.key AS key, h.name AS name, h.category AS category, h.status AS status,
       h.model AS model, h.cpu_cores AS cpu_cores, h.ram_gb AS ram_gb, h.disk_gb AS disk_gb,
       applications
ORDER BY key
"""

IMAGES_ON = """
MATCH (h:CI {key: $key})-[:RUNS_IMAGE]->(img:CI)
RETURN img.key AS key, properties(img) AS props
ORDER BY key
"""

APPLICATIONS_ON = """
MATCH (a:CI)-[:RUNS_ON]->(h:CI {key: $key})
RETURN a.key AS key, a.name AS name, a.criticality AS criticality
ORDER BY key
"""


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def needers_of(graph: Graph, keys: Sequence[str]) -> list[dict[str, Any]]:
    """Every relationship ``x -[rel]-> target`` whose target is one of ``keys``, with x's
    key, kind, name, location type, criticality and min_hosts."""
    rows: list[dict[str, Any]] = []
    for batch in _chunks(keys, FRONTIER_BATCH):
        for row in graph.read(NEEDERS_OF, keys=batch):
            row["kind"] = kind_from_labels(row.pop("labels"))
            rows.append(row)
    return rows


def host_counts(graph: Graph, application_keys: Sequence[str]) -> dict[str, int]:
    """How many hosts each application RUNS_ON, affected or not."""
    counts: dict[str, int] = {}
    for batch in _chunks(application_keys, FRONTIER_BATCH):
        for row in graph.read(HOST_COUNTS, keys=batch):
            counts[row["key"]] = row["hosts"]
    return counts


def parent_locations(graph: Graph, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The location each CI is directly LOCATED_IN: ``{key: {"key", "name", "type"}}``."""
    parents: dict[str, dict[str, Any]] = {}
    for batch in _chunks(keys, FRONTIER_BATCH):
        for row in graph.read(PARENT_LOCATIONS, keys=batch):
            parents[row["key"]] = {"key": row["parent"], "name": row["name"], "type": row["type"]}
    return parents


def devices_built_from(graph: Graph, image_key: str) -> list[dict[str, Any]]:
    """The hardware that RUNS_IMAGE the image, with its capacity and the applications on it."""
    rows = graph.read(DEVICES_BUILT_FROM, key=image_key)
    for row in rows:
        row["applications"] = sorted(a for a in row["applications"] if a is not None)
    return rows


def images_on(graph: Graph, hardware_key: str) -> list[dict[str, Any]]:
    return graph.read(IMAGES_ON, key=hardware_key)


def applications_on(graph: Graph, hardware_key: str) -> list[dict[str, Any]]:
    return graph.read(APPLICATIONS_ON, key=hardware_key)
