"""What the API, the CLI and the web pages call: one import for the whole audit domain."""

from __future__ import annotations

from typing import Any

from cmdb.audit.campaigns import (  # noqa: F401 - re-exported
    Campaign, get_campaign, list_campaigns, open_campaigns, open_campaigns_covering,
    resolve_campaign, start_campaign,
)
from cmdb.audit.closing import close_campaign, overdue_assets  # noqa: F401
from cmdb.audit.found_here import record_found_here  # noqa: F401
from cmdb.audit.reconcile import CATEGORIES, reconcile  # noqa: F401
from cmdb.audit.scan_files import read_scan_file
from cmdb.audit.scans import ScanInput, record_scan, record_scans  # noqa: F401
from cmdb.graph import Graph
from cmdb.settings import Settings


def reconcile_campaign(graph: Graph, ref: str) -> dict[str, Any]:
    return reconcile(graph, resolve_campaign(graph, ref))


def import_scans(graph: Graph, ref: str, source, *, actor: str, at: str | None = None,
                 name: str | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """Scans from a scanner export (path or bytes); all valid or nothing recorded."""
    campaign = resolve_campaign(graph, ref)
    items = read_scan_file(source, name=name, at=at, settings=settings)
    result = record_scans(graph, campaign.id, items, actor=actor, source="file")
    return {**result, "file": name or str(source) if not isinstance(source, bytes) else name}
