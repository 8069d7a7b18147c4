"""Text the printer cannot set, drawn here and sent as a ZPL graphic field (``^GFA``).

A Zebra printer's built-in font 0 has no Chinese glyphs. Rather than require a CJK font
stored on the printer, such a line is drawn with the label font (the same one the PDF and
PNG labels use) as a 1-bit image and sent as ``^GFA`` in Zebra's ASCII compression: hex
nibbles with run-length prefixes (``G``–``Y`` repeat 1–19 times, ``g``–``z`` 20–400 times),
``,`` to fill the rest of a dot row with white and ``:`` to repeat the previous row. Any ZPL
printer takes it, with no set-up and no font memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw

from cmdb.labels.fonts import FontFace, ellipsis_for
from cmdb.labels.layout import fit_text

# CJK fonts draw ideographs in an em box that rises 0.88 em above the baseline: a line whose
# em box starts at the field's top edge has its baseline this far down.
EM_ABOVE_BASELINE = 0.88
_MAX_RUN = 419  # the longest run one prefix pair can say: z (400) + Y (19)


@dataclass(frozen=True)
class TextGraphic:
    """A line of text as a ``^FO…^GFA…^FS`` field, and the type size it was set at."""
    field: str
    size: int


def graphic_line(text: str, face: FontFace, size: int, x: int, y: int, width: int, dpi: int,
                 *, shrink_to_minimum: bool = False, keep_end: bool = False) -> TextGraphic | None:
    """``text`` at ``size`` dots (shrunk, then shortened, to fit ``width``), its em box's top
    left corner at (x, y); None when nothing of it fits."""
    data, row_bytes, rows, left, top, used = _render(text, face, size, width, dpi,
                                                     shrink_to_minimum, keep_end)
    if not rows:
        return None
    baseline = y + round(used * EM_ABOVE_BASELINE)
    return TextGraphic(f"^FO{max(0, x + left)},{max(0, baseline + top)}"
                       f"^GFA,{row_bytes * rows},{row_bytes * rows},{row_bytes},{data}^FS", used)


@lru_cache(maxsize=8192)  # location and organisation lines repeat on every label of a room
def _render(text: str, face: FontFace, size: int, width: int, dpi: int, shrink_to_minimum: bool,
            keep_end: bool) -> tuple[str, int, int, int, int, int]:
    font, fitted = fit_text(text, face, size * 25.4 / dpi, dpi, width, ellipsis_for(face),
                            shrink_to_minimum=shrink_to_minimum, keep_end=keep_end)
    if not fitted:
        return "", 0, 0, 0, 0, font.size
    left, top, right, bottom = font.getbbox(fitted, anchor="ls")
    if right <= left or bottom <= top:
        return "", 0, 0, 0, 0, font.size
    image = Image.new("1", (right - left, bottom - top), 0)
    draw = ImageDraw.Draw(image)
    draw.fontmode = "1"  # whole dots, as the thermal head prints them: no grey to threshold
    draw.text((-left, -top), fitted, font=font, fill=1, anchor="ls")
    row_bytes = (image.width + 7) // 8
    return (ascii_compress(image.tobytes(), row_bytes), row_bytes, image.height, left, top,
            font.size)


def ascii_compress(bitmap: bytes, row_bytes: int) -> str:
    """Zebra's ASCII compression of a bitmap given as rows of ``row_bytes`` bytes (1 = black)."""
    hex_digits = bitmap.hex().upper()
    width = 2 * row_bytes
    out: list[str] = []
    previous = None
    for start in range(0, len(hex_digits), width):
        row = hex_digits[start:start + width]
        if row == previous:
            out.append(":")
            continue
        previous = row
        # Trailing white bytes become one ",": it pads the row from a byte boundary.
        kept = len(row)
        while kept >= 2 and row[kept - 2:kept] == "00":
            kept -= 2
        out.append(_runs(row[:kept]))
        if kept < len(row):
            out.append(",")
    return "".join(out)


_RUN = re.compile(r"([0-9A-F])\1{2,}")  # three or more of a digit: shorter with a prefix


def _runs(digits: str) -> str:
    return _RUN.sub(lambda match: _shorten_run(match.group(0)), digits)


@lru_cache(maxsize=4096)  # the same few runs (a stroke's width, a gap) come back all the time
def _shorten_run(run: str) -> str:
    digit, count = run[0], len(run)
    out = []
    while count:
        step = min(count, _MAX_RUN)
        out.append(digit * step if step <= 2 else _repeat_prefix(step) + digit)
        count -= step
    return "".join(out)


def _repeat_prefix(count: int) -> str:
    twenties, ones = divmod(count, 20)
    return (chr(ord("f") + twenties) if twenties else "") + (chr(ord("F") + ones) if ones else "")
