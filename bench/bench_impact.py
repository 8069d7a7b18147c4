"""Impact analysis on the 100,000-CI synthetic estate, against an in-memory lower bound.

    .venv/bin/python bench/bench_impact.py [--cis 100000] [--changes 200] [--sites 20] [--depth N]

Loads the estate (bench/estate.py) into a fresh embedded engine, then times
``cmdb.impact.service.impact`` for random single-CI changes of every kind and for whole-site
changes. In the same run it computes the same reachability by a plain breadth-first search
over adjacency lists held in Python (built once from the estate's relationships), as a lower
bound, and checks that both find exactly the same CIs at the same distances.

Targets (issue 4): p95 under 100 ms for single-CI changes, and within 10x of the in-memory
lower bound.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict, deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.estate import synthetic_estate  # noqa: E402
from cmdb.graph import Graph  # noqa: E402
from cmdb.impact.service import impact  # noqa: E402
from cmdb.settings import Settings  # noqa: E402


def reverse_adjacency(links) -> dict[str, list[str]]:
    needed_by: dict[str, list[str]] = defaultdict(list)
    for link in links:
        needed_by[link.to_key].append(link.from_key)
    return needed_by


def bfs(needed_by: dict[str, list[str]], changed: list[str], depth: int | None) -> dict[str, int]:
    distance = {k: 0 for k in changed}
    queue = deque(changed)
    while queue:
        key = queue.popleft()
        d = distance[key]
        if depth is not None and d >= depth:
            continue
        for other in needed_by.get(key, ()):
            if other not in distance:
                distance[other] = d + 1
                queue.append(other)
    for k in changed:
        del distance[k]
    return distance


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def report(label: str, db: list[float], mem: list[float], sizes: list[int]) -> None:
    ratio = [d / m for d, m in zip(db, mem) if m > 0]
    print(f"{label:<28} n={len(db):>3}  affected median {statistics.median(sizes):>7,.0f} max {max(sizes):>7,}  "
          f"impact p50 {pct(db, 50) * 1000:8.1f} ms p95 {pct(db, 95) * 1000:8.1f} ms  |  "
          f"in-memory BFS p50 {pct(mem, 50) * 1000:7.2f} ms p95 {pct(mem, 95) * 1000:7.2f} ms  |  "
          f"p95/p95 {pct(db, 95) / max(pct(mem, 95), 1e-9):6.1f}x, median per-change ratio "
          f"{statistics.median(ratio):6.1f}x")


def run(graph: Graph, needed_by, changes: list[list[str]], depth: int | None):
    db, mem, sizes = [], [], []
    for keys in changes:
        start = time.perf_counter()
        result = impact(graph, keys, depth=depth)
        db.append(time.perf_counter() - start)
        start = time.perf_counter()
        expected = bfs(needed_by, keys, depth)
        mem.append(time.perf_counter() - start)
        found = {a["key"]: a["distance"] for a in result["affected"]}
        if found != expected:
            missing = set(expected) - set(found)
            extra = set(found) - set(expected)
            raise SystemExit(f"impact of {keys} differs from the in-memory BFS: "
                             f"{len(missing)} missing, {len(extra)} extra")
        sizes.append(len(found))
    return db, mem, sizes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cis", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--depth", type=int, default=None)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="Reuse the estate a previous run loaded there (it prints its directory)")
    args = parser.parse_args()

    cis, links = synthetic_estate(args.cis)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="cmdb-bench-impact-"))
    graph = Graph.connect(Settings(data_dir=data_dir, engine_heap="4g"))
    print(f"engine: {graph.description}; load average {os.getloadavg()[0]:.1f}")
    counts = graph.counts()
    if sum(counts["kinds"].values()) == len(cis) and sum(counts["relationships"].values()) == len(links):
        print(f"reusing the {len(cis):,} CIs and {len(links):,} relationships already loaded")
    else:
        graph.wipe()
        start = time.perf_counter()
        graph.upsert_cis(cis, actor="bench")
        graph.link_many(links, actor="bench")
        print(f"loaded {len(cis):,} CIs and {len(links):,} relationships in {time.perf_counter() - start:.1f} s")

    start = time.perf_counter()
    needed_by = reverse_adjacency(links)
    print(f"in-memory adjacency lists built in {(time.perf_counter() - start) * 1000:.0f} ms")

    rnd = random.Random(4)
    by_kind: dict[str, list[str]] = defaultdict(list)
    for ci in cis:
        by_kind[ci.kind].append(ci.key)
    # A mix of kinds: mostly devices, then locations (racks to buildings), applications and
    # a few images (an image change reaches every device built from it: thousands of CIs).
    mix = {"Hardware": 0.6, "Location": 0.2, "Application": 0.17, "SoftwareImage": 0.03}
    plan: dict[str, list[list[str]]] = {}
    for kind, share in mix.items():
        count = max(1, round(args.changes * share))
        plan[kind] = [[rnd.choice(by_kind[kind])] for _ in range(count)]
    sites = [ci.key for ci in cis if ci.kind == "Location" and ci.properties.get("type") == "site"]
    site_changes = [[s] for s in rnd.sample(sites, min(args.sites, len(sites)))]

    # warm-up: the engine's caches and the JIT
    run(graph, needed_by, [[rnd.choice(by_kind["Hardware"])] for _ in range(20)], args.depth)

    print(f"depth limit: {args.depth or 'none'}; load average {os.getloadavg()[0]:.1f}")
    all_db, all_mem, all_sizes = [], [], []
    for kind, changes in plan.items():
        db, mem, sizes = run(graph, needed_by, changes, args.depth)
        report(f"single {kind}", db, mem, sizes)
        all_db += db
        all_mem += mem
        all_sizes += sizes
    report("single CI, all kinds", all_db, all_mem, all_sizes)
    db, mem, sizes = run(graph, needed_by, site_changes, args.depth)
    report("whole site", db, mem, sizes)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    graph.close()


if __name__ == "__main__":
    main()
