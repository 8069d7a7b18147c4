"""CI changes made inside another record's transaction (a repair order, a spare issue, a
contract): property updates, links and unlinks through the one writer (``writer.apply``),
their history entries in the same ``ChangeLog`` as the record's own, so both are written or
neither."""

from __future__ import annotations

from typing import Any, Sequence

from neo4j import ManagedTransaction

from cmdb.errors import UnknownKey
from cmdb.graph import schema, writer
from cmdb.graph.history import ChangeLog
from cmdb.graph.schema import KINDS
from cmdb.graph.values import CI, CIInput, Link


def fetch_cis(tx: ManagedTransaction, keys: Sequence[str]) -> dict[str, CI]:
    """The CIs of ``keys``; UnknownKey naming those that do not exist."""
    found = writer.fetch_cis(tx, keys)
    missing = [k for k in dict.fromkeys(keys) if k not in found]
    if missing:
        raise UnknownKey(missing)
    return found


def change_cis(tx: ManagedTransaction, changes: ChangeLog, *,
               updates: Sequence[tuple[str, dict[str, Any]]] = (),
               links: Sequence[Link] = (),
               unlinks: Sequence[Link] = ()) -> None:
    """Update properties (validated against each CI's kind), remove the links of ``unlinks``
    that exist, and add ``links``."""
    existing = fetch_cis(tx, [key for key, _ in updates]) if updates else {}
    items = [CIInput(key, existing[key].kind,
                     schema.validate_properties(KINDS[existing[key].kind], values))
             for key, values in updates]
    present = writer.existing_links(tx, list(unlinks)) if unlinks else set()
    gone = [link for link in unlinks if (link.from_key, link.type, link.to_key) in present]
    writer.apply(tx, writer.Changes(updates=items, links=links, unlinks=gone), changes,
                 existing=existing)
