"""Records every distinct Cypher query this process sends, for the test suite's Cypher lint.

Off unless ``CMDB_TEST_CYPHER_RECORD_DIR`` names a directory (the test suite's
``--lint-cypher`` option sets it, and the processes the tests start inherit it). Then every
``run`` through the neo4j driver — sessions, managed and explicit transactions — appends one
JSON line ``{"query": ..., "parameters": [names]}`` to ``queries-<pid>.jsonl`` there, the
first time this process sends that query with those parameter names. Lines are written as
they are seen, so a process that is killed still leaves what it sent.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from pathlib import Path
from typing import Any, Callable

import neo4j

RECORD_DIR_ENV = "CMDB_TEST_CYPHER_RECORD_DIR"

_lock = threading.Lock()
_seen: set[tuple[str, tuple[str, ...]]] = set()
_installed_for: str | None = None


def install_if_requested() -> None:
    """Start recording when ``CMDB_TEST_CYPHER_RECORD_DIR`` is set (once per process)."""
    global _installed_for
    directory = os.environ.get(RECORD_DIR_ENV)
    if not directory or _installed_for is not None:
        return
    _installed_for = directory
    for cls in (neo4j.Session, neo4j.Transaction, neo4j.ManagedTransaction):
        cls.run = _recording(cls.run, Path(directory))


def _recording(run: Callable[..., Any], directory: Path) -> Callable[..., Any]:
    @functools.wraps(run)
    def recording_run(self, query, parameters=None, **kwparameters):
        text = getattr(query, "text", query)  # a neo4j.Query carries its text
        names = tuple(sorted({*(parameters or {}), *kwparameters}))
        _record(directory, str(text), names)
        return run(self, query, parameters, **kwparameters)
    return recording_run


def _record(directory: Path, text: str, names: tuple[str, ...]) -> None:
    with _lock:
        if (text, names) in _seen:
            return
        _seen.add((text, names))
        line = json.dumps({"query": text, "parameters": list(names)}, ensure_ascii=False) + "\n"
        # One write() per line on an O_APPEND file keeps lines whole across threads.
        fd = os.open(directory / f"queries-{os.getpid()}.jsonl",
                     os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)
