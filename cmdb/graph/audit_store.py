"""Audit campaigns and scans in the graph: the only module that writes their Cypher.

``AuditCampaign`` holds a campaign's settings and the snapshot of what was expected when it
started (compressed text, so a 100,000-asset snapshot is one property read). ``AuditScan``
is one scan: tag, where, when, who. Scan ids are derived from their content, so a scan
written twice (a re-imported file, a retried request) is stored once.

Neither is a CI: they carry no revision and no change-log entries. Corrections a campaign
makes to the register go through ``Graph`` (``link_many``, ``upsert_cis``,
``set_system_properties``), which write history.
"""

from __future__ import annotations

from typing import Any, Sequence

from neo4j import ManagedTransaction
from neo4j.exceptions import ConstraintError

from cmdb.errors import Conflict, NotFound
from cmdb.graph.store import Graph, _chunks

CAMPAIGN_LABEL = "AuditCampaign"
SCAN_LABEL = "AuditScan"
SCAN_BATCH = 5000

# Every campaign property except the (large) snapshot.
_CAMPAIGN_FIELDS = """c.id AS id, c.name AS name, c.status AS status, c.scope AS scope, c.due AS due,
       c.created_at AS created_at, c.created_by AS created_by, c.closed_at AS closed_at,
       c.closed_by AS closed_by, c.expected_count AS expected_count, c.away_count AS away_count,
       c.corrections AS corrections"""

CREATE_CAMPAIGN = "CREATE (c:AuditCampaign) SET c = $props"

CAMPAIGN_BY_ID = f"MATCH (c:AuditCampaign {{id: $id}}) RETURN {_CAMPAIGN_FIELDS}"

CAMPAIGNS = f"MATCH (c:AuditCampaign) RETURN {_CAMPAIGN_FIELDS} ORDER BY c.created_at DESC, c.id"

CAMPAIGN_SNAPSHOT = "MATCH (c:AuditCampaign {id: $id}) RETURN c.expected_parts AS parts"

CAMPAIGN_STATUS_FOR_UPDATE = """
MATCH (c:AuditCampaign {id: $id})
SET c._lock = true
REMOVE c._lock
RETURN c.status AS status, c.name AS name
"""

CAMPAIGN_STATUS = "MATCH (c:AuditCampaign {id: $id}) RETURN c.status AS status, c.name AS name"

UPDATE_CAMPAIGN = "MATCH (c:AuditCampaign {id: $id}) SET c += $props"

SCAN_COUNTS = """
UNWIND $ids AS i
MATCH (s:AuditScan {campaign_id: i})
RETURN i AS id, count(s) AS scans
"""

EXISTING_SCANS = """
UNWIND $ids AS i
MATCH (s:AuditScan {id: i})
RETURN s.id AS id
"""

CREATE_SCANS = "UNWIND $rows AS r CREATE (s:AuditScan) SET s = r"

CAMPAIGN_SCANS = """
MATCH (s:AuditScan {campaign_id: $id})
RETURN s.id AS id, s.tag AS tag, s.location AS location, s.at AS at, s.by AS by,
       s.note AS note, s.condition AS condition, s.source AS source
"""

CAMPAIGN_SCANS_PAGE = """
MATCH (s:AuditScan {campaign_id: $id})
RETURN properties(s) AS scan
ORDER BY s.at, s.id SKIP $offset LIMIT $limit
"""

# The location tree is small (thousands of rooms and racks); it is read whole and walked
# in Python.
LOCATION_TREE = """
MATCH (n:Location)
OPTIONAL MATCH (n)-[:LOCATED_IN]->(p:CI)
RETURN n.key AS key, n.name AS name, n.type AS type, p.key AS parent
"""

HARDWARE_IN_LOCATIONS = """
UNWIND $locations AS lk
MATCH (l:CI {key: lk})<-[:LOCATED_IN]-(h:Hardware)
WHERE h.status IN $statuses
RETURN h.key AS key, h.name AS name, h.status AS status, h.serial AS serial,
       h.category AS category, lk AS location
"""

ALL_HARDWARE_WITH_STATUS = """
MATCH (h:Hardware)
WHERE h.status IN $statuses
OPTIONAL MATCH (h)-[:LOCATED_IN]->(l:CI)
RETURN h.key AS key, h.name AS name, h.status AS status, h.serial AS serial,
       h.category AS category, l.key AS location
"""

REGISTER_BY_KEY = """
UNWIND $keys AS k
MATCH (h:CI {key: k})
OPTIONAL MATCH (h)-[:LOCATED_IN]->(l:CI)
RETURN h.key AS key, labels(h) AS labels, h.name AS name, h.status AS status,
       h.serial AS serial, l.key AS location
"""

REGISTER_BY_SERIAL = """
UNWIND $serials AS s
MATCH (h:CI {serial: s})
OPTIONAL MATCH (h)-[:LOCATED_IN]->(l:CI)
RETURN s AS serial, h.key AS key, labels(h) AS labels, h.name AS name, h.status AS status,
       l.key AS location
"""

AUDIT_DUE_CANDIDATES = """
MATCH (h:Hardware)
WHERE h.status IS NULL OR NOT h.status IN $ended
OPTIONAL MATCH (h)-[:LOCATED_IN]->(l:CI)
RETURN h.key AS key, h.name AS name, h.status AS status, h.created_at AS created_at,
       h.last_audited_at AS last_audited_at, h.next_audit_due AS next_audit_due,
       l.key AS location
"""


# --- campaigns ----------------------------------------------------------------------------


def create_campaign(graph: Graph, props: dict[str, Any]) -> None:
    def work(tx: ManagedTransaction) -> None:
        tx.run(CREATE_CAMPAIGN, props=props).consume()
    try:
        graph.write(work)
    except ConstraintError as exc:
        raise Conflict(f"An audit campaign with id {props['id']!r} already exists",
                       {"id": props["id"]}) from exc


def campaign(graph: Graph, campaign_id: str) -> dict[str, Any] | None:
    rows = graph.read(CAMPAIGN_BY_ID, id=campaign_id)
    return rows[0] if rows else None


def campaigns(graph: Graph) -> list[dict[str, Any]]:
    return graph.read(CAMPAIGNS)


def snapshot_parts(graph: Graph, campaign_id: str) -> list[str]:
    rows = graph.read(CAMPAIGN_SNAPSHOT, id=campaign_id)
    if not rows:
        raise NotFound(f"No audit campaign {campaign_id!r}", {"id": campaign_id})
    return list(rows[0]["parts"] or [])


def scan_counts(graph: Graph, campaign_ids: Sequence[str]) -> dict[str, int]:
    return {r["id"]: r["scans"] for r in graph.read(SCAN_COUNTS, ids=list(campaign_ids))}


def update_campaign(graph: Graph, campaign_id: str, props: dict[str, Any], *,
                    expect_status: Sequence[str] | None = None) -> None:
    """Set campaign properties; with ``expect_status``, only from one of those states."""
    def work(tx: ManagedTransaction) -> None:
        row = tx.run(CAMPAIGN_STATUS_FOR_UPDATE, id=campaign_id).single()
        if row is None:
            raise NotFound(f"No audit campaign {campaign_id!r}", {"id": campaign_id})
        if expect_status is not None and row["status"] not in expect_status:
            raise Conflict(f"Audit campaign {campaign_id!r} ({row['name']}) is {row['status']}",
                           {"id": campaign_id, "status": row["status"]})
        tx.run(UPDATE_CAMPAIGN, id=campaign_id, props=props).consume()
    graph.write(work)


# --- scans --------------------------------------------------------------------------------


def _refuse_unless_open(tx: ManagedTransaction, campaign_id: str) -> None:
    row = tx.run(CAMPAIGN_STATUS, id=campaign_id).single()
    if row is None:
        raise NotFound(f"No audit campaign {campaign_id!r}", {"id": campaign_id})
    if row["status"] != "open":
        raise Conflict(f"Audit campaign {campaign_id!r} ({row['name']}) is {row['status']}: "
                       "it no longer accepts scans; start a new campaign",
                       {"id": campaign_id, "status": row["status"]})


def add_scans(graph: Graph, campaign_id: str, rows: Sequence[dict[str, Any]],
              batch_size: int = SCAN_BATCH) -> tuple[list[str], list[str]]:
    """Store scans (each a dict with an ``id``) that are not stored yet.

    Returns (ids added, ids already there). One transaction per batch; every batch checks
    that the campaign is still open.
    """
    added: list[str] = []
    present: list[str] = []
    for batch in _chunks(list(rows), batch_size):
        def work(tx: ManagedTransaction, batch=batch) -> tuple[list[str], list[str]]:
            _refuse_unless_open(tx, campaign_id)
            ids = [r["id"] for r in batch]
            existing = {r["id"] for r in tx.run(EXISTING_SCANS, ids=ids)}
            new_rows = [r for r in batch if r["id"] not in existing]
            if new_rows:
                tx.run(CREATE_SCANS, rows=new_rows).consume()
            return [r["id"] for r in new_rows], sorted(existing)
        # Two clients storing the same scan at once: the loser finds it stored on retry.
        for attempt in range(3):
            try:
                new, old = graph.write(work)
                break
            except ConstraintError:
                if attempt == 2:
                    raise
        added += new
        present += old
    return added, present


def scans(graph: Graph, campaign_id: str) -> list[dict[str, Any]]:
    return graph.read(CAMPAIGN_SCANS, id=campaign_id)


def scans_page(graph: Graph, campaign_id: str, offset: int, limit: int) -> list[dict[str, Any]]:
    return [r["scan"] for r in graph.read(CAMPAIGN_SCANS_PAGE, id=campaign_id,
                                          offset=offset, limit=limit)]


# --- the register, read in bulk ------------------------------------------------------------


def location_tree(graph: Graph) -> list[dict[str, Any]]:
    return graph.read(LOCATION_TREE)


def hardware_in_locations(graph: Graph, locations: Sequence[str],
                          statuses: Sequence[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for batch in _chunks(list(locations), 2000):
        found += graph.read(HARDWARE_IN_LOCATIONS, locations=list(batch), statuses=list(statuses))
    return found


def all_hardware_with_status(graph: Graph, statuses: Sequence[str]) -> list[dict[str, Any]]:
    return graph.read(ALL_HARDWARE_WITH_STATUS, statuses=list(statuses))


def register_by_key(graph: Graph, keys: Sequence[str], batch_size: int = 20_000) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for batch in _chunks(list(dict.fromkeys(keys)), batch_size):
        found += graph.read(REGISTER_BY_KEY, keys=list(batch))
    return found


def register_by_serial(graph: Graph, serials: Sequence[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for batch in _chunks(list(dict.fromkeys(serials)), 5000):
        found += graph.read(REGISTER_BY_SERIAL, serials=list(batch))
    return found


def audit_due_candidates(graph: Graph, ended: Sequence[str]) -> list[dict[str, Any]]:
    return graph.read(AUDIT_DUE_CANDIDATES, ended=list(ended))
