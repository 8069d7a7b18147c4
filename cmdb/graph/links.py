"""Reads of relationships and of where CIs are: neighbours, containment paths and trees.

Writing a relationship is the writer's job (``cmdb.graph.writer``); this module only reads.
"""

from __future__ import annotations

from typing import Any, Sequence

from cmdb.graph import schema
from cmdb.graph.batching import BATCH_SIZE, chunks
from cmdb.graph.connection import Connection
from cmdb.graph.schema import CI_LABEL
from cmdb.graph.values import kind_from_labels

RELATIONSHIPS_OF = """
MATCH (n:CI {key: $key})
CALL (n) {
  MATCH (n)-[r]->(m:CI)
  RETURN 'out' AS direction, type(r) AS type, m AS other, properties(r) AS props
  UNION
  MATCH (m:CI)-[r]->(n)
  RETURN 'in' AS direction, type(r) AS type, m AS other, properties(r) AS props
}
RETURN direction, type, other.key AS key, labels(other) AS labels, other.name AS name, props
ORDER BY direction DESC, type, key
"""

LOCATION_PATHS = """
UNWIND $keys AS k
MATCH (n:CI {key: k})
OPTIONAL MATCH p = (n)-[:LOCATED_IN*1..32]->(top:CI)
WHERE NOT (top)-[:LOCATED_IN]->()
RETURN k AS key, [x IN nodes(p) | {key: x.key, name: x.name, type: x.type}] AS path
"""

SUBTREE_KEYS = """
MATCH (root:CI {key: $key})
MATCH (n:CI)-[:LOCATED_IN*0..32]->(root)
RETURN DISTINCT n.key AS key
"""

KEYS_INSIDE = """
UNWIND $keys AS k
MATCH (n:CI {key: k})-[:LOCATED_IN*0..32]->(root:CI {key: $root})
RETURN DISTINCT n.key AS key
"""

# The location tree is small (thousands of rooms and racks); it is read whole and walked
# in Python.
LOCATION_TREE = f"""
MATCH (n:Location)
OPTIONAL MATCH (n)-[:LOCATED_IN]->(p:{CI_LABEL})
RETURN collect([n.key, n.name, n.type, p.key]) AS rows
"""
LOCATION_FIELDS = ("key", "name", "type", "parent")

COUNT_BY_RELATIONSHIP = "MATCH (:CI)-[r]->(:CI) RETURN type(r) AS type, count(r) AS count"


def relationships(conn: Connection, key: str) -> list[dict[str, Any]]:
    """The relationships of ``key`` both ways (the caller knows it exists)."""
    return [{"direction": r["direction"], "type": r["type"], "key": r["key"],
             "kind": kind_from_labels(r["labels"]), "name": r["name"]}
            for r in conn.read(RELATIONSHIPS_OF, key=key)]


def neighbours(conn: Connection, key: str, *, direction: str = "both",
               types: Sequence[str] | None = None) -> list[dict[str, Any]]:
    wanted = {schema.relationship_of(t).type for t in types} if types else None
    return [r for r in relationships(conn, key)
            if (direction == "both" or r["direction"] == direction)
            and (wanted is None or r["type"] in wanted)]


def location_paths(conn: Connection, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The containment chain above each key, outermost first (site, building, room, rack)."""
    index = conn.list_index
    if index is not None:
        index.catch_up()
        return index.location_paths(keys)
    paths: dict[str, list[dict[str, Any]]] = {}
    for batch in chunks(list(dict.fromkeys(keys)), BATCH_SIZE):
        for row in conn.read(LOCATION_PATHS, keys=list(batch)):
            path = row["path"] or []
            best = paths.get(row["key"], [])
            if len(path) > len(best):
                paths[row["key"]] = path
    return {k: list(reversed(p[1:])) for k, p in paths.items()}


def subtree_keys(conn: Connection, location_key: str) -> list[str]:
    """The key and every CI inside it; empty when there is no such CI."""
    return [r["key"] for r in conn.read(SUBTREE_KEYS, key=location_key)]


def keys_inside(conn: Connection, location_key: str, keys: Sequence[str]) -> set[str]:
    """Those of ``keys`` that are ``location_key`` or located in it at any depth."""
    if not keys:
        return set()
    return {r["key"] for r in conn.read(KEYS_INSIDE, root=location_key, keys=list(set(keys)))}


def location_tree(conn: Connection) -> list[dict[str, Any]]:
    """Every location with its name, type and parent key (None at the top)."""
    return conn.read_rows(LOCATION_TREE, LOCATION_FIELDS)


def relationship_counts(conn: Connection) -> dict[str, int]:
    return {row["type"]: row["count"] for row in conn.read(COUNT_BY_RELATIONSHIP)}

