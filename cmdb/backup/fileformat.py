"""The backup file: gzip-compressed JSON Lines, one header line, records, one trailer line.

    {"format": "cmdb-backup", "format_version": 1, "created_at": ..., "source_engine": ...,
     "counts": {...}}
    {"type": "ci", "kind": "Hardware", "props": {"key": "000123", ...}}
    {"type": "node", "label": "Change", "props": {...}}
    {"type": "rel", "rel": "LOCATED_IN", "from": "000123", "to": "RACK-A1", "props": {...}}
    {"type": "file", "props": {"sha256": "...", "data": "<base64>"}}
    {"type": "end", "counts": {...}, "records": 3, "sha256": "..."}

Records come in sections, in this order: CIs, the CMDB's own nodes (history, tokens, audits,
documents, baselines), relationships, stored files (format version 2: the documents and
baseline snapshots the nodes refer to by ``file_sha256``; version 1 files have none). A relationship end is a CI key (text) or ``{"label": L, "id": v}`` for one of
the CMDB's own nodes, identified by the property that is unique for its label. The trailer
repeats the counts and carries the SHA-256 of every record line (the header excluded, so two
backups of the same register differ only in their header), which makes a truncated or
altered file detectable before anything is written.

Values the graph stores as JSON types travel as they are: text stays text (``000123``),
integers stay integers and floats floats. Native temporal values and byte arrays, which JSON
lacks, travel as ``{"$date": "2026-01-05"}``-style objects (a property can never hold a map,
so an object is always one of these).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from neo4j import time as neo4j_time

from cmdb.errors import Conflict, InvalidInput
from cmdb.graph import schema
from cmdb.graph.schema import identity_property, system_relationship_types
from cmdb.i18n import _

FORMAT = "cmdb-backup"
# 2: stored files (documents, baseline snapshots) after the relationships.
# 3: the service records: contracts, repair orders, spare issues and stock minimums, service
# levels, fault records, maintenance rounds, checks and schedules; their COVERS,
# SERVICE_LEVEL_OF and CONCERNS relationships to CIs, and STANDS_IN_FOR between CIs. Files of
# earlier versions restore as they are: they hold none of these.
FORMAT_VERSION = 3
SECTIONS = ("ci", "node", "rel", "file")
GZIP_LEVEL = 3  # level 6 (gzip's default) costs twice the time for a file 10 % smaller


class InvalidBackup(InvalidInput):
    """The file cannot be restored: not a backup, truncated, corrupted, or too new."""

    code = "invalid_backup"


class SnapshotChanged(Conflict):
    """The register changed while it was being read, so the copy would not be consistent."""

    code = "snapshot_changed"


def empty_counts() -> dict[str, dict[str, int]]:
    return {"cis": {k: 0 for k in schema.KINDS},
            "relationships": {r: 0 for r in schema.RELATIONSHIPS},
            "nodes": {label: 0 for label in schema.SYSTEM_LABELS},
            "node_relationships": {},
            "files": {"files": 0}}


def upgraded_counts(counts: Any) -> Any:
    """Counts as this version groups them: a version 1 file has no ``files`` group."""
    if isinstance(counts, dict) and "files" not in counts:
        return {**counts, "files": {}}
    return counts


def total(counts: dict[str, dict[str, int]]) -> int:
    return sum(n for group in counts.values() for n in group.values())


# --- values -------------------------------------------------------------------------------

_TEMPORAL = {
    "$date": neo4j_time.Date,
    "$datetime": neo4j_time.DateTime,
    "$time": neo4j_time.Time,
}


def encode_value(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [encode_value(v, where) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    for tag, cls in _TEMPORAL.items():
        if isinstance(value, cls):
            return {tag: value.iso_format()}
    raise InvalidInput(_("%(where)s holds a value of type %(type)s, which a backup cannot carry; "
                         "allowed: text, numbers, booleans, lists, dates and times, bytes",
                         where=where, type=type(value).__name__),
                       field=where, value=str(value))


_PLAIN = frozenset({str, int, float, bool})


def encode_props(props: dict[str, Any], where: str) -> dict[str, Any]:
    for value in props.values():
        if type(value) not in _PLAIN and not (
                type(value) is list and all(type(v) in _PLAIN for v in value)):
            break
    else:
        return props  # the usual case: nothing to encode
    return {name: encode_value(value, f"{where}.{name}") for name, value in props.items()}


def decode_value(value: Any) -> Any:
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    if isinstance(value, dict):
        ((tag, text),) = value.items()
        if tag == "$bytes":
            return base64.b64decode(text)
        return _TEMPORAL[tag].from_iso_format(text)
    return value


def decode_props(props: dict[str, Any]) -> dict[str, Any]:
    return {name: decode_value(value) for name, value in props.items()}


def _check_value(value: Any) -> bool:
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, list):
        return all(_check_value(v) and not isinstance(v, list) for v in value)
    if isinstance(value, dict) and len(value) == 1:
        ((tag, text),) = value.items()
        if not isinstance(text, str):
            return False
        try:
            decode_value(value)
        except (KeyError, ValueError, TypeError, zlib.error):
            return False
        return tag in _TEMPORAL or tag == "$bytes"
    return False


# --- writing ----------------------------------------------------------------------------------


def dumps(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            + "\n").encode("utf-8")


class Writer:
    """Turns records into compressed chunks, hashing and counting as it goes."""

    CHUNK = 256 * 1024

    def __init__(self) -> None:
        self._zip = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: gzip container
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._sha = hashlib.sha256()
        self.records = 0
        self.counts = empty_counts()

    def header(self, counts: dict[str, dict[str, int]], created_at: str, source_engine: str) -> bytes:
        line = dumps({"format": FORMAT, "format_version": FORMAT_VERSION, "created_at": created_at,
                      "source_engine": source_engine, "counts": counts})
        return self._zip.compress(line)

    def record(self, line: bytes, group: str, name: str) -> bytes | None:
        """Add one record (a line from ``dumps``) counted as ``name`` in ``group``; returns a
        compressed chunk when enough has accumulated."""
        self._sha.update(line)
        self.records += 1
        bucket = self.counts[group]
        bucket[name] = bucket.get(name, 0) + 1
        self._pending.append(line)
        self._pending_size += len(line)
        if self._pending_size >= self.CHUNK:
            return self._drain()
        return None

    def _drain(self) -> bytes:
        data = self._zip.compress(b"".join(self._pending))
        self._pending, self._pending_size = [], 0
        return data

    def trailer(self) -> bytes:
        line = dumps({"type": "end", "counts": self.counts, "records": self.records,
                      "sha256": self._sha.hexdigest()})
        return self._drain() + self._zip.compress(line) + self._zip.flush()


# --- reading and validating -------------------------------------------------------------------


@dataclass
class BackupInfo:
    path: Path
    created_at: str
    source_engine: str
    format_version: int
    counts: dict[str, dict[str, int]]
    records: int
    size_bytes: int


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) of the decompressed file, with gzip failures made readable."""
    try:
        with gzip.open(path, "rb") as stream:
            for number, line in enumerate(stream, start=1):
                yield number, line
    except gzip.BadGzipFile as exc:
        if "Not a gzipped file" in str(exc):
            raise InvalidBackup(_("%(path)s is not a CMDB backup: it is not gzip-compressed "
                                  "(a backup is written by `cmdb backup FILE`)", path=path),
                                field="file", value=str(path)) from None
        raise InvalidBackup(_("%(path)s is corrupted: %(reason)s", path=path, reason=exc), field="file", value=str(path)) from None
    except EOFError:
        raise InvalidBackup(_("%(path)s is truncated: the compressed data ends early (was the copy "
                              "or download interrupted?)", path=path), field="file", value=str(path)) from None
    except zlib.error as exc:
        raise InvalidBackup(_("%(path)s is corrupted: the compressed data is damaged (%(reason)s)",
                              path=path, reason=exc),
                            field="file", value=str(path)) from None
    except OSError as exc:
        raise InvalidBackup(_("Cannot read %(path)s: %(reason)s", path=path, reason=exc.strerror or exc),
                            field="file", value=str(path)) from None


def _parse(path: Path, number: int, line: bytes) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidBackup(_("%(path)s is corrupted: line %(line)s is not valid JSON (%(reason)s)",
                              path=path, line=number, reason=exc),
                            field="line", value=number) from None
    if not isinstance(record, dict):
        raise InvalidBackup(_("%(path)s is corrupted: line %(line)s is not a JSON object", path=path,
                              line=number),
                            field="line", value=number)
    return record


def read_header(path: Path) -> dict[str, Any]:
    for number, line in _lines(path):
        header = _parse(path, number, line) if line.lstrip().startswith(b"{") else None
        if not header or header.get("format") != FORMAT:
            raise InvalidBackup(_("%(path)s is not a CMDB backup: its first line is not a '%(format)s' "
                                  "header", path=path, format=FORMAT), field="file", value=str(path))
        version = header.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise InvalidBackup(_("%(path)s: the header's format_version %(version)r is not valid",
                                  path=path, version=version),
                                field="format_version", value=version)
        if version > FORMAT_VERSION:
            raise InvalidBackup(
                _("%(path)s was written in backup format version %(version)s, newer than this "
                  "CMDB reads (up to %(latest)s); restore it with a newer CMDB release",
                  path=path, version=version, latest=FORMAT_VERSION),
                field="format_version", value=version, allowed=f"1 to {FORMAT_VERSION}")
        header["counts"] = upgraded_counts(header.get("counts"))
        if not _valid_counts(header["counts"]):
            raise InvalidBackup(_("%(path)s: the header's counts are missing or malformed", path=path),
                                field="counts")
        return header
    raise InvalidBackup(_("%(path)s is not a CMDB backup: it is empty", path=path), field="file", value=str(path))


def _valid_counts(counts: Any) -> bool:
    if not isinstance(counts, dict) or set(counts) != set(empty_counts()):
        return False
    return all(isinstance(group, dict) and all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in group.items()) for group in counts.values())


def endpoint_label(end: Any) -> str | None:
    """The label of a relationship end in a record: CI for a key, else the system label."""
    if isinstance(end, str):
        return schema.CI_LABEL
    if isinstance(end, dict) and set(end) == {"label", "id"} and end["label"] in schema.SYSTEM_LABELS \
            and identity_property(end["label"]) and isinstance(end["id"], (str, int)):
        return end["label"]
    return None


def _check_record(path: Path, number: int, record: dict[str, Any]) -> tuple[str, str, str]:
    """Check one record's shape; returns (section, counts group, counted name)."""
    def bad(reason: str, **detail: Any) -> InvalidBackup:
        return InvalidBackup(_("%(path)s: line %(line)s: %(reason)s", path=path, line=number,
                               reason=reason), field="line", value=number,
                             details={"line": number, **detail})

    kind = record.get("type")
    props = record.get("props")
    if not isinstance(props, dict) or not all(_check_value(v) for v in props.values()):
        raise bad(_("the record's props are missing or hold a value a backup cannot carry"))
    if kind == "ci":
        label = record.get("kind")
        if label not in schema.KINDS:
            raise bad(_("unknown CI kind %(kind)r; allowed: %(allowed)s", kind=label,
                        allowed=", ".join(schema.KINDS)), kind=label)
        if not isinstance(props.get("key"), str) or not props["key"]:
            raise bad(_("the CI has no key"))
        return "ci", "cis", label
    if kind == "node":
        label = record.get("label")
        if label not in schema.SYSTEM_LABELS:
            raise bad(_("unknown node label %(label)r; allowed: %(allowed)s", label=label,
                        allowed=", ".join(schema.SYSTEM_LABELS)),
                      label=label)
        ident = identity_property(label)
        if ident and props.get(ident) is None:
            raise bad(_("the %(label)s node has no %(property)s", label=label, property=ident))
        return "node", "nodes", label
    if kind == "rel":
        rel = record.get("rel")
        start, end = endpoint_label(record.get("from")), endpoint_label(record.get("to"))
        if start is None or end is None:
            raise bad(_("a relationship end is neither a CI key nor a known node"))
        if start == end == schema.CI_LABEL:
            if rel not in schema.RELATIONSHIPS:
                raise bad(_("unknown relationship type %(type)r; allowed: %(allowed)s", type=rel,
                            allowed=", ".join(schema.RELATIONSHIPS)), type=rel)
            return "rel", "relationships", rel
        if rel not in system_relationship_types():
            raise bad(_("relationship type %(type)r is not in the schema; allowed: %(allowed)s",
                        type=rel, allowed=", ".join(sorted(system_relationship_types()))),
                      type=rel)
        return "rel", "node_relationships", rel
    if kind == "file":
        sha256, data = props.get("sha256"), props.get("data")
        if not isinstance(sha256, str) or len(sha256) != 64 or not isinstance(data, str):
            raise bad(_("a stored file record needs its sha256 and its data"))
        try:
            content = base64.b64decode(data, validate=True)
        except ValueError:
            raise bad(_("a stored file's data is not base64")) from None
        if hashlib.sha256(content).hexdigest() != sha256:
            raise bad(_("the stored file %(sha256)s does not hold the bytes named by its sha256", sha256=sha256))
        return "file", "files", "files"
    raise bad(_("unknown record type %(type)r", type=kind), type=kind)


def _check_unique(path: Path, number: int, record: dict[str, Any], where: str,
                  first_lines: dict[tuple[str, str], int]) -> None:
    """Refuse a second CI with the same key (or node with the same unique identity) while
    validating, not half-way through writing."""
    if where == "ci":
        identity = (schema.CI_LABEL, record["props"]["key"])
    elif where == "node":
        label = record["label"]
        unique = [i.prop for i in schema.INDEXES if i.label == label and i.unique]
        if not unique:
            return
        identity = (label, repr(record["props"].get(unique[0])))
    else:
        return
    first = first_lines.setdefault(identity, number)
    if first != number:
        what = (_("key %(key)r", key=identity[1]) if where == "ci"
                else f"{identity[0]} {identity[1]}")
        raise InvalidBackup(_("%(path)s: line %(line)s: %(what)s appears a second time (first on "
                              "line %(first)s); nothing was written", path=path, line=number,
                              what=what, first=first), field="line", value=number,
                            details={"line": number, "first_line": first, "key": identity[1]})


def records(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a file already validated, header and trailer skipped."""
    for number, line in _lines(path):
        if number == 1:
            continue
        record = json.loads(line)
        if record.get("type") == "end":
            return
        yield record


def validate(path: Path) -> BackupInfo:
    """Read the whole file and refuse it unless it is complete, intact and readable here."""
    path = Path(path)
    header = read_header(path)
    sha = hashlib.sha256()
    counts = empty_counts()
    seen = 0
    section = 0
    trailer: dict[str, Any] | None = None
    first_lines: dict[tuple[str, str], int] = {}   # unique identity -> the line that has it
    for number, line in _lines(path):
        if number == 1:
            continue
        if trailer is not None:
            raise InvalidBackup(_("%(path)s is corrupted: there is data after the end record "
                                  "(line %(line)s)", path=path, line=number), field="line", value=number)
        record = _parse(path, number, line)
        if record.get("type") == "end":
            trailer = record
            continue
        sha.update(line)
        where, group, name = _check_record(path, number, record)
        position = SECTIONS.index(where)
        if position < section:
            raise InvalidBackup(_("%(path)s: line %(line)s: a %(section)s record after the "
                                  "%(previous)s records; the file is out of order", path=path,
                                  line=number, section=where, previous=SECTIONS[section]),
                                field="line", value=number)
        section = position
        _check_unique(path, number, record, where, first_lines)
        counts[group][name] = counts[group].get(name, 0) + 1
        seen += 1
    if trailer is None:
        raise InvalidBackup(_("%(path)s is truncated: it ends after %(count)s records without the end "
                              "record (was the backup interrupted?)", path=path,
                              count=f"{seen:,}"), field="file", value=str(path))
    if trailer.get("sha256") != sha.hexdigest():
        raise InvalidBackup(_("%(path)s is corrupted: the checksum of its records does not match the "
                              "one written with them", path=path), field="sha256")
    announced = upgraded_counts(trailer.get("counts"))
    if trailer.get("records") != seen or not _valid_counts(announced) \
            or _normalised(announced) != _normalised(counts):
        raise InvalidBackup(_("%(path)s is corrupted: it holds %(count)s records but its end record "
                              "announces %(announced)r", path=path, count=f"{seen:,}",
                              announced=trailer.get("records")), field="records",
                            details={"found": counts, "announced": trailer.get("counts")})
    if _normalised(header["counts"]) != _normalised(counts):
        raise InvalidBackup(_("%(path)s is inconsistent: the counts in its header do not match its "
                              "records", path=path), field="counts",
                            details={"header": header["counts"], "records": counts})
    return BackupInfo(path=path, created_at=str(header.get("created_at")),
                      source_engine=str(header.get("source_engine")),
                      format_version=header["format_version"], counts=counts, records=seen,
                      size_bytes=path.stat().st_size)


def _normalised(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {group: {k: v for k, v in names.items() if v} for group, names in counts.items()}
