"""The change log: one ``Change`` node per write, created in the same transaction as the write.

Only the writer (``cmdb.graph.writer``) records entries, through ``ChangeLog.write``.

Like NetBox's ObjectChange: who (actor), when, what (action on which key), and the values
before and after (JSON text, so any property survives exactly), plus the source of a bulk
change (an import file, an audit campaign).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Sequence

from cmdb.errors import UnknownKey
from cmdb.graph.batching import chunks
from cmdb.graph.connection import Connection
from cmdb.graph.schema import utc_now

ACTIONS = ("create", "update", "delete", "link", "unlink",
           # Events of the service records (cmdb.service) written into a CI's history.
           "repair", "spare", "contract")

RECORD_CHANGES = "UNWIND $rows AS r CREATE (c:Change) SET c = r"
# Only the undoing of an unfinished import takes entries back (cmdb.graph.import_runs).
FORGET_CHANGES = "UNWIND $ids AS id MATCH (c:Change {id: id}) DELETE c"

READ_HISTORY = """
MATCH (c:Change {key: $key})
WITH c ORDER BY c.at DESC, c.seq DESC SKIP $offset LIMIT $limit
RETURN properties(c) AS change
"""

COUNT_HISTORY = "MATCH (c:Change {key: $key}) RETURN count(c) AS total"

# The whole history of one of the CMDB's own records (a fault record, a service level), oldest
# first: a short list, kept under a key of its own ("fault:F-…").
READ_RECORD_HISTORY = """
MATCH (c:Change {key: $key})
WHERE c.kind = $kind
RETURN properties(c) AS change
ORDER BY c.at, c.seq
"""


@dataclass(frozen=True)
class ChangeEntry:
    id: str
    at: str
    actor: str
    action: str
    key: str
    kind: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    source: str | None = None

    @classmethod
    def from_node(cls, props: dict[str, Any]) -> "ChangeEntry":
        return cls(id=props["id"], at=props["at"], actor=props.get("actor", ""),
                   action=props.get("action", ""), key=props.get("key", ""),
                   kind=props.get("kind", ""),
                   before=_loads(props.get("before")), after=_loads(props.get("after")),
                   source=props.get("source"))

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at, "actor": self.actor, "action": self.action,
                "key": self.key, "kind": self.kind, "before": self.before, "after": self.after,
                "source": self.source}


def entries(conn: Connection, key: str, *, offset: int = 0,
            limit: int = 100) -> tuple[list[ChangeEntry], int]:
    """A CI's history, newest first, and how many entries it has in all."""
    total = conn.read(COUNT_HISTORY, key=key)[0]["total"]
    if not total:  # every CI ever created has its creation entry, deleted ones included
        raise UnknownKey(key)
    rows = conn.read(READ_HISTORY, key=key, offset=offset, limit=limit)
    return [ChangeEntry.from_node(r["change"]) for r in rows], total


def record_entries(conn: Connection, key: str, kind: str) -> list[dict[str, Any]]:
    """A record's history entries as stored, oldest first."""
    return [row["change"] for row in conn.read(READ_RECORD_HISTORY, key=key, kind=kind)]


def _loads(text: str | None) -> dict[str, Any] | None:
    return None if text is None else json.loads(text)


class ChangeLog:
    """Collects the history rows of one transaction and writes them with one statement."""

    def __init__(self, actor: str, source: str | None = None):
        self.actor = actor
        self.source = source
        self.at = utc_now()
        self.rows: list[dict[str, Any]] = []
        self.seq = 0  # orders the entries of one change (same time), across several writes

    def add(self, action: str, key: str, kind: str,
            before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        assert action in ACTIONS
        row = {"id": uuid.uuid4().hex, "at": self.at, "seq": self.seq, "actor": self.actor,
               "action": action, "key": key, "kind": kind}
        if before is not None:
            row["before"] = json.dumps(before, ensure_ascii=False, sort_keys=True)
        if after is not None:
            row["after"] = json.dumps(after, ensure_ascii=False, sort_keys=True)
        if self.source:
            row["source"] = self.source
        self.rows.append(row)
        self.seq += 1

    def write(self, tx) -> list[tuple[str, str]]:
        """Write the collected entries; returns their ids with the keys they are about."""
        for batch in chunks(self.rows):
            tx.run(RECORD_CHANGES, rows=list(batch)).consume()
        written = [(row["id"], row["key"]) for row in self.rows]
        self.rows = []
        return written


def forget(tx, ids: Sequence[str]) -> None:
    """Remove the entries with these ids: the undoing of writes that never completed."""
    for batch in chunks(list(ids)):
        tx.run(FORGET_CHANGES, ids=list(batch)).consume()
