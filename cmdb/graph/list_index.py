"""The list index: what list pages and search need of every CI, held in memory by a
long-running process (each API worker of ``cmdb serve``), so that a page of any list or a
search is answered without scanning the register in the engine.

It holds, per CI: kind, status, category, the location it is in (LOCATED_IN), its key,
name, serial and model in lower case for search, and what it needs (the relationships impact
follows). A location's subtree is walked in memory, so moving a rack re-files everything in
it at once; impact's traversal (``reach``) and location chains are answered from it too. The
CIs of a page are still read from the graph by key, so what a page shows is never older than
the graph.

The graph is the only source of truth. The index is read from it when first needed and
every ``REBUILD_SECONDS``; in between it catches up before each answer from the commit
marks (``cmdb.graph.commit_marks``) that every process writes after changing CIs, so a
write by any process is in every index's next answer. A process that starts (or restarts
after a crash) reads the index afresh, so a crash never leaves it disagreeing with the graph.
"""

from __future__ import annotations

import bisect
import gc
import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Iterable, NamedTuple, Sequence

from cmdb.graph import commit_marks
from cmdb.graph.batching import chunks
from cmdb.graph.schema import CI_LABEL, NEEDS_RELATIONSHIPS
from cmdb.graph.values import kind_from_labels

log = logging.getLogger(__name__)

# Marks are looked for from this long before the last look: the time in a mark is the
# writing process's clock, which may differ a little from this one's (Neo4j, several hosts).
CLOCK_SLACK_SECONDS = 30.0
# Read afresh this often whatever the marks say (a process that died between a commit and
# its mark, a write outside the writer).
REBUILD_SECONDS = 600.0
# More changed CIs than this since the last look: read everything afresh instead.
REREAD_KEYS_MAX = 20000
# Answers (the ordered keys of one filter) kept until the next change.
ANSWERS_KEPT = 64
# Depth of the location tree walked for a subtree, as the engine's LOCATED_IN*0..32.
SUBTREE_DEPTH = 32

_ROW = ("[n.key, labels(n), n.status, n.category, n.name, n.serial, n.model, p.key, n.type, "
        "n.criticality, n.min_hosts]")
ALL_ROWS = f"""
MATCH (n:{CI_LABEL})
OPTIONAL MATCH (n)-[:LOCATED_IN]->(p:{CI_LABEL})
RETURN collect({_ROW}) AS rows
"""
ROWS_OF = f"""
UNWIND $keys AS k
MATCH (n:{CI_LABEL} {{key: k}})
OPTIONAL MATCH (n)-[:LOCATED_IN]->(p:{CI_LABEL})
RETURN collect({_ROW}) AS rows
"""
# What each CI needs (the relationships impact follows), for impact answered in memory.
_NEEDS = "|".join(NEEDS_RELATIONSHIPS)
ALL_NEEDS = f"MATCH (a:{CI_LABEL})-[r:{_NEEDS}]->(b:{CI_LABEL}) RETURN collect([a.key, type(r), b.key]) AS links"
NEEDS_OF = f"""
UNWIND $keys AS k
MATCH (a:{CI_LABEL} {{key: k}})-[r:{_NEEDS}]->(b:{CI_LABEL})
RETURN collect([a.key, type(r), b.key]) AS links
"""


class Entry(NamedTuple):
    kind: str
    status: str | None
    category: str | None
    parent: str | None
    text: str               # key, name, serial and model in lower case, NUL between
    key_lower: str
    serial_lower: str
    name: str | None
    type: str | None        # a location's type
    criticality: str | None
    min_hosts: int | None
    needs: tuple[tuple[str, str], ...]   # (relationship type, key) it needs
    hosts: int                           # how many hosts it RUNS_ON


def _entry(row: Sequence[Any], needs: dict[str, list[tuple[str, str]]]) -> tuple[str, Entry] | None:
    key, labels, status, category, name, serial, model, parent, type_, criticality, min_hosts = row
    try:
        kind = kind_from_labels(labels)
    except ValueError:
        return None
    fields = [str(v).lower() for v in (key, name, serial, model) if v is not None]
    serial_lower = str(serial).lower() if serial is not None else ""
    needed = needs.get(key, ())
    return key, Entry(kind, status, category, parent, "\x00".join(fields), str(key).lower(),
                      serial_lower, name, type_, criticality, min_hosts, tuple(needed),
                      sum(1 for rel, _ in needed if rel == "RUNS_ON"))


def _needs_by_key(links: Iterable[Sequence[str]]) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for a, rel_type, b in links:
        found.setdefault(a, []).append((rel_type, b))
    return found


class Filters(NamedTuple):
    kind: str | None = None
    status: str | None = None
    category: str | None = None
    location: str | None = None
    q: tuple[str, ...] = ()  # spellings of the search text (cmdb.text_search.query_variants)


class Answer(NamedTuple):
    keys: list[str]   # in the order of the list: exact key/serial matches first, then by key
    exact: int        # how many of them are exact matches


class ListIndex:
    """One process's list index; thread-safe (a worker answers requests in a thread pool)."""

    def __init__(self, read_list: Callable[..., list[Any]], *, freeze: bool = False):
        """``freeze``: the process's only big, long-lived data (an API worker): after each
        whole read, move every object to Python's permanent generation (``gc.freeze``), so the
        collector stops walking the index's million objects now and then while a request
        waits (a building's impact, p95 169 -> 76 ms at 100,000 CIs)."""
        self._read_list = read_list
        self._freeze = freeze
        self._lock = threading.RLock()
        self._entries: dict[str, Entry] = {}
        self._ordered: list[str] = []
        self._children: dict[str, set[str]] = {}
        self._needed_by: dict[str, set[tuple[str, str]]] = {}   # key -> (type, key needing it)
        self._built = False
        self._built_at = 0.0
        self._since = 0.0            # marks at or after this time are looked at
        self._read_from = 0.0        # when the register was last read whole
        self._seen: dict[str, float] = {}   # marks applied: id -> time
        self._pending: set[str] = set()     # keys this process wrote, to read again
        self._everything = False
        self._refreshing = False
        self.refresher: threading.Thread | None = None   # the last refresh started
        self._answers: OrderedDict[Filters, Answer] = OrderedDict()
        # Search: every CI's text joined by \x01, where each starts, and whose it is.
        self._text: str | None = None
        self._text_starts: list[int] = []
        self._text_keys: list[str] = []

    # -- keeping up with the graph

    def touched(self, keys: Iterable[str] | None) -> None:
        """This process committed a change to these CIs (None: to any number of them)."""
        with self._lock:
            if keys is None:
                self._everything = True
            else:
                self._pending.update(keys)

    def ensure_built(self) -> None:
        with self._lock:
            if not self._built:
                self._install(*self._read_whole())

    def _read_whole(self) -> tuple[dict[str, Entry], float]:
        started = time.time()
        rows = self._read_list(ALL_ROWS)
        needs = _needs_by_key(self._read_list(ALL_NEEDS))
        entries = dict(filter(None, (_entry(row, needs) for row in rows)))
        log.info("list index read: %s CIs in %.1f s", len(entries), time.time() - started)
        return entries, started

    def _install(self, entries: dict[str, Entry], started: float) -> None:
        """Take ``entries``, read from the register from time ``started`` on (lock held)."""
        if self._freeze:
            gc.unfreeze()  # what the previous read left may be collected again
        self._entries = entries
        self._ordered = sorted(entries)
        self._children = {}
        self._needed_by = {}
        for key, entry in entries.items():
            self._file(key, entry)
        self._since = started - CLOCK_SLACK_SECONDS
        # A mark's time is taken after its data committed: a mark older than the read is in
        # it already; newer ones are applied (again) at the next look.
        self._read_from = started
        self._seen = {m: at for m, at in self._seen.items() if at < started}
        self._everything = False
        self._built = True
        self._built_at = time.monotonic()
        self._answers.clear()
        self._text = None
        if self._freeze:
            gc.freeze()

    def _refresh_in_background(self) -> None:
        """Read the whole register again while the index goes on answering (lock not held)."""
        if self._refreshing:
            return
        self._refreshing = True

        def refresh() -> None:
            try:
                entries, started = self._read_whole()
                with self._lock:
                    self._install(entries, started)
            except Exception as exc:  # noqa: BLE001 - tried again at the next look
                log.warning("the list index could not be read again: %s", exc)
            finally:
                self._refreshing = False
        self.refresher = threading.Thread(target=refresh, name="list-index-refresh", daemon=True)
        self.refresher.start()

    def catch_up(self) -> None:
        """Apply what other processes (and this one) committed since the last look."""
        with self._lock:
            if not self._built:
                self._install(*self._read_whole())
                return
            if time.monotonic() - self._built_at > REBUILD_SECONDS:
                self._refresh_in_background()
            looked = time.time()
            marks = self._read_list(commit_marks.MARKS_SINCE, since=self._since,
                                    seen=list(self._seen))
            keys = set(self._pending)
            everything = self._everything
            for mark_id, at, mark_everything, mark_keys in marks:
                self._seen[mark_id] = at
                if at < self._read_from:
                    continue
                if mark_everything or mark_keys is None:
                    everything = True
                else:
                    keys.update(mark_keys)
            self._pending.clear()
            if everything or len(keys) > REREAD_KEYS_MAX:
                # A wipe, a restore, a bulk load: everything is read again before answering.
                self._install(*self._read_whole())
                return
            self._since = looked - CLOCK_SLACK_SECONDS
            self._seen = {m: at for m, at in self._seen.items() if at >= self._since}
            if keys:
                self._reread(sorted(keys))

    def _reread(self, keys: list[str]) -> None:
        found: dict[str, Entry] = {}
        for batch in chunks(keys):
            needs = _needs_by_key(self._read_list(NEEDS_OF, keys=list(batch)))
            found.update(filter(None, (_entry(row, needs)
                                       for row in self._read_list(ROWS_OF, keys=list(batch)))))
        for key in keys:
            old = self._entries.pop(key, None)
            if old is not None:
                self._unfile(key, old)
                if key not in found:
                    del self._ordered[bisect.bisect_left(self._ordered, key)]
            new = found.get(key)
            if new is not None:
                if old is None:
                    bisect.insort(self._ordered, key)
                self._entries[key] = new
                self._file(key, new)
        self._answers.clear()
        self._text = None

    def _file(self, key: str, entry: Entry) -> None:
        if entry.parent is not None:
            self._children.setdefault(entry.parent, set()).add(key)
        for rel_type, target in entry.needs:
            self._needed_by.setdefault(target, set()).add((rel_type, key))

    def _unfile(self, key: str, entry: Entry) -> None:
        if entry.parent is not None:
            self._children.get(entry.parent, set()).discard(key)
        for rel_type, target in entry.needs:
            self._needed_by.get(target, set()).discard((rel_type, key))

    # -- answers

    def contains(self, key: str) -> bool:
        with self._lock:
            return key in self._entries

    def answer(self, filters: Filters) -> Answer:
        """The keys matching ``filters``, in list order (call ``catch_up`` first)."""
        with self._lock:
            found = self._answers.get(filters)
            if found is None:
                found = self._answers[filters] = self._compute(filters)
                while len(self._answers) > ANSWERS_KEPT:
                    self._answers.popitem(last=False)
            else:
                self._answers.move_to_end(filters)
            return found

    def _compute(self, f: Filters) -> Answer:
        entries = self._entries
        if f.q:
            matched = self._search(f.q)
            keys: Iterable[str] = sorted(matched)
            if f.location is not None:
                inside = self._subtree(f.location)
                keys = [k for k in keys if k in inside]
        elif f.location is not None:
            keys = sorted(self._subtree(f.location))
        else:
            keys = self._ordered
        if f.kind is not None:
            keys = [k for k in keys if entries[k].kind == f.kind]
        if f.status is not None:
            keys = [k for k in keys if entries[k].status == f.status]
        if f.category is not None:
            keys = [k for k in keys if entries[k].category == f.category]
        keys = list(keys)
        if not f.q:
            return Answer(keys, 0)
        wanted = set(f.q)
        exact = [k for k in keys if entries[k].key_lower in wanted or entries[k].serial_lower in wanted]
        if not exact:
            return Answer(keys, 0)
        first = set(exact)
        return Answer(exact + [k for k in keys if k not in first], len(exact))

    def _search(self, variants: Sequence[str]) -> set[str]:
        """The CIs whose text holds one of ``variants``: one pass of ``str.find`` over all
        texts joined (a few milliseconds for 100,000 CIs), rather than a test per CI."""
        if self._text is None:
            self._text_keys = list(self._ordered)
            texts = [self._entries[k].text for k in self._text_keys]
            self._text_starts = []
            position = 0
            for text in texts:
                self._text_starts.append(position)
                position += len(text) + 1
            self._text = "\x01".join(texts)
        blob, starts, keys = self._text, self._text_starts, self._text_keys
        found: set[str] = set()
        for needle in variants:
            at = blob.find(needle)
            while at >= 0:
                i = bisect.bisect_right(starts, at) - 1
                found.add(keys[i])
                # On to the next CI's text: one hit per CI is enough.
                following = starts[i + 1] if i + 1 < len(starts) else len(blob)
                at = blob.find(needle, following)
        return found

    def _subtree(self, root: str) -> set[str]:
        found = {root} if root in self._entries else set()
        frontier = [root]
        for _ in range(SUBTREE_DEPTH):
            frontier = [c for key in frontier for c in self._children.get(key, ()) if c not in found]
            if not frontier:
                break
            found.update(frontier)
        return found

    def reach(self, keys: Sequence[str], steps: int) -> list[dict[str, Any]]:
        """``cmdb.graph.impact.reach`` answered from memory (call ``catch_up`` first): every CI
        with a path of 1 to ``steps`` relationships to one of ``keys`` (following them
        backwards), with what it needs among ``keys`` and the CIs within ``steps - 1``."""
        with self._lock:
            entries, needed_by = self._entries, self._needed_by
            level = {k: 0 for k in keys}
            reached: dict[str, None] = {}  # by a path of at least one step (ordered set)
            frontier = list(level)
            for distance in range(1, steps + 1):
                following = []
                for target in frontier:
                    for _rel, key in needed_by.get(target, ()):
                        reached[key] = None
                        if key not in level:
                            level[key] = distance
                            following.append(key)
                frontier = following
            found = []
            for key in reached:
                entry = entries.get(key)
                if entry is None:
                    continue
                parent = entries.get(entry.parent) if entry.parent is not None else None
                found.append({
                    "key": key, "kind": entry.kind, "name": entry.name, "type": entry.type,
                    "criticality": entry.criticality, "min_hosts": entry.min_hosts,
                    "hosts": entry.hosts,
                    "location": None if entry.parent is None else {
                        "key": entry.parent, "name": parent.name if parent else None,
                        "type": parent.type if parent else None},
                    "needs": [(rel, target) for rel, target in entry.needs
                              if level.get(target, steps) <= steps - 1]})
            return found

    def location_paths(self, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """``cmdb.graph.links.location_paths`` answered from memory (call ``catch_up`` first)."""
        with self._lock:
            entries = self._entries
            paths: dict[str, list[dict[str, Any]]] = {}
            for key in keys:
                entry = entries.get(key)
                chain: list[str] = []
                while entry is not None and entry.parent is not None and len(chain) < SUBTREE_DEPTH:
                    if entry.parent in chain or entry.parent == key:
                        chain = []  # a loop has no outermost place
                        break
                    chain.append(entry.parent)
                    entry = entries.get(entry.parent)
                if chain and entry is not None and entry.parent is None:
                    paths[key] = [{"key": k, "name": entries[k].name, "type": entries[k].type}
                                  for k in reversed(chain)]
            return paths


def start_of_page(answer: Answer, after: str) -> int:
    """Where the page after the CI ``after`` starts (a keyset cursor): exact matches come
    first in their own order, the rest by key."""
    exact = answer.keys[:answer.exact]
    if after in exact:
        return exact.index(after) + 1
    rest = answer.keys[answer.exact:]
    return answer.exact + bisect.bisect_right(rest, after)
