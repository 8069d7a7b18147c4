"""Refusals of the importers, labels, audits and backups in the reader's language: triggered for
real (files on disk, the parsing child process, the embedded engine, the HTTP API) and compared
as whole sentences with the offending value in them."""

from __future__ import annotations

import io

import pytest
import xlsxwriter

from cmdb.audit.scan_files import read_scan_file
from cmdb.backup.fileformat import validate
from cmdb.backup.service import restore_backup
from cmdb.errors import CMDBError
from cmdb.i18n import use_language
from cmdb.labels.templates import load_template
from importers.mapping import Mapping
from importers.plan import Options, build_plan
from importers.readers import read_file


def _xlsx(path, rows):
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Hardware")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    return path


def _refusal(call, language):
    with use_language(language), pytest.raises(CMDBError) as refused:
        call()
    return refused.value.message


# --- importers ------------------------------------------------------------------------------------


def _row_problems(path, language):
    with use_language(language):
        sheets = read_file(path)
        plan = build_plan(sheets, Mapping(), Options())
        return [str(p) for p in plan.problems]


def test_import_row_errors_name_row_column_and_value_in_chinese(tmp_path):
    path = _xlsx(tmp_path / "assets.xlsx", [
        ["资产编号", "名称", "位置"],
        ["HW-7", "db", ""],
        ["HW-7", "db again", ""],
        ["HW-8", "web", "NOWHERE-9"],
    ])
    assert _row_problems(path, "zh_CN") == [
        "工作表 'Hardware' 第 3 行 列 '资产编号'：值 'HW-7'：编号重复：'HW-7' 已出现在第 2 行；"
        "每个配置项只能出现一次",
        "工作表 'Hardware' 第 4 行 列 '位置'：值 'NOWHERE-9'：此文件和台账中都没有编号为 'NOWHERE-9' "
        "的位置；写成 'HQ/Building A/Room 101' 这样的路径会创建缺少的位置",
    ]
    assert _row_problems(path, "zh_TW") == [
        "工作表 'Hardware' 第 3 列 欄 '资产编号'：值 'HW-7'：編號重複：'HW-7' 已出現在第 2 列；"
        "每個組態項目只能出現一次",
        "工作表 'Hardware' 第 4 列 欄 '位置'：值 'NOWHERE-9'：此檔案與財產清冊中都沒有編號為 'NOWHERE-9' "
        "的位置；寫成 'HQ/Building A/Room 101' 這樣的路徑會建立缺少的位置",
    ]
    assert _row_problems(path, "en")[0] == (
        "sheet 'Hardware' row 3 column '资产编号': value 'HW-7': Duplicate key: 'HW-7' is already "
        "on row 2; each CI may appear once")


def test_an_unreadable_file_is_refused_in_chinese_by_the_parsing_child(tmp_path):
    path = tmp_path / "盘点.xlsx"
    path.write_text("this is not a workbook", encoding="utf-8")
    assert _refusal(lambda: read_file(path), "zh_CN") == (
        "盘点.xlsx 不是有效的 xlsx 文件（可能已损坏，或是改了扩展名的其他格式）")
    assert _refusal(lambda: read_file(path), "zh_TW") == (
        "盘点.xlsx 不是有效的 xlsx 檔案（可能已損毀，或是改了副檔名的其他格式）")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert _refusal(lambda: read_file(empty), "zh_TW") == "empty.csv 是空的（0 位元組）；沒有可匯入的內容"


# --- labels ---------------------------------------------------------------------------------------


def test_a_label_template_error_names_the_field_and_value_in_chinese(tmp_path):
    path = tmp_path / "sheet.json"
    path.write_text('{"page": "A4", "columns": 0, "rows": 8, "label_width_mm": 70, '
                    '"label_height_mm": 37, "margin_left_mm": 0, "margin_top_mm": 0}')
    assert _refusal(lambda: load_template(str(path)), "zh_CN") == (
        "sheet.json：columns = 0：应为 1 到 100 的整数")
    assert _refusal(lambda: load_template(str(path)), "zh_TW") == (
        "sheet.json：columns = 0：應為 1 到 100 的整數")
    assert _refusal(lambda: load_template("no-such-sheet"), "zh_CN").startswith(
        "未知标签模板 'no-such-sheet'：请使用 ")


# --- audit scan files -----------------------------------------------------------------------------


def test_a_scan_file_without_a_tag_column_is_refused_in_chinese(tmp_path):
    path = tmp_path / "scans.csv"
    path.write_text("colour,size\nred,big\n", encoding="utf-8")
    assert _refusal(lambda: read_scan_file(path), "zh_CN") == (
        "scans.csv：没有列标题表示资产编号；请使用 'tag' 或 '资产编号' 这样的标题（以及 'location' / '位置'）")
    plain = tmp_path / "tags.csv"
    plain.write_text("HW-1\nHW-2\n", encoding="utf-8")
    assert _refusal(lambda: read_scan_file(plain), "zh_TW") == (
        "tags.csv 只是資產編號清單；請用 --at LOCATION_KEY 說明掃描地點")


# --- backup and restore ---------------------------------------------------------------------------


def test_a_file_that_is_not_a_backup_is_refused_in_chinese(tmp_path, embedded_graph):
    path = tmp_path / "notes.txt"
    path.write_text("hello", encoding="utf-8")
    assert _refusal(lambda: validate(path), "zh_CN") == (
        f"{path} 不是 CMDB 备份：它不是 gzip 压缩的（备份由 `cmdb backup FILE` 写出）")
    assert _refusal(lambda: restore_backup(embedded_graph, path), "zh_TW") == (
        f"{path} 不是 CMDB 備份：它不是 gzip 壓縮的（備份由 `cmdb backup FILE` 寫出）")


# --- through the API ------------------------------------------------------------------------------


def test_a_scan_at_a_device_is_refused_in_the_browsers_language(estate_app):
    client, tokens = estate_app
    auth = {"Authorization": f"Bearer {tokens['admin']}"}
    campaign = client.post("/api/v1/audits", json={"name": "Spring"}, headers=auth)
    assert campaign.status_code == 201, campaign.text
    url = f"/api/v1/audits/{campaign.json()['id']}/scans"
    messages = {}
    for language in ("zh-CN", "zh-TW", "en"):
        answer = client.post(url, json={"tag": "HW-1", "location": "HW-2"},
                             headers={**auth, "Accept-Language": language})
        assert answer.status_code in (409, 422), answer.text
        messages[language] = answer.json()["error"]["message"]
    assert messages == {
        "zh-CN": "位置 'HW-2' 是硬件，不是位置",
        "zh-TW": "位置 'HW-2' 是硬體，不是位置",
        "en": "location 'HW-2' is a Hardware, not a Location",
    }


def test_an_uploaded_damaged_workbook_is_refused_in_the_browsers_language(estate_app):
    client, tokens = estate_app
    auth = {"Authorization": f"Bearer {tokens['admin']}"}
    answer = client.post("/api/v1/imports", headers={**auth, "Accept-Language": "zh-TW"},
                         files={"file": ("資產.xlsx", io.BytesIO(b"PK\x03\x04 broken"),
                                         "application/octet-stream")},
                         data={"dry_run": "true"})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["message"] == "資產.xlsx 已損毀：無法讀取其 zip 結構"
