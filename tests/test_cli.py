"""The core ``cmdb`` commands, run in-process on the session's embedded engine."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cmdb.cli import app
from cmdb.demo import demo_estate

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def run_json(*args: str):
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_demo_then_list_hardware_shows_the_estate(embedded_graph):
    summary = run_json("demo")
    cis, links = demo_estate()
    assert summary["created"] == len(cis) and summary["relationships_created"] == len(links)
    expected_hardware = sorted(c.key for c in cis if c.kind == "Hardware")
    listed = run_json("ci", "list", "--kind", "Hardware", "--limit", "1000")
    assert listed["total"] == len(expected_hardware) == 150
    assert [i["key"] for i in listed["items"]] == expected_hardware
    categories = {i["category"] for i in listed["items"]}
    assert {"server", "switch", "storage", "pc", "laptop", "printer", "camera", "nvr", "ups"} <= categories
    again = run_json("demo")
    assert (again["created"], again["updated"], again["relationships_created"]) == (0, 0, 0)
    assert run_json("demo", "--if-empty")["skipped"] == "the register is not empty"


def test_add_show_set_link_history_delete(embedded_graph):
    assert run("ci", "add", "Location", "R1", "--set", "name=Room 1", "--set", "type=room").exit_code == 0
    created = run_json("ci", "add", "Hardware", "000042", "--set", "name=打印机", "--set", "ram_gb=8")
    assert created == {**created, "key": "000042", "kind": "Hardware", "name": "打印机", "ram_gb": 8}
    assert run_json("link", "000042", "LOCATED_IN", "R1") == {"created": True, "replaced": []}
    shown = run_json("ci", "show", "000042")
    assert shown["location_path"] == [{"key": "R1", "name": "Room 1", "type": "room"}]
    assert shown["relationships"] == [{"direction": "out", "type": "LOCATED_IN", "key": "R1",
                                       "kind": "Location", "name": "Room 1"}]
    assert run_json("ci", "set", "000042", "ram_gb=16", "serial=")["ram_gb"] == 16
    # the same --set as `ci add` works too; nothing to change is an error
    assert run_json("ci", "set", "000042", "--set", "ram_gb=16")["ram_gb"] == 16
    empty = run("ci", "set", "000042")
    assert empty.exit_code == 1 and "Say what to change" in empty.stderr
    deleted = run("ci", "delete", "R1")
    assert deleted.exit_code == 1 and "still needed by 1 CI(s): 000042 (LOCATED_IN)" in deleted.stderr
    assert run_json("unlink", "000042", "LOCATED_IN", "R1") == {"removed": True}
    history = run_json("history", "000042")
    assert [e["action"] for e in history["items"]] == ["unlink", "update", "link", "create"]
    assert {e["actor"] for e in history["items"]} == {history["items"][0]["actor"]}
    assert history["items"][0]["actor"].startswith("cli")
    assert run_json("ci", "delete", "R1") == {"deleted": "R1", "relationships_removed": []}


def test_invalid_input_exits_1_with_the_reason_and_usage_errors_exit_2(embedded_graph):
    bad_type = run("ci", "add", "Hardware", "H1", "--set", "ram_gb=lots")
    assert bad_type.exit_code == 1
    assert "Hardware.ram_gb: 'lots' is not valid; expected a number" in bad_type.stderr
    wrong_kind = run("ci", "add", "Server", "H1")
    assert wrong_kind.exit_code == 1 and "allowed: Location, Hardware" in wrong_kind.stderr
    unknown = run("ci", "show", "NOPE", "--json")
    assert unknown.exit_code == 1
    assert json.loads(unknown.stdout)["error"]["code"] == "unknown_key"
    forbidden = run("link", "H1", "RUNS_ON", "H1")
    assert forbidden.exit_code == 1
    assert "Traceback" not in forbidden.output
    assert run("ci", "list", "--limit", "0").exit_code == 2
    assert run("ci", "frobnicate").exit_code == 2
    assert run_json("ci", "list")["total"] == 0


def test_tokens_are_printed_once_and_stored_hashed(embedded_graph):
    created = run_json("token", "create", "--name", "rev", "--role", "reviewer")
    assert created["name"] == "rev" and created["role"] == "reviewer" and created["token"].startswith("cmdb_")
    stored = embedded_graph.read("MATCH (t:ApiToken) RETURN properties(t) AS t")
    assert len(stored) == 1 and created["token"] not in json.dumps(stored)
    listed = run_json("token", "list")
    assert [(t["name"], t["role"], t["revoked_at"]) for t in listed] == [("rev", "reviewer", None)]
    assert run("token", "create", "--name", "x", "--role", "god").exit_code == 1
    assert run("token", "create", "--name", "rev", "--role", "viewer").exit_code == 1
    assert run_json("token", "revoke", "rev") == {"revoked": "rev"}
    assert run("token", "revoke", "rev").exit_code == 1
