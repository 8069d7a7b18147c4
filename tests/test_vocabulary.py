"""The register's own vocabulary: categories with names and synonyms, status words, custom
fields; Snipe-IT and Chinese workbooks that bring their own; rename and merge with history."""

from __future__ import annotations

import csv
import io
import json

import pytest

from cmdb.errors import Conflict, DuplicateKey, InvalidInput, StillNeeded
from cmdb.graph import categories as vocab
from cmdb.graph.vocabulary import Vocabulary
from importers.export import export_register
from importers.presets import load_mapping
from importers.plan import Options
from importers.service import run_import
from tests.spreadsheets import xlsx_bytes

SNIPEIT_HEADINGS = ["ID", "Company", "Asset Name", "Asset Tag", "Model", "Category", "Status",
                    "Serial", "Manufacturer", "Location", "Purchase Date", "Purchase Cost",
                    "Supplier", "Warranty", "Checked Out To", "Notes", "Paint Colour",
                    "Rail Length (m)", "Inspected"]
SNIPEIT_ROWS = [
    ["1", "Acme Ltd", "Laptop 7", "00042", "Latitude 7420", "Laptops", "Deployed", "SN42", "Dell",
     "Shanghai Office", "4/1/23", "1,200.00", "Dell Direct", "36 months", "Li Lei", "", "", "", ""],
    ["2", "Acme Ltd", "Stair rail", "R-001", "Ornate 3", "Ornamental Railings", "Ready to Deploy",
     "", "Smith Ironworks", "Shanghai Office", "12/31/22", "310.50", "Smith & Co", "24", "", "café",
     "Matte Black", "2.5", "yes"],
    ["3", "Acme Ltd", "Extinguisher", "F-001", "FX-9", "Fire Protection", "Archived", "FX1", "Ansul",
     "Shanghai Office", "3/4/16", "85", "", "", "", "", "Red", "", "no"],
    ["4", "Acme Ltd", "No tag", "", "", "Laptops", "Deployed", "", "", "", "", "", "", "", "", "",
     "", "", ""],
]


def snipeit_csv(line_end: str = "\r\n", encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=line_end).writerows([SNIPEIT_HEADINGS, *SNIPEIT_ROWS])
    return out.getvalue().encode(encoding)


def state(graph) -> dict:
    from cmdb.graph import imports as graph_imports
    return {key: {k: v for k, v in props.items() if k not in ("revision", "created_at", "updated_at")}
            for key, props in graph_imports.cis_of_kind(graph, "Hardware")}


def test_every_register_starts_with_the_shipped_categories_once(graph):
    words = graph.vocabulary()
    assert len(words.categories) == 20
    assert {words.category_key(w) for w in ("服务器", "伺服器", "Servers", "server")} == {"server"}
    assert words.categories["server"].names == {"en": "Server", "zh-CN": "服务器", "zh-TW": "伺服器"}
    assert words.categories["switch"].flags == {"network_gear": True, "takes_image": True}
    assert set(words.statuses) == {"planned", "in_stock", "in_use", "in_repair", "retired",
                                   "disposed", "missing"}
    vocab.remove_category(graph, "pdu")
    graph.bootstrap_schema()  # every connection: the defaults are not laid down again
    assert "pdu" not in graph.vocabulary().categories
    assert set(graph.vocabulary().categories) == set(Vocabulary.shipped().categories) - {"pdu"}


@pytest.mark.parametrize("variant", ["utf-8 crlf", "mac-roman cr"])
def test_snipeit_export_with_its_own_categories_and_custom_columns(graph, variant):
    data = snipeit_csv() if variant == "utf-8 crlf" else snipeit_csv("\r", "mac_roman")
    run = lambda **kw: run_import(graph, [("assets.csv", data)], mapping=load_mapping("snipeit"),  # noqa: E731
                                  options=Options(new_fields=True), actor="tester", **kw)
    dry = run(dry_run=True)
    assert dry.plan.problems == []
    assert {t.key: t.name() for t in dry.plan.new_categories} == {
        "ornamental_railings": "Ornamental Railings", "fire_protection": "Fire Protection"}
    assert {(f.name, f.type) for f in dry.plan.new_fields} == {
        ("paint_colour", "text"), ("rail_length_m", "decimal"), ("inspected", "boolean")}
    assert "ornamental_railings" not in graph.vocabulary().categories

    done = run()
    assert (done.created, done.plan.problems) == (4, [])  # 3 assets + the office from its name
    assert done.plan.sheets[0].skipped == 1  # the row without an asset tag
    cis = state(graph)
    assert set(cis) == {"00042", "R-001", "F-001"}
    rail = cis["R-001"]
    assert {k: rail.get(k) for k in ("category", "status", "purchase_date", "warranty_end",
                                     "purchase_cost", "supplier", "vendor", "notes",
                                     "paint_colour", "rail_length_m", "inspected")} == {
        "category": "ornamental_railings", "status": "in_stock", "purchase_date": "2022-12-31",
        "warranty_end": "2024-12-31", "purchase_cost": 310.5, "supplier": "Smith & Co",
        "vendor": "Smith Ironworks", "notes": "café", "paint_colour": "Matte Black",
        "rail_length_m": 2.5, "inspected": True}
    laptop = cis["00042"]
    assert (laptop["category"], laptop["status"], laptop["owner"], laptop["warranty_end"],
            laptop["purchase_cost"]) == ("laptop", "in_use", "Li Lei", "2026-04-01", 1200)
    assert (cis["F-001"]["category"], cis["F-001"]["status"], cis["F-001"]["purchase_date"],
            cis["F-001"]["inspected"]) == ("fire_protection", "retired", "2016-03-04", False)
    words = graph.vocabulary()
    assert words.categories["fire_protection"].names["en"] == "Fire Protection"
    assert {f.name for f in words.fields["Hardware"].values()} == {
        "paint_colour", "rail_length_m", "inspected"}

    before = state(graph)
    again = run()
    assert (again.created, again.updated, again.plan.new_categories, again.plan.new_fields) == \
        (0, 0, [], [])
    assert state(graph) == before


def test_unknown_headings_are_reported_as_ignored_without_new_fields(graph):
    result = run_import(graph, [("assets.csv", snipeit_csv())], mapping=load_mapping("snipeit"),
                        actor="tester")
    assert result.plan.problems == []
    # ID and Warranty (months, read into the warranty end) are the preset's own choice
    assert result.plan.sheets[0].ignored_columns == ["ID", "Warranty", "Paint Colour",
                                                     "Rail Length (m)", "Inspected"]
    assert result.as_dict()["sheets"][0]["ignored_columns"][2:] == [
        "Paint Colour", "Rail Length (m)", "Inspected"]
    assert graph.vocabulary().fields == {}


CHINESE = [["资产编号", "名称", "类别", "状态", "购置日期", "资产负责人电话", "存放地点"],
           ["SZ-0001", "财务服务器", "服务器", "在用", "2024年3月5日", "0755-8888 1234", "深圳园区/机房101"],
           ["SZ-0002", "前台打印机", "打印机", "库存", "2023/12/1", "13800138000", "深圳园区/机房101"],
           ["SZ-0003", "门禁控制器", "门禁设备", "在用", "2022.1.9", "", "深圳园区/机房101"]]


def test_chinese_workbook_with_a_custom_column_round_trips(graph, tmp_path):
    source = tmp_path / "台账.xlsx"
    source.write_bytes(xlsx_bytes({"硬件": CHINESE}))
    refused = run_import(graph, [(str(source), source)], actor="tester")
    assert [(p.row, p.column, p.value) for p in refused.plan.problems] == [(4, "类别", "门禁设备")]
    assert refused.plan.sheets[0].ignored_columns == ["资产负责人电话"]

    done = run_import(graph, [(str(source), source)], actor="tester",
                      options=Options(new_fields=True, new_categories=True))
    assert (done.created, done.plan.problems) == (5, [])  # and the two locations of the path
    assert [(f.name, f.type, f.names["zh-CN"]) for f in done.plan.new_fields] == [
        ("资产负责人电话", "text", "资产负责人电话")]
    assert [t.key for t in done.plan.new_categories] == ["门禁设备"]
    cis = state(graph)
    assert (cis["SZ-0001"]["category"], cis["SZ-0001"]["资产负责人电话"], cis["SZ-0002"]["资产负责人电话"]) \
        == ("server", "0755-8888 1234", "13800138000")
    assert [c.key for c in graph.list_cis(fields={"资产负责人电话": "13800138000"}).items] == ["SZ-0002"]

    exported = tmp_path / "export.xlsx"
    export_register(graph, exported)
    before = state(graph)
    back = run_import(graph, [(str(exported), exported)], actor="tester")
    assert (back.created, back.updated, back.plan.problems, back.plan.new_fields,
            back.plan.new_categories) == (0, 0, [], [], [])
    assert state(graph) == before
    graph.wipe()
    vocab.add_field(graph, "Hardware", "资产负责人电话", "text")
    vocab.add_category(graph, vocab.new_term("门禁设备"))
    fresh = run_import(graph, [(str(exported), exported)], actor="tester")
    assert (fresh.plan.problems, fresh.created) == ([], 5)
    assert state(graph) == {k: {p: v for p, v in props.items() if p != "label_printed_at"}
                            for k, props in before.items()}


def test_custom_fields_are_validated_on_every_write(graph):
    vocab.add_field(graph, "Hardware", "rack_units", "integer", names={"zh-CN": "U数"})
    vocab.add_field(graph, "Hardware", "colour", "choice", choices=["Red", "Matte Black"])
    ci = graph.create_ci("Hardware", "H1", {"rack_units": "2", "colour": "matte black"}, actor="t")
    assert (ci.properties["rack_units"], ci.properties["colour"]) == (2, "Matte Black")
    with pytest.raises(InvalidInput) as bad:
        graph.update_ci("H1", {"rack_units": "two"}, actor="t")
    assert bad.value.details["field"] == "rack_units"
    with pytest.raises(InvalidInput) as bad:
        graph.update_ci("H1", {"colour": "Green"}, actor="t")
    assert bad.value.details["allowed"] == "one of: Red, Matte Black"
    with pytest.raises(InvalidInput):
        graph.create_ci("Location", "L1", {"rack_units": 2}, actor="t")  # Hardware's field only
    with pytest.raises(InvalidInput) as bad:
        vocab.add_field(graph, "Hardware", "serial", "text")
    assert "built-in" in bad.value.message
    with pytest.raises(DuplicateKey):
        vocab.add_field(graph, "Hardware", "colour", "text")
    with pytest.raises(Conflict) as bad:
        graph.list_cis(fields={"no_such": "x"})
    assert "rack_units" in bad.value.message


def test_rename_rewrites_every_ci_with_history_and_delete_needs_a_merge(graph):
    for i in range(3):
        graph.create_ci("Hardware", f"SRV-{i}", {"category": "server"}, actor="alice")
    graph.create_ci("Hardware", "PC-1", {"category": "pc"}, actor="alice")

    term, changed = vocab.rename_category(graph, "server", "servers", names={"zh-CN": "服务器主机"},
                                          actor="bob")
    assert changed == ["SRV-0", "SRV-1", "SRV-2"]
    assert {k: ci.properties["category"] for k, ci in graph.get_cis(changed + ["PC-1"]).items()} == {
        "SRV-0": "servers", "SRV-1": "servers", "SRV-2": "servers", "PC-1": "pc"}
    for key in changed:
        entries, _ = graph.history(key)
        assert (entries[0].actor, entries[0].action, entries[0].before, entries[0].after) == (
            "bob", "update", {"category": "server"}, {"category": "servers"})
    words = graph.vocabulary()
    assert "server" in words.categories["servers"].synonyms  # old files still import
    assert words.category_key("server") == "servers"
    assert words.categories["servers"].names["zh-CN"] == "服务器主机"

    with pytest.raises(StillNeeded) as refused:
        vocab.remove_category(graph, "servers")
    assert "SRV-0, SRV-1, SRV-2" in refused.value.message and "merge" in refused.value.message
    vocab.merge_categories(graph, "servers", "pc", actor="bob")
    assert {ci.properties["category"] for ci in graph.get_cis(changed).values()} == {"pc"}
    assert graph.vocabulary().category_key("伺服器") == "pc"
    assert "servers" not in graph.vocabulary().categories
    vocab.add_category(graph, vocab.new_term("kiosk", {"en": "Kiosk"}))
    vocab.remove_category(graph, "kiosk")
    with pytest.raises(DuplicateKey):
        vocab.add_category(graph, vocab.new_term("workstation_pc", synonyms=["Desktops"]))


def test_cli_category_and_field_commands(cli, embedded_graph):
    embedded_graph.create_ci("Hardware", "SW-1", {"category": "switch"}, actor="t")
    added = cli("category", "add", "railings", "--name-en", "Ornamental Railings",
                "--name-zh-cn", "装饰栏杆", "--synonym", "Railings", "--json")
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["names"]["zh-CN"] == "装饰栏杆"
    listed = json.loads(cli("category", "list", "--json").stdout)
    assert len(listed) == 21 and {"railings", "switch"} <= {c["key"] for c in listed}
    renamed = cli("category", "rename", "switch", "network_switch", "--json")
    assert json.loads(renamed.stdout)["cis_changed"] == ["SW-1"]
    refused = cli("category", "delete", "network_switch")
    assert refused.exit_code == 1 and "merge it into another" in refused.output
    assert cli("field", "add", "Hardware", "rack_units", "--type", "integer").exit_code == 0
    assert cli("ci", "set", "SW-1", "rack_units=1U").exit_code == 1
    assert cli("ci", "set", "SW-1", "rack_units=1").exit_code == 0
    found = json.loads(cli("ci", "list", "--field", "rack_units=1", "--json").stdout)
    assert [i["key"] for i in found["items"]] == ["SW-1"]
    fields = json.loads(cli("field", "list", "--json").stdout)
    assert fields == [{"kind": "Hardware", "name": "rack_units", "type": "integer",
                       "names": {"en": "", "zh-CN": "", "zh-TW": ""}, "choices": []}]
    word = cli("status", "add-word", "in_repair", "Out for Calibration")
    assert word.exit_code == 0, word.output
    assert embedded_graph.vocabulary().status_key("out for calibration") == "in_repair"


@pytest.fixture
def api(embedded_graph, embedded_settings):
    from fastapi.testclient import TestClient

    from cmdb.api.app import create_app
    from cmdb.graph.tokens import create_token

    tokens = {role: create_token(embedded_graph, role, role, created_by="test")
              for role in ("registrar", "asset_staff", "viewer")}
    with TestClient(create_app(embedded_settings, graph=embedded_graph)) as client:
        yield client, {role: {"Authorization": f"Bearer {t}"} for role, t in tokens.items()}


def test_api_manages_the_vocabulary_and_custom_fields(api, embedded_graph):
    client, as_role = api
    r = client.post("/api/v1/categories", headers=as_role["asset_staff"], json={"key": "railings"})
    assert r.status_code == 403
    r = client.post("/api/v1/categories", headers=as_role["registrar"],
                    json={"key": "railings", "names": {"en": "Ornamental Railings", "zh-CN": "装饰栏杆"},
                          "synonyms": ["Railings"]})
    assert r.status_code == 201, r.text
    assert r.json() == {"key": "railings", "names": {"en": "Ornamental Railings", "zh-CN": "装饰栏杆",
                                                     "zh-TW": ""},
                        "synonyms": ["Railings"], "network_gear": False, "takes_image": False}
    assert client.post("/api/v1/categories", headers=as_role["registrar"],
                       json={"key": "railings"}).status_code == 409
    r = client.post("/api/v1/fields", headers=as_role["registrar"],
                    json={"kind": "Hardware", "name": "paint", "type": "choice",
                          "choices": ["Red", "Matte Black"]})
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/cis", headers=as_role["registrar"],
                    json={"kind": "Hardware", "key": "R-1",
                          "properties": {"category": "Railings", "paint": "matte black"}})
    assert r.status_code == 201, r.text
    assert (r.json()["properties"]["category"], r.json()["properties"]["paint"]) == ("railings", "Matte Black")
    r = client.patch("/api/v1/cis/R-1", headers=as_role["registrar"],
                     json={"properties": {"paint": "Green"}})
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "paint"
    r = client.patch("/api/v1/cis/R-1", headers=as_role["registrar"],
                     json={"properties": {"category": "Ornamental railing"}})
    assert r.status_code == 422 and "railings" in r.json()["error"]["message"]
    r = client.get("/api/v1/cis", headers=as_role["viewer"], params={"field": "paint=Matte Black"})
    assert [i["key"] for i in r.json()["items"]] == ["R-1"]
    r = client.get("/api/v1/cis", headers=as_role["viewer"], params={"field": "nope=1"})
    assert r.status_code == 409 and "paint" in r.json()["error"]["message"]
    r = client.delete("/api/v1/categories/railings", headers=as_role["registrar"])
    assert r.status_code == 409 and r.json()["error"]["details"]["used_by"] == ["R-1"]
    r = client.patch("/api/v1/categories/railings", headers=as_role["registrar"],
                     json={"key": "balustrades"})
    assert r.status_code == 200 and r.json()["cis_changed"] == ["R-1"]
    r = client.post("/api/v1/categories/balustrades/merge", headers=as_role["registrar"],
                    json={"into": "other"})
    assert r.status_code == 200 and r.json()["cis_changed"] == ["R-1"]
    assert embedded_graph.get_ci("R-1").properties["category"] == "other"
    keys = {c["key"] for c in client.get("/api/v1/categories", headers=as_role["viewer"]).json()}
    assert "balustrades" not in keys and len(keys) == 20
    r = client.post("/api/v1/statuses/in_repair/words", headers=as_role["registrar"],
                    json={"words": ["Out for Calibration"]})
    assert r.status_code == 200 and "Out for Calibration" in r.json()["synonyms"]
    fields = client.get("/api/v1/fields", headers=as_role["viewer"], params={"kind": "Hardware"}).json()
    assert [f["name"] for f in fields] == ["paint"]
    page = client.get("/cis/R-1", headers=as_role["viewer"])
    assert page.status_code in (200, 303)


NETBOX_DEVICES = ("name,role,manufacturer,device_type,status,site,cf_contract_id,cf_rack_units,cf_monitored\n"
                  "edge-01,Core Switch,Cisco,C9500,active,DM-X,CT-7,2,true\n"
                  "pp-01,Patch Panel,Panduit,CP24,active,DM-X,CT-8,1,false\n")
NETBOX_SITES = "name,slug,status\nDM-X,dm-x,active\n"


def test_netbox_custom_field_columns_and_roles(graph):
    sources = [("sites.csv", NETBOX_SITES.encode()), ("devices.csv", NETBOX_DEVICES.encode())]
    ignored = run_import(graph, sources, mapping=load_mapping("netbox"), actor="tester", dry_run=True)
    assert ignored.plan.problems == []
    assert ignored.plan.sheet("devices").ignored_columns == ["contract_id", "monitored", "rack_units"]
    assert [t.key for t in ignored.plan.new_categories] == ["patch_panel"]  # NetBox's own role

    vocab.add_field(graph, "Hardware", "contract_id", "text")
    done = run_import(graph, sources, mapping=load_mapping("netbox"), actor="tester",
                      options=Options(new_fields=True))
    assert done.plan.problems == []
    assert {(f.name, f.type) for f in done.plan.new_fields} == {("rack_units", "integer"),
                                                                ("monitored", "boolean")}
    cis = state(graph)
    assert {k: (v["category"], v["contract_id"], v["rack_units"], v["monitored"])
            for k, v in cis.items()} == {"edge-01": ("switch", "CT-7", 2, True),
                                         "pp-01": ("patch_panel", "CT-8", 1, False)}
