"""Baseline benchmark: create a baseline of a synthetic estate of N CIs (default 100,000) on
the embedded engine, make a mix of changes, and diff the baseline against the register now.

Measures: creating a baseline of the whole register (the consistent read, the compressed
snapshot written to the file store, its size), the diff (reading the register again, comparing,
reading the history entries of the changed CIs for the authors), and the same for a baseline
scoped to one site. The machine is shared: the load average is printed with every figure.

    .venv/bin/python bench/bench_baseline.py [--cis 100000] [--changes 1000] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.estate import synthetic_estate  # noqa: E402
from cmdb.baselines import service  # noqa: E402
from cmdb.documents.store import FileStore  # noqa: E402
from cmdb.graph import CIInput, Graph, Link  # noqa: E402
from cmdb.graph import baselines as baseline_queries  # noqa: E402
from cmdb.settings import Settings  # noqa: E402


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def timed(label: str, work):
    start = time.perf_counter()
    result = work()
    print(f"{label}: {time.perf_counter() - start:.2f} s (load {load()})", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cis", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="Reuse the estate a previous run loaded there (it prints its directory)")
    args = parser.parse_args()

    cis, links = synthetic_estate(args.cis)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="cmdb-bench-baseline-"))
    graph = Graph.connect(Settings(data_dir=data_dir, engine_heap="4g"))
    store = FileStore(data_dir / "files")
    print(f"engine: {graph.description}; data {data_dir}; load {load()}", flush=True)
    counts = graph.counts()
    if sum(counts["kinds"].values()) != len(cis):
        graph.wipe()
        timed(f"loaded {len(cis):,} CIs and {len(links):,} relationships",
              lambda: (graph.upsert_cis(cis, actor="bench"), graph.link_many(links, actor="bench")))
    for b in baseline_queries.list_baselines(graph):
        baseline_queries.delete_baseline(graph, b["name"])

    timed("read the register (one consistent read)", lambda: baseline_queries.read_state(graph, None))
    created = timed("baseline create (whole register)",
                    lambda: service.create(graph, store, "bench", actor="bench"))
    sha = baseline_queries.get_baseline(graph, "bench")["file_sha256"]
    print(f"  {created['cis']:,} CIs, {created['relationships']:,} relationships; snapshot "
          f"{store.size(sha) / 2**20:.1f} MiB; read {created['durations']['read_s']} s", flush=True)

    rnd = random.Random(7)
    hardware = [c.key for c in cis if c.kind == "Hardware"]
    rooms = [c.key for c in cis if c.kind == "Location" and c.properties.get("type") == "room"]
    changed = rnd.sample(hardware, args.changes)
    updates = [CIInput(k, "Hardware", {"ram_gb": 64}) for k in changed[: args.changes // 2]]
    moves = [Link(k, "LOCATED_IN", rnd.choice(rooms)) for k in changed[args.changes // 2:]]
    timed(f"{len(updates)} updates and {len(moves)} moves",
          lambda: (graph.upsert_cis(updates, actor="alice"), graph.link_many(moves, actor="bob")))

    diff = timed("baseline diff (whole register) to now",
                 lambda: service.diff(graph, store, "bench"))
    print(f"  {len(diff['changes']):,} rows: {diff['counts']}; "
          f"without an author: {sum(1 for c in diff['changes'] if not c['by'])}", flush=True)

    site = next(c.key for c in cis if c.kind == "Location" and c.properties.get("type") == "site")
    scoped = timed(f"baseline create (scope {site})",
                   lambda: service.create(graph, store, "bench-site", actor="bench", scope=site))
    print(f"  {scoped['cis']:,} CIs, {scoped['relationships']:,} relationships", flush=True)
    timed(f"baseline diff (scope {site}) to now", lambda: service.diff(graph, store, "bench-site"))
    graph.close()


if __name__ == "__main__":
    main()
