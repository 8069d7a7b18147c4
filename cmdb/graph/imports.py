"""What spreadsheet import and export read from the register, and the write of an import.

Reads for comparing a file with the register and for exporting it; the write goes through
the one writer (``cmdb.graph.writer``) in batches under one import run
(``cmdb.graph.import_runs``), so a file is written completely or not at all, every change with
its history entry. Labels and relationship types come from
the schema's closed sets; values are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from neo4j import ManagedTransaction
from neo4j.exceptions import ConstraintError

from cmdb.errors import Conflict
from cmdb.graph import import_runs, links, writer
from cmdb.graph.batching import chunks
from cmdb.graph.history import ChangeLog
from cmdb.graph.schema import CI_LABEL, KINDS, RELATIONSHIPS, REVISION
from cmdb.graph.connection import Connection
from cmdb.graph.values import CIInput, Link, LinkResult, UpsertResult, kind_from_labels
from cmdb.graph.vocabulary import (
    CustomField, Term, create_categories, create_fields, read_vocabulary,
)
from cmdb.graph.writer import FETCH_CIS, Changes
from cmdb.i18n import _


ALL_LINKS = f"""
MATCH (a:{CI_LABEL})-[r]->(b:{CI_LABEL})
RETURN collect([a.key, type(r), b.key]) AS rows
"""

def location_tree(graph: Connection) -> list[tuple[str, str | None, str | None]]:
    return [(r["key"], r["name"], r["parent"]) for r in links.location_tree(graph)]


def cis_of_kind(graph: Connection, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """Every CI of ``kind`` in key order: one collected read, sorted here (on the embedded
    engine a scan is several times faster than ordered pages of it)."""
    rows = graph.read_list(snapshot_query(kind))
    return sorted(((key, props) for key, _labels, props in rows), key=lambda row: row[0])


def all_links(graph: Connection) -> list[tuple[str, str, str]]:
    return [(a, t, b) for a, t, b in graph.read_list(ALL_LINKS) if t in RELATIONSHIPS]


def existing_links(graph: Connection, links: Sequence[tuple[str, str, str]],
                   batch_size: int = 2000) -> set[tuple[str, str, str]]:
    """Which of the given (from, type, to) links exist already (exactly, not just the type)."""
    found: set[tuple[str, str, str]] = set()
    for batch in chunks(list(links), batch_size):
        found.update(graph.read_tx(writer.existing_links, [Link(a, t, b) for a, t, b in batch]))
    return found


# ---------------------------------------------------------------------------------------
# What an import compares against: CIs with their properties and outgoing links.

COUNT_CIS = f"MATCH (n:{CI_LABEL}) RETURN count(n) AS total"

LINKS_FROM_KEYS = f"""
UNWIND $keys AS k
MATCH (a:{CI_LABEL} {{key: k}})-[r]->(b:{CI_LABEL})
RETURN collect([a.key, type(r), b.key]) AS rows
"""


def snapshot_query(kind: str) -> str:
    label = KINDS[kind].label  # closed set
    return f"MATCH (n:{label}) RETURN collect([n.key, labels(n), properties(n)]) AS rows"


@dataclass
class Existing:
    kind: str
    properties: dict[str, Any]
    out: set[tuple[str, str]]   # (relationship type, target key)

    @property
    def revision(self) -> int:
        return int(self.properties.get(REVISION) or 0)


def _existing(key: str, labels: list[str], props: dict[str, Any]) -> Existing:
    props.pop("key", None)
    return Existing(kind_from_labels(labels), props, set())


def register_size(graph: Connection) -> int:
    return graph.read(COUNT_CIS)[0]["total"]


def snapshot_by_keys(graph: Connection, keys: Sequence[str], batch_size: int = 5000) -> dict[str, Existing]:
    """The CIs with these keys, with their properties and outgoing links."""
    found: dict[str, Existing] = {}
    for batch in chunks(list(dict.fromkeys(keys)), batch_size):
        for key, labels, props in graph.read_list(FETCH_CIS, keys=list(batch)):
            found[key] = _existing(key, labels, props)
        for a, t, b in graph.read_list(LINKS_FROM_KEYS, keys=[k for k in batch if k in found]):
            found[a].out.add((t, b))
    return found


def snapshot_all(graph: Connection) -> dict[str, Existing]:
    """Every CI with its properties and outgoing links: two scans, no per-CI lookups."""
    found: dict[str, Existing] = {}
    for kind in KINDS:
        for key, labels, props in graph.read_list(snapshot_query(kind)):
            found[key] = _existing(key, labels, props)
    for a, t, b in all_links(graph):
        if a in found:
            found[a].out.add((t, b))
    return found


# ---------------------------------------------------------------------------------------
# Writing an import: batches of ``batch_rows`` under one import run (cmdb.graph.import_runs),
# so a file is written completely or not at all without the engine holding all of it at once.

def import_batches(creates: Sequence[CIInput], updates: Sequence[CIInput],
                   links: Sequence[Link], batch_rows: int) -> list[Changes]:
    """The CIs first, then the links (whose ends may be new CIs of a later CI batch). A CI's
    links stay in one batch, so the rule "only one location" is checked over all of them."""
    cis = [*creates, *updates]
    fresh = {item.key for item in creates}
    batches = [Changes(creates=[c for c in part if c.key in fresh],
                       updates=[c for c in part if c.key not in fresh])
               for part in chunks(cis, batch_rows)]
    part: list[Link] = []
    for link in sorted(links, key=lambda x: (x.from_key, x.type, x.to_key)):
        if len(part) >= batch_rows and part[-1].from_key != link.from_key:
            batches.append(Changes(links=part))
            part = []
        part.append(link)
    if part:
        batches.append(Changes(links=part))
    return batches


def write_import(graph: Connection, creates: Sequence[CIInput], updates: Sequence[CIInput],
                 links: Sequence[tuple[str, str, str]], kinds: dict[str, str], *, actor: str,
                 source: str | None, categories: Sequence[Term] = (),
                 fields: Sequence[CustomField] = (), batch_rows: int = 5000,
                 written: Callable[[int], None] | None = None) -> tuple[UpsertResult, LinkResult]:
    """Create ``creates``, apply the differing properties of ``updates`` (compared when
    written), create ``links`` (replacing a CI's previous LOCATED_IN / RUNS_IMAGE), with a
    history entry for each change: all of it, or, if anything fails, nothing. ``kinds``: the
    kinds of the CIs the links join, as the import found them. ``categories`` and ``fields``:
    what the import adds to the register's vocabulary, written with the first batch.
    ``written(n)``: told after each batch how many of the changes are written."""
    batches = import_batches(creates, updates, [Link(a, t, b) for a, t, b in links], batch_rows)
    if not batches:  # only words for the vocabulary
        batches = [Changes()]
    run = import_runs.ImportRun.begin(graph, actor=actor, source=source)
    upserted, linked = UpsertResult(), LinkResult()
    made: set[str] = set()   # CIs this import created: no links to compare yet
    done_rows = 0
    try:
        for number, batch in enumerate(batches):
            def work(tx: ManagedTransaction, batch: Changes = batch,
                     first: bool = number == 0) -> tuple[writer.Applied, writer.Undo]:
                if first and (categories or fields):
                    _add_vocabulary(tx, categories, fields)
                before = writer.fetch_cis(tx, [item.key for item in batch.updates])
                done = writer.apply(tx, batch, ChangeLog(actor, source), existing=before,
                                    kinds=kinds, unlinked=made)
                undo = writer.Undo.of(batch, done, before)
                if first:
                    undo.categories = [t.key for t in categories]
                    undo.fields = [f.id for f in fields]
                return done, undo
            done = run.write(work)
            upserted.merge(done.cis)
            linked.merge(done.links)
            made.update(done.cis.created)
            done_rows += len(batch.creates) + len(batch.updates) + len(batch.links)
            if written is not None:
                written(done_rows)
        run.finish()
    except ConstraintError as exc:
        run.undo(exc)
        raise Conflict(_("A CI in this import was created by someone else while the import ran; "
                         "nothing was written, import again"), {"reason": str(exc)[:200]}) from exc
    except BaseException as exc:
        run.undo(exc)
        raise
    return upserted, linked


def _add_vocabulary(tx: ManagedTransaction, categories: Sequence[Term],
                    fields: Sequence[CustomField]) -> None:
    words = read_vocabulary(tx)
    taken = [t.key for t in categories if t.key in words.categories] + \
        [f.id for f in fields if words.field(f.kind, f.name) is not None]
    if taken:
        raise Conflict(_("%(added)s was added to the register's vocabulary while the "
                         "import ran; import again", added=", ".join(taken)),
                       {"added": taken})
    create_categories(tx, categories)
    create_fields(tx, fields)
