"""Reading spreadsheets: every cell as text, encodings, and refusing dangerous or broken files."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pandas as pd
import pytest

from cmdb.errors import InvalidInput, TooLarge
from cmdb.settings import Settings
from importers.readers import UnreadableFile, read_file
from tests.spreadsheets import xlsx_bytes

SETTINGS = Settings(max_upload_bytes=5_000_000, max_unzipped_bytes=20_000_000)




def test_xlsx_cells_come_back_as_the_text_the_user_typed():
    data = xlsx_bytes({"硬件": [
        ["资产编号", "数量", "小数", "日期", "日期时间", "布尔"],
        ["000123", 1, 1.5, dt.date(2026, 1, 5), dt.datetime(2026, 1, 5, 10, 3), True],
        [123, 1.0, 16.25, 46027, None, False],
    ]})
    [sheet] = read_file(data, name="r.xlsx", settings=SETTINGS)
    assert sheet.name == "硬件"
    assert sheet.rows == [
        ["资产编号", "数量", "小数", "日期", "日期时间", "布尔"],
        ["000123", "1", "1.5", "2026-01-05", "2026-01-05T10:03:00", "true"],
        ["123", "1", "16.25", "46027", "", "false"],
    ]


def test_rows_keep_their_spreadsheet_positions():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["C3"], ws["D3"], ws["C4"], ws["C6"] = "key", "name", "a", "b"
    buffer = io.BytesIO()
    wb.save(buffer)
    [sheet] = read_file(buffer.getvalue(), name="offset.xlsx", settings=SETTINGS)
    assert [r[2] for r in sheet.rows] == ["", "", "key", "a", "", "b"]


def test_ods_is_read(tmp_path):
    path = tmp_path / "register.ods"
    pd.DataFrame({"key": ["007", "008"], "name": ["a", "b"]}).to_excel(path, engine="odf", index=False,
                                                                        sheet_name="Hardware")
    [sheet] = read_file(path, settings=SETTINGS)
    assert sheet.name == "Hardware"
    assert sheet.rows == [["key", "name"], ["007", "a"], ["008", "b"]]


@pytest.mark.parametrize("encoding,bom", [
    ("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gbk", b""), ("gb18030", b""), ("big5", b""),
])
def test_csv_encodings_are_detected(encoding, bom):
    text = "資產編號,名稱,狀態\n000123,伺服器一號,在用\n" if encoding == "big5" else \
        "资产编号,设备名称,状态\n000123,服务器一号,在用\n"
    [sheet] = read_file(bom + text.encode(encoding), name="硬件.csv", settings=SETTINGS)
    expected = [line.split(",") for line in text.strip().split("\n")]
    assert sheet.name == "硬件"
    assert sheet.rows == expected


def test_gbk_and_big5_without_known_headings_are_told_apart():
    simplified = "名字,备注\n张三,这是一个简体中文的说明文字\n".encode("gbk")
    traditional = "名字,備註\n張三,這是一個繁體中文的說明文字\n".encode("big5")
    assert read_file(simplified, name="x.csv", settings=SETTINGS)[0].rows[1][1] == "这是一个简体中文的说明文字"
    assert read_file(traditional, name="x.csv", settings=SETTINGS)[0].rows[1][1] == "這是一個繁體中文的說明文字"


def test_csv_keeps_blank_lines_semicolons_and_utf16():
    [sheet] = read_file("key;name\n001;a\n\n002;b\n".encode(), name="h.csv", settings=SETTINGS)
    assert sheet.rows == [["key", "name"], ["001", "a"], ["", ""], ["002", "b"]]
    [sheet] = read_file("key\tname\r\n001\tx\r\n".encode("utf-16"), name="h.txt", settings=SETTINGS)
    assert sheet.rows == [["key", "name"], ["001", "x"]]


def test_empty_file_is_refused():
    with pytest.raises(InvalidInput, match="empty"):
        read_file(b"", name="empty.xlsx", settings=SETTINGS)


def test_file_over_the_size_limit_is_refused():
    with pytest.raises(TooLarge, match="limit is 1,000 bytes"):
        read_file(b"key\n" + b"x\n" * 1000, name="big.csv", settings=Settings(max_upload_bytes=1000))


def zip_bomb(member_bytes: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * member_bytes)
    return buffer.getvalue()


def test_zip_bomb_is_refused_before_anything_is_decompressed():
    bomb = zip_bomb(50_000_000)
    assert len(bomb) < 100_000
    with pytest.raises(TooLarge, match="zip bomb"):
        read_file(bomb, name="bomb.xlsx", settings=SETTINGS)


def test_archive_expanding_past_the_limit_is_refused():
    with pytest.raises(TooLarge, match="expands to"):
        read_file(zip_bomb(900_000), name="big.xlsx", settings=Settings(max_unzipped_bytes=500_000))


def test_corrupt_workbook_is_refused_with_a_clear_message():
    good = xlsx_bytes({"Hardware": [["key"], ["1"]]})
    with pytest.raises(UnreadableFile, match="damaged"):
        read_file(good[: len(good) // 2], name="broken.xlsx", settings=SETTINGS)
    with pytest.raises(UnreadableFile, match="not a valid xlsx"):
        read_file(b"this is not a workbook", name="renamed.xlsx", settings=SETTINGS)
    with pytest.raises(UnreadableFile, match="binary"):
        read_file(b"\x00\x01\x02garbage" * 10, name="x.csv", settings=SETTINGS)


def test_password_protected_workbook_is_refused():
    msoffcrypto = pytest.importorskip("msoffcrypto", reason="msoffcrypto-tool builds the encrypted file")
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO(xlsx_bytes({"Hardware": [["key"], ["1"]]}))
    encrypted = io.BytesIO()
    OOXMLFile(plain).encrypt("secret", encrypted)
    assert msoffcrypto  # used
    with pytest.raises(UnreadableFile, match="password-protected"):
        read_file(encrypted.getvalue(), name="locked.xlsx", settings=SETTINGS)


def test_choosing_a_sheet():
    data = xlsx_bytes({"Hardware": [["key"], ["1"]], "位置": [["key"], ["L1"]]})
    assert [s.name for s in read_file(data, name="b.xlsx", sheet="位置", settings=SETTINGS)] == ["位置"]
    with pytest.raises(InvalidInput, match="has no sheet 'Nope'; its sheets are: Hardware, 位置"):
        read_file(data, name="b.xlsx", sheet="Nope", settings=SETTINGS)
