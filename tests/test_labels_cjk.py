"""Chinese on labels with no set-up: the Noto Sans CJK installed with cmdb, and ZPL graphics.

Font discovery is pointed at an empty folder (CMDB_FONT_DIRS), so these tests see a machine
without any system font, whatever Debian packages this one has. ZPL graphic fields are read
back with the small decoder below, written from Zebra's description of the format and not
from the encoder.
"""

from __future__ import annotations

import importlib.metadata
import io
import re

import numpy as np
import pypdfium2
import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from cmdb.cli import app as cli_app
from cmdb.errors import InvalidInput
from cmdb.labels import LabelContent, load_template, render_png, render_zpl, scan_url
from cmdb.labels.fonts import FONT_DIRS, FontFace, bundled_font, choose_font, discover_fonts, load_font, missing_characters
from cmdb.labels.qr import qr_matrix
from cmdb.labels.render import label_image
from cmdb.labels.zpl_graphics import ascii_compress
from cmdb.labels.zpl import fh_unescape

BASE = "http://cmdb.test"
WORDS = "服务器 伺服器 硬碟 机房 上海总部 深圳数据中心 摄像机 資料 硬盘"
NOT_IN_ANY_FONT = "\U000F0000"  # a private-use code point: drawn as the font's empty box


@pytest.fixture
def no_system_fonts(monkeypatch, tmp_path):
    """A machine with no fonts installed: only the one that comes with cmdb is found."""
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    monkeypatch.setenv("CMDB_FONT_DIRS", str(empty))
    face = bundled_font()
    assert face is not None, "noto-cjk-sans-otc (a dependency of cmdb) is not installed"
    return face


def test_the_bundled_font_is_found_when_the_system_has_none(no_system_fonts):
    face = no_system_fonts
    assert not any(face.path.startswith(d) for d in FONT_DIRS)
    assert discover_fonts() == (face,)
    assert choose_font([WORDS, "SRV-000123"]) == face
    assert missing_characters(face, WORDS) == []
    assert TTFont(face.path, fontNumber=face.index, lazy=True)["name"].getDebugName(4) == "Noto Sans CJK SC"
    distribution = importlib.metadata.distribution("noto-cjk-sans-otc")
    assert distribution.metadata["License-Expression"] == "OFL-1.1"
    licences = [f for f in distribution.files if f.name == "LICENSE"]
    assert len(licences) == 1 and "SIL OPEN FONT LICENSE Version 1.1" in licences[0].read_text()


def test_system_fonts_come_first_and_the_setting_still_wins(no_system_fonts, monkeypatch, tmp_path):
    face = no_system_fonts
    system = tmp_path / "system-fonts"
    system.mkdir()
    (system / "DejaVuSans.ttf").write_bytes(b"")  # found by name, ranked after every CJK font
    (system / "NotoSansCJK-Regular.ttc").symlink_to(face.path)
    monkeypatch.setenv("CMDB_FONT_DIRS", str(system))
    found = discover_fonts()
    assert [f.path for f in found] == [str(system / "NotoSansCJK-Regular.ttc"), face.path,
                                       str(system / "DejaVuSans.ttf")]
    assert choose_font(["服务器"]) == found[0]
    monkeypatch.delenv("CMDB_FONT_DIRS")
    assert face in discover_fonts()
    assert choose_font(["服务器"], configured=f"{face.path}#3") == FontFace(face.path, 3)
    monkeypatch.setenv("CMDB_FONT_DIRS", str(tmp_path / "no-fonts"))
    for name, index in (("noto-sans-cjk-tc", 3), ("Noto-Sans-CJK-HK", 4), ("noto-sans-cjk-sc", 2)):
        assert choose_font(["伺服器"], configured=name) == FontFace(face.path, index)
    monkeypatch.setenv("CMDB_FONT_DIRS", str(system))
    assert choose_font(["伺服器"], configured="noto-sans-cjk-tc") == FontFace(found[0].path, 3)
    with pytest.raises(InvalidInput, match="does not exist"):
        choose_font(["伺服器"], configured="noto-sans-cjk-cn")


def test_a_chinese_name_is_drawn_with_glyphs_not_boxes(no_system_fonts):
    face = no_system_fonts
    font = load_font(face, 64)
    box = bytes(font.getmask(NOT_IN_ANY_FONT))
    glyphs = {c: bytes(font.getmask(c)) for c in set(WORDS) - {" "}}
    assert all(any(mask) for mask in glyphs.values())
    assert box not in glyphs.values() and len(set(glyphs.values())) == len(glyphs)

    content = LabelContent("SRV-1", "上海总部服务器", "深圳数据中心 / 机房", "运维部")
    image = Image.open(io.BytesIO(render_png(content, BASE, 63.5, 38.1)))  # finds the font itself
    assert {r.text for r in zxingcpp.read_barcodes(image)} == {scan_url(BASE, "SRV-1")}
    boxes = label_image(LabelContent("SRV-1", NOT_IN_ANY_FONT * 7, NOT_IN_ANY_FONT * 6 + " / "
                                     + NOT_IN_ANY_FONT * 2, NOT_IN_ANY_FONT * 3),
                        BASE, 63.5, 38.1, font=face)
    text = np.asarray(image)[:, image.width // 2:] < 128
    text_with_boxes = np.asarray(boxes)[:, boxes.width // 2:] < 128
    assert text.sum() > 2000
    assert (text != text_with_boxes).sum() > 0.5 * text.sum()


# --- ZPL graphic fields, read back ---------------------------------------------------------

def decode_ascii_graphic(data: str, row_bytes: int, total_bytes: int) -> np.ndarray:
    """Zebra's ASCII hex with its compression: G-Y repeat the next digit 1-19 times, g-z
    20-400 times (and add up), ',' pads the row with 0, '!' with F, ':' repeats the last row."""
    digits_per_row = 2 * row_bytes
    rows: list[str] = []
    row, repeat = "", 0
    for char in data:
        if char in "0123456789ABCDEF":
            row += char * max(repeat, 1)
            repeat = 0
        elif "G" <= char <= "Y":
            repeat += ord(char) - ord("G") + 1
        elif "g" <= char <= "z":
            repeat += 20 * (ord(char) - ord("g") + 1)
        elif char == ",":
            row = row.ljust(digits_per_row, "0")
        elif char == "!":
            row = row.ljust(digits_per_row, "F")
        elif char == ":":
            row = rows[-1]
        else:
            raise AssertionError(f"{char!r} has no meaning in ASCII graphic data")
        assert len(row) <= digits_per_row, "a row runs past its byte count"
        if len(row) == digits_per_row:
            rows.append(row)
            row = ""
    assert row == "" and len(rows) * row_bytes == total_bytes
    packed = np.frombuffer(bytes.fromhex("".join(rows)), dtype=np.uint8)
    return np.unpackbits(packed.reshape(len(rows), row_bytes), axis=1).astype(bool)


def graphic_fields(zpl: str) -> list[tuple[int, int, np.ndarray]]:
    fields = []
    for x, y, total, count, row_bytes, data in re.findall(
            r"\^FO(\d+),(\d+)\^GFA,(\d+),(\d+),(\d+),([^\^]*)\^FS", zpl):
        assert total == count
        bits = decode_ascii_graphic(data, int(row_bytes), int(total))
        fields.append((int(x), int(y), bits))
    assert len(fields) == zpl.count("^GFA")
    return fields


def ink(bits: np.ndarray) -> np.ndarray:
    """The bitmap cropped to its ink (the encoder pads rows to whole bytes)."""
    rows, columns = np.flatnonzero(bits.any(axis=1)), np.flatnonzero(bits.any(axis=0))
    return bits[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]


def drawn(text: str, face, size: int) -> np.ndarray:
    font = load_font(face, size)
    left, top, right, bottom = font.getbbox(text, anchor="ls")
    image = Image.new("1", (right - left, bottom - top), 0)
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"
    draw.text((-left, -top), text, font=font, fill=1, anchor="ls")
    return ink(np.asarray(image))


def best_size(bits: np.ndarray, text: str, face) -> int | None:
    """The type size at which ``text`` looks exactly like ``bits`` (None: at no size)."""
    bits = ink(bits)
    for size in range(8, 80):
        candidate = drawn(text, face, size)
        if candidate.shape == bits.shape and (candidate == bits).mean() > 0.99:
            return size
    return None


def test_ascii_compression_reads_back_to_the_same_bitmap():
    rng = np.random.default_rng(7)
    sparse = rng.random((30, 77)) > 0.9
    runs = np.zeros((9, 900), dtype=bool)
    runs[2, 5:880] = True  # longer than one repeat count can say
    runs[3:6] = runs[2]    # repeated rows
    runs[7, -3:] = True    # ink at the very end of a row
    for bits in (sparse, runs, np.zeros((4, 16), dtype=bool), np.ones((3, 24), dtype=bool)):
        row_bytes = (bits.shape[1] + 7) // 8
        packed = np.packbits(bits, axis=1).tobytes()
        data = ascii_compress(packed, row_bytes)
        assert re.fullmatch(r"[0-9A-FG-Yg-z,:]*", data)
        back = decode_ascii_graphic(data, row_bytes, len(packed))
        assert (back[:, :bits.shape[1]] == bits).all() and not back[:, bits.shape[1]:].any()
    assert len(ascii_compress(bytes(100 * 50), 100)) == 50  # a blank row is one ","


@pytest.mark.parametrize("dpi", [203, 300])
def test_zpl_prints_chinese_as_graphics_where_the_layout_puts_the_text(no_system_fonts, dpi):
    face = no_system_fonts
    per_mm = {203: 8, 300: 12}[dpi]
    width, height = round(50.8 * per_mm), round(25.4 * per_mm)
    content = LabelContent("SRV-1", "上海总部 服务器", "深圳数据中心 / 机房 101", "运维部")
    zpl = render_zpl([content], BASE, dpi=dpi).decode("ascii")
    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ") and "^A@" not in zpl

    qr = re.search(r"\^FO(\d+),(\d+)\^BQN,2,(\d+),Q\^FH_\^FD(.*?)\^FS", zpl)
    assert fh_unescape(qr.group(4)) == "QA," + scan_url(BASE, "SRV-1")
    qr_right = int(qr.group(1)) + int(qr.group(3)) * qr_matrix(scan_url(BASE, "SRV-1"), "Q").shape[0]
    key = re.search(r"\^FO(\d+),(\d+)\^A0N,(\d+),\d+\^FH_\^FD(.*?)\^FS", zpl)
    assert fh_unescape(key.group(4)) == "SRV-1"  # Latin stays in the printer's font
    column, key_top, key_size = int(key.group(1)), int(key.group(2)), int(key.group(3))
    assert column >= qr_right

    fields = graphic_fields(zpl)
    assert len(fields) == 3  # name, location, organisation: one graphic a line
    bottom_so_far = key_top + key_size
    for x, y, bits in fields:
        rows, columns = np.flatnonzero(bits.any(axis=1)), np.flatnonzero(bits.any(axis=0))
        top, left = y + rows[0], x + columns[0]
        right, bottom = x + columns[-1] + 1, y + rows[-1] + 1
        assert column <= left <= column + per_mm  # the text column, from its left edge
        assert right <= width - per_mm and bottom <= height - per_mm  # inside the 1 mm inset
        assert top >= bottom_so_far  # below the line above it
        bottom_so_far = bottom

    (_, _, name), (_, _, place), (_, _, organisation) = fields
    assert best_size(name, "上海总部 服务器", face) is not None
    assert best_size(organisation, "运维部", face) is not None
    # The location path is shortened to what fits, keeping its end.
    shortened = [t for t in ("…" + "深圳数据中心 / 机房 101"[i:] for i in range(12))
                 if best_size(place, t, face) is not None]
    assert shortened and shortened[0].endswith("机房 101")
    # Drawn with the font's empty box in place of each character, it would look different.
    assert best_size(name, NOT_IN_ANY_FONT * 4 + " " + NOT_IN_ANY_FONT * 3, face) is None


def test_zpl_keeps_text_in_a_stored_printer_font_when_one_is_named(no_system_fonts):
    zpl = render_zpl([LabelContent("SRV-1", "服务器")], BASE, printer_font="E:ANMDJ.TTF").decode()
    assert "^GFA" not in zpl
    assert [fh_unescape(t) for t in re.findall(r"\^A@N,\d+,\d+,E:ANMDJ.TTF\^FH_\^FD(.*?)\^FS", zpl)] \
        == ["SRV-1", "服务器"]
    latin = render_zpl([LabelContent("Ünïcødé-ß", "Ελλάδα Москва")], BASE).decode("ascii")
    assert "^GFA" not in latin and latin.count("^A0N,") == 2


def test_zpl_graphics_use_the_configured_label_font(no_system_fonts, tmp_path):
    face = no_system_fonts
    with pytest.raises(InvalidInput, match="CMDB_LABEL_FONT"):
        render_zpl([LabelContent("SRV-1", "服务器")], BASE, font_setting=str(tmp_path / "none.ttf"))
    traditional = render_zpl([LabelContent("SRV-1", "伺服器")], BASE, font_setting="noto-sans-cjk-tc")
    simplified = render_zpl([LabelContent("SRV-1", "伺服器")], BASE)
    assert traditional != simplified  # the Taiwan face draws some strokes of 器 otherwise
    assert traditional == render_zpl([LabelContent("SRV-1", "伺服器")], BASE,
                                     font_setting=f"{face.path}#3")


@pytest.fixture
def demo_estate(embedded_graph):
    from cmdb.demo import load_demo
    load_demo(embedded_graph, actor="test")
    return embedded_graph


def test_cli_labels_a_chinese_named_location_with_no_font_set_up(demo_estate, no_system_fonts, tmp_path):
    face = no_system_fonts
    name = demo_estate.get_ci("A-101").properties["name"]
    assert missing_characters(face, name) == [] and re.search(r"[\u4e00-\u9fff]", name)
    runner = CliRunner()
    zpl = tmp_path / "a-101.zpl"
    result = runner.invoke(cli_app, ["labels", "A-101", "--format", "zpl", "-o", str(zpl)],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text = zpl.read_text(encoding="ascii")
    assert "^A@" not in text and fh_unescape(re.search(r"\^BQN[^\^]*\^FH_\^FD(.*?)\^FS", text)
                                                .group(1)) == "QA," + scan_url(BASE, "A-101")
    fields = graphic_fields(text)
    assert fields and all(bits.any() for _, _, bits in fields)

    pdf = tmp_path / "a-101.pdf"
    result = runner.invoke(cli_app, ["labels", "A-101", "--format", "pdf", "-o", str(pdf)],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    page = pypdfium2.PdfDocument(pdf.read_bytes())[0].render(scale=300 / 72).to_pil().convert("L")
    assert {r.text for r in zxingcpp.read_barcodes(page)} == {scan_url(BASE, "A-101")}
    template = load_template("avery-l7651")
    x_mm, y_mm = template.cell(0)
    px = 300 / 25.4
    cell = np.asarray(page)[round(y_mm * px):round((y_mm + template.label_height_mm) * px),
                            round(x_mm * px):round((x_mm + template.label_width_mm) * px)]
    assert (cell[:, cell.shape[1] // 2:] < 128).sum() > 500  # the text half has ink
