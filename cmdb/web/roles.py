"""Who may do what on the pages: the API's role rules (``deps.allow``), named for the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from cmdb.api.deps import Principal, allow

# Recording scans: asset staff walk the sites, auditors run campaigns (admins always may).
Recorder = Annotated[Principal, Depends(allow("asset_staff", "auditor"))]
RECORDING_ROLES = frozenset(allow("asset_staff", "auditor").allowed_roles)  # type: ignore[attr-defined]

# Setting a status back (a "missing" asset found again): the roles the API lets change a status.
StatusSetter = Annotated[Principal, Depends(allow("asset_staff"))]
STATUS_ROLES = frozenset(allow("asset_staff").allowed_roles)  # type: ignore[attr-defined]
