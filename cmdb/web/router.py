"""All page routes, as one router the app includes with prefix ""."""

from __future__ import annotations

from fastapi import APIRouter

from cmdb.web import audits, auth, cis, faults, home, impact, language, maintenance, scan

router = APIRouter()
for _module_router in (auth.router, home.router, home.json_router, cis.router, scan.router,
                       audits.router, audits.json_router, impact.router, impact.json_router,
                       language.router, faults.router, maintenance.router):
    router.include_router(_module_router)
