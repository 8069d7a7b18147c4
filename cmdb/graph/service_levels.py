"""Service levels in the graph: ``ServiceLevel`` nodes and their ``SERVICE_LEVEL_OF`` links
to CIs (applications, hardware, locations). The only module that writes their Cypher.

A level's departments are a list property (departments are a CI property, not nodes).
Every change leaves a ``Change`` entry (key ``level:<id>``) in the same transaction.
"""

from __future__ import annotations

from typing import Any, Sequence

from neo4j import ManagedTransaction

from cmdb.errors import NotFound, UnknownKey
from cmdb.graph.history import ChangeLog, record_entries
from cmdb.graph.connection import Connection as Graph
from cmdb.i18n import _

KIND = "ServiceLevel"

ALL_LEVELS = """
MATCH (l:ServiceLevel)
OPTIONAL MATCH (l)-[:SERVICE_LEVEL_OF]->(c:CI)
RETURN properties(l) AS level, collect(c.key) AS assigned
"""

LEVEL_BY_ID = "MATCH (l:ServiceLevel {id: $id}) RETURN properties(l) AS level"

MERGE_LEVEL = "MERGE (l:ServiceLevel {id: $id}) SET l = $props"

DELETE_LEVEL = "MATCH (l:ServiceLevel {id: $id}) DETACH DELETE l"

CI_EXISTS = "MATCH (c:CI {key: $key}) RETURN c.key AS key, labels(c) AS labels"

ASSIGN = """
MATCH (l:ServiceLevel {id: $id})
MATCH (c:CI {key: $key})
MERGE (l)-[:SERVICE_LEVEL_OF]->(c)
"""

UNASSIGN = """
MATCH (l:ServiceLevel {id: $id})-[x:SERVICE_LEVEL_OF]->(c:CI {key: $key})
DELETE x
RETURN count(x) AS removed
"""

# What can give a CI its level, each with what it came through.
OWN_LEVELS = """
MATCH (l:ServiceLevel)-[:SERVICE_LEVEL_OF]->(c:CI {key: $key})
RETURN l.id AS id, c.key AS via, c.name AS via_name
"""
LOCATION_LEVELS = """
MATCH (c:CI {key: $key})-[:LOCATED_IN*1..12]->(loc:CI)<-[:SERVICE_LEVEL_OF]-(l:ServiceLevel)
RETURN l.id AS id, loc.key AS via, loc.name AS via_name
"""
APPLICATION_LEVELS = """
MATCH (c:CI {key: $key})<-[:RUNS_ON]-(a:CI)<-[:SERVICE_LEVEL_OF]-(l:ServiceLevel)
RETURN l.id AS id, a.key AS via, a.name AS via_name
"""
CRITICALITY_LEVELS = """
MATCH (c:CI {key: $key})
OPTIONAL MATCH (c)<-[:RUNS_ON]-(a:Application)
WITH c, collect(a) AS apps
UNWIND apps + [c] AS app
WITH app
WHERE app:Application AND app.criticality IS NOT NULL
MATCH (l:ServiceLevel)
WHERE l.criticality = app.criticality
RETURN l.id AS id, app.key AS via, app.name AS via_name, app.criticality AS criticality
"""
DEPARTMENT_LEVELS = """
MATCH (c:CI {key: $key})
WHERE c.department IS NOT NULL
MATCH (l:ServiceLevel)
WHERE c.department IN l.departments
RETURN l.id AS id, c.department AS via, c.department AS via_name
"""
LEVEL_SOURCES = (("own", OWN_LEVELS), ("location", LOCATION_LEVELS),
                 ("application", APPLICATION_LEVELS), ("criticality", CRITICALITY_LEVELS),
                 ("department", DEPARTMENT_LEVELS))


def history_key(level_id: str) -> str:
    return f"level:{level_id}"


def list_levels(graph: Graph) -> list[tuple[dict[str, Any], list[str]]]:
    rows = [(row["level"], sorted(row["assigned"])) for row in graph.read(ALL_LEVELS)]
    return sorted(rows, key=lambda row: row[0]["id"])


def get_level(graph: Graph, level_id: str) -> dict[str, Any]:
    rows = graph.read(LEVEL_BY_ID, id=level_id)
    if not rows:
        raise NotFound(_("No service level %(id)s", id=repr(level_id)), {"id": level_id})
    return rows[0]["level"]


def save_level(graph: Graph, props: dict[str, Any], *, actor: str) -> dict[str, Any]:
    """Create or replace a level (``props`` complete, with ``id``); history in the same
    transaction."""
    def work(tx: ManagedTransaction) -> None:
        before = tx.run(LEVEL_BY_ID, id=props["id"]).single()
        tx.run(MERGE_LEVEL, id=props["id"], props=props).consume()
        log = ChangeLog(actor)
        log.add("update" if before else "create", history_key(props["id"]), KIND,
                before["level"] if before else None, props)
        log.write(tx)
    graph.write(work)
    return props


def delete_level(graph: Graph, level_id: str, *, actor: str) -> None:
    def work(tx: ManagedTransaction) -> None:
        before = tx.run(LEVEL_BY_ID, id=level_id).single()
        if before is None:
            raise NotFound(_("No service level %(id)s", id=repr(level_id)), {"id": level_id})
        tx.run(DELETE_LEVEL, id=level_id).consume()
        log = ChangeLog(actor)
        log.add("delete", history_key(level_id), KIND, before["level"], None)
        log.write(tx)
    graph.write(work)


def assign(graph: Graph, level_id: str, keys: Sequence[str], *, actor: str,
           remove: bool = False) -> None:
    """Assign the level to CIs (or remove it from them), all or nothing."""
    def work(tx: ManagedTransaction) -> None:
        if tx.run(LEVEL_BY_ID, id=level_id).single() is None:
            raise NotFound(_("No service level %(id)s", id=repr(level_id)), {"id": level_id})
        missing = [k for k in keys if tx.run(CI_EXISTS, key=k).single() is None]
        if missing:
            raise UnknownKey(missing)
        log = ChangeLog(actor)
        for key in keys:
            if remove:
                if tx.run(UNASSIGN, id=level_id, key=key).single()["removed"]:
                    log.add("unlink", history_key(level_id), KIND, {"ci": key}, None)
            else:
                tx.run(ASSIGN, id=level_id, key=key).consume()
                log.add("link", history_key(level_id), KIND, None, {"ci": key})
        log.write(tx)
    graph.write(work)


def level_sources(graph: Graph, key: str) -> list[dict[str, Any]]:
    """Every (level id, source, via) that could apply to the CI ``key``."""
    def work(tx: ManagedTransaction) -> list[dict[str, Any]]:
        if tx.run(CI_EXISTS, key=key).single() is None:
            raise UnknownKey(key)
        found = []
        for source, query in LEVEL_SOURCES:
            for record in tx.run(query, key=key):
                found.append({"source": source, **record.data()})
        return found
    return graph.read_tx(work)


def level_history(graph: Graph, level_id: str) -> list[dict[str, Any]]:
    return record_entries(graph, history_key(level_id), KIND)
