"""One read as a managed transaction (BEGIN, RUN/PULL, COMMIT) against the same read as one
auto-commit query (RUN/PULL), on the embedded engine, loopback.

    .venv/bin/python bench/bench_reads.py [--reads 2000] [--rounds 3]

Reads one CI by key (the query of ``GET /cis/{key}``) in both ways, alternating, and prints the
mean wall time and CPU time of a read for each round. The engine runs in this process, so the
CPU time counts client and engine together and holds up on a busy machine, where wall times
mostly measure the other programs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmdb.graph import CIInput, Graph  # noqa: E402
from cmdb.graph.ci import FETCH_CIS  # noqa: E402
from cmdb.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cmdb-bench-reads-") as tmp:
        graph = Graph.connect(Settings(data_dir=Path(tmp), engine_idle_seconds=0))
        graph.upsert_cis([CIInput(f"K{i:03d}", "Hardware", {"category": "server"})
                          for i in range(100)], actor="bench")

        def managed():
            with graph.driver.session(database=graph.database) as session:
                return session.execute_read(
                    lambda tx: [r.data() for r in tx.run(FETCH_CIS, keys=["K050"])])

        def one_query():
            return graph.read(FETCH_CIS, keys=["K050"])

        assert managed() == one_query()
        for round_no in range(1, args.rounds + 1):
            for name, read in (("managed transaction", managed), ("one auto-commit query", one_query)):
                for _ in range(200):
                    read()
                started, cpu = time.perf_counter(), time.process_time()
                for _ in range(args.reads):
                    read()
                mean = (time.perf_counter() - started) / args.reads * 1000
                cpu_mean = (time.process_time() - cpu) / args.reads * 1000
                print(f"round {round_no}: {name:<22} {mean:6.3f} ms/read, CPU {cpu_mean:6.3f} ms  "
                      f"(load {os.getloadavg()[0]:.1f})", flush=True)
        graph.close()


if __name__ == "__main__":
    main()
