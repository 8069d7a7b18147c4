"""A small estate with a known answer for every reconciliation category (shared by the audit tests)."""

from __future__ import annotations

from cmdb.graph import Graph
from cmdb.graph import CIInput, Link

ACTOR = "test"

LOCATIONS = [
    # key, type, parent
    ("SITE-A", "site", None), ("BLD-A1", "building", "SITE-A"),
    ("ROOM-101", "room", "BLD-A1"), ("RACK-101-1", "rack", "ROOM-101"),
    ("ROOM-102", "room", "BLD-A1"),
    ("SITE-B", "site", None), ("BLD-B1", "building", "SITE-B"), ("ROOM-201", "room", "BLD-B1"),
]

HARDWARE = [
    # key, status, location, serial
    ("HW-FOUND", "in_use", "RACK-101-1", "SN-001"),
    ("HW-ROOMSCAN", "in_use", "RACK-101-1", "SN-002"),   # scanned at the room around its rack
    ("HW-RACKSCAN", "in_use", "ROOM-101", "SN-003"),     # scanned in a rack of its room
    ("HW-MOVED", "in_stock", "ROOM-101", "SN-004"),
    ("HW-MISSING", "in_use", "ROOM-102", "SN-005"),
    ("HW-TWICE", "in_use", "ROOM-102", "SN-006"),
    ("HW-DUP", "in_use", "ROOM-101", "SN-007"),
    ("HW-REPAIR", "in_repair", "ROOM-101", "SN-008"),
    ("HW-REPAIR-SEEN", "in_repair", "ROOM-102", "SN-009"),
    ("HW-RETIRED", "retired", "ROOM-101", "SN-010"),
    ("HW-OUTSIDE", "in_use", "ROOM-201", "SN-011"),
    ("HW-PLANNED", "planned", "ROOM-101", "SN-012"),
    ("HW-SERIAL", "in_use", "ROOM-102", "SN-777"),
    ("HW-DELETED", "in_use", "ROOM-102", "SN-013"),
    ("HW-B", "in_use", "ROOM-201", "SN-014"),
]

# tag, where found
SCANS = [
    ("HW-FOUND", "RACK-101-1"),
    ("HW-ROOMSCAN", "ROOM-101"),
    ("HW-RACKSCAN", "RACK-101-1"),
    ("HW-MOVED", "ROOM-102"),
    ("HW-TWICE", "ROOM-102"),
    ("HW-TWICE", "ROOM-102"),
    ("HW-DUP", "ROOM-101"),
    ("HW-DUP", "ROOM-102"),
    ("HW-REPAIR-SEEN", "ROOM-102"),
    ("HW-RETIRED", "ROOM-101"),
    ("HW-OUTSIDE", "ROOM-101"),
    ("HW-PLANNED", "ROOM-101"),
    ("UNKNOWN-1", "ROOM-102"),
    ("SN-777", "ROOM-102"),
]

EXPECTED = {"HW-FOUND", "HW-ROOMSCAN", "HW-RACKSCAN", "HW-MOVED", "HW-MISSING", "HW-TWICE",
            "HW-DUP", "HW-SERIAL", "HW-DELETED"}
AWAY = {"HW-REPAIR", "HW-REPAIR-SEEN"}

ANSWER = {
    "found": {"HW-FOUND", "HW-ROOMSCAN", "HW-RACKSCAN", "HW-TWICE", "HW-SERIAL", "HW-REPAIR-SEEN"},
    "relocated": {"HW-MOVED"},
    "missing": {"HW-MISSING", "HW-DELETED"},
    "unexpected": {"HW-OUTSIDE", "HW-PLANNED", "UNKNOWN-1"},
    "status_mismatch": {"HW-RETIRED"},
    "duplicates": {"HW-DUP"},
    "away": {"HW-REPAIR"},
}


def build_estate(graph: Graph, extra_names: dict[str, str] | None = None) -> None:
    names = extra_names or {}
    items = [CIInput(k, "Location", {"type": t, "name": f"{t.title()} {k}"}) for k, t, _ in LOCATIONS]
    items += [CIInput(k, "Hardware", {"status": s, "serial": sn, "category": "server",
                                      "name": names.get(k, f"Server {k}")})
              for k, s, _, sn in HARDWARE]
    graph.upsert_cis(items, actor=ACTOR)
    links = [Link(k, "LOCATED_IN", p) for k, _, p in LOCATIONS if p]
    links += [Link(k, "LOCATED_IN", loc) for k, _, loc, _ in HARDWARE]
    graph.link_many(links, actor=ACTOR)


def ids(entries: list[dict]) -> set[str]:
    return {e["key"] or e["tag"] for e in entries}
