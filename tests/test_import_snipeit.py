"""Snipe-IT files as they are: its asset export and its import sheet (the latter saved by
Excel for Mac: Mac Roman, CR line ends, 1/23/23 dates), written by these tests in Snipe-IT's
layouts, imported into the real graph with `--mapping snipeit`."""

from __future__ import annotations

import csv
import io
import json

import pytest

from importers.presets import load_mapping
from importers.service import run_import

# Snipe-IT's asset export (Admin > Assets > Export): one row per asset.
EXPORT_HEADINGS = ["ID", "Company", "Asset Name", "Asset Tag", "Model", "Model No.", "Category",
                   "Status", "Serial", "Manufacturer", "Location", "Purchase Date", "Purchase Cost",
                   "Order Number", "Supplier", "Warranty", "Warranty Expires", "Asset EOL Date",
                   "Notes", "Checked Out To", "Created At"]
EXPORT_ROWS = [
    ["1", "Acme Ltd", "Laptop 7", "00042", "Latitude 7420", "L7420", "Laptops", "Deployed", "SN42",
     "Dell", "Shanghai Office", "2023-04-01", "1,200.00", "PO-1001", "Dell Direct", "36 months",
     "2026-04-01", "2027-04-01", "docking station in box", "Li Lei", "2023-04-02 09:00:00"],
    ["2", "Acme Ltd", "Spare laptop", "00043", "Latitude 7420", "L7420", "Laptops", "Ready to Deploy",
     "SN43", "Dell", "Shanghai Office", "2023-04-01", "1,200.00", "PO-1001", "Dell Direct",
     "36 months", "", "", "", "", "2023-04-02 09:00:00"],
    ["3", "Acme Ltd", "db-01", "00044", "PowerEdge R750", "R750", "Servers", "Pending", "SN44", "Dell",
     "Shanghai Office", "2022-12-15", "$8,450.50", "PO-0990", "CDW", "60", "", "", "", "",
     "2022-12-20 10:00:00"],
    ["4", "Acme HK", "Reception phone", "00045", "iPhone 14", "A2649", "Mobile Phones", "Lost/Stolen",
     "SN45", "Apple", "", "2023-02-01", "", "", "", "", "", "", "", "", "2023-02-01 12:00:00"],
    ["5", "Acme Ltd", "Old desktop", "00046", "OptiPlex 7090", "7090", "Desktops", "Archived", "SN46",
     "Dell", "Shanghai Office", "2019-06-30", "650", "", "", "", "", "", "", "", "2019-07-01 08:00:00"],
]

# Snipe-IT's import sheet (Admin > Import), as Excel for Mac saves it.
IMPORT_HEADINGS = ["Full Name", "Email", "Username", "Item Name", "Category", "Model name",
                   "Manufacturer", "Model Number", "Serial Number", "Asset Tag", "Location",
                   "Asset Notes", "Purchase Date", "Purchase Cost", "Company", "Status",
                   "Warranty Months", "Supplier", "Order Number"]
IMPORT_ROWS = [
    ["José Müller", "jose@example.com", "jmuller", "Design laptop", "Laptops", "MacBook Pro 14",
     "Apple", "MPHE3LL/A", "C02XK1", "A-0001", "Zürich Office", "Küche, 2. Stock", "1/23/23",
     "2,499.00", "Acme AG", "Deployed", "36", "Apple Store Zürich", "PO-2023-17"],
    ["", "", "", "Spare monitor", "Monitors", "U2723QE", "Dell", "210-BCXK", "CN0ABC", "A-0002",
     "Zürich Office", "", "12/31/22", "589.90", "Acme AG", "Ready to Deploy", "24", "Brack", ""],
    ["Renée Faßbender", "renee@example.com", "rfassbender", "Core switch", "Switches", "CBS350-24P",
     "Cisco", "CBS350-24P-4G", "FOC123", "A-0003", "Zürich Office", "", "3/4/16", "1,150",
     "Acme AG", "Undeployable", "60", "Digitec", "PO-2016-3"],
]


def snipeit_export_csv() -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([EXPORT_HEADINGS, *EXPORT_ROWS])
    return out.getvalue().encode("utf-8")


def snipeit_import_sheet_mac(rows=IMPORT_ROWS) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r").writerows([IMPORT_HEADINGS, *rows])
    data = out.getvalue().encode("mac_roman")
    assert b"\n" not in data and b"\xe9" not in data  # truly CR-only and not Latin-1
    return data


def snapshot(graph) -> tuple[dict, set]:
    from cmdb.graph import imports as graph_imports
    cis = {}
    for kind in ("Location", "Hardware"):
        for key, props in graph_imports.cis_of_kind(graph, kind):
            cis[key] = (kind, {k: v for k, v in props.items()
                               if k not in ("revision", "created_at", "updated_at", "key")})
    return cis, set(graph_imports.all_links(graph))


def snipeit(graph, name: str, data: bytes, **kw):
    return run_import(graph, [(name, data)], mapping=load_mapping("snipeit"), actor="tester", **kw)


def test_snipeit_export_imports_every_tagged_row_with_cost_supplier_and_warranty(graph):
    result = snipeit(graph, "assets-export.csv", snipeit_export_csv())
    assert result.plan.problems == []
    assert (result.created, result.updated) == (6, 0)  # five assets and their office
    cis, links = snapshot(graph)
    assert cis["00042"] == ("Hardware", {
        "name": "Laptop 7", "company": "Acme Ltd", "model": "Latitude 7420", "model_number": "L7420",
        "category": "laptop", "status": "in_use", "serial": "SN42", "vendor": "Dell",
        "purchase_date": "2023-04-01", "purchase_cost": 1200, "order_number": "PO-1001",
        "supplier": "Dell Direct", "warranty_end": "2026-04-01", "end_of_life": "2027-04-01",
        "notes": "docking station in box", "owner": "Li Lei"})
    assert cis["00044"] == ("Hardware", {
        "name": "db-01", "company": "Acme Ltd", "model": "PowerEdge R750", "model_number": "R750",
        "category": "server", "status": "in_repair", "serial": "SN44", "vendor": "Dell",
        "purchase_date": "2022-12-15", "purchase_cost": 8450.5, "order_number": "PO-0990",
        "supplier": "CDW", "warranty_end": "2027-12-15"})
    assert {k: (v[1]["category"], v[1]["status"], v[1].get("warranty_end"))
            for k, v in cis.items() if v[0] == "Hardware"} == {
        "00042": ("laptop", "in_use", "2026-04-01"), "00043": ("laptop", "in_stock", "2026-04-01"),
        "00044": ("server", "in_repair", "2027-12-15"), "00045": ("phone", "missing", None),
        "00046": ("pc", "retired", None)}
    assert cis["SHANGHAI-OFFICE"] == ("Location", {"name": "Shanghai Office", "type": "site"})
    assert links == {(k, "LOCATED_IN", "SHANGHAI-OFFICE") for k in ("00042", "00043", "00044", "00046")}

    again = snipeit(graph, "assets-export.csv", snipeit_export_csv())
    assert (again.created, again.updated, again.unchanged, again.relationships_created) == (0, 0, 5, 0)
    assert snapshot(graph) == (cis, links)


def test_snipeit_import_sheet_from_excel_for_mac(graph):
    result = snipeit(graph, "import.csv", snipeit_import_sheet_mac())
    assert result.plan.problems == []
    assert [w.message for w in result.plan.warnings] == [
        "Columns A 'Full Name' and C 'Username' both give owner; owner is read from column A and "
        "column C is ignored"]
    cis, links = snapshot(graph)
    hardware = {k: v[1] for k, v in cis.items() if v[0] == "Hardware"}
    assert hardware == {
        "A-0001": {"owner": "José Müller", "name": "Design laptop", "category": "laptop",
                   "model": "MacBook Pro 14", "vendor": "Apple", "model_number": "MPHE3LL/A",
                   "serial": "C02XK1", "notes": "Küche, 2. Stock", "purchase_date": "2023-01-23",
                   "purchase_cost": 2499, "company": "Acme AG", "status": "in_use",
                   "supplier": "Apple Store Zürich", "order_number": "PO-2023-17",
                   "warranty_end": "2026-01-23"},
        "A-0002": {"name": "Spare monitor", "category": "monitor", "model": "U2723QE", "vendor": "Dell",
                   "model_number": "210-BCXK", "serial": "CN0ABC", "purchase_date": "2022-12-31",
                   "purchase_cost": 589.9, "company": "Acme AG", "status": "in_stock",
                   "supplier": "Brack", "warranty_end": "2024-12-31"},
        "A-0003": {"owner": "Renée Faßbender", "name": "Core switch", "category": "switch",
                   "model": "CBS350-24P", "vendor": "Cisco", "model_number": "CBS350-24P-4G",
                   "serial": "FOC123", "purchase_date": "2016-03-04", "purchase_cost": 1150,
                   "company": "Acme AG", "status": "in_repair", "supplier": "Digitec",
                   "order_number": "PO-2016-3", "warranty_end": "2021-03-04"},
    }
    [office] = [k for k, v in cis.items() if v[0] == "Location"]
    assert cis[office][1]["name"] == "Zürich Office"
    assert links == {(k, "LOCATED_IN", office) for k in hardware}

    again = snipeit(graph, "import.csv", snipeit_import_sheet_mac())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_day_first_sheets_are_read_day_first_when_asked(graph):
    from importers.plan import Options
    rows = [r[:12] + ["23/1/23"] + r[13:] for r in IMPORT_ROWS[:1]]
    refused = snipeit(graph, "import.csv", snipeit_import_sheet_mac(rows))
    assert [(p.row, p.column, p.value) for p in refused.plan.problems] == [
        (2, "Purchase Date", "23/1/23"), (2, "Warranty Expires", "warranty of 36 months from '23/1/23', "
                                          "which is not a date")]
    assert "month would be 23" in refused.plan.problems[0].message
    assert graph.get_cis(["A-0001"]) == {}
    result = snipeit(graph, "import.csv", snipeit_import_sheet_mac(rows), options=Options(dayfirst=True))
    assert result.plan.problems == []
    ci = graph.get_cis(["A-0001"])["A-0001"]
    assert (ci.properties["purchase_date"], ci.properties["warranty_end"]) == ("2023-01-23", "2026-01-23")


def test_unknown_categories_are_refused_when_asked_and_status_labels_always(graph):
    from importers.plan import Options

    rows = [IMPORT_ROWS[0][:4] + ["Ornamental Railings"] + IMPORT_ROWS[0][5:],
            IMPORT_ROWS[1][:4] + ["Laptps"] + IMPORT_ROWS[1][5:15] + ["Out on loan"]
            + IMPORT_ROWS[1][16:]]
    result = snipeit(graph, "import.csv", snipeit_import_sheet_mac(rows),
                     options=Options(new_categories=False))
    assert [(p.row, p.column, p.value) for p in result.plan.problems] == [
        (2, "Category", "Ornamental Railings"), (3, "Category", "Laptps"), (3, "Status", "Out on loan")]
    railings, typo, status = result.plan.problems
    assert "not a category of this register" in railings.message
    assert "cmdb category add ornamental_railings" in railings.message
    assert "--new-categories" in railings.message
    assert "did you mean laptop?" in typo.message
    assert set(railings.allowed) >= {"laptop", "server", "other"}
    assert ("Ready to Deploy, Deployed, Pending, Undeployable, Archived, Lost/Stolen"
            in status.message)
    assert set(status.allowed) >= {"Ready to Deploy", "Deployed", "in_use", "missing"}
    assert graph.get_cis(["A-0001", "A-0002"]) == {}
    assert "ornamental_railings" not in graph.vocabulary().categories


def test_cli_dry_run_then_import_then_again(cli, embedded_graph, tmp_path):
    path = tmp_path / "snipeit-import.csv"
    path.write_bytes(snipeit_import_sheet_mac())

    dry = cli("import", path, "--mapping", "snipeit", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "dry run, nothing written: would be 4 created, 0 updated, 0 unchanged, " \
           "3 relationships created" in dry.stdout
    assert "categories would create" not in dry.stdout  # Laptops, Monitors, Switches: synonyms
    assert embedded_graph.get_cis(["A-0001", "A-0002", "A-0003"]) == {}

    done = cli("import", path, "--mapping", "snipeit", "--encoding", "mac-roman", "--json")
    assert done.exit_code == 0, done.output
    doc = json.loads(done.stdout)
    assert (doc["created"], doc["relationships_created"], doc["errors"]) == (4, 3, [])
    assert embedded_graph.get_cis(["A-0001"])["A-0001"].properties["owner"] == "José Müller"

    again = cli("import", path, "--mapping", "snipeit")
    assert again.exit_code == 0, again.output
    assert "imported: 0 created, 0 updated, 3 unchanged, 0 relationships created" in again.stdout

    wrong = cli("import", path, "--mapping", "snipeit", "--encoding", "klingon")
    assert wrong.exit_code != 0
    assert "Unknown encoding 'klingon'; allowed: utf-8, gbk, gb18030, big5, utf-16, " \
           "windows-1252, mac-roman" in wrong.output


@pytest.fixture
def api(embedded_graph, embedded_settings):
    from fastapi.testclient import TestClient

    from cmdb.api.app import create_app
    from cmdb.graph.tokens import create_token

    token = create_token(embedded_graph, "migration", "registrar", created_by="test")
    with TestClient(create_app(embedded_settings, graph=embedded_graph)) as client:
        yield client, {"Authorization": f"Bearer {token}"}


def test_api_import_form_takes_encoding_and_date_order(api, embedded_graph):
    client, headers = api
    files = {"file": ("snipeit-import.csv", snipeit_import_sheet_mac(), "text/csv")}

    r = client.post("/api/v1/imports", files=files, headers=headers,
                    data={"mapping": "snipeit", "encoding": "utf-8"})
    assert r.status_code == 422
    assert r.json()["error"]["details"]["field"] == "encoding"

    r = client.post("/api/v1/imports", files=files, headers=headers,
                    data={"mapping": "snipeit", "encoding": "ebcdic"})
    assert r.status_code == 422  # refused by the form's schema: a closed set in the OpenAPI
    error = r.json()["error"]
    assert [d["field"] for d in error["details"]] == ["encoding"]
    assert all(name in error["message"] for name in ("utf-8", "gbk", "gb18030", "big5", "utf-16",
                                                       "windows-1252", "mac-roman"))

    r = client.post("/api/v1/imports", files=files, headers=headers,
                    data={"mapping": "snipeit", "dayfirst": "true"})
    assert r.status_code == 422
    refused = {(e["row"], e["column"], e["value"]) for e in r.json()["error"]["details"]["errors"]}
    assert {(2, "Purchase Date", "1/23/23"), (3, "Purchase Date", "12/31/22")} <= refused
    assert embedded_graph.get_cis(["A-0001"]) == {}

    r = client.post("/api/v1/imports", files=files, headers=headers,
                    data={"mapping": "snipeit", "encoding": "mac-roman", "dayfirst": "false"})
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["errors"]) == (4, [])
    ci = embedded_graph.get_ci("A-0001")
    assert (ci.properties["supplier"], ci.properties["purchase_date"]) == ("Apple Store Zürich", "2023-01-23")
