"""Baselines of the demo estate: the diff lists exactly the changes made since, through the
API, an import and an audit close, each with its author; reports, list, scope, refusals."""

from __future__ import annotations

import io

import openpyxl
import pytest

from cmdb.baselines import service
from cmdb.demo import demo_estate, load_demo
from cmdb.documents.store import file_store
from cmdb.errors import Conflict, DuplicateKey, InvalidInput, NotFound
from tests.test_api import API, Api


def demo_props(key: str) -> dict:
    return next(c.properties for c in demo_estate()[0] if c.key == key)


@pytest.fixture
def demo_api(embedded_graph, embedded_settings) -> Api:
    load_demo(embedded_graph, actor="demo")
    return Api(embedded_graph, embedded_settings)


def ok(response, status: int = 200):
    assert response.status_code == status, response.text
    return response.json() if response.content and status != 204 else None


def make_changes(api: Api) -> tuple[str, str]:
    """Changes through the API, an import and an audit close; returns the import's file name
    and the campaign's id."""
    registrar, admin, auditor = api.client("registrar"), api.admin, api.client("auditor")
    ok(registrar.patch(f"{API}/cis/SRV-001", json={"properties": {"ram_gb": 1024}}))
    ok(registrar.post(f"{API}/cis", json={"key": "PC-0999", "kind": "Hardware",
                                          "properties": {"name": "New PC", "category": "pc"}}), 201)
    ok(registrar.post(f"{API}/relationships", json={"from": "PC-0999", "type": "LOCATED_IN", "to": "A-201"}))
    ok(registrar.post(f"{API}/relationships", json={"from": "PC-0004", "type": "RUNS_IMAGE", "to": "W10-2026"}))
    ok(admin.delete(f"{API}/cis/PRN-08"))
    name = "cameras.csv"
    files = {"file": (name, "key,name\nCAM-001,Lobby camera\n".encode(), "text/csv")}
    imported = ok(registrar.post(f"{API}/imports", files=files, data={"kind": "Hardware"}))
    assert imported["updated"] == 1, imported
    campaign = ok(auditor.post(f"{API}/audits", json={"name": "Building A check", "scope": ["SH-HQ-A"]}), 201)
    ok(auditor.post(f"{API}/audits/{campaign['id']}/scans", json={"tag": "PC-0002", "location": "A-201"}), 201)
    closed = ok(auditor.post(f"{API}/audits/{campaign['id']}/close", json={"apply_relocations": True}))
    assert closed["relocated"] == ["PC-0002"], closed
    return name, campaign["id"]


def test_diff_lists_exactly_the_changes_since_the_baseline_with_their_authors(demo_api):
    registrar = demo_api.client("registrar")
    created = ok(registrar.post(f"{API}/baselines", json={"name": "Hand-over 2026", "note": "agreed"}), 201)
    cis, links = demo_estate()
    assert (created["cis"], created["relationships"]) == (len(cis), len(links))
    assert created["created_by"] == "registrar-user"

    untouched = ok(registrar.get(f"{API}/baselines/Hand-over 2026/diff"))
    assert untouched["changes"] == [] and set(untouched["counts"].values()) == {0}

    source, campaign_id = make_changes(demo_api)
    diff = ok(demo_api.client("viewer").get(f"{API}/baselines/Hand-over 2026/diff", params={"to": "now"}))
    got = {(c["change"], c["key"], c["property"] or c["type"], c["before"], c["after"], c["by"])
           for c in diff["changes"]}
    printer = demo_props("PRN-08")
    assert got == {
        ("changed", "SRV-001", "ram_gb", demo_props("SRV-001")["ram_gb"], 1024, "registrar-user"),
        ("added", "PC-0999", None, None, "New PC", "registrar-user"),
        ("relationship added", "PC-0999", "LOCATED_IN", None, "A-201", "registrar-user"),
        ("re-imaged", "PC-0004", "RUNS_IMAGE", "W11-2026", "W10-2026", "registrar-user"),
        ("removed", "PRN-08", None, printer["name"], None, "admin-user"),
        ("relationship removed", "PRN-08", "LOCATED_IN", "B-201", None, "admin-user"),
        ("relationship removed", "PRN-08", "CONNECTED_TO", "SW-ACC-03", None, "admin-user"),
        ("changed", "CAM-001", "name", demo_props("CAM-001")["name"], "Lobby camera", "registrar-user"),
        ("moved", "PC-0002", "LOCATED_IN", "A-301", "A-201", "auditor-user"),
    }
    sources = {c["key"]: c["source"] for c in diff["changes"] if c["source"]}
    assert sources == {"CAM-001": f"import {source}", "PC-0002": f"audit {campaign_id} (Building A check)"}
    assert all(c["at"] and c["at"] > diff["since"] for c in diff["changes"])
    assert diff["counts"] == {"added": 1, "removed": 1, "moved": 1, "re-imaged": 1, "changed": 2,
                              "relationship added": 1, "relationship removed": 2}

    # A second baseline: diff between the two is the same set; nothing since the second.
    ok(registrar.post(f"{API}/baselines", json={"name": "After changes"}), 201)
    between = ok(registrar.get(f"{API}/baselines/Hand-over 2026/diff", params={"to": "After changes"}))
    assert {(c["change"], c["key"], c["property"] or c["type"], c["by"]) for c in between["changes"]} == \
        {(c["change"], c["key"], c["property"] or c["type"], c["by"]) for c in diff["changes"]}
    assert ok(registrar.get(f"{API}/baselines/After changes/diff"))["changes"] == []
    listed = ok(registrar.get(f"{API}/baselines"))
    assert [b["name"] for b in listed] == ["Hand-over 2026", "After changes"]

    report = registrar.get(f"{API}/baselines/After changes/report", params={"format": "xlsx"})
    assert report.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(report.content))
    assert book.sheetnames == ["Baseline", "Counts", "Changes since previous"]
    rows = list(book["Changes since previous"].iter_rows(values_only=True))
    assert len(rows) == 1 + len(diff["changes"])
    counts = {(r[0], r[1], r[2]): r[3] for r in book["Counts"].iter_rows(min_row=2, values_only=True)}
    assert sum(counts.values()) == len(cis) - 1 + 1
    html = registrar.get(f"{API}/baselines/After changes/report", params={"format": "html"})
    assert html.status_code == 200 and "Changes since Hand-over 2026" in html.text


def test_roles_names_and_scope(demo_api, embedded_graph, embedded_settings):
    refused = demo_api.client("asset_staff").post(f"{API}/baselines", json={"name": "x"})
    assert refused.status_code == 403
    store = file_store(embedded_settings)
    scoped = service.create(embedded_graph, store, "Shenzhen", actor="t", scope="SZ-DC")
    inside = set(embedded_graph.subtree_keys("SZ-DC"))
    assert scoped["cis"] == len(inside) and scoped["scope"] == "SZ-DC"
    with pytest.raises(DuplicateKey):
        service.create(embedded_graph, store, "Shenzhen", actor="t")
    with pytest.raises(Conflict):
        service.create(embedded_graph, store, "now", actor="t")
    with pytest.raises(InvalidInput):
        service.create(embedded_graph, store, "a/b", actor="t")
    with pytest.raises(NotFound):
        service.diff(embedded_graph, store, "No such baseline")
    # Moving a server into the scope adds it and every relationship touching it; only the
    # move has an author in the history since the baseline.
    embedded_graph.link("SRV-001", "LOCATED_IN", "DC1-H1-R01", actor="mover")
    diff = service.diff(embedded_graph, store, "Shenzhen")
    _, links = demo_estate()
    touching = {(l.from_key, l.type, l.to_key) for l in links
                if "SRV-001" in (l.from_key, l.to_key) and l.type != "LOCATED_IN"}
    assert {(c["change"], c["key"], c["type"], c["after"], c["by"]) for c in diff["changes"]} == {
        ("added", "SRV-001", None, "srv001", "mover"),
        ("relationship added", "SRV-001", "LOCATED_IN", "DC1-H1-R01", "mover"),
    } | {("relationship added", a, t, b, None) for a, t, b in touching}
    assert demo_api.client("viewer").get(f"{API}/baselines/No such").status_code == 404
