"""Health and version: no sign-in needed, so load balancers and monitors can call them."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from cmdb import __version__
from cmdb.auth import GraphDep, public
from cmdb.errors import EngineUnavailable

router = APIRouter(tags=["system"], dependencies=[Depends(public)])


class Health(BaseModel):
    status: str
    engine: str


class Version(BaseModel):
    version: str


@router.get("/healthz", response_model=Health)
def healthz(graph: GraphDep) -> Health:
    try:
        graph.ping()
    except EngineUnavailable:
        raise
    except Exception as exc:  # any driver failure means the engine cannot serve requests
        raise EngineUnavailable(f"The graph engine does not answer: {exc}") from exc
    # "embedded" or "external": where it runs (data directory, URI) is for the server log only.
    return Health(status="ok",
                  engine="embedded" if graph.description.startswith("embedded") else "external")


@router.get("/version", response_model=Version)
def version() -> Version:
    return Version(version=__version__)
