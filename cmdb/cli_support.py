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
from typing import Any, Callable, Iterator

import typer
from rich.console import Console

from cmdb.errors import CMDBError
from cmdb.settings import get_settings

console = Console()
err_console = Console(stderr=True)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document on stdout.")


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@contextlib.contextmanager
def open_graph() -> Iterator["Graph"]:  # noqa: F821 - imported lazily: starting the JVM is slow
    from cmdb.graph import Graph
    from cmdb.graph.engine import stop_on_signals

    graph = Graph.connect(get_settings())
    stop_on_signals()
    try:
        yield graph
    finally:
        graph.close()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def emit(as_json: bool, data: Any, text: str) -> None:
    """A command's outcome: ``data`` as JSON with ``--json``, else ``text`` for people."""
    if as_json:
        print_json(data)
    else:
        console.print(text, markup=False)


def reports_errors(command: Callable) -> Callable:
    """Turn domain errors into a message (or a JSON error document) and exit status 1."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except CMDBError as exc:
            if kwargs.get("as_json"):
                print_json({"error": exc.as_dict()})
            err_console.print(f"error: {exc.message}", style="red", markup=False,
                              highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
    return wrapper


def parse_assignments(pairs: list[str]) -> dict[str, Any]:
    """``["ram_gb=8", "name=Web 1"]`` -> ``{"ram_gb": "8", "name": "Web 1"}``; ``x=`` removes x."""
    from cmdb.errors import InvalidInput

    values: dict[str, Any] = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise InvalidInput(f"Expected NAME=VALUE, got {pair!r}", field="--set", value=pair)
        name, value = pair.split("=", 1)
        name = name.strip()
        if not name:
            raise InvalidInput(f"Expected NAME=VALUE, got {pair!r}", field="--set", value=pair)
        values[name] = value if value != "" else None
    return values
