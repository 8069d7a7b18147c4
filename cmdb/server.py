"""``cmdb serve``: the engine and the API in one process, stopped cleanly on SIGTERM/Ctrl-C."""

from __future__ import annotations

import signal

import uvicorn

from cmdb.cli_support import console
from cmdb.graph import Graph
from cmdb.graph.tokens import create_token, free_token_name, has_admin_token
from cmdb.settings import get_settings


def run_server(host: str | None = None, port: int | None = None) -> None:
    from cmdb.api.app import create_app

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
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
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    console.print(f"CMDB on {graph.description}\n"
                  f"  pages:    http://{shown_host}:{port}/   (sign in with a token)\n"
                  f"  API docs: http://{shown_host}:{port}/docs\n"
                  f"  QR labels point at {settings.base_url}/s/<key> (set CMDB_BASE_URL to the address "
                  f"phones reach)", markup=False, highlight=False)
    # The app's lifespan stops the embedded engine when uvicorn shuts down (SIGTERM or Ctrl-C).
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info",
                proxy_headers=True, timeout_graceful_shutdown=10)


def _exit_cleanly(signum, _frame) -> None:
    raise SystemExit(0)
