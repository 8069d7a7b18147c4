"""Messages in English, 简体中文 and 繁體中文: complete catalogues, the language people expect,
values as words, dates and name order of the locale, and search that folds Chinese forms."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from typer.testing import CliRunner

from cmdb.audit.reconcile import CATEGORIES
from cmdb.cli import app as cli_app
from cmdb.graph import schema
from cmdb.i18n import (
    LANGUAGES, LOCALE_DIR, _, from_accept_language, from_locale, normalise_language, use_language,
)
from cmdb.i18n.formats import format_date, format_datetime, sort_by_name
from cmdb.i18n.names import FAMILIES, names_of
from cmdb.settings import Settings, get_settings
from cmdb.text_search import fold, matches, pinyin_initials, query_variants, search_terms
from tests.web_support import sign_in

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = ("zh_CN", "zh_TW")
PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)\}")


# --- the catalogues -----------------------------------------------------------------------


SOURCE_FOLDERS = ("cmdb", "importers")  # the folders babel.cfg names


def _in_source(path: str) -> bool:
    relative = Path(path).resolve().relative_to(ROOT).parts
    return bool(relative) and relative[0] in SOURCE_FOLDERS and \
        not any(part.startswith((".", "_")) for part in relative)


@functools.cache
def _source_messages() -> frozenset[tuple[str, str | tuple]]:
    """Every message the code and templates hand to gettext, as Babel's extractor finds them
    with the project's babel.cfg (the same as `make messages`)."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _filename, _lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, directory_filter=_in_source):
        found.add((context or "", message))
    return frozenset(found)


def _catalogue(language: str):
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language, abort_invalid=True)


def _has_translation(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(s.strip() for s in strings)


def _key(message) -> tuple[str, str | tuple]:
    return (message.context or "", message.id)


def test_the_extractor_sees_pages_commands_and_values():
    found = _source_messages()
    # a page heading (template), a command's table heading, a status word, an API error
    assert {("", "What does a change touch?"), ("heading", "key"), ("status", "In use"),
            ("", "Invalid request — %(problem)s")} <= found
    assert len(found) > 400


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_in_the_source_is_translated(language):
    """Fails for any string added to the code or templates without a translation: run
    `make messages`, translate the new entries in both catalogues, and commit them."""
    catalogue = _catalogue(language)
    translated = {_key(m) for m in catalogue if m.id and not m.fuzzy and _has_translation(m)}
    untranslated = sorted(_source_messages() - translated, key=str)
    assert untranslated == [], (f"{len(untranslated)} message(s) have no {language} translation; "
                                f"see README 'Adding a message'. First ones: {untranslated[:10]}")


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders(language):
    wrong = []
    for message in _catalogue(language):
        if not message.id:
            continue
        source = message.id[0] if isinstance(message.id, tuple) else message.id
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        for target in targets:
            expected = {a or b for a, b in PLACEHOLDER.findall(source)}
            if isinstance(message.id, tuple):  # the plural's count may be left out in Chinese
                expected |= {a or b for a, b in PLACEHOLDER.findall(message.id[1])}
                expected.discard("num")
            got = {a or b for a, b in PLACEHOLDER.findall(target)} - {"num"}
            if got != expected - {"num"}:
                wrong.append((source, target))
    assert wrong == []


def test_traditional_chinese_uses_taiwan_terms_not_converted_characters():
    tw = {m.id: m.string for m in _catalogue("zh_TW") if m.context in ("category", "property")}
    assert tw["Server"] == "伺服器" and tw["Printer"] == "印表機" and tw["Disk (GB)"] == "硬碟（GB）"
    assert tw["RAM (GB)"] == "記憶體（GB）" and tw["Operating system"] == "作業系統"
    cn = {m.id: m.string for m in _catalogue("zh_CN") if m.context in ("category", "property")}
    assert cn["Server"] == "服务器" and cn["Printer"] == "打印机" and cn["Disk (GB)"] == "硬盘（GB）"


# --- choosing the language -------------------------------------------------------------------


@pytest.mark.parametrize("tag, language", [
    ("zh-CN", "zh_CN"), ("zh_CN.UTF-8", "zh_CN"), ("zh", "zh_CN"), ("zh-Hans-SG", "zh_CN"),
    ("zh-TW", "zh_TW"), ("zh_HK.UTF-8", "zh_TW"), ("zh-Hant", "zh_TW"), ("en-GB", "en"),
    ("en_US.UTF-8", "en"), ("fr-FR", None), ("C.UTF-8", None), ("", None), (None, None)])
def test_language_tags(tag, language):
    assert normalise_language(tag) == language


def test_accept_language_picks_the_best_language_with_a_catalogue():
    assert from_accept_language("fr-FR,fr;q=0.9,zh-TW;q=0.8,en;q=0.5") == "zh_TW"
    assert from_accept_language("en;q=0.4, zh-CN") == "zh_CN"
    assert from_accept_language("de, fr") is None
    assert from_accept_language("zh-CN;q=0, en") == "en"


def test_the_locale_follows_posix_precedence():
    assert from_locale({"LANG": "zh_CN.UTF-8"}) == "zh_CN"
    assert from_locale({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_TW.UTF-8"}) == "zh_TW"
    assert from_locale({"LANG": "zh_TW.UTF-8", "LC_ALL": "en_GB.UTF-8"}) == "en"
    assert from_locale({"LANG": "C.UTF-8"}) is None


def test_the_setting_takes_only_known_languages():
    assert Settings(language="zh-TW").language == "zh_TW"
    assert Settings(language="").language is None
    with pytest.raises(ValueError, match="CMDB_LANGUAGE='klingon'"):
        Settings(language="klingon")


# --- values as words ----------------------------------------------------------------------------


CLOSED_SETS = {
    "status": schema.HARDWARE_STATUSES, "category": schema.HARDWARE_CATEGORIES,
    "location_type": schema.LOCATION_TYPES, "criticality": schema.CRITICALITIES,
    "kind": tuple(schema.KINDS), "relationship": tuple(schema.RELATIONSHIPS),
    "finding": CATEGORIES, "impact_state": ("down", "degraded"),
    "property": tuple(p.name for k in schema.KINDS.values() for p in k.properties),
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_stored_value_has_a_name_in_every_language(language):
    with use_language(language):
        for family, values in CLOSED_SETS.items():
            names = names_of(family)
            assert set(values) <= set(names), family
            if language != "en":
                raw = {v for v in values if names[v] == v and not v.isupper()}
                assert raw == set(), (family, raw)  # VIP, PC, UPS may stay as they are
    assert set(CLOSED_SETS) <= set(FAMILIES)


def test_the_words_the_issue_names():
    with use_language("zh_CN"):
        statuses = names_of("status")
        assert [statuses[s] for s in ("in_use", "in_stock", "in_repair", "disposed", "missing")] == \
            ["在用", "库存", "维修中", "已报废", "丢失"]
        findings = names_of("finding")
        assert [findings[f] for f in ("found", "relocated", "missing", "unexpected")] == \
            ["找到", "位置变动", "缺失", "意外发现"]
        assert names_of("property")["warranty_end"] == "保修截止"
        assert names_of("property")["cpu_cores"] == "CPU 核数"
    with use_language("zh_TW"):
        assert names_of("status")["in_use"] == "使用中" and names_of("category")["server"] == "伺服器"


# --- dates and order ---------------------------------------------------------------------------


def test_dates_in_the_locales_form():
    day = dt.date(2027, 4, 30)
    expected = {"en": "Apr 30, 2027", "zh_CN": "2027年4月30日", "zh_TW": "2027年4月30日"}
    for language, text in expected.items():
        with use_language(language):
            assert format_date(day) == text
            assert format_date("2027-04-30") == text
            assert format_datetime("2027-04-30T08:05:00Z") == f"{text} 08:05 UTC"
    with use_language("zh_CN"):
        assert format_date("not a date") == "not a date"
        assert format_datetime(None) == "从未"


def test_names_sort_by_pinyin_in_simplified_and_by_strokes_in_traditional_chinese():
    names = ["三楼机房", "一号机房", "八楼", "北京数据中心", "阿里机柜", "Zebra", "apple"]
    with use_language("zh_CN"):  # a-li, ba, bei-jing, san, yi; the locale puts Han first
        assert sort_by_name(names, str) == ["阿里机柜", "八楼", "北京数据中心", "三楼机房",
                                            "一号机房", "apple", "Zebra"]
    tw = ["資料中心", "一號機房", "伺服器室", "十樓", "三樓", "八樓"]
    with use_language("zh_TW"):  # 1 (一), 2 (八, 十), 3 (三), 7 (伺), 13 (資) strokes
        assert sort_by_name(tw, str) == ["一號機房", "八樓", "十樓", "三樓", "伺服器室", "資料中心"]
    with use_language("en"):
        assert sort_by_name(["b", "A", "c"], str) == ["A", "b", "c"]


# --- search that understands Chinese ------------------------------------------------------------


def test_simplified_and_traditional_forms_fold_together():
    assert set(query_variants("伺服器")) >= {"伺服器", "服务器", "服務器"}
    assert set(query_variants("服务器")) >= {"伺服器", "服务器", "服務器"}
    assert set(query_variants("硬碟")) >= {"硬盘", "硬碟"}
    assert query_variants("  SRV-01 ") == ["srv-01"]
    assert query_variants("a b  c") == ["a b  c"]  # stored text is matched as typed
    assert query_variants("   ") == []
    assert fold("伺服器") == fold("服务器") == fold("服務器") == "服务器"
    assert fold("ＳＲＶ") == "srv"


def test_pinyin_initials():
    assert pinyin_initials("服务器") == "fwq"
    assert search_terms("财务打印机") == {"财务打印机", "cwdyj"}
    assert matches("上海总部服务器", "fwq") and matches("伺服器機房", "服务器")
    assert not matches("打印机", "fwq") and not matches(None, "x")


@pytest.fixture
def chinese_estate(embedded_graph):
    from cmdb.graph import CIInput

    embedded_graph.upsert_cis([
        CIInput("SRV-CN", "Hardware", {"name": "财务服务器", "category": "server"}),
        CIInput("SRV-TW", "Hardware", {"name": "財務伺服器", "category": "server"}),
        CIInput("SRV-HK", "Hardware", {"name": "財務服務器", "category": "server"}),
        CIInput("PRN-1", "Hardware", {"name": "财务打印机", "category": "printer"}),
    ], actor="test")
    return embedded_graph


def test_list_search_finds_both_forms(chinese_estate):
    for typed in ("服务器", "伺服器", "服務器"):
        keys = [c.key for c in chinese_estate.list_cis(q=typed).items]
        assert keys == ["SRV-CN", "SRV-HK", "SRV-TW"], typed
    assert [c.key for c in chinese_estate.list_cis(q="印表機").items] == ["PRN-1"]


def test_cli_list_search_finds_both_forms(chinese_estate, cli):
    result = cli("ci", "list", "--q", "伺服器", "--json")
    assert result.exit_code == 0
    assert [i["key"] for i in json.loads(result.stdout)["items"]] == ["SRV-CN", "SRV-HK", "SRV-TW"]


# --- the command line -----------------------------------------------------------------------------


runner = CliRunner()


def _run(*args: str, env: dict[str, str] | None = None):
    get_settings.cache_clear()
    try:
        return runner.invoke(cli_app, list(args), env=env, catch_exceptions=False)
    finally:
        get_settings.cache_clear()


@pytest.fixture
def demo_register(embedded_graph):
    from cmdb.demo import load_demo

    load_demo(embedded_graph, actor="test")
    return embedded_graph


def _table(stdout: str) -> dict[str, str]:
    """`ci show` piped: title line, then one tab-separated label/value line per property."""
    return dict(line.split("\t", 1) for line in stdout.splitlines()[1:] if "\t" in line)


def test_ci_show_in_simplified_chinese_from_the_locale(demo_register):
    english = _run("ci", "show", "SRV-010", env={"LANG": "C.UTF-8"})
    chinese = _run("ci", "show", "SRV-010", env={"LANG": "zh_CN.UTF-8"})
    assert english.exit_code == chinese.exit_code == 0
    en, cn = _table(english.stdout), _table(chinese.stdout)
    assert en["Status"] == "In use" and en["Category"] == "Server"
    assert cn["状态"] == "在用" and cn["类别"] == "服务器" and cn["保修截止"] == en["Warranty end"]
    assert cn["CPU 核数"] == en["CPU cores"]
    assert chinese.stdout.splitlines()[0] == "硬件 SRV-010"
    assert "方向\t关系\t编号\t类型\t名称" in chinese.stdout.splitlines()
    assert "←\t运行于\tAPP-VIRT\t应用\tVirtualisation cluster" in chinese.stdout.splitlines()
    assert not {"in_use", "server", "warranty_end", "cpu_cores"} & (set(cn) | set(cn.values()))
    # --json is the same whatever the language
    as_json = [json.loads(_run("ci", "show", "SRV-010", "--json", env={"LANG": lang}).stdout)
               for lang in ("C.UTF-8", "zh_CN.UTF-8", "zh_TW.UTF-8")]
    assert as_json[0] == as_json[1] == as_json[2]
    assert as_json[0]["status"] == "in_use" and "warranty_end" in as_json[0]


def test_cmdb_language_wins_over_the_locale(demo_register):
    shown = _run("ci", "show", "SRV-010", env={"LANG": "zh_CN.UTF-8", "CMDB_LANGUAGE": "zh_TW"})
    table = _table(shown.stdout)
    assert table["狀態"] == "使用中" and table["類別"] == "伺服器"
    assert shown.stdout.splitlines()[0] == "硬體 SRV-010"
    english = _run("ci", "show", "SRV-010", env={"LANG": "zh_CN.UTF-8", "CMDB_LANGUAGE": "en"})
    assert _table(english.stdout)["Status"] == "In use"


def test_ci_list_headings_and_words(demo_register):
    listed = _run("ci", "list", "--kind", "Hardware", "--category", "server", "--limit", "3",
                  env={"LANG": "zh_TW.UTF-8"})
    lines = listed.stdout.splitlines()
    assert lines[1].split("\t") == ["編號", "類型", "名稱", "類別/類型", "狀態"]
    rows = [line.split("\t") for line in lines[2:]]
    assert {r[1] for r in rows} == {"硬體"} and {r[3] for r in rows} == {"伺服器"}


def test_audit_reconcile_in_chinese_with_json_unchanged(demo_register):
    from cmdb.audit.service import record_scan, start_campaign

    campaign = start_campaign(demo_register, "春季盘点", scope=["SH-HQ"], actor="test")
    record_scan(demo_register, campaign.id, "SRV-001", "SZ-DC", actor="test")
    record_scan(demo_register, campaign.id, "NOT-REGISTERED-1", "SH-HQ", actor="test")
    english = json.loads(_run("audit", "reconcile", campaign.id, "--json",
                              env={"LANG": "C.UTF-8"}).stdout)
    chinese_json = json.loads(_run("audit", "reconcile", campaign.id, "--json",
                                   env={"LANG": "zh_CN.UTF-8"}).stdout)
    assert english == chinese_json
    assert set(english["summary"]["counts"]) == set(CATEGORIES)
    chinese = _run("audit", "reconcile", campaign.id, env={"LANG": "zh_CN.UTF-8"})
    assert chinese.exit_code == 0, chinese.output
    lines = chinese.stdout.splitlines()
    start = lines.index("盘点结果\t数量")
    counts = dict(line.split("\t") for line in lines[start + 1:start + 1 + len(CATEGORIES)])
    with use_language("zh_CN"):
        assert counts == {names_of("finding")[c]: str(len(english[c])) for c in CATEGORIES}
    assert set(counts) == {"找到", "位置变动", "缺失", "意外发现", "状态不符", "重复扫描", "外出（维修中）"}
    assert "（进行中）" in lines[0] or "进行中" in lines[0]
    assert "缺失" in lines and "位置变动" in lines and "意外发现" in lines  # the tables' titles
    assert "编号\t名称\t登记位置\t发现位置\t备注" in lines
    assert any(line.startswith("NOT-REGISTERED-1\t") and line.endswith("该编号不在台账中")
               for line in lines)
    raw = {"found", "relocated", "missing", "unexpected", "status_mismatch", "in_use", "open"}
    assert not raw & {cell for line in lines for cell in line.split("\t")}


def test_reports_in_the_chosen_language(demo_register, tmp_path):
    from cmdb.audit.service import start_campaign

    campaign = start_campaign(demo_register, "Spring", scope=["SH-HQ"], due="2027-04-30",
                              actor="test")
    out = tmp_path / "r.html"
    written = _run("audit", "report", campaign.id, "-o", str(out), "--language", "zh_TW",
                   "--json", env={"LANG": "C.UTF-8"})
    assert json.loads(written.stdout)["language"] == "zh_TW"
    page = out.read_text(encoding="utf-8")
    assert '<html lang="zh-TW">' in page and "盤點報告：Spring" in page
    assert "2027年4月30日" in page and "缺少" in page and "Missing" not in page
    default = _run("audit", "report", campaign.id, "-o", str(out),
                   env={"LANG": "C.UTF-8", "CMDB_LANGUAGE": "zh_CN"})
    assert default.exit_code == 0 and "盘点报告：Spring" in out.read_text(encoding="utf-8")
    refused = _run("audit", "report", campaign.id, "-o", str(out), "--language", "fr")
    assert refused.exit_code == 1 and "Unknown language 'fr'" in refused.stderr

    import openpyxl

    book_path = tmp_path / "r.xlsx"
    _run("audit", "report", campaign.id, "-o", str(book_path), "--language", "zh_CN")
    book = openpyxl.load_workbook(book_path)
    assert book.sheetnames == ["汇总", "找到", "位置变动", "缺失", "意外发现", "状态不符",
                               "重复扫描", "外出维修中"]
    assert book["缺失"]["D1"].value == "登记状态" and book["缺失"]["D2"].value == "在用"


# --- the API and the pages ----------------------------------------------------------------------------


def test_api_messages_follow_accept_language_and_codes_stay(estate_app):
    client, tokens = estate_app
    auth = {"Authorization": f"Bearer {tokens['admin']}"}
    bodies = {}
    for header, language in (("zh-CN", "zh-CN"), ("zh-TW,zh;q=0.9", "zh-TW"), ("en", "en")):
        answer = client.get("/api/v1/cis/NO-SUCH", headers={**auth, "Accept-Language": header})
        assert answer.status_code == 404 and answer.headers["content-language"] == language
        bodies[language] = answer.json()["error"]
    assert {b["code"] for b in bodies.values()} == {"unknown_key"}
    assert bodies["zh-CN"]["message"] == "没有编号为 'NO-SUCH' 的配置项"
    assert bodies["zh-TW"]["message"] == "沒有編號為 'NO-SUCH' 的組態項目"
    assert bodies["en"]["message"] == "No CI with key 'NO-SUCH'"
    # data stays raw
    ci = client.get("/api/v1/cis/HW-1", headers={**auth, "Accept-Language": "zh-CN"}).json()
    assert ci["properties"]["status"] == "in_use" and ci["properties"]["category"] == "server"


def test_pages_follow_accept_language_and_the_switcher_wins(estate_app):
    client, tokens = estate_app
    assert sign_in(client, tokens["admin"]).status_code == 303
    pages = {lang: client.get("/cis/HW-1", headers={"Accept-Language": lang}).text
             for lang in ("zh-CN", "zh-TW", "en")}
    assert '<html lang="zh-CN">' in pages["zh-CN"] and "在用" in pages["zh-CN"]
    assert "服务器" in pages["zh-CN"] and "序列号" in pages["zh-CN"]
    assert '<html lang="zh-TW">' in pages["zh-TW"] and "使用中" in pages["zh-TW"]
    assert "伺服器" in pages["zh-TW"] and "序號" in pages["zh-TW"]
    assert "In use" in pages["en"] and "Serial number" in pages["en"]
    for page in pages.values():
        assert ">in_use<" not in page and ">server<" not in page and ">serial<" not in page
    # the switcher keeps the choice in a cookie, over the browser's header
    chosen = client.get("/language", params={"lang": "zh_TW", "next": "/cis/HW-1"},
                        follow_redirects=False)
    assert chosen.status_code == 303 and chosen.headers["location"] == "/cis/HW-1"
    assert "cmdb_language=zh_TW" in chosen.headers["set-cookie"]
    page = client.get("/cis/HW-1", headers={"Accept-Language": "en"}).text
    assert '<html lang="zh-TW">' in page
    # the impact picture the page loads from the API follows the choice too
    picture = client.get("/api/v1/impact/graph.svg", params={"keys": "HW-1"},
                         headers={"Accept-Language": "en"})
    assert picture.status_code == 200 and "執行於" in picture.text and "runs on" not in picture.text
    # an unknown language or an outside address is not taken
    refused = client.get("/language", params={"lang": "xx", "next": "/"}, follow_redirects=False)
    assert refused.status_code == 422
    outside = client.get("/language", params={"lang": "en", "next": "https://evil.example/"},
                         follow_redirects=False)
    assert outside.headers["location"] == "/"


def test_sign_in_page_speaks_the_browsers_language(estate_app):
    client, _tokens = estate_app
    page = client.get("/signin", headers={"Accept-Language": "zh-TW"}).text
    assert "登入" in page and "API 權杖" in page and 'href="/language?lang=en' in page


def test_messages_for_the_pages_scripts_are_translated(estate_app):
    client, tokens = estate_app
    sign_in(client, tokens["admin"])
    page = client.get("/impact", headers={"Accept-Language": "zh-CN"}).text
    blob = re.search(r'<script type="application/json" id="page-messages">(.*?)</script>', page, re.S)
    messages = json.loads(blob.group(1))
    assert messages["nothing_matches"] == "没有匹配项" and "{place}" in messages["scanning_in"]


def test_the_gettext_shortcut_formats_named_values():
    with use_language("zh_CN"):
        assert _("Unknown tag %(key)s", key="X-1") == "未知编号 X-1"
    with use_language("en"):
        assert _("Unknown tag %(key)s", key="X-1") == "Unknown tag X-1"
