"""Reconciliation: what a campaign expected against what its scans found.

Computed in Python from a handful of bulk reads (the campaign's snapshot, its scans, the
location tree, the register entries the scans name), so 100,000 expected assets against
100,000 scans take seconds.

Every expected asset (in use or in stock when the campaign started) lands in exactly one of
found, relocated, duplicates or missing; every in-repair one in found, relocated, duplicates
or away. Scanned tags outside the expected set land in status_mismatch (registered as
retired, disposed or missing), unexpected (not registered, or registered outside the scope
or not expected) or duplicates.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from cmdb.audit.campaigns import Campaign, ExpectedAsset, Snapshot, load_snapshot
from cmdb.audit.locations import LocationTree
from cmdb.graph import audit as graph_audit
from cmdb.graph import Graph

CATEGORIES = ("found", "relocated", "missing", "unexpected", "status_mismatch", "duplicates", "away")
ENDED_STATUSES = ("retired", "disposed", "missing")

# Why a scanned tag is unexpected.
NOT_IN_REGISTER = "not_in_register"
OUTSIDE_SCOPE = "registered_outside_scope"
NOT_EXPECTED = "not_in_expected_set"
NOT_HARDWARE = "not_hardware"
REASON_TEXT = {
    NOT_IN_REGISTER: "the tag is not in the register",
    OUTSIDE_SCOPE: "registered at a location outside the campaign's scope",
    NOT_EXPECTED: "registered in scope but not expected (status or registered after the start)",
    NOT_HARDWARE: "the tag belongs to a CI that is not hardware",
}


@dataclass(frozen=True)
class RegisterEntry:
    key: str
    kind: str | None
    name: str | None
    status: str | None
    location: str | None


def _register_entries(rows: list[dict[str, Any]]) -> dict[str, RegisterEntry]:
    out = {}
    for r in rows:
        kind = next((label for label in r["labels"] if label != "CI"), None)
        out[r["key"]] = RegisterEntry(r["key"], kind, r["name"], r["status"], r["location"])
    return out


def _most_specific(locations: list[str], tree: LocationTree) -> list[str]:
    """Drop every location that contains another one in the list (room vs a rack in it)."""
    if len(locations) == 1:
        return locations
    distinct = sorted(set(locations))
    if len(distinct) == 1:
        return distinct
    return [a for a in distinct
            if not any(b != a and tree.contains(a, b) for b in distinct)]


class Reconciler:
    def __init__(self, campaign: Campaign, snapshot: Snapshot, scans: list[dict[str, Any]],
                 tree: LocationTree, register: dict[str, RegisterEntry],
                 serial_matches: dict[str, RegisterEntry], present: set[str]):
        self.campaign = campaign
        self.snapshot = snapshot
        self.scans = scans
        self.tree = tree
        self.register = register
        self.serial_matches = serial_matches
        self.present = present  # keys in the register now
        self.scope = tree.subtree(campaign.scope) if campaign.scope else None
        self._places: dict[str | None, tuple[str | None, str | None]] = {}
        self._paths: dict[str, str] = {}

    # -- helpers

    def place(self, location: str | None) -> tuple[str | None, str | None]:
        if location not in self._places:
            self._places[location] = self.tree.site_building(location)
        return self._places[location]

    def path(self, location: str | None) -> str | None:
        if location is None:
            return None
        if location not in self._paths:
            self._paths[location] = (self.tree.path_text(location)
                                     or self.snapshot.location_paths.get(location) or location)
        return self._paths[location]

    def _base(self, key: str | None, tag: str | None, name: str | None, status: str | None,
              expected: str | None) -> dict[str, Any]:
        entry: dict[str, Any] = {"key": key, "tag": tag, "name": name, "registered_status": status,
                                 "expected_location": expected,
                                 "expected_path": (self.snapshot.location_paths.get(expected)
                                                   or self.path(expected)) if expected else None}
        if key is not None:
            entry["deleted"] = key not in self.present
        return entry

    @staticmethod
    def _scan_facts(group: list[dict[str, Any]]) -> dict[str, Any]:
        if len(group) == 1:  # the usual case, kept cheap for 100,000 scans
            scan = group[0]
            facts = {"scans": 1, "scanned_at": scan["at"], "scanned_by": _recorder(scan)}
            if scan.get("note"):
                facts["note"] = scan["note"]
            if scan.get("condition"):
                facts["condition"] = scan["condition"]
            return facts
        last = max(group, key=lambda s: (s["at"] or "", s["id"]))
        facts = {"scans": len(group), "scanned_at": last["at"], "scanned_by": _recorder(last)}
        notes = [s["note"] for s in group if s.get("note")]
        conditions = [s["condition"] for s in group if s.get("condition")]
        if notes:
            facts["note"] = "; ".join(dict.fromkeys(notes))
        if conditions:
            facts["condition"] = "; ".join(dict.fromkeys(conditions))
        return facts

    # -- the work

    def run(self) -> dict[str, Any]:
        result: dict[str, list[dict[str, Any]]] = {c: [] for c in CATEGORIES}
        by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
        by_serial: dict[str, bool] = {}
        unknown: dict[str, list[dict[str, Any]]] = defaultdict(list)
        snapshot_serials = self._snapshot_serials()
        for scan in self.scans:
            tag = scan["tag"]
            key, via_serial = self._resolve(tag, snapshot_serials)
            if key is None:
                unknown[tag].append(scan)
                continue
            by_key[key].append(scan)
            # The label is missing when no scan of the asset read its tag.
            by_serial[key] = by_serial.get(key, True) and via_serial

        for key, group in by_key.items():
            category, entry = self._classify(key, group, by_serial[key])
            result[category].append(entry)

        for tag, group in unknown.items():
            places = _most_specific([s["location"] for s in group], self.tree)
            entry = self._base(None, tag, None, None, None)
            entry.update(self._found(places), reason=NOT_IN_REGISTER,
                         reason_text=REASON_TEXT[NOT_IN_REGISTER], **self._scan_facts(group))
            result["unexpected"].append(entry)

        for key, asset in self.snapshot.assets.items():
            if key in by_key:
                continue
            entry = self._base(key, None, asset.name, asset.status, asset.location)
            entry["category_of_hardware"] = asset.category
            result["away" if asset.away else "missing"].append(entry)

        for category in CATEGORIES:
            result[category].sort(key=lambda e: (e["key"] or "", e["tag"] or ""))
        return {**result, "summary": self._summary(result)}

    def _snapshot_serials(self) -> dict[str, str]:
        seen: dict[str, str | None] = {}
        for asset in self.snapshot.assets.values():
            if asset.serial:
                seen[asset.serial] = None if asset.serial in seen else asset.key
        return {s: k for s, k in seen.items() if k is not None}

    def _resolve(self, tag: str, snapshot_serials: dict[str, str]) -> tuple[str | None, bool]:
        if tag in self.snapshot.assets or tag in self.register:
            return tag, False
        if tag in snapshot_serials:
            return snapshot_serials[tag], True
        match = self.serial_matches.get(tag)
        if match is not None:
            return match.key, True
        return None, False

    def _found(self, places: list[str]) -> dict[str, Any]:
        if len(places) == 1:
            return {"found_location": places[0], "found_path": self.path(places[0])}
        return {"found_location": None, "found_path": None, "found_locations": places,
                "found_paths": [self.path(p) for p in places]}

    def _classify(self, key: str, group: list[dict[str, Any]],
                  label_missing: bool) -> tuple[str, dict[str, Any]]:
        asset: ExpectedAsset | None = self.snapshot.assets.get(key)
        current = self.register.get(key)
        places = _most_specific([s["location"] for s in group], self.tree)
        if asset is not None:
            entry = self._base(key, None, asset.name, asset.status, asset.location)
        else:
            entry = self._base(key, None, current.name if current else None,
                               current.status if current else None,
                               current.location if current else None)
        entry.update(self._found(places), label_missing=label_missing, **self._scan_facts(group))
        if len(places) > 1:
            entry["expected"] = asset is not None and not asset.away
            return "duplicates", entry
        found = places[0]
        if asset is not None:
            if self.tree.related(asset.location, found):
                return "found", entry
            return "relocated", entry
        assert current is not None  # resolved through the register
        if current.kind != "Hardware":
            return "unexpected", {**entry, "reason": NOT_HARDWARE, "reason_text": REASON_TEXT[NOT_HARDWARE]}
        if current.status in ENDED_STATUSES:
            return "status_mismatch", entry
        if self.scope is not None and current.location not in self.scope:
            reason = OUTSIDE_SCOPE
        else:
            reason = NOT_EXPECTED
        return "unexpected", {**entry, "reason": reason, "reason_text": REASON_TEXT[reason]}

    def _group_of(self, category: str, entry: dict[str, Any]) -> tuple[str | None, str | None]:
        if category in ("missing", "away", "found", "relocated", "duplicates") and \
                entry.get("expected_location") and entry["key"] in self.snapshot.assets:
            return self.place(entry["expected_location"])
        location = entry.get("found_location") or (entry.get("found_locations") or [None])[0]
        return self.place(location or entry.get("expected_location"))

    def _summary(self, result: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        expected_keys = {k for k, a in self.snapshot.assets.items() if not a.away}
        verified_cats = ("found", "relocated", "duplicates")
        verified = sum(1 for c in verified_cats for e in result[c] if e["key"] in expected_keys)
        groups: dict[tuple[str | None, str | None], dict[str, int]] = {}

        def group(site_building):
            if site_building not in groups:
                groups[site_building] = {"expected": 0, "verified": 0, **{c: 0 for c in CATEGORIES}}
            return groups[site_building]

        for key in expected_keys:
            group(self.place(self.snapshot.assets[key].location))["expected"] += 1
        for category in CATEGORIES:
            for entry in result[category]:
                g = group(self._group_of(category, entry))
                g[category] += 1
                if category in verified_cats and entry["key"] in expected_keys:
                    g["verified"] += 1
        by_place = []
        for (site, building), counts in groups.items():
            by_place.append({"site": site, "site_name": self.tree.name(site),
                             "building": building, "building_name": self.tree.name(building),
                             **counts, "verified_percent": _percent(counts["verified"], counts["expected"])})
        by_place.sort(key=lambda g: (g["site"] or "\uffff", g["building"] or "\uffff"))
        scanned_tags = {s["tag"] for s in self.scans}
        return {
            "campaign": {"id": self.campaign.id, "name": self.campaign.name,
                         "status": self.campaign.status, "scope": list(self.campaign.scope),
                         "started_at": self.campaign.created_at, "due": self.campaign.due},
            "counts": {c: len(result[c]) for c in CATEGORIES},
            "expected": len(expected_keys),
            "expected_away": len(self.snapshot.assets) - len(expected_keys),
            "verified": verified,
            "verified_percent": _percent(verified, len(expected_keys)),
            "scans": len(self.scans),
            "scanned_tags": len(scanned_tags),
            "label_missing": sum(1 for c in CATEGORIES for e in result[c] if e.get("label_missing")),
            "deleted_from_register": sum(1 for c in CATEGORIES for e in result[c] if e.get("deleted")),
            "by_site": by_place,
        }


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def reconcile(graph: Graph, campaign: Campaign) -> dict[str, Any]:
    snapshot = load_snapshot(graph, campaign.id)
    scans = graph_audit.scans(graph, campaign.id)
    tree = LocationTree.load(graph)
    present = graph_audit.existing_hardware(graph, list(snapshot.assets))
    tags = {s["tag"] for s in scans}
    # Details only for what the snapshot does not know: scanned tags outside it.
    register = _register_entries(graph_audit.register_by_key(
        graph, [t for t in tags if t not in snapshot.assets]))
    snapshot_serials = {a.serial for a in snapshot.assets.values() if a.serial}
    unresolved = [t for t in tags
                  if t not in snapshot.assets and t not in register and t not in snapshot_serials]
    serial_matches: dict[str, RegisterEntry] = {}
    if unresolved:
        rows = graph_audit.register_by_serial(graph, unresolved)
        counts: dict[str, int] = defaultdict(int)
        for r in rows:
            counts[r["serial"]] += 1
        # A serial shared by several CIs identifies none of them.
        for r in rows:
            if counts[r["serial"]] == 1:
                serial_matches[r["serial"]] = _register_entries([r])[r["key"]]
        register.update({e.key: e for e in serial_matches.values()})
    present.update(register)
    return Reconciler(campaign, snapshot, scans, tree, register, serial_matches, present).run()


def _recorder(scan: dict[str, Any]) -> str | None:
    """Who recorded a scan: the signed-in caller (or the importing user), not the person a
    client or file says scanned it."""
    return scan.get("recorded_by") or scan.get("by")
