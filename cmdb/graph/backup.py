"""Backup and restore of the whole register, on either engine.

A backup pages through the graph by key in short read transactions, so memory stays flat
however large the register is. To make the pages one consistent snapshot it takes a
fingerprint of the register before and after (counts per kind, relationship type and system
label, and the newest history entry: every write to a CI or relationship adds a ``Change``)
and refuses the copy when they differ; ``write_backup`` then starts again.

A restore validates the whole file first (``cmdb.backup.fileformat.validate``), then writes in
batches of ``UNWIND $rows`` in managed transactions: CIs, then the CMDB's own nodes, then
relationships. It writes no history of its own: the history is in the file. At the end it
compares what was written, and what the target holds, with the file's counts.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from neo4j import ManagedTransaction

from cmdb.backup.fileformat import (
    FORMAT_VERSION, InvalidBackup, SnapshotChanged, Writer, decode_props, empty_counts,
    encode_props, endpoint_label, identity_property, records, system_relationship_types, total,
    validate,
)
from cmdb.errors import CMDBError, Conflict
from cmdb.graph.schema import CI_LABEL, KINDS, RELATIONSHIPS, SYSTEM_LABELS, utc_now
from cmdb.graph.store import Graph, kind_from_labels

PAGE_SIZE = 2000
BATCH_SIZE = 2000
SNAPSHOT_ATTEMPTS = 3

Progress = Callable[[str, int, int], None]


class BackupIncomplete(CMDBError):
    code = "backup_incomplete"


class RestoreMismatch(CMDBError):
    code = "restore_mismatch"


# --- read queries -------------------------------------------------------------------------

COUNT_CIS = "MATCH (n:CI) RETURN labels(n) AS labels, count(n) AS count"
COUNT_CI_RELATIONSHIPS = "MATCH (:CI)-[r]->(:CI) RETURN type(r) AS type, count(r) AS count"
LATEST_CHANGE = "MATCH (c:Change) RETURN max(c.at) AS latest, max(c.id) AS last_id"
ANY_NODE = "MATCH (n) RETURN labels(n) AS labels LIMIT 1"

CI_PAGE = """
MATCH (n:CI) WHERE n.key > $after
RETURN n.key AS key, labels(n) AS labels, properties(n) AS props
ORDER BY n.key LIMIT $limit
"""

CI_KEY_PAGE = """
MATCH (n:CI) WHERE n.key > $after
RETURN n.key AS key
ORDER BY n.key LIMIT $limit
"""

CI_TO_CI = """
UNWIND $ids AS k
MATCH (a:CI {key: k})-[r]->(b:CI)
RETURN k AS from, type(r) AS type, b.key AS to, properties(r) AS props
"""

EXISTING_CIS = """
UNWIND $keys AS k
MATCH (n:CI {key: k})
RETURN n.key AS key, labels(n) AS labels
"""


def _label(label: str) -> str:
    """A label for Cypher: only CI and the schema's system labels, never input."""
    if label != CI_LABEL and label not in SYSTEM_LABELS:
        raise ValueError(f"not a schema label: {label!r}")
    return label


def _ident(label: str) -> str:
    """The property that identifies nodes of ``label``: key for CIs, the unique one otherwise."""
    if label == CI_LABEL:
        return "key"
    prop = identity_property(_label(label))
    if prop is None:
        raise BackupIncomplete(f"{label} nodes have no unique property, so they cannot be "
                               "identified in a backup", {"label": label})
    return prop


def count_nodes_query(label: str) -> str:
    return f"MATCH (n:{_label(label)}) RETURN count(n) AS count"


def count_outgoing_query(label: str) -> str:
    return (f"MATCH (a:{_label(label)})-[r]->(b) "
            "RETURN type(r) AS type, labels(b) AS labels, count(r) AS count")


def count_ci_to_node_query(label: str) -> str:
    return f"MATCH (:CI)-[r]->(:{_label(label)}) RETURN type(r) AS type, count(r) AS count"


def node_page_query(label: str) -> str:
    prop = _ident(label)
    return (f"MATCH (n:{_label(label)}) WHERE n.{prop} > $after "
            f"RETURN n.{prop} AS id, properties(n) AS props ORDER BY n.{prop} LIMIT $limit")


def node_id_page_query(label: str) -> str:
    prop = _ident(label)
    return (f"MATCH (n:{_label(label)}) WHERE n.{prop} > $after "
            f"RETURN n.{prop} AS id ORDER BY n.{prop} LIMIT $limit")


def outgoing_query(start: str, end: str) -> str:
    """Relationships from the ``start`` nodes with the given ids to ``end`` nodes."""
    a, b = _ident(start), _ident(end)
    return (f"UNWIND $ids AS i MATCH (a:{_label(start)} {{{a}: i}})-[r]->(b:{_label(end)}) "
            f"RETURN i AS from, type(r) AS type, b.{b} AS to, properties(r) AS props")


# --- write queries --------------------------------------------------------------------------


def create_cis_query(kind: str) -> str:
    return (f"UNWIND $rows AS r CREATE (n:{CI_LABEL}:{KINDS[kind].label}) SET n = r "
            "RETURN count(n) AS written")


REPLACE_CIS = "UNWIND $rows AS r MATCH (n:CI {key: r.key}) SET n = r RETURN count(n) AS written"


def create_nodes_query(label: str) -> str:
    return f"UNWIND $rows AS r CREATE (n:{_label(label)}) SET n = r RETURN count(n) AS written"


def merge_nodes_query(label: str) -> str:
    prop = _ident(label)
    return (f"UNWIND $rows AS r MERGE (n:{_label(label)} {{{prop}: r.{prop}}}) SET n = r "
            "RETURN count(n) AS written")


def _rel_type(rel: str, start: str, end: str) -> str:
    allowed = RELATIONSHIPS if start == end == CI_LABEL else system_relationship_types()
    if rel not in allowed:
        raise ValueError(f"not a schema relationship type: {rel!r}")
    return rel


def write_relationships_query(start: str, rel: str, end: str, *, merge: bool) -> str:
    a, b = _ident(start), _ident(end)
    verb = "MERGE" if merge else "CREATE"
    return (f"UNWIND $rows AS r MATCH (a:{_label(start)} {{{a}: r.from}}) "
            f"MATCH (b:{_label(end)} {{{b}: r.to}}) "
            f"{verb} (a)-[x:{_rel_type(rel, start, end)}]->(b) SET x = r.props "
            "RETURN count(x) AS written")


def drop_other_targets_query(rel: str) -> str:
    """For a single-valued type (one location, one image): the file's target replaces others."""
    return (f"UNWIND $rows AS r MATCH (a:CI {{key: r.from}})-[x:{RELATIONSHIPS[rel].type}]->(b:CI) "
            "WHERE b.key <> r.to DELETE x")


# --- fingerprint ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Fingerprint:
    counts: dict[str, dict[str, int]]
    pairs: dict[tuple[str, str], int]  # relationships at system nodes by (start label, end label)
    latest_change: tuple[Any, Any]

    def key(self) -> tuple:
        return (_normalised(self.counts), sorted(self.pairs.items()), self.latest_change)


def _normalised(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {group: {k: v for k, v in sorted(names.items()) if v} for group, names in counts.items()}


def fingerprint(graph: Graph) -> Fingerprint:
    counts = empty_counts()
    for row in graph.read(COUNT_CIS):
        with contextlib.suppress(ValueError):
            kind = kind_from_labels(row["labels"])
            counts["cis"][kind] += row["count"]
    for row in graph.read(COUNT_CI_RELATIONSHIPS):
        if row["type"] in RELATIONSHIPS:
            counts["relationships"][row["type"]] += row["count"]
    pairs: dict[tuple[str, str], int] = {}
    node_rels = counts["node_relationships"]
    for label in SYSTEM_LABELS:
        counts["nodes"][label] = graph.read(count_nodes_query(label))[0]["count"]
        for row in graph.read(count_outgoing_query(label)):
            end = _known_label(row["labels"])
            if end is None:
                continue
            pairs[(label, end)] = pairs.get((label, end), 0) + row["count"]
            node_rels[row["type"]] = node_rels.get(row["type"], 0) + row["count"]
        for row in graph.read(count_ci_to_node_query(label)):
            pairs[(CI_LABEL, label)] = pairs.get((CI_LABEL, label), 0) + row["count"]
            node_rels[row["type"]] = node_rels.get(row["type"], 0) + row["count"]
    latest = graph.read(LATEST_CHANGE)[0]
    return Fingerprint(counts, pairs, (latest["latest"], latest["last_id"]))


def _known_label(labels: list[str]) -> str | None:
    if CI_LABEL in labels:
        return CI_LABEL
    for label in SYSTEM_LABELS:
        if label in labels:
            return label
    return None


# --- backup -----------------------------------------------------------------------------------


def source_engine(graph: Graph) -> str:
    return "embedded" if graph.description.startswith("embedded") else "neo4j"


def _pages(graph: Graph, query: str, page_size: int, column: str) -> Iterator[list[dict[str, Any]]]:
    after: Any = ""
    while True:
        rows = graph.read(query, after=after, limit=page_size)
        if not rows:
            return
        yield rows
        if len(rows) < page_size:
            return
        after = rows[-1][column]


def _end_ref(label: str, value: Any) -> Any:
    return value if label == CI_LABEL else {"label": label, "id": value}


def iter_backup(graph: Graph, *, page_size: int = PAGE_SIZE,
                progress: Progress | None = None) -> Iterator[bytes]:
    """The backup as gzip chunks. Raises SnapshotChanged (before the end record, so the
    output is detectably incomplete) if the register changed while it was read."""
    before = fingerprint(graph)
    writer = Writer()
    expected = total(before.counts)
    done = 0

    def tick() -> None:
        if progress:
            progress("backup", done, expected)

    yield writer.header(before.counts, utc_now(), source_engine(graph))

    for rows in _pages(graph, CI_PAGE, page_size, "key"):
        for row in rows:
            kind = kind_from_labels(row["labels"])
            chunk = writer.record({"type": "ci", "kind": kind,
                                   "props": encode_props(row["props"], row["key"])}, "cis", kind)
            if chunk:
                yield chunk
        done += len(rows)
        tick()

    for label in SYSTEM_LABELS:
        if not before.counts["nodes"].get(label):
            continue
        for rows in _pages(graph, node_page_query(label), page_size, "id"):
            for row in rows:
                chunk = writer.record({"type": "node", "label": label,
                                       "props": encode_props(row["props"], f"{label} {row['id']}")},
                                      "nodes", label)
                if chunk:
                    yield chunk
            done += len(rows)
            tick()

    starts = [CI_LABEL] + [label for label in SYSTEM_LABELS
                           if any(n for (s, _), n in before.pairs.items() if s == label)]
    for start in starts:
        ends = sorted({e for (s, e), n in before.pairs.items() if s == start and n})
        id_query = CI_KEY_PAGE if start == CI_LABEL else node_id_page_query(start)
        for rows in _pages(graph, id_query, page_size, "key" if start == CI_LABEL else "id"):
            ids = [r["key" if start == CI_LABEL else "id"] for r in rows]
            found: list[tuple[Any, ...]] = []
            if start == CI_LABEL:
                found += [(r["from"], r["type"], CI_LABEL, r["to"], r["props"])
                          for r in graph.read(CI_TO_CI, ids=ids)]
            for end in ends:
                if start == end == CI_LABEL:
                    continue
                found += [(r["from"], r["type"], end, r["to"], r["props"])
                          for r in graph.read(outgoing_query(start, end), ids=ids)]
            found.sort(key=lambda f: (str(f[0]), f[1], f[2], str(f[3]), repr(sorted(f[4].items()))))
            for from_id, rel, end, to_id, props in found:
                group = "relationships" if start == end == CI_LABEL else "node_relationships"
                chunk = writer.record({"type": "rel", "rel": rel, "from": _end_ref(start, from_id),
                                       "to": _end_ref(end, to_id),
                                       "props": encode_props(props, f"{rel} from {from_id}")},
                                      group, rel)
                if chunk:
                    yield chunk
            done += len(found)
            tick()

    after = fingerprint(graph)
    if after.key() != before.key():
        raise SnapshotChanged("The register changed while the backup was being read, so the copy "
                              "would not be consistent", {"before": before.counts,
                                                           "after": after.counts})
    if _normalised(writer.counts) != _normalised(before.counts):
        raise BackupIncomplete(
            "Some nodes or relationships could not be read for the backup (a CI without a key, or "
            "a node of the CMDB's own without its identifying property)",
            {"counted": before.counts, "read": writer.counts})
    yield writer.trailer()


@dataclass
class BackupResult:
    path: Path
    counts: dict[str, dict[str, int]]
    records: int
    size_bytes: int
    attempts: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "format_version": FORMAT_VERSION, "counts": self.counts,
                "records": self.records, "size_bytes": self.size_bytes, "attempts": self.attempts,
                "durations": {"total_s": round(self.seconds, 3)}}


def write_backup(graph: Graph, path: Path, *, overwrite: bool = False,
                 page_size: int = PAGE_SIZE, attempts: int = SNAPSHOT_ATTEMPTS,
                 progress: Progress | None = None) -> BackupResult:
    """Write the backup to ``path`` (via a temporary file renamed at the end, so ``path`` is
    either the old file or a complete backup). Starts again if the register changed meanwhile."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise Conflict(f"{path} already exists; choose another file name or pass --overwrite",
                       {"file": str(path)})
    if path.is_dir():
        raise Conflict(f"{path} is a directory; give a file name such as cmdb-backup.jsonl.gz",
                       {"file": str(path)})
    started = time.perf_counter()
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    for attempt in range(1, attempts + 1):
        try:
            with open(partial, "wb") as out:
                for chunk in iter_backup(graph, page_size=page_size, progress=progress):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, path)
            break
        except SnapshotChanged:
            if attempt == attempts:
                raise SnapshotChanged(
                    f"The register kept changing while it was being backed up ({attempts} "
                    "attempts); try again when imports and audits have finished",
                    {"attempts": attempts}) from None
        except OSError as exc:
            raise BackupIncomplete(f"Cannot write {path}: {exc.strerror or exc}",
                                   {"file": str(path)}) from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
    info = validate(path)
    return BackupResult(path, info.counts, info.records, info.size_bytes, attempt,
                        time.perf_counter() - started)


# --- restore ----------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    path: Path
    mode: str
    counts: dict[str, dict[str, int]]
    written: dict[str, dict[str, int]]
    target: dict[str, dict[str, int]]
    created_at: str
    source_engine: str
    durations: dict[str, float] = field(default_factory=dict)
    verified: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), "mode": self.mode, "backup_created_at": self.created_at,
                "source_engine": self.source_engine, "counts": self.counts,
                "written": self.written, "target_counts": self.target, "verified": self.verified,
                "durations": {k: round(v, 3) for k, v in self.durations.items()}}


def restore_backup(graph: Graph, path: Path, *, merge: bool = False,
                   batch_size: int = BATCH_SIZE, progress: Progress | None = None) -> RestoreResult:
    """Validate ``path`` completely, then load it into ``graph``.

    Without ``merge`` the target must be empty. With ``merge`` CIs and nodes in the file
    replace those with the same key (or id) and the rest of the target stays.
    """
    started = time.perf_counter()
    path = Path(path)
    if progress:
        progress("validate", 0, 1)
    info = validate(path)
    validated = time.perf_counter()
    graph.bootstrap_schema()
    present = fingerprint(graph).counts
    if not merge and (total(present) or graph.read(ANY_NODE)):
        raise Conflict(
            f"The target ({graph.description}) is not empty: it holds {_describe(present)}. "
            "Restore into an empty data directory or database, or pass --merge to combine",
            {"target_counts": present})
    if merge:
        _refuse_kind_changes(graph, path, batch_size)
    checked = time.perf_counter()
    written = _load(graph, path, merge, batch_size, progress, total(info.counts))
    loaded = time.perf_counter()
    target = fingerprint(graph).counts
    result = RestoreResult(path, "merge" if merge else "into-empty", info.counts, written, target,
                           info.created_at, info.source_engine)
    _verify(result, merge)
    result.durations = {"validate_s": validated - started, "prepare_s": checked - validated,
                        "write_s": loaded - checked, "verify_s": time.perf_counter() - loaded,
                        "total_s": time.perf_counter() - started}
    return result


def _describe(counts: dict[str, dict[str, int]]) -> str:
    parts = [f"{n:,} {k}" for k, n in counts["cis"].items() if n]
    parts += [f"{n:,} {label}" for label, n in counts["nodes"].items() if n]
    return ", ".join(parts) or "nodes of other labels"


def _refuse_kind_changes(graph: Graph, path: Path, batch_size: int) -> None:
    """--merge: a key that is a different kind in the target would change a CI's identity."""
    clashes: list[dict[str, str]] = []
    batch: dict[str, str] = {}

    def check() -> None:
        for row in graph.read(EXISTING_CIS, keys=list(batch)):
            kind = kind_from_labels(row["labels"])
            if kind != batch[row["key"]]:
                clashes.append({"key": row["key"], "in_target": kind, "in_file": batch[row["key"]]})
        batch.clear()

    for record in records(path):
        if record["type"] != "ci":
            break
        batch[record["props"]["key"]] = record["kind"]
        if len(batch) >= batch_size:
            check()
    if batch:
        check()
    if clashes:
        shown = ", ".join(f"{c['key']!r} ({c['in_target']} here, {c['in_file']} in the file)"
                          for c in clashes[:10])
        raise Conflict(f"{len(clashes)} key(s) are a different kind in the target than in the "
                       f"backup: {shown}; nothing was written", {"clashes": clashes[:200]})


def _load(graph: Graph, path: Path, merge: bool, batch_size: int, progress: Progress | None,
          expected: int) -> dict[str, dict[str, int]]:
    written = empty_counts()
    buffers: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    done = 0
    section = None

    def flush(group: tuple[str, ...]) -> None:
        nonlocal done
        rows = buffers.pop(group, [])
        if not rows:
            return
        if group[0] == "ci":
            count = graph.write(_write_cis, group[1], rows, merge)
            bucket, name = "cis", group[1]
        elif group[0] == "node":
            query = merge_nodes_query(group[1]) if merge else create_nodes_query(group[1])
            count = graph.write(_write_rows, [query], rows)
            bucket, name = "nodes", group[1]
        else:
            _, start, rel, end = group
            queries = []
            if merge and start == end == CI_LABEL and RELATIONSHIPS[rel].single:
                queries.append(drop_other_targets_query(rel))
            queries.append(write_relationships_query(start, rel, end, merge=merge))
            count = graph.write(_write_rows, queries, rows)
            bucket = "relationships" if start == end == CI_LABEL else "node_relationships"
            name = rel
        written[bucket][name] = written[bucket].get(name, 0) + count
        done += len(rows)
        if progress:
            progress("restore", done, expected)

    for record in records(path):
        kind = record["type"]
        if kind != section:
            for group in list(buffers):
                flush(group)
            section = kind
        props = decode_props(record["props"])
        if kind == "ci":
            group: tuple[str, ...] = ("ci", record["kind"])
            row = props
        elif kind == "node":
            group = ("node", record["label"])
            row = props
        else:
            start, end = endpoint_label(record["from"]), endpoint_label(record["to"])
            group = ("rel", start, record["rel"], end)
            row = {"from": _ref_id(record["from"]), "to": _ref_id(record["to"]), "props": props}
        buffers.setdefault(group, []).append(row)
        if len(buffers[group]) >= batch_size:
            flush(group)
    for group in list(buffers):
        flush(group)
    return written


def _ref_id(ref: Any) -> Any:
    return ref if isinstance(ref, str) else ref["id"]


def _write_cis(tx: ManagedTransaction, kind: str, rows: list[dict[str, Any]], merge: bool) -> int:
    existing: set[str] = set()
    if merge:
        existing = {r["key"] for r in tx.run(EXISTING_CIS, keys=[r["key"] for r in rows])}
    new = [r for r in rows if r["key"] not in existing]
    old = [r for r in rows if r["key"] in existing]
    count = 0
    if new:
        count += tx.run(create_cis_query(kind), rows=new).single()["written"]
    if old:
        count += tx.run(REPLACE_CIS, rows=old).single()["written"]
    return count


def _write_rows(tx: ManagedTransaction, queries: list[str], rows: list[dict[str, Any]]) -> int:
    count = 0
    for query in queries:
        result = tx.run(query, rows=rows)
        record = result.single() if "RETURN" in query else None
        if record is None:
            result.consume()
        else:
            count = record["written"]
    return count


def _verify(result: RestoreResult, merge: bool) -> None:
    expected = _normalised(result.counts)
    problems: list[str] = []
    if _normalised(result.written) != expected:
        problems.append(_difference("written", expected, _normalised(result.written)))
    target = _normalised(result.target)
    for group, names in expected.items():
        for name, n in names.items():
            have = target.get(group, {}).get(name, 0)
            if (have != n) if not merge else (have < n):
                problems.append(f"the target holds {have:,} {name} where the backup has {n:,}")
    if problems:
        raise RestoreMismatch("The restore finished but does not match the backup: "
                              + "; ".join(problems[:10]),
                              {"expected": result.counts, "written": result.written,
                               "target": result.target})
    result.verified = True


def _difference(what: str, expected: dict[str, dict[str, int]],
                got: dict[str, dict[str, int]]) -> str:
    diffs = []
    for group in expected.keys() | got.keys():
        for name in expected.get(group, {}).keys() | got.get(group, {}).keys():
            a, b = expected.get(group, {}).get(name, 0), got.get(group, {}).get(name, 0)
            if a != b:
                diffs.append(f"{name}: {b:,} {what}, {a:,} in the backup")
    return ", ".join(sorted(diffs))


__all__ = ["iter_backup", "write_backup", "restore_backup", "fingerprint", "InvalidBackup",
           "SnapshotChanged", "BackupIncomplete", "RestoreMismatch"]
