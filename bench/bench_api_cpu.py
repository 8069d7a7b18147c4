"""Where the CPU of a `GET /api/v1/cis/{key}` goes: `cmdb serve`'s API workers, its engine
process and the load generator, from their CPU times (/proc) over a bounded load on loopback.
CPU time holds up on a shared machine, unlike wall-clock rates.

    .venv/bin/python bench/bench_api.py --data-dir DIR --only GET   # loads the estate once
    .venv/bin/python bench/bench_api_cpu.py DIR [--cis 100000] [--requests 10000] [--clients 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_api import Server, drive  # noqa: E402
from bench.estate import synthetic_estate  # noqa: E402
from cmdb.graph import Graph  # noqa: E402
from cmdb.graph.tokens import create_token  # noqa: E402
from cmdb.settings import Settings  # noqa: E402

# Each worker reads its list index right after start (about 11 s of CPU at 100,000 CIs).
SETTLE_SECONDS = 40


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except OSError:
                pass  # ended meanwhile
    return found


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--cis", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    data_dir = args.data_dir.resolve()

    server = Server(data_dir, 2)
    try:
        with Graph.connect(Settings(data_dir=data_dir)) as graph:
            token = create_token(graph, f"bench-cpu-{os.getpid()}", "reviewer", created_by="bench")
        cis, _ = synthetic_estate(args.cis)
        hardware = [c.key for c in cis if c.kind == "Hardware"]
        rnd = random.Random(3)
        engine = json.loads((data_dir / "engine.json").read_text())["pid"]
        time.sleep(SETTLE_SECONDS)
        workers = [p for p in children(server.proc.pid)
                   if p != engine and "resource_tracker" not in command_line(p)]
        print(f"engine process {engine}, API workers {workers}", flush=True)

        before = (sum(map(cpu_seconds, workers)), cpu_seconds(engine), time.process_time())
        latencies, failures, elapsed = asyncio.run(drive(
            server.port, token, lambda: f"/api/v1/cis/{rnd.choice(hardware)}", args.clients,
            args.requests, 300))
        after = (sum(map(cpu_seconds, workers)), cpu_seconds(engine), time.process_time())
        n = len(latencies)
        workers_ms, engine_ms, client_ms = (1000 * (b - a) / n for a, b in zip(before, after))
        print(f"{n:,} requests in {elapsed:.1f} s ({n / elapsed:.0f} req/s), {len(failures)} not 200; "
              f"CPU a request: API workers {workers_ms:.2f} ms, engine {engine_ms:.2f} ms, "
              f"load generator {client_ms:.2f} ms; load average {os.getloadavg()[0]:.1f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
