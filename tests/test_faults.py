"""Faults a person can act on, injected for real: a small filesystem under the data directory,
a small engine heap, the engine killed during an import.

Each test asserts the one sentence the user gets, exit status 1 (or the HTTP status), no Python
traceback, the register exactly as before (keys and content), and the register taking writes
again afterwards. The small filesystems are tmpfs mounts (the suite runs as root in its
container); where mounting is not allowed those tests are skipped, saying why.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.serve_support import CMDB, Served, clean_env, stop_background_engine

COMMAND_TIMEOUT = 600
SEEDED = 20


def write_csv(path: Path, rows: int, *, prefix: str, padding: int = 0) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["key", "name", "category", "vendor", "model", "serial", "status"])
        for i in range(rows):
            out.writerow([f"{prefix}{i:06d}", f"server {i} " + "y" * padding, "server", "Dell",
                          "R740", f"SN{prefix}{i:09d}", "in_use"])
    return path


def run_cmdb(data_dir: Path, cwd: Path, *args: str, env: dict[str, str] | None = None,
             ) -> subprocess.CompletedProcess:
    return subprocess.run([CMDB, *args], env={**clean_env(data_dir), **(env or {})}, cwd=cwd,
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT)


def register_content(data_dir: Path, cwd: Path, env: dict[str, str] | None = None) -> dict:
    """Every CI's key with its properties as the register holds them."""
    listed = run_cmdb(data_dir, cwd, "ci", "list", "--limit", "500", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    return {item["key"]: item for item in json.loads(listed.stdout)["items"]}


def assert_one_sentence(result: subprocess.CompletedProcess, pattern: str) -> str:
    """Exit 1, no traceback on either stream, and the error is the one sentence expected."""
    assert result.returncode == 1, (result.stdout[-2000:], result.stderr[-3000:])
    both = result.stdout + result.stderr
    assert "Traceback" not in both and "Exception in thread" not in both, both[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr[-3000:]
    others = [line for line in result.stderr.splitlines()
              if line.strip() and not line.startswith(("error:", "note:", "register:"))
              and not line.startswith("starting the engine")]
    assert others == [], result.stderr[-3000:]  # nothing from the driver or the engine
    assert re.fullmatch(pattern, errors[0]), errors[0]
    return errors[0]


@contextlib.contextmanager
def small_disk(where: Path, megabytes: int):
    """A tmpfs of ``megabytes`` at ``where``, unmounted afterwards."""
    where.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0700", "tmpfs",
                              str(where)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip()}): run as root")
    try:
        yield where
    finally:
        stop_background_engine(where / "data")
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture
def seeded(tmp_path):
    """A register of 20 CIs on a 40 MB filesystem; yields (data_dir, cwd, what it holds)."""
    with small_disk(tmp_path / "disk", 40) as disk:
        data_dir = disk / "data"
        seed = write_csv(tmp_path / "seed.csv", SEEDED, prefix="SEED")
        env = {"CMDB_ENGINE_IDLE_SECONDS": "0"}
        done = run_cmdb(data_dir, tmp_path, "import", "--kind", "Hardware", str(seed), env=env)
        assert done.returncode == 0, done.stderr
        before = register_content(data_dir, tmp_path, env)
        assert len(before) == SEEDED
        yield data_dir, tmp_path, before


def assert_takes_writes(data_dir: Path, cwd: Path, before: dict, env: dict[str, str]) -> None:
    more = write_csv(cwd / "more.csv", 3, prefix="MORE")
    done = run_cmdb(data_dir, cwd, "import", "--kind", "Hardware", str(more), env=env)
    assert done.returncode == 0, done.stderr
    after = register_content(data_dir, cwd, env)
    assert set(after) == set(before) | {"MORE000000", "MORE000001", "MORE000002"}


DISK_FULL_BEFORE = (r"error: Not enough disk space: the import needs about \d+ MB, \d+ MB free in "
                    r"\S+/disk/data; nothing was written — free some space there, or move the "
                    r"register to a larger disk \(CMDB_DATA_DIR\)\.")


def test_an_import_bigger_than_the_free_disk_is_refused_before_anything_is_written(seeded):
    data_dir, cwd, before = seeded
    env = {"CMDB_ENGINE_IDLE_SECONDS": "0"}
    big = write_csv(cwd / "big.csv", 30_000, prefix="BIG")  # about 70 MB needed, 36 MB free
    result = run_cmdb(data_dir, cwd, "import", "--kind", "Hardware", str(big), env=env)
    sentence = assert_one_sentence(result, DISK_FULL_BEFORE)
    needed, free = map(int, re.findall(r"(\d+) MB", sentence))
    assert needed > 60 and free < 40
    assert register_content(data_dir, cwd, env) == before
    assert_takes_writes(data_dir, cwd, before, env)


def test_a_disk_that_fills_up_during_the_import_rolls_it_back_and_says_so(seeded):
    data_dir, cwd, before = seeded
    env = {"CMDB_ENGINE_IDLE_SECONDS": "0"}
    # Rows three times the size the check before the write assumes: it lets the import
    # through, and the engine finds the disk full when it commits.
    heavy = write_csv(cwd / "heavy.csv", 7_000, prefix="HEAVY", padding=1900)
    result = run_cmdb(data_dir, cwd, "import", "--kind", "Hardware", str(heavy), env=env)
    assert_one_sentence(result, r"error: Not enough disk space: \d+ MB free in \S+/disk/data; the "
                                r"import was rolled back and nothing was written — free some space "
                                r"there, or move the register to a larger disk \(CMDB_DATA_DIR\)\.")
    assert register_content(data_dir, cwd, env) == before
    assert_takes_writes(data_dir, cwd, before, env)


def test_the_api_answers_507_with_a_sentence_naming_no_folder(seeded):
    data_dir, cwd, before = seeded
    served = Served(data_dir, cwd)
    try:
        token = served.tokens_printed()[0]
        headers = {"Authorization": f"Bearer {token}"}
        big = write_csv(cwd / "big.csv", 30_000, prefix="BIG").read_bytes()
        answer = httpx.post(f"{served.base}/api/v1/imports", headers=headers, timeout=COMMAND_TIMEOUT,
                            files={"file": ("big.csv", big, "text/csv")}, data={"kind": "Hardware"})
        assert answer.status_code == 507, answer.text
        error = answer.json()["error"]
        assert error["code"] == "disk_full"
        assert re.fullmatch(r"Not enough disk space on the server: the import needs about \d+ MB, "
                            r"\d+ MB free; nothing was written — ask the administrator to free "
                            r"space for the register\.", error["message"]), error["message"]
        assert str(data_dir) not in answer.text and "Traceback" not in answer.text
        assert set(error["details"]) == {"free_bytes", "needed_bytes"}
        listed = httpx.get(f"{served.base}/api/v1/cis", params={"limit": 500}, headers=headers,
                           timeout=60)
        assert {item["key"] for item in listed.json()["items"]} == set(before)
        small = write_csv(cwd / "small.csv", 2, prefix="API").read_bytes()
        answer = httpx.post(f"{served.base}/api/v1/imports", headers=headers, timeout=COMMAND_TIMEOUT,
                            files={"file": ("small.csv", small, "text/csv")}, data={"kind": "Hardware"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["created"] == 2
    finally:
        assert served.stop(signal.SIGTERM) == 0
    assert "Traceback" not in served.output


def test_an_import_larger_than_a_small_heap_holds_at_once_is_written_in_batches(tmp_path):
    """128m holds about 14,000 changes in one transaction; the import writes batches of 5,000
    (CMDB_IMPORT_BATCH_ROWS), so its size is not bounded by the heap."""
    data_dir = tmp_path / "data"
    env = {"CMDB_ENGINE_IDLE_SECONDS": "0", "CMDB_ENGINE_HEAP": "128m"}
    big = write_csv(tmp_path / "big.csv", 15_000, prefix="BIG")
    result = run_cmdb(data_dir, tmp_path, "import", "--kind", "Hardware", str(big), "--json", env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["created"] == 15_000
    listed = run_cmdb(data_dir, tmp_path, "ci", "list", "--kind", "Hardware", "--json", env=env)
    assert json.loads(listed.stdout)["total"] == 15_000


def test_an_engine_out_of_memory_names_the_heap_setting_and_is_not_retried(tmp_path):
    """With batches larger than the heap holds (CMDB_IMPORT_BATCH_ROWS), an import makes the
    engine run out of memory: its process exits rather than carrying on half-working, the
    command says what to raise, and the next command starts a fresh engine holding what was
    committed."""
    data_dir = tmp_path / "data"
    env = {"CMDB_ENGINE_IDLE_SECONDS": "120", "CMDB_ENGINE_HEAP": "100m",
           "CMDB_IMPORT_BATCH_ROWS": "100000"}
    try:
        seed = write_csv(tmp_path / "seed.csv", SEEDED, prefix="SEED")
        assert run_cmdb(data_dir, tmp_path, "import", "--kind", "Hardware", str(seed),
                        env=env).returncode == 0
        before = register_content(data_dir, tmp_path, env)
        big = write_csv(tmp_path / "big.csv", 40_000, prefix="BIG")
        result = run_cmdb(data_dir, tmp_path, "import", "--kind", "Hardware", str(big), env=env)
        assert_one_sentence(result, r"error: The graph engine ran out of memory during the import; "
                                    r"nothing was written — raise CMDB_ENGINE_HEAP \(now 100m, for "
                                    r"example to 200m\), or import the file in parts; the details "
                                    r"are in \./data/log\.")
        logged = "".join(p.read_text(errors="replace") for p in (data_dir / "log").glob("*.log"))
        assert "OutOfMemoryError" in logged
        # tried once: the driver's "will be retried" never happened
        assert "tried again" not in logged and "will be retried" not in logged
        assert register_content(data_dir, tmp_path, env) == before
        assert_takes_writes(data_dir, tmp_path, before, env)
    finally:
        stop_background_engine(data_dir)


def test_an_engine_killed_during_an_import_is_named_and_nothing_is_lost(tmp_path):
    """The engine (a background process the first command started) is killed while ``cmdb
    import`` is connected to it. The order is fixed, not timed: the command is paused (SIGSTOP)
    once its Bolt connection is established, the engine is killed and gone, then it goes on."""
    data_dir = tmp_path / "data"
    env = {"CMDB_ENGINE_IDLE_SECONDS": "120"}
    try:
        seed = write_csv(tmp_path / "seed.csv", SEEDED, prefix="SEED")
        assert run_cmdb(data_dir, tmp_path, "import", "--kind", "Hardware", str(seed),
                        env=env).returncode == 0
        before = register_content(data_dir, tmp_path, env)
        published = json.loads((data_dir / "engine.json").read_text())
        engine_pid, bolt_port = published["pid"], int(published["bolt_uri"].rsplit(":", 1)[1])
        rows = write_csv(tmp_path / "rows.csv", 5_000, prefix="LOST")
        command = subprocess.Popen([CMDB, "import", "--kind", "Hardware", str(rows)],
                                   env={**clean_env(data_dir), **env}, cwd=tmp_path,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 180
            while not _connected(command.pid, bolt_port):
                assert command.poll() is None, command.communicate()
                assert time.monotonic() < deadline, "the import did not reach the engine"
                time.sleep(0.02)
            command.send_signal(signal.SIGSTOP)
            os.kill(engine_pid, signal.SIGKILL)
            while _alive(engine_pid):
                assert time.monotonic() < deadline + 60, "the killed engine did not go away"
                time.sleep(0.1)
        finally:
            command.send_signal(signal.SIGCONT)
        stdout, stderr = command.communicate(timeout=COMMAND_TIMEOUT)
        result = subprocess.CompletedProcess(command.args, command.returncode, stdout, stderr)
        assert_one_sentence(result, r"error: The graph engine is unreachable \(nothing was "
                                    r"changed\): it stopped or is restarting — try again in 10 s, "
                                    r"and if it stays away, the details are in \./data/log\.")
        # the next command starts the engine again: everything committed is there, nothing else
        assert register_content(data_dir, tmp_path, env) == before
        assert_takes_writes(data_dir, tmp_path, before, env)
        assert "Traceback" in (data_dir / "log" / "cmdb-cli.log").read_text()
    finally:
        stop_background_engine(data_dir)


def _connected(pid: int, port: int) -> bool:
    """Whether process ``pid`` has an established TCP connection to loopback ``port``."""
    try:
        sockets = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        table = Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return False
    for line in table:
        fields = line.split()
        remote, state, inode = fields[2], fields[3], fields[9]
        if state == "01" and int(remote.split(":")[1], 16) == port and f"socket:[{inode}]" in sockets:
            return True
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a killed child of another process stays a zombie until reaped; it holds nothing
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    return False


# ---------------------------------------------------------------------------------------
# The classifier on its own: what the driver raises, what the engine logged, the disk

def _engine_error(code: str, message: str):
    from neo4j.exceptions import Neo4jError

    return Neo4jError._hydrate_neo4j(code=code, message=message)


@pytest.fixture
def facts(tmp_path):
    from cmdb.graph.faults import EngineFacts

    (tmp_path / "data" / "log").mkdir(parents=True)
    return EngineFacts("embedded engine in a test", tmp_path / "data", "384m")


def test_a_transient_conflict_is_retried_and_memory_or_disk_failures_are_not(facts):
    from neo4j.exceptions import ServiceUnavailable

    from cmdb.errors import DiskFull, EngineOutOfMemory, EngineUnavailable
    from cmdb.graph.faults import LogMark, classify, retryable

    conflict = _engine_error("Neo.TransientError.Transaction.DeadlockDetected",
                             "modified by a concurrent transaction, retry")
    assert classify(conflict, facts) is None and retryable(conflict, None)

    mark = LogMark.take(facts)
    (facts.log_dir / "engine-stderr.log").write_text(
        'Exception in thread "BOLT-1" java.lang.OutOfMemoryError: Java heap space\n')
    dropped = ServiceUnavailable("Failed to read from defunct connection")
    fault = classify(dropped, facts, mark, operation="the import")
    assert isinstance(fault, EngineOutOfMemory) and not retryable(dropped, fault)
    assert fault.message == (
        "The graph engine ran out of memory during the import; nothing was written — raise "
        "CMDB_ENGINE_HEAP (now 384m, for example to 768m), or import the file in parts; the "
        f"details are in {facts.log_dir}.")
    # what was logged before the operation started is not its cause
    assert isinstance(classify(dropped, facts, LogMark.take(facts)), EngineUnavailable)

    mark = LogMark.take(facts)
    with open(facts.log_dir / "engine.0.log", "a") as log:
        log.write("SEVERE: Error on flushing page\njava.io.IOException: No space left on device\n")
    refused = _engine_error("Neo.ClientError.Transaction.TransactionNotFound",
                            "Transaction error on commit")
    fault = classify(refused, facts, mark, operation="the import")
    assert isinstance(fault, DiskFull) and not retryable(refused, fault)


def test_a_constraint_violation_is_left_to_its_own_handling(facts):
    from neo4j.exceptions import ConstraintError

    from cmdb.graph.faults import classify

    assert classify(ConstraintError("already exists"), facts) is None


def test_a_register_held_by_another_process_names_its_pid_and_command(tmp_path):
    """A process holding the database's lock file (as the engine does) is found in /proc/locks."""
    from cmdb.graph.faults import register_locked

    database = tmp_path / "data" / "databases" / "databases" / "cmdb"
    database.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'w'); "
         "fcntl.lockf(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
         str(database / "database.lck")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        fault = register_locked(tmp_path / "data")
        assert fault.details["pid"] == holder.pid
        assert fault.details["command"].startswith("-c import fcntl, sys, time;")
        assert fault.message == (
            f"The register in {tmp_path / 'data'} is held by process {holder.pid} "
            f"({fault.details['command']}), which does not share it with other commands; stop it "
            f"(kill {holder.pid}) or wait for it to finish, then try again.")
    finally:
        holder.kill()
        holder.wait(30)


def test_the_api_answers_503_with_retry_after_while_the_engine_is_unreachable(embedded_settings):
    from fastapi.testclient import TestClient
    from neo4j import GraphDatabase

    from cmdb.api.app import create_app
    from cmdb.graph import Graph
    from tests.serve_support import refused_port

    with refused_port() as port:
        driver = GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("root", "x"),
                                      connection_timeout=2, max_transaction_retry_time=1)
        try:
            dead = Graph(driver, "cmdb", "a stopped engine")
            client = TestClient(create_app(embedded_settings, graph=dead),
                                raise_server_exceptions=False)
            answer = client.get("/api/v1/cis/X", headers={"Authorization": "Bearer cmdb_abc"})
            assert answer.status_code == 503 and answer.headers["Retry-After"] == "10"
            assert answer.json()["error"] == {
                "code": "engine_unavailable", "details": None,
                "message": "The graph engine is unreachable (nothing was changed): it is "
                           "restarting — try again in 10 s."}
        finally:
            driver.close()
