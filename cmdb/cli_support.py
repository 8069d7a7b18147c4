"""What every ``cmdb`` command shares: opening the graph, printing JSON or tables, errors.

Exit status: 0 on success, 1 on invalid input or a refused operation (with the reason),
2 on usage errors (Typer's own).
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import json
import logging
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cmdb.errors import (
    CMDBError, DiskFull, EngineOutOfMemory, EngineUnavailable, InvalidInput, RegisterLocked,
)
from cmdb.i18n import ENGLISH, _, N_, from_locale, pgettext
from cmdb.settings import REGISTER_FOLDER, REGISTER_MARKER, Settings, get_settings

# Each command imports the modules it needs when it runs, so that every `cmdb` command (and
# --help) starts without loading pandas, FastAPI and every domain (start-up time).

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

JSON_OPTION = typer.Option(False, "--json", help=N_("Print one JSON document on stdout."))


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@contextlib.contextmanager
def open_graph() -> Iterator["Graph"]:  # noqa: F821 - imported lazily: starting the JVM is slow
    from cmdb.graph import Graph
    from cmdb.graph.engine import engine_running, stop_on_signals

    settings = get_settings()
    announce_register(settings)
    log_to_register(settings)
    if settings.embedded and settings.engine_idle_seconds > 0 and not engine_running(settings):
        err_console.print(_("starting the engine (a few seconds); it stays up for the next "
                            "commands until %(n)s minute(s) pass without one",
                            n=settings.engine_idle_seconds // 60 or 1), markup=False, highlight=False)
    graph = Graph.connect(settings, background=True)
    stop_on_signals()
    try:
        yield graph
    finally:
        graph.close()


def log_to_register(settings: Settings) -> None:
    """What the driver and the graph layer log (a dropped connection, a retried transaction)
    goes to ``log/cmdb-cli.log`` of the register, not to the terminal: the command's own
    sentence says what happened."""
    root = logging.getLogger()
    if any(getattr(h, "cmdb_cli", False) for h in root.handlers):
        return
    handler: logging.Handler = logging.NullHandler()
    if settings.embedded:
        with contextlib.suppress(OSError):
            log_dir = settings.register_dir / "log"
            log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            handler = logging.FileHandler(log_dir / CLI_LOG, encoding="utf-8", delay=True)
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.cmdb_cli = True  # type: ignore[attr-defined]
    root.addHandler(handler)


def announce_register(settings: Settings) -> None:
    """Say on stderr which register a command uses when it is not the obvious one.

    Obvious: ``./data`` of the current folder, or the folder ``CMDB_DATA_DIR`` names. A register
    found further up, the per-user default, or a new empty one are always named.
    """
    if not settings.embedded:
        return
    data_dir = settings.register_dir
    if not (data_dir / REGISTER_MARKER).is_file():
        err_console.print(_("note: no register in %(folder)s yet; starting a new, empty one",
                            folder=data_dir),
                          markup=False, highlight=False, soft_wrap=True)
    elif "data_dir" not in settings.model_fields_set and \
            data_dir != (Path.cwd() / REGISTER_FOLDER).resolve():
        err_console.print(_("register: %(folder)s", folder=data_dir), markup=False, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def emit(as_json: bool, data: Any, text: str) -> None:
    """A command's outcome: ``data`` as JSON with ``--json``, else ``text`` for people."""
    if as_json:
        print_json(data)
    else:
        console.print(text, markup=False)


# Columns holding keys (asset tags): never cut, never wrapped (in every language).
KEY_COLUMNS = frozenset({"key", "key / tag", "application", "device", "image", "id"})


def key_headings() -> frozenset[str]:
    return KEY_COLUMNS | {pgettext("heading", h) for h in KEY_COLUMNS}


def cli_language(settings: Settings | None = None) -> str:
    """A command's language: ``CMDB_LANGUAGE``, else the locale's (``LANG=zh_CN.UTF-8``),
    else English."""
    settings = settings or get_settings()
    return settings.language or from_locale() or ENGLISH


def print_table(table: Table) -> None:
    """A table for people on a terminal; tab-separated lines, nothing cut, when piped.

    On a terminal, key columns keep their whole width and other columns wrap.
    """
    if not console.is_terminal:
        lines = [str(table.title)] if table.title else []
        columns = [[_plain(cell) for cell in column.cells] for column in table.columns]
        if table.show_header:
            lines.append("\t".join(_plain(column.header) for column in table.columns))
        lines += ["\t".join(row) for row in zip(*columns)]
        sys.stdout.write("".join(line + "\n" for line in lines))
        sys.stdout.flush()
        return
    keys = key_headings()
    for column in table.columns:
        if _plain(column.header) in keys:
            column.no_wrap = True
            column.min_width = max([cell_len(_plain(c)) for c in column.cells] +
                                   [cell_len(_plain(column.header))])
        else:
            column.overflow = "fold"
    console.print(table)


def _plain(cell: Any) -> str:
    if isinstance(cell, Text):
        return cell.plain
    return "" if cell is None else str(cell).replace("\t", " ").replace("\n", " ")


def reports_errors(command: Callable) -> Callable:
    """Turn domain errors, and the engine's faults (disk, memory, gone, locked: see
    ``cmdb.graph.faults``), into one sentence (or a JSON error document) and exit status 1.
    A fault's traceback goes to the register's log folder, not to the terminal."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except Exception as exc:
            if not isinstance(exc, (CMDBError, *_driver_errors())):
                raise
            error = exc if isinstance(exc, CMDBError) else _recognised(exc)
            if isinstance(error, FAULTS):
                _log_fault(exc)
            if kwargs.get("as_json"):
                print_json({"error": error.as_dict()})
            err_console.print(_("error: %(message)s", message=error.message), style="red",
                              markup=False,
                              highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
    return wrapper


FAULTS = (DiskFull, EngineOutOfMemory, EngineUnavailable, RegisterLocked)
CLI_LOG = "cmdb-cli.log"


def _driver_errors() -> tuple[type[Exception], ...]:
    """The driver's exception classes, once a command has loaded the driver (the driver and
    the graph layer are imported only by commands that use the engine: ``--help`` stays fast)."""
    exceptions = sys.modules.get("neo4j.exceptions")
    return (exceptions.Neo4jError, exceptions.DriverError) if exceptions else ()


def _engine_facts() -> "EngineFacts":  # noqa: F821
    from cmdb.graph.faults import EngineFacts

    settings = get_settings()
    if not settings.embedded:
        return EngineFacts(f"Neo4j at {settings.neo4j_uri}")
    return EngineFacts(f"embedded engine in {settings.register_dir}", settings.register_dir,
                       settings.engine_heap)


def _recognised(exc: Exception) -> CMDBError:
    """A driver error that escaped the graph layer's own handling."""
    from cmdb.graph.faults import classify, logs_hint

    engine = _engine_facts()
    return classify(exc, engine) or EngineUnavailable(
        _("The graph engine failed (%(error)s); nothing was changed — %(logs)s.",
          error=type(exc).__name__, logs=logs_hint(engine)))


def _log_fault(exc: BaseException) -> None:
    """The details of a fault, for whoever looks into it (the disk may be full: best effort)."""
    log_dir = _engine_facts().log_dir
    if log_dir is None:
        return
    with contextlib.suppress(OSError):
        with open(log_dir / CLI_LOG, "a", encoding="utf-8") as f:
            f.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} cmdb {' '.join(sys.argv[1:])}\n")
            f.write("".join(traceback.format_exception(exc)))


def parse_assignments(pairs: list[str]) -> dict[str, Any]:
    """``["ram_gb=8", "name=Web 1"]`` -> ``{"ram_gb": "8", "name": "Web 1"}``; ``x=`` removes x."""

    values: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise InvalidInput(_("Expected NAME=VALUE, got %(value)s", value=repr(pair)),
                               field="--set", value=pair)
        name, value = pair.split("=", 1)
        name = name.strip()
        if not name:
            raise InvalidInput(_("Expected NAME=VALUE, got %(value)s", value=repr(pair)),
                               field="--set", value=pair)
        values[name] = value if value != "" else None
    return values
