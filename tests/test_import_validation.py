"""Validation into a plan: headings in three scripts, values, row numbers, duplicates,
unknown references, skipped rows, sheets with no key column. No database needed."""

from __future__ import annotations

import json

import pytest

from cmdb.errors import InvalidInput
from importers.mapping import Mapping, parse_kind
from importers.presets import load_mapping
from importers.plan import Options, build_plan
from importers.readers import RawSheet
from importers.values import parse_capacity_gb, parse_date


def plan_of(*sheets: RawSheet, **options):
    mapping = options.pop("mapping", None)
    return build_plan(list(sheets), mapping or Mapping(), Options(**options))


def problems(plan) -> set[tuple]:
    return {(p.sheet, p.row, p.column, p.value) for p in plan.problems}


@pytest.mark.parametrize("headings", [
    ["Asset Tag", "Name", "Category", "Status", "Vendor", "Model", "Serial Number", "Purchase Date",
     "Warranty End", "Department", "RAM", "Location"],
    ["资产编号", "设备名称", "类别", "状态", "品牌", "型号", "序列号", "购置日期", "保修截止", "所属部门",
     "内存", "存放地点"],
    ["資產編號", "設備名稱", "類別", "狀態", "廠商", "型號", "序號", "購置日期", "保固到期", "所屬部門",
     "記憶體", "位置"],
    ["ASSET  TAG", "name", "CATEGORY", " status ", "Manufacturer", "model", "SN", "purchase_date",
     "warranty_end", "Dept", "内存（GB）", "LOCATION"],
])
def test_headings_in_english_simplified_and_traditional_chinese(headings):
    sheet = RawSheet("Hardware", [headings, ["000123", "DB-01", "服务器", "在用", "Dell", "R740",
                                             "SN-1", "2026/1/5", "2029年1月5日", "IT", "16GB", "R1"]])
    loc = RawSheet("Locations", [["key", "name", "type"], ["R1", "Rack 1", "机柜"]])
    plan = plan_of(sheet, loc)
    assert plan.problems == []
    assert plan.cis["000123"].properties == {
        "name": "DB-01", "category": "server", "status": "in_use", "vendor": "Dell",
        "model": "R740", "serial": "SN-1", "purchase_date": "2026-01-05",
        "warranty_end": "2029-01-05", "department": "IT", "ram_gb": 16}
    assert {(r.from_key, r.type, r.to_key) for r in plan.relationships} == {("000123", "LOCATED_IN", "R1")}
    assert plan.cis["R1"].properties == {"name": "Rack 1", "type": "rack"}


@pytest.mark.parametrize("text,dayfirst,expected", [
    ("2026-01-05", False, "2026-01-05"), ("2026/1/5", False, "2026-01-05"),
    ("2026年1月5日", False, "2026-01-05"), ("05/01/2026", True, "2026-01-05"),
    ("01/05/2026", False, "2026-01-05"), ("46027", False, "2026-01-05"),
    ("2026-01-05T00:00:00", False, "2026-01-05"), ("2026.1.5", False, "2026-01-05"),
    ("２０２６年１月５日", False, "2026-01-05"), ("2026/2/30", False, "2026/2/30"),
    ("soon", False, "soon"),
])
def test_date_forms(text, dayfirst, expected):
    assert parse_date(text, dayfirst=dayfirst) == expected


@pytest.mark.parametrize("text,expected", [
    ("16GB", 16), ("16 G", 16), ("16", 16), ("1TB", 1024), ("512 MB", 0.5), ("1.5 gb", 1.5),
    ("lots", "lots"),
])
def test_capacities_with_units(text, expected):
    assert parse_capacity_gb(text) == expected


def test_status_words_and_number_text():
    sheet = RawSheet("设备", [["资产编号", "状态", "CPU核数", "内存", "硬盘"]] + [
        [f"{i:03d}", word, cores, ram, disk] for i, (word, cores, ram, disk) in enumerate([
            ("在用", "8核", "1.0", "2 TB"), ("閒置", "8", "16", "500"), ("维修", "8.0", "32G", "1T"),
            ("报废", "4 cores", "8gb", "256GB"), ("库存", "2", "4", "64"), ("in use", "1", "1", "1")])])
    plan = plan_of(sheet)
    assert plan.problems == []
    assert {k: (c.properties["status"], c.properties["cpu_cores"], c.properties["ram_gb"],
                c.properties["disk_gb"]) for k, c in plan.cis.items()} == {
        "000": ("in_use", 8, 1, 2048), "001": ("in_stock", 8, 16, 500), "002": ("in_repair", 8, 32, 1024),
        "003": ("disposed", 4, 8, 256), "004": ("in_stock", 2, 4, 64), "005": ("in_use", 1, 1, 1)}


def test_leading_zeros_survive():
    plan = plan_of(RawSheet("Hardware", [["key", "serial"], ["000123", "0042"], ["123", "42"]]))
    assert set(plan.cis) == {"000123", "123"}
    assert plan.cis["000123"].properties == {"serial": "0042"}


def test_bad_rows_are_reported_with_the_row_numbers_the_user_sees():
    sheet = RawSheet("硬件", [
        ["资产编号", "状态", "购置日期", "内存", "类别"],           # row 1
        ["A1", "在用", "2026-01-05", "16", "server"],           # row 2 ok
        ["A2", "broken-ish", "2026-01-05", "16", "server"],     # row 3 bad status
        ["", "", "", "", ""],                                   # row 4 blank -> skipped
        ["A3", "在用", "2026/13/45", "many", "server"],          # row 5 bad date and ram
        ["资产编号", "状态", "购置日期", "内存", "类别"],            # row 6 repeated header -> skipped
        ["", "在用", "2026-01-05", "16", "server"],             # row 7 no key
        ["A5", "在用", "2026-01-05", "-1", "toaster"],          # row 8 negative ram, bad category
    ])
    plan = plan_of(sheet)
    assert problems(plan) == {
        ("硬件", 3, "状态", "broken-ish"), ("硬件", 5, "购置日期", "2026/13/45"),
        ("硬件", 5, "内存", "many"), ("硬件", 7, "资产编号", ""), ("硬件", 8, "内存", "-1"),
        ("硬件", 8, "类别", "toaster")}
    status = next(p for p in plan.problems if p.row == 3)
    assert "in_use" in status.message and "planned" in str(status.allowed)
    report = plan.sheet("硬件")
    assert (report.rows_read, report.skipped, report.rejected) == (7, 2, 4)
    assert report.accepted_rows == [2]


def test_duplicate_keys_within_the_file_across_sheets():
    plan = plan_of(
        RawSheet("Hardware", [["key", "name"], ["H1", "a"], ["H2", "b"], ["H1", "c"]]),
        RawSheet("Applications", [["key", "name"], ["H2", "app"]]))
    assert problems(plan) == {("Hardware", 4, "key", "H1"), ("Applications", 2, "key", "H2")}
    messages = sorted(p.message for p in plan.problems)
    assert "already on row 2" in messages[0] and "sheet 'Hardware' row 3" in messages[1]


def test_unknown_references_and_wrong_kinds():
    plan = plan_of(
        RawSheet("Hardware", [["key", "location", "image", "connected to"],
                              ["H1", "NOWHERE", "IMG-X", "H2; H3、SW-9"], ["H2", "", "", ""],
                              ["H3", "", "", ""]]),
        RawSheet("Applications", [["key", "runs on", "depends on"], ["APP", "H1, H2", "H1"]]),
        RawSheet("Relationships", [["from", "type", "to"], ["H1", "runs_on", "H2"],
                                   ["H2", "依赖", "GHOST"], ["H2", "knows", "H3"],
                                   ["NOPE", "CONNECTED_TO", "H2"]]))
    assert problems(plan) == {
        ("Hardware", 2, "location", "NOWHERE"), ("Hardware", 2, "image", "IMG-X"),
        ("Hardware", 2, "connected to", "SW-9"), ("Applications", 2, "depends on", "H1"),
        ("Relationships", 2, "to", "H2"), ("Relationships", 3, "to", "GHOST"),
        ("Relationships", 4, "type", "knows"), ("Relationships", 5, "from", "NOPE")}
    unknown = next(p for p in plan.problems if p.value == "IMG-X")
    assert unknown.message == "No SoftwareImage with key 'IMG-X' in this file or in the register"


class FakeRegister:
    """The register's answers, as the graph would give them."""

    def __init__(self, kinds, locations=()):
        self._kinds, self._locations = kinds, list(locations)

    def kinds_of(self, keys):
        return {k: self._kinds[k] for k in keys if k in self._kinds}

    def locations(self):
        return self._locations

    def vocabulary(self):
        from cmdb.graph.vocabulary import Vocabulary
        return Vocabulary.shipped()


def test_references_to_the_register_and_kind_changes():
    register = FakeRegister({"R9": "Location", "IMG": "SoftwareImage", "APP": "Application"},
                            [("R9", "Rack 9", None)])
    plan = build_plan([RawSheet("Hardware", [["key", "location", "image"], ["H1", "R9", "IMG"],
                                             ["APP", "", ""]])], Mapping(), Options(), register)
    assert problems(plan) == {("Hardware", 3, None, "APP")}
    assert "already belongs to a Application" in plan.problems[0].message
    assert {(r.from_key, r.type, r.to_key) for r in plan.relationships} == {
        ("H1", "LOCATED_IN", "R9"), ("H1", "RUNS_IMAGE", "IMG")}


def test_locations_by_path_are_created_once_and_reuse_existing_ones():
    register = FakeRegister({"HQ": "Location"}, [("HQ", "Headquarters", None)])
    sheet = RawSheet("Hardware", [["key", "location"], ["H1", "HQ/Building A/Room 101"],
                                  ["H2", "Headquarters / Building A / Room 102"],
                                  ["H3", "HQ/Building A/Room 101"]])
    plan = build_plan([sheet], Mapping(), Options(), register)
    assert plan.problems == []
    assert {(c.key, c.properties["name"], c.properties.get("type"))
            for c in plan.new_locations} == {
        ("HQ-BUILDING-A", "Building A", "building"), ("HQ-BUILDING-A-ROOM-101", "Room 101", "room"),
        ("HQ-BUILDING-A-ROOM-102", "Room 102", "room")}
    assert {(r.from_key, r.type, r.to_key) for r in plan.relationships} == {
        ("HQ-BUILDING-A", "LOCATED_IN", "HQ"),
        ("HQ-BUILDING-A-ROOM-101", "LOCATED_IN", "HQ-BUILDING-A"),
        ("HQ-BUILDING-A-ROOM-102", "LOCATED_IN", "HQ-BUILDING-A"),
        ("H1", "LOCATED_IN", "HQ-BUILDING-A-ROOM-101"),
        ("H2", "LOCATED_IN", "HQ-BUILDING-A-ROOM-102"),
        ("H3", "LOCATED_IN", "HQ-BUILDING-A-ROOM-101")}


def test_locations_from_a_new_path_get_clean_keys_and_types_from_names_or_levels():
    sheet = RawSheet("Hardware", [["key", "location"], ["H1", "深圳园区 > A栋 > 3层 > 301室 > 机柜 2"],
                                  ["H2", "Plant 7/North Hall/Cage #4"]])
    plan = build_plan([sheet], Mapping(), Options(), FakeRegister({}, []))
    assert plan.problems == []
    assert {(c.key, c.properties.get("type")) for c in plan.new_locations} == {
        ("深圳园区", "site"), ("深圳园区-A栋", "building"), ("深圳园区-A栋-3层", "floor"),
        ("深圳园区-A栋-3层-301室", "room"), ("深圳园区-A栋-3层-301室-机柜-2", "rack"),
        ("PLANT-7", "site"), ("PLANT-7-NORTH-HALL", "building"),
        ("PLANT-7-NORTH-HALL-CAGE-4", "room")}


def test_sheet_without_a_key_column_names_what_it_saw_and_expects():
    plan = plan_of(RawSheet("硬件", [["名字", "颜色"], ["a", "red"], ["b", "blue"]]))
    [problem] = plan.problems
    assert problem.sheet == "硬件" and problem.row == 1
    assert "headings seen: 名字, 颜色" in problem.message
    assert "expected key: key, Asset Tag, 资产编号, 資產編號" in problem.message
    assert plan.sheet("硬件").rejected == 2


def test_sheet_kinds_from_names_in_three_scripts_and_from_headings():
    m = Mapping()
    assert {name: m.sheet_kind(name) for name in [
        "Hardware", "硬件", "设备", "設備", "Locations", "位置", "Images", "镜像", "鏡像", "Applications",
        "应用", "應用系統", "Relationships", "关系", "關係", "资产清单", "register_Hardware", "Sheet1"]} == {
        "Hardware": "Hardware", "硬件": "Hardware", "设备": "Hardware", "設備": "Hardware",
        "Locations": "Location", "位置": "Location", "Images": "SoftwareImage", "镜像": "SoftwareImage",
        "鏡像": "SoftwareImage", "Applications": "Application", "应用": "Application",
        "應用系統": "Application", "Relationships": "Relationships", "关系": "Relationships",
        "關係": "Relationships", "资产清单": "Hardware", "register_Hardware": "Hardware", "Sheet1": None}
    assert m.guess_kind(["from", "type", "to"]) == "Relationships"
    assert m.guess_kind(["资产编号", "序列号", "型号"]) == "Hardware"
    assert m.guess_kind(["key", "version", "os"]) == "SoftwareImage"
    plan = plan_of(RawSheet("Sheet1", [["名字"], ["x"]]))
    assert "Cannot tell what sheet 'Sheet1' holds" in plan.problems[0].message
    assert parse_kind("设备") == "Hardware"
    with pytest.raises(InvalidInput, match="Unknown kind 'Toaster'"):
        parse_kind("Toaster")


def test_user_mapping_file_overrides(tmp_path):
    spec = tmp_path / "m.yaml"
    spec.write_text("kind: Hardware\ncolumns:\n  卡片号: key\n  使用人: owner\n  名称: null\n"
                    "values:\n  status: {正常: in_use}\n", encoding="utf-8")
    sheet = RawSheet("台账2026", [["卡片号", "名称", "使用人", "状态"], ["C-1", "ignored", "王五", "正常"]])
    plan = build_plan([sheet], load_mapping(str(spec)), Options())
    assert plan.problems == []
    assert plan.cis["C-1"].properties == {"owner": "王五", "status": "in_use"}
    assert plan.sheet("台账2026").ignored_columns == ["名称"]
    as_json = tmp_path / "m.json"
    as_json.write_text(json.dumps({"columns": {"Tag": "nonsense"}}), encoding="utf-8")
    with pytest.raises(InvalidInput, match="maps to 'nonsense', which is not a field"):
        load_mapping(str(as_json))
    with pytest.raises(InvalidInput, match="neither a file nor a preset"):
        load_mapping(str(tmp_path / "missing.yaml"))


def test_clear_empty_turns_empty_cells_into_removals():
    rows = [["key", "name", "serial"], ["H1", "a", ""]]
    assert plan_of(RawSheet("Hardware", rows)).cis["H1"].properties == {"name": "a"}
    assert plan_of(RawSheet("Hardware", rows), clear_empty=True).cis["H1"].properties == {
        "name": "a", "serial": None}


def test_skip_invalid_rejects_rows_that_need_a_rejected_row():
    plan = plan_of(
        RawSheet("Locations", [["key", "type"], ["L1", "planet"], ["L2", "room"]]),
        RawSheet("Hardware", [["key", "location"], ["H1", "L1"], ["H2", "L2"]]),
        RawSheet("Relationships", [["from", "type", "to"], ["H1", "CONNECTED_TO", "H2"]]),
        skip_invalid=True)
    assert problems(plan) == {("Locations", 2, "type", "planet"), ("Hardware", 2, "location", "L1"),
                              ("Relationships", 2, "to", "H2")}
    assert set(plan.cis) == {"L2", "H2"}
    assert {(r.from_key, r.type, r.to_key) for r in plan.relationships} == {("H2", "LOCATED_IN", "L2")}


def test_formula_neutralised_cells_read_back_as_they_were():
    plan = plan_of(RawSheet("Hardware", [["key", "name", "notes"], ["H1", "'=1+1", "'@cmd"]]))
    assert plan.cis["H1"].properties == {"name": "=1+1", "notes": "@cmd"}


def test_keys_that_are_plain_numbers_warn_once_per_column_that_zeros_may_be_lost():
    sheet = RawSheet("Hardware", [["资产编号", "name"], ["001237", "a"], ["1238", "b"],
                                  ["1239", "c"], ["PC-1", "d"]])
    plan = build_plan([sheet], Mapping(), Options(), FakeRegister({}, []))
    assert plan.problems == [] and set(plan.cis) == {"001237", "1238", "1239", "PC-1"}
    [warning] = plan.warnings
    assert (warning.sheet, warning.row, warning.column, warning.value) == ("Hardware", 3, "资产编号", "1238")
    assert "2 key(s)" in warning.message and "leading zeros" in warning.message


def test_every_property_name_as_a_heading_means_that_property():
    # what the export writes reads back as the same property, never as a synonym of another
    from cmdb.graph.schema import KINDS

    mapping = Mapping()
    assert {(kind, name): mapping.field_for(name, kind)
            for kind, spec in KINDS.items() for name in spec.user_properties} == {
        (kind, name): name for kind, spec in KINDS.items() for name in spec.user_properties}
