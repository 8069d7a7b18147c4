"""The whole service story on the demo estate, over a live server: a PC under warranty
breaks, a repair is opened from its scan page, the warranty is answered with its contract, a
spare is issued and placed, the unit is sent out, a progress note is written, the return
becomes overdue (on an injected day, no waiting), the unit comes back and the spare is swapped
back; the histories of the PC, the spare and the repair order tell the story in order."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest

from cmdb.api.app import create_app
from cmdb.demo import load_demo
from cmdb.graph.tokens import create_token
from cmdb.i18n import use_language
from cmdb.i18n.formats import format_date
from cmdb.service.workdays import add_working_days
from tests.serve_support import app_on_loopback
from tests.web_support import csrf_from, sign_in

PC, SPARE, STORE, OFFICE = "PC-0002", "PC-0058", "A-B01", "A-301"
LENOVO = "LEN-WR-2024-0388"


@pytest.fixture
def live(embedded_graph, embedded_settings):
    today = dt.date.today()
    load_demo(embedded_graph, actor="demo", today=today)
    app = create_app(embedded_settings, graph=embedded_graph)
    with app_on_loopback(app, "service-story") as port:
        yield f"http://127.0.0.1:{port}", embedded_graph, today


def _events(graph, key):
    """(action, what) of a CI's or record's history, oldest first, from the repair on."""
    entries, _ = graph.history(key, limit=1000)
    out = []
    for e in reversed(entries):
        after, before = e.after or {}, e.before or {}
        if e.kind == "RepairOrder":
            out.append((e.action, after.get("status") or ("note" if "text" in after else "?")))
        elif e.action in ("repair", "spare"):
            out.append((e.action, after["event"]))
        elif e.action == "update" and "status" in after:
            out.append(("status", after["status"]))
        elif e.action in ("link", "unlink") and (after or before).get("type") in ("STANDS_IN_FOR", "LOCATED_IN"):
            link = after or before
            out.append((e.action, f"{link['type']} {link['to']}"))
    return out


def test_the_whole_story(live):
    base, graph, today = live
    staff = create_token(graph, "story-staff", "asset_staff")
    # A shared, loaded machine: allow slow answers (the first page also loads translations).
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {staff}"}, timeout=60)
    pages = httpx.Client(base_url=base, timeout=60)

    # The PC is under warranty: its scan page says so, with the contract's end.
    contract_end = (today + dt.timedelta(days=400)).isoformat()
    with use_language("en"):
        badge = f"In warranty until {format_date(contract_end)}"
    assert sign_in(pages, staff, f"/s/{PC}").status_code == 303
    scan = pages.get(f"/s/{PC}")
    assert scan.status_code == 200
    assert badge in scan.text and LENOVO in scan.text

    # It breaks: "Report a problem" on the scan page opens a repair order.
    opened = pages.post(f"/s/{PC}/problem", data={"csrf_token": csrf_from(scan.text),
                                                  "problem": "faulty", "note": "不开机 no power",
                                                  "location": ""}, follow_redirects=False)
    assert opened.status_code == 303, opened.text
    repair_id = re.fullmatch(r"/repairs/(RO-[0-9]{8}-[0-9a-f]{6})\?done=opened",
                             opened.headers["location"]).group(1)
    page = pages.get(opened.headers["location"])
    assert page.status_code == 200 and badge in page.text

    # Warranty answered with the contract, on the order and on its own.
    repair = api.get(f"/api/v1/repairs/{repair_id}").json()
    assert (repair["key"], repair["fault"], repair["status"], repair["under_warranty"],
            repair["contract"], repair["warranty_until"]) == (
        PC, "不开机 no power", "open", True, LENOVO, contract_end)
    warranty = api.get(f"/api/v1/cis/{PC}/warranty").json()
    assert warranty["contract"]["number"] == LENOVO and warranty["under_warranty"] is True
    assert api.get(f"/api/v1/cis/{PC}").json()["properties"]["status"] == "in_repair"

    # A spare of the same model is issued and placed where the PC was.
    issued = api.post("/api/v1/spares/issues", json={"repair": repair_id, "spare": SPARE})
    assert issued.status_code == 201, issued.text
    issue_id = issued.json()["id"]
    assert (issued.json()["from_location"], issued.json()["to_location"]) == (STORE, OFFICE)
    spare = api.get(f"/api/v1/cis/{SPARE}").json()
    assert spare["properties"]["status"] == "in_use"
    out_links = {(r["type"], r["key"]) for r in api.get(f"/api/v1/cis/{SPARE}/relationships").json()
                 if r["direction"] == "out"}
    assert {("STANDS_IN_FOR", PC), ("LOCATED_IN", OFFICE)} <= out_links
    slip = api.get(f"/api/v1/spares/issues/{issue_id}/slip.pdf")
    assert slip.status_code == 200 and slip.content.startswith(b"%PDF")

    # Sent out to the vendor: due back in 15 working days.
    sent = api.post(f"/api/v1/repairs/{repair_id}/send", json={"to": "Lenovo service centre"}).json()
    due_back = dt.date.fromisoformat(sent["due_back"])
    assert due_back == add_working_days(today, 15)

    # A progress note.
    noted = api.post(f"/api/v1/repairs/{repair_id}/notes", json={"text": "主板更换 mainboard ordered"})
    assert [n["text"] for n in noted.json()["notes"]] == ["主板更换 mainboard ordered"]

    # On its due day the return is not late; the day after it is, in the API and the page.
    def overdue_on(day: dt.date) -> dict:
        rows = api.get("/api/v1/repairs", params={"overdue": "true", "as_of": day.isoformat()}).json()
        return {r["id"]: r["overdue_reasons"] for r in rows}
    assert "return" not in overdue_on(due_back).get(repair_id, [])
    late = overdue_on(due_back + dt.timedelta(days=1))
    assert "return" in late[repair_id]
    assert overdue_on(today) == {}

    # Back from the vendor: the spare is swapped back to the store room.
    back = api.post(f"/api/v1/repairs/{repair_id}/return", json={"cost": 0})
    assert back.status_code == 200 and back.json()["status"] == "returned"
    spare = api.get(f"/api/v1/cis/{SPARE}").json()
    assert spare["properties"]["status"] == "in_stock"
    out_links = {(r["type"], r["key"]) for r in api.get(f"/api/v1/cis/{SPARE}/relationships").json()
                 if r["direction"] == "out"}
    assert ("STANDS_IN_FOR", PC) not in out_links and ("LOCATED_IN", STORE) in out_links
    assert api.get(f"/api/v1/spares/issues/{issue_id}").json()["returned_at"]
    closed = api.post(f"/api/v1/repairs/{repair_id}/close", json={"outcome": "repaired"})
    assert closed.json()["status"] == "closed"
    assert api.get(f"/api/v1/cis/{PC}").json()["properties"]["status"] == "in_use"

    # The histories tell the story in order.
    pc_events = _events(graph, PC)
    # Before the repair: only the demo's placing of it.
    assert pc_events[:1] == [("link", f"LOCATED_IN {OFFICE}")]
    assert pc_events[1:] == [
        ("repair", "opened"), ("status", "in_repair"),
        ("spare", "issued"),
        ("repair", "sent out"), ("repair", "progress note"),
        ("repair", "returned"), ("spare", "returned"),
        ("repair", "closed"), ("status", "in_use"),
    ]
    assert _events(graph, SPARE) == [
        ("link", f"LOCATED_IN {STORE}"),  # the demo's
        ("spare", "issued"), ("status", "in_use"), ("link", f"STANDS_IN_FOR {PC}"),
        ("unlink", f"LOCATED_IN {STORE}"), ("link", f"LOCATED_IN {OFFICE}"),
        ("spare", "returned"), ("status", "in_stock"), ("unlink", f"STANDS_IN_FOR {PC}"),
        ("unlink", f"LOCATED_IN {OFFICE}"), ("link", f"LOCATED_IN {STORE}"),
    ]
    assert _events(graph, repair_id) == [
        ("create", "open"), ("update", "sent_out"), ("update", "note"),
        ("update", "returned"), ("update", "closed"),
    ]
