"""Handheld-scanner exports -> scans, on top of the importers' spreadsheet readers.

Two forms: a table with a heading row (tag and location columns, optionally time, person,
note, condition, serial; English or Chinese headings), or a plain list of one tag per line,
where ``--at LOCATION`` says where they were all scanned. ``--at`` also fills a table's
empty (or absent) location column.
"""

from __future__ import annotations

from pathlib import Path

from cmdb.audit.scans import ScanInput
from cmdb.errors import InvalidInput
from cmdb.i18n import _
from cmdb.settings import Settings
from importers.headings import norm
from importers.readers import RawSheet, read_file

HEADINGS: dict[str, tuple[str, ...]] = {
    "tag": ("tag", "asset tag", "asset", "key", "asset key", "asset number", "asset no",
            "asset id", "barcode", "code", "label", "qr", "资产标签", "资产编号", "资产编码", "资产号",
            "标签", "标签号", "编号", "条码", "條碼", "資產編號", "資產標籤", "資產編碼", "標籤", "編號"),
    "serial": ("serial", "serial number", "serial no", "sn", "s/n", "序列号", "序列號", "出厂编号",
               "出廠編號"),
    "location": ("location", "location key", "found at", "where", "place", "scan location",
                 "位置", "地点", "地點", "存放位置", "存放地点", "存放地點", "盘点位置", "盤點位置",
                 "扫描位置", "掃描位置", "所在位置"),
    "at": ("time", "scan time", "scanned at", "timestamp", "date", "datetime", "date time", "when",
           "时间", "時間", "扫描时间", "掃描時間", "盘点时间", "盤點時間", "日期"),
    "person": ("person", "who", "user", "by", "scanned by", "operator", "auditor", "staff",
               "盘点人", "盤點人", "扫描人", "掃描人", "人员", "人員", "操作员", "操作員", "盘点员", "盤點員"),
    "note": ("note", "notes", "remark", "remarks", "comment", "comments", "备注", "備註", "说明", "說明"),
    "condition": ("condition", "state", "状况", "狀況", "外观", "外觀", "成色"),
}
_FIELD_BY_HEADING = {norm(h): f for f, words in HEADINGS.items() for h in (f, *words)}


def column_fields(headings: list[str]) -> dict[str, int]:
    """{field: column index} for the headings this module recognises."""
    found: dict[str, int] = {}
    for i, heading in enumerate(headings):
        field = _FIELD_BY_HEADING.get(norm(heading))
        if field and field not in found:
            found[field] = i
    return found


def _first_row(sheet: RawSheet) -> int | None:
    for i, row in enumerate(sheet.rows):
        if any(c.strip() for c in row):
            return i
    return None


def sheet_scans(sheet: RawSheet, name: str, at: str | None) -> list[ScanInput]:
    start = _first_row(sheet)
    if start is None:
        return []
    columns = column_fields(sheet.rows[start])
    where = (_("%(name)s (sheet %(sheet)s)", name=name, sheet=sheet.name)
             if sheet.name and sheet.name != Path(name).stem else name)
    if "tag" not in columns and "serial" not in columns:
        if len([c for c in sheet.rows[start] if c.strip()]) > 1:
            raise InvalidInput(_("%(where)s: no column heading names the asset tag; use a heading "
                                 "such as 'tag' or '资产编号' (and 'location' / '位置')", where=where),
                               field="tag", value=sheet.rows[start][:10],
                               allowed=list(HEADINGS["tag"][:6]))
        if not at:
            raise InvalidInput(_("%(where)s is a plain list of tags; say where they were scanned "
                                 "with --at LOCATION_KEY", where=where), field="at")
        return [ScanInput(row[0].strip(), at, row=i + 1)
                for i, row in enumerate(sheet.rows[start:], start) if row and row[0].strip()]
    if "location" not in columns and not at:
        raise InvalidInput(_("%(where)s has no location column; add one ('location' / '位置') or "
                             "give --at LOCATION_KEY", where=where), field="location")

    def cell(row: list[str], field: str) -> str:
        i = columns.get(field)
        return row[i].strip() if i is not None and i < len(row) else ""

    scans: list[ScanInput] = []
    for i in range(start + 1, len(sheet.rows)):
        row = sheet.rows[i]
        if not any(c.strip() for c in row):
            continue
        tag = cell(row, "tag") or cell(row, "serial")
        location = cell(row, "location") or (at or "")
        scans.append(ScanInput(tag, location, cell(row, "at") or None, cell(row, "person") or None,
                               cell(row, "note") or None, cell(row, "condition") or None, row=i + 1))
    return scans


def read_scan_file(source: str | Path | bytes, *, name: str | None = None, at: str | None = None,
                   settings: Settings | None = None) -> list[ScanInput]:
    """Every scan in a CSV/XLSX/XLS/ODS file (all sheets), checked only for shape here."""
    name = name or (Path(source).name if isinstance(source, (str, Path)) else "upload")
    scans: list[ScanInput] = []
    for sheet in read_file(source, name=name, settings=settings):
        scans += sheet_scans(sheet, name, at)
    if not scans:
        raise InvalidInput(_("%(name)s holds no scans", name=name), field="file", value=name)
    return scans
