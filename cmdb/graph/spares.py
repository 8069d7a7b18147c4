"""Spares in the graph: the hardware marked ``spare``, stock minimums (``SpareMinimum``) and
spare issues (``SpareIssue``, which CONCERNS the spare and the unit it stands in for). The
only module that writes their Cypher; the flow is in ``cmdb.service.spares``."""

from __future__ import annotations

from typing import Any, Sequence

from neo4j import ManagedTransaction

from cmdb.graph.connection import Connection as Graph

SPARES = """
MATCH (h:Hardware)
WHERE h.spare = true
OPTIONAL MATCH (h)-[:LOCATED_IN]->(l:CI)
RETURN collect([h.key, h.name, h.model, h.spare_model, h.status, l.key, l.name]) AS rows
"""
SPARE_FIELDS = ("key", "name", "model", "spare_model", "status", "location", "location_name")

MINIMUMS = "MATCH (m:SpareMinimum) RETURN collect(properties(m)) AS rows"

SET_MINIMUM = "MERGE (m:SpareMinimum {id: $id}) SET m += $props"

CREATE_ISSUE = """
CREATE (s:SpareIssue)
SET s = $props
WITH s
UNWIND $keys AS k
MATCH (x:CI {key: k})
CREATE (s)-[:CONCERNS]->(x)
"""

LOCK_ISSUE = """
MATCH (s:SpareIssue {id: $id})
SET s._lock = true
REMOVE s._lock
RETURN properties(s) AS issue
"""

UPDATE_ISSUE = "MATCH (s:SpareIssue {id: $id}) SET s += $props"

ISSUE = "MATCH (s:SpareIssue {id: $id}) RETURN properties(s) AS issue"

ISSUES = "MATCH (s:SpareIssue) RETURN collect(properties(s)) AS rows"

ISSUES_OF_REPAIR = "MATCH (s:SpareIssue {repair: $repair}) RETURN collect(properties(s)) AS rows"

STAND_INS = """
UNWIND $keys AS k
MATCH (u:CI {key: k})
MATCH (u)<-[:STANDS_IN_FOR]-(s:CI)
RETURN collect([k, s.key]) AS rows
"""


def spares(graph: Graph) -> list[dict[str, Any]]:
    return [dict(zip(SPARE_FIELDS, row)) for row in graph.read_list(SPARES)]


def minimums(graph: Graph) -> list[dict[str, Any]]:
    return [dict(r) for r in graph.read_list(MINIMUMS)]


def set_minimum(tx: ManagedTransaction, minimum_id: str, props: dict[str, Any]) -> None:
    tx.run(SET_MINIMUM, id=minimum_id, props=props).consume()


def create_issue(tx: ManagedTransaction, props: dict[str, Any], keys: Sequence[str]) -> None:
    tx.run(CREATE_ISSUE, props=props, keys=list(keys)).consume()


def lock_issue(tx: ManagedTransaction, issue_id: str) -> dict[str, Any] | None:
    record = tx.run(LOCK_ISSUE, id=issue_id).single()
    return None if record is None else dict(record["issue"])


def update_issue(tx: ManagedTransaction, issue_id: str, props: dict[str, Any]) -> None:
    tx.run(UPDATE_ISSUE, id=issue_id, props=props).consume()


def issues_of_repair(tx: ManagedTransaction, repair_id: str) -> list[dict[str, Any]]:
    return [dict(r) for r in tx.run(ISSUES_OF_REPAIR, repair=repair_id).single()["rows"]]


def get_issue(graph: Graph, issue_id: str) -> dict[str, Any] | None:
    rows = graph.read(ISSUE, id=issue_id)
    return dict(rows[0]["issue"]) if rows else None


def all_issues(graph: Graph) -> list[dict[str, Any]]:
    return [dict(r) for r in graph.read_list(ISSUES)]


def stand_ins(graph: Graph, keys: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    if keys:
        for unit, spare in graph.read_list(STAND_INS, keys=list(keys)):
            found.setdefault(unit, []).append(spare)
    return found
