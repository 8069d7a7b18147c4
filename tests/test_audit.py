"""Campaigns, scans and reconciliation on the real engine, with known answers."""

from __future__ import annotations

import datetime as dt

import neo4j
import pytest

from cmdb.audit import service
from cmdb.audit.campaigns import load_snapshot
from cmdb.errors import Conflict, InvalidInput, NotFound, UnknownKey
from cmdb.settings import Settings
from tests.test_audit_estate import (
    ACTOR, ANSWER, AWAY, EXPECTED, HARDWARE, SCANS, build_estate, ids,
)


@pytest.fixture
def estate(graph):
    build_estate(graph)
    return graph


def _scan_all(graph, campaign_id):
    for tag, where in SCANS:
        service.record_scan(graph, campaign_id, tag, where, actor=ACTOR)


def test_snapshot_takes_scope_subtrees(estate):
    whole = service.start_campaign(estate, "everything", actor=ACTOR)
    snap = load_snapshot(estate, whole.id)
    in_scope = {k for k, s, _, _ in HARDWARE if s in ("in_use", "in_stock", "in_repair")}
    assert set(snap.assets) == in_scope
    assert whole.expected_count == len(in_scope) - 2 and whole.away_count == 2

    site = service.start_campaign(estate, "site A", scope=["SITE-A"], actor=ACTOR)
    assert set(load_snapshot(estate, site.id).assets) == EXPECTED | AWAY

    parts = service.start_campaign(estate, "rack and room", scope=["RACK-101-1", "ROOM-102"],
                                   actor=ACTOR, due="2026-12-31")
    assert parts.due == "2026-12-31"
    snap = load_snapshot(estate, parts.id)
    assert set(snap.assets) == {"HW-FOUND", "HW-ROOMSCAN", "HW-MISSING", "HW-TWICE", "HW-REPAIR-SEEN",
                                "HW-SERIAL", "HW-DELETED"}
    assert snap.assets["HW-FOUND"].location == "RACK-101-1"
    assert snap.location_paths["RACK-101-1"] == "Site SITE-A / Building BLD-A1 / Room ROOM-101 / Rack RACK-101-1"


def test_start_refuses_bad_input(estate):
    with pytest.raises(UnknownKey):
        service.start_campaign(estate, "x", scope=["NOPE"], actor=ACTOR)
    with pytest.raises(InvalidInput, match="not a Location"):
        service.start_campaign(estate, "x", scope=["HW-FOUND"], actor=ACTOR)
    with pytest.raises(InvalidInput, match="due date"):
        service.start_campaign(estate, "x", due="31/12/2026", actor=ACTOR)
    with pytest.raises(InvalidInput, match="name"):
        service.start_campaign(estate, "  ", actor=ACTOR)
    assert service.list_campaigns(estate) == []


def test_reconciliation_known_answers(estate):
    campaign = service.start_campaign(estate, "Spring", scope=["SITE-A"], actor=ACTOR)
    _scan_all(estate, campaign.id)
    estate.delete_ci("HW-DELETED", actor=ACTOR, force=True)

    result = service.reconcile_campaign(estate, campaign.id)
    assert set(result) == {"found", "relocated", "missing", "unexpected", "status_mismatch",
                           "duplicates", "away", "summary"}
    assert {c: ids(result[c]) for c in ANSWER} == ANSWER

    by_key = {e["key"] or e["tag"]: e for c in ANSWER for e in result[c]}
    assert by_key["HW-MOVED"]["expected_location"] == "ROOM-101"
    assert by_key["HW-MOVED"]["found_location"] == "ROOM-102"
    assert by_key["HW-MOVED"]["found_path"] == "Site SITE-A / Building BLD-A1 / Room ROOM-102"
    assert by_key["HW-TWICE"]["scans"] == 2
    assert set(by_key["HW-DUP"]["found_locations"]) == {"ROOM-101", "ROOM-102"}
    assert by_key["HW-SERIAL"]["label_missing"] is True
    assert by_key["HW-FOUND"]["label_missing"] is False
    assert by_key["HW-DELETED"]["deleted"] is True and by_key["HW-MISSING"]["deleted"] is False
    assert by_key["HW-DELETED"]["name"] == "Server HW-DELETED"  # from the snapshot
    assert {k: by_key[k]["reason"] for k in ANSWER["unexpected"]} == {
        "HW-OUTSIDE": "registered_outside_scope", "HW-PLANNED": "not_in_expected_set",
        "UNKNOWN-1": "not_in_register"}
    assert by_key["UNKNOWN-1"]["key"] is None and by_key["UNKNOWN-1"]["tag"] == "UNKNOWN-1"
    assert by_key["HW-RETIRED"]["registered_status"] == "retired"
    assert by_key["HW-REPAIR"]["registered_status"] == "in_repair"

    summary = result["summary"]
    assert summary["counts"] == {c: len(v) for c, v in ANSWER.items()}
    assert summary["expected"] == 9 and summary["expected_away"] == 2
    assert summary["verified"] == 7 and summary["verified_percent"] == 77.8
    assert summary["deleted_from_register"] == 1 and summary["label_missing"] == 1
    assert summary["scans"] == len(SCANS)
    places = {(g["site"], g["building"]): g for g in summary["by_site"]}
    a1 = places[("SITE-A", "BLD-A1")]
    assert (a1["expected"], a1["verified"], a1["missing"], a1["relocated"], a1["found"]) == (9, 7, 2, 1, 6)
    # Unexpected and status mismatches count where they were found.
    assert a1["unexpected"] == 3 and a1["status_mismatch"] == 1


def test_same_place_twice_is_one_find_and_room_rack_is_not_a_duplicate(estate):
    campaign = service.start_campaign(estate, "c", scope=["SITE-A"], actor=ACTOR)
    for tag, where in [("HW-FOUND", "ROOM-101"), ("HW-FOUND", "RACK-101-1"), ("HW-FOUND", "RACK-101-1")]:
        service.record_scan(estate, campaign.id, tag, where, actor=ACTOR)
    result = service.reconcile_campaign(estate, campaign.id)
    assert ids(result["found"]) == {"HW-FOUND"} and result["duplicates"] == []
    assert result["found"][0]["found_location"] == "RACK-101-1"
    assert result["found"][0]["scans"] == 3


def test_timed_scan_repeated_is_stored_once(estate):
    campaign = service.start_campaign(estate, "c", actor=ACTOR)
    first = service.record_scan(estate, campaign.id, "HW-FOUND", "ROOM-101", actor=ACTOR,
                                at="2026-11-21T10:00:00Z")
    again = service.record_scan(estate, campaign.id, "HW-FOUND", "ROOM-101", actor=ACTOR,
                                at="2026-11-21 10:00")
    assert first["created"] is True and again["created"] is False and first["id"] == again["id"]
    assert service.get_campaign(estate, campaign.id).scans == 1


def test_scan_refuses_unknown_places_and_closed_campaigns(estate):
    campaign = service.start_campaign(estate, "c", actor=ACTOR)
    with pytest.raises(UnknownKey):
        service.record_scan(estate, campaign.id, "HW-FOUND", "ROOM-999", actor=ACTOR)
    with pytest.raises(InvalidInput, match="not a Location"):
        service.record_scan(estate, campaign.id, "HW-FOUND", "HW-B", actor=ACTOR)
    with pytest.raises(InvalidInput, match="tag"):
        service.record_scan(estate, campaign.id, "bad/tag", "ROOM-101", actor=ACTOR)
    with pytest.raises(NotFound):
        service.record_scan(estate, "AUD-NOPE", "HW-FOUND", "ROOM-101", actor=ACTOR)
    service.close_campaign(estate, campaign, actor=ACTOR, settings=Settings())
    with pytest.raises(Conflict, match="no longer accepts scans"):
        service.record_scan(estate, campaign.id, "HW-FOUND", "ROOM-101", actor=ACTOR)
    with pytest.raises(Conflict, match="already closed"):
        service.close_campaign(estate, service.get_campaign(estate, campaign.id), actor=ACTOR,
                               settings=Settings())
    assert service.get_campaign(estate, campaign.id).scans == 0


def test_campaign_found_by_name_and_covering(estate):
    a = service.start_campaign(estate, "Site A walk", scope=["SITE-A"], actor=ACTOR)
    b = service.start_campaign(estate, "Site B walk", scope=["SITE-B"], actor=ACTOR)
    every = service.start_campaign(estate, "Everything", actor=ACTOR)
    assert service.resolve_campaign(estate, "Site B walk").id == b.id
    assert {c.id for c in service.open_campaigns_covering(estate, "HW-FOUND")} == {a.id, every.id}
    assert {c.id for c in service.open_campaigns_covering(estate, "HW-B")} == {b.id, every.id}
    # Found somewhere else: the campaigns covering that place count too.
    assert {c.id for c in service.open_campaigns_covering(estate, "HW-B", at="ROOM-101")} == {a.id, b.id, every.id}
    service.close_campaign(estate, every, actor=ACTOR, settings=Settings())
    recorded = service.record_found_here(estate, "HW-FOUND", "RACK-101-1", actor=ACTOR)
    assert {r["campaign_id"] for r in recorded} == {a.id}


def test_found_here_is_one_existence_check_then_one_write(estate, monkeypatch):
    site_a = service.start_campaign(estate, "Site A walk", scope=["SITE-A"], actor=ACTOR)
    service.start_campaign(estate, "Site B walk", scope=["SITE-B"], actor=ACTOR)
    # Every way the graph layer opens a transaction: a single read runs as an auto-commit query
    # (Session.run), several reads as a managed one; a write as an explicit transaction.
    transactions = {"read": 0, "write": 0}
    for method, kind in (("run", "read"), ("execute_read", "read"), ("execute_write", "write"),
                         ("begin_transaction", "write")):
        real = getattr(neo4j.Session, method)

        def counted(self, *args, _real=real, _kind=kind, **kwargs):
            transactions[_kind] += 1
            return _real(self, *args, **kwargs)
        monkeypatch.setattr(neo4j.Session, method, counted)
    recorded = service.record_found_here(estate, "HW-FOUND", "RACK-101-1", actor=ACTOR,
                                         condition="Damaged", note="cracked case")
    monkeypatch.undo()
    assert transactions["write"] == 1 and transactions["read"] <= 4, transactions
    assert [(r["campaign_id"], r["tag"], r["location"], r["condition"], r["note"])
            for r in recorded] == [(site_a.id, "HW-FOUND", "RACK-101-1", "Damaged", "cracked case")]
    latest = estate.history("HW-FOUND")[0][0]
    assert (latest.action, latest.source, set(latest.after)) == (
        "update", "problem reported: Damaged — cracked case (at RACK-101-1)", {"last_seen_at"})
    with pytest.raises(InvalidInput, match="not a registered location"):
        service.record_found_here(estate, "HW-FOUND", "HW-B", actor=ACTOR)
    with pytest.raises(InvalidInput, match="only hardware is scanned"):
        service.record_found_here(estate, "RACK-101-1", None, actor=ACTOR)
    with pytest.raises(UnknownKey):
        service.record_found_here(estate, "NO-SUCH-TAG", "RACK-101-1", actor=ACTOR)


def _history_sources(graph, key):
    entries, _ = graph.history(key)
    return [(e.action, e.source, e.after) for e in entries]


def test_close_applies_exactly_the_corrections_asked(estate):
    settings = Settings(audit_cadence_days=182)
    plain = service.start_campaign(estate, "no corrections", scope=["SITE-A"], actor=ACTOR)
    _scan_all(estate, plain.id)
    result = service.close_campaign(estate, plain, actor="auditor-1", settings=settings)
    assert result["relocated"] == [] and result["marked_missing"] == []
    assert estate.neighbours("HW-MOVED", direction="out", types=["LOCATED_IN"])[0]["key"] == "ROOM-101"
    assert estate.get_ci("HW-MISSING").properties["status"] == "in_use"
    due = (dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=182)).isoformat()
    audited = ANSWER["found"] | ANSWER["relocated"]
    assert result["audited"] == len(audited)
    for key in audited:
        props = estate.get_ci(key).properties
        assert props["next_audit_due"] == due and props["last_audited_at"]
    assert "last_audited_at" not in estate.get_ci("HW-MISSING").properties
    assert "last_audited_at" not in estate.get_ci("HW-DUP").properties

    fixing = service.start_campaign(estate, "with corrections", scope=["SITE-A"], actor=ACTOR)
    _scan_all(estate, fixing.id)
    result = service.close_campaign(estate, fixing, actor="auditor-1", settings=settings,
                                    apply_relocations=True, mark_missing=True)
    assert result["relocated"] == ["HW-MOVED"]
    assert result["marked_missing"] == ["HW-DELETED", "HW-MISSING"]
    assert estate.neighbours("HW-MOVED", direction="out", types=["LOCATED_IN"])[0]["key"] == "ROOM-102"
    assert estate.get_ci("HW-MISSING").properties["status"] == "missing"
    # Nothing else changed status or place.
    assert estate.get_ci("HW-REPAIR").properties["status"] == "in_repair"
    assert estate.neighbours("HW-DUP", direction="out", types=["LOCATED_IN"])[0]["key"] == "ROOM-101"
    source = f"audit {fixing.id} (with corrections)"
    moved = _history_sources(estate, "HW-MOVED")
    assert ("link", source, {"from": "HW-MOVED", "type": "LOCATED_IN", "to": "ROOM-102"}) in moved
    assert ("unlink", source, None) in [(a, s, None) for a, s, _ in moved if a == "unlink"]
    missing = _history_sources(estate, "HW-MISSING")
    assert ("update", source, {"status": "missing"}) in missing
    closed = service.get_campaign(estate, fixing.id)
    assert closed.status == "closed" and closed.closed_by == "auditor-1"
    assert closed.corrections["relocated"] == 1 and closed.corrections["marked_missing"] == 2


def test_overdue_includes_never_audited(estate):
    settings = Settings(audit_cadence_days=182)
    today = dt.datetime.now(dt.timezone.utc).date()
    active = {k for k, s, _, _ in HARDWARE if s not in ("retired", "planned")}
    # Never audited: due from the day it entered the register (today), and said so.
    due_now = service.overdue_assets(estate, settings, today)
    assert {r["key"] for r in due_now} == active
    assert all(r["never_audited"] and r["days_overdue"] == 0 for r in due_now)
    estate.set_system_properties([("HW-FOUND", {"next_audit_due": (today + dt.timedelta(days=400)).isoformat(),
                                                "last_audited_at": "2026-01-01T00:00:00Z"}),
                                  ("HW-B", {"next_audit_due": "2020-01-01"})], actor=ACTOR)
    later = today + dt.timedelta(days=183)
    rows = service.overdue_assets(estate, settings, later)
    assert {r["key"] for r in rows} == active - {"HW-FOUND"}
    b = next(r for r in rows if r["key"] == "HW-B")
    assert b["due"] == "2020-01-01" and b["never_audited"] is True and rows[0]["key"] == "HW-B"
    # With a grace period for new assets, only the explicitly overdue one shows today.
    grace = Settings(audit_cadence_days=182, audit_first_due_days=30)
    assert [r["key"] for r in service.overdue_assets(estate, grace, today)] == ["HW-B"]


def test_small_scope_in_a_larger_register_checks_deletions_by_key(estate):
    # Two expected assets out of fifteen: the register is checked key by key, not by a pass
    # over all hardware; both ways must agree.
    campaign = service.start_campaign(estate, "one rack", scope=["RACK-101-1"], actor=ACTOR)
    estate.delete_ci("HW-ROOMSCAN", actor=ACTOR, force=True)
    service.record_scan(estate, campaign.id, "HW-FOUND", "ROOM-101", actor=ACTOR)
    service.record_scan(estate, campaign.id, "HW-B", "RACK-101-1", actor=ACTOR)
    result = service.reconcile_campaign(estate, campaign.id)
    assert ids(result["found"]) == {"HW-FOUND"} and ids(result["missing"]) == {"HW-ROOMSCAN"}
    assert result["missing"][0]["deleted"] is True and result["found"][0]["deleted"] is False
    assert [(e["key"], e["reason"]) for e in result["unexpected"]] == [("HW-B", "registered_outside_scope")]
    assert result["summary"]["by_site"][0]["site"] == "SITE-A"
