"""The pages' view of the audit service (cmdb.audit.service): campaigns, scans, progress.

Kept in one place so the pages depend on a handful of calls, not on the service's layout.
"""

from __future__ import annotations

from typing import Any

from cmdb.audit import service
from cmdb.graph import Graph

LIST_LIMIT = 200  # entries of each list the progress page shows


def open_campaigns(graph: Graph) -> list[Any]:
    return service.open_campaigns(graph)


def all_campaigns(graph: Graph) -> list[Any]:
    return service.list_campaigns(graph)


def campaign(graph: Graph, campaign_id: str) -> Any:
    return service.get_campaign(graph, campaign_id)


def campaigns_covering(graph: Graph, key: str, at: str | None = None) -> list[Any]:
    return service.open_campaigns_covering(graph, key, at)


def record_scan(graph: Graph, campaign_id: str, tag: str, location: str, *, actor: str,
                note: str | None = None, problem: str | None = None,
                source: str = "scan_page") -> dict[str, Any]:
    return service.record_scan(graph, campaign_id, tag, location, actor=actor, note=note,
                               condition=problem, source=source)


def _entry(e: dict[str, Any]) -> dict[str, Any]:
    """The fields the page lists show, all plain text."""
    found = e.get("found_path") or ", ".join(p or "" for p in e.get("found_paths") or [])
    return {"key": e.get("key") or e.get("tag"), "registered": e.get("key") is not None,
            "name": e.get("name") or "", "expected": e.get("expected_path") or "",
            "found": found or "", "reason": e.get("reason_text") or "",
            "note": "; ".join(x for x in (e.get("condition"), e.get("note")) if x)}


def progress(graph: Graph, campaign_id: str) -> dict[str, Any]:
    """Summary, per site/building bars and the missing/relocated/unexpected lists."""
    result = service.reconcile(graph, service.get_campaign(graph, campaign_id))
    summary = result["summary"]
    groups = [{"label": " › ".join(x for x in (g.get("site_name"), g.get("building_name")) if x)
               or "No location",
               "expected": g["expected"], "verified": g["verified"],
               "percent": g["verified_percent"]}
              for g in summary["by_site"] if g["expected"]]
    lists = {}
    for category in ("missing", "relocated", "unexpected", "duplicates", "status_mismatch"):
        entries = result[category]
        lists[category] = {"total": len(entries), "items": [_entry(e) for e in entries[:LIST_LIMIT]]}
    return {"campaign": summary["campaign"], "expected": summary["expected"],
            "verified": summary["verified"], "percent": summary["verified_percent"],
            "scans": summary["scans"], "counts": summary["counts"], "groups": groups,
            "lists": lists}
