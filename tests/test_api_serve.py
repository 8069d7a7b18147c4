"""``cmdb serve`` as a user runs it: a process of its own on a fresh data directory.

It prints the first admin token once, that token works, a second ``cmdb`` process creates a
reviewer token through the running engine (engine.json), and SIGTERM and Ctrl-C (SIGINT)
each stop it cleanly: exit status 0, no JVM crash file, engine.json removed.
"""

from __future__ import annotations

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

import httpx
import pytest

CMDB = str(Path(sys.executable).parent / "cmdb")
START_TIMEOUT = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMDB_")}
    env["CMDB_DATA_DIR"] = str(data_dir)
    env["CMDB_BASE_URL"] = "http://cmdb.test"
    return env


class Served:
    def __init__(self, data_dir: Path, cwd: Path, extra_env: dict[str, str] | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [CMDB, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env={**clean_env(data_dir), **(extra_env or {})}, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1)
        threading.Thread(target=self._collect, daemon=True).start()
        self._wait_ready()

    def _collect(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"cmdb serve exited with {self.proc.returncode}:\n{self.output}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.proc.kill()
        pytest.fail(f"cmdb serve did not answer within {START_TIMEOUT} s:\n{self.output}")

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def tokens_printed(self) -> list[str]:
        return re.findall(r"\bcmdb_[A-Za-z0-9_\-]{20,}", self.output)

    def stop(self, signum: int) -> int:
        self.proc.send_signal(signum)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"cmdb serve did not stop on signal {signum}:\n{self.output}")


def crash_files(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("hs_err_pid*")]


def test_serve_first_token_second_process_and_clean_stops(tmp_path):
    data_dir, cwd = tmp_path / "data", tmp_path / "cwd"
    cwd.mkdir()

    served = Served(data_dir, cwd)
    try:
        printed = served.tokens_printed()
        assert len(printed) == 1, served.output
        admin = {"Authorization": f"Bearer {printed[0]}"}
        assert (data_dir / "engine.json").exists()

        created = httpx.post(f"{served.base}/api/v1/cis", headers=admin, timeout=30,
                             json={"key": "SRV-1", "kind": "Hardware", "properties": {"category": "server"}})
        assert created.status_code == 201, created.text

        # A second process reaches the running engine through engine.json.
        result = subprocess.run([CMDB, "token", "create", "--name", "r", "--role", "reviewer", "--json"],
                                env=clean_env(data_dir), cwd=cwd, capture_output=True, text=True,
                                timeout=START_TIMEOUT)
        assert result.returncode == 0, result.stdout + result.stderr
        issued = json.loads(result.stdout)
        assert {k: issued[k] for k in ("name", "role")} == {"name": "r", "role": "reviewer"}
        reviewer = {"Authorization": f"Bearer {issued['token']}"}
        got = httpx.get(f"{served.base}/api/v1/cis/SRV-1", headers=reviewer, timeout=30)
        assert got.status_code == 200 and got.json()["key"] == "SRV-1"
        refused = httpx.delete(f"{served.base}/api/v1/cis/SRV-1", headers=reviewer, timeout=30)
        assert refused.status_code == 403
        assert httpx.get(f"{served.base}/api/v1/cis", timeout=30,
                         headers={"Authorization": "Bearer cmdb_wrong"}).status_code == 401
        history = httpx.get(f"{served.base}/api/v1/cis/SRV-1/history", headers=reviewer, timeout=30).json()
        assert [(e["action"], e["actor"]) for e in history["items"]] == [("create", "admin")]
        assert httpx.get(f"{served.base}/docs", timeout=30).status_code == 200
    finally:
        code = served.stop(signal.SIGTERM)
    assert code == 0, served.output
    assert crash_files(data_dir, cwd) == []
    assert not (data_dir / "engine.json").exists()
    assert "Traceback" not in served.output, served.output

    # Second start on the same data: no new token is printed; Ctrl-C stops it cleanly too.
    served = Served(data_dir, cwd)
    try:
        assert served.tokens_printed() == [], served.output
        assert httpx.get(f"{served.base}/api/v1/cis/SRV-1", headers=admin, timeout=30).status_code == 200
    finally:
        code = served.stop(signal.SIGINT)
    assert code == 0, served.output
    assert crash_files(data_dir, cwd) == []
    assert not (data_dir / "engine.json").exists()
    assert "Traceback" not in served.output, served.output
