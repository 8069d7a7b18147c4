"""Maintenance rounds over a demo room through the pages on a live uvicorn server: pass or
fail per checklist item for each device scanned, a failed item opening a fault record;
schedules and overdue rounds."""

from __future__ import annotations

import datetime as dt
import json
import re

import httpx
import pytest

from cmdb.api.app import create_app
from cmdb.demo import load_demo
from cmdb.errors import Conflict, InvalidInput, PermissionDenied
from cmdb.faults import service as faults
from cmdb.graph.tokens import create_token
from cmdb.levels.hours import CHINA
from cmdb.maintenance import service
from cmdb.policy import Caller
from tests.serve_support import app_on_loopback
from tests.web_support import csrf_from, sign_in

ENGINEER = Caller("Li Wei", "engineer")


@pytest.fixture
def demo_room(embedded_graph):
    load_demo(embedded_graph, actor="test")
    printer = next(ci for ci in embedded_graph.list_cis(kind="Hardware", limit=500).items
                   if ci.properties.get("category") == "printer" and embedded_graph.location_path(ci.key))
    room = embedded_graph.location_path(printer.key)[-1]["key"]
    return embedded_graph, room


def test_a_round_over_a_demo_room_through_the_pages(demo_room, embedded_settings):
    graph, room = demo_room
    started = service.start_round(graph, ENGINEER, "September cleaning", scope=[room],
                                  at=dt.datetime(2026, 9, 21, 9, 0, tzinfo=CHINA))
    devices = started.expected
    categories = {d["category"] for d in devices}
    assert "printer" in categories and len(devices) >= 2
    token = create_token(graph, "Li Wei", "engineer", created_by="test")
    with app_on_loopback(create_app(embedded_settings, graph=graph), "rounds") as port, \
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        sign_in(client, token)
        failing = {}
        for n, device in enumerate(devices):
            page = client.get(f"/maintenance/{started.id}/check/{device['key']}")
            assert page.status_code == 200, page.text
            items = service.checklist_for(started.checklists, device["category"])
            assert re.findall(r"<legend>(.*?)</legend>", page.text) == [i.replace("'", "&#39;") for i in items]
            form = {"csrf_token": csrf_from(page.text)}
            for i, _ in enumerate(items):
                form[f"item-{i}"] = "pass"
            if n == 0:   # the first device fails its last item
                form[f"item-{len(items) - 1}"] = "fail"
                form[f"note-{len(items) - 1}"] = "fan very dusty"
                failing = {"key": device["key"], "index": len(items) - 1, "item": items[-1]}
            posted = client.post(f"/maintenance/{started.id}/check/{device['key']}", data=form,
                                 follow_redirects=True)
            assert posted.status_code == 200 and "Check recorded." in posted.text
        # One tap on the failed item opens a fault record on the device.
        check_page = client.get(f"/maintenance/{started.id}/check/{failing['key']}")
        assert f"Open a fault: {failing['item']}" in check_page.text
        opened = client.post(f"/maintenance/{started.id}/check/{failing['key']}/fault/{failing['index']}",
                             data={"csrf_token": csrf_from(check_page.text)}, follow_redirects=True)
        assert opened.status_code == 200 and "Fault record opened." in opened.text
        progress = client.get(f"/maintenance/{started.id}")
        assert f"{len(devices)} of {len(devices)} devices checked; 1 with failed items" in progress.text
        # Incomplete marks are refused, naming the item.
        page = client.get(f"/maintenance/{started.id}/check/{devices[1]['key']}")
        refused = client.post(f"/maintenance/{started.id}/check/{devices[1]['key']}",
                              data={"csrf_token": csrf_from(page.text), "item-0": "pass"})
        assert refused.status_code == 422 and "pass or fail" in refused.text

    done = service.get_round(graph, started.id)
    assert {k: c["failed_items"] for k, c in done.checks.items()} == {
        d["key"]: (1 if d["key"] == failing["key"] else 0) for d in devices}
    for key, check in done.checks.items():
        results = json.loads(check["results"])
        device = next(d for d in devices if d["key"] == key)
        assert [r["item"] for r in results] == service.checklist_for(started.checklists, device["category"])
        assert check["by"] == "Li Wei"
    [finding] = done.findings()
    fault = faults.get(graph, finding["fault"], dt.datetime.now(dt.timezone.utc))
    assert (finding["key"], finding["item"], finding["note"]) == (failing["key"], failing["item"], "fan very dusty")
    assert (fault.record["keys"], fault.record["reported_via"], fault.record["title"]) == (
        [failing["key"]], "maintenance", f"Maintenance: {failing['item']}")
    # A second tap finds the same fault record, not a new one.
    again = service.open_fault_for_item(graph, ENGINEER, started.id, failing["key"], failing["index"],
                                        at=dt.datetime.now(dt.timezone.utc))
    assert again.id == fault.id and len(faults.list_faults(graph, dt.datetime.now(dt.timezone.utc))) == 1


def test_round_rules_and_schedules(demo_room):
    graph, room = demo_room
    at = dt.datetime(2026, 7, 10, 9, 0, tzinfo=CHINA)
    with pytest.raises(PermissionDenied):
        service.start_round(graph, Caller("v", "viewer"), "x", scope=[room], at=at)
    with pytest.raises(InvalidInput, match="scope"):
        service.start_round(graph, ENGINEER, "x", scope=[], at=at)
    r = service.start_round(graph, ENGINEER, "July", scope=[room], at=at)
    with pytest.raises(Conflict, match="not among the devices"):
        service.record_check(graph, ENGINEER, r.id, "SH-HQ", results=[], at=at)
    device = r.expected[0]
    with pytest.raises(InvalidInput, match="items to check"):
        service.record_check(graph, ENGINEER, r.id, device["key"], results=[(True, "")], at=at)
    service.close_round(graph, ENGINEER, r.id, at=at)
    with pytest.raises(Conflict, match="closed"):
        service.record_check(graph, ENGINEER, r.id, device["key"],
                             results=[(True, "")] * len(service.checklist_for(r.checklists, device["category"])), at=at)

    service.add_schedule(graph, ENGINEER, "Room cleaning", scope=room, frequency="monthly",
                         at=dt.datetime(2026, 6, 1, tzinfo=CHINA))
    service.add_schedule(graph, ENGINEER, "Site check", scope="SH-HQ", frequency="quarterly",
                         at=dt.datetime(2026, 6, 1, tzinfo=CHINA))
    status = {s["id"]: (s["done_this_period"], s["overdue"], s["due"])
              for s in service.schedule_status(graph, dt.date(2026, 8, 20))}
    # The room had its July round, not yet August's; the site had no round last quarter.
    assert status == {f"{room}:monthly": (False, False, "2026-08-31"),
                      "SH-HQ:quarterly": (False, True, "2026-09-30")}
    status = {s["id"]: s["overdue"] for s in service.schedule_status(graph, dt.date(2026, 9, 2))}
    assert status == {f"{room}:monthly": True, "SH-HQ:quarterly": True}
