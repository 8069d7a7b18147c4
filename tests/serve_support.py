"""A ``cmdb serve`` of its own for a test: a process on a free loopback port, as a user runs it."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

CMDB = str(Path(sys.executable).parent / "cmdb")
START_TIMEOUT = 180


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port where connections are refused: bound (so nothing else takes it meanwhile)
    but not listening."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


def clean_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CMDB_") or k.startswith("CMDB_TEST_")}  # the harness's stay
    env["CMDB_DATA_DIR"] = str(data_dir)
    env["CMDB_BASE_URL"] = "http://cmdb.test"
    return env


class Served:
    def __init__(self, data_dir: Path, cwd: Path, extra_env: dict[str, str] | None = None,
                 workers: int = 1):
        self.data_dir = data_dir
        self.port: int | None = None  # the free port `cmdb serve --port 0` chose
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [CMDB, "serve", "--host", "127.0.0.1", "--port", "0",
             "--workers", str(workers)],
            env={**clean_env(data_dir), **(extra_env or {})}, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1)
        threading.Thread(target=self._collect, daemon=True).start()
        self._wait_ready()

    def _collect(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"cmdb serve exited with {self.proc.returncode}:\n{self.output}")
            if self.port is None:
                self.port = self._published_port()
                if self.port is None:
                    time.sleep(0.3)
                    continue
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.proc.kill()
        pytest.fail(f"cmdb serve did not answer within {START_TIMEOUT} s:\n{self.output}")

    def _published_port(self) -> int | None:
        """The port this ``cmdb serve`` wrote to ``server.json``, once it has (in any language)."""
        try:
            published = json.loads((self.data_dir / "server.json").read_text())
        except (OSError, ValueError):
            return None
        if published.get("pid") != self.proc.pid:
            return None  # left by an earlier server of the same register
        return int(published["url"].rsplit(":", 1)[1])

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def tokens_printed(self) -> list[str]:
        return re.findall(r"\bcmdb_[A-Za-z0-9_\-]{20,}", self.output)

    def worker_pids(self) -> set[int]:
        """The API worker processes ``cmdb serve`` runs now (uvicorn's spawned children)."""
        return {pid for pid in child_pids(self.proc.pid)
                if b"multiprocessing.spawn" in _cmdline(pid)}

    def access_pids(self) -> list[int]:
        """The worker pid of each request in the access log so far, in order."""
        return [int(m.group(1)) for line in list(self.lines)
                if (m := re.search(r" access (\d+) ", line))]

    def stop(self, signum: int) -> int:
        self.proc.send_signal(signum)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"cmdb serve did not stop on signal {signum}:\n{self.output}")


def child_pids(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found |= {int(p) for p in (task / "children").read_text().split()}
    return found


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and has not ended (a zombie waiting to be reaped has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def crash_files(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("hs_err_pid*")]


def stop_background_engine(data_dir: Path) -> None:
    """End the background engine a command left running for ``data_dir``, if there is one."""
    try:
        published = json.loads((data_dir / "engine.json").read_text())
    except (OSError, ValueError):
        return
    if not published.get("background"):
        return
    pid = int(published["pid"])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while (data_dir / "engine.json").exists() and time.monotonic() < deadline:
        time.sleep(0.2)


@contextlib.contextmanager
def app_on_loopback(app, name: str = "test-server", start_timeout: float = 30):
    """Serve an ASGI ``app`` with uvicorn in a thread of this process, on a free loopback port.

    Yields the port; stops the server on exit."""
    import uvicorn

    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, name=name,
                              daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        assert thread.is_alive(), f"{name} stopped during start-up"
        assert time.monotonic() < deadline, f"{name} did not start within {start_timeout} s"
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listening.close()
