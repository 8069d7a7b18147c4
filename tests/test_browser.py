"""The pages in a real browser: Debian's chromium driven by Playwright, on a phone-sized screen.

The app runs as a live uvicorn server in a thread of this process, on the test's graph.
Screenshots of the key pages go to tests/artifacts/ (or $CMDB_TEST_ARTIFACTS). The layout
tests open the impact, audit and scan pages on a laptop and a phone screen, check in the page
that no element sticks out of the viewport or out of its parent, and keep a screenshot of each.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from cmdb.api.app import create_app
from cmdb.graph import CIInput, Link
from cmdb.graph.tokens import create_token
from tests.serve_support import app_on_loopback
from tests.web_support import XSS_NAME

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("CMDB_TEST_ARTIFACTS") or Path(__file__).parent / "artifacts")
PHONE = {"width": 360, "height": 740}
SCREENS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
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


@pytest.fixture
def live_server(embedded_graph, embedded_settings):
    with app_on_loopback(create_app(embedded_settings, graph=embedded_graph), "live-server") as port:
        yield f"http://127.0.0.1:{port}"


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
    # As a handheld scanner does: the room's tag, then at once ArrowDown and Enter, without
    # waiting for the list to catch up with the text (the picker searches first, then acts).
    picker.type(room)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#scan-tag")).to_be_focused()
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
    page.get_by_role("textbox", name="Note").fill("fan noise")
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




# --- layout on a laptop and a phone ----------------------------------------------------------

# Every visible element inside the viewport's width and inside its parent's box, and no box
# whose content is wider than itself. Elements inside a container that scrolls on purpose
# (overflow auto/scroll: wide tables) are judged against that container only.
OVERFLOW_JS = """() => {
  const viewport = document.documentElement.clientWidth;
  const style = e => getComputedStyle(e);
  const scrolls = e => ['auto', 'scroll'].includes(style(e).overflowX);
  const describe = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
      + (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
      + ' "' + (e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40) + '"';
  const box = r => `[${Math.round(r.left)}, ${Math.round(r.top)}, ${Math.round(r.right)}, ${Math.round(r.bottom)}]`;
  // the "visually hidden" pattern: text for screen readers in a 1px box clipped away
  const hiddenOnPurpose = e => {
    for (let a = e; a && a !== document.body; a = a.parentElement) {
      if (style(a).position === 'absolute' && style(a).clip !== 'auto') return true;
    }
    return false;
  };
  const problems = [];
  for (const e of document.body.querySelectorAll('*')) {
    if (['SCRIPT', 'STYLE', 'TITLE', 'BR', 'OPTION'].includes(e.tagName.toUpperCase())) continue;
    if (e.closest('defs, marker') || hiddenOnPurpose(e)) continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;  // not drawn, or an empty line
    if (!e.checkVisibility({visibilityProperty: true})) continue;  // e.g. inside a closed <details>
    let scroller = null;
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (scrolls(a)) { scroller = a; break; }
    }
    if (!scroller && (r.left < -0.5 || r.right > viewport + 0.5)) {
      problems.push(`${describe(e)} ${box(r)} sticks out of the ${viewport}px viewport`);
    }
    const parent = e.parentElement;
    const position = style(e).position;
    if (parent && parent !== document.body && !scrolls(parent) && !['absolute', 'fixed'].includes(position)) {
      const p = parent.getBoundingClientRect();
      if (r.left < p.left - 1 || r.right > p.right + 1 || r.top < p.top - 1 || r.bottom > p.bottom + 1) {
        problems.push(`${describe(e)} ${box(r)} is outside its parent ${describe(parent)} ${box(p)}`);
      }
    }
    // (a text field scrolls its own text: the picker shows the whole choice under it)
    if (e instanceof HTMLElement && !scrolls(e) && style(e).display !== 'inline'
        && !['INPUT', 'TEXTAREA', 'SELECT'].includes(e.tagName)
        && e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1) {
      problems.push(`${describe(e)}: its content is ${e.scrollWidth}px wide in a ${e.clientWidth}px box`);
    }
  }
  return problems;
}"""


def nothing_overflows(page) -> None:
    problems = page.evaluate(OVERFLOW_JS)
    assert problems == [], f"{page.url}:\n" + "\n".join(problems[:30])


def keys_unbroken(page) -> int:
    """Every key shown as a key stays on one line (never split at its hyphen); how many."""
    lines = page.evaluate("""() => [...document.querySelectorAll('main .key')]
        .filter(e => e.checkVisibility()).map(e => [e.textContent, e.getClientRects().length])""")
    assert [key for key, n in lines if n != 1] == []
    return len(lines)


@pytest.fixture
def screens(browser):
    """A page on each screen, by name ("laptop", "phone")."""
    contexts, pages = [], {}
    for name, viewport in SCREENS.items():
        phone_like = name == "phone"
        context = browser.new_context(viewport=viewport, device_scale_factor=2 if phone_like else 1,
                                      is_mobile=phone_like, has_touch=phone_like)
        page = context.new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.js_errors = errors  # type: ignore[attr-defined]
        contexts.append(context)
        pages[name] = page
    yield pages
    for context in contexts:
        context.close()


def sign_in_quietly(page, base: str, token: str, next_path: str) -> None:
    page.goto(f"{base}/signin?next={next_path}")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(base + next_path) + "$"))


# Each box of the impact picture holds its two texts, and the drawing holds everything.
PICTURE_JS = """() => {
  const svg = document.documentElement;
  const [x0, y0, width, height] = svg.getAttribute('viewBox').split(' ').map(Number);
  const problems = [];
  const inside = (b, o) => b.x >= o.x - 0.5 && b.y >= o.y - 0.5
      && b.x + b.width <= o.x + o.width + 0.5 && b.y + b.height <= o.y + o.height + 0.5;
  for (const g of svg.querySelectorAll('g')) {
    const rect = g.querySelector('rect').getBBox();
    for (const t of g.querySelectorAll('text')) {
      if (!inside(t.getBBox(), rect)) problems.push(`"${t.textContent}" is wider than its box`);
    }
  }
  for (const e of svg.querySelectorAll('text, rect, path')) {
    if (e.closest('defs')) continue;
    if (!inside(e.getBBox(), {x: x0, y: y0, width, height})) problems.push(`${e.tagName} "${e.textContent}" is cut off`);
  }
  return {problems, boxes: svg.querySelectorAll('g').length};
}"""


def test_impact_page_on_a_laptop_and_a_phone(live_server, screens, demo):
    from cmdb.impact.service import impact

    page, graph = screens["laptop"], demo["graph"]
    token = create_token(graph, "reviewer", "reviewer", created_by="test")
    sign_in_quietly(page, live_server, token, "/impact?keys=A-101")
    result = impact(graph, ["A-101"])
    nothing_overflows(page)
    picture = page.locator("#impact-picture")
    picture.wait_for()
    assert page.evaluate("document.getElementById('impact-picture').complete")
    frame = page.evaluate("""() => { const i = document.getElementById('impact-picture');
        return [i.getBoundingClientRect().width, i.parentElement.clientWidth, i.naturalWidth]; }""")
    assert 0 < frame[0] <= frame[1], f"the picture ({frame[0]}px) is wider than its frame ({frame[1]}px)"
    # each affected CI is listed once on the page, in the table
    assert keys_unbroken(page) > len(result["affected"])
    listed = page.locator("main a.key").all_inner_texts()
    assert sorted(listed) == sorted(a["key"] for a in result["affected"][:500])
    shoot(page, "laptop-impact")

    phone = screens["phone"]  # on a phone the picture shrinks to the screen, the table turns into cards
    sign_in_quietly(phone, live_server, token, "/impact?keys=A-101")
    nothing_overflows(phone)
    assert keys_unbroken(phone) > len(result["affected"])
    shoot(phone, "phone-impact")

    page.goto(live_server + page.locator("#impact-picture").get_attribute("src"))
    drawn = page.evaluate(PICTURE_JS)
    assert drawn["problems"] == []
    assert drawn["boxes"] == min(300, 1 + len(result["affected"]))
    page.screenshot(path=str(ARTIFACTS / "laptop-impact-picture.png"))  # an SVG document: no full_page
    assert page.js_errors == []


def test_audit_page_on_a_laptop_and_a_phone(live_server, screens, demo):
    from cmdb.audit.service import close_campaign, reconcile_campaign, record_scan
    from cmdb.settings import Settings

    graph, campaign = demo["graph"], demo["campaign"]
    token = create_token(graph, "auditor", "auditor", created_by="test")
    found = demo["expected"][:3]
    for entry in found:
        record_scan(graph, campaign.id, entry["key"], "A-101", actor="test", source="scan_page")
    record_scan(graph, campaign.id, "STRAY-0001", "A-101", actor="test", source="scan_page")
    missing = reconcile_campaign(graph, campaign.id)["missing"]
    assert len(missing) > 20  # long enough to start folded
    url = f"/audits/{campaign.id}"

    for name, page in screens.items():
        sign_in_quietly(page, live_server, token, url)
        root = page.locator("#audit")
        assert root.get_attribute("data-polling") == "on"
        assert page.locator("#updated").inner_text() in ("Updates every few seconds.",) \
            or page.locator("#updated").inner_text().startswith("Updated ")
        # chart labels: readable, never larger than the page title, nothing cut off
        sizes = page.evaluate("""() => [parseFloat(getComputedStyle(document.querySelector('h1')).fontSize),
            Math.max(...[...document.querySelectorAll('#chart .bar-label')].map(e => parseFloat(getComputedStyle(e).fontSize)))]""")
        assert 12 <= sizes[1] < sizes[0], f"chart labels {sizes[1]}px, title {sizes[0]}px"
        labels = page.locator("#chart .bar-label").all_inner_texts()
        assert {"Shanghai HQ 上海总部 › Building A", "Shanghai HQ 上海总部 › Building B"} <= set(labels)
        nothing_overflows(page)
        shoot(page, f"{name}-audit")

        # "Missing" is folded behind a visible control that says it opens
        control = page.locator("#section-missing > summary")
        assert control.locator(".show-list").is_visible()
        assert page.locator("#list-missing").is_hidden()
        control.click()
        assert page.locator("#list-missing").is_visible()
        assert control.locator(".hide-list").is_visible() and control.locator(".show-list").is_hidden()
        assert keys_unbroken(page) >= len(missing[:200])
        shown = {t.split()[0] for t in page.locator("#list-missing li").all_inner_texts()}
        assert shown == {e["key"] for e in missing[:200]}
        nothing_overflows(page)
        page.screenshot(path=str(ARTIFACTS / f"{name}-audit-missing-open.png"))
        assert page.js_errors == []

    close_campaign(graph, campaign, actor="test", settings=Settings())
    for name, page in screens.items():  # the open pages notice, say so and stop polling
        page.locator("#audit[data-polling=off]").wait_for()
        assert page.locator("#updated").inner_text() == \
            "This campaign has been closed: reload the page for its final figures."
    for name, page in screens.items():
        page.goto(live_server + url)
        assert page.locator("#audit").get_attribute("data-polling") == "off"
        updated = page.locator("#updated").inner_text()
        assert updated.startswith("Closed ") and "no longer updates" in updated
        assert "every few seconds" not in page.locator("main").inner_text()
        assert page.locator(".status-closed").first.inner_text() == "Closed"
        nothing_overflows(page)
        shoot(page, f"{name}-audit-closed")
        assert page.js_errors == []


def test_scan_page_on_a_laptop_and_a_phone(live_server, screens, demo):
    key = demo["expected"][0]["key"]
    for name, page in screens.items():
        sign_in_quietly(page, live_server, demo["token"], f"/s/{key}")
        button = page.locator("#found-here")
        bottom = button.evaluate("b => b.getBoundingClientRect().bottom")
        assert bottom <= SCREENS[name]["height"], f"Found here ends at {bottom}px, below the fold"
        assert page.locator(".status-in_use").inner_text() == "In use"
        nothing_overflows(page)
        shoot(page, f"{name}-scan")
        assert page.js_errors == []


def test_found_here_on_a_missing_asset_says_what_to_do(live_server, screens, demo):
    graph = demo["graph"]
    key = demo["expected"][1]["key"]
    graph.update_ci(key, {"status": "missing"}, actor="test")
    auditor = create_token(graph, "auditor", "auditor", created_by="test")

    page = screens["phone"]  # an auditor may record scans but not change a status
    sign_in_quietly(page, live_server, auditor, f"/s/{key}")
    badge = page.locator(".status-missing")
    assert badge.inner_text() == "Missing"
    colours = badge.evaluate("b => getComputedStyle(b).backgroundColor")
    assert colours == "rgb(179, 38, 30)"  # red, not the grey of the other badges
    page.locator("#found-here").click()
    page.wait_for_url(re.compile(r"done=found"))
    hint = page.locator("#missing-hint").inner_text()
    assert "still says missing" in hint and "ask asset staff, a registrar or an administrator" in hint
    assert page.locator("#restore-status").count() == 0
    nothing_overflows(page)
    shoot(page, "phone-scan-missing-auditor")

    page = screens["laptop"]  # asset staff may set it back
    sign_in_quietly(page, live_server, demo["token"], f"/s/{key}")
    page.locator("#found-here").click()
    page.wait_for_url(re.compile(r"done=found"))
    assert "still says missing" in page.locator("#missing-hint").inner_text()
    nothing_overflows(page)
    shoot(page, "laptop-scan-missing")
    page.get_by_role("button", name="Set its status back to In use").click()
    page.wait_for_url(re.compile(r"done=restored"))
    assert page.locator("[role=status]").inner_text() == "Status set back to In use."
    assert page.locator(".status-in_use").inner_text() == "In use"
    assert page.locator("#missing-hint").count() == 0
    assert graph.get_ci(key).properties["status"] == "in_use"
    history, _ = graph.history(key)
    assert history[0].source == "scan page: found again, status set back from missing"
    assert page.js_errors == []
