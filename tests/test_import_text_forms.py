"""Dates and text as spreadsheets really hold them: two-digit years, day/month order,
Chinese and dotted dates, Excel serials, CSV encodings, line endings, duplicate headings
and amounts. No database needed."""

from __future__ import annotations

import pytest

from cmdb.errors import InvalidInput
from cmdb.graph.schema import KINDS
from cmdb.settings import Settings
from importers.mapping import Mapping
from importers.plan import Options, build_plan, column_letter
from importers.readers import RawSheet, UnreadableFile, read_file
from importers.values import add_months, convert, parse_amount, parse_date, parse_months

SETTINGS = Settings(max_upload_bytes=5_000_000, max_unzipped_bytes=20_000_000)
HARDWARE = KINDS["Hardware"]


@pytest.mark.parametrize("text,dayfirst,expected", [
    ("1/23/23", False, "2023-01-23"),
    ("23/1/23", True, "2023-01-23"),
    ("3/4/16", False, "2016-03-04"),
    ("3/4/16", True, "2016-04-03"),
    ("03/04/2016", False, "2016-03-04"),
    ("03/04/2016", True, "2016-04-03"),
    ("12/31/99", False, "1999-12-31"),
    ("1/1/29", False, "2029-01-01"),
    ("1/1/30", False, "1930-01-01"),
    ("1/1/00", False, "2000-01-01"),
    ("5.4.16", True, "2016-04-05"),
    ("1-23-23", False, "2023-01-23"),
    ("1/23/23 3:45 PM", False, "2023-01-23"),
    ("1/23/2023 15:45", False, "2023-01-23"),
    ("2016年4月5日", False, "2016-04-05"),
    ("2016年04月05日", True, "2016-04-05"),
    ("2016.4.5", False, "2016-04-05"),
    ("2016.4.5", True, "2016-04-05"),
    ("44949", False, "2023-01-23"),
    ("44949.5", True, "2023-01-23"),
])
def test_date_forms(text, dayfirst, expected):
    assert parse_date(text, dayfirst=dayfirst) == expected


def test_every_date_is_read_in_the_order_asked_for_never_swapped():
    # 1/23/23 read day first would be month 23: refused, not quietly read as 23 January.
    assert parse_date("1/23/23", dayfirst=True) == "1/23/23"
    with pytest.raises(InvalidInput) as e:
        convert(HARDWARE, HARDWARE.by_name["purchase_date"], "1/23/23", dayfirst=True)
    assert "month would be 23" in e.value.message and "without --dayfirst" in e.value.message
    with pytest.raises(InvalidInput) as e:
        convert(HARDWARE, HARDWARE.by_name["purchase_date"], "23/1/23", dayfirst=False)
    assert "month would be 23" in e.value.message and "with --dayfirst" in e.value.message
    with pytest.raises(InvalidInput) as e:  # a real non-date keeps the schema's own message
        convert(HARDWARE, HARDWARE.by_name["purchase_date"], "2/30/23", dayfirst=False)
    assert "month would be" not in e.value.message and "YYYY-MM-DD" in e.value.message


def test_the_order_comes_from_the_option_else_the_mapping():
    sheet = RawSheet("Hardware", [["key", "purchase date"], ["A1", "3/4/16"]])
    for options, mapping_dayfirst, expected in [
        (Options(), None, "2016-03-04"), (Options(), True, "2016-04-03"),
        (Options(dayfirst=False), True, "2016-03-04"), (Options(dayfirst=True), False, "2016-04-03"),
    ]:
        plan = build_plan([sheet], Mapping(dayfirst=mapping_dayfirst), options)
        assert plan.cis["A1"].properties == {"purchase_date": expected}


@pytest.mark.parametrize("text,expected", [
    ("36", 36), ("36 months", 36), ("12 Months", 12), ("36个月", 36), ("", None), ("3 years", None),
])
def test_warranty_months(text, expected):
    assert parse_months(text) == expected


def test_months_are_added_keeping_the_day_where_the_month_has_it():
    import datetime as dt
    assert add_months(dt.date(2023, 1, 23), 36) == dt.date(2026, 1, 23)
    assert add_months(dt.date(2023, 1, 31), 1) == dt.date(2023, 2, 28)
    assert add_months(dt.date(2023, 11, 30), 3) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2023, 12, 1), 12) == dt.date(2024, 12, 1)


@pytest.mark.parametrize("text,expected", [
    ("1299", "1299"), ("1299.00", "1299.00"), ("$1,299.00", "1299.00"), ("1.299,50 €", "1299.50"),
    ("USD 1,299", "1299"), ("¥8,000", "8000"), ("￥8,000元", "8000"), ("12,50", "12.50"),
    ("free", "free"),
])
def test_amounts(text, expected):
    assert parse_amount(text) == expected


def test_cost_is_converted_and_bad_cost_refused():
    prop = HARDWARE.by_name["purchase_cost"]
    assert convert(HARDWARE, prop, "$1,299.00") == 1299
    assert convert(HARDWARE, prop, "1,299.50") == 1299.5
    with pytest.raises(InvalidInput):
        convert(HARDWARE, prop, "free")


# --- CSV encodings and line endings ------------------------------------------------------------

WESTERN = ("Asset Tag,Name,Location\n"
           "001,Café Zürich,Straße 5 – Büro “Nord”\n"
           "002,Ångström Müller,Señor Niño\n")
SIMPLIFIED = "资产编号,设备名称,存放地点\n000123,服务器一号,上海机房\n"
TRADITIONAL = "資產編號,設備名稱,存放地點\n000123,伺服器一號,台北機房\n"


def rows_of(text: str) -> list[list[str]]:
    return [line.split(",") for line in text.strip("\n").split("\n")]


@pytest.mark.parametrize("encoding,prefix,text", [
    ("utf-8", b"", WESTERN), ("utf-8", b"\xef\xbb\xbf", WESTERN), ("utf-8", b"", SIMPLIFIED),
    ("gbk", b"", SIMPLIFIED), ("gb18030", b"", SIMPLIFIED), ("big5", b"", TRADITIONAL),
    ("utf-16", b"", SIMPLIFIED), ("utf-16", b"", WESTERN),
    ("utf-16-be", b"\xfe\xff", TRADITIONAL), ("utf-16-le", b"\xff\xfe", WESTERN),
    ("cp1252", b"", WESTERN), ("mac_roman", b"", WESTERN),
])
@pytest.mark.parametrize("line_end", ["\n", "\r\n", "\r"])
def test_csv_encodings_are_detected_with_any_line_ends(encoding, prefix, text, line_end):
    data = prefix + text.replace("\n", line_end).encode(encoding)
    [sheet] = read_file(data, name="assets.csv", settings=SETTINGS)
    assert sheet.rows == rows_of(text)


@pytest.mark.parametrize("text", ["Key,Name\n1,Café\n", "Key,Name\n1,Zoë’s\n", "Key,Name\n1,Müller\n"])
@pytest.mark.parametrize("encoding", ["cp1252", "mac_roman"])
def test_short_western_files_are_told_apart(text, encoding):
    [sheet] = read_file(text.encode(encoding), name="x.csv", settings=SETTINGS)
    assert sheet.rows == rows_of(text)


@pytest.mark.parametrize("given,codec,text", [
    ("mac-roman", "mac_roman", WESTERN), ("windows-1252", "cp1252", WESTERN), ("GBK", "gbk", SIMPLIFIED),
    ("big5", "big5", TRADITIONAL), ("utf-16", "utf-16", WESTERN), ("UTF-8", "utf-8", WESTERN),
    ("gb18030", "gb18030", SIMPLIFIED),
])
def test_an_encoding_can_be_given(given, codec, text):
    [sheet] = read_file(text.replace("\n", "\r").encode(codec), name="x.csv", settings=SETTINGS,
                        encoding=given)
    assert sheet.rows == rows_of(text)


def test_a_given_encoding_that_does_not_fit_or_is_unknown_is_refused_clearly():
    with pytest.raises(UnreadableFile) as e:
        read_file(("a,b\n1,2\n" + SIMPLIFIED).encode("gbk"), name="x.csv", settings=SETTINGS,
                  encoding="utf-8")
    assert "line 3" in e.value.message and "not valid utf-8" in e.value.message
    with pytest.raises(InvalidInput) as e:
        read_file(WESTERN.encode(), name="x.csv", settings=SETTINGS, encoding="ebcdic")
    assert e.value.allowed == ["utf-8", "gbk", "gb18030", "big5", "utf-16", "windows-1252", "mac-roman"]


def test_line_breaks_inside_quoted_cells_survive_cr_files():
    data = 'key,notes\r001,"first\rsecond"\r002,x\r'.encode("mac_roman")
    [sheet] = read_file(data, name="x.csv", settings=SETTINGS)
    assert sheet.rows == [["key", "notes"], ["001", "first\nsecond"], ["002", "x"]]



@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_a_cr_inside_a_quoted_cell_of_an_lf_or_crlf_file_is_kept(line_end):
    data = f'key,notes{line_end}001,"\rCR"{line_end}002,"a\r\nb"{line_end}'.encode()
    [sheet] = read_file(data, name="x.csv", settings=SETTINGS)
    assert sheet.rows == [["key", "notes"], ["001", "\rCR"], ["002", "a\r\nb"]]


# --- duplicate headings --------------------------------------------------------------------------


def test_column_letters():
    assert [column_letter(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]


def test_the_same_heading_twice_is_refused_naming_both_columns():
    sheet = RawSheet("Hardware", [["Asset Tag", "Serial", "Name", "Serial"], ["A1", "S1", "n", "S2"]])
    plan = build_plan([sheet], Mapping(), Options())
    assert [(p.column, p.message) for p in plan.problems] == [
        ("Serial", "Duplicate heading 'Serial' in columns B and D (row 1); rename or remove one of them")]


def test_two_headings_meaning_one_field_take_the_first_and_say_so():
    sheet = RawSheet("Hardware", [["Asset Tag", "Owner", "Name", "User"], ["A1", "Li Lei", "n", "lilei"]])
    plan = build_plan([sheet], Mapping(), Options())
    assert plan.problems == []
    assert plan.cis["A1"].properties == {"owner": "Li Lei", "name": "n"}
    assert [w.message for w in plan.warnings] == [
        "Columns B 'Owner' and D 'User' both give owner; owner is read from column B and column D is ignored"]


def test_a_mapping_file_can_say_day_first(tmp_path):
    from importers.presets import load_mapping
    spec = tmp_path / "uk.yaml"
    spec.write_text("kind: Hardware\ndayfirst: true\n", encoding="utf-8")
    sheet = RawSheet("Sheet1", [["key", "purchase date"], ["A1", "3/4/16"]])
    assert build_plan([sheet], load_mapping(str(spec)), Options()).cis["A1"].properties == {
        "purchase_date": "2016-04-03"}
    spec.write_text("dayfirst: sometimes\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as e:
        load_mapping(str(spec))
    assert (e.value.field, e.value.allowed) == ("dayfirst", [True, False])
