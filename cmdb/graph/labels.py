"""Reads for label printing: which CIs a selection covers, with what goes on their labels.

CIs are matched through the ``CI`` label (the indexed one); the kind is a parameter
compared with ``labels(n)``, never interpolated.
"""

from __future__ import annotations

from typing import Any, Sequence

from cmdb.graph.connection import Connection

_FILTERS = """
WHERE ($kind IS NULL OR $kind IN labels(n))
  AND ($category IS NULL OR n.category = $category)
  AND (NOT $unlabelled OR n.label_printed_at IS NULL)
RETURN n.key AS key, labels(n) AS labels, n.name AS name, n.department AS department
ORDER BY key
"""

LABEL_ROWS_BY_KEYS = "UNWIND $keys AS k\nMATCH (n:CI {key: k})" + _FILTERS

LABEL_ROWS_IN_LOCATION = """
MATCH (root:CI {key: $location})
MATCH (n:CI)-[:LOCATED_IN*0..32]->(root)
WITH DISTINCT n
""" + _FILTERS

LABEL_ROWS_ALL = "MATCH (n:CI)" + _FILTERS


def label_rows(graph: Connection, *, keys: Sequence[str] | None, location: str | None,
               kind: str | None, category: str | None, unlabelled: bool) -> list[dict[str, Any]]:
    params = {"kind": kind, "category": category, "unlabelled": bool(unlabelled)}
    if keys:
        rows = graph.read(LABEL_ROWS_BY_KEYS, keys=list(keys), **params)
        if location is not None:
            inside = {r["key"] for r in graph.read(LABEL_ROWS_IN_LOCATION, location=location,
                                                   **params)}
            rows = [r for r in rows if r["key"] in inside]
        return rows
    if location is not None:
        return graph.read(LABEL_ROWS_IN_LOCATION, location=location, **params)
    return graph.read(LABEL_ROWS_ALL, **params)
