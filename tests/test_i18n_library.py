"""Baselines, standard images and the document library in 简体中文 and 繁體中文: each page read
through the app with ``Accept-Language`` shows the Chinese words and none of its English
headings or raw values (change types, document kinds, categories); the names of the new value
sets (changes, document kinds and targets, custom field types) exist in every language."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from cmdb.demo import load_demo
from cmdb.errors import InvalidInput
from cmdb.graph.vocabulary import check_field
from cmdb.i18n import use_language
from cmdb.i18n.names import names_of
from tests.test_api import API, Api
from tests.test_baselines import make_changes, ok
from tests.test_documents import attach
from tests.web_support import sign_in

LANGUAGES = ("zh-CN", "zh-TW")


@pytest.fixture
def pages(embedded_graph, embedded_settings):
    """A signed-in client on the demo register with a baseline, changes since, a file and a note."""
    load_demo(embedded_graph, actor="demo")
    api = Api(embedded_graph, embedded_settings)
    ok(api.client("registrar").post(f"{API}/baselines", json={"name": "Hand-over 2026"}), 201)
    make_changes(api)
    manual, note = attach(api)
    client = TestClient(api.app)
    assert sign_in(client, api.tokens["viewer"]).status_code == 303
    return client, manual, note


def _get(client: TestClient, path: str, language: str, **params) -> str:
    answer = client.get(path, params=params, headers={"Accept-Language": language})
    assert answer.status_code == 200, answer.text
    return answer.text


def _main(page: str) -> str:
    """The page's own part (the navigation and footer belong to other modules)."""
    start = page.find("<main")
    end = page.find("</main>")
    return page[start:end] if start >= 0 and end > start else page


def _no_english(page: str, *words: str) -> None:
    body = _main(page)
    left = [w for w in words if re.search(rf">\s*{re.escape(w)}\s*<", body) or f">{w} " in body]
    assert left == [], left


def test_baseline_pages_in_chinese(pages):
    client, _manual, _note = pages
    words = {"zh-CN": ("基线", "比较", "当前台账", "之前", "之后", "已修改", "已换镜像", "新增关系", "已移除"),
             "zh-TW": ("基準線", "比較", "目前的財產清冊", "之前", "之後", "已修改", "已換映像檔", "新增關係", "已移除")}
    for language in LANGUAGES:
        listed = _get(client, "/baselines", language)
        assert f'<html lang="{language}">' in listed and words[language][0] in listed
        assert "whole register" not in listed and "None yet." not in listed
        page = _get(client, "/baselines/Hand-over 2026", language)
        for word in words[language]:
            assert word in page, (language, word)
        _no_english(page, "Change", "Before", "After", "Compare", "The register now", "No changes.",
                    "changed", "re-imaged", "removed", "added", "moved", "relationship added",
                    "relationship removed", "Hardware", "RUNS_IMAGE", "LOCATED_IN", "ram_gb")
        assert "Report (xlsx)" not in page and "Compare with" not in page


def test_baseline_report_in_chinese(pages):
    client, _manual, _note = pages
    report = client.get(f"{API}/baselines/Hand-over 2026/diff", headers={"Accept-Language": "zh-CN"})
    assert report.json()["counts"]["re-imaged"] == 1  # the API's data stays raw
    html = client.get(f"{API}/baselines/Hand-over 2026/report", params={"format": "html"},
                      headers={"Accept-Language": "zh-TW"})
    assert html.status_code == 200 and '<html lang="zh-TW">' in html.text
    assert "基準線報告" in html.text and "依類別" in html.text
    assert "Baseline report" not in html.text and "By category" not in html.text


def test_document_pages_in_chinese(pages):
    client, manual, note = pages
    words = {"zh-CN": ("笔记与文档", "搜索标题", "笔记", "硬件型号", "解决", "历史"),
             "zh-TW": ("筆記與文件", "搜尋標題", "筆記", "硬體型號", "解決", "歷史")}
    for language in LANGUAGES:
        found = _get(client, "/documents", language, q="docking")
        for word in words[language][:5]:
            assert word in found, (language, word)
        _no_english(found, "Notes and documents", "Search", "note", "file", "model")
        assert "found matching" not in found and "Solves:" not in found
        shown = _get(client, f"/documents/{note['id']}", language)
        assert words[language][2] in shown and words[language][3] in shown
        assert "written by" not in shown and "Solution to" not in shown and ">note<" not in shown
        assert ">History<" not in shown and ">create<" not in shown
        file_page = _get(client, f"/documents/{manual['id']}", language)
        assert "Download manual.pdf" not in file_page and "bytes" not in _main(file_page)


def test_image_pages_in_chinese(pages):
    client, _manual, _note = pages
    words = {"zh-CN": ("标准镜像", "仍在使用已被取代的镜像", "设备", "类别", "台设备", ""),
             "zh-TW": ("標準映像檔", "仍在使用已被取代的映像檔", "設備", "類別", "台設備", "")}
    for language in LANGUAGES:
        lists = _get(client, "/images", language, category="pc", on="2027-02-01")
        for word in filter(None, words[language][:5]):
            assert word in lists, (language, word)
        _no_english(lists, "Standard images", "Device", "Category", "Status", "Superseded by", "pc",
                    "in_use", "None.")
        assert "Still on a superseded image" not in lists and " devices" not in _main(lists)
        rollout = _get(client, "/images/W10-2026/rollout", language, to="W11-2026")
        moved = {"zh-CN": "台已迁移", "zh-TW": "台已移轉"}[language]
        assert moved in rollout and ("不可迁移" in rollout or "不可移轉" in rollout)
        _no_english(rollout, "Cannot move", "Can move", "Moved", "Device", "Model", "Why not")
        assert "can move ·" not in rollout


def test_the_new_value_sets_have_names_in_every_language():
    families = {"change": ("added", "removed", "moved", "re-imaged", "changed", "relationship added",
                           "relationship removed"),
                "document_kind": ("note", "file"), "document_target": ("ci", "model", "category"),
                "field_type": ("text", "integer", "decimal", "date", "boolean", "choice")}
    for language in ("en", "zh_CN", "zh_TW"):
        with use_language(language):
            for family, values in families.items():
                shown = names_of(family)
                assert set(values) <= set(shown), (language, family)
                if language != "en":
                    assert all(re.search(r"[\u4e00-\u9fff]", shown[v]) for v in values), (language, family)
    with use_language("zh_TW"):
        assert names_of("change")["re-imaged"] == "已換映像檔"
        assert names_of("field_type")["boolean"] == "是/否"


def test_refused_category_and_field_messages_in_chinese(embedded_graph, embedded_settings):
    load_demo(embedded_graph, actor="demo")
    api = Api(embedded_graph, embedded_settings)
    admin = api.admin
    refused = admin.post(f"{API}/cis", headers={"Accept-Language": "zh-CN"}, json={
        "key": "PC-0998", "kind": "Hardware", "properties": {"name": "x", "category": "laptopp"}})
    assert refused.status_code in (400, 409, 422), refused.text
    message = refused.json()["error"]["message"]
    assert "不是本台账的类别" in message and "laptop（笔记本" in message, message
    with use_language("zh_TW"), pytest.raises(InvalidInput) as refused_field:
        check_field("Hardware", "paint", "colour")
    assert "未知的欄位類型" in refused_field.value.message
    with use_language("zh_CN"), pytest.raises(InvalidInput) as refused_choice:
        check_field("Hardware", "paint", "choice")
    assert refused_choice.value.message == "选项字段需要列出其选项"
