"""Closing a campaign with corrections, and the assets whose audit is overdue.

Corrections go through the store's batched, history-writing operations with the campaign
named as the source of every change entry: relocations (``link_many`` replaces the single
LOCATED_IN), status ``missing`` (``upsert_cis``) and the audit dates
(``set_system_properties``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from cmdb.audit.campaigns import (
    CLOSED, CLOSING, EXPECTED_STATUSES, OPEN, Campaign, get_campaign,
)
from cmdb.audit.locations import LocationTree
from cmdb.audit.reconcile import reconcile
from cmdb.errors import Conflict, InvalidInput
from cmdb.graph import audit as graph_audit
from cmdb.graph.schema import utc_now
from cmdb.i18n import _
from cmdb.graph import CIInput, Graph, Link
from cmdb.settings import Settings

# Hardware that is not expected on site needs no audit.
NOT_AUDITED_STATUSES = ("planned", "retired", "disposed")


def change_source(campaign: Campaign) -> str:
    return f"audit {campaign.id} ({campaign.name})"


def close_campaign(graph: Graph, campaign: Campaign, *, actor: str, settings: Settings,
                   apply_relocations: bool = False, mark_missing: bool = False) -> dict[str, Any]:
    if campaign.status == CLOSED:
        raise Conflict(_("Audit campaign %(id)s (%(name)s) is already closed", id=campaign.id,
                         name=campaign.name),
                       {"id": campaign.id, "status": campaign.status})
    graph_audit.update_campaign(graph, campaign.id, {"status": CLOSING}, expect_status=(OPEN, CLOSING))
    campaign = get_campaign(graph, campaign.id)
    result = reconcile(graph, campaign)
    source = change_source(campaign)
    closed_at = utc_now()

    relocated: list[str] = []
    if apply_relocations:
        moves = [Link(e["key"], "LOCATED_IN", e["found_location"])
                 for e in result["relocated"] if not e.get("deleted") and e.get("found_location")]
        done = graph.link_many(moves, actor=actor, source=source)
        relocated = sorted(link.from_key for link in done.created)

    marked: list[str] = []
    if mark_missing:
        keys = [e["key"] for e in result["missing"] if not e.get("deleted")]
        current = graph.get_cis(keys)
        # Only what is still registered as present: a status someone changed since the
        # campaign started is theirs to keep.
        still_present = [k for k in keys
                         if k in current and current[k].properties.get("status") in EXPECTED_STATUSES]
        done = graph.upsert_cis([CIInput(k, "Hardware", {"status": "missing"}) for k in still_present],
                                actor=actor, source=source)
        marked = sorted(done.updated)

    seen = sorted({e["key"] for c in ("found", "relocated") for e in result[c]
                   if e.get("key") and not e.get("deleted")})
    due = (dt.date.fromisoformat(closed_at[:10]) + dt.timedelta(days=settings.audit_cadence_days)).isoformat()
    graph.set_system_properties([(k, {"last_audited_at": closed_at, "next_audit_due": due}) for k in seen],
                                actor=actor, source=source)

    corrections = {"apply_relocations": apply_relocations, "mark_missing": mark_missing,
                   "relocated": len(relocated), "marked_missing": len(marked), "audited": len(seen),
                   "next_audit_due": due}
    graph_audit.update_campaign(graph, campaign.id, {
        "status": CLOSED, "closed_at": closed_at, "closed_by": actor,
        "corrections": json.dumps(corrections)}, expect_status=(CLOSING,))
    return {"campaign": get_campaign(graph, campaign.id).as_dict(), "relocated": relocated,
            "marked_missing": marked, "audited": len(seen), "next_audit_due": due,
            "summary": result["summary"]}


def overdue_assets(graph: Graph, settings: Settings, as_of: dt.date | str | None = None) -> list[dict[str, Any]]:
    """Hardware whose next audit is due on or before ``as_of`` (default today). A never audited
    asset is due from the day it entered the register (plus ``audit_first_due_days``)."""
    if isinstance(as_of, str):
        try:
            as_of = dt.date.fromisoformat(as_of.strip())
        except ValueError:
            raise InvalidInput(_("%(value)s is not a date; expected YYYY-MM-DD", value=repr(as_of)),
                               field="as_of",
                               value=as_of, allowed="YYYY-MM-DD") from None
    as_of = as_of or dt.datetime.now(dt.timezone.utc).date()
    first_due = dt.timedelta(days=settings.audit_first_due_days)
    tree: LocationTree | None = None
    out: list[dict[str, Any]] = []
    for r in graph_audit.audit_due_candidates(graph, NOT_AUDITED_STATUSES):
        if r["next_audit_due"]:
            due = dt.date.fromisoformat(r["next_audit_due"][:10])
        elif r["created_at"]:
            due = dt.date.fromisoformat(r["created_at"][:10]) + first_due
        else:
            due = as_of - dt.timedelta(days=1)  # no dates at all: never audited, long due
        if due > as_of:
            continue
        if tree is None:
            tree = LocationTree.load(graph)
        out.append({"key": r["key"], "name": r["name"], "status": r["status"],
                    "location": r["location"], "location_path": tree.path_text(r["location"]) or None,
                    "last_audited_at": r["last_audited_at"], "due": due.isoformat(),
                    "never_audited": not r["last_audited_at"], "days_overdue": (as_of - due).days})
    out.sort(key=lambda e: (e["due"], e["key"]))
    return out
