"""One label as a greyscale image: the QR code on the left, the text to its right.

    +-----------------------------------+
    | +---------+  KEY-000123           |
    | |  QR     |  Name of the device   |
    | |  code   |  HQ / Building A / …  |
    | +---------+  Organisation         |
    +-----------------------------------+

Everything is drawn inside the label's own image, so nothing can reach a neighbouring
label; text that does not fit is first set smaller, then shortened with an ellipsis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from cmdb.errors import Unprintable
from cmdb.i18n import _
from cmdb.labels.content import LabelContent, one_line
from cmdb.labels.fonts import FontFace, ellipsis_for, load_font
from cmdb.labels.qr import MIN_MODULE_MM, QUIET_ZONE

MM_PER_INCH = 25.4
INSET_MM = 1.0  # sheet feeders and thermal printers drift by up to about a millimetre
QR_MAX_WIDTH_SHARE = 0.5  # the QR area takes at most half the label's width
MAX_BASE_TEXT_MM = 3.2
MIN_TEXT_MM = 1.5  # about 4 pt: still readable on a 300 dpi print
LINE_SPACING = 1.08

# Relative type sizes of the lines: the key is what people read off the device.
KEY_SCALE, NAME_SCALE, DETAIL_SCALE = 1.6, 1.0, 0.85


def mm_to_px(mm: float, dpi: float) -> int:
    return int(round(mm * dpi / MM_PER_INCH))


@dataclass(frozen=True)
class QrPlacement:
    """Where the QR symbol goes inside a label, in pixels."""
    x: int
    y: int
    module_px: int
    modules: int
    area_right: int  # text starts here (the right edge of the quiet zone area)

    @property
    def side(self) -> int:
        return self.module_px * self.modules


def place_qr(width_px: int, height_px: int, dpi: float, modules: int) -> QrPlacement:
    inset = mm_to_px(INSET_MM, dpi)
    area = min(height_px - 2 * inset, int(width_px * QR_MAX_WIDTH_SHARE))
    module_px = area // (modules + 2 * QUIET_ZONE)
    module_mm = module_px * MM_PER_INCH / dpi
    if module_px < 1 or module_mm < MIN_MODULE_MM - 1e-9:
        label_mm = f"{width_px * MM_PER_INCH / dpi:.1f} x {height_px * MM_PER_INCH / dpi:.1f} mm"
        raise Unprintable(
            _("A label of %(size)s at %(dpi)s dpi is too small for this QR code (%(modules)s x "
              "%(modules)s modules plus a %(quiet)s-module quiet zone): a module would be "
              "%(module)s mm, at least %(min)s mm is needed. Use larger labels, a higher dpi, a "
              "shorter base URL or key, or a lower error correction level", size=label_mm,
              dpi=f"{dpi:g}", modules=modules, quiet=QUIET_ZONE, module=f"{module_mm:.2f}",
              min=MIN_MODULE_MM),
            field="template", value=label_mm)
    side = module_px * modules
    area_top = (height_px - area) // 2
    return QrPlacement(x=inset + (area - side) // 2, y=area_top + (area - side) // 2,
                       module_px=module_px, modules=modules, area_right=inset + area)


def qr_image(matrix: np.ndarray, module_px: int) -> Image.Image:
    pixels = np.where(matrix, 0, 255).astype(np.uint8)
    pixels = np.repeat(np.repeat(pixels, module_px, axis=0), module_px, axis=1)
    return Image.fromarray(pixels, mode="L")


def draw_label(content: LabelContent, matrix: np.ndarray, width_px: int, height_px: int,
               dpi: float, face: FontFace) -> Image.Image:
    """The label as an 8-bit greyscale image of exactly ``width_px`` x ``height_px``."""
    image = Image.new("L", (width_px, height_px), 255)
    qr = place_qr(width_px, height_px, dpi, matrix.shape[0])
    image.paste(qr_image(matrix, qr.module_px), (qr.x, qr.y))

    inset = mm_to_px(INSET_MM, dpi)
    left = qr.area_right
    right = width_px - inset
    top, bottom = inset, height_px - inset
    if right - left < mm_to_px(3, dpi):
        return image  # a label that is all QR code: no room for text
    key, name, second, organisation = content.texts()
    lines = [(key, KEY_SCALE, False)] + [(t, NAME_SCALE, False) for t in (name,) if t] + \
            [(t, DETAIL_SCALE, True) for t in (second,) if t]
    footer = (organisation, DETAIL_SCALE) if organisation else None
    total_scale = sum(s for _, s, _ in lines) + (footer[1] if footer else 0)
    base_mm = min(MAX_BASE_TEXT_MM,
                  (bottom - top) * MM_PER_INCH / dpi / (total_scale * LINE_SPACING * 1.2))

    ellipsis = ellipsis_for(face)
    y = top
    for number, (text, scale, keep_end) in enumerate(lines):
        # The key may shrink down to the smallest readable size before it is shortened; a
        # location path keeps its end ("… / Room 101"), the most specific part.
        font, fitted = _fit(text, face, base_mm * scale, dpi, right - left, ellipsis,
                            shrink_to_minimum=number == 0, keep_end=keep_end)
        ascent, descent = font.getmetrics()
        if y + ascent + descent > bottom:
            break
        _draw_line(image, left, y, fitted, font)
        y += math.ceil((ascent + descent) * LINE_SPACING)
    if footer:
        font, fitted = _fit(footer[0], face, base_mm * footer[1], dpi, right - left, ellipsis)
        ascent, descent = font.getmetrics()
        footer_top = bottom - ascent - descent
        if footer_top >= y:
            _draw_line(image, left, footer_top, fitted, font)
    return image


def _draw_line(image: Image.Image, x: int, y: int, text: str, font: ImageFont.FreeTypeFont) -> None:
    ink, dx, dy = _line_image(text, font)
    if ink.width and ink.height:
        image.paste(0, (x + dx, y + dy), ink)


@lru_cache(maxsize=2048)  # sheets repeat the same location and organisation lines
def _line_image(text: str, font: ImageFont.FreeTypeFont) -> tuple[Image.Image, int, int]:
    """The rendered line as a mask, and its offset from the (left, ascender) anchor."""
    left, top, right, bottom = font.getbbox(text, anchor="la")
    ink = Image.new("L", (max(0, right - left), max(0, bottom - top)), 0)
    if ink.width and ink.height:
        ImageDraw.Draw(ink).text((-left, -top), text, font=font, fill=255, anchor="la")
    return ink, left, top


@lru_cache(maxsize=4096)  # sheets repeat the same location and organisation lines
def _fit(text: str, face: FontFace, size_mm: float, dpi: float, width_px: int,
         ellipsis: str, shrink_to_minimum: bool = False,
         keep_end: bool = False) -> tuple[ImageFont.FreeTypeFont, str]:
    """Shrink the type (to 70 % of its size, or to MIN_TEXT_MM), then shorten the text."""
    text = one_line(text)
    size_px = max(1, mm_to_px(size_mm, dpi))
    floor_px = mm_to_px(MIN_TEXT_MM, dpi)
    smallest = max(1, min(size_px, floor_px if shrink_to_minimum
                          else max(floor_px, int(size_px * 0.7))))
    font = load_font(face, size_px)
    while size_px > smallest and _width(font, text) > width_px:
        size_px = max(smallest, int(size_px * 0.9))
        font = load_font(face, size_px)
    if _width(font, text) <= width_px:
        return font, text
    def shortened_to(length: int) -> str:
        if keep_end:
            return ellipsis + text[len(text) - length:].lstrip() if length else ellipsis
        return text[:length].rstrip() + ellipsis

    low, high = 0, len(text)  # the most characters that fit with the ellipsis
    while low < high:
        middle = (low + high + 1) // 2
        if _width(font, shortened_to(middle)) <= width_px:
            low = middle
        else:
            high = middle - 1
    shortened = shortened_to(low)
    return font, shortened if _width(font, shortened) <= width_px else ""


fit_text = _fit  # ZPL labels fit the lines they send as graphics the same way


def _width(font: ImageFont.FreeTypeFont, text: str) -> int:
    if not text:
        return 0
    # The advance width plus a little room for glyphs that overhang it (faster than getbbox).
    return int(math.ceil(font.getlength(text) + 0.06 * font.size))
