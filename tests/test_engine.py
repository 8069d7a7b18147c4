"""The embedded engine: private files, one process hosting it, others using it through the
published address, and a clean stop."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cmdb.errors import EngineUnavailable
from cmdb.graph import Graph
from cmdb.settings import Settings

HOLDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from cmdb.graph import CIInput, Graph
    from cmdb.graph.engine import stop_on_signals
    from cmdb.settings import Settings

    graph = Graph.connect(Settings(data_dir=Path(sys.argv[1])))
    stop_on_signals()
    graph.upsert_cis([CIInput("HELD-1", "Hardware", {"name": "written by the holder"})], actor="holder")
    print("ready", flush=True)
    sys.stdin.readline()
""")


def cmdb(data_dir: Path, *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "CMDB_DATA_DIR": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "cmdb.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=data_dir.parent)


def start_holder(data_dir: Path) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_dir)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=data_dir.parent)
    line = holder.stdout.readline()
    assert line.strip() == "ready", holder.stderr.read()[-3000:]
    return holder


def files_named(root: Path, prefix: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(prefix)]


def test_a_second_process_uses_the_running_engine_and_the_holder_stops_cleanly(tmp_path):
    data_dir = tmp_path / "data"
    holder = start_holder(data_dir)
    try:
        published = json.loads((data_dir / "engine.json").read_text())
        assert published["pid"] == holder.pid and published["bolt_uri"].startswith("bolt://127.0.0.1:")
        for name in ("engine.json", "root_password"):
            assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600
        # the second process reads and writes through the holder's engine, not the locked files
        added = cmdb(data_dir, "ci", "add", "Hardware", "SECOND-1", "--json")
        assert added.returncode == 0, added.stderr
        listed = cmdb(data_dir, "ci", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        assert {i["key"] for i in json.loads(listed.stdout)["items"]} == {"HELD-1", "SECOND-1"}
        assert json.loads((data_dir / "engine.json").read_text())["pid"] == holder.pid
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=60)
    assert holder.returncode == 0
    assert not (data_dir / "engine.json").exists()
    assert files_named(tmp_path, "hs_err") == []
    assert not (tmp_path / "log").exists(), "the engine's log belongs in the data directory"
    # nothing was lost: a new process starts its own engine and finds both CIs
    listed = cmdb(data_dir, "ci", "list", "--json")
    assert {i["key"] for i in json.loads(listed.stdout)["items"]} == {"HELD-1", "SECOND-1"}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_engine_cleanly(tmp_path, sig):
    data_dir = tmp_path / "data"
    holder = start_holder(data_dir)
    holder.send_signal(sig)
    holder.wait(timeout=60)
    assert holder.returncode in (0, 128 + sig, -sig, 1) and holder.returncode != -signal.SIGSEGV
    assert not (data_dir / "engine.json").exists()
    assert files_named(tmp_path, "hs_err") == []
    again = cmdb(data_dir, "ci", "show", "HELD-1", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["name"] == "written by the holder"


FAULT_HANDLER_THEN_ENGINE = textwrap.dedent("""
    import faulthandler, sys
    from pathlib import Path
    from cmdb.graph import CIInput, Graph
    from cmdb.settings import Settings

    assert faulthandler.is_enabled()
    graph = Graph.connect(Settings(data_dir=Path(sys.argv[1])))
    print("fault handler on after start:", faulthandler.is_enabled(), flush=True)
    faulthandler.disable()  # what pytest does at exit; it must not take SIGSEGV from the JVM
    for n in range(20):
        graph.upsert_cis([CIInput(f"FH-{n}", "Hardware", {"name": "after"})], actor="test")
    print("written", len(graph.list_cis(limit=100).items), flush=True)
""")


def test_the_engine_keeps_sigsegv_when_python_fault_handler_was_on(tmp_path):
    """Python's fault handler (on under pytest) restores a stale SIGSEGV handler when switched
    off; the JVM faults on purpose, so the process would then die at a random later point."""
    run = subprocess.run([sys.executable, "-X", "faulthandler", "-c", FAULT_HANDLER_THEN_ENGINE,
                          str(tmp_path / "data")], capture_output=True, text=True, timeout=180,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.splitlines() == ["fault handler on after start: False", "written 20"]
    assert files_named(tmp_path, "hs_err") == []


def test_an_unreachable_neo4j_names_the_uri_and_the_cause():
    port = 1  # nothing listens on a privileged port 1 of loopback
    settings = Settings(neo4j_uri=f"bolt://127.0.0.1:{port}", neo4j_password="x")
    started = time.monotonic()
    with pytest.raises(EngineUnavailable) as err:
        Graph.connect(settings)
    assert f"bolt://127.0.0.1:{port}" in err.value.message
    assert "Cannot reach the graph engine" in err.value.message
    assert time.monotonic() - started < 60


def test_the_cli_reports_an_unreachable_engine_without_a_traceback(tmp_path):
    env = {**os.environ, "CMDB_NEO4J_URI": "bolt://127.0.0.1:1", "CMDB_NEO4J_PASSWORD": "x"}
    result = subprocess.run([sys.executable, "-m", "cmdb.cli", "ci", "list"], capture_output=True, text=True,
                            env=env, timeout=120, cwd=tmp_path)
    assert result.returncode == 1
    assert "Cannot reach the graph engine at bolt://127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr
