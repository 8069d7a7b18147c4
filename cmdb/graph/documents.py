"""Documents and notes in the graph: ``Document`` nodes attached to a target — a CI (any kind:
hardware, location, image, application), a hardware model or a hardware category — written
with their history entries (key: the document's id, kind ``Document``) in the same transaction.

A target is kept as one indexed text, ``ci:SRV-001``, ``model:optiplex 7010`` (models folded
as the compatibility checks fold them) or ``category:pc``.
"""

from __future__ import annotations

from typing import Any, Sequence

from neo4j import ManagedTransaction

from cmdb.errors import NotFound
from cmdb.graph.history import ChangeLog
from cmdb.graph.schema import DOCUMENT_LABEL
from cmdb.graph.connection import Connection as Graph
from cmdb.i18n import _

KIND = DOCUMENT_LABEL
# What a history entry keeps of a document (not the text of a long note twice over).
_HISTORY_FIELDS = ("type", "title", "target", "target_value", "solves", "filename", "media_type",
                   "size", "file_sha256", "body")

CREATE = f"CREATE (d:{DOCUMENT_LABEL}) SET d = $props"
LOCK = f"MATCH (d:{DOCUMENT_LABEL} {{id: $id}}) SET d._lock = true REMOVE d._lock RETURN properties(d) AS props"
UPDATE = f"MATCH (d:{DOCUMENT_LABEL} {{id: $id}}) SET d += $set"
DELETE = f"MATCH (d:{DOCUMENT_LABEL} {{id: $id}}) DELETE d"
GET = f"MATCH (d:{DOCUMENT_LABEL} {{id: $id}}) RETURN properties(d) AS props"
FOR_TARGETS = f"""
UNWIND $targets AS t
MATCH (d:{DOCUMENT_LABEL} {{target: t}})
RETURN collect(properties(d)) AS rows
"""
# No full-text index on the embedded engine: a search scans the documents (few next to CIs).
SEARCH = f"""
MATCH (d:{DOCUMENT_LABEL})
WHERE toLower(d.title) CONTAINS $q OR toLower(coalesce(d.body, '')) CONTAINS $q
   OR toLower(coalesce(d.solves, '')) CONTAINS $q OR toLower(coalesce(d.filename, '')) CONTAINS $q
   OR toLower(d.target_value) CONTAINS $q
RETURN collect(properties(d)) AS rows
"""


def _history(props: dict[str, Any]) -> dict[str, Any]:
    return {k: props[k] for k in _HISTORY_FIELDS if props.get(k) is not None}


def create(graph: Graph, props: dict[str, Any], *, actor: str) -> None:
    def work(tx: ManagedTransaction) -> None:
        tx.run(CREATE, props=props).consume()
        changes = ChangeLog(actor)
        changes.add("create", props["id"], KIND, None, _history(props))
        changes.write(tx)
    graph.write(work)


def _locked(tx: ManagedTransaction, doc_id: str) -> dict[str, Any]:
    record = tx.run(LOCK, id=doc_id).single()
    if record is None:
        raise NotFound(_("There is no document %(id)s", id=repr(doc_id)), {"id": doc_id})
    return record["props"]


def update(graph: Graph, doc_id: str, values: dict[str, Any], *, actor: str, at: str) -> dict[str, Any]:
    """Change a document's fields (``None`` removes one); returns it as it is now."""
    def work(tx: ManagedTransaction) -> dict[str, Any]:
        current = _locked(tx, doc_id)
        diff = {k: v for k, v in values.items() if current.get(k) != v}
        if not diff:
            return current
        stamp = {"updated_at": at, "updated_by": actor, "revision": int(current.get("revision") or 0) + 1}
        tx.run(UPDATE, id=doc_id, set={**diff, **stamp}).consume()
        changes = ChangeLog(actor)
        changes.add("update", doc_id, KIND, {k: current.get(k) for k in diff}, diff)
        changes.write(tx)
        return {k: v for k, v in {**current, **diff, **stamp}.items() if v is not None}
    return graph.write(work)


def delete(graph: Graph, doc_id: str, *, actor: str) -> None:
    def work(tx: ManagedTransaction) -> None:
        current = _locked(tx, doc_id)
        tx.run(DELETE, id=doc_id).consume()
        changes = ChangeLog(actor)
        changes.add("delete", doc_id, KIND, _history(current), None)
        changes.write(tx)
    graph.write(work)


def get(graph: Graph, doc_id: str) -> dict[str, Any]:
    rows = graph.read(GET, id=doc_id)
    if not rows:
        raise NotFound(_("There is no document %(id)s", id=repr(doc_id)), {"id": doc_id})
    return rows[0]["props"]


def for_targets(graph: Graph, targets: Sequence[str]) -> list[dict[str, Any]]:
    if not targets:
        return []
    return graph.read_list(FOR_TARGETS, targets=list(dict.fromkeys(targets)))


def search(graph: Graph, q: str) -> list[dict[str, Any]]:
    return graph.read_list(SEARCH, q=q)
