"""Read queries that spreadsheet import and export need beyond the store's own.

All reads; writes go through ``Graph.upsert_cis_atomically`` / ``link_many``. Labels come
from the schema's closed set; values are parameters.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

from cmdb.graph.schema import CI_LABEL, KINDS, RELATIONSHIPS
from cmdb.graph.store import EXISTING_LINKS, Graph, _chunks

LOCATION_TREE = f"""
MATCH (n:Location)
OPTIONAL MATCH (n)-[:LOCATED_IN]->(p:{CI_LABEL})
RETURN n.key AS key, n.name AS name, p.key AS parent
"""

ALL_LINKS = f"""
MATCH (a:{CI_LABEL})-[r]->(b:{CI_LABEL})
RETURN a.key AS from, type(r) AS type, b.key AS to
"""

EXPORT_PAGE_SIZE = 20_000


def export_cis_query(kind: str) -> str:
    label = KINDS[kind].label  # closed set
    return (f"MATCH (n:{label}) WHERE n.key > $after "
            "RETURN n.key AS key, properties(n) AS props ORDER BY n.key LIMIT $limit")


def location_tree(graph: Graph) -> list[tuple[str, str | None, str | None]]:
    return [(r["key"], r["name"], r["parent"]) for r in graph.read(LOCATION_TREE)]


def cis_of_kind(graph: Graph, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every CI of ``kind`` in key order, read in pages."""
    after = ""
    query = export_cis_query(kind)
    while True:
        rows = graph.read(query, after=after, limit=EXPORT_PAGE_SIZE)
        for r in rows:
            yield r["key"], r["props"]
        if len(rows) < EXPORT_PAGE_SIZE:
            return
        after = rows[-1]["key"]


def all_links(graph: Graph) -> list[tuple[str, str, str]]:
    return [(r["from"], r["type"], r["to"]) for r in graph.read(ALL_LINKS) if r["type"] in RELATIONSHIPS]


def existing_links(graph: Graph, links: Sequence[tuple[str, str, str]],
                   batch_size: int = 2000) -> set[tuple[str, str, str]]:
    """Which of the given (from, type, to) links exist already (exactly, not just the type)."""
    found: set[tuple[str, str, str]] = set()
    for batch in _chunks(list(links), batch_size):
        rows = graph.read(EXISTING_LINKS, rows=[{"from": a, "type": t, "to": b, "single": False}
                                                for a, t, b in batch])
        found.update((r["from"], r["type"], r["to"]) for r in rows)
    return found
