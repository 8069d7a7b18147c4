"""Kill the process (SIGKILL) in the middle of a large batched write; on restart the database
opens and holds each committed transaction whole, and no transaction in part."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

BATCH = 1000

WRITER = textwrap.dedent(f"""
    import sys
    from pathlib import Path
    from cmdb.graph import CIInput, Graph
    from cmdb.settings import Settings

    graph = Graph.connect(Settings(data_dir=Path(sys.argv[1])))
    print("ready", flush=True)
    for batch in range(10_000):
        rows = [CIInput(f"B{{batch:05d}}-{{i:04d}}", "Hardware", {{"name": f"batch {{batch}}"}})
                for i in range({BATCH})]
        graph.upsert_cis(rows, actor="crash-test", batch_size={BATCH})
        print(f"committed {{batch}}", flush=True)
""")

READER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from cmdb.graph import Graph
    from cmdb.settings import Settings

    graph = Graph.connect(Settings(data_dir=Path(sys.argv[1])))
    rows = graph.read("MATCH (n:CI) RETURN n.name AS batch, count(n) AS n")
    changes = graph.read("MATCH (c:Change) RETURN count(c) AS n")[0]["n"]
    print(json.dumps({"batches": {r["batch"]: r["n"] for r in rows}, "changes": changes}))
    graph.close()
""")


def test_sigkill_during_batched_writes_loses_no_committed_batch_and_leaves_none_partial(tmp_path):
    data_dir = tmp_path / "crash"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(data_dir)], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, cwd=tmp_path)
    committed: list[int] = []
    deadline = time.monotonic() + 240
    try:
        for line in writer.stdout:
            if line.startswith("committed"):
                committed.append(int(line.split()[1]))
                if len(committed) >= 4:
                    break
            assert time.monotonic() < deadline, "the writer did not commit 4 batches in time"
        time.sleep(0.3)  # let it get into the middle of the next transaction
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    # the writer went on committing while this test read and slept: count every batch it
    # reported, including the lines still in the pipe when it was killed
    committed += [int(line.split()[1]) for line in writer.stdout if line.startswith("committed")]
    writer.stdout.close()
    assert committed == list(range(len(committed))) and len(committed) >= 4

    reader = subprocess.run([sys.executable, "-c", READER, str(data_dir)], capture_output=True, text=True,
                            timeout=240, cwd=tmp_path)
    assert reader.returncode == 0, reader.stderr[-2000:]
    found = json.loads(reader.stdout.strip().splitlines()[-1])
    batches = {int(name.split()[1]): n for name, n in found["batches"].items()}
    whole = sorted(batches)
    # every batch reported committed is there in full; at most the one in flight also made it
    # (committed in the engine, killed before it could say so)
    assert whole in (committed, committed + [len(committed)])
    assert all(n == BATCH for n in batches.values()), batches
    # the history entries were committed with their batch, not apart from it
    assert found["changes"] == BATCH * len(whole)
    # the killed process's published address was stale; the reader started its own engine
    assert not (data_dir / "engine.json").exists()
