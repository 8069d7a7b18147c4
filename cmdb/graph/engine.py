"""Reaching the graph engine: Neo4j when ``CMDB_NEO4J_URI`` is set, else the embedded engine.

The embedded engine is an ArcadeDB server (from the ``arcadedb-embedded`` wheel, with its own
JRE) hosted in this process, speaking Bolt on loopback. A database directory can be opened by
one process at a time, so the process that starts the engine publishes its Bolt address in
``engine.json`` in the data directory; another ``cmdb`` process finds it there and connects to
the running engine instead of failing on the lock.
"""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import fcntl
import json
import logging
import os
import secrets
import signal
import socket
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError, ServiceUnavailable

from cmdb.errors import EngineUnavailable
from cmdb.graph import query_recording
from cmdb.settings import Settings

log = logging.getLogger(__name__)

ENGINE_FILE = "engine.json"
PASSWORD_FILE = "root_password"
LOCK_FILE = "engine.lock"
DATABASES_DIR = "databases"
LOG_DIR = "log"


@dataclass(frozen=True)
class Endpoint:
    uri: str
    user: str
    password: str
    database: str
    description: str


# ---------------------------------------------------------------------------------------
# Embedded engine


class EmbeddedServer:
    """One ArcadeDB server hosted in this process for one data directory."""

    _running: dict[Path, "EmbeddedServer"] = {}
    _guard = threading.Lock()

    def __init__(self, data_dir: Path, password: str, database: str, heap: str):
        self.data_dir = data_dir
        self.password = password
        self.database = database
        self.heap = heap
        self.bolt_port = 0
        self._server = None

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    def start(self) -> None:
        log_dir = self.data_dir / LOG_DIR
        log_dir.mkdir(mode=0o700, exist_ok=True)
        _start_jvm(log_dir, self.heap)
        import arcadedb_embedded as adb

        self.bolt_port, http_port = _free_port(), _free_port()
        previous_cwd = os.getcwd()
        # The engine writes its application log under ./log of the working directory.
        os.chdir(self.data_dir)
        try:
            self._server = adb.create_server(
                str(self.data_dir / DATABASES_DIR), self.password,
                config={"server_plugins": "Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
                        "bolt_port": self.bolt_port, "http_port": http_port,
                        "host": "127.0.0.1"})
            self._server.start()
            self._server.create_database(self.database)
        finally:
            os.chdir(previous_cwd)
        _write_private(self.data_dir / ENGINE_FILE, json.dumps({
            "pid": os.getpid(), "bolt_uri": self.uri, "database": self.database,
            "started_at": time.time()}))
        EmbeddedServer._running[self.data_dir] = self
        atexit.register(self.stop)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        EmbeddedServer._running.pop(self.data_dir, None)
        # Open Bolt sessions keep engine threads alive, and the JVM would wait for them at exit.
        for driver, uri in list(_open_drivers.items()):
            if uri == self.uri:
                with contextlib.suppress(Exception):
                    driver.close()
        with contextlib.suppress(Exception):
            published = json.loads((self.data_dir / ENGINE_FILE).read_text())
            if published.get("pid") == os.getpid():
                (self.data_dir / ENGINE_FILE).unlink()
        try:
            server.stop()
        except Exception:  # the engine is going away either way; say so in the log
            log.exception("stopping the embedded engine")

    @classmethod
    def running_in_this_process(cls, data_dir: Path) -> "EmbeddedServer | None":
        return cls._running.get(data_dir)

    @classmethod
    def stop_all(cls) -> None:
        for server in list(cls._running.values()):
            server.stop()


_jvm_started = False


def _start_jvm(log_dir: Path, heap: str) -> None:
    global _jvm_started
    if _jvm_started:
        return
    logging_config = log_dir / "logging.properties"
    pattern = str(log_dir / "engine.%g.log").replace("%", "%%").replace("%%g", "%g")
    logging_config.write_text(
        "handlers = java.util.logging.FileHandler\n"
        ".level = INFO\n"
        f"java.util.logging.FileHandler.pattern = {pattern}\n"
        "java.util.logging.FileHandler.limit = 10000000\n"
        "java.util.logging.FileHandler.count = 3\n"
        "java.util.logging.FileHandler.formatter = java.util.logging.SimpleFormatter\n")
    os.environ.setdefault("ARCADEDB_JVM_ERROR_FILE", str(log_dir / "hs_err_pid%p.log"))
    # The JVM owns SIGSEGV: it faults on purpose (safepoint polls, null checks) and handles it.
    # Python's fault handler, if on, would put its saved handler back when it is switched off
    # (pytest does so at exit) and the next deliberate fault would kill the process.
    faulthandler.disable()
    from arcadedb_embedded.jvm import start_jvm

    start_jvm(heap_size=heap, jvm_args=[f"-Djava.util.logging.config.file={logging_config}"])
    _jvm_started = True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def _root_password(data_dir: Path) -> str:
    path = data_dir / PASSWORD_FILE
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(24))
    return path.read_text().strip()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _port_open(uri: str) -> bool:
    host_port = uri.split("://", 1)[1]
    host, port = host_port.rsplit(":", 1)
    with contextlib.suppress(OSError), socket.create_connection((host, int(port)), timeout=1):
        return True
    return False


def _published_engine(data_dir: Path) -> dict | None:
    try:
        published = json.loads((data_dir / ENGINE_FILE).read_text())
    except (OSError, ValueError):
        return None
    if published.get("pid") == os.getpid():
        return None
    if _pid_alive(int(published.get("pid", 0))) and _port_open(published.get("bolt_uri", "")):
        return published
    return None


def embedded_endpoint(settings: Settings, *, start: bool = True) -> Endpoint:
    """The Bolt endpoint of the embedded engine for ``settings.data_dir``.

    Uses the engine this process already hosts, else one another process published, else
    starts one here (stopped again at exit).
    """
    data_dir = settings.data_dir.expanduser().resolve()
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise EngineUnavailable(f"Cannot create the data directory {data_dir}: {exc}") from exc
    password = _root_password(data_dir)
    description = f"embedded engine in {data_dir}"
    with EmbeddedServer._guard, _file_lock(data_dir / LOCK_FILE):
        server = EmbeddedServer.running_in_this_process(data_dir)
        if server is None:
            published = _published_engine(data_dir)
            if published:
                return Endpoint(published["bolt_uri"], "root", password,
                                published.get("database", settings.database), description)
            if not start:
                raise EngineUnavailable(f"No engine is running for {data_dir}")
            server = EmbeddedServer(data_dir, password, settings.database, settings.engine_heap)
            try:
                server.start()
            except Exception as exc:
                raise EngineUnavailable(
                    f"Could not start the embedded engine in {data_dir}: {exc}",
                    {"data_dir": str(data_dir)}) from exc
        return Endpoint(server.uri, "root", password, server.database, description)


@contextlib.contextmanager
def _file_lock(path: Path):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def stop_on_signals() -> None:
    """Stop the embedded engine cleanly on SIGTERM/SIGINT before the process exits.

    A plain SIGTERM would crash the JVM hosted in this process, and the JVM's own SIGINT
    handling bypasses Python; turning each into SystemExit lets ``atexit`` stop the engine first.
    Called after the engine has started, so these handlers replace the JVM's.
    """
    def _exit(signum, _frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _exit)


# ---------------------------------------------------------------------------------------
# Both engines

_open_drivers: "weakref.WeakKeyDictionary[Driver, str]" = weakref.WeakKeyDictionary()


def endpoint_for(settings: Settings) -> Endpoint:
    if settings.embedded:
        return embedded_endpoint(settings)
    return Endpoint(settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password or "",
                    settings.database, f"Neo4j at {settings.neo4j_uri}")


def open_driver(endpoint: Endpoint) -> Driver:
    query_recording.install_if_requested()
    try:
        driver = GraphDatabase.driver(endpoint.uri, auth=(endpoint.user, endpoint.password),
                                      max_connection_pool_size=64,
                                      connection_acquisition_timeout=30,
                                      connection_timeout=10)
        driver.verify_connectivity()
        _open_drivers[driver] = endpoint.uri
    except AuthError as exc:
        raise EngineUnavailable(f"The graph engine at {endpoint.uri} refused the credentials: "
                                f"{exc.message}", {"uri": endpoint.uri}) from exc
    except (ServiceUnavailable, OSError, ValueError) as exc:
        raise EngineUnavailable(f"Cannot reach the graph engine at {endpoint.uri}: {exc}",
                                {"uri": endpoint.uri}) from exc
    return driver
