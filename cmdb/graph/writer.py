"""The one writer of CIs, relationships and their history.

``apply(tx, changes, history)`` makes creates, updates, deletes, unlinks and links in the
caller's transaction and records a history entry for each, in that transaction. The store,
the spreadsheet import and the restore all write through it, so the rules live here once:

- a single-valued relationship (one location, one image) replaces the CI's previous one;
- a link never makes a location contain itself (one check, one message);
- unchanged CIs and existing links are left alone and get no history entry.

Input is typed and validated at the edge (``schema.validate_*``); the writer trusts it.
With ``history=None`` (a restore) properties are written exactly as given, since the
history entries and the CMDB's own properties come from the backup file.

``undo(tx, step, history)`` takes back one ``apply`` of an import written in batches
(``cmdb.graph.import_runs``), from the ``Undo`` stored with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Collection, Sequence

from neo4j import ManagedTransaction

from cmdb.errors import Conflict, DuplicateKey, ForbiddenRelationship, NotFound, UnknownKey
from cmdb.graph import commit_marks, schema, vocabulary
from cmdb.graph.batching import chunks
from cmdb.graph.history import ChangeLog, forget as forget_history
from cmdb.graph.schema import CI_LABEL, KINDS, RELATIONSHIPS, REVISION
from cmdb.graph.values import CI, CIInput, Link, LinkResult, UpsertResult, ci_from_row, kind_from_labels
from cmdb.i18n import _

# Rows per statement inside one transaction.
STATEMENT_ROWS = 5000

# --- reads the writer needs ------------------------------------------------------------------
# Bulk reads return one record holding a list: the embedded engine sends one large record
# several times faster than thousands of small ones.

FETCH_CIS = f"""
UNWIND $keys AS k
MATCH (n:{CI_LABEL} {{key: k}})
RETURN collect([n.key, labels(n), properties(n)]) AS rows
"""

FETCH_KINDS = f"""
UNWIND $keys AS k
MATCH (n:{CI_LABEL} {{key: k}})
RETURN collect([n.key, labels(n)]) AS rows
"""

LINKS_OF_CI = f"""
MATCH (n:{CI_LABEL} {{key: $key}})
CALL (n) {{
  MATCH (n)-[r]->(m:{CI_LABEL})
  RETURN 'out' AS direction, type(r) AS type, m AS other
  UNION
  MATCH (m:{CI_LABEL})-[r]->(n)
  RETURN 'in' AS direction, type(r) AS type, m AS other
}}
RETURN collect([direction, type, other.key]) AS links
"""

LOCATION_CYCLE = f"""
UNWIND $keys AS k
MATCH (n:{CI_LABEL} {{key: k}})-[:LOCATED_IN*1..64]->(m:{CI_LABEL} {{key: k}})
RETURN k LIMIT 1
"""


def link_properties_query(rel_type: str) -> str:
    rel = RELATIONSHIPS[rel_type].type  # closed set
    return (f"UNWIND $rows AS r MATCH (a:{CI_LABEL} {{key: r.from}})-[x:{rel}]->"
            f"(b:{CI_LABEL} {{key: r.to}}) RETURN collect([a.key, b.key, properties(x)]) AS links")


def existing_links_query(rel_type: str) -> str:
    """Relationships of one type matching rows {from, to, single}. The typed pattern lets the
    engine walk only that type's edges (about a third faster than filtering on type(x))."""
    rel = RELATIONSHIPS[rel_type].type  # closed set
    return (f"UNWIND $rows AS r MATCH (a:{CI_LABEL} {{key: r.from}})-[x:{rel}]->(b:{CI_LABEL}) "
            "WHERE r.single OR b.key = r.to RETURN collect([a.key, b.key]) AS links")


def fetch_cis(tx: ManagedTransaction, keys: Sequence[str]) -> dict[str, CI]:
    found: dict[str, CI] = {}
    for batch in chunks(list(dict.fromkeys(keys)), STATEMENT_ROWS):
        for key, labels, props in tx.run(FETCH_CIS, keys=list(batch)).single()["rows"]:
            found[key] = ci_from_row(key, labels, props)
    return found


def fetch_kinds(tx: ManagedTransaction, keys: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for batch in chunks(list(dict.fromkeys(keys)), STATEMENT_ROWS):
        for key, labels in tx.run(FETCH_KINDS, keys=list(batch)).single()["rows"]:
            found[key] = kind_from_labels(labels)
    return found


def existing_links(tx: ManagedTransaction, links: Sequence[Link], *,
                   any_target_of_single: bool = False) -> set[tuple[str, str, str]]:
    """(from, type, to) of the relationships that exist among ``links``; with
    ``any_target_of_single``, for a single-valued type any link of it from the same CI."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for link in links:
        single = any_target_of_single and RELATIONSHIPS[link.type].single
        by_type.setdefault(link.type, []).append(
            {"from": link.from_key, "to": link.to_key, "single": single})
    found: set[tuple[str, str, str]] = set()
    for rel_type, rows in by_type.items():
        for batch in chunks(rows, STATEMENT_ROWS):
            for a, b in tx.run(existing_links_query(rel_type), rows=list(batch)).single()["links"]:
                found.add((a, rel_type, b))
    return found


def split_by_existence(tx: ManagedTransaction, items: Sequence[CIInput]
                       ) -> tuple[list[CIInput], list[CIInput], dict[str, CI]]:
    """(creates, updates, the current CIs of the updates) for create-or-update."""
    existing = fetch_cis(tx, [item.key for item in items])
    creates = [item for item in items if item.key not in existing]
    updates = [item for item in items if item.key in existing]
    return creates, updates, existing


# --- writes ------------------------------------------------------------------------------------


def create_cis_query(kind: str) -> str:
    label = KINDS[kind].label  # closed set
    return f"UNWIND $rows AS r CREATE (n:{CI_LABEL}:{label}) SET n = r"


UPDATE_CIS = f"UNWIND $rows AS r MATCH (n:{CI_LABEL} {{key: r.key}}) SET n += r.set"

REPLACE_CIS = f"UNWIND $rows AS r MATCH (n:{CI_LABEL} {{key: r.key}}) SET n = r"

DELETE_CI = f"MATCH (n:{CI_LABEL} {{key: $key}}) DETACH DELETE n"


def create_links_query(rel_type: str) -> str:
    rel = RELATIONSHIPS[rel_type].type  # closed set
    return (f"UNWIND $rows AS r MATCH (a:{CI_LABEL} {{key: r.from}}) "
            f"MATCH (b:{CI_LABEL} {{key: r.to}}) "
            f"CREATE (a)-[x:{rel}]->(b) SET x = r.props RETURN count(x) AS written")


def delete_links_query(rel_type: str) -> str:
    rel = RELATIONSHIPS[rel_type].type  # closed set
    return (f"UNWIND $rows AS r MATCH (a:{CI_LABEL} {{key: r.from}})-[x:{rel}]->"
            f"(b:{CI_LABEL} {{key: r.to}}) DELETE x")


def node_relationships_query(start: str, start_id: str, rel: str, end: str, end_id: str) -> str:
    """Relationships at the CMDB's own nodes, as a restore finds them in a file. The caller
    passes labels, identifying properties and the type from the schema's closed sets."""
    return (f"UNWIND $rows AS r MATCH (a:{start} {{{start_id}: r.from}}) "
            f"MATCH (b:{end} {{{end_id}: r.to}}) "
            f"MERGE (a)-[x:{rel}]->(b) SET x = r.props RETURN count(x) AS written")


@dataclass
class Changes:
    """What one ``apply`` writes. ``creates`` must be new, ``updates`` must exist (their
    differing properties are written), ``deletes`` are keys of CIs to remove with their links."""

    creates: Sequence[CIInput] = ()
    updates: Sequence[CIInput] = ()
    links: Sequence[Link] = ()
    unlinks: Sequence[Link] = ()
    deletes: Sequence[str] = ()


@dataclass
class Applied:
    cis: UpsertResult = field(default_factory=UpsertResult)
    links: LinkResult = field(default_factory=LinkResult)
    deleted: list[str] = field(default_factory=list)
    history: list[tuple[str, str]] = field(default_factory=list)  # (entry id, key)


def apply(tx: ManagedTransaction, changes: Changes, history: ChangeLog | None, *,
          existing: dict[str, CI] | None = None, kinds: dict[str, str] | None = None,
          new_links: bool = False, unlinked: Collection[str] = ()) -> Applied:
    """Write ``changes`` in ``tx`` with their history entries (``history=None``: a restore).

    ``existing``: the current CIs of ``updates`` and ``deletes`` when the caller has them
    (read or locked in this transaction); ``kinds``: kinds of link ends the caller knows;
    ``new_links``: the caller knows none of the links exist (a restore into an empty register);
    ``unlinked``: keys of CIs the caller created without links in an earlier transaction of
    the same import (their links need no comparing either; a link someone else gave them in
    between is not looked for).
    """
    done = Applied()
    existing = dict(existing or {})
    wanted = [item.key for item in changes.updates if item.key not in existing]
    wanted += [key for key in changes.deletes if key not in existing]
    if wanted:
        existing.update(fetch_cis(tx, wanted))
    known = dict(kinds or {})
    known.update({key: ci.kind for key, ci in existing.items()})
    known.update({item.key: item.kind for item in changes.creates})
    for key in changes.deletes:
        _delete(tx, existing, key, history, done)
    _create(tx, changes.creates, history, done.cis)
    _update(tx, changes.updates, existing, history, done.cis)
    if changes.unlinks:
        _unlink(tx, changes.unlinks, known, history, done.links)
    if changes.links:
        created = {item.key for item in changes.creates}.union(unlinked)
        _link(tx, changes.links, known, created, history, done.links, new_links)
    if history is not None:
        done.history = history.write(tx)
    commit_marks.note([*done.cis.created, *done.cis.updated, *done.deleted])
    commit_marks.note([link.from_key for link in (*done.links.created, *done.links.removed)])
    return done


def history_properties(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in (REVISION, "updated_at")}


def _create(tx: ManagedTransaction, items: Sequence[CIInput], history: ChangeLog | None,
            result: UpsertResult) -> None:
    rows_by_kind: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if history is None:
            row = {**item.properties, "key": item.key}
        else:
            values = {k: v for k, v in item.properties.items() if v is not None}
            row = {"key": item.key, **values, REVISION: 1,
                   "created_at": history.at, "updated_at": history.at}
            history.add("create", item.key, item.kind, None, history_properties(row))
        rows_by_kind.setdefault(item.kind, []).append(row)
        result.created.append(item.key)
    for kind, rows in rows_by_kind.items():
        for batch in chunks(rows, STATEMENT_ROWS):
            tx.run(create_cis_query(kind), rows=list(batch)).consume()


def _update(tx: ManagedTransaction, items: Sequence[CIInput], existing: dict[str, CI],
            history: ChangeLog | None, result: UpsertResult) -> None:
    rows: list[dict[str, Any]] = []
    for item in items:
        current = existing.get(item.key)
        if current is None:
            raise Conflict(_("%(key)s was deleted while this change was being made; "
                             "nothing was written, try again", key=repr(item.key)),
                           {"key": item.key})
        if current.kind != item.kind:
            raise DuplicateKey(
                _("Key %(key)s already belongs to a %(kind)s, not a %(requested)s",
                  key=repr(item.key), kind=current.kind, requested=item.kind),
                {"key": item.key, "kind": current.kind, "requested_kind": item.kind})
        if history is None:
            rows.append({**item.properties, "key": item.key})
            result.updated.append(item.key)
            continue
        diff = {k: v for k, v in item.properties.items() if current.properties.get(k) != v}
        if not diff:
            result.unchanged.append(item.key)
            continue
        before = {k: current.properties.get(k) for k in diff}
        rows.append({"key": item.key, "set": {**diff, REVISION: current.revision + 1,
                                              "updated_at": history.at}})
        history.add("update", item.key, item.kind, before, diff)
        result.updated.append(item.key)
    query = REPLACE_CIS if history is None else UPDATE_CIS
    for batch in chunks(rows, STATEMENT_ROWS):
        tx.run(query, rows=list(batch)).consume()


def _delete(tx: ManagedTransaction, existing: dict[str, CI], key: str,
            history: ChangeLog | None, done: Applied) -> None:
    current = existing.get(key)
    if current is None:
        raise UnknownKey(key)
    links = tx.run(LINKS_OF_CI, key=key).single()["links"]
    for direction, rel_type, other in links:
        a, b = (key, other) if direction == "out" else (other, key)
        done.links.removed.append(Link(a, rel_type, b))
        if history is not None:
            history.add("unlink", a, current.kind if a == key else "",
                        {"from": a, "type": rel_type, "to": b}, None)
    if history is not None:
        history.add("delete", key, current.kind, history_properties(current.properties), None)
    tx.run(DELETE_CI, key=key).consume()
    done.deleted.append(key)


def _kinds_of_ends(tx: ManagedTransaction, links: Sequence[Link], known: dict[str, str]) -> None:
    ends = {k for link in links for k in (link.from_key, link.to_key)}
    unknown = [k for k in ends if k not in known]
    if unknown:
        known.update(fetch_kinds(tx, unknown))
    missing = sorted(ends - known.keys())
    if missing:
        raise UnknownKey(missing)


def _unlink(tx: ManagedTransaction, links: Sequence[Link], known: dict[str, str],
            history: ChangeLog | None, result: LinkResult) -> None:
    _kinds_of_ends(tx, links, known)
    links = list(dict.fromkeys(links))
    present = existing_links(tx, links)
    for link in links:
        if (link.from_key, link.type, link.to_key) not in present:
            raise NotFound(_("There is no %(type)s relationship from %(from_key)s to %(to_key)s",
                             type=link.type, from_key=repr(link.from_key),
                             to_key=repr(link.to_key)),
                           {"from": link.from_key, "type": link.type, "to": link.to_key})
    _delete_links(tx, links)
    for link in links:
        result.removed.append(link)
        if history is not None:
            history.add("unlink", link.from_key, known[link.from_key],
                        {"from": link.from_key, "type": link.type, "to": link.to_key}, None)


def _delete_links(tx: ManagedTransaction, links: Sequence[Link]) -> None:
    by_type: dict[str, list[dict[str, str]]] = {}
    for link in links:
        by_type.setdefault(link.type, []).append({"from": link.from_key, "to": link.to_key})
    for rel_type, rows in by_type.items():
        for batch in chunks(rows, STATEMENT_ROWS):
            tx.run(delete_links_query(rel_type), rows=list(batch)).consume()


def _link(tx: ManagedTransaction, links: Sequence[Link], known: dict[str, str],
          created: set[str], history: ChangeLog | None, result: LinkResult,
          new_links: bool) -> None:
    _kinds_of_ends(tx, links, known)
    targets: dict[tuple[str, str], set[str]] = {}
    for link in links:
        rel = RELATIONSHIPS[link.type]
        schema.check_relationship(rel, known[link.from_key], known[link.to_key],
                                  link.from_key, link.to_key)
        chosen = targets.setdefault((link.from_key, link.type), set())
        chosen.add(link.to_key)
        if rel.single and len(chosen) > 1:
            raise ForbiddenRelationship(
                _("%(key)s can have only one %(type)s; given: %(given)s",
                  key=repr(link.from_key), type=link.type, given=", ".join(sorted(chosen))),
                details={"from": link.from_key, "type": link.type, "to": sorted(chosen)})
    links = list(dict.fromkeys(links))
    # A CI created in this transaction has no links yet; nothing to compare for it.
    present = set() if new_links else existing_links(
        tx, [link for link in links if link.from_key not in created], any_target_of_single=True)
    replaced: list[Link] = []
    rows_by_type: dict[str, list[dict[str, Any]]] = {}
    for link in links:
        if (link.from_key, link.type, link.to_key) in present:
            result.unchanged.append(link)
            continue
        if RELATIONSHIPS[link.type].single:
            for a, t, b in present:
                if a == link.from_key and t == link.type and b != link.to_key:
                    replaced.append(Link(a, t, b))
                    if history is not None:
                        history.add("unlink", a, known[a], {"from": a, "type": t, "to": b}, None)
        if history is None:
            props = dict(link.properties or {})
        else:
            props = {"created_at": history.at, "created_by": history.actor}
            history.add("link", link.from_key, known[link.from_key], None,
                        {"from": link.from_key, "type": link.type, "to": link.to_key})
        rows_by_type.setdefault(link.type, []).append(
            {"from": link.from_key, "to": link.to_key, "props": props})
        result.created.append(link)
    if replaced:
        replaced = _with_properties(tx, replaced)
        _delete_links(tx, replaced)
        result.replaced += replaced
    for rel_type, rows in rows_by_type.items():
        for batch in chunks(rows, STATEMENT_ROWS):
            written = tx.run(create_links_query(rel_type), rows=list(batch)).single()["written"]
            if written != len(batch):
                raise Conflict(_("%(n)s %(type)s relationship(s) could not be created: a CI they "
                                 "join was deleted meanwhile; nothing was written, try again",
                                 n=len(batch) - written, type=rel_type), {"type": rel_type})
    _refuse_containment_cycles(tx, [link for link in links
                                    if (link.from_key, link.type, link.to_key) not in present],
                               known)


def _with_properties(tx: ManagedTransaction, links: Sequence[Link]) -> list[Link]:
    """``links`` (which exist) with their properties, so that an undo can put them back."""
    by_type: dict[str, list[dict[str, str]]] = {}
    for link in links:
        by_type.setdefault(link.type, []).append({"from": link.from_key, "to": link.to_key})
    found: list[Link] = []
    for rel_type, rows in by_type.items():
        for batch in chunks(rows, STATEMENT_ROWS):
            for a, b, props in tx.run(link_properties_query(rel_type), rows=list(batch)).single()["links"]:
                found.append(Link(a, rel_type, b, props))
    return found


def _refuse_containment_cycles(tx: ManagedTransaction, made: Sequence[Link],
                               known: dict[str, str]) -> None:
    """Only a location can contain something, so only location-in-location links can close a
    loop: check just those, after they are written."""
    placed = [link.from_key for link in made
              if RELATIONSHIPS[link.type].acyclic and known[link.from_key] == known[link.to_key]]
    for batch in chunks(placed, STATEMENT_ROWS):
        cycle = tx.run(LOCATION_CYCLE, keys=list(batch)).data()
        if cycle:
            raise ForbiddenRelationship(
                _("Placing %(key)s there would put it inside itself", key=repr(cycle[0]["k"])),
                details={"key": cycle[0]["k"], "type": "LOCATED_IN"})


def write_node_relationships(tx: ManagedTransaction, query: str, rows: list[dict[str, Any]]) -> int:
    """Run a ``node_relationships_query`` (restore only: the file holds their history)."""
    return tx.run(query, rows=rows).single()["written"]


# --- taking back one transaction of an unfinished import --------------------------------------

def put_back_links_query(rel_type: str) -> str:
    """Put back single-valued links an import replaced, unless the CI has another one by now."""
    rel = RELATIONSHIPS[rel_type].type  # closed set
    return (f"UNWIND $rows AS r MATCH (a:{CI_LABEL} {{key: r.from}}) "
            f"MATCH (b:{CI_LABEL} {{key: r.to}}) WHERE NOT (a)-[:{rel}]->(:{CI_LABEL}) "
            f"CREATE (a)-[x:{rel}]->(b) SET x = r.props")


DELETE_CIS = f"UNWIND $keys AS k MATCH (n:{CI_LABEL} {{key: k}}) DETACH DELETE n"


@dataclass
class Undo:
    """What takes back one ``apply`` of an import: kept as JSON beside the batch it undoes, in
    the batch's own transaction (``cmdb.graph.import_runs``)."""

    created: list[str] = field(default_factory=list)          # CIs to delete again
    # CIs to set back: {"key", "before" (all properties, key included), "wrote" (what the
    # import changed), "revision" (the revision it gave them)}
    updated: list[dict[str, Any]] = field(default_factory=list)
    linked: list[list[str]] = field(default_factory=list)     # [from, type, to] to delete
    replaced: list[list[Any]] = field(default_factory=list)   # [from, type, to, props] to put back
    history: list[list[str]] = field(default_factory=list)    # [entry id, key]
    categories: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, changes: Changes, done: Applied, before: dict[str, CI]) -> "Undo":
        items = {item.key: item for item in changes.updates}
        updated = []
        for key in done.cis.updated:
            was = before[key].properties
            wrote = {k: v for k, v in items[key].properties.items() if was.get(k) != v}
            updated.append({"key": key, "before": {**was, "key": key}, "wrote": wrote,
                            "revision": before[key].revision + 1})
        return cls(created=list(done.cis.created), updated=updated,
                   linked=[[x.from_key, x.type, x.to_key] for x in done.links.created],
                   replaced=[[x.from_key, x.type, x.to_key, x.properties or {}]
                             for x in done.links.replaced],
                   history=[[entry, key] for entry, key in done.history])

    def to_json(self) -> str:
        return json.dumps(self.__dict__, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "Undo":
        return cls(**json.loads(text))


def undo(tx: ManagedTransaction, step: Undo, history: ChangeLog) -> list[str]:
    """Take back what one ``apply`` of an import wrote.

    A CI nobody has changed since goes back exactly as it was, and the import's history entries
    about it are removed: as if the import had never been. A CI someone changed since keeps
    their change and its history; only the values that still hold what the import wrote are
    set back (a new CI: deleted), recorded as a change by the import's ``history`` actor.
    Returns the keys of those CIs."""
    current = fetch_cis(tx, [*step.created, *(u["key"] for u in step.updated)])
    changed_since = {key for key in step.created if key in current and current[key].revision != 1}
    changed_since.update(u["key"] for u in step.updated
                         if u["key"] not in current or current[u["key"]].revision != u["revision"])
    linking = {a for a, _t, _b in step.linked}
    changed_since.update(linking - fetch_kinds(tx, list(linking)).keys())  # deleted since
    forget_history(tx, [entry for entry, key in step.history if key not in changed_since])
    by_type: dict[str, list[Link]] = {}
    for a, t, b in step.linked:
        by_type.setdefault(t, []).append(Link(a, t, b))
    for links in by_type.values():
        _delete_links(tx, links)
    for key in step.created:
        if key in changed_since:
            ci = current[key]
            history.add("delete", key, ci.kind, history_properties(ci.properties), None)
    for batch in chunks(step.created, STATEMENT_ROWS):
        tx.run(DELETE_CIS, keys=list(batch)).consume()
    rows = [u["before"] for u in step.updated if u["key"] not in changed_since]
    for u in step.updated:
        ci = current.get(u["key"])
        if ci is None or u["key"] not in changed_since:
            continue
        back = {k: u["before"].get(k) for k, v in u["wrote"].items() if ci.properties.get(k) == v}
        if back:
            props = {**ci.properties, **back, REVISION: ci.revision + 1, "updated_at": history.at}
            rows.append({**{k: v for k, v in props.items() if v is not None}, "key": u["key"]})
            history.add("update", u["key"], ci.kind, {k: ci.properties.get(k) for k in back}, back)
    for batch in chunks(rows, STATEMENT_ROWS):
        tx.run(REPLACE_CIS, rows=list(batch)).consume()
    back_links: dict[str, list[dict[str, Any]]] = {}
    for a, t, b, props in step.replaced:
        back_links.setdefault(t, []).append({"from": a, "to": b, "props": props})
    for rel_type, link_rows in back_links.items():
        for batch in chunks(link_rows, STATEMENT_ROWS):
            tx.run(put_back_links_query(rel_type), rows=list(batch)).consume()
    for key in step.categories:
        if not vocabulary.category_users(tx, key):
            vocabulary.delete_category(tx, key)
    vocabulary.delete_fields(tx, step.fields)
    history.write(tx)
    commit_marks.note([*step.created, *(u["key"] for u in step.updated),
                       *(a for a, _t, _b in step.linked), *(a for a, *_rest in step.replaced)])
    return sorted(changed_since)
