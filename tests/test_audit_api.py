"""The audits API over HTTP (FastAPI's test client against the real engine): roles, bodies,
concurrent scans from several clients, closed campaigns, reconciliation and report downloads."""

from __future__ import annotations

import io
import threading
import zipfile
from html.parser import HTMLParser

import openpyxl
import pytest
from fastapi.testclient import TestClient

from cmdb.api.app import create_app
from cmdb.graph.tokens import create_token
from tests.test_audit_estate import ANSWER, SCANS, build_estate, ids


@pytest.fixture
def estate(graph):
    build_estate(graph)
    return graph


@pytest.fixture
def client(estate, embedded_settings):
    return TestClient(create_app(embedded_settings, graph=estate))


@pytest.fixture
def headers(estate):
    return {role: {"Authorization": f"Bearer {create_token(estate, f'{role}-token', role)}"}
            for role in ("viewer", "asset_staff", "auditor", "reviewer")}


def _start(client, headers, **body):
    response = client.post("/api/v1/audits", json={"name": "Spring", **body}, headers=headers["auditor"])
    assert response.status_code == 201, response.text
    return response.json()


def test_roles_are_enforced(client, headers):
    assert client.get("/api/v1/audits").status_code == 401
    for role in ("viewer", "asset_staff", "reviewer"):
        assert client.post("/api/v1/audits", json={"name": "x"}, headers=headers[role]).status_code == 403
        assert client.get("/api/v1/audits", headers=headers[role]).status_code == 403
    campaign = _start(client, headers, scope=["SITE-A"])
    scan = {"tag": "HW-FOUND", "location": "RACK-101-1"}
    assert client.post(f"/api/v1/audits/{campaign['id']}/scans", json=scan,
                       headers=headers["viewer"]).status_code == 403
    assert client.post(f"/api/v1/audits/{campaign['id']}/scans", json=scan,
                       headers=headers["asset_staff"]).status_code == 201
    assert client.get(f"/api/v1/audits/{campaign['id']}/reconciliation",
                      headers=headers["asset_staff"]).status_code == 403


def test_bodies_are_checked(client, headers):
    bad = client.post("/api/v1/audits", json={"name": "x", "owner": "me"}, headers=headers["auditor"])
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "owner"
    bad = client.post("/api/v1/audits", json={"name": "x", "scope": ["NOPE"]}, headers=headers["auditor"])
    assert bad.status_code == 404 and "NOPE" in bad.json()["error"]["message"]
    campaign = _start(client, headers)
    url = f"/api/v1/audits/{campaign['id']}/scans"
    bad = client.post(url, json={"tag": "HW-FOUND", "location": "ROOM-101", "extra": 1},
                      headers=headers["asset_staff"])
    assert bad.status_code == 422
    bad = client.post(url, json={"tag": "HW-FOUND", "location": "HW-B"}, headers=headers["asset_staff"])
    # Well-formed, but HW-B is Hardware in the register: a conflict with it, not a malformed body.
    assert bad.status_code == 409 and "not a Location" in bad.json()["error"]["message"]
    bad = client.post(url, json={"tag": "HW-FOUND", "location": "NO-ROOM"}, headers=headers["asset_staff"])
    assert bad.status_code == 409 and bad.json()["error"]["code"] == "unknown_reference"
    assert client.get("/api/v1/audits/AUD-20990101-abcdef", headers=headers["auditor"]).status_code == 404
    assert client.get("/api/v1/audits/AUD-NOPE", headers=headers["auditor"]).status_code == 422  # not an id


def test_concurrent_scans_from_several_clients_are_all_kept(estate, embedded_settings, headers):
    app = create_app(embedded_settings, graph=estate)
    with TestClient(app) as setup:
        campaign = _start(setup, headers)
    url = f"/api/v1/audits/{campaign['id']}/scans"
    threads, per_thread = 6, 20
    failures: list[str] = []

    def worker(n: int) -> None:
        client = TestClient(app)
        for i in range(per_thread):
            r = client.post(url, json={"tag": f"T-{n}-{i}", "location": "ROOM-101"},
                            headers=headers["asset_staff"])
            if r.status_code != 201:
                failures.append(r.text)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert failures == []
    with TestClient(app) as client:
        result = client.get(f"/api/v1/audits/{campaign['id']}/reconciliation", headers=headers["auditor"]).json()
        stored = client.get(url, params={"limit": 500}, headers=headers["auditor"]).json()
    expected_tags = {f"T-{n}-{i}" for n in range(threads) for i in range(per_thread)}
    assert ids(result["unexpected"]) == expected_tags
    assert {s["tag"] for s in stored["items"]} == expected_tags and stored["total"] == len(expected_tags)


def test_reconcile_close_and_refuse_scans_over_http(client, headers, estate):
    campaign = _start(client, headers, scope=["SITE-A"], due="2026-12-31")
    assert campaign["due"] == "2026-12-31" and campaign["expected_count"] == 9
    url = f"/api/v1/audits/{campaign['id']}"
    for tag, where in SCANS:
        r = client.post(f"{url}/scans", json={"tag": tag, "location": where, "note": "ok"},
                        headers=headers["asset_staff"])
        assert r.status_code == 201, r.text
    timed = {"tag": "HW-FOUND", "location": "RACK-101-1", "at": "2026-11-21T09:00:00Z"}
    assert client.post(f"{url}/scans", json=timed, headers=headers["asset_staff"]).status_code == 201
    again = client.post(f"{url}/scans", json=timed, headers=headers["asset_staff"])
    assert again.status_code == 200 and again.json()["created"] is False
    estate.delete_ci("HW-DELETED", actor="test", force=True)

    result = client.get(f"{url}/reconciliation", headers=headers["auditor"]).json()
    assert {c: ids(result[c]) for c in ANSWER} == ANSWER
    assert result["summary"]["verified_percent"] == 77.8

    listed = client.get("/api/v1/audits", headers=headers["auditor"]).json()
    assert [c["id"] for c in listed] == [campaign["id"]] and listed[0]["scans"] == len(SCANS) + 1

    closed = client.post(f"{url}/close", json={"apply_relocations": True}, headers=headers["auditor"])
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["relocated"] == ["HW-MOVED"] and body["marked_missing"] == []
    assert body["campaign"]["status"] == "closed" and body["campaign"]["closed_by"] == "auditor-token"
    refused = client.post(f"{url}/scans", json={"tag": "HW-B", "location": "ROOM-101"},
                          headers=headers["asset_staff"])
    assert refused.status_code == 409 and "no longer accepts scans" in refused.json()["error"]["message"]
    assert client.post(f"{url}/close", headers=headers["auditor"]).status_code == 409


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_report_downloads(client, headers):
    campaign = _start(client, headers, scope=["SITE-A"])
    url = f"/api/v1/audits/{campaign['id']}"
    for tag, where in SCANS:
        client.post(f"{url}/scans", json={"tag": tag, "location": where}, headers=headers["asset_staff"])
    xlsx = client.get(f"{url}/report", params={"format": "xlsx"}, headers=headers["auditor"])
    assert xlsx.status_code == 200 and "spreadsheetml" in xlsx.headers["content-type"]
    assert f'{campaign["id"]}.xlsx' in xlsx.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames[0] == "Summary" and "Missing" in book.sheetnames
    assert any(n.startswith("xl/charts/") for n in zipfile.ZipFile(io.BytesIO(xlsx.content)).namelist())
    html = client.get(f"{url}/report", params={"format": "html"}, headers=headers["auditor"])
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    parsed = _Collector()
    parsed.feed(html.text)
    assert "svg" in parsed.tags and "script" not in parsed.tags
    assert client.get(f"{url}/report", params={"format": "pdf"}, headers=headers["auditor"]).status_code == 422
    assert client.get(f"{url}/report", headers=headers["asset_staff"]).status_code == 403
