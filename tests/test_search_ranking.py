"""Search ranks the CIs whose key or serial is exactly the text first, then the rest by key."""

from __future__ import annotations

from cmdb.graph import CIInput


def test_exact_key_and_serial_matches_come_first(graph):
    graph.upsert_cis([
        CIInput("AB-X12-1", "Hardware", {"category": "server", "serial": "S-1"}),
        CIInput("AB-X12-2", "Hardware", {"category": "server", "name": "x12 spare"}),
        CIInput("ZZ-9", "Hardware", {"category": "pc", "serial": "x12"}),
        CIInput("X12", "Location", {"type": "room", "name": "Room X12"}),
        CIInput("OTHER", "Hardware", {"category": "pc", "serial": "Y1"}),
    ], actor="test")

    assert [ci.key for ci in graph.search("X12", limit=10)] == ["X12", "ZZ-9", "AB-X12-1", "AB-X12-2"]
    page = graph.list_cis(q="x12", offset=1, limit=2)
    assert ([ci.key for ci in page.items], page.total) == (["ZZ-9", "AB-X12-1"], 4)
    # Without search text a list stays in key order.
    assert [ci.key for ci in graph.list_cis(kind="Hardware").items] == [
        "AB-X12-1", "AB-X12-2", "OTHER", "ZZ-9"]
