"""The pages in a real browser: Debian's chromium driven by Playwright, on a phone-sized screen.

The app runs as a live uvicorn server in a thread of this process, on the test's graph.
Screenshots of the key pages go to tests/artifacts/.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from cmdb.api.app import create_app
from cmdb.graph import CIInput, Link
from cmdb.graph.tokens import create_token
from tests.web_support import XSS_NAME

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
PHONE = {"width": 360, "height": 740}
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# Read when the module is collected: the session fixtures clear CMDB_* variables afterwards.
SKIP_BROWSER = os.environ.get("CMDB_SKIP_BROWSER") == "1"


def _require_browser(skip: bool | None = None) -> None:
    if SKIP_BROWSER if skip is None else skip:
        pytest.skip("CMDB_SKIP_BROWSER=1: browser tests switched off explicitly")
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) "
                    "or set CMDB_SKIP_BROWSER=1 to skip the browser tests on purpose", pytrace=False)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("Playwright for Python is missing: pip install playwright (its own browser "
                    "download is not needed; the tests use /usr/bin/chromium)", pytrace=False)


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield b
        b.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(embedded_graph, embedded_settings):
    import uvicorn

    port = _free_port()
    app = create_app(embedded_settings, graph=embedded_graph)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive(), "the live server stopped during start-up"
        assert time.monotonic() < deadline, "the live server did not start within 15 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.js_errors = errors  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture
def demo(embedded_graph):
    """The demo estate, an asset staff token, and an open campaign for the Shanghai site."""
    from cmdb.audit.service import reconcile_campaign, start_campaign
    from cmdb.demo import load_demo

    load_demo(embedded_graph, actor="test")
    token = create_token(embedded_graph, "walker", "asset_staff", created_by="test")
    campaign = start_campaign(embedded_graph, "Autumn inventory", scope=["SH-HQ"], actor="test")
    expected = reconcile_campaign(embedded_graph, campaign.id)["missing"]
    return {"graph": embedded_graph, "token": token, "campaign": campaign, "expected": expected}


def shoot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, base: str, token: str, next_path: str) -> None:
    page.goto(f"{base}{next_path}")
    assert "/signin" in page.url
    shoot(page, "01-signin")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(base + next_path) + "$"))


def fits_the_screen(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide on a {PHONE['width']}px screen"
    small = page.evaluate("""() => [...document.querySelectorAll('button, input:not([type=hidden]), select, .button')]
        .filter(e => e.offsetParent !== null)
        .map(e => [e.id || e.name || e.textContent.trim(), e.getBoundingClientRect()])
        .filter(([n, r]) => r.height < 44 && !(r.width <= 24 && r.height <= 24))
        .map(([n, r]) => n + ':' + Math.round(r.height))""")
    assert small == [], f"touch targets under 44px on {page.url}: {small}"


def test_scan_found_here_and_watch_the_campaign(live_server, phone, demo):
    page, campaign = phone, demo["campaign"]
    asset = demo["expected"][0]
    key = asset["key"]
    sign_in(page, live_server, demo["token"], f"/s/{key}")
    assert page.locator("h1").first.inner_text().endswith(key)
    fits_the_screen(page)
    shoot(page, "02-scan-page")

    audit_url = f"{live_server}/audits/{campaign.id}"
    watcher = page.context.new_page()
    watcher.goto(audit_url)
    total = len(demo["expected"])
    assert watcher.locator("#verified-text").inner_text() == f"0 of {total} expected assets"

    page.get_by_role("button", name="Found here").click()
    page.wait_for_url(re.compile(r"done=found"))
    assert "counted in 1 open campaign" in page.locator("[role=status]").inner_text()
    shoot(page, "03-found-here")

    # the open progress page picks the scan up by itself
    watcher.locator("#verified-text").filter(has_text=f"1 of {total} expected assets").wait_for()
    # Asset staff see the progress; the findings (missing, relocated, …) are for auditors, as in the API.
    assert watcher.locator("#list-missing").count() == 0
    fits_the_screen(watcher)
    shoot(watcher, "04-audit-progress")
    assert page.js_errors == []


def test_continuous_scanning_of_twenty_tags(live_server, phone, demo):
    page, campaign, graph = phone, demo["campaign"], demo["graph"]
    room = "A-101"
    known = [a["key"] for a in demo["expected"]][:18]
    tags = known[:9] + ["STRAY-0001"] + known[9:] + ["STRAY-0002"]
    assert len(tags) == 20
    sign_in(page, live_server, demo["token"], f"/audits/{campaign.id}")

    picker = page.get_by_label("Scanning in")
    picker.click()
    picker.type(room)
    page.locator("#scan-location-list button").filter(has_text=f"({room})").wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "scan-tag"
    assert page.locator("#scan-location").input_value() == room

    for tag in tags:  # a handheld scanner: characters then Enter, no mouse
        page.keyboard.type(tag)
        page.keyboard.press("Enter")
    page.locator("#scan-log li").nth(19).wait_for()
    assert page.evaluate("document.activeElement.id") == "scan-tag"
    logged = page.locator("#scan-log li")
    ok = {logged.nth(i).inner_text() for i in range(20) if "ok" in logged.nth(i).get_attribute("class")}
    bad = {logged.nth(i).inner_text() for i in range(20) if "unknown" in logged.nth(i).get_attribute("class")}
    assert {t.split()[0] for t in ok} == set(known)
    assert {t.split(":")[0] for t in bad} == {"STRAY-0001", "STRAY-0002"}
    shoot(page, "05-continuous-scanning")

    from cmdb.audit.service import reconcile_campaign
    result = reconcile_campaign(graph, campaign.id)
    verified = {e["key"] for c in ("found", "relocated") for e in result[c]}
    assert verified == set(known)
    assert {e["key"] or e["tag"] for e in result["unexpected"]} == {"STRAY-0001", "STRAY-0002"}
    page.locator("#verified-text").filter(has_text="18 of").wait_for()
    assert page.locator("#list-unexpected").count() == 0   # findings are for auditors
    assert page.js_errors == []


def test_xss_name_shows_as_text(live_server, phone, embedded_graph):
    embedded_graph.upsert_cis_atomically(
        [CIInput("R1", "Location", {"name": "Room <script>alert(2)</script>", "type": "room"}),
         CIInput("HW-X", "Hardware", {"name": XSS_NAME, "category": "pc", "status": "in_use"})],
        [Link("HW-X", "LOCATED_IN", "R1")], actor="test")
    token = create_token(embedded_graph, "looker", "admin", created_by="test")
    page = phone
    sign_in(page, live_server, token, "/s/HW-X")
    assert page.locator("[data-field=name]").inner_text() == XSS_NAME
    assert page.locator("img[src=x]").count() == 0
    assert "Room <script>alert(2)</script>" in page.locator("main").inner_text()
    shoot(page, "06-xss-scan-page")
    page.goto(f"{live_server}/cis?q=HW-X")
    assert page.locator("#results [data-field=name]").inner_text() == XSS_NAME
    # the location picker draws names from JSON: still text
    page.goto(f"{live_server}/s/HW-X")
    field = page.get_by_label("Where it is", exact=True)
    field.fill("")
    field.type("Room")
    option = page.locator("#found-location-list button").first
    option.wait_for()
    assert "<script>alert(2)</script>" in option.inner_text()
    shoot(page, "06b-location-picker")
    page.goto(f"{live_server}/impact?keys=R1")
    assert page.locator("#affected").filter(has_text=XSS_NAME).count() == 1
    assert page.locator("img[src=x]").count() == 0
    fits_the_screen(page)
    shoot(page, "07-impact")
    assert page.dialogs == []
    assert page.js_errors == []


def test_pages_fit_a_phone(live_server, phone, demo):
    page = phone
    token = create_token(demo["graph"], "boss", "admin", created_by="test")
    sign_in(page, live_server, token, "/")
    for path, name in (("/", "08-home"), ("/cis", "09-cis"), ("/cis/SH-HQ-A", "10-ci-detail"),
                       ("/s/UNKNOWN-TAG-1", "11-unknown-tag"), ("/audits", "12-audits"),
                       ("/impact?keys=SRV-001", "13-impact-server")):
        page.goto(live_server + path)
        fits_the_screen(page)
        shoot(page, name)
    page.goto(live_server + "/s/SRV-001")
    page.get_by_text("Report a problem", exact=True).click()
    page.get_by_label("Damaged").check()
    fits_the_screen(page)
    shoot(page, "14-report-problem")
    page.get_by_label("Note").fill("fan noise")
    page.get_by_role("button", name="Report problem").click()
    page.wait_for_url(re.compile(r"done=problem"))
    assert "Problem reported" in page.locator("[role=status]").inner_text()
    history, _ = demo["graph"].history("SRV-001")
    assert history[0].source.startswith("problem reported: Damaged — fan noise (at ")
    assert page.js_errors == []


def test_browser_is_required_unless_skipped_on_purpose(monkeypatch):
    """Without chromium the browser tests fail with a message, unless skipped explicitly."""
    monkeypatch.setattr(os.path, "exists", lambda p: False if p == CHROMIUM else os.path.lexists(p))
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        _require_browser(skip=False)
    with pytest.raises(pytest.skip.Exception, match="CMDB_SKIP_BROWSER=1"):
        _require_browser(skip=True)


