"""Fault records in the graph: ``FaultRecord`` nodes, ``CONCERNS`` links to the CIs at fault.
The only module that writes their Cypher. Every step leaves a ``Change`` entry (key
``fault:<id>``) in the same transaction as the step.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from neo4j import ManagedTransaction

from cmdb.errors import NotFound, UnknownKey
from cmdb.graph.history import ChangeLog, record_entries
from cmdb.graph.connection import Connection as Graph
from cmdb.i18n import _

KIND = "FaultRecord"

# Every property but the signature image (read on its own, it is the large one).
FIELDS = ("id", "title", "description", "severity", "status", "keys", "reported_by",
          "reported_via", "reported_at", "opened_by", "level_id", "level_name_en",
          "level_name_zh_cn", "level_name_zh_tw", "level_hours", "respond_minutes",
          "resolve_minutes", "arrive_minutes", "level_reason", "assignee", "assigned_at",
          "arrived_at", "resolved_at", "resolution", "observe_until", "closed_at", "closed_by",
          "signed_by", "signed_at", "has_signature", "actions", "repair_order", "revision")
_RETURN = "[" + ", ".join(f"f.{name}" for name in FIELDS) + "]"

CREATE_FAULT = """
CREATE (f:FaultRecord)
SET f = $props
WITH f
UNWIND $keys AS k
MATCH (c:CI {key: k})
CREATE (f)-[:CONCERNS]->(c)
RETURN count(c) AS linked
"""

EXISTING_KEYS = """
UNWIND $keys AS k
MATCH (c:CI {key: k})
RETURN collect(c.key) AS keys
"""

COUNT_WITH_PREFIX = """
MATCH (f:FaultRecord)
WHERE f.id STARTS WITH $prefix
RETURN count(f) AS n
"""

LOCK_FAULT = f"""
MATCH (f:FaultRecord {{id: $id}})
SET f._lock = true
REMOVE f._lock
RETURN {_RETURN} AS row
"""

FAULT_BY_ID = f"MATCH (f:FaultRecord {{id: $id}}) RETURN {_RETURN} AS row"

UPDATE_FAULT = "MATCH (f:FaultRecord {id: $id}) SET f += $props"

SIGNATURE = "MATCH (f:FaultRecord {id: $id}) RETURN f.signature_png AS png"

ALL_FAULTS = f"""
MATCH (f:FaultRecord)
RETURN collect({_RETURN}) AS rows
"""

FAULTS_REPORTED_BETWEEN = f"""
MATCH (f:FaultRecord)
WHERE f.reported_at >= $start AND f.reported_at < $end
RETURN collect({_RETURN}) AS rows
"""

OPEN_FAULTS_OF = """
UNWIND $keys AS k
MATCH (f:FaultRecord)-[:CONCERNS]->(c:CI {key: k})
WHERE f.status <> 'closed'
RETURN collect([k, f.id, f.severity, f.title, f.status, f.reported_at]) AS rows
"""
OPEN_FIELDS = ("key", "id", "severity", "title", "status", "reported_at")


def history_key(fault_id: str) -> str:
    return f"fault:{fault_id}"


def _row(values: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(FIELDS, values))


def create_fault(graph: Graph, prefix: str, props: dict[str, Any], keys: Sequence[str], *,
                 actor: str) -> dict[str, Any]:
    """Create a fault record with the next id ``<prefix>NNNN`` and link it to ``keys``."""
    def work(tx: ManagedTransaction) -> dict[str, Any]:
        found = set(tx.run(EXISTING_KEYS, keys=list(keys)).single()["keys"])
        missing = [k for k in keys if k not in found]
        if missing:
            raise UnknownKey(missing)
        number = tx.run(COUNT_WITH_PREFIX, prefix=prefix).single()["n"] + 1
        record = {**props, "id": f"{prefix}{number:04d}", "revision": 1}
        tx.run(CREATE_FAULT, props=record, keys=list(keys)).consume()
        log = ChangeLog(actor, source=record.get("reported_via"))
        log.add("create", history_key(record["id"]), KIND, None,
                {k: v for k, v in record.items() if k != "signature_png"})
        log.write(tx)
        return record
    return graph.write(work)


def get_fault(graph: Graph, fault_id: str) -> dict[str, Any]:
    rows = graph.read(FAULT_BY_ID, id=fault_id)
    if not rows:
        raise NotFound(_("No fault record %(id)s", id=repr(fault_id)), {"id": fault_id})
    return _row(rows[0]["row"])


def update_fault(graph: Graph, fault_id: str, step: Callable[[dict[str, Any]], dict[str, Any]],
                 *, actor: str, source: str | None = None) -> dict[str, Any]:
    """Apply ``step(current) -> changed properties`` under a lock on the record; history of
    the changed values in the same transaction."""
    def work(tx: ManagedTransaction) -> dict[str, Any]:
        record = tx.run(LOCK_FAULT, id=fault_id).single()
        if record is None:
            raise NotFound(_("No fault record %(id)s", id=repr(fault_id)), {"id": fault_id})
        current = _row(record["row"])
        changes = step(current)
        changes["revision"] = (current.get("revision") or 0) + 1
        tx.run(UPDATE_FAULT, id=fault_id, props=changes).consume()
        shown = {k: v for k, v in changes.items() if k != "signature_png"}
        log = ChangeLog(actor, source=source)
        log.add("update", history_key(fault_id), KIND,
                {k: current.get(k) for k in shown if k in current}, shown)
        log.write(tx)
        return {**current, **{k: v for k, v in changes.items() if k in FIELDS}}
    return graph.write(work)


def signature(graph: Graph, fault_id: str) -> str | None:
    rows = graph.read(SIGNATURE, id=fault_id)
    if not rows:
        raise NotFound(_("No fault record %(id)s", id=repr(fault_id)), {"id": fault_id})
    return rows[0]["png"]


def all_faults(graph: Graph) -> list[dict[str, Any]]:
    return [_row(r) for r in graph.read_list(ALL_FAULTS)]


def faults_reported_between(graph: Graph, start: str, end: str) -> list[dict[str, Any]]:
    return [_row(r) for r in graph.read_list(FAULTS_REPORTED_BETWEEN, start=start, end=end)]


def open_faults_of(graph: Graph, keys: Sequence[str]) -> list[dict[str, Any]]:
    return [dict(zip(OPEN_FIELDS, r)) for r in graph.read_list(OPEN_FAULTS_OF, keys=list(keys))]


def fault_history(graph: Graph, fault_id: str) -> list[dict[str, Any]]:
    return record_entries(graph, history_key(fault_id), KIND)
