"""Run a parser of untrusted bytes in a child process with bounded memory and time.

A spreadsheet reader can abort the whole process on a hostile file (python-calamine densifies a
sheet to its bounding box and a failed Rust allocation aborts, exit 134, no Python exception).
Here it aborts a child forked from a small, single-threaded fork server (no engine, no JVM, no
event loop in it), whose address space is capped with ``RLIMIT_AS``; the caller gets a
:class:`ParseLimitExceeded` naming the file and the limit, and keeps serving.
"""

from __future__ import annotations

import multiprocessing
import resource
import threading
import time
from multiprocessing.connection import Connection
from typing import Any, Callable

from cmdb.errors import CMDBError, InvalidInput, TooLarge
from cmdb.i18n import _, current_language, use_language

_context_lock = threading.Lock()
_context: Any = None


class ParseLimitExceeded(TooLarge):
    """Reading a file needed more memory or time than allowed, or the reader crashed."""

    code = "parse_limit"


def _fork_context():
    global _context
    with _context_lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            # The fork server imports the readers (and, as multiprocessing does, the main module)
            # once; each file then costs a fork (~30 ms).
            ctx.set_forkserver_preload(["__main__", "importers.readers"])
            _context = ctx
        return _context


def _child(conn: Connection, memory_bytes: int, func: Callable[..., Any], args: tuple,
           language: str = "en") -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        with use_language(language):  # the child speaks the caller's language
            result = func(*args)
    except CMDBError as exc:
        conn.send(("error", type(exc), exc.message, exc.details))
    except MemoryError:
        conn.send(("memory", None, None, None))
    except BaseException as exc:  # noqa: BLE001 — anything else is reported, not raised
        conn.send(("crash", None, f"{type(exc).__name__}: {exc}", None))
    else:
        conn.send(("ok", result, None, None))
    finally:
        conn.close()


def _rebuild(cls: type[CMDBError], message: str, details: Any) -> CMDBError:
    """The child's domain error, raised again here (their constructors differ, so not pickled)."""
    exc = cls.__new__(cls)
    CMDBError.__init__(exc, message, details)
    if isinstance(exc, InvalidInput):
        info = details if isinstance(details, dict) else {}
        exc.field, exc.value, exc.allowed = info.get("field"), info.get("value"), info.get("allowed")
    return exc


def run_isolated(func: Callable[..., Any], args: tuple, *, name: str, memory_mb: int,
                 seconds: float) -> Any:
    """``func(*args)`` in a child process; its result, or its domain error raised here.

    ``func`` and its arguments and result must pickle (``func`` importable by module path).
    """
    ctx = _fork_context()
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(sender, memory_mb * 1024 * 1024, func, args,
                                                 current_language()),
                          daemon=True, name=f"parse {name}")
    process.start()
    sender.close()
    deadline = time.monotonic() + seconds
    outcome, timed_out = None, False
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            # A child that dies closes its end: poll() turns true and recv() raises EOFError.
            if receiver.poll(min(remaining, 0.5)):
                try:
                    outcome = receiver.recv()
                except (EOFError, OSError):
                    pass
                break
    finally:
        receiver.close()
        if process.is_alive() and outcome is None:
            process.kill()
        process.join(5)
    limits = {"field": "file", "value": name, "memory_limit_mb": memory_mb,
              "time_limit_seconds": seconds}
    if timed_out:
        raise ParseLimitExceeded(
            _("Reading %(name)s took longer than the limit of %(seconds)s seconds "
              "(CMDB_MAX_PARSE_SECONDS); nothing was imported. Split the file or save it "
              "again from Excel after deleting empty rows and columns.",
              name=name, seconds=f"{seconds:g}"), limits)
    if outcome is None:
        raise ParseLimitExceeded(
            _("Reading %(name)s needed more than the limit of %(memory)s MB of memory "
              "(CMDB_MAX_PARSE_MEMORY_MB) and the reader stopped (exit status "
              "%(status)s); nothing was imported. The file may hold cells far apart "
              "(a huge used area): save it again from Excel after deleting empty rows and "
              "columns, or split it.", name=name, memory=f"{memory_mb:,}",
              status=process.exitcode), limits)
    status, value, message, details = outcome
    if status == "ok":
        return value
    if status == "error":
        raise _rebuild(value, message, details)
    if status == "memory":
        raise ParseLimitExceeded(
            _("Reading %(name)s needed more than the limit of %(memory)s MB of memory "
              "(CMDB_MAX_PARSE_MEMORY_MB); nothing was imported. Split the file or delete "
              "empty rows and columns.", name=name, memory=f"{memory_mb:,}"), limits)
    raise InvalidInput(_("%(name)s cannot be read: it may be damaged (%(reason)s)", name=name,
                         reason=_short(message)),
                       field="file", value=name)


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "…"
