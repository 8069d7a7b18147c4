"""The Cypher of backup and restore: counting, streaming each section, writing records back.

The orchestration (snapshot fingerprint, sorting, the file, verification) is in
``cmdb.backup.service``; this module only runs queries. A restore writes CIs and
relationships through the one writer (``cmdb.graph.writer``) without history of its own:
the history is in the file.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from neo4j import ManagedTransaction, Record

from cmdb.errors import BackupIncomplete
from cmdb.graph import writer
from cmdb.graph.ci import COUNT_BY_KIND
from cmdb.graph.connection import Connection
from cmdb.graph.schema import (
    BOOKKEEPING_LABELS, CI_LABEL, FILE_LABELS, FILE_PROPERTY, RELATIONSHIPS, SYSTEM_LABELS, identity_property,
    system_relationship_types,
)
from cmdb.graph.values import CIInput, Link
from cmdb.graph.writer import Changes


# --- reads -------------------------------------------------------------------------
# Each section is read by one streaming query without ORDER BY: on the embedded engine an
# ordered page (`WHERE n.key > $after ORDER BY n.key LIMIT n`) scans and sorts every CI for
# each page, which grows with the square of the register. Records are put in order on disk
# instead (``SortedSpill``), so two backups of the same register are identical.

COUNT_CI_OUTGOING = "MATCH (:CI)-[r]->(b) RETURN type(r) AS type, labels(b) AS labels, count(r) AS count"
COUNT_ALL_RELATIONSHIPS = "MATCH ()-[r]->() RETURN count(r) AS count"
# Commit marks and import runs are bookkeeping of running processes, not content.
ANY_NODE = (f"MATCH (n) WHERE NOT ({' OR '.join(f'n:{label}' for label in BOOKKEEPING_LABELS)}) "
            "RETURN labels(n) AS labels LIMIT 1")

ALL_CIS = "MATCH (n:CI) RETURN n.key AS key, labels(n) AS labels, properties(n) AS props"



def _label(label: str) -> str:
    """A label for Cypher: only CI and the schema's system labels, never input."""
    if label != CI_LABEL and label not in SYSTEM_LABELS:
        raise ValueError(f"not a schema label: {label!r}")
    return label


def _ident(label: str) -> str:
    """The property that identifies nodes of ``label``: key for CIs, the unique one otherwise."""
    if label == CI_LABEL:
        return "key"
    prop = identity_property(_label(label))
    if prop is None:
        raise BackupIncomplete(f"{label} nodes have no unique property, so they cannot be "
                               "identified in a backup", {"label": label})
    return prop


def referenced_files_query(label: str) -> str:
    return (f"MATCH (n:{_label(label)}) WHERE n.{FILE_PROPERTY} IS NOT NULL "
            f"RETURN collect(DISTINCT n.{FILE_PROPERTY}) AS hashes")


def referenced_files(conn: Connection) -> list[str]:
    """The stored files (cmdb.documents.store) the graph's nodes refer to, sorted."""
    found: set[str] = set()
    for label in FILE_LABELS:
        found.update(conn.read_list(referenced_files_query(label)))
    return sorted(found)


def count_nodes_query(label: str) -> str:
    return f"MATCH (n:{_label(label)}) RETURN count(n) AS count"


def count_outgoing_query(label: str) -> str:
    return (f"MATCH (a:{_label(label)})-[r]->(b) "
            "RETURN type(r) AS type, labels(b) AS labels, count(r) AS count")


def all_nodes_query(label: str) -> str:
    return f"MATCH (n:{_label(label)}) RETURN n.{_ident(label)} AS id, properties(n) AS props"


def all_relationships_query(start: str, end: str) -> str:
    a, b = _ident(start), _ident(end)
    return (f"MATCH (a:{_label(start)})-[r]->(b:{_label(end)}) "
            f"RETURN a.{a} AS from, type(r) AS type, b.{b} AS to, properties(r) AS props")


def _rel_type(rel: str, start: str, end: str) -> str:
    allowed = RELATIONSHIPS if start == end == CI_LABEL else system_relationship_types()
    if rel not in allowed:
        raise ValueError(f"not a schema relationship type: {rel!r}")
    return rel


def create_nodes_query(label: str) -> str:
    return f"UNWIND $rows AS r CREATE (n:{_label(label)}) SET n = r RETURN count(n) AS written"


def merge_nodes_query(label: str) -> str:
    prop = _ident(label)
    return (f"UNWIND $rows AS r MERGE (n:{_label(label)} {{{prop}: r.{prop}}}) SET n = r "
            "RETURN count(n) AS written")


# --- running them ---------------------------------------------------------------------------


def ci_counts(conn: Connection) -> list[dict[str, Any]]:
    """``{labels, count}`` per combination of labels of CIs."""
    return conn.read(COUNT_BY_KIND)


def node_count(conn: Connection, label: str) -> int:
    return conn.read(count_nodes_query(label))[0]["count"]


def ci_outgoing_counts(conn: Connection) -> list[dict[str, Any]]:
    """``{type, labels (of the end), count}`` of the relationships that start at CIs."""
    return conn.read(COUNT_CI_OUTGOING)


def outgoing_counts(conn: Connection, label: str) -> list[dict[str, Any]]:
    return conn.read(count_outgoing_query(label))


def relationship_count(conn: Connection) -> int:
    return conn.read(COUNT_ALL_RELATIONSHIPS)[0]["count"]


def has_any_node(conn: Connection) -> bool:
    return bool(conn.read(ANY_NODE))


def stream(conn: Connection, query: str, handle: Callable[[Record], None]) -> int:
    """Run one section's query in a read transaction, handing each record to ``handle``
    as it arrives; returns how many there were."""
    def work(tx: ManagedTransaction) -> int:
        count = 0
        for record in tx.run(query):
            handle(record)
            count += 1
        return count
    return conn.read_tx(work)


def kinds_of(conn: Connection, keys: Sequence[str]) -> dict[str, str]:
    return conn.read_tx(writer.fetch_kinds, list(keys))


def write_cis(conn: Connection, kind: str, rows: list[dict[str, Any]], merge: bool) -> int:
    return conn.write(_write_cis, kind, rows, merge)


def write_links(conn: Connection, rel: str, rows: list[dict[str, Any]], kinds: dict[str, str],
                merge: bool) -> int:
    return conn.write(_write_links, rel, rows, kinds, merge)


def write_nodes(conn: Connection, label: str, rows: list[dict[str, Any]], merge: bool) -> int:
    query = merge_nodes_query(label) if merge else create_nodes_query(label)
    return conn.write(_write_nodes, query, rows)


def write_node_relationships(conn: Connection, start: str, rel: str, end: str,
                             rows: list[dict[str, Any]]) -> int:
    query = writer.node_relationships_query(
        _label(start), _ident(start), _rel_type(rel, start, end), _label(end), _ident(end))
    return conn.write(writer.write_node_relationships, query, rows)


def _write_cis(tx: ManagedTransaction, kind: str, rows: list[dict[str, Any]], merge: bool) -> int:
    """CIs exactly as in the file (no history: it is in the file); with ``merge`` a CI of the
    target with the same key is replaced."""
    items = [CIInput(row["key"], kind, row) for row in rows]
    creates, updates, existing = (writer.split_by_existence(tx, items) if merge
                                  else (items, [], {}))
    done = writer.apply(tx, Changes(creates=creates, updates=updates), None, existing=existing)
    return len(done.cis.created) + len(done.cis.updated)


def _write_links(tx: ManagedTransaction, rel: str, rows: list[dict[str, Any]],
                 kinds: dict[str, str], merge: bool) -> int:
    """Relationships between CIs with their properties from the file; with ``merge`` the file's
    target of a single-valued type replaces the target's."""
    links = [Link(row["from"], rel, row["to"], row["props"]) for row in rows]
    done = writer.apply(tx, Changes(links=links), None, kinds=kinds, new_links=not merge)
    return len(done.links.created) + len(done.links.unchanged)


def _write_nodes(tx: ManagedTransaction, query: str, rows: list[dict[str, Any]]) -> int:
    return tx.run(query, rows=rows).single()["written"]
