"""The scan page's "Found here" (and "Report a problem"): one call, one existence check.

The asset and the place it was found are looked up together; the locations around both
decide which open campaigns cover it and whether a scoped caller may record it; then the
scans and the asset's ``last_seen_at`` (with its history entry) are written in one
transaction.
"""

from __future__ import annotations

from typing import Any

from cmdb import policy
from cmdb.audit.campaigns import campaign_from_row
from cmdb.audit.scans import ScanInput, checked_key, prepare
from cmdb.errors import InvalidInput, UnknownKey
from cmdb.graph import Graph
from cmdb.graph import audit as graph_audit
from cmdb.graph.schema import utc_now
from cmdb.i18n import _
from cmdb.i18n.names import kind_name

SOURCE_MAX = 1100  # characters of the history entry's source: the note is cut there


def record_found_here(graph: Graph, key: str, location: str | None = None, *, actor: str,
                      caller: policy.Caller | None = None, note: str | None = None,
                      condition: str | None = None) -> list[dict[str, Any]]:
    """Record that hardware ``key`` was seen at ``location`` (None: where it is registered):
    a scan in every open campaign covering the asset or that place, and ``last_seen_at``.
    ``condition`` (a problem reported) and ``note`` go on the scans and into the history
    entry. With ``caller``, both must lie inside its location scope. Returns the scans."""
    key = checked_key(key, "key")
    location = checked_key(location, "location") if location else None
    found = graph_audit.scanned_places(graph, [key] + ([location] if location else []))
    if key not in found:
        raise UnknownKey(key)
    kind, registered = found[key]
    if kind != "Hardware":
        raise InvalidInput(_("%(key)r is a %(kind)s; only hardware is scanned", key=key,
                             kind=kind_name(kind)), field="key", value=key)
    if location is None:
        if registered is None:
            raise InvalidInput(_("Pick the location where the asset is"), field="location")
        location = registered
    elif found.get(location, ("",))[0] != "Location":
        raise InvalidInput(_("%(location)r is not a registered location; pick one from the list",
                             location=location),
                           field="location", value=location)
    chains = graph_audit.containment_chains(graph, [k for k in (registered, location) if k])
    around_asset = {key} | chains.get(registered, set()) if registered else {key}
    if caller is not None:
        policy.require_chains_in_scope(caller, {key: around_asset, location: chains[location]})
    places = chains[location] | (chains.get(registered, set()) if registered else set())
    campaigns = [c for c in map(campaign_from_row, graph_audit.campaigns(graph))
                 if c.is_open and (not c.scope or places.intersection(c.scope))]
    now = utc_now()
    scans = [prepare(c.id, ScanInput(key, location, note=note, condition=condition), actor=actor,
                     source="scan_page", recorded_at=now, untimed_is_new=True)
             for c in campaigns]
    source = f"scan page: found at {location}"
    if condition:
        source = (f"problem reported: {condition}" + (f" — {note}" if note else "")
                  + f" (at {location})")
    graph_audit.record_found(graph, key, kind, scans, now, actor=actor, source=source[:SOURCE_MAX])
    return [{**scan, "created": True} for scan in scans]
