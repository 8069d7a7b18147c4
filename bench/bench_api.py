"""REST API throughput and latency of `cmdb serve`, and of a bare FastAPI app in the same run.

    .venv/bin/python bench/bench_api.py [--cis 100000] [--workers N] [--clients 50] [--seconds 30]

Starts `cmdb serve --workers N` (default: one per core) as a subprocess on a fresh data
directory and a free 127.0.0.1 port, loads the estate (bench/estate.py) through the running
engine (engine.json), signs in with a reviewer token, and drives the issue's scenarios with
concurrent keep-alive connections: `GET /cis/{key}` (50), a list page (20 and 1), search (20
and 1), and impact of one CI, a building, a site and a standard image. Then the same
`GET /cis/{key}` load against bench/bare_app.py under uvicorn with the same number of workers,
and the ratio. The machine is shared: the load average is printed next to every figure, and the
ratio to the reference in the same run is what compares across runs.

Each scenario stops after --requests requests or --seconds seconds, whichever comes first,
after a short warm-up. The load generator is a minimal HTTP/1.1 client on asyncio streams so
that the client side spends as little as possible of the machine's CPU (it shares the cores
with the server). Every response must be 200; anything else is counted and reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
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
    def __init__(self, data_dir: Path, workers: int, command: list[str] | None = None):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CMDB_")}
        env["CMDB_DATA_DIR"] = str(data_dir)
        self.output: list[str] = []
        command = command or [CMDB, "serve", "--workers", str(workers)]
        self.proc = subprocess.Popen([*command, "--host", "127.0.0.1", "--port", str(self.port)],
                                     env=env, cwd=data_dir, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)
        threading.Thread(target=lambda: self.output.extend(self.proc.stdout), daemon=True).start()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit("cmdb serve exited:\n" + "".join(self.output))
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code in (200, 404):
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
            if isinstance(path, tuple):  # (path, JSON body): a POST
                path, body = path
                writer.write(f"POST {path} HTTP/1.1\r\nContent-Type: application/json\r\n"
                             f"Content-Length: {len(body)}\r\n{head}".encode() + body)
            else:
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


def _percentile(ordered: list[float], fraction: float) -> float:
    """The smallest value at least ``fraction`` of the sample is at or below (nearest rank)."""
    return ordered[max(0, min(len(ordered) - 1, math.ceil(len(ordered) * fraction) - 1))]


def scenario(name: str, port: int, token: str, paths, args, clients: int | None = None,
             requests: int | None = None, seconds: float | None = None) -> dict:
    clients = clients or args.clients
    asyncio.run(drive(port, token, paths, clients, min(1000, args.requests), 15))  # warm-up
    latencies, failures, elapsed = asyncio.run(
        drive(port, token, paths, clients, requests or args.requests, seconds or args.seconds))
    ms = sorted(x * 1000 for x in latencies)
    result = {"name": name, "requests": len(ms), "seconds": elapsed, "rps": len(ms) / elapsed,
              "p50": statistics.median(ms), "p95": _percentile(ms, 0.95),
              "p99": _percentile(ms, 0.99), "failures": len(failures)}
    result["load"] = os.getloadavg()[0]
    print(f"{name:<52} {result['requests']:>7,} req in {elapsed:5.1f} s  "
          f"{result['rps']:7.0f} req/s  p50 {result['p50']:6.1f} ms  p95 {result['p95']:6.1f} ms  "
          f"p99 {result['p99']:6.1f} ms  non-200: {len(failures)}  load {result['load']:.1f}"
          + (f" (e.g. {failures[0]})" if failures else ""), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cis", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20_000, help="per scenario")
    parser.add_argument("--seconds", type=float, default=30, help="per scenario")
    parser.add_argument("--only", default="", help="comma-separated scenario name prefixes")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="keep the register here; a second run with the same --cis reuses it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cmdb-bench-api-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        loaded = data_dir / "bench-estate.txt"
        t0 = time.perf_counter()
        server = Server(data_dir, args.workers)
        print(f"cmdb serve ({args.workers} workers) answered after {time.perf_counter() - t0:.1f} s "
              f"on port {server.port}", flush=True)
        try:
            graph = Graph.connect(Settings(data_dir=data_dir))
            if loaded.exists() and loaded.read_text().strip() == str(args.cis):
                print(f"estate of {args.cis:,} CIs reused from {data_dir}", flush=True)
            else:
                t0 = time.perf_counter()
                n_cis, n_links = load_estate(graph, args.cis)
                loaded.write_text(f"{args.cis}\n")
                print(f"estate: {n_cis:,} CIs, {n_links:,} relationships loaded in "
                      f"{time.perf_counter() - t0:.1f} s", flush=True)
            token = create_token(graph, f"bench-{os.getpid()}", "reviewer", created_by="bench")  # reads and impact
            graph.close()
            results = run_scenarios(server.port, token, args)
        finally:
            code = server.stop()
        print(f"cmdb serve stopped with exit status {code}")

    with tempfile.TemporaryDirectory(prefix="cmdb-bench-bare-") as tmp:
        bare = Server(Path(tmp), args.workers, [sys.executable, str(Path(__file__).with_name("bare_app.py")),
                                                "--workers", str(args.workers)])
        try:
            cis, _ = synthetic_estate(args.cis)
            hardware = [c.key for c in cis if c.kind == "Hardware"]
            rnd = random.Random(7)
            reference = scenario("bare FastAPI: GET /api/v1/cis/{key}", bare.port, "none",
                                 lambda: f"/api/v1/cis/{rnd.choice(hardware)}", args)
        finally:
            bare.stop()
    one = results.get("GET /api/v1/cis/{key}")
    if one:
        ratio = one["rps"] / reference["rps"]
        met = one["rps"] >= 1000 and ratio >= 0.30 and one["p95"] < 50
        print(f"GET /cis/{{key}}: {one['rps']:.0f} req/s = {ratio:.2f}x the bare FastAPI app's "
              f"{reference['rps']:.0f} req/s in the same run; p95 {one['p95']:.1f} ms; target "
              f"(>= 1,000 req/s, >= 0.30x, p95 < 50 ms) {'met' if met else 'missed'}")


def run_scenarios(port: int, token: str, args) -> dict[str, dict]:
    cis, links = synthetic_estate(args.cis)
    hardware = [c.key for c in cis if c.kind == "Hardware"]
    servers = [c.key for c in cis if c.kind == "Hardware" and c.properties.get("category") == "server"]
    buildings = [c.key for c in cis if c.properties.get("type") == "building"]
    sites = [c.key for c in cis if c.properties.get("type") == "site"]
    users = {}
    for link in links:
        if link.type == "RUNS_IMAGE":
            users[link.to_key] = users.get(link.to_key, 0) + 1
    image = max(users, key=users.get)
    pages = max(1, len(hardware) // 50)
    rnd = random.Random(7)
    with_serial = [c for c in cis if c.kind == "Hardware" and c.properties.get("serial")]
    words = [c.properties["serial"] for c in rnd.sample(with_serial, min(200, len(with_serial)))]
    # Part of a name: thousands of CIs hold it, the answer is the first page of them.
    fragments = sorted({c.properties["name"][:6] for c in rnd.sample(with_serial, min(200, len(with_serial)))
                        if len(c.properties.get("name", "")) >= 6})

    def impact_of(keys):
        return lambda: ("/api/v1/impact", json.dumps({"keys": [rnd.choice(keys)]}).encode())

    plan = [
        ("GET /api/v1/cis/{key}", lambda: f"/api/v1/cis/{rnd.choice(hardware)}", {}),
        ("GET /api/v1/cis/{key}, 1 connection", lambda: f"/api/v1/cis/{rnd.choice(hardware)}",
         {"clients": 1, "requests": 2000, "seconds": 10}),
        ("list page kind=Hardware&page=P, 20 conn.",
         lambda: f"/api/v1/cis?kind=Hardware&limit=50&page={rnd.randint(1, pages)}",
         {"clients": 20}),
        ("list page, 1 connection",
         lambda: f"/api/v1/cis?kind=Hardware&limit=50&page={rnd.randint(1, pages)}",
         {"clients": 1, "requests": 200, "seconds": 20}),
        ("list page kind=Hardware&status=in_stock&category=pc&after=K, 20 conn.",
         lambda: f"/api/v1/cis?kind=Hardware&status=in_stock&category=pc&limit=50"
                 f"&after={rnd.choice(hardware)}", {"clients": 20}),
        ("list page location=<building>&kind=Hardware&page=P, 20 conn.",
         lambda: f"/api/v1/cis?location={rnd.choice(buildings)}&kind=Hardware&limit=50"
                 f"&page={rnd.randint(1, 20)}", {"clients": 20}),
        ("search q=serial, 20 conn.", lambda: f"/api/v1/search?q={rnd.choice(words)}",
         {"clients": 20}),
        ("search q=name fragment (many hits), 20 conn.",
         lambda: f"/api/v1/search?q={rnd.choice(fragments)}", {"clients": 20}),
        ("search q=serial, 1 connection", lambda: f"/api/v1/search?q={rnd.choice(words)}",
         {"clients": 1, "requests": 200, "seconds": 20}),
        ("impact of one server, 1 connection", impact_of(servers),
         {"clients": 1, "requests": 200, "seconds": 20}),
        ("impact of a building, 1 connection", impact_of(buildings),
         {"clients": 1, "requests": 50, "seconds": 30}),
        ("impact of a site, 1 connection", impact_of(sites),
         {"clients": 1, "requests": 20, "seconds": 30}),
        (f"impact of image {image} ({users[image]:,} users), 1 conn.", impact_of([image]),
         {"clients": 1, "requests": 20, "seconds": 30}),
    ]
    only = [p for p in args.only.split(",") if p]
    print(f"up to {args.requests:,} requests or {args.seconds:g} s per scenario "
          f"({os.cpu_count()} CPUs, server and client share them)", flush=True)
    return {name: scenario(name, port, token, paths, args, **options) for name, paths, options in plan
            if not only or any(name.startswith(p) for p in only)}


if __name__ == "__main__":
    main()
