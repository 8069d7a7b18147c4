"""CI changes made inside another record's transaction (a repair order, a spare issue, a
contract): property updates, links and unlinks through the store's writer, with their history
entries in the same ``ChangeLog`` as the record's own, so both are written or neither.

Kept to this one module so that it follows the store's writer wherever that goes.
"""

from __future__ import annotations

from typing import Any, Sequence

from neo4j import ManagedTransaction

from cmdb.errors import UnknownKey
from cmdb.graph import schema
from cmdb.graph.history import ChangeLog
from cmdb.graph.schema import KINDS
from cmdb.graph.store import DELETE_LINKS, CI, CIInput, Graph, Link, existing_links


def fetch_cis(graph: Graph, tx: ManagedTransaction, keys: Sequence[str]) -> dict[str, CI]:
    found = graph._fetch(tx, list(dict.fromkeys(keys)))
    missing = [k for k in dict.fromkeys(keys) if k not in found]
    if missing:
        raise UnknownKey(missing)
    return found


def change_cis(graph: Graph, tx: ManagedTransaction, changes: ChangeLog, *,
               updates: Sequence[tuple[str, dict[str, Any]]] = (),
               links: Sequence[Link] = (),
               unlinks: Sequence[Link] = ()) -> None:
    """Update properties (validated against each CI's kind), remove and add links."""
    if updates:
        existing = fetch_cis(graph, tx, [key for key, _ in updates])
        items = [CIInput(key, existing[key].kind,
                         schema.validate_properties(KINDS[existing[key].kind], values))
                 for key, values in updates]
        graph._upsert_in_tx(tx, items, changes, existing)
    for link in unlinks:
        rel = schema.relationship_of(link.type)
        row = {"from": link.from_key, "type": rel.type, "to": link.to_key}
        if existing_links(tx, [{**row, "single": False}]):
            tx.run(DELETE_LINKS, rows=[row]).consume()
            kind = fetch_cis(graph, tx, [link.from_key])[link.from_key].kind
            changes.add("unlink", link.from_key, kind, row, None)
    if links:
        graph._link_in_tx(tx, list(links), changes)
