"""Which register a command uses, the background engine that makes short commands fast, and
what commands print for people and for pipes."""

from __future__ import annotations

import fcntl
import io
import json
import os
import signal
import subprocess
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cmdb import cli_support
from cmdb.graph.engine import CLIENTS_FILE
from cmdb.settings import REGISTER_MARKER, find_register
from tests.serve_support import CMDB, START_TIMEOUT


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("CMDB_") or k.startswith("CMDB_TEST_")}  # the harness's stay
    return {**env, **extra}


def _cmdb(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([CMDB, *args], cwd=cwd, env=_env(**env), capture_output=True, text=True,
                          timeout=START_TIMEOUT)


def test_the_nearest_data_folder_holding_a_register_is_found_from_below(tmp_path):
    copy = tmp_path / "copy"
    (copy / "docs" / "deep").mkdir(parents=True)
    (copy / "data").mkdir()
    assert find_register(copy / "docs" / "deep") is None  # a data/ folder without a register
    (copy / "data" / REGISTER_MARKER).write_text("x")
    assert find_register(copy / "docs" / "deep") == (copy / "data").resolve()
    assert find_register(copy) == (copy / "data").resolve()
    inner = copy / "docs" / "data"
    inner.mkdir()
    (inner / REGISTER_MARKER).write_text("x")
    assert find_register(copy / "docs" / "deep") == inner.resolve()  # the nearest wins
    assert find_register(tmp_path) is None


def test_short_commands_share_a_background_engine_that_stops_by_itself(tmp_path):
    copy, home = tmp_path / "copy", tmp_path / "home"
    (copy / "sub").mkdir(parents=True)
    home.mkdir()
    data = copy / "data"
    # The test holds the engine's clients lock between its two commands, as a command does while
    # it runs: on a loaded machine the second command can take longer to start than the idle
    # time, and then the engine would rightly stop in between.
    data.mkdir()
    user = os.open(data / CLIENTS_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(user, fcntl.LOCK_SH)
    first = _cmdb(copy, "ci", "add", "Hardware", "BG-1", CMDB_DATA_DIR=str(data),
                  CMDB_ENGINE_IDLE_SECONDS="4", HOME=str(home))
    assert first.returncode == 0, first.stderr
    assert f"no register in {data} yet; starting a new, empty one" in first.stderr
    assert "starting the engine" in first.stderr
    assert "WARNING" not in first.stderr and "incubator" not in first.stderr
    published = json.loads((data / "engine.json").read_text())
    assert published["background"] is True
    host = published["pid"]
    try:
        # from a folder inside the working copy, with no CMDB_DATA_DIR: the same register,
        # named because it is not ./data here, through the same engine, which it does not restart
        second = _cmdb(copy / "sub", "ci", "list", "--json", CMDB_ENGINE_IDLE_SECONDS="4",
                       HOME=str(home))
        assert second.returncode == 0, second.stderr
        assert [i["key"] for i in json.loads(second.stdout)["items"]] == ["BG-1"]
        assert f"register: {data}" in second.stderr
        assert "starting the engine" not in second.stderr
        assert json.loads((data / "engine.json").read_text())["pid"] == host
        assert not (home / ".local").exists()
        # nobody uses it any more: it stops by itself, cleanly
        os.close(user)
        deadline = time.monotonic() + 60
        while _alive(host) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _alive(host)
        assert not (data / "engine.json").exists()
    finally:
        if _alive(host):
            os.kill(host, signal.SIGTERM)
    assert [p for p in data.rglob("hs_err_pid*")] == []


def test_with_no_idle_time_a_command_hosts_the_engine_for_its_own_duration(tmp_path):
    done = _cmdb(tmp_path, "ci", "list", CMDB_DATA_DIR=str(tmp_path / "data"),
                 CMDB_ENGINE_IDLE_SECONDS="0")
    assert done.returncode == 0, done.stderr
    assert "starting the engine" not in done.stderr and "incubator" not in done.stderr
    assert not (tmp_path / "data" / "engine.json").exists()


def test_history_of_a_key_that_never_existed_is_an_error(tmp_path, embedded_graph):
    from typer.testing import CliRunner

    from cmdb.cli import app

    embedded_graph.create_ci("Hardware", "GONE-1", {}, actor="t")
    embedded_graph.delete_ci("GONE-1", actor="t")
    runner = CliRunner()
    missing = runner.invoke(app, ["history", "NO-SUCH-KEY"])
    assert missing.exit_code == 1 and "No CI with key 'NO-SUCH-KEY'" in missing.stderr
    assert "starting the engine" not in missing.stderr  # this process already hosts it
    deleted = runner.invoke(app, ["history", "GONE-1", "--json"])  # a deleted CI keeps its history
    assert deleted.exit_code == 0
    assert [e["action"] for e in json.loads(deleted.stdout)["items"]] == ["delete", "create"]


def _table() -> Table:
    table = Table("key", "name", "status", title="2 CI(s)")
    table.add_row("ESXI8-2026-HOST-0001", "a long name that may wrap " * 3, "in_use")
    table.add_row("PC-000123", "short", "in_stock")
    return table


def test_piped_tables_are_tab_separated_lines_with_nothing_cut(monkeypatch, capsys):
    monkeypatch.setattr(cli_support, "console", Console(file=io.StringIO(), force_terminal=False))
    cli_support.print_table(_table())
    assert capsys.readouterr().out.splitlines() == [
        "2 CI(s)", "key\tname\tstatus",
        "ESXI8-2026-HOST-0001\t" + "a long name that may wrap " * 3 + "\tin_use",
        "PC-000123\tshort\tin_stock"]


def test_terminal_tables_keep_keys_whole_and_wrap_the_rest(monkeypatch):
    screen = io.StringIO()
    monkeypatch.setattr(cli_support, "console",
                        Console(file=screen, force_terminal=True, width=50, color_system=None))
    cli_support.print_table(_table())
    text = screen.getvalue()
    assert "ESXI8-2026-HOST-0001" in text and "PC-000123" in text and "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 50


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for whoever adopted it to reap it has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
