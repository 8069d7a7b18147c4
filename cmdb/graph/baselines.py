"""Baselines in the graph: the ``Baseline`` nodes, the consistent read a baseline's snapshot is
made of, and the history entries a diff takes its authors from.

The snapshot itself (every CI's properties and every relationship of the scope) is a file in
the file store; the node names it by ``file_sha256`` (see ``cmdb.baselines.snapshot``).
"""

from __future__ import annotations

from typing import Any, Sequence

from neo4j import ManagedTransaction
from neo4j.exceptions import ConstraintError

from cmdb.errors import DuplicateKey, NotFound
from cmdb.graph.schema import BASELINE_LABEL, RELATIONSHIPS
from cmdb.graph.connection import Connection as Graph
from cmdb.graph.values import kind_from_labels
from cmdb.graph.writer import FETCH_CIS
from cmdb.i18n import _

READ_BATCH = 5000

ALL_KEYS = "MATCH (n:CI) RETURN collect(n.key) AS keys"

SCOPE_KEYS = """
MATCH (root:CI {key: $key})
MATCH (n:CI)-[:LOCATED_IN*0..32]->(root)
RETURN collect(DISTINCT n.key) AS keys
"""

ALL_LINKS = """
MATCH (a:CI)-[r]->(b:CI)
RETURN collect([a.key, type(r), b.key]) AS links
"""

# Relationships with either end among $keys (a scope): outgoing, then incoming.
LINKS_FROM = """
UNWIND $keys AS k
MATCH (a:CI {key: k})-[r]->(b:CI)
RETURN collect([a.key, type(r), b.key]) AS links
"""
LINKS_TO = """
UNWIND $keys AS k
MATCH (b:CI {key: k})<-[r]-(a:CI)
RETURN collect([a.key, type(r), b.key]) AS links
"""

CREATE_BASELINE = f"CREATE (b:{BASELINE_LABEL}) SET b = $props"
LIST_BASELINES = f"MATCH (b:{BASELINE_LABEL}) RETURN collect(properties(b)) AS rows"
GET_BASELINE = f"MATCH (b:{BASELINE_LABEL} {{name: $name}}) RETURN properties(b) AS props"
DELETE_BASELINE = f"MATCH (b:{BASELINE_LABEL} {{name: $name}}) DELETE b RETURN count(*) AS deleted"

CHANGES_BETWEEN = """
UNWIND $keys AS k
MATCH (c:Change {key: k})
WHERE c.at > $since AND c.at <= $until
RETURN collect([c.key, c.at, c.seq, c.actor, c.action, c.source, c.before, c.after]) AS rows
"""
_CHANGE_FIELDS = ("key", "at", "seq", "actor", "action", "source", "before", "after")


def read_state(graph: Graph, scope: str | None) -> tuple[list[tuple[str, str, dict[str, Any]]],
                                                         list[tuple[str, str, str]]]:
    """Every CI (key, kind, properties) and relationship (from, type, to) of the register, or of
    the CIs inside ``scope`` and the relationships that touch them, read in one transaction so
    they are one consistent state."""
    def work(tx: ManagedTransaction):
        if scope is None:
            keys = tx.run(ALL_KEYS).single()["keys"]
        else:
            keys = tx.run(SCOPE_KEYS, key=scope).single()["keys"]
        cis = []
        for start in range(0, len(keys), READ_BATCH):
            rows = tx.run(FETCH_CIS, keys=keys[start:start + READ_BATCH]).single()["rows"]
            cis += [(key, kind_from_labels(labels), props) for key, labels, props in rows]
        if scope is None:
            links = tx.run(ALL_LINKS).single()["links"]
        else:
            links = []
            for start in range(0, len(keys), READ_BATCH):
                batch = keys[start:start + READ_BATCH]
                links += tx.run(LINKS_FROM, keys=batch).single()["links"]
                links += tx.run(LINKS_TO, keys=batch).single()["links"]
        return cis, sorted({(a, t, b) for a, t, b in links if t in RELATIONSHIPS})
    return graph.read_tx(work)


def create_baseline(graph: Graph, props: dict[str, Any]) -> None:
    def work(tx: ManagedTransaction) -> None:
        tx.run(CREATE_BASELINE, props=props).consume()
    try:
        graph.write(work)
    except ConstraintError:
        raise DuplicateKey(_("There is already a baseline called %(name)s; choose another name",
                             name=repr(props["name"])),
                           {"name": props["name"]}) from None


def list_baselines(graph: Graph) -> list[dict[str, Any]]:
    return sorted(graph.read_list(LIST_BASELINES), key=lambda b: (b["created_at"], b["name"]))


def get_baseline(graph: Graph, name: str) -> dict[str, Any]:
    rows = graph.read(GET_BASELINE, name=name)
    if not rows:
        known = [b["name"] for b in list_baselines(graph)]
        raise NotFound(_("There is no baseline called %(name)s; there are: %(known)s",
                         name=repr(name), known=", ".join(known[-20:])) if known else
                       _("There is no baseline called %(name)s; none has been created",
                         name=repr(name)),
                       {"name": name, "baselines": known[-20:]})
    return rows[0]["props"]


def delete_baseline(graph: Graph, name: str) -> None:
    get_baseline(graph, name)

    def work(tx: ManagedTransaction) -> None:
        tx.run(DELETE_BASELINE, name=name).consume()
    graph.write(work)


def changes_between(graph: Graph, keys: Sequence[str], since: str,
                    until: str) -> list[dict[str, Any]]:
    """The history entries of ``keys`` written after ``since`` and at or before ``until``,
    oldest first (before/after still JSON text)."""
    found: list[dict[str, Any]] = []
    keys = sorted(set(keys))
    for start in range(0, len(keys), READ_BATCH):
        rows = graph.read_list(CHANGES_BETWEEN, keys=keys[start:start + READ_BATCH],
                               since=since, until=until)
        found += [dict(zip(_CHANGE_FIELDS, row)) for row in rows]
    return sorted(found, key=lambda c: (c["at"], c["seq"] or 0))
