"""What went wrong when the engine failed, said so that a person can act on it.

One place recognises the faults a person can do something about — a full or read-only disk,
an engine out of memory, an engine that stopped or is restarting, a register held by another
process — and turns the driver's or the engine's words into a domain error (``cmdb.errors``)
of one sentence: what happened, that nothing was written, what to do. The API maps these to
HTTP codes (``cmdb.api.errors``), the command line prints the sentence and exits 1. The
details stay in the logs.

The engine often says what went wrong only in its own log (a page flush that found no room,
a Bolt thread killed by ``OutOfMemoryError``) while the driver sees a broken connection or a
commit that failed for no stated reason. So a write takes a ``LogMark`` (how long each log file
in the register's log folder was) before it starts, and on failure the classifier reads what
the logs gained meanwhile, and the free space of the data directory.

Also the cheap checks made before a big write: free disk space against an estimate, and the
size of an import's transaction against the engine's heap.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from neo4j.exceptions import (
    ConstraintError, DriverError, IncompleteCommit, Neo4jError, ServiceUnavailable, SessionExpired,
)

from cmdb.errors import CMDBError, DiskFull, EngineOutOfMemory, EngineUnavailable, RegisterLocked
from cmdb.i18n import N_, _

log = logging.getLogger(__name__)

MB = 1_000_000
# Below this much free space, a write the engine refused is put down to the disk.
LOW_DISK_BYTES = 32 * MB
# Room kept free beyond an operation's estimate: the engine's logs, WAL rotation, a backup's
# temporary file.
DISK_MARGIN_BYTES = 16 * MB
# Measured on the embedded engine (arcadedb-embedded 26.10): importing 20,000 new hardware CIs
# grew the data directory by up to 34 MB while the transaction's write-ahead log was still
# there, 16.5 MB once flushed; a relationship is taken as half a CI.
DISK_BYTES_PER_CHANGE = 1800
DISK_BYTES_PER_LINK = 900
# A restore writes in batches, so what stays is what counts: 20,000 CIs with their 20,000
# history entries took 16.5 MB (about 410 bytes a record), and records with more properties more.
DISK_BYTES_PER_RESTORED_RECORD = 600
# Seconds after which a client should try again when the engine is starting or restarting.
ENGINE_RETRY_AFTER = 10

# What callers name their operation (``operation=``), translated when the sentence is made.
OPERATIONS = (N_("the change"), N_("the import"), N_("the restore"), N_("starting the engine"),
              N_("undoing an unfinished import"))
NOTHING_CHANGED = N_("nothing was changed")
MAYBE_COMMITTED = N_("the change may or may not have been saved, so check before repeating it")

OUT_OF_MEMORY = re.compile(r"OutOfMemoryError|Java heap space|GC overhead limit exceeded")
NO_SPACE = re.compile(r"No space left on device|Disk quota exceeded|ENOSPC")
READ_ONLY = re.compile(r"Read-only file system|EROFS")
LOG_SUFFIXES = (".log",)
LOG_TAIL_BYTES = 1_000_000


@dataclass(frozen=True)
class EngineFacts:
    """What the classifier knows about the engine a graph talks to."""

    description: str
    data_dir: Path | None = None  # the embedded engine's register; None for Neo4j
    heap: str | None = None       # the embedded engine's heap setting, as configured

    @property
    def log_dir(self) -> Path | None:
        return self.data_dir / "log" if self.data_dir is not None else None


@dataclass(frozen=True)
class LogMark:
    """How long each of the engine's log files was when an operation started."""

    sizes: dict[Path, int] = field(default_factory=dict)

    @classmethod
    def take(cls, engine: EngineFacts) -> "LogMark":
        if engine.log_dir is None:
            return cls()
        sizes = {}
        try:
            for entry in os.scandir(engine.log_dir):
                if entry.name.endswith(LOG_SUFFIXES):
                    sizes[Path(entry.path)] = entry.stat().st_size
        except OSError:
            pass
        return cls(sizes)

    def since(self, engine: EngineFacts) -> str:
        """What the engine's logs gained after the mark (at most the last megabyte of each)."""
        if engine.log_dir is None:
            return ""
        gained = []
        try:
            entries = [Path(e.path) for e in os.scandir(engine.log_dir) if e.name.endswith(LOG_SUFFIXES)]
        except OSError:
            return ""
        for path in entries:
            start = self.sizes.get(path, 0)
            try:
                with open(path, "rb") as f:
                    size = f.seek(0, os.SEEK_END)
                    if size < start:  # rotated meanwhile: read it whole
                        start = 0
                    f.seek(max(start, size - LOG_TAIL_BYTES))
                    gained.append(f.read().decode("utf-8", "replace"))
            except OSError:
                continue
        return "\n".join(gained)


# ---------------------------------------------------------------------------------------
# Words


def shown_path(path: Path) -> str:
    """``./data`` for a folder under the current one, the absolute path otherwise."""
    try:
        relative = path.resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return str(path)
    return "./" + str(relative) if str(relative) != "." else "."


def megabytes(n: int) -> str:
    if n >= 10_000 * MB:
        return f"{n / 1000 / MB:.0f} GB"
    return f"{max(n, 0) / MB:.0f} MB" if n >= MB or n <= 0 else "under 1 MB"


def free_bytes(directory: Path) -> int:
    """Free space for an unprivileged writer on the disk holding ``directory`` (or the nearest
    folder above it that exists)."""
    for folder in (directory, *directory.parents):
        try:
            return shutil.disk_usage(folder).free
        except OSError:
            continue
    return 0


def logs_hint(engine: EngineFacts) -> str:
    if engine.log_dir is not None:
        return _("the details are in %(folder)s", folder=shown_path(engine.log_dir))
    return _("the details are in the server's log")


def disk_full(directory: Path, operation: str, needed: int | None = None, *,
              before: bool = False) -> DiskFull:
    """``before``: refused before anything was written (``needed`` is then the estimate);
    otherwise the operation failed and was rolled back."""
    free = free_bytes(directory)
    words = {"operation": _(operation), "free": megabytes(free), "folder": shown_path(directory),
             "needed": megabytes(needed or 0)}
    if before:
        message = _("Not enough disk space: %(operation)s needs about %(needed)s, %(free)s free in "
                    "%(folder)s; nothing was written — free some space there, or move the register "
                    "to a larger disk (CMDB_DATA_DIR).", **words)
        public = _("Not enough disk space on the server: %(operation)s needs about %(needed)s, "
                   "%(free)s free; nothing was written — ask the administrator to free space for "
                   "the register.", **words)
    else:
        message = _("Not enough disk space: %(free)s free in %(folder)s; %(operation)s was rolled "
                    "back and nothing was written — free some space there, or move the register to "
                    "a larger disk (CMDB_DATA_DIR).", **words)
        public = _("Not enough disk space on the server: %(free)s free; %(operation)s was rolled "
                   "back and nothing was written — ask the administrator to free space for the "
                   "register.", **words)
    fault = DiskFull(message, {"directory": str(directory), "free_bytes": free,
                               "needed_bytes": needed})
    fault.public_message = public
    fault.public_details = {"free_bytes": free, "needed_bytes": needed}
    return fault


def not_writable(directory: Path, operation: str, reason: str) -> DiskFull:
    fault = DiskFull(
        _("The register's folder %(folder)s cannot be written (%(reason)s); %(operation)s wrote "
          "nothing — make it writable for this user, or point CMDB_DATA_DIR at a folder that is.",
          folder=shown_path(directory), reason=reason, operation=_(operation)),
        {"directory": str(directory), "reason": reason})
    fault.public_message = _("The server cannot write to the register's disk (%(reason)s); "
                             "%(operation)s wrote nothing — tell the administrator.",
                             reason=reason, operation=_(operation))
    fault.public_details = {"reason": reason}
    return fault


def out_of_memory(engine: EngineFacts, operation: str) -> EngineOutOfMemory:
    heap = engine.heap or "2g"
    details = {"setting": "CMDB_ENGINE_HEAP" if engine.data_dir is not None else None,
               "heap": engine.heap}
    if engine.data_dir is not None:
        fault = EngineOutOfMemory(_(
            "The graph engine ran out of memory during %(operation)s; nothing was written — raise "
            "CMDB_ENGINE_HEAP (now %(heap)s, for example to %(larger)s), or import the file in "
            "parts; %(logs)s.", operation=_(operation), heap=heap, larger=_double(engine.heap),
            logs=logs_hint(engine)), details)
        fault.public_message = _(
            "The graph engine ran out of memory during %(operation)s; nothing was written — send "
            "it in smaller parts, or ask the administrator to give the engine more memory "
            "(CMDB_ENGINE_HEAP, now %(heap)s).", operation=_(operation), heap=heap)
    else:
        fault = EngineOutOfMemory(_(
            "The graph engine ran out of memory during %(operation)s; nothing was written — give "
            "the Neo4j server more memory (server.memory.heap.max_size), or import the file in "
            "parts; %(logs)s.", operation=_(operation), logs=logs_hint(engine)), details)
        fault.public_message = _(
            "The graph engine ran out of memory during %(operation)s; nothing was written — send "
            "it in smaller parts, or ask the administrator to give the engine more memory.",
            operation=_(operation))
    fault.public_details = details
    return fault


def unreachable(engine: EngineFacts, *, maybe_committed: bool = False) -> EngineUnavailable:
    outcome = _(MAYBE_COMMITTED if maybe_committed else NOTHING_CHANGED)
    fault = EngineUnavailable(
        _("The graph engine is unreachable (%(outcome)s): it stopped or is restarting — try again "
          "in %(seconds)s s, and if it stays away, %(logs)s.", outcome=outcome,
          seconds=ENGINE_RETRY_AFTER, logs=logs_hint(engine)),
        {"engine": engine.description}, retry_after=ENGINE_RETRY_AFTER)
    fault.public_message = _("The graph engine is unreachable (%(outcome)s): it is restarting — "
                             "try again in %(seconds)s s.", outcome=outcome,
                             seconds=ENGINE_RETRY_AFTER)
    return fault


def _double(heap: str | None) -> str:
    size = heap_bytes(heap)
    if size is None:
        return "4g"
    doubled = 2 * size
    return f"{doubled // 1024 ** 3}g" if doubled % 1024 ** 3 == 0 else f"{doubled // 1024 ** 2}m"


def heap_bytes(heap: str | None) -> int | None:
    """``"384m"`` -> 402653184 (the JVM's -Xmx units); None when it is not such a size."""
    match = re.fullmatch(r"\s*(\d+)\s*([kKmMgGtT]?)\s*", heap or "")
    if not match:
        return None
    return int(match[1]) * 1024 ** " kmgt".index((match[2] or " ").lower())


# ---------------------------------------------------------------------------------------
# Recognising a fault


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen and len(seen) < 10:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def classify(exc: BaseException, engine: EngineFacts, mark: LogMark | None = None, *,
             operation: str = "the change") -> CMDBError | None:
    """The fault ``exc`` stands for, as a domain error; None when it is none of those this
    module knows (the caller lets the original through)."""
    if isinstance(exc, CMDBError):
        return exc
    chain = _chain(exc)
    for link in chain:
        if isinstance(link, OSError) and link.errno in (errno.ENOSPC, errno.EDQUOT):
            return disk_full(engine.data_dir or Path(link.filename or "."), operation)
        if isinstance(link, OSError) and link.errno in (errno.EROFS, errno.EACCES, errno.EPERM) \
                and engine.data_dir is not None:
            return not_writable(engine.data_dir, operation, link.strerror or str(link))
    if not isinstance(exc, (Neo4jError, DriverError)) or isinstance(exc, ConstraintError):
        return None
    told = " ".join(str(link) for link in chain)
    logged = mark.since(engine) if mark is not None else ""
    said = told + "\n" + logged
    if OUT_OF_MEMORY.search(said):
        return out_of_memory(engine, operation)
    if engine.data_dir is not None:
        if NO_SPACE.search(said):
            return disk_full(engine.data_dir, operation)
        if READ_ONLY.search(said):
            return not_writable(engine.data_dir, operation, "read-only file system")
    broken = isinstance(exc, (ServiceUnavailable, SessionExpired, IncompleteCommit))
    if engine.data_dir is not None and (broken or _refused_commit(exc)) \
            and free_bytes(engine.data_dir) < LOW_DISK_BYTES:
        return disk_full(engine.data_dir, operation)
    if broken:
        return unreachable(engine, maybe_committed=isinstance(exc, IncompleteCommit))
    return None


def _refused_commit(exc: BaseException) -> bool:
    """A commit the engine failed without a reason the driver could see (the embedded engine's
    answer to a write that found no room on disk)."""
    return isinstance(exc, Neo4jError) and ("error on commit" in str(exc).lower()
                                            or "TransactionNotFound" in (exc.code or ""))


def retryable(exc: BaseException, fault: CMDBError | None) -> bool:
    """Whether running a failed transaction again may succeed: a transient conflict or a
    connection the engine dropped — never a transaction that failed for want of memory or
    disk, which would only fail again after holding the engine for as long."""
    if isinstance(fault, (DiskFull, EngineOutOfMemory)):
        return False
    return isinstance(exc, (Neo4jError, DriverError)) and exc.is_retryable()


# ---------------------------------------------------------------------------------------
# Cheap checks before a big write


def check_disk(engine: EngineFacts, needed: int, operation: str) -> None:
    """Refuse an operation that would need more room than the register's disk has."""
    if engine.data_dir is None or needed <= 0:
        return
    if free_bytes(engine.data_dir) < needed + DISK_MARGIN_BYTES:
        raise disk_full(engine.data_dir, operation, needed + DISK_MARGIN_BYTES, before=True)


def import_bytes(changes: int, links: int) -> int:
    return changes * DISK_BYTES_PER_CHANGE + links * DISK_BYTES_PER_LINK


# ---------------------------------------------------------------------------------------
# An engine that would not start

LOCKED = re.compile(r"LockException|locked by another process")


def start_failure(said: str, engine: EngineFacts) -> CMDBError:
    """Why the embedded engine of ``engine.data_dir`` would not start, from what the engine
    said (its exception, or what its host process logged)."""
    data_dir = engine.data_dir or Path(".")
    operation = "starting the engine"
    if LOCKED.search(said):
        return register_locked(data_dir)
    if NO_SPACE.search(said):
        return disk_full(data_dir, operation)
    if READ_ONLY.search(said):
        return not_writable(data_dir, operation, "read-only file system")
    if OUT_OF_MEMORY.search(said):
        return out_of_memory(engine, operation)
    return EngineUnavailable(
        _("The graph engine of the register in %(folder)s did not start; %(logs)s.",
          folder=shown_path(data_dir), logs=logs_hint(engine)), {"data_dir": str(data_dir)})


def register_locked(data_dir: Path) -> RegisterLocked:
    holder = lock_holder(data_dir)
    if holder is None:
        message = _("The register in %(folder)s is held by another process, which does not share "
                    "it with other commands; stop it or wait for it to finish, then try again.",
                    folder=shown_path(data_dir))
    else:
        message = _("The register in %(folder)s is held by process %(pid)s (%(command)s), which "
                    "does not share it with other commands; stop it (kill %(pid)s) or wait for it "
                    "to finish, then try again.", folder=shown_path(data_dir), pid=holder[0],
                    command=holder[1])
    fault = RegisterLocked(message, {"data_dir": str(data_dir),
                                     "pid": holder[0] if holder else None,
                                     "command": holder[1] if holder else None})
    fault.public_message = _("The register is held by another process on the server; try again "
                             "later.")
    return fault


def lock_holder(data_dir: Path) -> tuple[int, str] | None:
    """The pid and command line of the process holding a lock on the register's database
    files (from ``/proc/locks``; None where that is not available)."""
    inodes = set()
    for lock in (data_dir / "databases" / "databases").glob("*/*.lck"):
        try:
            inodes.add(lock.stat().st_ino)
        except OSError:
            continue
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        # "1: POSIX  ADVISORY  WRITE 10042 fe:00:2165015 0 EOF" (blocked waiters have "->")
        if len(fields) < 6 or "->" in fields:
            continue
        pid, device_inode = fields[4], fields[5]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        if int(device_inode.rsplit(":", 1)[-1]) in inodes:
            return int(pid), _command_of(int(pid))
    return None


def _command_of(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "unknown command"
    words = [a.decode("utf-8", "replace") for a in argv if a]
    if len(words) >= 2 and Path(words[0]).name.startswith("python"):
        words = words[1:]
        if words[0] == "-m" and len(words) > 1:
            words = words[1:]
    if words:
        words[0] = Path(words[0]).name
    text = " ".join(words) or "unknown command"
    return text if len(text) <= 80 else text[:79] + "…"
