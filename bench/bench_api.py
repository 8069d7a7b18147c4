"""REST API throughput and latency against `cmdb serve` on a synthetic estate, loopback only.

    .venv/bin/python bench/bench_api.py [--cis 10000] [--clients 50] [--requests 20000] [--seconds 60]

Starts `cmdb serve` as a subprocess on a fresh data directory and a free 127.0.0.1 port, loads
the estate (bench/estate.py) through the running engine (engine.json), signs in with a viewer
token, then drives two scenarios with N concurrent keep-alive connections:

- ``GET /api/v1/cis/{key}`` for random hardware keys;
- ``GET /api/v1/cis?kind=Hardware&limit=50&page=P`` for random pages.

Each scenario stops after --requests requests or --seconds seconds, whichever comes first,
after a short warm-up. The load generator is a minimal HTTP/1.1 client on asyncio streams so
that the client side spends as little as possible of the machine's CPU (it shares the cores
with the server). Every response must be 200; anything else is counted and reported.

Target (issue 3, 2-core machine): >= 1,000 req/s for GET /cis/{key} with p95 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from bench.estate import load_estate, synthetic_estate  # noqa: E402
from cmdb.graph import Graph  # noqa: E402
from cmdb.graph.tokens import create_token  # noqa: E402
from cmdb.settings import Settings  # noqa: E402

CMDB = str(Path(sys.executable).parent / "cmdb")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data_dir: Path):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CMDB_")}
        env["CMDB_DATA_DIR"] = str(data_dir)
        self.output: list[str] = []
        self.proc = subprocess.Popen([CMDB, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                                     env=env, cwd=data_dir, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        threading.Thread(target=lambda: self.output.extend(self.proc.stdout), daemon=True).start()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit("cmdb serve exited:\n" + "".join(self.output))
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        self.stop()
        sys.exit("cmdb serve did not start:\n" + "".join(self.output))

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -9


async def one_connection(port: int, token: str, paths, deadline: float, budget: list[int],
                         latencies: list[float], failures: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n\r\n"
    try:
        while budget[0] > 0 and time.monotonic() < deadline:
            budget[0] -= 1
            path = paths()
            started = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\n{head}".encode())
            header = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", header).group(1))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            status = header[9:12]
            if status != b"200":
                failures.append(f"{status.decode()} {path}")
    finally:
        writer.close()


async def drive(port: int, token: str, paths, clients: int, requests: int, seconds: float):
    latencies: list[float] = []
    failures: list[str] = []
    budget = [requests]
    started = time.perf_counter()
    await asyncio.gather(*(one_connection(port, token, paths, time.monotonic() + seconds, budget,
                                          latencies, failures) for _ in range(clients)))
    return latencies, failures, time.perf_counter() - started


def scenario(name: str, port: int, token: str, paths, args, clients: int | None = None,
             requests: int | None = None, seconds: float | None = None) -> dict:
    clients = clients or args.clients
    asyncio.run(drive(port, token, paths, clients, min(1000, args.requests), 15))  # warm-up
    latencies, failures, elapsed = asyncio.run(
        drive(port, token, paths, clients, requests or args.requests, seconds or args.seconds))
    ms = sorted(x * 1000 for x in latencies)
    result = {"name": name, "requests": len(ms), "seconds": elapsed, "rps": len(ms) / elapsed,
              "p50": statistics.median(ms), "p95": ms[int(len(ms) * 0.95) - 1],
              "p99": ms[int(len(ms) * 0.99) - 1], "failures": len(failures)}
    print(f"{name:<46} {result['requests']:>7,} req in {elapsed:5.1f} s  "
          f"{result['rps']:7.0f} req/s  p50 {result['p50']:6.1f} ms  p95 {result['p95']:6.1f} ms  "
          f"p99 {result['p99']:6.1f} ms  non-200: {len(failures)}"
          + (f" (e.g. {failures[0]})" if failures else ""), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cis", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20_000, help="per scenario")
    parser.add_argument("--seconds", type=float, default=60, help="per scenario")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cmdb-bench-api-") as tmp:
        data_dir = Path(tmp)
        t0 = time.perf_counter()
        server = Server(data_dir)
        print(f"cmdb serve answered after {time.perf_counter() - t0:.1f} s on port {server.port}", flush=True)
        try:
            graph = Graph.connect(Settings(data_dir=data_dir))
            t0 = time.perf_counter()
            n_cis, n_links = load_estate(graph, args.cis)
            print(f"estate: {n_cis:,} CIs, {n_links:,} relationships loaded in "
                  f"{time.perf_counter() - t0:.1f} s", flush=True)
            token = create_token(graph, "bench", "viewer", created_by="bench")
            graph.close()

            cis, _ = synthetic_estate(args.cis)
            hardware = [c.key for c in cis if c.kind == "Hardware"]
            pages = max(1, len(hardware) // 50)
            rnd = random.Random(7)
            print(f"{args.clients} concurrent connections, up to {args.requests:,} requests or "
                  f"{args.seconds:g} s per scenario ({os.cpu_count()} CPUs, server and client share them)")
            results = [
                scenario("GET /api/v1/cis/{key}", server.port, token,
                         lambda: f"/api/v1/cis/{rnd.choice(hardware)}", args),
                # One connection: the time to serve one request, without queueing.
                scenario("GET /api/v1/cis/{key}, 1 connection", server.port, token,
                         lambda: f"/api/v1/cis/{rnd.choice(hardware)}", args, clients=1,
                         requests=2000, seconds=10),
                scenario("GET /api/v1/cis?kind=Hardware&limit=50&page=P", server.port, token,
                         lambda: f"/api/v1/cis?kind=Hardware&limit=50&page={rnd.randint(1, pages)}", args),
            ]
        finally:
            code = server.stop()
        print(f"cmdb serve stopped with exit status {code}")
        one = results[0]
        met = one["rps"] >= 1000 and one["p95"] < 50
        print(f"target for GET /cis/{{key}} (>= 1,000 req/s, p95 < 50 ms): {'met' if met else 'missed'}"
              + ("" if met else f" — {one['rps']:.0f} req/s is {one['rps'] / 1000:.0%} of the rate, "
                                f"p95 {one['p95']:.1f} ms"))


if __name__ == "__main__":
    main()
