"""The scan page's warranty badge and "Faulty" report in a real browser (Debian's chromium),
on the demo estate; screenshots go to tests/artifacts/ (or $CMDB_TEST_ARTIFACTS)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from cmdb.demo import load_demo
from cmdb.graph.tokens import create_token
from cmdb.i18n import use_language
from cmdb.i18n.formats import format_date
from tests.test_browser import browser, fits_the_screen, live_server, phone, shoot, sign_in_quietly  # noqa: F401

pytestmark = pytest.mark.browser


def test_scan_page_badge_and_repair_from_the_phone(embedded_graph, live_server, phone):  # noqa: F811
    today = dt.date.today()
    load_demo(embedded_graph, actor="demo", today=today)
    token = create_token(embedded_graph, "phone-staff", "asset_staff")
    sign_in_quietly(phone, live_server, token, "/s/PC-0002")
    badge = phone.locator("#warranty .badge")
    with use_language("en"):
        until = format_date(today + dt.timedelta(days=400))
    assert badge.inner_text() == f"In warranty until {until}"
    fits_the_screen(phone)
    shoot(phone, "service-scan-in-warranty")
    phone.goto(f"{live_server}/s/CAM-001")
    assert phone.locator("#warranty .badge").inner_text() == "Out of warranty"
    shoot(phone, "service-scan-out-of-warranty")

    phone.goto(f"{live_server}/s/PC-0002")
    phone.locator("summary", has_text="Report a problem").click()
    phone.get_by_label("Faulty: open a repair order 报修").check()
    phone.get_by_label("Note (for a fault: what is wrong)").fill("屏幕不亮 screen stays dark")
    phone.get_by_role("button", name="Report problem").click()
    phone.wait_for_url(re.compile(r"/repairs/RO-[0-9]{8}-[0-9a-f]{6}\?done=opened$"))
    assert "屏幕不亮 screen stays dark" in phone.content()
    assert phone.locator("#repair-warranty").inner_text().startswith("In warranty until")
    fits_the_screen(phone)
    shoot(phone, "service-repair-opened")
    assert phone.js_errors == []
