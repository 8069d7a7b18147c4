"""Contracts (warranty, maintenance, support, lease) in the graph: ``Contract`` nodes, unique
by number, and ``(:Contract)-[:COVERS]->(:CI)``. The only module that writes their Cypher."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from neo4j import ManagedTransaction

from cmdb.graph.history import ChangeLog
from cmdb.graph.connection import Connection as Graph

CREATE_CONTRACT = "CREATE (c:Contract) SET c = $props"

LOCK_CONTRACT = """
MATCH (c:Contract {number: $number})
SET c._lock = true
REMOVE c._lock
RETURN properties(c) AS contract
"""

UPDATE_CONTRACT = "MATCH (c:Contract {number: $number}) SET c += $props"

CONTRACT = """
MATCH (c:Contract {number: $number})
OPTIONAL MATCH (c)-[:COVERS]->(x:CI)
RETURN properties(c) AS contract, collect(x.key) AS covers
"""

CONTRACTS = """
MATCH (c:Contract)
OPTIONAL MATCH (c)-[:COVERS]->(x:CI)
WITH c, count(x) AS covered
RETURN collect([properties(c), covered]) AS rows
"""

COVERED_KEYS = """
UNWIND $keys AS k
MATCH (c:Contract {number: $number})-[:COVERS]->(x:CI {key: k})
RETURN collect(x.key) AS keys
"""

COVER = """
UNWIND $keys AS k
MATCH (c:Contract {number: $number})
MATCH (x:CI {key: k})
CREATE (c)-[r:COVERS]->(x)
SET r.created_at = $at, r.created_by = $actor
"""

UNCOVER = """
UNWIND $keys AS k
MATCH (c:Contract {number: $number})-[r:COVERS]->(x:CI {key: k})
DELETE r
"""

CONTRACTS_OF = """
UNWIND $keys AS k
MATCH (x:CI {key: k})
MATCH (x)<-[:COVERS]-(c:Contract)
RETURN collect([k, properties(c)]) AS rows
"""

ALL_COVERAGE = """
MATCH (c:Contract)-[:COVERS]->(x:CI)
RETURN collect([x.key, properties(c)]) AS rows
"""


def create(graph: Graph, props: dict[str, Any], work: Callable[[ManagedTransaction, ChangeLog], None],
           *, actor: str) -> None:
    """Create the contract, then run ``work`` (its first links) in the same transaction."""
    def tx_work(tx: ManagedTransaction) -> None:
        changes = ChangeLog(actor)
        tx.run(CREATE_CONTRACT, props=props).consume()
        changes.add("create", props["number"], "Contract", None, props)
        work(tx, changes)
        changes.write(tx)
    graph.write(tx_work)


def lock(tx: ManagedTransaction, number: str) -> dict[str, Any] | None:
    record = tx.run(LOCK_CONTRACT, number=number).single()
    return None if record is None else dict(record["contract"])


def update(tx: ManagedTransaction, number: str, props: dict[str, Any]) -> None:
    tx.run(UPDATE_CONTRACT, number=number, props=props).consume()


def covered_among(tx: ManagedTransaction, number: str, keys: Sequence[str]) -> set[str]:
    return set(tx.run(COVERED_KEYS, number=number, keys=list(keys)).single()["keys"])


def cover(tx: ManagedTransaction, number: str, keys: Sequence[str], *, at: str, actor: str) -> None:
    if keys:
        tx.run(COVER, number=number, keys=list(keys), at=at, actor=actor).consume()


def uncover(tx: ManagedTransaction, number: str, keys: Sequence[str]) -> None:
    if keys:
        tx.run(UNCOVER, number=number, keys=list(keys)).consume()


def contracts_of_in_tx(tx: ManagedTransaction, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for key, props in tx.run(CONTRACTS_OF, keys=list(keys)).single()["rows"]:
        found.setdefault(key, []).append(dict(props))
    return found


def contracts_of(graph: Graph, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    return graph.read_tx(contracts_of_in_tx, list(keys))


def get(graph: Graph, number: str) -> tuple[dict[str, Any], list[str]] | None:
    rows = graph.read(CONTRACT, number=number)
    if not rows or rows[0]["contract"] is None:
        return None
    return dict(rows[0]["contract"]), sorted(rows[0]["covers"])


def all_contracts(graph: Graph) -> list[tuple[dict[str, Any], int]]:
    return [(dict(props), covered) for props, covered in graph.read_list(CONTRACTS)]


def all_coverage(graph: Graph) -> list[tuple[str, dict[str, Any]]]:
    return [(key, dict(props)) for key, props in graph.read_list(ALL_COVERAGE)]


HARDWARE_WARRANTIES = """
MATCH (h:Hardware)
RETURN collect([h.key, h.name, h.category, h.vendor, h.model, h.status, h.warranty_end]) AS rows
"""
HARDWARE_FIELDS = ("key", "name", "category", "vendor", "model", "status", "warranty_end")


def hardware_warranties(graph: Graph) -> list[dict[str, Any]]:
    return [dict(zip(HARDWARE_FIELDS, row)) for row in graph.read_list(HARDWARE_WARRANTIES)]
