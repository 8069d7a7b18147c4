"""The service-record pages (contracts, repairs, spares, the scan page's warranty badge), the
warranty report and the service commands in 简体中文 and 繁體中文: the Chinese words are there,
the English headings and the raw stored values (contract types, repair statuses) are not."""

from __future__ import annotations

import csv as csv_module
import datetime as dt

import httpx
import pytest
from typer.testing import CliRunner

from cmdb.api.app import create_app
from cmdb.cli import app as cli_app
from cmdb.demo import load_demo
from cmdb.graph.tokens import create_token
from cmdb.i18n import use_language
from cmdb.i18n.formats import format_date
from cmdb.settings import get_settings
from tests.serve_support import app_on_loopback
from tests.web_support import sign_in

PC, SPARE, LENOVO = "PC-0002", "PC-0058", "LEN-WR-2024-0388"


@pytest.fixture
def live(embedded_graph, embedded_settings):
    today = dt.date.today()
    load_demo(embedded_graph, actor="demo", today=today)
    admin = create_token(embedded_graph, "i18n-service-admin", "admin")
    app = create_app(embedded_settings, graph=embedded_graph)
    with app_on_loopback(app, "i18n-service") as port:
        base = f"http://127.0.0.1:{port}"
        api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin}"}, timeout=60)
        opened = api.post("/api/v1/repairs", json={"key": PC, "fault": "不开机 no power"})
        assert opened.status_code == 201, opened.text
        repair_id = opened.json()["id"]
        issued = api.post("/api/v1/spares/issues", json={"repair": repair_id, "spare": SPARE})
        assert issued.status_code == 201, issued.text
        yield base, admin, repair_id, today


def _pages(base: str, token: str, language: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60, headers={"Accept-Language": language})
    assert sign_in(client, token, "/contracts").status_code == 303
    return client


# Page -> (Chinese words expected per language, English words that must not remain).
PAGES = {
    "/contracts": ({"zh-CN": ["合同", "登记合同", "厂商", "保修", "编号"],
                    "zh-TW": ["合約", "登記合約", "廠商", "保固", "編號"]},
                   ["Register a contract", "<th>Number</th>", "<th>Vendor</th>", "Coverage",
                    ">warranty<", ">maintenance<", ">support<", "ends within 90 days"]),
    f"/contracts/{LENOVO}": ({"zh-CN": ["合同 " + LENOVO, "覆盖设备", "保修"],
                             "zh-TW": ["合約 " + LENOVO, "涵蓋設備", "保固"]},
                            ["Covers", "No longer cover them", ">warranty<", "<dt>vendor</dt>"]),
    "/repairs": ({"zh-CN": ["维修", "处理中", "仅看逾期", "故障"],
                  "zh-TW": ["維修", "處理中", "僅看逾期", "故障"]},
                 ["<th>Status</th>", "<th>Fault</th>", "Only overdue", ">open<", "Next note due"]),
    "/spares": ({"zh-CN": ["备件", "库存位置", "领用中", "登记备件", "最低库存"],
                 "zh-TW": ["備品", "庫存位置", "領用中", "登記備品", "最低庫存"]},
                ["Out on issue", "Mark a spare", "Stock minimum", "stands in for", "<th>Model</th>"]),
}


@pytest.mark.parametrize("language", ["zh-CN", "zh-TW"])
def test_service_pages_in_chinese(live, language):
    base, admin, repair_id, today = live
    pages = _pages(base, admin, language)
    for path, (expected, english) in PAGES.items():
        page = pages.get(path)
        assert page.status_code == 200, (path, page.text[:400])
        for word in expected[language]:
            assert word in page.text, (language, path, word)
        for word in english:
            assert word not in page.text, (language, path, word)
        assert "&lt;a " not in page.text, path  # links inside a message stay links

    repair = pages.get(f"/repairs/{repair_id}")
    assert repair.status_code == 200
    contract_end = today + dt.timedelta(days=400)
    locale = language.replace("-", "_")
    with use_language(locale):
        until = format_date(contract_end)
    if language == "zh-CN":
        words = [f"在保至 {until}", "维修单 " + repair_id, "处理中", "进展", "备件 / 备机", "送修",
                 "领用单（PDF）", "已修复", "已更换", "报废"]
    else:
        words = [f"保固至 {until}", "維修單 " + repair_id, "處理中", "進度", "備品 / 備機", "送修",
                 "領用單（PDF）", "已修復", "已更換", "報廢"]
    for word in words:
        assert word in repair.text, (language, word)
    for word in ("在保 until", "Progress notes", "Spares and loaners", "Send out to", "Close repair",
                 "Repaired", "Written off", ">open<", "Out of warranty", contract_end.isoformat()):
        assert word not in repair.text, (language, word)

    # The scan page's warranty badge, and the open repair, in the page's language.
    scan = pages.get(f"/s/{PC}")
    assert scan.status_code == 200
    assert (f"在保至 {until}" if language == "zh-CN" else f"保固至 {until}") in scan.text
    assert ("维修单 " if language == "zh-CN" else "維修單 ") + repair_id in scan.text
    assert "在保 until" not in scan.text and "In warranty until" not in scan.text
    out = pages.get("/s/CAM-001")
    assert ("过保" if language == "zh-CN" else "已過保") in out.text and "Out of warranty" not in out.text

    # The warranty report follows the language too.
    csv = pages.get("/warranty/report.csv")
    assert csv.status_code == 200
    head = csv.content.decode("utf-8-sig").splitlines()[0]
    assert head.startswith("资产编号,名称,类别" if language == "zh-CN" else "資產編號,名稱,類別"), head
    assert "Key" not in head and "Warranty ends" not in head
    rows = list(csv_module.reader(csv.content.decode("utf-8-sig").splitlines()[1:]))
    pc_rows = [r for r in rows if r and r[0].startswith("PC-")]
    words = ("台式机", "在用") if language == "zh-CN" else ("桌上型電腦", "使用中")
    assert pc_rows and {(r[2], r[5]) for r in pc_rows} == {words}, pc_rows
    assert "in_use" not in csv.text and ",pc," not in csv.text


def test_service_pages_in_english_keep_their_words(live):
    base, admin, repair_id, today = live
    pages = _pages(base, admin, "en")
    repair = pages.get(f"/repairs/{repair_id}").text
    with use_language("en"):
        until = format_date(today + dt.timedelta(days=400))
    assert f"In warranty until {until}" in repair and "Progress notes" in repair and ">Open<" in repair
    assert "Register a contract" in pages.get("/contracts").text


def _run(*args: str, language: str):
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli_app, list(args), env={"LANG": "C.UTF-8", "CMDB_LANGUAGE": language},
                                  catch_exceptions=False)
    finally:
        get_settings.cache_clear()


def test_service_commands_in_chinese(embedded_graph):
    load_demo(embedded_graph, actor="demo", today=dt.date.today())
    shown = _run("warranty", "show", PC, language="zh_CN")
    assert shown.exit_code == 0, shown.output
    assert f"{PC}：在保至" in shown.stdout and "合同 " + LENOVO in shown.stdout
    assert "under warranty" not in shown.stdout
    tw = _run("warranty", "show", "CAM-001", language="zh_TW")
    assert f"{'CAM-001'}：已過保" in tw.stdout
    listed = _run("contract", "list", language="zh_TW")
    assert "份合約" in listed.stdout and "保固" in listed.stdout and "廠商" in listed.stdout
    assert "contract(s)" not in listed.stdout and " warranty " not in listed.stdout
    stock = _run("spare", "stock", language="zh_CN")
    assert "备件库存" in stock.stdout and "spare stock" not in stock.stdout
