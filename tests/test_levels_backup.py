"""Service records in backups: levels and their assignments, fault records with their
signature and history, maintenance rounds, checks and schedules survive a round trip; a
backup of format version 1 (before service records) still restores."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json

from PIL import Image

from cmdb.backup.fileformat import FORMAT_VERSION
from cmdb.faults import service as faults
from cmdb.backup.service import restore_backup, write_backup
from cmdb.levels import service as levels
from cmdb.levels.hours import CHINA
from cmdb.maintenance import service as rounds
from cmdb.policy import Caller
from tests.test_backup import fresh_engine, rewrite, target  # noqa: F401
from tests.web_support import small_estate

ADMIN = Caller("admin", "admin")
AT = dt.datetime(2026, 9, 24, 16, 30, tzinfo=CHINA)


def contents(graph) -> dict:
    later = AT + dt.timedelta(days=30)
    return {
        "levels": [lv.as_dict() for lv in levels.list_levels(graph)],
        "applied": levels.applicable_level(graph, "HW-1").as_dict(),
        "faults": [f.as_dict() for f in faults.list_faults(graph, later)],
        "signature": faults.signature_png(graph, "F-202609-0001"),
        "history": faults.history(graph, "F-202609-0001"),
        "rounds": [r.as_dict() for r in rounds.list_rounds(graph)],
        "schedules": rounds.schedule_status(graph, later.date()),
        "open_faults": faults.open_faults_of(graph, ["HW-1", "HW-2"]),
    }


def test_service_records_round_trip(embedded_graph, target, tmp_path):  # noqa: F811
    graph = embedded_graph
    small_estate(graph)
    levels.install_defaults(graph, ADMIN)
    levels.assign(graph, ADMIN, "vip", ["APP-1"])
    png = io.BytesIO()
    Image.new("RGB", (120, 40), "white").save(png, "PNG")
    f = faults.open_fault(graph, ADMIN, keys=["HW-1", "HW-2"], title="power cut 断电", severity="A",
                          reported_by="Zhou", reported_via="phone", at=AT)
    faults.assign(graph, ADMIN, f.id, engineer="Li", at=AT + dt.timedelta(minutes=10))
    faults.resolve(graph, ADMIN, f.id, resolution="ok", at=AT + dt.timedelta(hours=1), observe_hours=1)
    faults.close(graph, ADMIN, f.id, signed_by="Zhao", at=AT + dt.timedelta(hours=3), signature_png=png.getvalue())
    faults.open_fault(graph, ADMIN, keys=["HW-2"], title="still open", severity="C",
                      reported_by="Zhou", reported_via="api", at=AT)
    r = rounds.start_round(graph, ADMIN, "September", scope=["S1-B-202"], at=AT)
    device = r.expected[0]
    items = rounds.checklist_for(r.checklists, device["category"])
    rounds.record_check(graph, ADMIN, r.id, device["key"], results=[(False, "dust")] + [(True, "")] * (len(items) - 1), at=AT)
    rounds.add_schedule(graph, ADMIN, "monthly", scope="S1-B", frequency="monthly", at=AT)
    before = contents(graph)

    result = write_backup(graph, tmp_path / "service.jsonl.gz")
    assert {k: v for k, v in result.counts["nodes"].items() if k in (
        "ServiceLevel", "FaultRecord", "MaintenanceRound", "MaintenanceCheck", "MaintenanceSchedule")} == {
        "ServiceLevel": 4, "FaultRecord": 2, "MaintenanceRound": 1, "MaintenanceCheck": 1,
        "MaintenanceSchedule": 1}
    assert result.counts["node_relationships"] == {"SERVICE_LEVEL_OF": 1, "CONCERNS": 3}
    with gzip.open(result.path, "rt", encoding="utf-8") as fh:
        assert json.loads(fh.readline())["format_version"] == FORMAT_VERSION == 3

    restored = restore_backup(target, result.path)
    assert restored.verified
    assert contents(target) == before


def test_a_version_1_backup_still_restores(embedded_graph, target, tmp_path):  # noqa: F811
    small_estate(embedded_graph)
    current = write_backup(embedded_graph, tmp_path / "now.jsonl.gz").path

    def as_version_1(lines):
        header = json.loads(lines[0])
        header["format_version"] = 1
        return [json.dumps(header, ensure_ascii=False)] + lines[1:]
    old = rewrite(current, tmp_path / "v1.jsonl.gz", as_version_1)
    restored = restore_backup(target, old)
    assert restored.verified and target.get_ci("HW-1").properties["name"] == "db server"
    assert levels.list_levels(target) == [] and faults.list_faults(target, AT) == []
