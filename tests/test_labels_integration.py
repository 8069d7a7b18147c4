"""Labels of CIs in the real embedded engine: selection, label_printed_at, CLI and API."""

from __future__ import annotations

import io
import json
import re

import pypdfium2
import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from typer.testing import CliRunner

from cmdb.api.app import create_app
from cmdb.cli import app as cli_app
from cmdb.errors import InvalidInput, NotFound, UnknownKey
from cmdb.graph import CIInput, Link
from cmdb.graph.tokens import create_token
from cmdb.labels import scan_url
from cmdb.labels.service import LabelJob, Selection, print_labels, select
from cmdb.labels.zpl import fh_unescape
from tests.printer_listener import raw_printer_port
from tests.serve_support import refused_port

BASE = "http://cmdb.test"
LOCATIONS = [("SITE-HQ", "HQ", "site"), ("BLD-A", "Building A", "building"),
             ("ROOM-101", "Room 101", "room"), ("ROOM-102", "Room 102", "room")]
HARDWARE = [("SRV-000123", "Web server", "server", "ROOM-101", None),
            ("设备 001", "服务器", "server", "ROOM-101", None),
            ("000042", "Core switch", "switch", "ROOM-102", None),
            ("PC-7", "Reception PC", "pc", None, "Front desk")]


def build(graph) -> None:
    items = [CIInput(k, "Location", {"name": n, "type": t}) for k, n, t in LOCATIONS]
    items += [CIInput(k, "Hardware", {"name": n, "category": c, **({"department": d} if d else {})})
              for k, n, c, _, d in HARDWARE]
    graph.upsert_cis(items, actor="test")
    links = [Link("BLD-A", "LOCATED_IN", "SITE-HQ"), Link("ROOM-101", "LOCATED_IN", "BLD-A"),
             Link("ROOM-102", "LOCATED_IN", "BLD-A")]
    links += [Link(k, "LOCATED_IN", loc) for k, _, _, loc, _ in HARDWARE if loc]
    graph.link_many(links, actor="test")


@pytest.fixture
def estate(embedded_graph):
    build(embedded_graph)
    return embedded_graph


def keys_of(labels) -> list[str]:
    return [label.key for label in labels]


def test_selections(estate):
    assert keys_of(select(estate, Selection(location="ROOM-101"))) == sorted(["ROOM-101", "SRV-000123", "设备 001"])
    assert keys_of(select(estate, Selection(location="BLD-A", kind="hardware"))) == \
        sorted(["SRV-000123", "设备 001", "000042"])
    assert keys_of(select(estate, Selection(category="Switch"))) == ["000042"]
    labels = {label.key: label for label in select(estate, Selection(keys=("SRV-000123", "PC-7")))}
    assert labels["SRV-000123"].second_line == "HQ / Building A / Room 101"
    assert labels["SRV-000123"].name == "Web server"
    assert labels["PC-7"].second_line == "Front desk"


def test_selection_errors(estate):
    with pytest.raises(UnknownKey) as error:
        select(estate, Selection(keys=("SRV-000123", "NOPE-1", "NOPE-2")))
    assert error.value.keys == ["NOPE-1", "NOPE-2"]
    with pytest.raises(InvalidInput, match="Say which labels"):
        select(estate, Selection())
    with pytest.raises(NotFound, match="No CIs match"):
        select(estate, Selection(location="ROOM-102", category="server"))
    with pytest.raises(InvalidInput, match="category"):
        select(estate, Selection(category="toaster"))
    with pytest.raises(UnknownKey):
        select(estate, Selection(location="ROOM-999"))


def test_printing_records_label_printed_at_with_history(estate, embedded_settings):
    output = print_labels(estate, Selection(location="ROOM-101", kind="Hardware"),
                          LabelJob(format="pdf"), embedded_settings, actor="tester")
    assert output.keys == sorted(["SRV-000123", "设备 001"])
    printed = {k for k, ci in estate.get_cis([k for k, *_ in HARDWARE]).items()
               if ci.properties.get("label_printed_at")}
    assert printed == {"SRV-000123", "设备 001"}
    entries, _ = estate.history("SRV-000123")
    assert entries[0].actor == "tester" and "label_printed_at" in (entries[0].after or {})
    assert keys_of(select(estate, Selection(unlabelled=True, kind="Hardware"))) == ["000042", "PC-7"]
    page = pypdfium2.PdfDocument(output.data)[0].render(scale=300 / 72).to_pil()
    assert {r.text for r in zxingcpp.read_barcodes(page)} == {scan_url(BASE, k) for k in output.keys}


def test_cli_prints_a_room_to_pdf_and_zpl(estate, tmp_path):
    runner = CliRunner()
    out = tmp_path / "room.pdf"
    result = runner.invoke(cli_app, ["labels", "--location", "ROOM-101", "--format", "pdf",
                                     "--template", "avery-l7160", "-o", str(out), "--json"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["keys"] == sorted(["ROOM-101", "SRV-000123", "设备 001"])
    page = pypdfium2.PdfDocument(out.read_bytes())[0].render(scale=300 / 72).to_pil()
    assert {r.text for r in zxingcpp.read_barcodes(page)} == {
        scan_url(BASE, k) for k in ["ROOM-101", "SRV-000123", "设备 001"]}

    zpl = tmp_path / "one.zpl"
    result = runner.invoke(cli_app, ["labels", "000042", "--format", "zpl", "--dpi", "300",
                                     "-o", str(zpl)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    field = re.search(r"\^FD(QA,.*?)\^FS", zpl.read_text()).group(1)
    assert fh_unescape(field) == "QA," + scan_url(BASE, "000042")

    result = runner.invoke(cli_app, ["labels", "NOPE-9", "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1 and "NOPE-9" in result.output
    result = runner.invoke(cli_app, ["labels", "--location", "ROOM-102", "--category", "pc",
                                     "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1 and "No CIs match" in result.output
    assert not (tmp_path / "x.pdf").exists()


@pytest.fixture
def client(estate, embedded_settings):
    return TestClient(create_app(embedded_settings, graph=estate))


def auth(graph, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(graph, f'labels-{role}', role)}"}


def test_api_single_labels_and_roles(client, estate):
    headers = auth(estate, "asset_staff")
    response = client.get("/api/v1/cis/%E8%AE%BE%E5%A4%87%20001/label.png", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert {r.text for r in zxingcpp.read_barcodes(image)} == {scan_url(BASE, "设备 001")}
    response = client.get("/api/v1/cis/000042/label.zpl?dpi=203", headers=headers)
    assert response.status_code == 200, response.text
    field = re.search(r"\^FD(QA,.*?)\^FS", response.text).group(1)
    assert fh_unescape(field) == "QA," + scan_url(BASE, "000042")
    assert client.get("/api/v1/cis/NOPE/label.png", headers=headers).status_code == 404
    assert client.get("/api/v1/cis/000042/label.png", headers=auth(estate, "viewer")).status_code == 403
    assert client.get("/api/v1/cis/000042/label.png").status_code == 401
    assert estate.get_ci("000042").properties.get("label_printed_at") is None


def test_api_post_labels(client, estate):
    headers = auth(estate, "asset_staff")
    response = client.post("/api/v1/labels", json={"location": "BLD-A", "kind": "Hardware",
                                                   "format": "pdf", "template": "avery-5160"},
                           headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    page = pypdfium2.PdfDocument(response.content)[0].render(scale=300 / 72).to_pil()
    expected = {"SRV-000123", "设备 001", "000042"}
    assert {r.text for r in zxingcpp.read_barcodes(page)} == {scan_url(BASE, k) for k in expected}
    printed = {k for k, ci in estate.get_cis(sorted(expected | {"PC-7"})).items()
               if ci.properties.get("label_printed_at")}
    assert printed == expected

    bad = client.post("/api/v1/labels", json={"keys": ["X-1", "X-2"]}, headers=headers)
    assert bad.status_code == 404 and "X-1" in bad.text and "X-2" in bad.text
    assert client.post("/api/v1/labels", json={}, headers=headers).status_code == 422
    assert client.post("/api/v1/labels", json={"keys": ["PC-7"], "template": "/etc/passwd"},
                       headers=headers).status_code == 422
    assert client.post("/api/v1/labels", json={"keys": ["PC-7"], "colour": "red"},
                       headers=headers).status_code == 422
    custom = {"page": "A4", "columns": 1, "rows": 1, "label_width_mm": 300, "label_height_mm": 30,
              "margin_left_mm": 0, "margin_top_mm": 0}
    response = client.post("/api/v1/labels", json={"keys": ["PC-7"], "custom_template": custom},
                           headers=headers)
    assert response.status_code == 422 and "beyond the page width" in response.text


def test_cli_sends_zpl_to_a_printer_and_records_it(estate, tmp_path):
    copy = tmp_path / "sent.zpl"
    with raw_printer_port() as (url, received):
        result = CliRunner().invoke(cli_app, [
            "labels", "--unlabelled", "--kind", "Hardware", "--format", "zpl", "-o", str(copy),
            "--printer-font", "E:ANMDJ.TTF", "--print", url], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert bytes(received) == copy.read_bytes()
    fields = [fh_unescape(f) for f in re.findall(r"\^BQN[^\^]*\^FH_\^FD(.*?)\^FS", copy.read_text())]
    keys = sorted(k for k, *_ in HARDWARE)
    assert fields == ["QA," + scan_url(BASE, k) for k in keys]
    assert all(ci.properties.get("label_printed_at") for ci in estate.get_cis(keys).values())

    with refused_port() as port:
        result = CliRunner().invoke(cli_app, ["labels", "PC-7", "--format", "zpl", "--print",
                                              f"tcp://127.0.0.1:{port}", "--timeout", "2"])
    assert result.exit_code == 1 and "refused the connection" in result.output
