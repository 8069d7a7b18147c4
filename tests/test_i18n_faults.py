"""The fault, maintenance round and service pages in Chinese (zh-CN and zh-TW) on a live server:
values shown as words, no English headings or raw values left."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest

from cmdb.api.app import create_app
from cmdb.demo import load_demo
from cmdb.faults import service as faults
from cmdb.graph.tokens import create_token
from cmdb.levels import service as levels
from cmdb.levels.hours import CHINA
from cmdb.maintenance import service as rounds
from cmdb.policy import Caller
from tests.serve_support import app_on_loopback
from tests.web_support import sign_in

ENGINEER = Caller("Li Wei", "engineer")
ADMIN = Caller("admin-user", "admin")

EXPECTED = {
    "zh-CN": {
        "faults": ["故障单", "等级", "故障描述", "状态", "响应", "解决", "待处理"],
        "fault": ["涉及", "报障时间", "服务级别", "时限", "下一步", "工程师", "解决方法", "派单",
                  "B：服务降级或涉及关键用户", "扫码"],
        "rounds": ["巡检维护", "巡检", "范围", "已检", "有不合格项", "巡检计划", "进行中"],
        "round": ["设备", "类别", "结果", "待检", "进行中"],
        "check": ["通过", "不通过", "备注", "保存", "状态指示灯正常"],
    },
    "zh-TW": {
        "faults": ["故障單", "等級", "故障描述", "狀態", "回應", "解決", "待處理"],
        "fault": ["涉及", "報修時間", "服務等級", "時限", "下一步", "工程師", "解決方法", "派工",
                  "B：服務降級或涉及關鍵使用者", "掃碼"],
        "rounds": ["巡檢維護", "巡檢", "範圍", "已檢", "有不合格項目", "巡檢排程", "進行中"],
        "round": ["設備", "類別", "結果", "待檢", "進行中"],
        "check": ["通過", "不通過", "備註", "儲存", "狀態指示燈正常"],
    },
}
# English words and raw values that must not be left on the pages.
ENGLISH = {
    "faults": [">Fault records<", ">Grade<", ">What<", ">Response<", ">Resolution<", ">Open<",
               "No fault records", "within target", "no target", ">open<"],
    "fault": [">Concerns<", ">Reported<", ">Service level<", ">Clocks<", ">Next step<", ">Engineer<",
              "How it was fixed", "Sign off", "Measured in the level", ">History<", "service degraded",
              "(scan)", "within target", " min<", " of ", "by Li Wei"],
    "rounds": [">Maintenance rounds<", ">Round<", ">Scope<", ">Checked<", ">With failures<",
               ">Schedules<", ">open<", "monthly"],
    "round": [">Device<", ">Category<", ">Result<", "to check", "devices checked", ">open<"],
    "check": ["> Pass<", "> Fail<", ">Note<", ">Save<", "Status lights normal"],
}


@pytest.fixture
def service_estate(embedded_graph):
    graph = embedded_graph
    load_demo(graph, actor="test")
    levels.install_defaults(graph, ADMIN)
    printer = next(ci for ci in graph.list_cis(kind="Hardware", limit=500).items
                   if ci.properties.get("category") == "printer" and graph.location_path(ci.key))
    room = graph.location_path(printer.key)[-1]["key"]
    at = dt.datetime(2026, 9, 21, 9, 0, tzinfo=CHINA)
    started = rounds.start_round(graph, ENGINEER, "September cleaning", scope=[room], at=at)
    rounds.add_schedule(graph, ADMIN, "Monthly cleaning", scope=room, frequency="monthly", at=at)
    fault = faults.open_fault(graph, ENGINEER, keys=[printer.key], title="paper jam", severity="B",
                              reported_by="Li Wei", reported_via="scan", at=dt.datetime.now(dt.timezone.utc))
    return graph, started, fault


def _visible(html: str) -> str:
    """The page without its scripts, styles and the language switcher's own names."""
    html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
    return html


@pytest.mark.parametrize("language", ["zh-CN", "zh-TW"])
def test_the_fault_and_round_pages_speak_chinese(service_estate, embedded_settings, language):
    graph, started, fault = service_estate
    # A device whose checklist is the "other" or "network" one has "Status lights normal".
    device = next(d for d in started.expected if "Status lights normal" in
                  rounds.checklist_for(started.checklists, d["category"]))
    token = create_token(graph, "Li Wei", "engineer", created_by="test")
    with app_on_loopback(create_app(embedded_settings, graph=graph), "i18n-faults") as port, \
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                         headers={"Accept-Language": language}) as client:
        sign_in(client, token)
        pages = {"faults": "/faults", "fault": f"/faults/{fault.id}", "rounds": "/maintenance",
                 "round": f"/maintenance/{started.id}",
                 "check": f"/maintenance/{started.id}/check/{device['key']}"}
        for name, url in pages.items():
            page = client.get(url)
            assert page.status_code == 200, (url, page.text[:500])
            text = _visible(page.text)
            for word in EXPECTED[language][name]:
                assert word in text, (language, name, word)
            for word in ENGLISH[name]:
                assert word not in text, (language, name, word)


@pytest.mark.parametrize("language,words,english", [
    ("zh-CN", ["月度服务总结", "按等级和服务级别的故障", "故障单", "等级", "服务级别", "巡检维护", "超时"],
     ["Monthly service report", "Fault records", "Service level", "Maintenance rounds"]),
    ("zh-TW", ["月度服務報告", "依等級與服務等級的故障", "故障單", "等級", "服務等級", "巡檢維護", "逾時"],
     ["Monthly service report", "Fault records", "Service level", "Maintenance rounds", "月度服务总结",
      "服务级别"]),
])
def test_the_monthly_report_follows_the_language(embedded_graph, language, words, english):
    from cmdb.reports import data, render
    from cmdb.reports.demo_month import seed_month
    load_demo(embedded_graph, actor="test")
    seed_month(embedded_graph, "2026-09")
    report = data.build(embedded_graph, data.period_of("month", "2026-09"), None,
                        now=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc))
    html = render.render(report, "html", language).decode("utf-8")
    for word in words:
        assert word in html, (language, word)
    for word in english:
        assert word not in html, (language, word)
    for status in (">closed<", ">resolved<", ">open<"):
        assert status not in html, (language, status)
