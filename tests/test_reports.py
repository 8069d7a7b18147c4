"""The monthly service report of the demo estate (seeded with a month of faults, repairs and a
maintenance round) as XLSX, HTML and PDF in English and Chinese, each rendered to PNG under
tests/artifacts/ (PDF pages with pdfium, HTML in chromium, XLSX sheets drawn from the cells
read back) and checked for content."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile

import openpyxl
import pypdfium2
import pytest
from PIL import Image, ImageDraw

from cmdb.demo import load_demo
from cmdb.errors import Conflict
from cmdb.labels.fonts import choose_font, load_font
from cmdb.levels.hours import CHINA
from cmdb.reports import data, render
from cmdb.reports.demo_month import FAULTS, seed_month
from tests.test_browser import ARTIFACTS, CHROMIUM, LAUNCH_ARGS, _require_browser

MONTH = "2026-09"


@pytest.fixture
def service_month(embedded_graph):
    load_demo(embedded_graph, actor="test")
    summary = seed_month(embedded_graph, MONTH)
    return embedded_graph, summary


def xlsx_to_png(content: bytes, path) -> list[str]:
    """Draw each sheet's cells as a grid (what a reviewer sees in a spreadsheet program)."""
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    texts = [str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    font = load_font(choose_font(texts), 14)
    images = []
    for ws in book.worksheets:
        rows = [[("" if c is None else str(c))[:40] for c in row] for row in ws.iter_rows(values_only=True)]
        width = max((len(r) for r in rows), default=1)
        image = Image.new("RGB", (60 + 220 * width, 40 + 22 * len(rows)), "white")
        draw = ImageDraw.Draw(image)
        draw.text((10, 8), ws.title, fill="#1b3a5c", font=font)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                draw.rectangle((10 + 220 * c, 30 + 22 * r, 230 + 220 * c, 52 + 22 * r), outline="#c8d0d8")
                draw.text((14 + 220 * c, 33 + 22 * r), text, fill="black", font=font)
        images.append(image)
    total = Image.new("RGB", (max(i.width for i in images), sum(i.height + 10 for i in images)), "#eeeeee")
    y = 0
    for image in images:
        total.paste(image, (0, y))
        y += image.height + 10
    total.save(path)
    return [ws.title for ws in book.worksheets]


def test_the_demo_month_report_in_three_formats_and_two_languages(service_month, cli, tmp_path):
    graph, summary = service_month
    assert summary == {"faults": len(FAULTS) + 1, "rounds": 1, "devices_checked": summary["devices_checked"]}
    with pytest.raises(Conflict, match="already has fault records"):
        seed_month(graph, MONTH)
    report = data.build(graph, data.period_of("month", MONTH), None, now=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc))
    assert report.totals["faults"] == len(FAULTS) + 1
    breached_ids = sorted({b["id"] for b in report.breaches})
    assert breached_ids, "the demo month has breaches"
    # The portal fault of the 24th crossed the Mid-autumn holiday on a VIP (7×24) server.
    portal = next(f for f in report.faults if f["title"].startswith("门户"))
    assert portal["clocks"]["resolution"]["state"] == "breached" and portal["id"] in breached_ids
    assert [r["repair_order"] for r in report.repairs] == ["RO-2026-0917", "RO-2026-0922"]
    assert len(report.rounds) == 1 and len(report.findings) == 1
    assert report.findings[0]["fault"] in {f["id"] for f in report.faults}
    assert report.changes == {"added": {}, "moved": {}, "retired": {}}   # the demo was loaded today

    for language in ("en", "zh-CN"):
        for fmt in ("xlsx", "html", "pdf"):
            out = tmp_path / f"{MONTH}-{language}.{fmt}"
            result = cli("report", "monthly", "--month", MONTH, "--language", language, "-o", out)
            assert result.exit_code == 0, result.output
        title = "月度服务总结 2026-09" if language == "zh-CN" else "Monthly service report 2026-09"
        # PDF: text and pages as PNG.
        pdf = pypdfium2.PdfDocument(str(tmp_path / f"{MONTH}-{language}.pdf"))
        text = "".join(page.get_textpage().get_text_range() for page in pdf)
        assert title in text and all(i in text for i in breached_ids), text[:500]
        for n, page in enumerate(pdf):
            page.render(scale=1.2).to_pil().save(ARTIFACTS / f"report-{language}-pdf-{n + 1}.png")
        # XLSX: the sheets, the charts, the breaches.
        content = (tmp_path / f"{MONTH}-{language}.xlsx").read_bytes()
        sheets = xlsx_to_png(content, ARTIFACTS / f"report-{language}-xlsx.png")
        assert len(sheets) == 10
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            assert {n for n in z.namelist() if n.startswith("xl/charts/")} == {
                "xl/charts/chart1.xml", "xl/charts/chart2.xml"}
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        cells = {str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row if c}
        assert title in cells and set(breached_ids) <= cells
        # HTML: in chromium, as a PNG.
        page_html = (tmp_path / f"{MONTH}-{language}.html").read_text("utf-8")
        assert f"<h1>{title}</h1>" in page_html and page_html.count("<svg") == 2
        assert all(i in page_html for i in breached_ids)
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        for language in ("en", "zh-CN"):
            page.goto((tmp_path / f"{MONTH}-{language}.html").as_uri())
            assert page.locator("h1").inner_text().endswith("2026-09")
            page.screenshot(path=str(ARTIFACTS / f"report-{language}-html.png"), full_page=True)
        browser.close()


def test_report_scope_periods_and_bad_input(service_month, cli):
    graph, _ = service_month
    everything = data.build(graph, data.period_of("month", MONTH), None, now=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc))
    shanghai = data.build(graph, data.period_of("month", MONTH), "SH-HQ", now=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc))
    inside = set(graph.subtree_keys("SH-HQ"))
    assert {f["id"] for f in shanghai.faults} == {f["id"] for f in everything.faults if set(f["keys"]) & inside}
    assert len(shanghai.faults) < len(everything.faults)
    quarter = data.build(graph, data.period_of("quarter", "2026-Q3"), None, now=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc))
    assert [f["id"] for f in quarter.faults] == [f["id"] for f in everything.faults]
    assert data.build(graph, data.period_of("month", "2026-08"), None,
                      now=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)).faults == []
    assert (data.period_of("quarter", "2026-Q4").start, data.period_of("quarter", "2026-Q4").end) == (
        dt.date(2026, 10, 1), dt.date(2027, 1, 1))
    for args, message in ((("--month", "2026-13"), "is not a month"), (("--month", "Sept"), "is not a month"),
                          (("--month", MONTH, "-o", "x.doc"), ".xlsx, .html or .pdf"),
                          (("--month", MONTH, "--scope", "APP-ERP"), "not a location"),
                          (("--month", MONTH, "--language", "fr"), "allowed: en, zh-CN")):
        result = cli("report", "monthly", *args)
        assert result.exit_code == 1 and message in result.output, result.output
    listed = json.loads(cli("report", "quarterly", "--quarter", "2026-Q3", "--json").output)
    assert listed["totals"]["faults"] == len(everything.faults)


def test_register_changes_by_category(embedded_graph):
    load_demo(embedded_graph, actor="test")
    pcs = sorted(ci.key for ci in embedded_graph.list_cis(kind="Hardware", category="pc", limit=500).items)
    embedded_graph.update_ci(pcs[0], {"status": "retired"}, actor="test")
    embedded_graph.link(pcs[1], "LOCATED_IN", "SH-HQ-B", actor="test")
    now = dt.datetime.now(dt.timezone.utc)
    month = data.period_of("month", now.astimezone(CHINA).strftime("%Y-%m"))
    report = data.build(embedded_graph, month, None, now=now)
    hardware = embedded_graph.list_cis(kind="Hardware", limit=1000).items
    by_category = {}
    for ci in hardware:
        by_category[ci.properties["category"]] = by_category.get(ci.properties["category"], 0) + 1
    assert {k: v for k, v in report.changes["added"].items() if k in by_category} == by_category
    assert (report.changes["moved"], report.changes["retired"]) == ({"pc": 1}, {"pc": 1})
