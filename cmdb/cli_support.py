"""What every ``cmdb`` command shares: opening the graph, printing JSON or tables, errors.

Exit status: 0 on success, 1 on invalid input or a refused operation (with the reason),
2 on usage errors (Typer's own).
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import json
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cmdb.errors import CMDBError, InvalidInput
from cmdb.i18n import ENGLISH, _, from_locale, pgettext
from cmdb.settings import REGISTER_FOLDER, REGISTER_MARKER, Settings, get_settings

# Each command imports the modules it needs when it runs, so that every `cmdb` command (and
# --help) starts without loading pandas, FastAPI and every domain (start-up time).

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document on stdout.")


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
    """Turn domain errors into a message (or a JSON error document) and exit status 1."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except CMDBError as exc:
            if kwargs.get("as_json"):
                print_json({"error": exc.as_dict()})
            err_console.print(_("error: %(message)s", message=exc.message), style="red", markup=False,
                              highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
    return wrapper


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
