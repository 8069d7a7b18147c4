"""Importing into the real graph: all-or-nothing, skip-invalid, dry-run, idempotent re-import,
history naming the import, clear-empty, presets, and the `cmdb import` command."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from cmdb.graph import CIInput
from importers.presets import load_mapping
from importers.plan import Options
from importers.service import run_import
from tests.spreadsheets import xlsx_bytes as workbook

DATA = Path(__file__).parent / "data"


REGISTER = {
    "位置": [["编号", "名称", "类型", "上级位置"],
           ["SITE-1", "总部", "园区", ""],
           ["RM-101", "101 机房", "机房", "SITE-1"]],
    "硬件": [["资产编号", "设备名称", "类别", "状态", "购置日期", "内存", "存放地点", "镜像"],
           ["000123", "数据库服务器", "服务器", "在用", dt.date(2024, 3, 1), "64GB", "RM-101", "IMG-1"],
           ["000124", "核心交换机", "交换机", "在用", "2024/3/2", None, "总部/2号楼/201", ""],
           ["000125", "备用服务器", "服务器", "库存", "2024年3月3日", "32 G", "RM-101", "IMG-1"]],
    "镜像": [["镜像编号", "名称", "版本", "操作系统"], ["IMG-1", "标准服务器镜像", "2024.1", "RHEL 9"]],
    "应用系统": [["应用编号", "应用名称", "重要性", "运行于", "依赖"],
             ["APP-ERP", "ERP", "核心", "000123;000125", ""],
             ["APP-WEB", "门户", "一般", "000125", "APP-ERP"]],
    "关系": [["from", "type", "to"], ["000123", "CONNECTED_TO", "000124"]],
}


def snapshot(graph) -> tuple[dict, set]:
    from cmdb.graph import imports as graph_imports
    cis = {}
    for kind in ("Location", "Hardware", "SoftwareImage", "Application"):
        for key, props in graph_imports.cis_of_kind(graph, kind):
            cis[key] = (kind, {k: v for k, v in props.items()
                               if k not in ("revision", "created_at", "updated_at", "key")})
    return cis, set(graph_imports.all_links(graph))


def imp(graph, data: bytes, name="register.xlsx", **kw):
    options = Options(**{k: kw.pop(k) for k in list(kw) if k in ("skip_invalid", "clear_empty", "dayfirst", "kind")})
    return run_import(graph, [(name, data)], options=options, actor="tester", **kw)


@pytest.fixture(params=["whole register read", "CIs looked up by key"])
def lookup(request, monkeypatch):
    """Both ways the importer reads the register to compare with."""
    from importers import service
    if request.param == "CIs looked up by key":
        monkeypatch.setattr(service, "_prefetch_worth_it", lambda graph, sources: False)
    return request.param


def test_register_with_chinese_headings_imports_and_reimports_unchanged(graph, lookup):
    data = workbook(REGISTER)
    first = imp(graph, data)
    assert first.plan.problems == []
    assert (first.created, first.updated, first.unchanged) == (10, 0, 0)  # 8 CI rows + 2 locations from a path
    assert first.locations_from_paths == 2
    cis, links = snapshot(graph)
    assert cis["000123"] == ("Hardware", {"name": "数据库服务器", "category": "server", "status": "in_use",
                                          "purchase_date": "2024-03-01", "ram_gb": 64})
    assert cis["SITE-1-2号楼"] == ("Location", {"name": "2号楼", "type": "building"})
    assert cis["SITE-1-2号楼-201"] == ("Location", {"name": "201", "type": "room"})
    assert links == {
        ("RM-101", "LOCATED_IN", "SITE-1"), ("000123", "LOCATED_IN", "RM-101"),
        ("000125", "LOCATED_IN", "RM-101"), ("SITE-1-2号楼", "LOCATED_IN", "SITE-1"),
        ("SITE-1-2号楼-201", "LOCATED_IN", "SITE-1-2号楼"), ("000124", "LOCATED_IN", "SITE-1-2号楼-201"),
        ("000123", "RUNS_IMAGE", "IMG-1"), ("000125", "RUNS_IMAGE", "IMG-1"),
        ("APP-ERP", "RUNS_ON", "000123"), ("APP-ERP", "RUNS_ON", "000125"),
        ("APP-WEB", "RUNS_ON", "000125"), ("APP-WEB", "DEPENDS_ON", "APP-ERP"),
        ("000123", "CONNECTED_TO", "000124")}
    assert first.relationships_created == len(links)
    for s in first.as_dict()["sheets"]:
        assert s["adds_up"], s
    history_before = graph.history("000123")[1]

    again = imp(graph, data)
    assert (again.created, again.updated, again.unchanged, again.relationships_created) == (0, 0, 8, 0)
    assert snapshot(graph) == (cis, links)
    assert graph.history("000123")[1] == history_before
    assert [(s.name, s.rows_read, s.unchanged) for s in again.plan.sheets] == [
        ("位置", 2, 2), ("硬件", 3, 3), ("镜像", 1, 1), ("应用系统", 2, 2), ("关系", 1, 1)]


def test_a_changed_cell_updates_that_property_only_with_history_naming_the_import(graph, lookup):
    imp(graph, workbook(REGISTER))
    changed = {**REGISTER, "硬件": [row[:] for row in REGISTER["硬件"]]}
    changed["硬件"][1][3] = "维修"
    result = imp(graph, workbook(changed), name="2026-02.xlsx")
    assert (result.created, result.updated, result.unchanged) == (0, 1, 7)
    assert result.plan.sheet("硬件").updated == 1
    entries, _ = graph.history("000123")
    latest = entries[0]
    assert (latest.action, latest.before, latest.after, latest.source, latest.actor) == (
        "update", {"status": "in_use"}, {"status": "in_repair"}, "import 2026-02.xlsx", "tester")
    assert graph.get_ci("000123").properties["name"] == "数据库服务器"


def test_a_moved_device_gets_its_new_location_and_loses_the_old_one(graph, lookup):
    imp(graph, workbook(REGISTER))
    moved = {"硬件": [REGISTER["硬件"][0], ["000125", "备用服务器", "服务器", "库存", "2024年3月3日", "32 G",
                                         "SITE-1", "IMG-1"]]}
    result = imp(graph, workbook(moved), name="move.xlsx")
    assert (result.updated, result.unchanged, result.relationships_created) == (1, 0, 1)
    _, links = snapshot(graph)
    assert {(a, t, b) for a, t, b in links if a == "000125" and t == "LOCATED_IN"} == {
        ("000125", "LOCATED_IN", "SITE-1")}
    entries, _ = graph.history("000125")
    assert {(e.action, e.source) for e in entries[:2]} == {("unlink", "import move.xlsx"),
                                                           ("link", "import move.xlsx")}
    again = imp(graph, workbook(moved))
    assert (again.updated, again.unchanged, again.relationships_created) == (0, 1, 0)


def test_a_location_cycle_is_refused_and_nothing_written(graph):
    imp(graph, workbook(REGISTER))
    before = snapshot(graph)
    cyclic = {"位置": [REGISTER["位置"][0], ["SITE-1", "总部", "园区", "RM-101"]]}
    with pytest.raises(Exception, match="inside itself"):
        imp(graph, workbook(cyclic))
    assert snapshot(graph) == before


def test_all_or_nothing_by_default(graph):
    bad = {**REGISTER, "硬件": REGISTER["硬件"] + [["000126", "x", "toaster", "在用", "", "", "", ""]]}
    result = imp(graph, workbook(bad))
    assert [(p.sheet, p.row, p.column, p.value) for p in result.plan.problems] == [
        ("硬件", 5, "类别", "toaster")]
    assert result.stopped and not result.written
    assert snapshot(graph) == ({}, set())
    report = result.plan.sheet("硬件")
    assert (report.rows_read, report.created, report.rejected) == (4, 3, 1)  # what it would do


def test_an_import_too_large_for_one_transaction_is_refused_whole(graph, embedded_settings):
    from cmdb.errors import TooLarge

    small = embedded_settings.model_copy(update={"max_import_changes": 5})
    with pytest.raises(TooLarge) as err:
        imp(graph, workbook(REGISTER), settings=small)
    assert "23 changes (10 new CIs, 0 updated, 13 new relationships)" in err.value.message
    assert "at most 5" in err.value.message
    assert "CMDB_MAX_IMPORT_CHANGES" in err.value.message
    assert snapshot(graph) == ({}, set())
    preview = imp(graph, workbook(REGISTER), settings=small, dry_run=True)
    assert preview.created == 10 and not preview.written


def test_skip_invalid_writes_the_valid_rows(graph):
    bad = {**REGISTER, "硬件": REGISTER["硬件"] + [["000126", "x", "toaster", "在用", "", "", "", ""]]}
    result = imp(graph, workbook(bad), skip_invalid=True)
    assert result.written and len(result.plan.problems) == 1
    cis, _ = snapshot(graph)
    assert "000126" not in cis and "000125" in cis
    report = result.plan.sheet("硬件")
    assert (report.rows_read, report.created, report.updated, report.unchanged, report.rejected,
            report.skipped) == (4, 3, 0, 0, 1, 0)


def test_dry_run_writes_nothing_and_reports_what_would_change(graph):
    imp(graph, workbook(REGISTER))
    before = snapshot(graph)
    changed = {**REGISTER, "镜像": [REGISTER["镜像"][0], ["IMG-1", "标准服务器镜像", "2024.2", "RHEL 9"],
                                   ["IMG-2", "新镜像", "1", "Debian 12"]]}
    result = imp(graph, workbook(changed), dry_run=True)
    assert (result.created, result.updated, result.unchanged, result.written) == (1, 1, 7, False)
    assert snapshot(graph) == before


def test_clear_empty_erases_and_the_default_keeps(graph):
    imp(graph, workbook(REGISTER))
    blanked = {"硬件": [REGISTER["硬件"][0], ["000123", "数据库服务器", "服务器", "在用", None, None, "", ""]]}
    kept = imp(graph, workbook(blanked))
    assert (kept.updated, kept.unchanged) == (0, 1)
    assert graph.get_ci("000123").properties["ram_gb"] == 64
    cleared = imp(graph, workbook(blanked), clear_empty=True)
    assert cleared.updated == 1
    props = graph.get_ci("000123").properties
    assert "ram_gb" not in props and "purchase_date" not in props


def test_unknown_reference_checks_the_register_too(graph):
    graph.upsert_cis([CIInput("RACK-9", "Location", {"name": "Rack 9"})], actor="tester")
    result = imp(graph, workbook({"Hardware": [["key", "location"], ["H1", "RACK-9"], ["H2", "RACK-10"]]}))
    assert [(p.row, p.column, p.value, p.message) for p in result.plan.problems] == [
        (3, "location", "RACK-10", "No Location with key 'RACK-10' in this file or in the register; "
                                   "a path such as 'HQ/Building A/Room 101' creates the locations that are missing")]


def test_netbox_preset_imports_the_demo_estate(graph):
    folder = DATA / "netbox-demo"
    names = ["sites.csv", "locations.csv", "racks.csv", "devices.csv", "virtual-machines.csv"]
    sources = [(n, folder / n) for n in names]
    result = run_import(graph, sources, mapping=load_mapping("netbox"), actor="tester")
    assert result.plan.problems == []
    def column(name, field):
        with (folder / name).open(encoding="utf-8") as f:
            return [r[field] for r in csv.DictReader(f)]
    regions = set(column("sites.csv", "region")) - {""}
    clusters = set(column("virtual-machines.csv", "cluster")) - {""}
    platforms = set(column("devices.csv", "platform") + column("virtual-machines.csv", "platform")) - {""}
    assert (len(regions), len(clusters), len(platforms)) == (12, 9, 2)
    assert {s.name: (s.rows_read, s.created) for s in result.plan.sheets} == {
        "sites": (24, 24), "locations": (4, 4), "racks": (42, 42), "devices": (72, 72),
        "virtual-machines": (180, 180), "netbox regions and clusters": (21, 21),
        "netbox platforms": (2, 2)}
    cis, links = snapshot(graph)
    kinds = {}
    for kind, _ in cis.values():
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds == {"Location": 24 + 4 + 42 + 21, "Hardware": 72 + 180, "SoftwareImage": 2}
    # Rack names repeat across sites; device names repeat (PP:MDF) and some devices have none.
    assert {k for k in cis if k.endswith(":Comms closet")} >= {"DM-Akron:Comms closet", "DM-Utica:Comms closet"}
    assert {"PP:MDF@Butler Communications", "PP:MDF@D. S. Weaver Labs", "PP:MDF@Grinnells Lab"} <= set(cis)
    assert {"MDF:R105:U25", "MDF:R105:U26", "DM-Akron:Comms closet:U11"} <= set(cis)
    assert cis["dmi01-akron-rtr01"] == ("Hardware", {
        "name": "dmi01-akron-rtr01", "category": "router", "status": "in_use", "vendor": "Cisco",
        "model": "ISR 1111-8P", "department": "Dunder-Mifflin, Inc.", "description": "Router",
        "notes": "U4 front"})
    assert {("dmi01-akron-rtr01", "LOCATED_IN", "DM-Akron:Comms closet"),
            ("DM-Akron:Comms closet", "LOCATED_IN", "DM-Akron"), ("DM-Akron", "LOCATED_IN", "region:Ohio"),
            ("MDF:R101", "LOCATED_IN", "MDF:Row 1"), ("MDF:Row 1", "LOCATED_IN", "MDF"),
            ("dmi01-akron-rtr01", "RUNS_IMAGE", "Cisco IOS"),
            ("vm1", "LOCATED_IN", "cluster:DO-AMS3")} <= links
    assert cis["vm1"][1]["category"] == "virtual_machine"
    again = run_import(graph, sources, mapping=load_mapping("netbox"), actor="tester")
    assert (again.created, again.updated, again.relationships_created) == (0, 0, 0)


def test_snipeit_preset(graph):
    csv_text = ("ID,Company,Asset Name,Asset Tag,Model,Model No.,Category,Status,Serial,Manufacturer,"
                "Location,Purchase Date,Purchase Cost,Warranty,Warranty Expires,Notes,Checked Out To\n"
                "1,Acme,Laptop 7,00042,Latitude 7420,L7420,Laptops,Deployed,SN42,Dell,Shanghai Office,"
                "2023-04-01,1200.00,36 months,2026-04-01,,Li Lei\n"
                "2,Acme,Spare,00043,Latitude 7420,L7420,Laptops,Ready to Deploy,SN43,Dell,Shanghai Office,"
                "2023-04-01,1200.00,,,,\n")
    result = run_import(graph, [("snipeit-assets.csv", csv_text.encode())], mapping=load_mapping("snipeit"),
                        actor="tester")
    assert result.plan.problems == []
    cis, links = snapshot(graph)
    assert cis["00042"] == ("Hardware", {"name": "Laptop 7", "model": "Latitude 7420", "category": "laptop",
                                         "status": "in_use", "serial": "SN42", "vendor": "Dell",
                                         "purchase_date": "2023-04-01", "warranty_end": "2026-04-01",
                                         "owner": "Li Lei", "company": "Acme", "model_number": "L7420",
                                         "purchase_cost": 1200})
    assert cis["00043"][1]["status"] == "in_stock"
    assert cis["SHANGHAI-OFFICE"] == ("Location", {"name": "Shanghai Office", "type": "site"})
    assert links == {("00042", "LOCATED_IN", "SHANGHAI-OFFICE"), ("00043", "LOCATED_IN", "SHANGHAI-OFFICE")}


# --- the command ---------------------------------------------------------------------------


def test_cli_import_json_exit_codes_and_reimport(cli, embedded_graph, tmp_path):
    good = tmp_path / "资产清单.xlsx"
    good.write_bytes(workbook(REGISTER))
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook({"设备": [["资产编号", "状态"], ["X1", "在用"], ["X2", "坏了"], ["X1", "在用"]]}))

    result = cli("import", bad, "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [(e["sheet"], e["row"], e["column"], e["value"]) for e in doc["errors"]] == [
        ("设备", 3, "状态", "坏了"), ("设备", 4, "资产编号", "X1")]
    assert set(doc) >= {"created", "updated", "unchanged", "relationships_created", "errors", "sheets"}
    assert embedded_graph.get_cis(["X1"]) == {}

    result = cli("import", good, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["created"], doc["relationships_created"], doc["errors"]) == (10, 13, [])

    result = cli("import", good)
    assert result.exit_code == 0
    assert "0 created, 0 updated, 8 unchanged, 0 relationships created" in result.stdout

    result = cli("import", tmp_path / "missing.xlsx")
    assert result.exit_code == 1
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = cli("import", empty)
    assert result.exit_code == 1 and "empty (0 bytes)" in result.stderr
