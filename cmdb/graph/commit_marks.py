"""Commit marks: after a write transaction that changed CIs commits, a small ``CommitMark``
node says when and which CIs, so that every process keeping a list index
(``cmdb.graph.list_index``) of the register learns of writes made by any other process (an
API worker, a CLI command, an import), on the embedded engine and on Neo4j alike.

The mark is written in a transaction of its own *after* the commit, so its time is never
earlier than the data it announces is visible; a transaction that ran for minutes (an
import) is announced when it ends, not when it began. A process that dies between its
commit and its mark leaves the mark out: list indexes are rebuilt from the graph at start
and every ``REBUILD_SECONDS`` (``cmdb.graph.list_index``), so that gap closes by itself.

The writer (``cmdb.graph.writer.apply``) notes the keys it touched; ``Connection.write``
collects them per transaction and writes the mark after the commit.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from contextvars import ContextVar
from typing import Iterable, Iterator

from cmdb.graph.schema import COMMIT_MARK_LABEL

# More keys than this in one transaction: the mark says "everything" (each index rebuilds).
MARK_KEYS_MAX = 5000
# Marks older than this are deleted (by whichever process writes a mark after that long).
KEEP_SECONDS = 3600.0
PRUNE_EVERY_SECONDS = 600.0

WRITE_MARK = f"CREATE (m:{COMMIT_MARK_LABEL} {{id: $id, at: $at, keys: $keys, everything: $everything}})"
MARKS_SINCE = (f"MATCH (m:{COMMIT_MARK_LABEL}) WHERE m.at >= $since AND NOT m.id IN $seen "
               "RETURN collect([m.id, m.at, m.everything, m.keys]) AS marks")
PRUNE_MARKS = (f"MATCH (m:{COMMIT_MARK_LABEL}) WHERE m.at < $before "
               "WITH m LIMIT 5000 DELETE m RETURN count(*) AS deleted")


class Touched:
    """The CIs one write transaction changed: their keys, or "everything" (a wipe, a bulk load)."""

    def __init__(self, *, everything: bool = False) -> None:
        self.keys: set[str] = set()
        self.everything = everything

    def __bool__(self) -> bool:
        return self.everything or bool(self.keys)

    def mark_row(self) -> dict:
        everything = self.everything or len(self.keys) > MARK_KEYS_MAX
        return {"id": uuid.uuid4().hex, "at": time.time(), "everything": everything,
                "keys": None if everything else sorted(self.keys)}


_current: ContextVar[Touched | None] = ContextVar("cmdb_touched_cis", default=None)


@contextlib.contextmanager
def collecting() -> Iterator[Touched]:
    """Collect what the writes in this block touch (one per ``Connection.write``)."""
    touched = Touched()
    token = _current.set(touched)
    try:
        yield touched
    finally:
        _current.reset(token)


def note(keys: Iterable[str]) -> None:
    """The writer changed these CIs (their properties, links or existence)."""
    touched = _current.get()
    if touched is not None:
        touched.keys.update(keys)


def note_everything() -> None:
    touched = _current.get()
    if touched is not None:
        touched.everything = True
