"""The label library: every QR decodes with a real decoder, at real sizes, with real fonts."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from cmdb.errors import CMDBError, InvalidInput
from cmdb.labels import (LabelContent, PrinterUnavailable, load_template, render_pdf,
                         render_png, render_zpl, scan_url, send_zpl)
from cmdb.labels.fonts import FontFace, choose_font, discover_fonts, load_font, missing_characters
from cmdb.labels.qr import QUIET_ZONE, qr_matrix
from cmdb.labels.templates import parse_template
from cmdb.labels.zpl import fh_unescape
from tests.printer_listener import raw_printer_port
from tests.serve_support import refused_port

BASE = "https://cmdb.example.com/"
KEYS = ["SRV-000123", "000042", "设备 001", "rack 7 #2?", "Ünïcødé-ß"]
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
TEMPLATES = ["avery-l7651", "avery-l7160", "avery-5160"]
CJK_FONT = next((f for f in discover_fonts() if not missing_characters(f, "服务器机房")), None)
needs_cjk = pytest.mark.skipif(CJK_FONT is None, reason="no CJK font installed (Debian: fonts-wqy-zenhei or fonts-noto-cjk)")


def contents(keys=KEYS) -> list[LabelContent]:
    return [LabelContent(k, f"Device {k} with a rather long name that cannot fit", "HQ / Building A / Room 101",
                         "Example Org") for k in keys]


def decode_all(image: Image.Image) -> set[str]:
    return {r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode}


def test_scan_url_encodes_the_whole_key():
    assert scan_url("http://x/", "设备 001") == "http://x/s/%E8%AE%BE%E5%A4%87%20001"
    assert scan_url("http://x", "000042") == "http://x/s/000042"
    assert scan_url("http://x", "a#b?c") == "http://x/s/a%23b%3Fc"


@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
def test_qr_matrix_decodes_at_every_level(level):
    # Long runs of digits once crashed the QR library's Reed-Solomon step ("glog(0)").
    for key in KEYS + ["x" * 120, "0" * 59, "0" * 128, "1" * 100]:
        url = scan_url(BASE, key)
        pixels = np.pad(np.where(qr_matrix(url, level), 0, 255).astype(np.uint8), QUIET_ZONE,
                        constant_values=255)
        image = Image.fromarray(pixels).resize((pixels.shape[1] * 4,) * 2, Image.NEAREST)
        result = zxingcpp.read_barcodes(image)
        assert [r.text for r in result] == [url]
        assert result[0].ec_level == level


@pytest.mark.parametrize("dpi", [150, 300, 600])
def test_png_decodes_to_the_scan_url(dpi):
    for content in contents():
        png = render_png(content, BASE, 38.1, 21.2, dpi=dpi)
        image = Image.open(io.BytesIO(png))
        assert image.size == (round(38.1 * dpi / 25.4), round(21.2 * dpi / 25.4))
        assert round(image.info["dpi"][0]) == dpi
        assert decode_all(image) == {scan_url(BASE, content.key)}


def _ink_outside(page: np.ndarray, cells_px: list[tuple[int, int, int, int]]) -> int:
    mask = np.ones(page.shape, dtype=bool)
    for x0, y0, x1, y1 in cells_px:
        mask[y0:y1, x0:x1] = False
    return int((page[mask] < 250).sum())


@pytest.mark.parametrize("name", TEMPLATES)
def test_pdf_sheets_scan_at_the_printers_resolution(name):
    template = load_template(name)
    dpi = 300
    keys = [f"{k}-{i}" for i in range(template.per_sheet) for k in KEYS][:template.per_sheet + 3]
    skip = 2
    pdf = pypdfium2.PdfDocument(render_pdf(contents(keys), BASE, template, dpi=dpi, skip=skip))
    assert len(pdf) == 2
    scale = dpi / 25.4
    found: list[str] = []
    for page_number in range(len(pdf)):
        page = pdf[page_number]
        assert page.get_size() == pytest.approx((template.page_width_mm * 72 / 25.4,
                                                 template.page_height_mm * 72 / 25.4), abs=0.01)
        image = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        pixels = np.asarray(image)
        cells_px = [(int(x * scale), int(y * scale), int(np.ceil((x + w) * scale)),
                     int(np.ceil((y + h) * scale))) for x, y, w, h in template.cells()]
        assert _ink_outside(pixels, cells_px) == 0, "ink outside the label cells"
        for index, (x0, y0, x1, y1) in enumerate(cells_px):
            cell = image.crop((x0, y0, x1, y1))
            if page_number == 0 and index < skip:
                assert np.asarray(cell).min() >= 250, "a skipped cell was printed on"
                continue
            on_second_sheet = len(keys) - (template.per_sheet - skip)
            if page_number == 1 and index >= on_second_sheet:
                assert np.asarray(cell).min() >= 250, "a cell after the last label was printed on"
                continue
            decoded = decode_all(cell)
            assert decoded, f"cell {index} of sheet {page_number + 1} did not scan"
            found.extend(decoded)
            _check_module_and_quiet_zone(cell, dpi)
    assert sorted(found) == sorted(scan_url(BASE, k) for k in keys)
    assert found[0] == scan_url(BASE, keys[0])


def _check_module_and_quiet_zone(cell: Image.Image, dpi: int) -> None:
    result = zxingcpp.read_barcodes(cell)[0]
    points = [result.position.top_left, result.position.top_right, result.position.bottom_left,
              result.position.bottom_right]
    x0, x1 = min(p.x for p in points), max(p.x for p in points)
    y0, y1 = min(p.y for p in points), max(p.y for p in points)
    side_px = x1 - x0 + 1
    module_px = side_px / _modules_for_text(result.text)
    assert module_px * 25.4 / dpi >= 0.25
    pixels = np.asarray(cell)
    zone = int(np.floor(QUIET_ZONE * module_px)) - 1
    top, left = max(0, y0 - zone), max(0, x0 - zone)
    assert y0 - zone >= 0 and x0 - zone >= 0, "quiet zone runs off the label"
    assert y1 + zone < pixels.shape[0]
    ring = pixels[top:y1 + zone + 1, left:x1 + zone + 1].copy()
    ring[zone:-zone, zone:-zone] = 255
    assert ring.min() >= 200, "quiet zone is not white"


def _modules_for_text(text: str) -> int:
    return qr_matrix(text, "Q").shape[0]


@needs_cjk
def test_chinese_names_render_with_glyphs():
    assert choose_font(["服务器", "SRV-1"]) == CJK_FONT
    font = load_font(CJK_FONT, 60)
    masks = [bytes(font.getmask(c)) for c in "服务器"]
    notdef = bytes(font.getmask("\U000F0000"))
    assert len(set(masks)) == 3 and notdef not in masks and all(any(m) for m in masks)
    content = LabelContent("SRV-1", "服务器", "机房 / 一号楼", "运维部")
    image = Image.open(io.BytesIO(render_png(content, BASE, 63.5, 38.1)))
    assert decode_all(image) == {scan_url(BASE, "SRV-1")}
    text_part = np.asarray(image)[:, image.width // 2 + 20:]
    assert (text_part < 128).sum() > 500


def test_missing_cjk_font_is_a_clear_error():
    content = LabelContent("SRV-1", "服务器")
    with pytest.raises(InvalidInput) as error:
        render_png(content, BASE, 38.1, 21.2, font_setting=DEJAVU)
    message = str(error.value)
    assert "'服务器'" in message and "fonts-noto-cjk" in message and "fonts-wqy-zenhei" in message
    with pytest.raises(InvalidInput, match="none of the installed fonts"):
        choose_font(["服务器"], candidates=[FontFace(DEJAVU)])
    with pytest.raises(InvalidInput, match="does not exist"):
        choose_font(["x"], configured="/nonexistent/font.ttf")
    assert choose_font(["SRV-1 Ünïcødé"], configured=DEJAVU) == FontFace(DEJAVU)


def test_text_that_does_not_fit_is_shortened_inside_the_label():
    long = LabelContent("K" * 40, "N" * 200, "L" * 200, "O" * 200)
    image = Image.open(io.BytesIO(render_png(long, BASE, 38.1, 21.2)))
    pixels = np.asarray(image)
    inset = round(1.0 * 300 / 25.4) - 1
    assert pixels[:, -inset:].min() >= 250 and pixels[-inset:, :].min() >= 250
    assert decode_all(image) == {scan_url(BASE, "K" * 40)}


@pytest.mark.parametrize("document, fragment", [
    ({"page": "A4", "columns": 3, "rows": 7, "label_width_mm": 70, "label_height_mm": 38.1,
      "margin_left_mm": 0, "margin_top_mm": 15, "pitch_x_mm": 60}, "labels overlap"),
    ({"page": "A4", "columns": 3, "rows": 7, "label_width_mm": 70, "label_height_mm": 38.1,
      "margin_left_mm": 5, "margin_top_mm": 15}, "beyond the page width"),
    ({"page": "A4", "columns": 3, "rows": 8, "label_width_mm": 63.5, "label_height_mm": 38.1,
      "margin_left_mm": 7, "margin_top_mm": 15}, "beyond the page height"),
    ({"page": "A4", "columns": 3, "rows": 7, "label_width_mm": -63.5, "label_height_mm": 38.1,
      "margin_left_mm": 7, "margin_top_mm": 15}, "greater than 0"),
    ({"page": "A4", "columns": 0, "rows": 7, "label_width_mm": 63.5, "label_height_mm": 38.1,
      "margin_left_mm": 7, "margin_top_mm": 15}, "whole number from 1"),
    ({"page": "A6", "columns": 1, "rows": 1, "label_width_mm": 50, "label_height_mm": 30,
      "margin_left_mm": 0, "margin_top_mm": 0}, "unknown page size"),
    ({"page": "A4", "columns": 1, "rows": 1, "label_width_mm": 50, "label_height_mm": 30,
      "margin_left_mm": 0, "margin_top_mm": 0, "gutter": 2}, "unknown field(s) gutter"),
    ({"page": "A4", "columns": 1, "rows": 1, "label_width_mm": 8, "label_height_mm": 30,
      "margin_left_mm": 0, "margin_top_mm": 0}, "too small for a QR code"),
    ({"columns": 1, "rows": 1, "label_width_mm": 50, "label_height_mm": 30,
      "margin_left_mm": 0, "margin_top_mm": 0}, "page_width_mm is missing"),
])
def test_bad_template_files(tmp_path, document, fragment):
    path = tmp_path / "stock.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InvalidInput) as error:
        load_template(str(path))
    assert fragment in str(error.value)


def test_custom_yaml_template_and_unknown_names(tmp_path):
    path = tmp_path / "stock.yaml"
    path.write_text("page_width_mm: 100\npage_height_mm: 50\ncolumns: 2\nrows: 1\n"
                    "label_width_mm: 48\nlabel_height_mm: 30\nmargin_left_mm: 1\nmargin_top_mm: 10\n"
                    "pitch_x_mm: 50\n")
    template = load_template(str(path))
    assert (template.name, template.per_sheet, template.cell(1)) == ("stock", 2, (51.0, 10.0))
    pdf = pypdfium2.PdfDocument(render_pdf(contents(KEYS[:2]), BASE, template))
    assert decode_all(pdf[0].render(scale=300 / 72).to_pil()) == {scan_url(BASE, k) for k in KEYS[:2]}
    with pytest.raises(InvalidInput, match="avery-l7651"):
        load_template("avery-9999")
    with pytest.raises(InvalidInput, match="not valid JSON/YAML"):
        parse_template(b"{columns: [", "bad.yaml")
    with pytest.raises(InvalidInput, match="skip 65 is out of range"):
        render_pdf(contents(), BASE, load_template("avery-l7651"), skip=65)
    with pytest.raises(InvalidInput, match="selection is empty"):
        render_pdf([], BASE, load_template("avery-l7651"))


def _zpl_blocks(data: bytes) -> list[str]:
    text = data.decode("ascii")
    blocks = re.findall(r"\^XA.*?\^XZ", text, flags=re.S)
    assert "".join(blocks) == text.replace("\n", "")
    return blocks


@pytest.mark.parametrize("dpi", [203, 300])
def test_zpl_qr_field_holds_exactly_the_url(dpi):
    hostile = LabelContent("000042", "Evil ^XZ^XA~JR name_with_underscore", "机房 1", "Org~")
    data = render_zpl(contents() + [hostile], BASE, width_mm=50.8, height_mm=25.4, dpi=dpi,
                      printer_font="E:ANMDJ.TTF")
    blocks = _zpl_blocks(data)
    assert len(blocks) == len(KEYS) + 1
    urls = []
    for block in blocks:
        assert block.startswith("^XA^CI28") and block.count("^XA") == 1 and block.count("^XZ") == 1
        assert "~" not in block
        assert "^A@N," in block and "E:ANMDJ.TTF" in block
        qr = re.search(r"\^BQN,2,(\d+),Q\^FH_\^FD(.*?)\^FS", block)
        magnification, field = int(qr.group(1)), fh_unescape(qr.group(2))
        assert field.startswith("QA,")
        assert magnification / {203: 8, 300: 12}[dpi] >= 0.25
        urls.append(field[3:])
        matrix = qr_matrix(field[3:], "Q")
        pixels = np.pad(np.where(matrix, 0, 255).astype(np.uint8), 4, constant_values=255)
        assert decode_all(Image.fromarray(pixels).resize((pixels.shape[0] * 4,) * 2, Image.NEAREST)) == {field[3:]}
        for data_field in re.findall(r"\^FD(.*?)\^FS", block):
            assert re.fullmatch(r"[ -~]*", data_field) and "^" not in data_field
    assert urls == [scan_url(BASE, k) for k in KEYS + ["000042"]]
    texts = [fh_unescape(f) for f in re.findall(r"\^FD(.*?)\^FS", blocks[-1])[1:]]
    assert texts[0] == "000042" and texts[2] == "机房 1" and texts[3] == "Org~"
    assert texts[1].startswith("Evil ^X")


def test_zpl_sends_text_font_0_cannot_print_as_a_graphic():
    data = render_zpl([LabelContent("SRV-1", "服务器")], BASE).decode("ascii")
    assert data.count("^GFA,") == 1 and "^A0N," in data and "^A@" not in data
    latin = render_zpl([LabelContent("Ünïcødé-ß", "Ελλάδα Москва")], BASE).decode("ascii")
    assert "^A0N," in latin and "^GFA" not in latin


def test_zpl_bad_options():
    with pytest.raises(InvalidInput, match="allowed: 203, 300, 600"):
        render_zpl(contents(), BASE, dpi=250)
    with pytest.raises(InvalidInput, match="too small"):
        render_zpl([LabelContent("x" * 120)], BASE, width_mm=12, height_mm=10)
    with pytest.raises(InvalidInput, match="printer font"):
        render_zpl(contents(), BASE, printer_font="E:^XZ.TTF")


def test_send_zpl_delivers_the_bytes_to_a_listener():
    data = render_zpl(contents(), BASE, printer_font="E:ANMDJ.TTF")
    with raw_printer_port() as (url, received):
        assert send_zpl(url, data, timeout=5) == len(data)
    assert bytes(received) == data


def test_send_zpl_to_a_closed_port_is_a_clear_error():
    with refused_port() as port, pytest.raises(
            PrinterUnavailable, match=f"127.0.0.1:{port} refused the connection") as error:
        send_zpl(f"tcp://127.0.0.1:{port}", b"^XA^XZ", timeout=2)
    assert isinstance(error.value, CMDBError)
    with pytest.raises(InvalidInput, match="tcp://HOST:PORT"):
        send_zpl("http://127.0.0.1:9100", b"")


def test_shortened_location_keeps_its_most_specific_end():
    from cmdb.labels.layout import _fit

    face = choose_font(["HQ"])
    font, text = _fit("HQ / Building A / Floor 3 / Room 101", face, 2.0, 300, 120, "…", keep_end=True)
    assert text.startswith("…") and text.endswith("Room 101") and font.getlength(text) <= 120
    font, text = _fit("HQ / Building A / Floor 3 / Room 101", face, 2.0, 300, 120, "…")
    assert text.startswith("HQ /") and text.endswith("…")


def test_unreadable_fonts_are_passed_over_in_the_search(tmp_path):
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font")
    assert choose_font(["SRV-1"], candidates=[FontFace(str(broken)), FontFace(DEJAVU)]) == FontFace(DEJAVU)
    with pytest.raises(InvalidInput, match="could be read"):
        choose_font(["SRV-1"], candidates=[FontFace(str(broken))])
    with pytest.raises(InvalidInput, match="Cannot read the label font"):
        choose_font(["SRV-1"], configured=str(broken))
