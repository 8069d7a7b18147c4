"""Health and version: no sign-in needed, so load balancers and monitors can call them."""

from __future__ import annotations

from typing import Literal, Union

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from cmdb import __version__
from cmdb.auth import GraphDep, public
from cmdb.api.models import ErrorBody
from cmdb.errors import EngineRestarting, EngineUnavailable
from cmdb.i18n import _

router = APIRouter(tags=["system"], dependencies=[Depends(public)])


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    engine: str


class Version(BaseModel):
    version: str


@router.get("/healthz", response_model=Health,
            responses={503: {"model": Union[Health, ErrorBody],
                             "description": "The engine is being restarted (`status: degraded`, "
                             "with `Retry-After`), or is unreachable (an error)"}})
def healthz(graph: GraphDep):
    # "embedded" or "external": where it runs (data directory, URI) is for the server log only.
    engine = "embedded" if graph.description.startswith("embedded") else "external"
    try:
        graph.ping()
    except EngineRestarting as exc:
        return JSONResponse(Health(status="degraded", engine=engine).model_dump(), status_code=503,
                            headers={"Retry-After": str(exc.retry_after)})
    except EngineUnavailable:
        raise
    except Exception as exc:  # any driver failure means the engine cannot serve requests
        raise EngineUnavailable(_("The graph engine does not answer: %(error)s", error=exc)) from exc
    return Health(status="ok", engine=engine)


@router.get("/version", response_model=Version)
def version() -> Version:
    return Version(version=__version__)
