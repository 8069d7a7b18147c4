"""Audit campaigns: start one (snapshotting what is expected where), find, list, check scope.

A campaign is ``open`` until closed. Closing passes through ``closing`` (scans refused,
corrections being applied; running close again finishes the job) to ``closed``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
import unicodedata
import zlib
from dataclasses import dataclass, field
from typing import Any

from cmdb.audit.locations import LocationTree
from cmdb.errors import InvalidInput, NotFound, WrongKind
from cmdb.graph import audit as graph_audit
from cmdb.graph.schema import utc_now
from cmdb.i18n import _, ngettext
from cmdb.graph import Graph

EXPECTED_STATUSES = ("in_use", "in_stock")
AWAY_STATUSES = ("in_repair",)
OPEN, CLOSING, CLOSED = "open", "closing", "closed"
NAME_MAX_LENGTH = 200
SNAPSHOT_PART_CHARS = 500_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    status: str
    scope: list[str]
    due: str | None
    created_at: str
    created_by: str
    closed_at: str | None = None
    closed_by: str | None = None
    expected_count: int = 0
    away_count: int = 0
    scans: int = 0
    corrections: dict[str, Any] | None = None

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "status": self.status, "scope": list(self.scope),
                "due": self.due, "created_at": self.created_at, "created_by": self.created_by,
                "closed_at": self.closed_at, "closed_by": self.closed_by,
                "expected_count": self.expected_count, "away_count": self.away_count,
                "scans": self.scans, "corrections": self.corrections}


@dataclass(frozen=True)
class ExpectedAsset:
    key: str
    name: str | None
    status: str
    serial: str | None
    category: str | None
    location: str | None   # registered location key when the campaign started

    @property
    def away(self) -> bool:
        return self.status in AWAY_STATUSES


@dataclass
class Snapshot:
    taken_at: str
    assets: dict[str, ExpectedAsset] = field(default_factory=dict)
    location_paths: dict[str, str] = field(default_factory=dict)  # as they were at the start

    def encode(self) -> list[str]:
        doc = {"taken_at": self.taken_at, "locations": self.location_paths,
               "assets": [[a.key, a.name, a.status, a.serial, a.category, a.location]
                          for a in self.assets.values()]}
        raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        text = base64.b64encode(zlib.compress(raw, 6)).decode("ascii")
        return [text[i:i + SNAPSHOT_PART_CHARS] for i in range(0, len(text), SNAPSHOT_PART_CHARS)] or [""]

    @classmethod
    def decode(cls, parts: list[str]) -> "Snapshot":
        text = "".join(parts)
        if not text:
            return cls(taken_at="")
        doc = json.loads(zlib.decompress(base64.b64decode(text)).decode("utf-8"))
        assets = {row[0]: ExpectedAsset(*row) for row in doc["assets"]}
        return cls(doc["taken_at"], assets, doc.get("locations", {}))


def campaign_from_row(row: dict[str, Any], scans: int = 0) -> Campaign:
    corrections = row.get("corrections")
    return Campaign(id=row["id"], name=row["name"], status=row["status"],
                    scope=list(row.get("scope") or []), due=row.get("due"),
                    created_at=row["created_at"], created_by=row.get("created_by") or "",
                    closed_at=row.get("closed_at"), closed_by=row.get("closed_by"),
                    expected_count=int(row.get("expected_count") or 0),
                    away_count=int(row.get("away_count") or 0), scans=scans,
                    corrections=json.loads(corrections) if corrections else None)


# --- validation ---------------------------------------------------------------------------


def validate_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(_("A campaign needs a name, e.g. 'Spring 2026 inventory'"),
                           field="name", value=name)
    text = unicodedata.normalize("NFC", name).strip()
    if len(text) > NAME_MAX_LENGTH or _CONTROL.search(text):
        raise InvalidInput(_("The campaign name must be at most %(n)s characters without control "
                             "characters", n=NAME_MAX_LENGTH), field="name", value=text)
    return text


def validate_due(due: Any) -> str | None:
    if due is None or due == "":
        return None
    if isinstance(due, dt.datetime):
        return due.date().isoformat()
    if isinstance(due, dt.date):
        return due.isoformat()
    try:
        return dt.date.fromisoformat(str(due).strip()).isoformat()
    except ValueError:
        raise InvalidInput(_("The due date %(due)s is not a date; expected YYYY-MM-DD", due=repr(due)),
                           field="due", value=due, allowed="YYYY-MM-DD") from None


def validate_scope(graph: Graph, scope: list[str]) -> list[str]:
    keys = list(dict.fromkeys(str(k).strip() for k in scope or [] if str(k).strip()))
    if not keys:
        return []
    found = graph.require_cis(keys)
    wrong = [k for k in keys if found[k].kind != "Location"]
    if wrong:
        raise WrongKind(ngettext("The scope must name locations; %(keys)s is not a Location",
                                 "The scope must name locations; %(keys)s are not Locations",
                                 len(wrong), keys=", ".join(wrong)),
                           field="scope", value=wrong, allowed="Location keys")
    return keys


# --- operations ---------------------------------------------------------------------------


def take_snapshot(graph: Graph, scope: list[str], tree: LocationTree) -> Snapshot:
    statuses = EXPECTED_STATUSES + AWAY_STATUSES
    if scope:
        rows = graph_audit.hardware_in_locations(graph, sorted(tree.subtree(scope)), statuses)
    else:
        rows = graph_audit.all_hardware_with_status(graph, statuses)
    snapshot = Snapshot(taken_at=utc_now())
    for r in rows:
        snapshot.assets[r["key"]] = ExpectedAsset(r["key"], r["name"], r["status"], r["serial"],
                                                  r["category"], r["location"])
    for location in {a.location for a in snapshot.assets.values() if a.location}:
        snapshot.location_paths[location] = tree.path_text(location) or location
    return snapshot


def start_campaign(graph: Graph, name: str, *, scope: list[str] | None = None,
                   due: Any = None, actor: str) -> Campaign:
    """Open a campaign: every Hardware in the scope (in use or in stock, plus in repair as
    away) with its registered location, as it is now."""
    name = validate_name(name)
    due = validate_due(due)
    scope = validate_scope(graph, scope or [])
    tree = LocationTree.load(graph)
    snapshot = take_snapshot(graph, scope, tree)
    now = snapshot.taken_at
    campaign_id = f"AUD-{now[:10].replace('-', '')}-{secrets.token_hex(3)}"
    away = sum(1 for a in snapshot.assets.values() if a.away)
    graph_audit.create_campaign(graph, {
        "id": campaign_id, "name": name, "status": OPEN, "scope": scope, "due": due,
        "created_at": now, "created_by": actor, "expected_count": len(snapshot.assets) - away,
        "away_count": away, "expected_parts": snapshot.encode()})
    return get_campaign(graph, campaign_id)


def get_campaign(graph: Graph, campaign_id: str) -> Campaign:
    row = graph_audit.campaign(graph, campaign_id)
    if row is None:
        raise NotFound(_("No audit campaign %(id)s; `cmdb audit list` shows them", id=repr(campaign_id)),
                       {"id": campaign_id})
    return campaign_from_row(row, graph_audit.scan_counts(graph, [campaign_id]).get(campaign_id, 0))


def list_campaigns(graph: Graph) -> list[Campaign]:
    rows = graph_audit.campaigns(graph)
    counts = graph_audit.scan_counts(graph, [r["id"] for r in rows]) if rows else {}
    return [campaign_from_row(r, counts.get(r["id"], 0)) for r in rows]


def resolve_campaign(graph: Graph, ref: str) -> Campaign:
    """A campaign by id, or by its name when exactly one campaign has it."""
    ref = (ref or "").strip()
    row = graph_audit.campaign(graph, ref)
    if row is not None:
        return get_campaign(graph, ref)
    named = [r for r in graph_audit.campaigns(graph) if r["name"] == ref]
    if len(named) == 1:
        return get_campaign(graph, named[0]["id"])
    if len(named) > 1:
        raise InvalidInput(_("%(n)s campaigns are named %(name)s; give the id instead: %(ids)s",
                             n=len(named), name=repr(ref), ids=", ".join(r["id"] for r in named)),
                           field="audit", value=ref, allowed=[r["id"] for r in named])
    raise NotFound(_("No audit campaign with id or name %(ref)s; `cmdb audit list` shows them",
                     ref=repr(ref)),
                   {"id": ref})


def load_snapshot(graph: Graph, campaign_id: str) -> Snapshot:
    return Snapshot.decode(graph_audit.snapshot_parts(graph, campaign_id))


def open_campaigns(graph: Graph) -> list[Campaign]:
    return [c for c in list_campaigns(graph) if c.is_open]


def open_campaigns_covering(graph: Graph, key: str, at: str | None = None) -> list[Campaign]:
    """Open campaigns whose scope holds the asset's registered location (or ``at``, where it
    was just found). A campaign without a scope covers the whole estate."""
    candidates = open_campaigns(graph)
    if not candidates:
        return []
    tree = LocationTree.load(graph)
    registered = graph.neighbours(key, direction="out", types=["LOCATED_IN"]) if _exists(graph, key) else []
    places = set()
    for link in registered:
        places.update(tree.chain(link["key"]))
    if at:
        places.update(tree.chain(at))
    return [c for c in candidates if not c.scope or places.intersection(c.scope)]


def _exists(graph: Graph, key: str) -> bool:
    return key in graph.get_cis([key])
