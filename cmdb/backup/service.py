"""Backup and restore of the whole register, on either engine.

The queries they run are in ``cmdb.graph.backup``.

A backup streams each section (CIs, the CMDB's own nodes, relationships) with one read query
and puts the records in order on disk, so memory stays flat however large the register is.
To make the sections one consistent snapshot it takes a fingerprint of the register before
and after (counts per kind, relationship type and system label; every write to a CI or
relationship adds a ``Change``, so the counts move with every edit) and refuses the copy
when they differ; ``write_backup`` then starts again.

A restore validates the whole file first (``cmdb.backup.fileformat.validate``), then writes in
batches of ``UNWIND $rows`` in managed transactions: CIs, then the CMDB's own nodes, then
relationships, then the stored files into the file store. It writes no history of its own:
the history is in the file. At the end it compares what was written, and what the target
holds, with the file's counts.

Stored files (documents, baseline snapshots) live outside the graph, in a file store
(``cmdb.documents.store.FileStore``); nodes of the labels in ``schema.FILE_LABELS`` refer to
them by ``file_sha256``. A backup given the store carries each file referred to, after the
relationships; a restore given one puts them back.
"""

from __future__ import annotations

import base64
import contextlib
import heapq
import marshal
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

from neo4j.exceptions import DriverError, Neo4jError

from cmdb.backup.fileformat import (
    FORMAT_VERSION, InvalidBackup, SnapshotChanged, Writer, decode_props, dumps, empty_counts,
    encode_props, endpoint_label, records, total, validate,
)
from cmdb.errors import (
    BackupIncomplete, CMDBError, Conflict, DiskFull, EngineOutOfMemory, EngineUnavailable,
    RestoreMismatch,
)
from cmdb.graph import Graph, faults
from cmdb.graph import backup as graph_backup
from cmdb.graph import vocabulary
from cmdb.graph.schema import CI_LABEL, RELATIONSHIPS, SYSTEM_LABELS, utc_now
from cmdb.graph.values import kind_from_labels
from cmdb.i18n import _
from cmdb.i18n.names import kind_name

BATCH_SIZE = 2000
SNAPSHOT_ATTEMPTS = 3

Progress = Callable[[str, int, int], None]


class StoredFiles(Protocol):
    """Where the files the graph refers to are kept (``cmdb.documents.store.FileStore``)."""

    def exists(self, sha256: str) -> bool: ...
    def read(self, sha256: str) -> bytes: ...
    def put_verified(self, sha256: str, data: bytes) -> None: ...


# --- fingerprint ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Fingerprint:
    """What a backup compares before and after reading. Every write to a CI or relationship
    adds a Change node, so the counts change with every edit of the register."""

    counts: dict[str, dict[str, int]]
    pairs: dict[tuple[str, str], int]  # relationships by (start label, end label)

    def key(self) -> tuple:
        return (_normalised(self.counts), sorted(self.pairs.items()))


def _normalised(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {group: {k: v for k, v in sorted(names.items()) if v} for group, names in counts.items()}


def fingerprint(graph: Graph) -> Fingerprint:
    counts = empty_counts()
    pairs: dict[tuple[str, str], int] = {}
    for row in graph_backup.ci_counts(graph):
        with contextlib.suppress(ValueError):
            counts["cis"][kind_from_labels(row["labels"])] += row["count"]
    for label in SYSTEM_LABELS:
        counts["nodes"][label] = graph_backup.node_count(graph, label)
    outgoing = [(CI_LABEL, row) for row in graph_backup.ci_outgoing_counts(graph)]
    everything = graph_backup.relationship_count(graph)
    if everything > sum(row["count"] for _, row in outgoing):
        # Relationships start at the CMDB's own nodes too (none do today): find them by label.
        for label in SYSTEM_LABELS:
            if counts["nodes"][label]:
                outgoing += [(label, row) for row in graph_backup.outgoing_counts(graph, label)]
    for start, row in outgoing:
        end = _known_label(row["labels"])
        if end is None:
            continue
        pairs[(start, end)] = pairs.get((start, end), 0) + row["count"]
        if start == end == CI_LABEL:
            if row["type"] in RELATIONSHIPS:
                counts["relationships"][row["type"]] += row["count"]
        else:
            group = counts["node_relationships"]
            group[row["type"]] = group.get(row["type"], 0) + row["count"]
    return Fingerprint(counts, pairs)


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


class SortedSpill:
    """Sorts any number of (key, item) pairs using the disk: sorted runs of ``run_size`` items
    in temporary files, merged on the way out. Memory holds one run."""

    def __init__(self, run_size: int = 50_000):
        self.run_size = run_size
        self._buffer: list[tuple[tuple, Any]] = []
        self._runs: list[Any] = []

    def add(self, key: tuple, item: Any) -> None:
        self._buffer.append((key, item))
        if len(self._buffer) >= self.run_size:
            self._spill()

    def _spill(self) -> None:
        self._buffer.sort()
        run = tempfile.TemporaryFile()
        for item in self._buffer:
            marshal.dump(item, run)
        run.seek(0)
        self._runs.append(run)
        self._buffer = []

    @staticmethod
    def _read(run) -> Iterator[tuple[tuple, Any]]:
        with run:
            while True:
                try:
                    yield marshal.load(run)
                except EOFError:
                    return

    def lines(self) -> Iterator[Any]:
        """The items in key order."""
        self._buffer.sort()
        if not self._runs:
            yield from (item for _, item in self._buffer)
            return
        sources = [self._read(run) for run in self._runs] + [iter(self._buffer)]
        self._runs, self._buffer = [], []
        for _, item in heapq.merge(*sources):
            yield item

    def close(self) -> None:
        for run in self._runs:
            run.close()
        self._runs, self._buffer = [], []


def _end_ref(label: str, value: Any) -> Any:
    return value if label == CI_LABEL else {"label": label, "id": value}


def _sections(before: Fingerprint) -> list[tuple[str, str, Callable[[dict[str, Any]], tuple]]]:
    """(query, counts group, record builder) per section, in file order."""
    # Rows arrive as records (tuples) in the column order of the section's query.
    def ci(row):
        key, labels, props = row
        kind = kind_from_labels(labels)
        return (key,), {"type": "ci", "kind": kind, "props": encode_props(props, key)}, "cis", kind

    def node(label):
        def build(row):
            ident, props = row
            return ((str(ident),), {"type": "node", "label": label,
                                    "props": encode_props(props, f"{label} {ident}")},
                    "nodes", label)
        return build

    def rel(start, end):
        group = "relationships" if start == end == CI_LABEL else "node_relationships"

        def build(row):
            a, rel_type, b, props = row
            return ((start, str(a), rel_type, end, str(b)),
                    {"type": "rel", "rel": rel_type, "from": _end_ref(start, a),
                     "to": _end_ref(end, b), "props": encode_props(props, f"{rel_type} from {a}")},
                    group, rel_type)
        return build

    sections = [(graph_backup.ALL_CIS, "ci", ci)]
    sections += [(graph_backup.all_nodes_query(label), "node", node(label))
                 for label in SYSTEM_LABELS if before.counts["nodes"].get(label)]
    sections += [(graph_backup.all_relationships_query(start, end), "rel", rel(start, end))
                 for (start, end), n in sorted(before.pairs.items()) if n]
    return sections


def iter_backup(graph: Graph, *, files: StoredFiles | None = None,
                progress: Progress | None = None, run_size: int = 50_000) -> Iterator[bytes]:
    """The backup as gzip chunks, with the stored files ``files`` holds for the graph's nodes.
    Raises SnapshotChanged (before the end record, so the output is detectably incomplete) if
    the register changed while it was read."""
    before = fingerprint(graph)
    stored = graph_backup.referenced_files(graph) if files is not None else []
    missing = [sha for sha in stored if not files.exists(sha)] if files is not None else []
    if missing:
        raise BackupIncomplete(
            _("%(count)s stored file(s) the register refers to are missing from the file "
              "store: %(files)s", count=len(missing),
              files=", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")),
            {"missing": missing[:200]})
    before.counts["files"]["files"] = len(stored)
    writer = Writer()
    expected = total(before.counts)
    done = 0
    yield writer.header(before.counts, utc_now(), source_engine(graph))

    sections = _sections(before)
    position = 0
    while position < len(sections):
        # Consecutive sections of the same kind (relationships of several pairs) sort together.
        kind = sections[position][1]
        spill = SortedSpill(run_size)
        try:
            while position < len(sections) and sections[position][1] == kind:
                query, _label, build = sections[position]
                position += 1

                read_rows = 0

                def keep(record, build=build) -> None:
                    nonlocal read_rows
                    sort_key, data, group, name = build(record)
                    spill.add(sort_key, (group, name, dumps(data)))
                    read_rows += 1
                    if progress and read_rows % 5000 == 0:
                        progress("read", done + read_rows, expected)
                done += graph_backup.stream(graph, query, keep)
                if progress:
                    progress("read", done, expected)
            for group, name, line in spill.lines():
                chunk = writer.record(line, group, name)
                if chunk:
                    yield chunk
        finally:
            spill.close()

    for sha256 in stored:
        line = dumps({"type": "file", "props": {
            "sha256": sha256, "data": base64.b64encode(files.read(sha256)).decode("ascii")}})
        chunk = writer.record(line, "files", "files")
        if chunk:
            yield chunk
    after = fingerprint(graph)
    after.counts["files"]["files"] = len(stored)
    if after.key() != before.key():
        raise SnapshotChanged(_("The register changed while the backup was being read, so the "
                                "copy would not be consistent"), {"before": before.counts,
                                                           "after": after.counts})
    if _normalised(writer.counts) != _normalised(before.counts):
        raise BackupIncomplete(
            _("Some nodes or relationships could not be read for the backup (a CI without a key, "
              "or a node of the CMDB's own without its identifying property)"),
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


def write_backup(graph: Graph, path: Path, *, files: StoredFiles | None = None,
                 overwrite: bool = False,
                 attempts: int = SNAPSHOT_ATTEMPTS, progress: Progress | None = None,
                 run_size: int = 50_000) -> BackupResult:
    """Write the backup to ``path`` (via a temporary file renamed at the end, so ``path`` is
    either the old file or a complete backup). Starts again if the register changed meanwhile."""
    path = Path(path)
    if path.is_dir():
        raise Conflict(_("%(path)s is a directory; give a file name such as cmdb-backup.jsonl.gz",
                         path=path),
                       {"file": str(path)})
    if path.exists() and not overwrite:
        raise Conflict(_("%(path)s already exists; choose another file name or pass --overwrite",
                         path=path),
                       {"file": str(path)})
    started = time.perf_counter()
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    for attempt in range(1, attempts + 1):
        try:
            with open(partial, "wb") as out:
                for chunk in iter_backup(graph, files=files, progress=progress,
                                         run_size=run_size):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, path)
            break
        except SnapshotChanged:
            if attempt == attempts:
                raise SnapshotChanged(
                    _("The register kept changing while it was being backed up (%(attempts)s "
                      "attempts); try again when imports and audits have finished",
                      attempts=attempts),
                    {"attempts": attempts}) from None
        except OSError as exc:
            raise BackupIncomplete(_("Cannot write %(path)s: %(reason)s", path=path,
                                     reason=exc.strerror or exc),
                                   {"file": str(path)}) from None
        except (Neo4jError, DriverError) as exc:
            raise BackupIncomplete(_("The graph engine failed while the backup was being read "
                                     "(%(reason)s); no backup was written", reason=_brief(exc)), {"file": str(path)}) from None
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


def restore_backup(graph: Graph, path: Path, *, files: StoredFiles | None = None,
                   merge: bool = False, batch_size: int = BATCH_SIZE,
                   progress: Progress | None = None) -> RestoreResult:
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
    if not merge:
        # A register holding only the vocabulary a new one starts with takes the backup's.
        graph.write(vocabulary.clear_if_nothing_else)
    present = fingerprint(graph).counts
    if not merge and (total(present) or graph_backup.has_any_node(graph)):
        raise Conflict(
            _("The target (%(target)s) is not empty: it holds %(counts)s. Restore into an empty "
              "data directory or database, or pass --merge to combine",
              target=graph.description, counts=_describe(present)),
            {"target_counts": present})
    if merge:
        _refuse_kind_changes(graph, path, batch_size)
    if info.counts["files"].get("files") and files is None:
        raise Conflict(_("%(path)s holds %(count)s stored file(s) and this restore was given no "
                         "file store to put them in", path=path,
                         count=info.counts["files"]["files"]), {"file": str(path)})
    faults.check_disk(graph.engine, info.records * faults.DISK_BYTES_PER_RESTORED_RECORD,
                      _("the restore"))
    checked = time.perf_counter()
    try:
        written = _load(graph, path, merge, batch_size, progress, total(info.counts), files)
    except (Neo4jError, DriverError, DiskFull, EngineOutOfMemory, EngineUnavailable) as exc:
        # a fault's own sentence speaks of one transaction; keep only its cause
        cause = exc.message.split(";")[0] if isinstance(exc, CMDBError) else _brief(exc)
        raise RestoreMismatch(
            _("The graph engine failed during the restore (%(reason)s); the target holds part "
              "of the backup: empty it (or use a new data directory) and restore again, or "
              "restore again with --merge", reason=cause), {"file": str(path), "fault": getattr(exc, "code", None)}) from None
    loaded = time.perf_counter()
    target = fingerprint(graph).counts
    if files is not None:
        target["files"]["files"] = sum(files.exists(sha) for sha in graph_backup.referenced_files(graph))
    result = RestoreResult(path, "merge" if merge else "into-empty", info.counts, written, target,
                           info.created_at, info.source_engine)
    _verify(result, merge)
    graph.write(vocabulary.lay_down_defaults)  # a backup from before registers had a vocabulary
    result.durations = {"validate_s": validated - started, "prepare_s": checked - validated,
                        "write_s": loaded - checked, "verify_s": time.perf_counter() - loaded,
                        "total_s": time.perf_counter() - started}
    return result


def _brief(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return message.strip().splitlines()[0][:300]


def _describe(counts: dict[str, dict[str, int]]) -> str:
    parts = [f"{n:,} {kind_name(k)}" for k, n in counts["cis"].items() if n]
    parts += [f"{n:,} {label}" for label, n in counts["nodes"].items() if n]
    return ", ".join(parts) or _("nodes of other labels")


def _refuse_kind_changes(graph: Graph, path: Path, batch_size: int) -> None:
    """--merge: a key that is a different kind in the target would change a CI's identity."""
    clashes: list[dict[str, str]] = []
    batch: dict[str, str] = {}

    def check() -> None:
        for key, kind in graph_backup.kinds_of(graph, list(batch)).items():
            if kind != batch[key]:
                clashes.append({"key": key, "in_target": kind, "in_file": batch[key]})
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
        shown = ", ".join(_("%(key)r (%(here)s here, %(there)s in the file)", key=c["key"],
                            here=kind_name(c["in_target"]), there=kind_name(c["in_file"]))
                          for c in clashes[:10])
        raise Conflict(_("%(count)s key(s) are a different kind in the target than in the "
                         "backup: %(shown)s; nothing was written", count=len(clashes),
                         shown=shown), {"clashes": clashes[:200]})


def _load(graph: Graph, path: Path, merge: bool, batch_size: int, progress: Progress | None,
          expected: int, files: StoredFiles | None = None) -> dict[str, dict[str, int]]:
    written = empty_counts()
    buffers: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    done = 0
    section = None

    kinds: dict[str, str] = {}  # of the CIs in the file, for the relationships after them

    def flush(group: tuple[str, ...]) -> None:
        nonlocal done
        rows = buffers.pop(group, [])
        if not rows:
            return
        if group[0] == "ci":
            count = graph_backup.write_cis(graph, group[1], rows, merge)
            bucket, name = "cis", group[1]
            kinds.update((row["key"], group[1]) for row in rows)
        elif group[0] == "node":
            count = graph_backup.write_nodes(graph, group[1], rows, merge)
            bucket, name = "nodes", group[1]
        else:
            _, start, rel, end = group
            if start == end == CI_LABEL:
                count = graph_backup.write_links(graph, rel, rows, kinds, merge)
                bucket = "relationships"
            else:
                count = graph_backup.write_node_relationships(graph, start, rel, end, rows)
                bucket = "node_relationships"
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
        if kind == "file":
            assert files is not None  # checked before anything was written
            files.put_verified(record["props"]["sha256"], base64.b64decode(record["props"]["data"]))
            written["files"]["files"] += 1
            done += 1
            continue
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


def _verify(result: RestoreResult, merge: bool) -> None:
    expected = _normalised(result.counts)
    problems: list[str] = []
    if _normalised(result.written) != expected:
        problems.append(_difference(_("written"), expected, _normalised(result.written)))
    target = _normalised(result.target)
    for group, names in expected.items():
        for name, n in names.items():
            have = target.get(group, {}).get(name, 0)
            if (have != n) if not merge else (have < n):
                problems.append(_("the target holds %(have)s %(name)s where the backup has %(n)s",
                                  have=f"{have:,}", name=name, n=f"{n:,}"))
    if problems:
        raise RestoreMismatch(_("The restore finished but does not match the backup: %(problems)s",
                                problems="; ".join(problems[:10])),
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
                diffs.append(_("%(name)s: %(got)s %(what)s, %(expected)s in the backup", name=name,
                               got=f"{b:,}", what=what, expected=f"{a:,}"))
    return ", ".join(sorted(diffs))


__all__ = ["iter_backup", "write_backup", "restore_backup", "fingerprint", "InvalidBackup",
           "SnapshotChanged", "BackupIncomplete", "RestoreMismatch"]
