"""Who may do what on the pages: the API's role rules (``deps.allow``), named for the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from cmdb.auth import Principal, allowed_to
from cmdb.policy import roles_for

# Recording scans: asset staff walk the sites, auditors run campaigns (admins always may).
Recorder = Annotated[Principal, Depends(allowed_to("scan"))]
RECORDING_ROLES = roles_for("scan")

# Setting a status back (a "missing" asset found again): whoever may change a CI's status.
StatusSetter = Annotated[Principal, Depends(allowed_to("ci.update"))]
STATUS_ROLES = roles_for("ci.update")

# Writing notes and attaching documents (the document library and knowledge base).
DocumentEditor = Annotated[Principal, Depends(allowed_to("document.change"))]
DOCUMENT_ROLES = roles_for("document.change")
