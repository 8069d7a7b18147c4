"""Hostile and careless input: every request is refused clearly, the server keeps answering,
and nothing is written.

Each test sends one kind of attack (a far-apart-cells workbook, a YAML alias bomb, an oversized
label, a big unauthenticated body, an import beyond the caller's role, a scoped token outside
its subtree, a revoked bootstrap admin, a stale ETag, control characters, full-width formula
text, duplicate keys in a backup) and checks the refusal, a following read, and the register.
"""

from __future__ import annotations

import io
import signal
import socket
import subprocess
import threading
import time

import httpx
import pytest
import xlsxwriter

from cmdb.api.app import create_app
from cmdb.graph.tokens import create_token
from tests.test_api import API, Api, assert_error
from tests.test_api_serve import CMDB, START_TIMEOUT, Served, clean_env


def far_apart_cells_workbook() -> bytes:
    """About 5 KB: a heading in A1 and one cell in XFD200000 (3.3 billion cells if densified)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer)
    sheet = book.add_worksheet("Hardware")
    sheet.write_row(0, 0, ["key", "category"])
    sheet.write(199_999, 16_383, "far away")
    book.close()
    return buffer.getvalue()


def workbook(rows: list[list[str]], sheet_name: str = "Hardware") -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer)
    sheet = book.add_worksheet(sheet_name)
    for i, row in enumerate(rows):
        sheet.write_row(i, 0, row)
    book.close()
    return buffer.getvalue()


def register_keys(client) -> set[str]:
    page = client.get(f"{API}/cis", params={"limit": 500}).json()
    return {ci["key"] for ci in page["items"]}


@pytest.fixture
def api(embedded_graph, embedded_settings) -> Api:
    return Api(embedded_graph, embedded_settings)


# --- (a) untrusted files ------------------------------------------------------------------


def test_far_apart_cells_workbook_is_refused_and_the_same_server_keeps_answering(tmp_path):
    """Through a real ``cmdb serve``: the dimension check refuses the file before any reader
    densifies it; with that check lifted, the reader runs out of its memory limit in its child
    process. Either way: 413 naming the file and the limit, the next read answers within a
    second, the CLI exits 1, and the register holds what it held."""
    data_dir, cwd = tmp_path / "data", tmp_path / "cwd"
    cwd.mkdir()
    hostile = far_apart_cells_workbook()
    assert len(hostile) < 10_000
    served = Served(data_dir, cwd)
    try:
        admin = {"Authorization": f"Bearer {served.tokens_printed()[0]}"}
        created = httpx.post(f"{served.base}{API}/cis", headers=admin, timeout=30,
                             json={"key": "SRV-1", "kind": "Hardware", "properties": {"category": "server"}})
        assert created.status_code == 201, created.text

        refused = httpx.post(f"{served.base}{API}/imports", headers=admin, timeout=60,
                             files={"file": ("far.xlsx", hostile)})
        error = assert_error(refused, 413, "too_large")
        assert "far.xlsx" in error["message"] and "CMDB_MAX_SHEET_CELLS" in error["message"]
        assert error["details"]["sheet"] == "Hardware"
        assert (error["details"]["rows"], error["details"]["columns"]) == (200_000, 16_384)

        started = time.monotonic()
        got = httpx.get(f"{served.base}{API}/cis/SRV-1", headers=admin, timeout=30)
        assert got.status_code == 200 and time.monotonic() - started < 1.0
        listed = httpx.get(f"{served.base}{API}/cis", headers=admin, timeout=30).json()
        assert {ci["key"] for ci in listed["items"]} == {"SRV-1"}

        # The command line reads files the same way: exit 1 with the reason, nothing written.
        path = tmp_path / "far.xlsx"
        path.write_bytes(hostile)
        result = subprocess.run([CMDB, "import", str(path)], env=clean_env(data_dir), cwd=cwd,
                                capture_output=True, text=True, timeout=START_TIMEOUT)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "far.xlsx" in result.stderr and "CMDB_MAX_SHEET_CELLS" in result.stderr
        assert "Traceback" not in result.stdout + result.stderr
    finally:
        assert served.stop(signal.SIGTERM) == 0, served.output

    # Without the dimension check the reader itself overruns: its child process dies, not the server.
    served = Served(data_dir, cwd, {"CMDB_MAX_SHEET_CELLS": str(10**12),
                                    "CMDB_MAX_PARSE_MEMORY_MB": "1024"})
    try:
        refused = httpx.post(f"{served.base}{API}/imports", headers=admin, timeout=60,
                             files={"file": ("far.xlsx", hostile)})
        error = assert_error(refused, 413, "parse_limit")
        assert "far.xlsx" in error["message"] and "1,024 MB" in error["message"]
        assert error["details"]["memory_limit_mb"] == 1024
        started = time.monotonic()
        got = httpx.get(f"{served.base}{API}/cis/SRV-1", headers=admin, timeout=30)
        assert got.status_code == 200 and time.monotonic() - started < 1.0
        listed = httpx.get(f"{served.base}{API}/cis", headers=admin, timeout=30).json()
        assert {ci["key"] for ci in listed["items"]} == {"SRV-1"}
    finally:
        assert served.stop(signal.SIGTERM) == 0, served.output


def test_a_reader_running_past_its_time_limit_is_stopped(embedded_graph, embedded_settings):
    from importers.isolation import ParseLimitExceeded, run_isolated

    started = time.monotonic()
    with pytest.raises(ParseLimitExceeded, match=r"slow.xlsx took longer than the limit of 0.5 seconds"):
        run_isolated(time.sleep, (30,), name="slow.xlsx", memory_mb=1024, seconds=0.5)
    assert time.monotonic() - started < 10


ALIAS_BOMB = "\n".join(
    ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]
    + ["columns: *a11"]).encode()


def test_yaml_alias_bomb_mapping_is_refused_without_stalling_other_requests(api):
    before = register_keys(api.admin)
    upload = workbook([["key", "category"], ["NEW-1", "server"]])
    refused = api.admin.post(f"{API}/imports", files={"file": ("hw.xlsx", upload),
                                                      "mapping_file": ("bomb.yaml", ALIAS_BOMB)})
    error = assert_error(refused, 422)
    assert "bomb.yaml" in error["message"] and "anchor or alias" in error["message"]
    too_big = api.admin.post(f"{API}/imports", files={"file": ("hw.xlsx", upload),
                                                      "mapping_file": ("big.yaml", b"#" * 300_000)})
    assert_error(too_big, 413)
    assert api.admin.get(f"{API}/cis/NEW-1").status_code == 404
    assert register_keys(api.admin) == before
    # A plain mapping still works the same way.
    plain = api.admin.post(f"{API}/imports", files={"file": ("hw.xlsx", upload),
                                                    "mapping_file": ("m.json", b'{"kind": "Hardware"}')})
    assert plain.status_code == 200, plain.text
    assert register_keys(api.admin) == before | {"NEW-1"}


# --- (b) one policy for every write path ----------------------------------------------------


def two_sites(api: Api) -> None:
    """Shenzhen site SZ > room SZ-R1 holding SZ-PC; Beijing site BJ holding BJ-PC."""
    a = api.admin
    for key, kind, props in [("SZ", "Location", {"type": "site", "name": "Shenzhen"}),
                             ("SZ-R1", "Location", {"type": "room", "name": "Room 1"}),
                             ("BJ", "Location", {"type": "site", "name": "Beijing"}),
                             ("SZ-PC", "Hardware", {"category": "pc", "status": "in_use", "owner": "Wang"}),
                             ("BJ-PC", "Hardware", {"category": "pc", "status": "in_use", "owner": "Li"})]:
        assert a.post(f"{API}/cis", json={"key": key, "kind": kind, "properties": props}).status_code == 201
    for f, to in [("SZ-R1", "SZ"), ("SZ-PC", "SZ-R1"), ("BJ-PC", "BJ")]:
        assert a.post(f"{API}/relationships",
                      json={"from": f, "type": "LOCATED_IN", "to": to}).status_code == 200


def snapshot(api: Api) -> dict[str, tuple]:
    """Every CI's properties, revision and location: equal before and after means nothing written."""
    page = api.admin.get(f"{API}/cis", params={"limit": 500}).json()["items"]
    out = {}
    for ci in page:
        links = api.admin.get(f"{API}/cis/{ci['key']}/relationships").json()
        out[ci["key"]] = (ci["revision"], repr(sorted(ci["properties"].items())),
                          repr(sorted((r["type"], r["direction"], r["key"]) for r in links)))
    return out


def problem_cells(summary: dict) -> set[tuple]:
    return {(p["sheet"], p["row"], p["column"]) for p in summary["errors"]}


def test_asset_staff_import_may_not_create_cis_or_change_owners(api):
    two_sites(api)
    before = snapshot(api)
    staff = api.client("asset_staff")
    creating = workbook([["key", "category", "status"], ["NEW-PC", "pc", "in_use"]])
    refused = staff.post(f"{API}/imports", files={"file": ("new.xlsx", creating)})
    error = assert_error(refused, 403, "forbidden")
    assert problem_cells(error["details"]) == {("Hardware", 2, "key")}
    assert "may not create CIs" in error["details"]["errors"][0]["message"]

    owner_change = workbook([["key", "owner", "status"], ["SZ-PC", "Zhao", "in_repair"]])
    for skip_invalid in ("false", "true"):
        refused = staff.post(f"{API}/imports", files={"file": ("owners.xlsx", owner_change)},
                             data={"skip_invalid": skip_invalid})
        error = assert_error(refused, 403, "forbidden")
        assert problem_cells(error["details"]) == {("Hardware", 2, "owner")}
        assert error["details"]["written"] is False
    # Relationships other than the location are not asset staff's either.
    links = workbook([["from", "type", "to"], ["SZ-PC", "CONNECTED_TO", "BJ-PC"]], "Relationships")
    error = assert_error(staff.post(f"{API}/imports", files={"file": ("links.xlsx", links)}), 403)
    assert problem_cells(error["details"]) == {("Relationships", 2, "type")}

    assert api.admin.get(f"{API}/cis/SZ-PC").status_code == 200
    assert snapshot(api) == before
    # What asset staff may do through PATCH they may do through an import.
    allowed = workbook([["key", "status", "location"], ["SZ-PC", "in_repair", "BJ"]])
    done = staff.post(f"{API}/imports", files={"file": ("moves.xlsx", allowed)})
    assert done.status_code == 200, done.text
    got = api.admin.get(f"{API}/cis/SZ-PC").json()
    assert (got["properties"]["status"], got["properties"]["owner"]) == ("in_repair", "Wang")


def test_registrar_maintains_the_register_but_not_tokens_delete_or_backups(api, embedded_graph):
    registrar = {"Authorization": f"Bearer {create_token(embedded_graph, 'clerk', 'registrar')}"}
    client = api.client(None)
    created = client.post(f"{API}/cis", headers=registrar,
                          json={"key": "R-1", "kind": "Hardware", "properties": {"category": "pc"}})
    assert created.status_code == 201, created.text
    imported = client.post(f"{API}/imports", headers=registrar,
                           files={"file": ("r.xlsx", workbook([["key", "category", "owner"],
                                                               ["R-2", "server", "Ops"]]))})
    assert imported.status_code == 200, imported.text
    before = snapshot(api)
    assert_error(client.delete(f"{API}/cis/R-1", headers=registrar), 403, "forbidden")
    assert_error(client.get(f"{API}/backup", headers=registrar), 403, "forbidden")
    assert client.get(f"{API}/cis/R-1", headers=registrar).status_code == 200
    assert snapshot(api) == before


def test_scoped_token_writes_scans_and_labels_only_inside_its_subtree(api, embedded_graph):
    two_sites(api)
    campaign = api.client("auditor").post(f"{API}/audits", json={"name": "Spring"}).json()
    before = snapshot(api)
    clerk = {"Authorization": f"Bearer {create_token(embedded_graph, 'sz-clerk', 'asset_staff', scope='SZ')}"}
    registrar = {"Authorization": f"Bearer {create_token(embedded_graph, 'sz-reg', 'registrar', scope='SZ')}"}
    c = api.client(None)
    attempts = {
        "patch outside": c.patch(f"{API}/cis/BJ-PC", headers=clerk, json={"properties": {"status": "missing"}}),
        "move out": c.patch(f"{API}/cis/SZ-PC", headers=clerk, json={"location": "BJ"}),
        "label outside": c.post(f"{API}/labels", headers=clerk, json={"keys": ["BJ-PC"], "record": True}),
        "label png outside": c.get(f"{API}/cis/BJ-PC/label.png", headers=clerk),
        "scan outside": c.post(f"{API}/audits/{campaign['id']}/scans", headers=clerk,
                               json={"tag": "BJ-PC", "location": "BJ"}),
        "link outside": c.post(f"{API}/relationships", headers=registrar,
                               json={"from": "BJ-PC", "type": "LOCATED_IN", "to": "SZ"}),
        "create without location": c.post(f"{API}/cis", headers=registrar,
                                          json={"key": "X-1", "kind": "Hardware", "properties": {}}),
    }
    for what, response in attempts.items():
        error = assert_error(response, 403, "forbidden")
        assert "'SZ'" in error["message"], (what, error)
    imported = c.post(f"{API}/imports", headers=registrar, files={"file": ("bj.xlsx", workbook(
        [["key", "category", "location"], ["BJ-NEW", "pc", "BJ"], ["BJ-PC", "pc", "SZ-R1"]]))})
    error = assert_error(imported, 403, "forbidden")
    assert {(p["row"], p["value"]) for p in error["details"]["errors"]} == {(2, "BJ-NEW"), (3, "BJ-PC")}
    # Reads stay register-wide; nothing was written.
    assert c.get(f"{API}/cis/BJ-PC", headers=clerk).status_code == 200
    assert snapshot(api) == before
    # Inside the subtree the same calls work.
    assert c.patch(f"{API}/cis/SZ-PC", headers=clerk, json={"properties": {"status": "in_repair"}}).status_code == 200
    inside = c.post(f"{API}/imports", headers=registrar, files={"file": ("sz.xlsx", workbook(
        [["key", "category", "location"], ["SZ-NEW", "pc", "SZ-R1"]]))})
    assert inside.status_code == 200, inside.text
    assert c.get(f"{API}/cis/SZ-PC/label.png", headers=clerk).status_code == 200


# --- (c) bounded labels and bodies -------------------------------------------------------------


def test_oversized_labels_are_refused_before_any_image_is_made(api):
    two_sites(api)
    before = snapshot(api)
    staff = api.client("asset_staff")
    huge = staff.post(f"{API}/labels", json={"keys": ["SZ-PC"], "format": "png", "size": "2000x2000",
                                             "dpi": 1200})
    error = assert_error(huge, 422)
    assert error["details"]["field"] == "size" and "300 mm" in error["message"]
    dense = staff.post(f"{API}/labels", json={"keys": ["SZ-PC"], "format": "png", "size": "300x300",
                                              "dpi": 1200})
    error = assert_error(dense, 422)
    assert error["details"]["field"] == "dpi" and "25,000,000" in error["message"]
    stock = {"page_width_mm": 2000, "page_height_mm": 2000, "columns": 1, "rows": 1,
             "label_width_mm": 2000, "label_height_mm": 2000, "margin_left_mm": 0, "margin_top_mm": 0}
    error = assert_error(staff.post(f"{API}/labels", json={"keys": ["SZ-PC"], "custom_template": stock}), 422)
    assert error["details"]["field"] == "label_width_mm"
    assert_error(staff.get(f"{API}/cis/SZ-PC/label.png", params={"template": "avery-l7651", "dpi": 5000}), 422)
    assert staff.get(f"{API}/cis/SZ-PC").status_code == 200
    assert snapshot(api) == before   # label_printed_at not recorded
    fine = staff.post(f"{API}/labels", json={"keys": ["SZ-PC"], "format": "png", "size": "50x25",
                                             "record": False})
    assert fine.status_code == 200 and fine.content.startswith(b"\x89PNG")


@pytest.fixture
def live_url(embedded_graph, embedded_settings):
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(embedded_settings, graph=embedded_graph)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, name="hostile-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the live server did not start"
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def send_head_only(port: int, method: str, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """Send a request's headers and none of its declared body; the server's answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        conn.sendall(head.encode())
        answer = b""
        while not _complete(answer):
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    return status, answer


def _complete(answer: bytes) -> bool:
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return True


def test_big_bodies_are_refused_without_being_read(api, live_url):
    """The server answers after the headers alone: anonymous uploads with 401, viewers' with
    403, oversized bodies on other routes with 413 whatever their Content-Type."""
    before = snapshot(api)
    fifty_mb = str(50 * 1024 * 1024)
    multipart = "multipart/form-data; boundary=x"
    status, _ = send_head_only(live_url, "POST", f"{API}/imports",
                               {"Content-Type": multipart, "Content-Length": fifty_mb})
    assert status == 401
    status, _ = send_head_only(live_url, "POST", f"{API}/imports",
                               {"Content-Type": multipart, "Content-Length": fifty_mb,
                                "Authorization": f"Bearer {api.tokens['viewer']}"})
    assert status == 403
    for path in (f"{API}/cis", f"{API}/labels", "/signin"):
        status, answer = send_head_only(live_url, "POST", path,
                                        {"Content-Type": multipart, "Content-Length": "5000000",
                                         "Authorization": f"Bearer {api.tokens['admin']}"})
        assert status == 413 and b"too_large" in answer, (path, answer)
    # An authorized upload of the same size gets past the sign-in and is limited by the upload limit.
    status, answer = send_head_only(live_url, "POST", f"{API}/imports",
                                    {"Content-Type": multipart, "Content-Length": str(60 * 1024 * 1024),
                                     "Authorization": f"Bearer {api.tokens['admin']}"})
    assert status == 413 and b"52,428,800" in answer
    assert httpx.get(f"http://127.0.0.1:{live_url}/api/v1/cis", timeout=10,
                     headers={"Authorization": f"Bearer {api.tokens['admin']}"}).status_code == 200
    assert snapshot(api) == before
