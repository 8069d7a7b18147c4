"""Backup and restore on real engines: round trips into a fresh data directory (and into Neo4j
when one is configured), bad files refused before anything is written, non-empty targets,
--merge, the consistency check, the CLI and the admin-only download."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cmdb.api.app import create_app
from cmdb.audit.campaigns import start_campaign
from cmdb.backup.fileformat import FORMAT_VERSION, InvalidBackup, validate
from cmdb.cli import app as cli_app
from cmdb.errors import Conflict
from cmdb.graph import Graph
from cmdb.graph import audit as graph_audit
from cmdb.backup.service import fingerprint, restore_backup, write_backup
from cmdb.graph.engine import EmbeddedServer
from cmdb.graph import CIInput, Link
from cmdb.graph.tokens import ROLES, create_token, list_tokens, revoke_token
from cmdb.settings import Settings

API = "/api/v1"


# --- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def fresh_engine(tmp_path_factory):
    """A second embedded engine on its own, new data directory (same JVM, its own server)."""
    data_dir = tmp_path_factory.mktemp("restore-target")
    graph = Graph.connect(Settings(data_dir=data_dir, neo4j_uri=None))
    yield graph
    graph.close()
    server = EmbeddedServer.running_in_this_process(data_dir.resolve())
    if server is not None:
        server.stop()


@pytest.fixture
def target(fresh_engine) -> Graph:
    fresh_engine.wipe()
    return fresh_engine


def build_estate(graph: Graph) -> str:
    """A small register exercising every kind of content a backup carries. Returns the
    audit campaign's id."""
    graph.upsert_cis([
        CIInput("SITE-上海", "Location", {"type": "site", "name": "上海 数据中心", "address": "Zürich-Straße 1"}),
        CIInput("RACK-A1", "Location", {"type": "rack", "name": "Rack A1"}),
        CIInput("000123", "Hardware", {"category": "server", "name": "核心服务器 ✓", "status": "in_use",
                                       "cpu_cores": 16, "ram_gb": 16.5, "disk_gb": 512,
                                       "serial": "0000789", "purchase_date": "2024-01-05",
                                       "warranty_end": "2029-01-04"}),
        CIInput("00042", "Hardware", {"category": "switch", "name": "Switch\twith tab", "ram_gb": 0.25}),
        CIInput("IMG-W11", "SoftwareImage", {"name": "Windows 11", "version": "23H2.01",
                                             "supported_models": ["R740", "0012", "Ärger"],
                                             "min_ram_gb": 8, "end_of_support": "2027-10-12"}),
        CIInput("APP-ERP", "Application", {"name": "ERP", "criticality": "vip", "min_hosts": 1}),
        CIInput("APP-DB", "Application", {"name": "Database", "criticality": "high"}),
    ], actor="alice")
    graph.link_many([
        Link("RACK-A1", "LOCATED_IN", "SITE-上海"),
        Link("000123", "LOCATED_IN", "RACK-A1"),
        Link("00042", "LOCATED_IN", "RACK-A1"),
        Link("000123", "CONNECTED_TO", "00042"),
        Link("000123", "RUNS_IMAGE", "IMG-W11"),
        Link("APP-ERP", "RUNS_ON", "000123"),
        Link("APP-ERP", "DEPENDS_ON", "APP-DB"),
        Link("APP-DB", "RUNS_ON", "000123"),
    ], actor="alice")
    graph.update_ci("000123", {"status": "in_repair", "notes": "fan replaced"}, actor="bob")
    create_token(graph, "backup-admin", "admin")
    create_token(graph, "old-viewer", "viewer")
    revoke_token(graph, "old-viewer")
    campaign = start_campaign(graph, "Inventory H2 2026", actor="carol")
    graph_audit.add_scans(graph, campaign.id, [
        {"id": "scan-1", "campaign_id": campaign.id, "tag": "000123", "location": "RACK-A1",
         "at": "2026-11-20T09:00:00.000000Z", "by": "dave", "note": "ok"},
        {"id": "scan-2", "campaign_id": campaign.id, "tag": "UNKNOWN-9", "location": "RACK-A1",
         "at": "2026-11-20T09:01:00.000000Z", "by": "dave"},
    ])
    return campaign.id


def register_contents(graph: Graph, campaign_id: str) -> dict:
    """Everything a user can see, read through the store's own functions (not the backup's)."""
    cis = graph.list_cis(limit=10_000).items
    return {
        "cis": {ci.key: (ci.kind, ci.properties) for ci in cis},
        "relationships": {ci.key: graph.relationships(ci.key) for ci in cis},
        "history": {ci.key: [e.as_dict() for e in graph.history(ci.key, limit=1000)[0]] for ci in cis},
        "tokens": list_tokens(graph),
        "campaigns": graph_audit.campaigns(graph),
        "scans": sorted(graph_audit.scans(graph, campaign_id), key=lambda s: s["id"]),
    }


def lines(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def rewrite(src: Path, dst: Path, change) -> Path:
    with gzip.open(src, "rt", encoding="utf-8") as f:
        raw = f.read().splitlines()
    with gzip.open(dst, "wt", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in change(raw)))
    return dst


def is_empty(graph: Graph) -> bool:
    """Nothing but the vocabulary every register starts with."""
    from cmdb.graph.schema import VOCABULARY_LABELS
    from cmdb.graph.vocabulary import Vocabulary

    counts = fingerprint(graph).counts
    vocabulary = {name: counts["nodes"].pop(name, 0) for name in VOCABULARY_LABELS}
    shipped = Vocabulary.shipped()
    return not any(n for group in counts.values() for n in group.values()) and vocabulary == {
        "Category": len(shipped.categories), "StatusWord": len(shipped.statuses),
        "CustomField": 0, "VocabularyDefaults": 1}


@pytest.fixture
def backup_file(embedded_graph, tmp_path) -> tuple[Path, str]:
    campaign_id = build_estate(embedded_graph)
    path = tmp_path / "register.jsonl.gz"
    write_backup(embedded_graph, path)
    return path, campaign_id


# --- round trips ----------------------------------------------------------------------------------


def test_round_trip_into_a_fresh_data_directory(embedded_graph, target, tmp_path):
    campaign_id = build_estate(embedded_graph)
    before = register_contents(embedded_graph, campaign_id)
    first = write_backup(embedded_graph, tmp_path / "one.jsonl.gz")
    assert first.counts["cis"] == {"Location": 2, "Hardware": 2, "SoftwareImage": 1, "Application": 2}
    assert first.counts["relationships"] == {"LOCATED_IN": 3, "CONNECTED_TO": 1, "RUNS_IMAGE": 1,
                                             "RUNS_ON": 2, "DEPENDS_ON": 1, "SUPERSEDES": 0}
    assert first.counts["nodes"]["ApiToken"] == 2 and first.counts["nodes"]["AuditScan"] == 2
    assert first.counts["nodes"]["AuditCampaign"] == 1
    assert first.counts["nodes"]["Change"] == 7 + 8 + 1

    restored = restore_backup(target, first.path)
    assert restored.verified and restored.mode == "into-empty"
    assert restored.written == first.counts and restored.target == first.counts

    assert register_contents(target, campaign_id) == before
    ci = target.get_ci("000123")
    assert ci.properties["cpu_cores"] == 16 and type(ci.properties["cpu_cores"]) is int
    assert ci.properties["ram_gb"] == 16.5 and type(ci.properties["ram_gb"]) is float
    assert ci.properties["serial"] == "0000789"
    assert target.get_ci("00042").properties["ram_gb"] == 0.25
    assert target.get_ci("SITE-上海").properties["address"] == "Zürich-Straße 1"

    second = write_backup(target, tmp_path / "two.jsonl.gz")
    one, two = lines(first.path), lines(second.path)
    assert one[1:] == two[1:]
    assert {k: v for k, v in one[0].items() if k != "created_at"} == \
        {k: v for k, v in two[0].items() if k != "created_at"}


def test_restore_writes_no_history_of_its_own(backup_file, target):
    path, _ = backup_file
    restore_backup(target, path)
    file_changes = {r["props"]["id"] for r in lines(path) if r.get("label") == "Change"}
    history = [e.id for key in target.get_cis(["000123", "APP-ERP", "RACK-A1"])
               for e in target.history(key, limit=1000)[0]]
    assert set(history) <= file_changes
    assert fingerprint(target).counts["nodes"]["Change"] == len(file_changes)


def test_round_trip_embedded_to_neo4j(neo4j_settings, embedded_graph, tmp_path):
    if neo4j_settings is None:
        pytest.skip("CMDB_TEST_NEO4J_URI is not set: the embedded -> Neo4j round trip needs a "
                    "Neo4j 5 server (see README, 'Backup, restore and moving to Neo4j')")
    campaign_id = build_estate(embedded_graph)
    before = register_contents(embedded_graph, campaign_id)
    first = write_backup(embedded_graph, tmp_path / "embedded.jsonl.gz")
    neo4j = Graph.connect(neo4j_settings)
    try:
        neo4j.wipe()
        restored = restore_backup(neo4j, first.path)
        assert restored.verified and restored.target == first.counts
        assert register_contents(neo4j, campaign_id) == before
        second = write_backup(neo4j, tmp_path / "neo4j.jsonl.gz")
        one, two = lines(first.path), lines(second.path)
        assert two[0]["source_engine"] == "neo4j" and one[0]["source_engine"] == "embedded"
        assert one[1:] == two[1:]
    finally:
        neo4j.wipe()
        neo4j.close()


# --- refusals ---------------------------------------------------------------------------------------


def _truncate_bytes(src: Path, dst: Path) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 2])
    return dst


def _flip_bytes(src: Path, dst: Path) -> Path:
    data = bytearray(src.read_bytes())
    middle = len(data) // 2
    for i in range(middle, middle + 8):
        data[i] ^= 0xFF
    dst.write_bytes(bytes(data))
    return dst


def _newer(raw: list[str]) -> list[str]:
    header = json.loads(raw[0])
    header["format_version"] = FORMAT_VERSION + 1
    return [json.dumps(header)] + raw[1:]


def _altered_value(raw: list[str]) -> list[str]:
    return [raw[0]] + [line.replace("Rack A1", "Rack B2") for line in raw[1:]]


BAD_FILES = {
    "truncated in the middle of the data": (_truncate_bytes, "is truncated"),
    "truncated after a whole line": (lambda s, d: rewrite(s, d, lambda raw: raw[:-1]), "is truncated"),
    "bytes damaged": (_flip_bytes, "is corrupted"),
    "a line that is not JSON": (lambda s, d: rewrite(s, d, lambda raw: raw[:3] + ['{"type": "ci", "kind'] + raw[4:]),
                                "line 4 is not valid JSON"),
    "a value changed": (lambda s, d: rewrite(s, d, _altered_value), "checksum"),
    "a record removed": (lambda s, d: rewrite(s, d, lambda raw: raw[:2] + raw[3:]), "corrupted"),
    "a newer format version": (lambda s, d: rewrite(s, d, _newer), f"format version {FORMAT_VERSION + 1}"),
    "a CSV file": (lambda s, d: (d.write_text("key,kind\n000123,Hardware\n"), d)[1], "not gzip-compressed"),
    "gzip JSON of something else": (lambda s, d: rewrite(s, d, lambda raw: ['{"hello": "world"}']),
                                    "is not a CMDB backup"),
    "an empty file": (lambda s, d: (d.write_bytes(b""), d)[1], "is not a CMDB backup"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_are_refused_before_anything_is_written(case, backup_file, target, tmp_path):
    make, message = BAD_FILES[case]
    bad = make(backup_file[0], tmp_path / "bad.jsonl.gz")
    with pytest.raises(InvalidBackup) as caught:
        restore_backup(target, bad)
    assert message in caught.value.message, caught.value.message
    assert str(bad) in caught.value.message
    assert is_empty(target)
    with pytest.raises(InvalidBackup):
        restore_backup(target, bad, merge=True)
    assert is_empty(target)


def test_a_missing_file_is_refused(target, tmp_path):
    with pytest.raises(InvalidBackup, match="Cannot read"):
        restore_backup(target, tmp_path / "nope.jsonl.gz")


def test_restore_into_a_non_empty_target_is_refused(backup_file, target):
    target.upsert_cis([CIInput("LOCAL-1", "Hardware", {"name": "already here"})], actor="erin")
    with pytest.raises(Conflict, match="is not empty: it holds 1 Hardware"):
        restore_backup(target, backup_file[0])
    assert {ci.key for ci in target.list_cis().items} == {"LOCAL-1"}
    assert fingerprint(target).counts["nodes"]["Change"] == 1


def test_backup_does_not_overwrite_unless_asked(backup_file, embedded_graph):
    path, _ = backup_file
    before = path.read_bytes()
    with pytest.raises(Conflict, match="already exists"):
        write_backup(embedded_graph, path)
    assert path.read_bytes() == before
    assert write_backup(embedded_graph, path, overwrite=True).records == validate(path).records


# --- merge ------------------------------------------------------------------------------------------


def test_merge_over_an_existing_estate(backup_file, target):
    path, campaign_id = backup_file
    source = {r["props"]["key"]: r["props"] for r in lines(path) if r.get("type") == "ci"}
    target.upsert_cis([
        CIInput("000123", "Hardware", {"name": "stale copy", "vendor": "Old Vendor"}),
        CIInput("ROOM-9", "Location", {"type": "room"}),
        CIInput("LOCAL-1", "Hardware", {"name": "only in the target"}),
    ], actor="erin")
    target.link_many([Link("000123", "LOCATED_IN", "ROOM-9"), Link("LOCAL-1", "LOCATED_IN", "ROOM-9")],
                     actor="erin")
    local_changes = fingerprint(target).counts["nodes"]["Change"]

    result = restore_backup(target, path, merge=True)
    assert result.verified and result.mode == "merge"

    keys = {ci.key for ci in target.list_cis(limit=100).items}
    assert keys == set(source) | {"ROOM-9", "LOCAL-1"}
    merged = target.get_ci("000123")
    assert {"key": "000123", **merged.properties} == source["000123"]  # the file's copy replaces it
    assert "vendor" not in merged.properties
    located = {(r["type"], r["key"]) for r in target.relationships("000123") if r["direction"] == "out"}
    assert located == {("LOCATED_IN", "RACK-A1"), ("CONNECTED_TO", "00042"), ("RUNS_IMAGE", "IMG-W11")}
    assert {(r["type"], r["key"]) for r in target.relationships("LOCAL-1")} == {("LOCATED_IN", "ROOM-9")}
    file_changes = sum(1 for r in lines(path) if r.get("label") == "Change")
    assert fingerprint(target).counts["nodes"]["Change"] == local_changes + file_changes
    assert len(graph_audit.scans(target, campaign_id)) == 2

    again = restore_backup(target, path, merge=True)
    assert again.verified and again.target == result.target


def test_merge_refuses_a_key_of_another_kind(backup_file, target):
    target.upsert_cis([CIInput("000123", "Location", {"type": "room"})], actor="erin")
    with pytest.raises(Conflict, match="'000123' \\(Location here, Hardware in the file\\)"):
        restore_backup(target, backup_file[0], merge=True)
    assert [ci.key for ci in target.list_cis().items] == ["000123"]
    assert fingerprint(target).counts["nodes"]["Change"] == 1


# --- consistency ------------------------------------------------------------------------------------


def test_a_change_during_the_backup_starts_it_again(embedded_graph, tmp_path):
    build_estate(embedded_graph)
    written = []

    def progress(phase, done, total):
        if not written:
            written.append(embedded_graph.create_ci("Hardware", "LATE-1", {"name": "late"}, actor="x"))

    result = write_backup(embedded_graph, tmp_path / "b.jsonl.gz", progress=progress)
    assert result.attempts == 2
    assert result.counts["cis"]["Hardware"] == 3
    assert "LATE-1" in {r["props"]["key"] for r in lines(result.path) if r.get("type") == "ci"}


# --- command line -----------------------------------------------------------------------------------


def test_cli_backup_and_restore(embedded_graph, tmp_path):
    campaign_id = build_estate(embedded_graph)
    before = register_contents(embedded_graph, campaign_id)
    runner = CliRunner()
    path = tmp_path / "cli.jsonl.gz"

    done = runner.invoke(cli_app, ["backup", str(path), "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["counts"]["cis"]["Hardware"] == 2 and report["durations"]["total_s"] > 0

    refused = runner.invoke(cli_app, ["restore", str(path), "--json"])
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["error"]["code"] == "conflict"

    embedded_graph.wipe()
    restored = runner.invoke(cli_app, ["restore", str(path), "--into-empty", "--json"])
    assert restored.exit_code == 0, restored.output
    report = json.loads(restored.stdout)
    assert report["verified"] is True and report["target_counts"] == report["counts"]
    assert set(report["durations"]) == {"validate_s", "prepare_s", "write_s", "verify_s", "total_s"}
    assert register_contents(embedded_graph, campaign_id) == before

    both = runner.invoke(cli_app, ["restore", str(path), "--into-empty", "--merge"])
    assert both.exit_code == 2

    junk = tmp_path / "junk.jsonl.gz"
    junk.write_text("not a backup")
    bad = runner.invoke(cli_app, ["restore", str(junk)])
    assert bad.exit_code == 1 and "not gzip-compressed" in bad.output and "Traceback" not in bad.output


# --- download ---------------------------------------------------------------------------------------


def test_download_is_for_admins_only(embedded_graph, embedded_settings, tmp_path):
    build_estate(embedded_graph)
    tokens = {role: create_token(embedded_graph, f"{role}-user", role) for role in ROLES}
    app = create_app(embedded_settings, graph=embedded_graph)
    client = TestClient(app, raise_server_exceptions=False)

    response = client.get(f"{API}/backup", headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/gzip"
    assert response.headers["content-disposition"].startswith('attachment; filename="cmdb-backup-')
    path = tmp_path / "download.jsonl.gz"
    path.write_bytes(response.content)
    assert validate(path).counts == write_backup(embedded_graph, tmp_path / "cli.jsonl.gz").counts

    for role in set(ROLES) - {"admin"}:
        denied = client.get(f"{API}/backup", headers={"Authorization": f"Bearer {tokens[role]}"})
        assert denied.status_code == 403, role
        assert denied.json()["error"]["code"] == "forbidden"
    assert client.get(f"{API}/backup").status_code == 401


def test_small_sort_runs_give_the_same_file(embedded_graph, tmp_path):
    build_estate(embedded_graph)
    whole = write_backup(embedded_graph, tmp_path / "whole.jsonl.gz")
    spilled = write_backup(embedded_graph, tmp_path / "spilled.jsonl.gz", run_size=3)
    assert lines(whole.path)[1:] == lines(spilled.path)[1:]
    keys = [r["props"]["key"] for r in lines(spilled.path) if r.get("type") == "ci"]
    assert keys == sorted(keys)
