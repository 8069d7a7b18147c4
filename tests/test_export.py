"""Export: one sheet per kind plus Relationships, formula cells neutralised, and a round
trip through `cmdb import` that changes nothing. Also the REST upload and download."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from fastapi.testclient import TestClient

from cmdb.api.app import create_app
from cmdb.graph import CIInput, Link
from cmdb.graph.tokens import create_token
from cmdb.settings import Settings
from importers.export import collect, export_register, export_xlsx_bytes
from importers.service import run_import
from importers.values import neutralise, unneutralise

EVIL = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "\nLF"]


def estate(graph):
    cis = [
        CIInput("SITE", "Location", {"name": "Site", "type": "site", "address": "1 Road"}),
        CIInput("RACK-1", "Location", {"name": "Rack 1", "type": "rack"}),
        CIInput("000123", "Hardware", {"name": "db", "category": "server", "status": "in_use",
                                       "ram_gb": 16.5, "cpu_cores": 8, "purchase_date": "2024-03-01",
                                       "serial": "0042"}),
        CIInput("000124", "Hardware", {"name": "sw", "category": "switch", "notes": "多行\n说明"}),
        CIInput("IMG", "SoftwareImage", {"name": "Base", "version": "1.0",
                                         "supported_models": ["R740", "R750"]}),
        CIInput("APP", "Application", {"name": "ERP", "criticality": "vip", "min_hosts": 1}),
        CIInput("APP2", "Application", {"name": "Portal"}),
    ] + [CIInput(f"EVIL-{i}", "Hardware", {"name": text, "notes": text}) for i, text in enumerate(EVIL)]
    links = [Link("RACK-1", "LOCATED_IN", "SITE"), Link("000123", "LOCATED_IN", "RACK-1"),
             Link("000123", "RUNS_IMAGE", "IMG"), Link("APP", "RUNS_ON", "000123"),
             Link("APP", "RUNS_ON", "000124"), Link("APP2", "DEPENDS_ON", "APP"),
             Link("000123", "CONNECTED_TO", "000124")]
    graph.upsert_cis_atomically(cis, links, actor="test")


def snapshot(graph):
    from cmdb.graph import imports as graph_imports
    cis = {}
    for kind in ("Location", "Hardware", "SoftwareImage", "Application"):
        for key, props in graph_imports.cis_of_kind(graph, kind):
            cis[key] = (kind, {k: v for k, v in props.items() if k not in ("created_at", "updated_at")})
    return cis, set(graph_imports.all_links(graph))


def test_neutralise_round_trips():
    for text in EVIL + ["plain", "'quoted", "a=b", ""]:
        assert unneutralise(neutralise(text)) == text
    assert [neutralise(t)[0] for t in EVIL] == ["'"] * len(EVIL)


def test_sheets_and_columns(graph):
    estate(graph)
    sheets = {s.name: s for s in collect(graph)}
    assert list(sheets) == ["Location", "Hardware", "SoftwareImage", "Application", "Relationships"]
    hw = sheets["Hardware"]
    assert hw.headers[0] == "key" and hw.headers[-2:] == ["location", "image"]
    row = dict(zip(hw.headers, next(r for r in hw.rows if r[0] == "000123")))
    assert (row["location"], row["image"], row["ram_gb"], row["cpu_cores"], row["serial"]) == (
        "RACK-1", "IMG", 16.5, 8, "0042")
    assert sorted(map(tuple, sheets["Relationships"].rows)) == [
        ("000123", "CONNECTED_TO", "000124"), ("APP", "RUNS_ON", "000123"), ("APP", "RUNS_ON", "000124"),
        ("APP2", "DEPENDS_ON", "APP")]


def test_xlsx_cells_with_formula_leads_are_neutralised(graph, tmp_path):
    estate(graph)
    path = tmp_path / "register.xlsx"
    export_register(graph, path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Hardware"]
    headers = [c.value for c in ws[1]]
    # openpyxl leaves the XML escape of a carriage return as it is in the file
    names = {r[0]: r[headers.index("name")].replace("_x000D_", "\r")
             for r in ws.iter_rows(min_row=2, values_only=True)}
    assert {names[f"EVIL-{i}"] for i in range(len(EVIL))} == {"'" + t for t in EVIL}
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f", cell.coordinate


def test_csv_cells_are_neutralised(graph, tmp_path):
    estate(graph)
    export_register(graph, tmp_path / "r.csv", kind="Hardware")
    with (tmp_path / "r_Hardware.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["name"] for r in rows if r["key"].startswith("EVIL")} == {"'" + t for t in EVIL}
    for r in rows:
        for value in r.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r", "\n")), value


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_export_then_import_changes_nothing(graph, tmp_path, suffix):
    estate(graph)
    before = snapshot(graph)
    history_before = graph.history("000123")[1]
    summary = export_register(graph, tmp_path / f"register{suffix}")
    sources = [(p, p) for p in summary["files"]]
    result = run_import(graph, sources, actor="test")
    assert result.plan.problems == []
    assert (result.created, result.updated, result.relationships_created) == (0, 0, 0)
    assert result.unchanged == len(before[0])
    assert snapshot(graph) == before
    assert graph.history("000123")[1] == history_before

    # ... and into an empty register it rebuilds the same graph.
    graph.wipe()
    result = run_import(graph, sources, actor="test")
    assert result.plan.problems == []
    rebuilt = snapshot(graph)
    strip = lambda s: ({k: (kind, {p: v for p, v in props.items() if p != "revision"})  # noqa: E731
                        for k, (kind, props) in s[0].items()}, s[1])
    assert strip(rebuilt) == strip(before)


# --- REST ------------------------------------------------------------------------------------


@pytest.fixture
def api(embedded_graph, embedded_settings):
    settings = Settings(**{**embedded_settings.model_dump(), "max_upload_bytes": 200_000})
    tokens = {role: create_token(embedded_graph, f"{role}-imp", role, created_by="test")
              for role in ("viewer", "asset_staff", "registrar", "admin")}
    with TestClient(create_app(settings, graph=embedded_graph)) as client:
        yield client, tokens


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def workbook_bytes(rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "硬件"
    for r in rows:
        ws.append(r)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_api_import_dry_run_write_and_errors(api, embedded_graph):
    client, tokens = api
    good = workbook_bytes([["资产编号", "状态"], ["000001", "在用"], ["000002", "库存"]])
    files = {"file": ("资产.xlsx", good, "application/octet-stream")}

    r = client.post("/api/v1/imports", files=files, headers=auth(tokens["viewer"]))
    assert r.status_code == 403

    # Asset staff may not create CIs through the API, so not through an import either.
    r = client.post("/api/v1/imports", files=files, headers=auth(tokens["asset_staff"]))
    assert r.status_code == 403 and r.json()["error"]["details"]["created"] == 0
    assert embedded_graph.get_cis(["000001"]) == {}

    r = client.post("/api/v1/imports", files=files, data={"dry_run": "true"},
                    headers=auth(tokens["registrar"]))
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["written"]) == (2, False)
    assert embedded_graph.get_cis(["000001"]) == {}

    r = client.post("/api/v1/imports", files=files, headers=auth(tokens["registrar"]))
    assert r.status_code == 200 and r.json()["created"] == 2
    assert embedded_graph.get_ci("000001").properties["status"] == "in_use"
    assert embedded_graph.history("000001")[0][0].actor == "registrar-imp"

    bad = workbook_bytes([["资产编号", "状态"], ["000003", "在用"], ["000004", "坏了"]])
    r = client.post("/api/v1/imports", files={"file": ("bad.xlsx", bad)}, headers=auth(tokens["admin"]))
    assert r.status_code == 422
    details = r.json()["error"]["details"]
    assert [(e["sheet"], e["row"], e["column"], e["value"]) for e in details["errors"]] == [
        ("硬件", 3, "状态", "坏了")]
    assert embedded_graph.get_cis(["000003"]) == {}

    r = client.post("/api/v1/imports", files={"file": ("bad.xlsx", bad)}, data={"skip_invalid": "true"},
                    headers=auth(tokens["admin"]))
    assert r.status_code == 200 and r.json()["created"] == 1

    r = client.post("/api/v1/imports", files={"file": ("x.xlsx", good)}, data={"mapping": "/etc/passwd"},
                    headers=auth(tokens["admin"]))
    assert r.status_code == 422


def test_api_upload_limit_and_refused_files(api):
    client, tokens = api
    big = b"key\n" + b"x" * 300_000
    r = client.post("/api/v1/imports", files={"file": ("big.csv", big)}, headers=auth(tokens["admin"]))
    assert r.status_code == 413
    r = client.post("/api/v1/imports", files={"file": ("empty.xlsx", b"")}, headers=auth(tokens["admin"]))
    assert r.status_code == 422 and "empty" in r.json()["error"]["message"]


def test_api_export_reads_back_unchanged(api, embedded_graph):
    client, tokens = api
    estate(embedded_graph)
    r = client.get("/api/v1/exports/register.xlsx", headers=auth(tokens["viewer"]))
    assert r.status_code == 403
    r = client.get("/api/v1/exports/register.xlsx", headers=auth(tokens["asset_staff"]))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert r.content == export_xlsx_bytes(embedded_graph) or r.content[:2] == b"PK"
    r = client.post("/api/v1/imports", files={"file": ("register.xlsx", r.content)},
                    headers=auth(tokens["asset_staff"]))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert (doc["created"], doc["updated"], doc["relationships_created"]) == (0, 0, 0)
    assert json.dumps(doc["errors"]) == "[]"
