"""The register's operations on the graph: CIs, relationships, history.

Every write runs in a managed transaction (retried on transient errors), is batched with
``UNWIND $rows``, and records its history entries in the same transaction. Labels and
relationship types come from ``cmdb.graph.schema``; every value is a parameter.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import ConstraintError, ServiceUnavailable, SessionExpired, TransientError

from cmdb.errors import (
    DuplicateKey, EngineRestarting, EngineUnavailable, ForbiddenRelationship, InvalidInput, NotFound, StillNeeded,
    UnknownKey, VersionConflict,
)
from cmdb.graph import schema
from cmdb.graph.engine import Endpoint, endpoint_for, open_driver
from cmdb.graph.history import COUNT_HISTORY, READ_HISTORY, ChangeEntry, ChangeLog
from cmdb.graph.schema import CI_LABEL, KINDS, REVISION, RELATIONSHIPS, utc_now
from cmdb.settings import Settings

T = TypeVar("T")
BATCH_SIZE = 2000
READ_ATTEMPTS = 3
READ_RETRY_PAUSE = 0.3

# --- read queries ---------------------------------------------------------------------

# Bulk reads return one record holding a list: the embedded engine sends one large record
# several times faster than thousands of small ones.
FETCH_CIS = """
UNWIND $keys AS k
MATCH (n:CI {key: k})
RETURN collect([n.key, labels(n), properties(n)]) AS rows
"""

FETCH_KINDS = """
UNWIND $keys AS k
MATCH (n:CI {key: k})
RETURN collect([n.key, labels(n)]) AS rows
"""

# Takes the node's write lock before reading, so a concurrent writer waits (Neo4j) or
# fails and is retried (embedded engine) instead of both passing the revision check.
LOCK_CI = """
MATCH (n:CI {key: $key})
SET n._lock = true
REMOVE n._lock
RETURN n.key AS key, labels(n) AS labels, properties(n) AS props
"""

INCOMING = """
MATCH (x:CI)-[r]->(n:CI {key: $key})
RETURN x.key AS key, labels(x) AS labels, x.name AS name, type(r) AS type
ORDER BY key, type
"""

RELATIONSHIPS_OF = """
MATCH (n:CI {key: $key})
CALL (n) {
  MATCH (n)-[r]->(m:CI)
  RETURN 'out' AS direction, type(r) AS type, m AS other, properties(r) AS props
  UNION
  MATCH (m:CI)-[r]->(n)
  RETURN 'in' AS direction, type(r) AS type, m AS other, properties(r) AS props
}
RETURN direction, type, other.key AS key, labels(other) AS labels, other.name AS name, props
ORDER BY direction DESC, type, key
"""

def existing_links_query(rel_type: str) -> str:
    """Relationships of one type matching rows {from, to, single}. The typed pattern lets the
    engine walk only that type's edges (about a third faster than filtering on type(x))."""
    rel = RELATIONSHIPS[rel_type].type  # closed set
    return (f"UNWIND $rows AS r MATCH (a:{CI_LABEL} {{key: r.from}})-[x:{rel}]->(b:{CI_LABEL}) "
            "WHERE r.single OR b.key = r.to RETURN collect([a.key, b.key]) AS links")


def existing_links(tx, rows: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """(from, type, to) of the relationships matching ``rows`` ({from, type, to, single}):
    exactly that link, or for ``single`` any link of that type from ``from``."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_type.setdefault(row["type"], []).append(row)
    found: set[tuple[str, str, str]] = set()
    for rel_type, typed in by_type.items():
        for a, b in tx.run(existing_links_query(rel_type), rows=typed).single()["links"]:
            found.add((a, rel_type, b))
    return found


LOCATION_CYCLE = """
UNWIND $keys AS k
MATCH (n:CI {key: k})-[:LOCATED_IN*1..64]->(m:CI {key: k})
RETURN k LIMIT 1
"""

LOCATION_PATH = """
MATCH (n:CI {key: $key})
OPTIONAL MATCH p = (n)-[:LOCATED_IN*1..32]->(top:CI)
WHERE NOT (top)-[:LOCATED_IN]->()
RETURN [x IN nodes(p) | {key: x.key, name: x.name, type: x.type}] AS path
"""

LOCATION_PATHS = """
UNWIND $keys AS k
MATCH (n:CI {key: k})
OPTIONAL MATCH p = (n)-[:LOCATED_IN*1..32]->(top:CI)
WHERE NOT (top)-[:LOCATED_IN]->()
RETURN k AS key, [x IN nodes(p) | {key: x.key, name: x.name, type: x.type}] AS path
"""

SUBTREE_KEYS = """
MATCH (root:CI {key: $key})
MATCH (n:CI)-[:LOCATED_IN*0..32]->(root)
RETURN DISTINCT n.key AS key
"""

KEYS_INSIDE = """
UNWIND $keys AS k
MATCH (n:CI {key: k})-[:LOCATED_IN*0..32]->(root:CI {key: $root})
RETURN DISTINCT n.key AS key
"""

COUNT_BY_KIND = "MATCH (n:CI) RETURN labels(n) AS labels, count(n) AS count"
COUNT_BY_RELATIONSHIP = "MATCH (:CI)-[r]->(:CI) RETURN type(r) AS type, count(r) AS count"
PING = "RETURN 1 AS ok"

# --- write queries ----------------------------------------------------------------------

UPDATE_CIS = """
UNWIND $rows AS r
MATCH (n:CI {key: r.key})
SET n += r.set
"""

DELETE_CI = "MATCH (n:CI {key: $key}) DETACH DELETE n"

DELETE_LINKS = """
UNWIND $rows AS r
MATCH (a:CI {key: r.from})-[x]->(b:CI {key: r.to})
WHERE type(x) = r.type
DELETE x
"""


def create_cis_query(kind: str) -> str:
    label = KINDS[kind].label  # closed set
    return f"UNWIND $rows AS r CREATE (n:{CI_LABEL}:{label}) SET n = r"


def create_links_query(rel_type: str) -> str:
    rel = RELATIONSHIPS[rel_type].type  # closed set
    return (f"UNWIND $rows AS r MATCH (a:{CI_LABEL} {{key: r.from}}) "
            f"MATCH (b:{CI_LABEL} {{key: r.to}}) "
            f"CREATE (a)-[x:{rel}]->(b) SET x.created_at = r.at, x.created_by = r.actor")


LIST_FILTERS = {
    "status": "n.status = $status",
    "category": "n.category = $category",
    "q": ("(toLower(n.key) CONTAINS $q OR toLower(coalesce(n.name, '')) CONTAINS $q"
          " OR toLower(coalesce(n.serial, '')) CONTAINS $q"
          " OR toLower(coalesce(n.model, '')) CONTAINS $q)"),
}


def list_keys_query(kind: str | None, location: bool, filters: Sequence[str] = ()) -> str:
    """The keys of the CIs a list matches, unordered; only the filters given are in the query.

    The page is cut in Python: on the embedded engine ``ORDER BY … SKIP … LIMIT`` costs several
    times a plain scan, and ``$x IS NULL OR …`` for absent filters ten times a bare label count.
    """
    label = KINDS[kind].label if kind else CI_LABEL  # closed set
    parts = []
    if location:
        parts.append("MATCH (loc:CI {key: $location})")
        parts.append(f"MATCH (n:{label})-[:LOCATED_IN*0..32]->(loc)")
    else:
        parts.append(f"MATCH (n:{label})")
    conditions = [LIST_FILTERS[name] for name in filters]  # closed set
    if conditions:
        parts.append("WHERE " + " AND ".join(conditions))
    distinct = "DISTINCT " if location else ""
    if "q" in filters:
        # Searching: the CIs whose key or serial is exactly the text come first.
        parts.append(f"RETURN collect({distinct}n.key) AS keys, collect({distinct}CASE WHEN "
                     "toLower(n.key) = $q OR toLower(coalesce(n.serial, '')) = $q THEN n.key END) "
                     "AS exact")
    else:
        parts.append(f"RETURN collect({distinct}n.key) AS keys, [] AS exact")
    return "\n".join(parts)


# --- values ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CI:
    key: str
    kind: str
    properties: dict[str, Any]

    @property
    def revision(self) -> int:
        return int(self.properties.get(REVISION) or 0)

    @property
    def name(self) -> str | None:
        return self.properties.get("name")

    def user_properties(self) -> dict[str, Any]:
        system = {p.name for p in KINDS[self.kind].properties if p.system}
        return {k: v for k, v in self.properties.items() if k not in system}

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "properties": dict(self.properties),
                "revision": self.revision}


@dataclass(frozen=True)
class CIInput:
    """One CI to create or update. ``None`` as a value removes that property."""

    key: str
    kind: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Link:
    from_key: str
    type: str
    to_key: str


@dataclass
class UpsertResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def merge(self, other: "UpsertResult") -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


@dataclass
class LinkResult:
    created: list[Link] = field(default_factory=list)
    unchanged: list[Link] = field(default_factory=list)
    replaced: list[Link] = field(default_factory=list)  # single-valued links that were moved


@dataclass(frozen=True)
class Page:
    items: list[CI]
    total: int
    offset: int
    limit: int


def kind_from_labels(labels: Iterable[str]) -> str:
    for label in labels:
        if label in KINDS:
            return label
    raise ValueError(f"node with labels {list(labels)} is not a CI")


def _ci(key: str, labels: list[str], props: dict[str, Any]) -> CI:
    props = dict(props)
    props.pop("key", None)
    return CI(key, kind_from_labels(labels), props)


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- the store ---------------------------------------------------------------------------


class Graph:
    """The CMDB's graph: one driver, one database."""

    def __init__(self, driver: Driver, database: str, description: str = ""):
        self.driver = driver
        self.database = database
        self.description = description
        # Raises before a session is opened when the engine is known to be down (a worker of
        # ``cmdb serve`` watches its supervised engine); None: just try.
        self.availability: Callable[[], None] | None = None

    # -- plumbing

    @classmethod
    def connect(cls, settings: Settings, *, bootstrap: bool = True,
                background: bool = False) -> "Graph":
        """``background``: with no engine running, start one in a process of its own that the
        next commands reuse (see ``cmdb.graph.engine``), rather than in this process."""
        endpoint: Endpoint = endpoint_for(settings, background=background)
        graph = cls(open_driver(endpoint), endpoint.database, endpoint.description)
        if bootstrap:
            graph.bootstrap_schema()
        return graph

    def close(self) -> None:
        self.driver.close()

    def __enter__(self) -> "Graph":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def _session(self):
        if self.availability is not None:
            self.availability()
        try:
            with self.driver.session(database=self.database) as session:
                yield session
        except (ServiceUnavailable, SessionExpired) as exc:
            raise EngineUnavailable(f"The graph engine ({self.description}) is unreachable: {exc}",
                                    {"engine": self.description}) from exc

    def read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        """Run a read query and return its records as dicts."""
        return self._read_once(lambda result: [record.data() for record in result], query, params)

    def _read_once(self, take: Callable[[Any], T], query: str, params: dict[str, Any]) -> T:
        """One query as an auto-commit transaction: RUN and PULL in one round trip, where a
        managed transaction adds BEGIN and COMMIT (three round trips). One query is atomic by
        itself; being a read, it is simply run again after a transient failure (a conflict, or
        a pooled connection to an engine that was restarted), as a managed one would be."""
        for attempt in range(READ_ATTEMPTS):
            try:
                with self._session() as session:
                    return take(session.run(query, params))
            except (TransientError, EngineUnavailable) as exc:
                if attempt == READ_ATTEMPTS - 1 or isinstance(exc, EngineRestarting):
                    raise
                time.sleep(READ_RETRY_PAUSE * (attempt + 1))
        raise AssertionError("unreachable")

    def read_list(self, query: str, **params: Any) -> list[Any]:
        """The one collected list a query returns (its only column).

        One record holding a list streams far faster from the embedded engine than a record
        per row, and the list is taken as decoded: ``record.data()``'s recursive conversion
        costs more than the query itself on 100,000 rows.
        """
        def take(result) -> list[Any]:
            record = result.single()
            return record[0] if record is not None else []
        return self._read_once(take, query, params)

    def read_tx(self, work: Callable[..., T], *args: Any) -> T:
        with self._session() as session:
            return session.execute_read(work, *args)

    def write(self, work: Callable[..., T], *args: Any) -> T:
        """Run ``work(tx, *args)`` in one managed write transaction."""
        with self._session() as session:
            return session.execute_write(work, *args)

    def bootstrap_schema(self) -> None:
        with self._session() as session:
            for statement in schema.schema_statements():
                session.run(statement).consume()

    def ping(self) -> bool:
        return self.read(PING)[0]["ok"] == 1

    def wipe(self) -> None:
        """Delete every node and relationship (tests, restores into an empty target)."""
        def work(tx: ManagedTransaction) -> int:
            return tx.run("MATCH (n) WITH n LIMIT 5000 DETACH DELETE n RETURN count(*) AS c").single()["c"]
        while self.write(work):
            pass

    # -- CIs: reads

    def get_ci(self, key: str) -> CI:
        found = self.get_cis([key])
        if key not in found:
            raise UnknownKey(key)
        return found[key]

    def get_cis(self, keys: Sequence[str]) -> dict[str, CI]:
        result: dict[str, CI] = {}
        for batch in _chunks(list(dict.fromkeys(keys)), BATCH_SIZE):
            for key, labels, props in self.read(FETCH_CIS, keys=list(batch))[0]["rows"]:
                result[key] = _ci(key, labels, props)
        return result

    def require_cis(self, keys: Sequence[str]) -> dict[str, CI]:
        found = self.get_cis(keys)
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if missing:
            raise UnknownKey(missing)
        return found

    def list_cis(self, *, kind: str | None = None, status: str | None = None,
                 category: str | None = None, location: str | None = None,
                 q: str | None = None, offset: int = 0, limit: int = 50) -> Page:
        if kind is not None:
            kind = schema.kind_of(kind).label
        if location is not None:
            self.get_ci(location)
        filters = {"status": status, "category": category,
                   "q": q.strip().lower() if q and q.strip() else None}
        filters = {name: value for name, value in filters.items() if value is not None}
        query = list_keys_query(kind, location is not None, list(filters))
        offset, limit = max(0, int(offset)), max(0, int(limit))

        def work(tx: ManagedTransaction) -> tuple[list[str], list]:
            found = tx.run(query, location=location, **filters).single()
            exact = sorted(found["exact"])
            first = set(exact)
            keys = exact + sorted(k for k in found["keys"] if k not in first)
            page = keys[offset:offset + limit]
            rows = tx.run(FETCH_CIS, keys=page).single()["rows"] if page else []
            return keys, rows
        keys, rows = self.read_tx(work)
        found = {key: _ci(key, labels, props) for key, labels, props in rows}
        items = [found[key] for key in keys[offset:offset + limit] if key in found]
        return Page(items, len(keys), offset, limit)

    def search(self, q: str, limit: int = 20) -> list[CI]:
        return self.list_cis(q=q, limit=limit).items

    def counts(self) -> dict[str, dict[str, int]]:
        kinds = {k: 0 for k in KINDS}
        for row in self.read(COUNT_BY_KIND):
            with contextlib.suppress(ValueError):
                kinds[kind_from_labels(row["labels"])] += row["count"]
        rels = {r: 0 for r in RELATIONSHIPS}
        for row in self.read(COUNT_BY_RELATIONSHIP):
            if row["type"] in rels:
                rels[row["type"]] = row["count"]
        return {"kinds": kinds, "relationships": rels}

    # -- CIs: writes

    def upsert_cis(self, items: Sequence[CIInput], *, actor: str, source: str | None = None,
                   batch_size: int = BATCH_SIZE) -> UpsertResult:
        """Create CIs that do not exist, update the properties that differ, leave the rest.

        Each batch is one transaction; unchanged CIs get no history entry.
        """
        prepared = self._prepare(items)
        result = UpsertResult()
        for batch in _chunks(prepared, batch_size):
            result.merge(self._write_retrying_conflicts(self._upsert_batch, batch, actor, source))
        return result

    def upsert_cis_atomically(self, items: Sequence[CIInput], links: Sequence[Link], *,
                              actor: str, source: str | None = None) -> tuple[UpsertResult, LinkResult]:
        """CIs and links in a single transaction: all written or none."""
        prepared = self._prepare(items)

        def work(tx: ManagedTransaction):
            changes = ChangeLog(actor, source)
            upserted = UpsertResult()
            for batch in _chunks(prepared, BATCH_SIZE):
                upserted.merge(self._upsert_in_tx(tx, batch, changes))
            linked = self._link_in_tx(tx, links, changes)
            changes.write(tx)
            return upserted, linked
        return self._write_retrying_conflicts(work)

    def create_ci(self, kind: str, key: str, properties: dict[str, Any], *, actor: str) -> CI:
        item = self._prepare([CIInput(key, kind, properties)])[0]

        def work(tx: ManagedTransaction) -> None:
            existing = self._fetch(tx, [item.key]).get(item.key)
            if existing is not None:
                raise DuplicateKey(f"A {existing.kind} with key {item.key!r} already exists",
                                   {"key": item.key, "kind": existing.kind})
            changes = ChangeLog(actor)
            self._upsert_in_tx(tx, [item], changes)
            changes.write(tx)
        try:
            self.write(work)
        except ConstraintError as exc:
            raise DuplicateKey(f"A CI with key {item.key!r} already exists", {"key": item.key}) from exc
        return self.get_ci(item.key)

    def update_ci(self, key: str, properties: dict[str, Any], *, actor: str,
                  expected_revision: int | None = None, source: str | None = None,
                  allow_system: bool = False, location: str | None = None) -> CI:
        """Change properties and, with ``location``, move the CI: both written or neither.

        A move bumps the revision too, so a concurrent move with the old revision is refused.
        """
        def work(tx: ManagedTransaction) -> None:
            current = self._lock(tx, key, expected_revision)
            values = schema.validate_properties(KINDS[current.kind], properties,
                                                allow_system=allow_system)
            changes = ChangeLog(actor, source)
            done = self._upsert_in_tx(tx, [CIInput(key, current.kind, values)], changes,
                                      {key: current})
            if location is not None:
                moved = self._link_in_tx(tx, [Link(key, "LOCATED_IN", location)], changes)
                if moved.created and not done.updated:
                    self._upsert_in_tx(tx, [CIInput(key, current.kind, {"updated_at": changes.at})],
                                       changes, {key: current})
            changes.write(tx)
        self.write(work)
        return self.get_ci(key)

    def set_system_properties(self, rows: Sequence[tuple[str, dict[str, Any]]], *, actor: str,
                              source: str | None = None) -> UpsertResult:
        """Write CMDB-maintained properties (label_printed_at, last_audited_at, …) in batches."""
        items = list(rows)
        result = UpsertResult()
        for batch in _chunks(items, BATCH_SIZE):
            def work(tx: ManagedTransaction, batch=batch) -> UpsertResult:
                existing = self._fetch(tx, [k for k, _ in batch])
                missing = [k for k, _ in batch if k not in existing]
                if missing:
                    raise UnknownKey(missing)
                prepared = [CIInput(k, existing[k].kind,
                                    schema.validate_properties(KINDS[existing[k].kind], v,
                                                               allow_system=True))
                            for k, v in batch]
                changes = ChangeLog(actor, source)
                done = self._upsert_in_tx(tx, prepared, changes, existing)
                changes.write(tx)
                return done
            result.merge(self.write(work))
        return result

    def delete_ci(self, key: str, *, actor: str, force: bool = False,
                  expected_revision: int | None = None) -> list[dict[str, Any]]:
        """Delete a CI; refuse while other CIs need it unless ``force``. Returns links removed."""
        def work(tx: ManagedTransaction) -> list[dict[str, Any]]:
            current = self._lock(tx, key, expected_revision)
            dependents = [{"key": r["key"], "kind": kind_from_labels(r["labels"]),
                           "name": r["name"], "type": r["type"]}
                          for r in tx.run(INCOMING, key=key)]
            if dependents and not force:
                raise StillNeeded(
                    f"{key!r} is still needed by {len(dependents)} CI(s): "
                    + ", ".join(f"{d['key']} ({d['type']})" for d in dependents[:10])
                    + ("…" if len(dependents) > 10 else "")
                    + "; unlink them first or delete with force",
                    {"key": key, "needed_by": dependents})
            links = [{"direction": r["direction"], "type": r["type"], "key": r["key"]}
                     for r in tx.run(RELATIONSHIPS_OF, key=key)]
            changes = ChangeLog(actor)
            for link in links:
                a, b = (key, link["key"]) if link["direction"] == "out" else (link["key"], key)
                changes.add("unlink", a, current.kind if a == key else "",
                            {"from": a, "type": link["type"], "to": b}, None)
            changes.add("delete", key, current.kind, _history_props(current.properties), None)
            tx.run(DELETE_CI, key=key).consume()
            changes.write(tx)
            return links
        return self.write(work)

    # -- relationships

    def link(self, from_key: str, rel_type: str, to_key: str, *, actor: str,
             source: str | None = None) -> LinkResult:
        return self.link_many([Link(from_key, rel_type, to_key)], actor=actor, source=source)

    def link_many(self, links: Sequence[Link], *, actor: str, source: str | None = None,
                  batch_size: int = BATCH_SIZE) -> LinkResult:
        result = LinkResult()
        for batch in _chunks(list(links), batch_size):
            def work(tx: ManagedTransaction, batch=batch) -> LinkResult:
                changes = ChangeLog(actor, source)
                done = self._link_in_tx(tx, batch, changes)
                changes.write(tx)
                return done
            done = self.write(work)
            result.created += done.created
            result.unchanged += done.unchanged
            result.replaced += done.replaced
        return result

    def unlink(self, from_key: str, rel_type: str, to_key: str, *, actor: str) -> None:
        rel = schema.relationship_of(rel_type)

        def work(tx: ManagedTransaction) -> None:
            cis = self._fetch(tx, [from_key, to_key])
            missing = [k for k in (from_key, to_key) if k not in cis]
            if missing:
                raise UnknownKey(missing)
            if not existing_links(tx, [{"from": from_key, "type": rel.type, "to": to_key, "single": False}]):
                raise NotFound(f"There is no {rel.type} relationship from {from_key!r} to {to_key!r}",
                               {"from": from_key, "type": rel.type, "to": to_key})
            tx.run(DELETE_LINKS, rows=[{"from": from_key, "type": rel.type, "to": to_key}]).consume()
            changes = ChangeLog(actor)
            changes.add("unlink", from_key, cis[from_key].kind,
                        {"from": from_key, "type": rel.type, "to": to_key}, None)
            changes.write(tx)
        self.write(work)

    def relationships(self, key: str) -> list[dict[str, Any]]:
        self.get_ci(key)
        return [{"direction": r["direction"], "type": r["type"], "key": r["key"],
                 "kind": kind_from_labels(r["labels"]), "name": r["name"]}
                for r in self.read(RELATIONSHIPS_OF, key=key)]

    def neighbours(self, key: str, *, direction: str = "both",
                   types: Sequence[str] | None = None) -> list[dict[str, Any]]:
        wanted = {schema.relationship_of(t).type for t in types} if types else None
        return [r for r in self.relationships(key)
                if (direction == "both" or r["direction"] == direction)
                and (wanted is None or r["type"] in wanted)]

    def location_path(self, key: str) -> list[dict[str, Any]]:
        """The containment chain above ``key``, outermost first (site, building, room, rack)."""
        return self.location_paths([key]).get(key, [])

    def location_paths(self, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        paths: dict[str, list[dict[str, Any]]] = {}
        for batch in _chunks(list(dict.fromkeys(keys)), BATCH_SIZE):
            for row in self.read(LOCATION_PATHS, keys=list(batch)):
                path = row["path"] or []
                best = paths.get(row["key"], [])
                if len(path) > len(best):
                    paths[row["key"]] = path
        return {k: list(reversed(p[1:])) for k, p in paths.items()}

    def subtree_keys_if_any(self, location_key: str) -> list[str]:
        """The key and every CI inside it; empty when there is no such CI."""
        return [r["key"] for r in self.read(SUBTREE_KEYS, key=location_key)]

    def keys_inside(self, location_key: str, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` that are ``location_key`` or located in it at any depth."""
        if not keys:
            return set()
        return {r["key"] for r in self.read(KEYS_INSIDE, root=location_key, keys=list(set(keys)))}

    def subtree_keys(self, location_key: str) -> list[str]:
        self.get_ci(location_key)
        return [r["key"] for r in self.read(SUBTREE_KEYS, key=location_key)]

    # -- history

    def history(self, key: str, *, offset: int = 0, limit: int = 100) -> tuple[list[ChangeEntry], int]:
        total = self.read(COUNT_HISTORY, key=key)[0]["total"]
        if not total:  # every CI ever created has its creation entry, deleted ones included
            raise UnknownKey(key)
        rows = self.read(READ_HISTORY, key=key, offset=offset, limit=limit)
        return [ChangeEntry.from_node(r["change"]) for r in rows], total

    # -- internals

    def _prepare(self, items: Sequence[CIInput]) -> list[CIInput]:
        prepared: list[CIInput] = []
        seen: set[str] = set()
        for item in items:
            kind = schema.kind_of(item.kind)
            key = schema.validate_key(item.key)
            if key in seen:
                raise DuplicateKey(f"Key {key!r} appears more than once in the same change",
                                   {"key": key})
            seen.add(key)
            try:
                values = schema.validate_properties(kind, item.properties)
            except InvalidInput as exc:
                exc.message = f"{key}: {exc.message}"
                exc.args = (exc.message,)
                if isinstance(exc.details, dict):
                    exc.details["key"] = key
                raise
            prepared.append(CIInput(key, kind.label, values))
        return prepared

    def _write_retrying_conflicts(self, work: Callable[..., T], *args: Any) -> T:
        """Concurrent creators of the same new key: the loser re-reads and updates instead."""
        for attempt in range(3):
            try:
                return self.write(work, *args)
            except ConstraintError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _upsert_batch(self, tx: ManagedTransaction, batch: Sequence[CIInput], actor: str,
                      source: str | None) -> UpsertResult:
        changes = ChangeLog(actor, source)
        result = self._upsert_in_tx(tx, batch, changes)
        changes.write(tx)
        return result

    @staticmethod
    def _fetch(tx: ManagedTransaction, keys: Sequence[str]) -> dict[str, CI]:
        rows = tx.run(FETCH_CIS, keys=list(keys)).single()["rows"]
        return {key: _ci(key, labels, props) for key, labels, props in rows}

    def _lock(self, tx: ManagedTransaction, key: str, expected_revision: int | None) -> CI:
        record = tx.run(LOCK_CI, key=key).single()
        if record is None:
            raise UnknownKey(key)
        current = _ci(record["key"], record["labels"], record["props"])
        if expected_revision is not None and current.revision != expected_revision:
            raise VersionConflict(
                f"{key!r} was changed by someone else (now revision {current.revision}, "
                f"you had {expected_revision}); reload it and apply your change again",
                {"key": key, "current_revision": current.revision,
                 "expected_revision": expected_revision})
        return current

    def _upsert_in_tx(self, tx: ManagedTransaction, batch: Sequence[CIInput], changes: ChangeLog,
                      existing: dict[str, CI] | None = None) -> UpsertResult:
        if existing is None:
            existing = self._fetch(tx, [item.key for item in batch])
        result = UpsertResult()
        creates: dict[str, list[dict[str, Any]]] = {}
        updates: list[dict[str, Any]] = []
        now = changes.at
        for item in batch:
            current = existing.get(item.key)
            if current is None:
                values = {k: v for k, v in item.properties.items() if v is not None}
                row = {"key": item.key, **values, REVISION: 1, "created_at": now, "updated_at": now}
                creates.setdefault(item.kind, []).append(row)
                changes.add("create", item.key, item.kind, None, _history_props(row))
                result.created.append(item.key)
                continue
            if current.kind != item.kind:
                raise DuplicateKey(
                    f"Key {item.key!r} already belongs to a {current.kind}, not a {item.kind}",
                    {"key": item.key, "kind": current.kind, "requested_kind": item.kind})
            diff = {k: v for k, v in item.properties.items()
                    if current.properties.get(k) != v}
            if not diff:
                result.unchanged.append(item.key)
                continue
            before = {k: current.properties.get(k) for k in diff}
            updates.append({"key": item.key, "set": {**diff, REVISION: current.revision + 1,
                                                     "updated_at": now}})
            changes.add("update", item.key, item.kind, before, diff)
            result.updated.append(item.key)
        for kind, rows in creates.items():
            tx.run(create_cis_query(kind), rows=rows).consume()
        if updates:
            tx.run(UPDATE_CIS, rows=updates).consume()
        return result

    def _link_in_tx(self, tx: ManagedTransaction, links: Sequence[Link],
                    changes: ChangeLog) -> LinkResult:
        result = LinkResult()
        if not links:
            return result
        normalised: list[Link] = []
        for link in links:
            rel = schema.relationship_of(link.type)
            normalised.append(Link(schema.validate_key(link.from_key, "from"), rel.type,
                                   schema.validate_key(link.to_key, "to")))
        keys = {k for link in normalised for k in (link.from_key, link.to_key)}
        kinds = {key: kind_from_labels(labels)
                 for key, labels in tx.run(FETCH_KINDS, keys=list(keys)).single()["rows"]}
        missing = sorted(keys - kinds.keys())
        if missing:
            raise UnknownKey(missing)
        wanted: dict[tuple[str, str], set[str]] = {}
        for link in normalised:
            rel = RELATIONSHIPS[link.type]
            schema.check_relationship(rel, kinds[link.from_key], kinds[link.to_key],
                                      link.from_key, link.to_key)
            targets = wanted.setdefault((link.from_key, link.type), set())
            targets.add(link.to_key)
            if rel.single and len(targets) > 1:
                raise ForbiddenRelationship(
                    f"{link.from_key!r} can have only one {link.type}; given: {', '.join(sorted(targets))}",
                    details={"from": link.from_key, "type": link.type, "to": sorted(targets)})
        existing = existing_links(tx, [
            {"from": l.from_key, "type": l.type, "to": l.to_key,
             "single": RELATIONSHIPS[l.type].single} for l in normalised])
        to_delete: list[dict[str, str]] = []
        to_create: dict[str, list[dict[str, str]]] = {}
        for link in dict.fromkeys(normalised):
            triple = (link.from_key, link.type, link.to_key)
            if triple in existing:
                result.unchanged.append(link)
                continue
            if RELATIONSHIPS[link.type].single:
                for (a, t, b) in existing:
                    if a == link.from_key and t == link.type and b != link.to_key:
                        to_delete.append({"from": a, "type": t, "to": b})
                        changes.add("unlink", a, kinds[a], {"from": a, "type": t, "to": b}, None)
                        result.replaced.append(Link(a, t, b))
            to_create.setdefault(link.type, []).append(
                {"from": link.from_key, "to": link.to_key, "at": changes.at, "actor": changes.actor})
            changes.add("link", link.from_key, kinds[link.from_key], None,
                        {"from": link.from_key, "type": link.type, "to": link.to_key})
            result.created.append(link)
        if to_delete:
            tx.run(DELETE_LINKS, rows=to_delete).consume()
        for rel_type, rows in to_create.items():
            tx.run(create_links_query(rel_type), rows=rows).consume()
        # Only a location can contain something, so only location-in-location links can close a loop.
        located = [l.from_key for l in result.created
                   if RELATIONSHIPS[l.type].acyclic and kinds[l.from_key] == kinds[l.to_key]]
        if located:
            cycle = tx.run(LOCATION_CYCLE, keys=located).data()
            if cycle:
                raise ForbiddenRelationship(
                    f"Placing {cycle[0]['k']!r} there would put it inside itself",
                    details={"key": cycle[0]["k"], "type": "LOCATED_IN"})
        return result


def _history_props(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in (REVISION, "updated_at")}
