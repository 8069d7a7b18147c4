"""The embedded engine as a supervised process of ``cmdb serve``, and how workers watch it.

``EngineSupervisor`` (in ``cmdb serve``) runs ``cmdb.graph.engine_host`` as a child process on a
Bolt port chosen once, restarts it whenever it exits on its own (killed, crashed, out of memory:
the supervised JVM exits on ``OutOfMemoryError``) and stops it on shutdown. Because the port
stays the same, the API workers' drivers reconnect to the restarted engine by themselves.

``EngineWatch`` (in each API worker) says, for the price of one ``kill(pid, 0)``, whether the
engine the worker uses is there; while it is being restarted, requests that need it get 503
with ``Retry-After`` at once instead of waiting on the driver's retries.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from pathlib import Path

from cmdb.errors import EngineRestarting, EngineUnavailable
from cmdb.i18n import _
from cmdb.graph.engine import (
    ENGINE_FILE, HOST_LOG, LOG_DIR, _free_port, _spawn_host, _wait_for_host, live_publication,
    pid_alive,
)
from cmdb.settings import Settings

log = logging.getLogger(__name__)

STOP_TIMEOUT = 60
# After a crash the engine is restarted at once; if it keeps dying, after growing pauses.
FIRST_BACKOFF, MAX_BACKOFF, STABLE_SECONDS = 0.5, 30.0, 60.0
RETRY_AFTER_SECONDS = 5


class EngineSupervisor:
    def __init__(self, settings: Settings, supervisor_pid: int):
        self.settings = settings
        self.data_dir = settings.register_dir
        self.supervisor_pid = supervisor_pid
        self.bolt_port = _free_port()
        self.restarts = 0
        self._process: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        """Start the engine and wait until it serves; then keep it running in the background."""
        try:
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise EngineUnavailable(_("Cannot create the data directory %(folder)s: %(reason)s",
                                      folder=self.data_dir, reason=exc),
                                    {"data_dir": str(self.data_dir)}) from exc
        self._launch()
        self._watcher = threading.Thread(target=self._watch, name="engine-supervisor", daemon=True)
        self._watcher.start()

    def _launch(self) -> None:
        process = _spawn_host(self.data_dir, self.settings, "--supervisor", str(self.supervisor_pid),
                              "--bolt-port", str(self.bolt_port))
        self._process = process
        try:
            _wait_for_host(process, self.data_dir)
        except EngineUnavailable:
            if process.poll() is None:
                process.kill()
                process.wait()
            raise

    def _watch(self) -> None:
        backoff = FIRST_BACKOFF
        while not self._stopping.is_set():
            process = self._process
            started = time.monotonic()
            status = process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started > STABLE_SECONDS:
                backoff = FIRST_BACKOFF
            log.error("The graph engine (process %d) stopped unexpectedly (%s); restarting it. "
                      "Its log: %s", process.pid, _describe_exit(status),
                      self.data_dir / LOG_DIR / HOST_LOG)
            while not self._stopping.is_set():
                try:
                    self._launch()
                except EngineUnavailable as exc:
                    log.error("Restarting the graph engine failed: %s; trying again in %.0f s",
                              exc.message, backoff)
                    self._stopping.wait(backoff)
                    backoff = min(backoff * 2, MAX_BACKOFF)
                    continue
                self.restarts += 1
                log.warning("The graph engine is back (process %d, restart %d)",
                            self._process.pid, self.restarts)
                break

    def stop(self) -> None:
        self._stopping.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                log.error("The graph engine did not stop within %d s; killing it", STOP_TIMEOUT)
                process.kill()
                process.wait()
        if self._watcher is not None:
            self._watcher.join(timeout=STOP_TIMEOUT)


def _describe_exit(status: int) -> str:
    if status < 0:
        with_name = signal.Signals(-status).name if -status in signal.Signals._value2member_map_ else ""
        return f"killed by signal {-status} {with_name}".strip()
    if status == 3:  # the JVM's status for -XX:+ExitOnOutOfMemoryError
        return "out of memory: raise CMDB_ENGINE_HEAP"
    return f"exit status {status}"


class EngineWatch:
    """Whether the engine published in a data directory is there, checked per request."""

    def __init__(self, data_dir: Path):
        self.path = data_dir / ENGINE_FILE
        self.pid: int | None = None

    def check(self) -> None:
        """Raise ``EngineRestarting`` while the engine is down."""
        if self.pid is not None and pid_alive(self.pid):
            return
        published = live_publication(self.path, "bolt_uri")
        if published is None:
            self.pid = None
            raise EngineRestarting(
                _("The graph engine is restarting; try again in about %(seconds)s s. "
                  "Nothing was changed.", seconds=RETRY_AFTER_SECONDS),
                {"retry_after_seconds": RETRY_AFTER_SECONDS},
                retry_after=RETRY_AFTER_SECONDS)
        self.pid = int(published["pid"])
