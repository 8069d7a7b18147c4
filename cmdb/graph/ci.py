"""The CI repository: reading, listing, creating, changing and deleting CIs and their links.

``Graph`` is the connection (``cmdb.graph.connection``) with the register's operations on
it. Every write goes through the one writer (``cmdb.graph.writer``), which records the
history entries in the same transaction; this module validates input at the edge first.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Sequence, TypeVar

from neo4j import ManagedTransaction
from neo4j.exceptions import ConstraintError

from cmdb.errors import Conflict, DuplicateKey, InvalidInput, StillNeeded, UnknownKey, VersionConflict
from cmdb.graph import history, import_runs, links, schema, writer
from cmdb.graph.batching import BATCH_SIZE, chunks
from cmdb.graph.connection import Connection
from cmdb.graph.history import ChangeEntry, ChangeLog
from cmdb.graph.list_index import Answer, Filters, start_of_page
from cmdb.graph.schema import CI_LABEL, KINDS, RELATIONSHIPS
from cmdb.graph.values import (
    CI, CIInput, Link, LinkResult, Page, UpsertResult, ci_from_row, kind_from_labels,
)
from cmdb.graph.vocabulary import Vocabulary, read_vocabulary
from cmdb.graph.writer import FETCH_CIS, Changes
from cmdb.i18n import _
from cmdb.text_search import query_variants

T = TypeVar("T")

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

COUNT_BY_KIND = "MATCH (n:CI) RETURN labels(n) AS labels, count(n) AS count"

LIST_FILTERS = {
    "status": "n.status = $status",
    "category": "n.category = $category",
    # $q: the spellings of the search text (Simplified and Traditional forms of Chinese).
    "q": ("any(v IN $q WHERE toLower(n.key) CONTAINS v OR toLower(coalesce(n.name, '')) CONTAINS v"
          " OR toLower(coalesce(n.serial, '')) CONTAINS v"
          " OR toLower(coalesce(n.model, '')) CONTAINS v)"),
}


def list_keys_query(kind: str | None, location: bool, filters: Sequence[str] = (),
                    custom_fields: int = 0) -> str:
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
    # Custom fields: the property's name is a parameter too.
    conditions += [f"n[$field_{i}] = $value_{i}" for i in range(custom_fields)]
    if conditions:
        parts.append("WHERE " + " AND ".join(conditions))
    distinct = "DISTINCT " if location else ""
    if "q" in filters:
        # Searching: the CIs whose key or serial is exactly the text (one of its spellings)
        # come first.
        parts.append(f"RETURN collect({distinct}n.key) AS keys, collect({distinct}CASE WHEN "
                     "toLower(n.key) IN $q OR toLower(coalesce(n.serial, '')) IN $q THEN n.key END) "
                     "AS exact")
    else:
        parts.append(f"RETURN collect({distinct}n.key) AS keys")
    return "\n".join(parts)


def _page(keys: list[str], rows: list, offset: int, limit: int) -> Page:
    """The page of ``keys`` from ``offset``, with the CIs read (a CI deleted since is left out)."""
    found = {key: ci_from_row(key, labels, props) for key, labels, props in rows}
    items = [found[key] for key in keys[offset:offset + limit] if key in found]
    return Page(items, len(keys), offset, limit)


class Graph(Connection):
    """The register: CIs and their relationships in one graph database."""

    def bootstrap_schema(self) -> None:
        """The schema and vocabulary, then the undoing of any import a dead process left
        half-written (``cmdb.graph.import_runs``)."""
        super().bootstrap_schema()
        import_runs.recover(self)

    # -- CIs: reads

    def get_ci(self, key: str) -> CI:
        found = self.get_cis([key])
        if key not in found:
            raise UnknownKey(key)
        return found[key]

    def get_cis(self, keys: Sequence[str]) -> dict[str, CI]:
        result: dict[str, CI] = {}
        for batch in chunks(list(dict.fromkeys(keys)), BATCH_SIZE):
            for key, labels, props in self.read(FETCH_CIS, keys=list(batch))[0]["rows"]:
                result[key] = ci_from_row(key, labels, props)
        return result

    def require_cis(self, keys: Sequence[str]) -> dict[str, CI]:
        found = self.get_cis(keys)
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if missing:
            raise UnknownKey(missing)
        return found

    def list_cis(self, *, kind: str | None = None, status: str | None = None,
                 category: str | None = None, location: str | None = None,
                 q: str | None = None, offset: int = 0, limit: int = 50,
                 fields: dict[str, Any] | None = None, after: str | None = None) -> Page:
        """``fields``: custom field name -> value the CIs must hold (converted to its type).
        ``after``: a keyset cursor, the key of the last CI of the previous page; ``offset``
        is then ignored."""
        if kind is not None:
            kind = schema.kind_of(kind).label
        index = self.list_index
        if index is not None:
            index.catch_up()
        if location is not None and not (index is not None and index.contains(location)):
            self.get_ci(location)
        if category is not None or fields:
            words = self.vocabulary()
            category = words.category_key(category) or category if category is not None else None
            wanted = _custom_field_filters(words, kind, fields or {})
        else:
            wanted = {}
        variants = query_variants(q) if q and q.strip() else None
        offset, limit = max(0, int(offset)), max(0, int(limit))
        if index is not None and not wanted:
            # Custom fields are not in the index: such a list asks the engine.
            answer = index.answer(Filters(kind, status, category, location, tuple(variants or ())))
            if after is not None:
                offset = start_of_page(answer, after)
            page = answer.keys[offset:offset + limit]
            rows = self.read_list(FETCH_CIS, keys=page) if page else []
            return _page(answer.keys, rows, offset, limit)
        filters = {"status": status, "category": category, "q": variants}
        filters = {name: value for name, value in filters.items() if value is not None}
        query = list_keys_query(kind, location is not None, list(filters), len(wanted))
        field_params = {}
        for i, (name, value) in enumerate(wanted.items()):
            field_params[f"field_{i}"], field_params[f"value_{i}"] = name, value

        def work(tx: ManagedTransaction) -> tuple[list[str], list, int]:
            found = tx.run(query, location=location, **filters, **field_params).single().data()
            exact = sorted(found.get("exact", ()))
            first = set(exact)
            keys = exact + sorted(k for k in found["keys"] if k not in first)
            start = offset if after is None else start_of_page(Answer(keys, len(exact)), after)
            page = keys[start:start + limit]
            rows = tx.run(FETCH_CIS, keys=page).single()["rows"] if page else []
            return keys, rows, start
        keys, rows, offset = self.read_tx(work)
        return _page(keys, rows, offset, limit)

    def search(self, q: str, limit: int = 20) -> list[CI]:
        return self.list_cis(q=q, limit=limit).items

    def counts(self) -> dict[str, dict[str, int]]:
        kinds = {k: 0 for k in KINDS}
        for row in self.read(COUNT_BY_KIND):
            with contextlib.suppress(ValueError):
                kinds[kind_from_labels(row["labels"])] += row["count"]
        counted = links.relationship_counts(self)
        rels = {r: counted.get(r, 0) for r in RELATIONSHIPS}
        return {"kinds": kinds, "relationships": rels}

    # -- CIs: writes (all through the one writer)

    def upsert_cis(self, items: Sequence[CIInput], *, actor: str, source: str | None = None,
                   batch_size: int = BATCH_SIZE) -> UpsertResult:
        """Create CIs that do not exist, update the properties that differ, leave the rest.

        Each batch is one transaction; unchanged CIs get no history entry.
        """
        prepared = self._prepare(items)
        result = UpsertResult()
        for batch in chunks(prepared, batch_size):
            result.merge(self._write_retrying_conflicts(self._upsert_batch, batch, actor, source))
        return result

    def upsert_cis_atomically(self, items: Sequence[CIInput], links: Sequence[Link], *,
                              actor: str, source: str | None = None) -> tuple[UpsertResult, LinkResult]:
        """CIs and links in a single transaction: all written or none."""
        prepared = self._prepare(items)
        links = _checked_links(links)

        def work(tx: ManagedTransaction):
            creates, updates, existing = writer.split_by_existence(tx, prepared)
            done = writer.apply(tx, Changes(creates=creates, updates=updates, links=links),
                                ChangeLog(actor, source), existing=existing)
            return done.cis, done.links
        return self._write_retrying_conflicts(work)

    def create_ci(self, kind: str, key: str, properties: dict[str, Any], *, actor: str) -> CI:
        item = self._prepare([CIInput(key, kind, properties)])[0]

        def work(tx: ManagedTransaction) -> None:
            existing = writer.fetch_cis(tx, [item.key]).get(item.key)
            if existing is not None:
                raise DuplicateKey(_("A %(kind)s with key %(key)s already exists",
                                     kind=existing.kind, key=repr(item.key)),
                                   {"key": item.key, "kind": existing.kind})
            writer.apply(tx, Changes(creates=[item]), ChangeLog(actor))
        try:
            self.write(work)
        except ConstraintError as exc:
            raise DuplicateKey(_("A CI with key %(key)s already exists", key=repr(item.key)),
                               {"key": item.key}) from exc
        return self.get_ci(item.key)

    def update_ci(self, key: str, properties: dict[str, Any], *, actor: str,
                  expected_revision: int | None = None, source: str | None = None,
                  allow_system: bool = False, location: str | None = None) -> CI:
        """Change properties and, with ``location``, move the CI: both written or neither.

        A move bumps the revision too, so a concurrent move with the old revision is refused.
        """
        move = _checked_links([Link(key, "LOCATED_IN", location)]) if location is not None else []

        def work(tx: ManagedTransaction) -> None:
            current = self._lock(tx, key, expected_revision)
            values = schema.validate_properties(KINDS[current.kind], properties,
                                                allow_system=allow_system,
                                                words=read_vocabulary(tx))
            history = ChangeLog(actor, source)
            done = writer.apply(tx, Changes(updates=[CIInput(key, current.kind, values)], links=move),
                                history, existing={key: current})
            if done.links.created and not done.cis.updated:
                writer.apply(tx, Changes(updates=[CIInput(key, current.kind, {"updated_at": history.at})]),
                             history, existing={key: current})
        self.write(work)
        return self.get_ci(key)

    def set_system_properties(self, rows: Sequence[tuple[str, dict[str, Any]]], *, actor: str,
                              source: str | None = None) -> UpsertResult:
        """Write CMDB-maintained properties (label_printed_at, last_audited_at, …) in batches."""
        items = list(rows)
        result = UpsertResult()
        for batch in chunks(items, BATCH_SIZE):
            def work(tx: ManagedTransaction, batch=batch) -> UpsertResult:
                existing = writer.fetch_cis(tx, [k for k, _ in batch])
                missing = [k for k, _ in batch if k not in existing]
                if missing:
                    raise UnknownKey(missing)
                prepared = [CIInput(k, existing[k].kind,
                                    schema.validate_properties(KINDS[existing[k].kind], v,
                                                               allow_system=True))
                            for k, v in batch]
                return writer.apply(tx, Changes(updates=prepared), ChangeLog(actor, source),
                                    existing=existing).cis
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
                    _("%(key)s is still needed by %(n)s CI(s): %(dependents)s; unlink them "
                      "first or delete with force", key=repr(key), n=len(dependents),
                      dependents=", ".join(f"{d['key']} ({d['type']})" for d in dependents[:10])
                      + ("…" if len(dependents) > 10 else "")),
                    {"key": key, "needed_by": dependents})
            done = writer.apply(tx, Changes(deletes=[key]), ChangeLog(actor),
                                existing={key: current})
            removed = [{"direction": "out" if link.from_key == key else "in", "type": link.type,
                        "key": link.to_key if link.from_key == key else link.from_key}
                       for link in done.links.removed]
            return sorted(removed, key=lambda r: (r["direction"] != "out", r["type"], r["key"]))
        return self.write(work)

    # -- relationships

    def link(self, from_key: str, rel_type: str, to_key: str, *, actor: str,
             source: str | None = None) -> LinkResult:
        return self.link_many([Link(from_key, rel_type, to_key)], actor=actor, source=source)

    def link_many(self, links: Sequence[Link], *, actor: str, source: str | None = None,
                  batch_size: int = BATCH_SIZE) -> LinkResult:
        checked = _checked_links(links)
        result = LinkResult()
        for batch in chunks(checked, batch_size):
            def work(tx: ManagedTransaction, batch=batch) -> LinkResult:
                return writer.apply(tx, Changes(links=batch), ChangeLog(actor, source)).links
            result.merge(self.write(work))
        return result

    def unlink(self, from_key: str, rel_type: str, to_key: str, *, actor: str) -> None:
        rel = schema.relationship_of(rel_type)

        def work(tx: ManagedTransaction) -> None:
            writer.apply(tx, Changes(unlinks=[Link(from_key, rel.type, to_key)]), ChangeLog(actor))
        self.write(work)

    def relationships(self, key: str) -> list[dict[str, Any]]:
        self.get_ci(key)
        return links.relationships(self, key)

    def neighbours(self, key: str, *, direction: str = "both",
                   types: Sequence[str] | None = None) -> list[dict[str, Any]]:
        self.get_ci(key)
        return links.neighbours(self, key, direction=direction, types=types)

    def location_path(self, key: str) -> list[dict[str, Any]]:
        """The containment chain above ``key``, outermost first (site, building, room, rack)."""
        return links.location_paths(self, [key]).get(key, [])

    def location_paths(self, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        return links.location_paths(self, keys)

    def subtree_keys_if_any(self, location_key: str) -> list[str]:
        """The key and every CI inside it; empty when there is no such CI."""
        return links.subtree_keys(self, location_key)

    def keys_inside(self, location_key: str, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` that are ``location_key`` or located in it at any depth."""
        return links.keys_inside(self, location_key, keys)

    def subtree_keys(self, location_key: str) -> list[str]:
        self.get_ci(location_key)
        return links.subtree_keys(self, location_key)

    # -- history

    def history(self, key: str, *, offset: int = 0, limit: int = 100) -> tuple[list[ChangeEntry], int]:
        return history.entries(self, key, offset=offset, limit=limit)

    # -- internals

    def _prepare(self, items: Sequence[CIInput]) -> list[CIInput]:
        prepared: list[CIInput] = []
        seen: set[str] = set()
        words = self.vocabulary() if items else None
        for item in items:
            kind = schema.kind_of(item.kind)
            key = schema.validate_key(item.key)
            if key in seen:
                raise DuplicateKey(_("Key %(key)s appears more than once in the same change",
                                     key=repr(key)),
                                   {"key": key})
            seen.add(key)
            try:
                values = schema.validate_properties(kind, item.properties, words=words)
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
        creates, updates, existing = writer.split_by_existence(tx, batch)
        return writer.apply(tx, Changes(creates=creates, updates=updates), ChangeLog(actor, source),
                            existing=existing).cis

    def _lock(self, tx: ManagedTransaction, key: str, expected_revision: int | None) -> CI:
        record = tx.run(LOCK_CI, key=key).single()
        if record is None:
            raise UnknownKey(key)
        current = ci_from_row(record["key"], record["labels"], record["props"])
        if expected_revision is not None and current.revision != expected_revision:
            raise VersionConflict(
                _("%(key)s was changed by someone else (now revision %(current)s, you had "
                  "%(expected)s); reload it and apply your change again", key=repr(key),
                  current=current.revision, expected=expected_revision),
                {"key": key, "current_revision": current.revision,
                 "expected_revision": expected_revision})
        return current


def _checked_links(links: Sequence[Link]) -> list[Link]:
    """Links with their type in its schema spelling and keys checked (the edge of the writer)."""
    return [Link(schema.validate_key(link.from_key, "from"), schema.relationship_of(link.type).type,
                 schema.validate_key(link.to_key, "to")) for link in links]


def _custom_field_filters(words: Vocabulary, kind: str | None,
                          fields: dict[str, Any]) -> dict[str, Any]:
    """Each custom field filter's value converted to the field's type; an unknown field is
    refused naming the fields there are."""
    kinds = [kind] if kind else list(KINDS)
    out: dict[str, Any] = {}
    for name, value in fields.items():
        found = next((f for k in kinds if (f := words.field(k, name)) is not None), None)
        if found is None:
            known = sorted({f for k in kinds for f in words.fields.get(k, {})})
            # A name the register does not hold (409), as for other references in a request.
            shown = ", ".join(known) or _("(none declared)")
            raise Conflict(_("No custom field %(name)s for %(kind)s; custom fields: %(known)s",
                             name=repr(name), kind=kind, known=shown) if kind else
                           _("No custom field %(name)s; custom fields: %(known)s",
                             name=repr(name), known=shown),
                           {"field": "field", "value": name, "allowed": known})
        out[name] = schema.convert_value(found.prop(), value, found.kind)
    return out
