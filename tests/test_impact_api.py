"""Impact over HTTP (roles, bodies, errors, the SVG picture) and on the command line."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cmdb.api.app import create_app
from cmdb.cli import app as cli_app
from cmdb.graph.tokens import create_token
from cmdb.impact.picture import render_svg
from cmdb.impact.service import impact
from tests.test_impact import SITE_PROPS, SITES, build

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture
def client(graph, embedded_settings):
    build(graph, SITES, SITE_PROPS)
    return TestClient(create_app(embedded_settings, graph=graph))


def auth(graph, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(graph, f'impact-{role}', role)}"}


def test_impact_for_a_reviewer(client, graph):
    response = client.post("/api/v1/impact", json={"keys": ["BLD-A"]}, headers=auth(graph, "reviewer"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert {(a["key"], a["state"], a["distance"]) for a in body["affected"]} == {
        ("ROOM-A1", "down", 1), ("RACK-A1", "down", 2), ("PC-1", "down", 2), ("SRV-1", "down", 3),
        ("SRV-2", "down", 3), ("APP-ERP", "degraded", 4), ("APP-MAIL", "down", 4)}
    erp = next(a for a in body["affected"] if a["key"] == "APP-ERP")
    assert erp["path"] == [{"key": "APP-ERP"}, {"type": "RUNS_ON"}, {"key": "SRV-1"}, {"type": "LOCATED_IN"},
                           {"key": "RACK-A1"}, {"type": "LOCATED_IN"}, {"key": "ROOM-A1"},
                           {"type": "LOCATED_IN"}, {"key": "BLD-A"}]
    assert body["summary"]["by_state"] == {"down": 6, "degraded": 1}
    assert [a["key"] for a in body["summary"]["applications"]] == ["APP-ERP", "APP-MAIL"]
    assert body["changed"] == [{"key": "BLD-A", "kind": "Location", "name": "Building A"}]


def test_depth_and_kinds_over_http(client, graph):
    response = client.post("/api/v1/impact", json={"keys": ["BLD-A"], "depth": 2, "kinds": ["Location"]},
                           headers=auth(graph, "admin"))
    assert response.status_code == 200, response.text
    assert {(a["key"], a["distance"]) for a in response.json()["affected"]} == {("ROOM-A1", 1), ("RACK-A1", 2)}


@pytest.mark.parametrize("role, status", [("viewer", 403), ("asset_staff", 403), ("auditor", 403),
                                          ("reviewer", 200), ("admin", 200)])
def test_roles(client, graph, role, status):
    headers = auth(graph, role)
    assert client.post("/api/v1/impact", json={"keys": ["SRV-1"]}, headers=headers).status_code == status
    assert client.get("/api/v1/impact/graph.svg", params={"keys": "SRV-1"}, headers=headers).status_code == status
    assert client.post("/api/v1/impact/hardware-change", json={"key": "SRV-1", "properties": {"ram_gb": 8}},
                       headers=headers).status_code == status
    assert client.post("/api/v1/impact/image-change", json={"image": "IMG-NONE"},
                       headers=headers).status_code == (404 if status == 200 else status)


def test_sign_in_required(client):
    response = client.post("/api/v1/impact", json={"keys": ["SRV-1"]})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_unknown_keys_are_404_naming_them(client, graph):
    response = client.post("/api/v1/impact", json={"keys": ["SRV-1", "NOPE"]}, headers=auth(graph, "reviewer"))
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "unknown_key"
    assert error["details"] == {"keys": ["NOPE"]}
    assert "NOPE" in error["message"]


@pytest.mark.parametrize("body, field", [
    ({"keys": []}, "keys"),
    ({}, "keys"),
    ({"keys": ["SRV-1"], "depth": 0}, "depth"),
    ({"keys": ["SRV-1"], "colour": "red"}, "colour"),
    ({"keys": ["SRV-1"], "kinds": ["Printer"]}, "kind"),
    ({"keys": ["   "]}, "keys"),
])
def test_bad_requests_are_422_naming_the_field(client, graph, body, field):
    response = client.post("/api/v1/impact", json=body, headers=auth(graph, "reviewer"))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert field in json.dumps(error)


def test_image_and_hardware_changes_over_http(client, graph):
    build(graph, [("SRV-1", "RUNS_IMAGE", "IMG-RHEL"), ("SRV-2", "RUNS_IMAGE", "IMG-RHEL")],
          props={"SRV-1": {"ram_gb": 64}, "SRV-2": {"ram_gb": 16}, "IMG-RHEL": {"min_ram_gb": 32},
                 "IMG-RHEL10": {"min_ram_gb": 48}})
    headers = auth(graph, "reviewer")
    response = client.post("/api/v1/impact/image-change", json={"image": "IMG-RHEL", "new_image": "IMG-RHEL10"},
                           headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {d["key"]: d["verdict"] for d in body["devices"]} == {"SRV-1": "pass", "SRV-2": "fail"}
    assert body["summary"] == {"devices": 2, "pass": 1, "fail": 1, "unknown": 0,
                               "applications_on_failing_devices": ["APP-MAIL"]}

    response = client.post("/api/v1/impact/hardware-change", json={"key": "SRV-1", "properties": {"ram_gb": 8}},
                           headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["summary"]["images_no_longer_satisfied"] == ["IMG-RHEL"]
    assert {a["key"] for a in body["applications"]} == {"APP-ERP"}
    assert body["summary"]["applications_affected"] == ["APP-ERP"]

    bad = client.post("/api/v1/impact/hardware-change", json={"key": "SRV-1", "properties": {"ram_gb": "x"}},
                      headers=headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "properties.ram_gb"


def test_picture_is_well_formed_svg_with_every_ci_and_path(client, graph):
    response = client.get("/api/v1/impact/graph.svg", params={"keys": "BLD-A"}, headers=auth(graph, "reviewer"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    root = ET.fromstring(response.text)
    assert root.tag == f"{SVG}svg"
    boxes = {g.find(f"{SVG}title").text.split(":")[0] for g in root.iter(f"{SVG}g")}
    assert boxes == {"Location BLD-A (Building A)", "Location ROOM-A1 (ROOM-A1 name)",
                     "Location RACK-A1 (RACK-A1 name)", "Hardware PC-1 (PC-1 name)", "Hardware SRV-1 (SRV-1 name)",
                     "Hardware SRV-2 (SRV-2 name)", "Application APP-ERP (APP-ERP name)",
                     "Application APP-MAIL (APP-MAIL name)"}
    lines = {p.find(f"{SVG}title").text for p in root.iter(f"{SVG}path") if p.find(f"{SVG}title") is not None}
    assert lines == {"ROOM-A1 LOCATED_IN BLD-A", "RACK-A1 LOCATED_IN ROOM-A1", "PC-1 LOCATED_IN ROOM-A1",
                     "SRV-1 LOCATED_IN RACK-A1", "SRV-2 LOCATED_IN RACK-A1", "APP-ERP RUNS_ON SRV-1",
                     "APP-MAIL RUNS_ON SRV-2"}
    fills = {g.find(f"{SVG}title").text.split(":")[0].split()[1]: g.find(f"{SVG}rect").get("fill")
             for g in root.iter(f"{SVG}g")}
    assert fills["BLD-A"] == "#5b3fa8" and fills["APP-ERP"] == "#ef8f00" and fills["APP-MAIL"] == "#c62828"


def test_picture_takes_several_keys(client, graph):
    headers = auth(graph, "reviewer")
    for params in ({"keys": "SRV-1,SRV-2"}, [("keys", "SRV-1"), ("keys", "SRV-2")]):
        response = client.get("/api/v1/impact/graph.svg", params=params, headers=headers)
        assert response.status_code == 200
        root = ET.fromstring(response.text)
        assert "SRV-1, SRV-2" in next(root.iter(f"{SVG}text")).text
    missing = client.get("/api/v1/impact/graph.svg", params={"keys": "NOPE"}, headers=headers)
    assert missing.status_code == 404


def test_picture_escapes_names(graph):
    build(graph, [("APP-X", "RUNS_ON", "SRV-<1>"), ("APP-Y", "RUNS_ON", "SRV-<1>")],
          props={"APP-X": {"name": EVIL}, "SRV-<1>": {"name": "a & b \" ' ]]>"}})
    svg = render_svg(impact(graph, ["SRV-<1>"]))
    root = ET.fromstring(svg)
    assert "<img" not in svg
    assert not [e for e in root.iter() if e.tag.split("}")[1] in ("script", "foreignObject", "a", "image")]
    assert not [a for e in root.iter() for a in e.attrib if a.lower().startswith("on")]
    texts = " ".join(e.text or "" for e in root.iter())
    assert EVIL[:20] in texts  # shown as text, truncated to the box
    assert "a & b \" ' ]]>" in texts


def test_picture_of_a_large_impact_stays_bounded(graph):
    build(graph, [(f"APP-{i:03d}", "RUNS_ON", "SRV-BIG") for i in range(350)])
    result = impact(graph, ["SRV-BIG"])
    root = ET.fromstring(render_svg(result))
    assert len(list(root.iter(f"{SVG}g"))) == 300  # the changed CI and the 299 nearest
    assert "51 further CIs not drawn" in next(root.iter(f"{SVG}text")).text
    assert float(root.get("height")) < 2000  # wrapped into columns rather than one tall column


def test_picture_boxes_are_as_wide_as_their_text(graph):
    from cmdb.impact.picture import BOX_PAD, LABEL_SIZE, MAX_BOX_W
    from cmdb.impact.text_width import text_width

    long_name = "Oracle 数据库集群 for the finance and human resources departments"
    build(graph, [("APP-LONG", "RUNS_ON", "SRV-1"), ("APP-S", "RUNS_ON", "SRV-1")],
          props={"APP-LONG": {"name": long_name}, "APP-S": {"name": "短"}})
    root = ET.fromstring(render_svg(impact(graph, ["SRV-1"])))
    width = float(root.get("width"))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    labels = {}
    for g in root.iter(f"{SVG}g"):
        rect, label = g.find(f"{SVG}rect"), g.find(f"{SVG}text")
        labels[g.find(f"{SVG}title").text.split()[1]] = label.text
        assert text_width(label.text, LABEL_SIZE, bold=True) + 2 * BOX_PAD <= float(rect.get("width")) + 1
        assert float(rect.get("x")) + float(rect.get("width")) <= width
    assert labels["APP-S"] == "APP-S · 短"
    assert labels["APP-LONG"].startswith("APP-LONG · Oracle 数据库集群") and labels["APP-LONG"].endswith("…")
    assert text_width(labels["APP-LONG"], LABEL_SIZE, bold=True) <= MAX_BOX_W


def test_text_width_without_fonts_estimates(monkeypatch):
    from cmdb.impact import text_width as tw

    monkeypatch.setattr(tw, "_faces", lambda: (None, None))
    assert tw.text_width("ab", 10) == pytest.approx(2 * 6 * tw.SLACK)
    assert tw.text_width("数据", 10) == pytest.approx(2 * 10 * tw.SLACK)
    assert tw.fit("abcdefghij", 10, 40) == "abcde…"  # 6 characters of 6 px, and the slack


# --- command line -----------------------------------------------------------------------------


runner = CliRunner()


def run(*args: str):
    return runner.invoke(cli_app, list(args))


def test_cli_impact_json_and_tables(embedded_graph):
    build(embedded_graph, SITES, SITE_PROPS)
    result = run("impact", "BLD-A", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert {(a["key"], a["state"], a["distance"]) for a in body["affected"]} == {
        ("ROOM-A1", "down", 1), ("RACK-A1", "down", 2), ("PC-1", "down", 2), ("SRV-1", "down", 3),
        ("SRV-2", "down", 3), ("APP-ERP", "degraded", 4), ("APP-MAIL", "down", 4)}
    human = run("impact", "BLD-A", "SRV-9")
    assert human.exit_code == 0, human.output
    assert "Applications affected" in human.stdout
    assert "APP-ERP -RUNS_ON-> SRV-1" in human.stdout or "APP-ERP -RUNS_ON-> SRV-9" in human.stdout
    assert "Other CIs down" in human.stdout
    limited = run("impact", "BLD-A", "--depth", "1", "--json")
    assert {a["key"] for a in json.loads(limited.stdout)["affected"]} == {"ROOM-A1"}


@pytest.mark.parametrize("args, message", [
    (("impact", "NOPE-1"), "NOPE-1"),
    (("impact",), "empty"),
    (("impact", "SRV-1", "--depth", "0"), "depth"),
    (("check-image", "SRV-1"), "not a SoftwareImage"),
    (("check-hardware", "SRV-1", "--set", "ram_gb=lots"), "ram_gb"),
    (("check-hardware", "NOPE-2", "--set", "ram_gb=8"), "NOPE-2"),
])
def test_cli_bad_input_exits_1(embedded_graph, args, message):
    build(embedded_graph, SITES, SITE_PROPS)
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_cli_checks(embedded_graph):
    build(embedded_graph, [("PC-1", "RUNS_IMAGE", "IMG-W10"), ("PC-2", "RUNS_IMAGE", "IMG-W10"),
                           ("APP-POS", "RUNS_ON", "PC-2")],
          props={"PC-1": {"ram_gb": 16}, "PC-2": {"ram_gb": 4}, "IMG-W10": {"min_ram_gb": 4},
                 "IMG-W11": {"min_ram_gb": 8}})
    result = run("check-image", "IMG-W10", "--to", "IMG-W11", "--json")
    assert result.exit_code == 0, result.output
    assert {d["key"]: d["verdict"] for d in json.loads(result.stdout)["devices"]} == {"PC-1": "pass", "PC-2": "fail"}
    result = run("check-image", "IMG-W10", "--set", "min_ram_gb=32", "--json")
    assert {d["key"]: d["verdict"] for d in json.loads(result.stdout)["devices"]} == {"PC-1": "fail", "PC-2": "fail"}
    human = run("check-image", "IMG-W10", "--to", "IMG-W11")
    assert human.exit_code == 0 and "1 pass, 1 fail, 0 unknown" in " ".join(human.stdout.split())
    result = run("check-hardware", "PC-1", "--set", "ram_gb=2", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["images_no_longer_satisfied"] == ["IMG-W10"]
    human = run("check-hardware", "PC-2", "--set", "ram_gb=2")
    assert human.exit_code == 0 and "APP-POS" in human.stdout
