"""Backups carry the service records (contracts, repair orders, spare issues, stock minimums,
their relationships and STANDS_IN_FOR), and backups written before them still restore."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cmdb import policy
from cmdb.backup.fileformat import FORMAT_VERSION, read_header
from cmdb.demo import load_demo
from cmdb.backup.service import restore_backup, write_backup
from cmdb.graph.tokens import authenticate
from cmdb.service import contracts, repairs, spares
from tests.test_backup import fresh_engine, target  # noqa: F401  (fixtures)

OLD_BACKUP = Path(__file__).parent / "data" / "backup-v1-demo.cmdb-backup.gz"


def test_a_backup_written_before_the_service_records_restores(target):  # noqa: F811
    header = read_header(OLD_BACKUP)
    assert header["format_version"] == 1 < FORMAT_VERSION
    restored = restore_backup(target, OLD_BACKUP)
    assert restored.verified
    assert restored.target["cis"] == {"Location": 19, "Hardware": 150, "SoftwareImage": 6,
                                      "Application": 30}
    assert {k: v for k, v in restored.target["nodes"].items() if v} == {"Change": 631, "ApiToken": 1}
    # The restored register works with the service records.
    caller = policy.Caller("t", "admin")
    contracts.add_contract(target, caller, "NEW-1", {"vendor": "Dell", "type": "warranty",
                                                     "start": "2026-01-01", "end": "2028-01-01"},
                           ["PC-0001"])
    assert target.get_ci("PC-0001").properties["warranty_end"] == "2028-01-01"


def test_service_records_round_trip_with_verified_counts(embedded_graph, target, tmp_path):  # noqa: F811
    g = embedded_graph
    load_demo(g, actor="demo", today=dt.date(2026, 11, 30))
    staff = policy.Caller("li", "asset_staff")
    done = repairs.open_repair(g, staff, "PC-0006", "no display", send_to="Lenovo")
    open_one = repairs.open_repair(g, staff, "PC-0002", "fan noise")
    repairs.add_note(g, staff, open_one["id"], "parts ordered 已订购配件")
    returned = spares.issue_spare(g, staff, done["id"], "PC-0058")
    repairs.record_return(g, staff, done["id"])
    repairs.close_repair(g, staff, done["id"], "repaired")
    out = spares.issue_spare(g, staff, open_one["id"], "PC-0058")

    backup = write_backup(g, tmp_path / "service.cmdb-backup.gz")
    nodes = backup.counts["nodes"]
    assert (nodes["Contract"], nodes["RepairOrder"], nodes["SpareIssue"], nodes["SpareMinimum"]) == (5, 2, 2, 1)
    covered = sum(len(contracts.get_contract(g, c["number"])["covers"])
                  for c in contracts.list_contracts(g))
    assert backup.counts["node_relationships"] == {"COVERS": covered, "CONCERNS": 2 + 2 * 2}
    assert backup.counts["relationships"]["STANDS_IN_FOR"] == 1
    assert read_header(backup.path)["format_version"] == FORMAT_VERSION

    restored = restore_backup(target, backup.path)
    assert restored.verified and restored.written == backup.counts and restored.target == backup.counts
    assert contracts.list_contracts(target, today=dt.date(2026, 11, 30)) == \
        contracts.list_contracts(g, today=dt.date(2026, 11, 30))
    assert repairs.list_repairs(target) == repairs.list_repairs(g)
    assert spares.list_issues(target) == spares.list_issues(g)
    assert spares.stock(target) == spares.stock(g)
    assert [n["text"] for n in repairs.get_repair(target, open_one["id"])["notes"]] == ["parts ordered 已订购配件"]
    assert {r["key"] for r in target.neighbours("PC-0058", direction="out", types=["STANDS_IN_FOR"])} == {"PC-0002"}
    assert spares.get_issue(target, returned["id"])["returned_at"]
    assert not spares.get_issue(target, out["id"]).get("returned_at")
    # The restored register carries on: the open repair's spare comes back.
    repairs.close_repair(target, staff, open_one["id"], "repaired")
    assert target.get_ci("PC-0058").properties["status"] == "in_stock"
