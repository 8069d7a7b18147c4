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
from cmdb.graph import writer
from cmdb.graph.batching import chunks
from cmdb.graph.connection import Connection
from cmdb.graph.history import ChangeLog
from cmdb.graph.values import CIInput, kind_from_labels
from cmdb.graph.writer import Changes
from cmdb.i18n import _
from cmdb.i18n.names import campaign_status_name

SCAN_BATCH = 10_000

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
RETURN collect(s.id) AS ids
"""

SCAN_PROPERTIES = ("id", "campaign_id", "tag", "location", "at", "by", "note", "condition",
                   "source", "recorded_at", "recorded_by")
# An explicit property map: on the embedded engine noticeably faster than ``SET s = r``.
CREATE_SCANS = ("UNWIND $rows AS r CREATE (s:AuditScan {"
                + ", ".join(f"{p}: r.{p}" for p in SCAN_PROPERTIES) + "})")

CAMPAIGN_SCAN_IDS = "MATCH (s:AuditScan {campaign_id: $id}) RETURN collect(s.id) AS ids"
PREFETCH_FROM = 50

CAMPAIGN_SCANS = """
MATCH (s:AuditScan {campaign_id: $id})
RETURN collect([s.id, s.tag, s.location, s.at, s.by, s.note, s.condition, s.recorded_by]) AS rows
"""
SCAN_FIELDS = ("id", "tag", "location", "at", "by", "note", "condition", "recorded_by")

CAMPAIGN_SCANS_PAGE = """
MATCH (s:AuditScan {campaign_id: $id})
RETURN properties(s) AS scan
ORDER BY s.at, s.id SKIP $offset LIMIT $limit
"""


HARDWARE_IN_LOCATIONS = """
UNWIND $locations AS lk
MATCH (l:CI {key: lk})<-[:LOCATED_IN]-(h:Hardware)
WHERE h.status IN $statuses
RETURN collect([h.key, h.name, h.status, h.serial, h.category, lk]) AS rows
"""

ALL_HARDWARE_WITH_STATUS = """
MATCH (h:Hardware)
WHERE h.status IN $statuses
OPTIONAL MATCH (h)-[:LOCATED_IN]->(l:CI)
RETURN collect([h.key, h.name, h.status, h.serial, h.category, l.key]) AS rows
"""
EXPECTED_FIELDS = ("key", "name", "status", "serial", "category", "location")

REGISTER_BY_KEY = """
UNWIND $keys AS k
MATCH (h:CI {key: k})
OPTIONAL MATCH (h)-[:LOCATED_IN]->(l:CI)
RETURN collect([h.key, labels(h), h.name, h.status, h.serial, l.key]) AS rows
"""
REGISTER_FIELDS = ("key", "labels", "name", "status", "serial", "location")

COUNT_HARDWARE = "MATCH (h:Hardware) RETURN count(h) AS n"
ALL_HARDWARE_KEYS = "MATCH (h:Hardware) RETURN collect(h.key) AS keys"
HARDWARE_KEYS_AMONG = """
UNWIND $keys AS k
MATCH (h:CI {key: k})
WHERE h:Hardware
RETURN collect(h.key) AS keys
"""

REGISTER_BY_SERIAL = """
UNWIND $serials AS s
MATCH (h:CI {serial: s})
OPTIONAL MATCH (h)-[:LOCATED_IN]->(l:CI)
RETURN collect([s, h.key, labels(h), h.name, h.status, l.key]) AS rows
"""
SERIAL_FIELDS = ("serial", "key", "labels", "name", "status", "location")

AUDIT_DUE_CANDIDATES = """
MATCH (h:Hardware)
WHERE h.status IS NULL OR NOT h.status IN $ended
OPTIONAL MATCH (h)-[:LOCATED_IN]->(l:CI)
RETURN collect([h.key, h.name, h.status, h.created_at, h.last_audited_at, h.next_audit_due,
                l.key]) AS rows
"""
DUE_FIELDS = ("key", "name", "status", "created_at", "last_audited_at", "next_audit_due", "location")


# The scan page's "Found here": the asset and the place in one lookup, then the locations
# around each, then one write of the scans and the asset's last_seen_at.
SCANNED_PLACES = """
UNWIND $keys AS k
MATCH (n:CI {key: k})
OPTIONAL MATCH (n)-[:LOCATED_IN]->(r:CI)
RETURN collect([n.key, labels(n), r.key]) AS rows
"""

CONTAINMENT_CHAINS = """
UNWIND $keys AS k
MATCH (:CI {key: k})-[:LOCATED_IN*0..32]->(up:CI)
RETURN collect([k, up.key]) AS rows
"""


# --- campaigns ----------------------------------------------------------------------------


def create_campaign(graph: Connection, props: dict[str, Any]) -> None:
    def work(tx: ManagedTransaction) -> None:
        tx.run(CREATE_CAMPAIGN, props=props).consume()
    try:
        graph.write(work)
    except ConstraintError as exc:
        raise Conflict(_("An audit campaign with id %(id)s already exists", id=repr(props["id"])),
                       {"id": props["id"]}) from exc


def campaign(graph: Connection, campaign_id: str) -> dict[str, Any] | None:
    rows = graph.read(CAMPAIGN_BY_ID, id=campaign_id)
    return rows[0] if rows else None


def campaigns(graph: Connection) -> list[dict[str, Any]]:
    return graph.read(CAMPAIGNS)


def snapshot_parts(graph: Connection, campaign_id: str) -> list[str]:
    rows = graph.read(CAMPAIGN_SNAPSHOT, id=campaign_id)
    if not rows:
        raise NotFound(_("No audit campaign %(id)s", id=repr(campaign_id)), {"id": campaign_id})
    return list(rows[0]["parts"] or [])


def scan_counts(graph: Connection, campaign_ids: Sequence[str]) -> dict[str, int]:
    return {r["id"]: r["scans"] for r in graph.read(SCAN_COUNTS, ids=list(campaign_ids))}


def update_campaign(graph: Connection, campaign_id: str, props: dict[str, Any], *,
                    expect_status: Sequence[str] | None = None) -> None:
    """Set campaign properties; with ``expect_status``, only from one of those states."""
    def work(tx: ManagedTransaction) -> None:
        row = tx.run(CAMPAIGN_STATUS_FOR_UPDATE, id=campaign_id).single()
        if row is None:
            raise NotFound(_("No audit campaign %(id)s", id=repr(campaign_id)), {"id": campaign_id})
        if expect_status is not None and row["status"] not in expect_status:
            raise Conflict(_("Audit campaign %(id)s (%(name)s) is %(status)s", id=repr(campaign_id),
                             name=row["name"], status=campaign_status_name(row["status"])),
                           {"id": campaign_id, "status": row["status"]})
        tx.run(UPDATE_CAMPAIGN, id=campaign_id, props=props).consume()
    graph.write(work)


# --- scans --------------------------------------------------------------------------------


def _refuse_unless_open(tx: ManagedTransaction, campaign_id: str) -> None:
    row = tx.run(CAMPAIGN_STATUS, id=campaign_id).single()
    if row is None:
        raise NotFound(_("No audit campaign %(id)s", id=repr(campaign_id)), {"id": campaign_id})
    if row["status"] != "open":
        raise Conflict(_("Audit campaign %(id)s (%(name)s) is %(status)s: it no longer accepts "
                         "scans; start a new campaign", id=repr(campaign_id), name=row["name"],
                         status=campaign_status_name(row["status"])),
                       {"id": campaign_id, "status": row["status"]})


def add_scans(graph: Connection, campaign_id: str, rows: Sequence[dict[str, Any]],
              batch_size: int = SCAN_BATCH) -> tuple[list[str], list[str]]:
    """Store scans (each a dict with an ``id``) that are not stored yet.

    Returns (ids added, ids already there). One transaction per batch; every batch checks
    that the campaign is still open. Ids the campaign already holds are read once up front;
    the unique constraint on the id catches a concurrent writer of the same scan, and that
    batch is then retried checking each id inside the transaction.
    """
    rows = list(rows)
    known: set[str] = set()
    prefetched = len(rows) > PREFETCH_FROM
    if prefetched:
        known = set(graph.read_list(CAMPAIGN_SCAN_IDS, id=campaign_id))
    present = [r["id"] for r in rows if r["id"] in known]
    fresh = [r for r in rows if r["id"] not in known]
    added: list[str] = []
    for batch in chunks(fresh, batch_size):
        def work(tx: ManagedTransaction, batch=batch, check: bool = False) -> tuple[list[str], list[str]]:
            _refuse_unless_open(tx, campaign_id)
            existing: set[str] = set()
            if check:
                existing = set(tx.run(EXISTING_SCANS, ids=[r["id"] for r in batch]).single()["ids"])
            new_rows = [_scan_props(r) for r in batch if r["id"] not in existing]
            if new_rows:
                tx.run(CREATE_SCANS, rows=new_rows).consume()
            return [r["id"] for r in new_rows], sorted(existing)
        try:
            new, old = graph.write(work, batch, not prefetched)
        except ConstraintError:
            new, old = graph.write(work, batch, True)
        added += new
        present += old
    return added, present


def _scan_props(row: dict[str, Any]) -> dict[str, Any]:
    return {f: row.get(f) for f in SCAN_PROPERTIES}


def scans(graph: Connection, campaign_id: str) -> list[dict[str, Any]]:
    return graph.read_rows(CAMPAIGN_SCANS, SCAN_FIELDS, id=campaign_id)


def scans_page(graph: Connection, campaign_id: str, offset: int, limit: int) -> list[dict[str, Any]]:
    return [r["scan"] for r in graph.read(CAMPAIGN_SCANS_PAGE, id=campaign_id,
                                          offset=offset, limit=limit)]


# --- the register, read in bulk ------------------------------------------------------------


def hardware_in_locations(graph: Connection, locations: Sequence[str],
                          statuses: Sequence[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for batch in chunks(list(locations), 2000):
        found += graph.read_rows(HARDWARE_IN_LOCATIONS, EXPECTED_FIELDS, locations=list(batch),
                            statuses=list(statuses))
    return found


def all_hardware_with_status(graph: Connection, statuses: Sequence[str]) -> list[dict[str, Any]]:
    return graph.read_rows(ALL_HARDWARE_WITH_STATUS, EXPECTED_FIELDS, statuses=list(statuses))


def register_by_key(graph: Connection, keys: Sequence[str], batch_size: int = 20_000) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for batch in chunks(list(dict.fromkeys(keys)), batch_size):
        found += graph.read_rows(REGISTER_BY_KEY, REGISTER_FIELDS, keys=list(batch))
    return found


def existing_hardware(graph: Connection, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` are Hardware in the register now. For a large share of the
    register one pass over all Hardware is cheaper than as many index lookups."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return set()
    total = graph.read(COUNT_HARDWARE)[0]["n"]
    if len(keys) * 4 >= total:
        return set(graph.read_list(ALL_HARDWARE_KEYS)).intersection(keys)
    found: set[str] = set()
    for batch in chunks(keys, 20_000):
        found.update(graph.read_list(HARDWARE_KEYS_AMONG, keys=list(batch)))
    return found


def register_by_serial(graph: Connection, serials: Sequence[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for batch in chunks(list(dict.fromkeys(serials)), 5000):
        found += graph.read_rows(REGISTER_BY_SERIAL, SERIAL_FIELDS, serials=list(batch))
    return found


def audit_due_candidates(graph: Connection, ended: Sequence[str]) -> list[dict[str, Any]]:
    return graph.read_rows(AUDIT_DUE_CANDIDATES, DUE_FIELDS, ended=list(ended))


# --- "Found here" -------------------------------------------------------------------------


def scanned_places(graph: Connection, keys: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    """The kind and the registered location (or None) of those of ``keys`` that exist."""
    return {key: (kind_from_labels(labels), registered)
            for key, labels, registered in graph.read_list(SCANNED_PLACES, keys=list(keys))}


def containment_chains(graph: Connection, keys: Sequence[str]) -> dict[str, set[str]]:
    """Each key with every location around it (and itself)."""
    chains: dict[str, set[str]] = {key: {key} for key in keys}
    for key, up in graph.read_list(CONTAINMENT_CHAINS, keys=list(keys)):
        chains[key].add(up)
    return chains


def record_found(graph: Connection, key: str, kind: str, scans: Sequence[dict[str, Any]],
                 seen_at: str, *, actor: str, source: str) -> None:
    """One transaction: the scans (each campaign still open) and the asset's ``last_seen_at``
    with its history entry."""
    def work(tx: ManagedTransaction) -> None:
        for campaign_id in sorted({row["campaign_id"] for row in scans}):
            _refuse_unless_open(tx, campaign_id)
        if scans:
            tx.run(CREATE_SCANS, rows=[_scan_props(row) for row in scans]).consume()
        writer.apply(tx, Changes(updates=[CIInput(key, kind, {"last_seen_at": seen_at})]),
                     ChangeLog(actor, source))
    graph.write(work)
