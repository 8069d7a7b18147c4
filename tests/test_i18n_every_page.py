"""Every page of the app in 简体中文 and 繁體中文: no English word left on any of them.

The pages are the app's own GET routes that answer HTML (a new page is walked as soon as it is
routed: its URL with ids from the demo estate goes into ``EXAMPLES``, or the test says it is
missing). Each page is fetched from one in-process app with ``Accept-Language``; its visible
text (text nodes, titles, placeholders, labels, the scripts' message catalogue, not the
scripts' code) may hold Latin-letter words only when they are data from the register (keys,
names, models, serials, vendors, …) or one of the few words below that are Latin in Chinese
too (units, file formats, product names).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from cmdb.api.app import create_app
from cmdb.demo import load_demo
from cmdb.faults import service as faults
from cmdb.graph.tokens import ROLES, create_token
from cmdb.i18n import names
from cmdb.levels import service as levels
from cmdb.levels.hours import CHINA
from cmdb.maintenance import service as rounds
from cmdb.policy import Caller
from tests.web_support import sign_in

API = "/api/v1"
LANGUAGES = ["zh-CN", "zh-TW"]
ADMIN = Caller("admin-user", "admin")
ENGINEER = Caller("Li Wei", "engineer")
PC, SPARE, SERVER, OLD_IMAGE, NEW_IMAGE = "PC-0002", "PC-0058", "SRV-010", "W10-2026", "W11-2026"

# Words written in Latin letters in Chinese too (compared case-insensitively). Keep this
# short: anything else is data from the register or an untranslated text.
LATIN_WORDS = {w.casefold() for w in (
    "CMDB",                                  # the product's name
    "English",                               # the language switcher names each language in itself
    "API", "QR", "URL", "UTC",               # technical terms used as they are
    "CSV", "HTML", "PDF", "PNG", "XLSX",     # file formats
    "GB", "TB", "KB", "CPU", "UPS", "PDU", "NVR", "IP",   # units and terms used in Chinese too
    "Markdown",                              # the notes' text format
    "Enter",                                 # the key on the keyboard (the scan pages' hint)
)}
# A word: letters, with underscores inside (a stored value such as in_use is one word).
WORD = re.compile(r"[A-Za-z](?:[A-Za-z_'’]*[A-Za-z])?")
# Attributes whose values people read.
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "data-closed-text"}


class _VisibleText(HTMLParser):
    """Text a person reads on the page: text nodes, read attributes, button values and the
    scripts' message catalogue (``#page-messages``), not the code of scripts or styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip: str | None = None
        self.messages = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for name in READ_ATTRIBUTES & a.keys():
            self.parts.append(a[name])
        if tag == "input" and a.get("type") in ("submit", "button", "reset"):
            self.parts.append(a.get("value", ""))
        if tag in ("script", "style", "code"):      # commands and code are typed as they are
            self.skip = tag
            self.messages = tag == "script" and a.get("id") == "page-messages"

    def handle_endtag(self, tag: str) -> None:
        if tag == self.skip:
            self.skip, self.messages = None, False

    def handle_data(self, data: str) -> None:
        if self.messages:
            self.parts.extend(str(v) for v in json.loads(data).values())
        elif self.skip is None:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def latin_words(text: str) -> set[str]:
    # Placeholders of the scripts' messages ({place}) are filled in by the script.
    text = re.sub(r"\{[a-z_]+\}", " ", text)
    return set(WORD.findall(text))


def page_routes(app) -> list[str]:
    """Paths of the GET routes that serve pages (not the JSON API, not the pages' JSON feeds)."""
    found: list[Any] = []

    def walk(routes):
        for r in routes:
            if isinstance(r, APIRoute):
                found.append((r.path, r))
            elif hasattr(r, "effective_route_contexts"):       # routers included by FastAPI
                found.extend((c.path, c.original_route) for c in r.effective_route_contexts())
            elif hasattr(r, "routes"):
                walk(r.routes)
    walk(app.routes)
    return sorted({path for path, route in found
                   if isinstance(route, APIRoute) and "GET" in route.methods
                   and not route.include_in_schema and not path.endswith(".json")})


def words_of(value: Any) -> set[str]:
    if isinstance(value, str):
        return latin_words(value)
    if isinstance(value, (list, tuple)):
        return set().union(*(words_of(v) for v in value)) if value else set()
    if isinstance(value, dict):
        return set().union(*(words_of(v) for v in value.values())) if value else set()
    return set()


# Stored values that are names of things in a fixed list (statuses, categories, …): shown as
# words of the page's language, so never allowed as data.
ENUM_FIELDS = {"status", "category", "type", "criticality", "kind", "coverage", "severity",
               "channel", "reported_via", "frequency", "result", "verdict", "state", "action"}


def register_words(graph) -> set[str]:
    """Words of the register's own data: every CI's key and the values of its free-text fields."""
    words: set[str] = set()
    for kind in ("Hardware", "Application", "Location", "SoftwareImage"):
        for ci in graph.list_cis(kind=kind, limit=5000).items:
            words |= latin_words(ci.key)
            words |= words_of({k: v for k, v in ci.properties.items() if k not in ENUM_FIELDS})
    return words


def record_words(api: TestClient, paths: list[str]) -> set[str]:
    """Words of the service records' free-text fields, as the API lists them."""
    words: set[str] = set()

    def collect(value: Any) -> None:
        nonlocal words
        if isinstance(value, dict):
            for k, v in value.items():
                if k not in ENUM_FIELDS and not k.endswith(("_status", "_state")):
                    collect(v)
        elif isinstance(value, list):
            for v in value:
                collect(v)
        elif isinstance(value, str):
            words |= latin_words(value)
    for path in paths:
        response = api.get(API + path)
        assert response.status_code == 200, (path, response.text[:300])
        collect(response.json())
    return words


@pytest.fixture
def estate(embedded_graph, embedded_settings):
    """The demo estate with one of every record a page shows: a campaign with a scan, a fault,
    a maintenance round, a repair with a spare issued, a note and a file, a baseline and a
    change after it."""
    graph = embedded_graph
    load_demo(graph, actor="demo", today=dt.date.today())
    levels.install_defaults(graph, ADMIN)
    tokens = {role: create_token(graph, f"{role}-user", role, created_by="test")
              for role in ("admin", "viewer")}
    app = create_app(embedded_settings, graph=graph)
    api = TestClient(app, headers={"Authorization": f"Bearer {tokens['admin']}"})

    def ok(response, status=201):
        assert response.status_code == status, response.text
        return response.json()

    campaign = ok(api.post(f"{API}/audits", json={"name": "秋季盘点", "scope": ["SH-HQ"]}))
    ok(api.post(f"{API}/audits/{campaign['id']}/scans",
                json={"tag": PC, "location": graph.location_path(PC)[-1]["key"]}))
    printer = next(ci for ci in graph.list_cis(kind="Hardware", limit=500).items
                   if ci.properties.get("category") == "printer" and graph.location_path(ci.key))
    room = graph.location_path(printer.key)[-1]["key"]
    at = dt.datetime.now(CHINA) - dt.timedelta(hours=1)
    started = rounds.start_round(graph, ENGINEER, "九月清洁", scope=[room], at=at)
    rounds.add_schedule(graph, ADMIN, "每月清洁", scope=room, frequency="monthly", at=at)
    fault = faults.open_fault(graph, ENGINEER, keys=[printer.key], title="卡纸", severity="B",
                              reported_by="Li Wei", reported_via="scan", at=at)
    repair = ok(api.post(f"{API}/repairs", json={"key": PC, "fault": "不开机"}))
    issue = ok(api.post(f"{API}/spares/issues", json={"repair": repair["id"], "spare": SPARE}))
    model = graph.get_ci(PC).properties["model"]
    note = ok(api.post(f"{API}/documents/notes", json={
        "target_type": "model", "target": model, "title": "蓝屏", "body": "更换扩展坞。",
        "solves": "蓝屏"}))
    ok(api.post(f"{API}/documents/notes", json={
        "target_type": "ci", "target": SERVER, "title": "机柜说明", "body": "见机柜门。"}))
    ok(api.post(f"{API}/documents/files", data={"target_type": "category", "target": "server", "title": "手册"},
                files={"file": ("manual.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n",
                                "application/pdf")}))
    baseline = ok(api.post(f"{API}/baselines", json={"name": "交接 2026", "note": "已确认"}))
    ok(api.patch(f"{API}/cis/{SERVER}", json={"properties": {"ram_gb": 1024}}), 200)
    location = graph.location_path(SERVER)[-1]["key"]
    examples = {
        "/": ["/"],
        "/signin": [],                                     # fetched signed out, below
        "/language": [],                                   # sets the language and goes back
        "/assets/{name}": [],                              # scripts and styles
        "/cis": ["/cis", "/cis?q=server&kind=Hardware"],
        "/cis/{key}": [f"/cis/{SERVER}", f"/cis/{OLD_IMAGE}", f"/cis/{NEW_IMAGE}", f"/cis/{location}",
                       f"/cis/{PC}", "/cis/NOPE-404"],
        "/s/{key}": [f"/s/{SERVER}", f"/s/{PC}", f"/s/{location}", f"/s/{printer.key}", "/s/NOPE-404",
                     f"/s/{SERVER}?done=found&campaigns=1", f"/s/{SERVER}?done=problem&campaigns=1",
                     f"/s/{SERVER}?done=restored", "/s/NOPE-404?done=unexpected&campaigns=1"],
        "/audits": ["/audits"],
        "/audits/{campaign_id}": [f"/audits/{campaign['id']}"],
        "/impact": ["/impact", f"/impact?keys={SERVER}", f"/impact?keys={OLD_IMAGE}", "/impact?keys=NOPE-404"],
        "/baselines": ["/baselines"],
        "/baselines/{name}": [f"/baselines/{baseline['name']}"],
        "/images": ["/images", "/images?category=pc"],
        "/images/{key}/rollout": [f"/images/{OLD_IMAGE}/rollout?to={NEW_IMAGE}"],
        "/documents": ["/documents", "/documents?q=蓝屏"],
        "/documents/{doc_id}": [f"/documents/{note['id']}"],
        "/documents/{doc_id}/download": [],                # the file itself
        "/contracts": ["/contracts", "/contracts?done=added"],
        "/contracts/{number}": ["/contracts/" + contract_number(api),
                                "/contracts/" + contract_number(api) + "?done=linked"],
        "/warranty/report.{fmt}": ["/warranty/report.html"],
        "/repairs": ["/repairs"],
        "/repairs/{repair_id}": [f"/repairs/{repair['id']}", f"/repairs/{repair['id']}?done=opened"],
        "/spares": ["/spares", "/spares?done=marked"],
        "/spares/issues/{issue_id}/slip.pdf": [],          # a PDF
        "/faults": ["/faults"],
        "/faults/{fault_id}": [f"/faults/{fault.id}"] + [
            f"/faults/{fault.id}?done={step}" for step in ("opened", "assign", "arrive", "note", "resolve", "close")],
        "/faults/{fault_id}/signature.png": [f"/faults/{fault.id}/signature.png"],  # none yet: 404 page
        "/maintenance": ["/maintenance"],
        "/maintenance/{round_id}": [f"/maintenance/{started.id}"],
        "/maintenance/{round_id}/check/{key}": [f"/maintenance/{started.id}/check/{d['key']}"
                                                for d in started.expected[:3]]
        + [f"/maintenance/{started.id}/check/{started.expected[0]['key']}?done=checked"],
    }
    allowed = (register_words(graph)
               | record_words(api, ["/contracts", "/repairs", "/faults", "/baselines",
                                    "/service-levels", "/audits"])
               | history_sources(graph, [SERVER, PC, OLD_IMAGE, NEW_IMAGE, location, SPARE])
               # who did what (token names, actors), the roles a refusal names, ids of records
               | latin_words(" ".join(["test", "demo", "admin-user", "viewer-user", "Li Wei",
                                       "manual.pdf", *ROLES, issue["id"], started.id, fault.id,
                                       repair["id"], campaign["id"], note["id"]])))
    # A stored value of a fixed list written with an underscore (in_use, in_repair, …) is
    # never data on a page.
    allowed -= {w for family in names.FAMILIES for value in names.names_of(family)
                for w in latin_words(value) if "_" in w}
    return {"app": app, "tokens": tokens, "examples": examples, "allowed": allowed}


def history_sources(graph, keys: list[str]) -> set[str]:
    """Words of where the changes of these CIs came from (an import's file, a repair order's id),
    as the history stores them."""
    words: set[str] = set()
    for key in keys:
        entries, _total = graph.history(key)
        for h in entries:
            words |= latin_words(h.source or "")
    return words


def contract_number(api: TestClient) -> str:
    listed = api.get(f"{API}/contracts").json()
    items = listed["items"] if isinstance(listed, dict) else listed
    return items[0]["number"]


def test_every_page_is_walked(estate):
    """A new page route needs example URLs here (or a reason it has none)."""
    assert set(page_routes(estate["app"])) - set(estate["examples"]) == set()


def _english_left(client: TestClient, url: str, allowed: set[str]) -> set[str] | str:
    response = client.get(url, follow_redirects=False)
    if not response.headers.get("content-type", "").startswith("text/html"):
        return f"{response.status_code} {response.headers.get('content-type')}"
    # What the person asked for (a key in the path, the words searched for or keys chosen).
    parts = urlsplit(url)
    typed = latin_words(unquote(parts.path)) | words_of(
        [v for k, v in parse_qsl(parts.query) if k in ("q", "keys", "to")])
    return {w for w in latin_words(visible_text(response.text)) - allowed - typed
            if w.casefold() not in LATIN_WORDS}


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_english_word_on_any_page(estate, language):
    app, tokens, allowed = estate["app"], estate["tokens"], estate["allowed"]
    headers = {"Accept-Language": language}
    left: dict[str, Any] = {}
    with TestClient(app, headers=headers) as admin, TestClient(app, headers=headers) as viewer, \
            TestClient(app, headers=headers) as signed_out:
        assert sign_in(admin, tokens["admin"]).status_code == 303
        assert sign_in(viewer, tokens["viewer"]).status_code == 303
        walked = [(admin, url) for urls in estate["examples"].values() for url in urls]
        walked += [(signed_out, "/signin"), (signed_out, "/signin?next=/cis")]
        # Pages a viewer may not open: the "not allowed" page.
        walked += [(viewer, url) for url in ("/impact", "/maintenance/" + "x" * 3 + "/check/" + PC)]
        for client, url in walked:
            words = _english_left(client, url, allowed)
            if words:
                left[url] = sorted(words) if isinstance(words, set) else words
    assert left == {}, f"English words left on the pages in {language}: {left}"
