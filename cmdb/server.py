"""``cmdb serve``: the engine and the API in one process, stopped cleanly on SIGTERM/Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket

import uvicorn

from cmdb.api.app import create_app
from cmdb.cli_support import announce_register, console
from cmdb.errors import Conflict
from cmdb.graph import Graph
from cmdb.graph.engine import live_publication, write_private
from cmdb.graph.tokens import create_token, free_token_name, has_admin_token
from cmdb.settings import Settings, get_settings

# Where a running ``cmdb serve`` publishes its address, beside the engine's own engine.json.
SERVER_FILE = "server.json"


def run_server(host: str | None = None, port: int | None = None) -> None:

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    refuse_second_server(settings, host, port)
    announce_register(settings)
    graph = Graph.connect(settings)
    # Installed after the engine's JVM started, so these Python handlers replace the JVM's own
    # (a JVM SIGTERM handler inside this process crashes it). uvicorn swaps in its handlers
    # while serving and, after its graceful shutdown, re-raises the signal it caught: it lands
    # here and ends the process with status 0 once the lifespan has stopped the engine.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
    try:
        if not has_admin_token(graph):
            name = free_token_name(graph, "admin")
            token = create_token(graph, name, "admin", created_by="cmdb serve")
            console.print(f"An admin token named {name!r} was created (there was no active admin "
                          "token). Store it now; it is not shown again:\n"
                          f"  {token}\n"
                          "Create more with `cmdb token create --name NAME --role ROLE`.",
                          markup=False, highlight=False)
    finally:
        graph.close()
    console.print(f"CMDB on {graph.description}\n"
                  f"  pages:    http://{shown_host}:{port}/   (sign in with a token)\n"
                  f"  API docs: http://{shown_host}:{port}/docs\n"
                  f"  QR labels point at {settings.base_url}/s/<key> (set CMDB_BASE_URL to the address "
                  f"phones reach)", markup=False, highlight=False)
    # The app's lifespan stops the embedded engine when uvicorn shuts down (SIGTERM or Ctrl-C).
    with published_server(settings, f"http://{shown_host}:{port}"):
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info",
                    proxy_headers=True, timeout_graceful_shutdown=10)


def refuse_second_server(settings: Settings, host: str, port: int) -> None:
    """Before printing anything: is this register already served, or the port taken?"""
    running = serving_register(settings)
    if running:
        raise Conflict(f"A CMDB is already serving this register at {running['url']} "
                       f"(process {running['pid']}); use that one, or stop it first",
                       {"url": running["url"], "pid": running["pid"]})
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise Conflict(f"Cannot listen on {host}:{port}: {exc.strerror or exc}; another "
                           "program uses that port. Choose another with --port or CMDB_PORT",
                           {"host": host, "port": port}) from None


def serving_register(settings: Settings) -> dict | None:
    """The address of the ``cmdb serve`` running on this (embedded) register, if one is."""
    if not settings.embedded:
        return None
    published = live_publication(settings.register_dir / SERVER_FILE, "url")
    return {"pid": published["pid"], "url": published["url"]} if published else None


@contextlib.contextmanager
def published_server(settings: Settings, url: str):
    path = settings.register_dir / SERVER_FILE if settings.embedded else None
    if path is not None:
        write_private(path, json.dumps({"pid": os.getpid(), "url": url}))
    try:
        yield
    finally:
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink()


def _exit_cleanly(signum, _frame) -> None:
    raise SystemExit(0)
