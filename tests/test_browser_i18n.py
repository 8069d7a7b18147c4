"""The scan, audit and impact pages in a real browser (Debian's chromium) whose language is
Simplified Chinese, Traditional Chinese or English: every word in that language, values as
words, never a raw stored value. Screenshots go to tests/artifacts/i18n-*.png."""

from __future__ import annotations

import re

import pytest

from cmdb.graph.tokens import create_token
from tests.test_browser import ARTIFACTS, SCREENS, browser, demo, live_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

# Stored values that must never reach a page as they are stored.
RAW = re.compile(r"\b(in_use|in_stock|in_repair|status_mismatch|not_in_register|LOCATED_IN|RUNS_ON|"
                 r"RUNS_IMAGE|DEPENDS_ON|CONNECTED_TO|SoftwareImage|warranty_end|cpu_cores|"
                 r"last_seen_at|last_audited_at)\b")

WORDS = {
    "zh-CN": {"scan_title": "硬件", "found_here": "在此找到", "in_use": "在用", "category": "类别",
              "server": "服务器", "last_seen": "最后发现", "report_problem": "上报问题",
              "audit_status": "进行中", "verified": "已核实", "missing": "缺失",
              "relocated": "位置变动", "unexpected": "意外发现", "expected_text": "应盘资产 {n} 项，已核实 {v} 项",
              "impact_title": "变更会影响什么？", "degraded": "降级", "runs_on": "运行于",
              "application": "应用", "affected": "受影响的配置项", "switcher": "简体中文",
              "updated": "更新于"},
    "zh-TW": {"scan_title": "硬體", "found_here": "在此找到", "in_use": "使用中", "category": "類別",
              "server": "伺服器", "last_seen": "最後發現", "report_problem": "回報問題",
              "audit_status": "進行中", "verified": "已核實", "missing": "缺少",
              "relocated": "位置異動", "unexpected": "意外發現", "expected_text": "應盤資產 {n} 項，已核實 {v} 項",
              "impact_title": "變更會影響什麼？", "degraded": "降級", "runs_on": "執行於",
              "application": "應用程式", "affected": "受影響的組態項目", "switcher": "繁體中文",
              "updated": "更新於"},
    "en": {"scan_title": "Hardware", "found_here": "Found here", "in_use": "In use", "category": "Category",
           "server": "Server", "last_seen": "Last seen", "report_problem": "Report a problem",
           "audit_status": "Open", "verified": "Verified", "missing": "Missing",
           "relocated": "Relocated", "unexpected": "Unexpected", "expected_text": "{v} of {n} expected assets",
           "impact_title": "What does a change touch?", "degraded": "Degraded", "runs_on": "runs on",
           "application": "Application", "affected": "Affected CIs", "switcher": "English",
           "updated": "Updated"},
}
LANGUAGES = list(WORDS)


@pytest.fixture
def tokens(demo):  # noqa: F811
    graph = demo["graph"]
    return {"auditor": create_token(graph, "auditor-i18n", "auditor", created_by="test"),
            "admin": create_token(graph, "admin-i18n", "admin", created_by="test")}


def _page(browser, language: str, screen: str = "phone"):  # noqa: F811
    context = browser.new_context(viewport=SCREENS[screen], locale=language,
                                  device_scale_factor=2 if screen == "phone" else 1)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.js_errors = errors  # type: ignore[attr-defined]
    return page


def _sign_in(page, base: str, token: str, next_path: str) -> None:
    page.goto(f"{base}{next_path}")
    assert "/signin" in page.url
    page.locator("#token").fill(token)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(re.escape(base + next_path) + "$"))


def _visible_text(page) -> str:
    return page.locator("body").inner_text()


def _no_raw_values(page) -> None:
    text = _visible_text(page)
    assert RAW.findall(text) == [], f"raw values on {page.url}"


def _shoot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"i18n-{name}.png"), full_page=True)


@pytest.mark.parametrize("language", LANGUAGES)
def test_scan_page_in_the_browsers_language(live_server, browser, demo, tokens, language):  # noqa: F811
    words = WORDS[language]
    page = _page(browser, language)
    _sign_in(page, live_server, tokens["admin"], "/s/SRV-010")
    assert page.locator("html").get_attribute("lang") == language
    assert page.locator("#asset-title .badge").inner_text() == words["scan_title"]
    assert page.locator(".summary-line .badge.status").inner_text() == words["in_use"]
    props = dict(zip(page.locator("dl.props dt").all_inner_texts(),
                     page.locator("dl.props dd").all_inner_texts()))
    assert props[words["category"]] == words["server"]
    assert words["last_seen"] in props
    assert page.get_by_role("button", name=words["found_here"]).is_visible()
    assert page.locator("details summary").first.inner_text() == words["report_problem"]
    assert page.locator("#language-switcher [aria-current]").inner_text() == words["switcher"]
    _no_raw_values(page)
    _shoot(page, f"scan-{language}")
    assert page.js_errors == []
    page.context.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_audit_page_in_the_browsers_language(live_server, browser, demo, tokens, language):  # noqa: F811
    words = WORDS[language]
    campaign = demo["campaign"]
    page = _page(browser, language)
    path = f"/audits/{campaign.id}"
    _sign_in(page, live_server, tokens["auditor"], path)
    assert page.locator("h1").inner_text() == campaign.name
    assert page.locator(".hint .badge.status").first.inner_text() == words["audit_status"]
    assert page.locator("#progress-title").inner_text() == words["verified"]
    total = len(demo["expected"])
    expected_text = words["expected_text"].format(n=total, v=0)
    assert page.locator("#verified-text").inner_text() == expected_text
    titles = [t.split("\n")[0].rsplit(" ", 1)[0] for t in page.locator("details.list h2").all_inner_texts()]
    assert {words["missing"]} <= set(titles)
    # the page's script redraws the progress in the same language after its first poll
    page.locator("#updated").filter(has_text=words["updated"]).wait_for(timeout=15_000)
    assert page.locator("#verified-text").inner_text() == expected_text
    _no_raw_values(page)
    _shoot(page, f"audit-{language}")
    assert page.js_errors == []
    page.context.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_impact_page_in_the_browsers_language(live_server, browser, demo, tokens, language):  # noqa: F811
    words = WORDS[language]
    page = _page(browser, language, "laptop")
    _sign_in(page, live_server, tokens["admin"], "/impact?keys=SRV-001")
    assert page.locator("h1").inner_text() == words["impact_title"]
    states = set(page.locator("#affected [data-state]").all_inner_texts())
    assert states == {words["degraded"]}  # SRV-001 is redundant: everything is degraded
    kinds = set(page.locator("#affected [data-kind]").all_inner_texts())
    assert words["application"] in kinds
    assert words["runs_on"] in page.locator("#affected td.why").first.inner_text()
    assert page.locator("#affected-title").inner_text() == words["affected"]
    _no_raw_values(page)
    _shoot(page, f"impact-{language}")
    if language == "zh-CN":
        page.screenshot(path=str(ARTIFACTS / "i18n-impact-zh-CN-screen.png"))
    assert page.js_errors == []
    page.context.close()


def test_the_switcher_changes_the_language_and_keeps_it(live_server, browser, demo, tokens):  # noqa: F811
    page = _page(browser, "en")
    _sign_in(page, live_server, tokens["admin"], "/s/SRV-010")
    page.locator("#language-switcher a[data-language=zh_TW]").click()
    page.wait_for_url(re.compile(r"/s/SRV-010$"))
    assert page.locator("html").get_attribute("lang") == "zh-TW"
    assert page.locator(".summary-line .badge.status").inner_text() == "使用中"
    page.goto(f"{live_server}/impact?keys=SRV-001")  # the choice holds on the next page
    assert page.locator("h1").inner_text() == "變更會影響什麼？"
    page.context.close()
