"""Scanner files into campaigns (CSV and XLSX, English and Chinese headings, plain lists), and
the audit commands end to end through the CLI."""

from __future__ import annotations

import json

import pytest
import xlsxwriter
from typer.testing import CliRunner

from cmdb.audit import service
from cmdb.cli import app
from cmdb.errors import InvalidInput
from cmdb.graph import audit as graph_audit
from tests.test_audit_estate import ACTOR, ANSWER, SCANS, build_estate, ids

runner = CliRunner()


@pytest.fixture
def estate(embedded_graph):
    build_estate(embedded_graph)
    return embedded_graph


def _stored(graph, campaign_id):
    return sorted((s["tag"], s["location"], s["at"], s["by"]) for s in graph_audit.scans(graph, campaign_id))


def test_chinese_gbk_csv_imports_once(estate, tmp_path):
    campaign = service.start_campaign(estate, "c", scope=["SITE-A"], actor=ACTOR)
    lines = ["资产编号,位置,盘点时间,盘点人,备注"]
    lines += [f"{tag},{where},2026-11-21 10:{i:02d},张三,完好" for i, (tag, where) in enumerate(SCANS)]
    path = tmp_path / "扫描.csv"
    path.write_bytes("\r\n".join(lines).encode("gbk"))
    first = service.import_scans(estate, campaign.id, path, actor=ACTOR, name=path.name)
    assert (first["rows"], first["added"], first["already_recorded"]) == (len(SCANS), len(SCANS), 0)
    stored = _stored(estate, campaign.id)
    again = service.import_scans(estate, campaign.id, path, actor="someone-else", name=path.name)
    assert (again["added"], again["already_recorded"]) == (0, len(SCANS))
    assert _stored(estate, campaign.id) == stored
    assert ("HW-FOUND", "RACK-101-1", "2026-11-21T10:00:00.000000Z", "张三") in stored
    result = service.reconcile_campaign(estate, campaign.id)
    assert {c: ids(result[c]) for c in ANSWER} == {**ANSWER, "missing": {"HW-MISSING", "HW-DELETED"}}
    assert result["found"][0]["note"] == "完好"


def test_xlsx_with_english_headings_and_default_location(estate, tmp_path):
    campaign = service.start_campaign(estate, "c", scope=["SITE-A"], actor=ACTOR)
    path = tmp_path / "scanner.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Export")
    ws.write_row(0, 0, ["Asset Tag", "Location", "Scan Time", "Scanned By", "Serial"])
    ws.write_row(1, 0, ["HW-FOUND", "RACK-101-1", "2026-11-21 09:00", "li"])
    ws.write_row(2, 0, ["HW-MOVED", "", "2026-11-21 09:01", "li"])        # --at fills it
    ws.write_row(3, 0, ["", "ROOM-102", "2026-11-21 09:02", "li", "SN-777"])  # label torn off
    wb.close()
    for _ in range(2):
        result = service.import_scans(estate, campaign.id, path, actor=ACTOR, at="ROOM-102", name=path.name)
    assert (result["added"], result["already_recorded"]) == (0, 3)
    assert [(t, loc) for t, loc, _, _ in _stored(estate, campaign.id)] == [
        ("HW-FOUND", "RACK-101-1"), ("HW-MOVED", "ROOM-102"), ("SN-777", "ROOM-102")]
    result = service.reconcile_campaign(estate, campaign.id)
    assert ids(result["found"]) == {"HW-FOUND", "HW-SERIAL"} and ids(result["relocated"]) == {"HW-MOVED"}
    assert next(e for e in result["found"] if e["key"] == "HW-SERIAL")["label_missing"] is True


def test_plain_list_needs_at(estate, tmp_path):
    campaign = service.start_campaign(estate, "c", actor=ACTOR)
    path = tmp_path / "tags.txt"
    path.write_text("HW-FOUND\nHW-TWICE\n\nHW-TWICE\n000123\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="--at"):
        service.import_scans(estate, campaign.id, path, actor=ACTOR, name=path.name)
    result = service.import_scans(estate, campaign.id, path, actor=ACTOR, at="ROOM-101", name=path.name)
    assert (result["rows"], result["added"], result["repeated_in_input"]) == (4, 3, 1)
    assert {s["tag"] for s in graph_audit.scans(estate, campaign.id)} == {"HW-FOUND", "HW-TWICE", "000123"}


def test_invalid_rows_write_nothing(estate, tmp_path):
    campaign = service.start_campaign(estate, "c", actor=ACTOR)
    path = tmp_path / "bad.csv"
    path.write_text("tag,location,time\nHW-FOUND,ROOM-101,\nHW-B,ROOM-999,\nHW-TWICE,ROOM-101,yesterday\n",
                    encoding="utf-8")
    with pytest.raises(InvalidInput) as err:
        service.import_scans(estate, campaign.id, path, actor=ACTOR, name=path.name)
    problems = err.value.details["problems"]
    assert [(p["row"], p["field"]) for p in problems] == [(3, "location"), (4, "time")]
    assert "ROOM-999" in err.value.message and "row 4" in err.value.message
    assert graph_audit.scans(estate, campaign.id) == []
    no_tag = tmp_path / "no_tag.csv"
    no_tag.write_text("name,place\nx,y\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="asset tag"):
        service.import_scans(estate, campaign.id, no_tag, actor=ACTOR, name=no_tag.name)


def _cli(*args):
    return runner.invoke(app, list(args))


def test_cli_walkthrough(estate, tmp_path):
    started = _cli("audit", "start", "Site A spring", "--scope", "SITE-A", "--due", "2026-12-31", "--json")
    assert started.exit_code == 0, started.output
    campaign = json.loads(started.stdout)
    assert campaign["expected_count"] == 9 and campaign["status"] == "open"
    audit_id = campaign["id"]
    scanned = _cli("audit", "scan", audit_id, "HW-FOUND", "--at", "RACK-101-1", "--json")
    assert scanned.exit_code == 0, scanned.output
    assert json.loads(scanned.stdout)["created"] is True
    path = tmp_path / "walk.csv"
    path.write_text("tag,location\n" + "\n".join(f"{t},{w}" for t, w in SCANS) + "\n", encoding="utf-8")
    imported = _cli("audit", "import-scans", "Site A spring", str(path), "--json")
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.stdout)["added"] == len(SCANS) - 1   # HW-TWICE twice in the file

    reconciled = _cli("audit", "reconcile", audit_id, "--json")
    assert reconciled.exit_code == 0
    result = json.loads(reconciled.stdout)
    assert {c: ids(result[c]) for c in ANSWER} == ANSWER
    human = _cli("audit", "reconcile", audit_id)
    assert human.exit_code == 0 and "HW-MOVED" in human.stdout

    listed = _cli("audit", "list", "--json")
    assert [c["id"] for c in json.loads(listed.stdout)] == [audit_id]
    report = tmp_path / "report.html"
    assert _cli("audit", "report", audit_id, "-o", str(report)).exit_code == 0
    assert report.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    wrong = _cli("audit", "report", audit_id, "-o", str(tmp_path / "report.pdf"))
    assert wrong.exit_code == 1 and ".xlsx, .html or .csv" in wrong.output

    closed = _cli("audit", "close", audit_id, "--mark-missing", "--json")
    assert closed.exit_code == 0, closed.output
    assert json.loads(closed.stdout)["marked_missing"] == ["HW-DELETED", "HW-MISSING"]
    refused = _cli("audit", "scan", audit_id, "HW-B", "--at", "ROOM-101")
    assert refused.exit_code == 1 and "no longer accepts scans" in refused.output
    shown = json.loads(_cli("audit", "show", audit_id, "--json").stdout)
    assert shown["status"] == "closed" and shown["corrections"]["marked_missing"] == 2
    unknown = _cli("audit", "show", "AUD-NOPE")
    assert unknown.exit_code == 1 and "No audit campaign" in unknown.output
    overdue = _cli("audit", "overdue", "--as-of", "2099-01-01", "--json")
    assert overdue.exit_code == 0
    assert "HW-B" in {r["key"] for r in json.loads(overdue.stdout)}
