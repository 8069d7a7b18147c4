"""``cmdb serve``: the embedded engine as a supervised process of its own and N API worker
processes reaching it over Bolt (as they reach Neo4j in production), stopped cleanly on
SIGTERM/Ctrl-C.

The workers are uvicorn's: they share one listening socket, so the kernel spreads connections
over them, and a worker that dies is replaced. The engine is restarted by ``EngineSupervisor``
whenever it exits on its own; meanwhile the workers answer 503 with ``Retry-After``.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import logging.config
import os
import signal
import socket

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from cmdb.api_workers import WorkerPerSocket, listening_sockets
from cmdb.cli_support import announce_register, console
from cmdb.errors import Conflict
from cmdb.i18n import _
from cmdb.graph import Graph
from cmdb.graph.engine import live_publication, write_private
from cmdb.graph.engine_supervisor import EngineSupervisor
from cmdb.graph.tokens import create_token, free_token_name, has_admin_token
from cmdb.settings import Settings, get_settings

# Where a running ``cmdb serve`` publishes its address, beside the engine's own engine.json.
SERVER_FILE = "server.json"
WORKER_APP = "cmdb.api.app:worker_app"
LISTEN_BACKLOG = 2048  # uvicorn's own default


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))


def run_server(host: str | None = None, port: int | None = None, workers: int | None = None) -> None:
    settings = get_settings()
    host = host or settings.host
    port = settings.port if port is None else port
    workers = workers or settings.workers or default_workers()
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    refuse_second_server(settings)
    sockets = listen(host, port, workers)
    port = sockets[0].getsockname()[1]
    announce_register(settings)
    _configure_logging()
    # Until the workers' supervisor takes over the signals: stop the engine and exit cleanly.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
    engine = EngineSupervisor(settings, os.getpid()) if settings.embedded else None
    try:
        if engine is not None:
            engine.start()
        with Graph.connect(settings) as graph:
            _first_admin_token(graph)
            description = graph.description
        address = f"http://{shown_host}:{port}"
        console.print(_("CMDB on %(engine)s, %(workers)s API worker(s)\n"
                        "  pages:    %(address)s/   (sign in with a token)\n"
                        "  API docs: %(address)s/docs\n"
                        "  QR labels point at %(base_url)s/s/<key> (set CMDB_BASE_URL to the "
                        "address phones reach)", engine=description, workers=workers,
                        address=address, base_url=settings.base_url),
                      markup=False, highlight=False)
        config = uvicorn.Config(WORKER_APP, factory=True, host=host, port=port, workers=workers,
                                log_config=_log_config(), access_log=False, proxy_headers=True,
                                timeout_graceful_shutdown=10,
                                # a worker still starting on a busy machine is not "hung"
                                timeout_worker_healthcheck=30)
        with published_server(settings, address):
            console.print(_("Listening on %(host)s:%(port)s (Ctrl-C stops)", host=host, port=port),
                          markup=False,
                          highlight=False)
            # handles SIGTERM/SIGINT itself: stops the workers, then returns
            WorkerPerSocket(config, sockets=sockets).run()
    finally:
        if engine is not None:
            engine.stop()
        for sock in sockets:
            sock.close()


def _first_admin_token(graph: Graph) -> None:
    if has_admin_token(graph):
        return
    name = free_token_name(graph, "admin")
    token = create_token(graph, name, "admin", created_by="cmdb serve")
    console.print(_("An admin token named %(name)r was created (there was no active admin "
                    "token). Store it now; it is not shown again:\n"
                    "  %(token)s\n"
                    "Create more with `cmdb token create --name NAME --role ROLE`.",
                    name=name, token=token),
                  markup=False, highlight=False)


def _log_config() -> dict:
    """uvicorn's logging, plus the workers' access log and the graph layer's warnings."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["plain"] = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    config["formatters"]["access_line"] = {"format": "%(asctime)s access %(message)s"}
    config["handlers"]["plain"] = {"formatter": "plain", "class": "logging.StreamHandler",
                                   "stream": "ext://sys.stderr"}
    config["handlers"]["access_line"] = {"formatter": "access_line",
                                         "class": "logging.StreamHandler",
                                         "stream": "ext://sys.stdout"}
    config["loggers"]["cmdb"] = {"handlers": ["plain"], "level": "WARNING", "propagate": False}
    config["loggers"]["cmdb.access"] = {"handlers": ["access_line"], "level": "INFO",
                                        "propagate": False}
    return config


def _configure_logging() -> None:
    """The supervisor's own messages (engine restarts) go where the workers' logs go."""
    logging.config.dictConfig(_log_config())


def refuse_second_server(settings: Settings) -> None:
    """Before printing anything: is this register already served?"""
    running = serving_register(settings)
    if running:
        raise Conflict(_("A CMDB is already serving this register at %(url)s (process %(pid)s); "
                         "use that one, or stop it first", url=running["url"], pid=running["pid"]),
                       {"url": running["url"], "pid": running["pid"]})


def listen(host: str, port: int, workers: int) -> list[socket.socket]:
    """The workers' listening sockets, opened before the engine starts: a port in use is said
    before anything else happens, and the engine cannot pick the same port for itself."""
    try:
        return listening_sockets(host, port, workers, LISTEN_BACKLOG)
    except OSError as exc:
        raise Conflict(_("Cannot listen on %(host)s:%(port)s: %(reason)s; another program uses "
                         "that port. Choose another with --port or CMDB_PORT", host=host,
                         port=port, reason=exc.strerror or exc),
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
