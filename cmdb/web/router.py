"""All page routes, as one router the app includes with prefix ""."""

from __future__ import annotations

from fastapi import APIRouter

from cmdb.web import (
    audits, auth, baselines, cis, contracts, faults, home, images, impact, language, library,
    maintenance, repairs, scan, spares,
)

router = APIRouter()
for _module_router in (auth.router, home.router, home.json_router, cis.router, scan.router,
                       audits.router, audits.json_router, impact.router, impact.json_router,
                       language.router, baselines.router, images.router, library.router,
                       contracts.router, repairs.router, spares.router, faults.router,
                       maintenance.router):
    router.include_router(_module_router)
