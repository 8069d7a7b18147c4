"""Contracts, warranties, repairs and spares through the CLI and the service layer, on the
demo estate and on small registers: the warranty report's exact contents, working-day
deadlines, refusals that name what is wrong, roles and scopes, the slip, and impact with a
loaner standing in."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pytest

from cmdb import policy
from cmdb.demo import demo_contracts, demo_estate, load_demo
from cmdb.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cmdb.service import contracts, repairs, spares
from cmdb.service.workdays import add_working_days, is_working_day, working_days_between

ADMIN = policy.Caller("tester", "admin")


def expected_expiring(today: dt.date, days: int) -> set[str]:
    """From the demo's definitions, not the register: hardware whose warranty (its warranty
    contracts' latest end, else its own warranty_end) ends within the window."""
    ends: dict[str, str] = {}
    for _, fields, covers in demo_contracts(today):
        if fields["type"] == "warranty":
            for key in covers:
                ends[key] = max(ends.get(key, ""), fields["end"])
    cis, _ = demo_estate()
    until = (today + dt.timedelta(days=days)).isoformat()
    found = set()
    for ci in cis:
        if ci.kind != "Hardware":
            continue
        end = ends.get(ci.key) or ci.properties.get("warranty_end")
        if end and today.isoformat() <= end <= until:
            found.add(ci.key)
    return found


def test_warranty_report_lists_exactly_the_demo_cis_ending_in_the_window(cli, embedded_graph, tmp_path):
    today = dt.date.today()
    load_demo(embedded_graph, actor="demo", today=today)
    expected = expected_expiring(today, 90)
    dell_pcs = {k for n, f, covers in demo_contracts(today) if n.startswith("DELL") for k in covers}
    assert dell_pcs and dell_pcs <= expected  # the Dell warranty ends in 45 days
    assert not {"CAM-001", "PC-0002"} & expected  # ended 9 days ago; ends in 400 days

    out = tmp_path / "w.xlsx"
    result = cli("warranty", "report", "--within", "90d", "-o", out)
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out)["Warranties"]
    listed = [row[0] for row in sheet.iter_rows(min_row=3, values_only=True) if row[0]]
    assert sorted(listed) == sorted(expected) and len(listed) == len(set(listed))
    counts = openpyxl.load_workbook(out)["Counts"]
    by = {}
    group = None
    for name, n in counts.iter_rows(values_only=True):
        if name and n == "Count":
            group = name
        elif name:
            by.setdefault(group, {})[name] = n
    assert sum(by["Vendor"].values()) == len(expected)
    assert sum(by["Site"].values()) == sum(by["Category"].values()) == len(expected)
    assert by["Vendor"]["Dell"] >= len(dell_pcs)

    as_json = json.loads(cli("warranty", "report", "--within", "90d", "--json").stdout)
    assert {i["key"] for i in as_json["items"]} == expected
    for fmt in ("csv", "html"):
        assert cli("warranty", "report", "-o", tmp_path / f"w.{fmt}").exit_code == 0
    assert "PC-" in (tmp_path / "w.html").read_text()
    bad = cli("warranty", "report", "--within", "soon")
    assert bad.exit_code == 1 and "90d" in bad.output


def test_warranty_end_follows_the_warranty_contract(embedded_graph):
    g = embedded_graph
    today = dt.date(2026, 11, 30)
    load_demo(g, actor="demo", today=today)
    lenovo_end = (today + dt.timedelta(days=400)).isoformat()
    assert g.get_ci("PC-0002").properties["warranty_end"] == lenovo_end
    answer = contracts.warranty_of(g, "PC-0002", today)
    assert (answer["under_warranty"], answer["contract"]["number"], answer["until"]) == (
        True, "LEN-WR-2024-0388", lenovo_end)
    camera = contracts.warranty_of(g, "CAM-001", today)
    assert camera["under_warranty"] is False and camera["until"] == (today - dt.timedelta(days=9)).isoformat()
    # A new end moves warranty_end of every covered PC, with history.
    contracts.update_contract(g, ADMIN, "LEN-WR-2024-0388", {"end": "2029-01-31"})
    assert g.get_ci("PC-0002").properties["warranty_end"] == "2029-01-31"
    entries, _ = g.history("PC-0002")
    assert (entries[0].action, entries[0].after) == ("update", {"warranty_end": "2029-01-31"})
    # The HP PCs have no contract: their own warranty_end answers.
    hp = contracts.warranty_of(g, "PC-0003", dt.date(2020, 1, 1))
    assert (hp["source"], hp["contract"]) == ("warranty_end", None)


def test_contract_refusals_name_the_field(embedded_graph):
    g = embedded_graph
    load_demo(g, actor="demo", today=dt.date(2026, 11, 30))
    base = {"vendor": "Acme", "type": "warranty", "start": "2026-01-01", "end": "2027-01-01"}
    with pytest.raises(InvalidInput, match="end 2025-01-01 is before start"):
        contracts.add_contract(g, ADMIN, "X-1", {**base, "end": "2025-01-01"})
    with pytest.raises(InvalidInput, match="type"):
        contracts.add_contract(g, ADMIN, "X-1", {**base, "type": "insurance"})
    with pytest.raises(InvalidInput, match="coverage"):
        contracts.add_contract(g, ADMIN, "X-1", {**base, "coverage": ["everything"]})
    with pytest.raises(Exception, match="NO-SUCH"):
        contracts.add_contract(g, ADMIN, "X-1", base, ["PC-0001", "NO-SUCH"])
    assert contracts.list_contracts(g, vendor="Acme") == []  # nothing half-written
    with pytest.raises(PermissionDenied):
        contracts.add_contract(g, policy.Caller("a", "asset_staff"), "X-1", base)
    contracts.add_contract(g, policy.Caller("r", "registrar"), "X-1", base, ["PC-0001"])
    with pytest.raises(Exception, match="already exists"):
        contracts.add_contract(g, ADMIN, "X-1", base)
    scoped = policy.Caller("sz", "registrar", scope="SZ-DC")
    with pytest.raises(PermissionDenied, match="PC-0004"):
        contracts.link_contract(g, scoped, "X-1", ["PC-0004"])


def test_working_days_follow_the_chinese_calendar():
    # National Day week 2026: 1-7 October off, Saturday 10 October worked (调休).
    assert not is_working_day(dt.date(2026, 10, 5))
    assert is_working_day(dt.date(2026, 10, 10))
    assert add_working_days(dt.date(2026, 9, 30), 1) == dt.date(2026, 10, 8)
    assert working_days_between(dt.date(2026, 9, 30), dt.date(2026, 10, 10)) == 3
    # Beyond the calendar's data, Monday to Friday.
    assert add_working_days(dt.date(2031, 1, 3), 1) == dt.date(2031, 1, 6)


def test_repair_flow_refusals_and_roles(embedded_graph):
    g = embedded_graph
    today = dt.date(2026, 11, 30)
    load_demo(g, actor="demo", today=today)
    staff = policy.Caller("li", "asset_staff")
    with pytest.raises(PermissionDenied):
        repairs.open_repair(g, policy.Caller("v", "viewer"), "PC-0001", "broken")
    with pytest.raises(InvalidInput, match="fault"):
        repairs.open_repair(g, staff, "PC-0001", "   ")
    with pytest.raises(Exception, match="hardware"):
        repairs.open_repair(g, staff, "A-101", "broken")
    with pytest.raises(PermissionDenied, match="PC-0001"):
        repairs.open_repair(g, policy.Caller("sz", "asset_staff", scope="SZ-DC"), "PC-0001", "broken")
    repair = repairs.open_repair(g, staff, "PC-0001", "broken screen", send_to="Dell", today=today)
    assert (repair["status"], repair["due_back"]) == ("sent_out", add_working_days(today, 15).isoformat())
    with pytest.raises(Conflict, match="already has an open repair"):
        repairs.open_repair(g, staff, "PC-0001", "again")
    with pytest.raises(Conflict, match="sent_out"):
        repairs.close_repair(g, staff, repair["id"], "repaired")
    with pytest.raises(InvalidInput, match="outcome"):
        repairs.close_repair(g, staff, repair["id"], "fixed")
    with pytest.raises(NotFound):
        repairs.add_note(g, staff, "RO-20260101-000000", "x")
    # Progress notes are due every 3 working days.
    assert repairs.overdue(g, today=add_working_days(today, 3)) == []
    late = repairs.overdue(g, today=add_working_days(today, 4))
    assert [(r["id"], r["overdue_reasons"]) for r in late] == [(repair["id"], ["progress"])]
    repairs.record_return(g, staff, repair["id"], cost=120.5, today=today)
    closed = repairs.close_repair(g, staff, repair["id"], "written_off")
    assert closed["cost"] == 120.5 and g.get_ci("PC-0001").properties["status"] == "retired"


def test_spares_stock_issue_and_slip(embedded_graph):
    g = embedded_graph
    load_demo(g, actor="demo", today=dt.date(2026, 11, 30))
    staff = policy.Caller("li", "asset_staff")
    stock = {(s["model"], s["location"]): s for s in spares.stock(g)}
    think = stock[("ThinkCentre M70q", "A-B01")]
    assert (think["in_stock"], think["minimum"], think["short"], think["keys"]) == (1, 2, 1, ["PC-0058"])
    repair = repairs.open_repair(g, staff, "PC-0006", "no display")
    with pytest.raises(Conflict, match="not marked a spare"):
        spares.issue_spare(g, staff, repair["id"], "PC-0010")
    issue = spares.issue_spare(g, staff, repair["id"], "PC-0058")
    with pytest.raises(Conflict, match="not in stock"):
        spares.issue_spare(g, staff, repair["id"], "PC-0058")
    think = {(s["model"], s["location"]): s for s in spares.stock(g)}[("ThinkCentre M70q", "A-B01")]
    assert (think["in_stock"], think["issued"], think["short"]) == (0, 1, 2)
    pdf = spares.issue_slip(g, issue["id"])
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    spares.return_spare(g, staff, issue["id"])
    with pytest.raises(Conflict, match="was returned"):
        spares.return_spare(g, staff, issue["id"])
    assert g.get_ci("PC-0058").properties["status"] == "in_stock"
    marked = spares.mark_spare(g, staff, "PC-0010", location="A-B01")
    assert (marked["spare_model"], marked["location"], marked["status"]) == (
        "ThinkCentre M70q", "A-B01", "in_stock")


def test_cli_covers_each_action(cli, embedded_graph, tmp_path):
    load_demo(embedded_graph, actor="demo")
    def ok(*args):
        result = cli(*args)
        assert result.exit_code == 0, result.output
        return result
    ok("contract", "add", "ACME-1", "--vendor", "Acme", "--type", "support", "--start", "2026-01-01",
       "--end", "2027-01-01", "--coverage", "software", "--covers", "APP-ERP")
    ok("contract", "link", "ACME-1", "APP-CRM")
    shown = json.loads(ok("contract", "show", "ACME-1", "--json").stdout)
    assert shown["covers"] == ["APP-CRM", "APP-ERP"]
    ok("contract", "link", "ACME-1", "APP-CRM", "--remove")
    ok("contract", "set", "ACME-1", "notes=renewal due")
    assert "ACME-1" in ok("contract", "list", "--vendor", "acme").stdout
    assert "in warranty until" in ok("warranty", "show", "PC-0002").stdout
    opened = json.loads(ok("repair", "open", "PC-0002", "--fault", "fan noise", "--json").stdout)
    rid = opened["id"]
    issue = json.loads(ok("spare", "issue", rid, "PC-0058", "--slip", tmp_path / "slip.pdf",
                          "--json").stdout)
    assert (tmp_path / "slip.pdf").read_bytes().startswith(b"%PDF")
    ok("repair", "send", rid, "--to", "Lenovo")
    ok("repair", "note", rid, "waiting for parts")
    due = json.loads(ok("repair", "show", rid, "--json").stdout)["due_back"]
    late_day = (dt.date.fromisoformat(due) + dt.timedelta(days=1)).isoformat()
    assert rid in ok("repair", "overdue", "--as-of", late_day).stdout
    assert rid not in ok("repair", "overdue").stdout
    ok("repair", "return", rid, "--cost", "0")
    ok("spare", "slip", issue["id"], "-o", tmp_path / "slip2.pdf")
    ok("repair", "close", rid, "--outcome", "repaired")
    assert rid in ok("repair", "list", "--status", "closed").stdout
    ok("spare", "mark", "PC-0055", "--location", "A-B01")
    ok("spare", "stock", "--min", "EliteDesk 800 G6@A-B01=3")
    stock = json.loads(ok("spare", "stock", "--json").stdout)
    elite = [s for s in stock if s["model"] == "EliteDesk 800 G6"][0]
    assert (elite["minimum"], elite["in_stock"], elite["short"]) == (3, 2, 1)
    refused = cli("repair", "close", rid, "--outcome", "repaired")
    assert refused.exit_code == 1 and "closed" in refused.output


def test_a_loaner_standing_in_restores_redundancy(embedded_graph):
    from cmdb.graph import CIInput, Link
    from cmdb.impact.service import impact

    g = embedded_graph
    g.upsert_cis_atomically(
        [CIInput("R1", "Location", {"type": "room"}), CIInput("STORE", "Location", {"type": "room"}),
         CIInput("HOST", "Hardware", {"status": "in_use", "model": "M1"}),
         CIInput("LOANER", "Hardware", {"status": "in_stock", "model": "M1"}),
         CIInput("APP", "Application", {"criticality": "high"})],
        [Link("HOST", "LOCATED_IN", "R1"), Link("LOANER", "LOCATED_IN", "STORE"),
         Link("APP", "RUNS_ON", "HOST")], actor="t")
    states = lambda keys: {a["key"]: a["state"] for a in impact(g, keys)["affected"]}
    assert states(["HOST"]) == {"APP": "down"}
    staff = policy.Caller("li", "asset_staff")
    spares.mark_spare(g, staff, "LOANER")
    repair = repairs.open_repair(g, staff, "HOST", "disk failed")
    spares.issue_spare(g, staff, repair["id"], "LOANER")
    result = impact(g, ["HOST"])
    assert {a["key"]: a["state"] for a in result["affected"]} == {"APP": "degraded"}
    assert result["stand_ins"] == {"HOST": ["LOANER"]}
    # The loaner now sits in R1: losing the room takes both, so the application is down.
    assert states(["R1"])["APP"] == "down"
    # Impact never walks from the unit to its stand-in ("the loaner needs the host" is false).
    assert "LOANER" not in states(["HOST"])


def test_a_spare_label_says_spare_and_its_model(embedded_graph):
    from cmdb.labels.service import Selection, select

    load_demo(embedded_graph, actor="demo", today=dt.date(2026, 11, 30))
    labels = {c.key: c for c in select(embedded_graph, Selection(keys=("PC-0058", "PC-0002")))}
    assert labels["PC-0058"].second_line == "备件 Spare: ThinkCentre M70q"
    assert "备件" not in labels["PC-0002"].second_line
