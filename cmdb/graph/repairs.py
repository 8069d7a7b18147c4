"""Repair orders in the graph: ``RepairOrder`` nodes and ``(:RepairOrder)-[:CONCERNS]->(:CI)``.
The only module that writes their Cypher; the flow is in ``cmdb.service.repairs``."""

from __future__ import annotations

from typing import Any

from neo4j import ManagedTransaction

from cmdb.graph.connection import Connection as Graph

CREATE_REPAIR = """
MATCH (x:CI {key: $key})
CREATE (r:RepairOrder)-[:CONCERNS]->(x)
SET r = $props
"""

LOCK_REPAIR = """
MATCH (r:RepairOrder {id: $id})
SET r._lock = true
REMOVE r._lock
RETURN properties(r) AS repair
"""

UPDATE_REPAIR = "MATCH (r:RepairOrder {id: $id}) SET r += $props"

REPAIR = "MATCH (r:RepairOrder {id: $id}) RETURN properties(r) AS repair"

REPAIRS = "MATCH (r:RepairOrder) RETURN collect(properties(r)) AS rows"

REPAIRS_OF = "MATCH (r:RepairOrder {key: $key}) RETURN collect(properties(r)) AS rows"


def create(tx: ManagedTransaction, key: str, props: dict[str, Any]) -> None:
    tx.run(CREATE_REPAIR, key=key, props=props).consume()


def lock(tx: ManagedTransaction, repair_id: str) -> dict[str, Any] | None:
    record = tx.run(LOCK_REPAIR, id=repair_id).single()
    return None if record is None else dict(record["repair"])


def update(tx: ManagedTransaction, repair_id: str, props: dict[str, Any]) -> None:
    tx.run(UPDATE_REPAIR, id=repair_id, props=props).consume()


def open_for_key(tx: ManagedTransaction, key: str) -> list[dict[str, Any]]:
    return [dict(r) for r in tx.run(REPAIRS_OF, key=key).single()["rows"]
            if r.get("status") != "closed"]


def get(graph: Graph, repair_id: str) -> dict[str, Any] | None:
    rows = graph.read(REPAIR, id=repair_id)
    return dict(rows[0]["repair"]) if rows else None


def all_repairs(graph: Graph) -> list[dict[str, Any]]:
    return [dict(r) for r in graph.read_list(REPAIRS)]


def repairs_of(graph: Graph, key: str) -> list[dict[str, Any]]:
    return [dict(r) for r in graph.read_list(REPAIRS_OF, key=key)]
