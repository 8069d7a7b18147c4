"""Backup and restore of the synthetic estate, as a user runs them.

This process hosts two embedded engines (the source, loaded with the estate, and an empty
target); ``cmdb backup`` and ``cmdb restore`` run as separate processes that connect to them,
so their peak memory is the command's own, not the engines'.

    .venv/bin/python bench/bench_backup.py --cis 100000
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.estate import load_estate  # noqa: E402
from cmdb.graph import Graph  # noqa: E402
from cmdb.graph.engine import EmbeddedServer  # noqa: E402
from cmdb.settings import Settings  # noqa: E402


def run_command(args: list[str], data_dir: Path) -> tuple[dict, float, float]:
    """Run ``cmdb ARGS --json`` against ``data_dir``; returns (report, seconds, peak RSS MiB)."""
    env = {**os.environ, "CMDB_DATA_DIR": str(data_dir)}
    env.pop("CMDB_NEO4J_URI", None)
    # GNU time reports the command's own peak RSS. (ru_maxrss from wait4 would not: a child
    # forked from this process, which hosts the engines, inherits its high-water mark.)
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "peak_rss_kb=%M", sys.executable, "-m",
                           "cmdb.cli", *args, "--json"], env=env, capture_output=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"cmdb {' '.join(args)} failed:\n{done.stdout.decode()}\n{done.stderr.decode()}")
    peak_kb = int(re.findall(rb"peak_rss_kb=(\d+)", done.stderr)[-1])
    return json.loads(done.stdout), seconds, peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cis", type=int, default=100_000)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cmdb-bench-backup-"))
    source_dir, target_dir, file = work / "source", work / "target", work / "estate.jsonl.gz"
    source = Graph.connect(Settings(data_dir=source_dir, neo4j_uri=None))
    target = Graph.connect(Settings(data_dir=target_dir, neo4j_uri=None))
    try:
        started = time.perf_counter()
        n_cis, n_links = load_estate(source, args.cis)
        print(f"estate: {n_cis:,} CIs, {n_links:,} relationships loaded in "
              f"{time.perf_counter() - started:.1f} s", flush=True)

        report, seconds, peak = run_command(["backup", str(file)], source_dir)
        counts = report["counts"]
        print(f"backup:  {seconds:6.1f} s wall ({report['durations']['total_s']:.1f} s in the "
              f"command), peak RSS {peak:6.0f} MiB, {report['records']:,} records, "
              f"{report['size_bytes'] / 2**20:.1f} MiB file; "
              f"{sum(counts['cis'].values()):,} CIs, {sum(counts['relationships'].values()):,} "
              f"relationships, {counts['nodes'].get('Change', 0):,} history entries", flush=True)

        report, seconds, peak = run_command(["restore", str(file), "--into-empty"], target_dir)
        d = report["durations"]
        print(f"restore: {seconds:6.1f} s wall ({d['total_s']:.1f} s in the command: validate "
              f"{d['validate_s']:.1f}, write {d['write_s']:.1f}, verify {d['verify_s']:.1f}), "
              f"peak RSS {peak:6.0f} MiB, verified={report['verified']}", flush=True)
    finally:
        source.close()
        target.close()
        EmbeddedServer.stop_all()


if __name__ == "__main__":
    main()
