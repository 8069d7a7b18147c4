"""Report files: the workbook opens with its chart and category sheets, the HTML parses and
is self-contained, and no exported cell can run as a formula or markup."""

from __future__ import annotations

import csv
import io
import zipfile
from html.parser import HTMLParser

import openpyxl
import pytest

from cmdb.audit import service
from cmdb.audit.reports import write_report
from cmdb.errors import InvalidInput
from tests.test_audit_estate import ACTOR, ANSWER, SCANS, build_estate

HOSTILE = {
    "HW-MOVED": '=HYPERLINK("http://evil.test","x")',
    "HW-MISSING": "+cmd|' /C calc'!A0",
    "HW-FOUND": "@SUM(1+1)",
    "HW-DUP": "-2+3",
    "HW-TWICE": "\tTAB",
    "HW-REPAIR": "<script>alert(1)</script>",
}
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n")


@pytest.fixture
def result(graph):
    build_estate(graph, extra_names=HOSTILE)
    campaign = service.start_campaign(graph, "<b>Spring</b> =1+1", scope=["SITE-A"], actor=ACTOR)
    for tag, where in SCANS:
        service.record_scan(graph, campaign.id, tag, where, actor=ACTOR, note="=cmd()")
    return service.reconcile_campaign(graph, campaign.id)


def test_xlsx_opens_with_chart_and_category_sheets(result, tmp_path):
    path = tmp_path / "r.xlsx"
    write_report(result, path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Summary", "Found", "Relocated", "Missing", "Unexpected",
                               "Status mismatch", "Duplicates", "Away in repair"]
    names = zipfile.ZipFile(path).namelist()
    assert "xl/charts/chart1.xml" in names
    chart = zipfile.ZipFile(path).read("xl/charts/chart1.xml").decode()
    assert "Verified vs missing" in chart and "<c:barChart>" in chart
    for title, category in zip(book.sheetnames[1:], ANSWER):
        sheet = book[title]
        keys = {row[0] or row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
        assert keys == ANSWER[category], title
    texts = [c.value for ws in book for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [t for t in texts if t.startswith(FORMULA_LEADS)]
    assert "'" + HOSTILE["HW-MOVED"] in texts and "'=cmd()" in texts
    assert all(c.data_type != "f" for ws in book for row in ws.iter_rows() for c in row)
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(max_col=2, values_only=True) if row[0]}
    assert summary["Expected"] == 9 and summary["Verified"] == 7
    assert summary["Campaign"].startswith("<b>Spring</b> =1+1")


class _Doc(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_one_escaped_self_contained_file(result, tmp_path):
    path = tmp_path / "r.html"
    write_report(result, path)
    page = path.read_text(encoding="utf-8")
    doc = _Doc()
    doc.feed(page)
    assert "script" not in doc.tags and "b" not in doc.tags
    assert "svg" in doc.tags and doc.tags.count("rect") >= 2
    # Nothing is fetched from elsewhere: no links, scripts, images or stylesheets.
    assert not [v for k, v in doc.attrs if k in ("src", "href")]
    assert "<script>alert(1)</script>" in "".join(doc.text)
    assert {h for h in ("Found (6)", "Relocated (1)", "Missing (2)", "Unexpected (3)",
                        "Status mismatch (1)", "Duplicates (1)", "Away (in repair) (1)")} <= set(doc.text)


def test_csv_cells_are_neutralised(result, tmp_path):
    path = tmp_path / "r.csv"
    write_report(result, path)
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.startswith(FORMULA_LEADS)]
    entries = [row for row in rows if row and row[0] in ANSWER]
    assert {(row[0], row[1] or row[2]) for row in entries} == {(c, k) for c, keys in ANSWER.items() for k in keys}
    assert any(c == "'" + HOSTILE["HW-MISSING"] for c in cells)


def test_unknown_report_format(result, tmp_path):
    with pytest.raises(InvalidInput, match=r"\.xlsx, \.html or \.csv"):
        write_report(result, tmp_path / "r.pdf")
