"""ZPL for Zebra thermal printers: one ``^XA … ^XZ`` block per label.

All field data goes through ``^FH`` hex escapes, so a ``^`` or ``~`` in a name cannot start
a printer command, and non-ASCII text travels as UTF-8 bytes (``^CI28``). A line the
printer's built-in font 0 cannot print (Chinese, say) is sent as a graphic drawn with the
label font instead (see :mod:`cmdb.labels.zpl_graphics`), unless a font stored on the printer
is named. The output is plain ASCII.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Sequence

from cmdb.errors import InvalidInput, Unprintable
from cmdb.i18n import _
from cmdb.labels.content import LabelContent, one_line, scan_url
from cmdb.labels.fonts import choose_font
from cmdb.labels.qr import MIN_MODULE_MM, QUIET_ZONE, error_correction_level, modules_for_version, qr_version_for_bytes
from cmdb.labels.zpl_graphics import graphic_line

DOTS_PER_MM = {203: 8, 300: 12, 600: 24}
INSET_MM = 1.0
MAX_MAGNIFICATION = 10  # the largest ^BQ accepts
# Printer fonts stored on the printer, e.g. E:ANMDJ.TTF for CJK text (^A@ command).
_PRINTER_FONT = re.compile(r"^[BERZ]:[A-Z0-9_-]{1,16}\.(TTF|TTE|FNT)$", re.IGNORECASE)
_SAFE = frozenset(chr(c) for c in range(0x20, 0x7F)) - {"^", "~", "_", "\\"}


@lru_cache(maxsize=8192)
def _escape_char(char: str) -> str:
    if char in _SAFE:
        return char
    return "".join(f"_{byte:02X}" for byte in char.encode("utf-8"))


def fh_escape(text: str) -> str:
    """Field data for ``^FH_``: everything but plain printable ASCII as _XX UTF-8 bytes."""
    return "".join(_escape_char(c) for c in text)


def fh_unescape(data: str) -> str:
    """The inverse of :func:`fh_escape` (what the printer sees)."""
    return re.sub(rb"_([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                  data.encode("ascii")).decode("utf-8")


@lru_cache(maxsize=8192)
def _char_width(char: str) -> float:
    # The printer measures the text, we cannot: estimate on the wide side (font 0 is condensed).
    return 1.0 if unicodedata.east_asian_width(char) in "WF" else 0.6


@lru_cache(maxsize=8192)
def _fit(text: str, height: int, width: int, min_height: int) -> tuple[str, int]:
    """Text and font height: shrink to ``min_height``, then shorten with '...'."""
    units = sum(_char_width(c) for c in text)
    if units * height > width:
        height = max(min_height, int(width / units)) if units else height
    if units * height <= width:
        return text, height
    budget = width / height - 3 * _char_width(".")
    used, end = 0.0, 0
    for end, char in enumerate(text):
        used += _char_width(char)
        if used > budget:
            break
    return (text[:end].rstrip() + "...") if end else "", height


# The printer's built-in scalable font 0 covers Latin, Greek and Cyrillic, not CJK: without a
# stored font the printer would print nothing (or boxes) for those characters.
_BUILTIN_FONT_LIMIT = 0x0500


def needs_graphic(text: str) -> bool:
    """Whether font 0 lacks glyphs for some of ``text`` (so it is sent as a graphic)."""
    return any(ord(c) >= _BUILTIN_FONT_LIMIT for c in text)


def render_zpl(contents: Sequence[LabelContent], base_url: str, *, width_mm: float = 50.8,
               height_mm: float = 25.4, dpi: int = 203, error_correction: str = "Q",
               printer_font: str | None = None, font_setting: str | None = None) -> bytes:
    """Labels as ZPL. Text goes in the printer's font 0, or in ``printer_font`` (a font stored
    on the printer) when given; without one, lines that font 0 cannot print are drawn with
    the label font (``font_setting``: CMDB_LABEL_FONT, else the one :func:`choose_font`
    finds) and sent as graphics."""
    if not contents:
        raise InvalidInput(_("No labels to print: the selection is empty"), field="selection")
    if dpi not in DOTS_PER_MM:
        raise InvalidInput(_("Printer dpi %(dpi)r is not supported; allowed: 203, 300, 600", dpi=dpi),
                           field="dpi", value=dpi, allowed=list(DOTS_PER_MM))
    level = error_correction_level(error_correction)
    if printer_font is not None and not _PRINTER_FONT.match(printer_font):
        raise InvalidInput(_("Printer font %(font)r is not a printer font name such as E:ANMDJ.TTF",
                             font=printer_font), field="printer_font", value=printer_font)
    for field, value in (("width_mm", width_mm), ("height_mm", height_mm)):
        if not isinstance(value, (int, float)) or not 10 <= value <= 300:
            raise InvalidInput(_("Label %(field)s %(value)r is out of range; allowed: 10 to 300 mm",
                                 field=field, value=value),
                               field=field, value=value, allowed="10-300")
    drawn = [] if printer_font else [t for c in contents for t in c.texts() if needs_graphic(t)]
    face = choose_font(drawn, configured=font_setting) if drawn else None
    per_mm = DOTS_PER_MM[dpi]
    width, height, inset = round(width_mm * per_mm), round(height_mm * per_mm), round(INSET_MM * per_mm)
    area = min(height - 2 * inset, width // 2)
    font_cmd = (lambda h: f"^A@N,{h},{h},{printer_font.upper()}") if printer_font else \
        (lambda h: f"^A0N,{h},{h}")
    header = f"^XA^CI28^PW{width}^LL{height}^LH0,0"
    blocks = []
    for content in contents:
        url = scan_url(base_url, content.key)
        modules = modules_for_version(qr_version_for_bytes(len(url.encode("utf-8")), level))
        magnification = min(MAX_MAGNIFICATION, area // (modules + 2 * QUIET_ZONE))
        if magnification / per_mm < MIN_MODULE_MM:
            raise Unprintable(
                _("A %(width)s x %(height)s mm label at %(dpi)s dpi is too small for the QR code "
                  "of %(key)r (%(modules)s modules): use a larger label or a higher dpi",
                  width=f"{width_mm:g}", height=f"{height_mm:g}", dpi=dpi, key=content.key,
                  modules=modules),
                field="height_mm", value=height_mm)
        side = modules * magnification
        qr_x, qr_y = inset + (area - side) // 2, (height - side) // 2
        parts = [header, f"^FO{qr_x},{qr_y}^BQN,2,{magnification},{level}"
                         f"^FH_^FD{level}A,{fh_escape(url)}^FS"]
        left = inset + area
        text_width = width - inset - left
        key, name, second, organisation = content.texts()
        text_height = height - 2 * inset
        y = inset
        for number, (text, share) in enumerate(
                ((key, 0.26), (name, 0.18), (second, 0.15), (organisation, 0.15))):
            if not text:
                continue
            size = max(per_mm * 2, int(text_height * share))
            if y + size > height - inset:
                break
            if face is not None and needs_graphic(text):
                # The location path keeps its end ("… / 机房 101"), the most specific part.
                graphic = graphic_line(one_line(text), face, size, left, y, text_width, dpi,
                                       shrink_to_minimum=number == 0, keep_end=number == 2)
                if graphic is not None:
                    parts.append(graphic.field)
                    size = graphic.size
                y += int(size * 1.15)
                continue
            # Only the key may shrink below the line's size: it is what people read.
            fitted, size = _fit(one_line(text), size, text_width,
                                per_mm * 2 if number == 0 else size)
            if fitted:
                parts.append(f"^FO{left},{y}{font_cmd(size)}^FH_^FD{fh_escape(fitted)}^FS")
            y += int(size * 1.15)
        parts.append("^PQ1^XZ\n")
        blocks.append("".join(parts))
    return "".join(blocks).encode("ascii")
