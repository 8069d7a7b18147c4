"""How long a short command takes: ``cmdb ci show KEY`` in every way a user meets it.

Side by side in one run, on one demo register, each as a whole process (wall clock):

* ``cmdb --help``: Python and the CLI's imports, no engine (the floor);
* ``cmdb ci show`` with ``CMDB_ENGINE_IDLE_SECONDS=0``: the command hosts the engine itself;
* the first ``cmdb ci show`` with none running: it starts the background engine;
* the next ones: they reuse that background engine;
* with ``cmdb serve`` running: through the server's engine.

    .venv/bin/python bench/bench_cli.py [RUNS]     # default 5 runs of each
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CMDB = str(Path(sys.executable).parent / "cmdb")


def timed(args: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run([CMDB, *args], env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


def stop_background(data: Path) -> None:
    try:
        published = json.loads((data / "engine.json").read_text())
    except OSError:
        return
    os.kill(published["pid"], signal.SIGTERM)
    while (data / "engine.json").exists():
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def row(name: str, seconds: list[float]) -> None:
    print(f"| {name} | {len(seconds)} | {statistics.median(seconds):.2f} s | "
          f"{min(seconds):.2f} s | {max(seconds):.2f} s |")


def main(runs: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    data = folder / "data"
    base = {k: v for k, v in os.environ.items() if not k.startswith("CMDB_")}
    env = {**base, "CMDB_DATA_DIR": str(data)}
    subprocess.run([CMDB, "demo"], env={**env, "CMDB_ENGINE_IDLE_SECONDS": "0"}, cwd=folder,
                   check=True, capture_output=True)
    show = ["ci", "show", "SRV-010"]
    print(f"load average {os.getloadavg()[0]:.1f}; {runs} runs each\n")
    print("| command | runs | median | min | max |\n| --- | --- | --- | --- | --- |")
    row("`cmdb --help` (no engine)", [timed(["--help"], env, folder) for _ in range(runs)])
    row("`cmdb ci show`, engine per command (`CMDB_ENGINE_IDLE_SECONDS=0`)",
        [timed(show, {**env, "CMDB_ENGINE_IDLE_SECONDS": "0"}, folder) for _ in range(runs)])
    first, again = [], []
    for _ in range(runs):
        first.append(timed(show, env, folder))
        again += [timed(show, env, folder) for _ in range(3)]
        stop_background(data)
    row("`cmdb ci show`, first: starts the background engine", first)
    row("`cmdb ci show`, next: background engine running", again)
    port = free_port()
    server = subprocess.Popen([CMDB, "serve", "--port", str(port)], env=env, cwd=folder,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not (data / "server.json").exists():
            time.sleep(0.2)
        time.sleep(1)
        row("`cmdb ci show` with `cmdb serve` running",
            [timed(show, env, folder) for _ in range(runs)])
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
