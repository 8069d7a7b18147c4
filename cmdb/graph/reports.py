"""What the periodic service reports read that no other module reads: register changes in a
period and warranties ending in a period. The only module with their Cypher."""

from __future__ import annotations

from typing import Any, Sequence

from cmdb.graph.connection import Connection as Graph

CHANGES_BETWEEN = """
MATCH (c:Change)
WHERE c.at >= $start AND c.at < $end AND c.kind IN $kinds
RETURN collect([c.at, c.action, c.key, c.kind, c.before, c.after]) AS rows
"""
CHANGE_FIELDS = ("at", "action", "key", "kind", "before", "after")

HARDWARE_FACTS = """
UNWIND $keys AS k
MATCH (h:CI {key: k})
RETURN collect([h.key, h.name, h.category, h.status, h.warranty_end]) AS rows
"""

WARRANTY_ENDING = """
MATCH (h:Hardware)
WHERE h.warranty_end >= $start AND h.warranty_end < $end
RETURN collect([h.key, h.name, h.category, h.status, h.warranty_end, h.vendor, h.model]) AS rows
"""
WARRANTY_FIELDS = ("key", "name", "category", "status", "warranty_end", "vendor", "model")


def changes_between(graph: Graph, start: str, end: str, kinds: Sequence[str]) -> list[dict[str, Any]]:
    return [dict(zip(CHANGE_FIELDS, r))
            for r in graph.read_list(CHANGES_BETWEEN, start=start, end=end, kinds=list(kinds))]


def warranty_ending(graph: Graph, start: str, end: str) -> list[dict[str, Any]]:
    return [dict(zip(WARRANTY_FIELDS, r)) for r in graph.read_list(WARRANTY_ENDING, start=start, end=end)]


def hardware_facts(graph: Graph, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows = graph.read_list(HARDWARE_FACTS, keys=list(keys))
    return {r[0]: dict(zip(("key", "name", "category", "status", "warranty_end"), r)) for r in rows}
