"""The document library: a file and a note attached to a hardware model appear on the scan
page of a CI of that model and in search; content checks, sanitising, roles, history; a
backup round trip keeps them (file bytes included), and version 1 backups still restore."""

from __future__ import annotations

import gzip
import json

import pytest
from fastapi.testclient import TestClient

from cmdb.api.app import create_app
from cmdb.backup.fileformat import validate
from cmdb.baselines import service as baselines
from cmdb.demo import demo_estate, load_demo
from cmdb.documents import service as documents
from cmdb.documents.store import FileStore, file_store
from cmdb.graph import documents as document_queries
from cmdb.backup.service import restore_backup, write_backup
from tests.test_api import API, Api, assert_error
from tests.test_backup import fresh_engine, target  # noqa: F401 - fixtures
from tests.web_support import sign_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MODEL = "OptiPlex 7010"
NOTE = ("# Docking blue screen\n\nUpdate the **dock firmware** first.\n\n"
        "<script>alert('x')</script> [bad](javascript:alert(1))")


@pytest.fixture
def demo_api(embedded_graph, embedded_settings) -> Api:
    load_demo(embedded_graph, actor="demo")
    return Api(embedded_graph, embedded_settings)


def devices_of_model(model: str) -> list[str]:
    return sorted(c.key for c in demo_estate()[0] if c.properties.get("model") == model)


def attach(api: Api) -> tuple[dict, dict]:
    registrar = api.client("registrar")
    r = registrar.post(f"{API}/documents/files", data={"target_type": "model", "target": MODEL,
                                                       "title": "OptiPlex 7010 service manual"},
                       files={"file": ("manual.pdf", PDF, "application/pdf")})
    assert r.status_code == 201, r.text
    n = registrar.post(f"{API}/documents/notes", json={
        "target_type": "model", "target": "optiplex  7010", "title": "Blue screen after docking",
        "body": NOTE, "solves": "Blue screen after docking"})
    assert n.status_code == 201, n.text
    return r.json(), n.json()


def test_a_file_and_a_note_for_a_model_show_on_the_scan_page_and_in_search(demo_api):
    manual, note = attach(demo_api)
    assert (manual["media_type"], manual["size"], manual["created_by"]) == ("application/pdf", len(PDF),
                                                                            "registrar-user")
    device = devices_of_model(MODEL)[0]
    page = sign_in_client(demo_api).get(f"/s/{device}")
    assert page.status_code == 200
    assert "1 note and 1 document for this model (OptiPlex 7010)" in page.text
    assert "Blue screen after docking" in page.text and "OptiPlex 7010 service manual" in page.text
    grouped = demo_api.client("viewer").get(f"{API}/cis/{device}/documents").json()
    model_group = next(g for g in grouped["groups"] if g["group"] == "model")
    assert ([d["id"] for d in model_group["notes"]], [d["id"] for d in model_group["files"]]) == \
        ([note["id"]], [manual["id"]])
    other = devices_of_model("OptiPlex 7020")[0]
    assert "for this model" not in sign_in_client(demo_api).get(f"/s/{other}").text

    viewer = demo_api.client("viewer")
    assert {d["id"] for d in viewer.get(f"{API}/documents/search", params={"q": "DOCK"}).json()} == {note["id"]}
    assert {d["id"] for d in viewer.get(f"{API}/documents/search", params={"q": "optiplex 7010"}).json()} == \
        {note["id"], manual["id"]}
    assert viewer.get(f"{API}/documents/search", params={"q": "no such words"}).json() == []
    assert viewer.get(f"{API}/documents/{manual['id']}/content").content == PDF

    shown = sign_in_client(demo_api).get(f"/documents/{note['id']}").text
    assert "<strong>dock firmware</strong>" in shown
    body = shown[shown.index('id="note-body"'):shown.index("<h2>History</h2>")]
    assert "<script" not in body and 'href="javascript' not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body or "&lt;script&gt;" in body
    searched = sign_in_client(demo_api).get("/documents", params={"q": "docking"}).text
    assert note["id"] in searched and manual["id"] not in searched


def sign_in_client(api: Api) -> TestClient:
    client = TestClient(api.app)
    assert sign_in(client, api.tokens["viewer"]).status_code == 303
    return client


def test_files_are_checked_by_content_size_and_role(demo_api, embedded_settings):
    registrar = demo_api.client("registrar")

    def upload(name, data, client=registrar, **form):
        return client.post(f"{API}/documents/files", files={"file": (name, data, "application/pdf")},
                           data={"target_type": "ci", "target": "SRV-001", **form})
    assert_error(upload("manual.pdf", b"MZ\x90\x00 not a pdf\x00"), 422, "unsupported_file")
    assert_error(upload("drawing.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20), 422, "unsupported_file")
    assert_error(upload("tool.exe", PDF), 422, "unsupported_file")
    assert upload("wiring.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20).json()["media_type"] == "image/png"
    assert_error(upload("manual.pdf", PDF, client=demo_api.client("viewer")), 403)
    assert_error(upload("manual.pdf", PDF, client=demo_api.client("asset_staff")), 403)
    small = create_app(embedded_settings.model_copy(update={"max_document_bytes": 100}), graph=demo_api.graph)
    small_client = TestClient(small, headers={"Authorization": f"Bearer {demo_api.tokens['registrar']}"},
                              raise_server_exceptions=False)
    assert_error(upload("big.pdf", PDF + b"x" * 200, client=small_client), 413)
    assert_error(registrar.post(f"{API}/documents/notes", json={
        "target_type": "category", "target": "spaceship", "title": "t", "body": "b"}), 409, "unknown_category")
    assert_error(registrar.post(f"{API}/documents/notes", json={
        "target_type": "ci", "target": "NO-SUCH", "title": "t", "body": "b"}), 409, "unknown_reference")


def test_notes_have_history_and_authors(demo_api):
    _, note = attach(demo_api)
    admin = demo_api.admin
    changed = admin.patch(f"{API}/documents/{note['id']}", json={"body": "Replace the dock.",
                                                                  "unmark_solution": True})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["solves"], changed.json()["updated_by"], changed.json()["revision"]) == \
        (None, "admin-user", 2)
    history, total = demo_api.graph.history(note["id"])
    assert [(h.action, h.actor) for h in history] == [("update", "admin-user"), ("create", "registrar-user")]
    assert history[0].before == {"body": NOTE, "solves": "Blue screen after docking"}
    assert admin.delete(f"{API}/documents/{note['id']}").status_code == 204
    assert_error(admin.get(f"{API}/documents/{note['id']}"), 404)


def test_backup_round_trip_keeps_documents_notes_and_baselines(demo_api, embedded_graph, embedded_settings,
                                                               target, tmp_path):  # noqa: F811
    manual, note = attach(demo_api)
    store = file_store(embedded_settings)
    baselines.create(embedded_graph, store, "Before backup", actor="t")
    path = tmp_path / "with-files.jsonl.gz"
    written = write_backup(embedded_graph, path, files=store)
    assert written.counts["files"] == {"files": 2}  # the PDF and the baseline snapshot
    assert written.counts["nodes"]["Document"] == 2 and written.counts["nodes"]["Baseline"] == 1

    restored_store = FileStore(tmp_path / "restored-files")
    result = restore_backup(target, path, files=restored_store)
    assert result.verified and result.written["files"] == {"files": 2}
    assert restored_store.read(store_hash(embedded_graph, manual["id"])) == PDF
    assert documents.get(target, note["id"]) == documents.get(embedded_graph, note["id"])
    assert documents.search(target, "dock") == documents.search(embedded_graph, "dock")
    assert baselines.diff(target, restored_store, "Before backup")["changes"] == []

    # A backup in format version 1 (no stored files section) still validates and restores.
    target.wipe()
    old = tmp_path / "version-1.jsonl.gz"
    plain = write_backup(embedded_graph, tmp_path / "plain.jsonl.gz")  # no file store: no files
    lines = gzip.decompress(plain.path.read_bytes()).decode().splitlines()
    header, trailer = json.loads(lines[0]), json.loads(lines[-1])
    header["format_version"] = 1
    del header["counts"]["files"], trailer["counts"]["files"]
    old.write_bytes(gzip.compress("\n".join([json.dumps(header), *lines[1:-1], json.dumps(trailer)])
                                  .encode() + b"\n"))
    assert validate(old).format_version == 1
    assert restore_backup(target, old, files=FileStore(tmp_path / "v1-files")).verified


def store_hash(graph, doc_id: str) -> str:
    return document_queries.get(graph, doc_id)["file_sha256"]
