"""Everything a register holds, node by node and relationship by relationship, for comparing
two moments whole (commit marks aside: they are the running processes' bookkeeping)."""

from __future__ import annotations

import json
from typing import Any

NODES = ("MATCH (n) WHERE NOT n:CommitMark "
         "RETURN labels(n) AS labels, properties(n) AS props")
RELATIONSHIPS = ("MATCH (a)-[r]->(b) WHERE NOT a:CommitMark "
                 "RETURN coalesce(a.key, a.id) AS start, type(r) AS type, "
                 "coalesce(b.key, b.id) AS end, properties(r) AS props")


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def dump(graph) -> dict[str, list[str]]:
    """Nodes and relationships as sorted JSON lines (comparable, and printable by a child)."""
    nodes = sorted(_text([sorted(row["labels"]), row["props"]]) for row in graph.read(NODES))
    links = sorted(_text([row["start"], row["type"], row["end"], row["props"]])
                   for row in graph.read(RELATIONSHIPS))
    return {"nodes": nodes, "relationships": links}


def labelled(state: dict[str, list[str]], label: str) -> list[str]:
    return [line for line in state["nodes"] if json.loads(line)[0] == [label]]
