"""The reference for bench/bench_api.py: a bare FastAPI app answering the same route with a CI
of the same shape, no engine, no sign-in. Served by uvicorn workers exactly as ``cmdb serve``
serves the CMDB's (``cmdb.api_workers``), with as many workers:

    python bench/bare_app.py --workers 2 --host 127.0.0.1 --port 8001
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fastapi import FastAPI

app = FastAPI()


@app.get("/api/v1/cis/{key}")
def get_ci(key: str) -> dict:
    return {"key": key, "kind": "Hardware", "revision": 1,
            "properties": {"name": key.lower(), "category": "server", "status": "in_use",
                           "serial": "SN000000001", "model": "PowerEdge R750", "cpu_cores": 16,
                           "ram_gb": 64, "revision": 1, "created_at": "2026-11-29T00:00:00Z",
                           "updated_at": "2026-11-29T00:00:00Z"}}


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import uvicorn

    from cmdb.api_workers import WorkerPerSocket, listening_sockets

    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    config = uvicorn.Config("bench.bare_app:app", host=args.host, port=args.port,
                            workers=args.workers, access_log=False)
    WorkerPerSocket(config, sockets=listening_sockets(args.host, args.port, args.workers,
                                                      config.backlog)).run()
