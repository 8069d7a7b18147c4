"""Read queries that spreadsheet import and export need beyond the store's own.

Reads for comparing a file with the register and for exporting it, and the one-transaction
write of a whole import: CIs through the store's own create/update step, links leaner than
the store's (the file is validated against the schema before it gets here, and only links
that did not exist are sent). Labels and relationship types come from the schema's
closed sets; values are parameters. Every change gets its history entry in the same
transaction, through ``ChangeLog`` like the store's own writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from neo4j import ManagedTransaction
from neo4j.exceptions import ConstraintError

from cmdb.errors import Conflict, ForbiddenRelationship
from cmdb.graph.history import ChangeLog
from cmdb.graph.schema import CI_LABEL, KINDS, RELATIONSHIPS, REVISION
from cmdb.graph.store import (
    DELETE_LINKS, LOCATION_CYCLE, CIInput, Graph, Link, LinkResult, UpsertResult, _chunks,
    kind_from_labels,
)
from cmdb.graph.store import existing_links as store_existing_links

LOCATION_TREE = f"""
MATCH (n:Location)
OPTIONAL MATCH (n)-[:LOCATED_IN]->(p:{CI_LABEL})
RETURN n.key AS key, n.name AS name, p.key AS parent
"""

ALL_LINKS = f"""
MATCH (a:{CI_LABEL})-[r]->(b:{CI_LABEL})
RETURN collect([a.key, type(r), b.key]) AS rows
"""

def location_tree(graph: Graph) -> list[tuple[str, str | None, str | None]]:
    return [(r["key"], r["name"], r["parent"]) for r in graph.read(LOCATION_TREE)]


def cis_of_kind(graph: Graph, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """Every CI of ``kind`` in key order: one collected read, sorted here (on the embedded
    engine a scan is several times faster than ordered pages of it)."""
    rows = graph.read_list(snapshot_query(kind))
    return sorted(((key, props) for key, _labels, props in rows), key=lambda row: row[0])


def all_links(graph: Graph) -> list[tuple[str, str, str]]:
    return [(a, t, b) for a, t, b in graph.read_list(ALL_LINKS) if t in RELATIONSHIPS]


def existing_links(graph: Graph, links: Sequence[tuple[str, str, str]],
                   batch_size: int = 2000) -> set[tuple[str, str, str]]:
    """Which of the given (from, type, to) links exist already (exactly, not just the type)."""
    found: set[tuple[str, str, str]] = set()
    for batch in _chunks(list(links), batch_size):
        rows = [{"from": a, "type": t, "to": b, "single": False} for a, t, b in batch]
        found.update(graph.read_tx(store_existing_links, rows))
    return found


# ---------------------------------------------------------------------------------------
# What an import compares against: CIs with their properties and outgoing links.

COUNT_CIS = f"MATCH (n:{CI_LABEL}) RETURN count(n) AS total"

SNAPSHOT_BY_KEYS = f"""
UNWIND $keys AS k
MATCH (n:{CI_LABEL} {{key: k}})
RETURN collect([n.key, labels(n), properties(n)]) AS rows
"""

LINKS_FROM_KEYS = f"""
UNWIND $keys AS k
MATCH (a:{CI_LABEL} {{key: k}})-[r]->(b:{CI_LABEL})
RETURN collect([a.key, type(r), b.key]) AS rows
"""


def snapshot_query(kind: str) -> str:
    label = KINDS[kind].label  # closed set
    return f"MATCH (n:{label}) RETURN collect([n.key, labels(n), properties(n)]) AS rows"


@dataclass
class Existing:
    kind: str
    properties: dict[str, Any]
    out: set[tuple[str, str]]   # (relationship type, target key)

    @property
    def revision(self) -> int:
        return int(self.properties.get(REVISION) or 0)


def _existing(key: str, labels: list[str], props: dict[str, Any]) -> Existing:
    props.pop("key", None)
    return Existing(kind_from_labels(labels), props, set())


def register_size(graph: Graph) -> int:
    return graph.read(COUNT_CIS)[0]["total"]


def snapshot_by_keys(graph: Graph, keys: Sequence[str], batch_size: int = 5000) -> dict[str, Existing]:
    """The CIs with these keys, with their properties and outgoing links."""
    found: dict[str, Existing] = {}
    for batch in _chunks(list(dict.fromkeys(keys)), batch_size):
        for key, labels, props in graph.read_list(SNAPSHOT_BY_KEYS, keys=list(batch)):
            found[key] = _existing(key, labels, props)
        for a, t, b in graph.read_list(LINKS_FROM_KEYS, keys=[k for k in batch if k in found]):
            found[a].out.add((t, b))
    return found


def snapshot_all(graph: Graph) -> dict[str, Existing]:
    """Every CI with its properties and outgoing links: two scans, no per-CI lookups."""
    found: dict[str, Existing] = {}
    for kind in KINDS:
        for key, labels, props in graph.read_list(snapshot_query(kind)):
            found[key] = _existing(key, labels, props)
    for a, t, b in all_links(graph):
        if a in found:
            found[a].out.add((t, b))
    return found


# ---------------------------------------------------------------------------------------
# Writing an import: one transaction, so a file is written completely or not at all.

WRITE_BATCH = 5000


def create_links_counted_query(rel_type: str) -> str:
    rel = RELATIONSHIPS[rel_type].type  # closed set
    return (f"UNWIND $rows AS r MATCH (a:{CI_LABEL} {{key: r.from}}) "
            f"MATCH (b:{CI_LABEL} {{key: r.to}}) "
            f"CREATE (a)-[x:{rel}]->(b) SET x.created_at = r.at, x.created_by = r.actor "
            "RETURN count(x) AS n")


def write_import(graph: Graph, creates: Sequence[CIInput], updates: Sequence[CIInput],
                 links: Sequence[tuple[str, str, str]], kinds: dict[str, str], *, actor: str,
                 source: str | None) -> tuple[UpsertResult, LinkResult]:
    """Create ``creates``, apply the differing properties of ``updates`` (compared inside the
    transaction), create ``links`` (replacing a CI's previous LOCATED_IN / RUNS_IMAGE), with
    a history entry for each change, all in one transaction.

    The caller has validated values, keys and relationship kinds against the schema, and
    ``links`` holds only links that did not exist when it looked."""
    created_keys = {c.key for c in creates}

    def work(tx: ManagedTransaction) -> tuple[UpsertResult, LinkResult]:
        changes = ChangeLog(actor, source)
        now = changes.at
        upserted, linked = UpsertResult(), LinkResult()
        for batch in _chunks([*creates, *updates], WRITE_BATCH):
            updated_keys = [item.key for item in batch if item.key not in created_keys]
            current = Graph._fetch(tx, updated_keys) if updated_keys else {}
            gone = [k for k in updated_keys if k not in current]
            if gone:
                raise Conflict(f"{gone[0]!r} was deleted while the import ran; import again",
                               {"key": gone[0]})
            upserted.merge(graph._upsert_in_tx(tx, batch, changes, current))
        single = [(a, t, b) for a, t, b in links if RELATIONSHIPS[t].single and a not in created_keys]
        if single:
            wanted = {(a, t): b for a, t, b in single}
            replaced = []
            for batch in _chunks(single, WRITE_BATCH):
                for a, t, b in store_existing_links(tx, [{"from": a, "type": t, "to": b, "single": True}
                                                         for a, t, b in batch]):
                    if wanted.get((a, t)) != b:
                        replaced.append({"from": a, "type": t, "to": b})
            for batch in _chunks(replaced, WRITE_BATCH):
                tx.run(DELETE_LINKS, rows=list(batch)).consume()
            for r in replaced:
                changes.add("unlink", r["from"], kinds.get(r["from"], ""), dict(r), None)
                linked.replaced.append(Link(r["from"], r["type"], r["to"]))
        by_type: dict[str, list[dict[str, str]]] = {}
        for a, t, b in links:
            by_type.setdefault(t, []).append({"from": a, "to": b, "at": now, "actor": actor})
            changes.add("link", a, kinds.get(a, ""), None, {"from": a, "type": t, "to": b})
            linked.created.append(Link(a, t, b))
        for t, rows in by_type.items():
            for batch in _chunks(rows, WRITE_BATCH):
                made = tx.run(create_links_counted_query(t), rows=list(batch)).single()["n"]
                if made != len(batch):
                    raise Conflict(f"{len(batch) - made} {t} relationship(s) could not be created: a CI "
                                   "they join was deleted while the import ran; import again",
                                   {"type": t})
        placed = [a for a, t, b in links if RELATIONSHIPS[t].acyclic and kinds.get(a) == "Location"]
        for batch in _chunks(placed, WRITE_BATCH):
            cycle = tx.run(LOCATION_CYCLE, keys=list(batch)).data()
            if cycle:
                raise ForbiddenRelationship(
                    f"Placing {cycle[0]['k']!r} there would put it inside itself",
                    details={"key": cycle[0]["k"], "type": "LOCATED_IN"})
        changes.write(tx)
        return upserted, linked

    try:
        return graph.write(work, operation="the import")
    except ConstraintError as exc:
        raise Conflict("A CI in this import was created by someone else while the import ran; "
                       "nothing was written, import again", {"reason": str(exc)[:200]}) from exc
