"""Reaching the graph engine: Neo4j when ``CMDB_NEO4J_URI`` is set, else the embedded engine.

The embedded engine is an ArcadeDB server (from the ``arcadedb-embedded`` wheel, with its own
JRE) speaking Bolt on loopback. A database directory can be opened by one process at a time, so
the process that starts the engine publishes its Bolt address in ``engine.json`` in the data
directory; another ``cmdb`` process finds it there and connects to the running engine instead
of failing on the lock.

Short commands do not pay the engine's start-up each time: the first one starts it in a
background process of its own (``cmdb.graph.engine_host``), which the next commands reuse and
which stops by itself once no process has used it for ``engine_idle_seconds``. Processes using a
background engine hold a shared lock on ``engine.clients``; the host stops only when it can take
that lock exclusively, so it never stops under a user.
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
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError, ServiceUnavailable

from cmdb.errors import EngineUnavailable
from cmdb.graph import faults, query_recording
from cmdb.settings import REGISTER_MARKER, Settings
from cmdb.i18n import _

log = logging.getLogger(__name__)

ENGINE_FILE = "engine.json"
PASSWORD_FILE = REGISTER_MARKER
LOCK_FILE = "engine.lock"
CLIENTS_FILE = "engine.clients"
HOST_LOG = "engine-host.log"
ENGINE_STDERR_LOG = "engine-stderr.log"
HOST_START_TIMEOUT = 180
DATABASES_DIR = "databases"
LOG_DIR = "log"


@dataclass(frozen=True)
class Endpoint:
    uri: str
    user: str
    password: str
    database: str
    description: str
    data_dir: Path | None = None   # the embedded engine's register; None for Neo4j
    heap: str | None = None        # the embedded engine's heap, as it was started


# ---------------------------------------------------------------------------------------
# Embedded engine


class EmbeddedServer:
    """One ArcadeDB server hosted in this process for one data directory."""

    _running: dict[Path, "EmbeddedServer"] = {}
    _guard = threading.Lock()

    def __init__(self, data_dir: Path, password: str, database: str, heap: str, *,
                 background: bool = False, bolt_port: int = 0, supervisor: int | None = None):
        self.data_dir = data_dir
        self.background = background
        self.password = password
        self.database = database
        self.heap = heap
        self.bolt_port = bolt_port
        # The pid of the ``cmdb serve`` that restarts this engine when it dies; published so
        # that clients wait for the restart instead of starting an engine of their own.
        self.supervisor = supervisor
        self._server = None

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    def start(self) -> None:
        log_dir = self.data_dir / LOG_DIR
        log_dir.mkdir(mode=0o700, exist_ok=True)
        # In a process of its own, an engine that ran out of memory exits rather than carrying
        # on half-working: `cmdb serve` restarts it, or the next command starts a fresh one.
        own_process = self.background or self.supervisor is not None
        _start_jvm(log_dir, self.heap, ["-XX:+ExitOnOutOfMemoryError"] if own_process else [])
        import arcadedb_embedded as adb

        self.bolt_port = self.bolt_port or _free_port()
        http_port = _free_port(taken=self.bolt_port)
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
        write_private(self.data_dir / ENGINE_FILE, json.dumps({
            "pid": os.getpid(), "bolt_uri": self.uri, "database": self.database,
            "started_at": time.time(), "background": self.background, "heap": self.heap,
            "supervisor": self.supervisor}))
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


def _start_jvm(log_dir: Path, heap: str, extra_args: list[str]) -> None:
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

    # The JVM prints "WARNING: Using incubator modules" on stderr as it starts (the engine needs
    # that module); what it says while starting goes to the engine's log folder instead.
    with _stderr_to(log_dir / "jvm-start.log"):
        start_jvm(heap_size=heap,
                  jvm_args=[f"-Djava.util.logging.config.file={logging_config}", *extra_args])
    _jvm_started = True
    _java_stderr_to(log_dir / ENGINE_STDERR_LOG)


def _java_stderr_to(path: Path) -> None:
    """What the engine prints on its standard error (a thread's uncaught OutOfMemoryError, a
    log handler that found the disk full) goes to its log folder, not to the user's terminal."""
    import jpype

    stream = jpype.JClass("java.io.PrintStream")(
        jpype.JClass("java.io.FileOutputStream")(str(path), True), True)
    jpype.JClass("java.lang.System").setErr(stream)


@contextlib.contextmanager
def _stderr_to(path: Path):
    sys.stderr.flush()
    saved = os.dup(2)
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(target, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(target)


def _free_port(taken: int = 0) -> int:
    """A free loopback port other than ``taken`` (a port chosen earlier, not yet bound)."""
    with contextlib.ExitStack() as held:
        while True:
            probe = held.enter_context(socket.socket())
            probe.bind(("127.0.0.1", 0))
            if probe.getsockname()[1] != taken:
                return probe.getsockname()[1]


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def _root_password(data_dir: Path) -> str:
    path = data_dir / PASSWORD_FILE
    if not path.exists():
        write_private(path, secrets.token_urlsafe(24))
    return path.read_text().strip()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def port_open(uri: str) -> bool:
    """Whether something listens at ``scheme://host:port`` (False for anything unparsable)."""
    host, _, port = uri.partition("://")[2].rpartition(":")
    if not host or not port.isdigit():
        return False
    with contextlib.suppress(OSError, OverflowError), \
            socket.create_connection((host, int(port)), timeout=1):
        return True
    return False


def _published_engine(data_dir: Path) -> dict | None:
    return live_publication(data_dir / ENGINE_FILE, "bolt_uri")


def live_publication(path: Path, address: str) -> dict | None:
    """What another, still running process published in ``path`` (its pid and the address
    under ``address``), or None when nothing is there or the process or address is gone."""
    try:
        published = json.loads(path.read_text())
        pid, uri = int(published["pid"]), str(published[address])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if pid != os.getpid() and pid_alive(pid) and port_open(uri):
        return published
    return None


def embedded_endpoint(settings: Settings, *, start: bool = True,
                      background: bool = False) -> Endpoint:
    """The Bolt endpoint of the embedded engine for ``settings.data_dir``.

    Uses the engine this process already hosts, else one another process published, else
    starts one: in a background process of its own when ``background`` (and the settings keep
    one for a while), otherwise here, stopped again at exit.
    """
    data_dir = settings.register_dir
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        password = _root_password(data_dir)
    except OSError as exc:
        fault = faults.classify(exc, _facts(data_dir, settings), operation="starting the engine")
        raise fault or EngineUnavailable(f"Cannot create the data directory {data_dir}: {exc}") from exc
    description = f"embedded engine in {data_dir}"
    background = background and settings.engine_idle_seconds > 0
    _wait_while_restarting(data_dir)
    with EmbeddedServer._guard:
        server = EmbeddedServer.running_in_this_process(data_dir)
        if server is not None:
            return Endpoint(server.uri, "root", password, server.database, description,
                            data_dir, server.heap)
        # Before reading engine.json: a background host stops only while nobody holds this.
        _use_background_engines(data_dir)
        with _file_lock(data_dir / LOCK_FILE):
            published = _published_engine(data_dir)
            if published is None and not start:
                raise EngineUnavailable(_("No engine is running for %(folder)s", folder=data_dir))
            host = None
            if published is None and background:
                host_mark = faults.LogMark.take(_facts(data_dir, settings))
                host = _spawn_host(data_dir, settings)
            elif published is None:
                server = EmbeddedServer(data_dir, password, settings.database, settings.engine_heap)
                try:
                    server.start()
                except Exception as exc:
                    log.info("the embedded engine in %s did not start: %s", data_dir, exc)
                    raise faults.start_failure(str(exc), _facts(data_dir, settings)) from exc
        if host is not None:
            published = _wait_for_host(host, data_dir, _facts(data_dir, settings), host_mark)
        if server is not None:
            _stop_using_background_engines(data_dir)
            return Endpoint(server.uri, "root", password, server.database, description,
                            data_dir, server.heap)
        if not published.get("background"):
            _stop_using_background_engines(data_dir)
        return Endpoint(published["bolt_uri"], "root", password,
                        published.get("database", settings.database), description, data_dir,
                        published.get("heap", settings.engine_heap))


def _facts(data_dir: Path, settings: Settings) -> "faults.EngineFacts":
    return faults.EngineFacts(f"embedded engine in {data_dir}", data_dir, settings.engine_heap)


SUPERVISED_RESTART_WAIT = 120


def restarting_supervisor(data_dir: Path) -> int | None:
    """The pid of the ``cmdb serve`` restarting this register's engine right now, if one is:
    the engine it published is gone and the supervisor that restarts it is alive."""
    try:
        published = json.loads((data_dir / ENGINE_FILE).read_text())
        supervisor = published.get("supervisor")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(supervisor, int) or not pid_alive(supervisor):
        return None
    return None if _published_engine(data_dir) is not None else supervisor


def _wait_while_restarting(data_dir: Path) -> None:
    """Starting an engine of our own now would take the database from the one being restarted."""
    deadline = time.monotonic() + SUPERVISED_RESTART_WAIT
    while (supervisor := restarting_supervisor(data_dir)) is not None:
        if time.monotonic() > deadline:
            raise EngineUnavailable(
                _("The graph engine of %(folder)s is being restarted by `cmdb serve` (process "
                  "%(pid)s) and is not back after %(seconds)s s; see %(log)s", folder=data_dir,
                  pid=supervisor, seconds=SUPERVISED_RESTART_WAIT,
                  log=data_dir / LOG_DIR / HOST_LOG), {"data_dir": str(data_dir)})
        time.sleep(0.2)


def engine_running(settings: Settings) -> bool:
    """Whether this process or another already runs the engine of this register."""
    data_dir = settings.register_dir
    return (EmbeddedServer.running_in_this_process(data_dir) is not None
            or _published_engine(data_dir) is not None)


# ---------------------------------------------------------------------------------------
# A background engine for short commands

_client_locks: dict[Path, int] = {}


def _use_background_engines(data_dir: Path) -> None:
    """Hold the shared lock that keeps a background engine of ``data_dir`` running."""
    if data_dir in _client_locks:
        return
    fd = os.open(data_dir / CLIENTS_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)  # waits while a host is stopping
    _client_locks[data_dir] = fd


def _stop_using_background_engines(data_dir: Path) -> None:
    fd = _client_locks.pop(data_dir, None)
    if fd is not None:
        os.close(fd)


def _spawn_host(data_dir: Path, settings: Settings, *host_args: str) -> subprocess.Popen:
    log_dir = data_dir / LOG_DIR
    log_dir.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "CMDB_DATA_DIR": str(data_dir), "CMDB_ENGINE_HEAP": settings.engine_heap,
           "CMDB_NEO4J_DATABASE": settings.database,
           "CMDB_ENGINE_IDLE_SECONDS": str(settings.engine_idle_seconds)}
    env.pop("CMDB_NEO4J_URI", None)
    with open(log_dir / HOST_LOG, "ab") as host_log:
        # its own session: Ctrl-C in the shell that started it does not reach it
        return subprocess.Popen([sys.executable, "-m", "cmdb.graph.engine_host", *host_args],
                                cwd=data_dir,
                                env=env, stdin=subprocess.DEVNULL, stdout=host_log,
                                stderr=host_log, start_new_session=True, close_fds=True)


def _wait_for_host(host: subprocess.Popen, data_dir: Path,
                   engine: "faults.EngineFacts | None" = None,
                   mark: "faults.LogMark | None" = None) -> dict:
    """``mark``: the engine's logs before the host was started, to say why it did not start."""
    engine = engine or faults.EngineFacts(f"embedded engine in {data_dir}", data_dir)
    mark = mark or faults.LogMark.take(engine)
    deadline = time.monotonic() + HOST_START_TIMEOUT
    while time.monotonic() < deadline:
        published = _published_engine(data_dir)
        if published is not None:
            return published
        if host.poll() is not None:
            log.info("the engine host for %s exited with status %s while starting", data_dir,
                        host.returncode)
            raise faults.start_failure(mark.since(engine), engine)
        time.sleep(0.1)
    raise EngineUnavailable(_("The engine for %(folder)s did not start within %(seconds)s s; "
                              "see %(log)s", folder=data_dir, seconds=HOST_START_TIMEOUT,
                              log=data_dir / LOG_DIR / HOST_LOG),
                            {"data_dir": str(data_dir)})


def run_background_host(settings: Settings, *, supervisor: int | None = None,
                        bolt_port: int = 0) -> None:
    """Host the engine of ``settings.data_dir`` until nobody has used it for a while, or, with
    a ``supervisor`` (the pid of ``cmdb serve``), until it says stop or is gone."""
    data_dir = settings.register_dir
    password = _root_password(data_dir)
    with EmbeddedServer._guard, _file_lock(data_dir / LOCK_FILE):
        if _published_engine(data_dir) is not None:
            if supervisor is not None:
                raise SystemExit(_("Another process already runs the engine of %(folder)s",
                                   folder=data_dir))
            return  # another process started one meanwhile
        server = EmbeddedServer(data_dir, password, settings.database, settings.engine_heap,
                                background=supervisor is None, bolt_port=bolt_port,
                                supervisor=supervisor)
        server.start()
    stop_on_signals()
    if supervisor is not None:
        while os.getppid() == supervisor:  # a supervisor killed outright leaves no orphan engine
            time.sleep(0.5)
        server.stop()
        return
    clients = os.open(data_dir / CLIENTS_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    last_used = time.monotonic()
    while True:
        time.sleep(0.5)
        try:
            fcntl.flock(clients, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            last_used = time.monotonic()
            continue
        try:
            if time.monotonic() - last_used >= settings.engine_idle_seconds:
                server.stop()  # under the lock: a new user waits, then finds no engine
                return
        finally:
            fcntl.flock(clients, fcntl.LOCK_UN)


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


def endpoint_for(settings: Settings, *, background: bool = False) -> Endpoint:
    if settings.embedded:
        return embedded_endpoint(settings, background=background)
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
        raise EngineUnavailable(_("The graph engine at %(uri)s refused the credentials: "
                                  "%(reason)s", uri=endpoint.uri, reason=exc.message),
                                {"uri": endpoint.uri}) from exc
    except (ServiceUnavailable, OSError, ValueError) as exc:
        if endpoint.data_dir is not None and isinstance(exc, ServiceUnavailable):
            # the register's own engine went away as it was reached: said as for any write
            raise faults.unreachable(faults.EngineFacts(
                endpoint.description, endpoint.data_dir, endpoint.heap)) from exc
        raise EngineUnavailable(_("Cannot reach the graph engine at %(uri)s: %(reason)s",
                                  uri=endpoint.uri, reason=exc),
                                {"uri": endpoint.uri}) from exc
    return driver
