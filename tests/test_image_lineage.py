"""Image lineage on the demo estate: SUPERSEDES, the superseded and past-support lists, and
the rollout view of W10-2026 -> W11-2026 against the compatibility checks."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from cmdb.api.app import create_app
from cmdb.demo import demo_estate, load_demo
from cmdb.errors import Conflict, InvalidInput, WrongKind
from cmdb.graph.tokens import create_token
from cmdb.images.lineage import lineage, on_superseded_images, past_end_of_support
from cmdb.impact.compatibility import check_image_change
from cmdb.impact.rollout import rollout
from cmdb.impact.service import impact
from tests.web_support import sign_in

IN_SERVICE_EXCLUDED = {"retired", "disposed"}


def demo_devices_on(*images: str) -> set[str]:
    """Computed from the demo's own data, not from the graph."""
    cis, links = demo_estate()
    status = {c.key: c.properties.get("status") for c in cis}
    return {l.from_key for l in links if l.type == "RUNS_IMAGE" and l.to_key in images
            and status[l.from_key] not in IN_SERVICE_EXCLUDED}


def demo_site_of() -> dict[str, str]:
    cis, links = demo_estate()
    parent = {l.from_key: l.to_key for l in links if l.type == "LOCATED_IN"}
    sites = {c.key for c in cis if c.properties.get("type") == "site"}

    def site(key: str) -> str | None:
        while key not in sites and key in parent:
            key = parent[key]
        return key if key in sites else None
    return {c.key: site(c.key) for c in cis}


@pytest.fixture
def demo(embedded_graph):
    load_demo(embedded_graph, actor="demo")
    return embedded_graph


def test_w11_supersedes_w10_both_ways(demo):
    old, new = lineage(demo, "W10-2026"), lineage(demo, "W11-2026")
    assert (old["supersedes"], old["superseded_by"]) == ([], ["W11-2026"])
    assert (new["supersedes"], new["superseded_by"]) == (["W10-2026"], [])
    assert [i["key"] for i in old["newer"]] == ["W11-2026"] and old["older"] == []
    assert old["devices"] == len(demo_devices_on("W10-2026"))
    with pytest.raises(WrongKind):
        lineage(demo, "SRV-001")


def test_superseded_is_not_a_need_so_impact_does_not_follow_it(demo):
    affected = {a["key"] for a in impact(demo, ["W10-2026"])["affected"]}
    assert "W11-2026" not in affected
    assert demo_devices_on("W10-2026") <= affected


def test_devices_still_on_a_superseded_image_per_site_and_category(demo):
    report = on_superseded_images(demo)
    expected = demo_devices_on("W10-2026")
    assert {d["key"] for d in report["devices"]} == expected
    assert {d["superseded_by"][0] for d in report["devices"]} == {"W11-2026"}
    site_of = demo_site_of()
    assert report["by_site"] == {s: sum(site_of[k] == s for k in expected) for s in {site_of[k] for k in expected}}
    only = on_superseded_images(demo, site="SH-HQ", category="pc")
    cis, _ = demo_estate()
    category = {c.key: c.properties.get("category") for c in cis}
    assert {d["key"] for d in only["devices"]} == {k for k in expected if site_of[k] == "SH-HQ"
                                                    and category[k] == "pc"}


def test_devices_past_end_of_support_on_a_day(demo):
    assert past_end_of_support(demo, on="2026-12-01")["devices"] == []
    assert {d["key"] for d in past_end_of_support(demo, on="2027-02-01")["devices"]} == \
        demo_devices_on("W10-2026")
    later = past_end_of_support(demo, on="2027-11-01")
    assert {d["key"] for d in later["devices"]} == demo_devices_on("W10-2026", "ESXI8-2026")
    assert later["by_image"] == {"ESXI8-2026": len(demo_devices_on("ESXI8-2026")),
                                 "W10-2026": len(demo_devices_on("W10-2026"))}
    with pytest.raises(InvalidInput):
        past_end_of_support(demo, on="next year")


def test_rollout_view_matches_the_compatibility_checks(demo):
    check = check_image_change(demo, "W10-2026", "W11-2026")
    verdicts = {d["key"]: d["verdict"] for d in check["devices"]}
    view = rollout(demo, "W10-2026", "W11-2026")
    assert view["new_supersedes_old"] is True
    assert {d["key"] for d in view["can"]} == {k for k, v in verdicts.items() if v == "pass"}
    assert {d["key"] for d in view["cannot"]} == {k for k, v in verdicts.items() if v == "fail"}
    assert {d["key"] for d in view["unknown"]} == {k for k, v in verdicts.items() if v == "unknown"}
    assert view["moved"] == [] and view["summary"]["moved"] == 0
    assert all(d["reasons"] for d in view["cannot"]) and not any(d["reasons"] for d in view["can"])
    assert sum(view["summary"]["reasons"].values()) == sum(len(d["reasons"]) for d in view["cannot"])

    mover = sorted(d["key"] for d in view["can"])[0]
    demo.link(mover, "RUNS_IMAGE", "W11-2026", actor="alice")
    after = rollout(demo, "W10-2026", "W11-2026")
    assert [(d["key"], d["actor"]) for d in after["moved"]] == [(mover, "alice")]
    assert {d["key"] for d in after["can"]} == {d["key"] for d in view["can"]} - {mover}
    assert after["summary"]["still_on_old"] == view["summary"]["still_on_old"] - 1


def test_rollout_to_itself_is_refused(demo):
    with pytest.raises(Conflict):
        rollout(demo, "W10-2026", "W10-2026")


def test_command_line_lists_and_rollout(demo, cli):
    rolled = cli("check-image", "W10-2026", "--to", "W11-2026", "--json")
    assert rolled.exit_code == 0, rolled.output
    plan = json.loads(rolled.stdout)["rollout"]
    assert plan == json.loads(json.dumps(rollout(demo, "W10-2026", "W11-2026")))
    said = cli("check-image", "W10-2026", "--to", "W11-2026").stdout
    assert (f"rollout W10-2026 → W11-2026: 0 moved, {plan['summary']['can']} can move, "
            f"{plan['summary']['cannot']} cannot, {plan['summary']['unknown']} unknown") in " ".join(said.split())
    listed = json.loads(cli("image", "superseded", "--category", "pc", "--json").stdout)
    assert {d["key"] for d in listed["devices"]} == {k for k in demo_devices_on("W10-2026")}
    past = json.loads(cli("image", "past-support", "--on", "2027-02-01", "--site", "SZ-DC", "--json").stdout)
    assert past["devices"] == [] and past["on"] == "2027-02-01"
    refused = cli("image", "lineage", "SRV-001")
    assert refused.exit_code == 1 and "not a SoftwareImage" in refused.output


def test_pages_show_lineage_lists_and_rollout(demo, embedded_settings):
    client = TestClient(create_app(embedded_settings, graph=demo))
    assert sign_in(client, create_token(demo, "lineage-viewer", "viewer")).status_code == 303
    image = client.get("/cis/W10-2026").text
    assert 'id="lineage"' in image and 'href="/cis/W11-2026"' in image
    assert 'href="/images/W10-2026/rollout?to=W11-2026"' in image
    view = rollout(demo, "W10-2026", "W11-2026")
    page = client.get("/images/W10-2026/rollout", params={"to": "W11-2026"}).text
    s = view["summary"]
    assert (f"<strong>{s['moved']}</strong> moved · <strong>{s['can']}</strong> can move · "
            f"<strong>{s['cannot']}</strong> cannot") in page
    lists = client.get("/images", params={"site": "SH-HQ", "category": "pc", "on": "2027-02-01"}).text
    expected = demo_devices_on("W10-2026")
    assert f"{len(expected)} devices" in lists and all(f'href="/cis/{k}"' in lists for k in expected)
