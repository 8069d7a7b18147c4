"""The graph layer's contract, run on the embedded engine and on Neo4j when configured."""

from __future__ import annotations

import threading

import pytest

from cmdb.errors import (
    DuplicateKey, ForbiddenRelationship, InvalidInput, InvalidProperty, NotFound, StillNeeded,
    UnknownKey, VersionConflict,
)
from cmdb.graph import CIInput, Graph, Link


def small_estate(graph: Graph) -> None:
    graph.upsert_cis([
        CIInput("HQ", "Location", {"name": "HQ", "type": "site"}),
        CIInput("BA", "Location", {"name": "Building A", "type": "building"}),
        CIInput("R101", "Location", {"name": "Room 101", "type": "room"}),
        CIInput("RACK1", "Location", {"name": "Rack 1", "type": "rack"}),
        CIInput("DC", "Location", {"name": "DC", "type": "site"}),
        CIInput("000123", "Hardware", {"name": "web server 一", "category": "server", "status": "in_use",
                                       "serial": "SN-1", "model": "R750", "ram_gb": 64}),
        CIInput("000124", "Hardware", {"name": "db server", "category": "server", "status": "in_repair",
                                       "serial": "SN-2", "model": "R650"}),
        CIInput("PC-1", "Hardware", {"name": "Finance PC", "category": "pc", "status": "in_use"}),
        CIInput("SW-1", "Hardware", {"name": "ToR switch", "category": "switch", "status": "in_use"}),
        CIInput("IMG", "SoftwareImage", {"name": "RHEL 9", "min_ram_gb": 16}),
        CIInput("APP", "Application", {"name": "ERP", "criticality": "vip"}),
    ], actor="tester")
    graph.link_many([
        Link("BA", "LOCATED_IN", "HQ"), Link("R101", "LOCATED_IN", "BA"), Link("RACK1", "LOCATED_IN", "R101"),
        Link("000123", "LOCATED_IN", "RACK1"), Link("000124", "LOCATED_IN", "RACK1"),
        Link("PC-1", "LOCATED_IN", "R101"), Link("SW-1", "LOCATED_IN", "DC"),
        Link("000123", "CONNECTED_TO", "SW-1"), Link("000123", "RUNS_IMAGE", "IMG"),
        Link("APP", "RUNS_ON", "000123"),
    ], actor="tester")


def all_links(graph: Graph) -> set[tuple[str, str, str]]:
    rows = graph.read("MATCH (a:CI)-[r]->(b:CI) RETURN a.key AS a, type(r) AS t, b.key AS b")
    return {(r["a"], r["t"], r["b"]) for r in rows}


def all_keys(graph: Graph) -> set[str]:
    return {r["key"] for r in graph.read("MATCH (n:CI) RETURN n.key AS key")}


def test_schema_bootstrap_is_idempotent(graph):
    graph.bootstrap_schema()
    graph.bootstrap_schema()


def test_upsert_creates_updates_and_leaves_unchanged(graph):
    first = graph.upsert_cis([CIInput("000123", "Hardware", {"name": "a", "ram_gb": "16"}),
                              CIInput("000124", "Hardware", {"name": "b"})], actor="alice")
    assert (set(first.created), first.updated, first.unchanged) == ({"000123", "000124"}, [], [])
    second = graph.upsert_cis([CIInput("000123", "Hardware", {"name": "a", "ram_gb": 16}),
                               CIInput("000124", "Hardware", {"name": "b2"})], actor="bob", source="import:x.xlsx")
    assert (second.created, second.updated, second.unchanged) == ([], ["000124"], ["000123"])
    ci = graph.get_ci("000123")
    assert ci.key == "000123" and ci.kind == "Hardware"
    assert ci.user_properties() == {"name": "a", "ram_gb": 16}
    assert ci.revision == 1
    assert graph.get_ci("000124").revision == 2
    history, total = graph.history("000124")
    assert total == 2
    assert [(h.action, h.actor, h.before, h.after, h.source) for h in history] == [
        ("update", "bob", {"name": "b"}, {"name": "b2"}, "import:x.xlsx"),
        ("create", "alice", None, {"key": "000124", "name": "b", "created_at": history[1].after["created_at"]}, None),
    ]
    assert graph.history("000123")[1] == 1  # the unchanged re-upsert wrote no history


def test_none_removes_a_property(graph):
    graph.upsert_cis([CIInput("H1", "Hardware", {"name": "a", "serial": "S"})], actor="t")
    graph.upsert_cis([CIInput("H1", "Hardware", {"serial": None})], actor="t")
    assert graph.get_ci("H1").user_properties() == {"name": "a"}


def test_keys_values_and_unicode_survive_exactly(graph):
    tricky = '"}) DETACH DELETE n //'
    graph.upsert_cis([CIInput("000123", "Hardware", {"name": tricky, "department": "财务部 財務部",
                                                     "ram_gb": 16.5, "cpu_cores": 8})], actor="t")
    graph.upsert_cis([CIInput("123", "Hardware", {"name": "other"})], actor="t")
    ci = graph.get_ci("000123")
    assert ci.user_properties() == {"name": tricky, "department": "财务部 財務部", "ram_gb": 16.5, "cpu_cores": 8}
    assert all_keys(graph) == {"000123", "123"}


def test_bad_input_is_refused_and_nothing_partial_is_written(graph):
    graph.upsert_cis([CIInput("KEEP", "Hardware", {"name": "kept"})], actor="t")
    cases = [
        (CIInput("X1", "Server", {}), InvalidInput, "Unknown kind 'Server'"),
        (CIInput("X1", "Hardware", {"colour": "red"}), InvalidProperty, "no property 'colour'"),
        (CIInput("X1", "Hardware", {"ram_gb": "lots"}), InvalidProperty, "'lots' is not valid"),
        (CIInput("", "Hardware", {}), InvalidInput, "key is empty"),
        (CIInput("X1", "Hardware", {"name": "n" * 10_240}), InvalidProperty, "10240 characters long"),
        (CIInput("KEEP", "Application", {}), DuplicateKey, "already belongs to a Hardware"),
    ]
    for bad, error, fragment in cases:
        batch = [CIInput("GOOD-1", "Hardware", {"name": "ok"}), bad]
        with pytest.raises(error) as err:
            graph.upsert_cis(batch, actor="t")
        assert fragment in err.value.message
    assert all_keys(graph) == {"KEEP"}
    assert graph.get_ci("KEEP").user_properties() == {"name": "kept"}


def test_duplicate_keys(graph):
    graph.create_ci("Hardware", "H1", {"name": "one"}, actor="t")
    with pytest.raises(DuplicateKey) as err:
        graph.create_ci("Location", "H1", {"name": "two"}, actor="t")
    assert "Hardware with key 'H1' already exists" in err.value.message
    with pytest.raises(DuplicateKey):
        graph.upsert_cis([CIInput("D", "Hardware", {}), CIInput("D", "Hardware", {})], actor="t")
    assert all_keys(graph) == {"H1"}


def test_get_and_list_with_filters_and_pagination(graph):
    small_estate(graph)
    with pytest.raises(UnknownKey):
        graph.get_ci("NOPE")
    hardware = graph.list_cis(kind="Hardware")
    assert hardware.total == 4
    assert [c.key for c in hardware.items] == ["000123", "000124", "PC-1", "SW-1"]
    assert {c.key for c in graph.list_cis(status="in_use").items} == {"000123", "PC-1", "SW-1"}
    assert {c.key for c in graph.list_cis(category="server").items} == {"000123", "000124"}
    assert {c.key for c in graph.list_cis(location="R101").items} == {"R101", "RACK1", "000123", "000124", "PC-1"}
    assert {c.key for c in graph.list_cis(location="HQ", kind="Hardware").items} == {"000123", "000124", "PC-1"}
    assert {c.key for c in graph.list_cis(q="SN-2").items} == {"000124"}
    assert {c.key for c in graph.list_cis(q="r750").items} == {"000123"}
    assert {c.key for c in graph.list_cis(q="一").items} == {"000123"}
    assert {c.key for c in graph.list_cis(q='") OR 1=1 //').items} == set()
    combined = graph.list_cis(kind="Hardware", status="in_use", category="server", location="HQ", q="r750")
    assert [c.key for c in combined.items] == ["000123"] and combined.total == 1
    assert graph.list_cis(kind="Hardware", status="in_use", category="server", q="SN-2").items == []
    page = graph.list_cis(offset=2, limit=3)
    assert page.total == 11 and [c.key for c in page.items] == ["APP", "BA", "DC"]
    walked = [c.key for offset in range(0, 12, 4) for c in graph.list_cis(offset=offset, limit=4).items]
    assert walked == sorted(walked) and len(set(walked)) == 11
    assert graph.list_cis(offset=11).items == [] and graph.list_cis(limit=0).total == 11
    with pytest.raises(UnknownKey):
        graph.list_cis(location="NOWHERE")


def test_links_relationships_and_neighbours(graph):
    small_estate(graph)
    assert {(r["direction"], r["type"], r["key"]) for r in graph.relationships("000123")} == {
        ("out", "LOCATED_IN", "RACK1"), ("out", "CONNECTED_TO", "SW-1"), ("out", "RUNS_IMAGE", "IMG"),
        ("in", "RUNS_ON", "APP")}
    assert {r["key"] for r in graph.neighbours("000123", direction="out", types=["CONNECTED_TO"])} == {"SW-1"}
    assert [p["key"] for p in graph.location_path("000123")] == ["HQ", "BA", "R101", "RACK1"]
    assert graph.location_paths(["PC-1", "SW-1", "HQ"]) == {
        "PC-1": [{"key": "HQ", "name": "HQ", "type": "site"}, {"key": "BA", "name": "Building A", "type": "building"},
                 {"key": "R101", "name": "Room 101", "type": "room"}],
        "SW-1": [{"key": "DC", "name": "DC", "type": "site"}]}
    assert set(graph.subtree_keys("BA")) == {"BA", "R101", "RACK1", "000123", "000124", "PC-1"}


def test_link_is_idempotent_and_location_is_single_valued(graph):
    small_estate(graph)
    before = all_links(graph)
    again = graph.link("APP", "RUNS_ON", "000123", actor="t")
    assert again.created == [] and len(again.unchanged) == 1
    moved = graph.link("PC-1", "LOCATED_IN", "DC", actor="mover")
    assert moved.replaced == [Link("PC-1", "LOCATED_IN", "R101")]
    assert all_links(graph) == (before - {("PC-1", "LOCATED_IN", "R101")}) | {("PC-1", "LOCATED_IN", "DC")}
    actions = [(h.action, h.before, h.after) for h in graph.history("PC-1")[0][:2]]
    assert sorted(actions, key=lambda a: a[0]) == [
        ("link", None, {"from": "PC-1", "type": "LOCATED_IN", "to": "DC"}),
        ("unlink", {"from": "PC-1", "type": "LOCATED_IN", "to": "R101"}, None)]


def test_forbidden_relationships_and_cycles(graph):
    small_estate(graph)
    before = all_links(graph)
    with pytest.raises(ForbiddenRelationship) as err:
        graph.link("000123", "RUNS_ON", "APP", actor="t")
    assert "RUNS_ON joins Application → Hardware" in err.value.message
    with pytest.raises(ForbiddenRelationship):
        graph.link("HQ", "LOCATED_IN", "RACK1", actor="t")
    with pytest.raises(ForbiddenRelationship):
        graph.link("APP", "DEPENDS_ON", "APP", actor="t")
    with pytest.raises(UnknownKey) as err:
        graph.link("APP", "RUNS_ON", "GHOST", actor="t")
    assert err.value.keys == ["GHOST"]
    with pytest.raises(InvalidInput):
        graph.link("APP", "OWNS", "000123", actor="t")
    # a batch with one bad link writes none of them
    with pytest.raises(ForbiddenRelationship):
        graph.link_many([Link("PC-1", "CONNECTED_TO", "SW-1"), Link("PC-1", "RUNS_ON", "SW-1")], actor="t")
    assert all_links(graph) == before


def test_unlink(graph):
    small_estate(graph)
    graph.unlink("APP", "RUNS_ON", "000123", actor="t")
    assert ("APP", "RUNS_ON", "000123") not in all_links(graph)
    with pytest.raises(NotFound):
        graph.unlink("APP", "RUNS_ON", "000123", actor="t")
    with pytest.raises(UnknownKey):
        graph.unlink("APP", "RUNS_ON", "GHOST", actor="t")


def test_delete_refuses_while_needed_unless_forced(graph):
    small_estate(graph)
    with pytest.raises(StillNeeded) as err:
        graph.delete_ci("000123", actor="t")
    assert err.value.details["needed_by"] == [{"key": "APP", "kind": "Application", "name": "ERP", "type": "RUNS_ON"}]
    assert "000123" in all_keys(graph)
    removed = graph.delete_ci("000123", actor="admin", force=True)
    assert {(r["direction"], r["type"], r["key"]) for r in removed} == {
        ("out", "LOCATED_IN", "RACK1"), ("out", "CONNECTED_TO", "SW-1"), ("out", "RUNS_IMAGE", "IMG"),
        ("in", "RUNS_ON", "APP")}
    assert "000123" not in all_keys(graph)
    assert not any("000123" in (a, b) for a, _, b in all_links(graph))
    history, _ = graph.history("000123")
    assert history[0].action == "delete" and history[0].actor == "admin"
    graph.delete_ci("PC-1", actor="t")  # nothing needs a PC
    with pytest.raises(UnknownKey):
        graph.delete_ci("PC-1", actor="t")


def test_revision_guards_against_lost_updates(graph):
    graph.create_ci("Hardware", "H1", {"name": "a"}, actor="t")
    graph.update_ci("H1", {"name": "b"}, actor="t", expected_revision=1)
    with pytest.raises(VersionConflict) as err:
        graph.update_ci("H1", {"name": "c"}, actor="t", expected_revision=1)
    assert err.value.details == {"key": "H1", "current_revision": 2, "expected_revision": 1}
    with pytest.raises(VersionConflict):
        graph.delete_ci("H1", actor="t", expected_revision=1)
    assert graph.get_ci("H1").user_properties() == {"name": "b"}


def test_concurrent_updates_with_the_same_revision_exactly_one_wins(graph):
    graph.create_ci("Hardware", "H1", {"name": "start"}, actor="t")
    outcomes: list[str] = []

    def attempt(i: int) -> None:
        try:
            graph.update_ci("H1", {"name": f"writer {i}"}, actor=f"w{i}", expected_revision=1)
            outcomes.append("won")
        except VersionConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 5 + ["won"]
    assert graph.get_ci("H1").revision == 2


def test_system_properties_are_written_only_through_their_own_call(graph):
    graph.create_ci("Hardware", "H1", {}, actor="t")
    with pytest.raises(InvalidProperty):
        graph.update_ci("H1", {"label_printed_at": "2026-01-01T00:00:00Z"}, actor="t")
    graph.set_system_properties([("H1", {"label_printed_at": "2026-01-01T00:00:00Z"})], actor="labels")
    assert graph.get_ci("H1").properties["label_printed_at"] == "2026-01-01T00:00:00.000000Z"
    with pytest.raises(UnknownKey):
        graph.set_system_properties([("NOPE", {"last_seen_at": "2026-01-01T00:00:00Z"})], actor="t")


def test_counts(graph):
    small_estate(graph)
    assert graph.counts() == {
        "kinds": {"Location": 5, "Hardware": 4, "SoftwareImage": 1, "Application": 1},
        "relationships": {"LOCATED_IN": 7, "RUNS_ON": 1, "RUNS_IMAGE": 1, "DEPENDS_ON": 0, "CONNECTED_TO": 1,
                          "SUPERSEDES": 0, "STANDS_IN_FOR": 0}}


def test_atomic_upsert_with_links_writes_all_or_nothing(graph):
    with pytest.raises(UnknownKey):
        graph.upsert_cis_atomically([CIInput("A", "Application", {}), CIInput("H", "Hardware", {})],
                                    [Link("A", "RUNS_ON", "H"), Link("A", "RUNS_ON", "MISSING")], actor="t")
    assert all_keys(graph) == set()
    up, links = graph.upsert_cis_atomically([CIInput("A", "Application", {}), CIInput("H", "Hardware", {})],
                                            [Link("A", "RUNS_ON", "H")], actor="t")
    assert set(up.created) == {"A", "H"} and links.created == [Link("A", "RUNS_ON", "H")]
