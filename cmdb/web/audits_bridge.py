"""The pages' view of the audit service (cmdb.audit.service): campaigns, scans, progress.

Kept in one place so the pages depend on a handful of calls, not on the service's layout.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from cmdb.audit import service
from cmdb.graph import Graph
from cmdb.i18n import _
from cmdb.i18n.names import reason_name

LIST_LIMIT = 200  # entries of each list the progress page shows
CACHE_SECONDS = 30  # progress is recomputed when a scan arrives, or after this long
_cache: dict[tuple[int, str], tuple[int, str, float, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


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
            "found": found or "", "reason": e.get("reason") or "",
            "note": "; ".join(x for x in (e.get("condition"), e.get("note")) if x)}


def progress(graph: Graph, campaign_id: str) -> dict[str, Any]:
    """Summary, per site/building bars and the missing/relocated/unexpected lists.

    Every open progress page polls this; reconciling a large campaign takes a while, so the
    result is reused until the campaign's scan count or status changes (or it gets old).
    """
    campaign = service.get_campaign(graph, campaign_id)
    slot = (id(graph), campaign.id)
    with _cache_lock:
        cached = _cache.get(slot)
    if cached and cached[:2] == (campaign.scans, campaign.status) \
            and time.monotonic() - cached[2] < CACHE_SECONDS:
        return _in_language(cached[3])
    computed = _progress(graph, campaign)
    with _cache_lock:
        if len(_cache) > 100:
            _cache.clear()
        _cache[slot] = (campaign.scans, campaign.status, time.monotonic(), computed)
    return _in_language(computed)


def _in_language(computed: dict[str, Any]) -> dict[str, Any]:
    """The cached progress (language-neutral) with its words in the reader's language."""
    groups = [{**g, "label": g["label"] or _("No location")} for g in computed["groups"]]
    lists = {category: {**data, "items": [{**e, "reason": reason_name(e["reason"])}
                                          for e in data["items"]]}
             for category, data in computed["lists"].items()}
    return {**computed, "groups": groups, "lists": lists}


def _progress(graph: Graph, campaign: Any) -> dict[str, Any]:
    result = service.reconcile(graph, campaign)
    summary = result["summary"]
    groups = [{"label": " › ".join(x for x in (g.get("site_name"), g.get("building_name")) if x),
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
