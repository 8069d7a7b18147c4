"""The connection to the graph engine: one driver, one database, managed transactions.

Every write runs in one transaction, retried on transient errors but never after a failure
for want of memory or disk (``cmdb.graph.faults`` says which is which); bulk reads return one
collected list, which the embedded engine streams far faster than a record per row. A driver
error leaves here as the fault it stands for (``cmdb.graph.faults``), when it is one.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any, Callable, Sequence, TypeVar

from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import ConstraintError, DriverError, Neo4jError, TransientError

from cmdb.errors import EngineRestarting, EngineUnavailable
from cmdb.graph import commit_marks, schema
from cmdb.graph.engine import Endpoint, endpoint_for, open_driver
from cmdb.graph.faults import EngineFacts, LogMark, classify, retryable
from cmdb.graph.list_index import ListIndex
from cmdb.graph.vocabulary import Vocabulary, defaults_laid, lay_down_defaults, read_vocabulary
from cmdb.settings import Settings

T = TypeVar("T")
C = TypeVar("C", bound="Connection")

READ_ATTEMPTS = 3
READ_RETRY_PAUSE = 0.3

PING = "RETURN 1 AS ok"
WIPE_SOME = "MATCH (n) WITH n LIMIT 5000 DETACH DELETE n RETURN count(*) AS c"
# A failed write transaction that may succeed when run again (a transient conflict, a dropped
# connection) is retried for this long, as the driver's managed transactions would.
WRITE_RETRY_SECONDS = 30.0

log = logging.getLogger(__name__)


class Connection:
    """One driver and the database it works in."""

    def __init__(self, driver: Driver, database: str, description: str = "",
                 engine: EngineFacts | None = None):
        self.driver = driver
        self.database = database
        self.description = description
        self.engine = engine or EngineFacts(description)
        # Raises before a session is opened when the engine is known to be down (a worker of
        # ``cmdb serve`` watches its supervised engine); None: just try.
        self.availability: Callable[[], None] | None = None
        # What list pages and search read in a long-running process (cmdb.graph.list_index);
        # None: they ask the engine.
        self.list_index: ListIndex | None = None
        self._marks_pruned = 0.0

    @classmethod
    def connect(cls: type[C], settings: Settings, *, bootstrap: bool = True,
                background: bool = False) -> C:
        """``background``: with no engine running, start one in a process of its own that the
        next commands reuse (see ``cmdb.graph.engine``), rather than in this process."""
        endpoint: Endpoint = endpoint_for(settings, background=background)
        graph = cls(open_driver(endpoint), endpoint.database, endpoint.description,
                    EngineFacts(endpoint.description, endpoint.data_dir, endpoint.heap))
        if bootstrap:
            graph.bootstrap_schema()
        return graph

    def close(self) -> None:
        self.driver.close()

    def __enter__(self: C) -> C:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def _session(self, operation: str = "the change"):
        if self.availability is not None:
            self.availability()
        mark = LogMark.take(self.engine)
        try:
            with self.driver.session(database=self.database) as session:
                yield session
        except (Neo4jError, DriverError, OSError) as exc:
            fault = classify(exc, self.engine, mark, operation=operation)
            if fault is None:
                raise
            log.info("%s failed: %s", operation, exc)
            raise fault from exc

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

    def write(self, work: Callable[..., T], *args: Any, operation: str = "the change") -> T:
        """Run ``work(tx, *args)`` in one write transaction, committed or not at all.

        Retried like the driver's managed transactions (transient conflicts, a dropped
        connection), except when it failed for want of memory or disk: run again, it would
        hold the engine as long and fail the same way. ``operation`` names it in messages
        ("the import").
        """
        with commit_marks.collecting() as touched:
            result = self._write_retrying(work, args, operation)
        if touched:
            self._announce(touched)
        return result

    def _write_retrying(self, work: Callable[..., T], args: tuple, operation: str) -> T:
        deadline = None
        delay = 0.2
        while True:
            if self.availability is not None:
                self.availability()
            mark = LogMark.take(self.engine)
            try:
                with self.driver.session(database=self.database) as session, \
                        session.begin_transaction() as tx:
                    result = work(tx, *args)
                    tx.commit()
                    return result
            except (Neo4jError, DriverError, OSError) as exc:
                fault = classify(exc, self.engine, mark, operation=operation)
                deadline = deadline or time.monotonic() + WRITE_RETRY_SECONDS
                if retryable(exc, fault) and time.monotonic() + delay < deadline:
                    log.warning("%s failed and is tried again in %.1f s: %s", operation, delay, exc)
                    time.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                if fault is None:
                    raise
                log.info("%s failed: %s", operation, exc)
                raise fault from exc

    def _announce(self, touched: commit_marks.Touched) -> None:
        """Write the commit mark of a committed write (see ``cmdb.graph.commit_marks``).

        The write has committed whatever happens here: a mark that cannot be written is
        logged, and this process's own index catches up at once all the same."""
        row = touched.mark_row()
        if self.list_index is not None:
            self.list_index.touched(None if row["everything"] else row["keys"])
        try:
            with self._session() as session:
                session.run(commit_marks.WRITE_MARK, row).consume()
                now = time.monotonic()
                if now - self._marks_pruned > commit_marks.PRUNE_EVERY_SECONDS:
                    self._marks_pruned = now
                    session.run(commit_marks.PRUNE_MARKS,
                                before=row["at"] - commit_marks.KEEP_SECONDS).consume()
        except Exception as exc:  # noqa: BLE001 - the write itself succeeded
            log.warning("the commit mark of a write was not recorded (list indexes of other "
                        "processes catch up at their next rebuild): %s", exc)

    def bootstrap_schema(self) -> None:
        with self._session() as session:
            for statement in schema.schema_statements():
                session.run(statement).consume()
        self._lay_down_vocabulary()

    def _lay_down_vocabulary(self) -> None:
        # Read first: connecting to a register that has its vocabulary writes nothing, so an
        # engine that dies while a command connects has never half-committed anything.
        if self.read_tx(defaults_laid):
            return
        for attempt in range(3):  # two processes bootstrapping a new register at once
            try:
                self.write(lay_down_defaults)
                return
            except ConstraintError:
                if attempt == 2:
                    raise

    def vocabulary(self) -> Vocabulary:
        """The register's categories, status words and custom fields."""
        return self.read_tx(read_vocabulary)

    def ping(self) -> bool:
        return self.read(PING)[0]["ok"] == 1

    def wipe(self) -> None:
        """Delete every node and relationship (tests, restores into an empty target)."""
        def work(tx: ManagedTransaction) -> int:
            return tx.run(WIPE_SOME).single()["c"]
        while self.write(work):
            pass
        self._announce(commit_marks.Touched(everything=True))
        self._lay_down_vocabulary()

    def read_rows(self, query: str, fields: Sequence[str], **params: Any) -> list[dict[str, Any]]:
        """The rows of the one collected list a query returns, as dicts of ``fields``."""
        return [dict(zip(fields, values)) for values in self.read_list(query, **params)]
