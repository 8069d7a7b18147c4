"""The pages' view of the audit service (cmdb.audit): campaigns, scans, progress.

Kept in one place so the pages depend on a handful of calls, not on the service's layout.
"""

from __future__ import annotations

from typing import Any

from cmdb.graph import Graph


def open_campaigns(graph: Graph) -> list[Any]:
    from cmdb.audit.campaigns import open_campaigns as _open
    return _open(graph)


def campaigns_covering(graph: Graph, key: str, at: str | None = None) -> list[Any]:
    from cmdb.audit.campaigns import open_campaigns_covering
    return open_campaigns_covering(graph, key, at)
