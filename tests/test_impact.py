"""Impact analysis on hand-built topologies with known answers: chains, diamonds, cycles,
clusters, propagation of degraded, location subtrees, images, depth limits, bad input."""

from __future__ import annotations

from typing import Any

import pytest

from cmdb.errors import InvalidInput, UnknownKey
from cmdb.graph import CIInput, Graph, Link
from cmdb.graph.list_index import ListIndex
from cmdb.impact.service import impact, path_text

@pytest.fixture(autouse=True, params=["engine", "memory"])
def traversal(request, graph):
    """Every test twice: the traversal asked of the engine (a command), and answered from the
    list index in memory (a long-running process, cmdb.graph.list_index)."""
    if request.param == "memory":
        graph.list_index = ListIndex(graph.read_list)
    yield request.param
    graph.list_index = None


KIND_BY_PREFIX = {"SITE": "Location", "BLD": "Location", "ROOM": "Location", "RACK": "Location",
                  "IMG": "SoftwareImage", "APP": "Application"}


def kind_of_key(key: str) -> str:
    return KIND_BY_PREFIX.get(key.split("-")[0], "Hardware")


def build(graph: Graph, links: list[tuple[str, str, str]], props: dict[str, dict[str, Any]] | None = None,
          extra: list[str] = ()) -> None:
    """CIs named in ``links`` (kind from the key's prefix: APP-, IMG-, SITE-/BLD-/ROOM-/RACK-,
    anything else Hardware) plus ``extra``; ``props`` gives properties per key."""
    props = props or {}
    keys = list(dict.fromkeys([k for a, _, b in links for k in (a, b)] + list(extra) + list(props)))
    graph.upsert_cis([CIInput(k, kind_of_key(k), {"name": f"{k} name", **props.get(k, {})}) for k in keys],
                     actor="test")
    if links:
        graph.link_many([Link(a, t, b) for a, t, b in links], actor="test")


def states(result: dict[str, Any]) -> set[tuple[str, str, int]]:
    """The whole answer as a set of (key, state, distance)."""
    return {(a["key"], a["state"], a["distance"]) for a in result["affected"]}


def test_chain_every_kind_of_relationship(graph):
    build(graph, [("HW-1", "RUNS_IMAGE", "IMG-W10"), ("HW-2", "CONNECTED_TO", "HW-1"),
                  ("APP-WEB", "RUNS_ON", "HW-2"), ("APP-SHOP", "DEPENDS_ON", "APP-WEB"),
                  ("HW-1", "LOCATED_IN", "RACK-1")])
    result = impact(graph, ["HW-1"])
    assert states(result) == {("HW-2", "down", 1), ("APP-WEB", "down", 2), ("APP-SHOP", "down", 3)}
    by_key = {a["key"]: a for a in result["affected"]}
    assert by_key["APP-SHOP"]["path"] == [
        {"key": "APP-SHOP"}, {"type": "DEPENDS_ON"}, {"key": "APP-WEB"}, {"type": "RUNS_ON"},
        {"key": "HW-2"}, {"type": "CONNECTED_TO"}, {"key": "HW-1"}]
    assert path_text(by_key["HW-2"]["path"]) == "HW-2 -CONNECTED_TO-> HW-1"
    assert result["changed"] == [{"key": "HW-1", "kind": "Hardware", "name": "HW-1 name"}]
    assert {(a["key"], a["kind"], a["name"]) for a in result["affected"]} == {
        ("HW-2", "Hardware", "HW-2 name"), ("APP-WEB", "Application", "APP-WEB name"),
        ("APP-SHOP", "Application", "APP-SHOP name")}


def test_what_a_ci_needs_is_not_affected(graph):
    build(graph, [("HW-1", "RUNS_IMAGE", "IMG-W10"), ("HW-1", "LOCATED_IN", "RACK-1"),
                  ("HW-1", "CONNECTED_TO", "HW-SW")])
    assert states(impact(graph, ["HW-1"])) == set()


def test_diamond_reports_each_ci_once_at_its_shortest_distance(graph):
    build(graph, [("APP-L", "RUNS_ON", "SRV-1"), ("APP-R", "RUNS_ON", "SRV-1"),
                  ("APP-TOP", "DEPENDS_ON", "APP-L"), ("APP-TOP", "DEPENDS_ON", "APP-R"),
                  ("APP-TOP", "RUNS_ON", "SRV-2"), ("SRV-2", "CONNECTED_TO", "SRV-1")])
    result = impact(graph, ["SRV-1"])
    assert states(result) == {("APP-L", "down", 1), ("APP-R", "down", 1), ("SRV-2", "down", 1),
                              ("APP-TOP", "down", 2)}
    assert len(result["affected"]) == 4


@pytest.mark.parametrize("change, expected", [
    (["SRV-1"], {("APP-A", "down", 1), ("APP-C", "down", 2), ("APP-B", "down", 3)}),
    (["APP-B"], {("APP-A", "down", 1), ("APP-C", "down", 2)}),
])
def test_cycles_terminate_and_list_each_ci_once(graph, change, expected):
    build(graph, [("APP-A", "DEPENDS_ON", "APP-B"), ("APP-B", "DEPENDS_ON", "APP-C"),
                  ("APP-C", "DEPENDS_ON", "APP-A"), ("APP-A", "RUNS_ON", "SRV-1")])
    result = impact(graph, change)
    assert states(result) == expected
    assert len(result["affected"]) == len(expected)


CLUSTER = [("APP-CL", "RUNS_ON", "H-1"), ("APP-CL", "RUNS_ON", "H-2"),
           ("APP-USER", "DEPENDS_ON", "APP-CL")]


@pytest.mark.parametrize("change, expected", [
    (["H-1"], {("APP-CL", "degraded", 1), ("APP-USER", "degraded", 2)}),
    (["H-1", "H-2"], {("APP-CL", "down", 1), ("APP-USER", "down", 2)}),
])
def test_cluster_of_two_hosts(graph, change, expected):
    build(graph, CLUSTER)
    assert states(impact(graph, change)) == expected


@pytest.mark.parametrize("change, expected", [
    (["H-1"], {("APP-Q", "degraded", 1)}),
    (["H-1", "H-2"], {("APP-Q", "down", 1)}),
    (["H-1", "H-2", "H-3"], {("APP-Q", "down", 1)}),
])
def test_min_hosts_two_of_three(graph, change, expected):
    build(graph, [("APP-Q", "RUNS_ON", "H-1"), ("APP-Q", "RUNS_ON", "H-2"), ("APP-Q", "RUNS_ON", "H-3")],
          props={"APP-Q": {"min_hosts": 2}})
    assert states(impact(graph, change)) == expected


def test_degraded_propagates_and_down_wins(graph):
    build(graph, CLUSTER + [("APP-SOLO", "RUNS_ON", "H-1"),
                            ("APP-MIX", "DEPENDS_ON", "APP-CL"), ("APP-MIX", "DEPENDS_ON", "APP-SOLO"),
                            ("APP-TOP", "DEPENDS_ON", "APP-USER")])
    result = impact(graph, ["H-1"])
    assert states(result) == {("APP-CL", "degraded", 1), ("APP-SOLO", "down", 1),
                              ("APP-USER", "degraded", 2), ("APP-MIX", "down", 2),
                              ("APP-TOP", "degraded", 3)}
    mix = next(a for a in result["affected"] if a["key"] == "APP-MIX")
    # the explanation of a down CI goes through a down CI
    assert mix["path"] == [{"key": "APP-MIX"}, {"type": "DEPENDS_ON"}, {"key": "APP-SOLO"},
                           {"type": "RUNS_ON"}, {"key": "H-1"}]


def test_second_host_lost_further_away_makes_the_cluster_down(graph):
    # H-2 needs H-1 (its uplink), so losing H-1 loses both hosts of the cluster: the state
    # first seen at distance 1 (one host) must be revised once H-2 is known to be down.
    build(graph, [("APP-CL", "RUNS_ON", "H-1"), ("APP-CL", "RUNS_ON", "H-2"), ("H-2", "CONNECTED_TO", "H-1")])
    assert states(impact(graph, ["H-1"])) == {("H-2", "down", 1), ("APP-CL", "down", 1)}


SITES = [("BLD-A", "LOCATED_IN", "SITE-1"), ("ROOM-A1", "LOCATED_IN", "BLD-A"),
         ("RACK-A1", "LOCATED_IN", "ROOM-A1"), ("SRV-1", "LOCATED_IN", "RACK-A1"),
         ("SRV-2", "LOCATED_IN", "RACK-A1"), ("PC-1", "LOCATED_IN", "ROOM-A1"),
         ("APP-ERP", "RUNS_ON", "SRV-1"), ("APP-ERP", "RUNS_ON", "SRV-9"),
         ("APP-MAIL", "RUNS_ON", "SRV-2"),
         ("BLD-B", "LOCATED_IN", "SITE-1"), ("SRV-9", "LOCATED_IN", "BLD-B"),
         ("BLD-C", "LOCATED_IN", "SITE-2"), ("SRV-X", "LOCATED_IN", "BLD-C")]
SITE_PROPS = {"SITE-1": {"type": "site", "name": "Head office"}, "SITE-2": {"type": "site"},
              "BLD-A": {"type": "building", "name": "Building A"}, "BLD-B": {"type": "building"},
              "BLD-C": {"type": "building"}, "ROOM-A1": {"type": "room"}, "RACK-A1": {"type": "rack"},
              "APP-ERP": {"criticality": "vip"}, "APP-MAIL": {"criticality": "standard"}}


def test_building_change_affects_its_subtree(graph):
    build(graph, SITES, SITE_PROPS)
    result = impact(graph, ["BLD-A"])
    assert states(result) == {("ROOM-A1", "down", 1), ("RACK-A1", "down", 2), ("PC-1", "down", 2),
                              ("SRV-1", "down", 3), ("SRV-2", "down", 3),
                              ("APP-ERP", "degraded", 4), ("APP-MAIL", "down", 4)}
    summary = result["summary"]
    assert summary["by_location"] == [
        {"site": {"key": "SITE-1", "name": "Head office"}, "building": {"key": "BLD-A", "name": "Building A"},
         "count": 5, "down": 5, "degraded": 0}]
    assert summary["by_kind"] == {"Application": 2, "Hardware": 3, "Location": 2}
    assert summary["by_state"] == {"down": 6, "degraded": 1}
    assert summary["by_criticality"] == {"vip": 1, "high": 0, "standard": 1, "low": 0, "unset": 0}
    assert [a["key"] for a in summary["applications"]] == ["APP-ERP", "APP-MAIL"]


def test_whole_site_change(graph):
    build(graph, SITES, SITE_PROPS)
    result = impact(graph, ["SITE-1"])
    assert {a["key"] for a in result["affected"]} == {
        "BLD-A", "BLD-B", "ROOM-A1", "RACK-A1", "SRV-1", "SRV-2", "PC-1", "SRV-9", "APP-ERP", "APP-MAIL"}
    assert {a["key"]: a["state"] for a in result["affected"] if a["kind"] == "Application"} == {
        "APP-ERP": "down", "APP-MAIL": "down"}
    groups = {(g["site"]["key"], g["building"] and g["building"]["key"]): g["count"]
              for g in result["summary"]["by_location"]}
    assert groups == {("SITE-1", "BLD-A"): 6, ("SITE-1", "BLD-B"): 2}


def test_applications_sorted_by_criticality(graph):
    build(graph, [("APP-LOW", "RUNS_ON", "SRV-1"), ("APP-VIP", "RUNS_ON", "SRV-1"),
                  ("APP-STD", "RUNS_ON", "SRV-1"), ("APP-HIGH", "DEPENDS_ON", "APP-STD"),
                  ("APP-NONE", "RUNS_ON", "SRV-1")],
          props={"APP-LOW": {"criticality": "low"}, "APP-VIP": {"criticality": "vip"},
                 "APP-STD": {"criticality": "standard"}, "APP-HIGH": {"criticality": "high"}})
    summary = impact(graph, ["SRV-1"])["summary"]
    assert [(a["key"], a["criticality"]) for a in summary["applications"]] == [
        ("APP-VIP", "vip"), ("APP-HIGH", "high"), ("APP-STD", "standard"), ("APP-LOW", "low"),
        ("APP-NONE", None)]
    assert summary["by_criticality"] == {"vip": 1, "high": 1, "standard": 1, "low": 1, "unset": 1}


def test_image_change_affects_devices_built_from_it_and_what_runs_on_them(graph):
    build(graph, [("PC-1", "RUNS_IMAGE", "IMG-W10"), ("PC-2", "RUNS_IMAGE", "IMG-W10"),
                  ("PC-3", "RUNS_IMAGE", "IMG-W11"), ("APP-DESK", "RUNS_ON", "PC-1"),
                  ("APP-KIOSK", "RUNS_ON", "PC-3")])
    assert states(impact(graph, ["IMG-W10"])) == {("PC-1", "down", 1), ("PC-2", "down", 1),
                                                  ("APP-DESK", "down", 2)}


def test_depth_limits_the_distance(graph):
    chain = [("H-2", "CONNECTED_TO", "H-1"), ("H-3", "CONNECTED_TO", "H-2"),
             ("H-4", "CONNECTED_TO", "H-3"), ("APP-END", "RUNS_ON", "H-4")]
    build(graph, chain)
    assert states(impact(graph, ["H-1"], depth=1)) == {("H-2", "down", 1)}
    assert states(impact(graph, ["H-1"], depth=2)) == {("H-2", "down", 1), ("H-3", "down", 2)}
    assert states(impact(graph, ["H-1"])) == {("H-2", "down", 1), ("H-3", "down", 2),
                                              ("H-4", "down", 3), ("APP-END", "down", 4)}
    assert impact(graph, ["H-1"], depth=2)["depth"] == 2


def test_kinds_filter_the_list_not_the_analysis(graph):
    build(graph, [("H-2", "CONNECTED_TO", "H-1"), ("APP-X", "RUNS_ON", "H-2")])
    result = impact(graph, ["H-1"], kinds=["application"])
    assert states(result) == {("APP-X", "down", 2)}
    assert result["summary"]["by_kind"] == {"Application": 1}
    with pytest.raises(InvalidInput) as err:
        impact(graph, ["H-1"], kinds=["Printer"])
    assert "Printer" in err.value.message


def test_several_changed_cis_that_need_each_other(graph):
    build(graph, [("H-2", "CONNECTED_TO", "H-1"), ("APP-X", "RUNS_ON", "H-2")])
    result = impact(graph, ["H-1", "H-2", "H-1"])
    assert [c["key"] for c in result["changed"]] == ["H-1", "H-2"]
    assert states(result) == {("APP-X", "down", 1)}


def test_unknown_keys_are_named(graph):
    build(graph, [("H-2", "CONNECTED_TO", "H-1")])
    with pytest.raises(UnknownKey) as err:
        impact(graph, ["H-1", "NOPE-1", "NOPE-2"])
    assert err.value.keys == ["NOPE-1", "NOPE-2"]


@pytest.mark.parametrize("keys", [[], ["  "]])
def test_an_empty_change_is_refused(graph, keys):
    with pytest.raises(InvalidInput) as err:
        impact(graph, keys)
    assert "key" in err.value.message


@pytest.mark.parametrize("depth", [0, 65, "2", True])
def test_depth_out_of_range_is_refused(graph, depth):
    build(graph, [("H-2", "CONNECTED_TO", "H-1")])
    with pytest.raises(InvalidInput) as err:
        impact(graph, ["H-1"], depth=depth)
    assert err.value.field == "depth"


def test_a_ci_nothing_needs(graph):
    build(graph, [], extra=["H-ALONE"])
    result = impact(graph, ["H-ALONE"])
    assert result["affected"] == []
    assert result["summary"]["total"] == 0
    assert result["summary"]["by_state"] == {"down": 0, "degraded": 0}


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_a_deep_impact_fetched_in_several_rounds_gives_the_same_answer(graph, monkeypatch, steps):
    from cmdb.graph import impact as graph_impact

    build(graph, SITES + CLUSTER + [("APP-A", "DEPENDS_ON", "APP-B"), ("APP-B", "DEPENDS_ON", "APP-C"),
                                    ("APP-C", "DEPENDS_ON", "APP-A"), ("APP-A", "DEPENDS_ON", "APP-MAIL"),
                                    ("H-1", "LOCATED_IN", "RACK-A1"), ("H-2", "CONNECTED_TO", "SRV-2")],
          SITE_PROPS)
    expected = {(k, d): impact(graph, [k], depth=d) for k in ("SITE-1", "BLD-A", "SRV-2")
                for d in (None, 2, 5)}
    monkeypatch.setattr(graph_impact, "REACH_STEPS", steps)
    for (key, depth), result in expected.items():
        again = impact(graph, [key], depth=depth)
        assert states(again) == states(result), (key, depth)
        assert again["affected"] == result["affected"]
    assert states(expected[("SRV-2", None)]) == {
        ("APP-MAIL", "down", 1), ("H-2", "down", 1), ("APP-A", "down", 2), ("APP-C", "down", 3),
        ("APP-B", "down", 4), ("APP-CL", "degraded", 2), ("APP-USER", "degraded", 3)}


def test_a_down_ci_is_explained_through_down_cis(graph):
    # APP-X is nearest to the change through the degraded cluster, but it is down because of
    # APP-D: the explanation shows that, the distance stays the shortest.
    build(graph, CLUSTER + [("APP-X", "DEPENDS_ON", "APP-CL"), ("APP-X", "DEPENDS_ON", "APP-D"),
                            ("APP-D", "RUNS_ON", "H-3"), ("H-3", "CONNECTED_TO", "H-1")])
    result = impact(graph, ["H-1"])
    assert states(result) == {("APP-CL", "degraded", 1), ("H-3", "down", 1), ("APP-USER", "degraded", 2),
                              ("APP-D", "down", 2), ("APP-X", "down", 2)}
    paths = {a["key"]: path_text(a["path"]) for a in result["affected"]}
    assert paths == {
        "APP-CL": "APP-CL -RUNS_ON-> H-1",
        "H-3": "H-3 -CONNECTED_TO-> H-1",
        "APP-USER": "APP-USER -DEPENDS_ON-> APP-CL -RUNS_ON-> H-1",
        "APP-D": "APP-D -RUNS_ON-> H-3 -CONNECTED_TO-> H-1",
        "APP-X": "APP-X -DEPENDS_ON-> APP-D -RUNS_ON-> H-3 -CONNECTED_TO-> H-1",
    }
