"""Maintenance rounds in the graph: ``MaintenanceRound`` (scope, checklists, the devices
expected when it started), ``MaintenanceCheck`` (one device's results in a round) and
``MaintenanceSchedule`` (monthly or quarterly rounds per scope). The only module that writes
their Cypher; every write leaves a ``Change`` entry in the same transaction.
"""

from __future__ import annotations

from typing import Any, Sequence

from neo4j import ManagedTransaction

from cmdb.errors import Conflict, NotFound
from cmdb.graph.history import ChangeLog
from cmdb.graph.connection import Connection as Graph
from cmdb.i18n import _

ROUND_KIND, CHECK_KIND, SCHEDULE_KIND = "MaintenanceRound", "MaintenanceCheck", "MaintenanceSchedule"

CREATE_ROUND = "CREATE (r:MaintenanceRound) SET r = $props"
ROUND_BY_ID = "MATCH (r:MaintenanceRound {id: $id}) RETURN properties(r) AS round"
ALL_ROUNDS = "MATCH (r:MaintenanceRound) RETURN properties(r) AS round"
UPDATE_ROUND = "MATCH (r:MaintenanceRound {id: $id}) SET r += $props"
LOCK_ROUND = """
MATCH (r:MaintenanceRound {id: $id})
SET r._lock = true
REMOVE r._lock
RETURN properties(r) AS round
"""
CHECK_BY_ID = "MATCH (c:MaintenanceCheck {id: $id}) RETURN properties(c) AS check"
MERGE_CHECK = "MERGE (c:MaintenanceCheck {id: $id}) SET c = $props"
CHECKS_OF_ROUND = "MATCH (c:MaintenanceCheck {round_id: $id}) RETURN properties(c) AS check"
CHECKS_OF_ROUNDS = """
UNWIND $ids AS i
MATCH (c:MaintenanceCheck {round_id: i})
RETURN properties(c) AS check
"""
CREATE_SCHEDULE = "MERGE (s:MaintenanceSchedule {id: $id}) SET s = $props"
ALL_SCHEDULES = "MATCH (s:MaintenanceSchedule) RETURN properties(s) AS schedule"


def create_round(graph: Graph, props: dict[str, Any], *, actor: str) -> None:
    def work(tx: ManagedTransaction) -> None:
        tx.run(CREATE_ROUND, props=props).consume()
        log = ChangeLog(actor)
        log.add("create", f"round:{props['id']}", ROUND_KIND, None,
                {k: v for k, v in props.items() if k != "expected"})
        log.write(tx)
    graph.write(work)


def get_round(graph: Graph, round_id: str) -> dict[str, Any]:
    rows = graph.read(ROUND_BY_ID, id=round_id)
    if not rows:
        raise NotFound(_("No maintenance round %(id)s", id=repr(round_id)), {"id": round_id})
    return rows[0]["round"]


def all_rounds(graph: Graph) -> list[dict[str, Any]]:
    return [row["round"] for row in graph.read(ALL_ROUNDS)]


def close_round(graph: Graph, round_id: str, props: dict[str, Any], *, actor: str) -> None:
    def work(tx: ManagedTransaction) -> None:
        record = tx.run(LOCK_ROUND, id=round_id).single()
        if record is None:
            raise NotFound(_("No maintenance round %(id)s", id=repr(round_id)), {"id": round_id})
        if record["round"].get("status") != "open":
            raise Conflict(_("Maintenance round %(id)s is already closed", id=round_id),
                           {"id": round_id})
        tx.run(UPDATE_ROUND, id=round_id, props=props).consume()
        log = ChangeLog(actor)
        log.add("update", f"round:{round_id}", ROUND_KIND, {"status": "open"}, props)
        log.write(tx)
    graph.write(work)


def save_check(graph: Graph, props: dict[str, Any], *, actor: str) -> None:
    """Record (or replace) one device's results in an open round."""
    def work(tx: ManagedTransaction) -> None:
        record = tx.run(LOCK_ROUND, id=props["round_id"]).single()
        if record is None:
            raise NotFound(_("No maintenance round %(id)s", id=repr(props["round_id"])),
                           {"id": props["round_id"]})
        if record["round"].get("status") != "open":
            raise Conflict(_("Maintenance round %(id)s is closed; checks are no longer recorded "
                             "in it", id=props["round_id"]), {"id": props["round_id"]})
        before = tx.run(CHECK_BY_ID, id=props["id"]).single()
        tx.run(MERGE_CHECK, id=props["id"], props=props).consume()
        log = ChangeLog(actor, source=f"maintenance round {props['round_id']}")
        log.add("update" if before else "create", f"check:{props['id']}", CHECK_KIND,
                before["check"] if before else None, props)
        log.write(tx)
    graph.write(work)


def get_check(graph: Graph, check_id: str) -> dict[str, Any] | None:
    rows = graph.read(CHECK_BY_ID, id=check_id)
    return rows[0]["check"] if rows else None


def checks_of(graph: Graph, round_ids: Sequence[str]) -> list[dict[str, Any]]:
    return [row["check"] for row in graph.read(CHECKS_OF_ROUNDS, ids=list(round_ids))]


def save_schedule(graph: Graph, props: dict[str, Any], *, actor: str) -> None:
    def work(tx: ManagedTransaction) -> None:
        tx.run(CREATE_SCHEDULE, id=props["id"], props=props).consume()
        log = ChangeLog(actor)
        log.add("create", f"schedule:{props['id']}", SCHEDULE_KIND, None, props)
        log.write(tx)
    graph.write(work)


def all_schedules(graph: Graph) -> list[dict[str, Any]]:
    return [row["schedule"] for row in graph.read(ALL_SCHEDULES)]
