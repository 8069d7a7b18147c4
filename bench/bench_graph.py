"""Upsert throughput on the embedded engine: N = 10,000 and 100,000 CIs with their
relationships, then the same data again (all unchanged).

Target (issue 2): 100,000 CIs with relationships in under 60 s on a 2-core machine, and the
unchanged re-run at least 3x faster than the first.

    .venv/bin/python bench/bench_graph.py [N ...]
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.estate import synthetic_estate  # noqa: E402
from cmdb.graph import Graph  # noqa: E402
from cmdb.settings import Settings  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main(sizes: list[int]) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="cmdb-bench-graph-"))
    graph = Graph.connect(Settings(data_dir=data_dir, engine_heap="4g"))
    print(f"engine: {graph.description}")
    for n in sizes:
        graph.wipe()
        cis, links = synthetic_estate(n)
        (_, t_cis) = timed(lambda: graph.upsert_cis(cis, actor="bench"))
        (_, t_links) = timed(lambda: graph.link_many(links, actor="bench"))
        first = t_cis + t_links
        (again, t_cis2) = timed(lambda: graph.upsert_cis(cis, actor="bench"))
        (links2, t_links2) = timed(lambda: graph.link_many(links, actor="bench"))
        second = t_cis2 + t_links2
        assert not again.created and not again.updated and not links2.created
        print(f"N={n:>7,} CIs, {len(links):>7,} relationships: first load {first:6.1f} s "
              f"(CIs {t_cis:.1f} s = {len(cis) / t_cis:,.0f} CIs/s; relationships {t_links:.1f} s "
              f"= {len(links) / t_links:,.0f}/s); unchanged re-run {second:6.1f} s "
              f"(CIs {t_cis2:.1f} s, relationships {t_links2:.1f} s) -> {first / second:.1f}x faster")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process (Python + the engine's JVM): {peak:,.0f} MB")
    graph.close()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000])
