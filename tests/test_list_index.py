"""The list index (``cmdb.graph.list_index``): lists and search answered from memory give
exactly what the engine's own query gives, and catch up with writes made through another
connection (another process) before the next answer, through the commit marks."""

from __future__ import annotations

import pytest

from cmdb.demo import demo_estate
from cmdb.graph import CIInput, Graph, Link
from cmdb.graph import list_index
from cmdb.graph.list_index import ListIndex
from cmdb.impact.service import impact


@pytest.fixture
def two_processes(graph: Graph, engine_name, embedded_settings, neo4j_settings):
    """``graph`` with a list index, and a second connection to the same register (as another
    process has) that writes without one."""
    other = Graph.connect(embedded_settings if engine_name == "embedded" else neo4j_settings,
                          bootstrap=False)
    graph.list_index = ListIndex(graph.read_list)
    try:
        yield graph, other
    finally:
        graph.list_index = None
        other.close()


def _listing(graph: Graph, **filters) -> tuple[list[str], int]:
    page = graph.list_cis(limit=1000, **filters)
    return [ci.key for ci in page.items], page.total


def _by_engine(graph: Graph, **filters) -> tuple[list[str], int]:
    index, graph.list_index = graph.list_index, None
    try:
        return _listing(graph, **filters)
    finally:
        graph.list_index = index


def _filter_combinations(cis: list[CIInput]) -> list[dict]:
    locations = sorted(c.key for c in cis if c.kind == "Location")
    combos: list[dict] = [{}, {"kind": "Hardware"}, {"kind": "Location"}, {"kind": "Application"},
                          {"status": "in_use"}, {"status": "in_stock"}, {"category": "server"},
                          {"kind": "Hardware", "status": "in_use", "category": "pc"},
                          {"q": "srv"}, {"q": "SRV-010"}, {"q": "服务器"}, {"q": "伺服器"},
                          {"q": "打印"}, {"q": "no such text"}, {"q": "a", "kind": "Hardware"}]
    for location in locations[:: max(1, len(locations) // 8)]:
        combos += [{"location": location}, {"location": location, "kind": "Hardware"},
                   {"location": location, "q": "a"}]
    return combos


def test_every_filter_answers_as_the_engine_does(two_processes):
    graph, _ = two_processes
    cis, links = demo_estate()
    graph.upsert_cis_atomically(cis, links, actor="test")

    for filters in _filter_combinations(cis):
        assert _listing(graph, **filters) == _by_engine(graph, **filters), filters


def test_writes_through_another_connection_are_in_the_next_answer(two_processes):
    graph, other = two_processes
    other.upsert_cis([CIInput("SITE", "Location", {"type": "site", "name": "Site"}),
                      CIInput("ROOM-A", "Location", {"type": "room", "name": "Room A"}),
                      CIInput("ROOM-B", "Location", {"type": "room", "name": "Room B"}),
                      CIInput("PC-1", "Hardware", {"category": "pc", "status": "in_use",
                                                   "serial": "SN-ONE", "name": "财务电脑"})],
                     actor="test")
    other.link_many([Link("ROOM-A", "LOCATED_IN", "SITE"), Link("ROOM-B", "LOCATED_IN", "SITE"),
                     Link("PC-1", "LOCATED_IN", "ROOM-A")], actor="test")
    assert _listing(graph, location="ROOM-A") == (["PC-1", "ROOM-A"], 2)
    assert _listing(graph, q="財務") == (["PC-1"], 1)

    # Each write by the other connection is in the very next answer.
    other.create_ci("Hardware", "PC-2", {"category": "pc", "status": "in_stock"}, actor="test")
    assert _listing(graph, kind="Hardware") == (["PC-1", "PC-2"], 2)
    other.update_ci("PC-2", {"status": "in_use", "serial": "SN-TWO"}, actor="test",
                    location="ROOM-B")
    assert _listing(graph, status="in_use") == (["PC-1", "PC-2"], 2)
    assert _listing(graph, q="sn-two") == (["PC-2"], 1)
    assert _listing(graph, location="ROOM-B") == (["PC-2", "ROOM-B"], 2)

    # Moving a room moves everything in it: the subtree is walked in the index.
    other.upsert_cis([CIInput("SITE-2", "Location", {"type": "site", "name": "Site 2"})], actor="test")
    other.update_ci("ROOM-A", {}, actor="test", location="SITE-2")
    assert _listing(graph, location="SITE-2") == (["PC-1", "ROOM-A", "SITE-2"], 3)
    assert _listing(graph, location="SITE") == (["PC-2", "ROOM-B", "SITE"], 3)

    # Deleting a room leaves what was in it without a location.
    other.delete_ci("ROOM-B", actor="test", force=True)
    assert _listing(graph, location="SITE") == (["SITE"], 1)
    assert _listing(graph, kind="Location") == (["ROOM-A", "SITE", "SITE-2"], 3)

    # A wipe (and a restore into the emptied register) starts the index afresh.
    other.wipe()
    assert _listing(graph) == ([], 0)
    other.create_ci("Hardware", "NEW", {"category": "pc"}, actor="test")
    assert _listing(graph) == (["NEW"], 1)

    for filters in ({}, {"kind": "Hardware"}, {"q": "new"}):
        assert _listing(graph, **filters) == _by_engine(graph, **filters)


def test_the_keyset_cursor_walks_the_list_and_holds_its_place(two_processes):
    graph, other = two_processes
    graph.upsert_cis([CIInput(f"PC-{i:02}", "Hardware", {"category": "pc"}) for i in range(10)],
                     actor="test")

    def walk(**filters) -> list[list[str]]:
        pages, after = [], None
        while True:
            page = graph.list_cis(limit=3, after=after, **filters)
            if not page.items:
                return pages
            pages.append([ci.key for ci in page.items])
            after = page.items[-1].key

    assert walk() == [["PC-00", "PC-01", "PC-02"], ["PC-03", "PC-04", "PC-05"],
                      ["PC-06", "PC-07", "PC-08"], ["PC-09"]]
    # The CI the cursor names was deleted meanwhile: the next page still starts after it.
    other.delete_ci("PC-05", actor="test")
    assert [ci.key for ci in graph.list_cis(limit=3, after="PC-05").items] == ["PC-06", "PC-07", "PC-08"]
    # Exact matches of a search come first; the cursor walks through them, then the rest.
    graph.create_ci("Hardware", "X", {"category": "pc", "serial": "PC-07"}, actor="test")
    assert walk(q="pc-07") == [["PC-07", "X"]]
    assert walk(q="pc-0") == [["PC-00", "PC-01", "PC-02"], ["PC-03", "PC-04", "PC-06"],
                              ["PC-07", "PC-08", "PC-09"], ["X"]]
    # The engine's own answer pages the same way (a command without an index).
    graph.list_index = None
    assert walk(q="pc-0") == [["PC-00", "PC-01", "PC-02"], ["PC-03", "PC-04", "PC-06"],
                              ["PC-07", "PC-08", "PC-09"], ["X"]]


def test_a_write_the_marks_miss_is_caught_at_the_next_rebuild(two_processes, monkeypatch):
    graph, other = two_processes
    other.create_ci("Hardware", "A-1", {"category": "pc", "status": "in_stock"}, actor="test")
    assert _listing(graph, status="in_use") == ([], 0)
    # Written outside the writer (as by a process that died between its commit and its
    # mark): no mark says so, and the index does not know yet.
    other.write(lambda tx: tx.run("MATCH (n:CI {key: 'A-1'}) SET n.status = 'in_use'").consume())
    assert _listing(graph, status="in_use") == ([], 0)
    # Every REBUILD_SECONDS the register is read again in the background; the index goes
    # on answering meanwhile.
    monkeypatch.setattr(list_index, "REBUILD_SECONDS", 0.0)
    _listing(graph, status="in_use")
    graph.list_index.refresher.join(60)
    monkeypatch.setattr(list_index, "REBUILD_SECONDS", 600.0)
    assert _listing(graph, status="in_use") == (["A-1"], 1)


def test_an_index_is_read_when_first_asked(embedded_graph):
    embedded_graph.upsert_cis([CIInput("A-1", "Hardware", {"category": "pc"})], actor="test")
    index = ListIndex(embedded_graph.read_list)
    assert not index.contains("A-1")
    index.catch_up()
    assert index.contains("A-1")


def test_impact_from_memory_is_the_engines_answer(two_processes):
    graph, _ = two_processes
    cis, links = demo_estate()
    graph.upsert_cis_atomically(cis, links, actor="test")
    by_kind: dict[str, list[str]] = {}
    for ci in cis:
        by_kind.setdefault(ci.kind, []).append(ci.key)
    changes = [[key] for keys in by_kind.values() for key in keys[:: max(1, len(keys) // 12)]]
    changes.append([keys[0] for keys in by_kind.values()])

    for keys in changes:
        for depth in (None, 2):
            from_memory = impact(graph, keys, depth=depth)
            index, graph.list_index = graph.list_index, None
            try:
                assert from_memory == impact(graph, keys, depth=depth), (keys, depth)
            finally:
                graph.list_index = index
