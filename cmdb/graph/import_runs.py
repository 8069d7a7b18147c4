"""An import written in batches, all or nothing, without holding it all in the engine's memory.

One transaction for a whole import kept every written page in the engine's heap until the
commit (3 GB for 100,000 rows). Instead an import is written as a run of transactions under an
``ImportRun`` node:

- each batch's transaction also stores an ``ImportStep``: how to undo that batch
  (``writer.Undo``), so a batch and its undo commit together or not at all;
- after the last batch one transaction deletes the steps and the run: the import is written;
- when a batch fails, the committed batches are undone newest first, each in one transaction
  with the deletion of its step, then the run is deleted: nothing of the import is left;
- when the importing process dies (killed, out of memory, power lost), its run stays behind.
  The next process that connects (``recover``) sees that its owner is gone, claims the run and
  undoes it the same way, so a killed import leaves nothing half-done.

Other users see an import's batches as they commit, as with any bulk load; the import compares
and checks its file before the first batch, so a run is undone only when the engine fails or
someone changes the same CIs meanwhile.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from neo4j import ManagedTransaction

from cmdb.errors import Conflict, EngineOutOfMemory, EngineUnavailable
from cmdb.graph import writer
from cmdb.graph.connection import Connection
from cmdb.graph.history import ChangeLog
from cmdb.graph.schema import IMPORT_RUN_LABEL, IMPORT_STEP_LABEL, utc_now
from cmdb.i18n import _

log = logging.getLogger(__name__)

T = TypeVar("T")

# An owner on another host (a shared Neo4j) counts as gone when its run has not moved for this
# long; one batch takes seconds.
LEASE_SECONDS = 600

OPEN_RUNS = f"MATCH (r:{IMPORT_RUN_LABEL}) RETURN collect(properties(r)) AS runs"
BEGIN_RUN = (f"CREATE (r:{IMPORT_RUN_LABEL} {{id: $id, owner: $owner, actor: $actor, "
             "source: $source, started_at: $at, beat: $beat, steps: 1})")
# Renews the run's heartbeat if the caller still owns it; the write also orders it against a
# concurrent claim (``CLAIM_RUN``).
HOLD_RUN = (f"MATCH (r:{IMPORT_RUN_LABEL} {{id: $id}}) WHERE r.owner = $owner "
            "SET r.beat = $beat, r.steps = r.steps + $steps RETURN r.steps AS steps")
CLAIM_RUN = (f"MATCH (r:{IMPORT_RUN_LABEL} {{id: $id}}) WHERE r.owner = $was "
             "SET r.owner = $owner, r.beat = $beat RETURN count(r) AS claimed")
ADD_STEP = f"CREATE (s:{IMPORT_STEP_LABEL} {{id: $id, run: $run, seq: $seq, undo: $undo}})"
LAST_STEP = (f"MATCH (s:{IMPORT_STEP_LABEL} {{run: $run}}) WITH s ORDER BY s.seq DESC LIMIT 1 "
             "RETURN s.id AS id, s.undo AS undo")
DELETE_STEP = f"MATCH (s:{IMPORT_STEP_LABEL} {{id: $id}}) DELETE s"
DELETE_STEPS = f"MATCH (s:{IMPORT_STEP_LABEL} {{run: $run}}) DELETE s"
DELETE_RUN = f"MATCH (r:{IMPORT_RUN_LABEL} {{id: $id}}) DELETE r"


class RunTakenOver(Conflict):
    """Another process decided this run's owner was gone and undid it."""


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot), or None if there is no such
    process: with the pid it names one process, even after the pid is reused."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat.rsplit(b")", 1)[1].split()[19].decode()


def this_process() -> str:
    return f"{socket.gethostname()}/{os.getpid()}/{_process_start(os.getpid()) or ''}"


# The runs this process is writing now: one of its own runs not among them was left behind
# (its undo failed while the engine was down) and is undone like a dead process's.
_writing: set[str] = set()
_taking = threading.Lock()


def abandoned(run: dict[str, Any], now: float) -> bool:
    """Whether nobody is writing ``run`` any more: its process is gone (or, on another host,
    it has not moved for LEASE_SECONDS), or it is this process's and not being written."""
    owner = run["owner"]
    if owner == this_process():
        return run["id"] not in _writing
    host, _, rest = owner.partition("/")
    pid, _, started = rest.partition("/")
    if host == socket.gethostname() and pid.isdigit() and started:
        return _process_start(int(pid)) != started
    return now - float(run["beat"]) > LEASE_SECONDS


@dataclass
class ImportRun:
    """One import being written; ``write`` each batch, then ``finish`` (or ``undo``)."""

    conn: Connection
    id: str
    owner: str              # this_process()
    actor: str = ""
    source: str | None = None
    steps: int = 0          # batches committed

    @classmethod
    def begin(cls, conn: Connection, *, actor: str, source: str | None) -> "ImportRun":
        """A new run (written with its first batch), after undoing any a dead process left."""
        recover(conn)
        run = cls(conn, uuid.uuid4().hex, this_process(), actor=actor, source=source)
        _writing.add(run.id)
        return run

    def write(self, work: Callable[[ManagedTransaction], tuple[T, writer.Undo]]) -> T:
        """Run one batch: ``work(tx)`` writes it and says how to undo it; the undo is stored
        in the same transaction."""
        def batch(tx: ManagedTransaction) -> T:
            if self.steps == 0:
                tx.run(BEGIN_RUN, id=self.id, owner=self.owner, actor=self.actor,
                       source=self.source, at=utc_now(), beat=time.time()).consume()
            else:
                _hold(tx, self.id, self.owner, steps=1)
            result, undo = work(tx)
            tx.run(ADD_STEP, id=uuid.uuid4().hex, run=self.id, seq=self.steps,
                   undo=undo.to_json()).consume()
            return result
        result = self.conn.write(batch, operation="the import")
        self.steps += 1
        return result

    def finish(self) -> None:
        if self.steps == 0:
            return

        def work(tx: ManagedTransaction) -> None:
            _hold(tx, self.id, self.owner)
            tx.run(DELETE_STEPS, run=self.id).consume()
            tx.run(DELETE_RUN, id=self.id).consume()
        self.conn.write(work, operation="the import")
        _writing.discard(self.id)

    def undo(self, cause: BaseException) -> None:
        """Take back every committed batch after ``cause`` stopped the import. When the engine
        is down (or fails meanwhile), the run stays and the next process to connect, or this
        one's next import, undoes it. (Tried even with no batch known to be committed: a commit
        whose answer was lost may have been.)"""
        _writing.discard(self.id)
        if isinstance(cause, (EngineUnavailable, EngineOutOfMemory)):
            log.info("the unfinished import %s is undone when the engine is back", self.id)
            return
        try:
            _undo_run(self.conn, self.id, self.owner, self.actor, self.source)
        except RunTakenOver:
            pass
        except Exception as exc:  # noqa: BLE001 - the caller re-raises what stopped the import
            log.warning("undoing the unfinished import %s failed (%s); the next process to "
                        "connect undoes it", self.id, exc)



def _hold(tx: ManagedTransaction, run: str, owner: str, steps: int = 0) -> None:
    """Renew ``run``'s heartbeat (counting ``steps`` more batches), or raise RunTakenOver if
    ``owner`` no longer holds it."""
    if tx.run(HOLD_RUN, id=run, owner=owner, beat=time.time(), steps=steps).single() is None:
        raise RunTakenOver(_("This import stopped for too long and was undone by another "
                             "process; nothing was written, import again"), {"run": run})


def _undo_run(conn: Connection, run: str, owner: str, actor: str, source: str | None) -> list[str]:
    """Undo ``run``'s steps newest first, one transaction each, then delete the run. Returns
    the keys of CIs someone changed since (see ``writer.undo``)."""
    kept: list[str] = []

    def one_step(tx: ManagedTransaction) -> bool:
        _hold(tx, run, owner)
        step = tx.run(LAST_STEP, run=run).single()
        if step is None:
            tx.run(DELETE_RUN, id=run).consume()
            return False
        kept.extend(writer.undo(tx, writer.Undo.from_json(step["undo"]), ChangeLog(actor, source)))
        tx.run(DELETE_STEP, id=step["id"]).consume()
        return True

    while conn.write(one_step, operation="undoing an unfinished import"):
        pass
    if kept:
        log.warning("undoing import %s kept what others changed since in %d CI(s): %s",
                    run, len(kept), ", ".join(kept[:20]))
    return kept


def recover(conn: Connection) -> int:
    """Undo the runs whose importing process is gone. Returns how many were undone."""
    undone = 0
    now = time.time()
    me = this_process()
    for run in conn.read_list(OPEN_RUNS):
        with _taking:  # one thread of this process per run
            if not abandoned(run, now):
                continue
            _writing.add(run["id"])
        try:
            if _claim_and_undo(conn, run, me):
                undone += 1
        finally:
            _writing.discard(run["id"])
    return undone


def _claim_and_undo(conn: Connection, run: dict[str, Any], me: str) -> bool:
    def claim(tx: ManagedTransaction) -> bool:
        return tx.run(CLAIM_RUN, id=run["id"], was=run["owner"], owner=me,
                      beat=time.time()).single()["claimed"] == 1
    if not conn.write(claim, operation="undoing an unfinished import"):
        return False  # another process claimed it first
    log.warning("undoing the unfinished import %s (%s, by %s, started %s, %s batch(es))",
                run["id"], run.get("source"), run.get("actor"), run.get("started_at"),
                run.get("steps"))
    try:
        _undo_run(conn, run["id"], me, run.get("actor") or "import", run.get("source"))
    except RunTakenOver:
        return False
    return True
