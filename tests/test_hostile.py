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
import time

import httpx
import pytest
import xlsxwriter
from fastapi.testclient import TestClient

from cmdb.api.app import create_app
from cmdb.graph.tokens import create_token
from cmdb.settings import Settings
from tests.test_api import API, Api, assert_error
from tests.web_support import sign_in
from tests.serve_support import CMDB, START_TIMEOUT, Served, app_on_loopback, clean_env


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
    process. Either way: 413 naming the file and the limit, the next read answers (how fast is
    the benchmarks' business, not a test's), the CLI exits 1, and the register holds what it held."""
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

        got = httpx.get(f"{served.base}{API}/cis/SRV-1", headers=admin, timeout=30)
        assert got.status_code == 200
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
        got = httpx.get(f"{served.base}{API}/cis/SRV-1", headers=admin, timeout=30)
        assert got.status_code == 200
        listed = httpx.get(f"{served.base}{API}/cis", headers=admin, timeout=30).json()
        assert {ci["key"] for ci in listed["items"]} == {"SRV-1"}
    finally:
        assert served.stop(signal.SIGTERM) == 0, served.output


def test_a_reader_running_past_its_time_limit_is_stopped():
    from importers.isolation import ParseLimitExceeded, run_isolated

    started = time.monotonic()
    with pytest.raises(ParseLimitExceeded, match=r"slow.xlsx took longer than the limit of 0.5 seconds"):
        run_isolated(time.sleep, (30,), name="slow.xlsx", memory_mb=1024, seconds=0.5)
    assert time.monotonic() - started < 30  # stopped, not waited for


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
    error = assert_error(huge, 422)  # refused by the request's schema (OpenAPI: the size pattern)
    assert [d["field"] for d in error["details"]] == ["size"] and "300 mm" in error["message"]
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
    with app_on_loopback(create_app(embedded_settings, graph=embedded_graph),
                         "hostile-live-server") as port:
        yield port


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


# --- (d) sessions and sign-in ------------------------------------------------------------------


def pages(graph, data_dir, **settings) -> TestClient:
    app = create_app(Settings(data_dir=data_dir, base_url=settings.pop("base_url", "http://cmdb.test"),
                              **settings), graph=graph)
    return TestClient(app, base_url="https://cmdb.test", raise_server_exceptions=False)


def test_session_cookie_is_secure_behind_https(embedded_graph, data_dir):
    token = create_token(embedded_graph, "phone", "asset_staff")
    for base_url, secure in (("https://cmdb.example.com", True), ("http://cmdb.test", False)):
        signed_in = sign_in(pages(embedded_graph, data_dir, base_url=base_url), token)
        assert signed_in.status_code == 303, signed_in.text
        cookie = next(c for c in signed_in.headers.get_list("set-cookie") if c.startswith("cmdb_session="))
        assert ("; secure" in cookie.lower()) is secure, cookie


def test_one_token_keeps_at_most_n_sessions_the_oldest_closing(embedded_graph, data_dir):
    token = create_token(embedded_graph, "busy", "viewer")
    other = create_token(embedded_graph, "bystander", "viewer")
    bystander = pages(embedded_graph, data_dir, max_sessions_per_token=3)
    assert sign_in(bystander, other).status_code == 303
    browsers = []
    for _ in range(5):
        client = pages(embedded_graph, data_dir, max_sessions_per_token=3)
        assert sign_in(client, token).status_code == 303
        browsers.append(client)
    signed_in = [c.get("/", follow_redirects=False).status_code == 200 for c in browsers]
    assert signed_in == [False, False, True, True, True]
    assert bystander.get("/", follow_redirects=False).status_code == 200


def test_failed_sign_ins_are_throttled_per_address_and_logged(embedded_graph, data_dir, caplog):
    good = create_token(embedded_graph, "legit", "viewer")
    client = pages(embedded_graph, data_dir, signin_failures_allowed=3)
    caplog.set_level("WARNING", logger="cmdb.web.auth")
    for _ in range(3):
        assert sign_in(client, "cmdb_guess").status_code == 401
    refused = sign_in(client, good)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in refused.text
    assert client.get("/", follow_redirects=False).status_code != 200   # no session was opened
    assert client.get("/healthz").status_code == 200
    failures = [r for r in caplog.records if "sign-in failed from testclient" in r.getMessage()]
    assert len(failures) == 3
    assert any("sign-in refused for testclient" in r.getMessage() for r in caplog.records)


def test_revoked_bootstrap_admin_then_restart(tmp_path):
    data_dir, cwd = tmp_path / "data", tmp_path / "cwd"
    cwd.mkdir()
    served = Served(data_dir, cwd)
    try:
        first = served.tokens_printed()
        assert len(first) == 1
        admin = {"Authorization": f"Bearer {first[0]}"}
        assert httpx.get(f"{served.base}{API}/cis", headers=admin, timeout=30).status_code == 200
        revoked = subprocess.run([CMDB, "token", "revoke", "admin"], env=clean_env(data_dir),
                                 cwd=cwd, capture_output=True, text=True, timeout=START_TIMEOUT)
        assert revoked.returncode == 0, revoked.stdout + revoked.stderr
    finally:
        assert served.stop(signal.SIGTERM) == 0, served.output
    served = Served(data_dir, cwd)   # would exit on the name conflict before
    try:
        printed = served.tokens_printed()
        assert len(printed) == 1 and "'admin-2'" in served.output, served.output
        new_admin = {"Authorization": f"Bearer {printed[0]}"}
        assert httpx.get(f"{served.base}{API}/cis", headers=new_admin, timeout=30).status_code == 200
        assert httpx.get(f"{served.base}{API}/cis", headers=admin, timeout=30).status_code == 401
        listed = subprocess.run([CMDB, "token", "list", "--json"], env=clean_env(data_dir), cwd=cwd,
                                capture_output=True, text=True, timeout=START_TIMEOUT)
        import json
        tokens = {(t["name"], t["role"], t["revoked_at"] is not None) for t in json.loads(listed.stdout)}
        assert tokens == {("admin", "admin", True), ("admin-2", "admin", False)}
    finally:
        assert served.stop(signal.SIGTERM) == 0, served.output


# --- (e) versions, text, exports, backups, scans, findings ---------------------------------------


def test_any_if_match_that_names_no_version_is_412(api):
    two_sites(api)
    before = snapshot(api)
    for if_match in ('"abc"', "abc", '"99"', 'W/"x"', '"1", "2"'):
        for method in ("PATCH", "DELETE"):
            response = api.admin.request(method, f"{API}/cis/SZ-PC", headers={"If-Match": if_match},
                                         json={"properties": {"status": "missing"}} if method == "PATCH" else None)
            assert_error(response, 412, "version_conflict")
    assert api.admin.get(f"{API}/cis/SZ-PC").status_code == 200
    assert snapshot(api) == before


def test_control_characters_in_text_are_refused_everywhere(api):
    two_sites(api)
    before = snapshot(api)
    a = api.admin
    error = assert_error(a.post(f"{API}/cis", json={"key": "CC-1", "kind": "Hardware",
                                                    "properties": {"name": "bad\x01name"}}), 422)
    assert error["details"]["field"] == "name" and "U+0001" in error["message"]
    error = assert_error(a.patch(f"{API}/cis/SZ-PC", json={"properties": {"owner": "Wang\x1b[31m"}}), 422)
    assert error["details"]["field"] == "owner"
    imported = a.post(f"{API}/imports", files={"file": ("cc.csv", "key,category,name\nCC-2,pc,x\x07y\n".encode())})
    error = assert_error(imported, 422, "invalid_import")
    assert {(p["row"], p["column"]) for p in error["details"]["errors"]} == {(2, "name")}
    # Tabs and line breaks are text, not control characters.
    ok = a.patch(f"{API}/cis/SZ-PC", json={"properties": {"notes": "line one\nline two\tend"}})
    assert ok.status_code == 200, ok.text
    after = snapshot(api)
    assert {k: v for k, v in after.items() if k != "SZ-PC"} == {k: v for k, v in before.items() if k != "SZ-PC"}
    assert set(after) == set(before)


def test_full_width_formula_text_is_neutralised_in_exports(api):
    import openpyxl

    a = api.admin
    texts = {"FW-1": "＝HYPERLINK(\"http://evil\",\"x\")", "FW-2": "＋1+2", "FW-3": "－3", "FW-4": "＠SUM(A1)",
             "FW-5": "=1+1", "FW-6": "plain"}
    for key, name in texts.items():
        assert a.post(f"{API}/cis", json={"key": key, "kind": "Hardware",
                                          "properties": {"category": "pc", "name": name}}).status_code == 201
    before = snapshot(api)
    exported = a.get(f"{API}/exports/register.xlsx")
    assert exported.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(exported.content))["Hardware"]
    rows = list(sheet.iter_rows(values_only=True))
    name_col = rows[0].index("name")
    cells = {row[0]: row[name_col] for row in rows[1:]}
    assert cells == {key: (name if key == "FW-6" else "'" + name) for key, name in texts.items()}
    # Read back, the apostrophes go again: the round trip changes nothing.
    again = a.post(f"{API}/imports", files={"file": ("register.xlsx", exported.content)})
    assert again.status_code == 200 and again.json()["updated"] == 0, again.text
    assert snapshot(api) == before


def test_backup_with_duplicate_keys_is_refused_before_anything_is_written(embedded_graph, tmp_path):
    import gzip
    import hashlib
    import json

    from cmdb.backup.fileformat import InvalidBackup
    from cmdb.graph import CIInput
    from cmdb.backup.service import fingerprint, restore_backup, write_backup

    embedded_graph.upsert_cis_atomically(
        [CIInput("DUP-1", "Hardware", {"category": "pc"}), CIInput("DUP-2", "Hardware", {"category": "pc"})],
        [], actor="test")
    path = tmp_path / "good.jsonl.gz"
    write_backup(embedded_graph, path)
    raw = gzip.open(path, "rb").read().splitlines(keepends=True)
    header, body, end = raw[0], raw[1:-1], json.loads(raw[-1])
    body = [line.replace(b'"DUP-2"', b'"DUP-1"') for line in body]
    end["sha256"] = hashlib.sha256(b"".join(body)).hexdigest()
    bad = tmp_path / "duplicate.jsonl.gz"
    with gzip.open(bad, "wb") as f:
        f.write(header + b"".join(body)
                + json.dumps(end, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    embedded_graph.wipe()  # an empty register holds only the shipped vocabulary
    empty = fingerprint(embedded_graph).counts
    with pytest.raises(InvalidBackup, match=r"key 'DUP-1' appears a second time \(first on line \d+\)"):
        restore_backup(embedded_graph, bad)
    assert fingerprint(embedded_graph).counts == empty
    assert embedded_graph.ping()


def test_scans_record_the_signed_in_caller_and_reports_show_it(api):
    two_sites(api)
    campaign = api.client("auditor").post(f"{API}/audits", json={"name": "Spring"}).json()
    scan = api.client("asset_staff").post(f"{API}/audits/{campaign['id']}/scans",
                                          json={"tag": "SZ-PC", "location": "SZ-R1",
                                                "person": "the-boss", "at": "2020-01-01T00:00:00Z"})
    assert scan.status_code == 201, scan.text
    found = api.client("auditor").get(f"{API}/audits/{campaign['id']}/reconciliation").json()
    scanned = {e["key"]: e["scanned_by"] for category in ("found", "relocated")
               for e in found.get(category, []) if e.get("key")}
    assert scanned == {"SZ-PC": "asset_staff-user"}
    report = api.client("auditor").get(f"{API}/audits/{campaign['id']}/report", params={"format": "csv"})
    assert "asset_staff-user" in report.text and "the-boss" not in report.text


def test_pages_and_api_agree_on_who_sees_audit_findings(api, embedded_graph):
    two_sites(api)
    campaign = api.client("auditor").post(f"{API}/audits", json={"name": "Spring"}).json()
    staff_page = TestClient(api.app, raise_server_exceptions=False)
    assert sign_in(staff_page, api.tokens["asset_staff"]).status_code == 303
    auditor_page = TestClient(api.app, raise_server_exceptions=False)
    assert sign_in(auditor_page, api.tokens["auditor"]).status_code == 303
    assert_error(api.client("asset_staff").get(f"{API}/audits/{campaign['id']}/reconciliation"), 403)
    staff_progress = staff_page.get(f"/audits/{campaign['id']}/progress.json").json()
    auditor_progress = auditor_page.get(f"/audits/{campaign['id']}/progress.json").json()
    assert staff_progress["lists"] == {} and staff_progress["counts"] == {}
    assert set(auditor_progress["lists"]) == {"missing", "relocated", "unexpected", "duplicates",
                                              "status_mismatch"}
    assert auditor_progress["lists"]["missing"]["total"] == 2
    staff_html = staff_page.get(f"/audits/{campaign['id']}").text
    assert 'id="section-missing"' not in staff_html and "SZ-PC" not in staff_html
    assert 'id="section-missing"' in auditor_page.get(f"/audits/{campaign['id']}").text
    assert auditor_page.get(f"/audits/{campaign['id']}").status_code == 200


# --- every operation as a scoped token ---------------------------------------------------------


def test_no_operation_fails_with_5xx_for_a_scoped_token(api, embedded_graph):
    """The schemathesis fuzzing of the whole API, as a registrar scoped to one site."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import status_code_conformance

    two_sites(api)
    outside = {k: v for k, v in snapshot(api).items() if k.startswith("BJ")}
    token = create_token(embedded_graph, "sz-fuzz", "registrar", scope="SZ")
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app).include(
        path_regex=r"^/(api/v1/|healthz|version)")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for operation in operations:
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=5, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            def fuzz(case):
                case.call_and_validate(headers=headers,
                                       checks=[not_a_server_error, status_code_conformance])
            try:
                fuzz()
            except Unsatisfiable:
                pass
    assert api.admin.get("/healthz").status_code == 200
    # The scope held: nothing outside the Shenzhen site changed.
    assert {k: v for k, v in snapshot(api).items() if k.startswith("BJ")} == outside
