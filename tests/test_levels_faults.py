"""Service levels (which applies to a CI, and why) and fault records with their clocks."""

import datetime as dt
import io
import json

import pytest
from PIL import Image

from cmdb.errors import Conflict, InvalidInput, PermissionDenied, UnknownKey
from cmdb.faults import service as faults
from cmdb.graph import CIInput, Link
from cmdb.levels import service as levels
from cmdb.levels.hours import CHINA
from cmdb.policy import Caller

from tests.web_support import small_estate

ADMIN = Caller("admin-user", "admin")
ENGINEER = Caller("li.wei", "engineer")


def cst(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=CHINA)


@pytest.fixture
def estate(graph):
    small_estate(graph)
    graph.upsert_cis_atomically(
        [CIInput("HW-9", "Hardware", {"name": "finance pc", "category": "pc", "department": "Finance"}),
         CIInput("S2", "Location", {"name": "Dispatch centre", "type": "site"}),
         CIInput("HW-10", "Hardware", {"name": "dispatch console", "category": "pc"})],
        [Link("HW-9", "LOCATED_IN", "S1-B-202"), Link("HW-10", "LOCATED_IN", "S2")], actor="test")
    levels.install_defaults(graph, ADMIN)
    return graph


def png(width=300, height=120) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, "PNG")
    return out.getvalue()


def test_the_strictest_level_applies_with_its_reasons(estate):
    graph = estate
    assert {lv.id for lv in levels.list_levels(graph)} == {"standard", "advanced", "vip", "immediate"}
    # Nothing assigned: the default level.
    applied = levels.applicable_level(graph, "HW-3")
    assert (applied.level.id, applied.reason_text()) == ("standard", "Standard: the default level")
    # APP-1 (criticality high) runs on HW-1: advanced through its criticality.
    assert levels.applicable_level(graph, "HW-1").level.id == "advanced"
    # VIP assigned to the application: VIP wins over advanced.
    levels.assign(graph, ADMIN, "vip", ["APP-1"])
    applied = levels.applicable_level(graph, "HW-1")
    assert applied.level.id == "vip"
    assert applied.reasons == ({"source": "application", "id": "vip", "via": "APP-1", "via_name": "Payroll"},)
    assert {(c["source"], c["id"]) for c in applied.candidates} == {
        ("application", "vip"), ("criticality", "advanced")}
    # A location's level is inherited down the tree; immediate beats VIP.
    levels.assign(graph, ADMIN, "immediate", ["S1-B"])
    applied = levels.applicable_level(graph, "HW-1")
    assert applied.level.id == "immediate"
    assert "its location Building B (S1-B)" in applied.reason_text()
    levels.assign(graph, ADMIN, "immediate", ["S1-B"], remove=True)
    assert levels.applicable_level(graph, "HW-1").level.id == "vip"
    # A department's level.
    levels.save_level(graph, ADMIN, levels.level_from_input(
        {"id": "finance", "name_en": "Finance desk", "name_zh_cn": "财务", "hours": "5x8",
         "respond_minutes": 30, "resolve_minutes": 240, "departments": "Finance"}))
    applied = levels.applicable_level(graph, "HW-9")
    assert (applied.level.id, applied.reason_text()) == ("finance", "Finance desk: department Finance")
    history = levels.store.level_history(graph, "vip")
    assert [(h["action"], h["actor"]) for h in history] == [("create", "admin-user"), ("link", "admin-user")]


def test_level_input_and_rights_are_checked(estate):
    with pytest.raises(InvalidInput) as err:
        levels.level_from_input({"id": "x", "hours": "6x10", "respond_minutes": 10})
    assert err.value.details == {"field": "hours", "value": "6x10", "allowed": ["5x8", "7x24"]}
    assert "6x10" in str(err.value) and "5x8" in str(err.value)
    with pytest.raises(InvalidInput, match="respond_minutes"):
        levels.level_from_input({"id": "x", "respond_minutes": "soon"})
    with pytest.raises(PermissionDenied):
        levels.assign(estate, ENGINEER, "vip", ["HW-1"])
    with pytest.raises(UnknownKey):
        levels.assign(estate, ADMIN, "vip", ["HW-1", "NOPE"])
    assert levels.applicable_level(estate, "HW-1").level.id == "advanced"  # nothing written


def test_a_vip_fault_across_the_mid_autumn_holiday(estate):
    graph = estate
    levels.assign(graph, ADMIN, "vip", ["APP-1"])
    reported = cst(2026, 9, 24, 16, 30)      # Thursday before the Mid-autumn holiday (Fri–Sun)
    vip = faults.open_fault(graph, Caller("wang.fang", "asset_staff"), keys=["HW-1"],
                            title="db server down", severity="A", reported_by="Wang Fang",
                            reported_via="scan", at=reported)
    std = faults.open_fault(graph, Caller("wang.fang", "asset_staff"), keys=["HW-3"],
                            title="paper jam", severity="C", reported_by="Wang Fang",
                            reported_via="phone", at=reported)
    assert (vip.record["level_id"], vip.record["level_hours"], std.record["level_id"]) == ("vip", "7x24", "standard")
    # At 17:20 the VIP response clock (60 min) is past 80 %.
    assert faults.get(graph, vip.id, cst(2026, 9, 24, 17, 20)).clocks["response"]["state"] == "at_risk"
    faults.assign(graph, ENGINEER, vip.id, engineer="Li Wei", at=cst(2026, 9, 24, 17, 0))
    faults.arrive(graph, ENGINEER, vip.id, at=cst(2026, 9, 25, 9, 0))
    faults.add_action(graph, ENGINEER, vip.id, text="replaced PSU", at=cst(2026, 9, 25, 9, 30))
    faults.resolve(graph, ENGINEER, vip.id, resolution="PSU replaced", at=cst(2026, 9, 28, 10, 0))
    with pytest.raises(Conflict, match="under observation"):
        faults.close(graph, ENGINEER, vip.id, signed_by="Zhao Min", at=cst(2026, 9, 28, 11, 0))
    closed = faults.close(graph, ENGINEER, vip.id, signed_by="Zhao Min", at=cst(2026, 9, 29, 11, 0),
                          signature_png=png())
    clocks = closed.clocks
    assert {n: (c["state"], c["elapsed_minutes"]) for n, c in clocks.items()} == {
        "response": ("met", 30.0), "arrival": ("breached", 16.5 * 60),
        "resolution": ("breached", (3 * 24 + 17.5) * 60)}
    assert clocks["resolution"]["due_at"] == "2026-09-24T10:30:00Z"
    assert closed.record["status"] == "closed" and faults.signature_png(graph, vip.id) == png()
    # The standard printer on 5×8 over the same days: the holiday and weekend do not count.
    faults.assign(graph, ENGINEER, std.id, engineer="Li Wei", at=cst(2026, 9, 28, 9, 30))
    faults.resolve(graph, ENGINEER, std.id, resolution="cleared", at=cst(2026, 9, 28, 11, 0))
    std = faults.get(graph, std.id, cst(2026, 9, 30, 0, 0))
    assert (std.clocks["response"]["state"], std.clocks["response"]["elapsed_minutes"]) == ("met", 60.0)
    assert std.clocks["response"]["due_at"] == "2026-09-28T02:30:00Z"   # Monday 10:30 in China
    assert (std.clocks["resolution"]["state"], std.clocks["resolution"]["elapsed_minutes"]) == ("met", 150.0)
    # Resolved remotely: the arrival clock stopped at the resolution.
    assert (std.clocks["arrival"]["state"], std.clocks["arrival"]["elapsed_minutes"]) == ("met", 150.0)
    steps = [json.loads(h["after"]).get("status") for h in faults.history(graph, vip.id)]
    assert steps == ["open", "assigned", "on_site", None, "resolved", "closed"]
    assert faults.open_faults_of(graph, ["HW-1", "HW-3"]) == [
        {"key": "HW-3", "id": std.id, "severity": "C", "title": "paper jam", "status": "resolved",
         "reported_at": "2026-09-24T08:30:00.000000Z"}]


def test_fault_input_is_checked_and_nothing_partial_is_written(estate):
    graph = estate
    base = dict(title="x", severity="A", reported_by="me", reported_via="api", at=cst(2026, 9, 28, 9))
    with pytest.raises(UnknownKey):
        faults.open_fault(graph, ADMIN, keys=["HW-1", "NOPE"], **base)
    with pytest.raises(InvalidInput, match="severity"):
        faults.open_fault(graph, ADMIN, keys=["HW-1"], **{**base, "severity": "E"})
    with pytest.raises(PermissionDenied):
        faults.open_fault(graph, Caller("v", "viewer"), keys=["HW-1"], **base)
    with pytest.raises(PermissionDenied):
        faults.open_fault(graph, Caller("s", "asset_staff", scope="S2"), keys=["HW-1"], **base)
    assert faults.list_faults(graph, cst(2026, 9, 28, 9)) == []
    fault = faults.open_fault(graph, ADMIN, keys=["HW-1"], **base)
    with pytest.raises(PermissionDenied):
        faults.assign(graph, Caller("s", "asset_staff"), fault.id, engineer="x", at=cst(2026, 9, 28, 10))
    with pytest.raises(Conflict, match="before"):
        faults.assign(graph, ENGINEER, fault.id, engineer="x", at=cst(2026, 9, 28, 8))
    with pytest.raises(Conflict, match="can be closed only when resolved"):
        faults.close(graph, ENGINEER, fault.id, signed_by="x", at=cst(2026, 9, 28, 10))
    faults.resolve(graph, ENGINEER, fault.id, resolution="ok", at=cst(2026, 9, 28, 10), observe_hours=0)
    for bad, message in ((b"GIF89a", "not a PNG"), (png(3000, 100), "3000×100"),
                         (b"\x89PNG\r\n\x1a\n" + b"x" * 300_000, "at most 200000")):
        with pytest.raises(InvalidInput, match=message):
            faults.close(graph, ENGINEER, fault.id, signed_by="x", at=cst(2026, 9, 28, 10), signature_png=bad)
    assert faults.get(graph, fault.id, cst(2026, 9, 28, 10)).record["status"] == "resolved"


def test_cli_levels_and_faults(cli, embedded_graph, monkeypatch):
    small_estate(embedded_graph)
    assert cli("level", "defaults").exit_code == 0
    assert cli("level", "assign", "vip", "APP-1").exit_code == 0
    shown = cli("ci", "show", "HW-1")
    assert "VIP: application Payroll runs on it" in shown.output
    with monkeypatch.context() as chinese:
        chinese.setenv("LC_ALL", "zh_CN.UTF-8")  # the settings are read once; the locale each run
        for args in (("ci", "show", "HW-1"), ("level", "of", "HW-1")):
            said = cli(*args).output
            assert "应用 Payroll 运行在其上" in said and "runs on it" not in said, said
    opened = cli("fault", "open", "HW-1", "--title", "disk failure", "--severity", "B",
                 "--reported-by", "Zhou", "--at", "2026-09-24T16:30+08:00", "--json")
    record = json.loads(opened.output)
    assert (record["level_id"], record["status"], record["reported_via"]) == ("vip", "open", "phone")
    fid = record["id"]
    assert fid == "F-202609-0001"
    for args in (("assign", fid, "--to", "Li Wei", "--at", "2026-09-24T17:10+08:00"),
                 ("arrive", fid, "--at", "2026-09-24T17:20+08:00"),
                 ("resolve", fid, "--resolution", "disk swapped", "--at", "2026-09-24T18:00+08:00",
                  "--observe-hours", "1")):
        result = cli("fault", *args)
        assert result.exit_code == 0, result.output
    shown = json.loads(cli("ci", "show", "HW-1", "--json").output)
    assert [f["id"] for f in shown["open_faults"]] == [fid]
    assert shown["service_level"]["level"]["id"] == "vip"
    closed = json.loads(cli("fault", "close", fid, "--signed-by", "Zhao", "--at",
                            "2026-09-24T19:30+08:00", "--json").output)
    assert {n: c["state"] for n, c in closed["clocks"].items()} == {
        "response": "met", "arrival": "met", "resolution": "met"}
    listed = json.loads(cli("fault", "list", "--json").output)
    assert [(f["id"], f["status"]) for f in listed] == [(fid, "closed")]
    bad = cli("fault", "open", "HW-1", "--title", "x", "--severity", "Z", "--reported-by", "me")
    assert bad.exit_code == 1 and "severity" in bad.output


def test_impact_results_name_open_faults(estate):
    from cmdb.impact.service import impact

    fault = faults.open_fault(estate, ADMIN, keys=["HW-1"], title="raid degraded", severity="A",
                              reported_by="ops", reported_via="api", at=cst(2026, 9, 28, 9))
    result = impact(estate, ["S1-B-101-R1"])
    assert result["open_faults"] == [{"key": "HW-1", "id": fault.id, "severity": "A",
                                      "title": "raid degraded", "status": "open",
                                      "reported_at": "2026-09-28T01:00:00.000000Z"}]
    assert impact(estate, ["HW-3"])["open_faults"] == []
