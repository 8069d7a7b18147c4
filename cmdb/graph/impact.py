"""Reads for impact analysis and compatibility checks.

Impact is computed in ``cmdb.impact.service`` from plain data fetched here. The affected
subgraph comes from a typed variable-length traversal backwards from the changed CIs, a
bounded number of steps at a time (``REACH_STEPS``): enumerating paths is cheap for a few
steps and can grow quickly for many, so a deep impact is fetched in several rounds, each
starting from the CIs at the edge of the previous one. Each round returns, for every CI it
reaches, what the CI needs among the reached CIs (the last relationship of each path), its
direct location and its number of hosts; distances and states are computed in Python.

Bulk reads return one record holding a list: on the embedded engine each streamed record
costs far more than an element of a list (3,000 keys: ~0.5 s as rows, ~0.1 s collected).
Traversals start at a CI looked up through the indexed ``CI`` label and are written
``(c)<-[...]-(x)``: the form ``MATCH (x:CI)-[...]->(c:CI {key: k})`` scans every CI there.
"""

from __future__ import annotations

from typing import Any, Sequence

from cmdb.graph.batching import chunks
from cmdb.graph.connection import Connection
from cmdb.graph.schema import NEEDS_RELATIONSHIPS
from cmdb.graph.values import kind_from_labels

REACH_STEPS = 8
FRONTIER_BATCH = 5000

# The relationship types that read "A needs B", from the schema's closed set.
_NEEDS = "|".join(NEEDS_RELATIONSHIPS)


def reach_query(steps: int) -> str:
    """CIs that reach the ``$keys`` CIs within ``steps`` relationships (an int, never user text)."""
    steps = int(steps)
    assert 1 <= steps <= 64
    return f"""
UNWIND $keys AS k
MATCH p = (c:CI {{key: k}})<-[:{_NEEDS}*1..{steps}]-(x)
WITH DISTINCT x, relationships(p)[-1] AS r, nodes(p)[-2] AS y
WITH x, collect([type(r), y.key]) AS needs
OPTIONAL MATCH (x)-[:LOCATED_IN]->(loc)
OPTIONAL MATCH (x)-[:RUNS_ON]->(h)
WITH x, needs, loc, count(h) AS hosts
RETURN collect([x.key, labels(x), x.name, x.type, x.criticality, x.min_hosts, hosts,
                loc.key, loc.name, loc.type, needs]) AS rows
"""


DEVICES_BUILT_FROM = """
MATCH (img:CI {key: $key})<-[:RUNS_IMAGE]-(h)
OPTIONAL MATCH (h)<-[:RUNS_ON]-(a)
WITH h, collect(a.key) AS applications
WITH h, applications ORDER BY h.key
RETURN collect([h.key, h.name, h.category, h.status, h.model, h.cpu_cores, h.ram_gb, h.disk_gb,
                applications]) AS rows
"""
_DEVICE_FIELDS = ("key", "name", "category", "status", "model", "cpu_cores", "ram_gb", "disk_gb",
                  "applications")

IMAGES_ON = """
MATCH (h:CI {key: $key})-[:RUNS_IMAGE]->(img)
RETURN img.key AS key, properties(img) AS props
ORDER BY key
"""

APPLICATIONS_ON = """
MATCH (h:CI {key: $key})<-[:RUNS_ON]-(a)
RETURN a.key AS key, a.name AS name, a.criticality AS criticality
ORDER BY key
"""


def reach(graph: Connection, keys: Sequence[str], steps: int) -> list[dict[str, Any]]:
    """Every CI within ``steps`` relationships of ``keys`` (following them backwards): key,
    kind, name, type (of a location), criticality, min_hosts, hosts (how many it RUNS_ON),
    location (what it is directly LOCATED_IN, or None) and needs, the (type, key) pairs of the
    relationships it has to CIs within ``steps - 1`` of ``keys``."""
    index = graph.list_index
    if index is not None:
        # A long-running process holds what each CI needs in memory (cmdb.graph.list_index).
        index.catch_up()
        return index.reach(keys, steps)
    query = reach_query(steps)
    found: list[dict[str, Any]] = []
    for batch in chunks(list(keys), FRONTIER_BATCH):
        for (key, labels, name, type_, criticality, min_hosts, hosts,
             loc_key, loc_name, loc_type, needs) in graph.read_list(query, keys=batch):
            found.append({
                "key": key, "kind": kind_from_labels(labels), "name": name, "type": type_,
                "criticality": criticality, "min_hosts": min_hosts, "hosts": hosts,
                "location": None if loc_key is None else {"key": loc_key, "name": loc_name, "type": loc_type},
                "needs": [(rel, target) for rel, target in needs]})
    return found


def devices_built_from(graph: Connection, image_key: str) -> list[dict[str, Any]]:
    """The hardware that RUNS_IMAGE the image, with its capacity and the applications on it."""
    rows = [dict(zip(_DEVICE_FIELDS, values)) for values in graph.read_list(DEVICES_BUILT_FROM, key=image_key)]
    for row in rows:
        row["applications"] = sorted(a for a in row["applications"] if a is not None)
    return rows


def images_on(graph: Connection, hardware_key: str) -> list[dict[str, Any]]:
    return graph.read(IMAGES_ON, key=hardware_key)


def applications_on(graph: Connection, hardware_key: str) -> list[dict[str, Any]]:
    return graph.read(APPLICATIONS_ON, key=hardware_key)
