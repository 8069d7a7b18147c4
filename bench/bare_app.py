"""The reference for bench/bench_api.py: a bare FastAPI app answering the same route with a CI
of the same shape, no engine, no sign-in. Served by uvicorn with as many workers as the CMDB."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/api/v1/cis/{key}")
def get_ci(key: str) -> dict:
    return {"key": key, "kind": "Hardware", "revision": 1,
            "properties": {"name": key.lower(), "category": "server", "status": "in_use",
                           "serial": "SN000000001", "model": "PowerEdge R750", "cpu_cores": 16,
                           "ram_gb": 64, "revision": 1, "created_at": "2026-11-29T00:00:00Z",
                           "updated_at": "2026-11-29T00:00:00Z"}}
