"""``cmdb serve`` as a user runs it: a process of its own on a fresh data directory.

It prints the first admin token once, that token works, a second ``cmdb`` process creates a
reviewer token through the running engine (engine.json), and SIGTERM and Ctrl-C (SIGINT)
each stop it cleanly: exit status 0, no JVM crash file, engine.json removed.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time

import httpx
import pytest
from neo4j import GraphDatabase

from tests.serve_support import CMDB, START_TIMEOUT, Served, clean_env, crash_files, running


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


def test_a_second_serve_on_the_same_register_says_where_the_first_serves_and_exits_1(tmp_path):
    data_dir, cwd = tmp_path / "data", tmp_path / "cwd"
    cwd.mkdir()
    served = Served(data_dir, cwd)
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            other_port = s.getsockname()[1]
        second = subprocess.run([CMDB, "serve", "--port", str(other_port)], env=clean_env(data_dir),
                                cwd=cwd, capture_output=True, text=True, timeout=START_TIMEOUT)
        assert second.returncode == 1, second.stdout + second.stderr
        assert second.stdout == ""  # no banner, no token: the refusal comes first
        assert (f"A CMDB is already serving this register at {served.base} "
                f"(process {served.proc.pid})") in second.stderr
        assert "Traceback" not in second.stderr and "Errno" not in second.stderr
        # the first one is untouched
        assert httpx.get(f"{served.base}/healthz", timeout=30).status_code == 200
    finally:
        assert served.stop(signal.SIGTERM) == 0, served.output
    assert not (data_dir / "server.json").exists()


@pytest.mark.parametrize("shared", [False, True], ids=["exclusive", "SO_REUSEPORT"])
def test_serve_on_a_port_another_program_holds_says_so_and_exits_1(tmp_path, shared):
    # shared: the holder allows sharing its port, as another `cmdb serve`'s workers do
    with socket.socket() as holder:
        if shared:
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        result = subprocess.run([CMDB, "serve", "--port", str(port)], env=clean_env(tmp_path / "data"),
                                cwd=tmp_path, capture_output=True, text=True, timeout=START_TIMEOUT)
    assert result.returncode == 1 and result.stdout == ""
    assert f"Cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_killed_outright_leaves_no_process_behind_and_its_port_free(tmp_path):
    data_dir, cwd = tmp_path / "data", tmp_path / "cwd"
    cwd.mkdir()
    served = Served(data_dir, cwd, workers=2)
    port = served.port
    engine = json.loads((data_dir / "engine.json").read_text())
    left = served.worker_pids() | {engine["pid"]}
    assert len(left) == 3, served.output
    # another process's connection to the engine (as a running command has) stays open
    client = GraphDatabase.driver(engine["bolt_uri"],
                                  auth=("root", (data_dir / "root_password").read_text().strip()))
    try:
        assert client.execute_query("RETURN 1 AS one", database_=engine["database"]).records
        served.proc.kill()  # SIGKILL: no clean-up of its own
        served.proc.wait(30)
        deadline = time.monotonic() + 60
        while (left := {pid for pid in left if running(pid)}) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert left == set(), served.output
    finally:
        client.close()
    with socket.socket() as probe:  # bound without SO_REUSEPORT: only if nobody listens
        probe.bind(("127.0.0.1", port))
    assert crash_files(data_dir, cwd) == []

    again = Served(data_dir, cwd)  # the register serves again
    try:
        assert httpx.get(f"{again.base}/healthz", timeout=30).status_code == 200
    finally:
        assert again.stop(signal.SIGTERM) == 0, again.output
