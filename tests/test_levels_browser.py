"""A fault from the scan page to the customer's signature, in Debian's chromium on a phone
screen against a live uvicorn server, on a fixed timeline across the Mid-autumn holiday.

A VIP application's server (7×24): reported Thursday 2026-09-24 16:30, dispatched 17:00,
engineer on site Friday 09:00 (a public holiday), resolved Monday 10:00 after the weekend,
signed off Tuesday 11:00. Its clocks count every hour; a standard-level printer reported at
the same moment counts only Chinese working hours, so the holiday and weekend do not count.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from cmdb.faults import service as faults
from cmdb.graph.tokens import create_token
from cmdb.levels import service as levels
from cmdb.levels.hours import CHINA
from cmdb.policy import Caller
from tests.test_browser import ARTIFACTS, browser, fits_the_screen, live_server, phone, shoot, sign_in  # noqa: F401

pytestmark = pytest.mark.browser


def cst(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHINA)


@pytest.fixture
def vip_estate(embedded_graph):
    from cmdb.demo import load_demo

    load_demo(embedded_graph, actor="test")
    levels.install_defaults(embedded_graph, Caller("setup", "admin"))
    erp_hosts = sorted(r["key"] for r in embedded_graph.relationships("APP-ERP")
                       if r["type"] == "RUNS_ON" and r["direction"] == "out")
    return {"graph": embedded_graph, "server": erp_hosts[0],
            "reporter": create_token(embedded_graph, "Wang Fang", "asset_staff", created_by="test"),
            "engineer": create_token(embedded_graph, "Li Wei", "engineer", created_by="test")}


def step(page, form: str, when: str, **fields: str) -> None:
    for name, value in fields.items():
        page.locator(f"#{form} [name={name}]").fill(value)
    page.locator(f"#{form} [name=when]").fill(when)
    page.locator(f"#{form} button[type=submit]").click()
    page.wait_for_url(re.compile(r"done="))


def test_a_vip_fault_from_the_scan_page_to_sign_off(live_server, phone, browser, vip_estate):
    graph, server = vip_estate["graph"], vip_estate["server"]
    page = phone
    sign_in(page, live_server, vip_estate["reporter"], f"/s/{server}")
    assert page.locator("[data-field=service-level]").inner_text() == "VIP"
    assert re.search(r"(?i)application .* is vip", page.locator("#service-reason").inner_text())
    page.locator("#fault-details summary").click()
    page.locator("#fault-title").fill("ERP server unreachable")
    page.locator("#fault-form input[name=severity][value=A]").check()
    page.locator("#fault-when").fill("2026-09-24T16:30")
    fits_the_screen(page)
    page.locator("#open-fault").click()
    page.wait_for_url(re.compile(r"/faults/F-202609-0001\?done=opened"))
    assert page.locator("[data-field=level]").inner_text().startswith("VIP (7×24")
    # The asset staff who reported it cannot handle it.
    assert page.locator("#assign-form").count() == 0

    engineer = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                   has_touch=True).new_page()
    sign_in(engineer, live_server, vip_estate["engineer"], "/faults/F-202609-0001")
    step(engineer, "assign-form", "2026-09-24T17:00", engineer="Li Wei")
    step(engineer, "arrive-form", "2026-09-25T09:00")
    step(engineer, "note-form", "2026-09-25T09:40", text="Replaced the failed power supply")
    step(engineer, "resolve-form", "2026-09-28T10:00", resolution="PSU replaced, services back",
         observe_hours="24")
    # Signing off during the observation period is refused, with the reason shown.
    engineer.locator("#signed_by").fill("Zhao Min")
    engineer.locator("#close-form [name=when]").fill("2026-09-28T12:00")
    engineer.locator("#close-form button[type=submit]").click()
    assert "under observation until" in engineer.locator("body").inner_text()
    engineer.go_back()
    engineer.reload()
    engineer.locator("#signed_by").fill("Zhao Min")
    pad = engineer.locator("#signature-pad").bounding_box()
    engineer.mouse.move(pad["x"] + 20, pad["y"] + pad["height"] * 0.7)
    engineer.mouse.down()
    for i in range(1, 12):
        engineer.mouse.move(pad["x"] + 20 + i * pad["width"] / 14,
                            pad["y"] + pad["height"] * (0.7 - 0.4 * (i % 2)))
    engineer.mouse.up()
    step(engineer, "close-form", "2026-09-29T11:00")
    assert engineer.locator("[data-field=signed]").inner_text().startswith("Zhao Min")
    assert engineer.locator("#signature-image").evaluate("img => img.naturalWidth") == 600
    assert [t.split(": ", 1)[1] for t in engineer.locator("#fault-history li").all_inner_texts()] == [
        "reported", "assigned", "on site", "noted an action", "resolved", "signed off"]
    shoot(engineer, "fault-signed-off")
    states = {row.get_attribute("data-clock"): row.locator(".clock").inner_text()
              for row in engineer.locator("#clocks dd").all()}
    assert states == {"response": "met", "arrival": "breached", "resolution": "breached"}

    fault = faults.get(graph, "F-202609-0001", cst(2026, 10, 1, 0, 0))
    r = fault.record
    assert (r["status"], r["reported_via"], r["reported_by"], r["severity"], r["level_id"], r["keys"]) == (
        "closed", "scan", "Wang Fang", "A", "vip", [server])
    assert (r["reported_at"], r["assigned_at"], r["arrived_at"], r["resolved_at"], r["signed_at"]) == (
        "2026-09-24T08:30:00.000000Z", "2026-09-24T09:00:00.000000Z", "2026-09-25T01:00:00.000000Z",
        "2026-09-28T02:00:00.000000Z", "2026-09-29T03:00:00.000000Z")
    assert {n: (c["state"], c["elapsed_minutes"], c["due_at"]) for n, c in fault.clocks.items()} == {
        "response": ("met", 30, "2026-09-24T09:30:00Z"),
        "arrival": ("breached", 16.5 * 60, "2026-09-24T09:30:00Z"),
        "resolution": ("breached", (3 * 24 + 17.5) * 60, "2026-09-24T10:30:00Z")}
    png = faults.signature_png(graph, "F-202609-0001")
    assert png.startswith(b"\x89PNG") and len(png) < faults.SIGNATURE_MAX_BYTES
    (ARTIFACTS / "fault-signature.png").write_bytes(png)
    history = faults.history(graph, "F-202609-0001")
    assert [(h["actor"], h["action"]) for h in history] == [("Wang Fang", "create")] + [("Li Wei", "update")] * 5

    # The same timeline on a standard (5×8) printer: the holiday and the weekend do not count.
    printer = next(ci.key for ci in graph.list_cis(kind="Hardware", limit=500).items
                   if ci.properties.get("category") == "printer")
    assert levels.applicable_level(graph, printer).level.id == "standard"
    engineer_caller = Caller("Li Wei", "engineer")
    std = faults.open_fault(graph, Caller("Wang Fang", "asset_staff"), keys=[printer], title="jam",
                            severity="C", reported_by="Wang Fang", reported_via="phone",
                            at=cst(2026, 9, 24, 16, 30))
    faults.assign(graph, engineer_caller, std.id, engineer="Li Wei", at=cst(2026, 9, 28, 9, 30))
    faults.resolve(graph, engineer_caller, std.id, resolution="cleared", at=cst(2026, 9, 28, 11, 0))
    std = faults.get(graph, std.id, cst(2026, 10, 1, 0, 0))
    assert {n: (c["state"], c["elapsed_minutes"], c["due_at"]) for n, c in std.clocks.items()} == {
        "response": ("met", 60, "2026-09-28T02:30:00Z"),   # Thursday 30 min + Monday 30 min
        "arrival": ("met", 150, "2026-09-28T04:30:00Z"),
        "resolution": ("met", 150, "2026-09-28T04:30:00Z")}

    # The monthly report lists the VIP fault's breaches, and nothing of the printer's.
    from cmdb.reports.data import build, period_of
    from cmdb.reports.render import render

    report = build(graph, period_of("month", "2026-09"), None, now=cst(2026, 11, 1, 0, 0))
    assert {(b["id"], b["clock"], b["level"]) for b in report.breaches} == {
        ("F-202609-0001", "arrival", "VIP"), ("F-202609-0001", "resolution", "VIP")}
    page = render(report, "html", "en").decode()
    assert page.count("F-202609-0001") >= 3 and "on-site arrival" in page
